//! RS256 as flowgate verifies it (`assertion::verify_with` with an `RS256`
//! key, which runs `assertion::rs256`) against jwt-simple's
//! `RS256PublicKey::verify_token`, which it replaced (issue 16): the same
//! claims or the same error for every input. First byte even: the rest is
//! a token as presented (nobody else holds the key, so both must refuse
//! it, and for the same reason). Odd: the rest is `header \0 payload`,
//! signed with the key, so the checks behind the signature are compared
//! too.
#![no_main]

use std::collections::HashSet;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flowgate::account::StoredPublicKey;
use jwt_simple::prelude::{
    Duration, RS256PublicKey, RSAPublicKeyLike as _, UnixTimeStamp, VerificationOptions,
};
use libfuzzer_sys::fuzz_target;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::EncodePublicKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};

const ISSUER: &str = "https://issuer.fuzz";
const NOW: u64 = 1_800_000_000;

type Claims = serde_json::Map<String, serde_json::Value>;

struct Fixture {
    signing: SigningKey<sha2_010::Sha256>,
    der: Vec<u8>,
    stored: StoredPublicKey,
}

/// A deterministic generator for the fixture key (SHA-256 of a counter), so
/// that every run fuzzes against the same key.
struct FixedRng(u64);

impl rsa::rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        use sha2_010::Digest as _;
        for chunk in dest.chunks_mut(32) {
            self.0 += 1;
            let block = sha2_010::Sha256::digest(self.0.to_le_bytes());
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rsa::rand_core::CryptoRng for FixedRng {}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let private = rsa::RsaPrivateKey::new(&mut FixedRng(0), 2048).expect("key");
        let der = private
            .to_public_key()
            .to_public_key_der()
            .expect("DER")
            .into_vec();
        Fixture {
            signing: SigningKey::new(private),
            stored: StoredPublicKey {
                kid: "k1".into(),
                alg: "RS256".into(),
                spki: URL_SAFE_NO_PAD.encode(&der),
                added_at: 0,
            },
            der,
        }
    })
}

fn options() -> VerificationOptions {
    VerificationOptions {
        allowed_issuers: Some(HashSet::from([ISSUER.to_owned()])),
        time_tolerance: Some(Duration::from_secs(10)),
        artificial_time: Some(UnixTimeStamp::from_secs(NOW)),
        max_token_length: Some(8192),
        ..VerificationOptions::default()
    }
}

/// Claims as JSON with the audiences in order (jwt-simple keeps a set).
fn answer(claims: jwt_simple::claims::JWTClaims<Claims>) -> serde_json::Value {
    let mut value = serde_json::to_value(claims).expect("claims");
    if let Some(serde_json::Value::Array(audiences)) = value.get_mut("aud") {
        audiences.sort_by_key(ToString::to_string);
    }
    value
}

// The key is made before the first input: under the fuzzer's
// instrumentation that takes longer than one input may.
fuzz_target!(init: { fixture(); }, |data: &[u8]| {
    let Some((mode, data)) = data.split_first() else {
        return;
    };
    let fixture = fixture();
    let token = if mode % 2 == 0 {
        let Ok(token) = std::str::from_utf8(data) else {
            return;
        };
        token.to_owned()
    } else {
        let (header, payload) = match data.iter().position(|b| *b == 0) {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, &b"{}"[..]),
        };
        let signed = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = fixture.signing.sign(signed.as_bytes()).to_vec();
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
    };
    let ours = flowgate::assertion::verify_with::<Claims>(&fixture.stored, &token, options())
        .map(answer)
        .map_err(|e| e.map(|e| e.to_string()));
    let theirs = RS256PublicKey::from_der(&fixture.der)
        .expect("key")
        .verify_token::<Claims>(&token, Some(options()))
        .map(answer)
        .map_err(|e| Some(e.to_string()));
    assert_eq!(ours, theirs, "token {token:?}");
    if mode % 2 == 0 {
        assert!(ours.is_err(), "an unsigned input verified: {token:?}");
    }
});
