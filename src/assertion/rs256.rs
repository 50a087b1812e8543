//! `RS256` tokens (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 section 3.3),
//! verified here instead of by jwt-simple.
//!
//! jwt-simple checks an RSA signature with the `rsa` crate, whose modular
//! exponentiation (num-bigint-dig's `monty_modpow`) spends about 90
//! Montgomery products on the public exponent 65537, where 17 suffice, and
//! works in 64-bit digits, whose 128-bit products wasm32 has to assemble
//! from several multiplies: about 1 ms per signature inside the authorizer
//! (docs/benchmarks.md, 2026-12-03). Here the exponent is applied bit by bit
//! with 32-bit limbs, whose products wasm multiplies in one instruction.
//!
//! Only the arithmetic is new. What a verification accepts is jwt-simple's
//! rule, restated step by step in [`verify_token`]: the same header parser
//! (`Token::decode_metadata`), the same base64 decoder, the same error
//! values, the same claim checks under the same [`VerificationOptions`];
//! and the signature rule is the `rsa` crate's (the signature exactly as
//! long as the modulus, below it, and the whole encoded message equal to
//! the one expected, RFC 8017 section 8.2.2). The tests hold both to it
//! token by token (`tests.rs` beside this file, and the Wycheproof vectors).

use jwt_simple::claims::JWTClaims;
use jwt_simple::prelude::{Base64UrlSafeNoPadding, RS256PublicKey, Token, VerificationOptions};
use jwt_simple::reexports::ct_codecs::Decoder as _;
use jwt_simple::{Error, JWTError};
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

/// The DER `DigestInfo` header that precedes a SHA-256 digest in an
/// EMSA-PKCS1-v1_5 encoding (RFC 8017 section 9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Verifies an `RS256` `token` with the public key `der` (SubjectPublicKeyInfo
/// or PKCS#1, as `RS256PublicKey::from_der` reads it) under `options`, and
/// answers as `RS256PublicKey::verify_token` would. `Err(None)`: the key is
/// unusable.
pub(super) fn verify_token<T: DeserializeOwned>(
    der: &[u8],
    token: &str,
    options: VerificationOptions,
) -> Result<JWTClaims<T>, Option<Error>> {
    let key = RS256PublicKey::from_der(der).map_err(Some)?;
    let parts = key.to_components();
    verify_with_components(&parts.n, &parts.e, token, options).map_err(Some)
}

/// [`verify_token`] for a key given as its modulus and exponent (big-endian).
fn verify_with_components<T: DeserializeOwned>(
    n: &[u8],
    e: &[u8],
    token: &str,
    options: VerificationOptions,
) -> Result<JWTClaims<T>, Error> {
    // Every field is named so that a field added to jwt-simple's options is
    // a compile error here, not a check silently skipped.
    let VerificationOptions {
        reject_before,
        accept_future,
        required_subject,
        required_key_id,
        required_signature_type,
        required_content_type,
        required_nonce,
        allowed_issuers,
        allowed_audiences,
        time_tolerance,
        max_validity,
        max_token_length,
        max_header_length,
        artificial_time,
    } = options;
    // Options no caller of ours sets are refused rather than half-honoured.
    if reject_before.is_some()
        || required_key_id.is_some()
        || required_signature_type.is_some()
        || required_content_type.is_some()
        || required_nonce.is_some()
        || max_validity.is_some()
        || max_header_length.is_some()
    {
        return Err(JWTError::InternalError("unsupported verification option".into()).into());
    }
    if max_token_length.is_some_and(|max| token.len() > max) {
        return Err(JWTError::TokenTooLong.into());
    }
    let mut segments = token.split('.');
    let header = segments.next().unwrap_or_default();
    if header.len() > jwt_simple::token::MAX_HEADER_LENGTH {
        return Err(JWTError::HeaderTooLarge.into());
    }
    let (Some(payload), Some(signature), None) =
        (segments.next(), segments.next(), segments.next())
    else {
        return Err(JWTError::CompactEncodingError.into());
    };
    let meta = Token::decode_metadata(token)?;
    if meta.critical().is_some_and(|c| !c.is_empty()) {
        return Err(JWTError::UnknownCriticalExtension.into());
    }
    if let Some(typ) = meta.signature_type() {
        let typ = typ.to_uppercase();
        if typ != "JWT" && !typ.ends_with("+JWT") {
            return Err(JWTError::NotJWT.into());
        }
    }
    if meta.algorithm() != "RS256" {
        return Err(JWTError::AlgorithmMismatch.into());
    }
    // A salt means nothing to RSA, but one that is not base64 is refused.
    if let Some(salt) = header_salt(header)? {
        Base64UrlSafeNoPadding::decode_to_vec(salt, None)?;
    }
    let signature = Base64UrlSafeNoPadding::decode_to_vec(signature, None)?;
    let signed = &token[..header.len() + 1 + payload.len()];
    if !verify_signature(n, e, signed.as_bytes(), &signature) {
        return Err(JWTError::InvalidSignature.into());
    }
    let claims: JWTClaims<T> =
        serde_json::from_slice(&Base64UrlSafeNoPadding::decode_to_vec(payload, None)?)?;

    let now = artificial_time.unwrap_or_else(jwt_simple::prelude::Clock::now_since_epoch);
    let tolerance = time_tolerance.unwrap_or_default();
    if !accept_future {
        if claims.issued_at.is_some_and(|iat| iat > now + tolerance) {
            return Err(JWTError::ClockDrift.into());
        }
        if claims
            .invalid_before
            .is_some_and(|nbf| now + tolerance < nbf)
        {
            return Err(JWTError::TokenNotValidYet.into());
        }
    }
    if claims
        .expires_at
        .is_some_and(|exp| now < tolerance || now - tolerance > exp)
    {
        return Err(JWTError::TokenHasExpired.into());
    }
    if let Some(allowed) = &allowed_issuers {
        match &claims.issuer {
            None => return Err(JWTError::RequiredIssuerMissing.into()),
            Some(iss) if !allowed.contains(iss) => {
                return Err(JWTError::RequiredIssuerMismatch.into());
            }
            Some(_) => {}
        }
    }
    if let Some(required) = &required_subject {
        match &claims.subject {
            None => return Err(JWTError::RequiredSubjectMissing.into()),
            Some(sub) if sub != required => return Err(JWTError::RequiredSubjectMismatch.into()),
            Some(_) => {}
        }
    }
    if let Some(allowed) = &allowed_audiences {
        match &claims.audiences {
            None => return Err(JWTError::RequiredAudienceMissing.into()),
            Some(aud) if !aud.contains(allowed) => {
                return Err(JWTError::RequiredAudienceMismatch.into());
            }
            Some(_) => {}
        }
    }
    Ok(claims)
}

/// The header's `salt` as written (`TokenMetadata::salt` cannot tell one
/// that does not decode from none at all).
fn header_salt(header: &str) -> Result<Option<String>, Error> {
    #[derive(serde::Deserialize)]
    struct Salt {
        salt: Option<String>,
    }
    let bytes = Base64UrlSafeNoPadding::decode_to_vec(header, None)?;
    Ok(serde_json::from_slice::<Salt>(&bytes)?.salt)
}

/// Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of
/// `message` under the public key (`n`, `e`), both big-endian.
pub(crate) fn verify_signature(n: &[u8], e: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let n = trim(n);
    let Some(modulus) = Modulus::new(n) else {
        return false;
    };
    let Some(exponent) = small_exponent(e) else {
        return false;
    };
    // The signature is exactly as long as the modulus, and below it.
    if signature.len() != n.len() {
        return false;
    }
    let s = limbs(signature, modulus.n.len());
    if !below(&s, &modulus.n) {
        return false;
    }
    let m = modulus.pow(&s, exponent);
    match expected_encoding(n.len(), &Sha256::digest(message)) {
        Some(expected) => be_bytes(&m, n.len()) == expected,
        None => false,
    }
}

/// EMSA-PKCS1-v1_5 (RFC 8017 section 9.2) of a SHA-256 digest for a
/// modulus of `k` bytes: `00 01 FF…FF 00 DigestInfo digest`, with at least
/// eight `FF`. `None` when the modulus is too short for it.
fn expected_encoding(k: usize, digest: &[u8]) -> Option<Vec<u8>> {
    let info = SHA256_DIGEST_INFO.len() + digest.len();
    let fill = k.checked_sub(info + 3).filter(|fill| *fill >= 8)?;
    let mut encoded = Vec::with_capacity(k);
    encoded.extend_from_slice(&[0x00, 0x01]);
    encoded.resize(2 + fill, 0xff);
    encoded.push(0x00);
    encoded.extend_from_slice(&SHA256_DIGEST_INFO);
    encoded.extend_from_slice(digest);
    Some(encoded)
}

/// A public exponent of at most 64 bits (the `rsa` crate reads none above
/// 2^33 − 1), and at least 3: 0 and 1 make the exponentiation meaningless,
/// and 2, which the `rsa` crate would read, is no RSA exponent (an RSA
/// exponent is odd), so refusing it refuses no RSA signature.
fn small_exponent(e: &[u8]) -> Option<u64> {
    let e = trim(e);
    if e.len() > 8 {
        return None;
    }
    let value = e.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
    (value >= 3).then_some(value)
}

/// `bytes` without leading zero bytes.
fn trim(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// A big-endian number as `len` little-endian 32-bit limbs (the caller
/// makes sure it fits).
fn limbs(be: &[u8], len: usize) -> Vec<u32> {
    let mut out = vec![0u32; len];
    for (i, chunk) in be.rchunks(4).enumerate() {
        out[i] = chunk.iter().fold(0u32, |v, b| (v << 8) | u32::from(*b));
    }
    out
}

/// Little-endian limbs as `k` big-endian bytes (the value fits: it is
/// below a modulus of `k` bytes).
fn be_bytes(limbs: &[u32], k: usize) -> Vec<u8> {
    let mut out: Vec<u8> = limbs.iter().rev().flat_map(|l| l.to_be_bytes()).collect();
    out.drain(..out.len() - k);
    out
}

/// Whether `a < b`, both of the same number of limbs.
fn below(a: &[u32], b: &[u32]) -> bool {
    for (x, y) in a.iter().rev().zip(b.iter().rev()) {
        if x != y {
            return x < y;
        }
    }
    false
}

/// `a -= b` over equal lengths. Every caller subtracts n from a number
/// below 2n that is at least n (or carries past the top limb), so the
/// result fits and the final borrow is not needed.
fn subtract(a: &mut [u32], b: &[u32]) {
    let mut borrow = false;
    for (x, y) in a.iter_mut().zip(b) {
        let (d, b1) = x.overflowing_sub(*y);
        let (d, b2) = d.overflowing_sub(u32::from(borrow));
        *x = d;
        borrow = b1 || b2;
    }
}

/// An odd modulus set up for Montgomery multiplication with R = 2^(32·len).
/// Nothing here is secret (a public key, a signature anyone can read), so
/// nothing needs to run in constant time.
struct Modulus {
    /// The modulus, little-endian limbs, the top one non-zero.
    n: Vec<u32>,
    /// -n⁻¹ mod 2^32.
    n_inv: u32,
}

impl Modulus {
    /// `None` for an even (or empty) modulus, which no RSA key has.
    fn new(be: &[u8]) -> Option<Self> {
        let len = be.len().div_ceil(4);
        let n = limbs(be, len);
        if n.first().is_none_or(|low| low & 1 == 0) {
            return None;
        }
        // Newton's iteration: each step doubles the bits of n⁻¹ mod 2^32
        // that are right; n itself is right to three (n·n ≡ 1 mod 8).
        let mut inverse = n[0];
        for _ in 0..4 {
            inverse = inverse.wrapping_mul(2u32.wrapping_sub(n[0].wrapping_mul(inverse)));
        }
        Some(Self {
            n,
            n_inv: inverse.wrapping_neg(),
        })
    }

    /// t·R⁻¹ mod n for t < n·R, given as 2·len limbs (and consumed):
    /// Montgomery's reduction, one limb at a time. Each row adds the
    /// multiple of n that clears the lowest limb left; after len rows the
    /// lower half is zero and the upper half, below 2n, is the answer up to
    /// one subtraction.
    fn reduce(&self, mut t: Vec<u32>) -> Vec<u32> {
        let n = &self.n[..];
        let len = n.len();
        debug_assert_eq!(t.len(), 2 * len);
        // The carry out of limb i + len, owed to the limb above it (the
        // next row's top limb; after the last row, the bit at 2^(64·len)).
        let mut above = 0u64;
        for i in 0..len {
            let m = t[i].wrapping_mul(self.n_inv);
            let mut carry = 0u64;
            for (tj, &nj) in t[i..i + len].iter_mut().zip(n) {
                let sum = u64::from(*tj) + u64::from(m) * u64::from(nj) + carry;
                *tj = sum as u32;
                carry = sum >> 32;
            }
            let sum = u64::from(t[i + len]) + carry + above;
            t[i + len] = sum as u32;
            above = sum >> 32;
        }
        let mut out = t.split_off(len);
        if above != 0 || !below(&out, n) {
            subtract(&mut out, n);
        }
        out
    }

    /// a·b·R⁻¹ mod n, for a, b < n: the whole product, then
    /// [`Self::reduce`].
    fn mul(&self, a: &[u32], b: &[u32]) -> Vec<u32> {
        let len = self.n.len();
        let mut t = vec![0u32; 2 * len];
        for (i, &bi) in b.iter().enumerate() {
            let mut carry = 0u64;
            for (tj, &aj) in t[i..i + len].iter_mut().zip(a) {
                let sum = u64::from(*tj) + u64::from(aj) * u64::from(bi) + carry;
                *tj = sum as u32;
                carry = sum >> 32;
            }
            // Row i reaches limb i + len first: nothing is there yet.
            t[i + len] = carry as u32;
        }
        self.reduce(t)
    }

    /// a·a·R⁻¹ mod n, for a < n. A square's cross products come in equal
    /// pairs (a_i·a_j and a_j·a_i), so each is computed once and the sum
    /// doubled before the squares a_i² are added: about three quarters of
    /// [`Self::mul`]'s work, and sixteen of the seventeen steps for the
    /// exponent 65537 are squarings.
    fn square(&self, a: &[u32]) -> Vec<u32> {
        let len = self.n.len();
        let mut t = vec![0u32; 2 * len];
        for (i, &ai) in a.iter().enumerate() {
            let ai = u64::from(ai);
            let mut carry = 0u64;
            for (tj, &aj) in t[2 * i + 1..i + len].iter_mut().zip(&a[i + 1..]) {
                let sum = u64::from(*tj) + ai * u64::from(aj) + carry;
                *tj = sum as u32;
                carry = sum >> 32;
            }
            t[i + len] = carry as u32;
        }
        // Twice the cross products (below a², so no bit leaves the top),
        // plus a_i² at limbs 2i and 2i + 1, in one pass.
        let mut bit = 0u32;
        let mut carry = 0u64;
        for (pair, &ai) in t.chunks_exact_mut(2).zip(a) {
            let square = u64::from(ai) * u64::from(ai);
            let low = (pair[0] << 1) | bit;
            let high = (pair[1] << 1) | (pair[0] >> 31);
            bit = pair[1] >> 31;
            let sum = u64::from(low) + (square & 0xffff_ffff) + carry;
            pair[0] = sum as u32;
            let sum = u64::from(high) + (square >> 32) + (sum >> 32);
            pair[1] = sum as u32;
            carry = sum >> 32;
        }
        self.reduce(t)
    }

    /// x·2 mod n, for x < n.
    fn double(&self, x: &mut [u32]) {
        let mut carry = 0u32;
        for limb in x.iter_mut() {
            let next = *limb >> 31;
            *limb = (*limb << 1) | carry;
            carry = next;
        }
        if carry != 0 || !below(x, &self.n) {
            subtract(x, &self.n);
        }
    }

    /// R² mod n, what takes a number into Montgomery form. From
    /// 2^(bits−1) < n, doublings reach 2^len·R mod n (the Montgomery form of
    /// 2^len); five Montgomery squarings then raise 2^len to 2^(32·len) = R,
    /// whose Montgomery form is R².
    fn r_squared(&self) -> Vec<u32> {
        let len = self.n.len();
        let top = self.n[len - 1];
        let bits = 32 * len - top.leading_zeros() as usize;
        let mut x = vec![0u32; len];
        x[(bits - 1) / 32] = 1 << ((bits - 1) % 32);
        for _ in 0..(32 * len - (bits - 1)) + len {
            self.double(&mut x);
        }
        for _ in 0..5 {
            x = self.square(&x);
        }
        x
    }

    /// s^e mod n, for s < n and e ≥ 2, left to right over e's bits.
    fn pow(&self, s: &[u32], e: u64) -> Vec<u32> {
        let base = self.mul(s, &self.r_squared());
        let mut acc = base.clone();
        for bit in (0..63 - e.leading_zeros()).rev() {
            acc = self.square(&acc);
            if (e >> bit) & 1 == 1 {
                acc = self.mul(&acc, &base);
            }
        }
        // Out of Montgomery form: acc·R⁻¹.
        acc.resize(2 * self.n.len(), 0);
        self.reduce(acc)
    }
}

#[cfg(test)]
mod tests;
