//! The format of every secret flowgate generates.
//!
//! `<prefix>_<account id>_<body><check>`, for example
//! `fgak_k7q2m4x9p3t5w6ab_<32 base32 chars><8 base32 chars>`:
//!
//! - the prefix names the kind, so secret scanners can find leaked values and a
//!   value presented in the wrong place is refused at once;
//! - the account id lets the authorizer read exactly one record per request;
//! - the body is 160 bits from a CSPRNG;
//! - the check is 40 bits of SHA-256 over everything before it, so mistyped or
//!   truncated values are refused without touching the store.
//!
//! Only the HMAC of the whole string is ever stored (see [`crate::hash`]).

use sha2::{Digest as _, Sha256};

use crate::encoding::{base32, is_base32};
use crate::env::Random;

/// Length of an account id: 10 random bytes in base32.
pub const ID_LEN: usize = 16;
const BODY_BYTES: usize = 20;
const BODY_LEN: usize = 32;
const CHECK_LEN: usize = 8;
const PREFIX_LEN: usize = 4;
/// Length of every generated secret.
pub const SECRET_LEN: usize = PREFIX_LEN + 1 + ID_LEN + 1 + BODY_LEN + CHECK_LEN;

/// What a secret is for. Each kind is accepted only where it belongs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// An `api_key` account's key (`X-API-Key` or `Authorization: Bearer`).
    ApiKey,
    /// A `basic` account's password.
    BasicPassword,
    /// An OAuth client secret, accepted only at the token endpoint.
    ClientSecret,
    /// A named API token of any account but a poller (`Authorization: Bearer`).
    ApiToken,
}

impl SecretKind {
    /// The prefix that marks this kind.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::ApiKey => "fgak",
            Self::BasicPassword => "fgpw",
            Self::ClientSecret => "fgcs",
            Self::ApiToken => "fgtk",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        [
            Self::ApiKey,
            Self::BasicPassword,
            Self::ClientSecret,
            Self::ApiToken,
        ]
        .into_iter()
        .find(|kind| kind.prefix() == prefix)
    }
}

/// Why a presented value is not a well-formed secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The value has the wrong length or shape.
    #[error("malformed secret")]
    Malformed,
    /// The prefix names no kind of secret.
    #[error("unknown secret prefix")]
    UnknownPrefix,
    /// The checksum does not match: a typo or a made-up value.
    #[error("secret checksum mismatch")]
    Checksum,
}

/// A secret whose shape and checksum were verified. It borrows the presented
/// string, which is what gets hashed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParsedSecret<'a> {
    kind: SecretKind,
    text: &'a str,
}

impl std::fmt::Debug for ParsedSecret<'_> {
    // Never print the secret, not even in a debug log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedSecret")
            .field("kind", &self.kind)
            .field("account", &self.account_id())
            .finish_non_exhaustive()
    }
}

impl<'a> ParsedSecret<'a> {
    /// Checks the shape and checksum of `text`. Cheap, and reads no store.
    pub fn parse(text: &'a str) -> Result<Self, SecretError> {
        if text.len() != SECRET_LEN || !text.is_ascii() {
            return Err(SecretError::Malformed);
        }
        let (prefix, rest) = text.split_at(PREFIX_LEN);
        let kind = SecretKind::from_prefix(prefix).ok_or(SecretError::UnknownPrefix)?;
        let rest = rest.strip_prefix('_').ok_or(SecretError::Malformed)?;
        let (id, rest) = rest.split_at(ID_LEN);
        let rest = rest.strip_prefix('_').ok_or(SecretError::Malformed)?;
        if !is_base32(id) || !is_base32(rest) {
            return Err(SecretError::Malformed);
        }
        let (signed, check) = text.split_at(SECRET_LEN - CHECK_LEN);
        if checksum(signed) != check {
            return Err(SecretError::Checksum);
        }
        Ok(Self { kind, text })
    }

    /// The kind named by the prefix.
    pub fn kind(&self) -> SecretKind {
        self.kind
    }

    /// The account the secret claims to belong to (not yet verified).
    pub fn account_id(&self) -> &'a str {
        &self.text[PREFIX_LEN + 1..PREFIX_LEN + 1 + ID_LEN]
    }

    /// The whole presented value, for hashing.
    pub fn expose(&self) -> &'a str {
        self.text
    }
}

/// A freshly generated secret, to be shown once and then dropped.
pub struct NewSecret(String);

impl std::fmt::Debug for NewSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewSecret(..)")
    }
}

impl NewSecret {
    /// Generates a secret of `kind` for `account_id`.
    pub fn generate(kind: SecretKind, account_id: &str, random: &dyn Random) -> Self {
        let mut body = [0u8; BODY_BYTES];
        random.fill(&mut body);
        let signed = format!("{}_{}_{}", kind.prefix(), account_id, base32(&body));
        let check = checksum(&signed);
        Self(signed + &check)
    }

    /// The plaintext, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Gives up the plaintext.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Generates a fresh random identifier (accounts, tokens).
pub fn generate_id(random: &dyn Random) -> String {
    let mut bytes = [0u8; ID_LEN * 5 / 8];
    random.fill(&mut bytes);
    base32(&bytes)
}

/// Whether `id` has the shape of a generated identifier.
pub fn is_id(id: &str) -> bool {
    id.len() == ID_LEN && is_base32(id)
}

fn checksum(signed: &str) -> String {
    let digest = Sha256::digest(signed.as_bytes());
    let mut check = base32(&digest[..5]);
    check.truncate(CHECK_LEN);
    check
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::cell::Cell;

    /// A deterministic random source for tests: a counter, never for production.
    pub(crate) struct CountingRandom(pub Cell<u8>);

    impl Random for CountingRandom {
        fn fill(&self, buf: &mut [u8]) {
            for b in buf {
                let next = self.0.get().wrapping_add(1);
                self.0.set(next);
                *b = next.wrapping_mul(151);
            }
        }
    }

    fn sample(kind: SecretKind) -> String {
        let random = CountingRandom(Cell::new(0));
        let id = generate_id(&random);
        NewSecret::generate(kind, &id, &random).into_string()
    }

    #[test]
    fn generated_secret_parses_with_its_kind_and_account() {
        let random = CountingRandom(Cell::new(0));
        let id = generate_id(&random);
        for kind in [
            SecretKind::ApiKey,
            SecretKind::BasicPassword,
            SecretKind::ClientSecret,
            SecretKind::ApiToken,
        ] {
            let secret = NewSecret::generate(kind, &id, &random);
            let parsed = ParsedSecret::parse(secret.expose()).expect("generated secret parses");
            assert_eq!(parsed.kind(), kind);
            assert_eq!(parsed.account_id(), id);
            assert!(secret.expose().starts_with(kind.prefix()));
            assert_eq!(secret.expose().len(), SECRET_LEN);
        }
    }

    #[test]
    fn every_single_character_typo_is_rejected_before_any_lookup() {
        let secret = sample(SecretKind::ApiKey);
        for i in 0..secret.len() {
            for replacement in ['a', 'q', '7', '_'] {
                let mut typo = secret.clone().into_bytes();
                if typo[i] == replacement as u8 {
                    continue;
                }
                typo[i] = replacement as u8;
                let typo = String::from_utf8(typo).expect("ascii");
                assert!(
                    ParsedSecret::parse(&typo).is_err(),
                    "typo at {i} with {replacement:?} was accepted"
                );
            }
        }
    }

    #[test]
    fn truncated_extended_and_foreign_values_are_rejected() {
        let secret = sample(SecretKind::ApiToken);
        assert_eq!(
            ParsedSecret::parse(&secret[..secret.len() - 1]),
            Err(SecretError::Malformed)
        );
        assert_eq!(
            ParsedSecret::parse(&(secret.clone() + "a")),
            Err(SecretError::Malformed)
        );
        let foreign = format!("ghp_{}", &secret[4..]);
        assert_eq!(
            ParsedSecret::parse(&foreign),
            Err(SecretError::UnknownPrefix)
        );
        assert!(ParsedSecret::parse("").is_err());
        let unicode = "é".repeat(SECRET_LEN / 2);
        assert_eq!(ParsedSecret::parse(&unicode), Err(SecretError::Malformed));
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let secret = sample(SecretKind::BasicPassword);
        let parsed = ParsedSecret::parse(&secret).expect("parses");
        let shown = format!("{parsed:?}");
        assert!(!shown.contains(&secret[22..]), "{shown}");
        let random = CountingRandom(Cell::new(9));
        let new = NewSecret::generate(SecretKind::ApiKey, "aaaaaaaaaaaaaaaa", &random);
        assert_eq!(format!("{new:?}"), "NewSecret(..)");
    }
}
