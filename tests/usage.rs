//! Usage controls end to end (issue #15): named rate limits shared by every
//! credential of an account (forward-auth, proxy mode, token endpoint),
//! credential expiry, IP allow-lists with spoofing attempts, metadata passed
//! to the flow, validation of every new field, fail-closed counting, and the
//! usage figures read back hour by hour and pruned after their retention.
//! One app serves every case but the fault injection, which needs a restart.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::upstream::Upstream;
use common::{App, Options, Response, forged_key, on_real_spin, random_hex, start};
use serde_json::{Value, json};

const PROXY_TOKEN: &str = "usage-test-trusted-proxy-token";
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// Waits out the last seconds of the current hour, so that a test counting
/// against an hourly limit stays inside one window.
fn inside_one_hour_window() {
    let left = 3600 - now() % 3600;
    if left < 30 {
        std::thread::sleep(std::time::Duration::from_secs(left + 1));
    }
}

fn authorize(app: &App, credential: (&str, &str), extra: &[(&str, &str)]) -> Response {
    let mut headers = vec![
        ("X-Forwarded-Method", "GET"),
        ("X-Forwarded-Uri", "/flows/orders/1"),
        credential,
    ];
    headers.extend_from_slice(extra);
    app.send("GET", "/authorize", &headers, b"")
}

fn token(app: &App, id: &str, secret: &str) -> Response {
    let basic = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    app.send(
        "POST",
        "/oauth2/token",
        &[FORM, ("Authorization", &basic)],
        b"grant_type=client_credentials",
    )
}

fn assert_limited(r: &Response, status: u16, name: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=3600).contains(&retry), "Retry-After {retry}");
    let policy = r.header("ratelimit-policy").expect("RateLimit-Policy");
    assert!(policy.contains(&format!("\"{name}\";q=")), "{policy}");
    assert_eq!(
        r.header("ratelimit"),
        Some(format!("\"{name}\";r=0;t={retry}").as_str())
    );
    assert_eq!(r.header("x-flowgate-limited"), Some("1"));
}

struct Setup {
    app: App,
    orders: Upstream,
    _reports: Upstream,
}

/// Usage-figure counters written at startup: two hours older than the
/// retention (31 days) and one inside it, of an account that does not
/// exist (a counter is pruned by its key alone).
fn seeded_figures() -> [(String, bool); 3] {
    let hour = now() - now() % 3600;
    let day = 86_400;
    [
        (
            format!("use/pruneprobe222222/{}/allowed", hour - 40 * day),
            true,
        ),
        (
            format!("use/pruneprobe222222/{}/forbidden", hour - 33 * day),
            true,
        ),
        (
            format!("use/pruneprobe222222/{}/allowed", hour - 10 * day),
            false,
        ),
    ]
}

fn setup() -> Setup {
    let orders = Upstream::start();
    let reports = Upstream::start();
    let mut options = Options::new()
        .variable("orders_upstream", Some(&orders.origin()))
        .variable("reports_upstream", Some(&reports.origin()))
        .variable("trusted_proxy_token", Some(PROXY_TOKEN));
    for (key, _) in seeded_figures() {
        options = options.key_value(&key, "1");
    }
    let app = start(options);
    Setup {
        app,
        orders,
        _reports: reports,
    }
}

#[test]
fn usage_controls_end_to_end() {
    let s = setup();
    // First, while no other counter has ended: the prune count is exact.
    usage_figures_past_the_retention_are_pruned(&s);
    usage_figures_count_each_outcome_of_a_recorded_account(&s);
    usage_figures_refuse_a_bad_period_naming_it_and_an_unknown_account(&s);
    limit_is_shared_by_every_credential_and_answers_429_in_both_modes(&s);
    token_endpoint_counts_and_refuses_over_the_limit(&s);
    expired_credential_is_401_at_the_edge_and_the_token_endpoint(&s);
    allow_list_uses_the_connection_or_the_trusted_proxy_never_the_client(&s);
    metadata_reaches_the_flow_the_gateway_and_introspection(&s);
    bad_usage_fields_are_400_naming_the_field_and_change_nothing(&s);
    export_carries_the_controls_and_import_is_idempotent(&s);
    if on_real_spin() {
        eprintln!("usage: note: store-failure case skipped on real Spin (no fault injection)");
    }
}

fn limit_is_shared_by_every_credential_and_answers_429_in_both_modes(s: &Setup) {
    inside_one_hour_window();
    let app = &s.app;
    let (id, key) = app.create_account(json!({
        "name": "limited", "credential_type": "api_key", "flows": ["orders"],
        "limits": [
            {"name": "hourly", "limit": 4, "window": "hour"},
            {"name": "daily", "limit": 1000, "window": "day"}
        ]
    }));
    let shown = app
        .admin("GET", &format!("/admin/v1/accounts/{id}"), None)
        .json();
    assert_eq!(
        shown["limits"][0],
        json!({"name": "hourly", "limit": 4, "window": "hour"})
    );
    let created = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{id}/tokens"),
        Some(json!({"name": "second"})),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let api_token = created.json()["token"].as_str().expect("token").to_owned();
    // Four allowed, alternating the two credentials and the two modes.
    assert_eq!(authorize(app, ("X-API-Key", &key), &[]).status, 200);
    let bearer = format!("Bearer {api_token}");
    assert_eq!(authorize(app, ("Authorization", &bearer), &[]).status, 200);
    let proxied = app.send("GET", "/flows/orders/1", &[("X-API-Key", &key)], b"");
    assert_eq!(proxied.status, 200, "{}", proxied.text());
    let proxied = app.send("GET", "/flows/orders/2", &[("Authorization", &bearer)], b"");
    assert_eq!(proxied.status, 200, "{}", proxied.text());
    let seen = s.orders.seen().len();
    // The fifth, whichever credential and mode, is over `hourly`.
    assert_limited(&authorize(app, ("X-API-Key", &key), &[]), 429, "hourly");
    assert_limited(
        &authorize(app, ("Authorization", &bearer), &[]),
        429,
        "hourly",
    );
    let proxied = app.send("GET", "/flows/orders/3", &[("X-API-Key", &key)], b"");
    assert_limited(&proxied, 429, "hourly");
    assert_eq!(
        s.orders.seen().len(),
        seen,
        "a limited request never reaches the flow"
    );
    // nginx auth_request passes on only 401 and 403: it asks for 403 and
    // maps X-Flowgate-Limited back to 429 (docs/gateways.md).
    let nginx = authorize(
        app,
        ("X-API-Key", &key),
        &[("X-Flowgate-Limit-Status", "403")],
    );
    assert_limited(&nginx, 403, "hourly");
    // Another account is not affected.
    let (_, other) = app.create_account(json!({
        "name": "unlimited", "credential_type": "api_key", "flows": ["orders"]
    }));
    let r = authorize(app, ("X-API-Key", &other), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("ratelimit"), None);
    // Lifting the limit lets the account through at once.
    let patched = app.admin(
        "PATCH",
        &format!("/admin/v1/accounts/{id}"),
        Some(json!({"limits": null})),
    );
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(patched.json().get("limits"), None);
    assert_eq!(authorize(app, ("X-API-Key", &key), &[]).status, 200);
}

fn token_endpoint_counts_and_refuses_over_the_limit(s: &Setup) {
    inside_one_hour_window();
    let app = &s.app;
    let (id, secret) = app.create_account(json!({
        "name": "oauth-limited", "credential_type": "client_secret", "flows": ["orders"],
        "limits": [{"name": "tokens", "limit": 2, "window": "hour"}]
    }));
    let first = token(app, &id, &secret);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(token(app, &id, &secret).status, 200);
    let third = token(app, &id, &secret);
    assert_limited(&third, 429, "tokens");
    assert_eq!(third.json(), json!({"error": "rate_limited"}));
    // The access token already issued counts against the same limit.
    let access = first.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let bearer = format!("Bearer {access}");
    assert_limited(
        &authorize(app, ("Authorization", &bearer), &[]),
        429,
        "tokens",
    );
}

fn expired_credential_is_401_at_the_edge_and_the_token_endpoint(s: &Setup) {
    let app = &s.app;
    let (key_id, key) = app.create_account(json!({
        "name": "short-lived", "credential_type": "api_key", "flows": ["orders"],
        "expires_in": 2
    }));
    let (client_id, secret) = app.create_account(json!({
        "name": "short-client", "credential_type": "client_secret", "flows": ["orders"],
        "expires_in": 2
    }));
    let (_, lasting) = app.create_account(json!({
        "name": "lasting", "credential_type": "api_key", "flows": ["orders"],
        "expires_in": 30 * 86_400
    }));
    let shown = app
        .admin("GET", &format!("/admin/v1/accounts/{key_id}"), None)
        .json();
    let at = shown["expires_at"].as_u64().expect("expires_at shown");
    assert_eq!(shown["credential_expires_at"].as_u64(), Some(at));
    assert_eq!(authorize(app, ("X-API-Key", &key), &[]).status, 200);
    // The list filter: the two-second accounts expire within a day; the
    // 30-day one only within 31 days.
    let soon = app
        .admin("GET", "/admin/v1/accounts?expires_within_days=1", None)
        .json();
    let names: Vec<&str> = soon["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"short-lived") && names.contains(&"short-client"));
    let month = app
        .admin("GET", "/admin/v1/accounts?expires_within_days=31", None)
        .json();
    assert_eq!(month["items"].as_array().expect("items").len(), 3);
    while now() < at + 1 {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let r = authorize(app, ("X-API-Key", &key), &[]);
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").is_some());
    assert_eq!(r.json(), json!({"error": "unauthorized"}));
    let t = token(app, &client_id, &secret);
    assert_eq!(t.status, 401, "{}", t.text());
    assert_eq!(t.json()["error"], "invalid_client");
    assert_eq!(authorize(app, ("X-API-Key", &lasting), &[]).status, 200);
    // A reset with `expires_in` renews the credential.
    let reset = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{key_id}/reset-credential"),
        Some(json!({"expires_in": 3600})),
    );
    assert_eq!(reset.status, 200, "{}", reset.text());
    let renewed = reset.json()["secret"].as_str().expect("secret").to_owned();
    assert_eq!(authorize(app, ("X-API-Key", &renewed), &[]).status, 200);
}

fn allow_list_uses_the_connection_or_the_trusted_proxy_never_the_client(s: &Setup) {
    let app = &s.app;
    let (id, key) = app.create_account(json!({
        "name": "office-only", "credential_type": "api_key", "flows": ["orders"],
        "allowed_ips": ["10.9.0.0/16", "2001:db8::/32"]
    }));
    let k = ("X-API-Key", key.as_str());
    // The test connects from 127.0.0.1: not on the list.
    assert_eq!(authorize(app, k, &[]).status, 403);
    // Spoofing: a client's own X-Forwarded-For, X-Real-IP or
    // spin-client-addr is not believed.
    for spoof in [
        ("X-Forwarded-For", "10.9.1.1"),
        ("X-Real-IP", "10.9.1.1"),
        ("spin-client-addr", "10.9.1.1:4000"),
    ] {
        assert_eq!(authorize(app, k, &[spoof]).status, 403, "{spoof:?}");
        let proxied = app.send("GET", "/flows/orders/1", &[k, spoof], b"");
        assert_eq!(proxied.status, 403, "{spoof:?}");
    }
    // A wrong proxy token does not make X-Forwarded-For believed.
    let wrong = [
        ("X-Flowgate-Proxy-Token", "not-the-proxy-token-at-all"),
        ("X-Forwarded-For", "10.9.1.1"),
    ];
    assert_eq!(authorize(app, k, &wrong).status, 403);
    // The trusted proxy's last X-Forwarded-For entry is the address.
    for (forwarded, status) in [
        ("10.9.1.1", 200),
        ("10.9.1.1, 192.0.2.7", 403),
        ("192.0.2.7, 10.9.200.3", 200),
        ("2001:db8:5::1", 200),
        ("not an address", 403),
    ] {
        let headers = [
            ("X-Flowgate-Proxy-Token", PROXY_TOKEN),
            ("X-Forwarded-For", forwarded),
        ];
        assert_eq!(authorize(app, k, &headers).status, status, "{forwarded}");
    }
    // Loopback allowed: the connection's address decides.
    let patched = app.admin(
        "PATCH",
        &format!("/admin/v1/accounts/{id}"),
        Some(json!({"allowed_ips": ["127.0.0.1", "::1/128"]})),
    );
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(
        patched.json()["allowed_ips"],
        json!(["127.0.0.1/32", "::1/128"])
    );
    assert_eq!(authorize(app, k, &[]).status, 200);
    let proxied = app.send("GET", "/flows/orders/1", &[k], b"");
    assert_eq!(proxied.status, 200, "{}", proxied.text());
}

fn metadata_reaches_the_flow_the_gateway_and_introspection(s: &Setup) {
    let app = &s.app;
    let metadata = json!({"tenant": "zürich", "plan": "gold", "seats": 12});
    let (_, key) = app.create_account(json!({
        "name": "with-meta", "credential_type": "api_key", "flows": ["orders"],
        "metadata": metadata
    }));
    let r = authorize(app, ("X-API-Key", &key), &[]);
    assert_eq!(r.status, 200);
    let header = r.header("x-flowgate-metadata").expect("metadata header");
    assert!(header.is_ascii());
    assert_eq!(
        serde_json::from_str::<Value>(header).expect("json"),
        metadata
    );
    // Proxy mode: the flow gets it as a header and in the assertion; a
    // client's own X-Flowgate-Metadata is replaced.
    let before = s.orders.seen().len();
    let proxied = app.send(
        "GET",
        "/flows/orders/9",
        &[
            ("X-API-Key", &key),
            ("X-Flowgate-Metadata", "{\"plan\":\"free\"}"),
        ],
        b"",
    );
    assert_eq!(proxied.status, 200, "{}", proxied.text());
    let seen = &s.orders.seen()[before];
    let values: Vec<&str> = seen
        .headers
        .iter()
        .filter(|(n, _)| n == "x-flowgate-metadata")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(values.len(), 1, "{values:?}");
    assert_eq!(
        serde_json::from_str::<Value>(values[0]).expect("json"),
        metadata
    );
    let assertion = seen.header("x-flowgate-assertion").expect("assertion");
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(assertion.split('.').nth(1).expect("claims"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(claims["metadata"], metadata);
    // Introspection by the client that holds the token.
    let (id, secret) = app.create_account(json!({
        "name": "meta-client", "credential_type": "client_secret", "flows": ["orders"],
        "metadata": {"tenant": "t-1"}
    }));
    let issued = token(app, &id, &secret);
    assert_eq!(issued.status, 200, "{}", issued.text());
    let access = issued.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let basic = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    let body = format!("token={access}");
    let introspected = app.send(
        "POST",
        "/oauth2/introspect",
        &[FORM, ("Authorization", &basic)],
        body.as_bytes(),
    );
    assert_eq!(introspected.status, 200);
    assert_eq!(introspected.json()["metadata"], json!({"tenant": "t-1"}));
    // An account without metadata sends no header.
    let (_, plain) = app.create_account(json!({
        "name": "no-meta", "credential_type": "api_key", "flows": ["orders"]
    }));
    let r = authorize(app, ("X-API-Key", &plain), &[]);
    assert_eq!(r.header("x-flowgate-metadata"), None);
}

fn bad_usage_fields_are_400_naming_the_field_and_change_nothing(s: &Setup) {
    let app = &s.app;
    let (id, _) = app.create_account(json!({
        "name": "validated", "credential_type": "api_key"
    }));
    let before = app
        .admin("GET", &format!("/admin/v1/accounts/{id}"), None)
        .json();
    let cases = [
        (
            json!({"limits": [{"name": "x", "limit": 0, "window": "hour"}]}),
            "limits",
        ),
        (
            json!({"limits": [{"name": "x", "limit": 5, "window": "week"}]}),
            "limits",
        ),
        (json!({"limits": {"name": "x"}}), "limits"),
        (json!({"allowed_ips": ["10.0.0.1/8"]}), "allowed_ips"),
        (json!({"allowed_ips": "10.0.0.0/8"}), "allowed_ips"),
        (json!({"metadata": [1, 2]}), "metadata"),
        (json!({"metadata": {"big": "x".repeat(2000)}}), "metadata"),
        (json!({"expires_at": 5}), "expires_at"),
        (json!({"expires_in": 0}), "expires_in"),
        (
            json!({"expires_in": 60, "expires_at": now() + 60}),
            "expires_in",
        ),
    ];
    for (body, field) in cases {
        let r = app.admin(
            "PATCH",
            &format!("/admin/v1/accounts/{id}"),
            Some(body.clone()),
        );
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{body}");
        let mut create = body.clone();
        create["name"] = json!("never-created");
        create["credential_type"] = json!("api_key");
        let r = app.admin("POST", "/admin/v1/accounts", Some(create));
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{body}");
    }
    let after = app
        .admin("GET", &format!("/admin/v1/accounts/{id}"), None)
        .json();
    assert_eq!(before, after, "a refused PATCH changed the account");
    let listed = app
        .admin("GET", "/admin/v1/accounts?name=never-created", None)
        .json();
    assert_eq!(listed["items"], json!([]));
    let bad_filter = app.admin("GET", "/admin/v1/accounts?expires_within_days=x", None);
    assert_eq!(bad_filter.status, 400);
    assert_eq!(bad_filter.json()["field"], "expires_within_days");
}

/// A counter the store cannot increment: the request is refused with 503,
/// never let through. The test host's SQLite store fails an increment of a
/// value that is not an 8-byte integer, as Spin's does (Spin's panics
/// instead, so this case runs on the test host only).
#[test]
fn store_failure_while_counting_fails_closed_with_503() {
    if on_real_spin() {
        eprintln!(
            "usage: skipped on real Spin: its SQLite store panics on a malformed counter \
             rather than returning an error, and it has no fault injection"
        );
        return;
    }
    inside_one_hour_window();
    let options = Options::new();
    let app = start(options.clone());
    let (id, key) = app.create_account(json!({
        "name": "counted", "credential_type": "api_key", "flows": ["orders"],
        "limits": [{"name": "hourly", "limit": 100, "window": "hour"}]
    }));
    assert_eq!(authorize(&app, ("X-API-Key", &key), &[]).status, 200);
    let state = app.stop();
    let hour = now() - now() % 3600;
    let mut again = options.key_value(&format!("rl/{id}/3600/{hour}"), "not a counter");
    again.state_dir = Some(state);
    let app = start(again);
    let r = authorize(&app, ("X-API-Key", &key), &[]);
    assert_eq!(r.status, 503, "{}", r.text());
    assert_eq!(r.json(), json!({"error": "unavailable"}));
}

fn export_carries_the_controls_and_import_is_idempotent(s: &Setup) {
    let app = &s.app;
    let (id, _) = app.create_account(json!({
        "name": "exported", "credential_type": "api_key",
        "limits": [{"name": "m", "limit": 9, "window": "minute"}],
        "quota": {"limit": 50, "refill": "monthly"},
        "expires_in": 86_400, "allowed_ips": ["192.0.2.0/24"],
        "metadata": {"tenant": "x"}
    }));
    let doc = app.admin("GET", "/admin/v1/export", None);
    assert_eq!(doc.status, 200, "{}", doc.text());
    let doc = doc.json();
    let account = doc["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .find(|a| a["id"] == id.as_str())
        .expect("the account is exported")
        .clone();
    assert_eq!(account["usage"]["limits"][0]["limit"], 9);
    assert_eq!(account["usage"]["quota"]["refill"], "monthly");
    assert_eq!(account["usage"]["allowed_ips"], json!(["192.0.2.0/24"]));
    assert_eq!(account["usage"]["metadata"], json!({"tenant": "x"}));
    let plan = app.admin("POST", "/admin/v1/import?dry_run=true", Some(doc.clone()));
    assert_eq!(plan.status, 200, "{}", plan.text());
    assert_eq!(plan.json()["changes"], json!([]), "{}", plan.text());
    // A changed control is drift; an invalid one is refused naming it.
    let mut changed = doc.clone();
    for a in changed["accounts"].as_array_mut().expect("accounts") {
        if a["id"] == id.as_str() {
            a["usage"]["limits"][0]["limit"] = json!(10);
        }
    }
    let plan = app.admin(
        "POST",
        "/admin/v1/import?dry_run=true",
        Some(changed.clone()),
    );
    assert_eq!(
        plan.json()["changes"].as_array().map(Vec::len),
        Some(1),
        "{}",
        plan.text()
    );
    for a in changed["accounts"].as_array_mut().expect("accounts") {
        if a["id"] == id.as_str() {
            a["usage"]["metadata"] = json!({"k": "x".repeat(2000)});
        }
    }
    let refused = app.admin("POST", "/admin/v1/import", Some(changed));
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused.json()["field"]
            .as_str()
            .is_some_and(|f| f.ends_with(".usage.metadata")),
        "{}",
        refused.text()
    );
}

fn usage_of(app: &App, id: &str, query: &str) -> Response {
    app.admin(
        "GET",
        &format!("/admin/v1/accounts/{id}/usage{query}"),
        None,
    )
}

/// Prune deletes exactly the two seeded hours past the retention; the hour
/// inside it stays (a second prune finds nothing more to delete).
fn usage_figures_past_the_retention_are_pruned(s: &Setup) {
    let app = &s.app;
    let expected = seeded_figures().iter().filter(|(_, old)| *old).count();
    let r = app.admin("POST", "/admin/v1/maintenance/prune", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["deleted"]["counters"], expected, "{}", r.text());
    let r = app.admin("POST", "/admin/v1/maintenance/prune", None);
    assert_eq!(r.json()["deleted"]["counters"], 0, "{}", r.text());
}

/// Allowed, 401, 403 and 429 requests of recorded accounts are read back
/// exactly, in the current hour; an account without limits, quota or
/// `record_usage` counts nothing.
fn usage_figures_count_each_outcome_of_a_recorded_account(s: &Setup) {
    inside_one_hour_window();
    let app = &s.app;
    // Recorded because it has a limit.
    let (limited, key) = app.create_account(json!({
        "name": "figures-limited", "credential_type": "api_key", "flows": ["orders"],
        "limits": [{"name": "hourly", "limit": 3, "window": "hour"}]
    }));
    let key = ("X-API-Key", key.as_str());
    for _ in 0..3 {
        assert_eq!(authorize(app, key, &[]).status, 200);
    }
    for _ in 0..2 {
        assert_eq!(authorize(app, key, &[]).status, 429);
    }
    // Not granted `reports`: 403, twice; a wrong key of the account: 401.
    let reports = [
        ("X-Forwarded-Method", "GET"),
        ("X-Forwarded-Uri", "/flows/reports/1"),
        key,
    ];
    for _ in 0..2 {
        assert_eq!(app.send("GET", "/authorize", &reports, b"").status, 403);
    }
    let unissued = app.unissued_key(&limited);
    assert_eq!(authorize(app, ("X-API-Key", &unissued), &[]).status, 401);
    // Made up without the pepper: refused before the record is read, so
    // counted nowhere (issue 16).
    let forged = forged_key(&limited);
    assert_eq!(authorize(app, ("X-API-Key", &forged), &[]).status, 401);
    // A key of no account: counted nowhere.
    let unknown = app.unissued_key(&"a".repeat(16));
    assert_eq!(authorize(app, ("X-API-Key", &unknown), &[]).status, 401);

    // Opted in, and its quota of one is spent by the first request.
    let (quota_id, quota_key) = app.create_account(json!({
        "name": "figures-quota", "credential_type": "api_key", "flows": ["orders"],
        "record_usage": true, "quota": {"limit": 1}
    }));
    let shown = app
        .admin("GET", &format!("/admin/v1/accounts/{quota_id}"), None)
        .json();
    assert_eq!(
        (&shown["record_usage"], &shown["recorded"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(app.at_orders(&[("X-API-Key", &quota_key)]), 200);
    assert_eq!(app.at_orders(&[("X-API-Key", &quota_key)]), 429);

    // Opted in without any other control: every outcome still counted.
    let (opted, opted_key) = app.create_account(json!({
        "name": "figures-opted", "credential_type": "api_key", "flows": ["orders"],
        "record_usage": true
    }));
    assert_eq!(authorize(app, ("X-API-Key", &opted_key), &[]).status, 200);

    let (plain, plain_key) = app.create_account(json!({
        "name": "figures-plain", "credential_type": "api_key", "flows": ["orders"]
    }));
    assert_eq!(authorize(app, ("X-API-Key", &plain_key), &[]).status, 200);

    let hour = now() - now() % 3600;
    let expect = |id: &str, counts: [u64; 5], recorded: bool| {
        let r = usage_of(app, id, "");
        assert_eq!(r.status, 200, "{}", r.text());
        let f = r.json();
        let totals = json!({
            "allowed": counts[0], "unauthenticated": counts[1], "forbidden": counts[2],
            "rate_limited": counts[3], "quota_exhausted": counts[4],
        });
        assert_eq!(f["totals"], totals, "{id}: {f}");
        assert_eq!(f["recorded"], recorded, "{f}");
        assert_eq!(
            (&f["granularity"], &f["retention_days"]),
            (&json!("hour"), &json!(31))
        );
        if counts == [0; 5] {
            assert_eq!(f["hours"], json!([]), "{f}");
        } else {
            let mut one = totals.clone();
            one["start"] = json!(hour);
            assert_eq!(f["hours"], json!([one]), "{id}: {f}");
        }
    };
    expect(&limited, [3, 1, 2, 2, 0], true);
    expect(&quota_id, [1, 0, 0, 0, 1], true);
    expect(&opted, [1, 0, 0, 0, 0], true);
    expect(&plain, [0; 5], false);

    // An explicit period that ends before this hour holds none of it.
    let r = usage_of(app, &limited, &format!("?from={}&to={hour}", hour - 7200));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["hours"], json!([]), "{}", r.text());
    assert_eq!(r.json()["totals"]["allowed"], 0);
    // Reading figures is a read: nothing in the audit log.
    let audit = app
        .admin(
            "GET",
            &format!("/admin/v1/audit?target=account%3A{limited}"),
            None,
        )
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["account.create"], "{audit}");
}

fn usage_figures_refuse_a_bad_period_naming_it_and_an_unknown_account(s: &Setup) {
    let app = &s.app;
    let (id, _) = app.create_account(json!({
        "name": "figures-period", "credential_type": "api_key", "record_usage": true
    }));
    let t = now();
    let cases = [
        ("?from=yesterday".to_owned(), "from"),
        ("?to=-1".to_owned(), "to"),
        (format!("?from={t}&to={t}"), "from"),
        (format!("?from={}", t - 40 * 86_400), "from"),
        (format!("?from={}&to={}", t - 3600, t + 40 * 86_400), "to"),
        ("?from=1&from=2".to_owned(), "from"),
    ];
    for (query, parameter) in cases {
        let r = usage_of(app, &id, &query);
        assert_eq!(r.status, 400, "{query}: {}", r.text());
        assert_eq!(r.json()["field"], parameter, "{query}: {}", r.text());
    }
    let unknown = random_hex(8).replace(|c: char| c.is_ascii_digit(), "a");
    let r = usage_of(app, &unknown, "");
    assert_eq!(r.status, 404, "{}", r.text());
}
