//! The `authorizer` component: flowgate's hot path. It owns every route but
//! `/admin/...`:
//! - `/authorize` and `/authorize/<path>`: forward-auth for nginx
//!   `auth_request`, Traefik ForwardAuth and Envoy `ext_authz`;
//! - `/oauth2/token`, `/oauth2/introspect`, `/oauth2/revoke`,
//!   `/.well-known/jwks.json` and `/.well-known/oauth-authorization-server`:
//!   the authorization server;
//! - everything else: proxy mode, for paths under a flow with an upstream.
//!
//! Every decision is the core's (`flowgate::decision`); this component
//! translates HTTP to core types and back, does the store, variable and
//! clock I/O, and logs.
//!
//! A request to a flow with an API key, Basic or an API token costs one
//! key-value read (the record of the account that the presented secret
//! names), and a write at most once a minute per credential (its last use).
//! An access token costs two reads: its verified-token record and its
//! account's record (the kill switch and today's grants); its first use
//! verifies it in full and writes that record (`flowgate::verified`).

mod admission;
mod config;
mod decide;
mod log;
mod oauth;
mod proxy;
mod respond;

use spin_sdk::http::{IncomingRequest, ResponseOutparam};

use crate::decide::Outcome;

/// The SDK's export macro expands to FFI glue that uses `unsafe`; it is kept
/// in this module so that the lint stays on for everything else.
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{IncomingRequest, ResponseOutparam};

    #[spin_sdk::http_component]
    async fn handle(request: IncomingRequest, out: ResponseOutparam) {
        crate::handle(request, out).await;
    }
}

async fn handle(request: IncomingRequest, out: ResponseOutparam) {
    let method = request.method().to_string();
    let path_with_query = request.path_with_query().unwrap_or_default();
    let (raw_path, query) = match path_with_query.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (path_with_query.clone(), None),
    };
    let headers = request.headers().entries();

    if raw_path == "/authorize" || raw_path.starts_with("/authorize/") {
        let forwarded = headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()));
        let outcome = match flowgate::decision::forward::target(&raw_path, &method, forwarded) {
            Ok(target) => {
                decide::decide(
                    &target.method,
                    &target.path,
                    &headers,
                    decide::Mode::ForwardAuth,
                )
                .await
            }
            Err(reason) => {
                crate::log::log_line!("flowgate authorizer: deny forward-auth: {reason}");
                Outcome::Forbidden
            }
        };
        respond::send(out, respond::forward_auth_for(outcome, &headers));
        return;
    }
    if is_reserved(&raw_path) {
        let reply = authorization_server(request, &method, &raw_path, &headers).await;
        respond::send(out, reply);
        return;
    }
    let path = match flowgate::path::normalise(&raw_path) {
        Ok(p) => p,
        Err(e) => {
            crate::log::log_line!("flowgate authorizer: refused path: {e}");
            respond::send(out, respond::json(400, "invalid_path"));
            return;
        }
    };
    match decide::decide(&method, &path, &headers, decide::Mode::Proxy).await {
        Outcome::Allow(allowed) => {
            proxy::forward(
                request,
                out,
                &method,
                &path,
                query.as_deref(),
                &headers,
                &allowed,
            )
            .await
        }
        other => respond::send(out, respond::refusal(other)),
    }
}

/// The largest body the authorization-server routes read.
const MAX_FORM_BODY: usize = flowgate::oauth::MAX_FORM_LEN;

async fn authorization_server(
    request: IncomingRequest,
    method: &str,
    path: &str,
    headers: &[(String, Vec<u8>)],
) -> respond::Reply {
    let config = match config::Config::load() {
        Ok(c) => c,
        Err(e) => {
            crate::log::log_line!("flowgate authorizer: unavailable: {e}");
            return respond::json(503, "temporarily_unavailable");
        }
    };
    match (method, path) {
        ("GET", "/.well-known/jwks.json") => oauth::jwks(&config),
        ("GET", "/.well-known/oauth-authorization-server") => oauth::metadata(&config),
        ("POST", "/oauth2/token" | "/oauth2/introspect" | "/oauth2/revoke") => {
            let Some(body) = read_body(request, MAX_FORM_BODY).await else {
                let e = flowgate::oauth::OAuthError::InvalidRequest(
                    "request body too large or unreadable",
                );
                return respond::Reply::json_value(e.status(), &e.body());
            };
            match path {
                "/oauth2/token" => oauth::token(headers, &body, &config),
                "/oauth2/introspect" => oauth::introspect(headers, &body, &config),
                _ => oauth::revoke(headers, &body, &config),
            }
        }
        (_, "/.well-known/jwks.json" | "/.well-known/oauth-authorization-server")
        | (_, "/oauth2/token" | "/oauth2/introspect" | "/oauth2/revoke") => {
            let mut reply = respond::json(405, "method_not_allowed");
            reply.header(
                "allow",
                if path.starts_with("/oauth2/") {
                    "POST"
                } else {
                    "GET"
                },
            );
            reply
        }
        _ => respond::json(404, "not_found"),
    }
}

/// Reads a request body of at most `limit` bytes.
async fn read_body(request: IncomingRequest, limit: usize) -> Option<Vec<u8>> {
    use futures::StreamExt as _;
    let mut stream = request.into_body_stream();
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        body.extend(chunk.ok()?);
        if body.len() > limit {
            return None;
        }
    }
    Some(body)
}

/// Routes of the authorization server.
fn is_reserved(path: &str) -> bool {
    ["/oauth2", "/.well-known"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}
