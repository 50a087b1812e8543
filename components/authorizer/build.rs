//! Link settings of the authorizer's wasm build.
//!
//! The stack: Rust's wasm targets reserve 1 MiB of linear memory for it, and
//! a host that pools instances (Spin 4.0.2 and 3.6.3, `crates/core`,
//! `linear_memory_keep_resident`: 2 MiB) zeroes an instance's whole linear
//! memory, up to that size, after every request: the stack was 1 MiB of the
//! authorizer's 1.1 MiB, so most of what every request paid to reset memory
//! was an unused stack. 256 KiB is several times the deepest stack any path
//! was measured to reach (docs/benchmarks.md, "Stack"); an overflow would trap
//! (a 500, never memory corruption).
//!
//! The floors of `bench/load.sh` (`bench/fixtures/{hello,kv-floor,
//! proxy-floor}`) are linked by this same script, so that they are built as
//! the authorizer is and a ratio to them measures work, not link settings.

/// Stack of the authorizer's wasm build, in bytes.
const STACK_BYTES: u32 = 256 * 1024;

fn main() {
    // No `rerun-if-changed`: it names a path under the package being built,
    // and the floors run this script from another package, where
    // `build.rs` does not exist and would make them rebuild on every cargo
    // call. Without it cargo reruns this (trivial) script when the
    // package's files change; a change to the script itself recompiles it.
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size={STACK_BYTES}");
    }
}
