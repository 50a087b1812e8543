//! The key-value store as the core sees it. Its key layout is [`keys`],
//! the one module that spells a key.

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
}

impl MemoryStore {
    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, Vec<u8>>> {
        // A poisoned lock only means another test panicked; the map is intact.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
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
        Ok(self.map().keys().cloned().collect())
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
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
