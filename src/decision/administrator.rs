//! Who is calling `/admin/v1`: the bootstrap administrator
//! (`Authorization: Bearer <admin_token>`) or a service account presenting
//! its own API key (`X-API-Key` or Bearer) or API token (Bearer), parsed by
//! the same header parser as at a flow (`crate::credential`). The account
//! is then authenticated like any other (`super::authenticate`, the kill
//! switch inside); what it may do is its roles' business.

use crate::credential::{CredentialError, Presented};
use crate::hash::{Domain, Pepper};
use crate::secret::ParsedSecret;

/// Name of the variable holding the bootstrap admin token.
pub const ADMIN_TOKEN_VARIABLE: &str = "admin_token";
/// The shortest admin token accepted; a shorter one is a configuration error.
pub const MIN_ADMIN_TOKEN: usize = 16;

/// The caller the credential names, before any store read.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminCaller<'a> {
    /// The bootstrap administrator, who may do everything.
    Bootstrap,
    /// A service account, to be authenticated against its record.
    Account(ParsedSecret<'a>),
}

/// Why the caller is not admitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminAuthError {
    /// The credential is missing, malformed or of a kind not accepted here
    /// (caller's fault, `401`).
    #[error("{0}")]
    Credential(#[from] CredentialError),
    /// The admin token variable is unreadable or too short (system fault,
    /// `503`).
    #[error("{0}")]
    Unavailable(String),
}

/// Decides which caller `presented` names. `admin_token` reads the variable;
/// it is called only for a Bearer credential.
pub fn administrator<'a, F>(
    presented: &Presented<'a>,
    admin_token: F,
    pepper: &Pepper,
) -> Result<AdminCaller<'a>, AdminAuthError>
where
    F: FnOnce() -> Result<String, String>,
{
    if let Presented::Bearer(token) = presented {
        let configured = admin_token().map_err(AdminAuthError::Unavailable)?;
        let configured = configured.trim();
        if configured.len() < MIN_ADMIN_TOKEN {
            return Err(AdminAuthError::Unavailable(format!(
                "variable `{ADMIN_TOKEN_VARIABLE}` must be at least {MIN_ADMIN_TOKEN} characters"
            )));
        }
        // Keyed digests: constant time, and the token's length is hidden.
        let expected = pepper.digest(Domain::AdminToken, configured);
        if pepper.digest(Domain::AdminToken, token).ct_eq(&expected) {
            return Ok(AdminCaller::Bootstrap);
        }
    }
    // API keys and API tokens only, with the flows' rules: a Basic password
    // or a client secret is not accepted, nor an API token in `X-API-Key`.
    Ok(AdminCaller::Account(presented.flow_secret()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::extract;
    use crate::secret::tests::CountingRandom;
    use crate::secret::{NewSecret, SecretKind};
    use std::cell::Cell;

    const ADMIN: &str = "adm-0123456789abcdef";

    fn pepper() -> Pepper {
        Pepper::from_variable(&"ab".repeat(32)).expect("pepper")
    }

    fn decide(name: &str, value: &str) -> Result<String, AdminAuthError> {
        let headers = [(name, value.as_bytes())];
        let presented = extract(headers).map_err(AdminAuthError::Credential)?;
        administrator(&presented, || Ok(ADMIN.to_owned()), &pepper()).map(|c| match c {
            AdminCaller::Bootstrap => "bootstrap".to_owned(),
            AdminCaller::Account(s) => format!("{:?}", s.kind()),
        })
    }

    #[test]
    fn the_admin_token_is_bootstrap_and_api_keys_and_tokens_are_accounts() {
        let random = CountingRandom(Cell::new(5));
        let key = NewSecret::generate(SecretKind::ApiKey, "abcdefghijklmnop", &random, &pepper());
        let token =
            NewSecret::generate(SecretKind::ApiToken, "abcdefghijklmnop", &random, &pepper());
        assert_eq!(
            decide("Authorization", &format!("Bearer {ADMIN}")).as_deref(),
            Ok("bootstrap")
        );
        assert_eq!(decide("X-API-Key", key.expose()).as_deref(), Ok("ApiKey"));
        let bearer_key = format!("Bearer {}", key.expose());
        assert_eq!(
            decide("Authorization", &bearer_key).as_deref(),
            Ok("ApiKey")
        );
        let bearer_token = format!("Bearer {}", token.expose());
        assert_eq!(
            decide("Authorization", &bearer_token).as_deref(),
            Ok("ApiToken")
        );
    }

    #[test]
    fn issue12_management_uses_the_flow_rules_for_credentials() {
        let random = CountingRandom(Cell::new(9));
        let token =
            NewSecret::generate(SecretKind::ApiToken, "abcdefghijklmnop", &random, &pepper());
        // An API token in X-API-Key is refused here as at a flow.
        assert_eq!(
            decide("X-API-Key", token.expose()),
            Err(AdminAuthError::Credential(CredentialError::WrongKind))
        );
        // The admin token in X-API-Key is not the admin token.
        assert!(matches!(
            decide("X-API-Key", ADMIN),
            Err(AdminAuthError::Credential(CredentialError::Secret(_)))
        ));
        // Control bytes are refused, not trimmed away.
        assert_eq!(
            decide("Authorization", &format!("Bearer {ADMIN}\t")),
            Err(AdminAuthError::Credential(CredentialError::Malformed))
        );
        // The same length limit as at a flow.
        let long = format!("Bearer {}", "a".repeat(2000));
        assert!(matches!(
            decide("Authorization", &long),
            Err(AdminAuthError::Credential(CredentialError::Secret(_)))
        ));
    }

    #[test]
    fn a_short_or_unreadable_admin_token_variable_is_a_system_fault() {
        let headers = [("Authorization", b"Bearer something-long-enough".as_slice())];
        let presented = extract(headers).expect("bearer");
        assert!(matches!(
            administrator(&presented, || Ok("short".into()), &pepper()),
            Err(AdminAuthError::Unavailable(_))
        ));
        assert!(matches!(
            administrator(&presented, || Err("provider down".into()), &pepper()),
            Err(AdminAuthError::Unavailable(_))
        ));
    }
}
