//! The store management works on: Spin's `default` key-value store, where a
//! write of a shared record (an account, an issuer's OIDC bindings, a group)
//! that this request read before is a compare-and-swap
//! (`wasi:keyvalue/atomics`) against the bytes it read. Two management calls
//! that change the same record at once therefore cannot lose either change:
//! the second write finds the record changed, the store reports contention,
//! and `routes` runs the whole operation again on fresh data
//! (docs/management.md).
//!
//! Both interfaces reach the same store in Spin (and in the test host), so
//! reads through `fermyon:spin/key-value` and swaps through `wasi:keyvalue`
//! see one another. Every swap goes through the core's `swap_record`, which
//! settles a reported `cas-failed` by reading the record back: Spin's Redis
//! store reports it after every swap, applied or not (docs/store.md).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use flowgate::store::keys::{ACCOUNT_PREFIX, GROUP_PREFIX, OIDC_BINDINGS_PREFIX};
use flowgate::store::swap::{self, Swap};
use flowgate::store::{Store, StoreError};
use flowgate_spin::{Atomics, SpinStore, WasiRandom};

/// Prefixes of the keys whose writes are compare-and-swaps: the records
/// that management reads, changes and writes back, and that two calls may
/// change at once (account records; the bindings of an OIDC issuer, shared
/// by its accounts; groups, whose grants change). Indexes and audit entries
/// are written whole and need none.
const RECORD_PREFIXES: [&str; 3] = [ACCOUNT_PREFIX, OIDC_BINDINGS_PREFIX, GROUP_PREFIX];

fn is_record(key: &str) -> bool {
    RECORD_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Spin's store, with compare-and-swap writes of records read in this
/// request.
pub struct CasStore {
    plain: SpinStore,
    atomics: Atomics,
    /// The bytes of each record as first read (or last written) here.
    seen: RefCell<HashMap<String, Option<Vec<u8>>>>,
    contended: Cell<bool>,
}

impl CasStore {
    /// Opens the `default` store through both interfaces.
    pub fn open_default() -> Result<Self, StoreError> {
        Ok(Self {
            plain: SpinStore::open_default()?,
            atomics: Atomics::open_default()?,
            seen: RefCell::new(HashMap::new()),
            contended: Cell::new(false),
        })
    }

    /// Whether a failure came from a concurrent change of a record (the
    /// operation may be run again), rather than from the store itself.
    pub fn take_contended(&self) -> bool {
        self.seen.borrow_mut().clear();
        self.contended.replace(false)
    }

    fn contention(&self, key: &str) -> StoreError {
        self.contended.set(true);
        StoreError(format!("{key} changed concurrently"))
    }

    /// Writes `value` under `key` if it still holds `expected`; returns the
    /// bytes written (stamped with their revision).
    fn swap(&self, key: &str, expected: &[u8], value: &[u8]) -> Result<Vec<u8>, StoreError> {
        match swap::swap_from(&self.atomics, key, Some(expected), value, &WasiRandom)? {
            Swap::Written(bytes) => Ok(bytes),
            Swap::Conflict => Err(self.contention(key)),
        }
    }
}

impl Store for CasStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let value = self.plain.get(key)?;
        if is_record(key) {
            // The first read is what the operation's changes are based on;
            // a later re-read (say, to keep fields it does not change) must
            // not move the comparison forward past a concurrent write.
            self.seen
                .borrow_mut()
                .entry(key.to_owned())
                .or_insert_with(|| value.clone());
        }
        Ok(value)
    }

    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if !is_record(key) {
            return self.plain.set(key, value);
        }
        let seen = self.seen.borrow().get(key).cloned();
        let written = match seen {
            // Read before in this request: only if nobody wrote meanwhile.
            Some(Some(expected)) => self.swap(key, &expected, value)?,
            // Read as absent, or never read: a new record (a fresh random
            // id, a group whose name this call won, an issuer's first
            // binding). A plain write, stamped like every record so that
            // later swaps can settle a doubtful answer. Spin's swap from
            // "absent" is an unconditional upsert anyway
            // (docs/management.md, "Concurrency").
            Some(None) | None => {
                let (stamped, _) = swap::stamp(value, None, &WasiRandom)?;
                self.plain.set(key, &stamped)?;
                stamped
            }
        };
        // A later write of the record in this request is a swap from what
        // this one stored.
        self.seen.borrow_mut().insert(key.to_owned(), Some(written));
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.seen.borrow_mut().remove(key);
        self.plain.delete(key)
    }

    fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.plain.keys()
    }

    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.atomics.increment(key, delta)
    }
}
