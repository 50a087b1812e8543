//! Declarative export and import (`GET /admin/v1/export`,
//! `POST /admin/v1/import[?dry_run=true]`): accounts with their direct grants
//! and secret digests (keyed HMACs, never plaintext), groups with their grants,
//! and custom roles, as one JSON document that is safe to commit to git.
//!
//! Import upserts what the document names and leaves everything else alone;
//! applying the same document twice changes nothing the second time. The
//! whole document is validated before the first write.
//!
//! The certificates of `mtls` accounts are indexed (`cert/<thumbprint>`) as
//! when a certificate is added: the index first, the record second, and an
//! index entry of a certificate the import drops from an account is removed
//! after the record. A thumbprint the index holds for another existing
//! account is a conflict, unless the document moves it away from that
//! account.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Map, Value};

use super::access::Caller;
use super::credentials::{MAX_CERTIFICATES, conflict, is_thumbprint};
use super::groups::Group;
use super::roles::{PERMISSIONS, Role};
use super::{Admin, AdminError, check_description, field, is_account_name, parse_scope};
use crate::account::{Account, CredentialType, Extension, Record};
use crate::policy::{flow_by_id, is_identifier};
use crate::secret::is_id;
use crate::store::keys::{certificate_key, grant_key, group_key, name_key, role_key};

/// Version of the document format.
pub const FORMAT: &str = "flowgate/v1";

/// What an import did, or would do in a dry run.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ImportPlan {
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Objects created or changed, as `{"kind","name","action"}`.
    pub changes: Vec<Change>,
    /// How many objects of the document already matched the store.
    pub unchanged: usize,
}

/// One difference between the document and the store.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Change {
    /// `account`, `group` or `role`.
    pub kind: &'static str,
    /// The account id, or the group or role name.
    pub name: String,
    /// `create` or `update`.
    pub action: &'static str,
}

/// The exported form of an account: its record without the fields that
/// describe this store rather than the account (`updated_at`, last use),
/// with `grants` holding only the direct grants.
fn account_document(record: &Record) -> Result<Value, AdminError> {
    let mut value = serde_json::to_value(&record.account)
        .map_err(|_| AdminError::Corrupt(record.account.id.clone()))?;
    if let Value::Object(map) = &mut value {
        map.remove("updated_at");
        map.insert("grants".into(), Value::from(record.direct_grants()));
    }
    Ok(value)
}

fn group_document(group: &Group) -> Value {
    serde_json::json!({
        "name": group.name,
        "description": group.description,
        "grants": group.grants,
    })
}

fn role_document(role: &Role) -> Value {
    serde_json::json!({
        "name": role.name,
        "description": role.description,
        "permissions": role.permissions,
    })
}

fn array<'v>(doc: &'v Map<String, Value>, name: &str) -> Result<&'v [Value], AdminError> {
    match doc.get(name) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(field(name, "must be an array")),
    }
}

fn strings(v: &Value, name: &str, at: &str) -> Result<Vec<String>, AdminError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(vec![]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| field(&format!("{at}.{name}"), "must be an array of strings"))
            })
            .collect(),
        Some(_) => Err(field(
            &format!("{at}.{name}"),
            "must be an array of strings",
        )),
    }
}

fn text(v: &Value, name: &str, at: &str) -> Result<String, AdminError> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(field(&format!("{at}.{name}"), "must be a string")),
    }
}

fn only(v: &Value, allowed: &[&str], at: &str) -> Result<(), AdminError> {
    let Value::Object(map) = v else {
        return Err(field(at, "must be an object"));
    };
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(field(&format!("{at}.{unknown}"), "unknown field")),
        None => Ok(()),
    }
}

/// The members of an exported account: the record without `updated_at`.
const ACCOUNT_FIELDS: &[&str] = &[
    "id",
    "name",
    "description",
    "credential_type",
    "status",
    "scope",
    "roles",
    "groups",
    "grants",
    "secrets",
    "tokens",
    "certificates",
    "public_keys",
    "oidc",
    "usage",
    "created_at",
];

/// The `description` of an entry, checked as the routes check it.
fn described(v: &Value, at: &str) -> Result<String, AdminError> {
    let description = text(v, "description", at)?;
    check_description(&description).map_err(|_| {
        field(
            &format!("{at}.description"),
            "at most 1024 characters, no control characters",
        )
    })?;
    Ok(description)
}

/// Checks an imported account's scope as `POST /accounts` does: a project
/// level names a project, an environment level a project and an environment.
fn check_scope_shape(account: &Account, at: &str) -> Result<(), AdminError> {
    let value = serde_json::to_value(&account.scope)
        .map_err(|_| field(&format!("{at}.scope"), "unreadable"))?;
    match parse_scope(&value) {
        Ok(_) => Ok(()),
        Err(AdminError::Field {
            field: name,
            message,
        }) => Err(field(&format!("{at}.{name}"), message)),
        Err(e) => Err(e),
    }
}

/// Checks the certificates of an imported account: only `mtls` accounts hold
/// them, one to [`MAX_CERTIFICATES`] of them, each an RFC 8705 thumbprint
/// that appears once. Adds each to `owners` (thumbprint to the index of the
/// account and its id); a thumbprint another account of the document holds
/// is a conflict.
fn check_certificates(
    account: &Account,
    i: usize,
    owners: &mut BTreeMap<String, (usize, String)>,
) -> Result<(), AdminError> {
    let at = format!("accounts[{i}].certificates");
    let certificates = &account.certificates;
    if account.credential_type != CredentialType::Mtls {
        if certificates.is_empty() {
            return Ok(());
        }
        return Err(field(&at, "only mtls accounts hold certificates"));
    }
    if certificates.is_empty() || certificates.len() > MAX_CERTIFICATES {
        return Err(field(
            &at,
            format!("an mtls account holds 1 to {MAX_CERTIFICATES} certificates"),
        ));
    }
    for cert in certificates {
        let thumbprint = &cert.thumbprint;
        if !is_thumbprint(thumbprint) {
            return Err(field(&at, "a thumbprint is not base64url SHA-256"));
        }
        match owners.get(thumbprint) {
            Some((j, _)) if *j == i => {
                return Err(field(&at, format!("`{thumbprint}` appears twice")));
            }
            Some((j, _)) => {
                return Err(conflict(format!(
                    "accounts[{i}]: certificate `{thumbprint}` is also held by accounts[{j}]"
                )));
            }
            None => {
                owners.insert(thumbprint.clone(), (i, account.id.clone()));
            }
        }
    }
    Ok(())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

impl Admin<'_> {
    /// `GET /admin/v1/export`.
    pub fn export(&self) -> Result<Value, AdminError> {
        let accounts = self
            .records()?
            .iter()
            .map(account_document)
            .collect::<Result<Vec<_>, _>>()?;
        let groups: Vec<Value> = self
            .groups()?
            .iter()
            .map(|g| group_document(&g.group))
            .collect();
        let mut roles = Vec::new();
        for view in self.roles()? {
            if !view.built_in {
                roles.push(serde_json::json!({
                    "name": view.name,
                    "description": view.description,
                    "permissions": view.permissions,
                }));
            }
        }
        Ok(serde_json::json!({
            "format": FORMAT,
            "roles": roles,
            "groups": groups,
            "accounts": accounts,
        }))
    }

    /// `POST /admin/v1/import` by the bootstrap administrator.
    pub fn import(&self, body: &[u8], dry_run: bool) -> Result<ImportPlan, AdminError> {
        self.import_as(body, dry_run, &Caller::bootstrap())
    }

    /// `POST /admin/v1/import` by `caller`: validates the whole document,
    /// then (unless `dry_run`) writes roles, then groups, then accounts, then
    /// refreshes the effective grants of every member of a changed group.
    /// Every role and account the import would change passes the rule of
    /// [`super::access`] first; a dry run writes nothing and is not checked.
    pub fn import_as(
        &self,
        body: &[u8],
        dry_run: bool,
        caller: &Caller,
    ) -> Result<ImportPlan, AdminError> {
        let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) else {
            return Err(AdminError::Body);
        };
        if let Some(unknown) = doc
            .keys()
            .find(|k| !["format", "roles", "groups", "accounts"].contains(&k.as_str()))
        {
            return Err(field(unknown, "unknown field"));
        }
        if doc.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(field("format", format!("must be \"{FORMAT}\"")));
        }
        let now = self.clock.now();
        let mut changes = Vec::new();
        let mut unchanged = 0;

        // Roles.
        let mut roles = Vec::new();
        let mut role_names = BTreeSet::new();
        for (i, v) in array(&doc, "roles")?.iter().enumerate() {
            let at = format!("roles[{i}]");
            only(v, &["name", "description", "permissions"], &at)?;
            let name = text(v, "name", &at)?;
            if !is_identifier(&name) || ["admin", "auditor"].contains(&name.as_str()) {
                return Err(field(
                    &format!("{at}.name"),
                    "1-64 of a-z, 0-9, _ and -, not a built-in role",
                ));
            }
            let permissions = sorted(strings(v, "permissions", &at)?);
            if let Some(bad) = permissions
                .iter()
                .find(|p| !PERMISSIONS.contains(&p.as_str()))
            {
                return Err(field(
                    &format!("{at}.permissions"),
                    format!("unknown permission {bad:?}"),
                ));
            }
            if !role_names.insert(name.clone()) {
                return Err(field(&format!("{at}.name"), "appears twice"));
            }
            let stored = self.stored_role(&name)?;
            let role = Role {
                name,
                description: described(v, &at)?,
                permissions,
                created_at: stored.as_ref().map_or(now, |r| r.created_at),
            };
            match &stored {
                Some(s) if role_document(s) == role_document(&role) => unchanged += 1,
                _ => {
                    changes.push(Change {
                        kind: "role",
                        name: role.name.clone(),
                        action: if stored.is_some() { "update" } else { "create" },
                    });
                    roles.push(role);
                }
            }
        }

        // Groups.
        let mut groups = Vec::new();
        let mut group_names = BTreeSet::new();
        for (i, v) in array(&doc, "groups")?.iter().enumerate() {
            let at = format!("groups[{i}]");
            only(v, &["name", "description", "grants"], &at)?;
            let name = text(v, "name", &at)?;
            if !is_identifier(&name) {
                return Err(field(&format!("{at}.name"), "1-64 of a-z, 0-9, _ and -"));
            }
            let grants = sorted(strings(v, "grants", &at)?);
            if let Some(bad) = grants.iter().find(|f| flow_by_id(self.flows, f).is_none()) {
                return Err(field(
                    &format!("{at}.grants"),
                    format!("unknown flow `{bad}`"),
                ));
            }
            if !group_names.insert(name.clone()) {
                return Err(field(&format!("{at}.name"), "appears twice"));
            }
            let stored = self.stored_group(&name)?;
            let group = Group {
                name,
                description: described(v, &at)?,
                grants,
                created_at: stored.as_ref().map_or(now, |g| g.created_at),
                updated_at: now,
            };
            match &stored {
                Some(s) if group_document(s) == group_document(&group) => unchanged += 1,
                _ => {
                    changes.push(Change {
                        kind: "group",
                        name: group.name.clone(),
                        action: if stored.is_some() { "update" } else { "create" },
                    });
                    groups.push((at, group));
                }
            }
        }

        // Accounts.
        let mut accounts = Vec::new();
        let mut ids = BTreeSet::new();
        let mut names = BTreeMap::new();
        let mut held_names = Vec::new();
        let mut certificate_owners = BTreeMap::new();
        for (i, v) in array(&doc, "accounts")?.iter().enumerate() {
            let at = format!("accounts[{i}]");
            only(v, ACCOUNT_FIELDS, &at)?;
            described(v, &at)?;
            let mut value = v.clone();
            let Value::Object(map) = &mut value else {
                return Err(field(&at, "must be an object"));
            };
            map.insert("updated_at".into(), Value::from(now));
            let direct = sorted(strings(v, "grants", &at)?);
            let mut account: Account = serde_json::from_value(value)
                .map_err(|e| field(&at, format!("not an exported account: {e}")))?;
            if !is_id(&account.id) {
                return Err(field(&format!("{at}.id"), "16 of a-z and 2-7"));
            }
            if !is_account_name(&account.name) {
                return Err(field(
                    &format!("{at}.name"),
                    "1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
                ));
            }
            if !ids.insert(account.id.clone()) {
                return Err(field(&format!("{at}.id"), "appears twice"));
            }
            if let Some(first) = names.insert(account.name.clone(), i) {
                return Err(field(
                    &format!("{at}.name"),
                    format!("`{}` is also the name of accounts[{first}]", account.name),
                ));
            }
            check_scope_shape(&account, &at)?;
            super::usage::check_imported(&account.usage, &at)?;
            check_certificates(&account, i, &mut certificate_owners)?;
            for flow_id in &direct {
                let flow = flow_by_id(self.flows, flow_id).ok_or_else(|| {
                    field(&format!("{at}.grants"), format!("unknown flow `{flow_id}`"))
                })?;
                self.check_scope(&account.scope, flow, &format!("{at}.grants"))?;
            }
            for role in &account.roles {
                if !role_names.contains(role)
                    && self.check_roles_exist(std::slice::from_ref(role)).is_err()
                {
                    return Err(field(
                        &format!("{at}.roles"),
                        format!("unknown role `{role}`"),
                    ));
                }
            }
            for name in &account.groups {
                let group = match groups.iter().find(|(_, g)| g.name == *name) {
                    Some((_, g)) => Some(g.clone()),
                    None => self.stored_group(name)?,
                };
                let group = group.ok_or_else(|| {
                    field(&format!("{at}.groups"), format!("unknown group `{name}`"))
                })?;
                for flow_id in &group.grants {
                    if let Some(flow) = flow_by_id(self.flows, flow_id) {
                        self.check_scope(&account.scope, flow, &format!("{at}.groups"))?;
                    }
                }
            }
            if let Some(owner) = self.store.get(&name_key(&account.name))?
                && owner != account.id.as_bytes()
            {
                // Decided after the loop: the owner may be renamed by an
                // entry further down.
                held_names.push((at.clone(), account.name.clone(), owner));
            }
            let stored = match self.record(&account.id) {
                Ok(r) => Some(r),
                Err(AdminError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            account.grants = direct.clone();
            let record = Record {
                account,
                extension: Extension {
                    direct_grants: Some(direct),
                    last_used: stored
                        .as_ref()
                        .map(|s| s.extension.last_used.clone())
                        .unwrap_or_default(),
                },
            };
            let same = match &stored {
                Some(s) => account_document(s)? == account_document(&record)?,
                None => false,
            };
            if same {
                unchanged += 1;
            } else {
                changes.push(Change {
                    kind: "account",
                    name: record.account.id.clone(),
                    action: if stored.is_some() { "update" } else { "create" },
                });
                accounts.push((record, stored));
            }
        }
        // A name another stored account holds is free only if the document
        // gives that account another name (two entries of one name were
        // refused above).
        for (at, name, owner) in held_names {
            let owner = String::from_utf8(owner).unwrap_or_default();
            if !ids.contains(&owner) {
                return Err(AdminError::Conflict {
                    message: format!("{at}.name: another account is already named `{name}`"),
                    flows: vec![],
                });
            }
        }
        // Stored members of a changed group that the document does not name
        // keep their scope, which the group's flows must lie in (as when a
        // group is granted a flow).
        if !groups.is_empty() {
            for member in self.records()? {
                if ids.contains(&member.account.id) {
                    continue;
                }
                for (at, group) in &groups {
                    if !member.account.groups.contains(&group.name) {
                        continue;
                    }
                    for flow in group
                        .grants
                        .iter()
                        .filter_map(|f| flow_by_id(self.flows, f))
                    {
                        self.check_scope(&member.account.scope, flow, &format!("{at}.grants"))?;
                    }
                }
            }
        }
        // A certificate indexed to an existing account the document does not
        // name is that account's. One indexed to an account the document
        // names moves: that account's entry does not hold it (each thumbprint
        // appears once in the document).
        for (thumbprint, (i, id)) in &certificate_owners {
            if let Some(holder) = self.other_holder(thumbprint, Some(id))?
                && !ids.contains(&holder)
            {
                return Err(conflict(format!(
                    "accounts[{i}]: certificate `{thumbprint}` is registered to another account"
                )));
            }
        }
        if dry_run {
            return Ok(ImportPlan {
                dry_run,
                changes,
                unchanged,
            });
        }

        self.import_permitted(caller, &roles, &accounts)?;

        for role in &roles {
            if self.stored_role(&role.name)?.is_none() {
                // A new role: its index entry first (issue 16).
                self.roles_indexed()?;
                super::index::roles().add(self.store, &role.name)?;
            }
            let bytes =
                serde_json::to_vec(role).map_err(|_| AdminError::Corrupt(role_key(&role.name)))?;
            self.store.set(&role_key(&role.name), &bytes)?;
        }
        for (_, group) in &groups {
            if self.stored_group(&group.name)?.is_none() {
                // A new group: its index entry first (issue 16).
                super::index::groups().add(self.store, &group.name)?;
            }
            let bytes = serde_json::to_vec(group)
                .map_err(|_| AdminError::Corrupt(group_key(&group.name)))?;
            self.store.set(&group_key(&group.name), &bytes)?;
        }
        // The certificate index before any record, as when a certificate is
        // added: an entry the record does not back lets nobody in. Entries
        // already in place are not written again, and missing ones are
        // written also for accounts that are otherwise unchanged.
        for (thumbprint, (_, id)) in &certificate_owners {
            let key = certificate_key(thumbprint);
            if self.store.get(&key)?.as_deref() != Some(id.as_bytes()) {
                self.store.set(&key, id.as_bytes())?;
            }
        }
        for (mut record, stored) in accounts {
            record.account.grants =
                self.effective_grants(&record.direct_grants(), &record.account.groups, None)?;
            let id = record.account.id.clone();
            if stored.is_none() {
                // A new account: its index entry first (issue 16).
                super::index::add_account(self.store, &id)?;
            }
            self.write(&record)?;
            if let Some(old) = &stored {
                // Certificates the import drops: the record first (done), then
                // the index, unless it already names another account.
                for cert in &old.account.certificates {
                    let key = certificate_key(&cert.thumbprint);
                    if !certificate_owners.contains_key(&cert.thumbprint)
                        && self.store.get(&key)?.as_deref() == Some(id.as_bytes())
                    {
                        self.store.delete(&key)?;
                    }
                }
                for flow in old.direct_grants() {
                    if !record.direct_grants().contains(&flow) {
                        self.store.delete(&grant_key(&flow, &id))?;
                    }
                }
                // The old name, unless an account renamed earlier in this
                // import holds it now.
                let old_name = name_key(&old.account.name);
                if old.account.name != record.account.name
                    && self.store.get(&old_name)?.as_deref() == Some(id.as_bytes())
                {
                    self.store.delete(&old_name)?;
                }
            }
            self.store
                .set(&name_key(&record.account.name), id.as_bytes())?;
            for flow in record.direct_grants() {
                self.mark_grant(&flow, &id)?;
            }
        }
        if !groups.is_empty() {
            for record in self.records()? {
                if record
                    .account
                    .groups
                    .iter()
                    .any(|g| groups.iter().any(|(_, changed)| changed.name == *g))
                {
                    let grants = self.effective_grants(
                        &record.direct_grants(),
                        &record.account.groups,
                        None,
                    )?;
                    if grants != record.account.grants {
                        let mut record = record;
                        record.extension.direct_grants = Some(record.direct_grants());
                        record.account.grants = grants;
                        record.account.updated_at = now;
                        self.write(&record)?;
                    }
                }
            }
        }
        Ok(ImportPlan {
            dry_run,
            changes,
            unchanged,
        })
    }
}
