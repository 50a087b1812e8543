//! Times Ed25519 key derivation, signing and verification inside wasm with
//! ed25519-compact (behind jwt-simple) and ed25519-dalek (flowgate's signer).
//! Each request runs every operation `ROUNDS` times and answers the mean
//! per operation in microseconds.

use std::time::Instant;

use ed25519_dalek::Signer as _;
use spin_sdk::http::{IntoResponse, Request, Response};

const ROUNDS: u32 = 200;

/// A payload of about an access token's size.
const MESSAGE: [u8; 300] = [7; 300];

fn seed(i: u32) -> [u8; 32] {
    let mut seed = [1u8; 32];
    seed[..4].copy_from_slice(&i.to_le_bytes());
    seed
}

/// Mean microseconds of `op` over `ROUNDS` calls; `sink` keeps the work.
fn mean(sink: &mut u8, mut op: impl FnMut(u32) -> u8) -> f64 {
    let start = Instant::now();
    for i in 0..ROUNDS {
        *sink ^= op(i);
    }
    start.elapsed().as_secs_f64() * 1e6 / f64::from(ROUNDS)
}

#[spin_sdk::http_component]
fn handle(_request: Request) -> impl IntoResponse {
    let mut sink = 0u8;
    let compact_derive = mean(&mut sink, |i| {
        ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed(i))).pk[0]
    });
    let compact_sign = mean(&mut sink, |i| {
        let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed(i)));
        pair.sk.sign(MESSAGE, None)[0]
    });
    let dalek_derive = mean(&mut sink, |i| {
        ed25519_dalek::SigningKey::from_bytes(&seed(i))
            .verifying_key()
            .as_bytes()[0]
    });
    let dalek_sign = mean(&mut sink, |i| {
        ed25519_dalek::SigningKey::from_bytes(&seed(i))
            .sign(&MESSAGE)
            .to_bytes()[0]
    });
    let pair = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(seed(9)));
    let signature = pair.sk.sign(MESSAGE, None);
    let compact_verify = mean(&mut sink, |_| {
        u8::from(pair.pk.verify(MESSAGE, &signature).is_ok())
    });
    let public = ed25519_dalek::SigningKey::from_bytes(&seed(9)).verifying_key();
    let dalek_signature = ed25519_dalek::Signature::from_bytes(
        &<[u8; 64]>::try_from(signature.as_ref()).unwrap_or([0; 64]),
    );
    let dalek_verify = mean(&mut sink, |_| {
        u8::from(public.verify_strict(&MESSAGE, &dalek_signature).is_ok())
    });
    let body = format!(
        "operation\tcompact_us\tdalek_us\n\
         derive\t{compact_derive:.1}\t{dalek_derive:.1}\n\
         derive+sign\t{compact_sign:.1}\t{dalek_sign:.1}\n\
         verify\t{compact_verify:.1}\t{dalek_verify:.1}\n\
         sink\t{sink}\n"
    );
    Response::new(200, body)
}
