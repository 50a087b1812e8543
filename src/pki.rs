//! flowgate's own client-certificate authority: the signing CA read from
//! Spin variables, and the issuance of a fresh key pair with a client
//! certificate for an `mtls` account (or a bare key pair for a
//! `private_key_jwt` account). Pure: randomness and time come in as
//! arguments. See docs/service-keys.md.
//!
//! The private key of an issued credential leaves this module once, inside
//! [`Issued`], whose `Debug` hides it; callers put it in one response and
//! drop it. Nothing here stores or logs anything.

use std::str::FromStr as _;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use sha2::{Digest as _, Sha256};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder as _, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{DateTime, DecodePem as _, Encode as _, EncodePem as _};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{EncodePublicKey as _, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

use crate::account::StoredCertificate;
use crate::env::Random;

/// Spin variable holding the CA's private key (PKCS#8, PEM or base64 DER;
/// P-256 or Ed25519). Secret; read by the management component only.
pub const CA_KEY_VARIABLE: &str = "ca_key";
/// Spin variable holding the CA's certificate (PEM), when it is not the
/// stable self-signed one flowgate derives from the key. Not secret.
pub const CA_CERTIFICATE_VARIABLE: &str = "ca_certificate";
/// Spin variable holding the longest validity of an issued certificate, in
/// days (1 to 3650).
pub const MAX_VALIDITY_VARIABLE: &str = "client_certificate_max_days";
/// The longest validity when the variable is unset: one year.
pub const DEFAULT_MAX_DAYS: u64 = 365;
/// The validity of a certificate when the request names none: 90 days,
/// capped by the configured maximum.
pub const DEFAULT_DAYS: u64 = 90;
/// Issued certificates start this long before issuance, so that a client
/// whose clock runs slightly behind can use one at once.
const BACKDATE_SECONDS: u64 = 300;
/// Subject of the self-signed CA certificate derived from the key.
const CA_SUBJECT: &str = "CN=flowgate client CA,O=flowgate";
/// Start of the derived CA certificate's validity: 2025-01-01T00:00:00Z. A
/// constant, so that every host derives the same certificate from the key.
const CA_NOT_BEFORE: u64 = 1_735_689_600;
/// DER of an Ed25519 PKCS#8 v1 `PrivateKeyInfo` up to the 32-byte seed:
/// SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 }, OCTET STRING {
/// OCTET STRING (32 bytes) } } (RFC 8410 section 7).
const ED25519_PKCS8_V1_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
/// `id-kp-clientAuth` (RFC 5280 4.2.1.12).
const CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");

/// Why the CA cannot be used or a credential cannot be issued. Every variant
/// is a system fault (configuration), except [`PkiError::Validity`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The `ca_key` variable is empty: generation is switched off.
    #[error("flowgate's signing CA is not configured: set the Spin variable `ca_key`")]
    NotConfigured,
    /// The `ca_key` variable holds no usable key.
    #[error("the Spin variable `ca_key` is not a PKCS#8 P-256 or Ed25519 private key")]
    BadKey,
    /// The `ca_certificate` variable is unusable or does not match the key.
    #[error("the Spin variable `ca_certificate`: {0}")]
    BadCertificate(String),
    /// The maximum validity variable is not a number of days in range.
    #[error("the Spin variable `client_certificate_max_days` must be 1 to 3650")]
    BadMaximum,
    /// The requested validity is out of range (a caller fault).
    #[error("validity_days must be 1 to {0}")]
    Validity(u64),
    /// Building or encoding a certificate or key failed.
    #[error("certificate issuance failed: {0}")]
    Build(String),
}

/// The key algorithm of a generated credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256: the default, understood by every TLS
    /// stack and JOSE library clients are likely to use.
    #[default]
    Es256,
    /// Ed25519.
    EdDsa,
}

impl Algorithm {
    /// The JOSE name (`ES256`, `EdDSA`), also used in requests.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Parses the JOSE name.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ES256" => Some(Self::Es256),
            "EdDSA" => Some(Self::EdDsa),
            _ => None,
        }
    }
}

/// A private key of one of the supported algorithms.
enum SigningKey {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl SigningKey {
    /// A fresh key from the CSPRNG. (The key types wipe themselves when
    /// dropped; the seed buffer is wiped here.)
    fn generate(algorithm: Algorithm, random: &dyn Random) -> Self {
        let mut seed = [0u8; 32];
        let key = match algorithm {
            Algorithm::EdDsa => {
                random.fill(&mut seed);
                Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
            Algorithm::Es256 => loop {
                // A 32-byte string is a valid P-256 scalar unless it is zero
                // or not below the group order (probability about 2^-32).
                random.fill(&mut seed);
                if let Ok(key) = p256::ecdsa::SigningKey::from_slice(&seed) {
                    break Self::P256(key);
                }
            },
        };
        seed.fill(0);
        std::hint::black_box(&seed);
        key
    }

    /// Parses PKCS#8 DER.
    fn from_pkcs8(der: &[u8]) -> Result<Self, PkiError> {
        if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
            return Ok(Self::P256(key));
        }
        ed25519_dalek::SigningKey::from_pkcs8_der(der)
            .map(Self::Ed25519)
            .map_err(|_| PkiError::BadKey)
    }

    fn algorithm(&self) -> Algorithm {
        match self {
            Self::P256(_) => Algorithm::Es256,
            Self::Ed25519(_) => Algorithm::EdDsa,
        }
    }

    fn public_key(&self) -> Result<SubjectPublicKeyInfoOwned, PkiError> {
        let der = match self {
            Self::P256(k) => k.verifying_key().to_public_key_der(),
            Self::Ed25519(k) => k.verifying_key().to_public_key_der(),
        }
        .map_err(|e| PkiError::Build(e.to_string()))?;
        SubjectPublicKeyInfoOwned::try_from(der.as_bytes())
            .map_err(|e| PkiError::Build(e.to_string()))
    }

    /// PKCS#8 PEM of the private key. Ed25519 keys are written as PKCS#8
    /// version 1 (RFC 8410 section 7, the form `openssl genpkey` writes):
    /// the version 2 form with the public key, which ed25519-dalek writes,
    /// is refused by OpenSSL 3 and by jwt-simple.
    fn to_pem(&self) -> Result<String, PkiError> {
        let pem = match self {
            Self::P256(k) => k
                .to_pkcs8_pem(LineEnding::LF)
                .map(|pem| pem.as_str().to_owned())
                .map_err(|e| PkiError::Build(e.to_string()))?,
            Self::Ed25519(k) => {
                let mut der = Vec::with_capacity(48);
                der.extend_from_slice(&ED25519_PKCS8_V1_PREFIX);
                der.extend_from_slice(k.as_bytes());
                let pem = x509_cert::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &der);
                der.fill(0);
                std::hint::black_box(&der);
                pem.map_err(|e| PkiError::Build(e.to_string()))?
            }
        };
        Ok(pem)
    }

    /// Signs `builder`'s certificate.
    fn sign<P: BuilderProfile>(
        &self,
        builder: CertificateBuilder<P>,
    ) -> Result<Certificate, PkiError> {
        match self {
            Self::P256(k) => builder.build::<_, p256::ecdsa::DerSignature>(k),
            Self::Ed25519(k) => builder.build::<_, ed25519_dalek::Signature>(k),
        }
        .map_err(|e| PkiError::Build(e.to_string()))
    }
}

/// The profile of flowgate's self-signed CA certificate.
struct CaProfile(Name);

impl BuilderProfile for CaProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }
    fn get_subject(&self) -> Name {
        self.0.clone()
    }
    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut out = Vec::new();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        let constraints = BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        };
        let usage = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign);
        out.push((&constraints).to_extension(tbs.subject(), &out)?);
        out.push((&usage).to_extension(tbs.subject(), &out)?);
        out.push((&ski).to_extension(tbs.subject(), &out)?);
        Ok(out)
    }
}

/// The profile of an issued client certificate.
struct ClientProfile {
    subject: Name,
    issuer: Name,
}

impl BuilderProfile for ClientProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut out = Vec::new();
        let constraints = BasicConstraints {
            ca: false,
            path_len_constraint: None,
        };
        let usage = KeyUsage(KeyUsages::DigitalSignature.into());
        let extended = ExtendedKeyUsage(vec![CLIENT_AUTH]);
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(SubjectKeyIdentifier::try_from(issuer_spk)?.0),
            ..Default::default()
        };
        out.push((&constraints).to_extension(tbs.subject(), &out)?);
        out.push((&usage).to_extension(tbs.subject(), &out)?);
        out.push((&extended).to_extension(tbs.subject(), &out)?);
        out.push((&ski).to_extension(tbs.subject(), &out)?);
        out.push((&aki).to_extension(tbs.subject(), &out)?);
        Ok(out)
    }
}

/// flowgate's signing CA.
pub struct Ca {
    key: SigningKey,
    certificate: Certificate,
    /// Longest validity of an issued certificate, in days.
    max_days: u64,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("algorithm", &self.key.algorithm())
            .field("max_days", &self.max_days)
            .finish_non_exhaustive()
    }
}

/// Decodes the text of a key variable: PEM, or base64 (standard or URL-safe,
/// padded or not) of the DER.
fn key_der(text: &str) -> Result<Vec<u8>, PkiError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        let (label, der) =
            x509_cert::der::pem::decode_vec(text.as_bytes()).map_err(|_| PkiError::BadKey)?;
        if label != "PRIVATE KEY" {
            return Err(PkiError::BadKey);
        }
        return Ok(der);
    }
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD
        .decode(&compact)
        .or_else(|_| URL_SAFE.decode(&compact))
        .or_else(|_| URL_SAFE_NO_PAD.decode(compact.trim_end_matches('=')))
        .map_err(|_| PkiError::BadKey)
}

/// A time as X.509 `Time` (UTCTime before 2050, GeneralizedTime after).
fn x509_time(unix: u64) -> Result<Time, PkiError> {
    DateTime::from_unix_duration(Duration::from_secs(unix))
        .map(Time::from)
        .map_err(|e| PkiError::Build(e.to_string()))
}

/// A random positive serial of 16 bytes (RFC 5280: at most 20; CA/B
/// Forum: at least 64 random bits).
fn random_serial(random: &dyn Random) -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    random.fill(&mut bytes);
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::new(&bytes).map_err(|e| PkiError::Build(e.to_string()))
}

impl Ca {
    /// The CA from the values of its variables: `key` (required; empty
    /// means generation is off), `certificate` (optional PEM; empty means
    /// the stable self-signed certificate derived from the key) and
    /// `max_days` (empty means [`DEFAULT_MAX_DAYS`]).
    pub fn from_variables(key: &str, certificate: &str, max_days: &str) -> Result<Self, PkiError> {
        if key.trim().is_empty() {
            return Err(PkiError::NotConfigured);
        }
        let key = SigningKey::from_pkcs8(&key_der(key)?)?;
        let max_days = match max_days.trim() {
            "" => DEFAULT_MAX_DAYS,
            text => text
                .parse::<u64>()
                .ok()
                .filter(|d| (1..=3650).contains(d))
                .ok_or(PkiError::BadMaximum)?,
        };
        let certificate = if certificate.trim().is_empty() {
            Self::self_signed(&key)?
        } else {
            let cert = Certificate::from_pem(certificate.trim().as_bytes())
                .map_err(|e| PkiError::BadCertificate(e.to_string()))?;
            let public = key.public_key()?;
            if cert.tbs_certificate().subject_public_key_info() != &public {
                return Err(PkiError::BadCertificate(
                    "its public key is not the one of `ca_key`".into(),
                ));
            }
            cert
        };
        Ok(Self {
            key,
            certificate,
            max_days,
        })
    }

    /// The stable self-signed certificate of `key`: fixed subject and
    /// validity, serial from the key's hash, and a deterministic signature
    /// (RFC 6979 for P-256; Ed25519 is deterministic), so that every host
    /// and every restart derives the same bytes.
    fn self_signed(key: &SigningKey) -> Result<Certificate, PkiError> {
        let public = key.public_key()?;
        let spki = public
            .to_der()
            .map_err(|e| PkiError::Build(e.to_string()))?;
        let mut serial = [0u8; 16];
        serial.copy_from_slice(&Sha256::digest(&spki)[..16]);
        serial[0] = (serial[0] & 0x7f) | 0x40;
        let serial = SerialNumber::new(&serial).map_err(|e| PkiError::Build(e.to_string()))?;
        // RFC 5280 4.1.2.5: 99991231235959Z means "no well-defined end".
        let not_after =
            Time::from_str("9999-12-31T23:59:59Z").map_err(|e| PkiError::Build(e.to_string()))?;
        let validity = Validity::new(x509_time(CA_NOT_BEFORE)?, not_after);
        let subject = Name::from_str(CA_SUBJECT).map_err(|e| PkiError::Build(e.to_string()))?;
        let builder = CertificateBuilder::new(CaProfile(subject), serial, validity, public)
            .map_err(|e| PkiError::Build(e.to_string()))?;
        key.sign(builder)
    }

    /// The CA certificate in PEM, for the TLS-terminating proxy's trust
    /// store.
    pub fn certificate_pem(&self) -> Result<String, PkiError> {
        self.certificate
            .to_pem(LineEnding::LF)
            .map_err(|e| PkiError::Build(e.to_string()))
    }

    /// The longest validity of an issued certificate, in days.
    pub fn max_days(&self) -> u64 {
        self.max_days
    }

    /// Issues a fresh key pair and a client certificate whose common name
    /// is the account's name, valid from shortly before `now` for the
    /// requested days (default [`DEFAULT_DAYS`], at most the maximum).
    pub fn issue(
        &self,
        request: &IssueRequest<'_>,
        random: &dyn Random,
        now: u64,
    ) -> Result<Issued, PkiError> {
        let days = request.days.unwrap_or(DEFAULT_DAYS.min(self.max_days));
        if days == 0 || days > self.max_days {
            return Err(PkiError::Validity(self.max_days));
        }
        let key = SigningKey::generate(request.algorithm, random);
        let public = key.public_key()?;
        // Account names are [A-Za-z0-9._-]: nothing to escape.
        let subject = Name::from_str(&format!("CN={},O=flowgate", request.account_name))
            .map_err(|e| PkiError::Build(e.to_string()))?;
        let not_before = now.saturating_sub(BACKDATE_SECONDS);
        let not_after = now + days * 86_400;
        let validity = Validity::new(x509_time(not_before)?, x509_time(not_after)?);
        let profile = ClientProfile {
            subject,
            issuer: self.certificate.tbs_certificate().subject().clone(),
        };
        let builder = CertificateBuilder::new(profile, random_serial(random)?, validity, public)
            .map_err(|e| PkiError::Build(e.to_string()))?;
        let certificate = self.key.sign(builder)?;
        let pem = certificate
            .to_pem(LineEnding::LF)
            .map_err(|e| PkiError::Build(e.to_string()))?;
        let details = crate::certificate::inspect_pem(&pem, now)
            .map_err(|e| PkiError::Build(e.to_string()))?;
        Ok(Issued {
            certificate_pem: pem,
            private_key_pem: key.to_pem()?,
            details,
            algorithm: request.algorithm,
        })
    }
}

/// What to issue.
#[derive(Debug, Clone, Copy)]
pub struct IssueRequest<'a> {
    /// The account's name: the certificate's common name.
    pub account_name: &'a str,
    /// Key algorithm.
    pub algorithm: Algorithm,
    /// Validity in days; `None` for the default.
    pub days: Option<u64>,
}

/// An issued client certificate with its private key.
pub struct Issued {
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The private key, PKCS#8 PEM: for one response only.
    pub private_key_pem: String,
    /// What the account stores: thumbprint and details.
    pub details: StoredCertificate,
    /// The key algorithm.
    pub algorithm: Algorithm,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issued")
            .field("details", &self.details)
            .field("private_key_pem", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A fresh key pair for a `private_key_jwt` account: the private key as
/// PKCS#8 PEM (for one response only) and the public key as SPKI PEM (to be
/// registered like an uploaded one).
pub fn generate_key_pair(
    algorithm: Algorithm,
    random: &dyn Random,
) -> Result<(String, String), PkiError> {
    let key = SigningKey::generate(algorithm, random);
    let public = key
        .public_key()?
        .to_pem(LineEnding::LF)
        .map_err(|e| PkiError::Build(e.to_string()))?;
    Ok((key.to_pem()?, public))
}

#[cfg(test)]
mod tests;
