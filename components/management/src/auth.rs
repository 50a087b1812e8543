//! Who is calling the management API: the bootstrap administrator
//! (`Authorization: Bearer <admin_token>`, compared in constant time through
//! keyed digests, which also hides the token's length), or a service account
//! presenting its own API key or API token (`Authorization: Bearer` or
//! `X-API-Key`), verified against its one account record exactly as the
//! authorizer verifies it. What the caller may do is decided in `routes`.

use flowgate::authz;
use flowgate::env::Clock as _;
use flowgate::hash::{Domain, PEPPER_VARIABLE, Pepper};
use flowgate::secret::{ParsedSecret, SecretKind};
use flowgate::store::Store as _;
use flowgate::store::keys::account_key;
use flowgate_spin::{SpinStore, WasiClock, variable};
use spin_sdk::http::{Request, Response};

use crate::response::error_response;

/// The shortest admin token accepted; a shorter one is a configuration error.
const MIN_ADMIN_TOKEN: usize = 16;
/// The longest credential header value looked at.
const MAX_CREDENTIAL: usize = 1024;

/// The authenticated caller.
pub struct Actor {
    /// As written to the audit log: `bootstrap-admin` or `account:<id>`.
    pub name: String,
    /// The caller's account; `None` for the bootstrap administrator.
    pub account_id: Option<String>,
    /// The account's roles; `None` for the bootstrap administrator, who may
    /// do everything.
    pub roles: Option<Vec<String>>,
}

fn unauthorized() -> Response {
    Response::builder()
        .status(401)
        .header("content-type", "application/json")
        .header("www-authenticate", "Bearer realm=\"flowgate-admin\"")
        .header("cache-control", "no-store")
        .body(serde_json::json!({ "error": "unauthorized" }).to_string())
        .build()
}

fn unavailable(reason: impl std::fmt::Display) -> Response {
    eprintln!("flowgate management: unavailable: {reason}");
    error_response(503, serde_json::json!({ "error": "unavailable" }))
}

/// The one credential presented, and whether it came as `Authorization`.
/// Two credential headers of any kind are refused, as at the edge.
fn presented(request: &Request) -> Option<(String, bool)> {
    let mut found = request.headers().filter_map(|(name, value)| {
        if name.eq_ignore_ascii_case("authorization") {
            Some((value.as_bytes().to_vec(), true))
        } else if name.eq_ignore_ascii_case("x-api-key") {
            Some((value.as_bytes().to_vec(), false))
        } else {
            None
        }
    });
    let (Some((value, is_authorization)), None) = (found.next(), found.next()) else {
        return None;
    };
    let text = std::str::from_utf8(&value).ok()?;
    let token = if is_authorization {
        let (scheme, token) = text.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        token.trim()
    } else {
        text.trim()
    };
    (!token.is_empty() && token.len() <= MAX_CREDENTIAL)
        .then(|| (token.to_owned(), is_authorization))
}

/// Authenticates the caller; the error is the response to send.
pub fn authenticate(request: &Request) -> Result<Actor, Response> {
    let Some((token, is_authorization)) = presented(request) else {
        return Err(unauthorized());
    };
    let pepper = variable(PEPPER_VARIABLE)
        .map_err(unavailable)
        .and_then(|text| Pepper::from_variable(&text).map_err(unavailable))?;
    if is_authorization {
        let configured = variable("admin_token").map_err(unavailable)?;
        if configured.trim().len() < MIN_ADMIN_TOKEN {
            return Err(unavailable(format!(
                "variable `admin_token` must be at least {MIN_ADMIN_TOKEN} characters"
            )));
        }
        let expected = pepper.digest(Domain::AdminToken, configured.trim());
        if pepper.digest(Domain::AdminToken, &token).ct_eq(&expected) {
            return Ok(Actor {
                name: "bootstrap-admin".into(),
                account_id: None,
                roles: None,
            });
        }
    }
    // Only API keys and API tokens: a Basic password or client secret is not
    // a bearer credential anywhere in flowgate.
    let secret = match ParsedSecret::parse(&token) {
        Ok(s) if matches!(s.kind(), SecretKind::ApiKey | SecretKind::ApiToken) => s,
        _ => {
            eprintln!("flowgate management: deny: neither the admin token nor an API key or token");
            return Err(unauthorized());
        }
    };
    let store = SpinStore::open_default().map_err(unavailable)?;
    let record = store
        .get(&account_key(secret.account_id()))
        .map_err(unavailable)?;
    match authz::authenticate(record.as_deref(), secret, None, &pepper, WasiClock.now()) {
        Ok(principal) => Ok(Actor {
            name: format!("account:{}", principal.account_id()),
            account_id: Some(principal.account_id().to_owned()),
            roles: Some(principal.roles().to_vec()),
        }),
        Err(why) => {
            eprintln!(
                "flowgate management: deny: account {}: {why}",
                secret.account_id()
            );
            Err(unauthorized())
        }
    }
}
