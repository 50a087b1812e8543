//! The authorizer's configuration, read from Spin variables when a request
//! needs it. A missing or malformed variable fails closed (`503`) and the log
//! names the variable.

use flowgate::hash::{PEPPER_VARIABLE, Pepper};
use flowgate::token::{PREVIOUS_KEY_VARIABLE, SIGNING_KEY_VARIABLE, SigningKeys};
use flowgate_spin::variable;

/// Longest access-token lifetime accepted from `access_token_ttl`: one hour.
const MAX_TOKEN_LIFETIME: u64 = 3600;

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

/// Reads the signing keys.
pub fn keys() -> Result<SigningKeys, String> {
    let current = variable(SIGNING_KEY_VARIABLE).map_err(|e| e.to_string())?;
    let previous = variable(PREVIOUS_KEY_VARIABLE).map_err(|e| e.to_string())?;
    SigningKeys::from_variables(&current, &previous).map_err(|e| e.to_string())
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
        Ok(Self {
            pepper: pepper()?,
            keys: keys()?,
            issuer,
            audience,
            token_lifetime,
        })
    }
}
