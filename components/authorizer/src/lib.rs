//! The `authorizer` component: flowgate's hot path. It owns every route but
//! `/admin/...`:
//! - `/authorize` and `/authorize/<path>`: forward-auth for nginx
//!   `auth_request`, Traefik ForwardAuth and Envoy `ext_authz`;
//! - `/oauth2/...` and `/.well-known/...`: the authorization server (not in
//!   this version yet: `404`);
//! - everything else: proxy mode, for paths under a flow with an upstream.
//!
//! A request costs at most one key-value read: the record of the account
//! that the presented secret names.

mod decide;
mod forward;
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
        let outcome = match forward::target(&raw_path, &method, &headers) {
            Ok(target) => decide::decide(
                &target.method,
                &target.path,
                &headers,
                decide::Mode::ForwardAuth,
            ),
            Err(reason) => {
                eprintln!("flowgate authorizer: deny forward-auth: {reason}");
                Outcome::Forbidden
            }
        };
        respond::send(out, respond::forward_auth(outcome));
        return;
    }
    if is_reserved(&raw_path) {
        respond::send(out, respond::json(404, "not_found"));
        return;
    }
    let path = match flowgate::path::normalise(&raw_path) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("flowgate authorizer: refused path: {e}");
            respond::send(out, respond::json(400, "invalid_path"));
            return;
        }
    };
    match decide::decide(&method, &path, &headers, decide::Mode::Proxy) {
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

/// Routes of the authorization server, which this version does not serve yet.
fn is_reserved(path: &str) -> bool {
    ["/oauth2", "/.well-known"]
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")))
}
