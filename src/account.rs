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
