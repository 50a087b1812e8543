//! The kill switch: the one place where an account's status is checked.
//!
//! A [`Principal`] (an authenticated caller) can only be made by [`active`],
//! so no credential path can skip the check: API keys, Basic passwords, API
//! tokens, certificates, OIDC tokens, OAuth clients at the token endpoint,
//! administrators at `/admin/v1`, and access tokens already issued, which are
//! checked against their account's record on every request
//! (`docs/tokens.md`, "Kill switch").

use crate::account::{Account, CredentialType, Status};

use super::authenticate::AuthnFailure;

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The account's primary credential.
    Primary,
    /// One of its API tokens.
    ApiToken,
    /// An access token issued by our token endpoint.
    AccessToken,
}

/// A verified caller whose account is active.
#[derive(Debug, Clone)]
pub struct Principal {
    account: Account,
    via: Via,
    /// The id of the API token that matched, when `via` is `ApiToken`.
    token_id: Option<String>,
    /// For an access token: the flows its `scope` names. A token can narrow
    /// what the account's grants allow, never widen it.
    scope: Option<String>,
}

/// The principal for `account`, which has just proved its identity by
/// `via`, if the account is active. The only constructor of [`Principal`].
pub(super) fn active(
    account: Account,
    via: Via,
    token_id: Option<String>,
    scope: Option<String>,
) -> Result<Principal, AuthnFailure> {
    if account.status != Status::Active {
        return Err(AuthnFailure::Disabled);
    }
    Ok(Principal {
        account,
        via,
        token_id,
        scope,
    })
}

impl Principal {
    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.account.id
    }
    /// The account name.
    pub fn account_name(&self) -> &str {
        &self.account.name
    }
    /// The account's credential type.
    pub fn credential_type(&self) -> CredentialType {
        self.account.credential_type
    }
    /// The account record as read for this request.
    pub fn account(&self) -> &Account {
        &self.account
    }
    /// How it authenticated.
    pub fn via(&self) -> Via {
        self.via
    }
    /// The name under which this use is recorded in the account's
    /// `last_used`: `primary`, or `token:<id>` for an API token.
    pub fn credential_label(&self) -> String {
        match &self.token_id {
            Some(id) => format!("token:{id}"),
            None => "primary".to_owned(),
        }
    }
    /// The account's roles.
    pub fn roles(&self) -> &[String] {
        &self.account.roles
    }
    /// The access token's scope, when it authenticated with one.
    pub(super) fn token_scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(status: Status) -> Account {
        Account {
            status,
            ..Account::for_tests(CredentialType::ApiKey)
        }
    }

    #[test]
    fn a_disabled_account_never_becomes_a_principal_whatever_the_credential() {
        for via in [Via::Primary, Via::ApiToken, Via::AccessToken] {
            assert_eq!(
                active(account(Status::Disabled), via, None, None).err(),
                Some(AuthnFailure::Disabled),
                "{via:?}"
            );
            assert!(active(account(Status::Active), via, None, None).is_ok());
        }
    }
}
