//! The OAuth 2.0 authorization server for machine clients, end to end:
//! client credentials with `client_secret_basic` and `client_secret_post`,
//! RFC 9068 access tokens used at flows, JWKS and metadata, introspection and
//! revocation.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{App, Options, Response, basic, start};
use serde_json::{Value, json};

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn token_basic(app: &App, id: &str, secret: &str, form: &str) -> Response {
    app.send(
        "POST",
        "/oauth2/token",
        &[FORM, ("Authorization", &basic(id, secret))],
        form.as_bytes(),
    )
}

fn access_token(app: &App, id: &str, secret: &str) -> String {
    let r = token_basic(app, id, secret, "grant_type=client_credentials");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

fn at_flow(app: &App, method: &str, uri: &str, token: &str) -> u16 {
    let bearer = format!("Bearer {token}");
    app.forward_auth(method, uri, &[("Authorization", &bearer)])
        .status
}

fn part(token: &str, i: usize) -> Value {
    let raw = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(i).expect("part"))
        .expect("base64url");
    serde_json::from_slice(&raw).expect("json")
}

#[test]
fn client_secret_basic_and_post_both_issue_rfc9068_tokens() {
    let app = start(Options::new().variable("issuer", Some("https://flowgate.test")));
    let (id, secret) = app.client_credentials(&["orders"]);
    assert!(secret.starts_with("fgcs_"));
    let r = token_basic(&app, &id, &secret, "grant_type=client_credentials");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "orders");
    let token = body["access_token"].as_str().expect("token");
    let header = part(token, 0);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "EdDSA");
    let claims = part(token, 1);
    assert_eq!(claims["iss"], "https://flowgate.test");
    assert_eq!(claims["aud"], "https://flowgate.test/flows");
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["scope"], "orders");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(
        claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat"),
        300
    );

    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let post = app.send("POST", "/oauth2/token", &[FORM], form.as_bytes());
    assert_eq!(post.status, 200, "{}", post.text());
}

#[test]
fn access_tokens_are_accepted_only_within_their_scope() {
    let app = start(Options::new());
    let (id, secret) = app.client_credentials(&["orders", "reports"]);
    let token = access_token(&app, &id, &secret);
    assert_eq!(at_flow(&app, "POST", "/flows/orders/1", &token), 200);
    assert_eq!(at_flow(&app, "GET", "/flows/reports", &token), 200);
    assert_eq!(
        at_flow(&app, "POST", "/flows/reports", &token),
        403,
        "method not allowed by the flow"
    );
    let narrow = token_basic(
        &app,
        &id,
        &secret,
        "grant_type=client_credentials&scope=reports",
    );
    assert_eq!(narrow.json()["scope"], "reports");
    let narrow = narrow.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(
        at_flow(&app, "GET", "/flows/orders", &narrow),
        403,
        "flow outside the scope"
    );
    assert_eq!(at_flow(&app, "GET", "/flows/reports", &narrow), 200);

    // Any change to the signed parts breaks the signature.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims = part(&token, 1);
    claims["scope"] = "orders reports admin".into();
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &parts.join(".")), 401);
    let mut sig = token.clone();
    sig.pop();
    sig.push(if token.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &sig), 401);
}

#[test]
fn token_endpoint_errors_follow_rfc6749() {
    let app = start(Options::new());
    let (id, secret) = app.client_credentials(&["orders"]);
    let (_, api_key) = app.create_account(
        json!({ "name": "not-a-client", "credential_type": "api_key", "flows": ["orders"] }),
    );

    // The last character changed to another one (replacing it with a fixed
    // `x` left the secret unchanged whenever it already ended in `x`).
    let last = if secret.ends_with('x') { 'y' } else { 'x' };
    let wrong = token_basic(
        &app,
        &id,
        &format!("{}{last}", &secret[..secret.len() - 1]),
        "grant_type=client_credentials",
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json()["error"], "invalid_client");
    assert!(
        wrong
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Basic"))
    );

    let not_client = token_basic(&app, &id, &api_key, "grant_type=client_credentials");
    assert_eq!(not_client.json()["error"], "invalid_client");

    let cases: [(&str, &str, u16); 5] = [
        (
            "grant_type=password&username=a&password=b",
            "unsupported_grant_type",
            400,
        ),
        ("scope=orders", "invalid_request", 400),
        (
            "grant_type=client_credentials&scope=reports",
            "invalid_scope",
            400,
        ),
        (
            "grant_type=client_credentials&scope=orders+nope",
            "invalid_scope",
            400,
        ),
        (
            "grant_type=client_credentials&grant_type=client_credentials",
            "invalid_request",
            400,
        ),
    ];
    for (form, error, status) in cases {
        let r = token_basic(&app, &id, &secret, form);
        assert_eq!(
            (r.status, r.json()["error"].as_str()),
            (status, Some(error)),
            "{form}"
        );
    }
    let both = format!("grant_type=client_credentials&client_secret={secret}");
    let r = token_basic(&app, &id, &secret, &both);
    assert_eq!(
        r.json()["error"],
        "invalid_request",
        "two authentication methods"
    );

    let json_body = app.send(
        "POST",
        "/oauth2/token",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &basic(&id, &secret)),
        ],
        br#"{"grant_type":"client_credentials"}"#,
    );
    assert_eq!(json_body.status, 400);
    assert_eq!(app.send("GET", "/oauth2/token", &[], b"").status, 405);

    app.admin("POST", &format!("/admin/v1/accounts/{id}/disable"), None);
    let disabled = token_basic(&app, &id, &secret, "grant_type=client_credentials");
    assert_eq!(disabled.json()["error"], "invalid_client");
}

#[test]
fn jwks_and_metadata_describe_the_server() {
    let app = start(Options::new().variable("issuer", Some("https://auth.flowgate.test/")));
    let meta = app.send("GET", "/.well-known/oauth-authorization-server", &[], b"");
    assert_eq!(meta.status, 200);
    let meta = meta.json();
    assert_eq!(meta["issuer"], "https://auth.flowgate.test");
    assert_eq!(
        meta["token_endpoint"],
        "https://auth.flowgate.test/oauth2/token"
    );
    assert_eq!(
        meta["jwks_uri"],
        "https://auth.flowgate.test/.well-known/jwks.json"
    );
    assert_eq!(meta["grant_types_supported"], json!(["client_credentials"]));
    let methods = meta["token_endpoint_auth_methods_supported"].clone();
    assert!(
        methods
            .as_array()
            .is_some_and(|m| m.contains(&json!("client_secret_basic")))
    );

    let jwks = app.send("GET", "/.well-known/jwks.json", &[], b"").json();
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert!(
        keys[0].get("d").is_none(),
        "the private key must never be published"
    );
    let (id, secret) = app.client_credentials(&["orders"]);
    let token = access_token(&app, &id, &secret);
    assert_eq!(part(&token, 0)["kid"], keys[0]["kid"]);
}

#[test]
fn rotated_signing_key_keeps_earlier_tokens_valid() {
    // The old key a plain seed, the new one bound (`flowgate signing-key`):
    // rotation with the two forms mixed.
    let old_key = common::random_hex(32);
    let options = Options::new().variable("signing_key", Some(&old_key));
    let app = start(options.clone());
    let (id, secret) = app.client_credentials(&["orders"]);
    let old_token = access_token(&app, &id, &secret);
    let state = app.stop();

    let mut rotated = options
        .variable("signing_key", Some(&common::signing_key()))
        .variable("signing_key_previous", Some(&old_key));
    rotated.state_dir = Some(state.clone());
    let app = start(rotated.clone());
    let jwks = app.send("GET", "/.well-known/jwks.json", &[], b"").json();
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
    // The first use verifies in full, the second reads the record, which
    // the previous key's binding ties to `signing_key_previous`.
    for _ in 0..2 {
        assert_eq!(at_flow(&app, "GET", "/flows/orders", &old_token), 200);
    }
    let new_token = access_token(&app, &id, &secret);
    assert_ne!(part(&new_token, 0)["kid"], part(&old_token, 0)["kid"]);
    let state = app.stop();

    // Once the old key is replaced or dropped, its tokens stop working,
    // although their records (keyed by the unchanged current key) remain.
    for previous in [common::random_hex(32), String::new()] {
        let mut changed = rotated
            .clone()
            .variable("signing_key_previous", Some(&previous));
        changed.state_dir = Some(state.clone());
        let app = start(changed);
        for _ in 0..2 {
            assert_eq!(at_flow(&app, "GET", "/flows/orders", &old_token), 401);
            assert_eq!(at_flow(&app, "GET", "/flows/orders", &new_token), 200);
        }
        app.stop();
    }
    // Back to the old key as the previous one: its token verifies again.
    let mut restored = rotated;
    restored.state_dir = Some(state);
    let app = start(restored);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &old_token), 200);
}

/// The JWKS of an app, asserted to be served.
fn jwks(app: &App) -> Value {
    let r = app.send("GET", "/.well-known/jwks.json", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// A plain seed and its bound form (`flowgate signing-key --from-seed`) are
/// one key: the same JWKS and `kid`, tokens of either accepted under the
/// other, and rotation with the forms mixed either way (issue 16).
#[test]
fn issue16_plain_seed_and_its_bound_form_are_one_key_and_rotate_mixed() {
    let seed = common::random_hex(32);
    let bound = flowgate::token::key::bound_value_of("signing_key", &seed)
        .expect("a seed")
        .to_string();
    let options = Options::new().variable("signing_key", Some(&seed));
    let app = start(options.clone());
    let (id, secret) = app.client_credentials(&["orders"]);
    let plain_jwks = jwks(&app);
    let plain_token = access_token(&app, &id, &secret);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &plain_token), 200);
    let state = app.stop();

    let mut upgraded = options.variable("signing_key", Some(&bound));
    upgraded.state_dir = Some(state);
    let app = start(upgraded.clone());
    assert_eq!(
        jwks(&app),
        plain_jwks,
        "the bound form publishes the same key"
    );
    let bound_token = access_token(&app, &id, &secret);
    assert_eq!(part(&bound_token, 0)["kid"], plain_jwks["keys"][0]["kid"]);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &plain_token), 200);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &bound_token), 200);
    let state = app.stop();

    // Rotations: bound current with the plain seed as the previous key, then
    // a plain current with the bound form as the previous key.
    for (current, previous) in [
        (common::signing_key(), seed.clone()),
        (common::random_hex(32), bound.clone()),
    ] {
        let mut rotated = upgraded
            .clone()
            .variable("signing_key", Some(&current))
            .variable("signing_key_previous", Some(&previous));
        rotated.state_dir = Some(state.clone());
        let app = start(rotated);
        let published = jwks(&app);
        assert_eq!(published["keys"].as_array().map(Vec::len), Some(2));
        assert_eq!(published["keys"][1], plain_jwks["keys"][0]);
        for token in [&plain_token, &bound_token] {
            assert_eq!(at_flow(&app, "GET", "/flows/orders", token), 200);
        }
        let fresh = access_token(&app, &id, &secret);
        assert_eq!(part(&fresh, 0)["kid"], published["keys"][0]["kid"]);
        assert_eq!(at_flow(&app, "GET", "/flows/orders", &fresh), 200);
        app.stop();
    }
}

/// A bound `signing_key` whose public key is another seed's is refused as a
/// malformed key is: the token endpoint answers `503`
/// `temporarily_unavailable` and issues nothing, the JWKS is unavailable, and
/// the log names the variable, never the value (issue 16: signing under a
/// wrong public key would leak the private key).
#[test]
fn issue16_a_bound_key_with_another_seeds_public_key_issues_nothing() {
    let (mine, other) = (common::signing_key(), common::signing_key());
    // seed || public key || tag, 64 hex digits each.
    let cases = [
        ("malformed (the reference)", "not-a-key".to_owned()),
        (
            "another seed's public key and tag",
            format!("{}{}", &mine[..64], &other[64..]),
        ),
        (
            "another seed's public key, own tag left",
            format!("{}{}{}", &mine[..64], &other[64..128], &mine[128..]),
        ),
    ];
    let mut answers = vec![];
    for (case, value) in &cases {
        let app = start(Options::new().variable("signing_key", Some(value)));
        let (id, secret) = app.client_credentials(&["orders"]);
        let r = token_basic(&app, &id, &secret, "grant_type=client_credentials");
        assert_eq!(r.status, 503, "{case}: {}", r.text());
        assert!(r.json().get("access_token").is_none(), "{case}");
        let keys = app.send("GET", "/.well-known/jwks.json", &[], b"");
        assert_eq!(keys.status, 503, "{case}: {}", keys.text());
        answers.push((r.text(), keys.text()));
        std::thread::sleep(std::time::Duration::from_millis(100));
        let logs = app.logs();
        assert!(
            logs.contains("`signing_key`"),
            "{case}: the log names it:\n{logs}"
        );
        let shown = &value[..value.len().min(32)];
        assert!(!logs.contains(shown), "{case}: the log shows the value");
    }
    assert!(
        answers.iter().all(|a| *a == answers[0]),
        "a wrong bound key answers as a malformed one: {answers:?}"
    );
}

#[test]
fn introspection_and_revocation() {
    let app = start(Options::new());
    let (id, secret) = app.client_credentials(&["orders"]);
    let (other_id, other_secret) = app.client_credentials(&["orders"]);
    let token = access_token(&app, &id, &secret);
    let auth = basic(&id, &secret);
    let introspect = |auth: &str, token: &str| {
        app.send(
            "POST",
            "/oauth2/introspect",
            &[FORM, ("Authorization", auth)],
            format!("token={token}").as_bytes(),
        )
    };
    let r = introspect(&auth, &token);
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], id.as_str());
    assert_eq!(body["scope"], "orders");
    assert_eq!(
        introspect(&basic(&other_id, &other_secret), &token).json(),
        json!({ "active": false })
    );
    assert_eq!(
        introspect(&auth, "garbage").json(),
        json!({ "active": false })
    );
    assert_eq!(introspect(&basic(&id, "wrong"), &token).status, 401);

    let revoke = |token: &str| {
        app.send(
            "POST",
            "/oauth2/revoke",
            &[FORM, ("Authorization", &auth)],
            format!("token={token}").as_bytes(),
        )
    };
    assert_eq!(
        revoke("not-a-token").status,
        200,
        "RFC 7009: unknown tokens are not an error"
    );
    assert_eq!(revoke(&token).status, 200);
    assert_eq!(introspect(&auth, &token).json(), json!({ "active": false }));
}

#[test]
fn issued_tokens_and_client_secrets_never_reach_store_or_logs() {
    let app = start(Options::new());
    let (id, secret) = app.client_credentials(&["orders"]);
    let token = access_token(&app, &id, &secret);
    at_flow(&app, "GET", "/flows/reports", &token);
    token_basic(&app, &id, "fgcs_wrong", "grant_type=client_credentials");
    let store = app.store_bytes();
    assert!(common::contains(&store, &id));
    let logs = app.logs();
    for value in [&secret[secret.len() - 30..], &token[token.len() - 40..]] {
        assert!(!common::contains(&store, value), "in the store");
        assert!(!logs.contains(value), "in the logs");
    }
}

/// Revocation reaches a token at the flows on the next request, whether the
/// flows have seen (and recorded) it before or not (`flowgate::verified`).
#[test]
fn a_revoked_token_is_refused_at_flows_whether_used_before_or_not() {
    let app = start(Options::new());
    let (id, secret) = app.client_credentials(&["orders"]);
    let auth = basic(&id, &secret);
    let revoke = |token: &str| {
        let r = app.send(
            "POST",
            "/oauth2/revoke",
            &[FORM, ("Authorization", &auth)],
            format!("token={token}").as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    };

    let used = access_token(&app, &id, &secret);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &used), 200);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &used), 200);
    revoke(&used);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &used), 401);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &used), 401);

    let unused = access_token(&app, &id, &secret);
    revoke(&unused);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &unused), 401);

    // Revoking one token leaves the client's other tokens alone.
    let other = access_token(&app, &id, &secret);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &other), 200);
    assert!(app.logs().contains("access token revoked"));
}

/// A token the flows have already verified is matched by its exact text: a
/// copy with a changed signature or payload is verified again, and fails.
#[test]
fn a_tampered_copy_of_a_verified_token_is_refused() {
    let app = start(Options::new());
    let (id, secret) = app.client_credentials(&["orders"]);
    let token = access_token(&app, &id, &secret);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &token), 200);

    let parts: Vec<&str> = token.split('.').collect();
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("signature");
    signature[0] ^= 1;
    let resigned = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode(&signature)
    );
    let mut claims = part(&token, 1);
    claims["scope"] = json!("orders reports");
    let widened = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json")),
        parts[2]
    );
    for forged in [&resigned, &widened] {
        assert_eq!(at_flow(&app, "GET", "/flows/orders", forged), 401);
        assert_eq!(at_flow(&app, "GET", "/flows/reports", forged), 401);
    }
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &token), 200);
    assert_eq!(at_flow(&app, "GET", "/flows/reports", &token), 403);
}

/// The kill switch and issued access tokens (issue 12): after `disable`, the
/// client gets no new token, and the tokens it holds stop at the flows on
/// the next request (tests/kill_switch.rs has enable, grants and two hosts).
#[test]
fn issue12_disabling_an_account_stops_its_access_tokens_on_the_next_request() {
    let app = start(Options::new());
    let (id, secret) = app.client_credentials(&["orders"]);
    let token = access_token(&app, &id, &secret);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &token), 200);

    let r = app.admin("POST", &format!("/admin/v1/accounts/{id}/disable"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let refused = token_basic(&app, &id, &secret, "grant_type=client_credentials");
    assert_eq!(refused.status, 401, "{}", refused.text());
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &token), 401);
}

/// `POST /admin/v1/maintenance/prune` deletes `jti/`, `revoked/` and `vtok/`
/// records expired more than 60 s ago and keeps the rest. Records that old
/// are seeded at startup (waiting for real ones would take over a minute);
/// the real ones of this test, from 1 s tokens, are past their expiry when
/// it prunes but inside the margin, so they stay.
#[test]
fn prune_deletes_records_expired_beyond_the_margin_and_keeps_the_rest() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let (old, later) = ((now - 3_600).to_string(), (now + 3_600).to_string());
    let old_entry = json!({
        "sub": "gone", "jti": "gone", "iat": now - 3_900, "exp": now - 3_600, "scope": "orders",
    });
    let app = start(
        Options::new()
            .variable("access_token_ttl", Some("1"))
            .key_value("jti/seeded/old", &old)
            .key_value("jti/seeded/live", &later)
            .key_value("revoked/seeded-old", &old)
            .key_value("vtok/seeded-old", &old_entry.to_string())
            .key_value("vtok/seeded-unreadable", "not an entry"),
    );
    let (id, secret) = app.client_credentials(&["orders"]);
    let used = access_token(&app, &id, &secret);
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &used), 200);
    let revoked = access_token(&app, &id, &secret);
    let r = app.send(
        "POST",
        "/oauth2/revoke",
        &[FORM, ("Authorization", &basic(&id, &secret))],
        format!("token={revoked}").as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Both 1 s tokens are now past their expiry, not past the margin.
    std::thread::sleep(std::time::Duration::from_secs(2));

    let auditor = app.create_account(
        json!({ "name": "reader", "credential_type": "api_key", "roles": ["auditor"] }),
    );
    let refused = app.send(
        "POST",
        "/admin/v1/maintenance/prune",
        &[("X-API-Key", &auditor.1)],
        b"",
    );
    assert_eq!(refused.status, 403, "{}", refused.text());

    let pruned = app.admin("POST", "/admin/v1/maintenance/prune", None);
    assert_eq!(pruned.status, 200, "{}", pruned.text());
    // Kept: the live seeded mark, the unreadable record, the used token's
    // record, the revocation and the revoked token's record.
    assert_eq!(
        pruned.json(),
        json!({ "deleted": { "jti": 1, "revoked": 1, "vtok": 1, "counters": 0 }, "kept": 5 })
    );
    // The kept ones are filed under their expiry hour (issue 16): the next
    // prune, inside that hour, has nothing to examine.
    let again = app.admin("POST", "/admin/v1/maintenance/prune", None);
    assert_eq!(
        again.json(),
        json!({ "deleted": { "jti": 0, "revoked": 0, "vtok": 0, "counters": 0 }, "kept": 0 })
    );
    // The revoked token is refused still; the audit log has both prunes
    // and the auditor's refused attempt (target `maintenance/prune`).
    assert_eq!(at_flow(&app, "GET", "/flows/orders", &revoked), 401);
    let audit = app.admin("GET", "/admin/v1/audit?target=maintenance", None);
    // Entries within one second are unordered (docs/management.md).
    let mut actions: Vec<String> = audit.json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| format!("{} {}", e["action"], e["outcome"]))
        .collect();
    actions.sort();
    assert_eq!(
        actions,
        [
            r#""maintenance.prune" "ok""#,
            r#""maintenance.prune" "ok""#,
            r#""permission.denied" "forbidden""#,
        ]
    );
}
