use jwt_simple::claims::Audiences;
use jwt_simple::prelude::{Ed25519KeyPair, EdDSAKeyPairLike as _, JWTClaims};

use super::*;

const ISSUER: &str = "https://token.actions.example";
const NOW: u64 = 1_700_000_000;

fn jwks_for(pair: &Ed25519KeyPair, kid: &str) -> Vec<u8> {
    let x = URL_SAFE_NO_PAD.encode(pair.public_key().to_bytes());
    serde_json::json!({ "keys": [
        { "kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig" },
        { "kty": "oct", "k": "c2VjcmV0", "kid": "hmac" },
        { "kty": "OKP", "crv": "Ed25519", "x": x },
    ]})
    .to_string()
    .into_bytes()
}

fn record(pair: &Ed25519KeyPair) -> IssuerRecord {
    IssuerRecord {
        issuer: ISSUER.into(),
        jwks_uri: format!("{ISSUER}/jwks"),
        keys: parse_jwks(&jwks_for(pair, "k1"), NOW).expect("jwks"),
        fetched_at: NOW,
        refetched_at: 0,
    }
}

fn binding(id: &str, rule: serde_json::Value) -> Binding {
    Binding {
        account_id: id.into(),
        audience: "flowgate".into(),
        claims_match: parse_rule(&rule).expect("rule"),
    }
}

fn token(pair: &Ed25519KeyPair, sub: &str, aud: &str, extra: serde_json::Value) -> String {
    let custom: serde_json::Map<String, serde_json::Value> =
        extra.as_object().cloned().unwrap_or_default();
    let claims = JWTClaims {
        issued_at: Some(UnixTimeStamp::from_secs(NOW)),
        expires_at: Some(UnixTimeStamp::from_secs(NOW + 300)),
        invalid_before: None,
        issuer: Some(ISSUER.into()),
        subject: Some(sub.into()),
        audiences: Some(Audiences::AsString(aud.into())),
        jwt_id: None,
        nonce: None,
        custom,
    };
    pair.sign(claims).expect("sign")
}

#[test]
fn patterns_follow_string_like_semantics() {
    assert!(matches_pattern(
        "repo:acme/app:*",
        "repo:acme/app:ref:refs/heads/main"
    ));
    assert!(matches_pattern("*", ""));
    assert!(matches_pattern("a*c*e", "abcde"));
    assert!(matches_pattern("exact", "exact"));
    assert!(!matches_pattern("exact", "exactly"));
    assert!(!matches_pattern("repo:acme/*", "repo:evil/acme/x"));
    assert!(
        !matches_pattern("a*a", "a"),
        "the prefix and suffix may not overlap"
    );
    assert!(matches_pattern("*@acme.com", "ops@acme.com"));
}

#[test]
fn rules_parse_strictly() {
    assert!(parse_rule(&serde_json::json!({ "sub": "x", "org": ["a", "b"] })).is_ok());
    for bad in [
        serde_json::json!({}),
        serde_json::json!("sub"),
        serde_json::json!({ "sub": 1 }),
        serde_json::json!({ "sub": [] }),
        serde_json::json!({ "sub": [""] }),
        serde_json::json!({ "sub": ["a", 2] }),
    ] {
        assert_eq!(parse_rule(&bad), Err(OidcError::Rule), "{bad}");
    }
}

#[test]
fn issuer_urls_must_be_https_except_loopback() {
    assert!(check_issuer(ISSUER).is_ok());
    assert!(check_issuer("http://127.0.0.1:8080").is_ok());
    for bad in [
        "http://idp.example",
        "ftp://x",
        "https://",
        "https://x/",
        "https://x?y",
        "https://u@x",
        "https://x#y",
    ] {
        assert_eq!(check_issuer(bad), Err(OidcError::Issuer), "{bad}");
    }
}

#[test]
fn jwks_keeps_only_usable_signing_keys() {
    let pair = Ed25519KeyPair::generate();
    let keys = parse_jwks(&jwks_for(&pair, "k1"), NOW).expect("usable");
    assert_eq!(
        keys.len(),
        1,
        "the HMAC key and the key without kid are skipped"
    );
    assert_eq!(keys[0].alg, "EdDSA");
    assert!(parse_jwks(br#"{"keys":[{"kty":"oct","k":"AAAA","kid":"x"}]}"#, NOW).is_err());
    assert!(parse_jwks(b"[]", NOW).is_err());
}

#[test]
fn discovery_must_name_the_issuer() {
    let good =
        serde_json::json!({ "issuer": ISSUER, "jwks_uri": format!("{ISSUER}/keys") }).to_string();
    assert_eq!(
        jwks_uri(good.as_bytes(), ISSUER),
        Ok(format!("{ISSUER}/keys"))
    );
    let other = serde_json::json!({ "issuer": "https://evil.example", "jwks_uri": "https://evil.example/k" }).to_string();
    assert!(jwks_uri(other.as_bytes(), ISSUER).is_err());
    let plain =
        serde_json::json!({ "issuer": ISSUER, "jwks_uri": "http://evil.example/k" }).to_string();
    assert!(jwks_uri(plain.as_bytes(), ISSUER).is_err());
}

#[test]
fn token_selects_the_one_matching_account() {
    let pair = Ed25519KeyPair::generate().with_key_id("k1");
    let rec = record(&pair);
    let accounts = Bindings {
        bindings: vec![
            binding(
                "main",
                serde_json::json!({ "sub": "repo:acme/app:ref:refs/heads/main" }),
            ),
            binding(
                "any-branch",
                serde_json::json!({ "sub": "repo:acme/lib:*", "repository_owner": "acme" }),
            ),
        ],
    };
    let t = token(
        &pair,
        "repo:acme/app:ref:refs/heads/main",
        "flowgate",
        serde_json::json!({}),
    );
    let verified = verify(&t, &rec, NOW + 1).expect("valid").0;
    assert_eq!(select_account(&accounts, &verified), Ok("main"));

    let t = token(
        &pair,
        "repo:acme/lib:pull/1",
        "flowgate",
        serde_json::json!({ "repository_owner": "acme" }),
    );
    assert_eq!(
        select_account(&accounts, &verify(&t, &rec, NOW).expect("valid").0),
        Ok("any-branch")
    );
    let t = token(
        &pair,
        "repo:acme/lib:pull/1",
        "flowgate",
        serde_json::json!({ "repository_owner": "evil" }),
    );
    assert!(select_account(&accounts, &verify(&t, &rec, NOW).expect("valid").0).is_err());
    let t = token(
        &pair,
        "repo:acme/app:ref:refs/heads/main",
        "other-aud",
        serde_json::json!({}),
    );
    assert!(
        select_account(&accounts, &verify(&t, &rec, NOW).expect("valid").0).is_err(),
        "wrong audience"
    );
}

#[test]
fn ambiguous_matches_are_refused() {
    let pair = Ed25519KeyPair::generate().with_key_id("k1");
    let rec = record(&pair);
    let accounts = Bindings {
        bindings: vec![
            binding("a", serde_json::json!({ "sub": "*" })),
            binding("b", serde_json::json!({ "sub": "x*" })),
        ],
    };
    let t = token(&pair, "x1", "flowgate", serde_json::json!({}));
    assert_eq!(
        select_account(&accounts, &verify(&t, &rec, NOW).expect("valid").0),
        Err(OidcError::NoAccount(
            "more than one account matches the token"
        ))
    );
}

#[test]
fn wrong_key_expired_and_unknown_kid_are_rejected() {
    let pair = Ed25519KeyPair::generate().with_key_id("k1");
    let rec = record(&pair);
    let t = token(&pair, "s", "flowgate", serde_json::json!({}));
    assert!(
        verify(&t, &rec, NOW + 300 + LEEWAY_SECONDS + 1).is_err(),
        "expired"
    );
    let impostor = Ed25519KeyPair::generate().with_key_id("k1");
    assert!(matches!(
        verify(
            &token(&impostor, "s", "flowgate", serde_json::json!({})),
            &rec,
            NOW
        ),
        Err(OidcError::Rejected(_))
    ));
    let rotated = Ed25519KeyPair::generate().with_key_id("k2");
    let t = token(&rotated, "s", "flowgate", serde_json::json!({}));
    assert!(has_unknown_kid(&t, &rec));
    assert_eq!(verify(&t, &rec, NOW), Err(OidcError::UnknownKey));
    assert_eq!(
        Claimed::read(&t).and_then(|c| c.issuer).as_deref(),
        Some(ISSUER)
    );
}

/// Whether the unverified screen refuses `token` at `now`.
fn screened(token: &str, now: u64) -> bool {
    Claimed::read(token).is_some_and(|c| c.refuse_expired(now).is_err())
}

#[test]
fn issue16_expiry_is_refused_before_the_signature_exactly_where_verify_refuses_it() {
    let pair = Ed25519KeyPair::generate().with_key_id("k1");
    let rec = record(&pair);
    let t = token(&pair, "s", "flowgate", serde_json::json!({}));
    let claimed = Claimed::read(&t).expect("readable");
    assert_eq!(claimed.issuer.as_deref(), Some(ISSUER));
    assert_eq!(claimed.expires_at, Some(NOW + 300));
    let last = NOW + 300 + LEEWAY_SECONDS;
    // Around the last accepted second the screen and full verification
    // agree: the screen never refuses what verify would accept.
    for now in last - 2..=last + 2 {
        assert_eq!(
            screened(&t, now),
            verify(&t, &rec, now).is_err(),
            "at {now}"
        );
    }
    assert!(claimed.refuse_expired(last).is_ok());
    assert_eq!(
        claimed.refuse_expired(last + 1),
        Err(crate::token::TokenError::Rejected("expired".into()))
    );
    // No signature is looked at: an expired token with a broken one is
    // refused by the screen too, and the same unexpired is left to verify.
    let (signed, _) = t.rsplit_once('.').expect("three parts");
    let broken = format!("{signed}.AAAA");
    assert!(screened(&broken, last + 1));
    assert!(!screened(&broken, NOW));
    assert!(matches!(
        verify(&broken, &rec, NOW),
        Err(OidcError::Rejected(_))
    ));
    // What the screen cannot read is left to verify, which refuses it; a
    // repeated `exp` is read as its last value (RFC 7519 section 4 allows
    // that or a refusal), and verify refuses that token too.
    let header = t.split('.').next().expect("header");
    for (payload, refused_early) in [
        ("!!!".to_owned(), false),
        (URL_SAFE_NO_PAD.encode(r#"{"iss":"x"}"#), false),
        (URL_SAFE_NO_PAD.encode(r#"{"exp":"1"}"#), false),
        (URL_SAFE_NO_PAD.encode(r#"{"exp":1.5}"#), false),
        (URL_SAFE_NO_PAD.encode(r#"{"exp":-1}"#), false),
        (URL_SAFE_NO_PAD.encode(r#"{"exp":1,"exp":2}"#), true),
    ] {
        let odd = format!("{header}.{payload}.AAAA");
        assert_eq!(screened(&odd, last + 1), refused_early, "{payload}");
        assert!(verify(&odd, &rec, last + 1).is_err(), "{payload}");
    }
    assert!(Claimed::read("no-dots").is_none());
    // Past the longest token accepted nothing is read: routing and
    // refusing such a token are the verifier's, as before.
    let long = URL_SAFE_NO_PAD
        .encode(serde_json::json!({ "exp": 1, "pad": "x".repeat(MAX_TOKEN_LEN) }).to_string());
    let long = format!("{header}.{long}.AAAA");
    assert!(long.len() > MAX_TOKEN_LEN);
    assert_eq!(Claimed::read(&long), None);
    let short = format!("{header}.{}.AAAA", URL_SAFE_NO_PAD.encode(r#"{"exp":1}"#));
    assert!(screened(&short, last + 1));
}

#[test]
fn issue16_a_repeated_exp_is_refused_by_the_screen_and_by_verification() {
    // As for flowgate's own tokens (src/token/tests.rs): the screen reads
    // the last of a repeated `exp`, and jwt-simple refuses the repetition.
    let compact = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([7; 32]));
    let pair = Ed25519KeyPair::from_bytes(&compact[..])
        .expect("key")
        .with_key_id("k1");
    let rec = record(&pair);
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","typ":"JWT","kid":"k1"}"#);
    let signed = |exps: &str| {
        let payload =
            format!(r#"{{"iss":"{ISSUER}","sub":"s","aud":"flowgate","iat":{NOW},{exps}}}"#);
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(payload));
        let sig = URL_SAFE_NO_PAD.encode(compact.sk.sign(input.as_bytes(), None));
        format!("{input}.{sig}")
    };
    let once = signed(&format!(r#""exp":{}"#, NOW + 300));
    assert!(verify(&once, &rec, NOW).is_ok());
    let twice = signed(&format!(r#""exp":{},"exp":{}"#, NOW + 300, NOW - 300));
    assert!(screened(&twice, NOW));
    assert!(verify(&twice, &rec, NOW).is_err());
}

#[test]
fn outbound_origin_is_scheme_host_and_port_only() {
    assert_eq!(
        outbound_origin("https://Acme.okta.com/oauth2/default/.well-known/openid-configuration")
            .as_deref(),
        Some("https://acme.okta.com")
    );
    assert_eq!(
        outbound_origin("http://127.0.0.1:8080/jwks?x=1").as_deref(),
        Some("http://127.0.0.1:8080")
    );
    assert_eq!(
        outbound_origin("https://user:pw@idp.example/jwks").as_deref(),
        Some("https://idp.example")
    );
    assert_eq!(outbound_origin("no-scheme/jwks"), None);
    assert_eq!(outbound_origin("https:///jwks"), None);
}

#[test]
fn issue11_denied_outbound_hint_names_the_entry_and_both_components() {
    let hint = outbound_denied_hint(
        "https://token.actions.githubusercontent.com/jwks",
        "management",
    );
    assert!(
        hint.contains("add \"https://token.actions.githubusercontent.com\""),
        "{hint}"
    );
    assert!(hint.contains("[component.management]") && hint.contains("[component.authorizer]"));
}

#[test]
fn refetch_when_stale_or_on_an_unknown_kid_at_most_once_a_minute() {
    let pair = Ed25519KeyPair::generate().with_key_id("k1");
    let rotated = Ed25519KeyPair::generate().with_key_id("k2");
    let mut cache = record(&pair);
    let known = token(&pair, "s", "flowgate", serde_json::json!({}));
    let unknown = token(&rotated, "s", "flowgate", serde_json::json!({}));
    // Fresh cache, known key: no refetch.
    assert!(!cache.wants_refetch(&known, NOW + 1));
    // A kid the cache lacks: refetch, since none was tried in the last minute.
    assert!(cache.wants_refetch(&unknown, NOW + 1));
    // Stale cache: refetch even for a known kid.
    assert!(cache.wants_refetch(&known, NOW + JWKS_LIFETIME));
    // A failed refetch keeps the keys (stale-if-error) and rate-limits the next.
    let failure = cache.apply_refetch(Err("status 500".into()), NOW + 1);
    assert_eq!(failure.as_deref(), Some("status 500"));
    assert_eq!(cache.keys, record(&pair).keys);
    assert_eq!(cache.fetched_at, NOW);
    assert!(!cache.wants_refetch(&unknown, NOW + 1 + REFETCH_INTERVAL - 1));
    assert!(cache.wants_refetch(&unknown, NOW + 1 + REFETCH_INTERVAL));
    // A successful one replaces the keys, after which the rotated token verifies.
    let keys = parse_jwks(&jwks_for(&rotated, "k2"), NOW + 61).expect("jwks");
    assert_eq!(cache.apply_refetch(Ok(keys), NOW + 61), None);
    assert_eq!(cache.fetched_at, NOW + 61);
    assert!(!cache.wants_refetch(&unknown, NOW + 62));
    assert!(verify(&unknown, &cache, NOW + 62).is_ok());
}

/// A store of recorded verifications, as the authorizer keeps them.
#[derive(Default)]
struct Records(std::cell::RefCell<BTreeMap<String, Vec<u8>>>);

impl Records {
    fn pepper() -> crate::hash::Pepper {
        crate::hash::Pepper::from_variable(&"ab".repeat(32)).expect("pepper")
    }

    /// [`check`] against this store, writing what a first use records.
    fn check(&self, t: &str, rec: &IssuerRecord, now: u64) -> Result<Checked, OidcError> {
        let checked = check(t, rec, &Self::pepper(), now, |key| {
            Ok::<_, std::convert::Infallible>(self.0.borrow().get(key).cloned())
        })
        .expect("read");
        if let Ok(Checked::Verified(_, recorded, key)) = &checked {
            self.0.borrow_mut().insert(key.clone(), recorded.to_bytes());
        }
        checked
    }

    fn only(&self) -> Vec<u8> {
        let records = self.0.borrow();
        assert_eq!(records.len(), 1);
        records.values().next().cloned().expect("one record")
    }
}

#[test]
fn a_recorded_verification_gives_what_full_verification_gives() {
    let pair = Ed25519KeyPair::generate().with_key_id("k1");
    let rec = record(&pair);
    let t = token(
        &pair,
        "repo:acme/app:ref:refs/heads/main",
        "flowgate",
        serde_json::json!({ "repository_owner": "acme", "run": 7 }),
    );
    let store = Records::default();
    let Ok(Checked::Verified(verified, recorded, key)) = store.check(&t, &rec, NOW) else {
        panic!("a token without a record is verified in full");
    };
    assert_eq!(verified, verify(&t, &rec, NOW).expect("valid").0);
    assert_eq!(key, recorded_key(&Records::pepper(), ISSUER, &t));
    assert_eq!((recorded.exp, recorded.kid.as_str()), (NOW + 300, "k1"));
    let bytes = store.only();
    assert_eq!(Recorded::from_bytes(&bytes), Some(recorded));
    for now in [NOW, NOW + 300 + LEEWAY_SECONDS] {
        assert_eq!(
            store.check(&t, &rec, now),
            Ok(Checked::Recorded(verified.clone())),
            "at {now}"
        );
    }
    // The record holds neither the token nor its signature.
    let text = String::from_utf8(bytes).expect("utf-8");
    assert!(!text.contains(t.split('.').nth(2).expect("signature")));
}

#[test]
fn a_record_that_no_longer_applies_means_full_verification() {
    let pair = Ed25519KeyPair::generate().with_key_id("k1");
    let rec = record(&pair);
    let t = token(&pair, "s", "flowgate", serde_json::json!({}));
    let store = Records::default();
    assert!(matches!(
        store.check(&t, &rec, NOW),
        Ok(Checked::Verified(..))
    ));
    assert!(matches!(
        store.check(&t, &rec, NOW),
        Ok(Checked::Recorded(_))
    ));

    // Past `exp` and the leeway: refused, as without a record.
    let late = NOW + 300 + LEEWAY_SECONDS + 1;
    assert!(matches!(
        store.check(&t, &rec, late),
        Err(OidcError::Rejected(_))
    ));

    // The issuer replaced the key under the same `kid`: the recorded key
    // is gone, and the new one does not verify the token.
    let replaced = Ed25519KeyPair::generate().with_key_id("k1");
    assert!(matches!(
        store.check(&t, &record(&replaced), NOW),
        Err(OidcError::Rejected(_))
    ));

    // The issuer dropped the key.
    let mut dropped = rec.clone();
    dropped.keys.clear();
    assert_eq!(store.check(&t, &dropped, NOW), Err(OidcError::UnknownKey));
    assert!(matches!(
        store.check(&t, &rec, NOW),
        Ok(Checked::Recorded(_))
    ));

    // A token signed by another key, even with the same claims and `kid`,
    // has its own digest: no record is found and the signature decides.
    let forged = token(
        &Ed25519KeyPair::generate().with_key_id("k1"),
        "s",
        "flowgate",
        serde_json::json!({}),
    );
    assert!(matches!(
        store.check(&forged, &rec, NOW),
        Err(OidcError::Rejected(_))
    ));

    // An unreadable record only costs a full verification.
    let unreadable = Records::default();
    let key = recorded_key(&Records::pepper(), ISSUER, &t);
    unreadable
        .0
        .borrow_mut()
        .insert(key, b"{\"exp\":\"x\"}".to_vec());
    assert!(matches!(
        unreadable.check(&t, &rec, NOW),
        Ok(Checked::Verified(..))
    ));

    // A store that fails is the caller's to fail closed on.
    let failed = check(&t, &rec, &Records::pepper(), NOW, |_| Err("store down"));
    assert_eq!(failed, Err("store down"));
}

#[test]
fn recorded_keys_are_keyed_per_issuer_and_apart_from_flowgate_tokens() {
    let pepper = Records::pepper();
    let other = crate::hash::Pepper::from_variable(&"cd".repeat(32)).expect("pepper");
    let t = "eyJhbGciOiJFZERTQSJ9.e30.c2ln";
    let key = recorded_key(&pepper, ISSUER, t);
    assert!(key.starts_with(crate::store::keys::VERIFIED_PREFIX));
    assert!(!key.contains("c2ln") && !key.contains("e30"));
    assert_eq!(key, recorded_key(&pepper, ISSUER, t));
    assert_ne!(key, recorded_key(&pepper, "https://other.example", t));
    assert_ne!(key, recorded_key(&other, ISSUER, t));
    // flowgate's own tokens' records are digests in another domain.
    let own = pepper.digest(
        crate::hash::Domain::VerifiedToken,
        &format!("{}:{ISSUER}{}:{t}", ISSUER.len(), t.len()),
    );
    assert_ne!(key, crate::store::keys::verified_key(&own.encode()));
}
