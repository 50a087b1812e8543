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
//! - **Key**: `vtok/<HMAC>`, the HMAC of the token together with the
//!   issuer and the audience, keyed by the text of the `signing_key`
//!   variable. A leaked store therefore holds nothing a caller could
//!   present, and a change of issuer or of the current key puts every token
//!   back through full verification. A token that only the previous key
//!   verifies carries, in its entry, a keyed digest of the
//!   `signing_key_previous` text, compared on every use; a previous key that
//!   was dropped or replaced stops its tokens at once. The bearer path thus
//!   reads one key variable, and the other only for the previous key's
//!   tokens (issue 16: each variable read costs about 2.5 % of a one-read
//!   request on Spin 4.0.2, docs/benchmarks.md).
//! - **Value**: an [`Entry`]: the claims the edge checks, and no secret.
//! - **Revocation**: `/oauth2/revoke` writes `revoked/<jti>`, then a
//!   revoked entry under the token's key. A first use that races with it
//!   re-reads `revoked/<jti>` after writing its entry and writes the revoked
//!   entry itself when it finds one, so either order ends revoked.
//! - **Expiry index**: every record written here (`vtok/`, `revoked/`) is
//!   filed in the expiry index (`crate::store::expiry`) before it is
//!   written, so pruning finds it without listing keys (issue 16).
//!
//! Only the authorizer writes these keys, and only from a token it verified
//! (or is revoking); nothing here is taken from a caller unverified.

use serde::{Deserialize, Serialize};

use crate::hash::{Domain, Pepper};
use crate::store::keys::{self, revoked_key};
use crate::store::{Store, StoreError, expiry};
use crate::token::{AccessClaims, AccessToken, Confirmation, LEEWAY_SECONDS};

/// What decides whether an entry still applies: the token's issuer and
/// audience and the text of the `signing_key` variable, which also keys the
/// HMAC. Entries written under another configuration are never found. A
/// token signed by the previous key is bound to that key's text through its
/// entry instead ([`Keyring::previous_binding`], [`Seen::ByPrevious`]), so
/// a request with a token of the current key reads one key variable.
pub struct Keyring<'a> {
    /// Our issuer.
    pub issuer: &'a str,
    /// Our audience.
    pub audience: &'a str,
    /// The `signing_key` variable as read.
    pub current: &'a str,
}

impl Keyring<'_> {
    /// The HMAC key of this keyring's digests: the current signing key's
    /// text (the `signing_key` variable is as secret as the pepper).
    fn mac(&self) -> Pepper {
        Pepper::from_secret_text(self.current)
    }

    /// What an entry of a token signed by the previous key holds to bind it
    /// to `previous` (the `signing_key_previous` variable as read): a keyed
    /// digest, never the text. A lookup compares it with the variable's
    /// text of the day, so dropping or replacing the previous key stops its
    /// tokens at once.
    pub fn previous_binding(&self, previous: &str) -> String {
        let value = format!("previous:{}", previous.trim());
        self.mac().digest(Domain::VerifiedToken, &value).encode()
    }
}

/// The store key of `token`'s entry under `keyring`.
pub fn key(keyring: &Keyring<'_>, token: &str) -> String {
    // Each part is length-prefixed, so no two different inputs share bytes.
    let mut input = String::with_capacity(token.len() + 128);
    for part in [keyring.issuer, keyring.audience, token] {
        input.push_str(&part.len().to_string());
        input.push(':');
        input.push_str(part);
    }
    let digest = keyring.mac().digest(Domain::VerifiedToken, &input);
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
    /// Set when the previous signing key verified the token: its
    /// [`Keyring::previous_binding`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
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
            previous: None,
        }
    }

    /// The entry of a token that passed full verification with the
    /// previous key, bound to it by `binding`.
    pub fn verified_by_previous(token: &AccessToken, binding: String) -> Self {
        Self {
            previous: Some(binding),
            ..Self::verified(token)
        }
    }

    /// The entry that marks `token` revoked; kept until it expires. It
    /// refuses whatever the keys, so it carries no binding.
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
    /// applies at `now`: not revoked and not expired, with the previous
    /// key's binding if it has one. The caller checks that binding, then
    /// scope, method and certificate binding as for a verified token.
    pub fn check(bytes: &[u8], now: u64) -> Result<(AccessToken, Option<String>), EntryError> {
        let entry: Entry = serde_json::from_slice(bytes).map_err(|_| EntryError::Unreadable)?;
        if entry.revoked {
            return Err(EntryError::Revoked);
        }
        // Full verification accepts `exp` up to the leeway in the past; a
        // token must not change its answer with the state of this record.
        if now > entry.exp.saturating_add(LEEWAY_SECONDS) {
            return Err(EntryError::Expired);
        }
        let token = AccessToken {
            claims: AccessClaims {
                client_id: entry.sub.clone(),
                scope: entry.scope,
                cnf: entry.x5t.map(|x5t_s256| Confirmation { x5t_s256 }),
            },
            subject: entry.sub,
            id: entry.jti,
            issued_at: entry.iat,
            expires_at: entry.exp,
        };
        Ok((token, entry.previous))
    }
}

/// What the store says of a token, before any signature check.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen {
    /// A full verification with the current key recorded it and it still
    /// applies.
    Verified(AccessToken),
    /// A full verification with the previous key recorded it and it still
    /// applies if the previous key is still the one of the binding: the
    /// caller reads `signing_key_previous`, compares
    /// [`Keyring::previous_binding`] of it with the binding, and treats the
    /// token as [`Seen::New`] when they differ.
    ByPrevious(AccessToken, String),
    /// Recorded, but revoked or expired: refuse without verifying.
    Refused(EntryError),
    /// Never recorded (or the record is unreadable): verify in full.
    New,
}

/// Reads `token`'s entry under `key` (one read).
pub fn lookup<S: Store + ?Sized>(store: &S, key: &str, now: u64) -> Result<Seen, StoreError> {
    Ok(
        match store.get(key)?.map(|bytes| Entry::check(&bytes, now)) {
            Some(Ok((token, None))) => Seen::Verified(token),
            Some(Ok((token, Some(binding)))) => Seen::ByPrevious(token, binding),
            Some(Err(e @ (EntryError::Revoked | EntryError::Expired))) => Seen::Refused(e),
            None | Some(Err(EntryError::Unreadable)) => Seen::New,
        },
    )
}

/// Why the first use of a token does not go through.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FirstUseError<E> {
    /// Full verification refused the token (`401`).
    #[error("{0}")]
    Invalid(E),
    /// `revoked/<jti>` exists (`401`).
    #[error("access token revoked")]
    Revoked,
    /// The store failed where failing open would be unsafe (`503`).
    #[error("{0}")]
    Store(StoreError),
}

/// The first use of a token not seen before: `verify` checks it in full
/// and says, for a token the previous key verified, that key's binding; a
/// revoked `jti` is refused, then the entry is filed in the expiry index
/// (at `now`) and written under `key`. After writing, `revoked/<jti>` is
/// read again: a revocation that ran meanwhile may have been overwritten by
/// this entry, and is then written back, so either order ends revoked. The
/// returned warning, if any, says that the entry could not be filed or
/// written; an entry that could not be filed is not written, so no record
/// escapes pruning (the token is valid; only the saving for next time is
/// lost).
pub fn first_use<S, E>(
    store: &S,
    key: &str,
    now: u64,
    verify: impl FnOnce() -> Result<(AccessToken, Option<String>), E>,
) -> Result<(AccessToken, Option<StoreError>), FirstUseError<E>>
where
    S: Store,
{
    let (token, previous) = verify().map_err(FirstUseError::Invalid)?;
    let marker = revoked_key(&token.id);
    let is_revoked = || {
        store
            .get(&marker)
            .map(|r| r.is_some())
            .map_err(FirstUseError::Store)
    };
    if is_revoked()? {
        return Err(FirstUseError::Revoked);
    }
    if let Err(e) = expiry::schedule(store, key, token.expires_at, now) {
        return Ok((token, Some(e)));
    }
    let entry = match previous {
        None => Entry::verified(&token),
        Some(binding) => Entry::verified_by_previous(&token, binding),
    };
    if let Err(e) = store.set(key, &entry.to_bytes()) {
        return Ok((token, Some(e)));
    }
    if is_revoked()? {
        // Fail closed: without the revoked entry this token could pass
        // later; the caller answers 503 and the retry finds the marker
        // before writing anything.
        store
            .set(key, &Entry::revoked(&token).to_bytes())
            .map_err(FirstUseError::Store)?;
        return Err(FirstUseError::Revoked);
    }
    Ok((token, None))
}

/// Revokes `token` (`/oauth2/revoke`): `revoked/<jti>` first, kept until
/// the token expires, then a revoked entry under its `key`, so that a first
/// use racing with this finds one or the other. Both are filed in the expiry
/// index first (at `now`); a filing that fails is returned as a warning and
/// both are written anyway: a record missed by the index is kept too long,
/// a revocation not written would let the token through.
pub fn revoke<S: Store>(
    store: &S,
    key: &str,
    token: &AccessToken,
    now: u64,
) -> Result<Option<String>, StoreError> {
    let marker = revoked_key(&token.id);
    let warning = expiry::schedule_or_report(store, &[&marker, key], token.expires_at, now);
    store.set(&marker, token.expires_at.to_string().as_bytes())?;
    store.set(key, &Entry::revoked(token).to_bytes())?;
    Ok(warning)
}

/// Whether `token` has been revoked (`revoked/<jti>` exists).
pub fn is_revoked<S: Store + ?Sized>(store: &S, token: &AccessToken) -> Result<bool, StoreError> {
    Ok(store.get(&revoked_key(&token.id))?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(current: &str) -> Keyring<'_> {
        Keyring {
            issuer: "https://auth.example",
            audience: "https://auth.example/flows",
            current,
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
        let base = key(&ring("k1"), "a.b.c");
        assert!(base.starts_with(keys::VERIFIED_PREFIX));
        assert_eq!(base, key(&ring("k1"), "a.b.c"), "deterministic");
        assert_eq!(base, key(&ring(" k1\n"), "a.b.c"), "the text is trimmed");
        assert_ne!(base, key(&ring("k1"), "a.b.d"));
        assert_ne!(base, key(&ring("k2"), "a.b.c"));
        let mut other_issuer = ring("k1");
        other_issuer.issuer = "https://other.example";
        assert_ne!(base, key(&other_issuer, "a.b.c"));
        let mut other_audience = ring("k1");
        other_audience.audience = "https://auth.example/other";
        assert_ne!(base, key(&other_audience, "a.b.c"));
        // Moving bytes between parts gives another key (length prefixes).
        let mut moved = ring("k1");
        moved.audience = "https://auth.example/flowsa.b";
        assert_ne!(key(&moved, ".c"), base);
        // Neither the token nor the key material appears in the key.
        assert!(!base.contains("a.b.c") && !base.contains("k1"));
    }

    #[test]
    fn the_previous_binding_is_keyed_by_the_current_key_and_names_the_previous() {
        let b = ring("k1").previous_binding("k0");
        assert_eq!(b, ring("k1").previous_binding(" k0 "), "trimmed");
        assert_ne!(b, ring("k1").previous_binding("k9"));
        assert_ne!(b, ring("k1").previous_binding(""));
        assert_ne!(b, ring("k2").previous_binding("k0"));
        assert!(!b.contains("k0") && !b.contains("k1"));
        // Another digest than any record key of the same keyring.
        assert_ne!(keys::verified_key(&b), key(&ring("k1"), "k0"));
    }

    #[test]
    fn an_entry_gives_back_the_claims_the_edge_checks() {
        let t = token(Some("thumb"));
        let bytes = Entry::verified(&t).to_bytes();
        assert_eq!(Entry::check(&bytes, 1_100), Ok((t.clone(), None)));
        let plain = token(None);
        assert_eq!(
            Entry::check(&Entry::verified(&plain).to_bytes(), 1_100),
            Ok((plain.clone(), None))
        );
        let by_previous = Entry::verified_by_previous(&plain, "b".into()).to_bytes();
        assert_eq!(
            Entry::check(&by_previous, 1_100),
            Ok((plain, Some("b".into())))
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

    /// What a [`Racing`] store runs between a write and the next read.
    type Between<'a> = Box<dyn FnOnce(&crate::store::MemoryStore) + 'a>;

    /// A store that runs `between` once, right after the first `set` of a
    /// `vtok/` key: a revocation landing between a first use's write of its
    /// entry and its re-read.
    struct Racing<'a> {
        inner: crate::store::MemoryStore,
        between: std::cell::Cell<Option<Between<'a>>>,
    }

    impl Store for Racing<'_> {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.get(key)
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
            self.inner.set(key, value)?;
            if key.starts_with(keys::VERIFIED_PREFIX)
                && let Some(f) = self.between.take()
            {
                f(&self.inner);
            }
            Ok(())
        }
        fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.inner.delete(key)
        }
        fn keys(&self) -> Result<Vec<String>, StoreError> {
            self.inner.keys()
        }
        fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
            self.inner.increment(key, delta)
        }
    }

    #[test]
    fn first_use_records_the_token_and_later_lookups_need_no_verification() {
        let store = crate::store::MemoryStore::default();
        assert_eq!(lookup(&store, "vtok/k", 1_100), Ok(Seen::New));
        let (t, warning) =
            first_use(&store, "vtok/k", 1_100, || Ok::<_, ()>((token(None), None))).expect("valid");
        assert_eq!((t, warning), (token(None), None));
        assert_eq!(
            lookup(&store, "vtok/k", 1_100),
            Ok(Seen::Verified(token(None)))
        );
        assert_eq!(
            first_use(&store, "vtok/x", 1_100, || Err::<(AccessToken, _), _>(
                "bad signature"
            )),
            Err(FirstUseError::Invalid("bad signature"))
        );
    }

    #[test]
    fn a_token_of_the_previous_key_is_recorded_with_its_binding_and_revocable() {
        let store = crate::store::MemoryStore::default();
        let binding = ring("k1").previous_binding("k0");
        let (t, warning) = first_use(&store, "vtok/p", 1_100, || {
            Ok::<_, ()>((token(None), Some(binding.clone())))
        })
        .expect("valid");
        assert_eq!((t, warning), (token(None), None));
        assert_eq!(
            lookup(&store, "vtok/p", 1_100),
            Ok(Seen::ByPrevious(token(None), binding))
        );
        // A revocation refuses it without looking at the keys.
        revoke(&store, "vtok/p", &token(None), 1_100).expect("revoked");
        assert_eq!(
            lookup(&store, "vtok/p", 1_100),
            Ok(Seen::Refused(EntryError::Revoked))
        );
    }

    #[test]
    fn issue16_first_use_and_revocation_file_their_records_for_prune() {
        let store = crate::store::MemoryStore::default();
        first_use(&store, "vtok/k", 1_100, || Ok::<_, ()>((token(None), None))).expect("valid");
        revoke(&store, "vtok/r", &token(None), 1_100).expect("revoked");
        // The token expires at 1_300: hour bucket 0.
        assert_eq!(
            expiry::bucket(expiry::bucket_of(1_300)).entries(&store),
            Ok(vec![
                "vtok/k".to_owned(),
                revoked_key("jti1"),
                "vtok/r".to_owned()
            ])
        );
    }

    #[test]
    fn revocation_before_after_or_during_first_use_ends_revoked() {
        // Before: the marker is found before anything is written.
        let store = crate::store::MemoryStore::default();
        revoke(&store, "vtok/k", &token(None), 1_100).expect("revoked");
        assert_eq!(
            first_use(&store, "vtok/other", 1_100, || Ok::<_, ()>((
                token(None),
                None
            ))),
            Err(FirstUseError::Revoked)
        );
        assert_eq!(store.get("vtok/other"), Ok(None));
        // After: the entry is overwritten as revoked.
        let store = crate::store::MemoryStore::default();
        first_use(&store, "vtok/k", 1_100, || Ok::<_, ()>((token(None), None))).expect("valid");
        revoke(&store, "vtok/k", &token(None), 1_100).expect("revoked");
        assert_eq!(
            lookup(&store, "vtok/k", 1_100),
            Ok(Seen::Refused(EntryError::Revoked))
        );
        assert_eq!(is_revoked(&store, &token(None)), Ok(true));
        // During: the revocation lands between the write and the re-read,
        // and its entry was overwritten by the first use's; the re-read
        // finds the marker and writes the revoked entry back.
        let store = Racing {
            inner: crate::store::MemoryStore::default(),
            between: std::cell::Cell::new(Some(Box::new(|s: &crate::store::MemoryStore| {
                s.set(&revoked_key("jti1"), b"1300").expect("set");
            }))),
        };
        assert_eq!(
            first_use(&store, "vtok/k", 1_100, || Ok::<_, ()>((token(None), None))),
            Err(FirstUseError::Revoked)
        );
        assert_eq!(
            lookup(&store, "vtok/k", 1_100),
            Ok(Seen::Refused(EntryError::Revoked))
        );
    }
}
