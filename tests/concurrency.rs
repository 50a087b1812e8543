//! Integrity under concurrency: many management calls that change the same
//! account at once, against the running app, must lose no update. On the
//! test host every key-value call is slowed down a little
//! (`FLOWGATE_HOST_KV_FAULTS=delay_ms`), which widens the window between a
//! read and the write that follows it, so that a lost update shows up
//! reliably instead of once in a while.

mod common;

use std::sync::Arc;

use common::{App, Options, start};
use serde_json::json;

const CALLS: usize = 20;

fn slow_app() -> App {
    start(Options::new().env("FLOWGATE_HOST_KV_FAULTS", "delay_ms:3"))
}

/// Runs `CALLS` calls at once, one per thread; returns their statuses.
fn at_once(app: &Arc<App>, call: impl Fn(&App, usize) -> u16 + Send + Sync + 'static) -> Vec<u16> {
    let call = Arc::new(call);
    let barrier = Arc::new(std::sync::Barrier::new(CALLS));
    let threads: Vec<_> = (0..CALLS)
        .map(|i| {
            let (app, call, barrier) = (Arc::clone(app), Arc::clone(&call), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                call(&app, i)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect()
}

#[test]
fn concurrent_token_creation_on_one_account_loses_no_token() {
    let app = Arc::new(slow_app());
    let (id, _) = app.create_account(json!({ "name": "busy", "credential_type": "api_key" }));
    let path = format!("/admin/v1/accounts/{id}/tokens");
    let statuses = at_once(&app, move |app, i| {
        app.admin("POST", &path, Some(json!({ "name": format!("t{i}") })))
            .status
    });
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    let listed = app.admin("GET", &format!("/admin/v1/accounts/{id}/tokens"), None);
    let names = listed.json()["items"]
        .as_array()
        .map(|items| items.len())
        .unwrap_or_default();
    assert_eq!(
        names, CALLS,
        "every created token must still be on the account"
    );
}

#[test]
fn concurrent_group_joins_on_one_account_lose_no_membership() {
    let app = Arc::new(slow_app());
    for i in 0..CALLS {
        let r = app.admin(
            "POST",
            "/admin/v1/groups",
            Some(json!({ "name": format!("g{i}") })),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let (id, _) = app.create_account(json!({ "name": "joiner", "credential_type": "api_key" }));
    let statuses = at_once(&app, move |app, i| {
        app.admin("PUT", &format!("/admin/v1/groups/g{i}/members/{id}"), None)
            .status
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let groups = app.admin("GET", "/admin/v1/groups", None).json();
    let joined = groups["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|g| g["members"].as_array().is_some_and(|m| !m.is_empty()))
        .count();
    assert_eq!(joined, CALLS, "every join must have been kept");
}
