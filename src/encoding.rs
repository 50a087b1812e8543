//! Small encodings used by generated secrets and identifiers.

/// RFC 4648 base32 alphabet, lower case: unambiguous to read aloud, safe in
/// URLs, headers and the username part of Basic credentials.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Encodes `bytes` as unpadded lower-case base32.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Whether every byte of `s` is in the lower-case base32 alphabet.
pub fn is_base32(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4648_vectors_in_lower_case() {
        // RFC 4648 section 10, without padding.
        let cases = [
            ("", ""),
            ("f", "my"),
            ("fo", "mzxq"),
            ("foo", "mzxw6"),
            ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"),
            ("foobar", "mzxw6ytboi"),
        ];
        for (input, expected) in cases {
            assert_eq!(base32(input.as_bytes()), expected, "input {input:?}");
        }
    }

    #[test]
    fn alphabet_check_rejects_upper_case_and_digits_outside_2_to_7() {
        assert!(is_base32("abz27"));
        assert!(!is_base32("abZ"));
        assert!(!is_base32("a1"));
        assert!(!is_base32("a8"));
        assert!(!is_base32("a-b"));
    }
}
