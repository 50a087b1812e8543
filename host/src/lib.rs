//! flowgate-host: a small test host that runs a Spin application's WASI 0.2
//! HTTP components the way `spin up` does, so that the project's integration
//! tests can run where the Spin CLI cannot be installed. Everything observable
//! (routing, `spin-*` headers, 404/500 responses, key-value and variables
//! semantics and errors, outbound allow-lists) follows Spin's source; see
//! README.md for the list of what is and is not reproduced.
//!
//! Test-only switches, all off unless their environment variable is set:
//! - `FLOWGATE_HOST_KV_LOG=<file>`: after each request, append
//!   `<component> <method> <path> get=N set=N delete=N exists=N get_keys=N variables=N spin_opens=N wasi_opens=N`
//!   (the key-value calls, variable reads and store opens, per interface, that request made) to the file. The response's end
//!   is held until the line is written, so a client that has read the whole
//!   response can read the line.
//! - `FLOWGATE_HOST_KV_FAULTS=<spec>`: comma-separated `fail` (every
//!   key-value data operation fails), `fail:P` (each fails with probability
//!   P), `delay_ms:N` (each sleeps N ms first). Failures are the interface's
//!   `other(string)` error. `open` is never affected.
//!
//! Library use: build a [`HostConfig`], call [`start`] inside a multi-thread
//! tokio runtime, and use [`RunningHost::addr`].

pub mod instance;
pub mod kv;
pub mod manifest;
pub mod outbound;
pub mod redis_kv;
pub mod routes;
pub mod runtime_config;
pub mod server;
pub mod template;
pub mod variables;

pub use server::{HostConfig, RunningHost, StateDir, start};

/// Host bindings for the Spin interfaces (WIT in `host/wit`).
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "wit",
        world: "flowgate:host/host",
        imports: { default: async | trappable },
        with: {
            "fermyon:spin/key-value.store": crate::kv::KvStore,
            "wasi:keyvalue/store.bucket": crate::kv::KvStore,
            "wasi:keyvalue/atomics.cas": crate::kv::KvCas,
        },
    });
}
