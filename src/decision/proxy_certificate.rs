//! Whether a forwarded client certificate comes from the trusted proxy.
//!
//! The TLS-terminating proxy forwards the client's certificate in a header
//! (`crate::certificate`) together with `X-Flowgate-Proxy-Token`, a secret
//! configured in both (the `trusted_proxy_token` variable). A certificate
//! header without exactly one matching proxy token is refused, not ignored: a
//! client that forges one is told no. The errors say who is at fault: the
//! caller (`401`) or the system, when the configured token cannot be read
//! (`503`, fail closed).

use crate::certificate::{ForwardedError, forwarded_thumbprint};
use crate::hash::{Domain, Pepper};

/// Name of the request header that carries the trusted proxy's token.
pub const PROXY_TOKEN_HEADER: &str = "x-flowgate-proxy-token";
/// Name of the variable holding the proxy's token.
pub const PROXY_TOKEN_VARIABLE: &str = "trusted_proxy_token";
/// Shortest proxy token accepted; shorter (or empty) means no trusted proxy
/// is configured.
pub const MIN_PROXY_TOKEN: usize = 16;

/// Why a forwarded certificate is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyCertError {
    /// The certificate header itself is unusable (caller's fault).
    #[error("{0}")]
    Forwarded(#[from] ForwardedError),
    /// A certificate header, but no trusted proxy is configured (caller's
    /// fault: only a configured proxy may send one).
    #[error("client certificate header, but no trusted proxy is configured")]
    NoTrustedProxy,
    /// No proxy token, or more than one (caller's fault).
    #[error("client certificate header without exactly one proxy token")]
    ProxyTokenCount,
    /// A proxy token that does not match (caller's fault).
    #[error("client certificate header with a wrong proxy token")]
    WrongProxyToken,
    /// The configured proxy token could not be read (system fault).
    #[error("trusted proxy token unreadable: {0}")]
    Unavailable(String),
}

impl ProxyCertError {
    /// Whether the system, not the caller, caused this: answer `503`.
    pub fn is_system_fault(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// The thumbprint of the client certificate the trusted proxy forwarded.
/// `Ok(None)`: no certificate header. `configured` reads the
/// `trusted_proxy_token` variable; it is called only when a certificate
/// header is present, so requests without one never read it.
pub fn trusted_certificate<'h, I, F>(
    headers: I,
    configured: F,
    pepper: &Pepper,
) -> Result<Option<String>, ProxyCertError>
where
    I: IntoIterator<Item = (&'h str, &'h [u8])> + Clone,
    F: FnOnce() -> Result<String, String>,
{
    let Some(thumbprint) = forwarded_thumbprint(headers.clone())? else {
        return Ok(None);
    };
    let configured = configured().map_err(ProxyCertError::Unavailable)?;
    match proxy_token(headers, &configured, pepper) {
        ProxyToken::Matches => Ok(Some(thumbprint)),
        ProxyToken::NotConfigured => Err(ProxyCertError::NoTrustedProxy),
        ProxyToken::NotOne => Err(ProxyCertError::ProxyTokenCount),
        ProxyToken::Wrong => Err(ProxyCertError::WrongProxyToken),
    }
}

/// What a request says about the trusted proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyToken {
    /// Exactly one proxy token, the configured one: the trusted proxy sent
    /// this request, so what it forwards is believed.
    Matches,
    /// No trusted proxy is configured (`configured` shorter than
    /// [`MIN_PROXY_TOKEN`]).
    NotConfigured,
    /// No proxy token, or more than one.
    NotOne,
    /// A proxy token that is not the configured one.
    Wrong,
}

/// Checks the request's proxy token against `configured` (the
/// `trusted_proxy_token` variable as read): the one rule that decides
/// whether what a proxy forwards (a client certificate here, a client
/// address for `crate::usage::allow_list`) is believed.
pub fn proxy_token<'h, I>(headers: I, configured: &str, pepper: &Pepper) -> ProxyToken
where
    I: IntoIterator<Item = (&'h str, &'h [u8])>,
{
    let configured = configured.trim();
    if configured.len() < MIN_PROXY_TOKEN {
        return ProxyToken::NotConfigured;
    }
    let mut presented = headers
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(PROXY_TOKEN_HEADER))
        .map(|(_, v)| v);
    let (Some(presented), None) = (presented.next(), presented.next()) else {
        return ProxyToken::NotOne;
    };
    // Compared as keyed digests: constant time, and the length is hidden.
    let presented = std::str::from_utf8(presented).unwrap_or_default();
    let expected = pepper.digest(Domain::ProxyToken, configured);
    if !pepper
        .digest(Domain::ProxyToken, presented.trim())
        .ct_eq(&expected)
    {
        return ProxyToken::Wrong;
    }
    ProxyToken::Matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    const TOKEN: &str = "proxy-token-of-the-test-0123";

    fn pepper() -> Pepper {
        Pepper::from_variable(&"ab".repeat(32)).expect("pepper")
    }

    /// A `Client-Cert` header (RFC 9440) of some DER-looking bytes: the
    /// thumbprint is taken of whatever bytes come, the proxy vouches for them.
    fn cert_header() -> String {
        let cert = rcgen::CertificateParams::new(vec!["c.test".into()])
            .expect("params")
            .self_signed(&rcgen::KeyPair::generate().expect("key"))
            .expect("cert");
        format!(":{}:", STANDARD.encode(cert.der()))
    }

    fn decide(
        headers: &[(&str, &str)],
        configured: Result<&str, &str>,
    ) -> Result<Option<String>, ProxyCertError> {
        trusted_certificate(
            headers.iter().map(|(n, v)| (*n, v.as_bytes())),
            || configured.map(str::to_owned).map_err(str::to_owned),
            &pepper(),
        )
    }

    #[test]
    fn no_certificate_header_reads_no_variable() {
        let result = trusted_certificate(
            [("X-API-Key", b"k".as_slice())],
            || panic!("the variable must not be read"),
            &pepper(),
        );
        assert_eq!(result, Ok(None));
    }

    #[test]
    fn a_certificate_with_the_right_proxy_token_is_trusted() {
        let cert = cert_header();
        let got = decide(
            &[("Client-Cert", &cert), ("X-Flowgate-Proxy-Token", TOKEN)],
            Ok(TOKEN),
        )
        .expect("trusted")
        .expect("a thumbprint");
        assert_eq!(got.len(), 43, "base64url SHA-256: {got}");
    }

    /// Request headers, the proxy-token variable as read, the expected error.
    type Case<'a> = (
        &'a [(&'a str, &'a str)],
        Result<&'a str, &'a str>,
        ProxyCertError,
    );

    #[test]
    fn caller_faults_are_told_apart_from_system_faults() {
        let cert = cert_header();
        let cases: [Case<'_>; 5] = [
            (
                &[("Client-Cert", &cert), ("X-Flowgate-Proxy-Token", TOKEN)],
                Ok(""),
                ProxyCertError::NoTrustedProxy,
            ),
            (
                &[("Client-Cert", &cert)],
                Ok(TOKEN),
                ProxyCertError::ProxyTokenCount,
            ),
            (
                &[
                    ("Client-Cert", &cert),
                    ("X-Flowgate-Proxy-Token", TOKEN),
                    ("x-flowgate-proxy-token", TOKEN),
                ],
                Ok(TOKEN),
                ProxyCertError::ProxyTokenCount,
            ),
            (
                &[
                    ("Client-Cert", &cert),
                    ("X-Flowgate-Proxy-Token", "wrong-token-0123456789"),
                ],
                Ok(TOKEN),
                ProxyCertError::WrongProxyToken,
            ),
            (
                &[("Client-Cert", &cert), ("X-Flowgate-Proxy-Token", TOKEN)],
                Err("variables provider down"),
                ProxyCertError::Unavailable("variables provider down".into()),
            ),
        ];
        for (headers, configured, expected) in cases {
            let err = decide(headers, configured).expect_err("refused");
            assert_eq!(
                err.is_system_fault(),
                matches!(expected, ProxyCertError::Unavailable(_)),
                "{err}"
            );
            assert_eq!(err, expected);
        }
        assert!(matches!(
            decide(
                &[("Client-Cert", ":!!:"), ("X-Flowgate-Proxy-Token", TOKEN)],
                Ok(TOKEN)
            ),
            Err(ProxyCertError::Forwarded(_))
        ));
    }
}
