//! The adapter of `flowgate::usage::admit`: after the credential and the
//! grant, an account's usage controls (expiry, IP allow-list, rate limits,
//! metadata). An account without controls costs nothing here beyond an
//! access token's account read; one with limits costs one atomic increment
//! per distinct window (docs/usage.md).

use flowgate::account::Account;
use flowgate::env::Clock as _;
use flowgate::path::NormalPath;
use flowgate::store::StoreError;
use flowgate::store::keys::account_key;
use flowgate::usage::{Admission, Context, admit as admit_core, allow_list};
use flowgate_spin::{Atomics, SpinStore, WasiClock};

use crate::config::{self, ProxyToken};
use crate::decide::{Allowed, Outcome, deny};

/// Runs admission for an allowed request.
pub fn admit(mut allowed: Allowed, headers: &[(String, Vec<u8>)], path: &NormalPath) -> Outcome {
    let account = match allowed.account.take() {
        Some(a) => a,
        // An access token: its account is read once here.
        None => match read_account(&allowed.account_id) {
            Ok(Some(a)) => a,
            Ok(None) => {
                deny(
                    "account of the access token is gone",
                    Some(&allowed.account_id),
                    path,
                );
                return Outcome::Unauthorized { basic: false };
            }
            Err(e) => return unavailable(e),
        },
    };
    match decide(&account, allowed.primary, headers) {
        Ok(Admission::Admit { metadata }) => {
            allowed.metadata = metadata;
            Outcome::Allow(allowed)
        }
        Ok(Admission::Expired) => {
            deny("credential expired", Some(&account.id), path);
            Outcome::Unauthorized {
                basic: account.credential_type == flowgate::account::CredentialType::Basic,
            }
        }
        Ok(Admission::AddressRefused) => {
            deny(
                "client address not on the allow-list",
                Some(&account.id),
                path,
            );
            Outcome::Forbidden
        }
        Ok(Admission::Limited(exceeded)) => {
            deny("over a rate limit", Some(&account.id), path);
            Outcome::Limited(exceeded)
        }
        Ok(Admission::Unavailable(e)) => unavailable(e),
        Ok(_) => unavailable("unknown admission outcome"),
        Err(e) => unavailable(e),
    }
}

/// The admission of `account` for a request with `headers`, shared with
/// the token endpoint. `Err`: a variable could not be read (`503`).
pub fn decide(
    account: &Account,
    primary: bool,
    headers: &[(String, Vec<u8>)],
) -> Result<Admission, String> {
    let now = WasiClock.now();
    if account.usage.is_empty() {
        // Nothing to check beyond what authentication checked, except the
        // end of an mtls account's certificates, which it checked too.
        return Ok(Admission::Admit { metadata: None });
    }
    let client = if account.usage.allowed_ips.is_empty() {
        None
    } else {
        let pepper = config::pepper()?;
        let trusted = config::proxy_token(headers, &pepper)? == ProxyToken::Matches;
        allow_list::client_address(
            headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
            trusted,
        )
    };
    let context = Context {
        client,
        primary,
        now,
    };
    let mut atomics: Option<Atomics> = None;
    let mut increment = |key: &str, delta: i64| -> Result<i64, StoreError> {
        if atomics.is_none() {
            atomics = Some(Atomics::open_default()?);
        }
        match &atomics {
            Some(a) => a.increment(key, delta),
            None => Err(StoreError("wasi:keyvalue not open".into())),
        }
    };
    Ok(admit_core(account, &context, &mut increment))
}

fn read_account(id: &str) -> Result<Option<Account>, String> {
    use flowgate::store::Store as _;
    let store = SpinStore::open_default().map_err(|e| e.to_string())?;
    match store.get(&account_key(id)).map_err(|e| e.to_string())? {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| format!("account record {id} unreadable")),
        None => Ok(None),
    }
}

fn unavailable(e: impl std::fmt::Display) -> Outcome {
    eprintln!("flowgate authorizer: unavailable: {e}");
    Outcome::Unavailable
}

/// Why the token endpoint refuses an authenticated client on its usage
/// controls.
pub enum TokenRefusal {
    /// An RFC 6749 5.2 error.
    OAuth(flowgate::oauth::OAuthError),
    /// Over a rate limit: `429`.
    Limited(flowgate::usage::limits::Exceeded),
}

/// Admission at `POST /oauth2/token`: an expired credential is
/// `invalid_client` (401), an address off the allow-list
/// `unauthorized_client` (400), a limit `429`; every issued token counts.
pub fn at_token_endpoint(
    account: &Account,
    headers: &[(String, Vec<u8>)],
) -> Result<(), TokenRefusal> {
    use flowgate::oauth::OAuthError;
    let refuse = |reason: &str, e: OAuthError| {
        eprintln!(
            "flowgate authorizer: token endpoint: client {}: {reason}",
            account.id
        );
        TokenRefusal::OAuth(e)
    };
    match decide(account, true, headers) {
        Ok(Admission::Admit { .. }) => Ok(()),
        Ok(Admission::Expired) => Err(refuse(
            "credential expired",
            OAuthError::InvalidClient { basic: false },
        )),
        Ok(Admission::AddressRefused) => Err(refuse(
            "client address not on the allow-list",
            OAuthError::UnauthorizedClient,
        )),
        Ok(Admission::Limited(exceeded)) => {
            eprintln!(
                "flowgate authorizer: token endpoint: client {}: over a rate limit",
                account.id
            );
            Err(TokenRefusal::Limited(exceeded))
        }
        Ok(Admission::Unavailable(e)) => Err(refuse(&e.to_string(), OAuthError::Unavailable)),
        Ok(_) => Err(refuse("unknown admission outcome", OAuthError::Unavailable)),
        Err(e) => Err(refuse(&e, OAuthError::Unavailable)),
    }
}
