//! The `management` component: `/admin/v1`, JSON over HTTP. It authenticates
//! the administrator, routes, and calls the core's [`flowgate::admin::Admin`],
//! where every rule lives; then it writes the audit entry.

mod audit;
mod auth;
mod dispatch;
mod fetch;
mod kv;
mod openapi;
mod response;
mod routes;
mod service_key;

use spin_sdk::http::{Request, Response};

/// The SDK's export macro expands to FFI glue that uses `unsafe`; it is kept
/// in this module so that the lint stays on for everything else.
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{Request, Response};

    #[spin_sdk::http_component]
    fn handle(request: Request) -> Response {
        crate::handle(request)
    }
}

fn handle(request: Request) -> Response {
    let path = request.path().to_owned();
    if path == "/admin/v1/openapi.json" && *request.method() == spin_sdk::http::Method::Get {
        return openapi::openapi();
    }
    if path == "/admin/v1/ca.pem" && *request.method() == spin_sdk::http::Method::Get {
        return service_key::ca_certificate();
    }
    let actor = match auth::authenticate(&request) {
        Ok(actor) => actor,
        Err(reply) => return reply,
    };
    dispatch::dispatch(&request, &path, &actor)
}
