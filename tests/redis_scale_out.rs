//! Scale-out as users deploy it (issue #11): two hosts of the app share one
//! real `redis-server` through a Spin runtime config file
//! (`--runtime-config-file`, as `examples/runtime-config-redis.toml`), and
//! every answer must be right whichever host gives it. On the test host the
//! Redis store behaves as Spin 4.0.2's does, including the refused
//! `UNWATCH <key>` that makes every compare-and-swap report `cas-failed`
//! after its write landed (host/README.md); under `FLOWGATE_SPIN` the same
//! test starts two real `spin up` processes with the same file.
//!
//! `redis-server` comes from Debian (scripts/install-test-tools). Without
//! it this test fails and says how to get it, unless `FLOWGATE_SKIP_REDIS=1`
//! is set, which skips it loudly. The server runs on a free loopback port
//! without persistence and is stopped at the end.

mod common;

use std::sync::Arc;

use common::redis::{self, Redis};
use common::{App, Options, on_real_spin, scenarios, start};
use serde_json::json;

/// Two hosts on database `db` of `redis`, with the same variables (every
/// host of a deployment needs the same pepper, signing key and admin
/// token). On the test host every key-value call is slowed down a little,
/// which widens the windows the concurrency checks aim at.
fn two_hosts(redis: &Redis, db: u8) -> [Arc<App>; 2] {
    let options = Options::new()
        .runtime_config(&redis.runtime_config(db))
        .env("FLOWGATE_HOST_KV_FAULTS", "delay_ms:2");
    [Arc::new(start(options.clone())), Arc::new(start(options))]
}

#[test]
fn two_hosts_on_one_redis_answer_as_one() {
    let Some(binary) = redis::binary_or_skip("tests/redis_scale_out.rs") else {
        return;
    };
    let redis = Redis::start(&binary).unwrap_or_else(|e| panic!("{e}"));
    // The premise of host/README.md: Redis itself refuses the command that
    // Spin's store ends every swap with.
    let refusal = redis.command("UNWATCH acct/x").unwrap_or_default();
    assert!(
        refusal.starts_with("-ERR wrong number of arguments"),
        "{refusal}"
    );
    let hosts = two_hosts(&redis, 0);
    let [a, b] = [Arc::clone(&hosts[0]), Arc::clone(&hosts[1])];
    if on_real_spin() {
        eprintln!("tests/redis_scale_out.rs: two real `spin up` on one redis-server");
    }

    // An account made through one host works at once through the other.
    let (id, key) = a.create_account(
        json!({ "name": "partner", "credential_type": "api_key", "flows": ["orders"] }),
    );
    assert_eq!(b.at_orders(&[("X-API-Key", &key)]), 200);
    assert_eq!(a.at_orders(&[("X-API-Key", &key)]), 200);
    // Its state is in Redis under plain keys, not in either host's files.
    let stored = redis
        .command(&format!("EXISTS acct/{id}"))
        .unwrap_or_default();
    assert_eq!(stored.trim(), ":1", "acct/{id} must be a key in Redis");

    // The authorizer's last-use mark (a compare-and-swap) is recorded and
    // not mistaken for a lost race.
    let seen = a.admin("GET", &format!("/admin/v1/accounts/{id}"), None);
    assert!(
        seen.json()["last_used_at"].is_u64(),
        "last use must be recorded: {}",
        seen.text()
    );
    for host in [&a, &b] {
        assert!(
            !host.logs().contains("not recorded"),
            "a landed last-use write was reported as lost:\n{}",
            host.logs()
        );
    }

    // Token creation and PATCH, one at a time through either host: 201 and
    // 200, not the 409 that a swap reported failed after it landed gave.
    let r = b.admin(
        "POST",
        &format!("/admin/v1/accounts/{id}/tokens"),
        Some(json!({ "name": "t" })),
    );
    assert_eq!(r.status, 201, "token creation through b: {}", r.text());
    let token = r.json()["token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        a.at_orders(&[("Authorization", &format!("Bearer {token}"))]),
        200
    );
    let tokens = a.admin("GET", &format!("/admin/v1/accounts/{id}/tokens"), None);
    assert_eq!(
        tokens.json()["items"].as_array().map(Vec::len),
        Some(1),
        "exactly one token, created once: {}",
        tokens.text()
    );
    for (host, description) in [(&a, "through a"), (&b, "through b")] {
        let r = host.admin(
            "PATCH",
            &format!("/admin/v1/accounts/{id}"),
            Some(json!({ "description": description })),
        );
        assert_eq!(r.status, 200, "PATCH {description}: {}", r.text());
        let now = a.admin("GET", &format!("/admin/v1/accounts/{id}"), None);
        assert_eq!(now.json()["description"], description);
    }

    // A disable through one host stops the key on the other at once; an
    // enable brings it back.
    let r = a.admin("POST", &format!("/admin/v1/accounts/{id}/disable"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(b.at_orders(&[("X-API-Key", &key)]), 401);
    let r = b.admin("POST", &format!("/admin/v1/accounts/{id}/enable"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(a.at_orders(&[("X-API-Key", &key)]), 200);

    // Concurrent grants through both hosts lose nothing: many accounts
    // granted one flow at once, and one account granted both flows at once.
    let ids: Vec<String> = (0..10)
        .map(|i| {
            a.create_account(
                json!({ "name": format!("grantee-{i}"), "credential_type": "api_key" }),
            )
            .0
        })
        .collect();
    let grant_ids = ids.clone();
    let statuses = scenarios::spread(&hosts, ids.len(), move |app, i| {
        app.admin(
            "PUT",
            &format!("/admin/v1/flows/reports/access/{}", grant_ids[i]),
            None,
        )
        .status
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let access = b
        .admin("GET", "/admin/v1/flows/reports/access", None)
        .json();
    let granted = access["accounts"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    assert_eq!(granted, ids.len(), "every grant must be kept: {access}");
    let both = ids[0].clone();
    let statuses = scenarios::spread(&hosts, 2, move |app, i| {
        let flow = ["orders", "reports"][i];
        app.admin(
            "PUT",
            &format!("/admin/v1/flows/{flow}/access/{both}"),
            None,
        )
        .status
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let flows = a
        .admin("GET", &format!("/admin/v1/accounts/{}/flows", ids[0]), None)
        .text();
    assert!(
        flows.contains("orders") && flows.contains("reports"),
        "{flows}"
    );

    // The concurrency tests of tests/concurrency.rs, spread over both hosts.
    scenarios::token_creations_lose_nothing(&hosts, "two", 16);
    scenarios::group_joins_lose_nothing(&hosts, "two", 10);
    scenarios::group_grants_lose_nothing(&hosts, "two");
    // Issue #18 item 1 across hosts: 8 creates of one name, one 201.
    scenarios::one_name_many_creates_give_one_201(&hosts, "two", 8);
    // Issue 16: creates through both hosts at once, every one listed.
    scenarios::account_creates_all_listed(&hosts, "two", 24);
}
