//! The path normaliser: no panic, and normalising is idempotent; a
//! normalised path has no dot segments, no empty segments and no encoded
//! separator.
#![no_main]

use flowgate::path::{MAX_PATH_LEN, normalise};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = normalise(raw) else {
        return;
    };
    let text = path.as_str();
    assert!(text.starts_with('/'), "{text:?}");
    // Regression seed fuzz/seeds/path/bug-canonical-form-too-long: a raw
    // path whose re-encoded form was longer than MAX_PATH_LEN, so that
    // normalising the output again failed (fixed in ec02b7b).
    assert!(text.len() <= MAX_PATH_LEN, "{raw:?} -> {text:?}");
    assert_eq!(
        normalise(text).as_ref(),
        Ok(&path),
        "not idempotent: {raw:?} -> {text:?}"
    );
    let body = text.strip_suffix('/').unwrap_or(text);
    if !body.is_empty() {
        for segment in body[1..].split('/') {
            assert!(!matches!(segment, "" | "." | ".."), "{raw:?} -> {text:?}");
        }
    }
    let upper = text.to_ascii_uppercase();
    for bad in ["%2F", "%5C", "%2E", "%25", "%3B", "%00", "\\", ";"] {
        assert!(!upper.contains(bad), "{raw:?} -> {text:?}");
    }
    assert!(text.bytes().all(|b| b.is_ascii_graphic()), "{text:?}");
});
