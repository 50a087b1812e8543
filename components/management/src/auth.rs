//! Who is calling the management API: the adapter around the core's
//! `flowgate::decision::administrator` (the same header parser as at a flow,
//! then the bootstrap admin token or a service account's API key or token,
//! authenticated against its one record through the kill switch). What the
//! caller may do is decided in `routes`.

use flowgate::credential::extract;
use flowgate::decision::administrator::{
    ADMIN_TOKEN_VARIABLE, AdminAuthError, AdminCaller, administrator,
};
use flowgate::decision::authenticate::authenticate as authenticate_secret;
use flowgate::env::Clock as _;
use flowgate::secret::{UNTAGGED_VARIABLE, Untagged};
use flowgate::store::Store as _;
use flowgate::store::keys::account_key;
use flowgate_spin::{SpinStore, WasiClock, variable};
use spin_sdk::http::{Request, Response};

use crate::response::error_response;

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

fn unauthorized(reason: impl std::fmt::Display) -> Response {
    eprintln!("flowgate management: deny: {reason}");
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

/// Authenticates the caller; the error is the response to send.
pub fn authenticate(request: &Request) -> Result<Actor, Response> {
    let headers: Vec<(&str, &[u8])> = request
        .headers()
        .map(|(name, value)| (name, value.as_bytes()))
        .collect();
    let presented = extract(headers.iter().copied()).map_err(unauthorized)?;
    let pepper = flowgate_spin::pepper().map_err(unavailable)?;
    let admin_token = || variable(ADMIN_TOKEN_VARIABLE).map_err(|e| e.to_string());
    let secret = match administrator(&presented, admin_token, &pepper) {
        Ok(AdminCaller::Bootstrap) => {
            return Ok(Actor {
                name: "bootstrap-admin".into(),
                account_id: None,
                roles: None,
            });
        }
        Ok(AdminCaller::Account(secret)) => secret,
        Err(AdminAuthError::Unavailable(e)) => return Err(unavailable(e)),
        Err(e) => {
            return Err(unauthorized(format!(
                "neither the admin token nor an API key or token: {e}"
            )));
        }
    };
    // A value flowgate did not make never reaches the store.
    let untagged = || Untagged::from_variable(variable(UNTAGGED_VARIABLE).ok().as_deref());
    if let Err(why) = secret.admit(&pepper, untagged) {
        return Err(unauthorized(format!(
            "account {}: {why}",
            secret.account_id()
        )));
    }
    let store = SpinStore::open_default().map_err(unavailable)?;
    let record = store
        .get(&account_key(secret.account_id()))
        .map_err(unavailable)?;
    match authenticate_secret(record.as_deref(), secret, None, &pepper, WasiClock.now()) {
        Ok(principal) => Ok(Actor {
            name: format!("account:{}", principal.account_id()),
            account_id: Some(principal.account_id().to_owned()),
            roles: Some(principal.roles().to_vec()),
        }),
        Err(why) => Err(unauthorized(format!(
            "account {}: {why}",
            secret.account_id()
        ))),
    }
}
