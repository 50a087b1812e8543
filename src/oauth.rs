//! The OAuth 2.0 token, introspection and revocation endpoints, minus I/O:
//! parsing form bodies, authenticating the client (RFC 6749 2.3.1
//! `client_secret_basic` and `client_secret_post`), choosing the scope, and
//! RFC 6749 5.2 errors.
//!
//! Scope values are flow ids. Without a `scope` parameter a token covers every
//! flow the client is granted that accepts its credential type; a requested
//! flow outside that set is `invalid_scope`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::account::{Account, CredentialType};
use crate::policy::{Flow, flow_by_id};

/// The largest form body accepted.
pub const MAX_FORM_LEN: usize = 16 * 1024;

/// An RFC 6749 section 5.2 error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// Malformed request: missing, repeated or unknown parameters.
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// Client authentication failed. `basic` when the client used Basic.
    #[error("invalid_client")]
    InvalidClient {
        /// Whether the client authenticated with the Authorization header.
        basic: bool,
    },
    /// The client may not use this grant type.
    #[error("unauthorized_client")]
    UnauthorizedClient,
    /// A grant type other than `client_credentials`.
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    /// A requested scope the client does not hold.
    #[error("invalid_scope")]
    InvalidScope,
    /// The store or a variable failed: fail closed.
    #[error("temporarily_unavailable")]
    Unavailable,
}

impl OAuthError {
    /// The HTTP status (RFC 6749 5.2).
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidClient { .. } => 401,
            Self::Unavailable => 503,
            _ => 400,
        }
    }

    /// The `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "invalid_request",
            Self::InvalidClient { .. } => "invalid_client",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::Unavailable => "temporarily_unavailable",
        }
    }

    /// The JSON body. The description never says which check of client
    /// authentication failed.
    pub fn body(&self) -> serde_json::Value {
        let description = match self {
            Self::InvalidRequest(d) => *d,
            Self::InvalidClient { .. } => "client authentication failed",
            Self::UnauthorizedClient => "this client may not use this grant type",
            Self::UnsupportedGrantType => "only client_credentials is supported",
            Self::InvalidScope => "the requested scope is not granted to this client",
            Self::Unavailable => "try again later",
        };
        serde_json::json!({ "error": self.code(), "error_description": description })
    }
}

/// A parsed `application/x-www-form-urlencoded` body. Repeated parameters are
/// refused (RFC 6749 3.2).
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses a form body.
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        if body.len() > MAX_FORM_LEN {
            return Err(OAuthError::InvalidRequest("request body too large"));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| OAuthError::InvalidRequest("body is not UTF-8"))?;
        let mut pairs: Vec<(String, String)> = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (form_decode(k)?, form_decode(v)?);
            if pairs.iter().any(|(name, _)| *name == k) {
                return Err(OAuthError::InvalidRequest("a parameter is repeated"));
            }
            pairs.push((k, v));
        }
        Ok(Self(pairs))
    }

    /// The value of `name`, if present and non-empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// Decodes one form component: `+` is a space, `%XX` a byte; the result
/// must be UTF-8 without control characters.
pub fn form_decode(s: &str) -> Result<String, OAuthError> {
    let bad = OAuthError::InvalidRequest("malformed form encoding");
    let text = crate::encoding::percent_decode(s, true).ok_or(bad.clone())?;
    if text.chars().any(char::is_control) {
        return Err(bad);
    }
    Ok(text)
}

/// How the client presented its credentials.
#[derive(PartialEq, Eq)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    secret: String,
    /// Whether they came in the Authorization header.
    pub basic: bool,
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("basic", &self.basic)
            .finish_non_exhaustive()
    }
}

impl ClientCredentials {
    /// The client secret as presented.
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

/// Finds the client's credentials in the Authorization header values
/// (`authorization`) or the form. Exactly one method may be used.
pub fn client_credentials(
    authorization: &[&[u8]],
    form: &Form,
) -> Result<ClientCredentials, OAuthError> {
    let in_form = form.get("client_secret").is_some();
    match authorization {
        [] => {}
        [value] => {
            if in_form {
                return Err(OAuthError::InvalidRequest(
                    "more than one client authentication method",
                ));
            }
            let text = std::str::from_utf8(value)
                .map_err(|_| OAuthError::InvalidClient { basic: true })?;
            let (scheme, encoded) = text
                .split_once(' ')
                .ok_or(OAuthError::InvalidClient { basic: true })?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(OAuthError::InvalidClient { basic: true });
            }
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|d| String::from_utf8(d).ok())
                .ok_or(OAuthError::InvalidClient { basic: true })?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or(OAuthError::InvalidClient { basic: true })?;
            // RFC 6749 2.3.1: both parts are form-encoded before base64.
            let id = form_decode(id).map_err(|_| OAuthError::InvalidClient { basic: true })?;
            let secret =
                form_decode(secret).map_err(|_| OAuthError::InvalidClient { basic: true })?;
            if form.get("client_id").is_some_and(|f| f != id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id differs from the authenticated client",
                ));
            }
            return Ok(ClientCredentials {
                client_id: id,
                secret,
                basic: true,
            });
        }
        _ => {
            return Err(OAuthError::InvalidRequest(
                "more than one Authorization header",
            ));
        }
    }
    match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => Ok(ClientCredentials {
            client_id: id.to_owned(),
            secret: secret.to_owned(),
            basic: false,
        }),
        _ => Err(OAuthError::InvalidClient { basic: false }),
    }
}

/// Checks `grant_type` of a token request.
pub fn check_grant_type(form: &Form) -> Result<(), OAuthError> {
    match form.get("grant_type") {
        None => Err(OAuthError::InvalidRequest("grant_type is required")),
        Some("client_credentials") => Ok(()),
        Some(_) => Err(OAuthError::UnsupportedGrantType),
    }
}

/// The flows a token for `account` covers: the requested ones (space
/// separated flow ids), or every flow it may use when none are requested.
pub fn scope_for(
    account: &Account,
    requested: Option<&str>,
    flows: &[Flow],
) -> Result<String, OAuthError> {
    let usable = |id: &str| {
        account.grants.iter().any(|g| g == id)
            && flow_by_id(flows, id)
                .is_some_and(|f| f.credential_types.contains(account.credential_type))
    };
    let scope: Vec<&str> = match requested {
        None => account
            .grants
            .iter()
            .map(String::as_str)
            .filter(|g| usable(g))
            .collect(),
        Some(text) => {
            let mut wanted: Vec<&str> = text.split(' ').filter(|s| !s.is_empty()).collect();
            wanted.sort_unstable();
            wanted.dedup();
            if wanted.is_empty() || wanted.iter().any(|s| !usable(s)) {
                return Err(OAuthError::InvalidScope);
            }
            wanted
        }
    };
    if scope.is_empty() {
        return Err(OAuthError::InvalidScope);
    }
    Ok(scope.join(" "))
}

/// Whether `account` is an OAuth client that may use the token endpoint.
pub fn is_oauth_client(account: &Account) -> bool {
    matches!(
        account.credential_type,
        CredentialType::ClientSecret | CredentialType::PrivateKeyJwt | CredentialType::Mtls
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(text: &str) -> Form {
        Form::parse(text.as_bytes()).expect("form")
    }

    #[test]
    fn form_decoding_follows_the_urlencoded_rules() {
        let f = form("grant_type=client_credentials&scope=orders+reports&x=%41%42");
        assert_eq!(f.get("scope"), Some("orders reports"));
        assert_eq!(f.get("x"), Some("AB"));
        assert!(Form::parse(b"a=1&a=2").is_err(), "repeated parameter");
        assert!(Form::parse(b"a=%zz").is_err());
        assert!(Form::parse(b"a=%0a").is_err(), "control character");
        assert!(Form::parse(&vec![b'a'; MAX_FORM_LEN + 1]).is_err());
    }

    #[test]
    fn basic_client_credentials_are_form_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20client:s%3Acret"));
        let c = client_credentials(&[header.as_bytes()], &form("grant_type=client_credentials"))
            .expect("ok");
        assert_eq!(c.client_id, "my client");
        assert_eq!(c.secret(), "s:cret");
        assert!(c.basic);
    }

    #[test]
    fn post_credentials_and_the_one_method_rule() {
        let c = client_credentials(&[], &form("client_id=a&client_secret=b")).expect("post");
        assert!(!c.basic);
        let header = format!("Basic {}", STANDARD.encode("a:b"));
        assert_eq!(
            client_credentials(&[header.as_bytes()], &form("client_secret=b")),
            Err(OAuthError::InvalidRequest(
                "more than one client authentication method"
            ))
        );
        assert_eq!(
            client_credentials(&[], &form("client_id=a")),
            Err(OAuthError::InvalidClient { basic: false })
        );
        assert!(matches!(
            client_credentials(&[b"Bearer x"], &form("")),
            Err(OAuthError::InvalidClient { basic: true })
        ));
        let twice = [header.as_bytes(), header.as_bytes()];
        assert!(matches!(
            client_credentials(&twice, &form("")),
            Err(OAuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn grant_type_is_required_and_only_client_credentials() {
        assert!(check_grant_type(&form("grant_type=client_credentials")).is_ok());
        assert_eq!(
            check_grant_type(&form("grant_type=password")),
            Err(OAuthError::UnsupportedGrantType)
        );
        assert!(matches!(
            check_grant_type(&form("")),
            Err(OAuthError::InvalidRequest(_))
        ));
    }

    #[test]
    fn errors_map_to_rfc6749_statuses() {
        assert_eq!(OAuthError::InvalidClient { basic: true }.status(), 401);
        assert_eq!(OAuthError::InvalidScope.status(), 400);
        assert_eq!(
            OAuthError::UnsupportedGrantType.body()["error"],
            "unsupported_grant_type"
        );
    }
}
