//! One decision per request: credential, then the one store read, then the
//! grant. The order keeps the cheap checks (header shape, secret checksum)
//! before any variable or store access.

use flowgate::account::record_use;
use flowgate::authz::{
    Principal, authenticate, authenticate_certificate, authenticate_oidc, authorize,
};
use flowgate::certificate::is_forwarded;
use flowgate::credential::{CredentialError, Presented, extract};
use flowgate::env::Clock as _;
use flowgate::oidc;
use flowgate::path::NormalPath;
use flowgate::policy::{Flow, flow_for_path};
use flowgate::store::Store as _;
use flowgate::store::keys::{self, account_key, certificate_key};
use flowgate::token::AccessToken;
use flowgate::verified::{Entry, EntryError, Keyring};
use flowgate_flows::FLOWS;
use flowgate_spin::{SpinStore, SwappableRecord, WasiClock};

use crate::config;

/// Which of the two ways flowgate is deployed this request came through.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A gateway asks; flowgate answers yes or no.
    ForwardAuth,
    /// flowgate forwards the request itself.
    Proxy,
}

/// A request that may proceed.
pub struct Allowed {
    /// The caller's account id.
    pub account_id: String,
    /// The caller's account name.
    pub account_name: String,
    /// The flow it may call.
    pub flow: &'static Flow,
    /// The account record as authentication read it; `None` for an access
    /// token (admission then reads it).
    pub account: Option<flowgate::account::Account>,
    /// Whether the primary credential (or an access token minted with it)
    /// was used, rather than an API token.
    pub primary: bool,
    /// The account's metadata, set by admission.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What to answer.
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
    eprintln!(
        "flowgate authorizer: deny path={path} account={} reason={reason}",
        account.unwrap_or("-")
    );
}

/// Decides a request for `method` on `path` with `headers`: the
/// credential and grant, then the account's usage controls (the one place
/// admission is called, `crate::admission`).
pub async fn decide(
    method: &str,
    path: &NormalPath,
    headers: &[(String, Vec<u8>)],
    mode: Mode,
) -> Outcome {
    match decide_credential(method, path, headers, mode).await {
        Outcome::Allow(allowed) => crate::admission::admit(allowed, headers, path),
        other => other,
    }
}

async fn decide_credential(
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
        Err(e) => {
            deny(e, None, path);
            return Outcome::Unauthorized { basic: false };
        }
    };
    let with_certificate = is_forwarded(headers.iter().map(|(n, _)| n.as_str()));
    if let Presented::Bearer(token) = presented
        && token.contains('.')
    {
        // Our own issuer decides which kind of token this is; read it once.
        let (ours, audience) = match config::issuer() {
            Ok(v) => v,
            Err(e) => return unavailable(e),
        };
        if let Some(issuer) = oidc::claimed_issuer(token)
            && issuer != ours
        {
            if with_certificate {
                deny(CredentialError::BesideCertificate, None, path);
                return Outcome::Unauthorized { basic: false };
            }
            return decide_oidc(token, &issuer, method, path, flow).await;
        }
        // A certificate-bound access token comes with its certificate: the
        // one case of a certificate beside a credential header, decided there.
        return decide_access_token(token, (&ours, &audience), method, path, headers, flow);
    }
    let basic = matches!(presented, Presented::Basic(_));
    if with_certificate {
        deny(CredentialError::BesideCertificate, None, path);
        return Outcome::Unauthorized { basic };
    }
    let (secret, username) = match &presented {
        Presented::Basic(b) => (b.password(), Some(b.username.as_str())),
        other => (other.flow_secret(), None),
    };
    let secret = match secret {
        Ok(s) => s,
        Err(e) => {
            deny(e, None, path);
            return Outcome::Unauthorized { basic };
        }
    };
    let pepper = match config::pepper() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("flowgate authorizer: unavailable: {e}");
            return Outcome::Unavailable;
        }
    };
    let record = match SwappableRecord::read(&account_key(secret.account_id())) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("flowgate authorizer: unavailable: {e}");
            return Outcome::Unavailable;
        }
    };
    let now = WasiClock.now();
    let principal = match authenticate(record.value.as_deref(), secret, username, &pepper, now) {
        Ok(p) => p,
        Err(e) => {
            deny(e, Some(secret.account_id()), path);
            return Outcome::Unauthorized { basic };
        }
    };
    note_use(record, &principal, now);
    grant(&principal, flow, method, path)
}

/// Records a successful authentication in the account's `last_used`, at most
/// once a minute per credential, with a compare-and-swap over the record as
/// read: a management write in between wins and this use goes unrecorded
/// (the next one records it). A failure here never changes the answer.
fn note_use(record: SwappableRecord, principal: &Principal, now: u64) {
    note_use_of(
        record,
        principal.account_id(),
        &principal.credential_label(),
        now,
    );
}

/// [`note_use`] for credential `label` (`primary` or `token:<id>`) of
/// `account_id`.
pub fn note_use_of(record: SwappableRecord, account_id: &str, label: &str, now: u64) {
    let Some(bytes) = record
        .value
        .as_deref()
        .and_then(|r| record_use(r, label, now))
    else {
        return;
    };
    if let Err(e) = record.swap(&bytes) {
        eprintln!("flowgate authorizer: last use of {account_id} not recorded: {e}");
    }
}

/// The grant check shared by every credential that yields a [`Principal`].
fn grant(
    principal: &Principal,
    flow: Option<&'static Flow>,
    method: &str,
    path: &NormalPath,
) -> Outcome {
    let Some(flow) = flow else {
        deny("no flow at this path", Some(principal.account_id()), path);
        return Outcome::Forbidden;
    };
    if let Err(e) = authorize(principal, flow, method) {
        deny(e, Some(principal.account_id()), path);
        return Outcome::Forbidden;
    }
    Outcome::Allow(Allowed {
        account_id: principal.account_id().to_owned(),
        account_name: principal.account_name().to_owned(),
        flow,
        account: Some(principal.account().clone()),
        primary: principal.via() == flowgate::authz::Via::Primary,
        metadata: None,
    })
}

/// No credential header: an `mtls` caller, if the trusted proxy forwarded a
/// certificate. Two reads: the certificate index, then the account.
fn decide_certificate(
    method: &str,
    path: &NormalPath,
    headers: &[(String, Vec<u8>)],
    flow: Option<&'static Flow>,
) -> Outcome {
    let pepper = match config::pepper() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("flowgate authorizer: unavailable: {e}");
            return Outcome::Unavailable;
        }
    };
    let thumbprint = match config::trusted_certificate(headers, &pepper) {
        Ok(Some(t)) => t,
        Ok(None) => {
            deny(CredentialError::Missing, None, path);
            return Outcome::Unauthorized { basic: false };
        }
        Err(e) => {
            deny(e, None, path);
            return Outcome::Unauthorized { basic: false };
        }
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
        Err(e) => {
            eprintln!("flowgate authorizer: unavailable: {e}");
            return Outcome::Unavailable;
        }
    };
    let now = WasiClock.now();
    let value = record.as_ref().and_then(|r| r.value.as_deref());
    match authenticate_certificate(value, &thumbprint, now) {
        Ok(principal) => {
            if let Some(record) = record {
                note_use(record, &principal, now);
            }
            grant(&principal, flow, method, path)
        }
        Err(e) => {
            deny(e, None, path);
            Outcome::Unauthorized { basic: false }
        }
    }
}

/// A bearer JWT: an access token of this authorization server. Its first use
/// at a flow verifies it in full and records the result
/// (`flowgate::verified`); later uses read that record (one read, no
/// signature check). Expiry, revocation, scope, method and certificate
/// binding are checked on every request either way. The grant and credential
/// type were checked when it was issued, so disabling an account or revoking
/// a grant reaches tokens already issued when they expire: after
/// `access_token_ttl` seconds (plus the 10 s leeway) at the most.
/// `/oauth2/revoke` reaches them on the next request.
fn decide_access_token(
    token: &str,
    (issuer, audience): (&str, &str),
    method: &str,
    path: &NormalPath,
    headers: &[(String, Vec<u8>)],
    flow: Option<&'static Flow>,
) -> Outcome {
    let (pepper, (current, previous)) =
        match config::pepper().and_then(|p| Ok((p, config::key_texts()?))) {
            Ok(v) => v,
            Err(e) => return unavailable(e),
        };
    let ring = Keyring {
        issuer,
        audience,
        current: &current,
        previous: &previous,
    };
    let key = flowgate::verified::key(&pepper, &ring, token);
    let store = match SpinStore::open_default() {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let now = WasiClock.now();
    let recorded = match store.get(&key) {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    let verified = match recorded.map(|bytes| Entry::check(&bytes, now)) {
        Some(Ok(token)) => token,
        Some(Err(e @ (EntryError::Revoked | EntryError::Expired))) => {
            deny(e, None, path);
            return Outcome::Unauthorized { basic: false };
        }
        // Never recorded, or a record that cannot be read: verify in full.
        None | Some(Err(EntryError::Unreadable)) => {
            match first_use(&store, &key, token, &ring, now, path) {
                Ok(v) => v,
                Err(outcome) => return outcome,
            }
        }
    };
    let with_certificate = is_forwarded(headers.iter().map(|(n, _)| n.as_str()));
    if verified.claims.cnf.is_none() && with_certificate {
        // An unbound token beside a certificate: two credentials.
        deny(
            CredentialError::BesideCertificate,
            Some(&verified.subject),
            path,
        );
        return Outcome::Unauthorized { basic: false };
    }
    if let Some(cnf) = &verified.claims.cnf {
        // RFC 8705 3: a certificate-bound token needs that certificate.
        let presented = config::trusted_certificate(headers, &pepper);
        match presented {
            Ok(Some(t)) if t == cnf.x5t_s256 => {}
            Ok(_) => {
                deny(
                    "bound token without its certificate",
                    Some(&verified.subject),
                    path,
                );
                return Outcome::Unauthorized { basic: false };
            }
            Err(e) => {
                deny(e, Some(&verified.subject), path);
                return Outcome::Unauthorized { basic: false };
            }
        }
    }
    let Some(flow) = flow else {
        deny("no flow at this path", Some(&verified.subject), path);
        return Outcome::Forbidden;
    };
    if !verified.allows_flow(&flow.id) {
        deny("flow not in token scope", Some(&verified.subject), path);
        return Outcome::Forbidden;
    }
    if !flow.methods.contains(method) {
        deny(
            "method not allowed by the flow",
            Some(&verified.subject),
            path,
        );
        return Outcome::Forbidden;
    }
    Outcome::Allow(Allowed {
        account_id: verified.subject.clone(),
        account_name: String::new(),
        flow,
        account: None,
        primary: true,
        metadata: None,
    })
}

/// Full verification of an access token not seen before: derive the keys,
/// check signature and claims, refuse a revoked `jti`, then record the
/// result. After writing, `revoked/<jti>` is read again: a revocation that
/// ran meanwhile may have been overwritten by this record, and is then
/// written back (`flowgate::verified` explains the order).
fn first_use(
    store: &SpinStore,
    key: &str,
    token: &str,
    ring: &Keyring<'_>,
    now: u64,
    path: &NormalPath,
) -> Result<AccessToken, Outcome> {
    let keys = config::keys_from(ring.current, ring.previous).map_err(unavailable)?;
    let verified = keys
        .verify_access_token(token, ring.issuer, ring.audience, now)
        .map_err(|e| {
            deny(e, None, path);
            Outcome::Unauthorized { basic: false }
        })?;
    let revoked_key = keys::revoked_key(&verified.id);
    let is_revoked = |store: &SpinStore| store.get(&revoked_key).map(|r| r.is_some());
    if is_revoked(store).map_err(unavailable)? {
        deny("access token revoked", Some(&verified.subject), path);
        return Err(Outcome::Unauthorized { basic: false });
    }
    if let Err(e) = store.set(key, &Entry::verified(&verified).to_bytes()) {
        // The token is valid; only the saving for next time is lost.
        eprintln!("flowgate authorizer: verified-token entry not written: {e}");
        return Ok(verified);
    }
    if is_revoked(store).map_err(unavailable)? {
        if let Err(e) = store.set(key, &Entry::revoked(&verified).to_bytes()) {
            // Fail closed: without the revoked entry this token could pass
            // later; answer 503 so the caller retries, and the retry finds
            // `revoked/<jti>` before writing anything.
            return Err(unavailable(e));
        }
        deny("access token revoked", Some(&verified.subject), path);
        return Err(Outcome::Unauthorized { basic: false });
    }
    Ok(verified)
}

fn unavailable(e: impl std::fmt::Display) -> Outcome {
    eprintln!("flowgate authorizer: unavailable: {e}");
    Outcome::Unavailable
}

/// A bearer JWT from an external OpenID Connect issuer: the issuer's
/// bindings, its cached JWKS (refetched when stale or when the token names an
/// unknown `kid`, at most once a minute; a failed refetch keeps the cached
/// keys: stale-if-error), then the one account the token selects.
async fn decide_oidc(
    token: &str,
    issuer: &str,
    method: &str,
    path: &NormalPath,
    flow: Option<&'static Flow>,
) -> Outcome {
    let store = match SpinStore::open_default() {
        Ok(s) => s,
        Err(e) => return unavailable(e),
    };
    let read =
        |key: String| -> Result<Option<Vec<u8>>, Outcome> { store.get(&key).map_err(unavailable) };
    let bindings: oidc::Bindings = match read(keys::bindings_key(issuer)) {
        Ok(Some(b)) => match serde_json::from_slice(&b) {
            Ok(b) => b,
            Err(_) => return unavailable("oidc bindings record unreadable"),
        },
        Ok(None) => {
            deny("token of an issuer no account trusts", None, path);
            return Outcome::Unauthorized { basic: false };
        }
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
    let now = WasiClock.now();
    if (jwks.is_stale(now) || oidc::has_unknown_kid(token, &jwks)) && jwks.may_refetch(now) {
        refresh_jwks(&store, &mut jwks, now).await;
    }
    let verified = match oidc::verify(token, &jwks, now) {
        Ok(v) => v,
        Err(e) => {
            deny(e, None, path);
            return Outcome::Unauthorized { basic: false };
        }
    };
    let account_id = match oidc::select_account(&bindings, &verified) {
        Ok(id) => id.to_owned(),
        Err(e) => {
            deny(e, None, path);
            return Outcome::Unauthorized { basic: false };
        }
    };
    let record = match SwappableRecord::read(&account_key(&account_id)) {
        Ok(r) => r,
        Err(e) => return unavailable(e),
    };
    match authenticate_oidc(record.value.as_deref()) {
        Ok(principal) => {
            note_use(record, &principal, now);
            grant(&principal, flow, method, path)
        }
        Err(e) => {
            deny(e, Some(&account_id), path);
            Outcome::Unauthorized { basic: false }
        }
    }
}

/// Fetches the issuer's JWKS again and writes the cache back; on failure the
/// cached keys stay in use and only the attempt is recorded (rate limit).
async fn refresh_jwks(store: &SpinStore, jwks: &mut oidc::IssuerRecord, now: u64) {
    jwks.refetched_at = now;
    let request = spin_sdk::http::Request::get(&jwks.jwks_uri).build();
    let fetched = match spin_sdk::http::send::<_, spin_sdk::http::Response>(request).await {
        Ok(r) if *r.status() == 200 => oidc::parse_jwks(r.body(), now).map_err(|e| e.to_string()),
        Ok(r) => Err(format!("status {}", r.status())),
        Err(spin_sdk::http::SendError::Http(spin_sdk::http::ErrorCode::HttpRequestDenied)) => {
            Err(oidc::outbound_denied_hint(&jwks.jwks_uri, "authorizer"))
        }
        Err(e) => Err(e.to_string()),
    };
    match fetched {
        Ok(keys) => {
            jwks.keys = keys;
            jwks.fetched_at = now;
        }
        Err(e) => eprintln!(
            "flowgate authorizer: JWKS refetch of {} failed, keeping cached keys: {e}",
            jwks.issuer
        ),
    }
    if let Ok(bytes) = serde_json::to_vec(jwks)
        && let Err(e) = store.set(&keys::jwks_key(&jwks.issuer), &bytes)
    {
        eprintln!("flowgate authorizer: JWKS cache not written: {e}");
    }
}
