//! The authorisation decision: who is calling (authentication against the one
//! account record read for the request) and whether they may call this flow
//! with this method (the grant check).
//!
//! A [`Principal`] can only be built by [`authenticate`], so the grant check
//! can never be reached with an unverified caller.

use crate::account::{Account, CredentialType, Status};
use crate::hash::{Domain, Pepper};
use crate::policy::Flow;
use crate::secret::{ParsedSecret, SecretKind};

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
}

/// Why an authenticated caller may not proceed (`403`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Forbidden {
    /// The path belongs to no flow.
    #[error("no flow at this path")]
    NoFlow,
    /// The account holds no grant to the flow.
    #[error("flow not granted")]
    NotGranted,
    /// The flow does not accept this method.
    #[error("method not allowed by the flow")]
    Method,
    /// The flow does not accept the account's credential type.
    #[error("credential type not accepted by the flow")]
    CredentialType,
}

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The account's primary credential.
    Primary,
    /// One of its API tokens.
    ApiToken,
}

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Principal {
    account: Account,
    via: Via,
    /// The id of the API token that matched, when `via` is `ApiToken`.
    token_id: Option<String>,
}

impl Principal {
    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.account.id
    }
    /// The account name.
    pub fn account_name(&self) -> &str {
        &self.account.name
    }
    /// The account's credential type.
    pub fn credential_type(&self) -> CredentialType {
        self.account.credential_type
    }
    /// How it authenticated.
    pub fn via(&self) -> Via {
        self.via
    }
    /// The name under which this use is recorded in the account's
    /// `last_used`: `primary`, or `token:<id>` for an API token.
    pub fn credential_label(&self) -> String {
        match &self.token_id {
            Some(id) => format!("token:{id}"),
            None => "primary".to_owned(),
        }
    }
    /// The account's roles.
    pub fn roles(&self) -> &[String] {
        &self.account.roles
    }
    /// The account as read, for admission (`crate::usage::admit`).
    pub fn account(&self) -> &Account {
        &self.account
    }
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
    if account.status != Status::Active {
        return Err(AuthnFailure::Disabled);
    }
    Ok(Principal {
        account,
        via,
        token_id,
    })
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
    if account.status != Status::Active {
        return Err(AuthnFailure::Disabled);
    }
    Ok(Principal {
        account,
        via: Via::Primary,
        token_id: None,
    })
}

/// The `mtls` account in `record` holding a valid certificate `thumbprint`,
/// whatever its status (the token endpoint checks status itself).
pub fn certificate_account(
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
    if account.status != Status::Active {
        return Err(AuthnFailure::Disabled);
    }
    Ok(Principal {
        account,
        via: Via::Primary,
        token_id: None,
    })
}

/// Whether `principal` may call `flow` with `method`.
pub fn authorize(principal: &Principal, flow: &Flow, method: &str) -> Result<(), Forbidden> {
    if !principal.account.grants.iter().any(|g| *g == flow.id) {
        return Err(Forbidden::NotGranted);
    }
    if !flow
        .credential_types
        .contains(principal.account.credential_type)
    {
        return Err(Forbidden::CredentialType);
    }
    if !flow.methods.contains(method) {
        return Err(Forbidden::Method);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{Scope, StoredSecret, StoredToken};
    use crate::policy::parse_flow;
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
            name: "svc".into(),
            description: String::new(),
            credential_type: kind,
            status: Status::Active,
            scope: Scope::default(),
            roles: vec![],
            groups: vec![],
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
            certificates: vec![],
            public_keys: vec![],
            oidc: None,
            created_at: 0,
            usage: Default::default(),
            updated_at: 0,
        }
    }

    fn fixture(kind: SecretKind, ty: CredentialType) -> (NewSecret, NewSecret, Vec<u8>) {
        let random = CountingRandom(Cell::new(3));
        let secret = NewSecret::generate(kind, ID, &random);
        let token = NewSecret::generate(SecretKind::ApiToken, ID, &random);
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
        let other = NewSecret::generate(SecretKind::ApiKey, ID, &random);
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
            let secret = NewSecret::generate(kind, "aaaaaaaaaaaaaaaa", &random);
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

    #[test]
    fn grant_method_and_type_are_all_checked() {
        let (key, _, record) = fixture(SecretKind::ApiKey, CredentialType::ApiKey);
        let p = auth(Some(&record), key.expose(), None, 1).expect("valid");
        let orders = parse_flow(
            "o",
            "id = \"orders\"\npath_prefix = \"/flows/orders\"\nmethods = [\"GET\"]",
        )
        .expect("flow");
        let reports = parse_flow(
            "r",
            "id = \"reports\"\npath_prefix = \"/flows/reports\"\nmethods = [\"GET\"]",
        )
        .expect("flow");
        let basic_only = parse_flow("b", "id = \"orders\"\npath_prefix = \"/flows/o\"\nmethods = [\"GET\"]\ncredential_types = [\"basic\"]").expect("flow");
        assert_eq!(authorize(&p, &orders, "GET"), Ok(()));
        assert_eq!(authorize(&p, &orders, "POST"), Err(Forbidden::Method));
        assert_eq!(authorize(&p, &reports, "GET"), Err(Forbidden::NotGranted));
        assert_eq!(
            authorize(&p, &basic_only, "GET"),
            Err(Forbidden::CredentialType)
        );
    }
}
