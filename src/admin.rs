//! The service-account lifecycle behind `/admin/v1`: accounts, credentials,
//! API tokens, grants and the audit log, over the [`Store`] trait. The
//! management component parses HTTP and calls these; every rule lives here.
//!
//! Write order: the account record (`acct/<id>`) is the source of truth and is
//! always written first; indexes (`name/`, `grant/`) follow. Every input is
//! validated before the first write, so a refused request changes nothing.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::account::OidcSettings;
use crate::account::{
    Account, CredentialType, Extension, Record, Scope, ScopeLevel, Status, StoredCertificate,
    StoredSecret, StoredToken,
};
use crate::env::{Clock, Random};
use crate::hash::{Domain, Pepper};
use crate::oidc::{self, Binding, Bindings, IssuerRecord};
use crate::policy::{Flow, flow_by_id, is_identifier};
use crate::secret::{NewSecret, SecretKind, generate_id, is_id};
use crate::store::{
    NameKind, Store, StoreError, account_key, certificate_key, grant_key, grant_prefix, name_key,
};
use credentials::public_key_material;

/// Longest accepted description.
const MAX_DESCRIPTION: usize = 1024;
/// Longest grace period of a reset: 30 days.
const MAX_GRACE_SECONDS: u64 = 30 * 24 * 3600;
/// Longest API-token lifetime: 10 years.
const MAX_TOKEN_SECONDS: u64 = 10 * 365 * 24 * 3600;
/// Most API tokens per account: the record is read on every request.
const MAX_TOKENS: usize = 20;

/// Why an admin request failed. [`AdminError::status`] maps it to HTTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// A field is missing or invalid (`400`).
    #[error("field `{field}`: {message}")]
    Field {
        /// The JSON field (or path parameter) at fault.
        field: String,
        /// What is wrong, in words a person can act on.
        message: String,
    },
    /// The body is not a JSON object (`400`).
    #[error("request body must be a JSON object")]
    Body,
    /// The caller lacks a permission the request needs, or the request
    /// would confer one it lacks (`403`).
    #[error("{message}")]
    Forbidden {
        /// Which permission, in words.
        message: String,
    },
    /// The request body is larger than `limit` bytes (`413`).
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The largest body accepted.
        limit: usize,
    },
    /// No such object (`404`).
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// Account, flow, token.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// The request conflicts with the current state (`409`).
    #[error("{message}")]
    Conflict {
        /// What conflicts.
        message: String,
        /// The flows involved, for a refused delete.
        flows: Vec<String>,
    },
    /// The store failed (`503`). Nothing is assumed written.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// A stored record could not be read (`500`).
    #[error("stored record `{0}` is unreadable")]
    Corrupt(String),
}

impl AdminError {
    /// The HTTP status for this error; caller faults are 4xx, system faults 5xx.
    pub fn status(&self) -> u16 {
        match self {
            Self::Field { .. } | Self::Body => 400,
            Self::Forbidden { .. } => 403,
            Self::TooLarge { .. } => 413,
            Self::NotFound { .. } => 404,
            Self::Conflict { .. } => 409,
            Self::Store(_) => 503,
            Self::Corrupt(_) => 500,
        }
    }

    /// The JSON body for this error. Never contains a secret: no variant
    /// carries one.
    pub fn body(&self) -> Value {
        let mut body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
        match self {
            Self::Field { field, .. } => body["field"] = Value::from(field.as_str()),
            Self::Conflict { flows, .. } if !flows.is_empty() => {
                body["flows"] = Value::from(flows.clone());
            }
            _ => {}
        }
        body
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Field { .. } | Self::Body | Self::TooLarge { .. } => "invalid_request",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Store(_) => "unavailable",
            Self::Corrupt(_) => "internal",
        }
    }
}

fn field(field: &str, message: impl Into<String>) -> AdminError {
    AdminError::Field {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn not_found(kind: &'static str, id: &str) -> AdminError {
    AdminError::NotFound {
        kind,
        id: id.to_owned(),
    }
}

/// A JSON object taken apart field by field, so that each error names its
/// field, and unknown fields are refused rather than ignored.
struct Fields(Map<String, Value>);

impl Fields {
    fn parse(body: &[u8], allowed: &[&str]) -> Result<Self, AdminError> {
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            b"{}".as_slice()
        } else {
            body
        };
        let Value::Object(map) = serde_json::from_slice(body).map_err(|_| AdminError::Body)? else {
            return Err(AdminError::Body);
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(field(unknown, "unknown field"));
        }
        Ok(Self(map))
    }

    fn string(&self, name: &str) -> Result<Option<String>, AdminError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(field(name, "must be a string")),
        }
    }

    fn strings(&self, name: &str) -> Result<Option<Vec<String>>, AdminError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| field(name, "must be an array of strings"))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(field(name, "must be an array of strings")),
        }
    }

    fn seconds(&self, name: &str, max: u64) -> Result<Option<u64>, AdminError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => match whole_number(v) {
                Some(n) if n > 0 && n <= max => Ok(Some(n)),
                _ => Err(field(
                    name,
                    format!("must be a whole number of seconds from 1 to {max}"),
                )),
            },
        }
    }
}

/// A JSON number without a fractional part as `u64`: `250` and `250.0`
/// alike, as JSON Schema's `integer` counts both.
fn whole_number(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        let f = v.as_f64()?;
        // 2^53: beyond it an f64 no longer holds every whole number.
        let exact = f.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&f);
        // Whole and in range, so the cast is exact.
        exact.then_some(f as u64)
    })
}

/// Whether `name` is a valid account name: 1-64 of `[A-Za-z0-9._-]`. No colon,
/// so it can be the username of Basic credentials.
pub fn is_account_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn names(field_name: &str, values: Option<Vec<String>>) -> Result<Vec<String>, AdminError> {
    let mut values = values.unwrap_or_default();
    if let Some(bad) = values.iter().find(|v| !is_identifier(v)) {
        return Err(field(
            field_name,
            format!("{bad:?} is not 1-64 of a-z, 0-9, _ and -"),
        ));
    }
    values.sort();
    values.dedup();
    Ok(values)
}

/// An account as the API shows it: never a secret or a digest.
#[derive(Debug, Serialize)]
pub struct AccountView {
    /// Identifier.
    pub id: String,
    /// Name (the Basic username).
    pub name: String,
    /// Free text.
    pub description: String,
    /// The credential type.
    pub credential_type: CredentialType,
    /// Active or disabled.
    pub status: Status,
    /// Scope level.
    pub scope: Scope,
    /// Roles.
    pub roles: Vec<String>,
    /// Groups.
    pub groups: Vec<String>,
    /// Flows granted to the account.
    pub flows: Vec<String>,
    /// The account's API tokens, without their values.
    pub tokens: Vec<TokenView>,
    /// The client certificates of an `mtls` account (more than one during a
    /// rotation): thumbprint and details, all public.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<StoredCertificate>,
    /// The public keys of a `private_key_jwt` account (more than one during
    /// a rotation), by key id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<PublicKeyView>,
    /// When any credential of the account was last used (Unix seconds,
    /// recorded at most once a minute per credential); absent if never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<u64>,
    /// When the previous secret stops working after a reset with grace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<u64>,
    /// OAuth client id, for the OAuth types.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Creation time (Unix seconds).
    pub created_at: u64,
    /// Last change (Unix seconds).
    pub updated_at: u64,
    /// Usage controls (issue #15): limits, expiry, allow-list, metadata.
    #[serde(flatten)]
    pub usage: usage::UsageView,
}

/// A registered public key as the API shows it.
#[derive(Debug, Serialize)]
pub struct PublicKeyView {
    /// Key id, matched against an assertion's `kid`.
    pub kid: String,
    /// The one algorithm the key verifies.
    pub alg: String,
    /// When it was registered.
    pub added_at: u64,
}

/// An API token as the API shows it.
#[derive(Debug, Serialize)]
pub struct TokenView {
    /// Identifier, for revocation.
    pub id: String,
    /// Name.
    pub name: String,
    /// Creation time.
    pub created_at: u64,
    /// Expiry, if any.
    pub expires_at: Option<u64>,
    /// When it was last used, if ever (at most once a minute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<u64>,
}

impl From<&Record> for AccountView {
    fn from(r: &Record) -> Self {
        let mut view = AccountView::from(&r.account);
        view.last_used_at = r.last_used_at();
        for token in &mut view.tokens {
            token.last_used_at = r
                .extension
                .last_used
                .get(&format!("token:{}", token.id))
                .copied();
        }
        view
    }
}

impl From<&Account> for AccountView {
    fn from(a: &Account) -> Self {
        let oauth = matches!(
            a.credential_type,
            CredentialType::ClientSecret | CredentialType::PrivateKeyJwt | CredentialType::Mtls
        );
        Self {
            id: a.id.clone(),
            name: a.name.clone(),
            description: a.description.clone(),
            credential_type: a.credential_type,
            status: a.status,
            scope: a.scope.clone(),
            roles: a.roles.clone(),
            groups: a.groups.clone(),
            flows: a.grants.clone(),
            tokens: a
                .tokens
                .iter()
                .map(|t| TokenView {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    created_at: t.created_at,
                    expires_at: t.expires_at,
                    last_used_at: None,
                })
                .collect(),
            certificates: a.certificates.clone(),
            public_keys: a
                .public_keys
                .iter()
                .map(|k| PublicKeyView {
                    kid: k.kid.clone(),
                    alg: k.alg.clone(),
                    added_at: k.added_at,
                })
                .collect(),
            last_used_at: None,
            previous_secret_expires_at: a.secrets.iter().filter_map(|s| s.expires_at).max(),
            client_id: oauth.then(|| a.id.clone()),
            created_at: a.created_at,
            updated_at: a.updated_at,
            usage: usage::UsageView::from(a),
        }
    }
}

/// A created account or a reset credential: the view plus the secret, once.
#[derive(Debug, Serialize)]
pub struct WithSecret {
    /// The account.
    #[serde(flatten)]
    pub account: AccountView,
    /// The plaintext secret: in this response and nowhere else.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// A created API token: shown once.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    /// Identifier, for revocation.
    pub id: String,
    /// Name.
    pub name: String,
    /// The plaintext token: in this response and nowhere else.
    pub token: String,
    /// Creation time.
    pub created_at: u64,
    /// Expiry, if any.
    pub expires_at: Option<u64>,
}

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
}

/// One page of a listing.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
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

/// An HTTP `GET` for the management component to pass in: the body of a
/// `200` answer, or why not.
pub type Fetch<'f> = dyn Fn(&str) -> Result<Vec<u8>, String> + 'f;

fn check_description(description: &str) -> Result<(), AdminError> {
    // Characters, as JSON Schema's `maxLength` counts them (openapi.json).
    if description.chars().count() > MAX_DESCRIPTION || description.chars().any(char::is_control) {
        return Err(field(
            "description",
            "at most 1024 characters, no control characters",
        ));
    }
    Ok(())
}

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
        let mut ids: Vec<String> = self
            .store
            .keys()?
            .into_iter()
            .filter_map(|k| k.strip_prefix("acct/").map(str::to_owned))
            .collect();
        ids.sort();
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
    fn write(&self, record: &Record) -> Result<(), AdminError> {
        let bytes = serde_json::to_vec(record)
            .map_err(|_| AdminError::Corrupt(record.account.id.clone()))?;
        self.store.set(&account_key(&record.account.id), &bytes)?;
        Ok(())
    }

    /// Writes the [`Account`] part of a record, keeping the stored
    /// management-only fields (direct grants, last use).
    fn save(&self, account: &Account) -> Result<(), AdminError> {
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

    fn flow(&self, id: &str) -> Result<&Flow, AdminError> {
        flow_by_id(self.flows, id).ok_or_else(|| not_found("flow", id))
    }

    fn check_scope(&self, scope: &Scope, flow: &Flow, field_name: &str) -> Result<(), AdminError> {
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
        let f = Fields::parse(body, &[CREATE_FIELDS, MATERIAL_FIELDS, usage::FIELDS].concat())?;
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
        usage::apply(&f, &mut controls, self.clock.now())?;
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
        let secret = secret_kind.map(|kind| NewSecret::generate(kind, &id, self.random));
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

    /// Checks an `oidc` account's issuer, audience and rule, then fetches the
    /// issuer's discovery document and JWKS: nothing is saved unless the
    /// issuer answers with at least one usable key.
    fn oidc_material(
        &self,
        f: &Fields,
        fetch: &Fetch<'_>,
    ) -> Result<(OidcSettings, IssuerRecord), AdminError> {
        let issuer = f
            .string("issuer")?
            .ok_or_else(|| field("issuer", "required for oidc: the issuer URL"))?;
        oidc::check_issuer(&issuer).map_err(|e| field("issuer", e.to_string()))?;
        let audience = f
            .string("audience")?
            .filter(|a| {
                !a.is_empty() && a.chars().count() <= 512 && !a.chars().any(char::is_control)
            })
            .ok_or_else(|| field("audience", "required for oidc: the `aud` tokens must name"))?;
        let rule = f
            .0
            .get("claims_match")
            .ok_or_else(|| field("claims_match", "required for oidc"))
            .and_then(|v| oidc::parse_rule(v).map_err(|e| field("claims_match", e.to_string())))?;
        let fetched = |url: &str| {
            fetch(url).map_err(|e| field("issuer", format!("fetching {url} failed: {e}")))
        };
        let discovery = fetched(&oidc::discovery_url(&issuer))?;
        let jwks_uri =
            oidc::jwks_uri(&discovery, &issuer).map_err(|e| field("issuer", e.to_string()))?;
        let now = self.clock.now();
        let keys = oidc::parse_jwks(&fetched(&jwks_uri)?, now)
            .map_err(|e| field("issuer", e.to_string()))?;
        let settings = OidcSettings {
            issuer: issuer.clone(),
            audience,
            claims_match: rule,
        };
        let record = IssuerRecord {
            issuer,
            jwks_uri,
            keys,
            fetched_at: now,
            // Registration is not a refetch: a key rotated right after it is
            // still picked up on first use.
            refetched_at: 0,
        };
        Ok((settings, record))
    }

    /// Adds the account's binding to its issuer and refreshes the JWKS cache.
    fn bind_issuer(
        &self,
        id: &str,
        settings: &OidcSettings,
        jwks: &IssuerRecord,
    ) -> Result<(), AdminError> {
        let key = oidc::bindings_key(&settings.issuer);
        let mut bindings: Bindings = match self.store.get(&key)? {
            Some(bytes) => {
                serde_json::from_slice(&bytes).map_err(|_| AdminError::Corrupt(key.clone()))?
            }
            None => Bindings::default(),
        };
        bindings.bindings.retain(|b| b.account_id != id);
        bindings.bindings.push(Binding {
            account_id: id.to_owned(),
            audience: settings.audience.clone(),
            claims_match: settings.claims_match.clone(),
        });
        let bytes = serde_json::to_vec(&bindings).map_err(|_| AdminError::Corrupt(key.clone()))?;
        // The cache first: it is only a cache, and the bindings write (a
        // compare-and-swap that may ask for a re-run) is then the last.
        let cache = serde_json::to_vec(jwks).map_err(|_| AdminError::Corrupt(key.clone()))?;
        self.store.set(&oidc::jwks_key(&settings.issuer), &cache)?;
        self.store.set(&key, &bytes)?;
        Ok(())
    }

    /// Removes the account's binding from its issuer.
    fn unbind_issuer(&self, id: &str, settings: &OidcSettings) -> Result<(), AdminError> {
        let key = oidc::bindings_key(&settings.issuer);
        let Some(bytes) = self.store.get(&key)? else {
            return Ok(());
        };
        let mut bindings: Bindings =
            serde_json::from_slice(&bytes).map_err(|_| AdminError::Corrupt(key.clone()))?;
        bindings.bindings.retain(|b| b.account_id != id);
        let bytes = serde_json::to_vec(&bindings).map_err(|_| AdminError::Corrupt(key.clone()))?;
        self.store.set(&key, &bytes)?;
        Ok(())
    }

    /// `GET /admin/v1/accounts`.
    pub fn list_accounts(&self, query: &AccountQuery) -> Result<Page<AccountView>, AdminError> {
        let limit = query.limit.clamp(1, 200);
        let mut ids: Vec<String> = self
            .store
            .keys()?
            .into_iter()
            .filter_map(|k| k.strip_prefix("acct/").map(str::to_owned))
            .filter(|id| query.after.as_ref().is_none_or(|after| id > after))
            .collect();
        ids.sort();
        let mut items = Vec::new();
        let mut next = None;
        let now = self.clock.now();
        let name = query.name.as_deref().map(str::to_ascii_lowercase);
        for id in ids {
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
                next = items.last().map(|a: &AccountView| a.id.clone());
                break;
            }
            items.push(AccountView::from(&record));
        }
        Ok(Page { items, next })
    }

    /// `PATCH /admin/v1/accounts/{id}`: description, roles, groups and the
    /// usage controls.
    pub fn update_account(&self, id: &str, body: &[u8]) -> Result<AccountView, AdminError> {
        let f = Fields::parse(body, &[&["description", "roles", "groups"], usage::FIELDS].concat())?;
        let mut record = self.record(id)?;
        usage::apply(&f, &mut record.account.usage, self.clock.now())?;
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

    /// `POST .../reset-credential` with optional `grace_seconds`.
    pub fn reset_credential(&self, id: &str, body: &[u8]) -> Result<WithSecret, AdminError> {
        let f = Fields::parse(body, &["grace_seconds", "expires_in"])?;
        let grace = f.seconds("grace_seconds", MAX_GRACE_SECONDS)?;
        let mut account = self.account(id)?;
        // A new expiry only when asked for; otherwise `expires_at` stays.
        usage::apply(&f, &mut account.usage, self.clock.now())?;
        let kind = account.secret_kind().ok_or_else(|| {
            field(
                "credential_type",
                format!(
                    "accounts of type `{}` have no generated secret to reset",
                    account.credential_type.as_str()
                ),
            )
        })?;
        let now = self.clock.now();
        let secret = NewSecret::generate(kind, id, self.random);
        // Earlier grace entries end now; the current one ends after the grace.
        account.secrets.retain(|s| s.expires_at.is_none());
        match grace {
            Some(seconds) => {
                for s in &mut account.secrets {
                    s.expires_at = Some(now + seconds);
                }
            }
            None => account.secrets.clear(),
        }
        account.secrets.push(StoredSecret {
            digest: self.pepper.digest(Domain::Credential, secret.expose()),
            created_at: now,
            expires_at: None,
        });
        account.updated_at = now;
        self.save(&account)?;
        Ok(WithSecret {
            account: AccountView::from(&account),
            secret: Some(secret.into_string()),
        })
    }

    /// `POST /admin/v1/accounts/{id}/tokens` with `name` and `expires_in`.
    pub fn create_token(&self, id: &str, body: &[u8]) -> Result<CreatedToken, AdminError> {
        let f = Fields::parse(body, &["name", "expires_in"])?;
        let name = f.string("name")?.ok_or_else(|| field("name", "required"))?;
        if !is_account_name(&name) {
            return Err(field(
                "name",
                "1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
            ));
        }
        let expires_in = f.seconds("expires_in", MAX_TOKEN_SECONDS)?;
        let mut account = self.account(id)?;
        if account.credential_type == CredentialType::Poller {
            return Err(field(
                "credential_type",
                "poller accounts cannot hold API tokens",
            ));
        }
        let now = self.clock.now();
        account
            .tokens
            .retain(|t| t.expires_at.is_none_or(|e| e > now));
        if account.tokens.iter().any(|t| t.name == name) {
            return Err(AdminError::Conflict {
                message: format!("the account already has a token named `{name}`"),
                flows: vec![],
            });
        }
        if account.tokens.len() >= MAX_TOKENS {
            return Err(AdminError::Conflict {
                message: format!("an account holds at most {MAX_TOKENS} tokens; revoke one first"),
                flows: vec![],
            });
        }
        let token = NewSecret::generate(SecretKind::ApiToken, id, self.random);
        let stored = StoredToken {
            id: generate_id(self.random),
            name,
            digest: self.pepper.digest(Domain::Credential, token.expose()),
            created_at: now,
            expires_at: expires_in.map(|s| now + s),
        };
        let created = CreatedToken {
            id: stored.id.clone(),
            name: stored.name.clone(),
            token: token.into_string(),
            created_at: now,
            expires_at: stored.expires_at,
        };
        account.tokens.push(stored);
        account.updated_at = now;
        self.save(&account)?;
        Ok(created)
    }

    /// `DELETE /admin/v1/accounts/{id}/tokens/{token_id}`.
    pub fn revoke_token(&self, id: &str, token_id: &str) -> Result<(), AdminError> {
        let mut account = self.account(id)?;
        let before = account.tokens.len();
        account.tokens.retain(|t| t.id != token_id);
        if account.tokens.len() == before {
            return Err(not_found("token", token_id));
        }
        account.updated_at = self.clock.now();
        self.save(&account)
    }

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
        self.store.set(&grant_key(flow_id, id), b"")?;
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
        let prefix = grant_prefix(flow_id);
        let mut ids: Vec<String> = self
            .store
            .keys()?
            .into_iter()
            .filter_map(|k| k.strip_prefix(&prefix).map(str::to_owned))
            .collect();
        ids.sort();
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

    /// Appends an audit entry. Audit keys sort by time.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), AdminError> {
        let key = format!("audit/{:012}-{}", entry.time, generate_id(self.random));
        let bytes = serde_json::to_vec(entry).map_err(|_| AdminError::Corrupt(key.clone()))?;
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
        let mut keys: Vec<String> = self
            .store
            .keys()?
            .into_iter()
            .filter(|k| k.starts_with("audit/"))
            .filter(|k| before.is_none_or(|b| k.as_str() < b))
            .collect();
        keys.sort_unstable_by(|a, b| b.cmp(a));
        let mut items = Vec::new();
        let mut next = None;
        for key in keys {
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

fn parse_scope(v: &Value) -> Result<Scope, AdminError> {
    let Value::Object(map) = v else {
        return Err(field("scope", "must be an object with `level`"));
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !["level", "project", "environment"].contains(&k.as_str()))
    {
        return Err(field(&format!("scope.{unknown}"), "unknown field"));
    }
    let text = |name: &str| -> Result<Option<String>, AdminError> {
        match map.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if is_identifier(s) => Ok(Some(s.clone())),
            Some(_) => Err(field(&format!("scope.{name}"), "1-64 of a-z, 0-9, _ and -")),
        }
    };
    let level = match text("level")?.as_deref() {
        None | Some("platform") => ScopeLevel::Platform,
        Some("project") => ScopeLevel::Project,
        Some("environment") => ScopeLevel::Environment,
        Some(_) => {
            return Err(field(
                "scope.level",
                "one of platform, project, environment",
            ));
        }
    };
    let project = text("project")?;
    let environment = text("environment")?;
    let ok = match level {
        ScopeLevel::Platform => project.is_none() && environment.is_none(),
        ScopeLevel::Project => project.is_some() && environment.is_none(),
        ScopeLevel::Environment => project.is_some() && environment.is_some(),
    };
    if !ok {
        return Err(field(
            "scope",
            "platform takes no project or environment; project takes a project; environment takes both",
        ));
    }
    Ok(Scope {
        level,
        project,
        environment,
    })
}

pub mod access;
pub mod credentials;
pub mod export;
pub mod groups;
mod names;
pub mod prune;
pub mod query;
pub mod roles;
pub mod usage;

#[cfg(test)]
mod tests;
