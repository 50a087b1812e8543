//! Failing closed under load: concurrent requests with every credential type
//! that exists today, valid and invalid, while the test host fails 30 % of
//! key-value operations at random (`FLOWGATE_HOST_KV_FAULTS=fail:0.3`). A
//! wrong decision is an invalid credential answered `200`, or a valid one
//! answered anything but `200` or `503`. There must be none.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::skip::skip_on_real_spin;
use common::{App, Options, basic, start};
use flowgate::env::Random;
use flowgate::secret::{NewSecret, SecretKind, generate_id};
use serde_json::json;

/// Requests per worker thread; eight workers.
const ROUNDS: usize = 5;
const WORKERS: usize = 8;

/// Random bytes from the OS, for well-formed but wrong secrets.
struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        let hex = common::random_hex(buf.len());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or_default();
        }
    }
}

/// A secret with a valid prefix, checksum and tag (under `app`'s pepper)
/// that no account holds: it is refused after the store read, so under
/// faults it meets the store like a valid one.
fn well_formed(app: &App, kind: SecretKind, account_id: &str) -> String {
    let pepper = flowgate::hash::Pepper::from_variable(&app.pepper).expect("the app's pepper");
    NewSecret::generate(kind, account_id, &OsRandom, &pepper).into_string()
}

/// One kind of request: what it sends and whether its credential is valid.
#[derive(Clone)]
struct Probe {
    name: &'static str,
    valid: bool,
    /// `None`: forward-auth for `GET /flows/orders/1` with this header.
    header: Option<(&'static str, String)>,
    /// A token-endpoint form instead.
    form: Option<String>,
}

fn probe(name: &'static str, valid: bool, header: &'static str, value: String) -> Probe {
    Probe {
        name,
        valid,
        header: Some((header, value)),
        form: None,
    }
}

fn token_request(name: &'static str, valid: bool, id: &str, secret: &str) -> Probe {
    Probe {
        name,
        valid,
        header: None,
        form: Some(format!(
            "grant_type=client_credentials&client_id={id}&client_secret={secret}"
        )),
    }
}

fn send(app: &App, probe: &Probe) -> u16 {
    match (&probe.header, &probe.form) {
        (Some((name, value)), _) => app.at_orders(&[(*name, value.as_str())]),
        (None, Some(form)) => {
            app.send(
                "POST",
                "/oauth2/token",
                &[("Content-Type", "application/x-www-form-urlencoded")],
                form.as_bytes(),
            )
            .status
        }
        (None, None) => unreachable!("a probe sends something"),
    }
}

/// Creates one account of each type (and a disabled one, and a revoked API
/// token) on a healthy store, and returns the probes.
fn accounts(app: &App) -> Vec<Probe> {
    let (key_id, api_key) = app.create_account(
        json!({ "name": "ld-key", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let (basic_id, password) = app.create_account(
        json!({ "name": "ld-basic", "credential_type": "basic", "flows": ["orders"] }),
    );
    let (client_id, client_secret) = app.create_account(
        json!({ "name": "ld-client", "credential_type": "client_secret", "flows": ["orders"] }),
    );
    let (off_id, off_key) = app.create_account(
        json!({ "name": "ld-off", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let r = app.admin(
        "POST",
        &format!("/admin/v1/accounts/{off_id}/disable"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let new_token = |name: &str| {
        let r = app.admin(
            "POST",
            &format!("/admin/v1/accounts/{key_id}/tokens"),
            Some(json!({ "name": name })),
        );
        assert_eq!(r.status, 201, "{}", r.text());
        (
            r.json()["id"].as_str().expect("id").to_owned(),
            r.json()["token"].as_str().expect("token").to_owned(),
        )
    };
    let (_, api_token) = new_token("live");
    let (revoked_id, revoked_token) = new_token("gone");
    let r = app.admin(
        "DELETE",
        &format!("/admin/v1/accounts/{key_id}/tokens/{revoked_id}"),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text());
    let access = app.issue_token(&client_id, &client_secret);
    let mut tampered = access.clone();
    tampered.pop();
    tampered.push(if access.ends_with('A') { 'B' } else { 'A' });
    let stranger = generate_id(&OsRandom);

    vec![
        probe("api_key", true, "X-API-Key", api_key.clone()),
        probe(
            "api_key as bearer",
            true,
            "Authorization",
            format!("Bearer {api_key}"),
        ),
        probe(
            "api_key wrong secret",
            false,
            "X-API-Key",
            well_formed(app, SecretKind::ApiKey, &key_id),
        ),
        probe(
            "api_key unknown account",
            false,
            "X-API-Key",
            well_formed(app, SecretKind::ApiKey, &stranger),
        ),
        probe("api_key disabled account", false, "X-API-Key", off_key),
        probe("basic", true, "Authorization", basic("ld-basic", &password)),
        probe(
            "basic wrong password",
            false,
            "Authorization",
            basic(
                "ld-basic",
                &well_formed(app, SecretKind::BasicPassword, &basic_id),
            ),
        ),
        probe(
            "basic wrong user",
            false,
            "Authorization",
            basic("ld-key", &password),
        ),
        probe(
            "api token",
            true,
            "Authorization",
            format!("Bearer {api_token}"),
        ),
        probe(
            "api token revoked",
            false,
            "Authorization",
            format!("Bearer {revoked_token}"),
        ),
        probe(
            "api token wrong secret",
            false,
            "Authorization",
            format!("Bearer {}", well_formed(app, SecretKind::ApiToken, &key_id)),
        ),
        probe(
            "access token",
            true,
            "Authorization",
            format!("Bearer {access}"),
        ),
        probe(
            "access token tampered",
            false,
            "Authorization",
            format!("Bearer {tampered}"),
        ),
        token_request(
            "client secret at token endpoint",
            true,
            &client_id,
            &client_secret,
        ),
        token_request(
            "wrong client secret at token endpoint",
            false,
            &client_id,
            &well_formed(app, SecretKind::ClientSecret, &client_id),
        ),
    ]
}

#[test]
fn random_store_faults_under_concurrent_load_never_give_a_wrong_decision() {
    if skip_on_real_spin("store faults are injected by the test host only") {
        return;
    }
    let options = Options::new();
    let app = start(options.clone());
    let probes = accounts(&app);
    // Healthy store: every valid probe passes, every invalid one is refused,
    // so the counts below measure the faults and nothing else.
    for p in &probes {
        let status = send(&app, p);
        assert_eq!(
            status == 200,
            p.valid,
            "healthy store: {} gave {status}",
            p.name
        );
    }
    let state = app.stop();
    let mut faulty = options.env("FLOWGATE_HOST_KV_FAULTS", "fail:0.3");
    faulty.state_dir = Some(state);
    let app = Arc::new(start(faulty));

    let wrong = Arc::new(Mutex::new(Vec::<String>::new()));
    let ok = Arc::new(AtomicUsize::new(0));
    let unavailable = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let probes = Arc::new(probes);
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (app, probes, wrong) = (Arc::clone(&app), Arc::clone(&probes), Arc::clone(&wrong));
            let (ok, unavailable, refused) = (
                Arc::clone(&ok),
                Arc::clone(&unavailable),
                Arc::clone(&refused),
            );
            std::thread::spawn(move || {
                for round in 0..ROUNDS {
                    for i in 0..probes.len() {
                        // Each worker walks the probes from its own offset.
                        let p = &probes[(i + w * 3 + round) % probes.len()];
                        let status = send(&app, p);
                        let counter = match status {
                            200 => &ok,
                            503 => &unavailable,
                            _ => &refused,
                        };
                        counter.fetch_add(1, Ordering::Relaxed);
                        let right = if p.valid {
                            matches!(status, 200 | 503)
                        } else {
                            status != 200
                        };
                        if !right {
                            let mut wrong = wrong.lock().unwrap_or_else(|e| e.into_inner());
                            wrong.push(format!("{}: {status}", p.name));
                        }
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker thread");
    }
    let wrong = wrong.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let (ok, unavailable, refused) = (
        ok.load(Ordering::Relaxed),
        unavailable.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    eprintln!(
        "{} requests under fail:0.3: {ok} x 200, {unavailable} x 503, {refused} refused, {} wrong",
        WORKERS * ROUNDS * probes.len(),
        wrong.len()
    );
    assert!(wrong.is_empty(), "wrong decisions: {wrong:#?}");
    assert!(ok > 0, "no request was allowed: the faults hid everything");
    assert!(
        unavailable > 0,
        "no request saw a fault: were faults injected?"
    );
}
