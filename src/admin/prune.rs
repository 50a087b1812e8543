//! Pruning of records that carry their own expiry
//! (`POST /admin/v1/maintenance/prune`). Spin's key-value store has no TTL,
//! so the single-use marks of `private_key_jwt` assertions (`jti/`), the
//! revocations of access tokens (`revoked/`) and the records of verified
//! access tokens (`vtok/`) stay until something deletes them. This does,
//! once each is past its expiry by more than [`PRUNE_MARGIN_SECONDS`].
//!
//! Why deleting them is safe: each exists only to answer for a token or an
//! assertion that could still be accepted. Both are accepted up to
//! [`LEEWAY_SECONDS`] after their `exp`, never later, whatever the store
//! holds: a replayed assertion or a revoked token presented after that fails
//! on its expiry alone. A value that cannot be read is kept (and counted),
//! never deleted on a guess.

use serde::Serialize;

use crate::store::keys::{REPLAY_PREFIX, REVOKED_PREFIX, VERIFIED_PREFIX};
use crate::store::{Store, StoreError};
use crate::token::LEEWAY_SECONDS;
use crate::verified::Entry;

/// How long past its expiry a record is kept: beyond the verification
/// leeway, with room for clocks of hosts that disagree by a few tens of
/// seconds. Not configurable: a shorter margin could forget a revocation
/// while the token still verifies somewhere.
pub const PRUNE_MARGIN_SECONDS: u64 = 60;

// A revocation must outlive every host's acceptance of its token.
const _: () = assert!(PRUNE_MARGIN_SECONDS > LEEWAY_SECONDS);

/// How many records of each kind a prune deleted.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Deleted {
    /// `jti/` marks.
    pub jti: usize,
    /// `revoked/` entries.
    pub revoked: usize,
    /// `vtok/` records.
    pub vtok: usize,
    /// Rate-limit (`rl/`) and quota (`quota/`) counters of ended windows
    /// and periods, and usage figures (`use/`) older than their retention
    /// (issue #15).
    pub counters: usize,
}

/// What a prune did: `{"deleted": {...}, "kept": n}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// Records deleted, by kind.
    pub deleted: Deleted,
    /// Records of the three kinds left in place: not yet expired by more
    /// than the margin, or unreadable.
    pub kept: usize,
}

/// The kinds of expiring record, by key prefix.
#[derive(Clone, Copy)]
enum Kind {
    Jti,
    Revoked,
    Vtok,
}

impl Kind {
    fn of(key: &str) -> Option<Self> {
        if key.starts_with(REPLAY_PREFIX) {
            Some(Self::Jti)
        } else if key.starts_with(REVOKED_PREFIX) {
            Some(Self::Revoked)
        } else if key.starts_with(VERIFIED_PREFIX) {
            Some(Self::Vtok)
        } else {
            None
        }
    }

    /// The expiry (Unix seconds) a stored value names, if it can be read:
    /// decimal text for `jti/` and `revoked/`, an [`Entry`] for `vtok/`.
    fn expiry(self, value: &[u8]) -> Option<u64> {
        match self {
            Self::Jti | Self::Revoked => std::str::from_utf8(value).ok()?.trim().parse().ok(),
            Self::Vtok => serde_json::from_slice::<Entry>(value).ok().map(|e| e.exp),
        }
    }
}

impl Deleted {
    fn count(&mut self, kind: Kind) {
        match kind {
            Kind::Jti => self.jti += 1,
            Kind::Revoked => self.revoked += 1,
            Kind::Vtok => self.vtok += 1,
        }
    }
}

/// Deletes every `jti/`, `revoked/` and `vtok/` record whose expiry lies
/// more than [`PRUNE_MARGIN_SECONDS`] before `now`. Other keys are not
/// read. A key gone between listing and reading counts nowhere. Stops at
/// the first store failure; what was deleted until then stays deleted, and
/// running it again finishes the job.
pub fn prune_expired(store: &dyn Store, now: u64) -> Result<Pruned, StoreError> {
    let mut pruned = Pruned::default();
    for key in store.keys()? {
        // A counter's deletion time follows from its key: no read needed
        // (`flowgate::usage::counter`: a margin past the end of a window or
        // period, the retention past the hour of a usage figure).
        if let Some(at) = crate::usage::counter::deletable_at(&key) {
            if at.is_some_and(|at| at <= now) {
                store.delete(&key)?;
                pruned.deleted.counters += 1;
            }
            continue;
        }
        let Some(kind) = Kind::of(&key) else {
            continue;
        };
        let Some(value) = store.get(&key)? else {
            continue;
        };
        match kind.expiry(&value) {
            Some(expiry) if now.saturating_sub(expiry) > PRUNE_MARGIN_SECONDS => {
                store.delete(&key)?;
                pruned.deleted.count(kind);
            }
            _ => pruned.kept += 1,
        }
    }
    Ok(pruned)
}

impl super::Admin<'_> {
    /// `POST /admin/v1/maintenance/prune`: [`prune_expired`] at the current
    /// time.
    pub fn prune(&self) -> Result<Pruned, super::AdminError> {
        Ok(prune_expired(self.store, self.clock.now())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    const NOW: u64 = 1_700_000_000;

    fn vtok(exp: u64, revoked: bool) -> Vec<u8> {
        Entry {
            sub: "acct".into(),
            jti: "j".into(),
            iat: exp.saturating_sub(300),
            exp,
            scope: "orders".into(),
            x5t: None,
            revoked,
        }
        .to_bytes()
    }

    fn store(records: &[(&str, Vec<u8>)]) -> MemoryStore {
        let store = MemoryStore::default();
        for (key, value) in records {
            store.set(key, value).expect("set");
        }
        store
    }

    fn keys(store: &MemoryStore) -> Vec<String> {
        store.keys().expect("keys")
    }

    fn text(n: u64) -> Vec<u8> {
        n.to_string().into_bytes()
    }

    #[test]
    fn records_expired_beyond_the_margin_go_and_the_rest_stay() {
        let old = NOW - PRUNE_MARGIN_SECONDS - 1;
        let edge = NOW - PRUNE_MARGIN_SECONDS;
        let s = store(&[
            ("jti/c1/old", text(old)),
            ("jti/c1/edge", text(edge)),
            ("jti/c1/live", text(NOW + 30)),
            ("revoked/old", text(old)),
            ("revoked/live", text(NOW + 300)),
            ("vtok/old", vtok(old, false)),
            ("vtok/old-revoked", vtok(old, true)),
            ("vtok/just-expired", vtok(NOW - 5, false)),
            ("acct/a", b"{}".to_vec()),
            ("audit/000000000001-x", text(0)),
            ("cert/t", b"a".to_vec()),
            ("rl/acct/60/1699999800", text(1)),
            ("rl/acct/86400/1699920000", text(1)),
            ("quota/acct/1699920000/1700006400", text(1)),
            ("quota/acct/1699900000/1699920000", text(1)),
            ("quota/acct/5/0", text(1)),
            // An hour's figures: kept 31 days after the hour.
            ("use/acct/1697317200/allowed", text(1)),
            ("use/acct/1697320800/allowed", text(1)),
        ]);
        let pruned = prune_expired(&s, NOW).expect("prune");
        assert_eq!(
            pruned,
            Pruned {
                deleted: Deleted {
                    jti: 1,
                    revoked: 1,
                    vtok: 2,
                    counters: 3,
                },
                kept: 4,
            }
        );
        assert_eq!(
            keys(&s),
            [
                "acct/a",
                "audit/000000000001-x",
                "cert/t",
                "jti/c1/edge",
                "jti/c1/live",
                "quota/acct/1699920000/1700006400",
                "quota/acct/5/0",
                "revoked/live",
                "rl/acct/86400/1699920000",
                "use/acct/1697320800/allowed",
                "vtok/just-expired",
            ]
        );
        // Nothing left to do the second time.
        let again = prune_expired(&s, NOW).expect("prune");
        assert_eq!(again.deleted, Deleted::default());
        assert_eq!(again.kept, 4);
    }

    #[test]
    fn a_revocation_outlives_the_verification_leeway() {
        let exp = NOW - LEEWAY_SECONDS - 1;
        let s = store(&[("revoked/j", text(exp)), ("vtok/k", vtok(exp, true))]);
        // The token no longer verifies anywhere, but the margin is not over.
        let pruned = prune_expired(&s, NOW).expect("prune");
        assert_eq!(pruned.kept, 2);
        let later = prune_expired(&s, exp + PRUNE_MARGIN_SECONDS + 1).expect("prune");
        assert_eq!(later.deleted.revoked + later.deleted.vtok, 2);
    }

    #[test]
    fn unreadable_values_are_kept_and_counted() {
        let s = store(&[
            ("jti/c/x", b"soon".to_vec()),
            ("jti/c/y", vec![0xff, 0xfe]),
            ("revoked/z", Vec::new()),
            ("vtok/a", b"{\"exp\":1}".to_vec()),
            ("vtok/b", b"not json".to_vec()),
        ]);
        let before = keys(&s);
        let pruned = prune_expired(&s, NOW).expect("prune");
        assert_eq!(pruned.deleted, Deleted::default());
        assert_eq!(pruned.kept, 5);
        assert_eq!(keys(&s), before);
    }

    #[test]
    fn a_clock_behind_the_records_deletes_nothing() {
        let s = store(&[("jti/c/x", text(NOW)), ("vtok/a", vtok(NOW, false))]);
        let pruned = prune_expired(&s, 5).expect("prune");
        assert_eq!((pruned.deleted, pruned.kept), (Deleted::default(), 2));
    }
}
