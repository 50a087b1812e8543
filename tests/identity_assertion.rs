//! Proxy mode's signed identity assertion (`X-Flowgate-Assertion`): the
//! upstream can verify it with nothing but the published JWKS, it names the
//! account and is addressed to the flow, and it is useless as an access token.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::upstream::Upstream;
use common::{Options, start};
use serde_json::{Value, json};

fn decode(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("json")
}

#[test]
fn upstream_receives_an_assertion_it_can_verify_with_the_jwks() {
    let orders = Upstream::start();
    let issuer = "https://flowgate.assert.test";
    let app = start(
        Options::new()
            .variable("orders_upstream", Some(&orders.origin()))
            .variable("issuer", Some(issuer)),
    );
    let (id, key) = app.create_account(
        json!({ "name": "asserted", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let r = app.send(
        "GET",
        "/flows/orders/7",
        &[("X-API-Key", &key), ("X-Flowgate-Assertion", "forged")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = orders.seen();
    let assertions = seen[0].values("x-flowgate-assertion");
    assert_eq!(
        assertions.len(),
        1,
        "exactly one assertion, the client's is gone"
    );
    let token = assertions[0];
    assert_ne!(token, "forged");

    let parts: Vec<&str> = token.split('.').collect();
    let header = decode(parts[0]);
    let claims = decode(parts[1]);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "fg-identity+jwt");
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["aud"], format!("{issuer}/flows/orders"));
    assert_eq!(claims["flow"], "orders");
    assert_eq!(claims["name"], "asserted");
    assert_eq!(
        claims["exp"].as_u64().expect("exp") - claims["iat"].as_u64().expect("iat"),
        60
    );

    // Verify the signature with the key the JWKS publishes under that kid.
    let jwks = app.send("GET", "/.well-known/jwks.json", &[], b"").json();
    let jwk = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == header["kid"]))
        .expect("the kid is published");
    let x = URL_SAFE_NO_PAD
        .decode(jwk["x"].as_str().expect("x"))
        .expect("b64");
    let public = ed25519_compact::PublicKey::from_slice(&x).expect("Ed25519 key");
    let signature =
        ed25519_compact::Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).expect("sig"))
            .expect("signature");
    let signed = format!("{}.{}", parts[0], parts[1]);
    public
        .verify(signed.as_bytes(), &signature)
        .expect("the assertion verifies with the JWKS");
    let mut tampered = signed.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(public.verify(&tampered, &signature).is_err());

    // Presented back to flowgate as a bearer token, it is refused.
    let bearer = format!("Bearer {token}");
    let r = app.forward_auth("GET", "/flows/orders/7", &[("Authorization", &bearer)]);
    assert_eq!(r.status, 401);
}
