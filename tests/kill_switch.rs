//! Issue 12: the kill switch and grant changes reach access tokens already
//! issued, on the next request, on every host sharing the store. An access
//! token's use reads its account's record every time (two reads after the
//! first use, counted in tests/kv_counts.rs), so `disable` stops it at once,
//! `enable` brings it back while it has not expired (as Kong and Ory users
//! expect: the switch is about the account, not about its tokens), and a
//! revoked grant stops it at that flow only. `/oauth2/revoke` of a single
//! token stays immediate and final.

mod common;

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::redis::{self, Redis};
use common::{App, Options, on_real_spin, start};
use serde_json::json;

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// A `client_secret` client granted orders and reports, and an access token
/// for both.
fn client_with_token(app: &App, name: &str) -> (String, String, String) {
    let (id, secret) = app.create_account(json!({
        "name": name, "credential_type": "client_secret", "flows": ["orders", "reports"],
    }));
    let r = app.send(
        "POST",
        "/oauth2/token",
        &[FORM, ("Authorization", &basic(&id, &secret))],
        b"grant_type=client_credentials",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let token = r.json()["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    (id, secret, token)
}

/// Forward-auth status of `GET <path>` with the bearer token.
fn at(app: &App, path: &str, token: &str) -> u16 {
    let bearer = format!("Bearer {token}");
    app.send(
        "GET",
        "/authorize",
        &[
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", path),
            ("Authorization", &bearer),
        ],
        b"",
    )
    .status
}

fn admin_ok(app: &App, method: &str, path: &str) {
    let r = app.admin(method, path, None);
    assert!(
        (200..300).contains(&r.status),
        "{method} {path}: {} {}",
        r.status,
        r.text()
    );
}

#[test]
fn issue12_disable_enable_and_grant_revocation_reach_held_access_tokens_at_once() {
    let app = start(Options::new());
    let (id, secret, token) = client_with_token(&app, "held-token");
    // First use (full verification, recorded), then the recorded path.
    assert_eq!(at(&app, "/flows/orders/1", &token), 200);
    assert_eq!(at(&app, "/flows/orders/1", &token), 200);

    // Disable: the very next request with the held token is refused.
    admin_ok(&app, "POST", &format!("/admin/v1/accounts/{id}/disable"));
    assert_eq!(at(&app, "/flows/orders/1", &token), 401);
    assert_eq!(at(&app, "/flows/reports/1", &token), 401);
    // The disabled client cannot introspect (nor get new tokens): its own
    // authentication fails first, as at any OAuth server.
    let introspect = app.send(
        "POST",
        "/oauth2/introspect",
        &[FORM, ("Authorization", &basic(&id, &secret))],
        format!("token={token}").as_bytes(),
    );
    assert_eq!(introspect.status, 401, "{}", introspect.text());
    assert_eq!(introspect.json()["error"], "invalid_client");

    // Enable: the same token works again, since it has not expired.
    admin_ok(&app, "POST", &format!("/admin/v1/accounts/{id}/enable"));
    assert_eq!(at(&app, "/flows/orders/1", &token), 200);
    let introspect = app.send(
        "POST",
        "/oauth2/introspect",
        &[FORM, ("Authorization", &basic(&id, &secret))],
        format!("token={token}").as_bytes(),
    );
    assert_eq!(introspect.json()["active"], true, "{}", introspect.text());

    // Revoking the orders grant stops the token there, not at reports.
    admin_ok(
        &app,
        "DELETE",
        &format!("/admin/v1/flows/orders/access/{id}"),
    );
    assert_eq!(at(&app, "/flows/orders/1", &token), 403);
    assert_eq!(at(&app, "/flows/reports/1", &token), 200);
    // Granting it again restores it: the token's scope still names orders.
    admin_ok(&app, "PUT", &format!("/admin/v1/flows/orders/access/{id}"));
    assert_eq!(at(&app, "/flows/orders/1", &token), 200);

    // Revoking the token itself is final, and immediate.
    let r = app.send(
        "POST",
        "/oauth2/revoke",
        &[FORM, ("Authorization", &basic(&id, &secret))],
        format!("token={token}").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(at(&app, "/flows/orders/1", &token), 401);
    admin_ok(&app, "POST", &format!("/admin/v1/accounts/{id}/disable"));
    admin_ok(&app, "POST", &format!("/admin/v1/accounts/{id}/enable"));
    assert_eq!(at(&app, "/flows/orders/1", &token), 401);
}

#[test]
fn issue12_a_disable_through_one_host_stops_held_tokens_on_the_other() {
    let Some(binary) = redis::binary_or_skip("tests/kill_switch.rs") else {
        return;
    };
    let redis = Redis::start(&binary).unwrap_or_else(|e| panic!("{e}"));
    if on_real_spin() {
        eprintln!("tests/kill_switch.rs: two real `spin up` on one redis-server");
    }
    let options = Options::new().runtime_config(&redis.runtime_config(0));
    let [a, b] = [Arc::new(start(options.clone())), Arc::new(start(options))];
    let (id, _, token) = client_with_token(&a, "two-hosts");
    // The token's first use on each host, then the recorded path.
    for host in [&a, &b, &a, &b] {
        assert_eq!(at(host, "/flows/orders/1", &token), 200);
    }
    admin_ok(&a, "POST", &format!("/admin/v1/accounts/{id}/disable"));
    assert_eq!(at(&b, "/flows/orders/1", &token), 401);
    assert_eq!(at(&a, "/flows/orders/1", &token), 401);
    admin_ok(&b, "POST", &format!("/admin/v1/accounts/{id}/enable"));
    assert_eq!(at(&a, "/flows/orders/1", &token), 200);
    assert_eq!(at(&b, "/flows/orders/1", &token), 200);
    admin_ok(&b, "DELETE", &format!("/admin/v1/flows/orders/access/{id}"));
    assert_eq!(at(&a, "/flows/orders/1", &token), 403);
    assert_eq!(at(&b, "/flows/reports/1", &token), 200);
}
