//! "generate" for `mtls` and `private_key_jwt` accounts: instead of uploaded
//! material, flowgate makes a fresh key pair (and, for `mtls`, a client
//! certificate signed by its CA, [`crate::pki`]) and answers once with a
//! service key document in the shape SAP BTP users know. The account then
//! holds exactly what an upload would have given it (the certificate's
//! thumbprint and details, or the public key), because the material runs
//! through the same checks and writes as an upload: create, add (rotation
//! with overlap) and reset are the upload operations with generated input.
//!
//! The private key exists in the returned [`Generated`] only; it is never
//! stored, logged, audited or returned again. See docs/service-keys.md.

use serde::Serialize;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::{AccountView, Admin, AdminError, Fetch, WithSecret, field};
use crate::account::{CredentialType, StoredCertificate};
use crate::pki::{Algorithm, Ca, IssueRequest, Issued, PkiError};

/// The body field that asks for generated material.
pub const GENERATE: &str = "generate";

/// Where the service key's clients go: the authorizer's base URL (the
/// `issuer` variable) and its token endpoint.
#[derive(Debug, Clone)]
pub struct ServiceUrls {
    /// Base URL (`url`).
    pub url: String,
    /// Token endpoint (`tokenurl`).
    pub token_url: String,
}

impl ServiceUrls {
    /// The URLs of an authorizer whose issuer (base URL) is `issuer`.
    pub fn from_issuer(issuer: &str) -> Self {
        let url = issuer.trim_end_matches('/').to_owned();
        Self {
            token_url: format!("{url}/oauth2/token"),
            url,
        }
    }
}

/// The CA, read when a certificate is to be issued (and only then).
pub type CaSource<'c> = dyn Fn() -> Result<Ca, PkiError> + 'c;

/// The parsed `generate` field: `true`, or an object with optional
/// `algorithm` (`ES256`, the default, or `EdDSA`) and `validity_days`.
#[derive(Debug, Clone, Copy)]
struct Generate {
    algorithm: Algorithm,
    days: Option<u64>,
}

fn parse_generate(value: &Value) -> Result<Generate, AdminError> {
    const SHAPE: &str =
        "true, or an object with optional `algorithm` (ES256 or EdDSA) and `validity_days`";
    match value {
        Value::Bool(true) => Ok(Generate {
            algorithm: Algorithm::default(),
            days: None,
        }),
        Value::Object(map) => {
            if let Some(unknown) = map
                .keys()
                .find(|k| !["algorithm", "validity_days"].contains(&k.as_str()))
            {
                return Err(field(&format!("{GENERATE}.{unknown}"), "unknown field"));
            }
            let algorithm = match map.get("algorithm") {
                None | Some(Value::Null) => Algorithm::default(),
                Some(Value::String(name)) => Algorithm::parse(name)
                    .ok_or_else(|| field("generate.algorithm", "ES256 or EdDSA"))?,
                Some(_) => return Err(field("generate.algorithm", "ES256 or EdDSA")),
            };
            let days = match map.get("validity_days") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    super::fields::whole_number(v)
                        .filter(|d| *d > 0)
                        .ok_or_else(|| field("generate.validity_days", "a whole number of days"))?,
                ),
            };
            Ok(Generate { algorithm, days })
        }
        _ => Err(field(GENERATE, SHAPE)),
    }
}

/// Whether a request body asks for generated material (a JSON object with
/// a `generate` field). Anything else goes the upload way.
pub fn wants_generate(body: &[u8]) -> bool {
    serde_json::from_slice::<Map<String, Value>>(body)
        .map(|m| m.contains_key(GENERATE))
        .unwrap_or(false)
}

/// The SAP-style `certificatedetails`.
#[derive(Debug, Serialize)]
pub struct CertificateDetails {
    /// Issuer distinguished name.
    pub issuerdn: String,
    /// Subject distinguished name.
    pub subjectdn: String,
    /// End of validity, RFC 3339.
    pub validuntil: String,
    /// Serial number, hex.
    pub serialnumber: String,
}

/// A service key: everything a client needs, in one JSON document. SAP's
/// names first, flowgate's after.
#[derive(Serialize)]
pub struct ServiceKey {
    /// The OAuth client id (the account id).
    pub clientid: String,
    /// The authorizer's base URL.
    pub url: String,
    /// The token endpoint.
    pub tokenurl: String,
    /// `x509` for a certificate, `private_key_jwt` for a bare key.
    #[serde(rename = "credential-type")]
    pub credential_kind: &'static str,
    /// The client certificate then the CA certificate, PEM (`mtls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The private key, PKCS#8 PEM: shown here once.
    pub key: String,
    /// Certificate details (`mtls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificatedetails: Option<CertificateDetails>,
    /// flowgate: the account's id.
    pub account_id: String,
    /// flowgate: the account's name.
    pub account_name: String,
    /// flowgate: `mtls` or `private_key_jwt`.
    pub credential_type: &'static str,
    /// flowgate: the OAuth client id (as `clientid`).
    pub client_id: String,
    /// flowgate: how to authenticate at `tokenurl`.
    pub token_endpoint_auth_method: &'static str,
    /// flowgate: the key algorithm (`ES256`, `EdDSA`).
    pub algorithm: &'static str,
    /// flowgate: the key id to put in assertions' `kid` (`private_key_jwt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// flowgate: the public key, PEM (`private_key_jwt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// flowgate: the certificate's RFC 8705 thumbprint (`mtls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    /// flowgate: start of validity, Unix seconds (`mtls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<u64>,
    /// flowgate: end of validity, Unix seconds (`mtls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<u64>,
    /// flowgate: the CA certificate alone, PEM (`mtls`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<String>,
}

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceKey")
            .field("clientid", &self.clientid)
            .field("key", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// An operation's answer with a generated credential: the account and the
/// service key (once), and what the audit log records of the issuance.
#[derive(Debug, Serialize)]
pub struct Generated {
    /// The account, as after an upload.
    #[serde(flatten)]
    pub account: AccountView,
    /// The service key: in this response and nowhere else.
    pub service_key: ServiceKey,
    /// For the audit log: serial, thumbprint, validity, algorithm, key id.
    /// Never the key.
    #[serde(skip)]
    pub issuance: Value,
}

/// What was made for one account.
enum Made {
    Certificate(Issued, String),
    Key {
        private: String,
        public: String,
        kid: String,
        algorithm: Algorithm,
    },
}

impl Made {
    fn issuance(&self) -> Value {
        match self {
            Self::Certificate(issued, _) => certificate_issuance(&issued.details, issued.algorithm),
            Self::Key { kid, algorithm, .. } => json!({
                "key_id": kid,
                "algorithm": algorithm.as_str(),
            }),
        }
    }

    fn service_key(self, account: &AccountView, urls: &ServiceUrls) -> ServiceKey {
        let mut key = ServiceKey {
            clientid: account.id.clone(),
            url: urls.url.clone(),
            tokenurl: urls.token_url.clone(),
            credential_kind: "x509",
            certificate: None,
            key: String::new(),
            certificatedetails: None,
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            credential_type: CredentialType::Mtls.as_str(),
            client_id: account.id.clone(),
            token_endpoint_auth_method: "tls_client_auth",
            algorithm: Algorithm::Es256.as_str(),
            key_id: None,
            public_key: None,
            thumbprint: None,
            not_before: None,
            not_after: None,
            ca_certificate: None,
        };
        match self {
            Self::Certificate(issued, ca_pem) => {
                let d = &issued.details;
                key.certificatedetails = Some(CertificateDetails {
                    issuerdn: d.issuer.clone(),
                    subjectdn: d.subject.clone(),
                    validuntil: rfc3339(d.not_after),
                    serialnumber: d.serial.clone(),
                });
                key.thumbprint = Some(d.thumbprint.clone());
                key.not_before = Some(d.not_before);
                key.not_after = Some(d.not_after);
                key.algorithm = issued.algorithm.as_str();
                key.certificate = Some(format!("{}{}", issued.certificate_pem, ca_pem));
                key.ca_certificate = Some(ca_pem);
                key.key = issued.private_key_pem;
            }
            Self::Key {
                private,
                public,
                kid,
                algorithm,
            } => {
                key.credential_kind = "private_key_jwt";
                key.credential_type = CredentialType::PrivateKeyJwt.as_str();
                key.token_endpoint_auth_method = "private_key_jwt";
                key.algorithm = algorithm.as_str();
                key.key_id = Some(kid);
                key.public_key = Some(public);
                key.key = private;
            }
        }
        key
    }
}

/// What the audit log records of an issued certificate.
fn certificate_issuance(d: &StoredCertificate, algorithm: Algorithm) -> Value {
    json!({
        "serial": d.serial,
        "thumbprint": d.thumbprint,
        "subject": d.subject,
        "not_before": d.not_before,
        "not_after": d.not_after,
        "algorithm": algorithm.as_str(),
    })
}

/// Unix seconds as RFC 3339 (`2026-03-01T12:00:00Z`).
fn rfc3339(unix: u64) -> String {
    x509_cert::der::DateTime::from_unix_duration(std::time::Duration::from_secs(unix))
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// A CA problem as an admin error: not configured is the caller's `409`
/// (generation is switched off here), a bad configuration is `503`, a
/// validity out of range is `400` naming the field.
fn ca_error(e: PkiError) -> AdminError {
    match e {
        PkiError::NotConfigured => super::credentials::conflict(e.to_string()),
        PkiError::Validity(_) => field("generate.validity_days", e.to_string()),
        other => AdminError::Store(crate::store::StoreError(other.to_string())),
    }
}

impl Admin<'_> {
    /// Makes the material `generate` asks for, for an account of
    /// `credential_type` named `name`.
    fn make(
        &self,
        credential_type: CredentialType,
        name: &str,
        generate: Generate,
        ca: &CaSource<'_>,
    ) -> Result<Made, AdminError> {
        match credential_type {
            CredentialType::Mtls => {
                let ca = ca().map_err(ca_error)?;
                let request = IssueRequest {
                    account_name: name,
                    algorithm: generate.algorithm,
                    days: generate.days,
                };
                let issued = ca
                    .issue(&request, self.random, self.clock.now())
                    .map_err(ca_error)?;
                let ca_pem = ca.certificate_pem().map_err(ca_error)?;
                Ok(Made::Certificate(issued, ca_pem))
            }
            CredentialType::PrivateKeyJwt => {
                if generate.days.is_some() {
                    return Err(field(
                        "generate.validity_days",
                        "private_key_jwt keys have no certificate; rotate them instead",
                    ));
                }
                let (private, public) =
                    crate::pki::generate_key_pair(generate.algorithm, self.random)
                        .map_err(ca_error)?;
                let kid = key_id(&public);
                Ok(Made::Key {
                    private,
                    public,
                    kid,
                    algorithm: generate.algorithm,
                })
            }
            other => Err(field(
                GENERATE,
                format!(
                    "only mtls and private_key_jwt accounts can be generated; this one is `{}`",
                    other.as_str()
                ),
            )),
        }
    }

    /// `POST /admin/v1/accounts` with `generate`: creates the account as an
    /// upload of the generated material would, then answers with the
    /// service key.
    pub fn create_generated(
        &self,
        body: &[u8],
        fetch: &Fetch<'_>,
        ca: &CaSource<'_>,
        urls: &ServiceUrls,
    ) -> Result<Generated, AdminError> {
        let Value::Object(mut map) = serde_json::from_slice(body).map_err(|_| AdminError::Body)?
        else {
            return Err(AdminError::Body);
        };
        let generate = parse_generate(map.get(GENERATE).unwrap_or(&Value::Null))?;
        map.remove(GENERATE);
        refuse_material(&map)?;
        let name = match map.get("name") {
            Some(Value::String(n)) if super::is_account_name(n) => n.clone(),
            Some(Value::String(_)) => {
                return Err(field(
                    "name",
                    "1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
                ));
            }
            None | Some(Value::Null) => return Err(field("name", "required")),
            Some(_) => return Err(field("name", "must be a string")),
        };
        let credential_type = match map.get("credential_type") {
            Some(Value::String(t)) => CredentialType::parse(t),
            _ => None,
        }
        .ok_or_else(|| field("credential_type", "mtls or private_key_jwt with generate"))?;
        let made = self.make(credential_type, &name, generate, ca)?;
        made.fill(&mut map);
        let WithSecret { account, .. } = self.create_account_with(&body_of(&map)?, fetch)?;
        Ok(made.answer(account, urls))
    }

    /// `POST .../certificates` or `POST .../keys` with `generate`: adds a
    /// generated credential beside the current ones (rotation with overlap;
    /// remove the old one when the client has switched).
    pub fn add_generated(
        &self,
        id: &str,
        body: &[u8],
        ca: &CaSource<'_>,
        urls: &ServiceUrls,
    ) -> Result<Generated, AdminError> {
        let generate = generate_only(body, &[])?;
        let record = self.record(id)?;
        let made = self.make(
            record.account.credential_type,
            &record.account.name,
            generate,
            ca,
        )?;
        let mut map = Map::new();
        made.fill(&mut map);
        let (account, _) = match made {
            Made::Certificate(..) => self.add_certificate(id, &body_of(&map)?)?,
            Made::Key { .. } => self.add_public_key(id, &body_of(&map)?)?,
        };
        Ok(made.answer(account, urls))
    }

    /// `POST .../reset-credential` with `generate` on an `mtls` or
    /// `private_key_jwt` account: a generated credential replaces every
    /// current one at once (for an overlap, add one and remove the old one
    /// later instead). The new one is added first, so that an interruption
    /// leaves the account with both rather than with none.
    pub fn reset_generated(
        &self,
        id: &str,
        body: &[u8],
        ca: &CaSource<'_>,
        urls: &ServiceUrls,
    ) -> Result<Generated, AdminError> {
        generate_only(body, &["grace_seconds"])?;
        let before = self.record(id)?.account;
        let mut generated = self.add_generated(id, body, ca, urls)?;
        if before.credential_type == CredentialType::Mtls {
            for old in &before.certificates {
                self.remove_certificate(id, &old.thumbprint)?;
            }
        } else {
            for old in &before.public_keys {
                self.remove_public_key(id, &old.kid)?;
            }
        }
        let view = self.record(id)?;
        generated.account = AccountView::from(&view);
        Ok(generated)
    }
}

impl Made {
    /// Puts the generated public material into a request body, as an upload
    /// would carry it.
    fn fill(&self, map: &mut Map<String, Value>) {
        match self {
            Self::Certificate(issued, _) => {
                map.insert(
                    "certificate".into(),
                    Value::from(issued.certificate_pem.as_str()),
                );
            }
            Self::Key { public, kid, .. } => {
                map.insert("public_key".into(), Value::from(public.as_str()));
                map.insert("key_id".into(), Value::from(kid.as_str()));
            }
        }
    }

    fn answer(self, account: AccountView, urls: &ServiceUrls) -> Generated {
        let issuance = self.issuance();
        let service_key = self.service_key(&account, urls);
        Generated {
            account,
            service_key,
            issuance,
        }
    }
}

/// The body of an add or reset with `generate`: only `generate` (and
/// `allowed`, which generated material refuses with a reason).
fn generate_only(body: &[u8], allowed: &[&str]) -> Result<Generate, AdminError> {
    let Value::Object(map) = serde_json::from_slice(body).map_err(|_| AdminError::Body)? else {
        return Err(AdminError::Body);
    };
    // `generate` itself first: a request that is wrong there is named there.
    let generate = parse_generate(map.get(GENERATE).unwrap_or(&Value::Null))?;
    for key in map.keys() {
        if key == GENERATE {
            continue;
        }
        if allowed.contains(&key.as_str()) {
            return Err(field(
                key,
                "not with generate: a generated credential replaces the old ones at once; for an overlap, add a generated one (POST .../certificates or .../keys) and remove the old one later",
            ));
        }
        refuse_material(&map)?;
        return Err(field(key, "unknown field"));
    }
    Ok(generate)
}

/// Refuses uploaded material beside `generate`.
fn refuse_material(map: &Map<String, Value>) -> Result<(), AdminError> {
    for name in ["certificate", "public_key", "key_id"] {
        if map.contains_key(name) {
            return Err(field(
                name,
                "give either generate or uploaded material, not both",
            ));
        }
    }
    Ok(())
}

fn body_of(map: &Map<String, Value>) -> Result<Vec<u8>, AdminError> {
    serde_json::to_vec(map).map_err(|_| AdminError::Body)
}

/// The key id of a generated public key: `gen-` and 16 characters of the
/// base64url SHA-256 of its PEM, so that it is stable and unique per key.
fn key_id(public_pem: &str) -> String {
    use base64::Engine as _;
    let digest = Sha256::digest(public_pem.as_bytes());
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    format!("gen-{}", &text[..16])
}
