//! The JWT compact form through `SigningKeys::verify_access_token` with a
//! fixed key. First byte even: the input is a token as presented, and must
//! never verify (nobody else holds the key). Odd: the input is
//! `header \0 payload`, signed with the key, so the checks behind the
//! signature (header fields, claims, times) are reached too. Either way
//! the unverified expiry screen that runs first at flows (`oidc::Claimed`,
//! issue 16) must never refuse a token that verifies.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flowgate::token::SigningKeys;
use libfuzzer_sys::fuzz_target;

/// RFC 8037 appendix A.1's private key, as flowgate's `signing_key`.
const SEED: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const ISSUER: &str = "https://flowgate.fuzz";
const AUDIENCE: &str = "https://flowgate.fuzz/flows";
const NOW: u64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((mode, data)) = data.split_first() else {
        return;
    };
    let keys = SigningKeys::from_variables(SEED, "").expect("fixed key");
    if mode % 2 == 0 {
        let Ok(token) = std::str::from_utf8(data) else {
            return;
        };
        assert!(
            keys.verify_access_token(token, ISSUER, AUDIENCE, NOW)
                .is_err(),
            "an unsigned input verified: {token:?}"
        );
        return;
    }
    let (header, payload) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let seed: [u8; 32] = URL_SAFE_NO_PAD
        .decode(SEED)
        .expect("seed")
        .try_into()
        .expect("32 bytes");
    let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed));
    let signature = URL_SAFE_NO_PAD.encode(pair.sk.sign(input.as_bytes(), None).as_ref());
    let token = format!("{input}.{signature}");
    if let Ok(verified) = keys.verify_access_token(&token, ISSUER, AUDIENCE, NOW) {
        assert!(
            flowgate::oidc::Claimed::read(&token).is_none_or(|c| c.refuse_expired(NOW).is_ok()),
            "the expiry screen refused a token that verifies: {token:?}"
        );
        // Whatever verified has the shape of an access token.
        let header: serde_json::Value = serde_json::from_slice(header).expect("header is JSON");
        assert_eq!(header["alg"], "EdDSA");
        assert_eq!(header["typ"], "at+jwt");
        assert!(header.get("crit").is_none());
        assert_eq!(verified.client_id(), verified.subject());
        assert!(verified.expires_at() + 10 >= NOW);
        assert!(verified.issued_at() <= NOW + 10);
    }
});
