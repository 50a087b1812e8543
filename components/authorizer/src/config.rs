//! The authorizer's configuration, read from Spin variables when a request
//! needs it. A missing or malformed variable fails closed (`503`) and the log
//! names the variable.

use std::cell::RefCell;
use std::rc::Rc;

use crate::vars::variable;
use flowgate::decision::proxy_certificate::PROXY_TOKEN_VARIABLE;
use flowgate::hash::Pepper;
use flowgate::token::{PREVIOUS_KEY_VARIABLE, SIGNING_KEY_VARIABLE, SigningKeys};
use flowgate::varcache::Derived;
use flowgate::verified::Keyring;

/// Longest access-token lifetime accepted from `access_token_ttl`: the
/// verifier refuses anything longer.
const MAX_TOKEN_LIFETIME: u64 = flowgate::token::MAX_ACCESS_TOKEN_LIFETIME;

/// What the token endpoint and bearer verification need.
pub struct Config {
    /// HMAC key of credential digests.
    pub pepper: Pepper,
    /// Signing and verifying keys.
    pub keys: Rc<SigningKeys>,
    /// `iss` of issued tokens, base of the metadata URLs.
    pub issuer: String,
    /// `aud` of access tokens: the flows behind this flowgate.
    pub audience: String,
    /// Access-token lifetime in seconds.
    pub token_lifetime: u64,
    /// The `signing_key` variable's text, which keys the verified-token
    /// record.
    current_key: String,
}

/// Reads the trusted proxy's token (`flowgate::decision::proxy_certificate`
/// decides what it means).
pub fn trusted_proxy_token() -> Result<String, String> {
    variable(PROXY_TOKEN_VARIABLE).map_err(|e| e.to_string())
}

/// Reads the issuer and derives the audience from it.
pub fn issuer() -> Result<(String, String), String> {
    let issuer = variable("issuer").map_err(|e| e.to_string())?;
    let issuer = issuer.trim().trim_end_matches('/').to_owned();
    if !(issuer.starts_with("https://") || issuer.starts_with("http://"))
        || issuer.contains(['?', '#'])
    {
        return Err("variable `issuer` must be an http(s) URL without query or fragment".into());
    }
    let audience = format!("{issuer}/flows");
    Ok((issuer, audience))
}

/// The text of the `signing_key` variable as read: what the verified-token
/// record is keyed by, without deriving a key.
pub fn current_key_text() -> Result<String, String> {
    variable(SIGNING_KEY_VARIABLE).map_err(|e| e.to_string())
}

/// The text of the `signing_key_previous` variable as read (empty: none).
/// Only the JWKS and a token whose `kid` is not the current key's need it.
pub fn previous_key_text() -> Result<String, String> {
    variable(PREVIOUS_KEY_VARIABLE).map_err(|e| e.to_string())
}

thread_local! {
    /// The keys last derived, with the exact text of the two variables they
    /// came from. An instance lives for one request in the WASI 0.2 build
    /// and for up to 128 in the WASIp3 one on Spin 4 (docs/p3.md); this is
    /// kept across them, with the variables' text (`crate::vars`, at most a
    /// second). It is derived from configuration alone and used only when
    /// the text read in this request is the same, so a rotated key takes
    /// effect as soon as its variable is read again.
    static DERIVED: RefCell<Derived<Rc<SigningKeys>>> = const { RefCell::new(Derived::new()) };
}

/// The signing keys from the variables' text: a plain seed is derived, a
/// bound value's tag checked (`flowgate::token::key`); the previous key is
/// derived only if the JWKS or a token's `kid` needs it. An instance that
/// already derived them from the same text reuses them.
pub fn keys_from(current: &str, previous: &str) -> Result<Rc<SigningKeys>, String> {
    DERIVED.with_borrow_mut(|derived| {
        derived.get_or_derive(&[current, previous], || {
            SigningKeys::from_variables(current, previous)
                .map(Rc::new)
                .map_err(|e| e.to_string())
        })
    })
}

/// Reads the key that signs (identity assertions): issuing never needs the
/// previous key, so its variable is not read.
pub fn signing_keys() -> Result<Rc<SigningKeys>, String> {
    keys_from(&current_key_text()?, "")
}

impl Config {
    /// Reads everything a route of the authorization server needs;
    /// `with_previous`: also the previous key, which verifying a token and
    /// the JWKS need and issuing does not (one variable read less per token).
    pub fn load(with_previous: bool) -> Result<Self, String> {
        let (issuer, audience) = issuer()?;
        let lifetime = variable("access_token_ttl").map_err(|e| e.to_string())?;
        let token_lifetime = lifetime
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=MAX_TOKEN_LIFETIME).contains(n))
            .ok_or_else(|| {
                format!("variable `access_token_ttl` must be 1 to {MAX_TOKEN_LIFETIME} seconds")
            })?;
        let current_key = current_key_text()?;
        let previous = if with_previous {
            previous_key_text()?
        } else {
            String::new()
        };
        Ok(Self {
            pepper: crate::vars::pepper()?,
            keys: keys_from(&current_key, &previous)?,
            issuer,
            audience,
            token_lifetime,
            current_key,
        })
    }

    /// The store key of `token`'s verified-token entry.
    pub fn verified_key(&self, token: &str) -> String {
        let ring = Keyring {
            issuer: &self.issuer,
            audience: &self.audience,
            current: &self.current_key,
        };
        flowgate::verified::key(&ring, token)
    }
}
