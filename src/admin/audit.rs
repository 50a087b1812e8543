//! The audit log: every mutation through `/admin/v1`, successful or not, is
//! appended here (`audit/<time>-<id>`), and read back newest first.

use serde::Serialize;

use super::{Admin, AdminError, Page};
use crate::secret::generate_id;
use crate::store::keys::audit_key;

/// One entry of the audit log.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (Unix seconds).
    pub time: u64,
    /// Who: `bootstrap-admin` or `account:<id>`.
    pub actor: String,
    /// What, e.g. `account.create`.
    pub action: String,
    /// On which object, e.g. `account:<id>` or `flow:orders/account:<id>`.
    pub target: String,
    /// `ok`, or the error code.
    pub outcome: String,
    /// Non-secret facts of the change, for entries that have them (an
    /// issued certificate's serial and validity: `certificate.issue`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// Filters and paging of the audit log.
#[derive(Debug, Default, Clone, Copy)]
pub struct AuditQuery<'q> {
    /// Only entries whose target starts with this (`account:<id>` also
    /// matches `account:<id>/token:<t>`).
    pub target: Option<&'q str>,
    /// Only entries of exactly this actor (`bootstrap-admin`, `account:<id>`).
    pub actor: Option<&'q str>,
    /// The `next` cursor of the previous page.
    pub before: Option<&'q str>,
}

impl Admin<'_> {
    /// Appends an audit entry. Audit keys sort by time.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), AdminError> {
        let key = audit_key(entry.time, &generate_id(self.random));
        let bytes = serde_json::to_vec(entry).map_err(|_| AdminError::Corrupt(key.clone()))?;
        super::index::audit_day(super::index::day_of(entry.time)).add(self.store, &key)?;
        self.store.set(&key, &bytes)?;
        Ok(())
    }

    /// `GET /admin/v1/audit`: newest first, optionally for one target or actor.
    pub fn audit_log(
        &self,
        query: &AuditQuery<'_>,
        limit: usize,
    ) -> Result<Page<AuditEntry>, AdminError> {
        let AuditQuery {
            target,
            actor,
            before,
        } = *query;
        let limit = limit.clamp(1, 200);
        let mut items = Vec::new();
        let mut next = None;
        for key in self.audit_keys_newest_first(before)? {
            let key = key?;
            let Some(bytes) = self.store.get(&key)? else {
                continue;
            };
            let entry: AuditEntry =
                serde_json::from_slice(&bytes).map_err(|_| AdminError::Corrupt(key.clone()))?;
            if target.is_some_and(|t| !entry.target.starts_with(t))
                || actor.is_some_and(|a| entry.actor != a)
            {
                continue;
            }
            if items.len() == limit {
                break;
            }
            items.push((key, entry));
        }
        if items.len() == limit {
            next = items.last().map(|(k, _)| k.clone());
        }
        Ok(Page {
            items: items.into_iter().map(|(_, e)| e).collect(),
            next,
        })
    }
}
