//! flowgate's pure core: credential formats and parsing, keyed hashing, account
//! records, flow policies, path normalisation, the authorisation decision and
//! the account lifecycle. It does no I/O: storage, clock and randomness come in
//! through the small traits of [`env`], so that the Spin components (and later
//! a WASIp3 build of them) are thin adapters around it.
#![forbid(unsafe_code)]

pub mod account;
pub mod admin;
pub mod assertion;
pub mod authz;
pub mod certificate;
pub mod credential;
pub mod encoding;
pub mod env;
pub mod hash;
pub mod oauth;
pub mod oidc;
pub mod path;
pub mod policy;
pub mod secret;
pub mod store;
pub mod token;
pub mod usage;
pub mod verified;
