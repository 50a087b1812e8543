//! Service-account lifecycle beyond API keys, through the built components:
//! management roles (accounts calling `/admin/v1` with their own credential),
//! groups whose grants reach the edge, and export/import between two apps.

mod common;

use common::{App, Options, start};
use serde_json::{Value, json};

/// A management request with an account's own credential in `header`.
fn call(
    app: &App,
    header: (&str, &str),
    method: &str,
    path: &str,
    body: Option<Value>,
) -> common::Response {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    app.send(
        method,
        path,
        &[header, ("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

fn authorize(app: &App, key: &str, uri: &str) -> u16 {
    app.forward_auth("GET", uri, &[("X-API-Key", key)]).status
}

#[test]
fn account_with_admin_role_manages_with_its_own_key_and_is_audited_as_itself() {
    let app = start(Options::new());
    let (id, key) = app.create_account(
        json!({ "name": "terraform", "credential_type": "api_key", "roles": ["admin"] }),
    );
    let bearer = format!("Bearer {key}");
    let r = call(
        &app,
        ("Authorization", &bearer),
        "POST",
        "/admin/v1/accounts",
        Some(json!({ "name": "made-by-ci", "credential_type": "api_key" })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let made = r.json()["id"].as_str().expect("id").to_owned();
    // Audit keys order by the second only: find the entry by its target.
    let r = app.admin(
        "GET",
        &format!("/admin/v1/audit?target=account:{made}"),
        None,
    );
    let entry = r.json()["items"][0].clone();
    assert_eq!(entry["actor"], format!("account:{id}"));
    assert_eq!(entry["action"], "account.create");

    // The same key as X-API-Key; and an API token of the account.
    let r = call(&app, ("X-API-Key", &key), "GET", "/admin/v1/accounts", None);
    assert_eq!(r.status, 200, "{}", r.text());
    let token = call(
        &app,
        ("X-API-Key", &key),
        "POST",
        &format!("/admin/v1/accounts/{id}/tokens"),
        Some(json!({ "name": "ci" })),
    );
    assert_eq!(token.status, 201, "{}", token.text());
    let token = token.json()["token"].as_str().expect("token").to_owned();
    let r = call(
        &app,
        ("Authorization", &format!("Bearer {token}")),
        "GET",
        "/admin/v1/roles",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Disabled: the kill switch stops management access too.
    let r = app.admin("POST", &format!("/admin/v1/accounts/{id}/disable"), None);
    assert_eq!(r.status, 200);
    let r = call(&app, ("X-API-Key", &key), "GET", "/admin/v1/accounts", None);
    assert_eq!(r.status, 401);
    // Two credential headers are refused, even if each is valid.
    app.admin("POST", &format!("/admin/v1/accounts/{id}/enable"), None);
    let r = app.send(
        "GET",
        "/admin/v1/accounts",
        &[("X-API-Key", &key), ("Authorization", &bearer)],
        b"",
    );
    assert_eq!(r.status, 401);
    assert!(!app.logs().contains(&key), "a key reached the log");
}

#[test]
fn auditor_reads_everything_and_changes_nothing() {
    let app = start(Options::new());
    let (_, key) = app.create_account(
        json!({ "name": "aud", "credential_type": "api_key", "roles": ["auditor"] }),
    );
    let (target, _) = app.create_account(json!({ "name": "t", "credential_type": "api_key" }));
    for path in [
        "/admin/v1/accounts",
        "/admin/v1/audit",
        "/admin/v1/roles",
        "/admin/v1/groups",
        "/admin/v1/export",
        "/admin/v1/flows/orders/access",
    ] {
        let r = call(&app, ("X-API-Key", &key), "GET", path, None);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
    let before = app.admin("GET", "/admin/v1/export", None).json();
    let attempts = [
        (
            "POST",
            "/admin/v1/accounts".to_owned(),
            Some(json!({ "name": "x", "credential_type": "api_key" })),
        ),
        (
            "PUT",
            format!("/admin/v1/flows/orders/access/{target}"),
            None,
        ),
        (
            "POST",
            format!("/admin/v1/accounts/{target}/reset-credential"),
            None,
        ),
        (
            "POST",
            "/admin/v1/groups".to_owned(),
            Some(json!({ "name": "g" })),
        ),
        (
            "POST",
            "/admin/v1/roles".to_owned(),
            Some(json!({ "name": "r", "permissions": [] })),
        ),
    ];
    for (method, path, body) in attempts {
        let r = call(&app, ("X-API-Key", &key), method, &path, body);
        assert_eq!(r.status, 403, "{method} {path}: {}", r.text());
        assert_eq!(r.json()["error"], "forbidden");
    }
    assert_eq!(app.admin("GET", "/admin/v1/export", None).json(), before);
    let r = app.admin(
        "GET",
        &format!("/admin/v1/audit?target=accounts/{target}"),
        None,
    );
    assert_eq!(r.json()["items"][0]["outcome"], "forbidden", "{}", r.text());
}

#[test]
fn custom_role_allows_exactly_its_permissions() {
    let app = start(Options::new());
    let r = app.admin(
        "POST",
        "/admin/v1/roles",
        Some(json!({ "name": "granter", "permissions": ["accounts:read", "grants:write", "accounts:write"] })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let (_, key) = app
        .create_account(json!({ "name": "g", "credential_type": "api_key", "roles": ["granter"] }));
    let (admin_id, admin_key) = app.create_account(
        json!({ "name": "boss", "credential_type": "api_key", "roles": ["admin"] }),
    );
    let (plain, _) = app.create_account(json!({ "name": "p", "credential_type": "api_key" }));
    let me = ("X-API-Key", key.as_str());
    assert_eq!(
        call(
            &app,
            me,
            "PUT",
            &format!("/admin/v1/flows/orders/access/{plain}"),
            None
        )
        .status,
        200
    );
    // Handing out roles needs roles:write.
    let r = call(
        &app,
        me,
        "PATCH",
        &format!("/admin/v1/accounts/{plain}"),
        Some(json!({ "roles": ["admin"] })),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    // accounts:write does not reach an account with more permissions.
    let r = call(
        &app,
        me,
        "POST",
        &format!("/admin/v1/accounts/{admin_id}/reset-credential"),
        None,
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        call(
            &app,
            ("X-API-Key", &admin_key),
            "GET",
            "/admin/v1/audit",
            None
        )
        .status,
        200
    );
    assert_eq!(call(&app, me, "GET", "/admin/v1/audit", None).status, 403);
    // A role cannot be deleted while held; an unknown role is refused.
    assert_eq!(
        app.admin("DELETE", "/admin/v1/roles/granter", None).status,
        409
    );
    let r = app.admin(
        "PATCH",
        &format!("/admin/v1/accounts/{plain}"),
        Some(json!({ "roles": ["nope"] })),
    );
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("roles")));
}

#[test]
fn group_grants_reach_members_at_the_edge() {
    let app = start(Options::new());
    assert_eq!(
        app.admin(
            "POST",
            "/admin/v1/groups",
            Some(json!({ "name": "partners" }))
        )
        .status,
        201
    );
    let (a, key_a) = app.create_account(
        json!({ "name": "a", "credential_type": "api_key", "groups": ["partners"] }),
    );
    let (b, key_b) = app.create_account(json!({ "name": "b", "credential_type": "api_key" }));
    assert_eq!(authorize(&app, &key_a, "/flows/reports"), 403);
    let r = app.admin(
        "PUT",
        "/admin/v1/flows/reports/access/groups/partners",
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(authorize(&app, &key_a, "/flows/reports"), 200);
    assert_eq!(authorize(&app, &key_b, "/flows/reports"), 403);
    let r = app.admin(
        "PUT",
        &format!("/admin/v1/groups/partners/members/{b}"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(authorize(&app, &key_b, "/flows/reports"), 200);

    let access = app
        .admin("GET", "/admin/v1/flows/reports/access", None)
        .json();
    assert_eq!(access["groups"], json!(["partners"]));
    let flows = app
        .admin("GET", &format!("/admin/v1/accounts/{a}/flows"), None)
        .json();
    assert_eq!(flows["items"], json!(["reports"]));
    assert_eq!(flows["direct"], json!([]));
    assert_eq!(flows["groups"][0]["group"], "partners");
    assert_eq!(
        app.admin("DELETE", "/admin/v1/groups/partners", None)
            .status,
        409
    );

    assert_eq!(
        app.admin(
            "DELETE",
            "/admin/v1/flows/reports/access/groups/partners",
            None
        )
        .status,
        204
    );
    assert_eq!(authorize(&app, &key_a, "/flows/reports"), 403);
    assert_eq!(authorize(&app, &key_b, "/flows/reports"), 403);
    let r = app.admin(
        "PUT",
        "/admin/v1/flows/nowhere/access/groups/partners",
        None,
    );
    assert_eq!(r.status, 404);
    let r = app.admin("PUT", "/admin/v1/flows/orders/access/groups/nobody", None);
    assert_eq!(r.status, 404);
}

#[test]
fn export_carries_no_secret_and_imports_into_another_app_with_the_same_pepper() {
    let pepper = common::random_hex(32);
    let first = start(Options::new().variable("hmac_pepper", Some(&pepper)));
    first.admin("POST", "/admin/v1/groups", Some(json!({ "name": "ops" })));
    first.admin("PUT", "/admin/v1/flows/reports/access/groups/ops", None);
    let (_, key) = first.create_account(
        json!({ "name": "svc", "credential_type": "api_key", "flows": ["orders"], "groups": ["ops"] }),
    );
    let export = first.admin("GET", "/admin/v1/export", None);
    assert_eq!(export.status, 200, "{}", export.text());
    assert!(
        !export.text().contains(&key),
        "the export holds a plaintext key"
    );
    let doc = export.json();

    let second = start(Options::new().variable("hmac_pepper", Some(&pepper)));
    let plan = second.admin("POST", "/admin/v1/import?dry_run=true", Some(doc.clone()));
    assert_eq!(plan.status, 200, "{}", plan.text());
    assert_eq!(plan.json()["changes"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        authorize(&second, &key, "/flows/orders"),
        401,
        "a dry run wrote"
    );
    let applied = second.admin("POST", "/admin/v1/import", Some(doc.clone()));
    assert_eq!(applied.status, 200, "{}", applied.text());
    assert_eq!(authorize(&second, &key, "/flows/orders"), 200);
    assert_eq!(authorize(&second, &key, "/flows/reports"), 200);
    let again = second.admin("POST", "/admin/v1/import", Some(doc));
    assert_eq!(again.json()["changes"], json!([]));
    let bad = second.admin(
        "POST",
        "/admin/v1/import",
        Some(json!({ "format": "other" })),
    );
    assert_eq!(
        (bad.status, bad.json()["field"].clone()),
        (400, json!("format"))
    );
}

const PROXY_TOKEN: &str = "proxy-shared-secret-for-lifecycle";

/// A client certificate valid until 2099: (PEM, DER).
fn certificate() -> (String, Vec<u8>) {
    let c = common::certs::certificate("client.lifecycle.test");
    (c.pem, c.der)
}

/// The edge's answer to `GET /flows/orders/1` with `der` forwarded by the
/// trusted proxy (RFC 9440 `Client-Cert`), and the account it named.
fn with_certificate(app: &App, der: &[u8]) -> (u16, String) {
    let cert = common::certs::client_cert_header(der);
    let r = app.forward_auth(
        "GET",
        "/flows/orders/1",
        &[
            ("Client-Cert", &cert),
            ("X-Flowgate-Proxy-Token", PROXY_TOKEN),
        ],
    );
    let account = r.header("x-flowgate-account").unwrap_or_default();
    (r.status, account.to_owned())
}

/// The certificates of account `id` in an export document.
fn exported_certificates(doc: &Value, id: &str) -> Vec<Value> {
    doc["accounts"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["id"] == id)
        .and_then(|a| a["certificates"].as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn imported_mtls_account_authenticates_with_its_certificates_in_a_fresh_app() {
    let pepper = common::random_hex(32);
    let options = || {
        Options::new()
            .variable("hmac_pepper", Some(&pepper))
            .variable("trusted_proxy_token", Some(PROXY_TOKEN))
    };
    let first = start(options());
    let ((pem_a, der_a), (pem_b, der_b)) = (certificate(), certificate());
    let (id, _) = first.create_account(json!({
        "name": "gateway", "credential_type": "mtls", "certificate": pem_a, "flows": ["orders"],
    }));
    let thumb_a = first
        .admin("GET", &format!("/admin/v1/accounts/{id}"), None)
        .json()["certificates"][0]["thumbprint"]
        .clone();
    let added = first.admin(
        "POST",
        &format!("/admin/v1/accounts/{id}/certificates"),
        Some(json!({ "certificate": pem_b })),
    );
    assert_eq!(added.status, 201, "{}", added.text());
    assert_eq!(with_certificate(&first, &der_a), (200, id.clone()));
    let doc = first.admin("GET", "/admin/v1/export", None).json();
    assert_eq!(exported_certificates(&doc, &id).len(), 2);
    drop(first);

    // A fresh app with the same pepper: nothing until the import.
    let second = start(options());
    assert_eq!(with_certificate(&second, &der_a).0, 401);
    let plan = second.admin("POST", "/admin/v1/import?dry_run=true", Some(doc.clone()));
    assert_eq!(plan.status, 200, "{}", plan.text());
    assert_eq!(with_certificate(&second, &der_a).0, 401, "a dry run wrote");
    let applied = second.admin("POST", "/admin/v1/import", Some(doc.clone()));
    assert_eq!(applied.status, 200, "{}", applied.text());
    assert_eq!(with_certificate(&second, &der_a), (200, id.clone()));
    assert_eq!(with_certificate(&second, &der_b), (200, id.clone()));

    // A document that drops certificate A: A stops at the edge, B goes on.
    let mut without_a = doc.clone();
    let kept: Vec<Value> = exported_certificates(&doc, &id)
        .into_iter()
        .filter(|c| c["thumbprint"] != thumb_a)
        .collect();
    assert_eq!(kept.len(), 1);
    for account in without_a["accounts"].as_array_mut().into_iter().flatten() {
        if account["id"] == id {
            account["certificates"] = Value::from(kept.clone());
        }
    }
    let applied = second.admin("POST", "/admin/v1/import", Some(without_a.clone()));
    assert_eq!(applied.status, 200, "{}", applied.text());
    assert_eq!(with_certificate(&second, &der_a).0, 401);
    assert_eq!(with_certificate(&second, &der_b), (200, id.clone()));

    // Certificate A now belongs to another account: a document that gives
    // it back to `gateway` is refused, and nothing changes.
    let (other, _) = second.create_account(json!({
        "name": "other", "credential_type": "mtls", "certificate": pem_a, "flows": ["orders"],
    }));
    let refused = second.admin("POST", "/admin/v1/import", Some(doc.clone()));
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert_eq!(with_certificate(&second, &der_a), (200, other));
    assert_eq!(with_certificate(&second, &der_b), (200, id.clone()));
    let view = second
        .admin("GET", &format!("/admin/v1/accounts/{id}"), None)
        .json();
    assert_eq!(view["certificates"].as_array().map(Vec::len), Some(1));

    // Flows outside the account's scope are refused, naming the field.
    let mut narrow = without_a;
    for account in narrow["accounts"].as_array_mut().into_iter().flatten() {
        if account["id"] == id {
            account["scope"] = json!({ "level": "project", "project": "nowhere" });
        }
    }
    let refused = second.admin("POST", "/admin/v1/import", Some(narrow));
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused.json()["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("accounts[") && f.ends_with("].grants")),
        "{}",
        refused.text()
    );
}

#[test]
fn audit_listing_refuses_a_bad_limit() {
    let app = common::start(common::Options::new());
    for bad in ["abc", "0", "201", "-1"] {
        let r = app.admin("GET", &format!("/admin/v1/audit?limit={bad}"), None);
        assert_eq!(r.status, 400, "limit={bad}: {}", r.text());
        assert_eq!(r.json()["field"], "limit");
    }
    assert_eq!(
        app.admin("GET", "/admin/v1/audit?limit=5", None).status,
        200
    );
}

/// The export's entry for account `id`.
fn exported_account(app: &App, id: &str) -> Value {
    let doc = app.admin("GET", "/admin/v1/export", None).json();
    doc["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["id"] == id))
        .cloned()
        .expect("the account in the export")
}

/// A fresh account id (16 of a-z and 2-7).
fn fresh_id() -> String {
    common::random_hex(8)
        .bytes()
        .map(|b| char::from(b"abcdefghijklmnopqrstuvwxyz234567"[usize::from(b) % 32]))
        .collect()
}

/// Everything the store holds that export shows, for "changed nothing".
fn state(app: &App) -> Value {
    app.admin("GET", "/admin/v1/export", None).json()
}

#[test]
fn issue18_limited_role_cannot_grant_itself_or_others_more_than_it_holds() {
    let app = start(Options::new());
    let r = app.admin(
        "POST",
        "/admin/v1/roles",
        Some(json!({ "name": "manager", "permissions": ["accounts:read", "accounts:write", "roles:read", "roles:write"] })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = app.admin(
        "POST",
        "/admin/v1/roles",
        Some(json!({ "name": "reader", "permissions": ["audit:read"] })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let (me, key) = app.create_account(
        json!({ "name": "mgr", "credential_type": "api_key", "roles": ["manager"] }),
    );
    let (plain, _) = app.create_account(json!({ "name": "plain", "credential_type": "api_key" }));
    let mine = ("X-API-Key", key.as_str());

    // The issue's exact scenario: no audit:read, then PATCH own roles.
    assert_eq!(call(&app, mine, "GET", "/admin/v1/audit", None).status, 403);
    let before = state(&app);
    let attempts = [
        (
            "PATCH",
            format!("/admin/v1/accounts/{me}"),
            json!({ "roles": ["admin"] }),
        ),
        (
            "PATCH",
            format!("/admin/v1/accounts/{me}"),
            json!({ "roles": [] }),
        ),
        (
            "POST",
            "/admin/v1/accounts".to_owned(),
            json!({ "name": "evil", "credential_type": "api_key", "roles": ["admin"] }),
        ),
        (
            "POST",
            "/admin/v1/accounts".to_owned(),
            json!({ "name": "evil", "credential_type": "api_key", "roles": ["reader"] }),
        ),
        (
            "PATCH",
            format!("/admin/v1/accounts/{plain}"),
            json!({ "roles": ["admin"] }),
        ),
        (
            "POST",
            "/admin/v1/roles".to_owned(),
            json!({ "name": "super", "permissions": ["accounts:read", "audit:read"] }),
        ),
        ("DELETE", "/admin/v1/roles/reader".to_owned(), json!(null)),
    ];
    for (method, path, body) in &attempts {
        let r = call(&app, mine, method, path, Some(body.clone()));
        assert_eq!(r.status, 403, "{method} {path} {body}: {}", r.text());
        assert_eq!(r.json()["error"], "forbidden");
    }
    assert_eq!(state(&app), before, "a refused request changed something");
    assert_eq!(call(&app, mine, "GET", "/admin/v1/audit", None).status, 403);

    // Within its own permissions it may still work.
    let r = call(
        &app,
        mine,
        "POST",
        "/admin/v1/roles",
        Some(json!({ "name": "viewer", "permissions": ["accounts:read"] })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = call(
        &app,
        mine,
        "PATCH",
        &format!("/admin/v1/accounts/{plain}"),
        Some(json!({ "roles": ["viewer"] })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // Setting its own roles to what they are changes nothing and is allowed.
    let r = call(
        &app,
        mine,
        "PATCH",
        &format!("/admin/v1/accounts/{me}"),
        Some(json!({ "roles": ["manager"], "description": "same roles" })),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // Refusals are audited as the caller.
    let r = app.admin(
        "GET",
        &format!("/admin/v1/audit?target=accounts/{me}"),
        None,
    );
    let entry = &r.json()["items"][0];
    assert_eq!(
        (&entry["actor"], &entry["outcome"]),
        (&json!(format!("account:{me}")), &json!("forbidden")),
        "{}",
        r.text()
    );

    // Even an administrator account may not change its own roles; the
    // bootstrap token keeps full rights.
    let (boss, boss_key) = app.create_account(
        json!({ "name": "boss", "credential_type": "api_key", "roles": ["admin"] }),
    );
    let r = call(
        &app,
        ("X-API-Key", &boss_key),
        "PATCH",
        &format!("/admin/v1/accounts/{boss}"),
        Some(json!({ "roles": ["admin", "manager"] })),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let r = app.admin(
        "PATCH",
        &format!("/admin/v1/accounts/{me}"),
        Some(json!({ "roles": ["admin"] })),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(call(&app, mine, "GET", "/admin/v1/audit", None).status, 200);
}

#[test]
fn issue18_import_cannot_confer_permissions_the_caller_lacks() {
    let app = start(Options::new());
    let r = app.admin(
        "POST",
        "/admin/v1/roles",
        Some(json!({ "name": "applier", "permissions": ["accounts:read", "config:read", "config:write"] })),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let (me, key) = app.create_account(
        json!({ "name": "ci", "credential_type": "api_key", "roles": ["applier"] }),
    );
    let (boss, _) = app.create_account(
        json!({ "name": "boss", "credential_type": "api_key", "roles": ["admin"] }),
    );
    let mine = ("X-API-Key", key.as_str());
    let own = exported_account(&app, &me);
    let new_account = |roles: Value| {
        let mut entry = own.clone();
        entry["id"] = json!(fresh_id());
        entry["name"] = json!(format!("n-{}", common::random_hex(3)));
        entry["roles"] = roles;
        entry
    };
    let doc = |roles: Value, accounts: Vec<Value>| json!({ "format": "flowgate/v1", "roles": roles, "groups": [], "accounts": accounts });
    let mut own_raised = own.clone();
    own_raised["roles"] = json!(["admin"]);
    let mut boss_changed = exported_account(&app, &boss);
    boss_changed["description"] = json!("taken over");
    let before = state(&app);
    let refused = [
        doc(
            json!([{ "name": "wide", "permissions": ["audit:read"] }]),
            vec![],
        ),
        doc(json!([]), vec![new_account(json!(["admin"]))]),
        doc(
            json!([{ "name": "wide", "permissions": ["grants:write"] }]),
            vec![new_account(json!(["wide"]))],
        ),
        doc(json!([]), vec![own_raised]),
        doc(json!([]), vec![boss_changed]),
    ];
    for body in refused {
        let r = call(&app, mine, "POST", "/admin/v1/import", Some(body.clone()));
        assert_eq!(r.status, 403, "{body}: {}", r.text());
    }
    assert_eq!(state(&app), before, "a refused import changed something");
    // An import within the caller's own permissions goes through.
    let allowed = doc(
        json!([{ "name": "narrow", "permissions": ["accounts:read"] }]),
        vec![new_account(json!(["narrow"]))],
    );
    let r = call(&app, mine, "POST", "/admin/v1/import", Some(allowed));
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn issue18_import_refuses_two_accounts_of_one_name_and_applies_whole_or_nothing() {
    let app = start(Options::new());
    let (held, _) = app.create_account(json!({ "name": "held", "credential_type": "api_key" }));
    let template = exported_account(&app, &held);
    let entry = |name: &str| {
        let mut e = template.clone();
        e["id"] = json!(fresh_id());
        e["name"] = json!(name);
        e
    };
    let doc = |accounts: Vec<Value>| json!({ "format": "flowgate/v1", "roles": [], "groups": [], "accounts": accounts });
    let before = state(&app);
    let twice = doc(vec![entry("a"), entry("b"), entry("a")]);
    for path in ["/admin/v1/import?dry_run=true", "/admin/v1/import"] {
        let r = app.admin("POST", path, Some(twice.clone()));
        assert_eq!(
            (r.status, r.json()["field"].clone()),
            (400, json!("accounts[2].name")),
            "{path}: {}",
            r.text()
        );
        // A name another stored account holds is a conflict naming the entry.
        let r = app.admin("POST", path, Some(doc(vec![entry("c"), entry("held")])));
        assert_eq!(r.status, 409, "{path}: {}", r.text());
        assert!(r.text().contains("accounts[1].name"), "{}", r.text());
    }
    assert_eq!(state(&app), before, "a refused import wrote");

    // Renaming two accounts onto each other's names is one consistent change.
    let (other, _) = app.create_account(json!({ "name": "other", "credential_type": "api_key" }));
    let mut first = exported_account(&app, &held);
    let mut second = exported_account(&app, &other);
    first["name"] = json!("other");
    second["name"] = json!("held");
    let swap = doc(vec![first, second, entry("fresh")]);
    let r = app.admin("POST", "/admin/v1/import", Some(swap.clone()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["changes"].as_array().map(Vec::len), Some(3));
    let name_of = |id: &str| {
        app.admin("GET", &format!("/admin/v1/accounts/{id}"), None)
            .json()["name"]
            .clone()
    };
    assert_eq!(
        (name_of(&held), name_of(&other)),
        (json!("other"), json!("held"))
    );
    // Both names stay taken for new accounts.
    for name in ["held", "other", "fresh"] {
        let r = app.admin(
            "POST",
            "/admin/v1/accounts",
            Some(json!({ "name": name, "credential_type": "api_key" })),
        );
        assert_eq!(r.status, 409, "{name}: {}", r.text());
    }
    // The same document again is a no-op, dry run and real.
    for path in ["/admin/v1/import?dry_run=true", "/admin/v1/import"] {
        let r = app.admin("POST", path, Some(swap.clone()));
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert_eq!(r.json()["changes"], json!([]), "{path}");
        assert_eq!(r.json()["unchanged"], json!(3), "{path}");
    }
}

#[test]
fn issue18_query_values_and_path_segments_are_percent_decoded() {
    let app = start(Options::new());
    let (id, _) = app.create_account(json!({ "name": "q", "credential_type": "api_key" }));
    app.admin("POST", &format!("/admin/v1/accounts/{id}/disable"), None);
    app.admin("POST", &format!("/admin/v1/accounts/{id}/enable"), None);
    let items = |path: &str| {
        let r = app.admin("GET", path, None);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.json()
    };
    let plain = items(&format!("/admin/v1/audit?target=account:{id}"));
    assert_eq!(plain["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        items(&format!("/admin/v1/audit?target=account%3A{id}")),
        plain
    );
    assert_eq!(
        items(&format!("/admin/v1/audit?t%61rget=account%3a{id}")),
        plain
    );

    // Paging with `next` as returned, encoded or not.
    let first = items(&format!("/admin/v1/audit?target=account:{id}&limit=1"));
    let next = first["next"].as_str().expect("next").to_owned();
    let encoded = next.replace('/', "%2F");
    let page = items(&format!(
        "/admin/v1/audit?target=account:{id}&limit=1&before={next}"
    ));
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        items(&format!(
            "/admin/v1/audit?target=account:{id}&limit=1&before={encoded}"
        )),
        page
    );

    // Account filters, encoded.
    let listed = items("/admin/v1/accounts?credential_type=api%5Fkey&status=%61ctive");
    assert_eq!(listed["items"][0]["id"], id.as_str());

    // Filters that cannot be parsed are 400 naming the parameter.
    for (path, name) in [
        ("/admin/v1/audit?limit=false", "limit"),
        ("/admin/v1/audit?limit=1&limit=2", "limit"),
        ("/admin/v1/audit?target=%zz", "target"),
        ("/admin/v1/audit?before=nothing", "before"),
        ("/admin/v1/accounts?status=gone", "status"),
        (
            "/admin/v1/accounts?credential_type=api+key",
            "credential_type",
        ),
        ("/admin/v1/accounts?group=", "group"),
        ("/admin/v1/accounts?after=%2E%2E", "after"),
        ("/admin/v1/accounts?limit=1e2", "limit"),
    ] {
        let r = app.admin("GET", path, None);
        assert_eq!(
            (r.status, r.json()["field"].clone()),
            (400, json!(name)),
            "{path}: {}",
            r.text()
        );
    }

    // Path segments are decoded once: an encoded id is the same account.
    let encoded_id: String = id.bytes().map(|b| format!("%{b:02x}")).collect();
    let r = app.admin("GET", &format!("/admin/v1/accounts/{encoded_id}"), None);
    assert_eq!((r.status, r.json()["id"].clone()), (200, json!(id)));
    let r = app.admin("GET", "/admin/v1/roles/%61dmin", None);
    assert_eq!((r.status, r.json()["name"].clone()), (200, json!("admin")));
    let r = app.admin("GET", "/admin/v1/accounts/%zz", None);
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("path")));
    // A mutation's flags too: `force=tru%65` is `force=true`.
    app.admin("PUT", &format!("/admin/v1/flows/orders/access/{id}"), None);
    let r = app.admin(
        "DELETE",
        &format!("/admin/v1/accounts/{id}?force=maybe"),
        None,
    );
    assert_eq!((r.status, r.json()["field"].clone()), (400, json!("force")));
    let r = app.admin(
        "DELETE",
        &format!("/admin/v1/accounts/{id}?force=tru%65"),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text());
}

#[test]
fn issue18_oversized_body_is_refused_and_audited() {
    let app = start(Options::new());
    let big = json!({ "name": "big", "credential_type": "api_key", "description": "x".repeat(70 * 1024) });
    let r = app.admin("POST", "/admin/v1/accounts", Some(big));
    assert_eq!(r.status, 413, "{}", r.text());
    let r = app.admin("GET", "/admin/v1/audit?target=accounts", None);
    let entry = &r.json()["items"][0];
    assert_eq!(
        (&entry["action"], &entry["outcome"], &entry["actor"]),
        (
            &json!("request.refused"),
            &json!("too_large"),
            &json!("bootstrap-admin")
        ),
        "{}",
        r.text()
    );
    // Without credentials nothing is audited: anyone could fill the log.
    let r = app.send("POST", "/admin/v1/accounts", &[], &vec![b' '; 70 * 1024]);
    assert_eq!(r.status, 401);
    let r = app.admin("GET", "/admin/v1/audit", None);
    assert_eq!(
        r.json()["items"].as_array().map(Vec::len),
        Some(1),
        "{}",
        r.text()
    );
}
