//! The authorization server routes: `POST /oauth2/token` (client
//! credentials), `POST /oauth2/introspect` (RFC 7662), `POST /oauth2/revoke`
//! (RFC 7009), `GET /.well-known/jwks.json` and
//! `GET /.well-known/oauth-authorization-server` (RFC 8414).

use flowgate::account::{Account, CredentialType, Status};
use flowgate::assertion;
use flowgate::authz::authenticate;
use flowgate::authz::certificate_account;
use flowgate::certificate::is_forwarded;
use flowgate::env::{Clock as _, Random as _};
use flowgate::oauth::{Form, OAuthError, check_grant_type, client_credentials, scope_for};
use flowgate::secret::{ParsedSecret, SecretKind, is_id};
use flowgate::store::Store as _;
use flowgate::store::keys::{account_key, replay_key, revoked_key};
use flowgate::token::{AccessToken, Confirmation, NewAccessToken};
use flowgate_flows::FLOWS;
use flowgate_spin::{SpinStore, SwappableRecord, WasiClock, WasiRandom};

use crate::config::{self, Config};
use crate::decide::note_use_of;
use crate::respond::Reply;

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

/// `client_assertion_type` of RFC 7523 client authentication.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// An authenticated OAuth client, and the certificate its tokens are bound to.
struct Client {
    account: Account,
    cnf: Option<Confirmation>,
}

fn unavailable(e: impl std::fmt::Display) -> OAuthError {
    eprintln!("flowgate authorizer: unavailable: {e}");
    OAuthError::Unavailable
}

fn refused(client: &str, reason: impl std::fmt::Display) -> OAuthError {
    eprintln!("flowgate authorizer: token endpoint: client {client}: {reason}");
    OAuthError::InvalidClient { basic: false }
}

/// Authenticates the client by the one method it used: `private_key_jwt`,
/// `client_secret_basic`/`client_secret_post`, or `tls_client_auth`.
fn authenticate_client(
    headers: &[(String, Vec<u8>)],
    form: &Form,
    config: &Config,
    store: &SpinStore,
) -> Result<Client, OAuthError> {
    let has_authorization = headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("authorization"));
    let secret_used = has_authorization || form.get("client_secret").is_some();
    let assertion_used =
        form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some();
    // A forwarded certificate is `tls_client_auth`: beside a secret or an
    // assertion it is a second method, perhaps of another client (issue 18).
    if (secret_used || assertion_used) && is_forwarded(headers.iter().map(|(n, _)| n.as_str())) {
        return Err(OAuthError::InvalidRequest(
            "more than one client authentication method",
        ));
    }
    if assertion_used {
        if secret_used {
            return Err(OAuthError::InvalidRequest(
                "more than one client authentication method",
            ));
        }
        return assertion_client(form, config, store);
    }
    if secret_used {
        let account = secret_client(headers, form, config)?;
        return Ok(Client { account, cnf: None });
    }
    tls_client(headers, form, config)
}

/// `private_key_jwt` (RFC 7523 2.2): the assertion's `jti` is accepted once.
fn assertion_client(form: &Form, config: &Config, store: &SpinStore) -> Result<Client, OAuthError> {
    if form.get("client_assertion_type") != Some(JWT_BEARER) {
        return Err(OAuthError::InvalidRequest(
            "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ));
    }
    let assertion = form
        .get("client_assertion")
        .ok_or(OAuthError::InvalidRequest("client_assertion is required"))?;
    let claimed = assertion::claimed_client(assertion).map_err(|e| refused("-", e))?;
    if !is_id(&claimed) || form.get("client_id").is_some_and(|c| c != claimed) {
        return Err(refused(&claimed, "client_id does not match the assertion"));
    }
    let record = SwappableRecord::read(&account_key(&claimed)).map_err(unavailable)?;
    let account: Account = record
        .value
        .as_deref()
        .and_then(|r| serde_json::from_slice(r).ok())
        .ok_or_else(|| refused(&claimed, "unknown client"))?;
    if account.credential_type != CredentialType::PrivateKeyJwt || account.status != Status::Active
    {
        return Err(refused(&claimed, "not an active private_key_jwt client"));
    }
    let token_url = format!("{}/oauth2/token", config.issuer);
    let verified = assertion::verify(
        assertion,
        &account.public_keys,
        &claimed,
        &[&token_url, &config.issuer],
        WasiClock.now(),
    )
    .map_err(|e| refused(&claimed, e))?;
    let replay = replay_key(&claimed, &verified.jti);
    if store.get(&replay).map_err(unavailable)?.is_some() {
        return Err(refused(&claimed, "client assertion jti replayed"));
    }
    store
        .set(&replay, verified.expires_at.to_string().as_bytes())
        .map_err(unavailable)?;
    note_use_of(record, &account.id, "primary", WasiClock.now());
    Ok(Client { account, cnf: None })
}

/// `tls_client_auth` (RFC 8705 2.1.1): the certificate the trusted proxy
/// forwarded is registered to the `client_id`; tokens are bound to it.
fn tls_client(
    headers: &[(String, Vec<u8>)],
    form: &Form,
    config: &Config,
) -> Result<Client, OAuthError> {
    let client_id = form
        .get("client_id")
        .filter(|c| is_id(c))
        .ok_or(OAuthError::InvalidClient { basic: false })?;
    let thumbprint = config::trusted_certificate(headers, &config.pepper)
        .map_err(|e| refused(client_id, e))?
        .ok_or_else(|| refused(client_id, "no client authentication"))?;
    let record = SwappableRecord::read(&account_key(client_id)).map_err(unavailable)?;
    let now = WasiClock.now();
    let account = certificate_account(record.value.as_deref(), &thumbprint, now)
        .map_err(|e| refused(client_id, e))?;
    if account.status != Status::Active || account.id != client_id {
        return Err(refused(client_id, "account disabled"));
    }
    note_use_of(record, &account.id, "primary", now);
    Ok(Client {
        account,
        cnf: Some(Confirmation {
            x5t_s256: thumbprint,
        }),
    })
}

/// `client_secret_basic` or `client_secret_post`.
fn secret_client(
    headers: &[(String, Vec<u8>)],
    form: &Form,
    config: &Config,
) -> Result<Account, OAuthError> {
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
    let record = SwappableRecord::read(&account_key(secret.account_id())).map_err(unavailable)?;
    let now = WasiClock.now();
    let principal = authenticate(record.value.as_deref(), secret, None, &config.pepper, now)
        .map_err(|e| {
            eprintln!(
                "flowgate authorizer: token endpoint: client {}: {e}",
                credentials.client_id
            );
            invalid.clone()
        })?;
    let account: flowgate::account::Account = record
        .value
        .as_deref()
        .and_then(|r| serde_json::from_slice(r).ok())
        .ok_or(invalid.clone())?;
    if principal.account_id() != account.id
        || account.credential_type != CredentialType::ClientSecret
    {
        return Err(invalid);
    }
    note_use_of(record, &account.id, "primary", now);
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
    let mut limited = None;
    let result = (|| {
        let form = form_of(headers, body)?;
        let store = SpinStore::open_default().map_err(|_| OAuthError::Unavailable)?;
        let Client { account, cnf } = authenticate_client(headers, &form, config, &store)?;
        check_grant_type(&form)?;
        match crate::admission::at_token_endpoint(&account, headers) {
            Ok(()) => {}
            Err(crate::admission::TokenRefusal::OAuth(e)) => return Err(e),
            Err(crate::admission::TokenRefusal::Limited(exceeded)) => {
                limited = Some(exceeded);
                return Err(OAuthError::Unavailable);
            }
        }
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
                cnf,
            })
            .map_err(|_| OAuthError::Unavailable)?;
        Ok(serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": config.token_lifetime,
            "scope": scope,
        }))
    })();
    if let Some(exceeded) = limited {
        return crate::respond::limited(&exceeded, 429);
    }
    json_or_error(result)
}

/// Authenticates the client of an introspection or revocation request and
/// verifies its `token`: `None` unless it is a valid access token issued to
/// that client; with it, the token's text.
fn client_and_own_token(
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    config: &Config,
) -> Result<(SpinStore, Option<(AccessToken, String)>, Account), OAuthError> {
    let form = form_of(headers, body)?;
    let store = SpinStore::open_default().map_err(|_| OAuthError::Unavailable)?;
    let account = authenticate_client(headers, &form, config, &store)?.account;
    let token = form
        .get("token")
        .ok_or(OAuthError::InvalidRequest("token is required"))?;
    let verified = config
        .keys
        .verify_access_token(token, &config.issuer, &config.audience, WasiClock.now())
        .ok()
        .filter(|t| t.subject == account.id)
        .map(|t| (t, token.to_owned()));
    Ok((store, verified, account))
}

/// `POST /oauth2/introspect`: a client may introspect the tokens issued to it;
/// anything else is `{"active": false}`.
pub fn introspect(headers: &[(String, Vec<u8>)], body: &[u8], config: &Config) -> Reply {
    let result = (|| {
        let (store, verified, account) = client_and_own_token(headers, body, config)?;
        let inactive = serde_json::json!({ "active": false });
        let Some((verified, _)) = verified else {
            return Ok(inactive);
        };
        let revoked = store
            .get(&revoked_key(&verified.id))
            .map_err(|_| OAuthError::Unavailable)?;
        if revoked.is_some() {
            return Ok(inactive);
        }
        let mut answer = serde_json::json!({
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
        });
        // The account's metadata (issue #15), as the flow receives it.
        if let Some(metadata) = account.usage.metadata {
            answer["metadata"] = serde_json::Value::Object(metadata);
        }
        Ok(answer)
    })();
    json_or_error(result)
}

/// `POST /oauth2/revoke`: `200` whether or not the token was valid (RFC 7009
/// 2.2); a valid access token of this client is remembered as revoked until
/// it expires.
pub fn revoke(headers: &[(String, Vec<u8>)], body: &[u8], config: &Config) -> Reply {
    let result = (|| {
        let (store, verified, _) = client_and_own_token(headers, body, config)?;
        if let Some((verified, token)) = verified {
            // `revoked/<jti>` first, then the verified-token entry: a first
            // use racing with this finds one or the other
            // (`flowgate::verified`).
            store
                .set(
                    &revoked_key(&verified.id),
                    verified.expires_at.to_string().as_bytes(),
                )
                .map_err(|_| OAuthError::Unavailable)?;
            store
                .set(
                    &config.verified_key(&token),
                    &flowgate::verified::Entry::revoked(&verified).to_bytes(),
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
        "token_endpoint_auth_methods_supported":
            ["client_secret_basic", "client_secret_post", "private_key_jwt", "tls_client_auth"],
        "token_endpoint_auth_signing_alg_values_supported": ["EdDSA", "ES256", "RS256"],
        "tls_client_certificate_bound_access_tokens": true,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": FLOWS.iter().map(|f| f.id.as_ref()).collect::<Vec<_>>(),
    });
    let mut reply = Reply::json_value(200, &body);
    reply.header("cache-control", "public, max-age=300");
    reply
}
