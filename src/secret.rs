//! The format of every secret flowgate generates.
//!
//! `<prefix>_<account id>_<body><tag><check>`, for example
//! `fgak_k7q2m4x9p3t5w6ab_<32 base32 chars><8 base32 chars><8 base32 chars>`:
//!
//! - the prefix names the kind, so secret scanners can find leaked values and a
//!   value presented in the wrong place is refused at once;
//! - the account id lets the authorizer read exactly one record per request;
//! - the body is 160 bits from a CSPRNG;
//! - the tag is 40 bits of the HMAC under the pepper ([`Domain::SecretTag`])
//!   of everything before it: only flowgate can make a value whose tag holds,
//!   so a made-up value is refused before the store is read, and a flood of
//!   them costs the authorizer less than the requests it lets through
//!   (issue 16, docs/decisions.md "Secrets carry a keyed tag");
//! - the check is 40 bits of SHA-256 over everything before it, so mistyped or
//!   truncated values are refused without touching the store, and anyone (a
//!   secret scanner, the CLI) can tell a well-formed value without the pepper.
//!
//! Secrets issued before the tag (62 characters: no tag) still parse
//! ([`ParsedSecret::is_tagged`]); whether they are accepted is the
//! deployment's choice (`untagged_secrets`, [`Untagged`]).
//!
//! Only the HMAC of the whole string is ever stored (see [`crate::hash`]).

use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::encoding::{base32, is_base32};
use crate::env::Random;
use crate::hash::{Domain, Pepper};

/// Length of an account id: 10 random bytes in base32.
pub const ID_LEN: usize = 16;
const BODY_BYTES: usize = 20;
const BODY_LEN: usize = 32;
const TAG_LEN: usize = 8;
const CHECK_LEN: usize = 8;
const PREFIX_LEN: usize = 4;
/// Length of a secret issued before the keyed tag (no tag).
pub const UNTAGGED_LEN: usize = PREFIX_LEN + 1 + ID_LEN + 1 + BODY_LEN + CHECK_LEN;
/// Length of every generated secret.
pub const SECRET_LEN: usize = UNTAGGED_LEN + TAG_LEN;
/// Name of the component variable that says whether secrets issued before the
/// keyed tag are still accepted ([`Untagged`]).
pub const UNTAGGED_VARIABLE: &str = "untagged_secrets";

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
    /// Well-formed, but its keyed tag was not made with this deployment's
    /// pepper: made up (or issued under another pepper). Found before any
    /// store read.
    #[error("secret tag mismatch")]
    Tag,
    /// A secret issued before the keyed tag, where `untagged_secrets` does
    /// not accept those. Found before any store read.
    #[error("untagged secret refused (untagged_secrets)")]
    Untagged,
}

/// Whether secrets issued before the keyed tag are accepted: the
/// `untagged_secrets` variable, `accept` or `refuse`. Only `accept` accepts;
/// anything else, or no such variable, refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Untagged {
    /// Untagged secrets go on to the store like any other (a store upgraded
    /// from before the tag, until every credential of then has been reset).
    Accept,
    /// Untagged secrets are refused before the store is read.
    Refuse,
}

impl Untagged {
    /// The policy the variable's text names; `None` (unreadable) refuses.
    pub fn from_variable(text: Option<&str>) -> Self {
        match text.map(str::trim) {
            Some("accept") => Self::Accept,
            _ => Self::Refuse,
        }
    }
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
    /// The keyed tag is checked by [`Self::admit`], which needs the pepper.
    pub fn parse(text: &'a str) -> Result<Self, SecretError> {
        if (text.len() != SECRET_LEN && text.len() != UNTAGGED_LEN) || !text.is_ascii() {
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
        let (signed, check) = text.split_at(text.len() - CHECK_LEN);
        if checksum(signed) != check {
            return Err(SecretError::Checksum);
        }
        Ok(Self { kind, text })
    }

    /// Whether the value carries the keyed tag (issued since issue 16).
    pub fn is_tagged(&self) -> bool {
        self.text.len() == SECRET_LEN
    }

    /// Whether this value may go on to the store: its tag holds under
    /// `pepper` (compared in constant time), or it is an untagged secret of
    /// before the tag and `untagged` accepts those. `untagged` is asked only
    /// for an untagged value, so the variable behind it is read only then.
    /// Every credential path calls this before it reads the account: a value
    /// refused here never costs a store read.
    pub fn admit(
        &self,
        pepper: &Pepper,
        untagged: impl FnOnce() -> Untagged,
    ) -> Result<(), SecretError> {
        if !self.is_tagged() {
            return match untagged() {
                Untagged::Accept => Ok(()),
                Untagged::Refuse => Err(SecretError::Untagged),
            };
        }
        let end = SECRET_LEN - CHECK_LEN;
        let (signed, tag) = self.text[..end].split_at(end - TAG_LEN);
        if bool::from(keyed_tag(pepper, signed).as_bytes().ct_eq(tag.as_bytes())) {
            Ok(())
        } else {
            Err(SecretError::Tag)
        }
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
    /// Generates a secret of `kind` for `account_id`, tagged under `pepper`.
    pub fn generate(
        kind: SecretKind,
        account_id: &str,
        random: &dyn Random,
        pepper: &Pepper,
    ) -> Self {
        let mut body = [0u8; BODY_BYTES];
        random.fill(&mut body);
        let mut text = format!("{}_{}_{}", kind.prefix(), account_id, base32(&body));
        let tag = keyed_tag(pepper, &text);
        text.push_str(&tag);
        let check = checksum(&text);
        Self(text + &check)
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

/// The keyed tag of `signed` (prefix, id and body): 40 bits of its HMAC
/// under the pepper, in base32.
fn keyed_tag(pepper: &Pepper, signed: &str) -> String {
    let digest = pepper.digest(Domain::SecretTag, signed);
    let mut tag = base32(&digest.as_bytes()[..5]);
    tag.truncate(TAG_LEN);
    tag
}

/// The public checksum of `signed` (everything before it): 40 bits of its
/// SHA-256 in base32. No key: anyone can compute it, and that is its use.
pub fn checksum(signed: &str) -> String {
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

    fn pepper() -> Pepper {
        Pepper::from_variable(&"ab".repeat(32)).expect("pepper")
    }

    /// `text` with its last `CHECK_LEN` characters made the public checksum
    /// of the rest again: what anyone can do without the pepper.
    fn rechecked(text: &str) -> String {
        let signed = &text[..text.len() - CHECK_LEN];
        format!("{signed}{}", checksum(signed))
    }

    fn sample(kind: SecretKind) -> String {
        let random = CountingRandom(Cell::new(0));
        let id = generate_id(&random);
        NewSecret::generate(kind, &id, &random, &pepper()).into_string()
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
            let secret = NewSecret::generate(kind, &id, &random, &pepper());
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
        let new = NewSecret::generate(SecretKind::ApiKey, "aaaaaaaaaaaaaaaa", &random, &pepper());
        assert_eq!(format!("{new:?}"), "NewSecret(..)");
    }

    #[test]
    fn a_generated_secret_is_admitted_under_its_pepper_only() {
        let secret = sample(SecretKind::ApiKey);
        let parsed = ParsedSecret::parse(&secret).expect("parses");
        assert!(parsed.is_tagged());
        let never = || -> Untagged { panic!("the policy is asked only for untagged values") };
        assert_eq!(parsed.admit(&pepper(), never), Ok(()));
        let other = Pepper::from_variable(&"cd".repeat(32)).expect("pepper");
        assert_eq!(parsed.admit(&other, never), Err(SecretError::Tag));
    }

    #[test]
    fn a_made_up_value_with_a_valid_checksum_is_refused_by_its_tag() {
        // Anyone can compute the public checksum; only the pepper makes a tag.
        let secret = sample(SecretKind::ApiToken);
        let end = SECRET_LEN - CHECK_LEN;
        for i in [PREFIX_LEN + 1 + ID_LEN + 1, end - TAG_LEN, end - 1] {
            let mut bytes = secret.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let forged = rechecked(&String::from_utf8(bytes).expect("ascii"));
            let parsed = ParsedSecret::parse(&forged).expect("well-formed, valid checksum");
            assert_eq!(
                parsed.admit(&pepper(), || Untagged::Accept),
                Err(SecretError::Tag),
                "changed at {i}"
            );
        }
    }

    #[test]
    fn an_untagged_secret_of_before_the_tag_follows_the_policy() {
        // The 62-character form issued before the tag: body, then checksum.
        let tagged = sample(SecretKind::BasicPassword);
        let end = SECRET_LEN - CHECK_LEN;
        let untagged = rechecked(&format!(
            "{}{}",
            &tagged[..end - TAG_LEN],
            "x".repeat(CHECK_LEN)
        ));
        assert_eq!(untagged.len(), UNTAGGED_LEN);
        let parsed = ParsedSecret::parse(&untagged).expect("the old form still parses");
        assert!(!parsed.is_tagged());
        assert_eq!(parsed.kind(), SecretKind::BasicPassword);
        assert_eq!(parsed.admit(&pepper(), || Untagged::Accept), Ok(()));
        assert_eq!(
            parsed.admit(&pepper(), || Untagged::Refuse),
            Err(SecretError::Untagged)
        );
        // The old form with a broken checksum is refused at parse, as before.
        let mut broken = untagged.into_bytes();
        broken[UNTAGGED_LEN - 1] = if broken[UNTAGGED_LEN - 1] == b'a' {
            b'b'
        } else {
            b'a'
        };
        let broken = String::from_utf8(broken).expect("ascii");
        assert_eq!(ParsedSecret::parse(&broken), Err(SecretError::Checksum));
    }

    #[test]
    fn only_accept_accepts_untagged_secrets() {
        assert_eq!(Untagged::from_variable(Some("accept")), Untagged::Accept);
        assert_eq!(Untagged::from_variable(Some(" accept\n")), Untagged::Accept);
        for other in [Some("refuse"), Some(""), Some("ACCEPT"), Some("yes"), None] {
            assert_eq!(
                Untagged::from_variable(other),
                Untagged::Refuse,
                "{other:?}"
            );
        }
    }
}
