//! The two forms of the `signing_key` variables and the Ed25519 signer built
//! from them (docs/decisions.md, "The signing key's bound form").
//!
//! - **Plain**: the 32-byte RFC 8032 seed. The public key is derived from it
//!   (one base-point multiplication) every time it is needed.
//! - **Bound**: 96 bytes, `seed || public key || tag`, with
//!   `tag = HMAC-SHA-256(SHA-256(BOUND_LABEL || seed), public key)`. The
//!   public key is read instead of derived, and used only after the tag has
//!   been recomputed from the seed and compared in constant time: a value
//!   whose public key is not the seed's is refused before anything is signed,
//!   because signing under a wrong public key leaks the private scalar.
//!
//! Both forms are hex or unpadded base64url. Signing is RFC 8032 section
//! 5.1.6 written over curve25519-dalek's scalar and base-point operations;
//! the unit tests hold it to ed25519-dalek's signatures byte for byte and to
//! the RFC's test vectors.

use curve25519_dalek::edwards::EdwardsPoint;
use curve25519_dalek::scalar::{Scalar, clamp_integer};
use hmac::{KeyInit as _, Mac as _};
use sha2::{Digest as _, Sha256, Sha512};
use subtle::ConstantTimeEq as _;
use zeroize::{Zeroize as _, Zeroizing};

use crate::hash::{KeyError, decode_key};

/// Length of an Ed25519 seed (RFC 8032 section 5.1.5).
pub const SEED_LEN: usize = 32;
/// Length of the bound form: seed, public key, tag.
pub const BOUND_LEN: usize = 96;
/// Domain separation of the tag's key: no other use of the seed (SHA-512 for
/// the key pair) or of another flowgate secret can produce it.
const BOUND_LABEL: &[u8] = b"flowgate/signing-key/bound/v1\0";

/// A compressed Edwards point: an Ed25519 public key as it is published.
pub(crate) type PublicKey = [u8; 32];

type HmacSha256 = hmac::Hmac<Sha256>;

/// The tag that binds `public` to `seed`. Only a holder of the seed can make
/// it: its key is a hash of the seed.
fn tag(seed: &[u8; SEED_LEN], public: &PublicKey) -> [u8; 32] {
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(
        &Sha256::new()
            .chain_update(BOUND_LABEL)
            .chain_update(seed)
            .finalize(),
    );
    // HMAC takes keys of any length, so this cannot fail.
    #[allow(clippy::expect_used, reason = "HMAC accepts every key length")]
    let mut mac = HmacSha256::new_from_slice(key.as_slice()).expect("any key length");
    mac.update(public);
    mac.finalize().into_bytes().into()
}

/// What a key variable holds, checked.
pub(crate) enum KeyText {
    /// A plain seed: the public key must be derived.
    Seed(Zeroizing<[u8; SEED_LEN]>),
    /// A seed with its public key, the tag verified.
    Bound {
        seed: Zeroizing<[u8; SEED_LEN]>,
        public: PublicKey,
    },
}

impl KeyText {
    /// Decodes the text of `variable`: 32 bytes are a plain seed, 96 a bound
    /// value whose tag must verify; anything else is refused. Errors name
    /// the variable, never the value.
    pub(crate) fn parse(variable: &'static str, text: &str) -> Result<Self, KeyError> {
        let bytes = Zeroizing::new(decode_key(variable, text, SEED_LEN)?);
        let mut seed = Zeroizing::new([0u8; SEED_LEN]);
        match bytes.len() {
            SEED_LEN => {
                seed.copy_from_slice(&bytes);
                Ok(Self::Seed(seed))
            }
            BOUND_LEN => {
                seed.copy_from_slice(&bytes[..32]);
                let mut public = [0u8; 32];
                public.copy_from_slice(&bytes[32..64]);
                let expected = tag(&seed, &public);
                if bool::from(expected.ct_eq(&bytes[64..])) {
                    Ok(Self::Bound { seed, public })
                } else {
                    Err(KeyError::Unbound(variable))
                }
            }
            _ => Err(KeyError::Malformed(variable)),
        }
    }

    /// The seed, in either form.
    pub(crate) fn seed(&self) -> &[u8; SEED_LEN] {
        match self {
            Self::Seed(seed) | Self::Bound { seed, .. } => seed,
        }
    }
}

/// The bound form of `seed`, as lower-case hex (192 digits): what
/// `flowgate signing-key` prints. Derives the public key once.
pub fn bound_value(seed: &[u8; SEED_LEN]) -> Zeroizing<String> {
    let public = Signer::derive(seed).public;
    let tag = tag(seed, &public);
    let mut text = Zeroizing::new(String::with_capacity(2 * BOUND_LEN));
    for byte in seed.iter().chain(&public).chain(&tag) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The bound form of an existing `signing_key` value (plain or bound): the
/// same key, so the same JWKS and `kid`, without a rotation.
pub fn bound_value_of(variable: &'static str, text: &str) -> Result<Zeroizing<String>, KeyError> {
    Ok(bound_value(KeyText::parse(variable, text)?.seed()))
}

/// An Ed25519 private key expanded for signing (RFC 8032 section 5.1.5), and
/// its public key. Secret parts are zeroed when it is dropped.
pub(crate) struct Signer {
    /// `s`: the clamped first half of SHA-512(seed), reduced mod L.
    scalar: Scalar,
    /// The second half of SHA-512(seed), which keys the nonce.
    prefix: [u8; 32],
    /// `A = [s]B`, compressed.
    pub(crate) public: PublicKey,
}

impl Drop for Signer {
    fn drop(&mut self) {
        self.scalar.zeroize();
        self.prefix.zeroize();
    }
}

impl Signer {
    /// Expands `seed` and takes `public` as its public key. Only for a public
    /// key that is the seed's: derived here, or bound by a verified tag.
    fn expand(seed: &[u8; SEED_LEN], public: PublicKey) -> Self {
        let mut hash = Zeroizing::new([0u8; 64]);
        hash.copy_from_slice(&Sha512::digest(seed));
        let mut lower = Zeroizing::new([0u8; 32]);
        lower.copy_from_slice(&hash[..32]);
        let mut prefix = [0u8; 32];
        prefix.copy_from_slice(&hash[32..]);
        Self {
            scalar: Scalar::from_bytes_mod_order(clamp_integer(*lower)),
            prefix,
            public,
        }
    }

    /// The signer of a plain seed: derives the public key (one base-point
    /// multiplication). Also returns the point, so that a verifier needs no
    /// decompression.
    pub(crate) fn derive_with_point(seed: &[u8; SEED_LEN]) -> (Self, EdwardsPoint) {
        let mut signer = Self::expand(seed, [0; 32]);
        let point = EdwardsPoint::mul_base(&signer.scalar);
        signer.public = point.compress().to_bytes();
        (signer, point)
    }

    /// The signer of a plain seed.
    pub(crate) fn derive(seed: &[u8; SEED_LEN]) -> Self {
        Self::derive_with_point(seed).0
    }

    /// The signer of a checked key variable: derived for a plain seed, read
    /// for a bound one (its tag was verified by [`KeyText::parse`]).
    pub(crate) fn from_text(text: &KeyText) -> (Self, Option<EdwardsPoint>) {
        match text {
            KeyText::Seed(seed) => {
                let (signer, point) = Self::derive_with_point(seed);
                (signer, Some(point))
            }
            KeyText::Bound { seed, public } => (Self::expand(seed, *public), None),
        }
    }

    /// The RFC 8032 Ed25519 signature of `message` (section 5.1.6).
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        // r = SHA-512(prefix || M) mod L: secret, and fixed for a message.
        let r = Zeroizing::new(Scalar::from_hash(
            Sha512::new()
                .chain_update(self.prefix)
                .chain_update(message),
        ));
        let big_r = EdwardsPoint::mul_base(&r).compress();
        // k = SHA-512(R || A || M) mod L, over the one public key of this seed.
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(big_r.as_bytes())
                .chain_update(self.public)
                .chain_update(message),
        );
        let s = Zeroizing::new(k * self.scalar + *r);
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(big_r.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        signature
    }
}

#[cfg(test)]
mod tests;
