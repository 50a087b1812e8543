//! Accounts, tokens and pages as the API shows them: never a secret or a
//! digest, except the one-time secret of a create or reset.

use serde::Serialize;

use crate::account::{Account, CredentialType, Record, Scope, Status, StoredCertificate};

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
    pub usage: super::usage::UsageView,
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
            usage: super::usage::UsageView::from(a),
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

/// One page of a listing.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}
