//! Small encodings used by generated secrets and identifiers, and the one
//! percent-decoder (URL paths, query strings, forms, forwarded certificates).

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

/// Percent-decodes `s` (RFC 3986 2.1) into UTF-8 text; with `plus_as_space`
/// also `+` as a space, as `application/x-www-form-urlencoded` has it.
/// `None` for a `%` not followed by two hex digits, or bytes that are not
/// UTF-8: malformed input is refused, never guessed at.
pub fn percent_decode(s: &str, plus_as_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let digit = |b: u8| char::from(b).to_digit(16);
                out.push(u8::try_from(digit(hex[0])? * 16 + digit(hex[1])?).ok()?);
                i += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod percent_tests {
    use super::percent_decode;

    #[test]
    fn percent_decoding_decodes_and_refuses_malformed_input() {
        assert_eq!(
            percent_decode("account%3Aab%2Fc", false).as_deref(),
            Some("account:ab/c")
        );
        assert_eq!(percent_decode("a+b%2B", true).as_deref(), Some("a b+"));
        assert_eq!(percent_decode("a+b", false).as_deref(), Some("a+b"));
        assert_eq!(
            percent_decode("%e2%82%ac", false).as_deref(),
            Some("\u{20ac}")
        );
        // A sign is not a hex digit, though `from_str_radix` takes one.
        for bad in ["%", "%4", "%zz", "%+1", "%-1", "%ff", "%c3"] {
            assert_eq!(percent_decode(bad, true), None, "{bad}");
        }
    }
}
