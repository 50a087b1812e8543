//! Who is calling the management API. Today: the bootstrap administrator,
//! with `Authorization: Bearer <admin_token>`, compared in constant time
//! through keyed digests (which also hides the token's length).

use flowgate::hash::{Domain, PEPPER_VARIABLE, Pepper};
use flowgate_spin::variable;
use spin_sdk::http::{Request, Response};

use crate::routes::error_response;

/// The shortest admin token accepted; a shorter one is a configuration error.
const MIN_ADMIN_TOKEN: usize = 16;

/// The authenticated caller, as written to the audit log.
pub struct Actor(pub String);

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

/// Checks the bearer token; the error is the response to send.
pub fn authenticate(request: &Request) -> Result<Actor, Response> {
    let mut values = request
        .headers()
        .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_bytes().to_vec());
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(unauthorized());
    };
    let presented = std::str::from_utf8(&value)
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty() && token.len() <= 1024);
    let Some(presented) = presented else {
        return Err(unauthorized());
    };
    let pepper = variable(PEPPER_VARIABLE)
        .map_err(unavailable)
        .and_then(|text| Pepper::from_variable(&text).map_err(unavailable))?;
    let configured = variable("admin_token").map_err(unavailable)?;
    if configured.trim().len() < MIN_ADMIN_TOKEN {
        return Err(unavailable(format!(
            "variable `admin_token` must be at least {MIN_ADMIN_TOKEN} characters"
        )));
    }
    let expected = pepper.digest(Domain::AdminToken, configured.trim());
    if !pepper
        .digest(Domain::AdminToken, presented)
        .ct_eq(&expected)
    {
        eprintln!("flowgate management: deny: wrong admin token");
        return Err(unauthorized());
    }
    Ok(Actor("bootstrap-admin".into()))
}
