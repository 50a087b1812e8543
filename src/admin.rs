//! The service-account lifecycle behind `/admin/v1`: accounts, credentials,
//! API tokens, grants and the audit log, over the [`Store`] trait. The
//! management component parses HTTP and calls these; every rule lives here.
//!
//! Write order: the account record (`acct/<id>`) is the source of truth and is
//! always written first; indexes (`name/`, `grant/`) follow. Every input is
//! validated before the first write, so a refused request changes nothing.

mod accounts;
mod audit;
mod error;
mod fields;
mod grants;
mod issuers;
mod records;
mod secrets;
mod views;

pub mod access;
pub mod credentials;
pub mod export;
pub mod groups;
pub mod index;
mod index_reads;
mod names;
pub mod prune;
pub mod query;
pub mod roles;
pub mod routes;
pub mod service_key;
pub mod usage;

#[cfg(test)]
mod tests;

pub use accounts::AccountQuery;
pub use audit::{AuditEntry, AuditQuery};
pub use error::AdminError;
pub use fields::is_account_name;
pub use views::{AccountView, CreatedToken, Page, PublicKeyView, TokenView, WithSecret};

use error::{field, not_found};
use fields::{Fields, check_description, names, parse_scope};

use crate::env::{Clock, Random};
use crate::hash::Pepper;
use crate::policy::Flow;
use crate::store::Store;

/// The admin operations, bound to a store, clock, randomness, pepper and the
/// compiled flows.
pub struct Admin<'a> {
    /// Where records live.
    pub store: &'a dyn Store,
    /// Time source.
    pub clock: &'a dyn Clock,
    /// CSPRNG.
    pub random: &'a dyn Random,
    /// HMAC key of credential digests.
    pub pepper: &'a Pepper,
    /// The flows of `policies/`.
    pub flows: &'a [Flow],
}

impl std::fmt::Debug for Admin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin").finish_non_exhaustive()
    }
}

/// An HTTP `GET` for the management component to pass in: the body of a
/// `200` answer, or why not.
pub type Fetch<'f> = dyn Fn(&str) -> Result<Vec<u8>, String> + 'f;
