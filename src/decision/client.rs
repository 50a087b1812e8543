//! Where the token, introspection and revocation endpoints authenticate the
//! OAuth client: which of the four methods it used
//! ([`client_method`]: `client_secret_basic`, `client_secret_post`,
//! `private_key_jwt` per RFC 7523, `tls_client_auth` per RFC 8705), then the
//! method's check against the client's account record. Every method ends in
//! the kill switch (`super::kill_switch`), like every other credential.

use crate::account::{Account, CredentialType};
use crate::assertion::{self, VerifiedAssertion};
use crate::hash::Pepper;
use crate::oauth::{ClientCredentials, Form, OAuthError, client_credentials};
use crate::secret::{ParsedSecret, SecretKind, Untagged, is_id};

use super::authenticate::{AuthnFailure, authenticate, certificate_account};
use super::kill_switch::{Principal, Via, active};

/// `client_assertion_type` of RFC 7523 client authentication.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Why the client is not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The request itself is wrong (RFC 6749 5.2 `invalid_request`).
    #[error("{0}")]
    Request(OAuthError),
    /// The client failed to authenticate (`invalid_client`); `reason` is
    /// for the log and holds no secret.
    #[error("client {client}: {reason}")]
    Refused {
        /// The client id it claimed, or `-`.
        client: String,
        /// Whether it used the Authorization header (for the challenge).
        basic: bool,
        /// What failed.
        reason: String,
    },
}

impl ClientError {
    /// The RFC 6749 error to answer.
    pub fn oauth(&self) -> OAuthError {
        match self {
            Self::Request(e) => e.clone(),
            Self::Refused { basic, .. } => OAuthError::InvalidClient { basic: *basic },
        }
    }
}

fn refused(client: &str, basic: bool, reason: impl std::fmt::Display) -> ClientError {
    ClientError::Refused {
        client: client.to_owned(),
        basic,
        reason: reason.to_string(),
    }
}

/// The one client authentication method a request used.
#[derive(Debug)]
pub enum ClientMethod<'f> {
    /// `private_key_jwt`: the assertion and the client id it claims (read
    /// unverified, to find the client's keys).
    Assertion {
        /// `client_assertion`.
        assertion: &'f str,
        /// Its `iss`, equal to `client_id` if that was sent.
        client_id: String,
    },
    /// `client_secret_basic` or `client_secret_post`.
    Secret(ClientCredentials),
    /// `tls_client_auth`: the certificate comes from the trusted proxy.
    Certificate {
        /// `client_id` from the form.
        client_id: &'f str,
    },
}

/// Finds the method among the `Authorization` header values
/// (`authorization`), whether a client certificate was forwarded
/// (`with_certificate`) and the form. More than one method is refused: a
/// forwarded certificate beside a secret or an assertion may be another
/// client's (issue 18).
pub fn client_method<'f>(
    authorization: &[&[u8]],
    with_certificate: bool,
    form: &'f Form,
) -> Result<ClientMethod<'f>, ClientError> {
    let secret_used = !authorization.is_empty() || form.get("client_secret").is_some();
    let assertion_used =
        form.get("client_assertion").is_some() || form.get("client_assertion_type").is_some();
    let two_methods = ClientError::Request(OAuthError::InvalidRequest(
        "more than one client authentication method",
    ));
    if (secret_used || assertion_used) && with_certificate {
        return Err(two_methods);
    }
    if assertion_used {
        if secret_used {
            return Err(two_methods);
        }
        if form.get("client_assertion_type") != Some(JWT_BEARER) {
            return Err(ClientError::Request(OAuthError::InvalidRequest(
                "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )));
        }
        let assertion = form.get("client_assertion").ok_or(ClientError::Request(
            OAuthError::InvalidRequest("client_assertion is required"),
        ))?;
        let claimed = assertion::claimed_client(assertion).map_err(|e| refused("-", false, e))?;
        if !is_id(&claimed) || form.get("client_id").is_some_and(|c| c != claimed) {
            return Err(refused(
                &claimed,
                false,
                "client_id does not match the assertion",
            ));
        }
        return Ok(ClientMethod::Assertion {
            assertion,
            client_id: claimed,
        });
    }
    if secret_used {
        return client_credentials(authorization, form)
            .map(ClientMethod::Secret)
            .map_err(|e| match e {
                OAuthError::InvalidClient { basic } => refused("-", basic, "malformed credentials"),
                other => ClientError::Request(other),
            });
    }
    let client_id = form
        .get("client_id")
        .filter(|c| is_id(c))
        .ok_or_else(|| refused("-", false, "no client authentication"))?;
    Ok(ClientMethod::Certificate { client_id })
}

/// The client secret inside `credentials`, if it is a well-formed client
/// secret of the client it claims to be, made by flowgate (its keyed tag
/// holds under `pepper`, or it is untagged and `untagged` accepts those):
/// the account whose record to read. Nothing here reads the store.
pub fn client_secret<'c>(
    credentials: &'c ClientCredentials,
    pepper: &Pepper,
    untagged: impl FnOnce() -> Untagged,
) -> Result<ParsedSecret<'c>, ClientError> {
    let refuse = |why: &str| refused(&credentials.client_id, credentials.basic, why);
    let secret = ParsedSecret::parse(credentials.secret()).map_err(|e| refuse(&e.to_string()))?;
    if secret.kind() != SecretKind::ClientSecret || secret.account_id() != credentials.client_id {
        return Err(refuse("not a client secret of this client"));
    }
    secret
        .admit(pepper, untagged)
        .map_err(|e| refuse(&e.to_string()))?;
    Ok(secret)
}

/// `client_secret_basic`/`client_secret_post`: `record` is the account
/// [`client_secret`] names.
pub fn authenticate_secret_client(
    record: Option<&[u8]>,
    secret: ParsedSecret<'_>,
    basic: bool,
    pepper: &Pepper,
    now: u64,
) -> Result<Principal, ClientError> {
    let principal = authenticate(record, secret, None, pepper, now)
        .map_err(|e| refused(secret.account_id(), basic, e))?;
    if principal.credential_type() != CredentialType::ClientSecret {
        return Err(refused(secret.account_id(), basic, AuthnFailure::WrongKind));
    }
    Ok(principal)
}

/// `private_key_jwt` (RFC 7523 2.2): `record` is the account `client_id`
/// names; `audiences` are the values the assertion's `aud` may name. The
/// caller must then accept the returned `jti` only once.
pub fn authenticate_assertion_client(
    record: Option<&[u8]>,
    assertion: &str,
    client_id: &str,
    audiences: &[&str],
    now: u64,
) -> Result<(Principal, VerifiedAssertion), ClientError> {
    let account: Account = record
        .and_then(|r| serde_json::from_slice(r).ok())
        .ok_or_else(|| refused(client_id, false, "unknown client"))?;
    if account.credential_type != CredentialType::PrivateKeyJwt || account.id != client_id {
        return Err(refused(client_id, false, "not a private_key_jwt client"));
    }
    let verified = assertion::verify(assertion, &account.public_keys, client_id, audiences, now)
        .map_err(|e| refused(client_id, false, e))?;
    let principal =
        active(account, Via::Primary, None, None).map_err(|e| refused(client_id, false, e))?;
    Ok((principal, verified))
}

/// `tls_client_auth` (RFC 8705 2.1.1): `thumbprint` is the certificate the
/// trusted proxy forwarded, `record` the account `client_id` names; the
/// certificate must be registered to it and valid.
pub fn authenticate_tls_client(
    record: Option<&[u8]>,
    client_id: &str,
    thumbprint: &str,
    now: u64,
) -> Result<Principal, ClientError> {
    let account =
        certificate_account(record, thumbprint, now).map_err(|e| refused(client_id, false, e))?;
    if account.id != client_id {
        return Err(refused(client_id, false, "certificate of another client"));
    }
    active(account, Via::Primary, None, None).map_err(|e| refused(client_id, false, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Form {
        Form::parse(body.as_bytes()).expect("form")
    }

    #[test]
    fn exactly_one_method_is_accepted() {
        let basic = b"Basic YWJjOmRlZg==".as_slice();
        let f = form("grant_type=client_credentials&client_assertion=a.b.c");
        assert_eq!(
            client_method(&[basic], false, &f).err(),
            Some(ClientError::Request(OAuthError::InvalidRequest(
                "more than one client authentication method"
            )))
        );
        let f = form("grant_type=client_credentials&client_id=abcdefghijklmnop&client_secret=x");
        assert!(matches!(
            client_method(&[], true, &f),
            Err(ClientError::Request(OAuthError::InvalidRequest(_)))
        ));
        assert!(matches!(
            client_method(&[], false, &f),
            Ok(ClientMethod::Secret(c)) if c.client_id == "abcdefghijklmnop" && !c.basic
        ));
        let f = form("grant_type=client_credentials&client_id=abcdefghijklmnop");
        assert!(matches!(
            client_method(&[], true, &f),
            Ok(ClientMethod::Certificate {
                client_id: "abcdefghijklmnop"
            })
        ));
        let f = form("grant_type=client_credentials");
        assert!(matches!(
            client_method(&[], false, &f),
            Err(ClientError::Refused { basic: false, .. })
        ));
    }

    #[test]
    fn an_assertion_needs_its_type_and_a_matching_client_id() {
        // Payload {"iss":"abcdefghijklmnop"}; the signature is not looked at here.
        let assertion = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJhYmNkZWZnaGlqa2xtbm9wIn0.c2ln";
        let f = form(&format!("client_assertion={assertion}"));
        assert!(matches!(
            client_method(&[], false, &f),
            Err(ClientError::Request(OAuthError::InvalidRequest(_)))
        ));
        let typed = format!(
            "client_assertion_type={}&client_assertion={assertion}",
            JWT_BEARER.replace(':', "%3A")
        );
        assert!(matches!(
            client_method(&[], false, &form(&typed)),
            Ok(ClientMethod::Assertion { client_id, .. }) if client_id == "abcdefghijklmnop"
        ));
        let other = format!("{typed}&client_id=bbbbbbbbbbbbbbbb");
        assert!(matches!(
            client_method(&[], false, &form(&other)),
            Err(ClientError::Refused { .. })
        ));
    }

    #[test]
    fn an_unknown_or_disabled_client_is_refused_with_the_right_challenge() {
        let creds = client_credentials(
            &[b"Basic YWJjZGVmZ2hpamtsbW5vcDp4".as_slice()],
            &form("grant_type=client_credentials"),
        )
        .expect("credentials");
        // "x" is no client secret: refused before any store read, with the
        // Basic challenge since it came in the Authorization header.
        let pepper = crate::hash::Pepper::from_variable(&"ab".repeat(32)).expect("pepper");
        let err = client_secret(&creds, &pepper, || Untagged::Accept).expect_err("malformed");
        assert_eq!(err.oauth(), OAuthError::InvalidClient { basic: true });
        assert!(matches!(
            authenticate_tls_client(None, "abcdefghijklmnop", "tp", 1),
            Err(ClientError::Refused { .. })
        ));
        assert!(matches!(
            authenticate_assertion_client(None, "a.b.c", "abcdefghijklmnop", &[], 1),
            Err(ClientError::Refused { .. })
        ));
    }
}
