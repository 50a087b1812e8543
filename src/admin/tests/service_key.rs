//! Generated credentials over the in-memory store (issue 17).

use super::*;
use crate::admin::service_key::ServiceUrls;
use crate::pki::{Algorithm, Ca, PkiError, generate_key_pair};

const NOW: u64 = 1_800_000_000;

fn env() -> Env {
    let env = Env::new();
    env.clock.0.set(NOW);
    env
}

fn ca_key() -> String {
    generate_key_pair(Algorithm::Es256, &CountingRandom(Cell::new(99)))
        .expect("key")
        .0
}

fn urls() -> ServiceUrls {
    ServiceUrls::from_issuer("https://auth.example/")
}

fn no_fetch(_: &str) -> Result<Vec<u8>, String> {
    Err("no outbound HTTP in unit tests".into())
}

#[test]
fn generated_mtls_account_stores_details_and_never_the_key() {
    let env = env();
    let key = ca_key();
    let ca = || Ca::from_variables(&key, "", "");
    let body = serde_json::json!({ "name": "sap", "credential_type": "mtls", "generate": true });
    let made = env
        .admin()
        .create_generated(body.to_string().as_bytes(), &no_fetch, &ca, &urls())
        .expect("generated");
    let sk = &made.service_key;
    assert_eq!(sk.tokenurl, "https://auth.example/oauth2/token");
    assert_eq!(made.account.certificates.len(), 1);
    let stored = &made.account.certificates[0];
    assert_eq!(sk.thumbprint.as_deref(), Some(stored.thumbprint.as_str()));
    assert_eq!(stored.not_after, NOW + 90 * 86_400);
    assert_eq!(made.issuance["serial"], stored.serial.as_str());
    let dump = env.dump_text();
    for line in sk.key.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!dump.contains(line), "private key text stored");
    }
    assert!(!dump.contains("PRIVATE KEY"));
    // Indexed by thumbprint like an uploaded certificate.
    assert_eq!(
        env.store
            .get(&crate::store::keys::certificate_key(&stored.thumbprint))
            .expect("get"),
        Some(made.account.id.clone().into_bytes())
    );
}

#[test]
fn generate_without_a_ca_is_409_and_writes_nothing() {
    let env = env();
    let ca = || Ca::from_variables("", "", "");
    let body = serde_json::json!({ "name": "sap", "credential_type": "mtls", "generate": true });
    let err = env
        .admin()
        .create_generated(body.to_string().as_bytes(), &no_fetch, &ca, &urls())
        .expect_err("no CA");
    assert_eq!(err.status(), 409);
    assert!(err.to_string().contains("ca_key"));
    assert!(env.store.records().is_empty(), "{}", env.dump_text());
    let broken = || Err(PkiError::BadKey);
    let err = env
        .admin()
        .create_generated(body.to_string().as_bytes(), &no_fetch, &broken, &urls())
        .expect_err("bad CA");
    assert_eq!(err.status(), 503);
    assert!(env.store.records().is_empty(), "{}", env.dump_text());
}

#[test]
fn generated_private_key_jwt_needs_no_ca_and_registers_the_public_key() {
    let env = env();
    let ca = || -> Result<Ca, PkiError> { panic!("a key pair needs no CA") };
    let body = serde_json::json!({ "name": "signer", "credential_type": "private_key_jwt",
                                   "generate": { "algorithm": "EdDSA" } });
    let made = env
        .admin()
        .create_generated(body.to_string().as_bytes(), &no_fetch, &ca, &urls())
        .expect("generated");
    assert_eq!(made.account.public_keys.len(), 1);
    assert_eq!(made.account.public_keys[0].alg, "EdDSA");
    assert_eq!(
        made.service_key.key_id.as_deref(),
        Some(made.account.public_keys[0].kid.as_str())
    );
    assert!(made.service_key.certificate.is_none());
    let days = serde_json::json!({ "name": "signer2", "credential_type": "private_key_jwt",
                                   "generate": { "validity_days": 5 } });
    let err = env
        .admin()
        .create_generated(days.to_string().as_bytes(), &no_fetch, &ca, &urls())
        .expect_err("days");
    assert_eq!(err.body()["field"], "generate.validity_days");
}
