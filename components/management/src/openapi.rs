//! The OpenAPI document of `/admin/v1`, served as is and read for the
//! methods a path allows.

use serde_json::Value;
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

/// The methods the document lists for the path `segments` (below
/// `/admin/v1/`), upper-case. The document is the route table's description
/// and `tests/openapi.rs` keeps the two equal, so it answers `Allow` without
/// a second table; it is read only on this error path.
pub(crate) fn documented_methods(segments: &[&str]) -> Vec<String> {
    let Ok(doc) = serde_json::from_str::<Value>(OPENAPI) else {
        return vec![];
    };
    let mut methods = Vec::new();
    for (template, item) in doc["paths"].as_object().into_iter().flatten() {
        let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        let fits = parts.len() == segments.len()
            && parts
                .iter()
                .zip(segments)
                .all(|(p, s)| p.starts_with('{') || p == s);
        if fits {
            let listed = item.as_object().into_iter().flatten().map(|(m, _)| m);
            methods.extend(
                listed
                    .filter(|m| *m != "parameters")
                    .map(|m| m.to_ascii_uppercase()),
            );
        }
    }
    methods.sort();
    methods.dedup();
    methods
}
