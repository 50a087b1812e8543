//! The key-value store as the core sees it. Its key layout is [`keys`],
//! the one module that spells a key; index records (`ix/...`, [`index`],
//! [`expiry`]) let listing and pruning work without listing the keys.

pub mod expiry;
pub mod index;
pub mod keys;
pub mod swap;

/// A failure of the store itself. The caller answers `503`: fail closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key-value store unavailable: {0}")]
pub struct StoreError(pub String);

/// What the core needs of a key-value store.
pub trait Store {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Sets `key` to `value`.
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Removes `key`; removing a missing key is not an error.
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Every key in the store.
    fn keys(&self) -> Result<Vec<String>, StoreError>;
    /// Adds `delta` to the counter under `key` (absent: 0) atomically and
    /// returns the new value (`wasi:keyvalue/atomics.increment`: a SQL
    /// upsert on Spin's SQLite store, `INCRBY` on its Redis store). The
    /// stored bytes differ between backends: read counters only through
    /// this.
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError>;
}

/// What a name belongs to, for [`claim_key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// An account name.
    Account,
    /// A group name.
    Group,
    /// A custom role name.
    Role,
}

impl NameKind {
    /// The word used in keys and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            NameKind::Account => "account",
            NameKind::Group => "group",
            NameKind::Role => "role",
        }
    }
}

/// An in-memory store for unit tests and benchmarks.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>,
    /// How many times [`Store::keys`] was called.
    listings: std::sync::atomic::AtomicUsize,
    /// How many reads ([`Store::get`] and [`Store::increment`]) were made.
    reads: std::sync::atomic::AtomicUsize,
}

impl MemoryStore {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, Vec<u8>>> {
        // A poisoned lock only means another test panicked; the map is intact.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many times the keys were listed, for tests that a path never
    /// lists them (issue 16).
    pub fn key_listings(&self) -> usize {
        self.listings.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many reads (`get`, and `increment`, which reads a counter) were
    /// made, for tests that a path's cost does not grow with the store.
    pub fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every key and value but the index records (`ix/`, [`index`]): what
    /// tests of "changes nothing" compare. Index entries are bookkeeping
    /// that may outlive what they name (docs/store.md, "Indexes").
    pub fn records(&self) -> Vec<(String, Vec<u8>)> {
        let mut all = self.dump();
        all.retain(|(k, _)| !k.starts_with(index::INDEX_PREFIX));
        all
    }

    /// Every value, for tests that look for leaked secrets.
    pub fn dump(&self) -> Vec<(String, Vec<u8>)> {
        self.map()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl Store for MemoryStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self.map().get(key).cloned())
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.map().insert(key.to_owned(), value.to_vec());
        Ok(())
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.map().remove(key);
        Ok(())
    }
    fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.listings
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self.map().keys().cloned().collect())
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut map = self.map();
        let old = match map.get(key) {
            None => 0,
            Some(bytes) => i64::from_le_bytes(
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| StoreError(format!("{key} is not a counter")))?,
            ),
        };
        let new = old.wrapping_add(delta);
        map.insert(key.to_owned(), new.to_le_bytes().to_vec());
        Ok(new)
    }
}
