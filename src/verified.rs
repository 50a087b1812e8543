//! The record of access tokens whose signature the authorizer has checked.
//!
//! Verifying an Ed25519 signature inside wasm costs more than a whole
//! hello-world request (docs/benchmarks.md). The first time a flow sees an
//! access token, the authorizer verifies it in full and writes what it
//! learned under a key derived from the token; later requests with the same
//! token read that entry instead of checking the signature again. Everything
//! else is checked on every request from the entry: expiry, revocation, the
//! flow being in scope, the method, and the certificate binding.
//!
//! - **Key**: `vtok/<HMAC>`, the pepper's HMAC of the token together with the
//!   issuer, the audience and both signing-key variables. A leaked store
//!   therefore holds nothing a caller could present, and a change of issuer
//!   or of either key puts every token back through full verification (a key
//!   that was dropped stops verifying at once).
//! - **Value**: an [`Entry`]: the claims the edge checks, and no secret.
//! - **Revocation**: `/oauth2/revoke` writes `revoked/<jti>`, then a
//!   revoked entry under the token's key. A first use that races with it
//!   re-reads `revoked/<jti>` after writing its entry and writes the revoked
//!   entry itself when it finds one, so either order ends revoked.
//!
//! Only the authorizer writes these keys, and only from a token it verified
//! (or is revoking); nothing here is taken from a caller unverified.

use serde::{Deserialize, Serialize};

use crate::hash::{Domain, Pepper};
use crate::store::keys;
use crate::token::{AccessClaims, AccessToken, Confirmation, LEEWAY_SECONDS};

/// What decides whether an entry still applies: the token's issuer and
/// audience and the text of both signing-key variables. Entries written
/// under another configuration are never found.
pub struct Keyring<'a> {
    /// Our issuer.
    pub issuer: &'a str,
    /// Our audience.
    pub audience: &'a str,
    /// The `signing_key` variable as read.
    pub current: &'a str,
    /// The `signing_key_previous` variable as read (may be empty).
    pub previous: &'a str,
}

/// The store key of `token`'s entry under `keyring`.
pub fn key(pepper: &Pepper, keyring: &Keyring<'_>, token: &str) -> String {
    // Each part is length-prefixed, so no two different inputs share bytes.
    let mut input = String::with_capacity(token.len() + 256);
    for part in [
        keyring.issuer,
        keyring.audience,
        keyring.current.trim(),
        keyring.previous.trim(),
        token,
    ] {
        input.push_str(&part.len().to_string());
        input.push(':');
        input.push_str(part);
    }
    let digest = pepper.digest(Domain::VerifiedToken, &input);
    keys::verified_key(&digest.encode())
}

/// What the edge needs of a verified token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `sub`: the account id.
    pub sub: String,
    /// `jti`.
    pub jti: String,
    /// `iat`.
    pub iat: u64,
    /// `exp`.
    pub exp: u64,
    /// Space-separated flow ids.
    pub scope: String,
    /// Thumbprint of the bound certificate, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x5t: Option<String>,
    /// The token was revoked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
}

/// Why an entry does not let a request through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// Revoked through `/oauth2/revoke`.
    #[error("access token revoked")]
    Revoked,
    /// Past `exp` (with the same leeway as full verification).
    #[error("access token expired")]
    Expired,
    /// Not a readable entry.
    #[error("verified-token entry unreadable")]
    Unreadable,
}

impl Entry {
    /// The entry of a token that passed full verification.
    pub fn verified(token: &AccessToken) -> Self {
        Self {
            sub: token.subject.clone(),
            jti: token.id.clone(),
            iat: token.issued_at,
            exp: token.expires_at,
            scope: token.claims.scope.clone(),
            x5t: token.claims.cnf.as_ref().map(|c| c.x5t_s256.clone()),
            revoked: false,
        }
    }

    /// The entry that marks `token` revoked; kept until it expires.
    pub fn revoked(token: &AccessToken) -> Self {
        Self {
            revoked: true,
            ..Self::verified(token)
        }
    }

    /// The stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain strings and numbers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The token an entry read from the store stands for, if it still
    /// applies at `now`: not revoked and not expired. The caller checks
    /// scope, method and certificate binding as for a verified token.
    pub fn check(bytes: &[u8], now: u64) -> Result<AccessToken, EntryError> {
        let entry: Entry = serde_json::from_slice(bytes).map_err(|_| EntryError::Unreadable)?;
        if entry.revoked {
            return Err(EntryError::Revoked);
        }
        // Full verification accepts `exp` up to the leeway in the past; a
        // token must not change its answer with the state of this record.
        if now > entry.exp.saturating_add(LEEWAY_SECONDS) {
            return Err(EntryError::Expired);
        }
        Ok(AccessToken {
            claims: AccessClaims {
                client_id: entry.sub.clone(),
                scope: entry.scope,
                cnf: entry.x5t.map(|x5t_s256| Confirmation { x5t_s256 }),
            },
            subject: entry.sub,
            id: entry.jti,
            issued_at: entry.iat,
            expires_at: entry.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pepper() -> Pepper {
        Pepper::from_variable(&"ab".repeat(32)).expect("pepper")
    }

    fn ring<'a>(current: &'a str, previous: &'a str) -> Keyring<'a> {
        Keyring {
            issuer: "https://auth.example",
            audience: "https://auth.example/flows",
            current,
            previous,
        }
    }

    fn token(cnf: Option<&str>) -> AccessToken {
        AccessToken {
            subject: "acct1".into(),
            id: "jti1".into(),
            issued_at: 1_000,
            expires_at: 1_300,
            claims: AccessClaims {
                client_id: "acct1".into(),
                scope: "orders reports".into(),
                cnf: cnf.map(|x| Confirmation { x5t_s256: x.into() }),
            },
        }
    }

    #[test]
    fn the_key_changes_with_the_token_and_every_part_of_the_keyring() {
        let p = pepper();
        let base = key(&p, &ring("k1", ""), "a.b.c");
        assert!(base.starts_with(keys::VERIFIED_PREFIX));
        assert_eq!(base, key(&p, &ring("k1", ""), "a.b.c"), "deterministic");
        assert_ne!(base, key(&p, &ring("k1", ""), "a.b.d"));
        assert_ne!(base, key(&p, &ring("k2", ""), "a.b.c"));
        assert_ne!(base, key(&p, &ring("k1", "k0"), "a.b.c"));
        let mut other_issuer = ring("k1", "");
        other_issuer.issuer = "https://other.example";
        assert_ne!(base, key(&p, &other_issuer, "a.b.c"));
        let other_pepper = Pepper::from_variable(&"cd".repeat(32)).expect("pepper");
        assert_ne!(base, key(&other_pepper, &ring("k1", ""), "a.b.c"));
        // Moving bytes between parts gives another key (length prefixes).
        assert_ne!(
            key(&p, &ring("k1", "x"), "a.b.c"),
            key(&p, &ring("k1x", ""), "a.b.c")
        );
        // Neither the token nor the key material appears in the key.
        assert!(!base.contains("a.b.c") && !base.contains("k1"));
    }

    #[test]
    fn an_entry_gives_back_the_claims_the_edge_checks() {
        let t = token(Some("thumb"));
        let bytes = Entry::verified(&t).to_bytes();
        assert_eq!(Entry::check(&bytes, 1_100), Ok(t.clone()));
        let plain = token(None);
        assert_eq!(
            Entry::check(&Entry::verified(&plain).to_bytes(), 1_100),
            Ok(plain)
        );
    }

    #[test]
    fn expiry_uses_the_same_leeway_as_full_verification() {
        let bytes = Entry::verified(&token(None)).to_bytes();
        assert!(Entry::check(&bytes, 1_300 + LEEWAY_SECONDS).is_ok());
        assert_eq!(
            Entry::check(&bytes, 1_301 + LEEWAY_SECONDS),
            Err(EntryError::Expired)
        );
    }

    #[test]
    fn a_revoked_or_unreadable_entry_refuses() {
        let revoked = Entry::revoked(&token(None)).to_bytes();
        assert_eq!(Entry::check(&revoked, 1_100), Err(EntryError::Revoked));
        assert_eq!(Entry::check(b"{}", 1_100), Err(EntryError::Unreadable));
        assert_eq!(Entry::check(b"\xff", 1_100), Err(EntryError::Unreadable));
    }
}
