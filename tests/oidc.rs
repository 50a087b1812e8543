//! `oidc` accounts end to end, against a small OpenID Connect issuer run by
//! the test on loopback (discovery document and a JWKS of keys generated
//! here): registration fetches and checks the JWKS, tokens are accepted or
//! refused by audience and claims rule, and a rotated key is picked up.
//! Each trusted issuer is added to a copy of `spin.toml` the way
//! docs/oidc.md tells an operator to (`Options::trust_issuer`).

mod common;

use base64::Engine as _;
use common::servers::{OidcIssuer, expired_claims};
use common::{App, Options, start};
use jwt_simple::prelude::*;
use serde_json::json;

/// The test issuer ([`OidcIssuer`]), with the keys it signs with.
struct Issuer {
    origin: String,
    server: OidcIssuer,
}

impl Issuer {
    fn start() -> Self {
        let server = OidcIssuer::start();
        Self {
            origin: server.origin(),
            server,
        }
    }

    fn new_key(&self, kid: &str) -> Ed25519KeyPair {
        let pair = Ed25519KeyPair::generate().with_key_id(kid);
        self.server.publish(kid, &pair.public_key());
        pair
    }

    fn token(&self, key: &Ed25519KeyPair, sub: &str, aud: &str, valid_for: u64) -> String {
        let claims = Claims::create(Duration::from_secs(valid_for))
            .with_issuer(&self.origin)
            .with_subject(sub)
            .with_audience(aud);
        key.sign(claims).expect("sign")
    }
}

fn app_for(issuer: &Issuer) -> App {
    start(Options::new().trust_issuer(&issuer.origin))
}

fn register(app: &App, issuer: &Issuer, name: &str, rule: serde_json::Value) -> common::Response {
    app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({
            "name": name, "credential_type": "oidc", "issuer": issuer.origin,
            "audience": "flowgate-ci", "claims_match": rule, "flows": ["orders"],
        })),
    )
}

fn at_orders(app: &App, token: &str) -> u16 {
    app.at_orders(&[("Authorization", &format!("Bearer {token}"))])
}

#[test]
fn tokens_are_accepted_by_audience_and_claims_rule() {
    let issuer = Issuer::start();
    let key = issuer.new_key("k1");
    let app = app_for(&issuer);
    let r = register(
        &app,
        &issuer,
        "ci-main",
        json!({ "sub": "repo:acme/app:ref:refs/heads/*" }),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().expect("id").to_owned();
    assert!(r.json().get("secret").is_none());

    assert_eq!(
        at_orders(
            &app,
            &issuer.token(
                &key,
                "repo:acme/app:ref:refs/heads/main",
                "flowgate-ci",
                300
            )
        ),
        200
    );
    assert_eq!(
        at_orders(
            &app,
            &issuer.token(&key, "repo:acme/app:pull_request", "flowgate-ci", 300)
        ),
        401,
        "rule"
    );
    assert_eq!(
        at_orders(
            &app,
            &issuer.token(&key, "repo:acme/app:ref:refs/heads/main", "other", 300)
        ),
        401,
        "audience"
    );
    let impostor = Ed25519KeyPair::generate().with_key_id("k1");
    assert_eq!(
        at_orders(
            &app,
            &issuer.token(
                &impostor,
                "repo:acme/app:ref:refs/heads/main",
                "flowgate-ci",
                300
            )
        ),
        401
    );
    // Issue 16: a token past its `exp` by more than the leeway is refused
    // before its signature (`oidc::Claimed`), with the reason in the log;
    // one expired within the leeway is still accepted.
    let expired_by = |seconds: u64| {
        let claims = expired_claims(
            &issuer.origin,
            "repo:acme/app:ref:refs/heads/main",
            "flowgate-ci",
            seconds,
        );
        key.sign(claims).expect("sign")
    };
    assert_eq!(at_orders(&app, &expired_by(3600)), 401, "expired");
    let logs = app.logs();
    assert!(logs.contains("reason=token rejected: expired"), "{logs}");
    assert_eq!(at_orders(&app, &expired_by(2)), 200, "within the leeway");
    // A token of another issuer that nobody trusts.
    let stranger = Claims::create(Duration::from_secs(300))
        .with_issuer("https://idp.elsewhere.example")
        .with_subject("repo:acme/app:ref:refs/heads/main")
        .with_audience("flowgate-ci");
    assert_eq!(at_orders(&app, &key.sign(stranger).expect("sign")), 401);

    assert_eq!(
        app.admin("POST", &format!("/admin/v1/accounts/{id}/disable"), None)
            .status,
        200
    );
    assert_eq!(
        at_orders(
            &app,
            &issuer.token(
                &key,
                "repo:acme/app:ref:refs/heads/main",
                "flowgate-ci",
                300
            )
        ),
        401
    );
}

#[test]
fn a_rotated_issuer_key_is_fetched_on_first_use() {
    let issuer = Issuer::start();
    let old = issuer.new_key("k1");
    let app = app_for(&issuer);
    assert_eq!(
        register(&app, &issuer, "rot", json!({ "sub": "svc" })).status,
        201
    );
    assert_eq!(
        at_orders(&app, &issuer.token(&old, "svc", "flowgate-ci", 300)),
        200
    );
    let new = issuer.new_key("k2");
    assert_eq!(
        at_orders(&app, &issuer.token(&new, "svc", "flowgate-ci", 300)),
        200,
        "unknown kid refetches"
    );
}

/// Issue #16: a token's first use records its verification, so later uses
/// skip the signature (`oidc::Recorded`); what could change the answer is
/// still checked on every request. Here the issuer replaces the key under
/// the same `kid`: the token it signed with the old key is refused at once,
/// though its verification was recorded; and the account's kill switch
/// stops a recorded token on the next request.
#[test]
fn issue16_rs256_tokens_are_verified_by_flowgates_own_arithmetic() {
    // RS256 is what most issuers sign with; flowgate does its signature's
    // arithmetic itself (src/assertion/rs256.rs). Here through the built
    // authorizer: a real token passes on first use (full verification) and
    // again (recorded); a token under the same `kid` signed by another key,
    // and one with its signature's last byte changed, are refused with
    // jwt-simple's reason, the rule the verifier keeps.
    let issuer = Issuer::start();
    let key = RS256KeyPair::generate(2048).expect("key").with_key_id("r1");
    issuer.server.publish_rsa("r1", &key.public_key());
    let app = app_for(&issuer);
    let r = register(&app, &issuer, "rsa", json!({ "sub": "svc" }));
    assert_eq!(r.status, 201, "{}", r.text());
    let claims = || {
        Claims::create(Duration::from_secs(600))
            .with_issuer(&issuer.origin)
            .with_subject("svc")
            .with_audience("flowgate-ci")
    };
    let token = key.sign(claims()).expect("sign");
    assert_eq!(at_orders(&app, &token), 200, "first use");
    assert_eq!(at_orders(&app, &token), 200, "recorded use");
    let other = key.sign(claims().with_subject("other")).expect("sign");
    assert_eq!(
        at_orders(&app, &other),
        401,
        "the claims rule still applies"
    );

    let forger = RS256KeyPair::generate(2048).expect("key").with_key_id("r1");
    let forged = forger.sign(claims()).expect("sign");
    assert_eq!(at_orders(&app, &forged), 401, "another key's signature");
    let fresh = key.sign(claims().with_jwt_id("fresh")).expect("sign");
    let (signed, signature) = fresh.rsplit_once('.').expect("token");
    let mut raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature)
        .expect("signature");
    *raw.last_mut().expect("signature") ^= 1;
    let spoiled = format!(
        "{signed}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    );
    assert_eq!(at_orders(&app, &spoiled), 401, "a changed signature");
    assert_eq!(at_orders(&app, &fresh), 200, "the same token unchanged");
    let logs = app.logs();
    assert!(
        logs.contains("reason=token rejected: Signature tag didn't verify"),
        "{logs}"
    );
}

#[test]
fn issue16_a_recorded_token_stops_with_its_key_and_with_its_account() {
    let issuer = Issuer::start();
    let old = issuer.new_key("k1");
    let app = app_for(&issuer);
    let r = register(&app, &issuer, "rec", json!({ "sub": "svc" }));
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().expect("id").to_owned();
    let held = issuer.token(&old, "svc", "flowgate-ci", 600);
    for use_ in ["first use", "recorded use", "again"] {
        assert_eq!(at_orders(&app, &held), 200, "{use_}");
    }

    // Key rollover reusing the id: k1 is now another key, and k2 is new.
    issuer.server.withdraw("k1");
    let replacement = issuer.new_key("k1");
    let next = issuer.new_key("k2");
    assert_eq!(
        at_orders(&app, &issuer.token(&next, "svc", "flowgate-ci", 600)),
        200,
        "an unknown kid refetches the JWKS"
    );
    assert_eq!(
        at_orders(&app, &held),
        401,
        "the key that verified the held token is gone from the JWKS"
    );
    let current = issuer.token(&replacement, "svc", "flowgate-ci", 600);
    assert_eq!(at_orders(&app, &current), 200);
    assert_eq!(at_orders(&app, &current), 200, "recorded use");

    assert_eq!(
        app.admin("POST", &format!("/admin/v1/accounts/{id}/disable"), None)
            .status,
        200
    );
    assert_eq!(at_orders(&app, &current), 401, "kill switch");
    assert_eq!(
        app.admin("POST", &format!("/admin/v1/accounts/{id}/enable"), None)
            .status,
        200
    );
    assert_eq!(at_orders(&app, &current), 200, "enabled again");
}

#[test]
fn registration_fetches_and_checks_the_issuer_first() {
    let issuer = Issuer::start();
    let app = app_for(&issuer);
    // No key yet: the JWKS is empty, so nothing is saved.
    let r = register(&app, &issuer, "early", json!({ "sub": "x" }));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["field"], "issuer");
    issuer.new_key("k1");
    for (body_issuer, field) in [
        ("http://idp.example", "issuer"),
        ("http://127.0.0.1:9", "issuer"),
    ] {
        let r = app.admin(
            "POST",
            "/admin/v1/accounts",
            Some(json!({ "name": "bad", "credential_type": "oidc", "issuer": body_issuer, "audience": "a", "claims_match": { "sub": "x" } })),
        );
        assert_eq!(r.status, 400, "{body_issuer}: {}", r.text());
        assert_eq!(r.json()["field"], field);
    }
    let r = app.admin(
        "POST",
        "/admin/v1/accounts",
        Some(json!({ "name": "bad", "credential_type": "oidc", "issuer": issuer.origin, "audience": "a", "claims_match": "sub == 'x'" })),
    );
    assert_eq!(r.json()["field"], "claims_match");
    assert_eq!(
        app.admin("GET", "/admin/v1/accounts", None).json()["items"],
        json!([])
    );
    assert_eq!(
        register(&app, &issuer, "ok", json!({ "sub": "x" })).status,
        201
    );
}

#[test]
fn ambiguous_rules_fail_closed_and_deleted_accounts_stop() {
    let issuer = Issuer::start();
    let key = issuer.new_key("k1");
    let app = app_for(&issuer);
    let a = register(&app, &issuer, "wide", json!({ "sub": "team-*" }));
    assert_eq!(a.status, 201);
    let b = register(&app, &issuer, "narrow", json!({ "sub": "team-a" }));
    assert_eq!(b.status, 201);
    assert_eq!(
        at_orders(&app, &issuer.token(&key, "team-b", "flowgate-ci", 300)),
        200
    );
    assert_eq!(
        at_orders(&app, &issuer.token(&key, "team-a", "flowgate-ci", 300)),
        401,
        "two accounts match"
    );
    let narrow = b.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(
        app.admin(
            "DELETE",
            &format!("/admin/v1/accounts/{narrow}?force=true"),
            None
        )
        .status,
        204
    );
    assert_eq!(
        at_orders(&app, &issuer.token(&key, "team-a", "flowgate-ci", 300)),
        200,
        "now only one matches"
    );
    let wide = a.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(
        app.admin(
            "DELETE",
            &format!("/admin/v1/accounts/{wide}?force=true"),
            None
        )
        .status,
        204
    );
    assert_eq!(
        at_orders(&app, &issuer.token(&key, "team-b", "flowgate-ci", 300)),
        401
    );
}

/// Issue #11: a deployment trusts several external issuers, each by its own
/// variable and outbound entry; an issuer without one is refused with a 400
/// that names the entry to add, and nothing is saved.
#[test]
fn issue11_several_issuers_are_trusted_and_an_unlisted_one_is_named_in_the_400() {
    let okta = Issuer::start();
    let github = Issuer::start();
    let unlisted = Issuer::start();
    let (okta_key, github_key) = (okta.new_key("o1"), github.new_key("g1"));
    unlisted.new_key("u1");
    let app = start(
        Options::new()
            .trust_issuer(&okta.origin)
            .trust_issuer(&github.origin),
    );
    assert_eq!(
        register(&app, &okta, "okta-svc", json!({ "sub": "svc" })).status,
        201
    );
    assert_eq!(
        register(&app, &github, "gh-ci", json!({ "sub": "repo:acme/*" })).status,
        201
    );
    assert_eq!(
        at_orders(&app, &okta.token(&okta_key, "svc", "flowgate-ci", 300)),
        200
    );
    assert_eq!(
        at_orders(
            &app,
            &github.token(&github_key, "repo:acme/app", "flowgate-ci", 300)
        ),
        200
    );
    // A key of one issuer does not vouch for a token naming the other.
    assert_eq!(
        at_orders(
            &app,
            &github.token(&okta_key, "repo:acme/app", "flowgate-ci", 300)
        ),
        401
    );

    let r = register(&app, &unlisted, "stranger", json!({ "sub": "svc" }));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(r.json()["field"], "issuer");
    let text = r.json()["message"].as_str().unwrap_or_default().to_owned();
    let entry = format!("add \"{}\" to `allowed_outbound_hosts`", unlisted.origin);
    assert!(text.contains(&entry), "{text}");
    assert!(
        text.contains("[component.management]") && text.contains("[component.authorizer]"),
        "{text}"
    );
    let names: Vec<String> = app.admin("GET", "/admin/v1/accounts", None).json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!names.contains(&"stranger".to_owned()));
}
