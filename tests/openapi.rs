//! The OpenAPI document is kept true: every route it lists is called on the
//! running app, and each real response (status and body) is checked against
//! the document. Request bodies too (issue 18): every body the API accepts
//! must be valid under its documented schema, and bodies derived from it that
//! break the schema (a required field left out, an unknown or another
//! credential type's field added, a value of the wrong type, pattern, length
//! or bound) must be refused with `400` naming the field. The checker below understands exactly the JSON-Schema
//! keywords the document uses and refuses any other, so a schema it cannot
//! check fails the test instead of passing silently.

mod common;

use std::collections::BTreeSet;

use common::{App, Options, start};
use serde_json::{Value, json};

/// Annotation keywords: they describe, they do not constrain.
const ANNOTATIONS: &[&str] = &["description", "default", "title", "format", "example"];

/// Whether `value` is valid under `schema`.
fn valid(doc: &Value, schema: &Value, value: &Value) -> bool {
    check(doc, schema, value, "$").is_ok()
}

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
            "maxLength" | "minLength" => {
                if let (Some(s), Some(bound)) = (value.as_str(), rule.as_u64()) {
                    let n = s.chars().count() as u64;
                    if (keyword == "maxLength" && n > bound)
                        || (keyword == "minLength" && n < bound)
                    {
                        return Err(format!("{at}: length {n} breaks {keyword} {bound}"));
                    }
                }
            }
            "maxItems" | "minItems" | "maxProperties" | "minProperties" => {
                let n = match value {
                    Value::Array(a) if keyword.ends_with("Items") => Some(a.len()),
                    Value::Object(o) if keyword.ends_with("Properties") => Some(o.len()),
                    _ => None,
                };
                let bound = rule
                    .as_u64()
                    .ok_or_else(|| format!("{at}: bad {keyword}"))?;
                if let Some(n) = n.map(|n| n as u64)
                    && ((keyword.starts_with("max") && n > bound)
                        || (keyword.starts_with("min") && n < bound))
                {
                    return Err(format!("{at}: {n} breaks {keyword} {bound}"));
                }
            }
            "pattern" => {
                let pattern = rule.as_str().ok_or_else(|| format!("{at}: bad pattern"))?;
                let re = regex::Regex::new(pattern)
                    .map_err(|e| format!("{at}: pattern {pattern}: {e}"))?;
                if let Some(s) = value.as_str()
                    && !re.is_match(s)
                {
                    return Err(format!("{at}: {s:?} does not match {pattern}"));
                }
            }
            "propertyNames" => {
                if let Value::Object(map) = value {
                    for name in map.keys() {
                        check(
                            doc,
                            rule,
                            &Value::from(name.as_str()),
                            &format!("{at}.{name}"),
                        )?;
                    }
                }
            }
            "oneOf" | "anyOf" => {
                let branches = rule
                    .as_array()
                    .ok_or_else(|| format!("{at}: bad {keyword}"))?;
                let fitting = branches.iter().filter(|b| valid(doc, b, value)).count();
                if fitting == 0 || (keyword == "oneOf" && fitting > 1) {
                    return Err(format!(
                        "{at}: {value} fits {fitting} of the {keyword} branches"
                    ));
                }
            }
            "not" => {
                if valid(doc, rule, value) {
                    return Err(format!("{at}: {value} fits a `not`"));
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
    let pattern = json!({ "pattern": "^a$" });
    assert!(check(&doc, &pattern, &json!("a"), "$").is_ok());
    assert!(check(&doc, &pattern, &json!("b"), "$").is_err());
    let one = json!({ "oneOf": [{ "type": "integer" }, { "minimum": 0 }] });
    assert!(check(&doc, &one, &json!(-1), "$").is_ok());
    assert!(check(&doc, &one, &json!(1), "$").is_err(), "fits both");
    assert!(check(&doc, &json!({ "not": { "const": 1 } }), &json!(1), "$").is_err());
    assert!(check(&doc, &json!({ "uniqueItems": true }), &json!([]), "$").is_err());
}

/// `schema` with `$ref`s at its top resolved.
fn resolved<'d>(doc: &'d Value, schema: &'d Value) -> &'d Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolved(doc, doc.pointer(&r[1..]).unwrap_or(&Value::Null)),
        None => schema,
    }
}

/// The object schema (a `oneOf` branch, if there are several) that `body`
/// is valid under.
fn branch_of<'d>(doc: &'d Value, schema: &'d Value, body: &Value) -> &'d Value {
    let schema = resolved(doc, schema);
    match schema.get("oneOf").and_then(Value::as_array) {
        Some(branches) => branches
            .iter()
            .map(|b| resolved(doc, b))
            .find(|b| valid(doc, b, body))
            .unwrap_or_else(|| panic!("{body} fits no branch")),
        None => schema,
    }
}

/// Values that may break a property's schema: wrong types, empty and odd
/// strings, numbers off the bounds.
fn candidates() -> Vec<Value> {
    vec![
        json!(12345),
        json!("x"),
        json!(true),
        json!(null),
        json!([]),
        json!({}),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(99_999_999_999u64),
        json!(""),
        json!(" "),
        json!("Not An Identifier!"),
        json!("tab\tcontrol"),
        json!(["Not An Identifier!"]),
        json!([1]),
        json!("y".repeat(1100)),
    ]
}

/// Bodies derived from `base` (valid under `schema`) that break the schema,
/// each with the field a refusal should name.
fn broken_bodies(doc: &Value, schema: &Value, base: &Value) -> Vec<(String, Value)> {
    assert!(
        valid(doc, schema, base),
        "the base body {base} is not valid"
    );
    let branch = branch_of(doc, schema, base);
    let mut out = Vec::new();
    let keep = |out: &mut Vec<(String, Value)>, name: &str, body: Value| {
        if !valid(doc, schema, &body) {
            out.push((name.to_owned(), body));
        }
    };
    for name in branch["required"].as_array().into_iter().flatten() {
        let name = name.as_str().unwrap_or_default();
        let mut body = base.clone();
        body.as_object_mut().map(|m| m.remove(name));
        keep(&mut out, name, body);
    }
    let own = branch["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    // Unknown fields, and the fields of sibling branches (another
    // credential type's material).
    let mut foreign = vec!["unknown_field".to_owned()];
    for sibling in resolved(doc, schema)["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for name in resolved(doc, sibling)["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if !own.contains_key(name) && !foreign.contains(name) {
                foreign.push(name.clone());
            }
        }
    }
    for name in foreign {
        let mut body = base.clone();
        body[name.as_str()] = json!("abc");
        keep(&mut out, &name, body);
    }
    for (name, _) in own {
        for candidate in candidates() {
            let mut body = base.clone();
            body[name.as_str()] = candidate;
            keep(&mut out, &name, body);
        }
    }
    out
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
        let request_schema = &op["requestBody"]["content"]["application/json"]["schema"];
        if (200..300).contains(&r.status) && !request_schema.is_null() && !body.is_empty() {
            let sent: Value = serde_json::from_str(&body).expect("a JSON body");
            if let Err(e) = check(&self.doc, request_schema, &sent, "$") {
                panic!("{method} {template} accepted a body its schema refuses: {e}\n{sent:#}");
            }
        }
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

impl Checked<'_> {
    /// Sends every body [`broken_bodies`] derives from `base` (which the API
    /// accepted at `path`) and expects `400` naming the field; the state must
    /// not change.
    fn refuses_broken(&mut self, headers: &[(&str, &str)], method: &str, path: &str, base: &Value) {
        let template = self.template(path);
        let op = self.doc["paths"][&template][method.to_ascii_lowercase()].clone();
        let schema = &op["requestBody"]["content"]["application/json"]["schema"];
        assert!(!schema.is_null(), "{method} {template} documents no body");
        let before = self.app.admin("GET", "/admin/v1/export", None).text();
        let broken = broken_bodies(&self.doc, schema, base);
        assert!(
            broken.len() > 3,
            "{method} {template}: too few broken bodies"
        );
        for (name, body) in broken {
            let answer = self.call(headers, method, path, Some(body.clone()), 400);
            // A whole body of the wrong shape names no field; anything else
            // names the field it broke.
            let named = answer["field"].as_str().unwrap_or(&name);
            assert!(
                named.starts_with(&name),
                "{method} {template} {body}: {answer}"
            );
        }
        let after = self.app.admin("GET", "/admin/v1/export", None).text();
        assert_eq!(
            before, after,
            "{method} {template}: a refused body changed something"
        );
    }
}

/// A fresh self-signed client certificate (PEM), valid until 2099.
fn certificate() -> String {
    common::certs::certificate("client.flowgate.test").pem
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
    t.refuses_broken(
        a,
        "POST",
        "/accounts",
        &json!({ "name": "svc", "credential_type": "api_key", "flows": ["orders"] }),
    );
    // issue 18: an oidc body as the API takes it is valid, the old string
    // `claims_match` is not.
    let create = json!({ "$ref": "#/components/schemas/CreateAccount" });
    let oidc = json!({ "name": "o", "credential_type": "oidc", "issuer": "https://idp.example",
                       "audience": "flows", "claims_match": { "sub": ["svc-*", "ci"] } });
    assert!(valid(&t.doc, &create, &oidc));
    let mut as_string = oidc.clone();
    as_string["claims_match"] = json!("sub=svc-*");
    assert!(!valid(&t.doc, &create, &as_string));
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
    t.refuses_broken(
        a,
        "PATCH",
        &format!("/accounts/{id}"),
        &json!({ "description": "d", "roles": [], "groups": [] }),
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
    t.refuses_broken(
        a,
        "POST",
        &format!("/accounts/{id}/reset-credential"),
        &json!({ "grace_seconds": 60 }),
    );
    let token = t.call(
        a,
        "POST",
        &format!("/accounts/{id}/tokens"),
        Some(json!({ "name": "ci", "expires_in": 60 })),
        201,
    );
    t.refuses_broken(
        a,
        "POST",
        &format!("/accounts/{id}/tokens"),
        &json!({ "name": "ci", "expires_in": 60 }),
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
    // Usage figures of an account that records them, after one request.
    let recorded = t.call(
        a,
        "POST",
        "/accounts",
        Some(
            json!({ "name": "figures", "credential_type": "api_key", "flows": ["orders"],
                     "record_usage": true }),
        ),
        201,
    );
    let (recorded_id, recorded_key) = (
        recorded["id"].as_str().expect("id").to_owned(),
        recorded["secret"].as_str().expect("secret").to_owned(),
    );
    assert_eq!(app.at_orders(&[("X-API-Key", &recorded_key)]), 200);
    let figures = t.call(
        a,
        "GET",
        &format!("/accounts/{recorded_id}/usage"),
        None,
        200,
    );
    assert_eq!(figures["totals"]["allowed"], 1, "{figures}");
    t.call(
        a,
        "GET",
        &format!("/accounts/{recorded_id}/usage?from=x"),
        None,
        400,
    );
    t.call(a, "GET", "/accounts/aaaaaaaaaaaaaaaa/usage", None, 404);

    // Rotating an mtls certificate and a private_key_jwt key.
    let mtls_body =
        json!({ "name": "edge", "credential_type": "mtls", "certificate": certificate() });
    let mtls = t.call(a, "POST", "/accounts", Some(mtls_body.clone()), 201);
    t.refuses_broken(a, "POST", "/accounts", &mtls_body);
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
    t.refuses_broken(a, "POST", &certificates, &json!({ "certificate": second }));
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
    let pkj_body = json!({ "name": "signer", "credential_type": "private_key_jwt",
                           "public_key": public_key(), "key_id": "k1" });
    let pkj = t.call(a, "POST", "/accounts", Some(pkj_body.clone()), 201);
    t.refuses_broken(a, "POST", "/accounts", &pkj_body);
    let keys = format!("/accounts/{}/keys", pkj["id"].as_str().expect("id"));
    let body = json!({ "public_key": public_key(), "key_id": "k2" });
    t.call(a, "POST", &keys, Some(body.clone()), 201);
    t.refuses_broken(a, "POST", &keys, &body);
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
    t.refuses_broken(
        a,
        "POST",
        "/roles",
        &json!({ "name": "reader", "description": "r", "permissions": ["accounts:read"] }),
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
    t.refuses_broken(
        a,
        "POST",
        "/groups",
        &json!({ "name": "ops", "description": "o" }),
    );
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
    t.call(a, "POST", "/import", Some(doc.clone()), 200);
    t.refuses_broken(a, "POST", "/import", &doc);
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
        json!({ "jti": 0, "revoked": 0, "vtok": 0, "counters": 0 })
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

    // A documented path with an undocumented method: 405 and the methods
    // the document lists (issue 18, found by Schemathesis).
    for (method, path, allow) in [
        ("PUT", "/admin/v1/roles", "GET, POST"),
        ("TRACE", "/admin/v1/audit", "GET"),
        (
            "POST",
            &format!("/admin/v1/accounts/{id}/flows") as &str,
            "GET",
        ),
    ] {
        let r = app.send(method, path, &admin, b"");
        assert_eq!(
            (r.status, r.header("allow")),
            (405, Some(allow)),
            "{method} {path}"
        );
    }
    assert_eq!(
        app.send("GET", "/admin/v1/nothing", &admin, b"").status,
        404
    );

    // issue 17: this app has no CA, so the CA download is 404 and a
    // generated certificate 409; a generated private_key_jwt key needs no CA
    // and answers with the service key.
    t.call(&[], "GET", "/ca.pem", None, 404);
    let generated = json!({ "name": "gen-mtls", "credential_type": "mtls", "generate": true });
    t.call(a, "POST", "/accounts", Some(generated), 409);
    let generated = json!({ "name": "gen-pkj", "credential_type": "private_key_jwt",
                            "generate": { "algorithm": "EdDSA" } });
    let made = t.call(a, "POST", "/accounts", Some(generated), 201);
    assert!(made["service_key"]["key"].is_string());
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

/// The document describes exactly the core's route table (issue 12): the
/// table is what the component dispatches from and what permissions are
/// checked against, so a route missing from either side is a bug.
#[test]
fn issue12_document_lists_exactly_the_core_route_table() {
    let doc: Value = serde_json::from_str(include_str!("../components/management/openapi.json"))
        .expect("openapi.json is JSON");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in item.as_object().into_iter().flatten().map(|(m, _)| m) {
            if method != "parameters" {
                documented.insert((path.clone(), method.to_ascii_uppercase()));
            }
        }
    }
    let table: BTreeSet<(String, String)> = flowgate::admin::routes::ROUTES
        .iter()
        .map(|r| (r.path.to_owned(), r.method.to_owned()))
        .collect();
    assert_eq!(documented, table);
}
