//! The indexes management reads instead of listing the store's keys
//! (issue 16, target 5; docs/store.md, "Indexes"), and the migration that
//! builds them for a store written before they existed.
//!
//! - `acct`: every account id ever created, in order of creation (deleted
//!   ones stay: the record decides, and ids are never reused), and
//!   `ix/acct/at/<id>`, the slot of each, where a listing resumes;
//! - `group`: every group name created (deleted ones stay);
//! - `role`: every custom role name created (deleted ones stay); built by
//!   its own one-time migration ([`ROLES_MIGRATED_KEY`]), since it came
//!   after stores were first indexed;
//! - `grant/<flow>`: the accounts given a direct grant to `<flow>` (revoked
//!   ones stay until the record says otherwise);
//! - `audit/<day>`: the audit keys of one UTC day (`time / 86400`), walked
//!   from the newest day back to `ix/audit/first`;
//! - `exp/<hour>` and `exp/backlog`: the expiry index
//!   ([`crate::store::expiry`]); the backlog holds the expiring records the
//!   migration found, examined by the next prune.
//!
//! Every write of an indexed thing adds its entry first, then writes the
//! thing: an entry may stand for nothing (skipped), a thing is never
//! without its entry.

use crate::store::expiry;
use crate::store::index::Index;
use crate::store::keys::{AUDIT_PREFIX, GRANT_PREFIX, GROUP_PREFIX, ROLE_PREFIX, account_id_of};
use crate::store::{Store, StoreError};

/// Set once the migration has run: the store's indexes are complete.
pub const MIGRATED_KEY: &str = "ix/version";
/// The layout version [`MIGRATED_KEY`] holds.
const VERSION: &[u8] = b"1";
/// Set once the role index is complete. Separate from [`MIGRATED_KEY`]:
/// the role index came later, and running the whole migration again would
/// file every account a second time, out of its order of creation.
pub const ROLES_MIGRATED_KEY: &str = "ix/version/role";
/// The first day the audit index covers (decimal text).
pub const AUDIT_FIRST_KEY: &str = "ix/audit/first";

const DAY_SECONDS: u64 = 86_400;

/// The account index.
pub fn accounts() -> Index {
    Index::new("acct")
}

/// Key of the slot at which account `id` was filed in [`accounts`] (decimal
/// text): where a listing that stopped after it goes on, and which of two
/// entries of one id (a migration run twice) is the one listed. Kept when
/// the account is deleted, so that a cursor naming it still resolves; ids
/// are never reused.
pub fn account_slot_key(id: &str) -> String {
    format!("{}acct/at/{id}", crate::store::index::INDEX_PREFIX)
}

/// Files a new account in [`accounts`] and records its slot. Call it before
/// writing the account's record.
pub fn add_account(store: &dyn Store, id: &str) -> Result<(), StoreError> {
    let slot = accounts().add(store, id)?;
    store.set(&account_slot_key(id), slot.to_string().as_bytes())
}

/// The slot of account `id` in [`accounts`], if it was ever filed.
pub fn account_slot(store: &dyn Store, id: &str) -> Result<Option<u64>, StoreError> {
    crate::store::index::stored_number(store, &account_slot_key(id))
}

/// The group index: every group name created (deleted ones stay: the record
/// decides).
pub fn groups() -> Index {
    Index::new("group")
}

/// The role index: every custom role name created (deleted ones stay: the
/// record decides).
pub fn roles() -> Index {
    Index::new("role")
}

/// The index of a flow's direct grants.
pub fn flow_grants(flow: &str) -> Index {
    Index::new(format!("grant/{flow}"))
}

/// The index of one day's audit entries.
pub fn audit_day(day: u64) -> Index {
    Index::new(format!("audit/{day}"))
}

/// The day an audit key (`audit/<time>-<id>`) or time falls on.
pub fn day_of(time: u64) -> u64 {
    time / DAY_SECONDS
}

/// The time an audit key names, if it is one.
pub fn audit_key_time(key: &str) -> Option<u64> {
    key.strip_prefix(AUDIT_PREFIX)?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// The expiring records the migration found, for the next prune.
pub fn expiry_backlog() -> Index {
    Index::new("exp/backlog")
}

/// The first day of the audit index.
pub fn audit_first_day(store: &dyn Store) -> Result<Option<u64>, StoreError> {
    crate::store::index::stored_number(store, AUDIT_FIRST_KEY)
}

/// Runs [`migrate`] unless it ran before: one read when it did. Listing and
/// pruning call this first.
pub fn ensure_indexed(
    store: &dyn Store,
    now: u64,
    expiring: &dyn Fn(&str) -> bool,
) -> Result<(), StoreError> {
    // A store of another layout version is indexed again (its entries
    // stay; duplicates are dropped on reading).
    if store.get(MIGRATED_KEY)?.as_deref() != Some(VERSION) {
        migrate(store, now, expiring)?;
    }
    Ok(())
}

/// [`ensure_indexed`], then [`migrate_roles`] unless it ran before: what
/// reading or extending the role index needs (prune does not).
pub fn ensure_roles_indexed(
    store: &dyn Store,
    now: u64,
    expiring: &dyn Fn(&str) -> bool,
) -> Result<(), StoreError> {
    ensure_indexed(store, now, expiring)?;
    if store.get(ROLES_MIGRATED_KEY)?.is_none() {
        migrate_roles(store)?;
    }
    Ok(())
}

/// Files every custom role in [`roles`] from one listing of the store's
/// keys, once per store; idempotent like [`migrate`]. A store indexed
/// before the role index existed gets it on its next listing.
pub fn migrate_roles(store: &dyn Store) -> Result<(), StoreError> {
    let names: Vec<String> = store
        .keys()?
        .into_iter()
        .filter_map(|k| k.strip_prefix(ROLE_PREFIX).map(str::to_owned))
        .collect();
    roles().add_all(store, &names)?;
    store.set(ROLES_MIGRATED_KEY, b"1")
}

/// Builds every index from one listing of the store's keys: the only key
/// listing left, run once per store. Idempotent: running it again (after a
/// failure midway, or twice at once) adds duplicate entries, which readers
/// drop. `expiring` says which keys are records with their own expiry.
pub fn migrate(
    store: &dyn Store,
    now: u64,
    expiring: &dyn Fn(&str) -> bool,
) -> Result<(), StoreError> {
    let keys = store.keys()?;
    let mut ids = Vec::new();
    let mut group_names = Vec::new();
    let mut role_names = Vec::new();
    let mut grants: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    let mut audit: std::collections::BTreeMap<u64, Vec<String>> = Default::default();
    let mut backlog = Vec::new();
    for key in &keys {
        if let Some(id) = account_id_of(key) {
            ids.push(id.to_owned());
        } else if let Some(name) = key.strip_prefix(GROUP_PREFIX) {
            group_names.push(name.to_owned());
        } else if let Some(name) = key.strip_prefix(ROLE_PREFIX) {
            role_names.push(name.to_owned());
        } else if let Some((flow, id)) = key
            .strip_prefix(GRANT_PREFIX)
            .and_then(|rest| rest.split_once('/'))
        {
            grants.entry(flow).or_default().push(id.to_owned());
        } else if let Some(time) = audit_key_time(key) {
            audit.entry(day_of(time)).or_default().push(key.clone());
        } else if expiring(key) {
            backlog.push(key.clone());
        }
    }
    let first = accounts().add_all(store, &ids)?;
    for (slot, id) in (first..).zip(&ids) {
        store.set(&account_slot_key(id), slot.to_string().as_bytes())?;
    }
    groups().add_all(store, &group_names)?;
    roles().add_all(store, &role_names)?;
    store.set(ROLES_MIGRATED_KEY, b"1")?;
    for (flow, ids) in &grants {
        flow_grants(flow).add_all(store, ids)?;
    }
    for (day, keys) in &audit {
        audit_day(*day).add_all(store, keys)?;
    }
    let first = audit.keys().next().copied().unwrap_or(day_of(now));
    if audit_first_day(store)?.is_none_or(|stored| first < stored) {
        store.set(AUDIT_FIRST_KEY, first.to_string().as_bytes())?;
    }
    expiry_backlog().add_all(store, &backlog)?;
    if expiry::cursor(store)?.is_none() {
        expiry::set_cursor(store, expiry::bucket_of(now))?;
    }
    store.set(MIGRATED_KEY, VERSION)
}
