//! Keyed hashing of credentials: HMAC-SHA-256 under the pepper, a secret that
//! lives in a Spin variable and never in the store. A dump of the store alone
//! therefore cannot be used to check guesses, let alone replay a credential.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit as _, Mac as _};
use subtle::ConstantTimeEq as _;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Why a configured key could not be used. Names the variable, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The variable is not hex or base64url, or is too short.
    #[error(
        "variable `{0}` must hold at least 32 random bytes as 64+ hex digits or unpadded base64url"
    )]
    Malformed(&'static str),
    /// A bound signing key whose public key is not its seed's: the tag does
    /// not verify (docs/decisions.md, "The signing key's bound form").
    #[error(
        "variable `{0}` holds a public key that does not belong to its seed; make the value again with `flowgate signing-key --from-seed`"
    )]
    Unbound(&'static str),
}

/// Decodes key material given as hex or unpadded base64url, requiring at least
/// `min` bytes. Used for the pepper and the signing key.
pub fn decode_key(variable: &'static str, text: &str, min: usize) -> Result<Vec<u8>, KeyError> {
    let text = text.trim();
    let bytes = if text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| KeyError::Malformed(variable))?
    } else {
        URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| KeyError::Malformed(variable))?
    };
    if bytes.len() < min {
        return Err(KeyError::Malformed(variable));
    }
    Ok(bytes)
}

/// The HMAC key under which credentials are stored.
#[derive(Clone)]
pub struct Pepper(HmacSha256);

impl std::fmt::Debug for Pepper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pepper(..)")
    }
}

/// Name of the Spin variable that holds the pepper.
pub const PEPPER_VARIABLE: &str = "hmac_pepper";

impl Pepper {
    /// Reads the pepper from the text of its variable.
    pub fn from_variable(text: &str) -> Result<Self, KeyError> {
        let key = decode_key(PEPPER_VARIABLE, text, 32)?;
        let mac =
            HmacSha256::new_from_slice(&key).map_err(|_| KeyError::Malformed(PEPPER_VARIABLE))?;
        Ok(Self(mac))
    }

    /// An HMAC key made from the text of another secret variable as read
    /// (trimmed), for digests that must change when that variable does:
    /// `crate::verified` keys its records by the signing key this way, so
    /// that reading the one variable both keys and binds the record.
    #[allow(clippy::expect_used, reason = "HMAC accepts every key length")]
    pub fn from_secret_text(text: &str) -> Self {
        Self(HmacSha256::new_from_slice(text.trim().as_bytes()).expect("HMAC accepts any key"))
    }

    /// The digest of `value` in `domain`. Domains keep digests of different
    /// uses apart (a credential can never match an admin token's digest).
    pub fn digest(&self, domain: Domain, value: &str) -> Digest {
        let mut mac = self.0.clone();
        mac.update(domain.tag());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        Digest(mac.finalize().into_bytes().into())
    }
}

/// What a digest is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// A generated credential (the whole string, prefix included).
    Credential,
    /// The bootstrap admin token, hashed only to compare in constant time.
    AdminToken,
    /// The trusted proxy's shared token, likewise.
    ProxyToken,
    /// An access token whose signature was verified (`crate::verified`).
    VerifiedToken,
    /// An external OpenID Connect token whose signature was verified
    /// (`crate::oidc::Recorded`).
    ExternalToken,
    /// The keyed tag inside a generated secret (`crate::secret`): proves,
    /// before any store read, that flowgate made the value.
    SecretTag,
}

impl Domain {
    fn tag(self) -> &'static [u8] {
        match self {
            Self::Credential => b"flowgate/credential/v1",
            Self::AdminToken => b"flowgate/admin-token/v1",
            Self::ProxyToken => b"flowgate/proxy-token/v1",
            Self::VerifiedToken => b"flowgate/verified-token/v2",
            Self::SecretTag => b"flowgate/secret-tag/v1",
            Self::ExternalToken => b"flowgate/external-token/v1",
        }
    }
}

/// An HMAC-SHA-256 digest. Stored as unpadded base64url.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Digest([u8; 32]);

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Digest({})", self.encode())
    }
}

impl Digest {
    /// Wraps raw digest bytes.
    pub const fn from_raw(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Compares in constant time.
    pub fn ct_eq(&self, other: &Digest) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Unpadded base64url.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses the stored form.
    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.encode())
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::decode(&text).ok_or_else(|| serde::de::Error::custom("invalid digest"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_PEPPER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        // RFC 4231 test case 2 checks the primitive we build on.
        let mut mac = HmacSha256::new_from_slice(b"Jefe").expect("any key length");
        mac.update(b"what do ya want for nothing?");
        let out: [u8; 32] = mac.finalize().into_bytes().into();
        let hex: String = out.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn pepper_accepts_hex_and_base64url_of_32_bytes() {
        let hex = Pepper::from_variable(HEX_PEPPER).expect("hex");
        let b64 =
            Pepper::from_variable("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8").expect("b64");
        assert!(
            hex.digest(Domain::Credential, "x")
                .ct_eq(&b64.digest(Domain::Credential, "x"))
        );
    }

    #[test]
    fn short_or_garbled_pepper_is_refused_naming_the_variable() {
        for bad in ["", "abcd", "zz", &HEX_PEPPER[..62], "not base64!"] {
            let err = Pepper::from_variable(bad).expect_err(bad);
            assert!(err.to_string().contains("hmac_pepper"), "{err}");
        }
    }

    #[test]
    fn domains_separate_digests_of_the_same_value() {
        let pepper = Pepper::from_variable(HEX_PEPPER).expect("pepper");
        let a = pepper.digest(Domain::Credential, "same");
        let b = pepper.digest(Domain::AdminToken, "same");
        assert!(!a.ct_eq(&b));
        assert!(a.ct_eq(&pepper.digest(Domain::Credential, "same")));
    }

    #[test]
    fn digest_round_trips_through_its_stored_form() {
        let pepper = Pepper::from_variable(HEX_PEPPER).expect("pepper");
        let d = pepper.digest(Domain::Credential, "value");
        assert_eq!(Digest::decode(&d.encode()), Some(d));
        assert_eq!(Digest::decode("short"), None);
    }
}
