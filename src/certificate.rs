//! Client certificates: inspecting one before it is registered, and reading
//! the one a TLS-terminating proxy forwards.
//!
//! Forwarded formats (exactly one header, once):
//! - RFC 9440 `Client-Cert: :<base64 DER>:`;
//! - Envoy `X-Forwarded-Client-Cert: Hash=<hex>;Cert="<url-encoded PEM>";...`
//!   with a single element (a chain of proxies is refused, not guessed);
//! - nginx `X-SSL-Client-Cert: <url-encoded PEM>` (`$ssl_client_escaped_cert`).
//!
//! A forwarded certificate is only believed when the request also carries the
//! proxy's shared token; see docs/decisions.md.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, DecodePem as _};

use crate::account::StoredCertificate;

/// Largest certificate accepted, PEM or DER.
pub const MAX_CERT_LEN: usize = 16 * 1024;

/// The header names a proxy may forward a client certificate in.
pub const HEADERS: [&str; 3] = [
    "client-cert",
    "x-forwarded-client-cert",
    "x-ssl-client-cert",
];

/// Why a certificate is refused. The message is for the administrator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertError {
    /// Not a PEM `CERTIFICATE` or not parsable X.509.
    #[error("not a PEM-encoded X.509 certificate: {0}")]
    Unparsable(String),
    /// Validity ended.
    #[error("the certificate expired at {0} (Unix time)")]
    Expired(u64),
    /// Validity not yet begun.
    #[error("the certificate is not valid before {0} (Unix time)")]
    NotYetValid(u64),
    /// Too large.
    #[error("the certificate is larger than {MAX_CERT_LEN} bytes")]
    TooLarge,
}

/// The RFC 8705 `x5t#S256` thumbprint of a DER certificate.
pub fn thumbprint(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

/// Parses and checks a PEM certificate for registration at `now`.
pub fn inspect_pem(pem: &str, now: u64) -> Result<StoredCertificate, CertError> {
    if pem.len() > MAX_CERT_LEN {
        return Err(CertError::TooLarge);
    }
    let cert = Certificate::from_pem(pem.trim().as_bytes())
        .map_err(|e| CertError::Unparsable(e.to_string()))?;
    let der =
        x509_cert::der::Encode::to_der(&cert).map_err(|e| CertError::Unparsable(e.to_string()))?;
    let tbs = cert.tbs_certificate();
    let validity = tbs.validity();
    let not_before = validity.not_before.to_unix_duration().as_secs();
    let not_after = validity.not_after.to_unix_duration().as_secs();
    if now >= not_after {
        return Err(CertError::Expired(not_after));
    }
    if now < not_before {
        return Err(CertError::NotYetValid(not_before));
    }
    let serial: String = tbs
        .serial_number()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(StoredCertificate {
        thumbprint: thumbprint(&der),
        subject: tbs.subject().to_string(),
        issuer: tbs.issuer().to_string(),
        serial,
        not_before,
        not_after,
        added_at: now,
    })
}

/// Why a forwarded certificate header cannot be used. All are `401`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardedError {
    /// More than one certificate header, or a chain of several proxies.
    #[error("more than one forwarded certificate")]
    Ambiguous,
    /// The header value cannot be decoded.
    #[error("malformed forwarded certificate")]
    Malformed,
    /// Envoy's `Hash` does not match its `Cert`.
    #[error("forwarded certificate hash mismatch")]
    HashMismatch,
}

/// Whether any header names a forwarded client certificate (trusted or
/// not). A request that also carries a credential header presents two
/// credentials, which are refused rather than chosen between (issue 18);
/// presence alone decides, so this costs no parsing and no store read.
pub fn is_forwarded<'a, I>(headers: I) -> bool
where
    I: IntoIterator<Item = &'a str>,
{
    headers
        .into_iter()
        .any(|name| HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h)))
}

/// The thumbprint of the certificate a proxy forwarded, if any header
/// carries one. Does not decide whether the proxy is trusted.
pub fn forwarded_thumbprint<'a, I>(headers: I) -> Result<Option<String>, ForwardedError>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    let mut found: Option<(usize, &'a [u8])> = None;
    for (name, value) in headers {
        let Some(kind) = HEADERS.iter().position(|h| name.eq_ignore_ascii_case(h)) else {
            continue;
        };
        if found.is_some() {
            return Err(ForwardedError::Ambiguous);
        }
        found = Some((kind, value));
    }
    let Some((kind, value)) = found else {
        return Ok(None);
    };
    if value.len() > 4 * MAX_CERT_LEN {
        return Err(ForwardedError::Malformed);
    }
    let value = std::str::from_utf8(value)
        .map_err(|_| ForwardedError::Malformed)?
        .trim();
    let thumb = match kind {
        0 => {
            let b64 = value
                .strip_prefix(':')
                .and_then(|v| v.strip_suffix(':'))
                .ok_or(ForwardedError::Malformed)?;
            thumbprint(
                &STANDARD
                    .decode(b64)
                    .map_err(|_| ForwardedError::Malformed)?,
            )
        }
        1 => envoy_thumbprint(value)?,
        _ => thumbprint(&pem_to_der(&percent_decode(value)?)?),
    };
    Ok(Some(thumb))
}

fn envoy_thumbprint(value: &str) -> Result<String, ForwardedError> {
    if value.contains(',') && !value.contains('"') {
        return Err(ForwardedError::Ambiguous);
    }
    let mut hash = None;
    let mut cert = None;
    let mut rest = value;
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=').ok_or(ForwardedError::Malformed)?;
        let (val, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"').ok_or(ForwardedError::Malformed)?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find([';', ',']).unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "hash" => hash = Some(val),
            "cert" => cert = Some(val),
            _ => {}
        }
        rest = match after.chars().next() {
            Some(';') => &after[1..],
            Some(',') => return Err(ForwardedError::Ambiguous),
            Some(_) => return Err(ForwardedError::Malformed),
            None => "",
        };
    }
    let from_cert = match cert {
        Some(c) => Some(thumbprint(&pem_to_der(&percent_decode(c)?)?)),
        None => None,
    };
    let from_hash = match hash {
        Some(h) => Some(URL_SAFE_NO_PAD.encode(hex_decode(h)?)),
        None => None,
    };
    match (from_cert, from_hash) {
        (Some(c), Some(h)) if c != h => Err(ForwardedError::HashMismatch),
        (Some(c), _) => Ok(c),
        (None, Some(h)) => Ok(h),
        (None, None) => Err(ForwardedError::Malformed),
    }
}

fn hex_decode(hex: &str) -> Result<Vec<u8>, ForwardedError> {
    // Checked byte-wise first: slicing non-ASCII text by byte offsets could
    // split a character (found by the forwarded_certificate fuzz target).
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ForwardedError::Malformed);
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| ForwardedError::Malformed))
        .collect()
}

fn percent_decode(s: &str) -> Result<String, ForwardedError> {
    crate::encoding::percent_decode(s, false).ok_or(ForwardedError::Malformed)
}

/// The DER of a single PEM `CERTIFICATE` block, checked to be X.509.
fn pem_to_der(pem: &str) -> Result<Vec<u8>, ForwardedError> {
    let cert =
        Certificate::from_pem(pem.trim().as_bytes()).map_err(|_| ForwardedError::Malformed)?;
    x509_cert::der::Encode::to_der(&cert).map_err(|_| ForwardedError::Malformed)
}

/// Parses DER, for callers that have it already (tests, RFC 9440).
pub fn is_certificate(der: &[u8]) -> bool {
    Certificate::from_der(der).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoy_hash_with_multibyte_text_is_malformed_not_a_panic() {
        // Regression: found by the forwarded_certificate fuzz target.
        let value = format!("Hash={}", "\u{f7d}".repeat(21) + "a");
        assert_eq!(value.len() - 5, 64);
        assert_eq!(
            forwarded_thumbprint([("x-forwarded-client-cert", value.as_bytes())]),
            Err(ForwardedError::Malformed)
        );
    }

    #[test]
    fn one_header_once_or_refused() {
        let hash = "ab".repeat(32);
        let xfcc = format!("Hash={hash};Subject=\"CN=x\"");
        let ok = forwarded_thumbprint([("x-forwarded-client-cert", xfcc.as_bytes())]);
        assert_eq!(
            ok.as_ref().map(|t| t.as_ref().map(String::len)),
            Ok(Some(43))
        );
        assert_eq!(
            forwarded_thumbprint([
                ("client-cert", b":AAAA:".as_slice()),
                ("x-forwarded-client-cert", xfcc.as_bytes())
            ]),
            Err(ForwardedError::Ambiguous)
        );
        assert_eq!(
            forwarded_thumbprint([("x-forwarded-client-cert", b"By=a,By=b".as_slice())]),
            Err(ForwardedError::Ambiguous)
        );
        assert_eq!(
            forwarded_thumbprint([("client-cert", b"AAAA".as_slice())]),
            Err(ForwardedError::Malformed)
        );
        assert_eq!(forwarded_thumbprint([("other", b"x".as_slice())]), Ok(None));
    }
}
