//! Unique names under concurrency. Checking that a name is free and then
//! writing it is a race: two creates can both find it free. The store's
//! atomic increment elects one creator instead: each create that finds the
//! name free increments `claim/<kind>/<name>`, and only the caller that gets
//! 1 goes on; every other one answers `409`. Spin offers the increment on
//! every backend (a SQL upsert in a transaction on SQLite, `INCRBY` on
//! Redis), so this holds on one host and across hosts sharing a store.
//! Deleting the object deletes the counter first, so the name can be used
//! again; a create that fails gives its claim back. docs/store.md, "Unique
//! names", has the reasoning and the one gap (a host that dies between
//! winning and writing).

use super::{Admin, AdminError};
use crate::store::NameKind;
use crate::store::keys::claim_key;

/// The `409` of a name that is taken (or being taken right now).
pub(super) fn taken(kind: NameKind, name: &str) -> AdminError {
    let article = match kind {
        NameKind::Account => "an",
        NameKind::Group | NameKind::Role => "a",
    };
    AdminError::Conflict {
        message: format!("{article} {} named `{name}` already exists", kind.as_str()),
        flows: vec![],
    }
}

impl Admin<'_> {
    /// Runs `create` as the one creator of `name`, or answers `409` when
    /// another create holds the claim. When `create` fails, `undo` removes
    /// whatever it may have written of the object and the claim is given
    /// back, so that the operation can be run again (after contention) or
    /// the name used by someone else.
    pub(super) fn create_named<T>(
        &self,
        kind: NameKind,
        name: &str,
        create: impl FnOnce() -> Result<T, AdminError>,
        undo: impl FnOnce(),
    ) -> Result<T, AdminError> {
        let key = claim_key(kind, name);
        if self.store.increment(&key, 1)? != 1 {
            return Err(taken(kind, name));
        }
        let created = create();
        if created.is_err() {
            undo();
            // Best effort, and the first error is the one to report: if
            // this delete fails too, the store is failing (the caller
            // answers 503) and the name stays reserved (docs/store.md).
            let _ = self.store.delete(&key);
        }
        created
    }

    /// Frees `name` for a later create. Called before the object that holds
    /// the name is removed: until then the holder itself keeps creates out.
    pub(super) fn release_name(&self, kind: NameKind, name: &str) -> Result<(), AdminError> {
        self.store.delete(&claim_key(kind, name))?;
        Ok(())
    }
}
