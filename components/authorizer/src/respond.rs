//! Responses. Refusals carry a fixed body per status that never says which
//! check failed; the reason went to the log.

use crate::decide::{Allowed, Outcome};

/// Header fields as sent: name and value.
pub type HeaderList = Vec<(String, Vec<u8>)>;

/// A response with a small JSON body.
pub struct Reply {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Reply {
    /// A response with a JSON body.
    pub fn json_value(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), b"application/json".to_vec())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A response without a body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(&mut self, name: &str, value: &str) {
        self.headers
            .push((name.to_owned(), value.as_bytes().to_vec()));
    }

    /// Its status, headers (with `content-length`) and body, for the edge
    /// that sends it.
    pub fn into_parts(self) -> (u16, HeaderList, Vec<u8>) {
        let mut headers = self.headers;
        headers.push((
            "content-length".into(),
            self.body.len().to_string().into_bytes(),
        ));
        (self.status, headers, self.body)
    }

    /// Forbids caching (RFC 6749 5.1 for token responses).
    pub fn no_store(&mut self) {
        self.header("cache-control", "no-store");
        self.header("pragma", "no-cache");
    }
}

/// A JSON error body `{"error":"<code>"}`. The codes are fixed identifiers
/// (lower case and `_`), so the body is put together without building a
/// JSON value: refusals are the path a flood of wrong keys takes (issue 16).
pub fn json(status: u16, code: &'static str) -> Reply {
    debug_assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
    let mut body = Vec::with_capacity(code.len() + 12);
    body.extend_from_slice(b"{\"error\":\"");
    body.extend_from_slice(code.as_bytes());
    body.extend_from_slice(b"\"}");
    Reply {
        status,
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body,
    }
}

/// The identity headers an allowed request carries to the flow.
pub fn identity_headers(allowed: &Allowed) -> Vec<(String, Vec<u8>)> {
    let mut headers = vec![
        (
            "x-flowgate-account".into(),
            allowed.account_id().to_owned().into_bytes(),
        ),
        (
            "x-flowgate-account-name".into(),
            allowed.account_name().to_owned().into_bytes(),
        ),
        (
            "x-flowgate-flow".into(),
            allowed.flow().id.as_bytes().to_vec(),
        ),
    ];
    if let Some(metadata) = &allowed.account().usage.metadata {
        let text = flowgate::usage::metadata::header_text(metadata);
        headers.push(("x-flowgate-metadata".into(), text.into_bytes()));
    }
    headers
}

/// The signed identity assertion for an allowed request (proxy mode), as a
/// header. `Err` names what failed, for the log: the caller answers `503`.
pub fn assertion_header(allowed: &Allowed) -> Result<(String, Vec<u8>), String> {
    use flowgate::env::{Clock as _, Random as _};
    let keys = crate::config::signing_keys()?;
    let (issuer, _) = crate::config::issuer()?;
    let mut jti = [0u8; 16];
    flowgate_spin::WasiRandom.fill(&mut jti);
    let jti = flowgate::encoding::base32(&jti);
    let token = keys
        .sign_identity_assertion(&flowgate::token::NewAssertion {
            issuer: &issuer,
            account_id: allowed.account_id(),
            account_name: allowed.account_name(),
            flow: &allowed.flow().id,
            id: &jti,
            now: flowgate_spin::WasiClock.now(),
            metadata: allowed.account().usage.metadata.as_ref(),
        })
        .map_err(|e| e.to_string())?;
    Ok(("x-flowgate-assertion".into(), token.into_bytes()))
}

/// A refusal (or 404/503) in either mode.
pub fn refusal(outcome: Outcome) -> Reply {
    match outcome {
        Outcome::Allow(_) => json(500, "internal"),
        Outcome::Unauthorized { basic } => {
            let mut reply = json(401, "unauthorized");
            let challenge = if basic {
                "Basic realm=\"flowgate\", charset=\"UTF-8\""
            } else {
                "Bearer realm=\"flowgate\""
            };
            reply
                .headers
                .push(("www-authenticate".into(), challenge.as_bytes().to_vec()));
            reply
        }
        Outcome::Forbidden => json(403, "forbidden"),
        Outcome::NotFound => json(404, "not_found"),
        Outcome::Unavailable => json(503, "unavailable"),
        Outcome::Limited(exceeded) => limited(&exceeded, 429),
    }
}

/// An answer over a rate limit: `status` (429, or 403 for a gateway that
/// passes only 401 and 403) with `Retry-After`, `RateLimit-Policy`,
/// `RateLimit` and `X-Flowgate-Limited: 1`.
pub fn limited(exceeded: &flowgate::usage::limits::Exceeded, status: u16) -> Reply {
    let mut reply = json(status, "rate_limited");
    for (name, value) in exceeded.headers() {
        reply.header(name, &value);
    }
    reply.header("x-flowgate-limited", "1");
    reply
}

/// Forward-auth answers `200` with identity headers, `401` or `403`, and `503`
/// when it cannot decide (a gateway treats that as an error: closed).
pub fn forward_auth(outcome: Outcome) -> Reply {
    match outcome {
        Outcome::Allow(allowed) => Reply {
            status: 200,
            headers: identity_headers(&allowed),
            body: Vec::new(),
        },
        Outcome::NotFound => json(403, "forbidden"),
        other => refusal(other),
    }
}

/// Request header with which a gateway that accepts only `401` and `403`
/// from the auth service (nginx `auth_request`) asks for `403` instead of
/// `429` over a limit; the answer still carries `X-Flowgate-Limited: 1` and
/// the rate-limit headers for the gateway to map back (docs/gateways.md).
pub const LIMIT_STATUS_HEADER: &str = "x-flowgate-limit-status";

/// [`forward_auth`] for the request `headers`: a rate-limit answer in the
/// status the gateway asked for.
pub fn forward_auth_for(outcome: Outcome, headers: &[(String, Vec<u8>)]) -> Reply {
    if let Outcome::Limited(exceeded) = &outcome {
        let wants_403 = headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case(LIMIT_STATUS_HEADER) && v.as_slice() == b"403");
        return limited(exceeded, if wants_403 { 403 } else { 429 });
    }
    forward_auth(outcome)
}
