//! "Last used" (docs/management.md): the authorizer records each credential's
//! use in its account record, at most once a minute, with a compare-and-swap;
//! management shows it on the account and on each API token.

mod common;

use common::{App, Options, start};
use serde_json::{Value, json};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

fn account(app: &App, id: &str) -> Value {
    let r = app.admin("GET", &format!("/admin/v1/accounts/{id}"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn tokens_of(app: &App, id: &str) -> Vec<Value> {
    let r = app.admin("GET", &format!("/admin/v1/accounts/{id}/tokens"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let list = body.get("items").unwrap_or(&body);
    list.as_array().expect("a list of tokens").clone()
}

fn within(value: &Value, from: u64, to: u64) -> bool {
    value.as_u64().is_some_and(|t| (from..=to).contains(&t))
}

#[test]
fn each_credential_records_its_last_use_and_management_shows_it() {
    let app = start(Options::new());
    let (id, key) = app.create_account(
        json!({ "name": "used", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let r = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{id}/tokens"),
        Some(json!({ "name": "ci" })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let api_token = r.json()["token"].as_str().expect("token").to_owned();
    assert!(account(&app, &id)["last_used_at"].is_null());
    assert!(tokens_of(&app, &id)[0]["last_used_at"].is_null());

    let before = now();
    assert_eq!(app.at_orders(&[("X-API-Key", &key)]), 200);
    let after = now();
    let view = account(&app, &id);
    assert!(within(&view["last_used_at"], before, after), "{view}");
    assert!(
        tokens_of(&app, &id)[0]["last_used_at"].is_null(),
        "the key's use is not the token's"
    );

    let bearer = format!("Bearer {api_token}");
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 200);
    let token = &tokens_of(&app, &id)[0];
    assert!(within(&token["last_used_at"], before, now()), "{token}");

    // A refused credential is not a use.
    let (idle_id, _) = app.create_account(
        json!({ "name": "idle", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let wrong = app.unissued_key(&idle_id);
    assert_eq!(app.at_orders(&[("X-API-Key", &wrong)]), 401);
    assert!(account(&app, &idle_id)["last_used_at"].is_null());
}

#[test]
fn an_oauth_client_records_its_use_at_the_token_endpoint() {
    let app = start(Options::new());
    let (id, secret) = app.create_account(
        json!({ "name": "client", "credential_type": "client_secret", "flows": ["orders"] }),
    );
    assert!(account(&app, &id)["last_used_at"].is_null());
    let before = now();
    let r = app.send(
        "POST",
        "/oauth2/token",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &common::basic(&id, &secret)),
        ],
        b"grant_type=client_credentials",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let view = account(&app, &id);
    assert!(within(&view["last_used_at"], before, now()), "{view}");
}

/// Recording a use never undoes a management change: the swap is made over
/// the record as read, and loses to any write in between. Management keeps
/// adding API tokens to accounts while each new token is used at once (its
/// first use writes the record); every token added must still be there and
/// work at the end. With a plain `set` in place of the swap, a use that read
/// the record before the next token was added writes the record back without
/// it: with that mutation this test failed in 4 of 5 runs.
#[test]
fn recording_uses_loses_no_management_write() {
    let app = start(Options::new());
    let ids: Vec<String> = (0..5)
        .map(|a| {
            app.create_account(json!({
                "name": format!("busy-{a}"), "credential_type": "api_key", "flows": ["orders"],
            }))
            .0
        })
        .collect();
    let (issued, to_use) = std::sync::mpsc::channel::<String>();
    let app = &app;
    let tokens = std::thread::scope(|s| {
        let edge = s.spawn(move || {
            for token in to_use {
                assert_eq!(app.at_orders(&[("Authorization", &token)]), 200);
            }
        });
        let mut tokens = Vec::new();
        // 20 tokens (the most allowed) to one account after the other, so
        // that each use meets the next addition to the same record.
        for i in 0..100 {
            let id = &ids[i / 20];
            let r = app.admin(
                "POST",
                &format!("/admin/v1/accounts/{id}/tokens"),
                Some(json!({ "name": format!("t{i}") })),
            );
            assert_eq!(r.status, 201, "{}", r.text());
            let token = format!("Bearer {}", r.json()["token"].as_str().expect("token"));
            issued.send(token.clone()).expect("edge thread alive");
            tokens.push(token);
        }
        drop(issued);
        edge.join().expect("edge thread");
        tokens
    });
    for id in &ids {
        assert_eq!(tokens_of(app, id).len(), 20, "account {id} lost a token");
    }
    for token in &tokens {
        assert_eq!(app.at_orders(&[("Authorization", token)]), 200);
    }
}
