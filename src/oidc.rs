//! Bearer JWTs from an external OpenID Connect issuer (`oidc` accounts).
//!
//! An account names an issuer, an audience and a claims rule. Per issuer the
//! store holds the accounts' bindings (`oidc/<sha256(issuer)>`, written by the
//! management component only) and the cached JWKS (`oidc-jwks/<sha256>`,
//! written by whoever fetched it last, so two writers can only replace one
//! fresh copy with another). The edge reads both, verifies the token, picks
//! the one account whose audience and rule match, and reads that account:
//! three reads, and a fetch when the cache is stale or names no such `kid`.
//!
//! The claims rule is declarative, modelled on the AWS IAM `StringLike`
//! conditions used to federate CI systems' OIDC tokens: a JSON object from
//! claim name to a pattern or a list of patterns; every named claim must be a
//! string matching one of its patterns; `*` matches any run of characters.
//! An established expression language (CEL) was measured and did not fit the
//! authorizer's size budget; see docs/decisions.md.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_simple::prelude::{Duration, Token, UnixTimeStamp, VerificationOptions};
use serde::{Deserialize, Serialize};

use crate::account::StoredPublicKey;
use crate::token::LEEWAY_SECONDS;

/// How long a fetched JWKS is used before it is fetched again.
pub const JWKS_LIFETIME: u64 = 3600;
/// At most one refetch for an unknown `kid` per issuer in this many seconds.
pub const REFETCH_INTERVAL: u64 = 60;
/// Longest token accepted.
const MAX_TOKEN_LEN: usize = 8192;
/// Most keys kept from one JWKS.
const MAX_KEYS: usize = 16;

/// A claims rule: claim name to accepted patterns.
pub type ClaimsRule = BTreeMap<String, Vec<String>>;

/// Why OIDC material or a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The issuer URL is not acceptable.
    #[error("issuer must be an https URL (http only on localhost), without query or fragment")]
    Issuer,
    /// The claims rule is not an object of strings or string arrays.
    #[error(
        "claims_match must be a JSON object mapping claim names to a pattern or a list of patterns"
    )]
    Rule,
    /// The discovery document or JWKS is unusable.
    #[error("the issuer's JWKS is unusable: {0}")]
    Jwks(String),
    /// The token is malformed or its header refused.
    #[error("malformed or refused token: {0}")]
    Token(&'static str),
    /// No cached key has the token's `kid`.
    #[error("unknown key id")]
    UnknownKey,
    /// Signature, issuer or time checks failed.
    #[error("token rejected: {0}")]
    Rejected(String),
    /// No account, or more than one, matches the token.
    #[error("{0}")]
    NoAccount(&'static str),
}

/// One account's binding to its issuer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// The account id.
    pub account_id: String,
    /// The `aud` the token must contain.
    pub audience: String,
    /// The claims rule.
    pub claims_match: ClaimsRule,
}

/// The accounts that trust one issuer (`oidc/<sha256(issuer)>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Bindings {
    /// The accounts' bindings.
    pub bindings: Vec<Binding>,
}

/// The cached JWKS of one issuer (`oidc-jwks/<sha256(issuer)>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerRecord {
    /// The issuer URL, exactly as tokens name it.
    pub issuer: String,
    /// Where its keys come from.
    pub jwks_uri: String,
    /// The usable keys of its JWKS.
    pub keys: Vec<StoredPublicKey>,
    /// When the JWKS was fetched (Unix seconds).
    pub fetched_at: u64,
    /// When a refetch was last tried, successful or not.
    #[serde(default)]
    pub refetched_at: u64,
}

impl IssuerRecord {
    /// Whether the cached JWKS is past its lifetime at `now`.
    pub fn is_stale(&self, now: u64) -> bool {
        now >= self.fetched_at + JWKS_LIFETIME
    }

    /// Whether a refetch may be tried at `now` (rate limit).
    pub fn may_refetch(&self, now: u64) -> bool {
        now >= self.refetched_at + REFETCH_INTERVAL
    }

    /// The refetch policy: fetch the issuer's JWKS again before verifying
    /// `token` when the cache is stale or the token names a `kid` the cache
    /// lacks (a key rotation), but at most once per [`REFETCH_INTERVAL`],
    /// so that tokens with made-up `kid`s cannot make us hammer the issuer.
    pub fn wants_refetch(&self, token: &str, now: u64) -> bool {
        (self.is_stale(now) || has_unknown_kid(token, self)) && self.may_refetch(now)
    }

    /// Takes the outcome of a refetch tried at `now`: new keys replace the
    /// cached ones; on failure the cached keys stay in use (stale-if-error)
    /// and only the attempt is recorded, for the rate limit. The record is
    /// then written back by the caller. Returns the failure, for the log.
    pub fn apply_refetch(
        &mut self,
        fetched: Result<Vec<StoredPublicKey>, String>,
        now: u64,
    ) -> Option<String> {
        self.refetched_at = now;
        match fetched {
            Ok(keys) => {
                self.keys = keys;
                self.fetched_at = now;
                None
            }
            Err(e) => Some(e),
        }
    }
}

/// The issuer's discovery document URL (OpenID Connect Discovery 4).
pub fn discovery_url(issuer: &str) -> String {
    format!("{issuer}/.well-known/openid-configuration")
}

/// The `allowed_outbound_hosts` entry that lets a component reach `url`:
/// its origin, `scheme://host[:port]`, exactly as it would be written in
/// `spin.toml`. `None` if `url` has no scheme or host.
pub fn outbound_origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    // Credentials never belong in an allow-list entry (nor in a log line).
    let authority = authority.rsplit('@').next().unwrap_or_default();
    if scheme.is_empty() || authority.is_empty() {
        return None;
    }
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    ))
}

/// What to tell an operator when Spin denied an outbound request to `url`
/// because `component` does not list its origin (docs/oidc.md).
pub fn outbound_denied_hint(url: &str, component: &str) -> String {
    match outbound_origin(url) {
        Some(origin) => format!(
            "the {component} component may not reach {origin:?}: add {origin:?} to \
             `allowed_outbound_hosts` of BOTH [component.management] and \
             [component.authorizer] in spin.toml (docs/oidc.md, \"Trusting an external issuer\")"
        ),
        None => format!("the {component} component may not reach {url:?}"),
    }
}

/// Checks an issuer URL.
pub fn check_issuer(issuer: &str) -> Result<(), OidcError> {
    let rest = if let Some(r) = issuer.strip_prefix("https://") {
        r
    } else if let Some(r) = issuer.strip_prefix("http://") {
        let host = r.split(['/', ':']).next().unwrap_or_default();
        if host != "localhost" && host != "127.0.0.1" && host != "[::1]" {
            return Err(OidcError::Issuer);
        }
        r
    } else {
        return Err(OidcError::Issuer);
    };
    if rest.is_empty()
        || rest.starts_with('/')
        || issuer.len() > 512
        || issuer.ends_with('/')
        || !issuer.bytes().all(|b| b.is_ascii_graphic())
        || issuer.contains(['?', '#', '@'])
    {
        return Err(OidcError::Issuer);
    }
    Ok(())
}

/// Parses a claims rule from its JSON form.
pub fn parse_rule(value: &serde_json::Value) -> Result<ClaimsRule, OidcError> {
    let object = value.as_object().ok_or(OidcError::Rule)?;
    if object.is_empty() || object.len() > 32 {
        return Err(OidcError::Rule);
    }
    let mut rule = ClaimsRule::new();
    for (claim, patterns) in object {
        let patterns: Vec<String> = match patterns {
            serde_json::Value::String(p) => vec![p.clone()],
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_owned).ok_or(OidcError::Rule))
                .collect::<Result<_, _>>()?,
            _ => return Err(OidcError::Rule),
        };
        if claim.is_empty()
            || patterns.is_empty()
            || patterns
                .iter()
                .any(|p| p.is_empty() || p.chars().count() > 512)
        {
            return Err(OidcError::Rule);
        }
        rule.insert(claim.clone(), patterns);
    }
    Ok(rule)
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
pub fn matches_pattern(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Whether `claims` satisfy `rule`.
pub fn rule_matches(
    rule: &ClaimsRule,
    claims: &serde_json::Map<String, serde_json::Value>,
) -> bool {
    rule.iter().all(|(claim, patterns)| {
        claims
            .get(claim)
            .and_then(serde_json::Value::as_str)
            .is_some_and(|value| patterns.iter().any(|p| matches_pattern(p, value)))
    })
}

/// Extracts the usable keys of a JWKS document. Keys without `kid`, private
/// keys, and unsupported types are skipped; none usable is an error.
pub fn parse_jwks(document: &[u8], now: u64) -> Result<Vec<StoredPublicKey>, OidcError> {
    let jwks: serde_json::Value =
        serde_json::from_slice(document).map_err(|_| OidcError::Jwks("not JSON".into()))?;
    let keys = jwks["keys"]
        .as_array()
        .ok_or_else(|| OidcError::Jwks("no `keys` array".into()))?;
    let mut usable = Vec::new();
    for jwk in keys {
        if jwk
            .get("use")
            .and_then(|u| u.as_str())
            .is_some_and(|u| u != "sig")
        {
            continue;
        }
        let Some(kid) = jwk["kid"]
            .as_str()
            .filter(|k| !k.is_empty() && k.len() <= 128)
        else {
            continue;
        };
        if let Ok((alg, der)) = crate::assertion::jwk_key(jwk) {
            usable.push(StoredPublicKey {
                kid: kid.to_owned(),
                alg: alg.to_owned(),
                spki: URL_SAFE_NO_PAD.encode(der),
                added_at: now,
            });
        }
        if usable.len() == MAX_KEYS {
            break;
        }
    }
    if usable.is_empty() {
        return Err(OidcError::Jwks(
            "no usable signing key (Ed25519, P-256 or RSA with a kid)".into(),
        ));
    }
    Ok(usable)
}

/// The `jwks_uri` of an OpenID discovery document, which must name the
/// expected issuer.
pub fn jwks_uri(discovery: &[u8], issuer: &str) -> Result<String, OidcError> {
    let doc: serde_json::Value = serde_json::from_slice(discovery)
        .map_err(|_| OidcError::Jwks("discovery document is not JSON".into()))?;
    if doc["issuer"].as_str() != Some(issuer) {
        return Err(OidcError::Jwks(
            "discovery document names another issuer".into(),
        ));
    }
    let uri = doc["jwks_uri"]
        .as_str()
        .ok_or_else(|| OidcError::Jwks("discovery document has no jwks_uri".into()))?;
    check_issuer(
        uri.split('/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/")
            .as_str(),
    )
    .map_err(|_| OidcError::Jwks("jwks_uri is not an https URL".into()))?;
    Ok(uri.to_owned())
}

/// What a bearer JWT's payload claims, read without its signature, for
/// two uses that can only route or refuse it, never accept it: `iss` says
/// which verifier the token goes to (flowgate's own, or an external
/// issuer's record), and `exp` lets an expired token be refused before any
/// key, store or signature work ([`Claimed::refuse_expired`], issue 16).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Claimed {
    /// `iss`, if a string.
    pub issuer: Option<String>,
    /// `exp`, if a whole number of seconds; anything else is left to the
    /// verifier, which refuses it or not as before.
    pub expires_at: Option<u64>,
}

impl Claimed {
    /// Reads `token`'s payload, once per request; `None` if it is not a
    /// readable JWT payload (then no issuer is claimed and nothing is
    /// refused here).
    pub fn read(token: &str) -> Option<Self> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let payload = token.split('.').nth(1)?;
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        Some(Self {
            issuer: claims["iss"].as_str().map(str::to_owned),
            expires_at: claims["exp"].as_u64(),
        })
    }

    /// Refuses the token when its `exp` is more than the leeway past at
    /// `now`: the very rule both verifiers apply after the signature
    /// (`crate::token`'s registered-claims check for flowgate's tokens,
    /// jwt-simple's `time_tolerance` for [`verify`]), so it refuses only
    /// what they would refuse. The claim is the caller's own, so a quicker
    /// refusal tells the caller nothing about accounts, keys or rules;
    /// nothing else is decided this early for that reason (refusing on the
    /// audience or the claims rule before the signature would let a caller
    /// who forges payloads learn from the timing which subjects a rule
    /// accepts).
    pub fn refuse_expired(&self, now: u64) -> Result<(), crate::token::TokenError> {
        match self.expires_at {
            Some(exp) if now > exp.saturating_add(LEEWAY_SECONDS) => {
                Err(crate::token::TokenError::Rejected("expired".into()))
            }
            _ => Ok(()),
        }
    }
}

/// What a verified external token says.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    /// All claims, registered ones included.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// `aud` values.
    pub audiences: HashSet<String>,
}

/// Whether the token names a `kid` the record does not have.
pub fn has_unknown_kid(token: &str, record: &IssuerRecord) -> bool {
    Token::decode_metadata(token)
        .ok()
        .and_then(|m| m.key_id().map(str::to_owned))
        .is_some_and(|kid| !record.keys.iter().any(|k| k.kid == kid))
}

/// Verifies `token` with the record's keys at `now`; says too how to
/// record that it did ([`Recorded`]).
pub fn verify(
    token: &str,
    record: &IssuerRecord,
    now: u64,
) -> Result<(VerifiedToken, Recorded), OidcError> {
    if token.len() > MAX_TOKEN_LEN || token.split('.').count() != 3 {
        return Err(OidcError::Token("shape"));
    }
    let meta = Token::decode_metadata(token).map_err(|_| OidcError::Token("header"))?;
    if meta.critical().is_some() {
        return Err(OidcError::Token("crit"));
    }
    let kid = meta.key_id().ok_or(OidcError::UnknownKey)?;
    let key = record
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or(OidcError::UnknownKey)?;
    if meta.algorithm() != key.alg {
        return Err(OidcError::Token("alg"));
    }
    let options = VerificationOptions {
        allowed_issuers: Some(HashSet::from([record.issuer.clone()])),
        time_tolerance: Some(Duration::from_secs(LEEWAY_SECONDS)),
        artificial_time: Some(UnixTimeStamp::from_secs(now)),
        max_token_length: Some(MAX_TOKEN_LEN),
        ..VerificationOptions::default()
    };
    let claims =
        crate::assertion::verify_with::<Extra>(key, token, options).map_err(|e| match e {
            None => OidcError::UnknownKey,
            Some(e) => OidcError::Rejected(e.to_string()),
        })?;
    verified_claims(claims, record).map(|(token, exp)| (token, Recorded::of(key, exp)))
}

/// The custom claims of an external token, kept whole for the claims rule.
type Extra = serde_json::Map<String, serde_json::Value>;

/// What a token's claims say once their signature is known good, and its
/// `exp`.
fn verified_claims(
    claims: jwt_simple::claims::JWTClaims<Extra>,
    record: &IssuerRecord,
) -> Result<(VerifiedToken, u64), OidcError> {
    let exp = claims
        .expires_at
        .ok_or_else(|| OidcError::Rejected("exp is required".into()))?
        .as_secs();
    let audiences = claims
        .audiences
        .as_ref()
        .map(|a| a.clone().into_set())
        .unwrap_or_default();
    let mut all = claims.custom;
    if let Some(sub) = claims.subject {
        all.insert("sub".into(), sub.into());
    }
    all.insert("iss".into(), record.issuer.clone().into());
    Ok((
        VerifiedToken {
            claims: all,
            audiences,
        },
        exp,
    ))
}

/// A verification of one external token, recorded so that its later uses
/// skip the signature (issue 16; `crate::verified` does the same for
/// flowgate's own access tokens). Stored under [`recorded_key`], a keyed
/// digest of the token, so the store never holds the token; the value names
/// the key that verified it, by id and by a digest of its material, and the
/// token's expiry. Nothing in it is secret.
///
/// A record only ever stands for the exact bytes that passed [`verify`].
/// What could change that answer later is checked again on every use:
/// expiry (with the same leeway), and that the issuer's cached JWKS still
/// holds the very key that verified it (a key dropped or replaced under the
/// same `kid` sends the token back through full verification, which then
/// refuses it). `iss` is part of the digest, `nbf` and `iat` only ever pass
/// more easily as time goes on, and the audience, the claims rule, the
/// account's status and its grants are not part of the record: the caller
/// checks them on every request as before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// `exp` of the token.
    pub exp: u64,
    /// `kid` of the key that verified it.
    pub kid: String,
    /// [`key_fingerprint`] of that key.
    pub key: String,
}

impl Recorded {
    fn of(key: &StoredPublicKey, exp: u64) -> Self {
        Self {
            exp,
            kid: key.kid.clone(),
            key: key_fingerprint(key),
        }
    }

    /// The stored form: a JSON object, as every `vtok/` record is.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Built by hand: derived (de)serialisers cost the authorizer's size
        // budget more than these few lines (docs/benchmarks.md, 2026-12-03).
        let text = serde_json::Value::from(self.kid.as_str());
        format!(
            r#"{{"exp":{},"kid":{text},"key":"{}"}}"#,
            self.exp, self.key
        )
        .into_bytes()
    }

    /// Reads the stored form.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
        Some(Self {
            exp: value.get("exp")?.as_u64()?,
            kid: value.get("kid")?.as_str()?.to_owned(),
            key: value.get("key")?.as_str()?.to_owned(),
        })
    }
}

/// A SHA-256 digest of a key's algorithm, id and material: what a record
/// compares with the cached JWKS.
pub fn key_fingerprint(key: &StoredPublicKey) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    for part in [&key.alg, &key.kid, &key.spki] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    URL_SAFE_NO_PAD.encode(hash.finalize())
}

/// The store key of `token`'s [`Recorded`] verification for `issuer`: a
/// `vtok/` key (the prefix of verified-token records, which pruning deletes
/// after their `exp`), under its own digest domain so it never meets a key
/// of flowgate's own tokens.
pub fn recorded_key(pepper: &crate::hash::Pepper, issuer: &str, token: &str) -> String {
    let mut input = String::with_capacity(issuer.len() + token.len() + 24);
    for part in [issuer, token] {
        input.push_str(&part.len().to_string());
        input.push(':');
        input.push_str(part);
    }
    let digest = pepper.digest(crate::hash::Domain::ExternalToken, &input);
    crate::store::keys::verified_key(&digest.encode())
}

/// How [`check`] decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    /// A record of an earlier verification applies; nothing to write.
    Recorded(VerifiedToken),
    /// Verified in full now; the caller may write the record under the
    /// store key given (the token's [`recorded_key`]).
    Verified(VerifiedToken, Recorded, String),
}

impl Checked {
    /// What the token says, however it was decided.
    pub fn token(&self) -> &VerifiedToken {
        match self {
            Self::Recorded(t) | Self::Verified(t, ..) => t,
        }
    }
}

/// Decides `token` against the issuer's `record` at `now`: `read` is asked
/// for what the store holds under the token's own [`recorded_key`], and a
/// record of an earlier verification found there is used if it still
/// applies; otherwise the token is verified in full ([`verify`]). A record
/// that does not apply, for whatever reason, only means a full
/// verification; it never refuses by itself. The outer error is `read`'s:
/// the caller fails closed on it.
pub fn check<E>(
    token: &str,
    record: &IssuerRecord,
    pepper: &crate::hash::Pepper,
    now: u64,
    read: impl FnOnce(&str) -> Result<Option<Vec<u8>>, E>,
) -> Result<Result<Checked, OidcError>, E> {
    let key = recorded_key(pepper, &record.issuer, token);
    let recorded = read(&key)?;
    if let Some(claims) = recorded.and_then(|bytes| still_applies(token, record, &bytes, now)) {
        return Ok(Ok(Checked::Recorded(claims)));
    }
    Ok(verify(token, record, now)
        .map(|(claims, recorded)| Checked::Verified(claims, recorded, key)))
}

/// The claims of `token` if `bytes` is a record of its verification that
/// still applies at `now`.
fn still_applies(
    token: &str,
    record: &IssuerRecord,
    bytes: &[u8],
    now: u64,
) -> Option<VerifiedToken> {
    let recorded = Recorded::from_bytes(bytes)?;
    // Full verification accepts `exp` up to the leeway in the past.
    if now > recorded.exp.saturating_add(LEEWAY_SECONDS) {
        return None;
    }
    let key = record.keys.iter().find(|k| k.kid == recorded.kid)?;
    if key_fingerprint(key) != recorded.key {
        return None;
    }
    // The header (and so `kid` and `alg`) is that of the bytes verified.
    let payload = token.split('.').nth(1)?;
    let claims: jwt_simple::claims::JWTClaims<Extra> =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    verified_claims(claims, record).ok().map(|(token, _)| token)
}

/// The one account whose audience and rule the token satisfies.
pub fn select_account<'r>(
    bindings: &'r Bindings,
    token: &VerifiedToken,
) -> Result<&'r str, OidcError> {
    let mut matching = bindings.bindings.iter().filter(|b| {
        token.audiences.contains(&b.audience) && rule_matches(&b.claims_match, &token.claims)
    });
    let first = matching
        .next()
        .ok_or(OidcError::NoAccount("no account matches the token"))?;
    if matching.next().is_some() {
        return Err(OidcError::NoAccount(
            "more than one account matches the token",
        ));
    }
    Ok(&first.account_id)
}

#[cfg(test)]
mod tests;
