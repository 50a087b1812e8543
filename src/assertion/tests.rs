use jwt_simple::claims::Audiences;
use jwt_simple::prelude::{
    ECDSAP256KeyPairLike as _, ES256KeyPair, Ed25519KeyPair, EdDSAKeyPairLike as _, HS256Key,
    JWTClaims, MACLike as _, NoCustomClaims, RS256KeyPair, RSAKeyPairLike as _, UnixTimeStamp,
};

use super::*;

const CLIENT: &str = "abcdefghijklmnop";
const TOKEN_URL: &str = "https://flowgate.test/oauth2/token";
const NOW: u64 = 1_700_000_000;

fn claims(iss: &str, aud: &str, exp: Option<u64>, jti: Option<&str>) -> JWTClaims<NoCustomClaims> {
    JWTClaims {
        issued_at: Some(UnixTimeStamp::from_secs(NOW)),
        expires_at: exp.map(UnixTimeStamp::from_secs),
        invalid_before: None,
        issuer: Some(iss.to_owned()),
        subject: Some(iss.to_owned()),
        audiences: Some(Audiences::AsString(aud.to_owned())),
        jwt_id: jti.map(str::to_owned),
        nonce: None,
        custom: NoCustomClaims {},
    }
}

fn good() -> JWTClaims<NoCustomClaims> {
    claims(CLIENT, TOKEN_URL, Some(NOW + 60), Some("jti-1"))
}

fn ed25519() -> (Ed25519KeyPair, StoredPublicKey) {
    let pair = Ed25519KeyPair::generate().with_key_id("k1");
    let stored = parse_public_key(&pair.public_key().to_pem(), "k1", NOW).expect("pem");
    (pair, stored)
}

fn check(assertion: &str, key: &StoredPublicKey) -> Result<VerifiedAssertion, AssertionError> {
    verify(
        assertion,
        std::slice::from_ref(key),
        CLIENT,
        &[TOKEN_URL, "https://flowgate.test"],
        NOW,
    )
}

#[test]
fn each_supported_algorithm_verifies_from_pem() {
    let (ed, ed_key) = ed25519();
    assert_eq!(ed_key.alg, "EdDSA");
    let token = ed.sign(good()).expect("sign");
    assert_eq!(check(&token, &ed_key).expect("EdDSA").jti, "jti-1");

    let es = ES256KeyPair::generate().with_key_id("k1");
    let es_key =
        parse_public_key(&es.public_key().to_pem().expect("pem"), "k1", NOW).expect("ES256");
    assert_eq!(es_key.alg, "ES256");
    assert!(check(&es.sign(good()).expect("sign"), &es_key).is_ok());

    let rs = RS256KeyPair::generate(2048).expect("rsa").with_key_id("k1");
    let rs_key =
        parse_public_key(&rs.public_key().to_pem().expect("pem"), "k1", NOW).expect("RS256");
    assert_eq!(rs_key.alg, "RS256");
    assert!(check(&rs.sign(good()).expect("sign"), &rs_key).is_ok());
}

#[test]
fn jwk_keys_parse_and_private_or_mismatched_ones_are_refused() {
    let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([7; 32]));
    let x = URL_SAFE_NO_PAD.encode(*pair.pk);
    let jwk = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x });
    assert_eq!(
        parse_public_key(&jwk.to_string(), "k", NOW)
            .expect("jwk")
            .alg,
        "EdDSA"
    );
    let private = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "d": "AAAA" });
    assert_eq!(
        parse_public_key(&private.to_string(), "k", NOW),
        Err(KeyMaterialError::Private)
    );
    let wrong_alg = serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": x, "alg": "HS256" });
    assert!(matches!(
        parse_public_key(&wrong_alg.to_string(), "k", NOW),
        Err(KeyMaterialError::Algorithm(_))
    ));
    for bad in [
        "",
        "not a key",
        "{\"kty\":\"oct\",\"k\":\"AAAA\"}",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ] {
        assert!(parse_public_key(bad, "k", NOW).is_err(), "{bad}");
    }
}

#[test]
fn weak_rsa_keys_are_refused() {
    // A 1024-bit modulus (odd, top bit set); whichever layer notices first,
    // the key must not be registered.
    let mut n = vec![0xc5u8; 128];
    n[127] |= 1;
    let jwk = serde_json::json!({ "kty": "RSA", "n": URL_SAFE_NO_PAD.encode(&n), "e": "AQAB" });
    let result = parse_public_key(&jwk.to_string(), "k", NOW);
    assert!(
        matches!(
            result,
            Err(KeyMaterialError::WeakRsa | KeyMaterialError::Unsupported(_))
        ),
        "{result:?}"
    );
}

#[test]
fn algorithm_is_pinned_to_the_registered_key() {
    let (_, ed_key) = ed25519();
    // An ES256 key signing under the same kid: refused before any signature check.
    let es = ES256KeyPair::generate().with_key_id("k1");
    let token = es.sign(good()).expect("sign");
    assert_eq!(check(&token, &ed_key), Err(AssertionError::Header("alg")));
    // HMAC with the public key as the shared secret (key confusion).
    let der = URL_SAFE_NO_PAD.decode(&ed_key.spki).expect("der");
    let hs = HS256Key::from_bytes(&der).with_key_id("k1");
    let token = hs.authenticate(good()).expect("mac");
    assert_eq!(check(&token, &ed_key), Err(AssertionError::Header("alg")));
    // alg none.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good()).expect("json"));
    assert_eq!(
        check(&format!("{header}.{payload}."), &ed_key),
        Err(AssertionError::Header("alg"))
    );
}

#[test]
fn claims_are_checked() {
    let (ed, key) = ed25519();
    let cases = [
        claims("someone-else", TOKEN_URL, Some(NOW + 60), Some("j")),
        claims(CLIENT, "https://elsewhere/token", Some(NOW + 60), Some("j")),
        claims(CLIENT, TOKEN_URL, Some(NOW - 60), Some("j")),
        claims(CLIENT, TOKEN_URL, None, Some("j")),
        claims(CLIENT, TOKEN_URL, Some(NOW + 2 * MAX_LIFETIME), Some("j")),
        claims(CLIENT, TOKEN_URL, Some(NOW + 60), None),
    ];
    for c in cases {
        let token = ed.sign(c.clone()).expect("sign");
        assert!(
            matches!(check(&token, &key), Err(AssertionError::Rejected(_))),
            "{c:?}"
        );
    }
    let issuer_aud = ed
        .sign(claims(
            CLIENT,
            "https://flowgate.test",
            Some(NOW + 60),
            Some("j"),
        ))
        .expect("sign");
    assert!(
        check(&issuer_aud, &key).is_ok(),
        "the issuer is an accepted audience"
    );
}

#[test]
fn unknown_kid_tampering_and_crit_are_refused() {
    let (ed, key) = ed25519();
    let other = Ed25519KeyPair::generate().with_key_id("k2");
    assert_eq!(
        check(&other.sign(good()).expect("sign"), &key),
        Err(AssertionError::UnknownKey)
    );
    let token = ed.sign(good()).expect("sign");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut c = good();
    c.subject = Some("aaaaaaaaaaaaaaaa".into());
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).expect("json"));
    assert!(check(&parts.join("."), &key).is_err());
    let crit = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","kid":"k1","crit":["x"]}"#);
    let token = format!("{crit}.{}.{}", parts[1], parts[2]);
    assert_eq!(check(&token, &key), Err(AssertionError::Header("crit")));
    assert_eq!(
        claimed_client(&ed.sign(good()).expect("sign")),
        Ok(CLIENT.to_owned())
    );
}
