//! The Spin and WASI side of the core's traits, shared by both components:
//! the key-value store, variables, wall clock and CSPRNG. Everything that can
//! fail here fails closed: the caller answers `503`.
#![deny(unsafe_code)]

use std::cell::RefCell;
use std::rc::Rc;

use flowgate::env::{Clock, Random};
use flowgate::store::{Store, StoreError, swap};
use spin_sdk::key_value;

/// Bindings for the parts of `wasi:keyvalue` flowgate uses (WIT in `wit/`):
/// a bucket and compare-and-swap. Spin offers them on the same stores as
/// `fermyon:spin/key-value`, so reads through one see writes through the
/// other. The generated glue uses `unsafe` FFI; it is confined to this
/// module.
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod keyvalue {
    wit_bindgen::generate!({
        path: "wit",
        world: "flowgate:spin/keyvalue-cas",
        generate_all,
    });
    pub use self::wasi::keyvalue::{atomics, store};
}

// The store handles an instance keeps once opened. Opening is a host call
// of its own, and not a cheap one: Spin 4.0.2 answers it on a blocking
// thread for its SQLite store and with a `PING` round trip for Redis
// (`KeyValueSqlite::get` and `RedisStore::after_open`,
// `crates/key-value-spin` and `crates/key-value-redis` at `v4.0.2`). A
// WASI 0.2 instance serves one request, so a kept handle lives for that
// request; a WASIp3 instance on Spin 4 serves up to 128 (docs/p3.md). A
// handle is only a way to reach the store: every read still goes to it,
// and nothing read is kept. A handle whose call failed is forgotten, so
// the next request opens the store again.
thread_local! {
    static KEPT_STORE: RefCell<Option<Rc<key_value::Store>>> = const { RefCell::new(None) };
    static KEPT_BUCKET: RefCell<Option<Rc<keyvalue::store::Bucket>>> =
        const { RefCell::new(None) };
    static KEPT_STDERR: RefCell<Option<Rc<wasi::io::streams::OutputStream>>> =
        const { RefCell::new(None) };
}

/// Forgets the kept `fermyon:spin/key-value` handle after a failed call.
fn store_failed(what: &str, e: impl std::fmt::Display) -> StoreError {
    KEPT_STORE.with_borrow_mut(|kept| *kept = None);
    StoreError(format!("{what}: {e}"))
}

/// Forgets the kept `wasi:keyvalue` handle after a failed call.
fn bucket_failed(what: &str, e: impl std::fmt::Debug) -> StoreError {
    KEPT_BUCKET.with_borrow_mut(|kept| *kept = None);
    StoreError(format!("{what}: {e:?}"))
}

/// The `default` key-value store.
pub struct SpinStore(Rc<key_value::Store>);

impl SpinStore {
    /// Opens the `default` store, the only one flowgate uses, or reuses
    /// this instance's open handle.
    pub fn open_default() -> Result<Self, StoreError> {
        if let Some(store) = KEPT_STORE.with_borrow(Option::clone) {
            return Ok(Self(store));
        }
        let store = Rc::new(key_value::Store::open_default().map_err(|e| store_failed("open", e))?);
        KEPT_STORE.with_borrow_mut(|kept| *kept = Some(Rc::clone(&store)));
        Ok(Self(store))
    }
}

impl Store for SpinStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(key).map_err(|e| store_failed("get", e))
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.0.set(key, value).map_err(|e| store_failed("set", e))
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.0.delete(key).map_err(|e| store_failed("delete", e))
    }
    fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.0.get_keys().map_err(|e| store_failed("get_keys", e))
    }
    fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        // Through `wasi:keyvalue`, on this instance's kept handle (opened
        // here if nothing opened it yet).
        Atomics::open_default()?.increment(key, delta)
    }
}

/// `wasi:keyvalue` on the `default` store: compare-and-swap and increment.
/// Every swap goes through [`flowgate::store::swap::swap_from`], which
/// settles a reported `cas-failed` by reading the record again (Spin's Redis
/// store reports it after every swap, applied or not).
pub struct Atomics {
    bucket: Rc<keyvalue::store::Bucket>,
}

impl Atomics {
    /// Opens the `default` store through `wasi:keyvalue`, or reuses this
    /// instance's open handle.
    pub fn open_default() -> Result<Self, StoreError> {
        if let Some(bucket) = KEPT_BUCKET.with_borrow(Option::clone) {
            return Ok(Self { bucket });
        }
        let bucket = Rc::new(
            keyvalue::store::open("default").map_err(|e| bucket_failed("wasi:keyvalue open", e))?,
        );
        KEPT_BUCKET.with_borrow_mut(|kept| *kept = Some(Rc::clone(&bucket)));
        Ok(Self { bucket })
    }

    /// Adds `delta` to the counter under `key` (`INCRBY` on Redis).
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64, StoreError> {
        keyvalue::atomics::increment(&self.bucket, key, delta)
            .map_err(|e| bucket_failed("increment", e))
    }

    /// Counts one request in a usage-control counter (rate limit, quota or
    /// usage figure) and returns the new count. Every such increment, in
    /// every component, goes through here: this is the one place that
    /// knows a counter was just created (the count is 1) and when it may
    /// be deleted (`counter.delete_after`).
    pub fn count(&self, counter: &flowgate::usage::Counter) -> Result<i64, StoreError> {
        let count = self.increment(&counter.key, 1)?;
        if count == 1 {
            // Issue 16: the increment that creates a counter files it in the
            // expiry index, under `delete_after`, for prune; a failure here
            // fails the request (503), as a failed count does.
            flowgate::store::expiry::file_counter(
                &SpinStore::open_default()?,
                counter,
                count,
                WasiClock.now(),
            )?;
        }
        Ok(count)
    }
}

impl swap::Atomics for Atomics {
    type Cas = keyvalue::atomics::Cas;

    fn watch(&self, key: &str) -> Result<(Self::Cas, Option<Vec<u8>>), StoreError> {
        let cas =
            keyvalue::atomics::Cas::new(&self.bucket, key).map_err(|e| bucket_failed("cas", e))?;
        let value = cas.current().map_err(|e| bucket_failed("cas current", e))?;
        Ok((cas, value))
    }

    fn swap(&self, cas: Self::Cas, value: &[u8]) -> Result<swap::SwapReport, StoreError> {
        use keyvalue::atomics::CasError;
        match keyvalue::atomics::swap(cas, value) {
            Ok(()) => Ok(swap::SwapReport::Swapped),
            Err(CasError::CasFailed(_)) => Ok(swap::SwapReport::CasFailed),
            Err(CasError::StoreError(e)) => Err(bucket_failed("cas swap", e)),
        }
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.bucket.get(key).map_err(|e| bucket_failed("get", e))
    }
}

/// An account record read so that it can be written back only if nobody
/// changed it meanwhile. The read is a plain `get`: a compare-and-swap
/// starts only when there is something to write (on Spin's Redis store each
/// one opens a connection of its own and `WATCH`es the key, too dear for
/// every request).
pub struct SwappableRecord {
    atomics: Atomics,
    key: String,
    /// The bytes read (`None`: no such key).
    pub value: Option<Vec<u8>>,
}

impl SwappableRecord {
    /// Reads `key` of the `default` store.
    pub fn read(key: &str) -> Result<Self, StoreError> {
        let atomics = Atomics::open_default()?;
        let value = swap::Atomics::get(&atomics, key)?;
        Ok(Self {
            atomics,
            key: key.to_owned(),
            value,
        })
    }

    /// Writes `value` (a JSON object) if the record still holds what was
    /// read. `Ok(false)`: someone else wrote it first, and nothing was
    /// written.
    pub fn swap(self, value: &[u8]) -> Result<bool, StoreError> {
        let outcome = swap::swap_from(
            &self.atomics,
            &self.key,
            self.value.as_deref(),
            value,
            &WasiRandom,
        )?;
        Ok(matches!(outcome, swap::Swap::Written(_)))
    }
}

/// A variable that could not be read. Names the variable, never a value.
#[derive(Debug)]
pub struct VariableError(pub &'static str);

impl std::fmt::Display for VariableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Spin variable `{}` is missing or unreadable", self.0)
    }
}

/// Reads a Spin variable of this component.
pub fn variable(name: &'static str) -> Result<String, VariableError> {
    spin_sdk::variables::get(name).map_err(|_| VariableError(name))
}

/// Reads a variable whose name comes from a policy. `None` if unreadable.
pub fn dynamic_variable(name: &str) -> Option<String> {
    spin_sdk::variables::get(name).ok()
}

/// WASI's monotonic clock, in nanoseconds: for ages within one instance,
/// never for a time that is stored or compared across instances.
pub fn monotonic_nanos() -> u64 {
    wasi::clocks::monotonic_clock::now()
}

/// WASI wall clock.
#[derive(Debug, Clone, Copy)]
pub struct WasiClock;

impl Clock for WasiClock {
    fn now(&self) -> u64 {
        wasi::clocks::wall_clock::now().seconds
    }
}

/// WASI `random`, which the host must back with a CSPRNG.
#[derive(Debug, Clone, Copy)]
pub struct WasiRandom;

impl Random for WasiRandom {
    fn fill(&self, buf: &mut [u8]) {
        let bytes = wasi::random::random::get_random_bytes(buf.len() as u64);
        // WASI promises exactly the requested length. Should a host break that,
        // trapping (a 500) is better than a secret with predictable bytes.
        assert_eq!(bytes.len(), buf.len(), "WASI random returned a short read");
        buf.copy_from_slice(&bytes);
    }
}

/// Reads the HMAC pepper (`hmac_pepper`): the one place any component reads
/// it. The error names the variable, never its value.
pub fn pepper() -> Result<flowgate::hash::Pepper, String> {
    let text = variable(flowgate::hash::PEPPER_VARIABLE).map_err(|e| e.to_string())?;
    flowgate::hash::Pepper::from_variable(&text).map_err(|e| e.to_string())
}

/// The most bytes WASI 0.2's `blocking-write-and-flush` takes in one call.
pub const BLOCKING_WRITE_LIMIT: usize = 4096;

/// Writes `bytes` to `stream` with `blocking-write-and-flush`, at most
/// [`BLOCKING_WRITE_LIMIT`] bytes a call. `false` if the stream refused a
/// write (the rest is not written).
pub fn write_flushed(stream: &wasi::io::streams::OutputStream, bytes: &[u8]) -> bool {
    bytes
        .chunks(BLOCKING_WRITE_LIMIT)
        .all(|chunk| stream.blocking_write_and_flush(chunk).is_ok())
}

/// Writes `bytes` to the component's standard error through the WASI stream
/// itself (`wasi:cli/stderr`). `std::io::stderr()` reaches the same stream
/// through wasi-libc's descriptor layer; going direct made a refusal, whose
/// log line is its one write, about 3 % cheaper on the test host and 1-3 %
/// on Spin 4.0.2 (issue 16, docs/benchmarks.md). A failed write is dropped:
/// a request is never failed for its log line.
///
/// The stream is kept for the life of the instance, as the store handles
/// are: on a WASIp3 instance that Spin 4 reuses, a refusal's line then
/// costs its one write, without asking for the stream and dropping it
/// again. A stream that refused a write is forgotten; the next line asks
/// for it anew.
pub fn write_stderr(bytes: &[u8]) {
    let stream = KEPT_STDERR.with_borrow_mut(|kept| {
        Rc::clone(kept.get_or_insert_with(|| Rc::new(wasi::cli::stderr::get_stderr())))
    });
    if !write_flushed(&stream, bytes) {
        KEPT_STDERR.with_borrow_mut(|kept| *kept = None);
    }
}
