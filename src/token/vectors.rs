//! Public test vectors against the verification paths flowgate uses: RFC 8037
//! appendix A.4 (EdDSA JWS) and RFC 7515 appendix A.1/A.3 (HS256, ES256
//! JWS), and the Wycheproof Ed25519, HMAC-SHA-256 and JSON Web Signature
//! files (vendored under `tests/vectors/wycheproof/` with their Apache-2.0
//! licence; docs/security-testing.md says where they came from).
//!
//! flowgate verifies its own tokens with `EdDSA` (Ed25519) through
//! ed25519-dalek's `verify_strict`, and `EdDSA` client assertions and external
//! OIDC tokens through jwt-simple's pure-Rust backend
//! (`ed25519_compact::PublicKey::verify`): the Wycheproof Ed25519 file runs
//! against both. `private_key_jwt` assertions and external OIDC tokens may
//! also be `ES256` or `RS256`, so the Wycheproof ECDSA P-256 (P1363) and RSA 2048 PKCS#1
//! v1.5 files run against the verifiers jwt-simple builds for them; HMAC-
//! SHA-256 is what stored digests use. The JWS file's cases are all expected
//! to be refused by `verify_access_token`, which accepts only our EdDSA.

use hmac::{KeyInit as _, Mac as _};
use jwt_simple::prelude::Ed25519PublicKey;

use super::*;

fn hex(text: &str) -> Vec<u8> {
    assert!(text.len().is_multiple_of(2), "odd hex: {text}");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn b64url(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

#[allow(
    clippy::disallowed_methods,
    reason = "a unit test reads its test-vector file; the core itself reads none"
)]
fn wycheproof(file: &str) -> serde_json::Value {
    let path = format!(
        "{}/tests/vectors/wycheproof/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("Wycheproof JSON")
}

/// Every test of a Wycheproof file with its group.
fn cases(file: &serde_json::Value) -> Vec<(&serde_json::Value, &serde_json::Value)> {
    let groups = file["testGroups"].as_array().expect("testGroups");
    groups
        .iter()
        .flat_map(|g| {
            g["tests"]
                .as_array()
                .expect("tests")
                .iter()
                .map(move |t| (g, t))
        })
        .collect()
}

/// The Ed25519 verification jwt-simple performs for an `EdDSA` JWS: parse the
/// key as jwt-simple does, then `ed25519_compact` over the message.
fn jwt_simple_ed25519_verify(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    use jwt_simple::prelude::EdDSAPublicKeyLike as _;
    let Ok(key) = Ed25519PublicKey::from_bytes(public) else {
        return false;
    };
    let Ok(signature) = ed25519_compact::Signature::from_slice(signature) else {
        return false;
    };
    key.public_key()
        .as_ref()
        .verify(message, &signature)
        .is_ok()
}

// RFC 8037 appendix A.4: `{"alg":"EdDSA"}` over "Example of Ed25519 signing"
// with the appendix A.1 key.
const RFC8037_A4_INPUT: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
const RFC8037_A4_SIGNATURE: &str =
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

#[test]
fn rfc8037_a4_signature_verifies_with_jwt_simples_ed25519_verifier() {
    let public = b64url(RFC8037_X);
    let signature = b64url(RFC8037_A4_SIGNATURE);
    assert!(jwt_simple_ed25519_verify(
        &public,
        RFC8037_A4_INPUT.as_bytes(),
        &signature
    ));
    // One flipped bit anywhere in the signature or the input is refused.
    for i in 0..signature.len() {
        let mut bad = signature.clone();
        bad[i] ^= 0x01;
        assert!(
            !jwt_simple_ed25519_verify(&public, RFC8037_A4_INPUT.as_bytes(), &bad),
            "signature byte {i}"
        );
    }
    let mut input = RFC8037_A4_INPUT.as_bytes().to_vec();
    input[5] ^= 0x01;
    assert!(!jwt_simple_ed25519_verify(&public, &input, &signature));
}

#[test]
fn rfc8037_a4_signature_is_reproduced_from_the_a1_seed() {
    // Ed25519 is deterministic: the signer flowgate builds from
    // `signing_key` (ed25519-dalek) gives the RFC's public key and its exact
    // signature, and so does ed25519-compact, which verifies behind
    // jwt-simple.
    let seed: [u8; 32] = b64url(RFC8037_D).try_into().expect("32 bytes");
    let signer = ed25519_dalek::SigningKey::from_bytes(&seed);
    assert_eq!(
        signer.verifying_key().as_bytes().as_slice(),
        b64url(RFC8037_X).as_slice()
    );
    let signature = ed25519_dalek::Signer::sign(&signer, RFC8037_A4_INPUT.as_bytes());
    assert_eq!(
        URL_SAFE_NO_PAD.encode(signature.to_bytes()),
        RFC8037_A4_SIGNATURE
    );
    let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed));
    assert_eq!(pair.pk.as_ref(), b64url(RFC8037_X).as_slice());
    let signature = pair.sk.sign(RFC8037_A4_INPUT, None);
    assert_eq!(
        URL_SAFE_NO_PAD.encode(signature.as_ref()),
        RFC8037_A4_SIGNATURE
    );
    // And the JWKS of that seed publishes the RFC's `x`.
    let keys = SigningKeys::from_variables(RFC8037_D, "").expect("keys");
    assert_eq!(keys.jwks()["keys"][0]["x"], RFC8037_X);
}

#[test]
fn rfc8037_a4_jws_is_not_an_access_token() {
    // A genuine EdDSA JWS of the right key, but without `typ` and `kid`.
    let keys = SigningKeys::from_variables(RFC8037_D, "").expect("keys");
    let jws = format!("{RFC8037_A4_INPUT}.{RFC8037_A4_SIGNATURE}");
    assert_eq!(
        keys.verify_access_token(&jws, "x", "y", 0),
        Err(TokenError::Header("typ"))
    );
}

// RFC 7515 appendix A.1 (HS256) and A.3 (ES256): the same claims, signed
// with keys of other algorithms.
const RFC7515_PAYLOAD: &str = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const RFC7515_A1: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC7515_A1_KEY: &str =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const RFC7515_A3: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

#[test]
fn rfc7515_a1_hmac_matches_the_hmac_crate_flowgate_uses() {
    let (input, signature) = RFC7515_A1.rsplit_once('.').expect("three parts");
    assert!(input.ends_with(RFC7515_PAYLOAD));
    let mut mac =
        hmac::Hmac::<Sha256>::new_from_slice(&b64url(RFC7515_A1_KEY)).expect("any length");
    mac.update(input.as_bytes());
    assert_eq!(mac.finalize().into_bytes().as_slice(), b64url(signature));
}

#[test]
fn rfc7515_a1_and_a3_validly_signed_foreign_jws_are_refused() {
    let keys = SigningKeys::from_variables(RFC8037_D, "").expect("keys");
    for jws in [RFC7515_A1, RFC7515_A3] {
        assert_eq!(
            keys.verify_access_token(jws, "joe", "joe", 1_300_819_000),
            Err(TokenError::Header("alg")),
            "{jws}"
        );
    }
}

/// Wycheproof Ed25519 cases that the verifier does not follow, each with the
/// reason. Empty: ed25519-compact and ed25519-dalek's `verify_strict` agree
/// with every case of the file.
const ED25519_SKIPS: &[(u64, &str)] = &[];

/// The Ed25519 verification `verify_access_token` performs: ed25519-dalek's
/// `verify_strict`.
fn dalek_strict_verify(public: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let Ok(public) = <[u8; 32]>::try_from(public) else {
        return false;
    };
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&public) else {
        return false;
    };
    let Ok(signature) = <[u8; 64]>::try_from(signature) else {
        return false;
    };
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature))
        .is_ok()
}

/// Runs every case of the Wycheproof Ed25519 file through `verify`.
fn wycheproof_ed25519(verify: fn(&[u8], &[u8], &[u8]) -> bool) {
    let file = wycheproof("ed25519_test.json");
    assert_eq!(file["algorithm"], "EDDSA");
    let (mut run, mut skipped, mut failures) = (0, 0, Vec::new());
    for (group, test) in cases(&file) {
        let id = test["tcId"].as_u64().expect("tcId");
        if ED25519_SKIPS.iter().any(|(skip, _)| *skip == id) {
            skipped += 1;
            continue;
        }
        assert_eq!(group["publicKey"]["curve"], "edwards25519");
        let public = hex(group["publicKey"]["pk"].as_str().expect("pk"));
        let message = hex(test["msg"].as_str().expect("msg"));
        let signature = hex(test["sig"].as_str().expect("sig"));
        let expected = match test["result"].as_str() {
            Some("valid") => true,
            Some("invalid") => false,
            other => panic!("tcId {id}: result {other:?} is not in this file's schema"),
        };
        if verify(&public, &message, &signature) != expected {
            failures.push(format!(
                "tcId {id} ({}): expected {expected}",
                test["comment"]
            ));
        }
        run += 1;
    }
    assert_eq!(
        run + skipped,
        file["numberOfTests"].as_u64().expect("count")
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn wycheproof_ed25519_through_jwt_simples_verifier() {
    wycheproof_ed25519(jwt_simple_ed25519_verify);
}

#[test]
fn wycheproof_ed25519_through_the_access_token_verifier() {
    wycheproof_ed25519(dalek_strict_verify);
}

#[test]
fn wycheproof_hmac_sha256_through_the_hmac_crate() {
    let file = wycheproof("hmac_sha256_test.json");
    let (mut run, mut failures) = (0, Vec::new());
    for (group, test) in cases(&file) {
        let id = test["tcId"].as_u64().expect("tcId");
        let tag_bytes = group["tagSize"].as_u64().expect("tagSize") as usize / 8;
        let mut mac =
            hmac::Hmac::<Sha256>::new_from_slice(&hex(test["key"].as_str().expect("key")))
                .expect("HMAC takes keys of any length");
        mac.update(&hex(test["msg"].as_str().expect("msg")));
        let full = mac.finalize().into_bytes();
        let tag = hex(test["tag"].as_str().expect("tag"));
        // Truncated tags (tagSize 128) are compared on their length, as a
        // verifier of truncated HMACs would; flowgate itself stores all 32.
        let matches = tag.len() == tag_bytes && full[..tag_bytes] == tag[..];
        let expected = test["result"] == "valid";
        if matches != expected {
            failures.push(format!(
                "tcId {id} ({}): expected {expected}",
                test["comment"]
            ));
        }
        run += 1;
    }
    assert_eq!(run, file["numberOfTests"].as_u64().expect("count"));
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn wycheproof_json_web_signatures_are_all_refused_as_access_tokens() {
    // The file has no EdDSA case: its valid cases are valid under HS256,
    // ES256, ES512, RS*, PS* with their own keys, which flowgate never
    // accepts. So the whole file is the "skip list" in the sense that no case
    // is run for acceptance, and every case, valid or not, must be refused.
    let file = wycheproof("json_web_signature_test.json");
    let keys = SigningKeys::from_variables(RFC8037_D, "").expect("keys");
    let (mut compact, mut json_form) = (0, 0);
    for (_, test) in cases(&file) {
        let id = test["tcId"].as_u64().expect("tcId");
        let jws = match &test["jws"] {
            serde_json::Value::String(s) => {
                compact += 1;
                s.clone()
            }
            // JSON serialisation cannot be a Bearer value (not token68);
            // its text still must not verify.
            other => {
                json_form += 1;
                other.to_string()
            }
        };
        for (issuer, audience) in [("joe", "joe"), ("", ""), ("https://x", "https://x/flows")] {
            for now in [0, 1_300_819_000, 2_000_000_000] {
                assert!(
                    keys.verify_access_token(&jws, issuer, audience, now)
                        .is_err(),
                    "tcId {id} was accepted"
                );
            }
        }
    }
    assert_eq!(
        compact + json_form,
        file["numberOfTests"].as_u64().expect("count")
    );
    assert!(compact > 300, "{compact} compact cases");
}

/// Wycheproof `ecdsa_secp256r1_sha256_p1363_test.json` (262 cases): ES256
/// as `private_key_jwt` and OIDC verify it. Each group's key is loaded with
/// `ES256PublicKey::from_der`, the call `assertion::verify_with` makes, and
/// every case is checked against the verifying key jwt-simple holds. Valid
/// cases must verify, invalid ones must not; the file has no `acceptable`
/// cases, so nothing is skipped.
#[test]
fn wycheproof_ecdsa_p256_sha256_p1363() {
    use jwt_simple::prelude::{ECDSAP256PublicKeyLike as _, ES256PublicKey};
    use p256::ecdsa::signature::Verifier as _;

    let file = wycheproof("ecdsa_secp256r1_sha256_p1363_test.json");
    let mut checked = 0;
    for group in file["testGroups"].as_array().expect("groups") {
        let der = hex(group["publicKeyDer"].as_str().expect("publicKeyDer"));
        let key = ES256PublicKey::from_der(&der).expect("every group key is a valid P-256 key");
        let verifying: &p256::ecdsa::VerifyingKey = key.public_key().as_ref();
        for case in group["tests"].as_array().expect("tests") {
            let id = &case["tcId"];
            let msg = hex(case["msg"].as_str().expect("msg"));
            let sig = hex(case["sig"].as_str().expect("sig"));
            let verified = p256::ecdsa::Signature::from_slice(&sig)
                .map(|s| verifying.verify(&msg, &s).is_ok())
                .unwrap_or(false);
            match case["result"].as_str() {
                Some("valid") => assert!(verified, "tcId {id}: a valid signature was refused"),
                Some("invalid") => assert!(!verified, "tcId {id}: an invalid signature verified"),
                other => panic!("tcId {id}: unexpected result {other:?}"),
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked,
        file["numberOfTests"].as_u64().expect("count") as usize
    );
}

/// Cases of the RSA file whose `result` is `acceptable`: recorded, not
/// asserted, each with its reason.
const RSA_SKIPS: &[(u64, &str)] = &[(
    8,
    "acceptable: DigestInfo without the NULL parameter; RFC 8017 leaves accepting it to the verifier",
)];

/// Wycheproof `rsa_signature_2048_sha256_test.json` (259 cases): RS256 as
/// `private_key_jwt` and OIDC verify it. Each group's key is loaded from its
/// PEM with `RS256PublicKey::from_pem`, as `assertion::parse_public_key`
/// loads a registered key, and checked with the PKCS#1 v1.5 verifier of the
/// `rsa` crate that jwt-simple uses.
#[test]
fn wycheproof_rsa_2048_sha256_pkcs1() {
    use jwt_simple::prelude::RS256PublicKey;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier as _;
    use rsa::{BigUint, RsaPublicKey};

    let file = wycheproof("rsa_signature_2048_sha256_test.json");
    let (mut checked, mut skipped, mut refused_keys) = (0, 0, 0);
    for group in file["testGroups"].as_array().expect("groups") {
        let pem = group["publicKeyPem"].as_str().expect("publicKeyPem");
        let Ok(key) = RS256PublicKey::from_pem(pem) else {
            // Skipped with a reason: the key itself (public exponent 3) is
            // refused by the key policy, so it can never be registered and
            // none of its signatures can reach a verifier of ours.
            assert!(
                crate::assertion::parse_public_key(pem, "k", 0).is_err(),
                "a key jwt-simple refuses must be refused at registration too"
            );
            refused_keys += 1;
            skipped += group["tests"].as_array().map_or(0, Vec::len);
            continue;
        };
        let components = key.to_components();
        let public = RsaPublicKey::new(
            BigUint::from_bytes_be(&components.n),
            BigUint::from_bytes_be(&components.e),
        )
        .expect("RSA key");
        let verifying = VerifyingKey::<sha2_010::Sha256>::new(public);
        for case in group["tests"].as_array().expect("tests") {
            let id = case["tcId"].as_u64().expect("tcId");
            let msg = hex(case["msg"].as_str().expect("msg"));
            let sig = hex(case["sig"].as_str().expect("sig"));
            let verified = Signature::try_from(sig.as_slice())
                .map(|s| verifying.verify(&msg, &s).is_ok())
                .unwrap_or(false);
            if RSA_SKIPS.iter().any(|(skip, _)| *skip == id) {
                // An "acceptable" case: the rsa crate and flowgate's
                // verifier both refuse it.
                assert!(!verified, "tcId {id}: the rsa crate accepts it");
                assert!(!crate::assertion::rs256::verify_signature(
                    &components.n,
                    &components.e,
                    &msg,
                    &sig
                ));
                skipped += 1;
                continue;
            }
            // flowgate's own RS256 arithmetic (`assertion::rs256`), which
            // verifies RS256 tokens in place of the `rsa` crate, says the same.
            assert_eq!(
                crate::assertion::rs256::verify_signature(&components.n, &components.e, &msg, &sig),
                verified,
                "tcId {id}: flowgate's RS256 verifier differs from the rsa crate"
            );
            match case["result"].as_str() {
                Some("valid") => assert!(verified, "tcId {id}: a valid signature was refused"),
                Some("invalid") => assert!(!verified, "tcId {id}: an invalid signature verified"),
                other => panic!("tcId {id}: {other:?} is not in the skip list"),
            }
            checked += 1;
        }
    }
    assert_eq!(refused_keys, 2, "the two exponent-3 groups");
    assert!(checked > 250, "only {checked} cases were run");
    assert_eq!(
        checked + skipped,
        file["numberOfTests"].as_u64().expect("count") as usize
    );
}
