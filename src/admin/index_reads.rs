//! Listing through the indexes of [`super::index`]: the reads of
//! `GET /accounts`, `GET /flows/{flow}/access` and `GET /audit`, and the
//! index writes of a grant. No key listing here (issue 16, target 5).

use super::index::{self, audit_day, audit_first_day, audit_key_time, day_of};
use super::{Admin, AdminError, prune};
use crate::store::index::distinct;
use crate::store::keys::grant_key;

impl Admin<'_> {
    /// Builds the indexes of a store written before they existed (once;
    /// afterwards one read).
    pub(super) fn indexed(&self) -> Result<(), AdminError> {
        index::ensure_indexed(self.store, self.clock.now(), &prune::is_expiring)?;
        Ok(())
    }

    /// [`Self::indexed`], and the role index too.
    pub(super) fn roles_indexed(&self) -> Result<(), AdminError> {
        index::ensure_roles_indexed(self.store, self.clock.now(), &prune::is_expiring)?;
        Ok(())
    }

    /// Every account id the index holds, sorted, without duplicates. Some
    /// may be deleted accounts: the record decides.
    pub(super) fn indexed_accounts(&self) -> Result<Vec<String>, AdminError> {
        self.indexed()?;
        Ok(distinct(index::accounts().entries(self.store)?))
    }

    /// Marks a direct grant of `flow` to account `id`; a new marker is
    /// indexed first.
    pub(super) fn mark_grant(&self, flow: &str, id: &str) -> Result<(), AdminError> {
        let key = grant_key(flow, id);
        if self.store.get(&key)?.is_none() {
            index::flow_grants(flow).add(self.store, id)?;
            self.store.set(&key, b"")?;
        }
        Ok(())
    }

    /// The audit keys older than `before` (all when `None`), newest first,
    /// read one day of the index at a time, only as far as the caller goes.
    pub(super) fn audit_keys_newest_first<'b>(
        &'b self,
        before: Option<&'b str>,
    ) -> Result<AuditKeys<'b>, AdminError> {
        self.indexed()?;
        let first = audit_first_day(self.store)?.unwrap_or(0);
        // A day ahead of the clock, for entries of a host whose clock runs
        // ahead; `before` starts at its own day.
        let start = match before {
            Some(b) => audit_key_time(b).map(day_of).unwrap_or(0),
            None => day_of(self.clock.now()) + 1,
        };
        Ok(AuditKeys {
            admin: self,
            before,
            day: Some(start).filter(|d| *d >= first),
            first,
            pending: Vec::new(),
        })
    }
}

/// The iterator of [`Admin::audit_keys_newest_first`].
pub(super) struct AuditKeys<'a> {
    admin: &'a Admin<'a>,
    before: Option<&'a str>,
    /// The next day to read; `None` when done.
    day: Option<u64>,
    first: u64,
    /// Keys of the day read last, oldest first (popped from the end).
    pending: Vec<String>,
}

impl Iterator for AuditKeys<'_> {
    type Item = Result<String, AdminError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(key) = self.pending.pop() {
                return Some(Ok(key));
            }
            let day = self.day?;
            self.day = day.checked_sub(1).filter(|d| *d >= self.first);
            match audit_day(day).entries(self.admin.store) {
                Ok(keys) => {
                    let before = self.before;
                    self.pending = distinct(keys);
                    self.pending
                        .retain(|k| before.is_none_or(|b| k.as_str() < b));
                }
                Err(e) => {
                    self.day = None;
                    return Some(Err(e.into()));
                }
            }
        }
    }
}
