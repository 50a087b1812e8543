//! Accounts: create (with their first credential), list, update, the kill
//! switch (disable/enable) and delete.
//!
//! Write order: the account record (`acct/<id>`) is the source of truth and is
//! always written first; indexes (`name/`, `grant/`) follow.

use serde_json::Value;

use super::credentials::public_key_material;
use super::{
    AccountView, Admin, AdminError, Fetch, Fields, Page, WithSecret, check_description, field,
    is_account_name, names, parse_scope,
};
use crate::account::{
    Account, CredentialType, Extension, OidcSettings, Record, Scope, ScopeLevel, Status,
    StoredSecret,
};
use crate::hash::Domain;
use crate::oidc::IssuerRecord;
use crate::policy::flow_by_id;
use crate::secret::{NewSecret, SecretKind, generate_id};
use crate::store::NameKind;
use crate::store::keys::{account_key, certificate_key, grant_key, name_key};

/// Filters and paging of the account list.
#[derive(Debug, Default)]
pub struct AccountQuery {
    /// Only this credential type.
    pub credential_type: Option<CredentialType>,
    /// Only this status.
    pub status: Option<Status>,
    /// Only accounts in this group.
    pub group: Option<String>,
    /// Only this scope level.
    pub scope_level: Option<ScopeLevel>,
    /// Only accounts none of whose credentials was used in this many days
    /// (counting from creation for credentials never used).
    pub unused_for_days: Option<u64>,
    /// Only accounts whose credential expires within this many days
    /// (expired ones included).
    pub expires_within_days: Option<u64>,
    /// Only accounts whose name contains this, ignoring ASCII case.
    pub name: Option<String>,
    /// Start after this id.
    pub after: Option<String>,
    /// Page size (1 to 200, default 50).
    pub limit: usize,
}

/// Most accounts one `GET /admin/v1/accounts` examines (each costs two
/// reads: its slot and its record), whatever its `limit` and filters.
pub const LIST_SCAN: usize = 1_000;

const CREATE_FIELDS: &[&str] = &[
    "name",
    "description",
    "credential_type",
    "scope",
    "roles",
    "groups",
    "flows",
];

/// The credential material fields of the types that carry material.
const MATERIAL_FIELDS: &[&str] = &[
    "public_key",
    "key_id",
    "certificate",
    "issuer",
    "audience",
    "claims_match",
];

/// Credential material validated before anything is stored.
#[derive(Default)]
struct Material {
    certificates: Vec<crate::account::StoredCertificate>,
    public_keys: Vec<crate::account::StoredPublicKey>,
    oidc: Option<(OidcSettings, IssuerRecord)>,
}

/// The validated fields of a new account, written once its name is ours.
struct NewAccount {
    description: String,
    credential_type: CredentialType,
    scope: Scope,
    roles: Vec<String>,
    groups: Vec<String>,
    /// Flows granted to the account itself.
    direct: Vec<String>,
    /// `direct` plus the grants of its groups.
    grants: Vec<String>,
    /// Usage controls.
    usage: crate::usage::Controls,
}

impl Admin<'_> {
    /// `POST /admin/v1/accounts`.
    pub fn create_account(&self, body: &[u8]) -> Result<WithSecret, AdminError> {
        self.create_account_with(body, &|_: &str| {
            Err("outbound HTTP is not available here".to_owned())
        })
    }

    /// `POST /admin/v1/accounts`, with `fetch` for an `oidc` account's
    /// discovery document and JWKS (`GET url` returning the body of a `200`).
    pub fn create_account_with(
        &self,
        body: &[u8],
        fetch: &Fetch<'_>,
    ) -> Result<WithSecret, AdminError> {
        let f = Fields::parse(
            body,
            &[CREATE_FIELDS, MATERIAL_FIELDS, super::usage::FIELDS].concat(),
        )?;
        let name = f.string("name")?.ok_or_else(|| field("name", "required"))?;
        if !is_account_name(&name) {
            return Err(field(
                "name",
                "1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
            ));
        }
        let type_name = f
            .string("credential_type")?
            .ok_or_else(|| field("credential_type", "required"))?;
        let credential_type = CredentialType::parse(&type_name).ok_or_else(|| {
            field(
                "credential_type",
                "one of api_key, basic, client_secret, private_key_jwt, mtls, oidc, poller",
            )
        })?;
        let secret_kind = match credential_type {
            CredentialType::ApiKey => Some(SecretKind::ApiKey),
            CredentialType::Basic => Some(SecretKind::BasicPassword),
            CredentialType::ClientSecret => Some(SecretKind::ClientSecret),
            CredentialType::Poller
            | CredentialType::Mtls
            | CredentialType::PrivateKeyJwt
            | CredentialType::Oidc => None,
        };
        let description = f.string("description")?.unwrap_or_default();
        check_description(&description)?;
        let scope = match f.0.get("scope") {
            None | Some(Value::Null) => Scope::default(),
            Some(v) => parse_scope(v)?,
        };
        let roles = names("roles", f.strings("roles")?)?;
        let groups = names("groups", f.strings("groups")?)?;
        let grants = names("flows", f.strings("flows")?)?;
        let mut controls = crate::usage::Controls::default();
        super::usage::apply(&f, &mut controls, self.clock.now())?;
        // Material last among the fields: it is parsed, looked up in the
        // store or fetched, so every plain field is refused before that.
        let material = self.material(credential_type, &f, fetch)?;
        for id in &grants {
            let flow = flow_by_id(self.flows, id)
                .ok_or_else(|| field("flows", format!("unknown flow `{id}`")))?;
            self.check_scope(&scope, flow, "flows")?;
        }
        self.check_roles_exist(&roles)?;
        self.check_groups(&scope, &groups, "groups")?;
        let direct = grants;
        let grants = self.effective_grants(&direct, &groups, None)?;
        let new = NewAccount {
            description,
            credential_type,
            scope,
            roles,
            groups,
            direct,
            grants,
            usage: controls,
        };
        if self.store.get(&name_key(&name))?.is_some() {
            return Err(names::taken(NameKind::Account, &name));
        }
        let id = generate_id(self.random);
        self.create_named(
            NameKind::Account,
            &name,
            || self.insert_account(&id, &name, secret_kind, material, new),
            // Whatever was written before the failure: the record (the
            // indexes come after the name index, which is the last step
            // that can fail before the account is complete).
            || {
                if self.store.get(&name_key(&name)).ok().flatten().as_deref() != Some(id.as_bytes())
                {
                    let _ = self.store.delete(&account_key(&id));
                }
            },
        )
    }

    /// The writes of [`Admin::create_account_with`], once the name is ours.
    fn insert_account(
        &self,
        id: &str,
        name: &str,
        secret_kind: Option<SecretKind>,
        material: Material,
        new: NewAccount,
    ) -> Result<WithSecret, AdminError> {
        let NewAccount {
            description,
            credential_type,
            scope,
            roles,
            groups,
            direct,
            grants,
            usage,
        } = new;
        let (id, name) = (id.to_owned(), name.to_owned());
        let now = self.clock.now();
        let secret =
            secret_kind.map(|kind| NewSecret::generate(kind, &id, self.random, self.pepper));
        let account = Account {
            id: id.clone(),
            name: name.clone(),
            description,
            credential_type,
            status: Status::Active,
            scope,
            roles,
            groups,
            grants,
            secrets: secret
                .iter()
                .map(|s| StoredSecret {
                    digest: self.pepper.digest(Domain::Credential, s.expose()),
                    created_at: now,
                    expires_at: None,
                })
                .collect(),
            tokens: vec![],
            certificates: material.certificates,
            public_keys: material.public_keys,
            oidc: material.oidc.as_ref().map(|(settings, _)| settings.clone()),
            usage,
            created_at: now,
            updated_at: now,
        };
        // Index entries first (src/admin/index.rs): never a record without.
        super::index::add_account(self.store, &id)?;
        for flow in &direct {
            super::index::flow_grants(flow).add(self.store, &id)?;
        }
        self.write(&Record {
            account: account.clone(),
            extension: Extension {
                direct_grants: Some(direct.clone()),
                ..Extension::default()
            },
        })?;
        if let Some((settings, jwks)) = &material.oidc {
            // An issuer's bindings are shared by its accounts and written by
            // compare-and-swap; when another registration came first, the
            // whole operation runs again. Only the record is written so far:
            // removing it lets the re-run start clean (and a record without
            // its binding authenticates nothing meanwhile).
            if let Err(e) = self.bind_issuer(&id, settings, jwks) {
                self.store.delete(&account_key(&id))?;
                return Err(e);
            }
        }
        self.store.set(&name_key(&name), id.as_bytes())?;
        for cert in &account.certificates {
            self.store
                .set(&certificate_key(&cert.thumbprint), id.as_bytes())?;
        }
        for flow in &direct {
            self.store.set(&grant_key(flow, &id), b"")?;
        }
        Ok(WithSecret {
            account: AccountView::from(&account),
            secret: secret.map(NewSecret::into_string),
        })
    }

    /// Validates the material fields of `credential_type` (and refuses the
    /// fields of other types) before anything is written.
    fn material(
        &self,
        credential_type: CredentialType,
        f: &Fields,
        fetch: &Fetch<'_>,
    ) -> Result<Material, AdminError> {
        let needed: &[&str] = match credential_type {
            CredentialType::Mtls => &["certificate"],
            CredentialType::PrivateKeyJwt => &["public_key", "key_id"],
            CredentialType::Oidc => &["issuer", "audience", "claims_match"],
            _ => &[],
        };
        for name in MATERIAL_FIELDS {
            if f.0.contains_key(*name) && !needed.contains(name) {
                return Err(field(
                    name,
                    format!("not used by credential type `{}`", credential_type.as_str()),
                ));
            }
        }
        let now = self.clock.now();
        let mut material = Material::default();
        match credential_type {
            CredentialType::Mtls => {
                material
                    .certificates
                    .push(self.certificate_material(f, None)?);
            }
            CredentialType::PrivateKeyJwt => {
                material.public_keys.push(public_key_material(f, now)?);
            }
            CredentialType::Oidc => material.oidc = Some(self.oidc_material(f, fetch)?),
            _ => {}
        }
        Ok(material)
    }

    /// `GET /admin/v1/accounts`: in order of creation, from the account
    /// after `after`, reading the account index only from there (issue 16:
    /// a page costs the same whatever the store holds). At most
    /// [`LIST_SCAN`] accounts are examined per request: a filter that
    /// matches few may answer a short (even empty) page with a `next` to go
    /// on from.
    pub fn list_accounts(&self, query: &AccountQuery) -> Result<Page<AccountView>, AdminError> {
        let limit = query.limit.clamp(1, 200);
        let from = self.account_cursor(query.after.as_deref())?;
        let index = super::index::accounts();
        let mut items = Vec::new();
        let now = self.clock.now();
        let name = query.name.as_deref().map(str::to_ascii_lowercase);
        let mut examined = 0;
        let mut last = None;
        for entry in index.from_slot(self.store, from)? {
            let (slot, id) = entry?;
            // An id filed twice (a migration run again) is listed at the
            // slot its `ix/acct/at/` names; the other entry is skipped.
            if super::index::account_slot(self.store, &id)? != Some(slot) {
                continue;
            }
            if examined == LIST_SCAN {
                // As many as one request examines: go on after the last.
                return Ok(Page { items, next: last });
            }
            examined += 1;
            last = Some(id.clone());
            let record = match self.record(&id) {
                Ok(r) => r,
                Err(AdminError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            let unused = query.unused_for_days.is_none_or(|days| {
                let since = record.last_used_at().unwrap_or(record.account.created_at);
                since.max(record.account.created_at) <= now.saturating_sub(days * 86_400)
            });
            let account = &record.account;
            let keep = query
                .credential_type
                .is_none_or(|t| t == account.credential_type)
                && query.status.is_none_or(|s| s == account.status)
                && query.scope_level.is_none_or(|l| l == account.scope.level)
                && query
                    .group
                    .as_ref()
                    .is_none_or(|g| account.groups.contains(g))
                && name
                    .as_deref()
                    .is_none_or(|n| account.name.to_ascii_lowercase().contains(n))
                && unused
                && query
                    .expires_within_days
                    .is_none_or(|days| crate::usage::expiry::expires_within(account, now, days));
            if !keep {
                continue;
            }
            if items.len() == limit {
                let next = items.last().map(|a: &AccountView| a.id.clone());
                return Ok(Page { items, next });
            }
            items.push(AccountView::from(&record));
        }
        Ok(Page { items, next: None })
    }

    /// The first slot of the account index a listing after account `after`
    /// reads (the first of all when `None`). `after` must be an account the
    /// index knows: `400` naming it otherwise.
    fn account_cursor(&self, after: Option<&str>) -> Result<u64, AdminError> {
        self.indexed()?;
        match after {
            None => Ok(1),
            Some(id) => match super::index::account_slot(self.store, id)? {
                Some(slot) => Ok(slot + 1),
                None => Err(field("after", "not an account this listing returned")),
            },
        }
    }

    /// `PATCH /admin/v1/accounts/{id}`: description, roles, groups and the
    /// usage controls.
    pub fn update_account(&self, id: &str, body: &[u8]) -> Result<AccountView, AdminError> {
        let f = Fields::parse(
            body,
            &[&["description", "roles", "groups"], super::usage::FIELDS].concat(),
        )?;
        let mut record = self.record(id)?;
        super::usage::apply(&f, &mut record.account.usage, self.clock.now())?;
        if let Some(description) = f.string("description")? {
            check_description(&description)?;
            record.account.description = description;
        }
        if let Some(roles) = f.strings("roles")? {
            let roles = names("roles", Some(roles))?;
            self.check_roles_exist(&roles)?;
            record.account.roles = roles;
        }
        if let Some(groups) = f.strings("groups")? {
            let groups = names("groups", Some(groups))?;
            self.check_groups(&record.account.scope, &groups, "groups")?;
            record.extension.direct_grants = Some(record.direct_grants());
            record.account.grants =
                self.effective_grants(&record.direct_grants(), &groups, None)?;
            record.account.groups = groups;
        }
        record.account.updated_at = self.clock.now();
        self.write(&record)?;
        Ok(AccountView::from(&record))
    }

    /// `POST .../disable` and `POST .../enable`: the kill switch.
    pub fn set_status(&self, id: &str, status: Status) -> Result<AccountView, AdminError> {
        let mut account = self.account(id)?;
        if account.status != status {
            account.status = status;
            account.updated_at = self.clock.now();
            self.save(&account)?;
        }
        Ok(AccountView::from(&account))
    }

    /// `DELETE /admin/v1/accounts/{id}[?force=true]`. Refused with the list of
    /// flows while the account holds grants, unless forced.
    pub fn delete_account(&self, id: &str, force: bool) -> Result<(), AdminError> {
        let account = self.account(id)?;
        if !account.grants.is_empty() && !force {
            return Err(AdminError::Conflict {
                message: format!(
                    "account `{}` still has access to {} flow(s); revoke them or delete with ?force=true",
                    account.name,
                    account.grants.len()
                ),
                flows: account.grants.clone(),
            });
        }
        // An `oidc` account's binding goes before the record: it is a
        // compare-and-swap of a record shared with other accounts, and when
        // that asks for a re-run, the account must still be there. Without
        // its binding the account already authenticates nothing.
        if let Some(settings) = &account.oidc {
            self.unbind_issuer(id, settings)?;
        }
        // Then the record: from then on nothing of the account
        // authenticates, whatever happens to the index writes that follow.
        self.store.delete(&account_key(id))?;
        for cert in &account.certificates {
            self.store.delete(&certificate_key(&cert.thumbprint))?;
        }
        for flow in &account.grants {
            self.store.delete(&grant_key(flow, id))?;
        }
        if self.store.get(&name_key(&account.name))?.as_deref() == Some(id.as_bytes()) {
            // The claim before the index: until the index is gone it keeps
            // creates of this name out by itself (docs/store.md).
            self.release_name(NameKind::Account, &account.name)?;
            self.store.delete(&name_key(&account.name))?;
        }
        Ok(())
    }
}
