use super::*;

/// RFC 8037 appendix A.1: the Ed25519 private key `d` (the seed).
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 8037 appendix A.3: the RFC 7638 thumbprint of that key.
const RFC8037_KID: &str = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

const OTHER_SEED: &str = "0101010101010101010101010101010101010101010101010101010101010101";
const ISS: &str = "https://flowgate.example";
const AUD: &str = "https://flowgate.example/flows";

fn keys() -> SigningKeys {
    SigningKeys::from_variables(RFC8037_D, "").expect("keys")
}

fn issue(keys: &SigningKeys, now: u64) -> String {
    keys.sign_access_token(&NewAccessToken {
        issuer: ISS,
        audience: AUD,
        subject: "abcdefghijklmnop",
        scope: "orders reports",
        id: "jti-1",
        now,
        lifetime: 300,
        cnf: None,
    })
    .expect("signed")
}

fn b64(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// A token with the given header and payload, signed by nobody.
fn forged(header: serde_json::Value, payload: serde_json::Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64(&header), b64(&payload))
}

fn payload(now: u64) -> serde_json::Value {
    serde_json::json!({
        "iss": ISS, "aud": AUD, "sub": "abcdefghijklmnop", "client_id": "abcdefghijklmnop",
        "scope": "orders", "jti": "x", "iat": now, "exp": now + 300,
    })
}

#[test]
fn rfc8037_key_derives_the_published_public_key_and_thumbprint() {
    let jwks = keys().jwks();
    assert_eq!(jwks["keys"][0]["x"], RFC8037_X);
    assert_eq!(jwks["keys"][0]["kid"], RFC8037_KID);
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");
}

#[test]
fn issued_token_verifies_with_its_claims() {
    let k = keys();
    let token = issue(&k, 1_000);
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], RFC8037_KID);
    let verified = k
        .verify_access_token(&token, ISS, AUD, 1_100)
        .expect("valid");
    assert_eq!(verified.subject, "abcdefghijklmnop");
    assert_eq!(verified.expires_at, 1_300);
    assert!(verified.allows_flow("orders") && verified.allows_flow("reports"));
    assert!(!verified.allows_flow("order"));
}

#[test]
fn expired_token_is_rejected_beyond_the_leeway() {
    let k = keys();
    let token = issue(&k, 1_000);
    assert!(
        k.verify_access_token(&token, ISS, AUD, 1_300 + LEEWAY_SECONDS)
            .is_ok()
    );
    assert!(matches!(
        k.verify_access_token(&token, ISS, AUD, 1_301 + LEEWAY_SECONDS),
        Err(TokenError::Rejected(_))
    ));
}

#[test]
fn issue16_the_unverified_expiry_screen_refuses_what_verification_refuses() {
    let k = keys();
    let token = issue(&k, 1_000);
    let claimed = crate::oidc::Claimed::read(&token).expect("readable");
    assert_eq!(claimed.issuer.as_deref(), Some(ISS));
    let last = 1_300 + LEEWAY_SECONDS;
    for now in last - 2..=last + 2 {
        assert_eq!(
            claimed.refuse_expired(now).is_err(),
            k.verify_access_token(&token, ISS, AUD, now).is_err(),
            "at {now}"
        );
    }
}

/// RFC 8037's key pair, the one [`keys`] signs with.
fn rfc8037_pair() -> ed25519_compact::KeyPair {
    ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(
        URL_SAFE_NO_PAD
            .decode(RFC8037_D)
            .expect("seed")
            .try_into()
            .expect("32 bytes"),
    ))
}

/// `header.payload` with the payload given as text, signed with the key.
fn signed_text(header: &serde_json::Value, payload: &str) -> String {
    let input = format!("{}.{}", b64(header), URL_SAFE_NO_PAD.encode(payload));
    let pair = rfc8037_pair();
    let sig = URL_SAFE_NO_PAD.encode(pair.sk.sign(input.as_bytes(), None));
    format!("{input}.{sig}")
}

#[test]
fn issue16_a_repeated_exp_is_refused_by_the_screen_and_by_verification() {
    // The screen reads the last `exp` (a JSON value keeps the last of a
    // repeated name); were verification to read the first, a token with a
    // valid `exp` first and an expired one last would be refused by the
    // screen alone. It is not: verification refuses it too.
    let k = keys();
    let header = serde_json::json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": RFC8037_KID });
    let claims = |exps: &str| {
        format!(
            r#"{{"iss":"{ISS}","aud":"{AUD}","sub":"abcdefghijklmnop","client_id":"abcdefghijklmnop","scope":"orders","jti":"x","iat":1000,{exps}}}"#
        )
    };
    let once = signed_text(&header, &claims(r#""exp":1300"#));
    assert!(k.verify_access_token(&once, ISS, AUD, 1_000).is_ok());
    let twice = signed_text(&header, &claims(r#""exp":1300,"exp":500"#));
    let claimed = crate::oidc::Claimed::read(&twice).expect("readable");
    assert_eq!(claimed.expires_at, Some(500));
    assert!(claimed.refuse_expired(1_000).is_err());
    assert!(k.verify_access_token(&twice, ISS, AUD, 1_000).is_err());
}

#[test]
fn token_from_the_future_is_rejected() {
    let k = keys();
    let token = issue(&k, 10_000);
    assert!(
        k.verify_access_token(&token, ISS, AUD, 10_000 - 60)
            .is_err()
    );
}

#[test]
fn wrong_issuer_or_audience_is_rejected() {
    let k = keys();
    let token = issue(&k, 1_000);
    assert!(
        k.verify_access_token(&token, "https://evil.example", AUD, 1_000)
            .is_err()
    );
    assert!(
        k.verify_access_token(&token, ISS, "https://other/flows", 1_000)
            .is_err()
    );
}

#[test]
fn tampered_payload_is_rejected() {
    let k = keys();
    let token = issue(&k, 1_000);
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = payload(1_000);
    claims["scope"] = "orders reports admin".into();
    let tampered = format!("{}.{}.{}", parts[0], b64(&claims), parts[2]);
    assert!(matches!(
        k.verify_access_token(&tampered, ISS, AUD, 1_000),
        Err(TokenError::Rejected(_))
    ));
}

#[test]
fn previous_key_still_verifies_and_unknown_keys_do_not() {
    let old = SigningKeys::from_variables(OTHER_SEED, "").expect("old");
    let rotated = SigningKeys::from_variables(RFC8037_D, OTHER_SEED).expect("rotated");
    let token = issue(&old, 1_000);
    assert!(rotated.verify_access_token(&token, ISS, AUD, 1_000).is_ok());
    assert_eq!(rotated.jwks()["keys"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        keys().verify_access_token(&token, ISS, AUD, 1_000),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn alg_none_and_hmac_confusion_are_rejected() {
    let k = keys();
    for alg in ["none", "None", "HS256", "RS256", "ES256"] {
        let header = serde_json::json!({ "alg": alg, "typ": "at+jwt", "kid": RFC8037_KID });
        let token = forged(header, payload(1_000), "c2ln");
        assert_eq!(
            k.verify_access_token(&token, ISS, AUD, 1_000),
            Err(TokenError::Header("alg")),
            "{alg}"
        );
    }
    let missing = forged(
        serde_json::json!({ "typ": "at+jwt" }),
        payload(1_000),
        "c2ln",
    );
    assert!(k.verify_access_token(&missing, ISS, AUD, 1_000).is_err());
}

#[test]
fn wrong_typ_crit_and_missing_kid_are_rejected() {
    let k = keys();
    let cases = [
        (
            serde_json::json!({ "alg": "EdDSA", "typ": "JWT", "kid": RFC8037_KID }),
            TokenError::Header("typ"),
        ),
        (
            serde_json::json!({ "alg": "EdDSA", "kid": RFC8037_KID }),
            TokenError::Header("typ"),
        ),
        (
            serde_json::json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": RFC8037_KID, "crit": ["exp"] }),
            TokenError::Header("crit"),
        ),
        (
            serde_json::json!({ "alg": "EdDSA", "typ": "at+jwt" }),
            TokenError::UnknownKey,
        ),
        (
            serde_json::json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": "../../etc/passwd" }),
            TokenError::UnknownKey,
        ),
    ];
    for (header, expected) in cases {
        let token = forged(header.clone(), payload(1_000), "c2ln");
        assert_eq!(
            k.verify_access_token(&token, ISS, AUD, 1_000),
            Err(expected),
            "{header}"
        );
    }
}

#[test]
fn embedded_key_headers_are_never_used() {
    // A token signed by an attacker's key that names that key in `jwk` or
    // `jku` must fail: only our kid selects a key.
    let attacker = SigningKeys::from_variables(OTHER_SEED, "").expect("attacker");
    let token = issue(&attacker, 1_000);
    assert!(keys().verify_access_token(&token, ISS, AUD, 1_000).is_err());
}

#[test]
fn oversized_and_malformed_tokens_are_rejected_before_parsing() {
    let k = keys();
    let huge = format!("a.{}.c", "b".repeat(MAX_TOKEN_LEN));
    assert_eq!(
        k.verify_access_token(&huge, ISS, AUD, 0),
        Err(TokenError::Malformed)
    );
    for bad in ["", "a.b", "a.b.c.d", "...", "not-a-jwt"] {
        assert!(k.verify_access_token(bad, ISS, AUD, 0).is_err(), "{bad}");
    }
}

#[test]
fn malformed_signing_keys_name_their_variable() {
    let err = SigningKeys::from_variables("short", "").expect_err("short");
    assert!(err.to_string().contains("signing_key"), "{err}");
    let err = SigningKeys::from_variables(RFC8037_D, "zz").expect_err("previous");
    assert!(err.to_string().contains("signing_key_previous"), "{err}");
}

#[test]
fn identity_assertion_has_its_own_type_and_is_no_access_token() {
    let k = keys();
    let assertion = k
        .sign_identity_assertion(&NewAssertion {
            issuer: ISS,
            account_id: "abcdefghijklmnop",
            account_name: "svc",
            flow: "orders",
            id: "a-1",
            now: 1_000,
            metadata: None,
        })
        .expect("signed");
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(assertion.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header["typ"], ASSERTION_TYPE);
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(assertion.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(claims["aud"], format!("{ISS}/flows/orders"));
    assert_eq!(claims["exp"], 1_000 + ASSERTION_LIFETIME);
    assert_eq!(claims["flow"], "orders");
    assert_eq!(
        k.verify_access_token(&assertion, ISS, AUD, 1_000),
        Err(TokenError::Header("typ")),
        "an identity assertion must not pass as an access token"
    );
}

#[test]
fn full_media_type_typ_is_accepted_as_rfc9068_requires() {
    let k = keys();
    let token = issue(&k, 1_000);
    let parts: Vec<&str> = token.split('.').collect();
    let mut header =
        serde_json::json!({ "alg": "EdDSA", "typ": "application/at+jwt", "kid": RFC8037_KID });
    let signing_input = format!("{}.{}", b64(&header), parts[1]);
    let pair = rfc8037_pair();
    let sig = URL_SAFE_NO_PAD.encode(pair.sk.sign(signing_input.as_bytes(), None));
    assert!(
        k.verify_access_token(&format!("{signing_input}.{sig}"), ISS, AUD, 1_000)
            .is_ok()
    );
    header["typ"] = "application/jwt".into();
    let signing_input = format!("{}.{}", b64(&header), parts[1]);
    let sig = URL_SAFE_NO_PAD.encode(pair.sk.sign(signing_input.as_bytes(), None));
    assert_eq!(
        k.verify_access_token(&format!("{signing_input}.{sig}"), ISS, AUD, 1_000),
        Err(TokenError::Header("typ"))
    );
}

#[test]
fn a_lifetime_longer_than_we_ever_issue_is_refused() {
    let k = keys();
    let long = k
        .sign_access_token(&NewAccessToken {
            issuer: ISS,
            audience: AUD,
            subject: "abcdefghijklmnop",
            scope: "orders",
            id: "j",
            now: 1_000,
            lifetime: MAX_ACCESS_TOKEN_LIFETIME + 1,
            cnf: None,
        })
        .expect("signed");
    assert!(matches!(
        k.verify_access_token(&long, ISS, AUD, 1_000),
        Err(TokenError::Rejected(_))
    ));
}

/// The bound form (module `key`) of a seed given as text.
fn bound_text(seed_text: &str) -> String {
    key::bound_value_of(SIGNING_KEY_VARIABLE, seed_text)
        .expect("seed")
        .to_string()
}

#[test]
fn plain_and_bound_forms_of_one_seed_publish_the_same_jwks_and_sign_the_same_token() {
    let plain = keys();
    let bound = SigningKeys::from_variables(&bound_text(RFC8037_D), "").expect("bound");
    assert_eq!(plain.jwks(), bound.jwks());
    assert_eq!(bound.jwks()["keys"][0]["kid"], RFC8037_KID);
    // Ed25519 is deterministic: the same claims give the same bytes.
    let token = issue(&bound, 1_000);
    assert_eq!(token, issue(&plain, 1_000));
    assert!(plain.verify_access_token(&token, ISS, AUD, 1_000).is_ok());
    assert!(bound.verify_access_token(&token, ISS, AUD, 1_000).is_ok());
    let rotated_plain = SigningKeys::from_variables(OTHER_SEED, RFC8037_D).expect("keys");
    let rotated_bound =
        SigningKeys::from_variables(&bound_text(OTHER_SEED), &bound_text(RFC8037_D)).expect("keys");
    assert_eq!(rotated_plain.jwks(), rotated_bound.jwks());
}

#[test]
fn rotation_mixes_forms_bound_current_with_plain_previous_and_back() {
    let old_plain = keys();
    let old_bound = SigningKeys::from_variables(&bound_text(RFC8037_D), "").expect("keys");
    for (current, previous, old) in [
        (bound_text(OTHER_SEED), RFC8037_D.to_owned(), &old_plain),
        (OTHER_SEED.to_owned(), bound_text(RFC8037_D), &old_bound),
    ] {
        let rotated = SigningKeys::from_variables(&current, &previous).expect("rotated");
        let earlier = issue(old, 1_000);
        assert!(
            rotated
                .verify_access_token(&earlier, ISS, AUD, 1_000)
                .is_ok()
        );
        let fresh = issue(&rotated, 1_000);
        assert!(rotated.verify_access_token(&fresh, ISS, AUD, 1_000).is_ok());
        assert_eq!(
            old.verify_access_token(&fresh, ISS, AUD, 1_000),
            Err(TokenError::UnknownKey)
        );
        let jwks = rotated.jwks();
        assert_eq!(jwks["keys"][1]["kid"], RFC8037_KID);
        assert_ne!(jwks["keys"][0]["kid"], RFC8037_KID);
    }
}

#[test]
fn issuing_never_derives_the_previous_key_and_the_jwks_or_its_kid_does() {
    let rotated = SigningKeys::from_variables(&bound_text(OTHER_SEED), RFC8037_D).expect("keys");
    let derived = |k: &SigningKeys| {
        k.previous
            .as_ref()
            .is_some_and(|p| p.published.get().is_some())
    };
    let token = issue(&rotated, 1_000);
    rotated
        .sign_identity_assertion(&NewAssertion {
            issuer: ISS,
            account_id: "abcdefghijklmnop",
            account_name: "a",
            flow: "orders",
            id: "j",
            now: 1_000,
            metadata: None,
        })
        .expect("assertion");
    // A token of the current key is verified without the previous one.
    assert!(rotated.verify_access_token(&token, ISS, AUD, 1_000).is_ok());
    assert!(
        !derived(&rotated),
        "issuing or verifying a current token derived it"
    );
    assert_eq!(rotated.jwks()["keys"][1]["kid"], RFC8037_KID);
    assert!(derived(&rotated));
    // And a token whose kid is not the current one derives it.
    let again = SigningKeys::from_variables(&bound_text(OTHER_SEED), RFC8037_D).expect("keys");
    assert!(
        again
            .verify_access_token(&issue(&keys(), 1_000), ISS, AUD, 1_000)
            .is_ok()
    );
    assert!(derived(&again));
}

#[test]
fn a_wrong_bound_key_in_either_variable_is_refused_naming_it() {
    let mut wrong = bound_text(RFC8037_D);
    // Another seed's public key over this one's.
    let other = bound_text(OTHER_SEED);
    wrong.replace_range(64..128, &other[64..128]);
    let err = SigningKeys::from_variables(&wrong, "").expect_err("current");
    assert_eq!(err, KeyError::Unbound(SIGNING_KEY_VARIABLE));
    let err = SigningKeys::from_variables(OTHER_SEED, &wrong).expect_err("previous");
    assert_eq!(err, KeyError::Unbound(PREVIOUS_KEY_VARIABLE));
    assert!(!err.to_string().contains(&wrong[..32]));
}
