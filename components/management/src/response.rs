//! The JSON responses of `/admin/v1`: every one is `no-store` (some carry a
//! secret), and a core error becomes its status and body in one place.

use flowgate::admin::AdminError;
use serde_json::{Value, json};
use spin_sdk::http::Response;

/// A JSON response that is never cached (some carry a secret).
pub(crate) fn reply(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(body.to_string())
        .build()
}

/// An error response with `body`.
pub fn error_response(status: u16, body: Value) -> Response {
    reply(status, &body)
}

pub(crate) fn no_content() -> Response {
    Response::builder()
        .status(204)
        .header("cache-control", "no-store")
        .body(Vec::new())
        .build()
}

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

pub(crate) fn failure(e: &AdminError) -> Response {
    if e.status() >= 500 {
        eprintln!("flowgate management: {e}");
    }
    reply(e.status(), &e.body())
}

/// `405` with `Allow` for a path that exists with other methods.
pub(crate) fn method_not_allowed(allowed: &[&str]) -> Response {
    Response::builder()
        .status(405)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .header("allow", allowed.join(", "))
        .body(json!({ "error": "method_not_allowed" }).to_string())
        .build()
}
