//! flowgate's pure core: credential formats and parsing, keyed hashing, account
//! records, flow policies, path normalisation, the authorisation decision and
//! the account lifecycle. It does no I/O: storage, clock and randomness come in
//! through the small traits of [`env`], so that the Spin components (and later
//! a WASIp3 build of them) are thin adapters around it.
#![forbid(unsafe_code)]
// No I/O by accident: clock, environment, files, processes and network
// (clippy.toml says which calls and why), and no printing. The workspace
// allows the first two lints elsewhere; they are denied here, for the core.
#![deny(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::dbg_macro
)]

pub mod account;
pub mod admin;
pub mod assertion;
pub mod certificate;
pub mod credential;
pub mod decision;
pub mod encoding;
pub mod env;
pub mod hash;
pub mod oauth;
pub mod oidc;
pub mod path;
pub mod pki;
pub mod policy;
pub mod secret;
pub mod store;
pub mod token;
pub mod usage;
pub mod varcache;
pub mod verified;
