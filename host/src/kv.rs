//! `fermyon:spin/key-value@2.0.0` and `wasi:keyvalue` over the stores Spin
//! offers: SQLite, laid out like Spin's (one table
//! `spin_key_value(store, key, value)`, by default in
//! `<state-dir>/sqlite_key_value.db`, so a state dir written by this host
//! can be read by `spin up` and vice versa), and Redis as Spin 4.0.2's
//! `crates/key-value-redis` drives it (see [`crate::redis_kv`]). Which label
//! lives where comes from the runtime config file; without one only
//! `default` exists, on SQLite. A component may open only the labels its
//! manifest lists (`access-denied` otherwise), and listing an undefined
//! label fails startup, both as in Spin. Also home of the two test switches
//! that observe or break the store: per-request call counts
//! (`FLOWGATE_HOST_KV_LOG`) and injected faults (`FLOWGATE_HOST_KV_FAULTS`).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rusqlite::Connection;
use wasmtime::component::{HasData, Resource, ResourceTable};

use crate::bindings::fermyon::spin::key_value::{Error, Host, HostStore};
use crate::redis_kv::{RedisCas, RedisStore};
use crate::runtime_config::StoreConfig;

/// The store label that always exists (on SQLite unless a runtime config
/// file places it elsewhere).
pub const DEFAULT_STORE: &str = "default";
/// Spin's limit on stores open at once in one instance.
const STORE_TABLE_CAPACITY: u32 = 256;

/// The guest-visible `store` resource: an opened label.
#[derive(Debug)]
pub struct KvStore {
    label: String,
}

/// Fault injection parsed from `FLOWGATE_HOST_KV_FAULTS`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Probability in [0, 1] that a data operation fails.
    pub fail_probability: f64,
    /// Delay before every data operation.
    pub delay: Duration,
}

impl Faults {
    /// Parses a comma-separated spec: `fail` (always fail), `fail:P`
    /// (fail with probability P), `delay_ms:N` (sleep N ms first).
    pub fn parse(spec: &str) -> Result<Self> {
        let mut faults = Faults::default();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item.split_once(':') {
                None if item == "fail" => faults.fail_probability = 1.0,
                Some(("fail", p)) => {
                    let p: f64 = p.parse().context("fail:P needs a number")?;
                    if !(0.0..=1.0).contains(&p) {
                        bail!("fail:P needs 0 <= P <= 1");
                    }
                    faults.fail_probability = p;
                }
                Some(("delay_ms", ms)) => {
                    faults.delay = Duration::from_millis(ms.parse().context("delay_ms:N")?);
                }
                _ => bail!("unknown key-value fault {item:?} (use fail, fail:P, delay_ms:N)"),
            }
        }
        Ok(faults)
    }

    fn is_active(&self) -> bool {
        self.fail_probability > 0.0 || !self.delay.is_zero()
    }
}

/// A tiny PRNG for fault decisions: good enough, and no extra dependency.
fn next_random() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x9E37_79B9)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Spin's file name of the default store in the state dir.
pub const DEFAULT_SQLITE_FILE: &str = "sqlite_key_value.db";

/// One SQLite database of Spin's layout (`crates/key-value-spin`).
pub struct SqliteKv {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteKv").finish_non_exhaustive()
    }
}

impl SqliteKv {
    /// Opens (creating if needed) the database file `path`, or an in-memory
    /// one when there is none.
    pub fn open(path: Option<&Path>) -> Result<Self> {
        let conn = match path {
            Some(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).with_context(|| {
                        format!(
                            "failed to create key value store's parent directory: '{}",
                            dir.display()
                        )
                    })?;
                }
                Connection::open(path)?
            }
            None => Connection::open_in_memory()?,
        };
        // Concurrent hosts (a test restarting one) should wait, not fail.
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute(
            "CREATE TABLE IF NOT EXISTS spin_key_value (
                store TEXT NOT NULL,
                key   TEXT NOT NULL,
                value BLOB NOT NULL,
                PRIMARY KEY (store, key)
            )",
            [],
        )?;
        Ok(Self {
            conn: Mutex::new(conn),
        })
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> std::result::Result<T, Error> {
        // A poisoned lock only means another request panicked mid-call; the
        // connection itself is still usable.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|e| Error::Other(format!("{e:?}")))
    }

    fn set(&self, store: &str, key: &str, value: &[u8]) -> std::result::Result<(), Error> {
        self.with_conn(|c| {
            c.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT(store, key) DO UPDATE SET value=$3",
            )?
            .execute(rusqlite::params![store, key, value])
            .map(drop)
        })
    }

    fn get(&self, store: &str, key: &str) -> std::result::Result<Option<Vec<u8>>, Error> {
        self.with_conn(|c| {
            let mut stmt =
                c.prepare_cached("SELECT value FROM spin_key_value WHERE store=$1 AND key=$2")?;
            let mut rows = stmt.query_map([store, key], |row| row.get::<_, Vec<u8>>(0))?;
            rows.next().transpose()
        })
    }

    fn delete(&self, store: &str, key: &str) -> std::result::Result<(), Error> {
        self.with_conn(|c| {
            c.prepare_cached("DELETE FROM spin_key_value WHERE store=$1 AND key=$2")?
                .execute([store, key])
                .map(drop)
        })
    }

    fn keys(&self, store: &str) -> std::result::Result<Vec<String>, Error> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached("SELECT key FROM spin_key_value WHERE store=$1")?;
            let rows = stmt.query_map([store], |row| row.get::<_, String>(0))?;
            rows.collect()
        })
    }
}

/// Key-value calls made by one request, for `FLOWGATE_HOST_KV_LOG`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KvCounts {
    /// `get` calls.
    pub get: u32,
    /// `set` calls.
    pub set: u32,
    /// `delete` calls.
    pub delete: u32,
    /// `exists` calls.
    pub exists: u32,
    /// `get-keys` calls.
    pub get_keys: u32,
    /// Spin variable reads (`fermyon:spin/variables` `get`), logged on the
    /// same line: on Spin each costs about as much as a key-value call.
    pub variables: u32,
    /// Stores opened through `fermyon:spin/key-value`: on Spin 4.0.2 an
    /// open is a host call on a blocking thread (SQLite) or a `PING` round
    /// trip (Redis), not free.
    pub spin_opens: u32,
    /// Stores opened through `wasi:keyvalue` (the same cost on Spin).
    pub wasi_opens: u32,
}

/// Per-instance key-value state.
#[derive(Debug)]
pub struct KvState {
    /// Labels this component may open.
    pub allowed: Arc<HashSet<String>>,
    /// The database.
    pub backend: Arc<KvBackend>,
    /// Stores currently open.
    open: u32,
    /// Calls made so far.
    pub counts: KvCounts,
}

impl KvState {
    /// Fresh state for one instance.
    pub fn new(allowed: Arc<HashSet<String>>, backend: Arc<KvBackend>) -> Self {
        Self {
            allowed,
            backend,
            open: 0,
            counts: KvCounts::default(),
        }
    }
}

/// Where one label's data lives.
#[derive(Debug)]
enum Backend {
    /// Spin's `spin` store type: SQLite.
    Sqlite(SqliteKv),
    /// Spin's `redis` store type.
    Redis(RedisStore),
}

/// Every store label of the application, and the fault switch.
#[derive(Debug)]
pub struct KvBackend {
    stores: HashMap<String, Backend>,
    faults: Faults,
}

impl KvBackend {
    /// The stores of `configured` (from the runtime config file), plus
    /// `default` on SQLite at `default_path` (in memory when `None`) unless
    /// the runtime config places it elsewhere, as Spin's
    /// `crates/runtime-config` does.
    pub fn open(
        configured: &std::collections::BTreeMap<String, StoreConfig>,
        default_path: Option<&Path>,
        faults: Faults,
    ) -> Result<Self> {
        let mut stores = HashMap::new();
        for (label, config) in configured {
            let backend = match config {
                StoreConfig::Spin { path } => Backend::Sqlite(SqliteKv::open(path.as_deref())?),
                StoreConfig::Redis { url } => Backend::Redis(RedisStore::new(url)?),
            };
            stores.insert(label.clone(), backend);
        }
        if !stores.contains_key(DEFAULT_STORE) {
            stores.insert(
                DEFAULT_STORE.to_owned(),
                Backend::Sqlite(SqliteKv::open(default_path)?),
            );
        }
        Ok(Self { stores, faults })
    }

    /// Checks the manifest's labels at startup, with Spin's message.
    pub fn check_labels(&self, component: &str, labels: &[String]) -> Result<()> {
        for label in labels {
            if !self.stores.contains_key(label) {
                bail!("unknown key_value_stores label {label:?} for component {component:?}");
            }
        }
        Ok(())
    }

    /// Sets a value of the `default` store directly (`--key-value`).
    pub async fn seed(&self, key: &str, value: &[u8]) -> std::result::Result<(), Error> {
        self.set(DEFAULT_STORE, key, value).await
    }

    fn backend(&self, label: &str) -> std::result::Result<&Backend, Error> {
        self.stores.get(label).ok_or(Error::NoSuchStore)
    }

    /// What Spin does when a store is opened: Redis connects (once per
    /// store, shared by later opens).
    async fn open_store(&self, label: &str) -> std::result::Result<(), Error> {
        match self.backend(label)? {
            Backend::Sqlite(_) => Ok(()),
            Backend::Redis(r) => r.connect().await.map(drop),
        }
    }

    /// Applies the configured delay and maybe an injected failure.
    async fn fault(&self) -> std::result::Result<(), Error> {
        if !self.faults.is_active() {
            return Ok(());
        }
        if !self.faults.delay.is_zero() {
            tokio::time::sleep(self.faults.delay).await;
        }
        if self.faults.fail_probability > 0.0 && next_random() < self.faults.fail_probability {
            return Err(Error::Other(
                "injected fault (FLOWGATE_HOST_KV_FAULTS)".to_string(),
            ));
        }
        Ok(())
    }

    async fn get(&self, label: &str, key: &str) -> std::result::Result<Option<Vec<u8>>, Error> {
        self.fault().await?;
        match self.backend(label)? {
            Backend::Sqlite(db) => db.get(label, key),
            Backend::Redis(r) => r.get(key).await,
        }
    }

    async fn set(&self, label: &str, key: &str, value: &[u8]) -> std::result::Result<(), Error> {
        self.fault().await?;
        match self.backend(label)? {
            Backend::Sqlite(db) => db.set(label, key, value),
            Backend::Redis(r) => r.set(key, value).await,
        }
    }

    async fn delete(&self, label: &str, key: &str) -> std::result::Result<(), Error> {
        self.fault().await?;
        match self.backend(label)? {
            Backend::Sqlite(db) => db.delete(label, key),
            Backend::Redis(r) => r.delete(key).await,
        }
    }

    async fn exists(&self, label: &str, key: &str) -> std::result::Result<bool, Error> {
        self.fault().await?;
        match self.backend(label)? {
            // Spin's SQLite store implements `exists` as a `get`.
            Backend::Sqlite(db) => db.get(label, key).map(|v| v.is_some()),
            Backend::Redis(r) => r.exists(key).await,
        }
    }

    async fn keys(&self, label: &str) -> std::result::Result<Vec<String>, Error> {
        self.fault().await?;
        match self.backend(label)? {
            Backend::Sqlite(db) => db.keys(label),
            Backend::Redis(r) => r.keys().await,
        }
    }

    async fn increment(
        &self,
        label: &str,
        key: &str,
        delta: i64,
    ) -> std::result::Result<i64, Error> {
        self.fault().await?;
        match self.backend(label)? {
            Backend::Sqlite(db) => db.increment(label, key, delta),
            Backend::Redis(r) => r.increment(key, delta).await,
        }
    }

    /// Spin's `new_compare_and_swap`: on Redis a connection of its own.
    async fn new_cas(&self, label: &str, key: &str) -> std::result::Result<KvCas, Error> {
        let redis = match self.backend(label)? {
            Backend::Sqlite(_) => None,
            Backend::Redis(r) => Some(r.new_cas().await?),
        };
        Ok(KvCas {
            label: label.to_owned(),
            key: key.to_owned(),
            seen: None,
            redis,
        })
    }

    /// `cas.current`: SQLite remembers the value; Redis `WATCH`es the key
    /// on the swap's connection, then reads it.
    async fn current(&self, cas: &mut KvCas) -> std::result::Result<Option<Vec<u8>>, Error> {
        self.fault().await?;
        match (self.backend(&cas.label)?, cas.redis.as_mut()) {
            (Backend::Redis(_), Some(conn)) => conn.current(&cas.key).await,
            (Backend::Sqlite(db), _) => {
                let value = db.get(&cas.label, &cas.key)?;
                cas.seen.clone_from(&value);
                Ok(value)
            }
            (Backend::Redis(_), None) => Err(Error::Other("cas without a connection".into())),
        }
    }

    /// `swap`: `Ok(false)` is Spin's `SwapError::CasFailed`.
    async fn swap(&self, cas: &mut KvCas, value: &[u8]) -> std::result::Result<bool, Error> {
        self.fault().await?;
        match (self.backend(&cas.label)?, cas.redis.as_mut()) {
            (Backend::Redis(_), Some(conn)) => conn.swap(&cas.key, value).await,
            (Backend::Sqlite(db), _) => db.swap(&cas.label, &cas.key, cas.seen.as_deref(), value),
            (Backend::Redis(_), None) => Err(Error::Other("cas without a connection".into())),
        }
    }
}

type KvResult<T> = wasmtime::Result<std::result::Result<T, Error>>;

/// What the key-value interfaces reach of an instance: its resource table
/// (the open stores and swaps) and its key-value state.
pub struct KvView<'a> {
    pub(crate) table: &'a mut ResourceTable,
    pub(crate) kv: &'a mut KvState,
}

/// The [`HasData`] of the key-value interfaces.
pub struct KvData;

impl HasData for KvData {
    type Data<'a> = KvView<'a>;
}

impl KvView<'_> {
    fn label(&self, store: &Resource<KvStore>) -> wasmtime::Result<String> {
        Ok(self.table.get(store)?.label.clone())
    }
}

impl Host for KvView<'_> {}

impl HostStore for KvView<'_> {
    async fn open(&mut self, label: String) -> KvResult<Resource<KvStore>> {
        if !self.kv.allowed.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        if self.kv.open >= STORE_TABLE_CAPACITY {
            return Ok(Err(Error::StoreTableFull));
        }
        if let Err(e) = self.kv.backend.open_store(&label).await {
            return Ok(Err(e));
        }
        self.kv.open += 1;
        self.kv.counts.spin_opens += 1;
        Ok(Ok(self.table.push(KvStore { label })?))
    }

    async fn get(&mut self, store: Resource<KvStore>, key: String) -> KvResult<Option<Vec<u8>>> {
        let label = self.label(&store)?;
        self.kv.counts.get += 1;
        Ok(self.kv.backend.get(&label, &key).await)
    }

    async fn set(&mut self, store: Resource<KvStore>, key: String, value: Vec<u8>) -> KvResult<()> {
        let label = self.label(&store)?;
        self.kv.counts.set += 1;
        Ok(self.kv.backend.set(&label, &key, &value).await)
    }

    async fn delete(&mut self, store: Resource<KvStore>, key: String) -> KvResult<()> {
        let label = self.label(&store)?;
        self.kv.counts.delete += 1;
        Ok(self.kv.backend.delete(&label, &key).await)
    }

    async fn exists(&mut self, store: Resource<KvStore>, key: String) -> KvResult<bool> {
        let label = self.label(&store)?;
        self.kv.counts.exists += 1;
        Ok(self.kv.backend.exists(&label, &key).await)
    }

    async fn get_keys(&mut self, store: Resource<KvStore>) -> KvResult<Vec<String>> {
        let label = self.label(&store)?;
        self.kv.counts.get_keys += 1;
        Ok(self.kv.backend.keys(&label).await)
    }

    async fn drop(&mut self, store: Resource<KvStore>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        self.kv.open = self.kv.open.saturating_sub(1);
        Ok(())
    }
}

/// The guest-visible `wasi:keyvalue/atomics.cas` resource: a key and what
/// `current` last saw there (`None` until `current` is called), as in
/// Spin's `key-value-spin` store; on Redis, the swap's own connection, as in
/// Spin's `key-value-redis` store.
#[derive(Debug)]
pub struct KvCas {
    label: String,
    key: String,
    seen: Option<Vec<u8>>,
    redis: Option<RedisCas>,
}

impl SqliteKv {
    /// Sets `key` to `value` if it still holds `old`, in one statement under
    /// the connection's lock; `false` if it did not. With no `old` (nothing
    /// seen, or an absent key) Spin upserts unconditionally, and so does this.
    fn swap(
        &self,
        store: &str,
        key: &str,
        old: Option<&[u8]>,
        value: &[u8],
    ) -> std::result::Result<bool, Error> {
        match old {
            Some(old) => self.with_conn(|c| {
                c.prepare_cached(
                    // `$N` are named parameters in SQLite, numbered by first
                    // appearance: keep them in order.
                    "UPDATE spin_key_value SET value=$1 WHERE store=$2 AND key=$3 AND value=$4",
                )?
                .execute(rusqlite::params![value, store, key, old])
                .map(|rows| rows == 1)
            }),
            None => self.set(store, key, value).map(|()| true),
        }
    }

    /// Adds `delta` to the little-endian i64 under `key` (0 if absent), in
    /// a transaction as Spin's store does (another host process may share
    /// the file).
    fn increment(&self, store: &str, key: &str, delta: i64) -> std::result::Result<i64, Error> {
        self.with_conn(|c| {
            let tx = c.unchecked_transaction()?;
            let old: Option<Vec<u8>> = tx
                .prepare_cached("SELECT value FROM spin_key_value WHERE store=$1 AND key=$2")?
                .query_map([store, key], |row| row.get::<_, Vec<u8>>(0))?
                .next()
                .transpose()?;
            let old = match old {
                None => 0,
                Some(bytes) => i64::from_le_bytes(bytes.try_into().map_err(|_| {
                    rusqlite::Error::InvalidColumnType(
                        0,
                        "value".into(),
                        rusqlite::types::Type::Blob,
                    )
                })?),
            };
            let new = old.wrapping_add(delta);
            tx.prepare_cached(
                "INSERT INTO spin_key_value (store, key, value) VALUES ($1, $2, $3)
                 ON CONFLICT(store, key) DO UPDATE SET value=$3",
            )?
            .execute(rusqlite::params![store, key, new.to_le_bytes().to_vec()])?;
            tx.commit()?;
            Ok(new)
        })
    }
}

mod wasi_kv {
    //! `wasi:keyvalue/store` and `wasi:keyvalue/atomics` (draft 2024-10-17)
    //! over the same stores, as Spin's `factor-key-value` serves them
    //! (`crates/factor-key-value/src/host.rs` at `v4.0.2`; `v3.6.3` alike):
    //! the same labels and access rules as `fermyon:spin/key-value`, and a
    //! failed swap answered with a fresh `cas` that has already read the
    //! key again.

    use wasmtime::component::Resource;

    use super::KvView;
    use super::{KvCas, KvStore, STORE_TABLE_CAPACITY};
    use crate::bindings::wasi::keyvalue::atomics::{self, CasError};
    use crate::bindings::wasi::keyvalue::store::{self, Error, KeyResponse};

    type Wasi<T> = wasmtime::Result<std::result::Result<T, Error>>;

    fn convert(e: super::Error) -> Error {
        match e {
            super::Error::AccessDenied => Error::AccessDenied,
            super::Error::NoSuchStore => Error::NoSuchStore,
            super::Error::StoreTableFull => Error::Other("store table full".into()),
            super::Error::Other(m) => Error::Other(m),
        }
    }

    impl KvView<'_> {
        fn bucket_label(&self, bucket: &Resource<KvStore>) -> wasmtime::Result<String> {
            Ok(self.table.get(bucket)?.label.clone())
        }
    }

    impl store::Host for KvView<'_> {
        async fn open(&mut self, identifier: String) -> Wasi<Resource<KvStore>> {
            if !self.kv.allowed.contains(&identifier) {
                return Ok(Err(Error::AccessDenied));
            }
            if self.kv.open >= STORE_TABLE_CAPACITY {
                return Ok(Err(Error::Other("store table full".into())));
            }
            if let Err(e) = self.kv.backend.open_store(&identifier).await {
                return Ok(Err(convert(e)));
            }
            self.kv.open += 1;
            self.kv.counts.wasi_opens += 1;
            Ok(Ok(self.table.push(KvStore { label: identifier })?))
        }
    }

    impl store::HostBucket for KvView<'_> {
        async fn get(&mut self, bucket: Resource<KvStore>, key: String) -> Wasi<Option<Vec<u8>>> {
            let label = self.bucket_label(&bucket)?;
            self.kv.counts.get += 1;
            Ok(self.kv.backend.get(&label, &key).await.map_err(convert))
        }

        async fn set(
            &mut self,
            bucket: Resource<KvStore>,
            key: String,
            value: Vec<u8>,
        ) -> Wasi<()> {
            let label = self.bucket_label(&bucket)?;
            self.kv.counts.set += 1;
            Ok(self
                .kv
                .backend
                .set(&label, &key, &value)
                .await
                .map_err(convert))
        }

        async fn delete(&mut self, bucket: Resource<KvStore>, key: String) -> Wasi<()> {
            let label = self.bucket_label(&bucket)?;
            self.kv.counts.delete += 1;
            Ok(self.kv.backend.delete(&label, &key).await.map_err(convert))
        }

        async fn exists(&mut self, bucket: Resource<KvStore>, key: String) -> Wasi<bool> {
            let label = self.bucket_label(&bucket)?;
            self.kv.counts.exists += 1;
            Ok(self.kv.backend.exists(&label, &key).await.map_err(convert))
        }

        async fn list_keys(
            &mut self,
            bucket: Resource<KvStore>,
            _cursor: Option<String>,
        ) -> Wasi<KeyResponse> {
            let label = self.bucket_label(&bucket)?;
            self.kv.counts.get_keys += 1;
            // Spin returns every key at once, without a cursor.
            Ok(self
                .kv
                .backend
                .keys(&label)
                .await
                .map(|keys| KeyResponse { keys, cursor: None })
                .map_err(convert))
        }

        async fn drop(&mut self, bucket: Resource<KvStore>) -> wasmtime::Result<()> {
            self.table.delete(bucket)?;
            self.kv.open = self.kv.open.saturating_sub(1);
            Ok(())
        }
    }

    impl atomics::Host for KvView<'_> {
        async fn increment(
            &mut self,
            bucket: Resource<KvStore>,
            key: String,
            delta: i64,
        ) -> Wasi<i64> {
            let label = self.bucket_label(&bucket)?;
            self.kv.counts.set += 1;
            Ok(self
                .kv
                .backend
                .increment(&label, &key, delta)
                .await
                .map_err(convert))
        }

        async fn swap(
            &mut self,
            cas: Resource<KvCas>,
            value: Vec<u8>,
        ) -> wasmtime::Result<std::result::Result<(), CasError>> {
            self.kv.counts.set += 1;
            let mut entry = self.table.delete(cas)?;
            match self.kv.backend.swap(&mut entry, &value).await {
                Ok(true) => Ok(Ok(())),
                Ok(false) => {
                    // As Spin's factor: a new `cas` for the key, which reads
                    // it (`current`) before it is handed back.
                    let backend = self.kv.backend.clone();
                    let mut fresh = match backend.new_cas(&entry.label, &entry.key).await {
                        Ok(c) => c,
                        Err(e) => return Ok(Err(CasError::StoreError(convert(e)))),
                    };
                    if let Err(e) = backend.current(&mut fresh).await {
                        return Ok(Err(CasError::StoreError(convert(e))));
                    }
                    Ok(Err(CasError::CasFailed(self.table.push(fresh)?)))
                }
                Err(e) => Ok(Err(CasError::StoreError(convert(e)))),
            }
        }
    }

    impl atomics::HostCas for KvView<'_> {
        async fn new(&mut self, bucket: Resource<KvStore>, key: String) -> Wasi<Resource<KvCas>> {
            let label = self.bucket_label(&bucket)?;
            match self.kv.backend.new_cas(&label, &key).await {
                Ok(cas) => Ok(Ok(self.table.push(cas)?)),
                Err(e) => Ok(Err(convert(e))),
            }
        }

        async fn current(&mut self, cas: Resource<KvCas>) -> Wasi<Option<Vec<u8>>> {
            self.kv.counts.get += 1;
            let backend = self.kv.backend.clone();
            let entry = self.table.get_mut(&cas)?;
            Ok(backend.current(entry).await.map_err(convert))
        }

        async fn drop(&mut self, cas: Resource<KvCas>) -> wasmtime::Result<()> {
            self.table.delete(cas)?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs() {
        let f = Faults::parse("fail").unwrap_or_default();
        assert_eq!(f.fail_probability, 1.0);
        let f = Faults::parse("fail:0.3,delay_ms:200").unwrap_or_default();
        assert_eq!(f.fail_probability, 0.3);
        assert_eq!(f.delay, Duration::from_millis(200));
        assert!(Faults::parse("fail:2").is_err());
        assert!(Faults::parse("boom").is_err());
    }

    #[test]
    fn swap_writes_only_over_the_value_seen() -> Result<()> {
        let b = SqliteKv::open(None)?;
        let e = |e: Error| anyhow::anyhow!("{e:?}");
        b.set("default", "k", b"one").map_err(e)?;
        assert!(!b.swap("default", "k", Some(b"zero"), b"two").map_err(e)?);
        assert_eq!(b.get("default", "k").map_err(e)?, Some(b"one".to_vec()));
        assert!(b.swap("default", "k", Some(b"one"), b"two").map_err(e)?);
        assert_eq!(b.get("default", "k").map_err(e)?, Some(b"two".to_vec()));
        assert_eq!(b.increment("default", "n", 5).map_err(e)?, 5);
        assert_eq!(b.increment("default", "n", -2).map_err(e)?, 3);
        Ok(())
    }

    #[test]
    fn sqlite_roundtrip() -> Result<()> {
        let b = SqliteKv::open(None)?;
        let e = |e: Error| anyhow::anyhow!("{e:?}");
        b.set("default", "k", b"v").map_err(e)?;
        assert_eq!(b.get("default", "k").map_err(e)?, Some(b"v".to_vec()));
        assert_eq!(b.get("other", "k").map_err(e)?, None);
        Ok(())
    }

    #[test]
    fn only_configured_labels_and_default_are_defined() -> Result<()> {
        let mut configured = std::collections::BTreeMap::new();
        configured.insert("cache".to_owned(), StoreConfig::Spin { path: None });
        let kv = KvBackend::open(&configured, None, Faults::default())?;
        kv.check_labels("c", &["default".into(), "cache".into()])?;
        let refused = kv.check_labels("c", &["other".into()]);
        assert!(
            refused
                .err()
                .is_some_and(|e| e.to_string().contains("unknown key_value_stores label"))
        );
        Ok(())
    }
}
