//! Rotation of certificates and public keys over the in-memory store.

use jwt_simple::prelude::Ed25519KeyPair;

use super::*;
use crate::store::keys::certificate_key;

/// 2023-11-14: inside the validity of the test certificates.
const NOW: u64 = 1_700_000_000;

fn env() -> Env {
    let env = Env::new();
    env.clock.0.set(NOW);
    env
}

fn certificate(not_after_year: i32) -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let mut params = rcgen::CertificateParams::new(vec!["c.test".into()]).expect("params");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
    let cert = params.self_signed(&key).expect("cert");
    let thumbprint = crate::certificate::thumbprint(cert.der());
    (cert.pem(), thumbprint)
}

fn cert_body(pem: &str) -> Vec<u8> {
    serde_json::json!({ "certificate": pem })
        .to_string()
        .into_bytes()
}

fn mtls(env: &Env, pem: &str) -> String {
    let body = serde_json::json!({ "name": "m", "credential_type": "mtls", "certificate": pem });
    env.admin()
        .create_account(body.to_string().as_bytes())
        .expect("created")
        .account
        .id
}

fn thumbprints(env: &Env, id: &str) -> Vec<String> {
    let account = env.admin().account(id).expect("account");
    account
        .certificates
        .into_iter()
        .map(|c| c.thumbprint)
        .collect()
}

fn index(env: &Env, thumbprint: &str) -> Option<Vec<u8>> {
    env.store.get(&certificate_key(thumbprint)).expect("get")
}

#[test]
fn certificate_added_beside_the_old_one_then_the_old_one_removed() {
    let env = env();
    let (a, ta) = certificate(2099);
    let (b, tb) = certificate(2099);
    let id = mtls(&env, &a);
    let (view, added) = env
        .admin()
        .add_certificate(&id, &cert_body(&b))
        .expect("added");
    assert_eq!(added, tb);
    assert_eq!(view.certificates.len(), 2);
    assert_eq!(thumbprints(&env, &id), vec![ta.clone(), tb.clone()]);
    assert_eq!(index(&env, &tb).as_deref(), Some(id.as_bytes()));

    env.admin().remove_certificate(&id, &ta).expect("removed");
    assert_eq!(thumbprints(&env, &id), vec![tb.clone()]);
    assert_eq!(index(&env, &ta), None);
    let last = env.admin().remove_certificate(&id, &tb);
    assert_eq!(last.map_err(|e| e.status()), Err(409));
    assert_eq!(thumbprints(&env, &id), vec![tb]);
    let unknown = env.admin().remove_certificate(&id, &ta);
    assert_eq!(unknown.map_err(|e| e.status()), Err(404));
    let junk = env.admin().remove_certificate(&id, "../acct");
    assert_eq!(junk.map_err(|e| e.status()), Err(404));
}

#[test]
fn refused_certificates_change_nothing() {
    let env = env();
    let (a, _) = certificate(2099);
    let id = mtls(&env, &a);
    let other = mtls_named(&env, "other");
    let api = create_api_key(&env);
    let before = env.dump_text();
    let (expired, _) = certificate(2021);
    let err = env.admin().add_certificate(&id, &cert_body(&expired));
    assert_eq!(field_of(err.expect_err("expired")), "certificate");
    let dup = env.admin().add_certificate(&id, &cert_body(&a));
    assert_eq!(dup.map_err(|e| e.status()).err(), Some(409));
    let elsewhere = env.admin().add_certificate(&other, &cert_body(&a));
    assert_eq!(elsewhere.map_err(|e| e.status()).err(), Some(409));
    let key = env.admin().add_certificate(&id, br#"{"public_key":"x"}"#);
    assert_eq!(field_of(key.expect_err("unknown field")), "public_key");
    let (c, _) = certificate(2099);
    let wrong = env.admin().add_certificate(&api, &cert_body(&c));
    assert_eq!(field_of(wrong.expect_err("type")), "credential_type");
    assert_eq!(env.dump_text(), before, "refused adds write nothing");
}

fn mtls_named(env: &Env, name: &str) -> String {
    let (pem, _) = certificate(2099);
    let body = serde_json::json!({ "name": name, "credential_type": "mtls", "certificate": pem });
    env.admin()
        .create_account(body.to_string().as_bytes())
        .expect("created")
        .account
        .id
}

fn create_api_key(env: &Env) -> String {
    env.admin()
        .create_account(br#"{"name":"k","credential_type":"api_key"}"#)
        .expect("created")
        .account
        .id
}

#[test]
fn at_most_five_certificates() {
    let env = env();
    let (a, _) = certificate(2099);
    let id = mtls(&env, &a);
    for _ in 1..crate::admin::credentials::MAX_CERTIFICATES {
        let (pem, _) = certificate(2099);
        env.admin()
            .add_certificate(&id, &cert_body(&pem))
            .expect("added");
    }
    let (one_more, tp) = certificate(2099);
    let refused = env.admin().add_certificate(&id, &cert_body(&one_more));
    assert_eq!(refused.map_err(|e| e.status()).err(), Some(409));
    assert_eq!(index(&env, &tp), None, "a refused add writes no index");
}

#[test]
fn interrupted_writes_are_completed_by_repeating_the_call() {
    let env = env();
    let (a, ta) = certificate(2099);
    let (b, tb) = certificate(2099);
    let id = mtls(&env, &a);
    // An add that stopped after the index: the same add completes it.
    env.store
        .set(&certificate_key(&tb), id.as_bytes())
        .expect("set");
    env.admin()
        .add_certificate(&id, &cert_body(&b))
        .expect("completed");
    assert_eq!(thumbprints(&env, &id).len(), 2);
    // A removal that stopped after the record: the same removal finishes it.
    let mut record = env.admin().record(&id).expect("record");
    record.account.certificates.retain(|c| c.thumbprint != ta);
    env.admin().write(&record).expect("write");
    env.admin().remove_certificate(&id, &ta).expect("finished");
    assert_eq!(index(&env, &ta), None);
    // An index left by a deleted account does not block the certificate.
    env.store
        .set(&certificate_key(&ta), b"aaaaaaaaaaaaaaaa")
        .expect("set");
    env.admin()
        .add_certificate(&id, &cert_body(&a))
        .expect("re-added");
    assert_eq!(index(&env, &ta).as_deref(), Some(id.as_bytes()));
}

fn key_body(key: &Ed25519KeyPair, kid: &str) -> Vec<u8> {
    serde_json::json!({ "public_key": key.public_key().to_pem(), "key_id": kid })
        .to_string()
        .into_bytes()
}

#[test]
fn public_keys_rotate_by_key_id() {
    let env = env();
    let one = Ed25519KeyPair::generate();
    let body = serde_json::json!({
        "name": "p", "credential_type": "private_key_jwt",
        "public_key": one.public_key().to_pem(), "key_id": "k1",
    });
    let id = env
        .admin()
        .create_account(body.to_string().as_bytes())
        .expect("created")
        .account
        .id;
    let two = Ed25519KeyPair::generate();
    let (view, kid) = env
        .admin()
        .add_public_key(&id, &key_body(&two, "k2"))
        .expect("added");
    assert_eq!(kid, "k2");
    let kids: Vec<&str> = view.public_keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, ["k1", "k2"]);
    assert_eq!(view.public_keys[1].alg, "EdDSA");

    let before = env.dump_text();
    let status = |r: Result<(AccountView, String), AdminError>| r.map_err(|e| e.status()).err();
    let three = Ed25519KeyPair::generate();
    assert_eq!(
        status(env.admin().add_public_key(&id, &key_body(&three, "k2"))),
        Some(409)
    );
    assert_eq!(
        status(env.admin().add_public_key(&id, &key_body(&two, "k3"))),
        Some(409)
    );
    let bad = env
        .admin()
        .add_public_key(&id, br#"{"public_key":"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----","key_id":"k4"}"#);
    assert_eq!(field_of(bad.expect_err("malformed")), "public_key");
    let no_kid = env.admin().add_public_key(&id, br#"{"public_key":"x"}"#);
    assert_eq!(field_of(no_kid.expect_err("kid")), "key_id");
    assert_eq!(env.dump_text(), before, "refused adds write nothing");

    env.admin().remove_public_key(&id, "k1").expect("removed");
    let last = env.admin().remove_public_key(&id, "k2");
    assert_eq!(last.map_err(|e| e.status()), Err(409));
    let unknown = env.admin().remove_public_key(&id, "k1");
    assert_eq!(unknown.map_err(|e| e.status()), Err(404));
    let keys = env.admin().account(&id).expect("account").public_keys;
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].kid, "k2");

    let (pem, _) = certificate(2099);
    let wrong = env
        .admin()
        .add_public_key(&mtls(&env, &pem), &key_body(&three, "k"));
    assert_eq!(field_of(wrong.expect_err("type")), "credential_type");
}
