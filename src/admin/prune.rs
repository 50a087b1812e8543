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

use super::index;
use crate::store::index::distinct;
use crate::store::keys::{REPLAY_PREFIX, REVOKED_PREFIX, VERIFIED_PREFIX};
use crate::store::{Store, StoreError, expiry};
use crate::token::LEEWAY_SECONDS;

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
    /// Records of the three kinds this run examined and left in place: not
    /// yet expired by more than the margin, or unreadable.
    pub kept: usize,
}

/// The kinds of expiring record, by key prefix.
#[derive(Clone, Copy)]
enum Kind {
    Jti,
    Revoked,
    Vtok,
    /// A usage counter (issue 15: `rl/`, `quota/`, `use/`), deletable from
    /// the time its key names (`None`: never by time).
    Counter(Option<u64>),
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
            crate::usage::counter::deletable_at(key).map(Self::Counter)
        }
    }

    /// The expiry (Unix seconds) a stored value names, if it can be read:
    /// decimal text for `jti/` and `revoked/`, a JSON object with `exp` for
    /// `vtok/` ([`crate::verified::Entry`], [`crate::oidc::Recorded`]).
    fn expiry(self, value: &[u8]) -> Option<u64> {
        match self {
            Self::Jti | Self::Revoked => std::str::from_utf8(value).ok()?.trim().parse().ok(),
            // Both kinds of verified-token record, flowgate's own tokens'
            // (`Entry`) and external tokens' (`oidc::Recorded`), carry `exp`.
            Self::Vtok => serde_json::from_slice::<Expiring>(value)
                .ok()
                .map(|e| e.exp),
            Self::Counter(at) => at,
        }
    }
}

/// What pruning reads of a `vtok/` record.
#[derive(serde::Deserialize)]
struct Expiring {
    exp: u64,
}

impl Deleted {
    fn count(&mut self, kind: Kind) {
        match kind {
            Kind::Jti => self.jti += 1,
            Kind::Revoked => self.revoked += 1,
            Kind::Vtok => self.vtok += 1,
            Kind::Counter(_) => self.counters += 1,
        }
    }
}

/// Whether `key` is a record with its own expiry, which prune handles.
pub fn is_expiring(key: &str) -> bool {
    Kind::of(key).is_some()
}

/// Deletes the `jti/`, `revoked/` and `vtok/` records whose expiry lies
/// more than [`PRUNE_MARGIN_SECONDS`] before `now`, reading only what the
/// expiry index ([`crate::store::expiry`]) files as expired: the migration's
/// backlog, then every hourly bucket wholly past the margin, each removed
/// once done. No key listing (but the one-time migration). A record found
/// not yet expired is filed again under its expiry; an unreadable one is
/// kept, counted, and filed an hour on, never deleted on a guess. A key gone
/// since it was filed counts nowhere. Stops at the first store failure;
/// what was deleted until then stays deleted, the bucket stays filed, and
/// running it again finishes the job.
pub fn prune_expired(store: &dyn Store, now: u64) -> Result<Pruned, StoreError> {
    index::ensure_indexed(store, now, &is_expiring)?;
    let mut pruned = Pruned::default();
    let backlog = index::expiry_backlog();
    if !backlog.is_empty(store)? {
        let keys = distinct(backlog.entries(store)?);
        examine_all(store, &keys, now, &mut pruned)?;
        backlog.remove(store)?;
    }
    let Some(mut bucket) = expiry::cursor(store)? else {
        return Ok(pruned);
    };
    let start = bucket;
    while expiry::is_past(bucket, now, PRUNE_MARGIN_SECONDS) {
        let filed = expiry::bucket(bucket);
        if !filed.is_empty(store)? {
            let keys = distinct(filed.entries(store)?);
            examine_all(store, &keys, now, &mut pruned)?;
            filed.remove(store)?;
            expiry::set_cursor(store, bucket + 1)?;
        }
        bucket += 1;
    }
    if bucket != start {
        expiry::set_cursor(store, bucket)?;
    }
    Ok(pruned)
}

/// Deletes each record under `keys` that expired beyond the margin; the
/// others are kept and filed again, in bulk per bucket (a migration's
/// backlog may hold millions): under their expiry, or an hour on when
/// unreadable.
fn examine_all(
    store: &dyn Store,
    keys: &[String],
    now: u64,
    pruned: &mut Pruned,
) -> Result<(), StoreError> {
    let mut refile: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    for key in keys {
        let Some(kind) = Kind::of(key) else {
            continue;
        };
        match kind {
            // A counter's time is in its key: deleted unread (so counted even
            // if something deleted it first), never counted as kept.
            // Its time (`flowgate::usage::counter`) already holds a margin
            // past the end of its window or period, or the retention of a
            // usage figure.
            Kind::Counter(Some(at)) if at <= now => {
                store.delete(key)?;
                pruned.deleted.count(kind);
                continue;
            }
            Kind::Counter(Some(at)) => {
                refile
                    .entry(expiry::bucket_of(at.max(now)))
                    .or_default()
                    .push(key.clone());
                continue;
            }
            // Kept with its quota; never filed by the authorizer, but the
            // migration's backlog may hold one.
            Kind::Counter(None) => continue,
            Kind::Jti | Kind::Revoked | Kind::Vtok => {}
        }
        let Some(value) = store.get(key)? else {
            continue;
        };
        let due = match kind.expiry(&value) {
            Some(expiry) if now.saturating_sub(expiry) > PRUNE_MARGIN_SECONDS => {
                store.delete(key)?;
                pruned.deleted.count(kind);
                continue;
            }
            Some(expiry) => expiry,
            None => now + expiry::BUCKET_SECONDS,
        };
        pruned.kept += 1;
        refile
            .entry(expiry::bucket_of(due.max(now)))
            .or_default()
            .push(key.clone());
    }
    for (bucket, keys) in &refile {
        expiry::bucket(*bucket).add_all(store, keys)?;
    }
    Ok(())
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
    use crate::verified::Entry;

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
            previous: None,
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

    /// The keys of records (the index's own keys left out).
    fn keys(store: &MemoryStore) -> Vec<String> {
        store
            .dump()
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| !k.starts_with(crate::store::index::INDEX_PREFIX))
            .collect()
    }

    fn text(n: u64) -> Vec<u8> {
        n.to_string().into_bytes()
    }

    /// A time by which every record filed at `NOW` is in a bucket past the
    /// margin.
    const LATER: u64 = NOW + 2 * expiry::BUCKET_SECONDS;

    #[test]
    fn records_expired_beyond_the_margin_go_and_the_rest_stay() {
        let old = NOW - PRUNE_MARGIN_SECONDS - 1;
        let edge = NOW - PRUNE_MARGIN_SECONDS;
        // Written by the old layout: no index entries; the first prune's
        // migration files them in its backlog.
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
        let left = [
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
        ];
        assert_eq!(keys(&s), left);
        // The kept ones are filed under their expiry: nothing to examine
        // until their hour is past.
        let again = prune_expired(&s, NOW).expect("prune");
        assert_eq!(again, Pruned::default());
        assert_eq!(keys(&s), left);
        let later = prune_expired(&s, LATER).expect("prune");
        assert_eq!(
            later,
            Pruned {
                deleted: Deleted {
                    jti: 2,
                    revoked: 1,
                    vtok: 1,
                    counters: 1,
                },
                kept: 0,
            }
        );
        // The day's counters end at NOW + 6,400: filed under that hour.
        let day_end = prune_expired(&s, NOW + 6_400 + expiry::BUCKET_SECONDS + 60).expect("prune");
        assert_eq!(day_end.deleted.counters, 2);
        assert_eq!(
            keys(&s),
            ["acct/a", "audit/000000000001-x", "cert/t", "quota/acct/5/0"]
        );
        assert_eq!(s.key_listings(), 1, "only the migration lists keys");
    }

    /// An external token's verification record (`oidc::Recorded`) lives
    /// under `vtok/` too, in its own form: filed as the authorizer files it,
    /// it is deleted once past its `exp` and the margin, and not before.
    #[test]
    fn external_token_records_are_pruned_by_their_exp() {
        let s = MemoryStore::default();
        let record = crate::oidc::Recorded {
            exp: NOW + 600,
            kid: "k1".into(),
            key: "fingerprint".into(),
        };
        let key = "vtok/external";
        expiry::schedule(&s, key, record.exp, NOW).expect("file");
        s.set(key, &record.to_bytes()).expect("set");
        let now = prune_expired(&s, NOW).expect("prune");
        assert_eq!(now.deleted, Deleted::default());
        assert_eq!(keys(&s), [key]);
        let after = NOW + 600 + PRUNE_MARGIN_SECONDS + expiry::BUCKET_SECONDS;
        let pruned = prune_expired(&s, after).expect("prune");
        assert_eq!(pruned.deleted.vtok, 1);
        assert!(keys(&s).is_empty());
    }

    #[test]
    fn a_revocation_outlives_the_verification_leeway() {
        let exp = NOW - LEEWAY_SECONDS - 1;
        let s = store(&[("revoked/j", text(exp)), ("vtok/k", vtok(exp, true))]);
        // The token no longer verifies anywhere, but the margin is not over.
        let pruned = prune_expired(&s, NOW).expect("prune");
        assert_eq!(pruned.kept, 2);
        let at_margin = prune_expired(&s, exp + PRUNE_MARGIN_SECONDS).expect("prune");
        assert_eq!(at_margin.deleted, Deleted::default());
        let later = prune_expired(&s, LATER).expect("prune");
        assert_eq!(later.deleted.revoked + later.deleted.vtok, 2);
    }

    #[test]
    fn unreadable_values_are_kept_counted_and_looked_at_again_later() {
        let s = store(&[
            ("jti/c/x", b"soon".to_vec()),
            ("jti/c/y", vec![0xff, 0xfe]),
            ("revoked/z", Vec::new()),
            ("vtok/a", b"{\"exp\":\"soon\"}".to_vec()),
            ("vtok/b", b"not json".to_vec()),
        ]);
        let before = keys(&s);
        let pruned = prune_expired(&s, NOW).expect("prune");
        assert_eq!(pruned.deleted, Deleted::default());
        assert_eq!(pruned.kept, 5);
        assert_eq!(keys(&s), before);
        let later = prune_expired(&s, LATER).expect("prune");
        assert_eq!((later.deleted, later.kept), (Deleted::default(), 5));
        assert_eq!(keys(&s), before);
    }

    #[test]
    fn a_clock_behind_the_records_deletes_nothing() {
        let s = store(&[("jti/c/x", text(NOW)), ("vtok/a", vtok(NOW, false))]);
        let pruned = prune_expired(&s, 5).expect("prune");
        assert_eq!((pruned.deleted, pruned.kept), (Deleted::default(), 2));
    }

    #[test]
    fn issue16_prune_reads_only_expired_buckets_and_counters_never_the_key_list() {
        let s = MemoryStore::default();
        prune_expired(&s, NOW).expect("the migration of an empty store");
        assert_eq!(s.key_listings(), 1);
        // 2,000 live records filed as the authorizer files them, and 3
        // expired ones.
        for i in 0..2_000 {
            let key = format!("vtok/live-{i}");
            expiry::schedule(&s, &key, NOW + 86_400, NOW).expect("filed");
            s.set(&key, &vtok(NOW + 86_400, false)).expect("set");
        }
        for i in 0..3 {
            let key = format!("jti/c/{i}");
            expiry::schedule(&s, &key, NOW + 10, NOW).expect("filed");
            s.set(&key, &text(NOW + 10)).expect("set");
        }
        // A rate-limit counter of a minute, filed as the authorizer files it
        // when its increment creates it.
        let counter = crate::usage::limits::counter("a", crate::usage::limits::Window::Minute, NOW);
        let count = s.increment(&counter.key, 1).expect("counted");
        expiry::file_counter(&s, &counter, count, NOW).expect("filed");
        let counter = counter.key;
        let before = s.reads();
        let pruned = prune_expired(&s, LATER).expect("prune");
        assert_eq!(pruned.deleted.counters, 1);
        assert!(s.get(&counter).expect("read").is_none());
        assert_eq!(pruned.deleted.jti, 3);
        assert_eq!(pruned.kept, 0);
        assert_eq!(s.key_listings(), 1, "no listing after the migration");
        // The marker, the cursor, the buckets' counters, slots and records
        // (none for the counter): nothing of the 2,000 live records' bucket.
        let reads = s.reads() - before;
        assert!(reads < 20, "{reads} reads");
    }
}
