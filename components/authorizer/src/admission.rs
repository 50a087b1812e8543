//! The adapter of `flowgate::usage::admit`: after the credential and the
//! grant, an account's usage controls (expiry, IP allow-list, rate limits,
//! metadata), on the account record the permit carries. An account without
//! controls costs nothing here; one with limits costs one atomic increment
//! per distinct window (docs/usage.md).

use flowgate::account::{Account, CredentialType};
use flowgate::decision::Via;
use flowgate::decision::proxy_certificate::{ProxyToken, proxy_token};
use flowgate::env::Clock as _;
use flowgate::path::NormalPath;
use flowgate::store::StoreError;
use flowgate::usage::{Admission, Context, admit as admit_core, allow_list};
use flowgate_spin::{Atomics, WasiClock};

use crate::config;
use crate::decide::{Allowed, Outcome, deny, unavailable};

/// Runs admission for a request the grant check allowed, on the account
/// record the permit carries (read once for this request, whatever the
/// credential, access tokens included).
pub fn admit(permit: Allowed, headers: &[(String, Vec<u8>)], path: &NormalPath) -> Outcome {
    let account = permit.account();
    // The account's expiry is the primary credential's; an access token
    // minted with it counts as that credential, an API token does not.
    let primary = permit.principal().via() != Via::ApiToken;
    match decide(account, primary, headers) {
        Ok(Admission::Admit { .. }) => Outcome::Allow(permit),
        Ok(Admission::Expired) => {
            deny("credential expired", Some(&account.id), path);
            Outcome::Unauthorized {
                basic: account.credential_type == CredentialType::Basic,
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
    if account.usage.is_empty() {
        // Nothing to check beyond what authentication checked.
        return Ok(Admission::Admit { metadata: None });
    }
    let pairs = || headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()));
    let client = if account.usage.allowed_ips.is_empty() {
        None
    } else {
        // The forwarded address is believed only from the trusted proxy,
        // by the same rule as a forwarded certificate.
        let pepper = flowgate_spin::pepper()?;
        let configured = config::trusted_proxy_token()?;
        let trusted = proxy_token(pairs(), &configured, &pepper) == ProxyToken::Matches;
        allow_list::client_address(pairs(), trusted)
    };
    let context = Context {
        client,
        primary,
        now: WasiClock.now(),
    };
    let mut atomics: Option<Atomics> = None;
    let mut increment = |key: &str, delta: i64| -> Result<i64, StoreError> {
        if atomics.is_none() {
            atomics = Some(Atomics::open_default()?);
        }
        let count = match &atomics {
            Some(a) => a.increment(key, delta)?,
            None => return Err(StoreError("wasi:keyvalue not open".into())),
        };
        // Issue 16: the increment that creates a counter files it in the
        // expiry index, for prune.
        if count == 1 {
            let store = flowgate_spin::SpinStore::open_default()?;
            flowgate::store::expiry::file_counter(&store, key, count, context.now)?;
        }
        Ok(count)
    };
    Ok(admit_core(account, &context, &mut increment))
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
        crate::log::log_line!(
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
            crate::log::log_line!(
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
