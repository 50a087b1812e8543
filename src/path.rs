//! The one path normaliser. Both authorizer modes and grant matching use it,
//! and the path it returns is the path that is forwarded, so what was checked
//! is what the upstream sees.
//!
//! Rules (docs/paths.md explains why):
//! - the path must start with `/` and be at most [`MAX_PATH_LEN`] bytes, as
//!   received and as re-encoded;
//! - percent-escapes are decoded exactly once; an escape of `/`, `\`, `.`,
//!   `%` or a control byte (`%2F`, `%5C`, `%2E`, `%25`, `%00`..) is refused,
//!   as is a malformed escape;
//! - raw control bytes, backslashes, `;` and non-ASCII bytes are refused;
//! - dot segments (`.` and `..`) are refused, as CONTRACT.md lists `..` among
//!   the ambiguous paths: resolving them is a guess about what the client
//!   meant, and layers that resolve differently see different paths;
//! - empty segments (`//`) are refused rather than merged: upstreams disagree
//!   on whether `a//b` is `a/b`, so we do not guess;
//! - one trailing slash is kept as it came (`/flows/orders/` stays), and is
//!   ignored when matching prefixes;
//! - the result is re-encoded canonically: unreserved characters and the
//!   sub-delimiters stay, everything else is `%XX` in upper case.
//!
//! Normalising a normalised path returns it unchanged.

/// The longest raw path accepted.
pub const MAX_PATH_LEN: usize = 2048;

/// Why a path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// Empty, relative, or longer than [`MAX_PATH_LEN`].
    #[error("path must be absolute and at most {MAX_PATH_LEN} bytes")]
    Shape,
    /// A malformed percent-escape.
    #[error("malformed percent-escape")]
    BadEscape,
    /// An escaped separator, dot, percent or control byte.
    #[error("encoded separator, dot, percent or control byte")]
    EncodedSpecial,
    /// A control byte, backslash, semicolon or non-ASCII byte.
    #[error("forbidden character in path")]
    ForbiddenChar,
    /// An empty segment (`//`).
    #[error("empty path segment")]
    EmptySegment,
    /// A `.` or `..` segment.
    #[error("dot segment in path")]
    DotSegment,
}

/// A normalised path. Only [`normalise`] builds one, so a grant check cannot
/// be reached with a path that was not normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalPath(String);

impl NormalPath {
    /// The canonical, percent-encoded form: what is forwarded.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `prefix` (itself normalised, without trailing slash) matches
    /// this path on whole segments: `/a/b` matches `/a/b`, `/a/b/` and
    /// `/a/b/c`, but not `/a/bc`.
    pub fn starts_with_segments(&self, prefix: &str) -> bool {
        let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
        if prefix.is_empty() {
            return true;
        }
        match self.0.strip_prefix(prefix) {
            Some(rest) => rest.is_empty() || rest.starts_with('/'),
            None => false,
        }
    }
}

impl std::fmt::Display for NormalPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Normalises a raw request path (without query string).
pub fn normalise(raw: &str) -> Result<NormalPath, PathError> {
    if raw.is_empty() || raw.len() > MAX_PATH_LEN || !raw.starts_with('/') {
        return Err(PathError::Shape);
    }
    let decoded = decode_once(raw)?;
    let trailing_slash = decoded.len() > 1 && decoded.ends_with('/');
    let mut segments: Vec<&str> = Vec::new();
    let body = &decoded[1..];
    let body = if trailing_slash {
        &body[..body.len() - 1]
    } else {
        body
    };
    if !body.is_empty() {
        for segment in body.split('/') {
            match segment {
                "" => return Err(PathError::EmptySegment),
                "." | ".." => return Err(PathError::DotSegment),
                s => segments.push(s),
            }
        }
    }
    let mut out = String::with_capacity(raw.len());
    for segment in &segments {
        out.push('/');
        encode_segment(segment, &mut out);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    // Re-encoding can lengthen a path (a raw space becomes `%20`); the limit
    // holds for what is forwarded too, and keeps normalising idempotent.
    if out.len() > MAX_PATH_LEN {
        return Err(PathError::Shape);
    }
    Ok(NormalPath(out))
}

fn decode_once(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(PathError::BadEscape)?;
                let value = hex_value(hex[0])
                    .zip(hex_value(hex[1]))
                    .map(|(hi, lo)| hi << 4 | lo)
                    .ok_or(PathError::BadEscape)?;
                if matches!(value, b'/' | b'\\' | b'.' | b'%' | b';') || is_forbidden_byte(value) {
                    return Err(PathError::EncodedSpecial);
                }
                out.push(value);
                i += 3;
            }
            b'\\' | b';' => return Err(PathError::ForbiddenChar),
            b if is_forbidden_byte(b) => return Err(PathError::ForbiddenChar),
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    // Every byte left is ASCII, so this cannot fail; stay total anyway.
    String::from_utf8(out).map_err(|_| PathError::ForbiddenChar)
}

/// Control bytes, DEL and non-ASCII: refused raw and escaped. Non-ASCII is
/// refused because flows are named in ASCII and mixed encodings are a classic
/// way to make two layers see two different paths.
fn is_forbidden_byte(b: u8) -> bool {
    !(0x20..0x7f).contains(&b)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn encode_segment(segment: &str, out: &mut String) {
    for &b in segment.as_bytes() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b'='
                    | b':'
                    | b'@'
            );
        if keep {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        normalise(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}")).0
    }

    #[test]
    fn plain_paths_are_unchanged() {
        for p in [
            "/",
            "/flows/orders",
            "/flows/orders/",
            "/flows/orders/42",
            "/a-b_c~d/e.f",
        ] {
            assert_eq!(ok(p), p);
        }
    }

    #[test]
    fn dot_segments_are_refused_wherever_they_stand() {
        for p in [
            "/flows/./orders",
            "/flows/x/../orders",
            "/flows/orders/..",
            "/flows/orders/../",
            "/flows/orders/.",
            "/..",
            "/.",
            "/a/../../b",
        ] {
            assert_eq!(normalise(p), Err(PathError::DotSegment), "{p}");
        }
        // Dots inside a segment are ordinary characters.
        assert_eq!(ok("/flows/a..b/.x/x./..."), "/flows/a..b/.x/x./...");
    }

    #[test]
    fn encoded_separators_dots_percent_and_nul_are_refused() {
        for p in [
            "/flows%2forders",
            "/flows%2Forders",
            "/flows/%2e%2e/x",
            "/flows/%2E",
            "/a%5cb",
            "/a%00",
            "/a%252e",
            "/a%0d%0a",
            "/a%3b",
            "/a%7f",
            "/a%c3%a9",
        ] {
            assert_eq!(normalise(p), Err(PathError::EncodedSpecial), "{p}");
        }
    }

    #[test]
    fn raw_backslash_semicolon_controls_and_unicode_are_refused() {
        for p in ["/a\\b", "/a;b", "/a\tb", "/a\u{7f}", "/é", "/a\0"] {
            assert_eq!(normalise(p), Err(PathError::ForbiddenChar), "{p:?}");
        }
    }

    #[test]
    fn malformed_escapes_and_bad_shapes_are_refused() {
        assert_eq!(normalise("/a%"), Err(PathError::BadEscape));
        assert_eq!(normalise("/a%4"), Err(PathError::BadEscape));
        assert_eq!(normalise("/a%zz"), Err(PathError::BadEscape));
        assert_eq!(normalise(""), Err(PathError::Shape));
        assert_eq!(normalise("flows"), Err(PathError::Shape));
        assert_eq!(
            normalise(&format!("/{}", "a".repeat(MAX_PATH_LEN))),
            Err(PathError::Shape)
        );
    }

    /// Found by the `path` fuzz target (docs/security-testing.md): raw bytes
    /// that re-encode to three made the result longer than the limit, so a
    /// second normalisation refused what the first returned.
    #[test]
    fn re_encoding_past_the_limit_is_refused_so_normalising_stays_idempotent() {
        let raw = format!("/{}", " ".repeat(MAX_PATH_LEN / 2));
        assert_eq!(normalise(&raw), Err(PathError::Shape));
        let fits = format!("/{}", " ".repeat((MAX_PATH_LEN - 1) / 3));
        let once = normalise(&fits).expect("fits after re-encoding");
        assert_eq!(normalise(once.as_str()), Ok(once.clone()));
    }

    #[test]
    fn empty_segments_are_refused_not_merged() {
        assert_eq!(normalise("//flows/orders"), Err(PathError::EmptySegment));
        assert_eq!(normalise("/flows//orders"), Err(PathError::EmptySegment));
        assert_eq!(normalise("/flows/orders//"), Err(PathError::EmptySegment));
    }

    #[test]
    fn harmless_escapes_decode_and_re_encode_canonically() {
        assert_eq!(ok("/flows/%6Frders"), "/flows/orders");
        assert_eq!(ok("/a%20b"), "/a%20b");
        assert_eq!(ok("/a b"), "/a%20b");
        assert_eq!(ok("/a%3fb"), "/a%3Fb");
    }

    #[test]
    fn prefixes_match_whole_segments_only() {
        let p = normalise("/flows/orders/42").expect("ok");
        assert!(p.starts_with_segments("/flows/orders"));
        assert!(p.starts_with_segments("/flows"));
        assert!(p.starts_with_segments("/"));
        assert!(!p.starts_with_segments("/flows/order"));
        let q = normalise("/flows/ordersx").expect("ok");
        assert!(!q.starts_with_segments("/flows/orders"));
        let r = normalise("/flows/orders/").expect("ok");
        assert!(r.starts_with_segments("/flows/orders"));
    }

    /// Property: normalising is idempotent, over every path built from a
    /// small alphabet of tricky pieces (exhaustive up to four pieces).
    #[test]
    fn normalising_twice_equals_normalising_once() {
        let pieces = [
            "/", "a", ".", "..", "%2e", "%41", "%20", "%2f", "%25", "~", "%", ";", "b/", "%5C",
        ];
        let mut stack: Vec<(String, usize)> = vec![(String::from("/"), 0)];
        let mut checked = 0;
        while let Some((prefix, depth)) = stack.pop() {
            if let Ok(once) = normalise(&prefix) {
                let twice = normalise(once.as_str()).expect("a normal path normalises");
                assert_eq!(once, twice, "{prefix:?}");
                checked += 1;
            }
            if depth < 4 {
                for piece in pieces {
                    stack.push((format!("{prefix}{piece}"), depth + 1));
                }
            }
        }
        assert!(checked > 1000, "only {checked} paths were checked");
    }

    /// Every raw path of up to `depth` pieces appended to `base`.
    fn paths_from(base: &str, pieces: &[&str], depth: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack: Vec<(String, usize)> = vec![(base.to_owned(), 0)];
        while let Some((path, d)) = stack.pop() {
            if d < depth {
                for piece in pieces {
                    stack.push((format!("{path}{piece}"), d + 1));
                }
            }
            out.push(path);
        }
        out
    }

    /// `raw` with the byte at `at` written as a percent-escape.
    fn escape_byte(raw: &str, at: usize, upper: bool) -> String {
        let b = raw.as_bytes()[at];
        let escaped = if upper {
            format!("%{b:02X}")
        } else {
            format!("%{b:02x}")
        };
        format!("{}{escaped}{}", &raw[..at], &raw[at + 1..])
    }

    /// xorshift64: a fixed-seed generator, so the property tests are the
    /// same on every run and need no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
        }
    }

    /// Property: percent-encoding any single byte of a normalised path (in
    /// either letter case) normalises back to the same path or is refused.
    /// It never yields another path, so it can never match another flow's
    /// prefix than the original did.
    #[test]
    fn escaping_one_byte_of_a_normal_path_gives_it_back_or_is_refused() {
        let pieces = [
            "/", "a", ".", "..", "%2e", "%41", "%20", "%2f", "%25", "~", "%", ";", "b/", "%5C",
            "+", "@", ":", "'", "%3f",
        ];
        let mut normal: Vec<String> = paths_from("/", &pieces, 4)
            .iter()
            .filter_map(|raw| normalise(raw).ok())
            .map(|n| n.0)
            .collect();
        normal.sort();
        normal.dedup();
        assert!(normal.len() > 500, "only {} normal paths", normal.len());
        let mut variants = 0;
        for n in &normal {
            for at in 0..n.len() {
                for upper in [true, false] {
                    let variant = escape_byte(n, at, upper);
                    if let Ok(again) = normalise(&variant) {
                        assert_eq!(again.0, *n, "{variant:?} is not {n:?}");
                    }
                    variants += 1;
                }
            }
        }
        assert!(variants > 5000, "only {variants} variants were checked");
    }

    /// Property: no re-encoding of a path that is refused or outside a
    /// prefix turns it into a path inside that prefix. Re-encodings are every
    /// single-byte escape (both letter cases), escaping an escape's `%`
    /// again, and seeded random sets of escaped bytes.
    #[test]
    fn no_re_encoding_turns_a_deny_into_an_allow() {
        let prefixes = ["/flows/orders", "/flows/ordersx", "/flows/x"];
        let allowed =
            |raw: &str, prefix: &str| normalise(raw).is_ok_and(|n| n.starts_with_segments(prefix));
        let pieces = [
            "/", "orders", "ordersx", "%6frders", "x", ".", "..", "%2e", "%2f", "%", "%25", ";",
        ];
        let mut raws = paths_from("/flows", &pieces, 3);
        raws.extend(paths_from("", &pieces, 3));
        let mut rng = Rng(0x5eed_f10e_9a7e_0001);
        let mut checked = 0;
        for raw in &raws {
            for prefix in prefixes {
                if allowed(raw, prefix) {
                    continue;
                }
                let mut variants = Vec::new();
                for at in 0..raw.len() {
                    variants.push(escape_byte(raw, at, true));
                    variants.push(escape_byte(raw, at, false));
                }
                // An escape escaped again: `%2e` -> `%252e`.
                for (at, b) in raw.bytes().enumerate() {
                    if b == b'%' {
                        variants.push(escape_byte(raw, at, true));
                    }
                }
                // Several bytes at once, chosen by the seeded generator; the
                // string is rebuilt from the end so positions stay valid.
                for _ in 0..4 {
                    let mut variant = raw.clone();
                    let mut positions: Vec<usize> = (0..3).map(|_| rng.below(raw.len())).collect();
                    positions.sort_unstable();
                    positions.dedup();
                    for &at in positions.iter().rev() {
                        if at < variant.len() {
                            variant = escape_byte(&variant, at, rng.next() & 1 == 0);
                        }
                    }
                    variants.push(variant);
                }
                for variant in variants {
                    assert!(
                        !allowed(&variant, prefix),
                        "{raw:?} is denied for {prefix} but {variant:?} is allowed"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 10_000, "only {checked} re-encodings were checked");
    }
}
