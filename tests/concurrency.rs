//! Integrity under concurrency: many management calls that change the same
//! account at once, against the running app, must lose no update. On the
//! test host every key-value call is slowed down a little
//! (`FLOWGATE_HOST_KV_FAULTS=delay_ms`), which widens the window between a
//! read and the write that follows it, so that a lost update shows up
//! reliably instead of once in a while.

mod common;

use std::sync::Arc;

use common::servers::oidc_issuer;
use common::{App, Options, scenarios, start};
use jwt_simple::prelude::*;
use serde_json::json;

const CALLS: usize = 20;

fn slow_options() -> Options {
    Options::new().env("FLOWGATE_HOST_KV_FAULTS", "delay_ms:3")
}

fn slow_app() -> App {
    start(slow_options())
}

#[test]
fn concurrent_token_creation_on_one_account_loses_no_token() {
    let app = Arc::new(slow_app());
    scenarios::token_creations_lose_nothing(&[app], "one", CALLS);
}

#[test]
fn concurrent_group_joins_on_one_account_lose_no_membership() {
    let app = Arc::new(slow_app());
    scenarios::group_joins_lose_nothing(&[app], "one", CALLS);
}

/// Regression test for issue #18 item 1: eight concurrent creates of one
/// account, group or role name give one `201` and seven `409`.
#[test]
fn issue18_concurrent_creates_of_one_name_give_one_201_and_409_for_the_rest() {
    let app = Arc::new(slow_app());
    scenarios::one_name_many_creates_give_one_201(&[app], "one", 8);
}

/// Issue 16: account creates at once lose no entry of the account index or
/// of a flow's grant index.
#[test]
fn issue16_concurrent_account_creates_are_all_listed() {
    let app = Arc::new(slow_app());
    scenarios::account_creates_all_listed(&[app], "one", CALLS);
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
    let statuses = scenarios::spread(&[Arc::clone(&app)], REGISTRATIONS, move |app, i| {
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
        let status = app.at_orders(&[("Authorization", &bearer)]);
        assert_eq!(status, 200, "the binding of ci-{i} was lost");
    }
}

#[test]
fn concurrent_group_grants_on_one_group_lose_no_flow() {
    let app = Arc::new(slow_app());
    scenarios::group_grants_lose_nothing(&[app], "one");
}
