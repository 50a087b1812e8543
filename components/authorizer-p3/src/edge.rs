//! The WASIp3 HTTP edge (Spin 4 only, docs/p3.md): the export of
//! `wasi:http/handler@0.3.0-rc-2026-03-15`, reading a request body, sending
//! a reply, proxy mode's outbound request and an OIDC issuer's JWKS fetch,
//! all on `wasi:http` 0.3 streams. The default build's counterpart is
//! `components/authorizer/src/edge.rs`; everything else is shared through
//! [`crate::route`].
//!
//! Proxy mode hands the caller's body stream to the upstream request and the
//! upstream's body stream to the caller's response, each with the future that
//! ends it: the host moves the bytes, and a body that breaks off ends its
//! future with an error, so the other side is aborted, never completed.

use wasip3::http::types::{
    ErrorCode, Fields, Method, Request, RequestOptions, Response, Scheme, Trailers,
};
use wasip3::wit_bindgen::{FutureReader, StreamReader, StreamResult};
use wasip3::{wit_future, wit_stream};

use crate::proxy::{Failure, Outbound, is_hop_by_hop};
use crate::respond::{self, Reply};
use crate::route::FetchError;

/// The end of a body: its trailers, or why it broke off.
type BodyEnd = Result<Option<Trailers>, ErrorCode>;

/// The largest chunk read from a body stream at a time.
const READ_CHUNK: usize = 16 * 1024;

struct Authorizer;

impl wasip3::exports::http::handler::Guest for Authorizer {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let method = method_name(request.get_method());
        let path_with_query = request.get_path_with_query().unwrap_or_default();
        let headers = request.get_headers().copy_all();
        let edge = Edge {
            request: Some(request),
        };
        crate::route::handle(edge, &method, &path_with_query, &headers).await
    }
}

/// The export macro expands to FFI glue that uses `unsafe`; it is kept in
/// this module so that the lint stays on for everything else.
#[allow(unsafe_code)]
mod export {
    use super::Authorizer;
    wasip3::http::service::export!(Authorizer);
}

/// One request, until its body is read or passed on.
struct Edge {
    request: Option<Request>,
}

impl crate::route::Edge for Edge {
    type Done = Result<Response, ErrorCode>;

    async fn read_body(&mut self, limit: usize) -> Option<Vec<u8>> {
        let request = self.request.take()?;
        let (_handled, handled) = wit_future::new(|| Ok(()));
        let (stream, end) = Request::consume_body(request, handled);
        read_all(stream, end, limit).await
    }

    fn send(self, reply: Reply) -> Self::Done {
        Ok(response(reply))
    }

    async fn forward(self, outbound: Outbound) -> Self::Done {
        Ok(match self.request {
            Some(request) => forward(request, outbound).await,
            // The body was read for a route that answers itself; proxy mode
            // never follows it. Still no panic on a request path.
            None => response(respond::json(500, "internal")),
        })
    }
}

/// The method's name, as the WASI 0.2 edge has it.
fn method_name(method: Method) -> String {
    match method {
        Method::Get => "GET".into(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(other) => other,
    }
}

/// The method of an outbound request.
fn method_of(method: &str) -> Method {
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

/// Reads a body whole, at most `limit` bytes. `None`: larger, or it broke
/// off (its end future reports an error).
async fn read_all(
    mut stream: StreamReader<u8>,
    end: FutureReader<BodyEnd>,
    limit: usize,
) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let (result, chunk) = stream.read(Vec::with_capacity(READ_CHUNK)).await;
        match result {
            StreamResult::Complete(_) => {
                body.extend_from_slice(&chunk);
                if body.len() > limit {
                    return None;
                }
            }
            StreamResult::Dropped => break,
            StreamResult::Cancelled => return None,
        }
    }
    end.await.ok().map(|_| body)
}

/// A response with `reply`'s status, headers and body. The body is written
/// by a task of this instance after the response is handed to the host.
fn response(reply: Reply) -> Response {
    let (status, headers, body) = reply.into_parts();
    let fields = Fields::from_list(&headers).unwrap_or_else(|_| Fields::new());
    let (mut writer, contents) = wit_stream::new::<u8>();
    let (ended, end) = wit_future::new::<BodyEnd>(|| Ok(None));
    let (response, _sent) = Response::new(fields, Some(contents), end);
    let _ = response.set_status_code(status);
    wasip3::wit_bindgen::spawn(async move {
        if !body.is_empty() {
            let _ = writer.write_all(body).await;
        }
        drop(writer);
        // The end (no trailers) is written, not left to the writer's drop:
        // measured on Spin 4.0.2, a body ended by the drop's default reached
        // a keep-alive client about 44 ms late (docs/p3.md).
        let _ = ended.write(Ok(None)).await;
    });
    response
}

/// Request options with every timeout set to `timeout` nanoseconds. A host
/// that refuses the connect or first-byte timeout cannot bound the wait, so
/// that is an error; the between-bytes timeout is kept if the host takes it.
fn request_options(timeout: u64) -> Result<RequestOptions, &'static str> {
    let options = RequestOptions::new();
    options
        .set_connect_timeout(Some(timeout))
        .map_err(|_| "the host does not support a connect timeout")?;
    options
        .set_first_byte_timeout(Some(timeout))
        .map_err(|_| "the host does not support a first-byte timeout")?;
    if options.set_between_bytes_timeout(Some(timeout)).is_err() {
        crate::log::log_line!(
            "flowgate authorizer: the host does not support a between-bytes timeout"
        );
    }
    Ok(options)
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

/// Forwards `request` as `outbound`; the answer streams the upstream's body.
async fn forward(request: Request, outbound: Outbound) -> Response {
    let flow = &outbound.flow;
    let options = match request_options(outbound.timeout_ns) {
        Ok(o) => o,
        Err(e) => {
            crate::log::log_line!("flowgate authorizer: unavailable: {e}");
            return response(respond::json(503, "unavailable"));
        }
    };
    let Ok(fields) = Fields::from_list(&outbound.headers) else {
        return response(respond::json(400, "invalid_headers"));
    };
    let (_handled, handled) = wit_future::new(|| Ok(()));
    let (contents, end) = Request::consume_body(request, handled);
    let (outgoing, _sent) = Request::new(fields, Some(contents), end, Some(options));
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
        return response(Failure::Unreachable.reply());
    }
    let upstream = match wasip3::http::client::send(outgoing).await {
        Ok(r) => r,
        Err(e) => {
            crate::log::log_line!("flowgate authorizer: upstream of flow {flow} failed: {e:?}");
            return response(Failure::of_timeout(timed_out(&e)).reply());
        }
    };
    let status = upstream.get_status_code();
    let back: Vec<(String, Vec<u8>)> = upstream
        .get_headers()
        .copy_all()
        .into_iter()
        .filter(|(name, _)| !is_hop_by_hop(name))
        .collect();
    let Ok(fields) = Fields::from_list(&back) else {
        crate::log::log_line!("flowgate authorizer: upstream of flow {flow} sent unusable headers");
        return response(Failure::Unreachable.reply());
    };
    let (_handled, handled) = wit_future::new(|| Ok(()));
    let (contents, end) = Response::consume_body(upstream, handled);
    let (reply, _sent) = Response::new(fields, Some(contents), end);
    if reply.set_status_code(status).is_err() {
        return response(Failure::Unreachable.reply());
    }
    reply
}

/// `GET url` with the whole answer: status and body. `url` is an
/// `http(s)://authority/path` (an issuer's `jwks_uri`, checked when the
/// issuer was registered).
pub async fn fetch(url: &str) -> Result<(u16, Vec<u8>), FetchError> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else {
        return Err(FetchError::Failed(format!("not an http(s) URL: {url}")));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    let (_, end) = wit_future::new::<BodyEnd>(|| Ok(None));
    let (request, _sent) = Request::new(Fields::new(), None, end, None);
    if request.set_scheme(Some(&scheme)).is_err()
        || request.set_authority(Some(authority)).is_err()
        || request.set_path_with_query(Some(&path)).is_err()
    {
        return Err(FetchError::Failed(format!("not a usable URL: {url}")));
    }
    let response = match wasip3::http::client::send(request).await {
        Ok(r) => r,
        Err(ErrorCode::HttpRequestDenied) => return Err(FetchError::Denied),
        Err(e) => return Err(FetchError::Failed(format!("{e:?}"))),
    };
    let status = response.get_status_code();
    let (_handled, handled) = wit_future::new(|| Ok(()));
    let (stream, end) = Response::consume_body(response, handled);
    read_all(stream, end, usize::MAX)
        .await
        .map(|body| (status, body))
        .ok_or_else(|| FetchError::Failed("the response body broke off".into()))
}
