//! Generated secrets of an account: resetting its key, password or client
//! secret (with an optional grace period for the old one), and its API
//! tokens. Plaintext is returned once and never stored.

use super::{
    AccountView, Admin, AdminError, CreatedToken, Fields, WithSecret, field, is_account_name,
    not_found,
};
use crate::account::{CredentialType, StoredSecret, StoredToken};
use crate::hash::Domain;
use crate::secret::{NewSecret, SecretKind, generate_id};

/// Longest grace period of a reset: 30 days.
const MAX_GRACE_SECONDS: u64 = 30 * 24 * 3600;
/// Longest API-token lifetime: 10 years.
const MAX_TOKEN_SECONDS: u64 = 10 * 365 * 24 * 3600;
/// Most API tokens per account: the record is read on every request.
const MAX_TOKENS: usize = 20;

impl Admin<'_> {
    /// `POST .../reset-credential` with optional `grace_seconds`.
    pub fn reset_credential(&self, id: &str, body: &[u8]) -> Result<WithSecret, AdminError> {
        let f = Fields::parse(body, &["grace_seconds", "expires_in"])?;
        let grace = f.seconds("grace_seconds", MAX_GRACE_SECONDS)?;
        let mut account = self.account(id)?;
        // A new expiry only when asked for; otherwise `expires_at` stays.
        super::usage::apply(&f, &mut account.usage, self.clock.now())?;
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
        let secret = NewSecret::generate(kind, id, self.random, self.pepper);
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
        let token = NewSecret::generate(SecretKind::ApiToken, id, self.random, self.pepper);
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
}
