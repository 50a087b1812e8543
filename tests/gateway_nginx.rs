//! flowgate behind a real nginx (Debian's, installed by
//! `scripts/install-test-tools`): `auth_request` to `/authorize`, the
//! identity headers passed on with `auth_request_set`, and `proxy_pass` to
//! a loopback upstream. Through nginx, a granted request reaches the
//! upstream with flowgate's identity; the others are refused with the right
//! status and never reach it.
//!
//! Without nginx this test fails and says how to get it, unless
//! `FLOWGATE_SKIP_NGINX=1` is set, which skips it loudly.

mod common;

use common::nginx::{self, Nginx};
use common::upstream::Upstream;
use common::{App, Options, Response, http, start};
use serde_json::json;

struct Setup {
    nginx: Nginx,
    upstream: Upstream,
    app: App,
    id: String,
    key: String,
}

/// Where nginx is; `None` when it is missing and the skip is asked for.
fn nginx_binary() -> Option<std::path::PathBuf> {
    let Some(binary) = nginx::binary() else {
        if std::env::var("FLOWGATE_SKIP_NGINX").as_deref() == Ok("1") {
            eprintln!(
                "\n\n*** SKIPPED: tests/gateway_nginx.rs did not run: nginx is not installed \
                 and FLOWGATE_SKIP_NGINX=1 ***\n\n"
            );
            return None;
        }
        panic!(
            "nginx is not installed, so flowgate cannot be tested behind a real gateway. \
             Run scripts/install-test-tools as root (it installs Debian's nginx-light), \
             or set FLOWGATE_SKIP_NGINX=1 to skip this test on purpose."
        );
    };
    Some(binary)
}

/// Starts flowgate, an upstream and nginx; `None` when nginx is missing and
/// the skip is asked for.
fn setup() -> Option<Setup> {
    setup_with(|conf| conf)
}

/// [`setup`] with the nginx configuration passed through `edit`.
fn setup_with(edit: impl FnOnce(String) -> String) -> Option<Setup> {
    let binary = nginx_binary()?;
    let upstream = Upstream::start();
    let app = start(Options::new());
    let (id, key) = app.create_account(
        json!({ "name": "behind-nginx", "credential_type": "api_key", "flows": ["orders"] }),
    );
    let nginx = Nginx::start_with(&binary, |dir, listen| {
        edit(nginx::config(dir, listen, app.port, upstream.port))
    })
    .unwrap_or_else(|e| panic!("nginx did not start: {e}"));
    Some(Setup {
        nginx,
        upstream,
        app,
        id,
        key,
    })
}

impl Setup {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        http::send(self.nginx.port, method, path, headers, body)
    }

    fn context(&self) -> String {
        format!(
            "nginx log:\n{}\nflowgate log:\n{}",
            self.nginx.logs(),
            self.app.logs()
        )
    }
}

#[test]
fn granted_requests_reach_the_upstream_with_flowgates_identity() {
    let Some(s) = setup() else { return };
    let r = s.send(
        "GET",
        "/flows/orders/42?page=2",
        &[("X-API-Key", &s.key)],
        b"",
    );
    assert_eq!(r.status, 200, "{}\n{}", r.text(), s.context());
    assert_eq!(r.text(), "upstream saw GET /flows/orders/42?page=2");
    let bearer = format!("Bearer {}", s.key);
    let r = s.send(
        "POST",
        "/flows/orders",
        &[("Authorization", &bearer)],
        br#"{"order":1}"#,
    );
    assert_eq!(r.status, 200, "{}\n{}", r.text(), s.context());

    let seen = s.upstream.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for request in &seen {
        assert_eq!(request.header("x-flowgate-account"), Some(s.id.as_str()));
        assert_eq!(request.header("x-flowgate-flow"), Some("orders"));
        assert_eq!(
            request.header("x-flowgate-account-name"),
            Some("behind-nginx")
        );
        assert!(request.header("x-api-key").is_none(), "{request:?}");
        assert!(request.header("authorization").is_none(), "{request:?}");
    }
    assert_eq!(seen[1].method, "POST");
    assert_eq!(
        seen[1].body, br#"{"order":1}"#,
        "the body goes to the upstream (and only there)"
    );
}

#[test]
fn no_credential_is_401_with_the_challenge_passed_back() {
    let Some(s) = setup() else { return };
    let r = s.send("GET", "/flows/orders/1", &[], b"");
    assert_eq!(r.status, 401, "{}\n{}", r.text(), s.context());
    // nginx's auth_request module copies WWW-Authenticate from a 401 of the
    // auth subrequest by itself; an extra add_header would send it twice.
    let challenges: Vec<&str> = r
        .headers
        .iter()
        .filter(|(n, _)| n == "www-authenticate")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(
        challenges,
        vec!["Bearer realm=\"flowgate\""],
        "{:?}",
        r.headers
    );
    let r = s.send(
        "GET",
        "/flows/orders/1",
        &[("Authorization", "Basic YmVoaW5kLW5naW54Om5vcGU=")],
        b"",
    );
    assert_eq!(r.status, 401);
    assert!(
        r.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Basic realm=\"flowgate\"")),
        "{:?}",
        r.headers
    );
    let r = s.send(
        "GET",
        "/flows/orders/1",
        &[("X-API-Key", "fgak_not_a_real_key")],
        b"",
    );
    assert_eq!(r.status, 401);
    assert!(
        s.upstream.seen().is_empty(),
        "a refused request reached the upstream"
    );
}

#[test]
fn not_granted_is_403() {
    let Some(s) = setup() else { return };
    let key = [("X-API-Key", s.key.as_str())];
    let other_flow = s.send("GET", "/flows/reports/1", &key, b"");
    assert_eq!(other_flow.status, 403, "{}", s.context());
    let wrong_method = s.send("DELETE", "/flows/orders/1", &key, b"");
    assert_eq!(wrong_method.status, 403);
    // The URI flowgate checks is the raw one the client sent, normalised by
    // flowgate itself: a climb into another flow or an encoded separator is
    // refused however nginx would have read it.
    let climb = s.send("GET", "/flows/orders/../reports/1", &key, b"");
    assert_eq!(climb.status, 403, "{}", s.context());
    let encoded = s.send("GET", "/flows/orders%2F..%2Freports/1", &key, b"");
    assert_eq!(encoded.status, 403, "{}", s.context());
    assert!(
        s.upstream.seen().is_empty(),
        "a refused request reached the upstream: {:?}",
        s.upstream.seen()
    );
}

#[test]
fn spoofed_identity_and_forwarded_headers_do_not_get_through() {
    let Some(s) = setup() else { return };
    // With a valid key: the upstream sees flowgate's identity, not the client's.
    let r = s.send(
        "GET",
        "/flows/orders/1",
        &[
            ("X-API-Key", &s.key),
            ("X-Flowgate-Account", "someone-else"),
            ("X-Flowgate-Flow", "reports"),
            ("X-Flowgate-Account-Name", "admin"),
            ("X-Flowgate-Assertion", "forged"),
        ],
        b"",
    );
    assert_eq!(r.status, 200, "{}", s.context());
    let seen = s.upstream.seen();
    let values = |name: &str| -> Vec<String> {
        seen[0]
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(values("x-flowgate-account"), vec![s.id.clone()]);
    assert_eq!(values("x-flowgate-flow"), vec!["orders".to_owned()]);
    assert_eq!(
        values("x-flowgate-account-name"),
        vec!["behind-nginx".to_owned()]
    );
    // Whatever flowgate sends (nothing, in forward-auth today), never the client's.
    assert!(
        !values("x-flowgate-assertion").contains(&"forged".to_owned()),
        "{:?}",
        seen[0].headers
    );

    // Without a key, a spoofed identity gets nowhere.
    let r = s.send(
        "GET",
        "/flows/orders/1",
        &[("X-Flowgate-Account", &s.id), ("X-Flowgate-Flow", "orders")],
        b"",
    );
    assert_eq!(r.status, 401);

    // A client cannot point the check at another URI.
    let r = s.send(
        "GET",
        "/flows/reports/1",
        &[
            ("X-API-Key", &s.key),
            ("X-Original-URI", "/flows/orders/1"),
            ("X-Forwarded-Uri", "/flows/orders/1"),
            ("X-Original-Method", "GET"),
        ],
        b"",
    );
    assert_eq!(r.status, 403, "{}", s.context());
    assert_eq!(
        s.upstream.seen().len(),
        1,
        "only the granted request got through"
    );
}

/// nginx's auth subrequest is always a GET: a config that forgets
/// `X-Original-Method` must not turn every method into an allowed GET.
#[test]
fn a_config_without_x_original_method_is_refused_not_guessed() {
    let Some(s) = setup_with(|conf| {
        let without = conf.replace("proxy_set_header X-Original-Method $request_method;", "");
        assert_ne!(without, conf, "the config no longer sets X-Original-Method");
        without
    }) else {
        return;
    };
    for method in ["GET", "DELETE"] {
        let r = s.send(method, "/flows/orders/1", &[("X-API-Key", &s.key)], b"");
        assert_eq!(r.status, 403, "{method}: {}", s.context());
    }
    assert!(s.upstream.seen().is_empty(), "{:?}", s.upstream.seen());
    assert!(
        s.app
            .logs()
            .contains("X-Original-URI without X-Original-Method"),
        "{}",
        s.context()
    );
}
