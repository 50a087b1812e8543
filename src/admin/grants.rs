//! Direct flow grants of an account (`PUT`/`DELETE
//! /admin/v1/flows/{flow}/access/{account_id}`) and who may invoke a flow.
//! The record's `grants` decide; the `grant/<flow>/<id>` index only lists.

use super::{AccountView, Admin, AdminError};
use crate::store::keys::grant_key;

impl Admin<'_> {
    /// `PUT /admin/v1/flows/{flow}/access/{account_id}`. Idempotent.
    pub fn grant(&self, flow_id: &str, id: &str) -> Result<AccountView, AdminError> {
        let flow = self.flow(flow_id)?;
        let mut record = self.record(id)?;
        self.check_scope(&record.account.scope, flow, "flow")?;
        let mut direct = record.direct_grants();
        if !direct.iter().any(|g| g == flow_id) || record.extension.direct_grants.is_none() {
            direct.push(flow_id.to_owned());
            direct.sort();
            direct.dedup();
            record.account.grants = self.effective_grants(&direct, &record.account.groups, None)?;
            record.extension.direct_grants = Some(direct);
            record.account.updated_at = self.clock.now();
            self.write(&record)?;
        }
        self.mark_grant(flow_id, id)?;
        Ok(AccountView::from(&record))
    }

    /// `DELETE /admin/v1/flows/{flow}/access/{account_id}`. Idempotent.
    pub fn revoke(&self, flow_id: &str, id: &str) -> Result<(), AdminError> {
        self.flow(flow_id)?;
        let mut record = self.record(id)?;
        let mut direct = record.direct_grants();
        if direct.iter().any(|g| g == flow_id) {
            direct.retain(|g| g != flow_id);
            record.account.grants = self.effective_grants(&direct, &record.account.groups, None)?;
            record.extension.direct_grants = Some(direct);
            record.account.updated_at = self.clock.now();
            self.write(&record)?;
        }
        self.store.delete(&grant_key(flow_id, id))?;
        Ok(())
    }

    /// `GET /admin/v1/flows/{flow}/access`: the accounts that may invoke it.
    pub fn flow_access(&self, flow_id: &str) -> Result<Vec<AccountView>, AdminError> {
        self.flow(flow_id)?;
        self.indexed()?;
        let ids =
            crate::store::index::distinct(super::index::flow_grants(flow_id).entries(self.store)?);
        let mut out = Vec::new();
        for id in ids {
            match self.record(&id) {
                // The record decides; a marker left by an interrupted write
                // is not a grant.
                Ok(r) if r.direct_grants().iter().any(|g| g == flow_id) => {
                    out.push(AccountView::from(&r));
                }
                Ok(_) | Err(AdminError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
