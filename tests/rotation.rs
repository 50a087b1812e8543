//! Rotating the material of `mtls` and `private_key_jwt` accounts without
//! downtime, end to end: a second certificate or key is added beside the
//! first, both work at the edge, the first is removed and stops working on
//! the next request while the second goes on; the last one cannot be
//! removed, and material that fails its checks is refused with nothing
//! saved.

mod common;

use common::{App, Options, start};
use jwt_simple::prelude::*;
use serde_json::{Value, json};

const PROXY_TOKEN: &str = "proxy-shared-secret-for-rotation";
const ISSUER: &str = "http://flowgate.rotation.test";

fn app() -> App {
    start(
        Options::new()
            .variable("trusted_proxy_token", Some(PROXY_TOKEN))
            .variable("issuer", Some(ISSUER)),
    )
}

/// A self-signed client certificate valid until the first day of
/// `not_after_year`: (PEM, DER).
fn certificate(not_after_year: i32) -> (String, Vec<u8>) {
    let c = common::certs::certificate_until("client.rotation.test", not_after_year);
    (c.pem, c.der)
}

/// The edge's answer to `GET /flows/orders/1` with `der` forwarded by the
/// trusted proxy.
fn with_certificate(app: &App, der: &[u8]) -> u16 {
    let cert = common::certs::client_cert_header(der);
    app.at_orders(&[
        ("Client-Cert", &cert),
        ("X-Flowgate-Proxy-Token", PROXY_TOKEN),
    ])
}

fn account(app: &App, id: &str) -> Value {
    let r = app.admin("GET", &format!("/admin/v1/accounts/{id}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn thumbprints(view: &Value) -> Vec<String> {
    view["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["thumbprint"].as_str().map(str::to_owned))
        .collect()
}

/// The audit entries of `target` (newest first) as `action outcome`.
fn audit(app: &App, target: &str) -> Vec<String> {
    let r = app.admin("GET", &format!("/admin/v1/audit?target={target}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{} {}",
                e["action"].as_str().unwrap_or(""),
                e["outcome"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn mtls_certificate_rotates_without_downtime() {
    let app = app();
    let (pem_a, der_a) = certificate(2099);
    let (pem_b, der_b) = certificate(2099);
    let (id, _) = app.create_account(json!({
        "name": "edge-client", "credential_type": "mtls", "certificate": pem_a, "flows": ["orders"],
    }));
    let first = thumbprints(&account(&app, &id));
    assert_eq!(first.len(), 1);
    assert_eq!(with_certificate(&app, &der_a), 200);
    assert_eq!(with_certificate(&app, &der_b), 401, "not registered yet");

    let path = format!("/admin/v1/accounts/{id}/certificates");
    let added = app.admin("POST", &path, Some(json!({ "certificate": pem_b })));
    assert_eq!(added.status, 201, "{}", added.text());
    let both = thumbprints(&added.json());
    assert_eq!(both.len(), 2);
    assert_eq!(both[0], first[0]);
    let second = both[1].clone();
    assert_eq!(
        with_certificate(&app, &der_a),
        200,
        "the old one still works"
    );
    assert_eq!(with_certificate(&app, &der_b), 200, "the new one works");

    let removed = app.admin("DELETE", &format!("{path}/{}", first[0]), None);
    assert_eq!(removed.status, 204, "{}", removed.text());
    assert_eq!(with_certificate(&app, &der_a), 401, "the removed one stops");
    assert_eq!(with_certificate(&app, &der_b), 200, "the new one goes on");
    assert_eq!(thumbprints(&account(&app, &id)), vec![second.clone()]);

    let last = app.admin("DELETE", &format!("{path}/{second}"), None);
    assert_eq!(last.status, 409, "{}", last.text());
    assert!(
        last.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("disable or delete")),
        "{}",
        last.text()
    );
    assert_eq!(with_certificate(&app, &der_b), 200);
    let unknown = app.admin("DELETE", &format!("{path}/{}", first[0]), None);
    assert_eq!(unknown.status, 404, "{}", unknown.text());

    let entries = audit(&app, &format!("account:{id}/certificate:"));
    for expected in [
        "certificate.add ok",
        "certificate.remove ok",
        "certificate.remove conflict",
    ] {
        assert!(entries.contains(&expected.to_owned()), "{entries:?}");
    }
}

#[test]
fn refused_certificates_change_nothing() {
    let app = app();
    let (pem_a, der_a) = certificate(2099);
    let (id, _) = app.create_account(json!({
        "name": "strict", "credential_type": "mtls", "certificate": pem_a, "flows": ["orders"],
    }));
    let before = account(&app, &id);
    let path = format!("/admin/v1/accounts/{id}/certificates");

    let (expired, expired_der) = certificate(2021);
    let r = app.admin("POST", &path, Some(json!({ "certificate": expired })));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["field"], "certificate");
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired")),
        "{}",
        r.text()
    );
    assert_eq!(with_certificate(&app, &expired_der), 401);

    let garbage = app.admin(
        "POST",
        &path,
        Some(json!({ "certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----" })),
    );
    assert_eq!(garbage.status, 400, "{}", garbage.text());
    assert_eq!(garbage.json()["field"], "certificate");

    let duplicate = app.admin("POST", &path, Some(json!({ "certificate": pem_a })));
    assert_eq!(duplicate.status, 409, "{}", duplicate.text());

    // A certificate that another account holds.
    let (pem_other, _) = certificate(2099);
    app.create_account(
        json!({ "name": "other", "credential_type": "mtls", "certificate": pem_other }),
    );
    let taken = app.admin("POST", &path, Some(json!({ "certificate": pem_other })));
    assert_eq!(taken.status, 409, "{}", taken.text());

    // Only mtls accounts hold certificates.
    let (key_id, _) = app.create_account(json!({ "name": "keyed", "credential_type": "api_key" }));
    let (pem_c, _) = certificate(2099);
    let wrong = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{key_id}/certificates"),
        Some(json!({ "certificate": pem_c })),
    );
    assert_eq!(wrong.status, 400, "{}", wrong.text());
    assert_eq!(wrong.json()["field"], "credential_type");

    assert_eq!(account(&app, &id), before, "the account is unchanged");
    assert_eq!(with_certificate(&app, &der_a), 200);
    let entries = audit(&app, &format!("account:{id}"));
    assert!(
        entries.contains(&"certificate.add invalid_request".to_owned()),
        "{entries:?}"
    );
}

#[test]
fn an_account_holds_at_most_five_certificates() {
    let app = app();
    let (pem, _) = certificate(2099);
    let (id, _) = app
        .create_account(json!({ "name": "many", "credential_type": "mtls", "certificate": pem }));
    let path = format!("/admin/v1/accounts/{id}/certificates");
    for _ in 1..5 {
        let (pem, _) = certificate(2099);
        let r = app.admin("POST", &path, Some(json!({ "certificate": pem })));
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let (sixth, der) = certificate(2099);
    let r = app.admin("POST", &path, Some(json!({ "certificate": sixth })));
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("at most 5")),
        "{}",
        r.text()
    );
    assert_eq!(thumbprints(&account(&app, &id)).len(), 5);
    assert_eq!(with_certificate(&app, &der), 401);
}

/// A `private_key_jwt` client's key and id.
struct Signer {
    client: String,
    key: Ed25519KeyPair,
}

impl Signer {
    fn token(&self, app: &App, jti: &str) -> common::Response {
        let claims = Claims::create(Duration::from_secs(60))
            .with_issuer(&self.client)
            .with_subject(&self.client)
            .with_audience(format!("{ISSUER}/oauth2/token"))
            .with_jwt_id(jti);
        let assertion = self.key.sign(claims).expect("sign");
        let form = format!(
            "grant_type=client_credentials&client_id={}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}",
            self.client
        );
        app.send(
            "POST",
            "/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        )
    }
}

fn key_ids(view: &Value) -> Vec<String> {
    view["public_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| k["kid"].as_str().map(str::to_owned))
        .collect()
}

#[test]
fn private_key_jwt_key_rotates_without_downtime() {
    let app = app();
    let one = Ed25519KeyPair::generate().with_key_id("key-1");
    let (client, _) = app.create_account(json!({
        "name": "signer", "credential_type": "private_key_jwt", "flows": ["orders"],
        "public_key": one.public_key().to_pem(), "key_id": "key-1",
    }));
    let first = Signer {
        client: client.clone(),
        key: one,
    };
    let second = Signer {
        client: client.clone(),
        key: Ed25519KeyPair::generate().with_key_id("key-2"),
    };
    assert_eq!(first.token(&app, "a1").status, 200);
    assert_eq!(second.token(&app, "b1").status, 401, "not registered yet");

    let path = format!("/admin/v1/accounts/{client}/keys");
    let added = app.admin(
        "POST",
        &path,
        Some(json!({ "public_key": second.key.public_key().to_pem(), "key_id": "key-2" })),
    );
    assert_eq!(added.status, 201, "{}", added.text());
    assert_eq!(key_ids(&added.json()), ["key-1", "key-2"]);
    assert_eq!(added.json()["public_keys"][1]["alg"], "EdDSA");
    let old = first.token(&app, "a2");
    assert_eq!(old.status, 200, "the old key still works: {}", old.text());
    let new = second.token(&app, "b2");
    assert_eq!(new.status, 200, "the new key works: {}", new.text());
    let bearer = format!(
        "Bearer {}",
        new.json()["access_token"].as_str().expect("token")
    );
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 200);

    let duplicate = app.admin(
        "POST",
        &path,
        Some(json!({ "public_key": Ed25519KeyPair::generate().public_key().to_pem(), "key_id": "key-2" })),
    );
    assert_eq!(duplicate.status, 409, "{}", duplicate.text());

    let removed = app.admin("DELETE", &format!("{path}/key-1"), None);
    assert_eq!(removed.status, 204, "{}", removed.text());
    let refused = first.token(&app, "a3");
    assert_eq!(
        refused.status,
        401,
        "the removed key stops: {}",
        refused.text()
    );
    assert_eq!(refused.json()["error"], "invalid_client");
    assert_eq!(second.token(&app, "b3").status, 200, "the new key goes on");

    let last = app.admin("DELETE", &format!("{path}/key-2"), None);
    assert_eq!(last.status, 409, "{}", last.text());
    let unknown = app.admin("DELETE", &format!("{path}/key-1"), None);
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert_eq!(second.token(&app, "b4").status, 200);

    let entries = audit(&app, &format!("account:{client}/key:"));
    for expected in ["key.add ok", "key.remove ok", "key.remove conflict"] {
        assert!(entries.contains(&expected.to_owned()), "{entries:?}");
    }
}

#[test]
fn malformed_keys_are_refused_and_nothing_is_saved() {
    let app = app();
    let key = Ed25519KeyPair::generate().with_key_id("k1");
    let (client, _) = app.create_account(json!({
        "name": "careful", "credential_type": "private_key_jwt",
        "public_key": key.public_key().to_pem(), "key_id": "k1",
    }));
    let before = account(&app, &client);
    let path = format!("/admin/v1/accounts/{client}/keys");
    for (body, field) in [
        (
            json!({ "public_key": "nope", "key_id": "k2" }),
            "public_key",
        ),
        (
            json!({ "public_key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", "key_id": "k2" }),
            "public_key",
        ),
        (
            json!({ "public_key": "{\"kty\":\"OKP\",\"crv\":\"Ed25519\"}", "key_id": "k2" }),
            "public_key",
        ),
        (
            json!({ "public_key": Ed25519KeyPair::generate().public_key().to_pem() }),
            "key_id",
        ),
        (
            json!({ "public_key": Ed25519KeyPair::generate().public_key().to_pem(), "key_id": "k2", "alg": "none" }),
            "alg",
        ),
    ] {
        let r = app.admin("POST", &path, Some(body));
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(r.json()["field"], field, "{}", r.text());
    }
    // Only private_key_jwt accounts hold public keys.
    let (pem, _) = certificate(2099);
    let (mtls, _) =
        app.create_account(json!({ "name": "m", "credential_type": "mtls", "certificate": pem }));
    let wrong = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{mtls}/keys"),
        Some(json!({ "public_key": Ed25519KeyPair::generate().public_key().to_pem(), "key_id": "k2" })),
    );
    assert_eq!(wrong.status, 400, "{}", wrong.text());
    assert_eq!(wrong.json()["field"], "credential_type");
    assert_eq!(account(&app, &client), before, "the account is unchanged");
}

#[test]
fn a_role_without_accounts_write_cannot_rotate() {
    let app = app();
    let (pem, _) = certificate(2099);
    let (id, _) = app
        .create_account(json!({ "name": "target", "credential_type": "mtls", "certificate": pem }));
    let (_, key) = app.create_account(
        json!({ "name": "reader", "credential_type": "api_key", "roles": ["auditor"] }),
    );
    let (pem_b, _) = certificate(2099);
    let body = json!({ "certificate": pem_b }).to_string();
    let r = app.send(
        "POST",
        &format!("/admin/v1/accounts/{id}/certificates"),
        &[("X-API-Key", &key), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("accounts:write"), "{}", r.text());
    assert_eq!(thumbprints(&account(&app, &id)).len(), 1);
}
