//! The authorization server routes: `POST /oauth2/token` (client
//! credentials), `POST /oauth2/introspect` (RFC 7662), `POST /oauth2/revoke`
//! (RFC 7009), `GET /.well-known/jwks.json` and
//! `GET /.well-known/oauth-authorization-server` (RFC 8414).

use flowgate::authz::authenticate;
use flowgate::env::{Clock as _, Random as _};
use flowgate::oauth::{
    Form, OAuthError, check_grant_type, client_credentials, is_oauth_client, scope_for,
};
use flowgate::secret::{ParsedSecret, SecretKind};
use flowgate::store::{Store as _, account_key};
use flowgate::token::{AccessToken, NewAccessToken};
use flowgate_flows::FLOWS;
use flowgate_spin::{SpinStore, WasiClock, WasiRandom};

use crate::config::Config;
use crate::respond::Reply;

/// Key under which a revoked access token's id is remembered until it expires.
fn revoked_key(jti: &str) -> String {
    format!("revoked/{jti}")
}

fn oauth_error(e: &OAuthError) -> Reply {
    let mut reply = Reply::json_value(e.status(), &e.body());
    reply.no_store();
    if let OAuthError::InvalidClient { .. } = e {
        reply.header(
            "www-authenticate",
            "Basic realm=\"flowgate\", charset=\"UTF-8\"",
        );
    }
    reply
}

/// A `200` JSON answer that is never cached, or the RFC 6749 error.
fn json_or_error(result: Result<serde_json::Value, OAuthError>) -> Reply {
    match result {
        Ok(body) => {
            let mut reply = Reply::json_value(200, &body);
            reply.no_store();
            reply
        }
        Err(e) => oauth_error(&e),
    }
}

/// The authenticated OAuth client: its account record.
fn authenticate_client(
    headers: &[(String, Vec<u8>)],
    form: &Form,
    config: &Config,
    store: &SpinStore,
) -> Result<flowgate::account::Account, OAuthError> {
    let authorization: Vec<&[u8]> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_slice())
        .collect();
    let credentials = client_credentials(&authorization, form)?;
    let basic = credentials.basic;
    let invalid = OAuthError::InvalidClient { basic };
    let secret = ParsedSecret::parse(credentials.secret()).map_err(|_| invalid.clone())?;
    if secret.kind() != SecretKind::ClientSecret || secret.account_id() != credentials.client_id {
        return Err(invalid);
    }
    let record = store.get(&account_key(secret.account_id())).map_err(|e| {
        eprintln!("flowgate authorizer: unavailable: {e}");
        OAuthError::Unavailable
    })?;
    let principal = authenticate(
        record.as_deref(),
        secret,
        None,
        &config.pepper,
        WasiClock.now(),
    )
    .map_err(|e| {
        eprintln!(
            "flowgate authorizer: token endpoint: client {}: {e}",
            credentials.client_id
        );
        invalid.clone()
    })?;
    let account: flowgate::account::Account = record
        .as_deref()
        .and_then(|r| serde_json::from_slice(r).ok())
        .ok_or(invalid.clone())?;
    if principal.account_id() != account.id || !is_oauth_client(&account) {
        return Err(invalid);
    }
    Ok(account)
}

fn form_of(headers: &[(String, Vec<u8>)], body: &[u8]) -> Result<Form, OAuthError> {
    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .unwrap_or_default();
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::InvalidRequest(
            "content type must be application/x-www-form-urlencoded",
        ));
    }
    Form::parse(body)
}

/// `POST /oauth2/token`.
pub fn token(headers: &[(String, Vec<u8>)], body: &[u8], config: &Config) -> Reply {
    let result = (|| {
        let form = form_of(headers, body)?;
        let store = SpinStore::open_default().map_err(|_| OAuthError::Unavailable)?;
        let account = authenticate_client(headers, &form, config, &store)?;
        check_grant_type(&form)?;
        let scope = scope_for(&account, form.get("scope"), FLOWS)?;
        let mut jti = [0u8; 16];
        WasiRandom.fill(&mut jti);
        let jti = flowgate::encoding::base32(&jti);
        let now = WasiClock.now();
        let token = config
            .keys
            .sign_access_token(&NewAccessToken {
                issuer: &config.issuer,
                audience: &config.audience,
                subject: &account.id,
                scope: &scope,
                id: &jti,
                now,
                lifetime: config.token_lifetime,
                cnf: None,
            })
            .map_err(|_| OAuthError::Unavailable)?;
        Ok(serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": config.token_lifetime,
            "scope": scope,
        }))
    })();
    json_or_error(result)
}

/// Authenticates the client of an introspection or revocation request and
/// verifies its `token`: `None` unless it is a valid access token issued to
/// that client.
fn client_and_own_token(
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    config: &Config,
) -> Result<(SpinStore, Option<AccessToken>), OAuthError> {
    let form = form_of(headers, body)?;
    let store = SpinStore::open_default().map_err(|_| OAuthError::Unavailable)?;
    let account = authenticate_client(headers, &form, config, &store)?;
    let token = form
        .get("token")
        .ok_or(OAuthError::InvalidRequest("token is required"))?;
    let verified = config
        .keys
        .verify_access_token(token, &config.issuer, &config.audience, WasiClock.now())
        .ok()
        .filter(|t| t.subject == account.id);
    Ok((store, verified))
}

/// `POST /oauth2/introspect`: a client may introspect the tokens issued to it;
/// anything else is `{"active": false}`.
pub fn introspect(headers: &[(String, Vec<u8>)], body: &[u8], config: &Config) -> Reply {
    let result = (|| {
        let (store, verified) = client_and_own_token(headers, body, config)?;
        let inactive = serde_json::json!({ "active": false });
        let Some(verified) = verified else {
            return Ok(inactive);
        };
        let revoked = store
            .get(&revoked_key(&verified.id))
            .map_err(|_| OAuthError::Unavailable)?;
        if revoked.is_some() {
            return Ok(inactive);
        }
        Ok(serde_json::json!({
            "active": true,
            "scope": verified.claims.scope,
            "client_id": verified.claims.client_id,
            "sub": verified.subject,
            "token_type": "Bearer",
            "exp": verified.expires_at,
            "iat": verified.issued_at,
            "iss": config.issuer,
            "aud": config.audience,
            "jti": verified.id,
        }))
    })();
    json_or_error(result)
}

/// `POST /oauth2/revoke`: `200` whether or not the token was valid (RFC 7009
/// 2.2); a valid access token of this client is remembered as revoked until
/// it expires.
pub fn revoke(headers: &[(String, Vec<u8>)], body: &[u8], config: &Config) -> Reply {
    let result = (|| {
        let (store, verified) = client_and_own_token(headers, body, config)?;
        if let Some(verified) = verified {
            store
                .set(
                    &revoked_key(&verified.id),
                    verified.expires_at.to_string().as_bytes(),
                )
                .map_err(|_| OAuthError::Unavailable)?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => {
            let mut reply = Reply::empty(200);
            reply.no_store();
            reply
        }
        Err(e) => oauth_error(&e),
    }
}

/// `GET /.well-known/jwks.json`.
pub fn jwks(config: &Config) -> Reply {
    let mut reply = Reply::json_value(200, &config.keys.jwks());
    reply.header("cache-control", "public, max-age=300");
    reply
}

/// `GET /.well-known/oauth-authorization-server`.
pub fn metadata(config: &Config) -> Reply {
    let issuer = &config.issuer;
    let body = serde_json::json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "introspection_endpoint": format!("{issuer}/oauth2/introspect"),
        "revocation_endpoint": format!("{issuer}/oauth2/revoke"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "grant_types_supported": ["client_credentials"],
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": FLOWS.iter().map(|f| f.id.as_ref()).collect::<Vec<_>>(),
    });
    let mut reply = Reply::json_value(200, &body);
    reply.header("cache-control", "public, max-age=300");
    reply
}
