//! The adapter of `flowgate::usage::admit`: after the credential and the
//! grant, an account's usage controls (expiry, IP allow-list, rate limits,
//! metadata), on the account record the permit carries, and the usage
//! figures of refusals of a known account. An account without controls
//! costs nothing here; one with limits costs one atomic increment per
//! distinct window, one with figures one more (docs/usage.md). Every
//! increment goes through [`Counters::count`].

use flowgate::account::{Account, CredentialType};
use flowgate::decision::Via;
use flowgate::decision::proxy_certificate::{ProxyToken, proxy_token};
use flowgate::env::Clock as _;
use flowgate::path::NormalPath;
use flowgate::store::StoreError;
use flowgate::usage::figures::{self, Class};
use flowgate::usage::{Admission, Context, Counter, admit as admit_core, allow_list};
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
        let pepper = crate::vars::pepper()?;
        let configured = config::trusted_proxy_token()?;
        let trusted = proxy_token(pairs(), &configured, &pepper) == ProxyToken::Matches;
        allow_list::client_address(pairs(), trusted)
    };
    let context = Context {
        client,
        primary,
        now: WasiClock.now(),
    };
    let mut counters = Counters::default();
    Ok(admit_core(account, &context, &mut |c| counters.count(c)))
}

/// The store's counters, opened at the first one counted.
#[derive(Default)]
struct Counters(Option<Atomics>);

impl Counters {
    /// Counts one request in `counter`: the one way the authorizer
    /// increments a rate-limit, quota or usage counter
    /// (`flowgate_spin::Atomics::count`).
    fn count(&mut self, counter: &Counter) -> Result<i64, StoreError> {
        if self.0.is_none() {
            self.0 = Some(Atomics::open_default()?);
        }
        match &self.0 {
            Some(a) => a.count(counter),
            None => Err(StoreError("wasi:keyvalue not open".into())),
        }
    }
}

/// Whose usage figures a refusal (`401` or `403`) of a known account
/// counts in: the account's id, when its figures are recorded.
pub struct Tally(Option<String>);

impl Tally {
    /// For a refusal of `account`.
    pub fn of(account: &Account) -> Self {
        Self(figures::is_recorded(&account.usage).then(|| account.id.clone()))
    }

    /// For a refusal decided on the stored bytes of the account (a wrong
    /// secret); `None` (no such account) counts nowhere.
    pub fn of_stored(record: Option<&[u8]>) -> Self {
        // Most records have no usage controls: no second parse for them.
        Self(
            record
                .filter(|r| mentions_usage(r))
                .and_then(figures::recorded_id),
        )
    }

    /// Counts the refusal in `class`: `outcome` if that worked, `503` if
    /// the store failed (as for every counter: fail closed).
    pub fn count(self, class: Class, outcome: Outcome) -> Outcome {
        let Some(id) = self.0 else {
            return outcome;
        };
        let counter = figures::counter(&id, class, WasiClock.now());
        match Counters::default().count(&counter) {
            Ok(_) => outcome,
            Err(e) => unavailable(e),
        }
    }
}

/// Whether a stored account record has a `"usage":` member, the test that
/// spares records without usage controls a second parse. Only positions
/// holding a quote are compared: a search over every 8-byte window cost a
/// refusal about 1.5 µs inside wasm (perf, issue 16), more than the parse it
/// saves on most records.
fn mentions_usage(record: &[u8]) -> bool {
    const KEY: &[u8] = b"\"usage\":";
    record
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'"' && record[i..].starts_with(KEY))
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
