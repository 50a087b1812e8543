//! What a request is and where it goes, for either HTTP edge: the WASI 0.2
//! component (`edge.rs`, the default build) and the WASIp3 one for Spin 4
//! (`components/authorizer-p3`, docs/p3.md). Both compile this module from
//! this file; only the [`Edge`] differs, which moves bytes and nothing else.

use crate::decide::{self, Outcome};
use crate::{config, oauth, proxy, respond};

/// The largest body the authorization-server routes read.
const MAX_FORM_BODY: usize = flowgate::oauth::MAX_FORM_LEN;

/// One request's HTTP side: its body, its answer, and the proxied exchange.
/// `Done` is what the export hands back to the host once answered.
pub trait Edge: Sized {
    /// What the export returns once the request is answered.
    type Done;
    /// Reads the request body, at most `limit` bytes; `None` when it is
    /// larger or could not be read. Called once at most.
    async fn read_body(&mut self, limit: usize) -> Option<Vec<u8>>;
    /// Answers with `reply`.
    fn send(self, reply: respond::Reply) -> Self::Done;
    /// Sends the request on to its upstream (proxy mode) and streams the
    /// answer back; the edge answers 502/504 itself when the upstream fails.
    async fn forward(self, outbound: proxy::Outbound) -> Self::Done;
}

/// Why an outbound `GET` (an OIDC issuer's JWKS) got no answer.
#[derive(Debug)]
pub enum FetchError {
    /// The host refused the destination: not in `allowed_outbound_hosts`.
    Denied,
    /// Anything else, for the log.
    Failed(String),
}

/// Handles one request: forward-auth, the authorization server, or proxy
/// mode. `headers` are the request's, as received.
pub async fn handle<E: Edge>(
    mut edge: E,
    method: &str,
    path_with_query: &str,
    headers: &[(String, Vec<u8>)],
) -> E::Done {
    let (raw_path, query) = match path_with_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_with_query, None),
    };

    if raw_path == "/authorize" || raw_path.starts_with("/authorize/") {
        let forwarded = headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()));
        let outcome = match flowgate::decision::forward::target(raw_path, method, forwarded) {
            Ok(target) => {
                decide::decide(
                    &target.method,
                    &target.path,
                    headers,
                    decide::Mode::ForwardAuth,
                )
                .await
            }
            Err(reason) => {
                crate::log::log_line!("flowgate authorizer: deny forward-auth: {reason}");
                Outcome::Forbidden
            }
        };
        return edge.send(respond::forward_auth_for(outcome, headers));
    }
    if is_reserved(raw_path) {
        let reply = authorization_server(&mut edge, method, raw_path, headers).await;
        return edge.send(reply);
    }
    let path = match flowgate::path::normalise(raw_path) {
        Ok(p) => p,
        Err(e) => {
            crate::log::log_line!("flowgate authorizer: refused path: {e}");
            return edge.send(respond::json(400, "invalid_path"));
        }
    };
    match decide::decide(method, &path, headers, decide::Mode::Proxy).await {
        Outcome::Allow(allowed) => match proxy::prepare(method, &path, query, headers, &allowed) {
            Ok(outbound) => edge.forward(outbound).await,
            Err(reply) => edge.send(reply),
        },
        other => edge.send(respond::refusal(other)),
    }
}

async fn authorization_server<E: Edge>(
    edge: &mut E,
    method: &str,
    path: &str,
    headers: &[(String, Vec<u8>)],
) -> respond::Reply {
    // Issuing and the metadata never need the previous key.
    let with_previous = !matches!(
        path,
        "/oauth2/token" | "/.well-known/oauth-authorization-server"
    );
    let config = match config::Config::load(with_previous) {
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
            let Some(body) = edge.read_body(MAX_FORM_BODY).await else {
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

/// Routes of the authorization server.
fn is_reserved(path: &str) -> bool {
    ["/oauth2", "/.well-known"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}
