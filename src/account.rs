//! Service accounts as stored: one record per account under `acct/<id>`,
//! holding everything the authorizer needs to decide a request (status,
//! credential digests, token digests, grants). One read decides a request,
//! and a mutation of an account is a single write of its record.

use serde::{Deserialize, Serialize};

use crate::hash::Digest;

/// How an account's callers authenticate. One per account, chosen at creation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialType {
    /// `X-API-Key: <key>` or `Authorization: Bearer <key>`.
    ApiKey,
    /// `Authorization: Basic`, the username being the account's name.
    Basic,
    /// OAuth 2.0 client credentials with a client secret.
    ClientSecret,
    /// OAuth 2.0 client authenticating with a signed JWT (RFC 7523).
    PrivateKeyJwt,
    /// A client certificate forwarded by a trusted TLS-terminating proxy.
    Mtls,
    /// A JWT from an external identity provider.
    Oidc,
    /// No credential: internal triggers that never authenticate publicly.
    Poller,
}

impl CredentialType {
    /// Every type, in the contract's order.
    pub const ALL: [CredentialType; 7] = [
        Self::ApiKey,
        Self::Basic,
        Self::ClientSecret,
        Self::PrivateKeyJwt,
        Self::Mtls,
        Self::Oidc,
        Self::Poller,
    ];

    /// The contract's name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::Basic => "basic",
            Self::ClientSecret => "client_secret",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::Mtls => "mtls",
            Self::Oidc => "oidc",
            Self::Poller => "poller",
        }
    }

    /// Parses the contract's name of a type.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// Whether an account may authenticate at all. Disabling is the kill switch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Credentials work.
    Active,
    /// Every credential of the account is refused.
    Disabled,
}

/// The level an account belongs to (Mia-Platform's scope levels).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// `platform`, `project` or `environment`.
    pub level: ScopeLevel,
    /// The project, for the project and environment levels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The environment, for the environment level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

/// Scope levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScopeLevel {
    /// Every flow of the platform.
    #[default]
    Platform,
    /// The flows of one project.
    Project,
    /// The flows of one environment of one project.
    Environment,
}

impl Scope {
    /// Whether a flow of `project`/`environment` lies inside this scope.
    pub fn contains(&self, project: &str, environment: &str) -> bool {
        match self.level {
            ScopeLevel::Platform => true,
            ScopeLevel::Project => self.project.as_deref() == Some(project),
            ScopeLevel::Environment => {
                self.project.as_deref() == Some(project)
                    && self.environment.as_deref() == Some(environment)
            }
        }
    }
}

/// The digest of one primary secret. Two may exist during a reset's grace
/// period; the old one then carries `expires_at`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSecret {
    /// HMAC of the whole secret.
    pub digest: Digest,
    /// When it was issued (Unix seconds).
    pub created_at: u64,
    /// When it stops working, if ever (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// A named API token of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Identifier, used to list and revoke it.
    pub id: String,
    /// The administrator's name for it.
    pub name: String,
    /// HMAC of the whole token.
    pub digest: Digest,
    /// When it was issued (Unix seconds).
    pub created_at: u64,
    /// When it stops working, if ever (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// A registered client certificate. Only its thumbprint and details are kept:
/// the edge matches the SHA-256 thumbprint of the forwarded certificate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCertificate {
    /// base64url SHA-256 of the DER certificate (RFC 8705 `x5t#S256`).
    pub thumbprint: String,
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// Start of validity (Unix seconds).
    pub not_before: u64,
    /// End of validity (Unix seconds).
    pub not_after: u64,
    /// When it was registered.
    pub added_at: u64,
}

/// What an `oidc` account trusts: tokens of `issuer` for `audience` whose
/// claims satisfy `claims_match` (see `crate::oidc`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OidcSettings {
    /// The issuer URL.
    pub issuer: String,
    /// The audience tokens must name.
    pub audience: String,
    /// Claim name to accepted patterns.
    pub claims_match: std::collections::BTreeMap<String, Vec<String>>,
}

/// A registered public key of a `private_key_jwt` client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPublicKey {
    /// Key id, matched against the assertion's `kid`.
    pub kid: String,
    /// The one algorithm this key verifies: `EdDSA`, `ES256` or `RS256`.
    pub alg: String,
    /// The key as DER SubjectPublicKeyInfo, base64url.
    pub spki: String,
    /// When it was registered.
    pub added_at: u64,
}

/// An account record as stored under `acct/<id>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Random identifier; also embedded in the account's secrets.
    pub id: String,
    /// Unique name; the username of Basic credentials.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The one credential type.
    pub credential_type: CredentialType,
    /// Active or disabled.
    pub status: Status,
    /// The level the account lives at.
    #[serde(default)]
    pub scope: Scope,
    /// Role names.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Group names.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Flow ids this account may invoke.
    #[serde(default)]
    pub grants: Vec<String>,
    /// Primary secrets (none for types without a generated secret).
    #[serde(default)]
    pub secrets: Vec<StoredSecret>,
    /// API tokens.
    #[serde(default)]
    pub tokens: Vec<StoredToken>,
    /// Client certificates (`mtls`): more than one during a rotation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<StoredCertificate>,
    /// Public keys (`private_key_jwt`): more than one during a rotation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_keys: Vec<StoredPublicKey>,
    /// The external issuer this account trusts (`oidc`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSettings>,
    /// Usage controls: limits, expiry, allow-list, metadata (issue #15).
    #[serde(default, skip_serializing_if = "crate::usage::Controls::is_empty")]
    pub usage: crate::usage::Controls,
    /// Creation time (Unix seconds).
    pub created_at: u64,
    /// Last change (Unix seconds).
    pub updated_at: u64,
}

impl Account {
    /// The secret kind this account's primary credential uses, if any.
    pub fn secret_kind(&self) -> Option<crate::secret::SecretKind> {
        use crate::secret::SecretKind;
        match self.credential_type {
            CredentialType::ApiKey => Some(SecretKind::ApiKey),
            CredentialType::Basic => Some(SecretKind::BasicPassword),
            CredentialType::ClientSecret => Some(SecretKind::ClientSecret),
            _ => None,
        }
    }
}

#[cfg(test)]
impl Account {
    /// An active account of `kind` with no credentials, grants or roles: the
    /// base the core's unit tests adjust with struct-update syntax.
    pub(crate) fn for_tests(kind: CredentialType) -> Self {
        Self {
            id: "abcdefghijklmnop".into(),
            name: "svc".into(),
            description: String::new(),
            credential_type: kind,
            status: Status::Active,
            scope: Scope::default(),
            roles: vec![],
            groups: vec![],
            grants: vec![],
            secrets: vec![],
            tokens: vec![],
            certificates: vec![],
            public_keys: vec![],
            oidc: None,
            usage: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }
}

/// Management-only fields kept in the account record beside [`Account`]. The
/// authorizer parses the record as an [`Account`] and ignores them, so adding
/// them costs the hot path nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Flows granted to the account itself. `grants` (what the authorizer
    /// checks) is these plus the grants of the account's groups. Absent in
    /// records written before groups existed: then every grant is direct.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_grants: Option<Vec<String>>,
    /// When each credential was last used (Unix seconds): key `primary` for
    /// the account's primary secret, `token:<id>` for an API token.
    /// docs/management.md says who writes it and how often.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub last_used: std::collections::BTreeMap<String, u64>,
}

/// The whole account record as management reads and writes it: the
/// [`Account`] the authorizer reads, and the [`Extension`] only management
/// uses. Writing a record never drops either part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// What the authorizer reads.
    #[serde(flatten)]
    pub account: Account,
    /// What only management reads.
    #[serde(flatten)]
    pub extension: Extension,
}

impl Record {
    /// The flows granted to the account itself (not through a group).
    pub fn direct_grants(&self) -> Vec<String> {
        self.extension
            .direct_grants
            .clone()
            .unwrap_or_else(|| self.account.grants.clone())
    }

    /// When any credential of the account was last used, if ever.
    pub fn last_used_at(&self) -> Option<u64> {
        self.extension.last_used.values().copied().max()
    }
}

/// Least time between two recorded uses of one credential: at most one
/// store write per credential per minute.
pub const LAST_USED_INTERVAL: u64 = 60;

/// The new bytes of an account record after a use of `credential`
/// (`primary` or `token:<id>`) at `now`, or `None` when the recorded use is
/// less than [`LAST_USED_INTERVAL`] old (nothing to write) or the record is
/// unreadable. Every other field, known or not, is kept as it was, so the
/// caller may compare-and-swap the result over the bytes it read
/// (docs/management.md, "Last used").
pub fn record_use(record: &[u8], credential: &str, now: u64) -> Option<Vec<u8>> {
    /// Only the uses: the common case (recorded less than a minute ago) is
    /// decided without building the whole record.
    #[derive(Deserialize)]
    struct Uses {
        #[serde(default)]
        last_used: std::collections::BTreeMap<String, u64>,
    }
    let uses: Uses = serde_json::from_slice(record).ok()?;
    if uses
        .last_used
        .get(credential)
        .is_some_and(|t| now < t.saturating_add(LAST_USED_INTERVAL))
    {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_slice(record).ok()?;
    let map = value.as_object_mut()?;
    let uses = map
        .entry("last_used")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()))
        .as_object_mut()?;
    let due = uses
        .get(credential)
        .and_then(serde_json::Value::as_u64)
        .is_none_or(|t| now >= t.saturating_add(LAST_USED_INTERVAL));
    if !due {
        return None;
    }
    uses.insert(credential.to_owned(), now.into());
    serde_json::to_vec(&value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_use_is_written_at_most_once_a_minute_and_keeps_every_field() {
        let record = br#"{"id":"a","future_field":[1,2],"last_used":{"token:t":5}}"#;
        let first = record_use(record, "primary", 100).expect("never used: due");
        let value: serde_json::Value = serde_json::from_slice(&first).expect("json");
        assert_eq!(value["last_used"]["primary"], 100);
        assert_eq!(value["last_used"]["token:t"], 5);
        assert_eq!(value["future_field"], serde_json::json!([1, 2]));
        assert_eq!(record_use(&first, "primary", 159), None);
        assert!(record_use(&first, "primary", 160).is_some());
        assert!(record_use(&first, "token:t", 101).is_some());
        assert_eq!(record_use(b"not json", "primary", 1), None);
    }
}
