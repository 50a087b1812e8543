//! One decision per request: credential, then the one store read, then the
//! grant. The order keeps the cheap checks (header shape, secret checksum)
//! before any variable or store access.

use flowgate::authz::{
    Principal, authenticate, authenticate_certificate, authenticate_oidc, authorize,
};
use flowgate::credential::{CredentialError, Presented, extract};
use flowgate::env::Clock as _;
use flowgate::oidc;
use flowgate::path::NormalPath;
use flowgate::policy::{Flow, flow_for_path};
use flowgate::store::{Store as _, account_key, certificate_key};
use flowgate_flows::FLOWS;
use flowgate_spin::{SpinStore, WasiClock};

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
}

fn deny(reason: impl std::fmt::Display, account: Option<&str>, path: &NormalPath) {
    // The detail goes to the log, never to the caller; no secret is in it.
    eprintln!(
        "flowgate authorizer: deny path={path} account={} reason={reason}",
        account.unwrap_or("-")
    );
}

/// Decides a request for `method` on `path` with `headers`.
pub async fn decide(
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
            return decide_oidc(token, &issuer, method, path, flow).await;
        }
        return decide_access_token(token, (&ours, &audience), method, path, headers, flow);
    }
    let basic = matches!(presented, Presented::Basic(_));
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
    let record =
        match SpinStore::open_default().and_then(|s| s.get(&account_key(secret.account_id()))) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("flowgate authorizer: unavailable: {e}");
                return Outcome::Unavailable;
            }
        };
    let principal = match authenticate(
        record.as_deref(),
        secret,
        username,
        &pepper,
        WasiClock.now(),
    ) {
        Ok(p) => p,
        Err(e) => {
            deny(e, Some(secret.account_id()), path);
            return Outcome::Unauthorized { basic };
        }
    };
    grant(&principal, flow, method, path)
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
        store.get(&account_key(&id))
    });
    let record = match lookup {
        Ok(r) => r,
        Err(e) => {
            eprintln!("flowgate authorizer: unavailable: {e}");
            return Outcome::Unavailable;
        }
    };
    match authenticate_certificate(record.as_deref(), &thumbprint, WasiClock.now()) {
        Ok(principal) => grant(&principal, flow, method, path),
        Err(e) => {
            deny(e, None, path);
            Outcome::Unauthorized { basic: false }
        }
    }
}

/// A bearer JWT: an access token of this authorization server, verified
/// without a store read. The flow must be in its scope and accept the method;
/// the grant and credential type were checked when it was issued. Disabling
/// an account or revoking a grant therefore reaches tokens already issued
/// when they expire: after `access_token_ttl` seconds at the most.
fn decide_access_token(
    token: &str,
    (issuer, audience): (&str, &str),
    method: &str,
    path: &NormalPath,
    headers: &[(String, Vec<u8>)],
    flow: Option<&'static Flow>,
) -> Outcome {
    let keys = match config::keys() {
        Ok(k) => k,
        Err(e) => return unavailable(e),
    };
    let verified = match keys.verify_access_token(token, issuer, audience, WasiClock.now()) {
        Ok(v) => v,
        Err(e) => {
            deny(e, None, path);
            return Outcome::Unauthorized { basic: false };
        }
    };
    if let Some(cnf) = &verified.claims.cnf {
        // RFC 8705 3: a certificate-bound token needs that certificate.
        let presented = config::pepper().and_then(|p| config::trusted_certificate(headers, &p));
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
    })
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
    let bindings: oidc::Bindings = match read(oidc::bindings_key(issuer)) {
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
    let mut jwks: oidc::IssuerRecord = match read(oidc::jwks_key(issuer)) {
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
    let record = match read(account_key(&account_id)) {
        Ok(r) => r,
        Err(outcome) => return outcome,
    };
    match authenticate_oidc(record.as_deref()) {
        Ok(principal) => grant(&principal, flow, method, path),
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
        && let Err(e) = store.set(&oidc::jwks_key(&jwks.issuer), &bytes)
    {
        eprintln!("flowgate authorizer: JWKS cache not written: {e}");
    }
}
