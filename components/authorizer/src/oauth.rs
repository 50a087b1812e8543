//! The authorization server routes: `POST /oauth2/token` (client
//! credentials), `POST /oauth2/introspect` (RFC 7662), `POST /oauth2/revoke`
//! (RFC 7009), `GET /.well-known/jwks.json` and
//! `GET /.well-known/oauth-authorization-server` (RFC 8414).

use flowgate::certificate::is_forwarded;
use flowgate::decision::Principal;
use flowgate::decision::client::{
    ClientError, ClientMethod, authenticate_assertion_client, authenticate_secret_client,
    authenticate_tls_client, client_method, client_secret,
};
use flowgate::env::{Clock as _, Random as _};
use flowgate::oauth::{Form, OAuthError, check_grant_type, scope_for};
use flowgate::store::Store as _;
use flowgate::store::expiry;
use flowgate::store::keys::{account_key, replay_key};
use flowgate::token::{AccessToken, Confirmation, NewAccessToken};
use flowgate_flows::FLOWS;
use flowgate_spin::{SpinStore, SwappableRecord, WasiClock, WasiRandom};

use crate::config::Config;
use crate::decide::{note_use, trusted_certificate};
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

/// An authenticated OAuth client, and the certificate its tokens are bound to.
struct Client {
    principal: Principal,
    cnf: Option<Confirmation>,
}

fn unavailable(e: impl std::fmt::Display) -> OAuthError {
    crate::log::log_line!("flowgate authorizer: unavailable: {e}");
    OAuthError::Unavailable
}

fn refused(e: ClientError) -> OAuthError {
    if let ClientError::Refused { .. } = e {
        crate::log::log_line!("flowgate authorizer: token endpoint: {e}");
    }
    e.oauth()
}

/// Authenticates the client by the one method it used; the decisions are
/// the core's (`flowgate::decision::client`), this does the reads and the
/// `jti` replay write of `private_key_jwt` (the only method that needs
/// `fermyon:spin/key-value`: the others read the client's record through
/// `wasi:keyvalue` and open nothing else, as an open is a host call of its
/// own on Spin).
fn authenticate_client(
    headers: &[(String, Vec<u8>)],
    form: &Form,
    config: &Config,
) -> Result<Client, OAuthError> {
    let authorization: Vec<&[u8]> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.as_slice())
        .collect();
    let with_certificate = is_forwarded(headers.iter().map(|(n, _)| n.as_str()));
    let method = client_method(&authorization, with_certificate, form).map_err(refused)?;
    let now = WasiClock.now();
    let (record, principal, cnf) = match method {
        ClientMethod::Assertion {
            assertion,
            client_id,
        } => {
            let record = SwappableRecord::read(&account_key(&client_id)).map_err(unavailable)?;
            let token_url = format!("{}/oauth2/token", config.issuer);
            let (principal, verified) = authenticate_assertion_client(
                record.value.as_deref(),
                assertion,
                &client_id,
                &[&token_url, &config.issuer],
                now,
            )
            .map_err(refused)?;
            let replay = replay_key(&client_id, &verified.jti);
            let store = SpinStore::open_default().map_err(unavailable)?;
            if store.get(&replay).map_err(unavailable)?.is_some() {
                crate::log::log_line!(
                    "flowgate authorizer: token endpoint: client {client_id}: client assertion jti replayed"
                );
                return Err(OAuthError::InvalidClient { basic: false });
            }
            // Issue 16: filed for prune before it is written; a mark missed
            // by the index is kept too long, a mark not written is a replay.
            if let Some(e) =
                expiry::schedule_or_report(&store, &[&replay], verified.expires_at, now)
            {
                crate::log::log_line!("flowgate authorizer: {e}");
            }
            store
                .set(&replay, verified.expires_at.to_string().as_bytes())
                .map_err(unavailable)?;
            (record, principal, None)
        }
        ClientMethod::Secret(credentials) => {
            let secret = client_secret(&credentials, &config.pepper, crate::vars::untagged)
                .map_err(refused)?;
            let record =
                SwappableRecord::read(&account_key(secret.account_id())).map_err(unavailable)?;
            let principal = authenticate_secret_client(
                record.value.as_deref(),
                secret,
                credentials.basic,
                &config.pepper,
                now,
            )
            .map_err(refused)?;
            (record, principal, None)
        }
        ClientMethod::Certificate { client_id } => {
            let thumbprint = match trusted_certificate(headers, &config.pepper) {
                Ok(Some(t)) => t,
                Ok(None) => {
                    crate::log::log_line!(
                        "flowgate authorizer: token endpoint: client {client_id}: no client authentication"
                    );
                    return Err(OAuthError::InvalidClient { basic: false });
                }
                Err(e) if e.is_system_fault() => return Err(unavailable(e)),
                Err(e) => {
                    crate::log::log_line!(
                        "flowgate authorizer: token endpoint: client {client_id}: {e}"
                    );
                    return Err(OAuthError::InvalidClient { basic: false });
                }
            };
            let record = SwappableRecord::read(&account_key(client_id)).map_err(unavailable)?;
            let principal =
                authenticate_tls_client(record.value.as_deref(), client_id, &thumbprint, now)
                    .map_err(refused)?;
            let cnf = Confirmation {
                x5t_s256: thumbprint,
            };
            (record, principal, Some(cnf))
        }
    };
    note_use(record, &principal, now);
    Ok(Client { principal, cnf })
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
        let Client { principal, cnf } = authenticate_client(headers, &form, config)?;
        check_grant_type(&form)?;
        if let Err(refusal) = crate::admission::at_token_endpoint(principal.account(), headers) {
            match refusal {
                crate::admission::TokenRefusal::OAuth(e) => return Err(e),
                crate::admission::TokenRefusal::Limited(exceeded) => {
                    limited = Some(exceeded);
                    return Err(OAuthError::Unavailable);
                }
            }
        }
        let scope = scope_for(principal.account(), form.get("scope"), FLOWS)?;
        let mut jti = [0u8; 16];
        WasiRandom.fill(&mut jti);
        let jti = flowgate::encoding::base32(&jti);
        let now = WasiClock.now();
        let token = config
            .keys
            .sign_access_token(&NewAccessToken {
                issuer: &config.issuer,
                audience: &config.audience,
                subject: principal.account_id(),
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

/// A valid access token of the authenticated client, with its text.
type OwnToken = Option<(AccessToken, String)>;

/// Authenticates the client of an introspection or revocation request and
/// verifies its `token`: `None` unless it is a valid access token issued to
/// that client; with it, the token's text. The client comes back too (its
/// account's metadata goes into the introspection answer).
fn client_and_own_token(
    headers: &[(String, Vec<u8>)],
    body: &[u8],
    config: &Config,
) -> Result<(SpinStore, OwnToken, Principal), OAuthError> {
    let form = form_of(headers, body)?;
    let client = authenticate_client(headers, &form, config)?.principal;
    let store = SpinStore::open_default().map_err(|_| OAuthError::Unavailable)?;
    let token = form
        .get("token")
        .ok_or(OAuthError::InvalidRequest("token is required"))?;
    let verified = config
        .keys
        .verify_access_token(token, &config.issuer, &config.audience, WasiClock.now())
        .ok()
        .filter(|t| t.subject() == client.account_id())
        .map(|t| (t, token.to_owned()));
    Ok((store, verified, client))
}

/// `POST /oauth2/introspect`: a client may introspect the tokens issued to it;
/// anything else is `{"active": false}`.
pub fn introspect(headers: &[(String, Vec<u8>)], body: &[u8], config: &Config) -> Reply {
    let result = (|| {
        let (store, verified, client) = client_and_own_token(headers, body, config)?;
        let inactive = serde_json::json!({ "active": false });
        let Some((verified, _)) = verified else {
            return Ok(inactive);
        };
        // The client authenticated just now through the kill switch and the
        // token is its own, so a disabled account never gets here: its
        // introspection is refused as `invalid_client`.
        if flowgate::verified::is_revoked(&store, &verified).map_err(unavailable)? {
            return Ok(inactive);
        }
        let mut answer = serde_json::json!({
            "active": true,
            "scope": verified.scope(),
            "client_id": verified.client_id(),
            "sub": verified.subject(),
            "token_type": "Bearer",
            "exp": verified.expires_at(),
            "iat": verified.issued_at(),
            "iss": config.issuer,
            "aud": config.audience,
            "jti": verified.id(),
        });
        // The account's metadata (issue #15), as the flow receives it.
        if let Some(metadata) = &client.account().usage.metadata {
            answer["metadata"] = serde_json::Value::Object(metadata.clone());
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
            let filing = flowgate::verified::revoke(
                &store,
                &config.verified_key(&token),
                &verified,
                WasiClock.now(),
            )
            .map_err(unavailable)?;
            if let Some(e) = filing {
                crate::log::log_line!("flowgate authorizer: {e}");
            }
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
        // Where the proxy gets flowgate's client-certificate CA (issue 17,
        // docs/service-keys.md); `404` there while none is configured.
        "flowgate_client_ca_uri": format!("{issuer}/admin/v1/ca.pem"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": FLOWS.iter().map(|f| f.id.as_ref()).collect::<Vec<_>>(),
    });
    let mut reply = Reply::json_value(200, &body);
    reply.header("cache-control", "public, max-age=300");
    reply
}
