//! Outbound `GET` for registering an `oidc` account: the issuer's discovery
//! document and JWKS are fetched and checked before anything is saved. Only
//! hosts in the component's `allowed_outbound_hosts` can be reached; when
//! Spin denies one, the error names the entry to add to `spin.toml`.

use spin_sdk::http::{ErrorCode, Request, Response, SendError};

/// Largest document accepted.
const MAX_DOCUMENT: usize = 256 * 1024;

/// The body of a `200` answer to `GET url`, or why not.
pub fn get(url: &str) -> Result<Vec<u8>, String> {
    let request = Request::get(url)
        .header("accept", "application/json")
        .build();
    let response: Response =
        spin_sdk::http::run(spin_sdk::http::send(request)).map_err(|e| match e {
            SendError::Http(ErrorCode::HttpRequestDenied) => {
                flowgate::oidc::outbound_denied_hint(url, "management")
            }
            other => other.to_string(),
        })?;
    if *response.status() != 200 {
        return Err(format!("status {}", response.status()));
    }
    let body = response.into_body();
    if body.len() > MAX_DOCUMENT {
        return Err(format!("document larger than {MAX_DOCUMENT} bytes"));
    }
    Ok(body)
}
