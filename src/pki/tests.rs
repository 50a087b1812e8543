use std::cell::Cell;

use p256::ecdsa::signature::Verifier as _;
use p256::pkcs8::DecodePublicKey as _;
use x509_cert::der::{Decode as _, DecodePem as _, Encode as _};

use super::*;
use crate::secret::tests::CountingRandom;

const NOW: u64 = 1_800_000_000;

fn random(seed: u8) -> CountingRandom {
    CountingRandom(Cell::new(seed))
}

fn ca(algorithm: Algorithm) -> Ca {
    let (key, _) = generate_key_pair(algorithm, &random(7)).expect("key");
    Ca::from_variables(&key, "", "").expect("ca")
}

fn request(days: Option<u64>, algorithm: Algorithm) -> IssueRequest<'static> {
    IssueRequest {
        account_name: "billing-bot",
        algorithm,
        days,
    }
}

#[test]
fn derived_ca_certificate_is_the_same_on_every_load() {
    for algorithm in [Algorithm::Es256, Algorithm::EdDsa] {
        let (key, _) = generate_key_pair(algorithm, &random(3)).expect("key");
        let one = Ca::from_variables(&key, "", "").expect("ca");
        let two = Ca::from_variables(&key, " ", "365").expect("ca");
        assert_eq!(
            one.certificate_pem().expect("pem"),
            two.certificate_pem().expect("pem")
        );
        let cert =
            Certificate::from_pem(one.certificate_pem().expect("pem").as_bytes()).expect("parses");
        assert_eq!(
            cert.tbs_certificate().subject().to_string(),
            cert.tbs_certificate().issuer().to_string()
        );
    }
}

#[test]
fn issued_certificate_is_signed_by_the_ca_and_names_the_account() {
    let ca = ca(Algorithm::Es256);
    let issued = ca
        .issue(&request(Some(30), Algorithm::Es256), &random(40), NOW)
        .expect("issued");
    let cert = Certificate::from_pem(issued.certificate_pem.as_bytes()).expect("cert");
    let ca_cert = Certificate::from_pem(ca.certificate_pem().expect("pem").as_bytes()).expect("ca");
    let tbs = cert.tbs_certificate();
    assert_eq!(tbs.issuer(), ca_cert.tbs_certificate().subject());
    assert_eq!(tbs.subject().to_string(), issued.details.subject);
    assert!(issued.details.subject.contains("CN=billing-bot"));
    assert_eq!(issued.details.not_after, NOW + 30 * 86_400);
    assert_eq!(issued.details.not_before, NOW - 300);
    // The CA's signature over the to-be-signed part verifies with its key.
    let ca_key = p256::ecdsa::VerifyingKey::from_public_key_der(
        &ca_cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .expect("spki"),
    )
    .expect("ca key");
    let signature =
        p256::ecdsa::DerSignature::from_bytes(cert.signature().as_bytes().expect("whole bytes"))
            .expect("der signature");
    ca_key
        .verify(&tbs.to_der().expect("tbs"), &signature)
        .expect("signature verifies");
    // The private key belongs to the certificate's public key.
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&issued.private_key_pem).expect("key");
    let spki = tbs.subject_public_key_info().to_der().expect("spki");
    assert_eq!(
        key.verifying_key()
            .to_public_key_der()
            .expect("der")
            .as_bytes(),
        spki.as_slice()
    );
    assert!(!format!("{issued:?}").contains("PRIVATE KEY"));
}

#[test]
fn ed25519_credential_from_an_ed25519_ca() {
    let ca = ca(Algorithm::EdDsa);
    let issued = ca
        .issue(&request(None, Algorithm::EdDsa), &random(90), NOW)
        .expect("issued");
    assert_eq!(issued.details.not_after, NOW + DEFAULT_DAYS * 86_400);
    ed25519_dalek::SigningKey::from_pkcs8_pem(&issued.private_key_pem).expect("ed25519 key");
    // PKCS#8 v1 (48 bytes), which OpenSSL 3 and jwt-simple read too.
    let der = x509_cert::der::pem::decode_vec(issued.private_key_pem.as_bytes())
        .expect("pem")
        .1;
    assert_eq!(der.len(), 48);
    jwt_simple::prelude::Ed25519KeyPair::from_pem(&issued.private_key_pem).expect("jwt-simple");
    let cert = Certificate::from_pem(issued.certificate_pem.as_bytes()).expect("cert");
    assert!(Certificate::from_der(&cert.to_der().expect("der")).is_ok());
}

#[test]
fn two_issues_differ_in_key_and_serial() {
    let ca = ca(Algorithm::Es256);
    let r = random(1);
    let a = ca
        .issue(&request(None, Algorithm::Es256), &r, NOW)
        .expect("a");
    let b = ca
        .issue(&request(None, Algorithm::Es256), &r, NOW)
        .expect("b");
    assert_ne!(a.details.serial, b.details.serial);
    assert_ne!(a.details.thumbprint, b.details.thumbprint);
    assert_ne!(a.private_key_pem, b.private_key_pem);
}

#[test]
fn validity_beyond_the_configured_maximum_is_refused() {
    let (key, _) = generate_key_pair(Algorithm::Es256, &random(5)).expect("key");
    let ca = Ca::from_variables(&key, "", "30").expect("ca");
    assert_eq!(ca.max_days(), 30);
    for days in [0, 31] {
        assert_eq!(
            ca.issue(&request(Some(days), Algorithm::Es256), &random(2), NOW)
                .map(|i| i.details.serial),
            Err(PkiError::Validity(30))
        );
    }
    // The default is capped by the maximum.
    let issued = ca
        .issue(&request(None, Algorithm::Es256), &random(2), NOW)
        .expect("default");
    assert_eq!(issued.details.not_after, NOW + 30 * 86_400);
}

#[test]
fn bad_ca_variables_are_refused_naming_the_variable() {
    assert_eq!(
        Ca::from_variables("", "", "").map(|_| ()),
        Err(PkiError::NotConfigured)
    );
    assert_eq!(
        Ca::from_variables("not a key", "", "").map(|_| ()),
        Err(PkiError::BadKey)
    );
    let (key, _) = generate_key_pair(Algorithm::Es256, &random(5)).expect("key");
    assert_eq!(
        Ca::from_variables(&key, "", "0").map(|_| ()),
        Err(PkiError::BadMaximum)
    );
    // A certificate of another key does not go with this key.
    let other = ca(Algorithm::Es256).certificate_pem().expect("pem");
    let (key2, _) = generate_key_pair(Algorithm::Es256, &random(77)).expect("key");
    assert!(matches!(
        Ca::from_variables(&key2, &other, ""),
        Err(PkiError::BadCertificate(_))
    ));
    // The key as base64 DER works as well as PEM.
    let der = x509_cert::der::pem::decode_vec(key.as_bytes())
        .expect("pem")
        .1;
    let b64 = STANDARD.encode(der);
    assert_eq!(
        Ca::from_variables(&b64, "", "")
            .expect("base64")
            .certificate_pem(),
        Ca::from_variables(&key, "", "")
            .expect("pem")
            .certificate_pem()
    );
    assert!(PkiError::NotConfigured.to_string().contains("ca_key"));
}
