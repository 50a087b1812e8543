//! The WASI 0.2 HTTP edge (spin-sdk 5.2), the default build: the export,
//! reading a request body, sending a reply, proxy mode's outbound request
//! and an OIDC issuer's JWKS fetch. Everything else is shared with the
//! WASIp3 build (`components/authorizer-p3`, docs/p3.md) through
//! [`crate::route`].
//!
//! Proxy mode: `spin_sdk::http::send` takes no request options, so the
//! request goes through the outgoing handler of the SDK's WASI bindings
//! directly, with the connect, first-byte and between-bytes timeouts set.

use futures::StreamExt as _;
use spin_sdk::http::{
    ErrorCode, Fields, IncomingRequest, IncomingResponse, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{FutureIncomingResponse, OutputStream, RequestOptions};

use crate::proxy::{Failure, Outbound, is_hop_by_hop};
use crate::respond::{self, Reply};
use crate::route::FetchError;

/// The SDK's export macro expands to FFI glue that uses `unsafe`; it is kept
/// in this module so that the lint stays on for everything else.
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{IncomingRequest, ResponseOutparam};

    #[spin_sdk::http_component]
    async fn handle(request: IncomingRequest, out: ResponseOutparam) {
        super::handle(request, out).await;
    }
}

async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    let method = request.method().to_string();
    let path_with_query = request.path_with_query().unwrap_or_default();
    let headers = request.headers().entries();
    let edge = Edge {
        request: Some(request),
        out,
    };
    crate::route::handle(edge, &method, &path_with_query, &headers).await;
}

/// One request: the incoming request (until its body is read) and where
/// its response goes.
struct Edge {
    request: Option<IncomingRequest>,
    out: ResponseOutparam,
}

impl crate::route::Edge for Edge {
    type Done = ();

    async fn read_body(&mut self, limit: usize) -> Option<Vec<u8>> {
        let mut stream = self.request.take()?.into_body_stream();
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            body.extend(chunk.ok()?);
            if body.len() > limit {
                return None;
            }
        }
        Some(body)
    }

    fn send(self, reply: Reply) {
        send(self.out, reply);
    }

    async fn forward(self, outbound: Outbound) {
        match self.request {
            Some(request) => forward(request, self.out, outbound).await,
            // The body was read for a route that answers itself; proxy mode
            // never follows it. Still no panic on a request path.
            None => send(self.out, respond::json(500, "internal")),
        }
    }
}

/// Sends `reply` as the response.
///
/// A body of at most one write (every refusal, every forward-auth answer)
/// is written and finished before the response is handed to the host, so
/// the host's HTTP side finds the whole answer at once instead of being
/// woken for the head, the body and its end in turn (issue 16: a refusal
/// paid those wake-ups, an allow with its empty body did not). A host
/// buffers one such write without a reader (wasmtime-wasi-http's body
/// channel, which Spin uses, holds two); a longer body is written after
/// the response is handed over, as its reader must drain it.
fn send(out: ResponseOutparam, reply: Reply) {
    let (status, headers, body_bytes) = reply.into_parts();
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(fields);
    let _ = response.set_status_code(status);
    let Ok(body) = response.body() else {
        out.set(response);
        return;
    };
    if body_bytes.len() <= flowgate_spin::BLOCKING_WRITE_LIMIT {
        write_body(body, &body_bytes);
        out.set(response);
    } else {
        out.set(response);
        write_body(body, &body_bytes);
    }
}

/// Writes `bytes` to `body` and finishes it. An empty body is finished
/// without opening its stream (two host calls fewer for every allowed
/// forward-auth answer).
fn write_body(body: OutgoingBody, bytes: &[u8]) {
    if !bytes.is_empty()
        && let Ok(stream) = body.write()
    {
        // A refused write stops the copy; the body is finished below anyway.
        let _ = flowgate_spin::write_flushed(&stream, bytes);
    }
    // The stream above is dropped before the body is finished, as WASI asks.
    let _ = OutgoingBody::finish(body, None);
}

/// `GET url` with the whole answer: status and body. Through the outgoing
/// handler directly, as proxy mode: the SDK's `Request`/`Response` types
/// lower-case every header name with `str::to_lowercase`, which links
/// Unicode's case table into the component, and every request's instance
/// pays for copying a larger memory image back (docs/benchmarks.md, "The
/// authorizer's memory image").
pub async fn fetch(url: &str) -> Result<(u16, Vec<u8>), FetchError> {
    let (scheme, authority, path_with_query) =
        split_url(url).ok_or_else(|| FetchError::Failed(format!("not an http(s) URL: {url}")))?;
    let outgoing = OutgoingRequest::new(Fields::new());
    if outgoing.set_scheme(Some(&scheme)).is_err()
        || outgoing.set_authority(Some(authority)).is_err()
        || outgoing.set_path_with_query(Some(path_with_query)).is_err()
    {
        return Err(FetchError::Failed(format!(
            "the host refused the request line of {url}"
        )));
    }
    let failed = |e: ErrorCode| match e {
        ErrorCode::HttpRequestDenied => FetchError::Denied,
        e => FetchError::Failed(format!("{e:?}")),
    };
    let pending = outgoing_handler::handle(outgoing, None).map_err(failed)?;
    let response = response_of(&pending).map_err(failed)?;
    drop(pending);
    let status = response.status();
    let mut body = Vec::new();
    let mut chunks = response.take_body_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| FetchError::Failed(format!("body broke off: {e:?}")))?;
        body.extend_from_slice(&chunk);
    }
    Ok((status, body))
}

/// `(scheme, authority, path with query)` of an `http://` or `https://`
/// URL; the fragment is not sent. An empty path is `/`.
fn split_url(url: &str) -> Option<(Scheme, &str, &str)> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return None;
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() {
        return None;
    }
    match path {
        "" => Some((scheme, authority, "/")),
        // `https://host?x`: a query without a path. No issuer's `jwks_uri`
        // can have this form (`flowgate::oidc::jwks_uri`).
        p if p.starts_with('?') => None,
        p => Some((scheme, authority, p)),
    }
}

/// Whether a wasi:http error is a timeout, by its variant.
fn timed_out(error: &ErrorCode) -> bool {
    matches!(
        error,
        ErrorCode::DnsTimeout
            | ErrorCode::ConnectionTimeout
            | ErrorCode::ConnectionReadTimeout
            | ErrorCode::ConnectionWriteTimeout
            | ErrorCode::HttpResponseTimeout
    )
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
        crate::log::log_line!(
            "flowgate authorizer: the host does not support a between-bytes timeout"
        );
    }
    Ok(options)
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

/// Forwards `request` as `outbound` and streams the answer.
async fn forward(request: IncomingRequest, out: ResponseOutparam, outbound: Outbound) {
    let flow = &outbound.flow;
    let options = match request_options(outbound.timeout_ns) {
        Ok(o) => o,
        Err(e) => {
            crate::log::log_line!("flowgate authorizer: unavailable: {e}");
            send(out, respond::json(503, "unavailable"));
            return;
        }
    };
    let Ok(fields) = Fields::from_list(&outbound.headers) else {
        send(out, respond::json(400, "invalid_headers"));
        return;
    };
    let outgoing = OutgoingRequest::new(fields);
    let scheme = if outbound.https {
        Scheme::Https
    } else {
        Scheme::Http
    };
    if outgoing.set_method(&method_of(&outbound.method)).is_err()
        || outgoing.set_scheme(Some(&scheme)).is_err()
        || outgoing.set_authority(Some(&outbound.authority)).is_err()
        || outgoing
            .set_path_with_query(Some(&outbound.path_with_query))
            .is_err()
    {
        crate::log::log_line!(
            "flowgate authorizer: flow {flow}: the host refused the upstream request line"
        );
        send(out, Failure::Unreachable.reply());
        return;
    }
    let Ok(upstream_body) = outgoing.body() else {
        send(out, Failure::Unreachable.reply());
        return;
    };

    // Hand the request to the host first, so that it connects and drains the
    // body while it is written below.
    let pending = match outgoing_handler::handle(outgoing, Some(options)) {
        Ok(p) => p,
        Err(e) => {
            crate::log::log_line!("flowgate authorizer: upstream of flow {flow} failed: {e:?}");
            send(out, Failure::of_timeout(timed_out(&e)).reply());
            return;
        }
    };
    if let Err(e) = copy_request_body(request, upstream_body, &pending).await {
        crate::log::log_line!(
            "flowgate authorizer: request body to flow {flow} not passed on: {e}"
        );
    }
    let response = match response_of(&pending) {
        Ok(r) => r,
        Err(e) => {
            crate::log::log_line!("flowgate authorizer: upstream of flow {flow} failed: {e:?}");
            send(out, Failure::of_timeout(timed_out(&e)).reply());
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
        crate::log::log_line!("flowgate authorizer: upstream of flow {flow} sent unusable headers");
        send(out, Failure::Unreachable.reply());
        return;
    };
    let reply = OutgoingResponse::new(fields);
    if reply.set_status_code(response.status()).is_err() {
        send(out, Failure::Unreachable.reply());
        return;
    }
    let Ok(caller_body) = reply.body() else {
        send(out, Failure::Unreachable.reply());
        return;
    };
    out.set(reply);
    if let Err(e) = copy_response_body(&response, caller_body).await {
        crate::log::log_line!("flowgate authorizer: response body from flow {flow} broke off: {e}");
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
