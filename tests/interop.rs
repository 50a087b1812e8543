//! Interoperability with code nobody on this team wrote: Python's authlib as
//! the OAuth client (client_secret_basic, client_secret_post,
//! private_key_jwt) and pyjwt as the verifier (installed into target/pyenv by
//! scripts/install-python-clients, which scripts/test runs).

mod common;

use common::{Options, start};
use serde_json::json;

fn python() -> std::path::PathBuf {
    let python = common::root().join("target/pyenv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/install-python-clients (scripts/test does)",
        python.display()
    );
    python
}

#[test]
fn authlib_obtains_tokens_and_pyjwt_verifies_them_with_the_jwks() {
    let issuer = "http://flowgate.interop.test";
    let app = start(Options::new().variable("issuer", Some(issuer)));
    let created = app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({ "name": "authlib-client", "credential_type": "client_secret", "flows": ["orders"] })),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let body = created.json();
    let (id, secret) = (
        body["client_id"].as_str().expect("client_id"),
        body["secret"].as_str().expect("secret"),
    );
    let output = std::process::Command::new(python())
        .arg(common::root().join("tests/interop/oauth_clients.py"))
        .args([
            &format!("http://127.0.0.1:{}", app.port),
            issuer,
            id,
            secret,
            &app.admin_token,
        ])
        .output()
        .expect("run the Python clients");
    assert!(
        output.status.success(),
        "the Python clients failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let tokens: serde_json::Value = serde_json::from_slice(&output.stdout).expect("tokens as JSON");
    for method in [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ] {
        let token = tokens[method].as_str().expect("a token per method");
        let bearer = format!("Bearer {token}");
        let r = app.forward_auth("GET", "/flows/orders/1", &[("Authorization", &bearer)]);
        assert_eq!(r.status, 200, "{method}: {}", r.text());
    }
}
