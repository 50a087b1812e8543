//! Proxy mode: the allowed request goes to its flow's upstream, streamed in
//! both directions. Credentials, client-certificate headers, hop-by-hop
//! headers and anything claiming to be flowgate or Spin are removed; the
//! identity headers are added. The path sent is the normalised path that
//! was checked.
//!
//! The wait for the upstream is bounded by the Spin variable
//! `upstream_timeout_ms`, given to the host as wasi:http request options
//! (connect, first byte, and between two bytes of the response body). A
//! failure is mapped by its `ErrorCode` variant: a timeout is `504`,
//! anything else `502`.
//!
//! This module decides what is sent ([`prepare`]); the HTTP edge of each
//! build sends it and streams the bodies (`edge.rs` for WASI 0.2, the p3
//! crate's `edge.rs` for WASIp3). Bodies are copied a chunk at a time and
//! never held whole; when either side breaks off, the body being written is
//! aborted, never passed on as complete.

use flowgate::path::NormalPath;
use flowgate::policy::Upstream;

use crate::decide::Allowed;
use crate::respond::{self, identity_headers};

/// The Spin variable that bounds every wait for an upstream.
const TIMEOUT_VARIABLE: &str = "upstream_timeout_ms";

/// The longest `upstream_timeout_ms` accepted: five minutes. A larger value
/// is far more likely a unit mistake (seconds given as milliseconds the
/// other way round) than an intent.
const MAX_TIMEOUT_MS: u64 = 300_000;

/// Request headers never passed to an upstream.
fn is_stripped(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        // Hop-by-hop (RFC 9110 7.6.1) and what the outbound request sets itself.
        "connection" | "keep-alive" | "proxy-connection" | "te" | "trailer" | "transfer-encoding"
            | "upgrade" | "host" | "proxy-authorization"
            // Credentials.
            | "authorization" | "x-api-key" | "cookie"
            // Client certificates forwarded by a TLS-terminating proxy.
            | "client-cert" | "client-cert-chain" | "x-forwarded-client-cert" | "x-client-cert"
            | "x-ssl-client-cert"
    ) || name.starts_with("x-flowgate-")
        || name.starts_with("spin-")
}

/// Response headers never passed back to the caller.
pub fn is_hop_by_hop(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Splits an origin `scheme://authority` into its parts: whether it is
/// `https`, and the authority.
fn origin_parts(origin: &str) -> Option<(bool, &str)> {
    let (https, authority) = if let Some(a) = origin.strip_prefix("http://") {
        (false, a)
    } else if let Some(a) = origin.strip_prefix("https://") {
        (true, a)
    } else {
        return None;
    };
    let authority = authority.trim_end_matches('/');
    (!authority.is_empty() && !authority.contains('/')).then_some((https, authority))
}

/// Reads `upstream_timeout_ms` as nanoseconds (the unit of wasi:clocks
/// `duration`). `Err` names the variable and says what is expected.
fn upstream_timeout() -> Result<u64, String> {
    let text = crate::vars::variable(TIMEOUT_VARIABLE).map_err(|e| e.to_string())?;
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|ms| (1..=MAX_TIMEOUT_MS).contains(ms))
        .map(|ms| ms * 1_000_000)
        .ok_or_else(|| {
            format!("Spin variable `{TIMEOUT_VARIABLE}` must be 1 to {MAX_TIMEOUT_MS} milliseconds")
        })
}

/// How an upstream failed, as the caller is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No usable answer: `502`.
    Unreachable,
    /// No answer in time: `504`.
    TimedOut,
}

impl Failure {
    /// A failure that was (`true`) or was not a timeout; each edge tells by
    /// the wasi:http `ErrorCode` variant, never by its text.
    pub fn of_timeout(timed_out: bool) -> Self {
        if timed_out {
            Self::TimedOut
        } else {
            Self::Unreachable
        }
    }

    /// The answer to the caller.
    pub fn reply(self) -> respond::Reply {
        match self {
            Self::Unreachable => respond::json(502, "upstream_unreachable"),
            Self::TimedOut => respond::json(504, "upstream_timeout"),
        }
    }
}

/// What proxy mode sends upstream for one allowed request.
pub struct Outbound {
    /// The flow, for log lines.
    pub flow: String,
    /// The request method, as received.
    pub method: String,
    /// `https` (else `http`).
    pub https: bool,
    /// The upstream's `host[:port]`.
    pub authority: String,
    /// The checked, normalised path and the query as received.
    pub path_with_query: String,
    /// The caller's headers less the stripped ones, plus the identity
    /// headers and the signed identity assertion.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The bound on every wait for the upstream, in nanoseconds.
    pub timeout_ns: u64,
}

/// Decides what goes upstream for the allowed request, or the answer when
/// nothing can go (`503` for configuration, `502` for a flow without a
/// usable upstream). Logs the reason.
pub fn prepare(
    method: &str,
    path: &NormalPath,
    query: Option<&str>,
    headers: &[(String, Vec<u8>)],
    allowed: &Allowed,
) -> Result<Outbound, respond::Reply> {
    let flow = &allowed.flow().id;
    let timeout_ns = upstream_timeout().map_err(|e| {
        crate::log::log_line!("flowgate authorizer: unavailable: {e}");
        respond::json(503, "unavailable")
    })?;
    let origin = match &allowed.flow().upstream {
        Some(Upstream::Url(url)) => Some(url.to_string()),
        Some(Upstream::Variable(name)) => crate::vars::dynamic_variable(name),
        None => None,
    };
    let Some((https, authority)) = origin.as_deref().and_then(origin_parts) else {
        crate::log::log_line!("flowgate authorizer: flow {flow} has no usable upstream");
        return Err(Failure::Unreachable.reply());
    };
    let mut forwarded: Vec<(String, Vec<u8>)> = headers
        .iter()
        .filter(|(name, _)| !is_stripped(name))
        .cloned()
        .collect();
    forwarded.extend(identity_headers(allowed));
    let assertion = respond::assertion_header(allowed).map_err(|e| {
        crate::log::log_line!("flowgate authorizer: unavailable: {e}");
        respond::json(503, "unavailable")
    })?;
    forwarded.push(assertion);
    Ok(Outbound {
        flow: flow.to_string(),
        method: method.to_owned(),
        https,
        authority: authority.to_owned(),
        path_with_query: match query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        },
        headers: forwarded,
        timeout_ns,
    })
}
