//! Authentication: does the presented credential belong to the account
//! record read for this request? One function per kind of credential; each
//! ends in [`active`], the kill switch, which alone makes a [`Principal`].
//!
//! Where API keys, Basic passwords and API tokens are verified:
//! [`authenticate`]. Client certificates: [`authenticate_certificate`].
//! External OIDC tokens: [`authenticate_oidc`]. Our own access tokens:
//! [`authenticate_access_token`]. OAuth clients at the token endpoint:
//! `super::client`.

use crate::account::{Account, CredentialType};
use crate::hash::{Domain, Pepper};
use crate::secret::{ParsedSecret, SecretKind};
use crate::token::AccessToken;

use super::kill_switch::{Principal, Via, active};

/// Why a caller is not authenticated. All of them answer `401`; the variant is
/// for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthnFailure {
    /// No account with the id the secret names.
    #[error("unknown account")]
    UnknownAccount,
    /// The secret matches none of the account's digests.
    #[error("wrong secret")]
    WrongSecret,
    /// The secret matched an entry that has expired.
    #[error("credential expired")]
    Expired,
    /// The secret is of a kind the account does not use.
    #[error("credential kind does not fit the account type")]
    WrongKind,
    /// Basic username differs from the account name.
    #[error("username does not match")]
    WrongUsername,
    /// The account is disabled.
    #[error("account disabled")]
    Disabled,
    /// The account record could not be read (corrupt). Fails closed.
    #[error("account record unreadable")]
    Corrupt,
    /// A certificate-bound access token without its certificate, or an
    /// unbound one beside a forwarded certificate (two credentials).
    #[error("access token certificate binding not met")]
    CertificateBinding,
}

/// Stands in for the record of an unknown account: a typical record (one
/// secret, one token, a grant) whose digests (all bytes 0x5a) no credential
/// can have.
const STAND_IN_RECORD: &str = r#"{"id":"aaaaaaaaaaaaaaaa","name":"stand-in","description":"","credential_type":"api_key","status":"disabled","scope":{"level":"platform"},"roles":[],"groups":[],"grants":["none"],"secrets":[{"digest":"WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo","created_at":0}],"tokens":[{"id":"aaaaaaaaaaaaaaaa","name":"stand-in","digest":"WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo","created_at":0}],"created_at":0,"updated_at":0}"#;

/// Authenticates `secret` against `record`, the stored bytes of
/// `acct/<secret.account_id()>` (or `None` if absent). `basic_username` is set
/// when the secret came as a Basic password.
pub fn authenticate(
    record: Option<&[u8]>,
    secret: ParsedSecret<'_>,
    basic_username: Option<&str>,
    pepper: &Pepper,
    now: u64,
) -> Result<Principal, AuthnFailure> {
    let presented = pepper.digest(Domain::Credential, secret.expose());
    // Without a record, the same work is done on a stand-in record whose
    // digests nothing can match, so that an unknown account and a wrong
    // secret cost the same (docs/security-testing.md, "Timing").
    let known = record.is_some();
    let record = record.unwrap_or(STAND_IN_RECORD.as_bytes());
    let account: Account = serde_json::from_slice(record).map_err(|_| AuthnFailure::Corrupt)?;
    if known && account.id != secret.account_id() {
        return Err(AuthnFailure::Corrupt);
    }
    let mut token_id = None;
    let (via, expires_at) = match secret.kind() {
        SecretKind::ApiToken => {
            // Every entry is compared, so the time does not tell which matched.
            let mut hit = None;
            for (i, token) in account.tokens.iter().enumerate() {
                if token.digest.ct_eq(&presented) {
                    hit = Some(i);
                }
            }
            if !known {
                return Err(AuthnFailure::UnknownAccount);
            }
            if account.credential_type == CredentialType::Poller {
                return Err(AuthnFailure::WrongKind);
            }
            let token = &account.tokens[hit.ok_or(AuthnFailure::WrongSecret)?];
            token_id = Some(token.id.clone());
            (Via::ApiToken, token.expires_at)
        }
        kind => {
            let mut hit = None;
            for stored in &account.secrets {
                if stored.digest.ct_eq(&presented) {
                    hit = Some(stored.expires_at);
                }
            }
            if !known {
                return Err(AuthnFailure::UnknownAccount);
            }
            if account.secret_kind() != Some(kind) {
                return Err(AuthnFailure::WrongKind);
            }
            (Via::Primary, hit.ok_or(AuthnFailure::WrongSecret)?)
        }
    };
    if expires_at.is_some_and(|t| now >= t) {
        return Err(AuthnFailure::Expired);
    }
    match (basic_username, secret.kind()) {
        (Some(name), SecretKind::BasicPassword) if name == account.name => {}
        (None, kind) if kind != SecretKind::BasicPassword => {}
        (Some(_), _) => return Err(AuthnFailure::WrongUsername),
        (None, _) => return Err(AuthnFailure::WrongKind),
    }
    active(account, via, token_id, None)
}

/// Authenticates an `mtls` caller: `record` is the account that the
/// certificate index names for `thumbprint` (the SHA-256 of the certificate a
/// trusted proxy forwarded). The certificate must be registered to that
/// account and inside its validity.
pub fn authenticate_certificate(
    record: Option<&[u8]>,
    thumbprint: &str,
    now: u64,
) -> Result<Principal, AuthnFailure> {
    let account = certificate_account(record, thumbprint, now)?;
    active(account, Via::Primary, None, None)
}

/// The `mtls` account in `record` holding a valid certificate `thumbprint`,
/// before its status is checked.
pub(super) fn certificate_account(
    record: Option<&[u8]>,
    thumbprint: &str,
    now: u64,
) -> Result<Account, AuthnFailure> {
    let record = record.ok_or(AuthnFailure::UnknownAccount)?;
    let account: Account = serde_json::from_slice(record).map_err(|_| AuthnFailure::Corrupt)?;
    if account.credential_type != CredentialType::Mtls {
        return Err(AuthnFailure::WrongKind);
    }
    let cert = account
        .certificates
        .iter()
        .find(|c| c.thumbprint == thumbprint)
        .ok_or(AuthnFailure::WrongSecret)?;
    if now >= cert.not_after || now < cert.not_before {
        return Err(AuthnFailure::Expired);
    }
    Ok(account)
}

/// Authenticates an `oidc` caller: `record` is the account the verified token
/// selected (see `crate::oidc::select_account`).
pub fn authenticate_oidc(record: Option<&[u8]>) -> Result<Principal, AuthnFailure> {
    let record = record.ok_or(AuthnFailure::UnknownAccount)?;
    let account: Account = serde_json::from_slice(record).map_err(|_| AuthnFailure::Corrupt)?;
    if account.credential_type != CredentialType::Oidc {
        return Err(AuthnFailure::WrongKind);
    }
    active(account, Via::Primary, None, None)
}

/// Authenticates the holder of an access token we issued: `token` passed
/// full verification now or earlier (`crate::verified`), and `record` is the
/// account its `sub` names, read for this request, so that disabling the
/// account or revoking a grant reaches the token on its next use.
/// `presented_certificate` is the thumbprint of the certificate the trusted
/// proxy forwarded, if any: a bound token needs exactly that certificate
/// (RFC 8705 3), and an unbound token beside a certificate is two
/// credentials (issue 18).
pub fn authenticate_access_token(
    record: Option<&[u8]>,
    token: &AccessToken,
    presented_certificate: Option<&str>,
) -> Result<Principal, AuthnFailure> {
    if token.bound_thumbprint() != presented_certificate {
        return Err(AuthnFailure::CertificateBinding);
    }
    let record = record.ok_or(AuthnFailure::UnknownAccount)?;
    let account: Account = serde_json::from_slice(record).map_err(|_| AuthnFailure::Corrupt)?;
    if account.id != token.subject() {
        return Err(AuthnFailure::Corrupt);
    }
    if !crate::oauth::is_oauth_client(&account) {
        return Err(AuthnFailure::WrongKind);
    }
    active(
        account,
        Via::AccessToken,
        None,
        Some(token.scope().to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Status, StoredSecret, StoredToken};
    use crate::secret::NewSecret;
    use crate::secret::tests::CountingRandom;
    use std::cell::Cell;

    const ID: &str = "abcdefghijklmnop";

    fn pepper() -> Pepper {
        Pepper::from_variable(&"ab".repeat(32)).expect("pepper")
    }

    fn account(kind: CredentialType, secret: &NewSecret, token: &NewSecret) -> Account {
        let p = pepper();
        Account {
            id: ID.into(),
            grants: vec!["orders".into()],
            secrets: vec![StoredSecret {
                digest: p.digest(Domain::Credential, secret.expose()),
                created_at: 0,
                expires_at: None,
            }],
            tokens: vec![StoredToken {
                id: "t".into(),
                name: "ci".into(),
                digest: p.digest(Domain::Credential, token.expose()),
                created_at: 0,
                expires_at: Some(100),
            }],
            ..Account::for_tests(kind)
        }
    }

    fn fixture(kind: SecretKind, ty: CredentialType) -> (NewSecret, NewSecret, Vec<u8>) {
        let random = CountingRandom(Cell::new(3));
        let secret = NewSecret::generate(kind, ID, &random, &pepper());
        let token = NewSecret::generate(SecretKind::ApiToken, ID, &random, &pepper());
        let record = serde_json::to_vec(&account(ty, &secret, &token)).expect("json");
        (secret, token, record)
    }

    fn auth(
        record: Option<&[u8]>,
        text: &str,
        user: Option<&str>,
        now: u64,
    ) -> Result<Principal, AuthnFailure> {
        let parsed = ParsedSecret::parse(text).expect("well-formed");
        authenticate(record, parsed, user, &pepper(), now)
    }

    #[test]
    fn valid_api_key_authenticates() {
        let (key, _, record) = fixture(SecretKind::ApiKey, CredentialType::ApiKey);
        let p = auth(Some(&record), key.expose(), None, 10).expect("valid");
        assert_eq!(p.account_id(), ID);
        assert_eq!(p.via(), Via::Primary);
        assert_eq!(p.credential_label(), "primary");
    }

    #[test]
    fn unknown_account_and_wrong_secret_are_refused() {
        let (key, _, record) = fixture(SecretKind::ApiKey, CredentialType::ApiKey);
        assert_eq!(
            auth(None, key.expose(), None, 10).err(),
            Some(AuthnFailure::UnknownAccount)
        );
        let random = CountingRandom(Cell::new(77));
        let other = NewSecret::generate(SecretKind::ApiKey, ID, &random, &pepper());
        assert_eq!(
            auth(Some(&record), other.expose(), None, 10).err(),
            Some(AuthnFailure::WrongSecret)
        );
    }

    #[test]
    fn api_token_works_until_it_expires() {
        let (_, token, record) = fixture(SecretKind::ApiKey, CredentialType::ApiKey);
        let p = auth(Some(&record), token.expose(), None, 99).expect("valid");
        assert_eq!(p.via(), Via::ApiToken);
        // Its use is recorded under the token's id, not the account's key.
        assert_eq!(p.credential_label(), "token:t");
        assert_eq!(
            auth(Some(&record), token.expose(), None, 100).err(),
            Some(AuthnFailure::Expired)
        );
    }

    #[test]
    fn disabled_account_is_refused_for_every_credential() {
        let (key, token, record) = fixture(SecretKind::ApiKey, CredentialType::ApiKey);
        let mut account: Account = serde_json::from_slice(&record).expect("json");
        account.status = Status::Disabled;
        let record = serde_json::to_vec(&account).expect("json");
        assert_eq!(
            auth(Some(&record), key.expose(), None, 1).err(),
            Some(AuthnFailure::Disabled)
        );
        assert_eq!(
            auth(Some(&record), token.expose(), None, 1).err(),
            Some(AuthnFailure::Disabled)
        );
    }

    #[test]
    fn basic_password_needs_the_account_name() {
        let (pw, _, record) = fixture(SecretKind::BasicPassword, CredentialType::Basic);
        assert!(auth(Some(&record), pw.expose(), Some("svc"), 1).is_ok());
        assert_eq!(
            auth(Some(&record), pw.expose(), Some("other"), 1).err(),
            Some(AuthnFailure::WrongUsername)
        );
        assert_eq!(
            auth(Some(&record), pw.expose(), None, 1).err(),
            Some(AuthnFailure::WrongKind)
        );
    }

    #[test]
    fn a_kind_that_does_not_fit_the_account_is_refused() {
        // A client secret is well-formed and correct, but not usable at a flow
        // of an api_key account (nor anywhere but the token endpoint).
        let (secret, _, record) = fixture(SecretKind::ClientSecret, CredentialType::ApiKey);
        assert_eq!(
            auth(Some(&record), secret.expose(), None, 1).err(),
            Some(AuthnFailure::WrongKind)
        );
    }

    #[test]
    fn the_stand_in_record_parses_and_matches_nothing() {
        let account: Account = serde_json::from_str(STAND_IN_RECORD).expect("the stand-in parses");
        assert_eq!(account.secrets.len(), 1);
        assert_eq!(account.tokens.len(), 1);
        for kind in [
            SecretKind::ApiKey,
            SecretKind::ApiToken,
            SecretKind::BasicPassword,
        ] {
            let random = CountingRandom(Cell::new(11));
            let secret = NewSecret::generate(kind, "aaaaaaaaaaaaaaaa", &random, &pepper());
            let user = (kind == SecretKind::BasicPassword).then_some("stand-in");
            assert_eq!(
                auth(None, secret.expose(), user, 1).err(),
                Some(AuthnFailure::UnknownAccount),
                "{kind:?}: no record must never authenticate"
            );
        }
    }

    #[test]
    fn corrupt_record_fails_closed() {
        let (key, _, _) = fixture(SecretKind::ApiKey, CredentialType::ApiKey);
        assert_eq!(
            auth(Some(b"{not json"), key.expose(), None, 1).err(),
            Some(AuthnFailure::Corrupt)
        );
    }

    #[test]
    fn certificate_must_be_registered_valid_and_the_account_active() {
        let (_, _, record) = fixture(SecretKind::ApiKey, CredentialType::Mtls);
        let mut account: Account = serde_json::from_slice(&record).expect("json");
        account
            .certificates
            .push(crate::account::StoredCertificate {
                thumbprint: "tp".into(),
                subject: "CN=c".into(),
                issuer: "CN=ca".into(),
                serial: "01".into(),
                not_before: 10,
                not_after: 100,
                added_at: 10,
            });
        let record = serde_json::to_vec(&account).expect("json");
        assert!(authenticate_certificate(Some(&record), "tp", 50).is_ok());
        assert_eq!(
            authenticate_certificate(Some(&record), "other", 50).err(),
            Some(AuthnFailure::WrongSecret)
        );
        assert_eq!(
            authenticate_certificate(Some(&record), "tp", 100).err(),
            Some(AuthnFailure::Expired)
        );
        assert_eq!(
            authenticate_certificate(Some(&record), "tp", 9).err(),
            Some(AuthnFailure::Expired)
        );
        assert_eq!(
            authenticate_certificate(None, "tp", 50).err(),
            Some(AuthnFailure::UnknownAccount)
        );
        account.status = Status::Disabled;
        let record = serde_json::to_vec(&account).expect("json");
        assert_eq!(
            authenticate_certificate(Some(&record), "tp", 50).err(),
            Some(AuthnFailure::Disabled)
        );
        account.status = Status::Active;
        account.credential_type = CredentialType::ApiKey;
        let record = serde_json::to_vec(&account).expect("json");
        assert_eq!(
            authenticate_certificate(Some(&record), "tp", 50).err(),
            Some(AuthnFailure::WrongKind)
        );
    }
}
