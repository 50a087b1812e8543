//! Attacks on the built components, each test named for its attack. Tokens
//! are forged by hand (base64url + Ed25519 with the signing key the test
//! gives the app, or HMAC with public material), so every check of the
//! verifier is reached with a signature that is otherwise valid. Each test
//! first shows that its forging path yields `200` when nothing is wrong, so a
//! refusal below is the check under attack, not a broken forgery.
//!
//! Which file holds a case (each case is in one of them, never both):
//! - here, tests/attacks.rs: the credential itself is forged or misused. One
//!   credential header, well-formed as a header, whose value is built to
//!   pass a check it must fail: algorithms, keys and `kid`, token kinds,
//!   time, audience and issuer claims, a token's size and parts, Basic
//!   values encoded to confuse, a secret presented where another kind
//!   belongs. What is under attack is the verifier.
//! - tests/hostile_headers.rs: the request around the credential is
//!   malformed or misleading: duplicate, joined, oversized or too many
//!   headers, CR/LF/NUL bytes, headers claiming an identity, a certificate,
//!   a path or a method, and paths or URIs that can be read two ways. What
//!   is under attack is the reading of the request.
//!
//! src/token/tests.rs holds the verifier's unit tests; these go through the
//! built components.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::upstream::{self, Upstream};
use common::{App, Options, basic, random_hex, start};
use hmac::{KeyInit as _, Mac as _};
use serde_json::{Value, json};

const ISSUER: &str = "https://flowgate.attack.test";
const AUDIENCE: &str = "https://flowgate.attack.test/flows";

/// An app whose signing key the test knows, with upstreams for both example
/// flows so that a request that slips through would be seen.
struct Target {
    app: App,
    /// A real `client_secret` account granted `orders`: since issue 12 an
    /// access token's account record is read on every use, so a forged
    /// token must name an existing, active, granted account to pass.
    subject: String,
    seed: [u8; 32],
    kid: String,
    orders: Upstream,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn seed_from_hex(hex: &str) -> [u8; 32] {
    let mut seed = [0u8; 32];
    for (i, b) in seed.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    seed
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign_ed25519(seed: &[u8; 32], input: &str) -> String {
    let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(*seed));
    b64(pair.sk.sign(input.as_bytes(), None).as_ref())
}

fn public_key(seed: &[u8; 32]) -> [u8; 32] {
    let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(*seed));
    *pair.pk
}

/// The RFC 7638 thumbprint of an Ed25519 key, as flowgate names its keys.
fn thumbprint(public: &[u8; 32]) -> String {
    use sha2::Digest as _;
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64(public));
    b64(sha2::Sha256::digest(canonical.as_bytes()))
}

/// `header.payload` of a JWT with these JSON values (serialised as given).
fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", b64(header.to_string()), b64(claims.to_string()))
}

fn hs256(key: &[u8], input: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(input.as_bytes());
    b64(mac.finalize().into_bytes())
}

impl Target {
    fn start() -> Self {
        Self::start_with(Options::new())
    }

    fn start_with(options: Options) -> Self {
        let key = random_hex(32);
        let (options, orders, _reports) = upstream::for_both_flows(options);
        let app = start(
            options
                .variable("signing_key", Some(&key))
                .variable("issuer", Some(ISSUER)),
        );
        let seed = seed_from_hex(&key);
        let kid = thumbprint(&public_key(&seed));
        let published = app.send("GET", "/.well-known/jwks.json", &[], b"").json();
        assert_eq!(published["keys"][0]["kid"], kid.as_str(), "{published}");
        let (subject, _) = app.create_account(json!({
            "name": "forged-subject", "credential_type": "client_secret", "flows": ["orders"],
        }));
        Self {
            app,
            subject,
            seed,
            kid,
            orders,
        }
    }

    fn header(&self) -> Value {
        json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": self.kid })
    }

    /// Claims of a valid access token for flow `orders`, issued now.
    fn claims(&self) -> Value {
        let now = now();
        json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": self.subject, "client_id": self.subject,
            "scope": "orders", "jti": random_hex(8), "iat": now, "exp": now + 300,
        })
    }

    /// A token with `header` and `claims`, signed with the app's own key.
    fn forge(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let signature = sign_ed25519(&self.seed, &input);
        format!("{input}.{signature}")
    }

    fn valid(&self) -> String {
        self.forge(&self.header(), &self.claims())
    }

    /// Forward-auth for `GET /flows/orders/1` with `Authorization: Bearer`.
    fn ask(&self, token: &str) -> u16 {
        self.ask_with(&[("Authorization", &format!("Bearer {token}"))])
    }

    /// Forward-auth for `GET /flows/orders/1` with these credential headers.
    fn ask_with(&self, credentials: &[(&str, &str)]) -> u16 {
        self.app.at_orders(credentials)
    }

    fn assert_forging_works(&self) {
        assert_eq!(
            self.ask(&self.valid()),
            200,
            "a correctly forged token must pass, or the refusals below prove nothing"
        );
    }

    fn client(&self, flows: &[&str]) -> (String, String) {
        self.app.client_credentials(flows)
    }

    fn issued_token(&self, id: &str, secret: &str) -> String {
        self.app.issue_token(id, secret)
    }
}

// ---------------------------------------------------------------- algorithms

#[test]
fn alg_none_variants_and_a_missing_alg_are_refused() {
    let t = Target::start();
    t.assert_forging_works();
    let claims = t.claims();
    for alg in ["none", "None", "NONE", "nOnE", "", "EdDSA "] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": t.kid });
        let input = signing_input(&header, &claims);
        // Unsigned, and with a real Ed25519 signature over the same input.
        for token in [
            format!("{input}."),
            format!("{input}.{}", sign_ed25519(&t.seed, &input)),
        ] {
            assert_eq!(t.ask(&token), 401, "alg {alg:?}: {token}");
        }
    }
    let header = json!({ "typ": "at+jwt", "kid": t.kid });
    assert_eq!(t.ask(&t.forge(&header, &claims)), 401, "missing alg");
    let header = json!({ "alg": null, "typ": "at+jwt", "kid": t.kid });
    assert_eq!(t.ask(&t.forge(&header, &claims)), 401, "alg null");
    let header = json!({ "alg": ["EdDSA"], "typ": "at+jwt", "kid": t.kid });
    assert_eq!(t.ask(&t.forge(&header, &claims)), 401, "alg array");
}

#[test]
fn hs256_keyed_with_the_published_public_key_is_refused() {
    // The classic RS/ES-to-HS confusion: a verifier that takes `alg` from the
    // token would check an HMAC keyed with the public key everyone can read.
    let t = Target::start();
    t.assert_forging_works();
    let public = public_key(&t.seed);
    let jwks = t.app.send("GET", "/.well-known/jwks.json", &[], b"").text();
    let x = b64(public);
    let jwk = json!({ "crv": "Ed25519", "kty": "OKP", "x": x }).to_string();
    let keys: [&[u8]; 4] = [&public, x.as_bytes(), jwk.as_bytes(), jwks.as_bytes()];
    for alg in ["HS256", "HS384", "HS512", "hs256"] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": t.kid });
        let input = signing_input(&header, &t.claims());
        for key in keys {
            let token = format!("{input}.{}", hs256(key, &input));
            assert_eq!(t.ask(&token), 401, "{alg} keyed with public material");
        }
    }
}

#[test]
fn es256_rs256_and_ps256_labels_on_an_eddsa_signature_are_refused() {
    let t = Target::start();
    t.assert_forging_works();
    for alg in [
        "ES256",
        "ES384",
        "RS256",
        "PS256",
        "Ed25519",
        "EdDSA\u{0}",
        "eddsa",
    ] {
        let header = json!({ "alg": alg, "typ": "at+jwt", "kid": t.kid });
        assert_eq!(t.ask(&t.forge(&header, &t.claims())), 401, "alg {alg:?}");
    }
}

// ----------------------------------------------------------------- key ids

#[test]
fn kid_path_and_query_injection_is_refused() {
    let t = Target::start();
    t.assert_forging_works();
    let kid = &t.kid;
    let injected = [
        format!("../../{kid}"),
        format!("{kid}/../{kid}"),
        format!("{kid}?x=1"),
        format!("{kid}#"),
        format!("{kid}%00"),
        format!("{kid}\u{0}"),
        format!(" {kid}"),
        format!("{kid} "),
        kid.to_uppercase(),
        format!("{kid}' OR '1'='1"),
        "/dev/null".to_owned(),
        "../../../../../../etc/passwd".to_owned(),
        "http://127.0.0.1:1/jwks.json".to_owned(),
        "*".to_owned(),
        String::new(),
    ];
    for bad in injected {
        let header = json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": bad });
        assert_eq!(t.ask(&t.forge(&header, &t.claims())), 401, "kid {bad:?}");
    }
    for bad in [json!(1), json!([kid]), json!({ "kid": kid }), json!(null)] {
        let header = json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": bad });
        assert_eq!(t.ask(&t.forge(&header, &t.claims())), 401, "kid {bad}");
    }
}

#[test]
fn unknown_kid_is_refused_even_with_a_valid_signature() {
    let t = Target::start();
    t.assert_forging_works();
    // The token is signed by the right key; only its kid names another.
    let other_kid = thumbprint(&public_key(&[7u8; 32]));
    let header = json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": other_kid });
    assert_eq!(t.ask(&t.forge(&header, &t.claims())), 401);
}

#[test]
fn missing_kid_with_two_published_keys_is_refused() {
    let previous = random_hex(32);
    let t = Target::start_with(Options::new().variable("signing_key_previous", Some(&previous)));
    let jwks = t.app.send("GET", "/.well-known/jwks.json", &[], b"").json();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
    t.assert_forging_works();
    let old = seed_from_hex(&previous);
    let old_kid = thumbprint(&public_key(&old));
    let old_header = json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": old_kid });
    let input = signing_input(&old_header, &t.claims());
    let by_old_key = format!("{input}.{}", sign_ed25519(&old, &input));
    assert_eq!(t.ask(&by_old_key), 200, "the previous key still verifies");
    for seed in [&t.seed, &old] {
        let header = json!({ "alg": "EdDSA", "typ": "at+jwt" });
        let input = signing_input(&header, &t.claims());
        let token = format!("{input}.{}", sign_ed25519(seed, &input));
        assert_eq!(t.ask(&token), 401, "no kid: no key is guessed");
    }
    // The old key's signature under the current key's kid, and vice versa.
    let swapped = json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": t.kid });
    let input = signing_input(&swapped, &t.claims());
    let token = format!("{input}.{}", sign_ed25519(&old, &input));
    assert_eq!(t.ask(&token), 401);
}

#[test]
fn jku_x5u_jwk_and_x5c_headers_never_supply_the_key() {
    let t = Target::start();
    t.assert_forging_works();
    // The attacker's key, published by the attacker: a loopback listener
    // records whether flowgate ever fetches from it.
    let attacker_site = Upstream::start();
    let attacker = [0x42u8; 32];
    let attacker_public = public_key(&attacker);
    let attacker_kid = thumbprint(&attacker_public);
    let jwk =
        json!({ "kty": "OKP", "crv": "Ed25519", "x": b64(attacker_public), "kid": attacker_kid });
    let site = attacker_site.origin();
    let cert = STANDARD.encode([0x30u8, 0x82, 0x01, 0x00]);
    let headers = [
        json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": attacker_kid, "jku": format!("{site}/jwks.json") }),
        json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": t.kid, "jku": format!("{site}/jwks.json") }),
        json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": attacker_kid, "x5u": format!("{site}/cert.pem") }),
        json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": attacker_kid, "jwk": jwk }),
        json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": t.kid, "jwk": jwk }),
        json!({ "alg": "EdDSA", "typ": "at+jwt", "jwk": jwk }),
        json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": t.kid, "x5c": [cert] }),
    ];
    for header in headers {
        let input = signing_input(&header, &t.claims());
        let token = format!("{input}.{}", sign_ed25519(&attacker, &input));
        assert_eq!(t.ask(&token), 401, "{header}");
    }
    assert!(
        attacker_site.seen().is_empty(),
        "flowgate fetched a key from a URL in a token: {:?}",
        attacker_site.seen()
    );
}

#[test]
fn non_empty_crit_is_refused() {
    let t = Target::start();
    t.assert_forging_works();
    for crit in [
        json!(["exp"]),
        json!(["b64"]),
        json!(["x-unknown"]),
        json!("exp"),
    ] {
        let header =
            json!({ "alg": "EdDSA", "typ": "at+jwt", "kid": t.kid, "crit": crit, "b64": false });
        assert_eq!(t.ask(&t.forge(&header, &t.claims())), 401, "crit {crit}");
    }
}

// ------------------------------------------------------------- token kinds

#[test]
fn token_of_another_kind_is_refused_as_an_access_token() {
    let t = Target::start();
    t.assert_forging_works();
    // An ID token, a plain JWT, a client assertion (RFC 7523) and a logout
    // token all carry a different typ, or none.
    for typ in [
        json!("JWT"),
        json!("jwt"),
        json!("id+jwt"),
        json!("client-authentication+jwt"),
        json!("logout+jwt"),
        json!("at+jwt+x"),
        json!(["at+jwt"]),
        json!(null),
    ] {
        let header = json!({ "alg": "EdDSA", "typ": typ, "kid": t.kid });
        assert_eq!(t.ask(&t.forge(&header, &t.claims())), 401, "typ {typ}");
    }
    let header = json!({ "alg": "EdDSA", "kid": t.kid });
    assert_eq!(t.ask(&t.forge(&header, &t.claims())), 401, "no typ");
    // A client assertion shaped the RFC 7523 way: iss = sub = client,
    // aud = the token endpoint.
    let mut assertion = t.claims();
    assertion["iss"] = t.subject.clone().into();
    assertion["aud"] = format!("{ISSUER}/oauth2/token").into();
    assert_eq!(t.ask(&t.forge(&t.header(), &assertion)), 401);
}

#[test]
fn identity_assertion_presented_as_an_access_token_is_refused() {
    // Proxy mode hands the flow a signed identity assertion (same key,
    // another typ and audience). A flow that replays it to flowgate as a
    // Bearer token must not be let in.
    let t = Target::start();
    let (_, key) = t.app.create_account(
        json!({ "name": "asserted", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let r = t
        .app
        .send("GET", "/flows/orders/1", &[("X-API-Key", &key)], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = t.orders.seen();
    let Some(assertion) = seen[0].header("x-flowgate-assertion") else {
        panic!(
            "no identity assertion reached the flow: {:?}",
            seen[0].headers
        );
    };
    assert_eq!(assertion.split('.').count(), 3, "{assertion}");
    assert_eq!(t.ask(assertion), 401);
    let status = t
        .app
        .send(
            "GET",
            "/flows/orders/1",
            &[("Authorization", &format!("Bearer {assertion}"))],
            b"",
        )
        .status;
    assert_eq!(status, 401);
}

#[test]
fn access_token_of_another_deployment_sharing_the_key_is_refused() {
    // Two flowgate deployments with the same signing key but different
    // issuers: a token of one is no token of the other (aud and iss differ).
    let key = random_hex(32);
    let home = start(
        Options::new()
            .variable("signing_key", Some(&key))
            .variable("issuer", Some("https://one.flowgate.test")),
    );
    let r = home.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({ "name": "c1", "credential_type": "client_secret", "flows": ["orders"] })),
    );
    let (id, secret) = (
        r.json()["client_id"].as_str().expect("id").to_owned(),
        r.json()["secret"].as_str().expect("secret").to_owned(),
    );
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let issued = home.send(
        "POST",
        "/oauth2/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    );
    let token = issued.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let ask = |app: &App| {
        app.send(
            "GET",
            "/authorize",
            &[
                ("X-Forwarded-Uri", "/flows/orders/1"),
                ("Authorization", &format!("Bearer {token}")),
            ],
            b"",
        )
        .status
    };
    assert_eq!(ask(&home), 200);
    let other = start(
        Options::new()
            .variable("signing_key", Some(&key))
            .variable("issuer", Some("https://two.flowgate.test")),
    );
    assert_eq!(ask(&other), 401);
}

#[test]
fn secrets_presented_in_the_wrong_place_are_refused() {
    let t = Target::start();
    let (client_id, client_secret) = t.client(&["orders"]);
    let token = t.issued_token(&client_id, &client_secret);
    assert_eq!(t.ask(&token), 200);
    let (_, api_key) = t
        .app
        .create_account(json!({ "name": "k", "credential_type": "api_key", "flows": ["orders"] }));
    let r = t.app.admin(
        "POST",
        &format!("/admin/v1/accounts/{client_id}/tokens"),
        Some(json!({ "name": "ci" })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let api_token = r.json()["token"].as_str().expect("token").to_owned();
    assert_eq!(
        t.ask(&api_token),
        200,
        "the client's API token works as Bearer"
    );

    let cases: Vec<(&str, String)> = vec![
        ("Authorization", format!("Bearer {client_secret}")),
        ("X-API-Key", client_secret.clone()),
        ("X-API-Key", token.clone()),
        ("X-API-Key", api_token.clone()),
        ("Authorization", basic(&client_id, &client_secret)),
        ("Authorization", basic(&client_id, &token)),
        ("Authorization", basic(&client_id, &api_token)),
        ("Authorization", basic(&client_id, &api_key)),
        ("Authorization", format!("Token {token}")),
        ("Authorization", format!("DPoP {token}")),
        ("Authorization", token.clone()),
    ];
    for (name, value) in &cases {
        assert_eq!(t.ask_with(&[(name, value)]), 401, "{name}: {value}");
    }
    // An access token or an API key is no client secret at the token endpoint.
    for presented in [&token, &api_key, &api_token] {
        let form = format!(
            "grant_type=client_credentials&client_id={client_id}&client_secret={presented}"
        );
        let r = t.app.send(
            "POST",
            "/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        );
        assert_eq!(r.status, 401, "{}", r.text());
    }
}

// ------------------------------------------------------------- time claims

#[test]
fn exp_nbf_and_iat_are_enforced_at_the_ten_second_leeway() {
    let t = Target::start();
    t.assert_forging_works();
    // Two seconds either side of the leeway, so a second boundary between
    // forging and checking cannot flip the outcome.
    let n = now();
    let cases: [(&str, u64, u16); 6] = [
        ("exp", n - 8, 200),
        ("exp", n - 12, 401),
        ("nbf", n + 8, 200),
        ("nbf", n + 12, 401),
        ("iat", n + 8, 200),
        ("iat", n + 12, 401),
    ];
    for (claim, value, expected) in cases {
        let mut claims = t.claims();
        claims[claim] = value.into();
        assert_eq!(
            t.ask(&t.forge(&t.header(), &claims)),
            expected,
            "{claim} = now {:+}",
            value as i64 - n as i64
        );
    }
}

#[test]
fn time_claims_as_strings_negative_huge_or_missing_are_refused() {
    let t = Target::start();
    t.assert_forging_works();
    let n = now();
    let refused: Vec<(&str, Value)> = vec![
        ("exp", json!((n + 300).to_string())),
        ("exp", json!(format!("{}.0", n + 300))),
        ("exp", json!(-1)),
        ("exp", json!(0)),
        ("exp", json!(null)),
        ("exp", json!([n + 300])),
        ("exp", json!({ "$numberLong": n + 300 })),
        ("exp", json!(true)),
        ("nbf", json!(n.to_string())),
        ("nbf", json!(u64::MAX)),
        ("nbf", json!(1e300)),
        ("iat", json!(n.to_string())),
        ("iat", json!(-1)),
        ("iat", json!(u64::MAX)),
        ("iat", json!(1e300)),
        ("iat", json!(null)),
    ];
    for (claim, value) in refused {
        let mut claims = t.claims();
        claims[claim] = value.clone();
        assert_eq!(
            t.ask(&t.forge(&t.header(), &claims)),
            401,
            "{claim} = {value}"
        );
    }
    for claim in ["exp", "iat", "sub", "jti", "client_id"] {
        let mut claims = t.claims();
        claims.as_object_mut().expect("object").remove(claim);
        assert_eq!(t.ask(&t.forge(&t.header(), &claims)), 401, "no {claim}");
    }
    // A fractional NumericDate is a number (RFC 7519 section 2) and counts.
    let mut claims = t.claims();
    claims["exp"] = json!(n as f64 - 20.5);
    assert_eq!(
        t.ask(&t.forge(&t.header(), &claims)),
        401,
        "fractional, past"
    );
    // A far-future exp beyond what a NumericDate in whole seconds can hold
    // in 64 bits, or not an integer at all: refused, though our own key
    // signed it.
    for huge in [json!(u64::MAX), json!(1e300), json!(18446744073709551616.0)] {
        let mut claims = t.claims();
        claims["exp"] = huge.clone();
        assert_eq!(t.ask(&t.forge(&t.header(), &claims)), 401, "exp {huge}");
    }
}

#[test]
fn aud_and_iss_of_the_wrong_value_or_type_are_refused() {
    let t = Target::start();
    t.assert_forging_works();
    // A token that is not ours (wrong audience, issuer or subject shape) is
    // 401; one of ours that names another flow is authenticated but not
    // granted, 403; a scope that is not a string is malformed, 401.
    let wrong: Vec<(&str, Value, u16)> = vec![
        ("aud", json!("https://flowgate.attack.test"), 401),
        ("aud", json!(format!("{AUDIENCE}/")), 401),
        ("aud", json!(AUDIENCE.to_uppercase()), 401),
        ("aud", json!(["https://other.test/flows"]), 401),
        ("aud", json!([]), 401),
        ("aud", json!(1), 401),
        ("aud", json!([1]), 401),
        ("aud", json!({ "aud": AUDIENCE }), 401),
        ("aud", json!(null), 401),
        ("iss", json!("https://evil.test"), 401),
        ("iss", json!(format!("{ISSUER}/")), 401),
        ("iss", json!([ISSUER]), 401),
        ("iss", json!(1), 401),
        ("iss", json!(null), 401),
        ("sub", json!(1), 401),
        ("client_id", json!("zzzzzzzzzzzzzzzz"), 401),
        ("scope", json!(["orders"]), 401),
        ("scope", json!("ordersx"), 403),
        ("scope", json!("reports"), 403),
    ];
    for (claim, value, expected) in wrong {
        let mut claims = t.claims();
        claims[claim] = value.clone();
        let status = t.ask(&t.forge(&t.header(), &claims));
        assert_eq!(status, expected, "{claim} = {value}");
    }
    for claim in ["aud", "iss"] {
        let mut claims = t.claims();
        claims.as_object_mut().expect("object").remove(claim);
        assert_eq!(t.ask(&t.forge(&t.header(), &claims)), 401, "no {claim}");
    }
    // RFC 7519 4.1.3: an array that contains our audience is our audience.
    let mut claims = t.claims();
    claims["aud"] = json!(["https://other.test", AUDIENCE]);
    assert_eq!(t.ask(&t.forge(&t.header(), &claims)), 200);
}

// ------------------------------------------------------------- size limits

#[test]
fn oversized_tokens_are_refused_and_deep_json_is_survived() {
    let t = Target::start();
    t.assert_forging_works();
    // Validly signed, but longer than the 4096 bytes a token may have.
    let mut claims = t.claims();
    claims["pad"] = "x".repeat(4200).into();
    let long = t.forge(&t.header(), &claims);
    assert!(long.len() > 4096 && long.len() < 8192);
    assert_eq!(t.ask(&long), 401, "token over 4 KiB");
    let mut header = t.header();
    header["pad"] = "x".repeat(3500).into();
    assert_eq!(
        t.ask(&t.forge(&header, &t.claims())),
        401,
        "huge JOSE header"
    );
    // Deeply nested JSON in an unknown member of the protected header,
    // within the size limit: the parser survives it, and as the signature is
    // ours and an unknown member is ignored (RFC 7515 section 4), the token
    // is accepted.
    let nested = format!("{}1{}", "[".repeat(600), "]".repeat(600));
    let input = format!(
        "{}.{}",
        b64(format!(
            r#"{{"alg":"EdDSA","typ":"at+jwt","kid":"{}","x":{nested}}}"#,
            t.kid
        )),
        b64(t.claims().to_string())
    );
    let token = format!("{input}.{}", sign_ed25519(&t.seed, &input));
    assert_eq!(t.ask(&token), 200, "nested JSON header");
    assert_eq!(t.ask(&"a.".repeat(2000)), 401, "thousands of parts");
}

#[test]
fn truncated_or_extended_tokens_are_refused() {
    let t = Target::start();
    let (client_id, client_secret) = t.client(&["orders"]);
    let token = t.issued_token(&client_id, &client_secret);
    assert_eq!(t.ask(&token), 200);
    // A token cut at a dot or with its signature removed.
    let parts: Vec<&str> = token.split('.').collect();
    for cut in [
        format!("{}.{}", parts[0], parts[1]),
        format!("{}.{}.", parts[0], parts[1]),
        format!("{}..{}", parts[0], parts[2]),
        format!(".{}.{}", parts[1], parts[2]),
        format!("{token}."),
        format!("{token}.{}", parts[2]),
    ] {
        assert_eq!(t.ask(&cut), 401, "{cut}");
    }
}

// ---------------------------------------------------------- Basic values

#[test]
fn basic_with_extra_colons_unicode_or_bad_base64_is_refused() {
    let t = Target::start();
    let (_, password) = t.app.create_account(
        json!({ "name": "basic-user", "credential_type": "basic", "flows": ["orders"] }),
    );
    let encode = |text: &str| format!("Basic {}", STANDARD.encode(text));
    let good = encode(&format!("basic-user:{password}"));
    assert_eq!(t.ask_with(&[("Authorization", &good)]), 200);
    let raw = STANDARD.encode(format!("basic-user:{password}"));
    // "basic-user:" and a 70-character password are 81 bytes, whose base64
    // has no padding to leave out; an account of another name length has.
    let (_, other) = t.app.create_account(
        json!({ "name": "basic-users", "credential_type": "basic", "flows": ["orders"] }),
    );
    let padded = STANDARD.encode(format!("basic-users:{other}"));
    assert!(padded.ends_with('='), "{padded}");
    assert_eq!(
        t.ask_with(&[("Authorization", &format!("Basic {padded}"))]),
        200
    );
    let cases: Vec<String> = vec![
        encode(&format!("basic-user:{password}:")),
        encode(&format!("basic-user::{password}")),
        encode(&format!("basic-user:{password}:{password}")),
        encode(&format!(":basic-user:{password}")),
        encode(&format!("basic-user:x:{password}")),
        encode(&format!("BASIC-USER:{password}")),
        encode(&format!("basic-user :{password}")),
        encode(&format!("basic\u{2010}user:{password}")),
        encode(&format!("basic-usér:{password}")),
        encode(&format!("basic-user:{password}\u{00a0}")),
        encode(&format!("basic-user:{}", password.to_uppercase())),
        encode(&format!("basic-user\u{0}:{password}")),
        encode(&format!("basic-user:{password}\u{0}")),
        encode(&format!("basic-user:{password}\r\n")),
        format!(
            "Basic {}",
            STANDARD.encode([b"basic-us\xe9r:".as_slice(), password.as_bytes()].concat())
        ),
        // Wrong alphabets and shapes of base64.
        format!("Basic {}", padded.trim_end_matches('=')),
        format!(
            "Basic {}",
            URL_SAFE_NO_PAD.encode(format!("basic-user:{password}?>"))
        ),
        format!("Basic {raw}="),
        format!("Basic {raw}AA"),
        format!("Basic ={raw}"),
        format!("Basic {}", STANDARD.encode(&raw)),
        format!("Basic {} {}", &raw[..8], &raw[8..]),
        format!("Basic *{}", &raw[1..]),
        "Basic".to_owned(),
        "Basic ".to_owned(),
        "Basic =".to_owned(),
        encode(":"),
        encode(""),
    ];
    for value in cases {
        // Every byte of these values is legal in a header, so the HTTP
        // layer passes them and flowgate's Basic parser refuses them.
        assert_eq!(t.ask_with(&[("Authorization", &value)]), 401, "{value:?}");
    }
}
