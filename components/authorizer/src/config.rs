//! The authorizer's configuration, read from Spin variables when a request
//! needs it. A missing or malformed variable fails closed (`503`) and the log
//! names the variable.

use flowgate::hash::{Domain, PEPPER_VARIABLE, Pepper};
use flowgate::token::{PREVIOUS_KEY_VARIABLE, SIGNING_KEY_VARIABLE, SigningKeys};
use flowgate::verified::Keyring;
use flowgate_spin::variable;

/// Longest access-token lifetime accepted from `access_token_ttl`: the
/// verifier refuses anything longer.
const MAX_TOKEN_LIFETIME: u64 = flowgate::token::MAX_ACCESS_TOKEN_LIFETIME;

/// What the token endpoint and bearer verification need.
pub struct Config {
    /// HMAC key of credential digests.
    pub pepper: Pepper,
    /// Signing and verifying keys.
    pub keys: SigningKeys,
    /// `iss` of issued tokens, base of the metadata URLs.
    pub issuer: String,
    /// `aud` of access tokens: the flows behind this flowgate.
    pub audience: String,
    /// Access-token lifetime in seconds.
    pub token_lifetime: u64,
    /// The key variables' text, for keys of the verified-token record.
    key_texts: (String, String),
}

/// Reads the pepper.
pub fn pepper() -> Result<Pepper, String> {
    let text = variable(PEPPER_VARIABLE).map_err(|e| e.to_string())?;
    Pepper::from_variable(&text).map_err(|e| e.to_string())
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

/// The text of the two signing-key variables, current and previous, as read:
/// what the verified-token record is keyed under, without deriving a key.
pub fn key_texts() -> Result<(String, String), String> {
    let current = variable(SIGNING_KEY_VARIABLE).map_err(|e| e.to_string())?;
    let previous = variable(PREVIOUS_KEY_VARIABLE).map_err(|e| e.to_string())?;
    Ok((current, previous))
}

/// Derives the signing keys from the variables' text.
pub fn keys_from(current: &str, previous: &str) -> Result<SigningKeys, String> {
    SigningKeys::from_variables(current, previous).map_err(|e| e.to_string())
}

/// Reads the signing keys.
pub fn keys() -> Result<SigningKeys, String> {
    let (current, previous) = key_texts()?;
    keys_from(&current, &previous)
}

impl Config {
    /// Reads everything.
    pub fn load() -> Result<Self, String> {
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
        let key_texts = key_texts()?;
        Ok(Self {
            pepper: pepper()?,
            keys: keys_from(&key_texts.0, &key_texts.1)?,
            issuer,
            audience,
            token_lifetime,
            key_texts,
        })
    }

    /// The store key of `token`'s verified-token entry.
    pub fn verified_key(&self, token: &str) -> String {
        let ring = Keyring {
            issuer: &self.issuer,
            audience: &self.audience,
            current: &self.key_texts.0,
            previous: &self.key_texts.1,
        };
        flowgate::verified::key(&self.pepper, &ring, token)
    }
}

/// Name of the request header that carries the trusted proxy's token.
pub const PROXY_TOKEN_HEADER: &str = "x-flowgate-proxy-token";
/// Shortest proxy token accepted.
const MIN_PROXY_TOKEN: usize = 16;

/// The thumbprint of the client certificate forwarded by the trusted proxy.
/// `Ok(None)`: no certificate header. A certificate header without the
/// proxy's token (or with no proxy configured) is an error: a client that
/// forges one is refused, not ignored.
pub fn trusted_certificate(
    headers: &[(String, Vec<u8>)],
    pepper: &Pepper,
) -> Result<Option<String>, String> {
    let thumbprint = flowgate::certificate::forwarded_thumbprint(
        headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
    )
    .map_err(|e| e.to_string())?;
    let Some(thumbprint) = thumbprint else {
        return Ok(None);
    };
    match proxy_token(headers, pepper)? {
        ProxyToken::Matches => {}
        ProxyToken::NotConfigured => {
            return Err("client certificate header, but no trusted proxy is configured".into());
        }
        ProxyToken::NotOne => {
            return Err("client certificate header without exactly one proxy token".into());
        }
        ProxyToken::Wrong => {
            return Err("client certificate header with a wrong proxy token".into());
        }
    }
    Ok(Some(thumbprint))
}

/// What the request says about the trusted proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyToken {
    /// Exactly one proxy token, the configured one: the trusted proxy sent
    /// this request.
    Matches,
    /// No trusted proxy is configured.
    NotConfigured,
    /// No proxy token, or more than one.
    NotOne,
    /// A proxy token that is not the configured one.
    Wrong,
}

/// Checks the request's proxy token against `trusted_proxy_token`: the one
/// rule that decides whether what a proxy forwards (a client certificate, a
/// client address) is believed. `Err`: the variable is unreadable.
pub fn proxy_token(headers: &[(String, Vec<u8>)], pepper: &Pepper) -> Result<ProxyToken, String> {
    let configured = variable("trusted_proxy_token").map_err(|e| e.to_string())?;
    let configured = configured.trim();
    if configured.len() < MIN_PROXY_TOKEN {
        return Ok(ProxyToken::NotConfigured);
    }
    let mut presented = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(PROXY_TOKEN_HEADER))
        .map(|(_, v)| std::str::from_utf8(v).unwrap_or_default());
    let (Some(presented), None) = (presented.next(), presented.next()) else {
        return Ok(ProxyToken::NotOne);
    };
    let expected = pepper.digest(Domain::ProxyToken, configured);
    if !pepper
        .digest(Domain::ProxyToken, presented.trim())
        .ct_eq(&expected)
    {
        return Ok(ProxyToken::Wrong);
    }
    Ok(ProxyToken::Matches)
}
