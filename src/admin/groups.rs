//! Groups of accounts, stored under `group/<name>`, and the flows granted to
//! them. Membership lives in the members' account records (`groups`), so it is
//! never kept in two places. The authorizer reads one record per request, so
//! a group's grants are copied into every member's effective `grants`: each
//! change of a group's grants or members is fanned out to the records of the
//! accounts concerned (docs/management.md).

use serde::{Deserialize, Serialize};

use super::{AccountView, Admin, AdminError, Fields, check_description, field, names, not_found};
use crate::account::Record;
use crate::policy::is_identifier;
use crate::store::NameKind;
use crate::store::index::distinct;
use crate::store::keys::group_key;

/// A group as stored under `group/<name>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// Name, unique.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Flow ids granted to every member.
    #[serde(default)]
    pub grants: Vec<String>,
    /// Creation time (Unix seconds).
    pub created_at: u64,
    /// Last change (Unix seconds).
    pub updated_at: u64,
}

/// A group as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    /// The group.
    #[serde(flatten)]
    pub group: Group,
    /// Ids of its member accounts, sorted.
    pub members: Vec<String>,
}

impl Admin<'_> {
    pub(super) fn stored_group(&self, name: &str) -> Result<Option<Group>, AdminError> {
        if !is_identifier(name) {
            return Ok(None);
        }
        match self.store.get(&group_key(name))? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| AdminError::Corrupt(group_key(name))),
        }
    }

    fn group_record(&self, name: &str) -> Result<Group, AdminError> {
        self.stored_group(name)?
            .ok_or_else(|| not_found("group", name))
    }

    fn write_group(&self, group: &Group) -> Result<(), AdminError> {
        let bytes =
            serde_json::to_vec(group).map_err(|_| AdminError::Corrupt(group_key(&group.name)))?;
        self.store.set(&group_key(&group.name), &bytes)?;
        Ok(())
    }

    fn members(&self, name: &str) -> Result<Vec<Record>, AdminError> {
        Ok(self
            .records()?
            .into_iter()
            .filter(|r| r.account.groups.iter().any(|g| g == name))
            .collect())
    }

    fn view(&self, group: Group) -> Result<GroupView, AdminError> {
        let mut members: Vec<String> = self
            .members(&group.name)?
            .into_iter()
            .map(|r| r.account.id)
            .collect();
        members.sort();
        Ok(GroupView { group, members })
    }

    /// The effective grants of an account with `direct` grants in `groups`,
    /// where `override_group` (if set) replaces the stored group of its name.
    pub(super) fn effective_grants(
        &self,
        direct: &[String],
        groups: &[String],
        override_group: Option<&Group>,
    ) -> Result<Vec<String>, AdminError> {
        let mut grants = direct.to_vec();
        for name in groups {
            match override_group.filter(|g| g.name == *name) {
                Some(group) => grants.extend(group.grants.iter().cloned()),
                None => {
                    // A group deleted meanwhile grants nothing.
                    if let Some(group) = self.stored_group(name)? {
                        grants.extend(group.grants);
                    }
                }
            }
        }
        grants.sort();
        grants.dedup();
        Ok(grants)
    }

    /// Checks that every flow of each group in `groups` lies in the scope of
    /// the account; `field_name` is the field blamed.
    pub(super) fn check_groups(
        &self,
        scope: &crate::account::Scope,
        groups: &[String],
        field_name: &str,
    ) -> Result<(), AdminError> {
        for name in groups {
            let group = self
                .stored_group(name)?
                .ok_or_else(|| field(field_name, format!("unknown group `{name}`")))?;
            for flow_id in &group.grants {
                if let Some(flow) = crate::policy::flow_by_id(self.flows, flow_id) {
                    self.check_scope(scope, flow, field_name)?;
                }
            }
        }
        Ok(())
    }

    /// Recomputes a member's effective grants and writes its record if they
    /// changed.
    fn refresh(&self, mut record: Record, group: Option<&Group>) -> Result<(), AdminError> {
        let grants =
            self.effective_grants(&record.direct_grants(), &record.account.groups, group)?;
        if grants != record.account.grants {
            record.extension.direct_grants = Some(record.direct_grants());
            record.account.grants = grants;
            record.account.updated_at = self.clock.now();
            self.write(&record)?;
        }
        Ok(())
    }

    /// `POST /admin/v1/groups` with `name` and `description`.
    pub fn create_group(&self, body: &[u8]) -> Result<GroupView, AdminError> {
        let f = Fields::parse(body, &["name", "description"])?;
        let name = f.string("name")?.ok_or_else(|| field("name", "required"))?;
        if !is_identifier(&name) {
            return Err(field("name", "1-64 of a-z, 0-9, _ and -"));
        }
        let description = f.string("description")?.unwrap_or_default();
        check_description(&description)?;
        if self.stored_group(&name)?.is_some() {
            return Err(names::taken(NameKind::Group, &name));
        }
        let now = self.clock.now();
        let group = Group {
            name,
            description,
            grants: vec![],
            created_at: now,
            updated_at: now,
        };
        // The group record is the only write: it either happened or not.
        self.create_named(
            NameKind::Group,
            &group.name,
            || {
                // Its index entry first (issue 16).
                super::index::groups().add(self.store, &group.name)?;
                self.write_group(&group)
            },
            || {},
        )?;
        Ok(GroupView {
            group,
            members: vec![],
        })
    }

    /// Every group, by name, from the group index (issue 16: no key
    /// listing).
    fn stored_groups(&self) -> Result<Vec<Group>, AdminError> {
        self.indexed()?;
        let mut out = Vec::new();
        for name in distinct(super::index::groups().entries(self.store)?) {
            if let Some(group) = self.stored_group(&name)? {
                out.push(group);
            }
        }
        Ok(out)
    }

    /// `GET /admin/v1/groups`, by name, with their members (read from every
    /// account record: this listing grows with the accounts).
    pub fn groups(&self) -> Result<Vec<GroupView>, AdminError> {
        let groups = self.stored_groups()?;
        let records = self.records()?;
        Ok(groups
            .into_iter()
            .map(|group| {
                let mut members: Vec<String> = records
                    .iter()
                    .filter(|r| r.account.groups.contains(&group.name))
                    .map(|r| r.account.id.clone())
                    .collect();
                members.sort();
                GroupView { group, members }
            })
            .collect())
    }

    /// `GET /admin/v1/groups/{name}`.
    pub fn group(&self, name: &str) -> Result<GroupView, AdminError> {
        let group = self.group_record(name)?;
        self.view(group)
    }

    /// `DELETE /admin/v1/groups/{name}`: refused with `409` while it has
    /// members, so that no member loses access as a side effect.
    pub fn delete_group(&self, name: &str) -> Result<(), AdminError> {
        let group = self.group_record(name)?;
        let members = self.members(name)?;
        if !members.is_empty() {
            let names: Vec<String> = members.into_iter().map(|r| r.account.name).collect();
            return Err(AdminError::Conflict {
                message: format!(
                    "group `{}` still has members: {}; remove them first",
                    group.name,
                    names.join(", ")
                ),
                flows: vec![],
            });
        }
        self.release_name(NameKind::Group, name)?;
        self.store.delete(&group_key(name))?;
        Ok(())
    }

    /// `PUT /admin/v1/groups/{name}/members/{account_id}`. Idempotent. One
    /// write: the account record, with its effective grants.
    pub fn add_member(&self, name: &str, id: &str) -> Result<AccountView, AdminError> {
        let group = self.group_record(name)?;
        let mut record = self.record(id)?;
        for flow_id in &group.grants {
            if let Some(flow) = crate::policy::flow_by_id(self.flows, flow_id) {
                self.check_scope(&record.account.scope, flow, "group")?;
            }
        }
        if !record.account.groups.iter().any(|g| g == name) {
            record.account.groups.push(name.to_owned());
            record.account.groups.sort();
        }
        record.extension.direct_grants = Some(record.direct_grants());
        let grants =
            self.effective_grants(&record.direct_grants(), &record.account.groups, None)?;
        record.account.grants = grants;
        record.account.updated_at = self.clock.now();
        self.write(&record)?;
        Ok(AccountView::from(&record))
    }

    /// `DELETE /admin/v1/groups/{name}/members/{account_id}`. Idempotent.
    pub fn remove_member(&self, name: &str, id: &str) -> Result<(), AdminError> {
        self.group_record(name)?;
        let mut record = self.record(id)?;
        if !record.account.groups.iter().any(|g| g == name) {
            return Ok(());
        }
        record.extension.direct_grants = Some(record.direct_grants());
        record.account.groups.retain(|g| g != name);
        record.account.grants =
            self.effective_grants(&record.direct_grants(), &record.account.groups, None)?;
        record.account.updated_at = self.clock.now();
        self.write(&record)
    }

    /// `PUT /admin/v1/flows/{flow}/access/groups/{group}`. Idempotent. The
    /// group is written first, then every member; a failure midway leaves
    /// some members without the new access (closed), and repeating the call
    /// completes the fan-out.
    pub fn grant_group(&self, flow_id: &str, name: &str) -> Result<GroupView, AdminError> {
        let flow = self.flow(flow_id)?;
        let mut group = self.group_record(name)?;
        let members = self.members(name)?;
        for member in &members {
            self.check_scope(&member.account.scope, flow, "flow")?;
        }
        if !group.grants.iter().any(|g| g == flow_id) {
            group.grants.push(flow_id.to_owned());
            group.grants.sort();
            group.updated_at = self.clock.now();
            self.write_group(&group)?;
        }
        let mut ids = Vec::new();
        for member in members {
            ids.push(member.account.id.clone());
            self.refresh(member, Some(&group))?;
        }
        ids.sort();
        Ok(GroupView {
            group,
            members: ids,
        })
    }

    /// `DELETE /admin/v1/flows/{flow}/access/groups/{group}`. Idempotent. The
    /// members are written first, then the group: a failure midway leaves
    /// some members already without access (closed), never the reverse.
    pub fn revoke_group(&self, flow_id: &str, name: &str) -> Result<(), AdminError> {
        self.flow(flow_id)?;
        let mut group = self.group_record(name)?;
        let had = group.grants.iter().any(|g| g == flow_id);
        group.grants.retain(|g| g != flow_id);
        for member in self.members(name)? {
            self.refresh(member, Some(&group))?;
        }
        if had {
            group.updated_at = self.clock.now();
            self.write_group(&group)?;
        }
        Ok(())
    }

    /// The groups that hold a grant to `flow_id`, by name.
    pub fn flow_groups(&self, flow_id: &str) -> Result<Vec<String>, AdminError> {
        self.flow(flow_id)?;
        // Groups only: their members are not part of this answer.
        Ok(self
            .stored_groups()?
            .into_iter()
            .filter(|g| g.grants.iter().any(|f| f == flow_id))
            .map(|g| g.name)
            .collect())
    }
}
