//! The adapter around the core's one decision (`flowgate::decision`): it
//! turns the request into core inputs, does the store, variable and clock
//! I/O, logs refusals, and turns the result into an [`Outcome`]. Every
//! credential goes parse -> authenticate (the kill switch inside) ->
//! `check_grant`, which alone makes the [`Permit`] an allowed request
//! carries. The order keeps the cheap checks (header shape, secret
//! checksum) before any variable or store access.

use flowgate::account::record_use;
use flowgate::certificate::is_forwarded;
use flowgate::credential::{CredentialError, Presented, extract};
use flowgate::decision::authenticate::{
    authenticate, authenticate_access_token, authenticate_certificate, authenticate_oidc,
};
use flowgate::decision::proxy_certificate::ProxyCertError;
use flowgate::decision::{Permit, Principal, check_grant};
use flowgate::env::Clock as _;
use flowgate::oidc;
use flowgate::path::NormalPath;
use flowgate::policy::{Flow, flow_for_path};
use flowgate::store::Store as _;
use flowgate::store::keys::{self, account_key, certificate_key};
use flowgate::token::{AccessToken, TokenError};
use flowgate::usage::Class;
use flowgate::verified::{FirstUseError, Keyring, Seen};
use flowgate_flows::FLOWS;
use flowgate_spin::{SpinStore, SwappableRecord, WasiClock};

use crate::admission::Tally;
use crate::config;

/// Which of the two ways flowgate is deployed this request came through.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A gateway asks; flowgate answers yes or no.
    ForwardAuth,
    /// flowgate forwards the request itself.
    Proxy,
}

/// A request that may proceed: the core's permit for one flow.
pub type Allowed = Permit<'static>;

/// What to answer.
///
/// `Allow` carries the permit with its account record, so the variants
/// differ in size; an `Outcome` is made once per request and moved to the
/// response, never stored, so boxing would only add an allocation to the
/// hot path.
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// Go ahead.
    Allow(Allowed),
    /// `401`; `basic` when the caller used Basic, for the challenge.
    Unauthorized { basic: bool },
    /// `403`; the reason is already in the log.
    Forbidden,
    /// `404`: no flow at this path (proxy mode only, before authentication).
    NotFound,
    /// `503`: a variable or the store failed. Fail closed.
    Unavailable,
    /// `429`: over one of the account's rate limits.
    Limited(flowgate::usage::limits::Exceeded),
}

pub fn deny(reason: impl std::fmt::Display, account: Option<&str>, path: &NormalPath) {
    // The detail goes to the log, never to the caller; no secret is in it.
    crate::log::log_line!(
        "flowgate authorizer: deny path={path} account={} reason={reason}",
        account.unwrap_or("-")
    );
}

fn unauthorized(
    reason: impl std::fmt::Display,
    account: Option<&str>,
    path: &NormalPath,
) -> Outcome {
    deny(reason, account, path);
    Outcome::Unauthorized { basic: false }
}

pub fn unavailable(e: impl std::fmt::Display) -> Outcome {
    crate::log::log_line!("flowgate authorizer: unavailable: {e}");
    Outcome::Unavailable
}

/// A refused forwarded certificate: the caller's fault is `401`, a system
/// fault `503`.
fn certificate_refused(e: ProxyCertError, account: Option<&str>, path: &NormalPath) -> Outcome {
    if e.is_system_fault() {
        unavailable(e)
    } else {
        unauthorized(e, account, path)
    }
}

/// The trusted proxy's certificate among `headers`, read through the core's
/// decision.
pub fn trusted_certificate(
    headers: &[(String, Vec<u8>)],
    pepper: &flowgate::hash::Pepper,
) -> Result<Option<String>, ProxyCertError> {
    flowgate::decision::proxy_certificate::trusted_certificate(
        headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())),
        config::trusted_proxy_token,
        pepper,
    )
}

/// Decides a request for `method` on `path` with `headers`: the credential
/// and the grant ([`decide_permit`]), then the account's usage controls on
/// the permit (`crate::admission`, called once per request, here).
pub async fn decide(
    method: &str,
    path: &NormalPath,
    headers: &[(String, Vec<u8>)],
    mode: Mode,
) -> Outcome {
    match decide_permit(method, path, headers, mode).await {
        Outcome::Allow(permit) => crate::admission::admit(permit, headers, path),
        other => other,
    }
}

/// Parse -> authenticate -> `check_grant`: the [`Permit`] of an allowed
/// request, or the refusal.
async fn decide_permit(
    method: &str,
    path: &NormalPath,
    headers: &[(String, Vec<u8>)],
    mode: Mode,
) -> Outcome {
    let flow = flow_for_path(FLOWS, path);
    if mode == Mode::Proxy && flow.is_none_or(|f| f.upstream.is_none()) {
        return Outcome::NotFound;
    }
    let presented = match extract(headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()))) {
        Ok(p) => p,
        Err(CredentialError::Missing) => return decide_certificate(method, path, headers, flow),
        Err(e) => return unauthorized(e, None, path),
    };
    let with_certificate = is_forwarded(headers.iter().map(|(n, _)| n.as_str()));
    if let Presented::Bearer(token) = presented
        && token.contains('.')
    {
        // The payload, unverified, read once: a token past its own `exp` is
        // refused before any key, store or signature work, whoever issued
        // it (issue 16); `iss` picks the verifier.
        let claimed = oidc::Claimed::read(token).unwrap_or_default();
        let now = WasiClock.now();
        if let Err(e) = claimed.refuse_expired(now) {
            return unauthorized(e, None, path);
        }
        // Our own issuer decides which kind of token this is; read it once.
        let (ours, audience) = match config::issuer() {
            Ok(v) => v,
            Err(e) => return unavailable(e),
        };
        if let Some(issuer) = claimed.issuer
            && issuer != ours
        {
            if with_certificate {
                return unauthorized(CredentialError::BesideCertificate, None, path);
            }
            return decide_oidc(token, &issuer, now, method, path, flow).await;
        }
        // A certificate-bound access token comes with its certificate: the
        // one case of a certificate beside a credential header, decided there.
        return decide_access_token(token, (&ours, &audience), now, method, path, headers, flow);
    }
    let basic = matches!(presented, Presented::Basic(_));
    let refuse = |reason: &dyn std::fmt::Display, account: Option<&str>| {
        deny(reason, account, path);
        Outcome::Unauthorized { basic }
    };
    if with_certificate {
        return refuse(&CredentialError::BesideCertificate, None);
    }
    let (secret, username) = match &presented {
        Presented::Basic(b) => (b.password(), Some(b.username.as_str())),
        other => (other.flow_secret(), None),
    };
    let secret = match secret {
        Ok(s) => s,
        Err(e) => return refuse(&e, None),
    };
    let pepper = match crate::vars::pepper() {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    // A value flowgate did not make is refused before the store is read, so
    // a flood of made-up keys costs less than the traffic let through.
    if let Err(e) = secret.admit(&pepper, crate::vars::untagged) {
        return refuse(&e, Some(secret.account_id()));
    }
    let record = match SwappableRecord::read(&account_key(secret.account_id())) {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let now = WasiClock.now();
    let principal = match authenticate(record.value.as_deref(), secret, username, &pepper, now) {
        Ok(p) => p,
        Err(e) => {
            let refused = refuse(&e, Some(secret.account_id()));
            return Tally::of_stored(record.value.as_deref())
                .count(Class::Unauthenticated, refused);
        }
    };
    note_use(record, &principal, now);
    grant(principal, flow, method, path)
}

/// Records a successful authentication in the account's `last_used`, at most
/// once a minute per credential, with a compare-and-swap over the record as
/// read: a management write in between wins and this use goes unrecorded
/// (the next one records it). A failure here never changes the answer.
pub fn note_use(record: SwappableRecord, principal: &Principal, now: u64) {
    let label = principal.credential_label();
    let Some(bytes) = record
        .value
        .as_deref()
        .and_then(|r| record_use(r, &label, now))
    else {
        return;
    };
    if let Err(e) = record.swap(&bytes) {
        crate::log::log_line!(
            "flowgate authorizer: last use of {} not recorded: {e}",
            principal.account_id()
        );
    }
}

/// The core's grant check, logged. Every allowed request at a flow passes
/// here with its [`Permit`], whatever the credential; [`decide`] then runs
/// the account's usage controls (issue 15) on `permit.account()`, the record
/// read for this request, so no credential path reads the account twice.
fn grant(
    principal: Principal,
    flow: Option<&'static Flow>,
    method: &str,
    path: &NormalPath,
) -> Outcome {
    let account = principal.account_id().to_owned();
    let tally = Tally::of(principal.account());
    match check_grant(principal, flow, method) {
        Ok(permit) => Outcome::Allow(permit),
        Err(e) => {
            deny(e, Some(&account), path);
            tally.count(Class::Forbidden, Outcome::Forbidden)
        }
    }
}

/// No credential header: an `mtls` caller, if the trusted proxy forwarded a
/// certificate. Two reads: the certificate index, then the account.
fn decide_certificate(
    method: &str,
    path: &NormalPath,
    headers: &[(String, Vec<u8>)],
    flow: Option<&'static Flow>,
) -> Outcome {
    let pepper = match crate::vars::pepper() {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let thumbprint = match trusted_certificate(headers, &pepper) {
        Ok(Some(t)) => t,
        Ok(None) => return unauthorized(CredentialError::Missing, None, path),
        Err(e) => return certificate_refused(e, None, path),
    };
    let lookup = SpinStore::open_default().and_then(|store| {
        let Some(id) = store.get(&certificate_key(&thumbprint))? else {
            return Ok(None);
        };
        let id = String::from_utf8(id).unwrap_or_default();
        SwappableRecord::read(&account_key(&id)).map(Some)
    });
    let record = match lookup {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let now = WasiClock.now();
    let value = record.as_ref().and_then(|r| r.value.as_deref());
    match authenticate_certificate(value, &thumbprint, now) {
        Ok(principal) => {
            if let Some(record) = record {
                note_use(record, &principal, now);
            }
            grant(principal, flow, method, path)
        }
        Err(e) => {
            Tally::of_stored(value).count(Class::Unauthenticated, unauthorized(e, None, path))
        }
    }
}

/// A bearer JWT: an access token of this authorization server. Its first use
/// verifies it in full and records the result (`flowgate::verified`); later
/// uses read that record instead (no signature check). Either way the
/// account record its `sub` names is read next, so the kill switch and
/// grant changes reach the token on its next request: two reads per request
/// after the first use (docs/tokens.md, "Kill switch").
fn decide_access_token(
    token: &str,
    (issuer, audience): (&str, &str),
    now: u64,
    method: &str,
    path: &NormalPath,
    headers: &[(String, Vec<u8>)],
    flow: Option<&'static Flow>,
) -> Outcome {
    // One key variable: the current key's text keys the record (and binds
    // it); the previous key is read only for a token it verified.
    let current = match config::current_key_text() {
        Ok(v) => v,
        Err(e) => return unavailable(e),
    };
    let ring = Keyring {
        issuer,
        audience,
        current: &current,
    };
    let key = flowgate::verified::key(&ring, token);
    let store = match SpinStore::open_default() {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let seen = match flowgate::verified::lookup(&store, &key, now) {
        Ok(Seen::ByPrevious(t, binding)) => match config::previous_key_text() {
            Ok(previous) if ring.previous_binding(&previous) == binding => Seen::Verified(t),
            // The previous key was dropped or replaced since: verify again.
            Ok(_) => Seen::New,
            Err(e) => return unavailable(e),
        },
        Ok(seen) => seen,
        Err(e) => return unavailable(e),
    };
    let verified: AccessToken = match seen {
        Seen::Verified(t) => t,
        Seen::Refused(e) => return unauthorized(e, None, path),
        Seen::New | Seen::ByPrevious(..) => {
            match flowgate::verified::first_use(&store, &key, now, || {
                verify_access_token(token, &ring, now)
            }) {
                Ok((t, None)) => t,
                Ok((t, Some(e))) => {
                    // The token is valid; only the saving for next time is lost.
                    crate::log::log_line!(
                        "flowgate authorizer: verified-token entry not written: {e}"
                    );
                    t
                }
                Err(FirstUseError::Invalid(Ok(e))) => return unauthorized(e, None, path),
                Err(FirstUseError::Invalid(Err(e))) => return unavailable(e),
                Err(FirstUseError::Revoked) => {
                    return unauthorized("access token revoked", None, path);
                }
                Err(FirstUseError::Store(e)) => return unavailable(e),
            }
        }
    };
    let subject = Some(verified.subject());
    let presented = match forwarded_certificate(headers) {
        Ok(p) => p,
        Err(e) => return certificate_refused(e, subject, path),
    };
    let record = match store.get(&account_key(verified.subject())) {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    match authenticate_access_token(record.as_deref(), &verified, presented.as_deref()) {
        Ok(principal) => grant(principal, flow, method, path),
        Err(e) => Tally::of_stored(record.as_deref())
            .count(Class::Unauthenticated, unauthorized(e, subject, path)),
    }
}

/// Full verification of an access token (its first use): with the current
/// key; a token whose `kid` is not the current key's with the previous
/// key, if one is configured, and then with that key's binding for its
/// record. `Err(Ok(_))` refuses the token (`401`), `Err(Err(_))` is a key
/// variable that cannot be read or used (`503`).
fn verify_access_token(
    token: &str,
    ring: &Keyring<'_>,
    now: u64,
) -> Result<(AccessToken, Option<String>), Result<TokenError, String>> {
    let keys = config::keys_from(ring.current, "").map_err(Err)?;
    match keys.verify_access_token(token, ring.issuer, ring.audience, now) {
        Err(TokenError::UnknownKey) => {}
        other => return other.map(|t| (t, None)).map_err(Ok),
    }
    let previous = config::previous_key_text().map_err(Err)?;
    if previous.trim().is_empty() {
        return Err(Ok(TokenError::UnknownKey));
    }
    let keys = config::keys_from(ring.current, &previous).map_err(Err)?;
    let t = keys
        .verify_access_token(token, ring.issuer, ring.audience, now)
        .map_err(Ok)?;
    Ok((t, Some(ring.previous_binding(&previous))))
}

/// [`trusted_certificate`], reading the pepper only when a certificate was
/// forwarded: a bearer token without one reads no pepper.
fn forwarded_certificate(headers: &[(String, Vec<u8>)]) -> Result<Option<String>, ProxyCertError> {
    if !is_forwarded(headers.iter().map(|(n, _)| n.as_str())) {
        return Ok(None);
    }
    let pepper = crate::vars::pepper().map_err(ProxyCertError::Unavailable)?;
    trusted_certificate(headers, &pepper)
}

/// A bearer JWT from an external OpenID Connect issuer, not expired by its
/// own `exp` (`oidc::Claimed`): the issuer's bindings, its cached JWKS
/// (refetched by the core's policy, `IssuerRecord::wants_refetch`), the
/// record of an earlier verification of the token (`oidc::check`), then
/// the one account the token selects.
async fn decide_oidc(
    token: &str,
    issuer: &str,
    now: u64,
    method: &str,
    path: &NormalPath,
    flow: Option<&'static Flow>,
) -> Outcome {
    let store = match SpinStore::open_default() {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    // The error is the refusal itself (see `Outcome`'s note on its size).
    #[allow(clippy::result_large_err)]
    let read =
        |key: String| -> Result<Option<Vec<u8>>, Outcome> { store.get(&key).map_err(unavailable) };
    let bindings: oidc::Bindings = match read(keys::bindings_key(issuer)) {
        Ok(Some(b)) => match serde_json::from_slice(&b) {
            Ok(b) => b,
            Err(_) => return unavailable("oidc bindings record unreadable"),
        },
        Ok(None) => return unauthorized("token of an issuer no account trusts", None, path),
        Err(outcome) => return outcome,
    };
    let mut jwks: oidc::IssuerRecord = match read(keys::jwks_key(issuer)) {
        Ok(Some(b)) => match serde_json::from_slice(&b) {
            Ok(r) => r,
            Err(_) => return unavailable("oidc JWKS cache unreadable"),
        },
        Ok(None) => return unavailable("oidc JWKS cache missing"),
        Err(outcome) => return outcome,
    };
    if jwks.wants_refetch(token, now) {
        refresh_jwks(&store, &mut jwks, now).await;
    }
    // A verification recorded by an earlier request spares the signature
    // (`oidc::Recorded` says what is still checked); everything after it
    // runs on every request.
    let pepper = match crate::vars::pepper() {
        Ok(p) => p,
        Err(e) => return unavailable(e),
    };
    let checked = match oidc::check(token, &jwks, &pepper, now, |key| store.get(key)) {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return unauthorized(e, None, path),
        Err(e) => return unavailable(e),
    };
    let account_id = match oidc::select_account(&bindings, checked.token()) {
        Ok(id) => id.to_owned(),
        Err(e) => return unauthorized(e, None, path),
    };
    if let oidc::Checked::Verified(_, record, key) = &checked {
        // Filed for pruning first, so no record escapes it; the token is
        // valid either way, only the saving for next time is lost.
        let written = flowgate::store::expiry::schedule(&store, key, record.exp, now)
            .and_then(|()| store.set(key, &record.to_bytes()));
        if let Err(e) = written {
            crate::log::log_line!("flowgate authorizer: external-token record not written: {e}");
        }
    }
    let record = match SwappableRecord::read(&account_key(&account_id)) {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    match authenticate_oidc(record.value.as_deref()) {
        Ok(principal) => {
            note_use(record, &principal, now);
            grant(principal, flow, method, path)
        }
        Err(e) => Tally::of_stored(record.value.as_deref()).count(
            Class::Unauthenticated,
            unauthorized(e, Some(&account_id), path),
        ),
    }
}

/// Fetches the issuer's JWKS again and writes the cache back; what is kept
/// on failure is the core's policy (`IssuerRecord::apply_refetch`).
async fn refresh_jwks(store: &SpinStore, jwks: &mut oidc::IssuerRecord, now: u64) {
    use crate::route::FetchError;
    let fetched = match crate::edge::fetch(&jwks.jwks_uri).await {
        Ok((200, body)) => oidc::parse_jwks(&body, now).map_err(|e| e.to_string()),
        Ok((status, _)) => Err(format!("status {status}")),
        Err(FetchError::Denied) => Err(oidc::outbound_denied_hint(&jwks.jwks_uri, "authorizer")),
        Err(FetchError::Failed(e)) => Err(e),
    };
    if let Some(e) = jwks.apply_refetch(fetched, now) {
        crate::log::log_line!(
            "flowgate authorizer: JWKS refetch of {} failed, keeping cached keys: {e}",
            jwks.issuer
        );
    }
    if let Ok(bytes) = serde_json::to_vec(jwks)
        && let Err(e) = store.set(&keys::jwks_key(&jwks.issuer), &bytes)
    {
        crate::log::log_line!("flowgate authorizer: JWKS cache not written: {e}");
    }
}
