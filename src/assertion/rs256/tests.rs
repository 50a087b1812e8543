//! The RS256 verifier against the two it replaces: its signature rule
//! against the `rsa` crate's PKCS#1 v1.5 verifier, and whole tokens against
//! jwt-simple's `RS256PublicKey::verify_token`, answer for answer (the same
//! claims, or the same error text). The Wycheproof vectors run on it too
//! (`crate::token::vectors`).

use std::collections::HashSet;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_simple::prelude::{Duration, RS256PublicKey, RSAPublicKeyLike as _, UnixTimeStamp};
use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::pkcs8::EncodePublicKey as _;
use rsa::rand_core::{CryptoRng, RngCore};
use rsa::signature::{SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use sha2_010::Sha256 as Sha256Digest;

use super::*;

const NOW: u64 = 1_800_000_000;
const ISSUER: &str = "https://issuer.example";

/// A deterministic generator, so that the test keys are the same on every
/// run (SHA-256 of a counter; keys for tests only).
struct TestRng(u64);

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            self.0 += 1;
            let block = Sha256::digest(self.0.to_le_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TestRng {}

/// A test key: its private half signs, its public half is what a JWKS
/// would carry.
struct Key {
    signing: SigningKey<Sha256Digest>,
    public: RsaPublicKey,
}

impl Key {
    fn generate(seed: u64, bits: usize, exponent: u64) -> Self {
        let private =
            RsaPrivateKey::new_with_exp(&mut TestRng(seed), bits, &BigUint::from(exponent))
                .expect("test key");
        Self {
            public: private.to_public_key(),
            signing: SigningKey::new(private),
        }
    }

    fn n(&self) -> Vec<u8> {
        self.public.n().to_bytes_be()
    }

    fn e(&self) -> Vec<u8> {
        self.public.e().to_bytes_be()
    }

    fn der(&self) -> Vec<u8> {
        self.public.to_public_key_der().expect("DER").into_vec()
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signing.sign(message).to_vec()
    }

    /// What the `rsa` crate (jwt-simple's verifier) says of `signature`.
    fn rsa_accepts(&self, message: &[u8], signature: &[u8]) -> bool {
        let key = VerifyingKey::<Sha256Digest>::new(self.public.clone());
        Signature::try_from(signature).is_ok_and(|s| key.verify(message, &s).is_ok())
    }

    fn token(&self, header: &str, claims: &str) -> String {
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = URL_SAFE_NO_PAD.encode(self.sign(signed.as_bytes()));
        format!("{signed}.{signature}")
    }
}

/// The 2048-bit key with e = 65537 most tests share.
fn key() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| Key::generate(1, 2048, 65537))
}

/// Ways to spoil a signature that is valid for `message`.
fn spoiled(key: &Key, good: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, at) in [("first byte", 0), ("middle byte", good.len() / 2)] {
        let mut s = good.to_vec();
        s[at] ^= 0x01;
        out.push((name, s));
    }
    let mut last = good.to_vec();
    *last.last_mut().expect("signature") ^= 0x80;
    out.push(("last byte", last));
    out.push(("one byte short", good[1..].to_vec()));
    out.push(("one byte long", [&[0u8][..], good].concat()));
    out.push(("empty", Vec::new()));
    out.push(("zero", vec![0u8; good.len()]));
    out.push(("one", {
        let mut s = vec![0u8; good.len()];
        *s.last_mut().expect("signature") = 1;
        s
    }));
    out.push(("the modulus", key.n()));
    let mut above = key.n();
    *above.last_mut().expect("modulus") += 1;
    out.push(("the modulus plus one", above));
    out.push(("all ones", vec![0xff; good.len()]));
    out
}

#[test]
fn signatures_are_judged_as_the_rsa_crate_judges_them() {
    // Key sizes whose top limb is full and partly filled, more limbs, and
    // public exponents other than 65537 (odd-length exponents exercise the
    // square-and-multiply path differently).
    let keys = [
        ("2048-bit, e = 65537", key()),
        ("2056-bit, e = 65537", &Key::generate(2, 2056, 65537)),
        ("3072-bit, e = 65537", &Key::generate(3, 3072, 65537)),
        ("2048-bit, e = 3", &Key::generate(4, 2048, 3)),
        (
            "2048-bit, e = 2^32 + 15",
            &Key::generate(5, 2048, (1 << 32) + 15),
        ),
    ];
    let mut accepted = 0;
    let mut refused = 0;
    for (name, key) in keys {
        for message in [&b""[..], b"a", b"header.payload", &[0xa5; 1000]] {
            let good = key.sign(message);
            assert!(key.rsa_accepts(message, &good), "{name}: fixture");
            assert!(
                verify_signature(&key.n(), &key.e(), message, &good),
                "{name}: a valid signature was refused"
            );
            accepted += 1;
            assert!(
                !verify_signature(&key.n(), &key.e(), b"another message", &good),
                "{name}: a signature of another message verified"
            );
            for (how, bad) in spoiled(key, &good) {
                assert_eq!(
                    verify_signature(&key.n(), &key.e(), message, &bad),
                    key.rsa_accepts(message, &bad),
                    "{name}: {how}"
                );
                assert!(!key.rsa_accepts(message, &bad), "{name}: {how} verifies");
                refused += 1;
            }
        }
        // The modulus with a leading zero byte is the same key.
        let message = b"leading zero";
        let padded = [&[0u8][..], &key.n()].concat();
        assert!(verify_signature(
            &padded,
            &key.e(),
            message,
            &key.sign(message)
        ));
    }
    assert_eq!((accepted, refused), (20, 220));
}

#[test]
fn the_montgomery_arithmetic_agrees_with_plain_arithmetic() {
    for key in [key(), &Key::generate(2, 2056, 65537)] {
        let n = BigUint::from_bytes_be(&key.n());
        let modulus = Modulus::new(&key.n()).expect("odd modulus");
        let len = modulus.n.len();
        let r = BigUint::from(1u8) << (32 * len);
        let as_limbs = |x: &BigUint| limbs(&x.to_bytes_be(), len);
        assert_eq!(modulus.r_squared(), as_limbs(&(&r * &r % &n)));
        let mut rng = TestRng(9);
        for _ in 0..20 {
            let mut bytes = vec![0u8; key.n().len()];
            rng.fill_bytes(&mut bytes);
            let a = BigUint::from_bytes_be(&bytes) % &n;
            rng.fill_bytes(&mut bytes);
            let b = BigUint::from_bytes_be(&bytes) % &n;
            // a·b·R⁻¹ is the one number below n whose product with R is
            // a·b modulo n.
            let product = modulus.mul(&as_limbs(&a), &as_limbs(&b));
            let product = BigUint::from_bytes_be(&be_bytes(&product, key.n().len()));
            assert!(product < n);
            assert_eq!(&product * &r % &n, &a * &b % &n);
            // The squaring's shortcut (each cross product once, doubled)
            // lands on the same number.
            let square = modulus.square(&as_limbs(&a));
            let square = BigUint::from_bytes_be(&be_bytes(&square, key.n().len()));
            assert!(square < n);
            assert_eq!(&square * &r % &n, &a * &a % &n);
            for e in [3u64, 17, 65537, (1 << 33) - 1] {
                assert_eq!(
                    modulus.pow(&as_limbs(&a), e),
                    as_limbs(&a.modpow(&BigUint::from(e), &n)),
                    "a^{e} mod n"
                );
            }
        }
        // Near the top of the range, where the final subtraction matters.
        let top = &n - 1u8;
        let square = modulus.square(&as_limbs(&top));
        let square = BigUint::from_bytes_be(&be_bytes(&square, key.n().len()));
        assert_eq!(&square * &r % &n, &top * &top % &n);
        // A number whose limbs are all ones below n's top limb: every
        // cross product and its doubling carry as far as they can.
        let ones = (BigUint::from(1u8) << (32 * (len - 1))) - 1u8;
        assert_eq!(
            modulus.pow(&as_limbs(&ones), 65537),
            as_limbs(&ones.modpow(&BigUint::from(65537u32), &n))
        );
        assert_eq!(
            modulus.pow(&as_limbs(&top), 65537),
            as_limbs(&top.modpow(&BigUint::from(65537u32), &n))
        );
    }
}

#[test]
fn material_that_is_not_an_rsa_key_verifies_nothing() {
    let key = key();
    let message = b"m";
    let good = key.sign(message);
    // An even modulus, an empty one, an exponent of 0, 1 or over 64 bits.
    let mut even = key.n();
    *even.last_mut().expect("modulus") &= 0xfe;
    assert!(!verify_signature(&even, &key.e(), message, &good));
    assert!(!verify_signature(&[], &key.e(), message, &good));
    for e in [&[][..], &[0], &[1], &[1, 0, 0, 0, 0, 0, 0, 0, 1]] {
        assert!(!verify_signature(&key.n(), e, message, &good), "e = {e:?}");
    }
    // Too short a modulus for a SHA-256 encoding (fewer than 62 bytes).
    assert_eq!(expected_encoding(61, &[0; 32]), None);
    assert_eq!(expected_encoding(62, &[0; 32]).map(|e| e.len()), Some(62));
}

/// The claims of a verification, or its error's text: what the two
/// verifiers must agree on.
type Answer = Result<serde_json::Value, String>;

/// Claims as JSON, a list of audiences in order (jwt-simple keeps them in
/// a `HashSet`).
fn as_json(claims: JWTClaims<serde_json::Map<String, serde_json::Value>>) -> serde_json::Value {
    let mut value = serde_json::to_value(claims).expect("claims");
    if let Some(serde_json::Value::Array(audiences)) = value.get_mut("aud") {
        audiences.sort_by_key(ToString::to_string);
    }
    value
}

fn ours(der: &[u8], token: &str, options: &VerificationOptions) -> Answer {
    verify_token::<serde_json::Map<String, serde_json::Value>>(der, token, options.clone())
        .map(as_json)
        .map_err(|e| e.map_or_else(|| "unusable key".to_owned(), |e| e.to_string()))
}

fn jwt_simple(der: &[u8], token: &str, options: &VerificationOptions) -> Answer {
    RS256PublicKey::from_der(der)
        .map_err(|e| e.to_string())?
        .verify_token::<serde_json::Map<String, serde_json::Value>>(token, Some(options.clone()))
        .map(as_json)
        .map_err(|e| e.to_string())
}

/// The options flowgate's two callers pass (oidc::verify and
/// assertion::verify), at `NOW`.
fn callers_options() -> [(&'static str, VerificationOptions); 2] {
    let at_now = || VerificationOptions {
        time_tolerance: Some(Duration::from_secs(crate::token::LEEWAY_SECONDS)),
        artificial_time: Some(UnixTimeStamp::from_secs(NOW)),
        max_token_length: Some(8192),
        ..VerificationOptions::default()
    };
    [
        (
            "oidc",
            VerificationOptions {
                allowed_issuers: Some(HashSet::from([ISSUER.to_owned()])),
                ..at_now()
            },
        ),
        (
            "private_key_jwt",
            VerificationOptions {
                required_subject: Some("client".into()),
                allowed_issuers: Some(HashSet::from(["client".to_owned()])),
                allowed_audiences: Some(HashSet::from(["https://edge/oauth/token".to_owned()])),
                ..at_now()
            },
        ),
    ]
}

/// Tokens that differ from a good one in one way each: header, claims,
/// times, signature, shape.
fn token_cases(key: &Key) -> Vec<(String, String)> {
    let claims = |extra: &str| {
        format!(
            r#"{{"iss":"{ISSUER}","sub":"client","aud":"https://edge/oauth/token","exp":{},"iat":{},"nbf":{}{extra}}}"#,
            NOW + 60,
            NOW - 5,
            NOW - 5
        )
    };
    let header = r#"{"alg":"RS256","kid":"k1"}"#;
    let mut cases: Vec<(String, String)> = Vec::new();
    let mut add = |name: String, token: String| cases.push((name, token));

    add("good".into(), key.token(header, &claims("")));
    add(
        "good, custom claims".into(),
        key.token(header, &claims(r#","repository":"org/repo","n":[1,2]"#)),
    );
    for h in [
        r#"{"alg":"RS256"}"#,
        r#"{"alg":"RS256","typ":"JWT"}"#,
        r#"{"alg":"RS256","typ":"jwt"}"#,
        r#"{"alg":"RS256","typ":"at+jwt"}"#,
        r#"{"alg":"RS256","typ":"JOSE"}"#,
        r#"{"alg":"RS256","crit":[]}"#,
        r#"{"alg":"RS256","crit":["exp"]}"#,
        r#"{"alg":"RS384"}"#,
        r#"{"alg":"HS256"}"#,
        r#"{"alg":"none"}"#,
        r#"{"typ":"JWT"}"#,
        r#"{"alg":"RS256","salt":"AAAA"}"#,
        r#"{"alg":"RS256","salt":"!!"}"#,
        r#"{"alg":"RS256","salt":7}"#,
        r#"{"alg":"RS256","jwk":{"kty":"RSA"}}"#,
        r#"{"alg":"RS256","alg":"RS256"}"#,
        r#"{"alg":"RS256","x5c":["AAAA"],"cty":"JWT","jku":"https://x"}"#,
        "not json",
        r#"["alg","RS256"]"#,
    ] {
        add(format!("header {h}"), key.token(h, &claims("")));
    }
    let times = |exp: &str, iat: &str, nbf: &str| {
        format!(
            r#"{{"iss":"{ISSUER}","sub":"client","aud":"https://edge/oauth/token"{exp}{iat}{nbf}}}"#
        )
    };
    for (name, exp) in [
        ("exp 11 s ago", format!(r#","exp":{}"#, NOW - 11)),
        ("exp 10 s ago", format!(r#","exp":{}"#, NOW - 10)),
        ("exp 9 s ago", format!(r#","exp":{}"#, NOW - 9)),
        ("no exp", String::new()),
        ("exp huge", r#","exp":18446744073709551615"#.into()),
        ("exp negative", r#","exp":-1"#.into()),
        ("exp fractional", format!(r#","exp":{}.5"#, NOW + 60)),
        ("exp a string", format!(r#","exp":"{}""#, NOW + 60)),
    ] {
        add(name.into(), key.token(header, &times(&exp, "", "")));
    }
    for (name, iat, nbf) in [
        ("iat 10 s ahead", NOW + 10, NOW),
        ("iat 11 s ahead", NOW + 11, NOW),
        ("nbf 10 s ahead", NOW, NOW + 10),
        ("nbf 11 s ahead", NOW, NOW + 11),
    ] {
        let exp = format!(r#","exp":{}"#, NOW + 60);
        let (iat, nbf) = (format!(r#","iat":{iat}"#), format!(r#","nbf":{nbf}"#));
        add(name.into(), key.token(header, &times(&exp, &iat, &nbf)));
    }
    let exp = NOW + 60;
    for (name, body) in [
        (
            "another issuer",
            format!(
                r#"{{"iss":"https://other","sub":"client","aud":"https://edge/oauth/token","exp":{exp}}}"#
            ),
        ),
        (
            "no issuer",
            format!(r#"{{"sub":"client","aud":"https://edge/oauth/token","exp":{exp}}}"#),
        ),
        (
            "issuer the client",
            format!(
                r#"{{"iss":"client","sub":"client","aud":"https://edge/oauth/token","exp":{exp}}}"#
            ),
        ),
        (
            "issuer the client, another subject",
            format!(
                r#"{{"iss":"client","sub":"other","aud":"https://edge/oauth/token","exp":{exp}}}"#
            ),
        ),
        (
            "issuer the client, no subject",
            format!(r#"{{"iss":"client","aud":"https://edge/oauth/token","exp":{exp}}}"#),
        ),
        (
            "issuer the client, audience list",
            format!(
                r#"{{"iss":"client","sub":"client","aud":["x","https://edge/oauth/token"],"exp":{exp}}}"#
            ),
        ),
        (
            "issuer the client, another audience",
            format!(r#"{{"iss":"client","sub":"client","aud":"x","exp":{exp}}}"#),
        ),
        (
            "issuer the client, no audience",
            format!(r#"{{"iss":"client","sub":"client","exp":{exp}}}"#),
        ),
        ("claims not an object", "[1,2]".into()),
        ("claims not json", "{".into()),
        ("issuer a number", format!(r#"{{"iss":7,"exp":{exp}}}"#)),
    ] {
        add(name.into(), key.token(header, &body));
    }

    let good = key.token(header, &claims(""));
    let (signed, signature) = good.rsplit_once('.').expect("token");
    let raw = URL_SAFE_NO_PAD.decode(signature).expect("signature");
    for (how, bad) in spoiled(key, &raw) {
        add(
            format!("signature: {how}"),
            format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bad)),
        );
    }
    let (head, payload) = signed.split_once('.').expect("token");
    let other = key.token(header, &claims(r#","x":1"#));
    let other_payload = other.split('.').nth(1).expect("payload");
    for (name, token) in [
        (
            "another token's payload",
            format!("{head}.{other_payload}.{signature}"),
        ),
        ("signature not base64", format!("{signed}.!!!!")),
        ("signature padded", format!("{signed}.{signature}==")),
        ("payload not base64", format!("{head}.$$.{signature}")),
        ("two segments", signed.to_owned()),
        ("four segments", format!("{good}.{payload}")),
        ("empty", String::new()),
        ("dots", "..".into()),
        ("too long", format!("{good}{}", "A".repeat(8192))),
        (
            "header too long",
            format!("{}.{payload}.{signature}", "e".repeat(8193)),
        ),
    ] {
        add(name.into(), token);
    }
    let another_key = Key::generate(6, 2048, 65537);
    add(
        "signed by another key".into(),
        another_key.token(header, &claims("")),
    );
    cases
}

#[test]
fn tokens_are_answered_as_jwt_simple_answers_them() {
    let key = key();
    let der = key.der();
    let (mut accepted, mut refused) = (0, 0);
    for (caller, options) in callers_options() {
        for (name, token) in token_cases(key) {
            let expected = jwt_simple(&der, &token, &options);
            assert_eq!(ours(&der, &token, &options), expected, "{caller}: {name}");
            match expected {
                Ok(_) => accepted += 1,
                Err(_) => refused += 1,
            }
        }
    }
    // Both outcomes occur under both callers' options, so the comparison
    // above is not one-sided.
    assert!(accepted >= 8, "only {accepted} accepted");
    assert!(refused >= 100, "only {refused} refused");
}

#[test]
fn options_it_does_not_implement_are_refused() {
    let key = key();
    let der = key.der();
    let token = key.token(
        r#"{"alg":"RS256"}"#,
        &format!(r#"{{"iss":"{ISSUER}","exp":{}}}"#, NOW + 60),
    );
    let [(_, base), _] = callers_options();
    assert!(ours(&der, &token, &base).is_ok(), "fixture");
    let unsupported = [
        VerificationOptions {
            reject_before: Some(UnixTimeStamp::from_secs(1)),
            ..base.clone()
        },
        VerificationOptions {
            required_key_id: Some("k1".into()),
            ..base.clone()
        },
        VerificationOptions {
            required_signature_type: Some("JWT".into()),
            ..base.clone()
        },
        VerificationOptions {
            required_content_type: Some("JWT".into()),
            ..base.clone()
        },
        VerificationOptions {
            required_nonce: Some("n".into()),
            ..base.clone()
        },
        VerificationOptions {
            max_validity: Some(Duration::from_secs(3600)),
            ..base.clone()
        },
        VerificationOptions {
            max_header_length: Some(100),
            ..base.clone()
        },
    ];
    for options in unsupported {
        assert_eq!(
            ours(&der, &token, &options),
            Err("Internal error: [unsupported verification option]".into())
        );
    }
}

#[test]
fn a_key_jwt_simple_cannot_read_is_unusable() {
    let options = &callers_options()[0].1;
    let theirs = jwt_simple(b"not DER", "a.b.c", options);
    assert!(theirs.is_err(), "fixture: {theirs:?}");
    assert_eq!(ours(b"not DER", "a.b.c", options), theirs);
}
