//! The files of `static/`, compiled in by `build.rs`.

/// One static file.
#[derive(Debug)]
pub struct Asset {
    /// Request path, `/console/...`.
    pub path: &'static str,
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// Strong ETag, quoted: the first 128 bits of the file's SHA-256 in hex.
    pub etag: &'static str,
    /// The bytes.
    pub body: &'static [u8],
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));
