//! Integrity under concurrency: many management calls that change the same
//! account at once, against the running app, must lose no update. On the
//! test host every key-value call is slowed down a little
//! (`FLOWGATE_HOST_KV_FAULTS=delay_ms`), which widens the window between a
//! read and the write that follows it, so that a lost update shows up
//! reliably instead of once in a while.

mod common;

use std::sync::Arc;

use common::servers::oidc_issuer;
use common::{App, Options, start};
use jwt_simple::prelude::*;
use serde_json::json;

const CALLS: usize = 20;

fn slow_options() -> Options {
    Options::new().env("FLOWGATE_HOST_KV_FAULTS", "delay_ms:3")
}

fn slow_app() -> App {
    start(slow_options())
}

/// Runs `CALLS` calls at once, one per thread; returns their statuses.
fn at_once(app: &Arc<App>, call: impl Fn(&App, usize) -> u16 + Send + Sync + 'static) -> Vec<u16> {
    at_once_n(app, CALLS, call)
}

/// Runs `n` calls at once, one per thread; returns their statuses.
fn at_once_n(
    app: &Arc<App>,
    n: usize,
    call: impl Fn(&App, usize) -> u16 + Send + Sync + 'static,
) -> Vec<u16> {
    let call = Arc::new(call);
    let barrier = Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
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

/// Regression test for issue #4: the bindings of one issuer are a single
/// record shared by its `oidc` accounts, so concurrent registrations must
/// each keep their binding (compare-and-swap on `oidc/`).
#[test]
fn concurrent_oidc_registrations_for_one_issuer_keep_every_binding() {
    const REGISTRATIONS: usize = 8;
    let key = Ed25519KeyPair::generate().with_key_id("k1");
    let idp = oidc_issuer(&key);
    let origin = idp.origin();
    let app = Arc::new(start(slow_options().trust_issuer(&origin)));
    let register = move |app: &App, name: &str| {
        app.admin(
            "POST",
            "/admin/v1/accounts",
            Some(json!({
                "name": name, "credential_type": "oidc", "issuer": origin,
                "audience": "flowgate-ci", "claims_match": { "sub": name }, "flows": ["orders"],
            })),
        )
    };
    // The issuer's first binding is a plain write (docs/management.md,
    // "Concurrency"); the race under test is between the ones that follow.
    let first = register(&app, "ci-0");
    assert_eq!(first.status, 201, "{}", first.text());
    let statuses = at_once_n(&app, REGISTRATIONS, move |app, i| {
        register(app, &format!("ci-{}", i + 1)).status
    });
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    // Every account's tokens are accepted at the edge: its binding survived.
    for i in 0..=REGISTRATIONS {
        let claims = Claims::create(Duration::from_secs(300))
            .with_issuer(idp.origin())
            .with_subject(format!("ci-{i}"))
            .with_audience("flowgate-ci");
        let bearer = format!("Bearer {}", key.sign(claims).expect("sign"));
        let status = app
            .send(
                "GET",
                "/authorize",
                &[
                    ("X-Forwarded-Method", "GET"),
                    ("X-Forwarded-Uri", "/flows/orders/1"),
                    ("Authorization", &bearer),
                ],
                b"",
            )
            .status;
        assert_eq!(status, 200, "the binding of ci-{i} was lost");
    }
}

#[test]
fn concurrent_group_grants_on_one_group_lose_no_flow() {
    let app = Arc::new(slow_app());
    let r = app.admin("POST", "/admin/v1/groups", Some(json!({ "name": "ops" })));
    assert_eq!(r.status, 201, "{}", r.text());
    let flows = ["orders", "reports"];
    let statuses = at_once_n(&app, flows.len(), move |app, i| {
        app.admin(
            "PUT",
            &format!("/admin/v1/flows/{}/access/groups/ops", flows[i]),
            None,
        )
        .status
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let group = app.admin("GET", "/admin/v1/groups/ops", None).json();
    assert_eq!(group["grants"], json!(["orders", "reports"]));
}
