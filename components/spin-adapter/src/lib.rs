//! The Spin and WASI side of the core's traits, shared by both components:
//! the key-value store, variables, wall clock and CSPRNG. Everything that can
//! fail here fails closed: the caller answers `503`.
#![deny(unsafe_code)]

use flowgate::env::{Clock, Random};
use flowgate::store::{Store, StoreError};
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

/// The `default` key-value store.
pub struct SpinStore(key_value::Store);

impl SpinStore {
    /// Opens the `default` store, the only one flowgate uses.
    pub fn open_default() -> Result<Self, StoreError> {
        key_value::Store::open_default()
            .map(Self)
            .map_err(|e| StoreError(format!("open: {e}")))
    }
}

impl Store for SpinStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.get(key).map_err(|e| StoreError(format!("get: {e}")))
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.0
            .set(key, value)
            .map_err(|e| StoreError(format!("set: {e}")))
    }
    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.0
            .delete(key)
            .map_err(|e| StoreError(format!("delete: {e}")))
    }
    fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.0
            .get_keys()
            .map_err(|e| StoreError(format!("get_keys: {e}")))
    }
}

/// An account record read so that it can be written back only if nobody
/// changed it meanwhile: `wasi:keyvalue` compare-and-swap. Reading it costs
/// the same one read as a plain `get`.
pub struct SwappableRecord {
    cas: keyvalue::atomics::Cas,
    /// The bytes read (`None`: no such key).
    pub value: Option<Vec<u8>>,
}

impl SwappableRecord {
    /// Reads `key` of the `default` store.
    pub fn read(key: &str) -> Result<Self, StoreError> {
        use keyvalue::{atomics, store};
        let bucket = store::open("default").map_err(|e| StoreError(format!("open: {e:?}")))?;
        let cas = atomics::Cas::new(&bucket, key).map_err(|e| StoreError(format!("cas: {e:?}")))?;
        let value = cas
            .current()
            .map_err(|e| StoreError(format!("get: {e:?}")))?;
        Ok(Self { cas, value })
    }

    /// Writes `value` if the record still holds what was read. `Ok(false)`:
    /// someone else wrote it first, and nothing was written.
    pub fn swap(self, value: &[u8]) -> Result<bool, StoreError> {
        use keyvalue::atomics::{CasError, swap};
        match swap(self.cas, value) {
            Ok(()) => Ok(true),
            Err(CasError::CasFailed(_)) => Ok(false),
            Err(CasError::StoreError(e)) => Err(StoreError(format!("swap: {e:?}"))),
        }
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
