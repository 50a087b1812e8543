//! Reading and writing account records (`acct/<id>`), the source of truth
//! every other admin operation builds on, and the flow lookups they share.

use super::{Admin, AdminError, field, not_found};
use crate::account::{Account, Extension, Record, Scope};
use crate::policy::{Flow, flow_by_id};
use crate::secret::is_id;
use crate::store::keys::account_key;

impl Admin<'_> {
    /// Reads an account record.
    pub fn account(&self, id: &str) -> Result<Account, AdminError> {
        self.record(id).map(|r| r.account)
    }

    /// Reads a whole account record, management-only fields included.
    pub fn record(&self, id: &str) -> Result<Record, AdminError> {
        if !is_id(id) {
            return Err(not_found("account", id));
        }
        let bytes = self
            .store
            .get(&account_key(id))?
            .ok_or_else(|| not_found("account", id))?;
        serde_json::from_slice(&bytes).map_err(|_| AdminError::Corrupt(account_key(id)))
    }

    /// Every account record, by id.
    pub fn records(&self) -> Result<Vec<Record>, AdminError> {
        let ids = self.indexed_accounts()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            match self.record(&id) {
                Ok(r) => out.push(r),
                Err(AdminError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Writes a whole account record.
    pub(super) fn write(&self, record: &Record) -> Result<(), AdminError> {
        let bytes = serde_json::to_vec(record)
            .map_err(|_| AdminError::Corrupt(record.account.id.clone()))?;
        self.store.set(&account_key(&record.account.id), &bytes)?;
        Ok(())
    }

    /// Writes the [`Account`] part of a record, keeping the stored
    /// management-only fields (direct grants, last use).
    pub(super) fn save(&self, account: &Account) -> Result<(), AdminError> {
        let extension = match self.store.get(&account_key(&account.id))? {
            Some(bytes) => serde_json::from_slice::<Extension>(&bytes)
                .map_err(|_| AdminError::Corrupt(account_key(&account.id)))?,
            None => Extension::default(),
        };
        self.write(&Record {
            account: account.clone(),
            extension,
        })
    }

    pub(super) fn flow(&self, id: &str) -> Result<&Flow, AdminError> {
        flow_by_id(self.flows, id).ok_or_else(|| not_found("flow", id))
    }

    pub(super) fn check_scope(
        &self,
        scope: &Scope,
        flow: &Flow,
        field_name: &str,
    ) -> Result<(), AdminError> {
        if scope.contains(&flow.project, &flow.environment) {
            Ok(())
        } else {
            Err(field(
                field_name,
                format!(
                    "flow `{}` (project `{}`, environment `{}`) is outside the account's scope",
                    flow.id, flow.project, flow.environment
                ),
            ))
        }
    }
}
