//! The `console` component: serves the web console's static files under
//! `/console/`. It holds no state, reads no variable and opens no store; the
//! console's JavaScript calls `/admin/v1` from the browser with the signed-in
//! credential, so every change goes through the management API.

mod assets;
mod serve;

use spin_sdk::http::{Method, Request, Response};

/// The SDK's export macro expands to FFI glue that uses `unsafe`; it is kept
/// in this module so that the lint stays on for everything else.
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{Request, Response};

    #[spin_sdk::http_component]
    fn handle(request: Request) -> Response {
        crate::handle(&request)
    }
}

fn handle(request: &Request) -> Response {
    let method = match request.method() {
        Method::Get => serve::Verb::Get,
        Method::Head => serve::Verb::Head,
        _ => serve::Verb::Other,
    };
    let if_none_match = request
        .header("if-none-match")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let reply = serve::respond(method, request.path(), if_none_match);
    let mut builder = Response::builder();
    builder.status(reply.status);
    for (name, value) in reply.headers {
        builder.header(name, value);
    }
    builder.body(reply.body.to_vec()).build()
}
