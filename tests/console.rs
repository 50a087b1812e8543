//! The web console (issue 13): the `console` component's HTTP behaviour
//! (content types, caching, security headers on every answer), and the whole
//! console driven in Debian's Chromium by `tests/browser/console.test.mjs`
//! (playwright-core), which signs in, creates an account of each credential
//! type, reads the secrets from the page and uses them at `/authorize`,
//! downloads a generated service key once (issue 17), and goes through every
//! screen. `scripts/install-browser-tests` installs the
//! browser and the driver; `FLOWGATE_SKIP_BROWSER=1` skips the browser test,
//! loudly.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use common::servers::oidc_issuer;
use common::{App, Options, start};
use jwt_simple::prelude::*;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const PROXY_TOKEN: &str = "console-test-proxy-token-0123456789";
const ISSUER: &str = "https://flowgate.console.test";

fn assert_secured(r: &common::Response, what: &str) {
    assert_eq!(r.header("content-security-policy"), Some(CSP), "{what}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
}

#[test]
fn console_is_served_with_types_caching_and_security_headers() {
    let app = start(Options::new());
    let get = |path: &str, headers: &[(&str, &str)]| app.send("GET", path, headers, b"");

    let shell = get("/console/", &[]);
    assert_eq!(shell.status, 200);
    assert_eq!(
        shell.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(shell.header("cache-control"), Some("no-store"));
    assert!(shell.text().contains("/console/js/app.js"));
    assert_secured(&shell, "shell");

    let bare = get("/console", &[]);
    assert_eq!(bare.status, 308, "{}", bare.text());
    assert_eq!(bare.header("location"), Some("/console/"));
    assert_secured(&bare, "redirect");

    let js = get("/console/js/app.js", &[]);
    assert_eq!(js.status, 200);
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(js.header("cache-control"), Some("no-cache"));
    assert_secured(&js, "script");
    let etag = js.header("etag").expect("an ETag").to_owned();
    assert!(!etag.starts_with("W/"), "a strong ETag: {etag}");
    let again = get("/console/js/app.js", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_secured(&again, "304");
    assert_eq!(
        get("/console/js/app.js", &[("If-None-Match", "\"other\"")]).status,
        200
    );

    let css = get("/console/css/console.css", &[]);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));

    for path in [
        "/console/missing.js",
        "/console/js/../index.html",
        "/console/%2e%2e/spin.toml",
    ] {
        let r = get(path, &[]);
        assert_eq!(r.status, 404, "{path}");
        assert_secured(&r, path);
    }
    let post = app.send("POST", "/console/", &[], b"x");
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    assert_secured(&post, "405");

    // The console answers only under its own route; `/consoles` is the
    // authorizer's (no flow there: 404 from it, not a console page).
    let other = get("/consoles", &[]);
    assert_ne!(other.header("content-security-policy"), Some(CSP));
}

/// A self-signed client certificate valid until 2099: (PEM, base64 DER).
fn certificate() -> (String, String) {
    let c = common::certs::certificate("client.flowgate.test");
    (c.pem.clone(), c.der_base64())
}

fn browser_missing() -> Option<String> {
    let chromium =
        std::env::var("FLOWGATE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !PathBuf::from(&chromium).exists() {
        return Some(format!("{chromium} is missing"));
    }
    let driver = common::root().join("tests/browser/node_modules/playwright-core/package.json");
    if !driver.exists() {
        return Some("tests/browser/node_modules/playwright-core is missing".into());
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("node is missing".into());
    }
    None
}

#[test]
fn console_in_chromium_manages_every_credential_type_and_screen() {
    if common::skip::skip_requested(
        "FLOWGATE_SKIP_BROWSER",
        "the console was NOT tested in a browser",
    ) {
        return;
    }
    if let Some(why) = browser_missing() {
        panic!(
            "{why}: run scripts/install-browser-tests (root, apt-get, npm), \
             or set FLOWGATE_SKIP_BROWSER=1 to skip this test loudly"
        );
    }
    let idp_key = Ed25519KeyPair::generate().with_key_id("k1");
    let idp = oidc_issuer(&idp_key);
    let oidc_token = idp_key
        .sign(
            Claims::create(jwt_simple::prelude::Duration::from_secs(600))
                .with_issuer(idp.origin())
                .with_subject("console-ci")
                .with_audience("flowgate-console"),
        )
        .expect("sign");
    let app: App = start(
        Options::new()
            .variable("trusted_proxy_token", Some(PROXY_TOKEN))
            .variable("issuer", Some(ISSUER))
            // A CA, so the console can offer "generate" (docs/service-keys.md).
            .variable("ca_key", Some(&common::certs::ca_key()))
            .trust_issuer(&idp.origin()),
    );
    let artifacts = common::root()
        .join("target/console")
        .join(format!("run-{}", common::random_hex(4)));
    std::fs::create_dir_all(&artifacts).expect("artifacts dir");
    let mut command = Command::new("node");
    command
        .arg(common::root().join("tests/browser/console.test.mjs"))
        .current_dir(common::root().join("tests/browser"))
        .env("FLOWGATE_URL", format!("http://127.0.0.1:{}", app.port))
        .env("FLOWGATE_ADMIN_TOKEN", &app.admin_token)
        .env("FLOWGATE_PROXY_TOKEN", PROXY_TOKEN)
        .env("FLOWGATE_ISSUER", ISSUER)
        .env("FLOWGATE_OIDC_ISSUER", idp.origin())
        .env("FLOWGATE_OIDC_TOKEN", &oidc_token)
        .env("FLOWGATE_ARTIFACTS", &artifacts);
    for n in 1..=2 {
        let (pem, der) = certificate();
        let file = artifacts.join(format!("client-{n}.pem"));
        std::fs::write(&file, pem).expect("write certificate");
        command
            .env(format!("FLOWGATE_CERT{n}_PEM"), &file)
            .env(format!("FLOWGATE_CERT{n}_DER"), der);
    }
    // `FLOWGATE_UPDATE_SCREENSHOTS=1` refreshes the README's screenshots.
    if std::env::var("FLOWGATE_UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
        command.env("FLOWGATE_SCREENSHOTS", common::root().join("docs/console"));
    }
    let started = Instant::now();
    let mut child = command.spawn().expect("run node");
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break status;
        }
        if started.elapsed().as_secs() > 300 {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the browser test ran over 300 s; see {}",
                artifacts.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(
        status.success(),
        "the console's browser test failed ({status}); screenshot and browser log in {}\n\
         app log:\n{}",
        artifacts.display(),
        app.logs()
    );
}
