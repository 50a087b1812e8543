//! Criterion benchmarks of the core's hot functions, each with the full
//! verification path a request takes (no check is skipped to look faster):
//! API-key and Basic checks against a real account record, access-token
//! verification and the key derivation the authorizer does per request,
//! client assertions for every accepted algorithm, path normalisation, grant
//! evaluation and policy loading. Results and the machine they were measured
//! on are in `docs/benchmarks.md`.
//!
//! `cargo bench --bench core` (all), `cargo bench --bench core -- token/`
//! (one group). These are native figures: inside wasm the same code is
//! slower, by how much is in the doc.

use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, criterion_group, criterion_main};
use jwt_simple::claims::Audiences;
use jwt_simple::prelude::{
    ECDSAP256KeyPairLike as _, ES256KeyPair, Ed25519KeyPair, EdDSAKeyPairLike as _, JWTClaims,
    NoCustomClaims, RS256KeyPair, RSAKeyPairLike as _, UnixTimeStamp,
};

use flowgate::account::{Account, CredentialType, Status};
use flowgate::assertion::{self, parse_public_key};
use flowgate::credential::{Presented, extract};
use flowgate::decision::authenticate::authenticate;
use flowgate::decision::check_grant;
use flowgate::env::Random;
use flowgate::hash::{Domain, Pepper};
use flowgate::path::normalise;
use flowgate::policy::{flow_by_id, flow_for_path, parse_flow};
use flowgate::secret::{NewSecret, ParsedSecret, SecretKind, Untagged, generate_id};
use flowgate::token::{NewAccessToken, SigningKeys};
use flowgate_flows::FLOWS;

const NOW: u64 = 1_800_000_000;
const PEPPER: &str = "5f2b9c0e7a1d4e8f3b6a9c2d5e8f1a4b7c0d3e6f9a2b5c8d1e4f7a0b3c6d9e2f";
const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const SEED_PREVIOUS: &str = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
const ISSUER: &str = "http://127.0.0.1:3000";
const AUDIENCE: &str = "http://127.0.0.1:3000/flows";
const TOKEN_URL: &str = "http://127.0.0.1:3000/oauth2/token";

/// Deterministic bytes for generated ids and secrets: benchmarks need
/// repeatable inputs, not secrecy.
struct Counter(std::cell::Cell<u8>);

impl Random for Counter {
    fn fill(&self, buf: &mut [u8]) {
        for b in buf {
            let next = self.0.get().wrapping_add(1);
            self.0.set(next);
            *b = next.wrapping_mul(151);
        }
    }
}

/// An account record as management writes it: one primary secret, a few API
/// tokens (the authorizer compares every token digest), grants to both flows.
/// Built as JSON, so that fields added to `Account` later with a default do
/// not break the benchmark.
fn record(kind: CredentialType, secret: &str, pepper: &Pepper, id: &str) -> Vec<u8> {
    let random = Counter(std::cell::Cell::new(77));
    let digest = |text: &str| serde_json::to_value(pepper.digest(Domain::Credential, text));
    let tokens: Vec<serde_json::Value> = (0..3)
        .map(|i| {
            let token = NewSecret::generate(SecretKind::ApiToken, id, &random, pepper);
            serde_json::json!({
                "id": format!("tok{i}"), "name": format!("ci-{i}"),
                "digest": digest(token.expose()).expect("digest"),
                "created_at": NOW - 1000, "expires_at": NOW + 86_400,
            })
        })
        .collect();
    let account = serde_json::json!({
        "id": id, "name": "partner-a", "description": "a partner's order system",
        "credential_type": kind, "status": Status::Active,
        "roles": [], "groups": [], "grants": ["orders", "reports"],
        "secrets": [{ "digest": digest(secret).expect("digest"), "created_at": NOW - 1000 }],
        "tokens": tokens,
        "created_at": NOW - 1000, "updated_at": NOW - 1000,
    });
    let bytes = serde_json::to_vec(&account).expect("record serialises");
    // The record must be one the core reads.
    serde_json::from_slice::<Account>(&bytes).expect("a valid account record");
    bytes
}

fn credentials(c: &mut Criterion) {
    let pepper = Pepper::from_variable(PEPPER).expect("pepper");
    let random = Counter(std::cell::Cell::new(1));
    let id = generate_id(&random);
    let key = NewSecret::generate(SecretKind::ApiKey, &id, &random, &pepper).into_string();
    let key_record = record(CredentialType::ApiKey, &key, &pepper, &id);
    let password =
        NewSecret::generate(SecretKind::BasicPassword, &id, &random, &pepper).into_string();
    let basic_record = record(CredentialType::Basic, &password, &pepper, &id);
    let basic_header = format!("Basic {}", STANDARD.encode(format!("partner-a:{password}")));

    let mut g = c.benchmark_group("credential");
    g.bench_function("pepper_from_variable", |b| {
        b.iter(|| Pepper::from_variable(black_box(PEPPER)))
    });
    g.bench_function("api_key/authenticate", |b| {
        b.iter(|| {
            let secret = ParsedSecret::parse(black_box(&key)).expect("well-formed");
            secret.admit(&pepper, || Untagged::Refuse).expect("tagged");
            authenticate(Some(black_box(&key_record)), secret, None, &pepper, NOW)
                .expect("valid key")
        })
    });
    // What the authorizer does per API-key request, store read aside: find
    // the header, check the secret's shape and checksum, read the pepper
    // variable, parse the record, compare digests.
    g.bench_function("api_key/request", |b| {
        let headers = [("x-api-key", key.as_bytes())];
        b.iter(|| {
            let presented = extract(black_box(headers)).expect("one credential");
            let secret = presented.flow_secret().expect("an API key");
            let pepper = Pepper::from_variable(PEPPER).expect("pepper");
            authenticate(Some(black_box(&key_record)), secret, None, &pepper, NOW)
                .expect("valid key")
        })
    });
    g.bench_function("basic/request", |b| {
        let headers = [("authorization", basic_header.as_bytes())];
        b.iter(|| {
            let presented = extract(black_box(headers)).expect("one credential");
            let Presented::Basic(basic) = presented else {
                unreachable!("a Basic header")
            };
            let secret = basic.password().expect("a Basic password");
            let pepper = Pepper::from_variable(PEPPER).expect("pepper");
            authenticate(
                Some(black_box(&basic_record)),
                secret,
                Some(&basic.username),
                &pepper,
                NOW,
            )
            .expect("valid password")
        })
    });
    g.bench_function("record_parse", |b| {
        b.iter(|| serde_json::from_slice::<Account>(black_box(&key_record)).expect("record"))
    });
    g.finish();
}

fn issue(keys: &SigningKeys) -> String {
    keys.sign_access_token(&NewAccessToken {
        issuer: ISSUER,
        audience: AUDIENCE,
        subject: "abcdefghijklmnop",
        scope: "orders reports",
        id: "jti-0000000000000000000000000",
        now: NOW,
        lifetime: 300,
        cnf: None,
    })
    .expect("signed")
}

fn tokens(c: &mut Criterion) {
    let keys = SigningKeys::from_variables(SEED, "").expect("keys");
    let rotated = SigningKeys::from_variables(SEED, SEED_PREVIOUS).expect("keys");
    let token = issue(&keys);

    // The bound forms of the same keys (`flowgate signing-key --from-seed`).
    let bound = flowgate::token::key::bound_value_of("signing_key", SEED).expect("seed");
    let bound_previous =
        flowgate::token::key::bound_value_of("signing_key", SEED_PREVIOUS).expect("seed");

    let mut g = c.benchmark_group("token");
    // The authorizer builds SigningKeys from the variables on every bearer
    // request and every token request (fresh instance per request). The
    // plain seed derives its public key; the bound form checks its tag.
    g.bench_function("keys_from_variables/current", |b| {
        b.iter(|| SigningKeys::from_variables(black_box(SEED), ""))
    });
    g.bench_function("keys_from_variables/current+previous", |b| {
        b.iter(|| SigningKeys::from_variables(black_box(SEED), black_box(SEED_PREVIOUS)))
    });
    g.bench_function("keys_from_variables/bound", |b| {
        b.iter(|| SigningKeys::from_variables(black_box(&bound), ""))
    });
    g.bench_function("keys_from_variables/bound+bound_previous", |b| {
        b.iter(|| SigningKeys::from_variables(black_box(&bound), black_box(&bound_previous)))
    });
    // The derivation itself, one fixed-base scalar multiplication, in the
    // two Ed25519 implementations linked: ed25519-dalek (what flowgate
    // derives and signs with) and ed25519-compact (what jwt-simple verifies
    // with). Natively both are fast; inside wasm dalek is 6-13x faster
    // (docs/benchmarks.md), which this native figure does not show.
    g.bench_function("ed25519_public_from_seed/dalek", |b| {
        b.iter(|| ed25519_dalek::SigningKey::from_bytes(black_box(&[7u8; 32])).verifying_key())
    });
    g.bench_function("ed25519_public_from_seed/compact", |b| {
        b.iter(|| {
            ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new(black_box([7u8; 32])))
        })
    });
    g.bench_function("verify_access_token", |b| {
        b.iter(|| {
            keys.verify_access_token(black_box(&token), ISSUER, AUDIENCE, NOW + 10)
                .expect("valid")
        })
    });
    g.bench_function("verify_access_token/rotated_keys", |b| {
        b.iter(|| {
            rotated
                .verify_access_token(black_box(&token), ISSUER, AUDIENCE, NOW + 10)
                .expect("valid")
        })
    });
    // A bearer token's first use at a flow: derive, then verify in full.
    g.bench_function("bearer_request/first_use/derive+verify", |b| {
        b.iter(|| {
            let keys = SigningKeys::from_variables(black_box(SEED), "").expect("keys");
            keys.verify_access_token(black_box(&token), ISSUER, AUDIENCE, NOW + 10)
                .expect("valid")
        })
    });
    g.bench_function("sign_access_token", |b| b.iter(|| issue(black_box(&keys))));
    // What the token endpoint does per token beyond the client check.
    g.bench_function("token_endpoint/derive+sign", |b| {
        b.iter(|| {
            let keys = SigningKeys::from_variables(black_box(SEED), "").expect("keys");
            issue(&keys)
        })
    });
    g.bench_function("token_endpoint/bound+sign", |b| {
        b.iter(|| {
            let keys = SigningKeys::from_variables(black_box(&bound), "").expect("keys");
            issue(&keys)
        })
    });
    // Every later use: the record's key (HMAC of token, issuer and
    // audience, keyed by the current key's text), then the record's checks.
    let ring = flowgate::verified::Keyring {
        issuer: ISSUER,
        audience: AUDIENCE,
        current: SEED,
    };
    let verified = keys
        .verify_access_token(&token, ISSUER, AUDIENCE, NOW + 10)
        .expect("valid");
    let entry = flowgate::verified::Entry::verified(&verified).to_bytes();
    g.bench_function("bearer_request/recorded/key", |b| {
        b.iter(|| flowgate::verified::key(&ring, black_box(&token)))
    });
    g.bench_function("bearer_request/recorded/check", |b| {
        b.iter(|| flowgate::verified::Entry::check(black_box(&entry), NOW + 10).expect("valid"))
    });
    g.finish();
}

fn assertion_claims() -> JWTClaims<NoCustomClaims> {
    JWTClaims {
        issued_at: Some(UnixTimeStamp::from_secs(NOW)),
        expires_at: Some(UnixTimeStamp::from_secs(NOW + 60)),
        invalid_before: None,
        issuer: Some("abcdefghijklmnop".into()),
        subject: Some("abcdefghijklmnop".into()),
        audiences: Some(Audiences::AsString(TOKEN_URL.into())),
        jwt_id: Some("jti-1".into()),
        nonce: None,
        custom: NoCustomClaims {},
    }
}

fn assertions(c: &mut Criterion) {
    let ed = Ed25519KeyPair::generate().with_key_id("k1");
    let ed_key = parse_public_key(&ed.public_key().to_pem(), "k1", NOW).expect("EdDSA");
    let es = ES256KeyPair::generate().with_key_id("k1");
    let es_key =
        parse_public_key(&es.public_key().to_pem().expect("pem"), "k1", NOW).expect("ES256");
    let rs = RS256KeyPair::generate(2048).expect("rsa").with_key_id("k1");
    let rs_key =
        parse_public_key(&rs.public_key().to_pem().expect("pem"), "k1", NOW).expect("RS256");
    let cases = [
        ("EdDSA", ed.sign(assertion_claims()).expect("sign"), ed_key),
        ("ES256", es.sign(assertion_claims()).expect("sign"), es_key),
        (
            "RS256_2048",
            rs.sign(assertion_claims()).expect("sign"),
            rs_key,
        ),
    ];
    // External OIDC tokens at a flow go through the same verifier with the
    // issuer's cached JWKS keys (`oidc::verify`): RS256 and ES256 are what
    // identity providers sign with.
    let mut g = c.benchmark_group("oidc_token");
    for (alg, _, key) in &cases {
        let record = flowgate::oidc::IssuerRecord {
            issuer: "https://idp.example".into(),
            jwks_uri: "https://idp.example/jwks".into(),
            keys: vec![key.clone()],
            fetched_at: NOW,
            refetched_at: NOW,
        };
        let mut claims = assertion_claims();
        claims.issuer = Some(record.issuer.clone());
        claims.audiences = Some(Audiences::AsString("flowgate".into()));
        let token = match *alg {
            "EdDSA" => ed.sign(claims),
            "ES256" => es.sign(claims),
            _ => rs.sign(claims),
        }
        .expect("sign");
        g.bench_function(*alg, |b| {
            b.iter(|| flowgate::oidc::verify(black_box(&token), &record, NOW + 1).expect("valid"))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("client_assertion");
    for (alg, jwt, key) in &cases {
        g.bench_function(*alg, |b| {
            b.iter(|| {
                assertion::verify(
                    black_box(jwt),
                    std::slice::from_ref(key),
                    "abcdefghijklmnop",
                    &[TOKEN_URL, ISSUER],
                    NOW + 1,
                )
                .expect("valid")
            })
        });
    }
    g.finish();
}

fn paths_and_grants(c: &mut Criterion) {
    let mut g = c.benchmark_group("path");
    g.bench_function("normalise/plain", |b| {
        b.iter(|| normalise(black_box("/flows/orders/42/items")).expect("safe"))
    });
    g.bench_function("normalise/escapes_and_dots", |b| {
        b.iter(|| normalise(black_box("/flows/orders/./a%2Db/../42%7E/items")))
    });
    g.finish();

    let pepper = Pepper::from_variable(PEPPER).expect("pepper");
    let random = Counter(std::cell::Cell::new(3));
    let id = generate_id(&random);
    let key = NewSecret::generate(SecretKind::ApiKey, &id, &random, &pepper).into_string();
    let rec = record(CredentialType::ApiKey, &key, &pepper, &id);
    let secret = ParsedSecret::parse(&key).expect("well-formed");
    let principal = authenticate(Some(&rec), secret, None, &pepper, NOW).expect("valid");
    let path = normalise("/flows/orders/42").expect("safe");

    let mut g = c.benchmark_group("grant");
    g.bench_function("flow_for_path", |b| {
        b.iter(|| flow_for_path(FLOWS, black_box(&path)).expect("orders"))
    });
    // `check_grant` takes the principal (the permit carries it on); the
    // clone is made in the untimed set-up of each batch.
    g.bench_function("authorize", |b| {
        let flow = flow_for_path(FLOWS, &path).expect("orders");
        b.iter_batched(
            || principal.clone(),
            |p| check_grant(p, Some(flow), black_box("POST")).expect("granted"),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("flow_for_path+authorize", |b| {
        b.iter_batched(
            || principal.clone(),
            |p| {
                let flow = flow_for_path(FLOWS, black_box(&path));
                check_grant(p, flow, black_box("GET")).expect("granted")
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn policies(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("policies/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("policy file");
            (p.display().to_string(), text)
        })
        .collect();
    files.sort();
    let mut g = c.benchmark_group("policy");
    g.bench_function("parse_flow/all_files", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(name, text)| parse_flow(name, black_box(text)).expect("valid"))
                .collect::<Vec<_>>()
        })
    });
    // What the components do instead: the table compiled by flowgate-flows.
    g.bench_function("compiled_table/lookup", |b| {
        b.iter(|| flow_by_id(black_box(FLOWS), black_box("reports")).expect("reports"))
    });
    g.finish();
}

criterion_group!(
    benches,
    credentials,
    tokens,
    assertions,
    paths_and_grants,
    policies
);
criterion_main!(benches);
