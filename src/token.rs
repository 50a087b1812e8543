//! Access tokens (RFC 9068 JWTs) and the keys that sign them.
//!
//! Tokens are signed with Ed25519 (`EdDSA`) from the `signing_key` variable;
//! `signing_key_previous` keeps the key before a rotation verifiable. Both
//! appear in the JWKS, each with its RFC 7638 thumbprint as `kid`. A token is
//! verified with the key its `kid` names and nothing else: `jku`, `x5u`, `jwk`
//! and `x5c` headers are never used as key sources, `alg` must be `EdDSA`,
//! `typ` must be `at+jwt` and `crit` must be absent.
//!
//! Each variable holds a plain 32-byte seed or the bound form (seed, public
//! key and a tag that binds them; module [`key`]), which spares the
//! base-point multiplication that derives the public key. Signing is RFC 8032
//! Ed25519 over curve25519-dalek ([`key`]); verifying uses ed25519-dalek
//! (`verify_strict`), which inside wasm is several times faster than the
//! ed25519-compact behind jwt-simple (docs/benchmarks.md). The previous key
//! is derived only when the JWKS or a token's `kid` needs it. jwt-simple
//! still parses the header and provides the claim types, and
//! `check_registered_claims` applies its rules (issuer, audience,
//! `iat`/`nbf`/`exp` with [`LEEWAY_SECONDS`]).

use std::collections::HashSet;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use curve25519_dalek::edwards::EdwardsPoint;
use jwt_simple::prelude::{JWTClaims, Token, UnixTimeStamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::hash::KeyError;

pub mod key;

/// Name of the variable holding the current signing key.
pub const SIGNING_KEY_VARIABLE: &str = "signing_key";
/// Name of the variable holding the previous signing key (may be empty).
pub const PREVIOUS_KEY_VARIABLE: &str = "signing_key_previous";
/// The `typ` of access tokens (RFC 9068 section 2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// The `typ` of identity assertions sent to upstreams in proxy mode. A
/// distinct type, so an assertion can never pass as an access token.
pub const ASSERTION_TYPE: &str = "fg-identity+jwt";
/// Lifetime of identity assertions, in seconds.
pub const ASSERTION_LIFETIME: u64 = 60;
/// The longest access-token lifetime flowgate issues (`access_token_ttl` is
/// at most this).
pub const MAX_ACCESS_TOKEN_LIFETIME: u64 = 3600;
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: u64 = 10;
/// The longest token accepted before any parsing.
pub const MAX_TOKEN_LEN: usize = 4096;

/// Why a token is refused. Every variant is `401` at a flow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Too long, not three base64url parts, or unparsable header.
    #[error("malformed token")]
    Malformed,
    /// A header that is never accepted (`crit`, key-source headers, wrong `alg` or `typ`).
    #[error("forbidden or unexpected token header: {0}")]
    Header(&'static str),
    /// No key with that `kid`.
    #[error("unknown key id")]
    UnknownKey,
    /// Signature, issuer, audience or time checks failed.
    #[error("token rejected: {0}")]
    Rejected(String),
    /// The signing key could not be used.
    #[error("signing failed")]
    Signing,
}

/// The claims of an access token beyond the registered ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The OAuth client the token was issued to.
    pub client_id: String,
    /// Space-separated flow ids the token may call.
    pub scope: String,
    /// Certificate binding (RFC 8705), when issued to an mTLS client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// RFC 8705 confirmation claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// base64url SHA-256 thumbprint of the bound certificate.
    #[serde(rename = "x5t#S256")]
    pub x5t_s256: String,
}

/// A verified access token. Its fields are private and it has no public
/// constructor: only [`SigningKeys::verify_access_token`] (full
/// verification) and `crate::verified` (the record a full verification
/// wrote) make one, so holding one proves the token was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub(crate) subject: String,
    pub(crate) id: String,
    pub(crate) issued_at: u64,
    pub(crate) expires_at: u64,
    pub(crate) claims: AccessClaims,
}

impl AccessToken {
    /// Whether the token's scope includes flow `id`.
    pub fn allows_flow(&self, id: &str) -> bool {
        self.claims.scope.split(' ').any(|s| s == id)
    }
    /// `sub`: the account id.
    pub fn subject(&self) -> &str {
        &self.subject
    }
    /// `jti`.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// `iat`.
    pub fn issued_at(&self) -> u64 {
        self.issued_at
    }
    /// `exp`.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }
    /// `client_id`.
    pub fn client_id(&self) -> &str {
        &self.claims.client_id
    }
    /// `scope`: space-separated flow ids.
    pub fn scope(&self) -> &str {
        &self.claims.scope
    }
    /// The thumbprint of the certificate the token is bound to (RFC 8705
    /// `cnf.x5t#S256`), if any.
    pub fn bound_thumbprint(&self) -> Option<&str> {
        self.claims.cnf.as_ref().map(|c| c.x5t_s256.as_str())
    }
}

/// What to put in a new access token.
#[derive(Debug, Clone)]
pub struct NewAccessToken<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// `aud`.
    pub audience: &'a str,
    /// `sub` and `client_id`: the account id.
    pub subject: &'a str,
    /// Space-separated flow ids.
    pub scope: &'a str,
    /// `jti`.
    pub id: &'a str,
    /// `iat`.
    pub now: u64,
    /// Lifetime in seconds.
    pub lifetime: u64,
    /// Certificate binding.
    pub cnf: Option<Confirmation>,
}

/// What to put in an identity assertion.
#[derive(Debug, Clone)]
pub struct NewAssertion<'a> {
    /// `iss`.
    pub issuer: &'a str,
    /// `sub`: the account id.
    pub account_id: &'a str,
    /// The account name.
    pub account_name: &'a str,
    /// The flow id; `aud` is derived from it.
    pub flow: &'a str,
    /// `jti`.
    pub id: &'a str,
    /// `iat`.
    pub now: u64,
    /// The account's metadata (issue #15), if it has any.
    pub metadata: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

/// The claims of an identity assertion beyond the registered ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssertionClaims {
    /// The flow the request was authorised for.
    pub flow: String,
    /// The account name.
    pub name: String,
    /// The account's metadata, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A published key: what the JWKS lists and `kid` selects.
struct Published {
    /// The RFC 7638 thumbprint.
    kid: String,
    /// The public key, base64url (the JWK's `x`).
    x: String,
    /// The public key.
    public: key::PublicKey,
    /// The decompressed point, when it was derived here (plain seeds); a
    /// bound key's point is decompressed only to verify.
    point: Option<EdwardsPoint>,
}

impl Published {
    fn new(public: key::PublicKey, point: Option<EdwardsPoint>) -> Self {
        let x = URL_SAFE_NO_PAD.encode(public);
        Self {
            kid: thumbprint(&x),
            x,
            public,
            point,
        }
    }

    /// The verifier of this key.
    fn verifier(&self) -> Result<ed25519_dalek::VerifyingKey, TokenError> {
        match self.point {
            Some(point) => Ok(ed25519_dalek::VerifyingKey::from(point)),
            None => ed25519_dalek::VerifyingKey::from_bytes(&self.public)
                .map_err(|_| TokenError::Rejected("unusable public key".into())),
        }
    }
}

/// The key before a rotation: checked when read, published only when
/// needed. Issuing never needs it, so a plain seed is derived only for the
/// JWKS or a token whose `kid` is not the current key's.
struct Previous {
    text: key::KeyText,
    published: OnceLock<Published>,
}

impl Previous {
    fn published(&self) -> &Published {
        self.published.get_or_init(|| match &self.text {
            key::KeyText::Seed(seed) => {
                let (signer, point) = key::Signer::derive_with_point(seed);
                Published::new(signer.public, Some(point))
            }
            key::KeyText::Bound { public, .. } => Published::new(*public, None),
        })
    }
}

/// The signing key and the keys that verify.
pub struct SigningKeys {
    signer: key::Signer,
    current: Published,
    previous: Option<Previous>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("kid", &self.current.kid)
            .field("previous", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

/// The RFC 7638 thumbprint of an Ed25519 public key, as `kid`.
fn thumbprint(x: &str) -> String {
    // Members in lexicographic order, no white space (RFC 7638 section 3).
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

impl SigningKeys {
    /// Reads the current key (required) and the previous one (empty: none),
    /// each a plain seed or a bound value (module `key`). Both are checked
    /// here (a bound value's tag included); only the current one is
    /// expanded, and its public key is derived only for a plain seed.
    pub fn from_variables(current: &str, previous: &str) -> Result<Self, KeyError> {
        let text = key::KeyText::parse(SIGNING_KEY_VARIABLE, current)?;
        let (signer, point) = key::Signer::from_text(&text);
        drop(text);
        let current = Published::new(signer.public, point);
        let previous = if previous.trim().is_empty() {
            None
        } else {
            Some(Previous {
                text: key::KeyText::parse(PREVIOUS_KEY_VARIABLE, previous)?,
                published: OnceLock::new(),
            })
        };
        Ok(Self {
            signer,
            current,
            previous,
        })
    }

    /// The published keys, current first.
    fn published(&self) -> impl Iterator<Item = &Published> {
        // Lazily: `find` stops at the current key without deriving the other.
        std::iter::once(&self.current).chain(self.previous.iter().map(Previous::published))
    }

    /// The JWKS document: current key first, then the previous one.
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .published()
            .map(|v| {
                serde_json::json!({
                    "kty": "OKP", "crv": "Ed25519", "x": v.x, "kid": v.kid, "use": "sig", "alg": "EdDSA",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// Signs an RFC 9068 access token (`typ` `at+jwt`) with the claims in
    /// `new`.
    pub fn sign_access_token(&self, new: &NewAccessToken<'_>) -> Result<String, TokenError> {
        let custom = AccessClaims {
            client_id: new.subject.to_owned(),
            scope: new.scope.to_owned(),
            cnf: new.cnf.clone(),
        };
        let claims = JWTClaims {
            issued_at: Some(UnixTimeStamp::from_secs(new.now)),
            expires_at: Some(UnixTimeStamp::from_secs(new.now + new.lifetime)),
            invalid_before: None,
            issuer: Some(new.issuer.to_owned()),
            subject: Some(new.subject.to_owned()),
            audiences: Some(jwt_simple::claims::Audiences::AsString(
                new.audience.to_owned(),
            )),
            jwt_id: Some(new.id.to_owned()),
            nonce: None,
            custom,
        };
        self.sign(claims, ACCESS_TOKEN_TYPE)
    }

    /// Signs `claims` with the current key under the explicit `typ` of their
    /// kind, so that no kind can pass for another. The header names the
    /// current key's `kid`; the signature is RFC 8032 Ed25519 (deterministic).
    fn sign<T: Serialize>(&self, claims: JWTClaims<T>, typ: &str) -> Result<String, TokenError> {
        #[derive(Serialize)]
        struct Header<'a> {
            alg: &'a str,
            typ: &'a str,
            kid: &'a str,
        }
        let header = Header {
            alg: "EdDSA",
            typ,
            kid: &self.current.kid,
        };
        let header = serde_json::to_vec(&header).map_err(|_| TokenError::Signing)?;
        let claims = serde_json::to_vec(&claims).map_err(|_| TokenError::Signing)?;
        let mut token = URL_SAFE_NO_PAD.encode(header);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut token);
        let signature = self.signer.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        Ok(token)
    }

    /// Signs the identity assertion proxy mode adds to a request it forwards:
    /// `sub` the account, `aud` the flow (`<issuer>/flows/<flow id>`), valid
    /// for [`ASSERTION_LIFETIME`] seconds; upstreams verify it with the JWKS.
    pub fn sign_identity_assertion(&self, new: &NewAssertion<'_>) -> Result<String, TokenError> {
        let claims = JWTClaims {
            issued_at: Some(UnixTimeStamp::from_secs(new.now)),
            expires_at: Some(UnixTimeStamp::from_secs(new.now + ASSERTION_LIFETIME)),
            invalid_before: None,
            issuer: Some(new.issuer.to_owned()),
            subject: Some(new.account_id.to_owned()),
            audiences: Some(jwt_simple::claims::Audiences::AsString(format!(
                "{}/flows/{}",
                new.issuer, new.flow
            ))),
            jwt_id: Some(new.id.to_owned()),
            nonce: None,
            custom: AssertionClaims {
                flow: new.flow.to_owned(),
                name: new.account_name.to_owned(),
                metadata: new.metadata.cloned(),
            },
        };
        self.sign(claims, ASSERTION_TYPE)
    }

    /// Verifies an access token issued by `issuer` for `audience` at `now`.
    pub fn verify_access_token(
        &self,
        token: &str,
        issuer: &str,
        audience: &str,
        now: u64,
    ) -> Result<AccessToken, TokenError> {
        if token.len() > MAX_TOKEN_LEN || token.split('.').count() != 3 {
            return Err(TokenError::Malformed);
        }
        let meta = Token::decode_metadata(token).map_err(|_| TokenError::Malformed)?;
        if meta.algorithm() != "EdDSA" {
            return Err(TokenError::Header("alg"));
        }
        // RFC 9068 section 4: `at+jwt`, or the same as a full media type.
        if !matches!(
            meta.signature_type(),
            Some(ACCESS_TOKEN_TYPE | "application/at+jwt")
        ) {
            return Err(TokenError::Header("typ"));
        }
        if meta.critical().is_some() {
            return Err(TokenError::Header("crit"));
        }
        let kid = meta.key_id().ok_or(TokenError::UnknownKey)?;
        let key = self
            .published()
            .find(|v| v.kid == kid)
            .ok_or(TokenError::UnknownKey)?
            .verifier()?;
        // The header was checked above; now the signature over
        // `header.payload` (RFC 7515 5.2), then the claims.
        let (signed, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let signature: [u8; 64] = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| TokenError::Rejected("malformed signature".into()))?;
        key.verify_strict(
            signed.as_bytes(),
            &ed25519_dalek::Signature::from_bytes(&signature),
        )
        .map_err(|_| TokenError::Rejected("invalid signature".into()))?;
        let payload = signed.split_once('.').map_or("", |(_, p)| p);
        let claims: JWTClaims<AccessClaims> = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or_else(|| TokenError::Rejected("unreadable claims".into()))?;
        check_registered_claims(&claims, issuer, audience, now)?;
        let (Some(subject), Some(id), Some(iat), Some(exp)) = (
            claims.subject,
            claims.jwt_id,
            claims.issued_at,
            claims.expires_at,
        ) else {
            return Err(TokenError::Rejected("missing registered claim".into()));
        };
        if claims.custom.client_id != subject {
            return Err(TokenError::Rejected("client_id differs from sub".into()));
        }
        // jwt-simple saturates huge `exp` values; no token of ours lives
        // longer than the largest `access_token_ttl`, so anything that claims
        // to is refused rather than treated as never expiring.
        if exp.as_secs().saturating_sub(iat.as_secs()) > MAX_ACCESS_TOKEN_LIFETIME {
            return Err(TokenError::Rejected(
                "lifetime longer than any token we issue".into(),
            ));
        }
        Ok(AccessToken {
            subject,
            id,
            issued_at: iat.as_secs(),
            expires_at: exp.as_secs(),
            claims: claims.custom,
        })
    }
}

/// `iss`, `aud` and the times of a token whose signature was verified. Times
/// allow [`LEEWAY_SECONDS`] of clock difference either way; a token without
/// `exp` is refused by the caller.
fn check_registered_claims<T>(
    claims: &JWTClaims<T>,
    issuer: &str,
    audience: &str,
    now: u64,
) -> Result<(), TokenError> {
    let reject = |why: &str| Err(TokenError::Rejected(why.into()));
    if claims.issuer.as_deref() != Some(issuer) {
        return reject("issuer");
    }
    let for_us = claims
        .audiences
        .as_ref()
        .is_some_and(|a| a.contains(&HashSet::from([audience.to_owned()])));
    if !for_us {
        return reject("audience");
    }
    let secs = |t: Option<UnixTimeStamp>| t.map(|t| t.as_secs());
    if secs(claims.issued_at).is_some_and(|iat| iat > now.saturating_add(LEEWAY_SECONDS)) {
        return reject("issued in the future");
    }
    if secs(claims.invalid_before).is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECONDS)) {
        return reject("not valid yet");
    }
    if secs(claims.expires_at).is_some_and(|exp| now > exp.saturating_add(LEEWAY_SECONDS)) {
        return reject("expired");
    }
    Ok(())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod vectors;
