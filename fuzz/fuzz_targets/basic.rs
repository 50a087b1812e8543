//! Basic credentials: the decoded `user:password` text (base64-encoded here)
//! and the raw header value as it might arrive.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use flowgate::credential::{Presented, extract};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let encoded = format!("Basic {}", STANDARD.encode(data));
    if let Ok(Presented::Basic(basic)) = extract([("Authorization", encoded.as_bytes())]) {
        // The decoded text was split at its first colon.
        let text = std::str::from_utf8(data).expect("accepted Basic text is UTF-8");
        let (user, _) = text
            .split_once(':')
            .expect("accepted Basic text has a colon");
        assert_eq!(basic.username, user);
        assert!(!text.chars().any(char::is_control));
        let _ = basic.password();
    }
    let mut raw = b"Basic ".to_vec();
    raw.extend_from_slice(data);
    if let Ok(Presented::Basic(basic)) = extract([("authorization", raw.as_slice())]) {
        assert!(!basic.username.is_empty() && !basic.username.contains(':'));
        let _ = basic.password();
    }
});
