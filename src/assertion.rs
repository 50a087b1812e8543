//! `private_key_jwt` (RFC 7523 section 2.2, OpenID Connect Core 9): the
//! client registers a public key, then authenticates at the token endpoint
//! with a JWT it signed.
//!
//! Rules: `alg` must be the registered key's algorithm (`EdDSA`, `ES256` or
//! `RS256`; `none` and HMAC are never accepted); `iss` and `sub` are the
//! client id; `aud` names the token endpoint or the issuer; `exp` is required
//! and at most [`MAX_LIFETIME`] ahead (an hour, as Okta allows and as
//! authlib signs by default; the `jti` is single-use whatever the lifetime); `jti` is required (the caller makes it
//! single-use); key-source headers (`jku`, `x5u`, `jwk`, `x5c`) are ignored,
//! `crit` is refused.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_simple::prelude::{
    Duration, ECDSAP256PublicKeyLike as _, ES256PublicKey, Ed25519PublicKey,
    EdDSAPublicKeyLike as _, NoCustomClaims, RS256PublicKey, Token, UnixTimeStamp,
    VerificationOptions,
};

use crate::account::StoredPublicKey;
use crate::token::LEEWAY_SECONDS;

/// The longest client-assertion lifetime accepted, counted from now.
pub const MAX_LIFETIME: u64 = 3600;
/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_BYTES: usize = 256;
/// Longest assertion accepted.
const MAX_ASSERTION_LEN: usize = 8192;

/// Why registered key material is refused. The message is for the administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyMaterialError {
    /// Neither a PEM public key nor a JWK of a supported type.
    #[error(
        "not a supported public key (PEM SubjectPublicKeyInfo or JWK; Ed25519, P-256 or RSA): {0}"
    )]
    Unsupported(String),
    /// An RSA key under 2048 bits.
    #[error("RSA keys must have at least 2048 bits")]
    WeakRsa,
    /// A JWK whose `alg` does not fit its key type.
    #[error("JWK `alg` {0:?} does not fit the key type")]
    Algorithm(String),
    /// A JWK containing private parameters.
    #[error("the JWK contains a private key: register only the public key")]
    Private,
}

/// Why an assertion is refused: `invalid_client` at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AssertionError {
    /// Not a parsable JWT.
    #[error("malformed client assertion")]
    Malformed,
    /// A header that is never accepted, or `alg` other than the key's.
    #[error("client assertion header refused: {0}")]
    Header(&'static str),
    /// No registered key matches.
    #[error("no registered key for this assertion")]
    UnknownKey,
    /// Signature, claims or time checks failed.
    #[error("client assertion rejected: {0}")]
    Rejected(String),
}

/// Parses a key given as PEM or JWK into its stored form.
pub fn parse_public_key(
    text: &str,
    kid: &str,
    now: u64,
) -> Result<StoredPublicKey, KeyMaterialError> {
    let text = text.trim();
    let (alg, der) = if text.starts_with('{') {
        from_jwk(text)?
    } else {
        from_pem(text)?
    };
    Ok(StoredPublicKey {
        kid: kid.to_owned(),
        alg: alg.to_owned(),
        spki: URL_SAFE_NO_PAD.encode(der),
        added_at: now,
    })
}

fn unsupported(e: impl std::fmt::Display) -> KeyMaterialError {
    KeyMaterialError::Unsupported(e.to_string())
}

fn check_rsa(key: &RS256PublicKey) -> Result<(), KeyMaterialError> {
    let n = key.to_components().n;
    let significant = n.iter().skip_while(|b| **b == 0).count();
    if significant < MIN_RSA_BYTES {
        return Err(KeyMaterialError::WeakRsa);
    }
    Ok(())
}

fn from_pem(pem: &str) -> Result<(&'static str, Vec<u8>), KeyMaterialError> {
    if let Ok(k) = Ed25519PublicKey::from_pem(pem) {
        return Ok(("EdDSA", k.to_der()));
    }
    if let Ok(k) = ES256PublicKey::from_pem(pem) {
        return Ok(("ES256", k.to_der().map_err(unsupported)?));
    }
    match RS256PublicKey::from_pem(pem) {
        Ok(k) => {
            check_rsa(&k)?;
            Ok(("RS256", k.to_der().map_err(unsupported)?))
        }
        Err(e) => Err(unsupported(e)),
    }
}

fn from_jwk(text: &str) -> Result<(&'static str, Vec<u8>), KeyMaterialError> {
    let jwk: serde_json::Value = serde_json::from_str(text).map_err(unsupported)?;
    jwk_key(&jwk)
}

/// The algorithm and DER SubjectPublicKeyInfo of a public JWK (Ed25519,
/// P-256 or RSA of at least 2048 bits). Shared with OIDC issuers' JWKS.
pub fn jwk_key(jwk: &serde_json::Value) -> Result<(&'static str, Vec<u8>), KeyMaterialError> {
    let field = |name: &str| -> Result<Vec<u8>, KeyMaterialError> {
        let value = jwk[name]
            .as_str()
            .ok_or_else(|| unsupported(format!("JWK member `{name}` missing")))?;
        URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| unsupported(format!("JWK member `{name}` is not base64url")))
    };
    if ["d", "p", "q", "dp", "dq", "qi"]
        .iter()
        .any(|p| jwk.get(p).is_some())
    {
        return Err(KeyMaterialError::Private);
    }
    let (alg, der) = match (jwk["kty"].as_str(), jwk["crv"].as_str()) {
        (Some("OKP"), Some("Ed25519")) => {
            let k = Ed25519PublicKey::from_bytes(&field("x")?).map_err(unsupported)?;
            ("EdDSA", k.to_der())
        }
        (Some("EC"), Some("P-256")) => {
            let mut point = vec![4u8];
            point.extend(field("x")?);
            point.extend(field("y")?);
            let k = ES256PublicKey::from_bytes(&point).map_err(unsupported)?;
            ("ES256", k.to_der().map_err(unsupported)?)
        }
        (Some("RSA"), _) => {
            let k =
                RS256PublicKey::from_components(&field("n")?, &field("e")?).map_err(unsupported)?;
            check_rsa(&k)?;
            ("RS256", k.to_der().map_err(unsupported)?)
        }
        (kty, crv) => return Err(unsupported(format!("key type {kty:?} curve {crv:?}"))),
    };
    if let Some(declared) = jwk["alg"].as_str()
        && declared != alg
    {
        return Err(KeyMaterialError::Algorithm(declared.to_owned()));
    }
    Ok((alg, der))
}

/// What a valid assertion tells the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// `jti`, to be accepted once.
    pub jti: String,
    /// `exp`, until which the `jti` must be remembered.
    pub expires_at: u64,
}

/// The client id an assertion claims (`iss`), read without verification so
/// that the caller can fetch the client's keys. Never trust it further.
pub fn claimed_client(assertion: &str) -> Result<String, AssertionError> {
    if assertion.len() > MAX_ASSERTION_LEN {
        return Err(AssertionError::Malformed);
    }
    let payload = assertion
        .split('.')
        .nth(1)
        .ok_or(AssertionError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| AssertionError::Malformed)?;
    let claims: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| AssertionError::Malformed)?;
    claims["iss"]
        .as_str()
        .map(str::to_owned)
        .ok_or(AssertionError::Malformed)
}

/// Verifies `token` with a stored public key under `options`, for the key's
/// own algorithm only. `Err(None)`: the stored key is unusable.
pub fn verify_with<T>(
    key: &StoredPublicKey,
    token: &str,
    options: VerificationOptions,
) -> Result<jwt_simple::claims::JWTClaims<T>, Option<jwt_simple::Error>>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let der = URL_SAFE_NO_PAD.decode(&key.spki).map_err(|_| None)?;
    match key.alg.as_str() {
        "EdDSA" => Ed25519PublicKey::from_der(&der)
            .map_err(Some)?
            .verify_token::<T>(token, Some(options)),
        "ES256" => ES256PublicKey::from_der(&der)
            .map_err(Some)?
            .verify_token::<T>(token, Some(options)),
        // The same rule as jwt-simple's, with faster arithmetic (rs256.rs).
        "RS256" => return rs256::verify_token::<T>(&der, token, options),
        _ => return Err(None),
    }
    .map_err(Some)
}

/// Verifies `assertion` of `client_id` against its registered `keys`;
/// `audiences` are the values `aud` may name.
pub fn verify(
    assertion: &str,
    keys: &[StoredPublicKey],
    client_id: &str,
    audiences: &[&str],
    now: u64,
) -> Result<VerifiedAssertion, AssertionError> {
    if assertion.len() > MAX_ASSERTION_LEN || assertion.split('.').count() != 3 {
        return Err(AssertionError::Malformed);
    }
    let meta = Token::decode_metadata(assertion).map_err(|_| AssertionError::Malformed)?;
    if meta.critical().is_some() {
        return Err(AssertionError::Header("crit"));
    }
    if meta
        .signature_type()
        .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt"))
    {
        return Err(AssertionError::Header("typ"));
    }
    let key = match meta.key_id() {
        Some(kid) => keys.iter().find(|k| k.kid == kid),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
    .ok_or(AssertionError::UnknownKey)?;
    if meta.algorithm() != key.alg {
        return Err(AssertionError::Header("alg"));
    }
    let options = VerificationOptions {
        required_subject: Some(client_id.to_owned()),
        allowed_issuers: Some(HashSet::from([client_id.to_owned()])),
        allowed_audiences: Some(audiences.iter().map(|a| (*a).to_owned()).collect()),
        time_tolerance: Some(Duration::from_secs(LEEWAY_SECONDS)),
        artificial_time: Some(UnixTimeStamp::from_secs(now)),
        max_token_length: Some(MAX_ASSERTION_LEN),
        ..VerificationOptions::default()
    };
    let claims = verify_with::<NoCustomClaims>(key, assertion, options).map_err(|e| match e {
        None => AssertionError::UnknownKey,
        Some(e) => AssertionError::Rejected(e.to_string()),
    })?;
    let expires_at = claims
        .expires_at
        .ok_or_else(|| AssertionError::Rejected("exp is required".into()))?
        .as_secs();
    if expires_at > now + MAX_LIFETIME + LEEWAY_SECONDS {
        return Err(AssertionError::Rejected("exp too far ahead".into()));
    }
    let jti = claims
        .jwt_id
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or_else(|| AssertionError::Rejected("jti is required".into()))?;
    Ok(VerifiedAssertion { jti, expires_at })
}

pub(crate) mod rs256;
#[cfg(test)]
mod tests;
