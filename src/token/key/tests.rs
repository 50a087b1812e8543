use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;

use super::*;

const VARIABLE: &str = "signing_key";

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digit"))
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A reproducible seed per `n` (SHA-512 of a counter: spread over the
/// whole range, including seeds whose clamped scalar exceeds L).
fn seed(n: u32) -> [u8; 32] {
    let hash = Sha512::digest(n.to_be_bytes());
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&hash[..32]);
    seed
}

/// The signer flowgate builds from a variable's text.
fn signer_of(text: &str) -> Signer {
    Signer::from_text(&KeyText::parse(VARIABLE, text).expect("valid key")).0
}

#[test]
fn signer_equals_ed25519_dalek_byte_for_byte_for_many_seeds_and_messages() {
    for n in 0..128u32 {
        let seed = seed(n);
        let dalek = ed25519_dalek::SigningKey::from_bytes(&seed);
        let plain = signer_of(&to_hex(&seed));
        let bound = signer_of(&bound_value(&seed));
        assert_eq!(plain.public, dalek.verifying_key().to_bytes(), "seed {n}");
        assert_eq!(bound.public, plain.public, "seed {n}");
        // Messages of many lengths, across SHA-512's block boundaries.
        for len in [
            0usize, 1, 2, 31, 32, 63, 64, 111, 112, 127, 128, 129, 300, 1000,
        ] {
            let message: Vec<u8> = (0..len).map(|i| (i as u8) ^ (n as u8)).collect();
            let expected = dalek.sign(&message).to_bytes();
            assert_eq!(
                plain.sign(&message),
                expected,
                "seed {n}, {len} bytes, plain"
            );
            assert_eq!(
                bound.sign(&message),
                expected,
                "seed {n}, {len} bytes, bound"
            );
            assert!(
                dalek
                    .verifying_key()
                    .verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&expected))
                    .is_ok()
            );
        }
    }
}

/// RFC 8032 section 7.1: secret key, public key, message, signature (TEST
/// 1, 2, 3 and SHA(abc); TEST 1024 is covered by the 1,000-byte messages
/// above, against ed25519-dalek).
const RFC8032: &[(&str, &str, &str, &str)] = &[
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
    (
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
    ),
];

#[test]
fn rfc8032_test_vectors_are_reproduced_by_both_forms() {
    for (secret, public, message, signature) in RFC8032 {
        let seed: [u8; 32] = hex(secret).try_into().expect("32 bytes");
        let bound = bound_value(&seed);
        assert_eq!(
            &bound[64..128],
            *public,
            "the bound form carries the RFC's key"
        );
        for text in [secret.to_string(), bound.to_string()] {
            let signer = signer_of(&text);
            assert_eq!(to_hex(&signer.public), *public);
            assert_eq!(to_hex(&signer.sign(&hex(message))), *signature);
        }
    }
}

#[test]
fn bound_value_is_seed_public_key_and_tag_in_hex_and_base64url_is_accepted() {
    let seed = seed(7);
    let bound = bound_value(&seed);
    assert_eq!(bound.len(), 2 * BOUND_LEN);
    let bytes = hex(&bound);
    assert_eq!(bytes[..32], seed);
    let dalek = ed25519_dalek::SigningKey::from_bytes(&seed);
    assert_eq!(bytes[32..64], dalek.verifying_key().to_bytes());
    assert_eq!(bytes[64..], tag(&seed, &dalek.verifying_key().to_bytes()));
    let b64 = URL_SAFE_NO_PAD.encode(&bytes);
    assert!(matches!(
        KeyText::parse(VARIABLE, &b64),
        Ok(KeyText::Bound { public, .. }) if public == dalek.verifying_key().to_bytes()
    ));
    // Surrounding white space is trimmed, as for every key variable.
    assert!(KeyText::parse(VARIABLE, &format!(" {}\n", &*bound)).is_ok());
}

#[test]
fn bound_value_of_upgrades_a_plain_seed_and_keeps_a_bound_value() {
    let seed = seed(9);
    let bound = bound_value(&seed);
    assert_eq!(
        *bound_value_of(VARIABLE, &to_hex(&seed)).expect("hex seed"),
        *bound
    );
    assert_eq!(
        *bound_value_of(VARIABLE, &URL_SAFE_NO_PAD.encode(seed)).expect("base64url seed"),
        *bound
    );
    assert_eq!(*bound_value_of(VARIABLE, &bound).expect("bound"), *bound);
    assert_eq!(
        bound_value_of(VARIABLE, "not a key").map(|_| ()),
        Err(KeyError::Malformed(VARIABLE))
    );
}

/// `seed || public || tag` as hex.
fn assemble(seed: &[u8; 32], public: &[u8; 32], tag: &[u8; 32]) -> String {
    to_hex(&[seed.as_slice(), public, tag].concat())
}

#[test]
fn a_bound_value_with_another_seeds_public_key_is_refused_naming_the_variable() {
    let (a, b) = (seed(1), seed(2));
    let public_a = Signer::derive(&a).public;
    let public_b = Signer::derive(&b).public;
    let cases = [
        // B's public key pasted over A's, A's tag left.
        ("tag left", assemble(&a, &public_b, &tag(&a, &public_a))),
        // B's whole bound value with A's seed: a valid-looking tag, made
        // under another seed.
        (
            "tag of another seed",
            assemble(&a, &public_b, &tag(&b, &public_b)),
        ),
        // A's own public key with one tag bit flipped.
        ("tag flipped", {
            let mut t = tag(&a, &public_a);
            t[31] ^= 1;
            assemble(&a, &public_a, &t)
        }),
        // A's tag with one bit of its public key flipped.
        ("public key flipped", {
            let mut p = public_a;
            p[0] ^= 1;
            assemble(&a, &p, &tag(&a, &public_a))
        }),
    ];
    for (case, text) in cases {
        let err = KeyText::parse(VARIABLE, &text).map(|_| ()).expect_err(case);
        assert_eq!(err, KeyError::Unbound(VARIABLE), "{case}");
        let message = err.to_string();
        assert!(message.contains("`signing_key`"), "{case}: {message}");
        assert!(!message.contains(&text[..16]), "{case}: the value leaked");
        assert!(
            bound_value_of(VARIABLE, &text).is_err(),
            "{case}: not upgraded either"
        );
    }
    // The untouched value is accepted.
    assert!(KeyText::parse(VARIABLE, &assemble(&a, &public_a, &tag(&a, &public_a))).is_ok());
}

#[test]
fn key_texts_of_other_lengths_are_malformed() {
    for len in [16usize, 31, 33, 64, 95, 97, 128] {
        let text = to_hex(&vec![7u8; len]);
        assert_eq!(
            KeyText::parse(VARIABLE, &text).map(|_| ()),
            Err(KeyError::Malformed(VARIABLE)),
            "{len} bytes"
        );
    }
}
