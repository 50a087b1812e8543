//! Basic credentials and named API tokens, end to end.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Options, basic, start};
use serde_json::json;

#[test]
fn basic_account_authenticates_with_its_name_and_password() {
    let app = start(Options::new());
    let (_, password) = app.create_account(
        json!({ "name": "erp-sync", "credential_type": "basic", "flows": ["orders"] }),
    );
    assert!(password.starts_with("fgpw_"), "{password}");
    assert_eq!(
        app.at_orders(&[("Authorization", &basic("erp-sync", &password))]),
        200
    );

    let wrong_user = app.forward_auth(
        "GET",
        "/flows/orders/1",
        &[("Authorization", &basic("other", &password))],
    );
    assert_eq!(wrong_user.status, 401);
    assert!(
        wrong_user
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Basic")),
        "a Basic caller gets a Basic challenge"
    );
    let extra_colon = format!("{password}:x");
    for header in [
        basic("erp-sync", &extra_colon),
        basic("erp-sync", "guess"),
        basic("erp-sync", ""),
        // No colon between the name and the password.
        format!("Basic {}", STANDARD.encode(format!("erp-sync{password}"))),
        "Basic !!!not-base64".to_owned(),
    ] {
        assert_eq!(
            app.at_orders(&[("Authorization", &header)]),
            401,
            "{header}"
        );
    }
    // A Basic password is not an API key, and an API-key header is not Basic.
    assert_eq!(app.at_orders(&[("X-API-Key", &password)]), 401);
}

#[test]
fn api_tokens_work_until_revoked_and_are_listed_without_value() {
    let app = start(Options::new());
    let (id, _) = app
        .create_account(json!({ "name": "tok", "credential_type": "basic", "flows": ["orders"] }));
    let created = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{id}/tokens"),
        Some(json!({ "name": "ci-pipeline", "expires_in": 3600 })),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let body = created.json();
    let token = body["token"].as_str().expect("token").to_owned();
    let token_id = body["id"].as_str().expect("id").to_owned();
    assert!(body["expires_at"].as_u64().is_some());
    let bearer = format!("Bearer {token}");
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 200);

    let listed = app.admin("GET", &format!("/admin/v1/accounts/{id}/tokens"), None);
    assert_eq!(listed.status, 200);
    assert!(!listed.text().contains(&token));
    assert_eq!(listed.json()["items"][0]["name"], "ci-pipeline");

    let revoked = app.admin(
        "DELETE",
        &format!("/admin/v1/accounts/{id}/tokens/{token_id}"),
        None,
    );
    assert_eq!(revoked.status, 204);
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 401);
    let again = app.admin(
        "DELETE",
        &format!("/admin/v1/accounts/{id}/tokens/{token_id}"),
        None,
    );
    assert_eq!(again.status, 404);
}

#[test]
fn token_expiry_is_enforced_at_the_edge() {
    let app = start(Options::new());
    let (id, _) = app.create_account(
        json!({ "name": "exp", "credential_type": "api_key", "flows": ["orders"] }),
    );
    // Five seconds: the first use must come before expiry even on a loaded
    // machine where the first request waits for the component (a one-second
    // token once expired before its first use on real Spin under load).
    let lifetime = std::time::Duration::from_secs(5);
    let asked = std::time::Instant::now();
    let created = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{id}/tokens"),
        Some(json!({ "name": "short", "expires_in": lifetime.as_secs() })),
    );
    let bearer = format!(
        "Bearer {}",
        created.json()["token"].as_str().expect("token")
    );
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 200);
    // Expiry has one-second resolution: a second past the lifetime, counted
    // from before the token was asked for, is past it whatever the phase.
    let past = lifetime + std::time::Duration::from_millis(1100);
    std::thread::sleep(past.saturating_sub(asked.elapsed()));
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 401);
}

#[test]
fn poller_accounts_can_be_granted_but_never_authenticate() {
    let app = start(Options::new());
    let created = app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({ "name": "file-poller", "credential_type": "poller", "flows": ["reports"] })),
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let body = created.json();
    assert!(body.get("secret").is_none(), "a poller has no secret");
    assert_eq!(body["flows"], json!(["reports"]));
    let id = body["id"].as_str().expect("id");
    let tokens = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{id}/tokens"),
        Some(json!({ "name": "x" })),
    );
    assert_eq!(tokens.status, 400);
    assert_eq!(tokens.json()["field"], "credential_type");
    let r = app.forward_auth(
        "GET",
        "/flows/reports",
        &[("Authorization", &basic("file-poller", "x"))],
    );
    assert_eq!(r.status, 401);
}
