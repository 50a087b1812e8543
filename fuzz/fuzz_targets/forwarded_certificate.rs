//! The client-certificate headers a TLS-terminating proxy forwards (RFC 9440
//! `Client-Cert`, Envoy `X-Forwarded-Client-Cert`, nginx `X-SSL-Client-Cert`):
//! the first byte picks the header, the rest is its value. Properties: never
//! a panic; an accepted value yields a 43-character base64url SHA-256
//! thumbprint; the same value under two headers is always refused.
#![no_main]

use flowgate::certificate::{HEADERS, forwarded_thumbprint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, value)) = data.split_first() else {
        return;
    };
    let name = HEADERS[usize::from(selector) % HEADERS.len()];
    if let Ok(Some(thumbprint)) = forwarded_thumbprint([(name, value)]) {
        assert_eq!(thumbprint.len(), 43);
        assert!(
            thumbprint
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
    let other = HEADERS[(usize::from(selector) + 1) % HEADERS.len()];
    assert!(forwarded_thumbprint([(name, value), (other, value)]).is_err());
});
