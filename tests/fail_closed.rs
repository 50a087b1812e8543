//! When the store fails, nothing is allowed and nothing changes. Faults are
//! injected by the test host (`FLOWGATE_HOST_KV_FAULTS`); real Spin has no
//! such switch, so there these tests say so and check nothing.

mod common;

use common::skip::skip_on_real_spin;
use common::{Options, start};
use serde_json::json;

#[test]
fn a_failing_store_answers_503_and_never_200() {
    if skip_on_real_spin("store faults are injected by the test host only") {
        return;
    }
    // Create the account on a healthy store, then restart on the same data
    // with every key-value call failing.
    let options = Options::new();
    let app = start(options.clone());
    let (id, key) = app
        .create_account(json!({ "name": "fc", "credential_type": "api_key", "flows": ["orders"] }));
    let state = app.stop();
    let mut failing = options.env("FLOWGATE_HOST_KV_FAULTS", "fail");
    failing.state_dir = Some(state.clone());
    let app = start(failing.clone());
    for _ in 0..5 {
        let r = app.forward_auth("GET", "/flows/orders", &[("X-API-Key", &key)]);
        assert_eq!(r.status, 503, "{}", r.text());
    }
    let disable = app.admin("POST", &format!("/admin/v1/accounts/{id}/disable"), None);
    assert_eq!(disable.status, 503);
    let create = app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({ "name": "new", "credential_type": "api_key" })),
    );
    assert_eq!(create.status, 503);
    let state = app.stop();

    let mut healthy = failing;
    healthy.env.clear();
    healthy.state_dir = Some(state);
    let app = start(healthy);
    let account = app.admin("GET", &format!("/admin/v1/accounts/{id}"), None);
    assert_eq!(
        account.json()["status"],
        "active",
        "a failed request changed the account"
    );
    let listed = app.admin("GET", "/admin/v1/accounts", None);
    assert_eq!(listed.json()["items"].as_array().map(Vec::len), Some(1));
}

/// A malformed variable fails closed (`503`, never `200`) and the log names
/// the variable, never its value. Spin only checks that required variables
/// have a value, so the check of their shape is flowgate's own.
#[test]
fn malformed_variables_fail_closed_naming_the_variable() {
    let cases = [
        ("hmac_pepper", "too-short", "/authorize"),
        ("signing_key", "not-a-key", "/.well-known/jwks.json"),
        ("access_token_ttl", "forever", "/.well-known/jwks.json"),
        (
            "issuer",
            "ftp://flowgate",
            "/.well-known/oauth-authorization-server",
        ),
    ];
    // A well-formed key, so that the pepper is actually needed.
    let key = common::forged_key("aaaaaaaaaaaaaaaa");
    for (name, bad, path) in cases {
        let app = start(Options::new().variable(name, Some(bad)));
        let r = app.send(
            "GET",
            path,
            &[
                ("X-Forwarded-Uri", "/flows/orders"),
                ("X-Forwarded-Method", "GET"),
                ("X-API-Key", &key),
            ],
            b"",
        );
        assert_eq!(r.status, 503, "{name}={bad}: {}", r.text());
        std::thread::sleep(std::time::Duration::from_millis(100));
        let logs = app.logs();
        assert!(logs.contains(name), "the log must name `{name}`:\n{logs}");
        assert!(
            !logs.contains(bad),
            "the log must not repeat the value of `{name}`"
        );
    }
}
