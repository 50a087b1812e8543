//! The expiry index: which records carrying their own expiry (replay marks,
//! revocations, verified-token records) expire when, so that pruning reads
//! only what has expired instead of listing every key (docs/store.md,
//! "Indexes").
//!
//! Records are filed by the hour of their expiry: bucket `b` is the
//! [`Index`] `exp/<b>` and holds the keys of records expiring in
//! `[b*3600, (b+1)*3600)`. Whoever writes such a record calls [`schedule`]
//! first (two store calls: a slot drawn by atomic increment, then written),
//! so a record is never in the store without its entry. Pruning walks the
//! buckets from `ix/exp/next` (the first bucket not pruned yet) up to the
//! last one wholly past its expiry plus the margin, and removes each bucket
//! it finished.

use super::index::Index;
use super::{Store, StoreError};

/// Width of an expiry bucket.
pub const BUCKET_SECONDS: u64 = 3600;

/// Key of the first bucket not yet pruned (decimal text).
pub const CURSOR_KEY: &str = "ix/exp/next";

/// The bucket records expiring at `at` are filed in.
pub fn bucket_of(at: u64) -> u64 {
    at / BUCKET_SECONDS
}

/// The index of bucket `bucket`.
pub fn bucket(bucket: u64) -> Index {
    Index::new(format!("exp/{bucket}"))
}

/// Files `key` under its expiry `expires_at` (never earlier than `now`: a
/// bucket already pruned is not written to again). Call it before writing
/// the record.
pub fn schedule(store: &dyn Store, key: &str, expires_at: u64, now: u64) -> Result<(), StoreError> {
    bucket(bucket_of(expires_at.max(now)))
        .add(store, key)
        .map(drop)
}

/// [`schedule`] for each of `keys`, for the authorizer: a failure is
/// reported in the returned text, for the log, and the caller writes its
/// records anyway (a record missed by the index is kept too long, never
/// lost; a revocation or replay mark not written would be a hole).
pub fn schedule_or_report(
    store: &dyn Store,
    keys: &[&str],
    expires_at: u64,
    now: u64,
) -> Option<String> {
    keys.iter()
        .find_map(|key| schedule(store, key, expires_at, now).err())
        .map(|e| format!("expiry index entry not written: {e}"))
}

/// Files a usage counter (issue 15: `rl/`, `quota/`, `use/`) after an
/// increment of it returned `count`: the increment that created it (`1`)
/// files it under the time it may be deleted, so once per window, period or
/// hour; a counter kept until its quota goes (`delete_after: None`) is not
/// filed. Called after the increment, as only the increment can tell that
/// the counter is new: if this fails the caller answers `503` and the
/// counter stays in the store unfiled (kept, not lost; docs/store.md,
/// "Indexes").
pub fn file_counter(
    store: &dyn Store,
    counter: &crate::usage::Counter,
    count: i64,
    now: u64,
) -> Result<(), StoreError> {
    match counter.delete_after {
        Some(at) if count == 1 => schedule(store, &counter.key, at, now),
        _ => Ok(()),
    }
}

/// The first bucket not yet pruned; `None` before the index exists
/// (the migration sets it).
pub fn cursor(store: &dyn Store) -> Result<Option<u64>, StoreError> {
    super::index::stored_number(store, CURSOR_KEY)
}

/// Moves the cursor to `bucket`.
pub fn set_cursor(store: &dyn Store, bucket: u64) -> Result<(), StoreError> {
    store.set(CURSOR_KEY, bucket.to_string().as_bytes())
}

/// Whether every record of `bucket` expired more than `margin` seconds
/// before `now`.
pub fn is_past(bucket: u64, now: u64, margin: u64) -> bool {
    (bucket + 1)
        .saturating_mul(BUCKET_SECONDS)
        .saturating_add(margin)
        <= now
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    #[test]
    fn a_record_is_filed_by_its_expiry_and_never_in_the_past() -> Result<(), StoreError> {
        let store = MemoryStore::default();
        schedule(&store, "vtok/a", 7_300, 100)?;
        schedule(&store, "vtok/b", 50, 3_700)?;
        assert_eq!(bucket(2).entries(&store)?, ["vtok/a"]);
        assert_eq!(bucket(1).entries(&store)?, ["vtok/b"]);
        Ok(())
    }

    #[test]
    fn a_counter_is_filed_once_by_the_time_it_may_go() -> Result<(), StoreError> {
        let store = MemoryStore::default();
        let counter = |key: &str, delete_after| crate::usage::Counter {
            key: key.into(),
            delete_after,
        };
        for count in 1..=3 {
            file_counter(&store, &counter("rl/a/60/7200", Some(7_320)), count, 7_210)?;
        }
        file_counter(&store, &counter("quota/a/7/0", None), 1, 7_210)?;
        assert_eq!(bucket(2).entries(&store)?, ["rl/a/60/7200"]);
        assert_eq!(
            store.dump().len(),
            2,
            "one slot and its counter: nothing for the quota without refill"
        );
        Ok(())
    }

    #[test]
    fn a_bucket_is_past_only_after_its_end_and_the_margin() {
        assert!(!is_past(0, 3_600 + 59, 60));
        assert!(is_past(0, 3_600 + 60, 60));
        assert!(!is_past(u64::MAX / BUCKET_SECONDS, u64::MAX - 1, 60));
    }
}
