//! The OpenAPI document is kept true: every route it lists is called on the
//! running app, and each real response (status and body) is checked against
//! the document. The checker below understands exactly the JSON-Schema
//! keywords the document uses and refuses any other, so a schema it cannot
//! check fails the test instead of passing silently.

mod common;

use std::collections::BTreeSet;

use common::{App, Options, start};
use serde_json::{Value, json};

/// Annotation keywords: they describe, they do not constrain.
const ANNOTATIONS: &[&str] = &["description", "default", "title", "format", "example"];

/// Checks `value` against `schema`; `doc` resolves `$ref`s.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let Value::Object(schema) = schema else {
        return Err(format!("{at}: schema is not an object"));
    };
    for (keyword, rule) in schema {
        match keyword.as_str() {
            "$ref" => {
                let pointer = rule
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .ok_or_else(|| format!("{at}: only local $ref"))?;
                let target = doc
                    .pointer(pointer)
                    .ok_or_else(|| format!("{at}: dangling $ref {pointer}"))?;
                check(doc, target, value, at)?;
            }
            "type" => {
                let types: Vec<&str> = match rule {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => return Err(format!("{at}: bad type")),
                };
                let actual = match value {
                    Value::Null => "null",
                    Value::Bool(_) => "boolean",
                    Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
                    Value::Number(_) => "number",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                };
                let fits = types
                    .iter()
                    .any(|t| *t == actual || (*t == "number" && actual == "integer"));
                if !fits {
                    return Err(format!("{at}: {actual} where {types:?} is documented"));
                }
            }
            "enum" => {
                let options = rule.as_array().ok_or_else(|| format!("{at}: bad enum"))?;
                if !options.contains(value) {
                    return Err(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "const" => {
                if rule != value {
                    return Err(format!("{at}: {value} is not {rule}"));
                }
            }
            "required" => {
                if let Value::Object(map) = value {
                    for name in rule.as_array().into_iter().flatten() {
                        let name = name.as_str().unwrap_or_default();
                        if !map.contains_key(name) {
                            return Err(format!("{at}: required `{name}` is missing"));
                        }
                    }
                }
            }
            "properties" => {
                if let (Value::Object(map), Value::Object(props)) = (value, rule) {
                    for (name, sub) in props {
                        if let Some(v) = map.get(name) {
                            check(doc, sub, v, &format!("{at}.{name}"))?;
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Value::Object(map) = value {
                    let known = schema.get("properties").and_then(Value::as_object);
                    for (name, v) in map {
                        if known.is_some_and(|k| k.contains_key(name)) {
                            continue;
                        }
                        match rule {
                            Value::Bool(false) => {
                                return Err(format!("{at}: undocumented property `{name}`"));
                            }
                            Value::Bool(true) => {}
                            sub => check(doc, sub, v, &format!("{at}.{name}"))?,
                        }
                    }
                }
            }
            "items" => {
                if let Value::Array(items) = value {
                    for (i, v) in items.iter().enumerate() {
                        check(doc, rule, v, &format!("{at}[{i}]"))?;
                    }
                }
            }
            "allOf" => {
                for sub in rule.as_array().into_iter().flatten() {
                    check(doc, sub, value, at)?;
                }
            }
            "minimum" | "maximum" => {
                if let (Some(v), Some(bound)) = (value.as_f64(), rule.as_f64()) {
                    let ok = if keyword == "minimum" {
                        v >= bound
                    } else {
                        v <= bound
                    };
                    if !ok {
                        return Err(format!("{at}: {v} breaks {keyword} {bound}"));
                    }
                }
            }
            "maxLength" => {
                if let (Some(s), Some(max)) = (value.as_str(), rule.as_u64())
                    && s.chars().count() as u64 > max
                {
                    return Err(format!("{at}: longer than {max}"));
                }
            }
            k if ANNOTATIONS.contains(&k) => {}
            other => return Err(format!("{at}: the checker does not know `{other}`")),
        }
    }
    Ok(())
}

#[test]
fn the_checker_catches_what_it_should() {
    let doc = json!({ "components": { "schemas": { "N": { "type": "integer" } } } });
    let schema = json!({
        "type": "object", "required": ["a"], "additionalProperties": false,
        "properties": { "a": { "$ref": "#/components/schemas/N" }, "b": { "enum": ["x"] } }
    });
    assert!(check(&doc, &schema, &json!({ "a": 1, "b": "x" }), "$").is_ok());
    for bad in [
        json!({}),
        json!({ "a": "1" }),
        json!({ "a": 1, "b": "y" }),
        json!({ "a": 1, "c": 0 }),
        json!([]),
    ] {
        assert!(check(&doc, &schema, &bad, "$").is_err(), "{bad}");
    }
    assert!(check(&doc, &json!({ "pattern": "^a$" }), &json!("a"), "$").is_err());
}

/// The running app and the document it serves, plus which operations the
/// test has exercised.
struct Checked<'a> {
    app: &'a App,
    doc: Value,
    seen: BTreeSet<(String, String)>,
}

impl Checked<'_> {
    /// The document's path template for a concrete path below `/admin/v1`:
    /// the one with most literal segments in common.
    fn template(&self, path: &str) -> String {
        let path = path.split('?').next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, String)> = None;
        for template in self.doc["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                continue;
            }
            let mut literal = 0;
            let fits = parts.iter().zip(&segments).all(|(p, s)| {
                if p.starts_with('{') {
                    true
                } else {
                    literal += usize::from(p == s);
                    p == s
                }
            });
            if fits && best.as_ref().is_none_or(|(n, _)| literal > *n) {
                best = Some((literal, template.clone()));
            }
        }
        best.map(|(_, t)| t)
            .unwrap_or_else(|| panic!("{path} is not in the document"))
    }

    /// Sends a request and checks the response against the document.
    fn call(
        &mut self,
        headers: &[(&str, &str)],
        method: &str,
        path: &str,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut all = headers.to_vec();
        all.push(("Content-Type", "application/json"));
        let r = self
            .app
            .send(method, &format!("/admin/v1{path}"), &all, body.as_bytes());
        assert_eq!(r.status, expected, "{method} {path}: {}", r.text());
        let template = self.template(path);
        let op = &self.doc["paths"][&template][method.to_ascii_lowercase()];
        assert!(op.is_object(), "{method} {template} is not documented");
        let documented = &op["responses"][r.status.to_string()];
        assert!(
            documented.is_object(),
            "{method} {template} answered {} which is not documented",
            r.status
        );
        self.seen
            .insert((template.clone(), method.to_ascii_lowercase()));
        let schema = &documented["content"]["application/json"]["schema"];
        if schema.is_null() {
            assert!(r.body.is_empty(), "{method} {template}: undocumented body");
            return Value::Null;
        }
        assert_eq!(r.header("content-type"), Some("application/json"));
        let value = r.json();
        if let Err(e) = check(&self.doc, schema, &value, "$") {
            panic!("{method} {template} {}: {e}\n{value:#}", r.status);
        }
        value
    }
}

/// A fresh self-signed client certificate (PEM), valid until 2099.
fn certificate() -> String {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params =
        rcgen::CertificateParams::new(vec!["client.flowgate.test".into()]).expect("params");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    params.self_signed(&key).expect("self-signed").pem()
}

/// A fresh Ed25519 public key (PEM).
fn public_key() -> String {
    use jwt_simple::prelude::Ed25519KeyPair;
    Ed25519KeyPair::generate().public_key().to_pem()
}

#[test]
fn every_route_answers_as_the_document_says() {
    let app = start(Options::new());
    let served = app.send("GET", "/admin/v1/openapi.json", &[], b"");
    assert_eq!(served.status, 200);
    let doc = served.json();
    let file: Value = serde_json::from_str(include_str!("../components/management/openapi.json"))
        .expect("the document is JSON");
    assert_eq!(doc, file, "the served document is the file");
    assert_eq!(doc["openapi"], "3.1.0");
    let mut t = Checked {
        app: &app,
        doc,
        seen: BTreeSet::new(),
    };
    t.seen.insert(("/openapi.json".into(), "get".into()));
    let bearer = format!("Bearer {}", app.admin_token);
    let admin = [("Authorization", bearer.as_str())];
    let a = &admin[..];

    // Accounts.
    t.call(&[], "GET", "/accounts", None, 401);
    let created = t.call(
        a,
        "POST",
        "/accounts",
        Some(json!({ "name": "svc", "credential_type": "api_key", "flows": ["orders"] })),
        201,
    );
    let id = created["id"].as_str().expect("id").to_owned();
    t.call(
        a,
        "POST",
        "/accounts",
        Some(json!({ "name": "svc", "credential_type": "api_key" })),
        409,
    );
    t.call(
        a,
        "POST",
        "/accounts",
        Some(json!({ "name": "x", "credential_type": "magic" })),
        400,
    );
    t.call(a, "GET", "/accounts?limit=1", None, 200);
    t.call(a, "GET", "/accounts?unused_for_days=0", None, 400);
    t.call(a, "GET", &format!("/accounts/{id}"), None, 200);
    t.call(a, "GET", "/accounts/aaaaaaaaaaaaaaaa", None, 404);
    t.call(
        a,
        "PATCH",
        &format!("/accounts/{id}"),
        Some(json!({ "description": "d" })),
        200,
    );
    t.call(a, "POST", &format!("/accounts/{id}/disable"), None, 200);
    t.call(a, "POST", &format!("/accounts/{id}/enable"), None, 200);
    t.call(
        a,
        "POST",
        &format!("/accounts/{id}/reset-credential"),
        Some(json!({ "grace_seconds": 60 })),
        200,
    );
    let token = t.call(
        a,
        "POST",
        &format!("/accounts/{id}/tokens"),
        Some(json!({ "name": "ci", "expires_in": 60 })),
        201,
    );
    t.call(a, "GET", &format!("/accounts/{id}/tokens"), None, 200);
    let token_id = token["id"].as_str().expect("token id");
    t.call(
        a,
        "DELETE",
        &format!("/accounts/{id}/tokens/{token_id}"),
        None,
        204,
    );
    t.call(a, "GET", &format!("/accounts/{id}/flows"), None, 200);

    // Rotating an mtls certificate and a private_key_jwt key.
    let mtls = t.call(
        a,
        "POST",
        "/accounts",
        Some(json!({ "name": "edge", "credential_type": "mtls", "certificate": certificate() })),
        201,
    );
    let mtls_id = mtls["id"].as_str().expect("id").to_owned();
    let first = mtls["certificates"][0]["thumbprint"]
        .as_str()
        .expect("thumbprint")
        .to_owned();
    let second = certificate();
    let certificates = format!("/accounts/{mtls_id}/certificates");
    let added = t.call(
        a,
        "POST",
        &certificates,
        Some(json!({ "certificate": second })),
        201,
    );
    assert_eq!(added["certificates"].as_array().map(Vec::len), Some(2));
    t.call(
        a,
        "POST",
        &certificates,
        Some(json!({ "certificate": second })),
        409,
    );
    t.call(
        a,
        "POST",
        &format!("/accounts/{id}/certificates"),
        Some(json!({ "certificate": certificate() })),
        400,
    );
    t.call(a, "DELETE", &format!("{certificates}/{first}"), None, 204);
    t.call(a, "DELETE", &format!("{certificates}/{first}"), None, 404);
    let last = added["certificates"][1]["thumbprint"]
        .as_str()
        .expect("thumbprint");
    t.call(a, "DELETE", &format!("{certificates}/{last}"), None, 409);
    let pkj = t.call(
        a,
        "POST",
        "/accounts",
        Some(
            json!({ "name": "signer", "credential_type": "private_key_jwt",
                     "public_key": public_key(), "key_id": "k1" }),
        ),
        201,
    );
    let keys = format!("/accounts/{}/keys", pkj["id"].as_str().expect("id"));
    let body = json!({ "public_key": public_key(), "key_id": "k2" });
    t.call(a, "POST", &keys, Some(body.clone()), 201);
    t.call(a, "POST", &keys, Some(body), 409);
    t.call(
        a,
        "POST",
        &keys,
        Some(json!({ "public_key": "nope", "key_id": "k3" })),
        400,
    );
    t.call(a, "DELETE", &format!("{keys}/k1"), None, 204);
    t.call(a, "DELETE", &format!("{keys}/k1"), None, 404);
    t.call(a, "DELETE", &format!("{keys}/k2"), None, 409);

    // Flows and grants.
    t.call(a, "GET", "/flows", None, 200);
    t.call(a, "GET", "/flows/orders", None, 200);
    t.call(a, "PUT", &format!("/flows/reports/access/{id}"), None, 200);
    t.call(a, "GET", "/flows/reports/access", None, 200);
    t.call(
        a,
        "DELETE",
        &format!("/flows/reports/access/{id}"),
        None,
        204,
    );
    t.call(a, "PUT", &format!("/flows/nowhere/access/{id}"), None, 404);

    // Roles.
    t.call(
        a,
        "POST",
        "/roles",
        Some(json!({ "name": "reader", "permissions": ["accounts:read"] })),
        201,
    );
    t.call(
        a,
        "POST",
        "/roles",
        Some(json!({ "name": "bad", "permissions": ["x"] })),
        400,
    );
    t.call(a, "GET", "/roles", None, 200);
    t.call(a, "GET", "/roles/auditor", None, 200);
    t.call(a, "DELETE", "/roles/admin", None, 409);
    t.call(a, "DELETE", "/roles/reader", None, 204);

    // Groups.
    t.call(a, "POST", "/groups", Some(json!({ "name": "ops" })), 201);
    t.call(a, "GET", "/groups", None, 200);
    t.call(a, "PUT", &format!("/groups/ops/members/{id}"), None, 200);
    t.call(a, "PUT", "/flows/reports/access/groups/ops", None, 200);
    t.call(a, "GET", "/groups/ops", None, 200);
    t.call(a, "DELETE", "/groups/ops", None, 409);
    t.call(a, "DELETE", "/flows/reports/access/groups/ops", None, 204);
    t.call(a, "DELETE", &format!("/groups/ops/members/{id}"), None, 204);
    t.call(a, "DELETE", "/groups/ops", None, 204);

    // A caller without the permission.
    let auditor = t.call(
        a,
        "POST",
        "/accounts",
        Some(json!({ "name": "aud", "credential_type": "api_key", "roles": ["auditor"] })),
        201,
    );
    let key = auditor["secret"].as_str().expect("secret").to_owned();
    let audit_key = [("X-API-Key", key.as_str())];
    t.call(
        &audit_key,
        "POST",
        "/accounts",
        Some(json!({ "name": "n", "credential_type": "api_key" })),
        403,
    );

    // Export and import, audit.
    let doc = t.call(a, "GET", "/export", None, 200);
    t.call(a, "POST", "/import?dry_run=true", Some(doc.clone()), 200);
    t.call(a, "POST", "/import", Some(doc), 200);
    t.call(
        a,
        "POST",
        "/import",
        Some(json!({ "format": "flowgate/v0" })),
        400,
    );
    t.call(a, "GET", "/audit?limit=5", None, 200);
    let trail = t.call(
        a,
        "GET",
        &format!("/audit?actor=bootstrap-admin&target=account%3A{id}"),
        None,
        200,
    );
    assert!(!trail["items"].as_array().expect("items").is_empty());

    // Who is calling: the bootstrap administrator may do everything, the
    // auditor only read.
    let me = t.call(a, "GET", "/me", None, 200);
    assert_eq!(me["actor"], "bootstrap-admin");
    assert_eq!(me["permissions"].as_array().map(Vec::len), Some(11));
    let me = t.call(&audit_key, "GET", "/me", None, 200);
    assert_eq!(me["roles"], json!(["auditor"]));
    assert_eq!(me["account"]["name"], "aud");
    assert!(
        me["permissions"]
            .as_array()
            .expect("permissions")
            .iter()
            .all(|p| p.as_str().is_some_and(|p| p.ends_with(":read")))
    );

    // Maintenance: the administrator may prune, the auditor may not.
    let pruned = t.call(a, "POST", "/maintenance/prune", None, 200);
    assert_eq!(
        pruned["deleted"],
        json!({ "jti": 0, "revoked": 0, "vtok": 0 })
    );
    t.call(&audit_key, "POST", "/maintenance/prune", None, 403);

    // Delete last.
    t.call(a, "DELETE", &format!("/accounts/{id}"), None, 409);
    t.call(
        a,
        "DELETE",
        &format!("/accounts/{id}?force=true"),
        None,
        204,
    );

    let mut documented = BTreeSet::new();
    for (path, item) in t.doc["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            if method != "parameters" {
                documented.insert((path.clone(), method.clone()));
            }
        }
    }
    let missed: Vec<_> = documented.difference(&t.seen).collect();
    assert!(
        missed.is_empty(),
        "documented but never exercised: {missed:?}"
    );
}
