//! Attacks on the built components, each test named for its attack. Tokens
//! are forged by hand (base64url + Ed25519 with the signing key the test
//! gives the app, or HMAC with public material), so every check of the
//! verifier is reached with a signature that is otherwise valid. Each test
//! first shows that its forging path yields `200` when nothing is wrong, so a
//! refusal below is the check under attack, not a broken forgery.
//!
//! tests/hostile_headers.rs, tests/proxy_mode.rs and src/token/tests.rs hold
//! the simpler cases; these extend them rather than repeat them.

mod common;

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::upstream::Upstream;
use common::{App, Options, random_hex, start};
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
    reports: Upstream,
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

/// Sends `request` and returns whatever comes back, possibly nothing.
fn raw_answer(port: u16, request: &[u8]) -> String {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request).expect("send");
    let mut data = Vec::new();
    let _ = stream.read_to_end(&mut data);
    String::from_utf8_lossy(&data).into_owned()
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
        let orders = Upstream::start();
        let reports = Upstream::start();
        let app = start(
            options
                .variable("signing_key", Some(&key))
                .variable("issuer", Some(ISSUER))
                .variable("orders_upstream", Some(&orders.origin()))
                .variable("reports_upstream", Some(&reports.origin())),
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
            reports,
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
        let mut headers = vec![
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", "/flows/orders/1"),
        ];
        headers.extend_from_slice(credentials);
        self.app.send("GET", "/authorize", &headers, b"").status
    }

    fn assert_forging_works(&self) {
        assert_eq!(
            self.ask(&self.valid()),
            200,
            "a correctly forged token must pass, or the refusals below prove nothing"
        );
    }

    fn nothing_reached_the_flows(&self) {
        assert!(self.orders.seen().is_empty(), "{:?}", self.orders.seen());
        assert!(self.reports.seen().is_empty(), "{:?}", self.reports.seen());
    }

    fn client(&self, flows: &[&str]) -> (String, String) {
        let r = self.app.admin(
            "POST",
            "/admin/v1/accounts",
            Some(json!({ "name": format!("client-{}", random_hex(3)),
                          "credential_type": "client_secret", "flows": flows })),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        let body = r.json();
        (
            body["client_id"].as_str().expect("client_id").to_owned(),
            body["secret"].as_str().expect("secret").to_owned(),
        )
    }

    fn issued_token(&self, id: &str, secret: &str) -> String {
        let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
        let r = self.app.send(
            "POST",
            "/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["access_token"].as_str().expect("token").to_owned()
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

    let basic =
        |user: &str, pass: &str| format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")));
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
    // A far-future exp that only our own key could have signed: whatever the
    // answer, it is an answer and not a crash.
    for huge in [json!(u64::MAX), json!(1e300), json!(18446744073709551616.0)] {
        let mut claims = t.claims();
        claims["exp"] = huge.clone();
        let status = t.ask(&t.forge(&t.header(), &claims));
        assert!(matches!(status, 200 | 401), "exp {huge}: {status}");
    }
}

#[test]
fn aud_and_iss_of_the_wrong_value_or_type_are_refused() {
    let t = Target::start();
    t.assert_forging_works();
    let wrong: Vec<(&str, Value)> = vec![
        ("aud", json!("https://flowgate.attack.test")),
        ("aud", json!(format!("{AUDIENCE}/"))),
        ("aud", json!(AUDIENCE.to_uppercase())),
        ("aud", json!(["https://other.test/flows"])),
        ("aud", json!([])),
        ("aud", json!(1)),
        ("aud", json!([1])),
        ("aud", json!({ "aud": AUDIENCE })),
        ("aud", json!(null)),
        ("iss", json!("https://evil.test")),
        ("iss", json!(format!("{ISSUER}/"))),
        ("iss", json!([ISSUER])),
        ("iss", json!(1)),
        ("iss", json!(null)),
        ("sub", json!(1)),
        ("client_id", json!("zzzzzzzzzzzzzzzz")),
        ("scope", json!(["orders"])),
        ("scope", json!("ordersx")),
        ("scope", json!("reports")),
    ];
    for (claim, value) in wrong {
        let mut claims = t.claims();
        claims[claim] = value.clone();
        let status = t.ask(&t.forge(&t.header(), &claims));
        assert!(matches!(status, 401 | 403), "{claim} = {value}: {status}");
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
fn oversized_tokens_and_headers_are_refused() {
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
    // Deeply nested JSON in the header, within the size limit.
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
    assert!(matches!(t.ask(&token), 401 | 200), "nested JSON header");
    assert_eq!(t.ask(&"a.".repeat(2000)), 401, "thousands of parts");
    // Over the 8 KiB limit of a credential header, and far over it.
    for size in [8193, 64 * 1024] {
        let value = format!("Bearer {}", "a".repeat(size));
        let status = t.ask_with(&[("Authorization", &value)]);
        assert!(matches!(status, 400 | 401 | 431), "{size} bytes: {status}");
    }
    // A request with very many headers around a valid credential is not
    // turned into an allow of something else, and the server survives it.
    let token = t.valid();
    let bearer = format!("Bearer {token}");
    let names: Vec<String> = (0..200).map(|i| format!("X-Pad-{i}")).collect();
    let mut headers: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "y")).collect();
    headers.push(("X-Forwarded-Uri", "/flows/reports"));
    headers.push(("Authorization", &bearer));
    let status = t.app.send("GET", "/authorize", &headers, b"").status;
    assert!(matches!(status, 403 | 431 | 400), "{status}");
    assert_eq!(t.ask(&token), 200, "still serving");
}

// --------------------------------------------------------- header shapes

#[test]
fn duplicate_and_mixed_credential_headers_with_tokens_and_basic_are_refused() {
    let t = Target::start();
    let (client_id, client_secret) = t.client(&["orders"]);
    let token = t.issued_token(&client_id, &client_secret);
    let (_, password) = t
        .app
        .create_account(json!({ "name": "bas", "credential_type": "basic", "flows": ["orders"] }));
    let bearer = format!("Bearer {token}");
    let basic = format!("Basic {}", STANDARD.encode(format!("bas:{password}")));
    assert_eq!(t.ask_with(&[("Authorization", &bearer)]), 200);
    assert_eq!(t.ask_with(&[("Authorization", &basic)]), 200);
    let garbage = "Bearer x.y.z";
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("Authorization", &bearer), ("Authorization", &bearer)],
        vec![("Authorization", &bearer), ("authorization", garbage)],
        vec![("authorization", garbage), ("Authorization", &bearer)],
        vec![("Authorization", &basic), ("Authorization", &bearer)],
        vec![("AUTHORIZATION", &basic), ("X-API-KEY", &token)],
        vec![("x-api-key", "x"), ("aUtHoRiZaTiOn", &bearer)],
    ];
    for headers in cases {
        assert_eq!(t.ask_with(&headers), 401, "{headers:?}");
    }
    // One header holding two credentials, comma-joined as a proxy would.
    let joined = format!("{bearer}, {basic}");
    assert_eq!(t.ask_with(&[("Authorization", &joined)]), 401);
    let joined = format!("{bearer},{bearer}");
    assert_eq!(t.ask_with(&[("Authorization", &joined)]), 401);
    // Letter case of the header name and the scheme does not matter
    // (RFC 9110 5.1 and 11.1); it changes nothing about the decision.
    let lower = format!("bearer {token}");
    let upper = format!("BEARER {token}");
    assert_eq!(t.ask_with(&[("aUTHORIZATION", &lower)]), 200);
    assert_eq!(t.ask_with(&[("authorization", &upper)]), 200);
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
        format!("Basic {}", raw.trim_end_matches('=')),
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
        let status = t.ask_with(&[("Authorization", &value)]);
        // A tab or other odd byte may be refused by the HTTP layer (400).
        assert!(matches!(status, 400 | 401), "{value:?}: {status}");
    }
}

#[test]
fn cr_lf_and_nul_in_credentials_and_forwarded_headers_are_refused() {
    let t = Target::start();
    let (_, key) = t.app.create_account(
        json!({ "name": "ctl", "credential_type": "api_key", "flows": ["orders"] }),
    );
    assert_eq!(t.ask_with(&[("X-API-Key", &key)]), 200);
    let token = t.valid();
    let requests: Vec<Vec<u8>> = vec![
        // Bare CR, bare LF, NUL and obs-fold inside credential values.
        format!("GET /authorize HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /flows/orders\r\nAuthorization: Bearer {token}\rX: y\r\n\r\n").into_bytes(),
        format!("GET /authorize HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /flows/orders\r\nAuthorization: Bearer {token}\nAuthorization: Bearer x\r\n\r\n").into_bytes(),
        format!("GET /authorize HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /flows/orders\r\nAuthorization: Bearer \0{token}\r\n\r\n").into_bytes(),
        format!("GET /authorize HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /flows/orders\r\nAuthorization: Bearer\r\n {token}\r\n\r\n").into_bytes(),
        format!("GET /authorize HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /flows/orders\r\nX-API-Key: {key}\r\n\tX-API-Key: {key}\r\n\r\n").into_bytes(),
        // Control bytes in the original URI and method a gateway reports.
        format!("GET /authorize HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /flows/orders\0/../../reports\r\nX-API-Key: {key}\r\n\r\n").into_bytes(),
        format!("GET /authorize HTTP/1.1\r\nHost: x\r\nX-Forwarded-Uri: /flows/orders\rX-Forwarded-Uri: /flows/reports\r\nX-API-Key: {key}\r\n\r\n").into_bytes(),
        format!("GET /authorize HTTP/1.1\r\nHost: x\r\nX-Forwarded-Method: GET\0POST\r\nX-Forwarded-Uri: /flows/orders\r\nX-API-Key: {key}\r\n\r\n").into_bytes(),
        // NUL, CR and LF in the request target of proxy mode.
        format!("GET /flows/orders\0/x HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n\r\n").into_bytes(),
        format!("GET /flows/orders\r/x HTTP/1.1\r\nHost: x\r\nX-API-Key: {key}\r\n\r\n").into_bytes(),
    ];
    for request in requests {
        let r = t.app.raw(&request);
        assert!(
            matches!(r.status, 400 | 401 | 403),
            "{} for {:?}",
            r.status,
            String::from_utf8_lossy(&request)
        );
    }
    // Percent-encoded CR, LF and NUL in a Bearer value are not token68.
    for bad in ["%0d%0a", "%00"] {
        let value = format!("Bearer {token}{bad}");
        assert_eq!(t.ask_with(&[("Authorization", &value)]), 401, "{bad}");
    }
    t.nothing_reached_the_flows();
}

// ------------------------------------------------------ identity spoofing

#[test]
fn spoofed_identity_and_forwarded_certificates_never_authenticate() {
    let t = Target::start();
    let (id, key) = t.app.create_account(
        json!({ "name": "spoof", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let pem = "-----BEGIN CERTIFICATE-----MIIBszCCAVmgAwIBAgIUQ-----END CERTIFICATE-----";
    let spoofed: Vec<(&str, &str)> = vec![
        ("X-Flowgate-Account", &id),
        ("X-Flowgate-Account-Name", "spoof"),
        ("X-Flowgate-Flow", "orders"),
        ("X-Flowgate-Assertion", "eyJhbGciOiJub25lIn0.e30."),
        ("Client-Cert", ":MIIBszCCAVmgAwIBAgIUQ==:"),
        ("Client-Cert-Chain", ":MIIBszCCAVmgAwIBAgIUQ==:"),
        (
            "X-Forwarded-Client-Cert",
            "Hash=abc;Subject=\"CN=spoof\";URI=spiffe://x",
        ),
        ("X-SSL-Client-Cert", pem),
        ("X-Client-Cert", pem),
        ("X-Forwarded-User", "spoof"),
        ("X-Remote-User", "spoof"),
        ("X-Authenticated-User", &id),
        ("X-Forwarded-For", "127.0.0.1"),
    ];
    // Without a credential, no identity header makes a caller.
    for header in &spoofed {
        assert_eq!(t.ask_with(&[*header]), 401, "{header:?}");
    }
    assert_eq!(t.ask_with(&spoofed), 401, "all at once");
    // A forwarded certificate beside a credential is a second credential,
    // refused whether a proxy vouches for it or not (issue 18); the other
    // spoofed headers are stripped and the credential decides.
    let certificates = [
        "Client-Cert",
        "X-Forwarded-Client-Cert",
        "X-SSL-Client-Cert",
    ];
    let (certificate_headers, spoofed): (Vec<_>, Vec<_>) = spoofed
        .into_iter()
        .partition(|(n, _)| certificates.contains(n));
    for header in &certificate_headers {
        let r = t.app.send(
            "GET",
            "/flows/orders/1",
            &[*header, ("X-API-Key", &key)],
            b"",
        );
        assert_eq!(r.status, 401, "{header:?} beside a key: {}", r.text());
        assert_eq!(
            t.ask_with(&[*header, ("X-API-Key", &key)]),
            401,
            "{header:?}"
        );
    }
    assert!(
        t.orders.seen().is_empty(),
        "a refused request reached the flow"
    );
    // With the key of another account, the answer names the real account.
    let (other, other_key) = t.app.create_account(
        json!({ "name": "real", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let mut headers = spoofed.clone();
    headers.push(("X-API-Key", &other_key));
    headers.push(("X-Forwarded-Method", "GET"));
    headers.push(("X-Forwarded-Uri", "/flows/orders/1"));
    let r = t.app.send("GET", "/authorize", &headers, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-flowgate-account"), Some(other.as_str()));
    assert_eq!(r.header("x-flowgate-account-name"), Some("real"));
    let names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names.iter().filter(|n| **n == "x-flowgate-account").count(),
        1,
        "{names:?}"
    );
    // In proxy mode the flow sees one account header, the real one.
    let mut headers = spoofed.clone();
    headers.push(("X-API-Key", &key));
    let r = t.app.send("GET", "/flows/orders/1", &headers, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = t.orders.seen();
    assert_eq!(seen.len(), 1);
    let accounts: Vec<&str> = seen[0]
        .headers
        .iter()
        .filter(|(n, _)| n == "x-flowgate-account")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(accounts, vec![id.as_str()]);
    for gone in [
        "client-cert",
        "x-forwarded-client-cert",
        "x-ssl-client-cert",
        "x-client-cert",
    ] {
        assert!(seen[0].header(gone).is_none(), "{gone} reached the flow");
    }
    // flowgate's own assertion may be there, once; the spoofed one never.
    let assertions: Vec<&str> = seen[0]
        .headers
        .iter()
        .filter(|(n, _)| n == "x-flowgate-assertion")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(assertions.len() <= 1, "{assertions:?}");
    assert!(
        !assertions.contains(&"eyJhbGciOiJub25lIn0.e30."),
        "the spoofed assertion reached the flow"
    );
}

#[test]
fn spin_and_forwarded_headers_do_not_move_the_decision() {
    let t = Target::start();
    let (_, key) = t.app.create_account(
        json!({ "name": "mover", "credential_type": "api_key", "flows": ["orders"] }),
    );
    // Proxy mode decides on the request line: a gateway header naming
    // another path or method is not read there.
    let cases: [&[(&str, &str)]; 6] = [
        &[("X-Forwarded-Uri", "/flows/orders/1")],
        &[
            ("X-Original-URI", "/flows/orders/1"),
            ("X-Original-Method", "GET"),
        ],
        &[("spin-full-url", "http://127.0.0.1/flows/orders/1")],
        &[("spin-matched-route", "/flows/orders/...")],
        &[("spin-component-route", "/flows/orders")],
        &[
            ("X-Rewrite-URL", "/flows/orders/1"),
            ("X-Original-URL", "/flows/orders/1"),
        ],
    ];
    for extra in cases {
        let mut headers = extra.to_vec();
        headers.push(("X-API-Key", &key));
        let r = t.app.send("GET", "/flows/reports/1", &headers, b"");
        assert_eq!(r.status, 403, "GET /flows/reports/1 with {extra:?}");
    }
    // Forward-auth: spin-* headers do not replace the forwarded URI, and a
    // method override does not replace the forwarded method.
    let r = t.app.send(
        "GET",
        "/authorize",
        &[
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", "/flows/reports/1"),
            ("spin-path-info", "/flows/orders/1"),
            ("spin-full-url", "http://127.0.0.1/flows/orders/1"),
            ("X-API-Key", &key),
        ],
        b"",
    );
    assert_eq!(r.status, 403);
    let (_, reports_key) = t.app.create_account(
        json!({ "name": "reader", "credential_type": "api_key", "flows": ["reports"] }),
    );
    for override_header in [
        "X-HTTP-Method-Override",
        "X-HTTP-Method",
        "X-Method-Override",
    ] {
        let r = t.app.send(
            "GET",
            "/authorize",
            &[
                ("X-Forwarded-Method", "POST"),
                ("X-Forwarded-Uri", "/flows/reports/1"),
                (override_header, "GET"),
                ("X-API-Key", &reports_key),
            ],
            b"",
        );
        assert_eq!(r.status, 403, "{override_header}: reports accepts GET only");
        let r = t.app.send(
            "POST",
            "/flows/reports/1",
            &[(override_header, "GET"), ("X-API-Key", &reports_key)],
            b"",
        );
        assert_eq!(r.status, 403, "{override_header} in proxy mode");
    }
    // Two forwarded-URI headers, or one of each family: refused, not chosen.
    for pair in [
        [
            ("X-Forwarded-Uri", "/flows/orders/1"),
            ("X-Forwarded-Uri", "/flows/reports/1"),
        ],
        [
            ("X-Forwarded-Uri", "/flows/orders/1"),
            ("X-Original-URI", "/flows/reports/1"),
        ],
        [("X-Forwarded-Method", "GET"), ("X-Original-Method", "POST")],
    ] {
        let mut headers = pair.to_vec();
        headers.push(("X-API-Key", &key));
        if !headers
            .iter()
            .any(|(n, _)| n.contains("Uri") || n.contains("URI"))
        {
            headers.push(("X-Forwarded-Uri", "/flows/orders/1"));
        }
        assert_eq!(
            t.app.send("GET", "/authorize", &headers, b"").status,
            403,
            "{pair:?}"
        );
    }
    t.nothing_reached_the_flows();
}

// ------------------------------------------------------------------ paths

/// Tricks that would let a key granted `orders` reach `reports`, or make two
/// layers see two paths.
const PATH_TRICKS: [&str; 24] = [
    "/flows/orders/../reports",
    "/flows/orders/%2e%2e/reports",
    "/flows/orders/%2E%2E/reports",
    "/flows/orders/.%2e/reports",
    "/flows/orders/%2e./reports",
    "/flows/orders/..%2freports",
    "/flows/orders/..%2Freports",
    "/flows/orders%2f..%2f..%2freports",
    "/flows/orders/..%5creports",
    "/flows/orders/..%5Creports",
    "/flows/orders\\..\\reports",
    "/flows/orders/%252e%252e/reports",
    "/flows/orders/%25252e%25252e/reports",
    "/flows/orders/%c0%ae%c0%ae/reports",
    "/flows/orders/%u002e%u002e/reports",
    "/flows/orders/..;/reports",
    "/flows/orders;/../reports",
    "/flows/orders/;/../../reports",
    "/flows//orders/../../flows/reports",
    "//flows/reports",
    "/flows/orders/%00/../../reports",
    "/flows/orders/a%00.json",
    "/flows/orders/%2e%2e%2f%2e%2e%2freports",
    "/flows/orders/....//reports",
];

#[test]
fn path_tricks_are_refused_in_every_forward_auth_style_and_in_proxy_mode() {
    let t = Target::start();
    let (_, key) = t.app.create_account(
        json!({ "name": "walker", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let ok = |status: u16, what: &str| assert_eq!(status, 200, "{what}");
    ok(
        t.app
            .send(
                "GET",
                "/authorize",
                &[("X-Forwarded-Uri", "/flows/orders/1"), ("X-API-Key", &key)],
                b"",
            )
            .status,
        "traefik style",
    );
    ok(
        t.app
            .send(
                "GET",
                "/authorize",
                &[
                    ("X-Original-Method", "GET"),
                    ("X-Original-URI", "/flows/orders/1"),
                    ("X-API-Key", &key),
                ],
                b"",
            )
            .status,
        "nginx style",
    );
    ok(
        t.app
            .send(
                "GET",
                "/authorize/flows/orders/1",
                &[("X-API-Key", &key)],
                b"",
            )
            .status,
        "envoy style",
    );
    for trick in PATH_TRICKS {
        let traefik = t.app.send(
            "GET",
            "/authorize",
            &[("X-Forwarded-Uri", trick), ("X-API-Key", &key)],
            b"",
        );
        assert_eq!(traefik.status, 403, "traefik style allowed {trick}");
        let nginx = t.app.send(
            "GET",
            "/authorize",
            &[
                ("X-Original-Method", "GET"),
                ("X-Original-URI", trick),
                ("X-API-Key", &key),
            ],
            b"",
        );
        assert_eq!(nginx.status, 403, "nginx style allowed {trick}");
        let envoy = t.app.send(
            "GET",
            &format!("/authorize{trick}"),
            &[("X-API-Key", &key)],
            b"",
        );
        assert!(
            matches!(envoy.status, 400 | 403 | 404),
            "envoy style: {} for {trick}",
            envoy.status
        );
        let proxied = t.app.send("GET", trick, &[("X-API-Key", &key)], b"");
        assert!(
            matches!(proxied.status, 400 | 403 | 404),
            "proxy mode: {} for {trick}",
            proxied.status
        );
    }
    t.nothing_reached_the_flows();
}

#[test]
fn queries_fragments_and_absolute_uris_cannot_move_a_grant() {
    let t = Target::start();
    let (_, key) = t
        .app
        .create_account(json!({ "name": "q", "credential_type": "api_key", "flows": ["orders"] }));
    for uri in [
        "/flows/reports?/flows/orders",
        "/flows/reports?x=/flows/orders/1",
        "/flows/reports#/flows/orders",
        "http://127.0.0.1/flows/reports",
        "//127.0.0.1/flows/orders/../reports",
        "flows/orders",
        "/flows/ORDERS/1",
        "/flows/orders.json/../../reports",
        "/flows/ordersx",
    ] {
        let r = t.app.send(
            "GET",
            "/authorize",
            &[("X-Forwarded-Uri", uri), ("X-API-Key", &key)],
            b"",
        );
        assert_eq!(r.status, 403, "forward-auth allowed {uri}");
    }
    // Absolute-form request targets in proxy mode.
    for target in [
        "http://127.0.0.1/flows/reports/1",
        "http://evil.test/flows/reports/1",
    ] {
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-API-Key: {key}\r\n\r\n"
        );
        // The server may also close the connection without an answer.
        let answer = raw_answer(t.app.port, request.as_bytes());
        assert!(!answer.starts_with("HTTP/1.1 200"), "{target}: {answer}");
    }
    t.nothing_reached_the_flows();
}
