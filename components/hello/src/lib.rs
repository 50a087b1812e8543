//! The floor for benchmarks: the smallest spin-sdk 5 component, built with the
//! same SDK and release profile as flowgate's own components. Spin creates an
//! instance per request, so this is the cost every request pays anyway.

/// The SDK's export macro expands to FFI glue that uses `unsafe`; it is kept
/// in this module so that the lint stays on for everything else.
#[allow(unsafe_code)]
mod export {
    use spin_sdk::http::{IntoResponse, Request, Response};

    #[spin_sdk::http_component]
    fn handle(_req: Request) -> anyhow::Result<impl IntoResponse> {
        Ok(Response::builder()
            .status(200)
            .header("content-type", "text/plain")
            .body("hello\n")
            .build())
    }
}
