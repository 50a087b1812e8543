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

use common::gateway::{self, Setup};
use common::nginx;

/// Where nginx is; `None` when it is missing and the skip is asked for.
fn nginx_binary() -> Option<std::path::PathBuf> {
    gateway::required(
        nginx::binary(),
        "tests/gateway_nginx.rs",
        "FLOWGATE_SKIP_NGINX",
        "Run scripts/install-test-tools as root (it installs Debian's nginx-light)",
    )
}

/// Starts flowgate, an upstream and nginx; `None` when nginx is missing and
/// the skip is asked for.
fn setup() -> Option<Setup> {
    setup_with(|conf| conf)
}

/// [`setup`] with the nginx configuration passed through `edit`.
fn setup_with(edit: impl FnOnce(String) -> String) -> Option<Setup> {
    let binary = nginx_binary()?;
    Some(Setup::start("behind-nginx", |flowgate, upstream| {
        nginx::start_with(&binary, |dir, listen| {
            edit(nginx::config(dir, listen, flowgate, upstream))
        })
    }))
}

#[test]
fn granted_requests_reach_the_upstream_with_flowgates_identity() {
    let Some(s) = setup() else { return };
    s.check_granted_requests_reach_the_upstream_with_flowgates_identity();
}

/// nginx's auth_request module copies WWW-Authenticate from a 401 of the
/// auth subrequest by itself; an extra add_header would send it twice.
#[test]
fn no_credential_is_401_with_the_challenge_passed_back() {
    let Some(s) = setup() else { return };
    s.check_no_credential_is_401_with_the_challenge_passed_back();
}

/// The URI flowgate checks is the raw `$request_uri`, normalised by flowgate
/// itself, not nginx's decoded and merged `$uri`.
#[test]
fn not_granted_is_403() {
    let Some(s) = setup() else { return };
    s.check_not_granted_is_403();
}

/// Issue #15: nginx accepts only 401 and 403 from the auth request;
/// flowgate answers 403 with X-Flowgate-Limited and the config maps it back.
#[test]
fn rate_limited_is_429_with_retry_after_through_nginx() {
    let Some(s) = setup() else { return };
    s.check_rate_limited_is_429_with_retry_after();
}

#[test]
fn spoofed_identity_and_forwarded_headers_do_not_get_through() {
    let Some(s) = setup() else { return };
    s.check_spoofed_identity_and_forwarded_headers_do_not_get_through();
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
