//! The credential types without a generated secret, end to end: `mtls`
//! (client certificate forwarded by a trusted proxy; `tls_client_auth` with
//! certificate-bound tokens) and `private_key_jwt` (RFC 7523 assertions).

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::certs::{self, client_cert_header};
use common::{App, Options, Response, basic, start};
use jwt_simple::prelude::*;
use serde_json::json;
use sha2::{Digest as _, Sha256};

const PROXY_TOKEN: &str = "proxy-shared-secret-for-tests";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const ISSUER: &str = "http://flowgate.creds.test";

fn app() -> App {
    start(
        Options::new()
            .variable("trusted_proxy_token", Some(PROXY_TOKEN))
            .variable("issuer", Some(ISSUER)),
    )
}

/// A client certificate valid between the two dates: (PEM, DER).
fn certificate(not_before: (i32, u8, u8), not_after: (i32, u8, u8)) -> (String, Vec<u8>) {
    let c = certs::certificate_between("client.flowgate.test", not_before, not_after);
    (c.pem, c.der)
}

fn valid_certificate() -> (String, Vec<u8>) {
    certificate((2020, 1, 1), (2099, 1, 1))
}

fn mtls_account(app: &App, pem: &str, flows: &[&str]) -> String {
    let r = app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({ "name": format!("mtls-{}", common::random_hex(3)), "credential_type": "mtls", "certificate": pem, "flows": flows })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(
        r.json().get("secret").is_none(),
        "mtls accounts have no secret"
    );
    r.json()["id"].as_str().expect("id").to_owned()
}

#[test]
fn mtls_certificate_from_the_trusted_proxy_is_accepted() {
    let app = app();
    let (pem, der) = valid_certificate();
    let id = mtls_account(&app, &pem, &["orders"]);
    let cert = client_cert_header(&der);
    assert_eq!(
        app.at_orders(&[
            ("Client-Cert", &cert),
            ("X-Flowgate-Proxy-Token", PROXY_TOKEN)
        ]),
        200
    );

    // nginx's escaped PEM and Envoy's XFCC name the same certificate.
    let escaped: String = pem
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    assert_eq!(
        app.at_orders(&[
            ("X-SSL-Client-Cert", &escaped),
            ("X-Flowgate-Proxy-Token", PROXY_TOKEN)
        ]),
        200
    );
    let xfcc = format!("By=spiffe://proxy;Cert=\"{escaped}\";Subject=\"CN=client\"");
    assert_eq!(
        app.at_orders(&[
            ("X-Forwarded-Client-Cert", &xfcc),
            ("X-Flowgate-Proxy-Token", PROXY_TOKEN)
        ]),
        200
    );

    let account = app.admin("GET", &format!("/admin/v1/accounts/{id}"), None);
    assert_eq!(account.status, 200);
}

#[test]
fn forged_or_unregistered_certificates_are_refused() {
    let app = app();
    let (pem, der) = valid_certificate();
    mtls_account(&app, &pem, &["orders"]);
    let cert = client_cert_header(&der);
    // A client forging the header without the proxy's token, or with a wrong one.
    assert_eq!(app.at_orders(&[("Client-Cert", &cert)]), 401);
    assert_eq!(
        app.at_orders(&[
            ("Client-Cert", &cert),
            ("X-Flowgate-Proxy-Token", "guess-guess-guess-guess")
        ]),
        401
    );
    // Two certificate headers.
    assert_eq!(
        app.at_orders(&[
            ("Client-Cert", &cert),
            ("client-cert", &cert),
            ("X-Flowgate-Proxy-Token", PROXY_TOKEN)
        ]),
        401
    );
    // A certificate nobody registered.
    let (_, other) = valid_certificate();
    assert_eq!(
        app.at_orders(&[
            ("Client-Cert", &client_cert_header(&other)),
            ("X-Flowgate-Proxy-Token", PROXY_TOKEN)
        ]),
        401
    );
    // Without a configured proxy token, no forwarded certificate is believed.
    let closed = start(Options::new());
    let (pem, der) = valid_certificate();
    mtls_account(&closed, &pem, &["orders"]);
    assert_eq!(
        closed.at_orders(&[
            ("Client-Cert", &client_cert_header(&der)),
            ("X-Flowgate-Proxy-Token", PROXY_TOKEN)
        ]),
        401
    );
}

#[test]
fn certificates_are_verified_before_they_are_saved() {
    let app = app();
    let (expired, _) = certificate((2019, 1, 1), (2020, 1, 1));
    let (future, _) = certificate((2098, 1, 1), (2099, 1, 1));
    for (pem, hint) in [
        (expired.as_str(), "expired"),
        (future.as_str(), "not valid before"),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "X.509",
        ),
        ("", "required"),
    ] {
        let r = app.admin(
            "POST",
            "/admin/v1/accounts",
            Some(json!({ "name": "bad-cert", "credential_type": "mtls", "certificate": pem })),
        );
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(r.json()["field"], "certificate");
        assert!(
            r.json()["message"]
                .as_str()
                .is_some_and(|m| m.contains(hint)),
            "{}",
            r.text()
        );
    }
    assert_eq!(
        app.admin("GET", "/admin/v1/accounts", None).json()["items"],
        json!([])
    );
    let (pem, _) = valid_certificate();
    mtls_account(&app, &pem, &[]);
    let again = app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({ "name": "same-cert", "credential_type": "mtls", "certificate": pem })),
    );
    assert_eq!(again.status, 409, "one certificate, one account");
}

fn token(app: &App, form: &str, headers: &[(&str, &str)]) -> Response {
    let mut all = vec![FORM];
    all.extend_from_slice(headers);
    app.send("POST", "/oauth2/token", &all, form.as_bytes())
}

#[test]
fn tls_client_auth_issues_tokens_bound_to_the_certificate() {
    let app = app();
    let (pem, der) = valid_certificate();
    let id = mtls_account(&app, &pem, &["orders"]);
    let cert = client_cert_header(&der);
    let proxied = [
        ("Client-Cert", cert.as_str()),
        ("X-Flowgate-Proxy-Token", PROXY_TOKEN),
    ];
    let r = token(
        &app,
        &format!("grant_type=client_credentials&client_id={id}"),
        &proxied,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let access = r.json()["access_token"].as_str().expect("token").to_owned();
    let claims: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("json");
    let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(&der));
    assert_eq!(claims["cnf"]["x5t#S256"], thumbprint.as_str());

    let bearer = format!("Bearer {access}");
    assert_eq!(
        app.at_orders(&[("Authorization", &bearer), proxied[0], proxied[1]]),
        200
    );
    assert_eq!(
        app.at_orders(&[("Authorization", &bearer)]),
        401,
        "bound token without a certificate"
    );
    let (_, other) = valid_certificate();
    let other = client_cert_header(&other);
    assert_eq!(
        app.at_orders(&[
            ("Authorization", &bearer),
            ("Client-Cert", &other),
            ("X-Flowgate-Proxy-Token", PROXY_TOKEN)
        ]),
        401,
        "bound token with another certificate"
    );
    let unproxied = token(
        &app,
        &format!("grant_type=client_credentials&client_id={id}"),
        &[("Client-Cert", &cert)],
    );
    assert_eq!(unproxied.status, 401);
    assert_eq!(unproxied.json()["error"], "invalid_client");
}

struct PkjClient {
    id: String,
    key: Ed25519KeyPair,
}

fn pkj_client(app: &App) -> PkjClient {
    let key = Ed25519KeyPair::generate().with_key_id("key-1");
    let r = app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({
            "name": format!("pkj-{}", common::random_hex(3)), "credential_type": "private_key_jwt",
            "public_key": key.public_key().to_pem(), "key_id": "key-1", "flows": ["orders"],
        })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["client_id"], r.json()["id"]);
    PkjClient {
        id: r.json()["id"].as_str().expect("id").to_owned(),
        key,
    }
}

fn assertion(client: &PkjClient, jti: &str, aud: &str) -> String {
    let claims = Claims::create(Duration::from_secs(60))
        .with_issuer(&client.id)
        .with_subject(&client.id)
        .with_audience(aud)
        .with_jwt_id(jti);
    client.key.sign(claims).expect("sign")
}

fn assertion_form(client: &PkjClient, assertion: &str) -> String {
    format!(
        "grant_type=client_credentials&client_id={}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}",
        client.id
    )
}

#[test]
fn private_key_jwt_assertion_is_accepted_once() {
    let app = app();
    let client = pkj_client(&app);
    let jwt = assertion(&client, "once", &format!("{ISSUER}/oauth2/token"));
    let r = token(&app, &assertion_form(&client, &jwt), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let bearer = format!(
        "Bearer {}",
        r.json()["access_token"].as_str().expect("token")
    );
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 200);
    let replay = token(&app, &assertion_form(&client, &jwt), &[]);
    assert_eq!(replay.status, 401, "a jti is accepted once");
    assert_eq!(replay.json()["error"], "invalid_client");
    let issuer_aud = assertion(&client, "issuer-aud", ISSUER);
    assert_eq!(
        token(&app, &assertion_form(&client, &issuer_aud), &[]).status,
        200
    );
}

#[test]
fn issue16_private_key_jwt_with_rs256_is_verified_end_to_end() {
    // RS256's arithmetic is flowgate's own (src/assertion/rs256.rs): a
    // client with an RSA key gets a token, another key's assertion under
    // its key id and an assertion for another audience do not.
    let app = app();
    let key = RS256KeyPair::generate(2048)
        .expect("key")
        .with_key_id("rsa-1");
    let r = app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({
            "name": format!("pkj-rsa-{}", common::random_hex(3)), "credential_type": "private_key_jwt",
            "public_key": key.public_key().to_pem().expect("PEM"), "key_id": "rsa-1", "flows": ["orders"],
        })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let form = |signer: &RS256KeyPair, jti: &str, aud: &str| {
        let claims = Claims::create(Duration::from_secs(60))
            .with_issuer(&id)
            .with_subject(&id)
            .with_audience(aud)
            .with_jwt_id(jti);
        format!(
            "grant_type=client_credentials&client_id={id}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={}",
            signer.sign(claims).expect("sign")
        )
    };
    let endpoint = format!("{ISSUER}/oauth2/token");
    let issued = token(&app, &form(&key, "rsa-once", &endpoint), &[]);
    assert_eq!(issued.status, 200, "{}", issued.text());
    let bearer = format!(
        "Bearer {}",
        issued.json()["access_token"].as_str().expect("token")
    );
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 200);
    let impostor = RS256KeyPair::generate(2048)
        .expect("key")
        .with_key_id("rsa-1");
    let forged = token(&app, &form(&impostor, "rsa-forged", &endpoint), &[]);
    assert_eq!(
        (forged.status, forged.json()["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let elsewhere = token(
        &app,
        &form(&key, "rsa-aud", "https://other.example/token"),
        &[],
    );
    assert_eq!(elsewhere.status, 401);
}

#[test]
fn private_key_jwt_wrong_key_audience_or_type_is_refused() {
    let app = app();
    let client = pkj_client(&app);
    let impostor = PkjClient {
        id: client.id.clone(),
        key: Ed25519KeyPair::generate().with_key_id("key-1"),
    };
    let forged = assertion(&impostor, "forged", &format!("{ISSUER}/oauth2/token"));
    assert_eq!(
        token(&app, &assertion_form(&client, &forged), &[]).status,
        401
    );
    let elsewhere = assertion(&client, "aud", "https://other.example/token");
    assert_eq!(
        token(&app, &assertion_form(&client, &elsewhere), &[]).status,
        401
    );
    let jwt = assertion(&client, "type", &format!("{ISSUER}/oauth2/token"));
    let wrong_type = format!(
        "grant_type=client_credentials&client_assertion_type=password&client_assertion={jwt}"
    );
    let r = token(&app, &wrong_type, &[]);
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid_request"))
    );
    // A registered key must parse: garbage is refused before anything is saved.
    let bad = app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({ "name": "bad-key", "credential_type": "private_key_jwt", "public_key": "nope", "key_id": "k" })),
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["field"], "public_key");
}

#[test]
fn issue18_certificate_beside_another_credential_is_refused() {
    let upstream = common::upstream::Upstream::start();
    let app = start(
        Options::new()
            .variable("trusted_proxy_token", Some(PROXY_TOKEN))
            .variable("issuer", Some(ISSUER))
            .variable("orders_upstream", Some(&upstream.origin())),
    );
    let (pem, der) = valid_certificate();
    let holder = mtls_account(&app, &pem, &["orders"]);
    let cert = client_cert_header(&der);
    let proxied = [
        ("Client-Cert", cert.as_str()),
        ("X-Flowgate-Proxy-Token", PROXY_TOKEN),
    ];
    let (_, key) = app.create_account(
        json!({ "name": "keyed", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let (_, password) = app.create_account(
        json!({ "name": "basic-b", "credential_type": "basic", "flows": ["orders"] }),
    );
    let (client, secret) = app.create_account(
        json!({ "name": "client-c", "credential_type": "client_secret", "flows": ["orders"] }),
    );
    let r = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{holder}/tokens"),
        Some(json!({ "name": "t" })),
    );
    let api_token = r.json()["token"].as_str().expect("token").to_owned();
    let bearer_key = format!("Bearer {key}");
    let basic_header = basic("basic-b", &password);
    let bearer_token = format!("Bearer {api_token}");
    let r = token(
        &app,
        &format!("grant_type=client_credentials&client_id={client}&client_secret={secret}"),
        &[],
    );
    let unbound = format!("Bearer {}", r.json()["access_token"].as_str().expect("at"));

    // Each credential alone is accepted, so a refusal below is the pairing.
    let alone: [(&str, &str); 5] = [
        ("X-API-Key", &key),
        ("Authorization", &bearer_key),
        ("Authorization", &basic_header),
        ("Authorization", &bearer_token),
        ("Authorization", &unbound),
    ];
    assert_eq!(app.at_orders(&proxied), 200);
    for header in alone {
        assert_eq!(app.at_orders(&[header]), 200, "{}", header.0);
        assert_eq!(
            app.at_orders(&[header, proxied[0], proxied[1]]),
            401,
            "{} beside a trusted certificate",
            header.0
        );
        // Forged (no proxy token) is refused as well.
        assert_eq!(app.at_orders(&[header, proxied[0]]), 401, "{}", header.0);
    }
    // Proxy mode: the same request never reaches the upstream.
    let seen = upstream.seen().len();
    let r = app.send("GET", "/flows/orders/1", &[("X-API-Key", &key)], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let r = app.send(
        "GET",
        "/flows/orders/1",
        &[("X-API-Key", &key), proxied[0], proxied[1]],
        b"",
    );
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(
        upstream.seen().len(),
        seen + 1,
        "the refused request was forwarded"
    );

    // At the token endpoint a certificate is tls_client_auth: beside a
    // client secret (post or basic) it is a second method.
    let post = format!("grant_type=client_credentials&client_id={client}&client_secret={secret}");
    let r = token(&app, &post, &proxied);
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid_request")),
        "{}",
        r.text()
    );
    let client_basic = basic(&client, &secret);
    let r = token(
        &app,
        "grant_type=client_credentials",
        &[("Authorization", &client_basic), proxied[0], proxied[1]],
    );
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid_request")),
        "{}",
        r.text()
    );
    let pkj = pkj_client(&app);
    let jwt = assertion(&pkj, "beside", &format!("{ISSUER}/oauth2/token"));
    let r = token(&app, &assertion_form(&pkj, &jwt), &proxied);
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (400, Some("invalid_request")),
        "{}",
        r.text()
    );
    let jwt = assertion(&pkj, "alone", &format!("{ISSUER}/oauth2/token"));
    assert_eq!(token(&app, &assertion_form(&pkj, &jwt), &[]).status, 200);
}
