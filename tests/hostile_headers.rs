//! Requests shaped to confuse: duplicate or oversized credentials, control
//! bytes, spoofed identity and `spin-*` headers. Each is refused, never guessed.

mod common;

use common::upstream::Upstream;
use common::{App, Options, start};
use serde_json::json;

fn app_and_key() -> (App, Upstream, String) {
    let orders = Upstream::start();
    let app = start(Options::new().variable("orders_upstream", Some(&orders.origin())));
    let (_, key) = app
        .create_account(json!({ "name": "h", "credential_type": "api_key", "flows": ["orders"] }));
    (app, orders, key)
}

#[test]
fn duplicate_credential_headers_in_any_case_are_refused() {
    let (app, orders, key) = app_and_key();
    let bearer = format!("Bearer {key}");
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("X-API-Key", &key), ("x-api-key", &key)],
        vec![("Authorization", &bearer), ("AUTHORIZATION", &bearer)],
        vec![("X-API-Key", &key), ("Authorization", &bearer)],
        vec![("X-API-Key", &key), ("X-Api-Key", "fgak_other")],
    ];
    for headers in cases {
        let r = app.send("GET", "/flows/orders/1", &headers, b"");
        assert_eq!(r.status, 401, "{headers:?}");
    }
    assert!(orders.seen().is_empty());
}

#[test]
fn oversized_and_control_byte_credentials_are_refused() {
    let (app, _orders, key) = app_and_key();
    let huge = "a".repeat(9000);
    assert_eq!(
        app.send("GET", "/flows/orders/1", &[("X-API-Key", &huge)], b"")
            .status,
        401
    );
    let huge_bearer = format!("Bearer {}", "a".repeat(9000));
    assert_eq!(
        app.send(
            "GET",
            "/flows/orders/1",
            &[("Authorization", &huge_bearer)],
            b""
        )
        .status,
        401
    );
    // A NUL or a lone CR inside a header value: the server or flowgate refuses.
    for bad in [format!("{key}\0"), format!("{key}\rX: y")] {
        let request = format!(
            "GET /flows/orders/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-API-Key: {bad}\r\n\r\n"
        );
        let r = app.raw(request.as_bytes());
        assert!(
            r.status == 400 || r.status == 401,
            "{} for {bad:?}",
            r.status
        );
    }
}

#[test]
fn spoofed_spin_headers_do_not_change_the_decision() {
    let (app, orders, key) = app_and_key();
    // A client claims another path and address; flowgate decides on the
    // request line it received, and the upstream sees no client spin-* header.
    let r = app.send(
        "GET",
        "/flows/reports/1",
        &[
            ("X-API-Key", &key),
            ("spin-path-info", "/flows/orders/1"),
            ("spin-full-url", "http://127.0.0.1/flows/orders/1"),
            ("spin-client-addr", "10.0.0.1:1"),
        ],
        b"",
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let r = app.send(
        "GET",
        "/flows/orders/1",
        &[
            ("X-API-Key", &key),
            ("spin-path-info", "/flows/reports"),
            ("spin-client-addr", "10.0.0.1:1"),
        ],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = orders.seen();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].headers.iter().all(|(n, _)| !n.starts_with("spin-")),
        "{:?}",
        seen[0].headers
    );
}

#[test]
fn ambiguous_paths_are_refused_in_proxy_mode_and_forward_auth() {
    let (app, orders, key) = app_and_key();
    for path in [
        "/flows/orders/..%2f..%2freports",
        "/flows/orders/%2e%2e/reports",
        "/flows/orders%2fx",
        "/flows/orders/%252e",
        "/flows/orders/a%00",
        "/flows/orders/a%5cb",
        "/flows//orders",
        "/flows/orders;x=1",
        "/flows/orders/../../..",
    ] {
        let proxied = app.send("GET", path, &[("X-API-Key", &key)], b"");
        assert_eq!(proxied.status, 400, "proxy mode accepted {path}");
        let asked = app.send(
            "GET",
            "/authorize",
            &[
                ("X-Forwarded-Method", "GET"),
                ("X-Forwarded-Uri", path),
                ("X-API-Key", &key),
            ],
            b"",
        );
        assert_eq!(asked.status, 403, "forward-auth accepted {path}");
    }
    assert!(
        orders.seen().is_empty(),
        "an ambiguous path reached the flow"
    );
}
