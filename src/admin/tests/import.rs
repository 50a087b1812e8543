//! Import of `mtls` accounts (the certificate index) and of grants that must
//! stay inside an account's scope.

use serde_json::Value;

use super::*;
use crate::store::keys::certificate_key;

/// An exported `mtls` account `id` named `name` holding certificates with
/// the thumbprints `prints` (each 43 characters of base64url).
fn mtls_document(accounts: &[(&str, &str, &[&str])]) -> Vec<u8> {
    let accounts: Vec<Value> = accounts
        .iter()
        .map(|(id, name, prints)| {
            let certificates: Vec<Value> = prints
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "thumbprint": t, "subject": "CN=client", "issuer": "CN=client",
                        "serial": "01", "not_before": 0, "not_after": 4_000_000_000_u64,
                        "added_at": 900,
                    })
                })
                .collect();
            serde_json::json!({
                "id": id, "name": name, "credential_type": "mtls", "status": "active",
                "scope": {"level": "platform"}, "grants": ["orders"],
                "certificates": certificates, "created_at": 900,
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "format": "flowgate/v1", "accounts": accounts }))
        .expect("document")
}

/// Imports the `mtls` accounts of [`mtls_document`], which must succeed.
fn apply(env: &Env, accounts: &[(&str, &str, &[&str])]) {
    env.admin()
        .import(&mtls_document(accounts), false)
        .expect("import");
}

const ID_A: &str = "aaaaaaaaaaaaaaaa";
const ID_B: &str = "bbbbbbbbbbbbbbbb";

fn print(c: char) -> String {
    c.to_string().repeat(43)
}

fn index(env: &Env, thumbprint: &str) -> Option<String> {
    env.store
        .get(&certificate_key(thumbprint))
        .expect("store")
        .map(|v| String::from_utf8_lossy(&v).into_owned())
}

#[test]
fn import_indexes_every_certificate_of_an_mtls_account_and_a_dry_run_none() {
    let env = Env::new();
    let (p, q) = (print('p'), print('q'));
    let doc = mtls_document(&[(ID_A, "gateway", &[&p, &q])]);
    env.admin().import(&doc, true).expect("dry run");
    assert_eq!(index(&env, &p), None, "a dry run wrote the index");
    env.admin().import(&doc, false).expect("import");
    assert_eq!(index(&env, &p).as_deref(), Some(ID_A));
    assert_eq!(index(&env, &q).as_deref(), Some(ID_A));
    // An index lost meanwhile (say, imported before the index was written)
    // comes back with the same document, which is otherwise unchanged.
    env.store.delete(&certificate_key(&q)).expect("delete");
    let plan = env.admin().import(&doc, false).expect("again");
    assert!(plan.changes.is_empty(), "{plan:?}");
    assert_eq!(index(&env, &q).as_deref(), Some(ID_A));
}

#[test]
fn import_removes_the_index_of_a_certificate_it_drops() {
    let env = Env::new();
    let (p, q) = (print('p'), print('q'));
    apply(&env, &[(ID_A, "gateway", &[&p, &q])]);
    apply(&env, &[(ID_A, "gateway", &[&q])]);
    assert_eq!(index(&env, &p), None);
    assert_eq!(index(&env, &q).as_deref(), Some(ID_A));
}

#[test]
fn import_refuses_a_certificate_of_another_account_and_writes_nothing() {
    let env = Env::new();
    let p = print('p');
    apply(&env, &[(ID_A, "gateway", &[&p])]);
    let before = env.dump_text();
    let doc = mtls_document(&[(ID_B, "intruder", &[&p])]);
    for dry_run in [true, false] {
        let err = env.admin().import(&doc, dry_run).expect_err("refused");
        assert_eq!(err.status(), 409, "{err:?}");
    }
    assert_eq!(env.dump_text(), before);
    // Twice in one document is as much a conflict.
    let twice = mtls_document(&[(ID_A, "gateway", &[&p]), (ID_B, "other", &[&p])]);
    let err = env.admin().import(&twice, false).expect_err("refused");
    assert_eq!(err.status(), 409, "{err:?}");
    assert_eq!(env.dump_text(), before);
}

#[test]
fn import_moves_a_certificate_between_accounts_it_names() {
    let env = Env::new();
    let (p, q) = (print('p'), print('q'));
    apply(&env, &[(ID_A, "gateway", &[&p, &q])]);
    apply(&env, &[(ID_A, "gateway", &[&q]), (ID_B, "other", &[&p])]);
    assert_eq!(index(&env, &p).as_deref(), Some(ID_B));
    assert_eq!(index(&env, &q).as_deref(), Some(ID_A));
}

#[test]
fn import_refuses_bad_certificates_naming_the_field() {
    let env = Env::new();
    let p = print('p');
    let cases: [(Vec<u8>, &str); 3] = [
        (
            mtls_document(&[(ID_A, "gateway", &["not/a/thumbprint"])]),
            "accounts[0].certificates",
        ),
        (
            mtls_document(&[(ID_A, "gateway", &[])]),
            "accounts[0].certificates",
        ),
        (
            mtls_document(&[(ID_A, "gateway", &[&p, &p])]),
            "accounts[0].certificates",
        ),
    ];
    for (doc, blamed) in cases {
        let err = env.admin().import(&doc, false).expect_err("refused");
        assert_eq!(field_of(err), blamed);
    }
    let mut doc: Value =
        serde_json::from_slice(&mtls_document(&[(ID_A, "gateway", &[&p])])).expect("json");
    doc["accounts"][0]["credential_type"] = "api_key".into();
    let err = env
        .admin()
        .import(doc.to_string().as_bytes(), false)
        .expect_err("certificates on an api_key account");
    assert_eq!(field_of(err), "accounts[0].certificates");
    assert!(env.store.records().is_empty(), "{}", env.dump_text());
}

#[test]
fn import_keeps_granted_flows_inside_the_account_scope() {
    let env = Env::new();
    let p = print('p');
    // `orders` lies in project `shop`.
    let mut doc: Value =
        serde_json::from_slice(&mtls_document(&[(ID_A, "gateway", &[&p])])).expect("json");
    doc["accounts"][0]["scope"] = serde_json::json!({"level": "project", "project": "other"});
    let err = env
        .admin()
        .import(doc.to_string().as_bytes(), false)
        .expect_err("outside");
    assert_eq!(field_of(err), "accounts[0].grants");
    doc["accounts"][0]["scope"] = serde_json::json!({"level": "project"});
    let err = env
        .admin()
        .import(doc.to_string().as_bytes(), false)
        .expect_err("no project");
    assert_eq!(field_of(err), "accounts[0].scope");
    doc["accounts"][0]["scope"] = serde_json::json!({"level": "project", "project": "shop"});
    env.admin()
        .import(doc.to_string().as_bytes(), false)
        .expect("inside");

    // A group the document changes must stay inside the scope of its stored
    // members, also of those the document does not name.
    let admin = env.admin();
    admin.create_group(br#"{"name":"ops"}"#).expect("group");
    admin
        .create_account(br#"{"name":"narrow","credential_type":"api_key","groups":["ops"],"scope":{"level":"project","project":"other"}}"#)
        .expect("member");
    let before = env.dump_text();
    let grants_orders =
        br#"{"format":"flowgate/v1","groups":[{"name":"ops","grants":["orders"]}]}"#;
    let err = admin
        .import(grants_orders, false)
        .expect_err("member outside");
    assert_eq!(field_of(err), "groups[0].grants");
    assert_eq!(env.dump_text(), before);
}
