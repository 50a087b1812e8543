//! Extracting the one credential a request presents, from its headers.
//!
//! Exactly one credential header is allowed: several `Authorization` or
//! `X-API-Key` headers, in any letter case, or both kinds at once, are refused
//! rather than guessed between. Values must be visible ASCII (no CR, LF, NUL or
//! other control bytes) and at most [`MAX_CREDENTIAL_LEN`] bytes. Basic
//! credentials follow one rule: standard padded base64 of UTF-8 text, split at
//! the first colon, neither part empty (the password is a generated secret and
//! never contains a colon, so a colon in what follows is simply part of a
//! wrong password).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::secret::{ParsedSecret, SecretError, SecretKind};

/// The longest credential header value accepted. Generated secrets are 70
/// bytes; JWTs of the token endpoint and external issuers stay far below this.
pub const MAX_CREDENTIAL_LEN: usize = 8192;

/// Why a request's credential is refused. Every variant becomes `401`; the
/// variant goes to the log only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// No credential header.
    #[error("no credential presented")]
    Missing,
    /// More than one credential header.
    #[error("more than one credential header")]
    Duplicate,
    /// A credential header beside a forwarded client certificate: two
    /// credentials, possibly of two accounts (issue 18).
    #[error("a credential header and a forwarded client certificate")]
    BesideCertificate,
    /// A header value longer than [`MAX_CREDENTIAL_LEN`].
    #[error("credential header too long")]
    Oversized,
    /// Control bytes, non-ASCII, bad base64, missing colon, empty parts.
    #[error("malformed credential header")]
    Malformed,
    /// An `Authorization` scheme other than Bearer or Basic.
    #[error("unsupported authorization scheme")]
    UnsupportedScheme,
    /// A well-formed secret of a kind that is not accepted here.
    #[error("credential of the wrong kind for this place")]
    WrongKind,
    /// The value is not a well-formed generated secret.
    #[error("{0}")]
    Secret(#[from] SecretError),
}

/// The credential header as it came, before the secret inside is parsed.
#[derive(Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    /// `X-API-Key: <value>`.
    ApiKeyHeader(&'a str),
    /// `Authorization: Bearer <value>`.
    Bearer(&'a str),
    /// `Authorization: Basic ...`, decoded.
    Basic(BasicCredentials),
}

/// Decoded Basic credentials.
#[derive(PartialEq, Eq)]
pub struct BasicCredentials {
    /// The account name.
    pub username: String,
    password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl BasicCredentials {
    /// The password, parsed as a generated Basic password.
    pub fn password(&self) -> Result<ParsedSecret<'_>, CredentialError> {
        let secret = ParsedSecret::parse(&self.password)?;
        if secret.kind() != SecretKind::BasicPassword {
            return Err(CredentialError::WrongKind);
        }
        Ok(secret)
    }
}

impl<'a> Presented<'a> {
    /// The generated secret inside `X-API-Key` or a Bearer value that is not
    /// a JWT, checked for shape, checksum and a kind accepted at a flow.
    pub fn flow_secret(&self) -> Result<ParsedSecret<'a>, CredentialError> {
        let (text, allowed): (&str, &[SecretKind]) = match self {
            Self::ApiKeyHeader(text) => (text, &[SecretKind::ApiKey]),
            Self::Bearer(text) => (text, &[SecretKind::ApiKey, SecretKind::ApiToken]),
            Self::Basic(_) => return Err(CredentialError::WrongKind),
        };
        let secret = ParsedSecret::parse(text)?;
        if !allowed.contains(&secret.kind()) {
            return Err(CredentialError::WrongKind);
        }
        Ok(secret)
    }
}

/// Finds the single credential among `headers` (name, raw value).
pub fn extract<'a, I>(headers: I) -> Result<Presented<'a>, CredentialError>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let mut found: Option<(bool, &'a [u8])> = None;
    for (name, value) in headers {
        let is_auth = name.eq_ignore_ascii_case("authorization");
        if !is_auth && !name.eq_ignore_ascii_case("x-api-key") {
            continue;
        }
        if found.is_some() {
            return Err(CredentialError::Duplicate);
        }
        found = Some((is_auth, value));
    }
    let (is_auth, value) = found.ok_or(CredentialError::Missing)?;
    if value.len() > MAX_CREDENTIAL_LEN {
        return Err(CredentialError::Oversized);
    }
    if !value.iter().all(|b| (0x20..0x7f).contains(b)) {
        return Err(CredentialError::Malformed);
    }
    // Only visible ASCII and spaces remain, so this is valid UTF-8.
    let value = std::str::from_utf8(value)
        .map_err(|_| CredentialError::Malformed)?
        .trim_matches(' ');
    if value.is_empty() {
        return Err(CredentialError::Malformed);
    }
    if !is_auth {
        // A key is one token, as a Bearer credential is: no inner space.
        if value.contains(' ') {
            return Err(CredentialError::Malformed);
        }
        return Ok(Presented::ApiKeyHeader(value));
    }
    let (scheme, rest) = value.split_once(' ').ok_or(CredentialError::Malformed)?;
    let rest = rest.trim_start_matches(' ');
    if rest.is_empty() || rest.contains(' ') {
        return Err(CredentialError::Malformed);
    }
    if scheme.eq_ignore_ascii_case("bearer") {
        if !rest.bytes().all(is_token68) {
            return Err(CredentialError::Malformed);
        }
        Ok(Presented::Bearer(rest))
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(rest)
            .map_err(|_| CredentialError::Malformed)?;
        let text = String::from_utf8(decoded).map_err(|_| CredentialError::Malformed)?;
        let (username, password) = text.split_once(':').ok_or(CredentialError::Malformed)?;
        if username.is_empty() || password.is_empty() || text.chars().any(char::is_control) {
            return Err(CredentialError::Malformed);
        }
        Ok(Presented::Basic(BasicCredentials {
            username: username.to_owned(),
            password: password.to_owned(),
        }))
    } else {
        Err(CredentialError::UnsupportedScheme)
    }
}

/// RFC 7235 token68 characters, as a table: a bearer JWT is checked byte by
/// byte on every request, and the table is the cheapest test inside wasm
/// (issue 16).
const TOKEN68: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=');
        b += 1;
    }
    table
};

/// Whether `b` is an RFC 7235 token68 character.
fn is_token68(b: u8) -> bool {
    TOKEN68[usize::from(b)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token68_table_holds_exactly_the_rfc_7235_characters() {
        let expected: Vec<u8> = (b'0'..=b'9')
            .chain(b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .chain(*b"-._~+/=")
            .collect();
        let accepted: Vec<u8> = (0..=255u8).filter(|b| is_token68(*b)).collect();
        let mut expected = expected;
        expected.sort_unstable();
        assert_eq!(accepted, expected);
    }

    fn ex<'a>(headers: &'a [(&'a str, &'a str)]) -> Result<Presented<'a>, CredentialError> {
        extract(headers.iter().map(|(n, v)| (*n, v.as_bytes())))
    }

    fn basic(user_pass: &str) -> String {
        format!("Basic {}", STANDARD.encode(user_pass))
    }

    #[test]
    fn api_key_header_and_bearer_are_found() {
        assert_eq!(
            ex(&[("X-API-Key", "abc")]),
            Ok(Presented::ApiKeyHeader("abc"))
        );
        assert_eq!(
            ex(&[("authorization", "Bearer abc")]),
            Ok(Presented::Bearer("abc"))
        );
        assert_eq!(
            ex(&[("Authorization", "bearer  abc ")]),
            Ok(Presented::Bearer("abc"))
        );
        // Spaces around a value are the HTTP layer's; they are dropped.
        assert_eq!(
            ex(&[("X-API-Key", " abc ")]),
            Ok(Presented::ApiKeyHeader("abc"))
        );
    }

    #[test]
    fn duplicate_credential_headers_in_any_case_are_refused() {
        let cases: [&[(&str, &str)]; 3] = [
            &[("Authorization", "Bearer a"), ("authorization", "Bearer a")],
            &[("X-API-Key", "a"), ("x-api-key", "a")],
            &[("X-API-Key", "a"), ("Authorization", "Bearer a")],
        ];
        for headers in cases {
            assert_eq!(ex(headers), Err(CredentialError::Duplicate), "{headers:?}");
        }
    }

    #[test]
    fn missing_oversized_and_control_bytes_are_refused() {
        assert_eq!(ex(&[("Other", "x")]), Err(CredentialError::Missing));
        let long = "a".repeat(MAX_CREDENTIAL_LEN + 1);
        assert_eq!(ex(&[("X-API-Key", &long)]), Err(CredentialError::Oversized));
        for bad in [
            "a\rb", "a\nb", "a\0b", "a\tb", "ké", "", " ", "a b", " a  b ",
        ] {
            assert_eq!(
                ex(&[("X-API-Key", bad)]),
                Err(CredentialError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn unknown_schemes_and_spaces_inside_tokens_are_refused() {
        assert_eq!(
            ex(&[("Authorization", "Digest x")]),
            Err(CredentialError::UnsupportedScheme)
        );
        assert_eq!(
            ex(&[("Authorization", "Bearer a b")]),
            Err(CredentialError::Malformed)
        );
        assert_eq!(
            ex(&[("Authorization", "Bearer")]),
            Err(CredentialError::Malformed)
        );
        assert_eq!(
            ex(&[("Authorization", "Bearer a,b")]),
            Err(CredentialError::Malformed)
        );
    }

    #[test]
    fn basic_splits_at_the_first_colon() {
        let header = basic("svc:pass:word");
        match ex(&[("Authorization", &header)]) {
            Ok(Presented::Basic(b)) => {
                assert_eq!(b.username, "svc");
                assert_eq!(b.password, "pass:word");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn basic_edge_cases_are_refused() {
        let no_colon = basic("svcpassword");
        let empty_user = basic(":password");
        let empty_pass = basic("svc:");
        let control = basic("svc\n:password");
        let non_utf8 = format!("Basic {}", STANDARD.encode([0x73, 0xff, b':', b'p']));
        let unpadded = "Basic c3ZjOnA".to_owned();
        let bad_b64 = "Basic !!!!".to_owned();
        for header in [
            no_colon, empty_user, empty_pass, control, non_utf8, unpadded, bad_b64,
        ] {
            assert_eq!(
                ex(&[("Authorization", &header)]),
                Err(CredentialError::Malformed),
                "{header}"
            );
        }
    }

    #[test]
    fn basic_with_unicode_username_decodes() {
        let header = basic("dienst-ü:pw");
        assert!(
            matches!(ex(&[("Authorization", &header)]), Ok(Presented::Basic(b)) if b.username == "dienst-ü")
        );
    }
}
