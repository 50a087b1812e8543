//! Usage controls across hosts (issue #15 items 2 and 3): two hosts of the
//! app share one real `redis-server` (as tests/redis_scale_out.rs), and a
//! rate limit and a quota spent from many concurrent requests through both
//! hosts let exactly their count through. The counters use the store's
//! atomic increment (`INCRBY` on Redis, in the test host as in Spin 4.0.2).
//! Under `FLOWGATE_SPIN` the hosts are two real `spin up`.

mod common;

use std::sync::Arc;

use common::redis::{self, Redis};
use common::{App, Options, on_real_spin, scenarios, start};
use serde_json::json;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn allowed_and_limited(statuses: &[u16]) -> (usize, usize) {
    let allowed = statuses.iter().filter(|s| **s == 200).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        allowed + limited,
        statuses.len(),
        "only 200 and 429 expected: {statuses:?}"
    );
    (allowed, limited)
}

#[test]
fn limit_and_quota_are_exact_across_two_hosts_on_one_redis() {
    let Some(binary) = redis::binary_or_skip("tests/usage_scale_out.rs") else {
        return;
    };
    let redis = Redis::start(&binary).unwrap_or_else(|e| panic!("{e}"));
    let options = Options::new().runtime_config(&redis.runtime_config(0));
    let hosts = [Arc::new(start(options.clone())), Arc::new(start(options))];
    if on_real_spin() {
        eprintln!("tests/usage_scale_out.rs: two real `spin up` on one redis-server");
    }
    // Stay inside one hourly window.
    let left = 3600 - now() % 3600;
    if left < 60 {
        std::thread::sleep(std::time::Duration::from_secs(left + 1));
    }

    // A limit of 10 an hour, 30 requests at once through both hosts.
    let (limited, key) = hosts[0].create_account(json!({
        "name": "shared-limit", "credential_type": "api_key", "flows": ["orders"],
        "limits": [{"name": "hourly", "limit": 10, "window": "hour"}]
    }));
    let k = key.clone();
    let statuses = scenarios::spread(&hosts, 30, move |app: &App, _| {
        app.at_orders(&[("X-API-Key", &k)])
    });
    assert_eq!(allowed_and_limited(&statuses), (10, 20), "{statuses:?}");
    // Each host now refuses: the count is one.
    for host in &hosts {
        assert_eq!(host.at_orders(&[("X-API-Key", &key)]), 429);
    }
    let counters = redis.command("KEYS rl/*").unwrap_or_default();
    assert!(counters.contains("/3600/"), "counter in Redis: {counters}");
    // The usage figures (issue 15 item 7) counted every one of the 32
    // requests once, whichever host took it, and read back from Redis's
    // decimal counters.
    for host in &hosts {
        let figures = host
            .admin("GET", &format!("/admin/v1/accounts/{limited}/usage"), None)
            .json();
        assert_eq!(figures["totals"]["allowed"], 10, "{figures}");
        assert_eq!(figures["totals"]["rate_limited"], 22, "{figures}");
    }

    // A quota of 25 without refill, 60 requests at once through both hosts.
    let (id, key) = hosts[1].create_account(json!({
        "name": "shared-quota", "credential_type": "api_key", "flows": ["orders"],
        "quota": {"limit": 25}
    }));
    let k = key.clone();
    let statuses = scenarios::spread(&hosts, 60, move |app: &App, _| {
        app.at_orders(&[("X-API-Key", &k)])
    });
    assert_eq!(allowed_and_limited(&statuses), (25, 35), "{statuses:?}");
    let r = hosts[0].send(
        "GET",
        "/authorize",
        &[
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", "/flows/orders/1"),
            ("X-API-Key", &key),
        ],
        b"",
    );
    assert_eq!(r.status, 429);
    assert_eq!(r.header("ratelimit-policy"), Some("\"quota\";q=25"));
    assert_eq!(r.header("ratelimit"), Some("\"quota\";r=0"));
    assert_eq!(
        r.header("retry-after"),
        None,
        "no refill: nothing to wait for"
    );
    // Setting the quota again starts a new count.
    let r = hosts[1].admin(
        "PATCH",
        &format!("/admin/v1/accounts/{id}"),
        Some(json!({"quota": {"limit": 2, "refill": "daily"}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["quota"]["refill"], "daily");
    let k = key.clone();
    let statuses = scenarios::spread(&hosts, 8, move |app: &App, _| {
        app.at_orders(&[("X-API-Key", &k)])
    });
    assert_eq!(allowed_and_limited(&statuses), (2, 6), "{statuses:?}");
}
