//! The OpenAPI document of `/admin/v1`, served as is. `tests/openapi.rs`
//! holds it equal to the core's route table.

use spin_sdk::http::Response;

/// The OpenAPI document of this API.
const OPENAPI: &str = include_str!("../openapi.json");

/// The OpenAPI document of this API.
pub fn openapi() -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(OPENAPI)
        .build()
}
