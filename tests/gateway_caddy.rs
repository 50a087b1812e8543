//! flowgate behind a real Caddy (Debian's 2.6, installed by
//! `scripts/install-test-tools`), running `examples/caddy/Caddyfile` itself:
//! `forward_auth` to `/authorize` with Caddy's `X-Forwarded-Method` and
//! `X-Forwarded-Uri` (the Traefik convention), the identity headers copied
//! onto the request with `copy_headers`, and `reverse_proxy` to a loopback
//! upstream. Through Caddy, a granted request reaches the upstream with
//! flowgate's identity; the others are refused with the right status and
//! never reach it.
//!
//! Without Caddy this test fails and says how to get it, unless
//! `FLOWGATE_SKIP_CADDY=1` is set, which skips it loudly.

mod common;

use common::caddy;
use common::gateway::{self, Setup};

/// Starts flowgate, an upstream and Caddy; `None` when Caddy is missing and
/// the skip is asked for.
fn setup() -> Option<Setup> {
    let binary = gateway::required(
        caddy::binary(),
        "tests/gateway_caddy.rs",
        "FLOWGATE_SKIP_CADDY",
        "Run scripts/install-test-tools as root (it installs Debian's caddy)",
    )?;
    let example = caddy::example();
    Some(Setup::start("behind-caddy", |flowgate, upstream| {
        caddy::start_with(&binary, |_, listen| {
            caddy::config(&example, listen, flowgate, upstream)
        })
    }))
}

/// No header the upstream saw carries an unexpanded Caddy placeholder
/// (Caddy 2.6 sends one for a `copy_headers` name the answer lacks).
fn assert_no_placeholders(s: &Setup) {
    for request in s.upstream.seen() {
        for (name, value) in &request.headers {
            assert!(
                !value.contains("{http."),
                "{name}: {value} reached the upstream"
            );
        }
    }
}

#[test]
fn granted_requests_reach_the_upstream_with_flowgates_identity() {
    let Some(s) = setup() else { return };
    s.check_granted_requests_reach_the_upstream_with_flowgates_identity();
    assert_no_placeholders(&s);
}

/// forward_auth hands a non-2xx answer back as it is, WWW-Authenticate
/// included.
#[test]
fn no_credential_is_401_with_the_challenge_passed_back() {
    let Some(s) = setup() else { return };
    s.check_no_credential_is_401_with_the_challenge_passed_back();
}

/// Caddy puts the URI as the client sent it in X-Forwarded-Uri.
#[test]
fn not_granted_is_403() {
    let Some(s) = setup() else { return };
    s.check_not_granted_is_403();
}

/// Issue #15: Caddy's forward_auth passes a non-2xx answer back as it is.
#[test]
fn rate_limited_is_429_with_retry_after_through_caddy() {
    let Some(s) = setup() else { return };
    s.check_rate_limited_is_429_with_retry_after();
}

#[test]
fn spoofed_identity_and_forwarded_headers_do_not_get_through() {
    let Some(s) = setup() else { return };
    s.check_spoofed_identity_and_forwarded_headers_do_not_get_through();
    // Headers flowgate did not send are not the client's either: the
    // Caddyfile drops every X-Flowgate-* of the request before asking.
    assert!(s.upstream_values(0, "x-flowgate-assertion").is_empty());
    assert_no_placeholders(&s);
    let r = s.send(
        "GET",
        "/flows/orders/1",
        &[
            ("X-API-Key", &s.key),
            ("X-Flowgate-Metadata", "{\"tier\":\"gold\"}"),
        ],
        b"",
    );
    assert_eq!(r.status, 200, "{}", s.context());
    assert!(s.upstream_values(1, "x-flowgate-metadata").is_empty());
}

#[test]
fn paths_outside_every_flow_are_refused_not_passed_through() {
    let Some(s) = setup() else { return };
    // The Caddyfile sends every request through flowgate: a path no flow
    // covers (flowgate's own admin API included) gets no further, where a
    // Caddy route that matched only /flows/* would answer an empty 200.
    let key = [("X-API-Key", s.key.as_str())];
    for path in ["/", "/admin/v1/accounts", "/other/thing"] {
        let r = s.send("GET", path, &key, b"");
        assert_eq!(r.status, 403, "{path}: {}", s.context());
    }
    assert!(s.upstream.seen().is_empty(), "{:?}", s.upstream.seen());
}
