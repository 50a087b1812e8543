//! Proxy mode: the allowed request goes to its flow's upstream, streamed in
//! both directions. Credentials, client-certificate headers, hop-by-hop
//! headers and anything claiming to be flowgate or Spin are removed; the
//! identity headers are added. The path sent is the normalised path that
//! was checked.
//!
//! The wait for the upstream is bounded by the Spin variable
//! `upstream_timeout_ms`, given to the host as wasi:http request options
//! (connect, first byte, and between two bytes of the response body).
//! `spin_sdk::http::send` takes no options, so the request goes through the
//! outgoing handler of the SDK's WASI bindings directly. A failure is mapped
//! by its `ErrorCode` variant: a timeout is `504`, anything else `502`.
//!
//! Bodies are copied a chunk at a time and never held whole. When either
//! side breaks off, the body being written is dropped without `finish`, so
//! the host aborts it: a truncated body is never passed on as a complete one.

use futures::StreamExt as _;
use spin_sdk::http::{
    ErrorCode, Fields, IncomingRequest, IncomingResponse, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{FutureIncomingResponse, OutputStream, RequestOptions};

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
fn is_hop_by_hop(name: &str) -> bool {
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

/// Splits an origin `scheme://authority` into its parts.
fn origin_parts(origin: &str) -> Option<(Scheme, &str)> {
    let (scheme, authority) = if let Some(a) = origin.strip_prefix("http://") {
        (Scheme::Http, a)
    } else if let Some(a) = origin.strip_prefix("https://") {
        (Scheme::Https, a)
    } else {
        return None;
    };
    let authority = authority.trim_end_matches('/');
    (!authority.is_empty() && !authority.contains('/')).then_some((scheme, authority))
}

/// Reads `upstream_timeout_ms` as nanoseconds (the unit of wasi:clocks
/// `duration`). `Err` names the variable and says what is expected.
fn upstream_timeout() -> Result<u64, String> {
    let text = flowgate_spin::variable(TIMEOUT_VARIABLE).map_err(|e| e.to_string())?;
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|ms| (1..=MAX_TIMEOUT_MS).contains(ms))
        .map(|ms| ms * 1_000_000)
        .ok_or_else(|| {
            format!("Spin variable `{TIMEOUT_VARIABLE}` must be 1 to {MAX_TIMEOUT_MS} milliseconds")
        })
}

/// Request options with every timeout set to `timeout` nanoseconds. A host
/// that refuses the connect or first-byte timeout cannot bound the wait, so
/// that is an error; the between-bytes timeout is kept if the host takes it.
fn request_options(timeout: u64) -> Result<RequestOptions, &'static str> {
    let options = RequestOptions::new();
    options
        .set_connect_timeout(Some(timeout))
        .map_err(|()| "the host does not support a connect timeout")?;
    options
        .set_first_byte_timeout(Some(timeout))
        .map_err(|()| "the host does not support a first-byte timeout")?;
    if options.set_between_bytes_timeout(Some(timeout)).is_err() {
        eprintln!("flowgate authorizer: the host does not support a between-bytes timeout");
    }
    Ok(options)
}

/// How an upstream failed, as the caller is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    /// No usable answer: `502`.
    Unreachable,
    /// No answer in time: `504`.
    TimedOut,
}

impl Failure {
    /// Classifies a wasi:http error by its variant, never by its text.
    fn of(error: &ErrorCode) -> Self {
        match error {
            ErrorCode::DnsTimeout
            | ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout
            | ErrorCode::HttpResponseTimeout => Self::TimedOut,
            _ => Self::Unreachable,
        }
    }

    fn reply(self) -> respond::Reply {
        match self {
            Self::Unreachable => respond::json(502, "upstream_unreachable"),
            Self::TimedOut => respond::json(504, "upstream_timeout"),
        }
    }
}

/// Maps a method name to the SDK's method.
fn method_of(method: &str) -> spin_sdk::http::Method {
    use spin_sdk::http::Method;
    match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "PATCH" => Method::Patch,
        "DELETE" => Method::Delete,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_owned()),
    }
}

/// Forwards the allowed `request` to its flow's upstream and streams the answer.
pub async fn forward(
    request: IncomingRequest,
    out: ResponseOutparam,
    method: &str,
    path: &NormalPath,
    query: Option<&str>,
    headers: &[(String, Vec<u8>)],
    allowed: &Allowed,
) {
    let flow = &allowed.flow().id;
    let timeout = match upstream_timeout() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("flowgate authorizer: unavailable: {e}");
            respond::send(out, respond::json(503, "unavailable"));
            return;
        }
    };
    let options = match request_options(timeout) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("flowgate authorizer: unavailable: {e}");
            respond::send(out, respond::json(503, "unavailable"));
            return;
        }
    };
    let origin = match &allowed.flow().upstream {
        Some(Upstream::Url(url)) => Some(url.to_string()),
        Some(Upstream::Variable(name)) => flowgate_spin::dynamic_variable(name),
        None => None,
    };
    let Some((scheme, authority)) = origin.as_deref().and_then(origin_parts) else {
        eprintln!("flowgate authorizer: flow {flow} has no usable upstream");
        respond::send(out, Failure::Unreachable.reply());
        return;
    };

    let mut forwarded: Vec<(String, Vec<u8>)> = headers
        .iter()
        .filter(|(name, _)| !is_stripped(name))
        .cloned()
        .collect();
    forwarded.extend(identity_headers(allowed));
    match respond::assertion_header(allowed) {
        Ok(header) => forwarded.push(header),
        Err(e) => {
            eprintln!("flowgate authorizer: unavailable: {e}");
            respond::send(out, respond::json(503, "unavailable"));
            return;
        }
    }
    let Ok(fields) = Fields::from_list(&forwarded) else {
        respond::send(out, respond::json(400, "invalid_headers"));
        return;
    };
    let outgoing = OutgoingRequest::new(fields);
    let path_with_query = match query {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    if outgoing.set_method(&method_of(method)).is_err()
        || outgoing.set_scheme(Some(&scheme)).is_err()
        || outgoing.set_authority(Some(authority)).is_err()
        || outgoing
            .set_path_with_query(Some(&path_with_query))
            .is_err()
    {
        eprintln!("flowgate authorizer: flow {flow}: the host refused the upstream request line");
        respond::send(out, Failure::Unreachable.reply());
        return;
    }
    let Ok(upstream_body) = outgoing.body() else {
        respond::send(out, Failure::Unreachable.reply());
        return;
    };

    // Hand the request to the host first, so that it connects and drains the
    // body while it is written below.
    let pending = match outgoing_handler::handle(outgoing, Some(options)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("flowgate authorizer: upstream of flow {flow} failed: {e:?}");
            respond::send(out, Failure::of(&e).reply());
            return;
        }
    };
    if let Err(e) = copy_request_body(request, upstream_body, &pending).await {
        eprintln!("flowgate authorizer: request body to flow {flow} not passed on: {e}");
    }
    let response = match response_of(&pending) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("flowgate authorizer: upstream of flow {flow} failed: {e:?}");
            respond::send(out, Failure::of(&e).reply());
            return;
        }
    };
    drop(pending);

    let back: Vec<(String, Vec<u8>)> = response
        .headers()
        .entries()
        .into_iter()
        .filter(|(name, _)| !is_hop_by_hop(name))
        .collect();
    let Ok(fields) = Fields::from_list(&back) else {
        eprintln!("flowgate authorizer: upstream of flow {flow} sent unusable headers");
        respond::send(out, Failure::Unreachable.reply());
        return;
    };
    let reply = OutgoingResponse::new(fields);
    if reply.set_status_code(response.status()).is_err() {
        respond::send(out, Failure::Unreachable.reply());
        return;
    }
    let Ok(caller_body) = reply.body() else {
        respond::send(out, Failure::Unreachable.reply());
        return;
    };
    out.set(reply);
    if let Err(e) = copy_response_body(&response, caller_body).await {
        eprintln!("flowgate authorizer: response body from flow {flow} broke off: {e}");
    }
}

/// Waits for the upstream's response head, or its error.
fn response_of(pending: &FutureIncomingResponse) -> Result<IncomingResponse, ErrorCode> {
    loop {
        match pending.get() {
            Some(Ok(result)) => return result,
            // `Err` means the response was taken before; this is the only
            // taker, so it cannot happen. Still no panic on a request path.
            Some(Err(())) => return Err(ErrorCode::InternalError(None)),
            None => pending.subscribe().block(),
        }
    }
}

/// Streams the caller's body into the upstream request. Stops early when
/// the upstream has already answered (or failed): writing on would block on
/// a peer that no longer reads.
async fn copy_request_body(
    request: IncomingRequest,
    body: OutgoingBody,
    pending: &FutureIncomingResponse,
) -> Result<(), &'static str> {
    let Ok(stream) = body.write() else {
        return Err("upstream body not writable");
    };
    // The body is consumed here only, so the SDK's "already consumed" panic
    // cannot be reached.
    let mut chunks = request.into_body_stream();
    while let Some(chunk) = chunks.next().await {
        // Returning drops `stream` and `body` unfinished: the host aborts the
        // upstream body instead of ending it as if it were complete.
        let chunk = chunk.map_err(|_| "the caller's body broke off")?;
        // Checked before a write, never after the last one: an upstream that
        // has read everything may answer at once, and that is no early answer.
        if pending.subscribe().ready() {
            return Err("the upstream answered (or failed) before the whole body was sent");
        }
        write_all(&stream, &chunk)?;
    }
    stream.flush().map_err(|_| "upstream body not writable")?;
    drop(stream);
    OutgoingBody::finish(body, None).map_err(|_| "the upstream body did not finish")
}

/// Streams the upstream's body to the caller.
async fn copy_response_body(
    response: &IncomingResponse,
    body: OutgoingBody,
) -> Result<(), &'static str> {
    let Ok(stream) = body.write() else {
        return Err("caller body not writable");
    };
    // The body is consumed here only, so the SDK's "already consumed" panic
    // cannot be reached.
    let mut chunks = response.take_body_stream();
    while let Some(chunk) = chunks.next().await {
        // Returning drops `stream` and `body` unfinished: the host aborts the
        // caller's body instead of ending it as if it were complete.
        let chunk = chunk.map_err(|_| "the upstream body broke off")?;
        write_all(&stream, &chunk)?;
    }
    stream.flush().map_err(|_| "caller body not writable")?;
    drop(stream);
    OutgoingBody::finish(body, None).map_err(|_| "the caller body did not finish")
}

/// Writes `bytes` whole, waiting for the stream to take each part. The wait
/// blocks this instance, which has nothing else to do meanwhile: the host
/// keeps moving the data on either side.
fn write_all(stream: &OutputStream, mut bytes: &[u8]) -> Result<(), &'static str> {
    while !bytes.is_empty() {
        let permitted = stream
            .check_write()
            .map_err(|_| "the peer stopped reading")?;
        if permitted == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = usize::try_from(permitted).map_or(bytes.len(), |p| p.min(bytes.len()));
        let (now, rest) = bytes.split_at(n);
        stream.write(now).map_err(|_| "the peer stopped reading")?;
        bytes = rest;
    }
    Ok(())
}
