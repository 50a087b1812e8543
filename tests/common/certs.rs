//! Client certificates for the mTLS tests: self-signed by a fresh key each
//! time (rcgen), and the forms in which a TLS-terminating proxy forwards one.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// A self-signed client certificate.
pub struct Certificate {
    /// PEM, as an account or a rotation request carries it.
    pub pem: String,
    /// DER, as the TLS layer saw it.
    pub der: Vec<u8>,
}

impl Certificate {
    /// The RFC 9440 `Client-Cert` header value: `:<base64 DER>:`.
    pub fn client_cert_header(&self) -> String {
        client_cert_header(&self.der)
    }

    /// The DER in standard base64, without the RFC 9440 colons.
    pub fn der_base64(&self) -> String {
        STANDARD.encode(&self.der)
    }
}

/// A certificate for `name`, valid from `not_before` to `not_after`
/// (year, month, day).
pub fn certificate_between(
    name: &str,
    not_before: (i32, u8, u8),
    not_after: (i32, u8, u8),
) -> Certificate {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec![name.into()]).expect("params");
    params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let cert = params.self_signed(&key).expect("self-signed");
    Certificate {
        pem: cert.pem(),
        der: cert.der().to_vec(),
    }
}

/// A certificate for `name`, valid from 2020 until the first day of `year`.
pub fn certificate_until(name: &str, year: i32) -> Certificate {
    certificate_between(name, (2020, 1, 1), (year, 1, 1))
}

/// A certificate for `name`, valid from 2020 to 2099.
pub fn certificate(name: &str) -> Certificate {
    certificate_until(name, 2099)
}

/// The RFC 9440 `Client-Cert` header value for a DER certificate.
pub fn client_cert_header(der: &[u8]) -> String {
    format!(":{}:", STANDARD.encode(der))
}

/// A fresh CA key for the `ca_key` variable (docs/service-keys.md): P-256,
/// PKCS#8 PEM.
pub fn ca_key() -> String {
    rcgen::KeyPair::generate().expect("key").serialize_pem()
}
