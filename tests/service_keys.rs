//! Generated credentials (issue 17), end to end through the built
//! components: flowgate's own CA issues a client certificate for an `mtls`
//! account (or a key pair for a `private_key_jwt` account) and answers once
//! with a SAP-style service key; a client built from that document alone
//! authenticates at a flow and at the token endpoint. One app serves every
//! case of this file.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::{App, Options, Response, start};
use jwt_simple::prelude::*;
use serde_json::{Value, json};

const PROXY_TOKEN: &str = "proxy-shared-secret-for-service-keys";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const ISSUER: &str = "http://flowgate.keys.test";
const MAX_DAYS: u64 = 120;

/// Random bytes for the CA key of this run.
struct OsRandom;
impl flowgate::env::Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        let hex = common::random_hex(buf.len());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
        }
    }
}

struct Shared {
    app: App,
    ca_key: String,
}

/// Starts the one app of this file. It is owned by the one `#[test]` below
/// and dropped (stopped, its process group checked) when that test ends: a
/// `static` app would outlive the test binary and leave its server running.
fn start_shared() -> Shared {
    let (ca_key, _) = flowgate::pki::generate_key_pair(flowgate::pki::Algorithm::Es256, &OsRandom)
        .expect("ca key");
    let app = start(
        Options::new()
            .variable("trusted_proxy_token", Some(PROXY_TOKEN))
            .variable("issuer", Some(ISSUER))
            .variable("ca_key", Some(&ca_key))
            .variable("client_certificate_max_days", Some(&MAX_DAYS.to_string())),
    );
    Shared { app, ca_key }
}

/// One case of this file: its name and its body.
type Case = (&'static str, fn(&Shared));

/// Every case of this file, in turn, against one app.
#[test]
fn issue17_service_keys_end_to_end() {
    let shared = start_shared();
    let cases: [Case; 8] = [
        (
            "issue17_generated_mtls_service_key_authenticates_at_a_flow_and_the_token_endpoint",
            issue17_generated_mtls_service_key_authenticates_at_a_flow_and_the_token_endpoint,
        ),
        (
            "issue17_generated_certificate_verifies_against_the_ca_with_openssl",
            issue17_generated_certificate_verifies_against_the_ca_with_openssl,
        ),
        (
            "issue17_generated_private_key_jwt_key_signs_assertions",
            issue17_generated_private_key_jwt_key_signs_assertions,
        ),
        (
            "issue17_authlib_client_built_from_the_service_key_obtains_a_token",
            issue17_authlib_client_built_from_the_service_key_obtains_a_token,
        ),
        (
            "issue17_rotation_reset_kill_switch_and_delete_of_a_generated_certificate",
            issue17_rotation_reset_kill_switch_and_delete_of_a_generated_certificate,
        ),
        (
            "issue17_bad_generate_requests_are_400_naming_the_field_and_change_nothing",
            issue17_bad_generate_requests_are_400_naming_the_field_and_change_nothing,
        ),
        (
            "issue17_ca_key_is_not_in_the_store_or_logs",
            issue17_ca_key_is_not_in_the_store_or_logs,
        ),
        (
            "issue17_concurrent_generated_rotations_of_one_account_all_land",
            issue17_concurrent_generated_rotations_of_one_account_all_land,
        ),
    ];
    for (name, case) in cases {
        println!("case {name}");
        case(&shared);
    }
}

fn name(prefix: &str) -> String {
    format!("{prefix}-{}", common::random_hex(4))
}

/// Creates a generated account; returns the whole answer.
fn generated(app: &App, body: Value) -> Value {
    let r = app.admin("POST", "/admin/v1/accounts", Some(body));
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

/// The PEM blocks of `text`, in order, as DER.
fn pem_blocks(text: &str) -> Vec<Vec<u8>> {
    text.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|rest| {
            let body: String = rest
                .split("-----END CERTIFICATE-----")
                .next()
                .expect("end")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            STANDARD.decode(body).expect("base64")
        })
        .collect()
}

/// The forwarded-certificate headers of a client that holds `service_key`:
/// its certificate, as the TLS-terminating proxy forwards it (RFC 9440).
fn proxied(service_key: &Value) -> Vec<(String, String)> {
    let chain = pem_blocks(service_key["certificate"].as_str().expect("certificate"));
    vec![
        (
            "Client-Cert".into(),
            format!(":{}:", STANDARD.encode(&chain[0])),
        ),
        ("X-Flowgate-Proxy-Token".into(), PROXY_TOKEN.into()),
    ]
}

fn refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect()
}

/// The path of the service key's `tokenurl` (the test talks to loopback,
/// the document names the public URL).
fn token_path(service_key: &Value) -> String {
    let url = service_key["tokenurl"].as_str().expect("tokenurl");
    assert_eq!(url, format!("{ISSUER}/oauth2/token"));
    url.strip_prefix(ISSUER)
        .expect("under the issuer")
        .to_owned()
}

fn tls_client_auth(app: &App, service_key: &Value) -> Response {
    let form = format!(
        "grant_type=client_credentials&client_id={}",
        service_key["clientid"].as_str().expect("clientid")
    );
    let headers = proxied(service_key);
    let mut all = refs(&headers);
    all.push(FORM);
    app.send("POST", &token_path(service_key), &all, form.as_bytes())
}

fn orders_with_certificate(app: &App, service_key: &Value) -> u16 {
    app.at_orders(&refs(&proxied(service_key)))
}

/// Lines of the private key's base64 body: what must appear nowhere.
fn key_parts(service_key: &Value) -> Vec<String> {
    service_key["key"]
        .as_str()
        .expect("key")
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() >= 16)
        .map(str::to_owned)
        .collect()
}

fn assert_key_nowhere(app: &App, service_key: &Value) {
    let store = app.store_bytes();
    let logs = app.logs();
    let audit = app.admin("GET", "/admin/v1/audit?limit=200", None).text();
    let export = app.admin("GET", "/admin/v1/export", None).text();
    let parts = key_parts(service_key);
    assert!(!parts.is_empty());
    let der = STANDARD
        .decode(parts.concat())
        .expect("the key's PEM body is base64");
    for part in &parts {
        assert!(!common::contains(&store, part), "key text in the store");
        assert!(!logs.contains(part.as_str()), "key text in the logs");
        assert!(!audit.contains(part.as_str()), "key text in the audit log");
        assert!(!export.contains(part.as_str()), "key text in the export");
    }
    // Nor the key's DER, nor any PEM private key at all.
    assert!(
        !store.windows(der.len()).any(|w| w == der.as_slice()),
        "key DER in the store"
    );
    assert!(!store.windows(11).any(|w| w == b"PRIVATE KEY"));
}

fn issue17_generated_mtls_service_key_authenticates_at_a_flow_and_the_token_endpoint(
    shared: &Shared,
) {
    let app = &shared.app;
    let account_name = name("sap-client");
    let created = generated(
        app,
        json!({ "name": account_name, "credential_type": "mtls", "generate": true, "flows": ["orders"] }),
    );
    let key = &created["service_key"];
    // The SAP names, then flowgate's.
    for field in [
        "clientid",
        "url",
        "tokenurl",
        "certificate",
        "key",
        "certificatedetails",
    ] {
        assert!(key.get(field).is_some(), "service key lacks {field}: {key}");
    }
    assert_eq!(key["clientid"], created["id"]);
    assert_eq!(key["client_id"], created["client_id"]);
    assert_eq!(key["url"], ISSUER);
    assert_eq!(key["credential_type"], "mtls");
    assert_eq!(key["token_endpoint_auth_method"], "tls_client_auth");
    assert_eq!(key["algorithm"], "ES256", "the documented default");
    assert!(
        key["key"]
            .as_str()
            .expect("key")
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let details = &key["certificatedetails"];
    assert!(
        details["subjectdn"]
            .as_str()
            .expect("subject")
            .contains(&format!("CN={account_name}"))
    );
    assert_eq!(details["issuerdn"], "CN=flowgate client CA,O=flowgate");
    // The account holds the certificate's thumbprint and details only, in
    // the same shape as an uploaded certificate, with its validity.
    let account = app
        .admin(
            "GET",
            &format!("/admin/v1/accounts/{}", created["id"].as_str().expect("id")),
            None,
        )
        .json();
    let stored = &account["certificates"][0];
    assert_eq!(stored["thumbprint"], key["thumbprint"]);
    assert_eq!(stored["serial"], details["serialnumber"]);
    assert_eq!(stored["not_after"], key["not_after"]);
    let not_before = stored["not_before"].as_u64().expect("not_before");
    let not_after = stored["not_after"].as_u64().expect("not_after");
    assert_eq!(not_after - not_before, 90 * 86_400 + 300, "default 90 days");
    assert!(account.get("service_key").is_none());
    assert!(!account.to_string().contains("PRIVATE KEY"));
    // The chain: the client certificate, then the CA's, which is also
    // downloadable for the proxy's trust store.
    let ca = app.send("GET", "/admin/v1/ca.pem", &[], b"");
    assert_eq!(ca.status, 200, "{}", ca.text());
    assert_eq!(ca.text(), key["ca_certificate"].as_str().expect("ca"));
    // The authorization-server metadata points at the same download.
    let metadata = app
        .send("GET", "/.well-known/oauth-authorization-server", &[], b"")
        .json();
    assert_eq!(
        metadata["flowgate_client_ca_uri"],
        format!("{ISSUER}/admin/v1/ca.pem")
    );
    let chain = pem_blocks(key["certificate"].as_str().expect("certificate"));
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[1], pem_blocks(&ca.text())[0]);

    // At a flow: the certificate forwarded by the trusted proxy.
    assert_eq!(orders_with_certificate(app, key), 200);
    // Without the proxy's token the certificate is not believed.
    let untrusted = proxied(key);
    assert_eq!(app.at_orders(&refs(&untrusted[..1])), 401);
    // At the token endpoint: tls_client_auth, certificate-bound token.
    let r = tls_client_auth(app, key);
    assert_eq!(r.status, 200, "{}", r.text());
    let access = r.json()["access_token"].as_str().expect("token").to_owned();
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(access.split('.').nth(1).expect("payload"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(claims["cnf"]["x5t#S256"], key["thumbprint"]);
    let bearer = format!("Bearer {access}");
    let forwarded = proxied(key);
    let mut with_cert = refs(&forwarded);
    with_cert.push(("Authorization", &bearer));
    assert_eq!(app.at_orders(&with_cert), 200);
    assert_eq!(
        app.at_orders(&[("Authorization", &bearer)]),
        401,
        "a certificate-bound token without its certificate"
    );

    // The audit log records the issuance (serial, validity), not the key.
    let audit = app
        .admin(
            "GET",
            &format!(
                "/admin/v1/audit?target=account:{}",
                created["id"].as_str().expect("id")
            ),
            None,
        )
        .json();
    let issue = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["action"] == "certificate.issue")
        .unwrap_or_else(|| panic!("no certificate.issue entry: {audit}"))
        .clone();
    assert_eq!(issue["detail"]["serial"], details["serialnumber"]);
    assert_eq!(issue["detail"]["not_after"], key["not_after"]);
    assert_key_nowhere(app, key);
}

fn issue17_generated_certificate_verifies_against_the_ca_with_openssl(shared: &Shared) {
    let Some(openssl) = common::gateway::find("openssl", &[]) else {
        println!("SKIPPED: openssl is not installed; chain not checked by an independent verifier");
        return;
    };
    let app = &shared.app;
    let created = generated(
        app,
        json!({ "name": name("chain"), "credential_type": "mtls", "generate": { "algorithm": "EdDSA", "validity_days": 7 } }),
    );
    let key = &created["service_key"];
    assert_eq!(key["algorithm"], "EdDSA");
    let dir = common::root().join("target/e2e").join(name("openssl"));
    std::fs::create_dir_all(&dir).expect("dir");
    let certificate = key["certificate"].as_str().expect("certificate");
    let client = certificate
        .split_inclusive("-----END CERTIFICATE-----\n")
        .next()
        .expect("first");
    std::fs::write(
        dir.join("ca.pem"),
        key["ca_certificate"].as_str().expect("ca"),
    )
    .expect("ca");
    std::fs::write(dir.join("client.pem"), client).expect("client");
    let out = std::process::Command::new(&openssl)
        .args(["verify", "-purpose", "sslclient", "-CAfile"])
        .arg(dir.join("ca.pem"))
        .arg(dir.join("client.pem"))
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The key in the service key is the certificate's.
    std::fs::write(dir.join("key.pem"), key["key"].as_str().expect("key")).expect("key");
    let public_of = |args: &[&str], file: &str| {
        let out = std::process::Command::new(&openssl)
            .args(args)
            .arg(dir.join(file))
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    assert_eq!(
        public_of(&["pkey", "-pubout", "-in"], "key.pem"),
        public_of(&["x509", "-noout", "-pubkey", "-in"], "client.pem")
    );
    std::fs::remove_dir_all(&dir).ok();
    let not_after = key["not_after"].as_u64().expect("not_after");
    let not_before = key["not_before"].as_u64().expect("not_before");
    assert_eq!(not_after - not_before, 7 * 86_400 + 300);
}

fn issue17_generated_private_key_jwt_key_signs_assertions(shared: &Shared) {
    let app = &shared.app;
    for algorithm in ["ES256", "EdDSA"] {
        let created = generated(
            app,
            json!({ "name": name("pkj"), "credential_type": "private_key_jwt", "generate": { "algorithm": algorithm }, "flows": ["orders"] }),
        );
        let key = &created["service_key"];
        assert_eq!(key["token_endpoint_auth_method"], "private_key_jwt");
        assert_eq!(key["algorithm"], algorithm);
        let kid = key["key_id"].as_str().expect("key_id");
        assert_eq!(created["public_keys"][0]["kid"], kid);
        assert_eq!(created["public_keys"][0]["alg"], algorithm);
        let client = key["clientid"].as_str().expect("clientid");
        let claims = Claims::create(Duration::from_secs(60))
            .with_issuer(client)
            .with_subject(client)
            .with_audience(key["tokenurl"].as_str().expect("tokenurl"))
            .with_jwt_id(common::random_hex(8));
        let pem = key["key"].as_str().expect("key");
        let assertion = match algorithm {
            "ES256" => ES256KeyPair::from_pem(pem)
                .expect("P-256 PKCS#8")
                .with_key_id(kid)
                .sign(claims),
            _ => Ed25519KeyPair::from_pem(pem)
                .expect("Ed25519 PKCS#8")
                .with_key_id(kid)
                .sign(claims),
        }
        .expect("sign");
        let form = format!(
            "grant_type=client_credentials&client_id={client}&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
        );
        let r = app.send("POST", &token_path(key), &[FORM], form.as_bytes());
        assert_eq!(r.status, 200, "{algorithm}: {}", r.text());
        let bearer = format!(
            "Bearer {}",
            r.json()["access_token"].as_str().expect("token")
        );
        assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 200);
        assert_key_nowhere(app, key);
    }
}

fn issue17_authlib_client_built_from_the_service_key_obtains_a_token(shared: &Shared) {
    let python = common::root().join("target/pyenv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-python-clients (scripts/test does)",
        python.display()
    );
    let app = &shared.app;
    let created = generated(
        app,
        json!({ "name": name("authlib"), "credential_type": "private_key_jwt", "generate": true, "flows": ["orders"] }),
    );
    let mut child = std::process::Command::new(python)
        .arg(common::root().join("tests/interop/service_key_client.py"))
        .arg(format!("http://127.0.0.1:{}", app.port))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(created["service_key"].to_string().as_bytes())
            .expect("service key written");
    }
    let out = child.wait_with_output().expect("python finishes");
    assert!(
        out.status.success(),
        "authlib: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).expect("utf-8");
    let bearer = format!("Bearer {}", token.trim());
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 200);
}

fn issue17_rotation_reset_kill_switch_and_delete_of_a_generated_certificate(shared: &Shared) {
    let app = &shared.app;
    let created = generated(
        app,
        json!({ "name": name("rotate"), "credential_type": "mtls", "generate": true, "flows": ["orders"] }),
    );
    let id = created["id"].as_str().expect("id").to_owned();
    let first = created["service_key"].clone();
    // Rotation with overlap: a second generated certificate beside the first.
    let r = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{id}/certificates"),
        Some(json!({ "generate": { "validity_days": 30 } })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let second = r.json()["service_key"].clone();
    assert_eq!(r.json()["certificates"].as_array().expect("certs").len(), 2);
    assert_ne!(first["thumbprint"], second["thumbprint"]);
    assert_eq!(orders_with_certificate(app, &first), 200);
    assert_eq!(orders_with_certificate(app, &second), 200);
    // Retire the first.
    let r = app.admin(
        "DELETE",
        &format!(
            "/admin/v1/accounts/{id}/certificates/{}",
            first["thumbprint"].as_str().expect("thumbprint")
        ),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(orders_with_certificate(app, &first), 401);
    assert_eq!(orders_with_certificate(app, &second), 200);
    // Reset: a new certificate replaces every current one at once.
    let r = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{id}/reset-credential"),
        Some(json!({ "generate": true })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let third = r.json()["service_key"].clone();
    assert_eq!(r.json()["certificates"].as_array().expect("certs").len(), 1);
    assert_eq!(orders_with_certificate(app, &second), 401);
    assert_eq!(orders_with_certificate(app, &third), 200);
    // The kill switch and delete, as for any account.
    let r = app.admin("POST", &format!("/admin/v1/accounts/{id}/disable"), None);
    assert_eq!(r.status, 200);
    assert_eq!(orders_with_certificate(app, &third), 401);
    assert_eq!(tls_client_auth(app, &third).status, 401);
    let r = app.admin("POST", &format!("/admin/v1/accounts/{id}/enable"), None);
    assert_eq!(r.status, 200);
    assert_eq!(orders_with_certificate(app, &third), 200);
    let r = app.admin(
        "DELETE",
        &format!("/admin/v1/accounts/{id}?force=true"),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(orders_with_certificate(app, &third), 401);
    for key in [&first, &second, &third] {
        assert_key_nowhere(app, key);
    }
}

/// Generated credentials go through management's retry after a concurrent
/// change like every other mutation: four rotations of one account at once
/// all land (before, a lost race answered 503).
fn issue17_concurrent_generated_rotations_of_one_account_all_land(shared: &Shared) {
    let app = &shared.app;
    let created = generated(
        app,
        json!({ "name": name("race"), "credential_type": "mtls", "generate": true, "flows": ["orders"] }),
    );
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/admin/v1/accounts/{id}/certificates");
    let keys: Vec<Value> = std::thread::scope(|s| {
        let rotations: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let r = app.admin("POST", &path, Some(json!({ "generate": true })));
                    assert_eq!(r.status, 201, "{}", r.text());
                    r.json()["service_key"].clone()
                })
            })
            .collect();
        rotations
            .into_iter()
            .map(|t| t.join().expect("rotation thread"))
            .collect()
    });
    let account = app
        .admin("GET", &format!("/admin/v1/accounts/{id}"), None)
        .json();
    assert_eq!(
        account["certificates"]
            .as_array()
            .expect("certificates")
            .len(),
        5,
        "{account}"
    );
    for key in &keys {
        assert_eq!(orders_with_certificate(app, key), 200);
    }
}

fn issue17_bad_generate_requests_are_400_naming_the_field_and_change_nothing(shared: &Shared) {
    let app = &shared.app;
    let cases = [
        (
            json!({ "name": name("bad"), "credential_type": "api_key", "generate": true }),
            "generate",
        ),
        (
            json!({ "name": name("bad"), "credential_type": "mtls", "generate": "yes" }),
            "generate",
        ),
        (
            json!({ "name": name("bad"), "credential_type": "mtls", "generate": { "algorithm": "RS256" } }),
            "generate.algorithm",
        ),
        (
            json!({ "name": name("bad"), "credential_type": "mtls", "generate": { "validity_days": MAX_DAYS + 1 } }),
            "generate.validity_days",
        ),
        (
            json!({ "name": name("bad"), "credential_type": "mtls", "generate": true, "certificate": "x" }),
            "certificate",
        ),
        (
            json!({ "name": "no spaces", "credential_type": "mtls", "generate": true }),
            "name",
        ),
        (
            json!({ "name": name("bad"), "credential_type": "mtls", "generate": true, "flows": ["nope"] }),
            "flows",
        ),
    ];
    for (body, field) in cases {
        let r = app.admin("POST", "/admin/v1/accounts", Some(body.clone()));
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{body}: {}", r.text());
        assert!(!r.text().contains("PRIVATE KEY"));
    }
    // Other cases of this file create accounts meanwhile: look for these
    // names (every case's name is unique) rather than count.
    let listed = app.admin("GET", "/admin/v1/accounts?limit=200&name=bad-", None);
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(
        listed.json()["items"],
        json!([]),
        "a refused request creates nothing"
    );
}

fn issue17_ca_key_is_not_in_the_store_or_logs(shared: &Shared) {
    let app = &shared.app;
    // Issue one, so that the CA key has been used.
    generated(
        app,
        json!({ "name": name("ca-use"), "credential_type": "mtls", "generate": true }),
    );
    let store = app.store_bytes();
    let logs = app.logs();
    for line in shared.ca_key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!common::contains(&store, line));
        assert!(!logs.contains(line));
    }
}
