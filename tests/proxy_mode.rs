//! Proxy mode end to end: flowgate forwards an allowed request to its flow's
//! upstream and streams the answer back. What passes (method, query, body,
//! the upstream's status, headers and body), what never passes (credentials,
//! client certificates, client-sent identity and `spin-*` headers), the
//! identity that is added, and the limits: an unreachable upstream is `502`,
//! a silent one `504` after `upstream_timeout_ms`, a bad limit `503`.

mod common;

use std::io::{Read as _, Write as _};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::servers::{Programmed, Silent, closed_port, connect, pattern};
use common::upstream::Upstream;
use common::{App, Options, contains, start};
use serde_json::json;

const MB: usize = 1024 * 1024;

fn app_for(origin: &str, options: Options) -> (App, String, String) {
    let app = start(options.variable("orders_upstream", Some(origin)));
    let (id, key) = app
        .create_account(json!({ "name": "px", "credential_type": "api_key", "flows": ["orders"] }));
    (app, id, key)
}

#[test]
fn method_query_and_body_pass_through_and_the_answer_comes_back() {
    let upstream = Programmed::start(|head, conn| {
        let body = conn.body(head)?;
        let echo = format!(
            "{} {} {}",
            head.method,
            head.target,
            String::from_utf8_lossy(&body)
        );
        conn.answer(
            201,
            &[("X-Upstream", "yes"), ("Content-Type", "text/plain")],
            echo.as_bytes(),
        )
    });
    let (app, _, key) = app_for(&upstream.origin(), Options::new());
    let r = app.send(
        "POST",
        "/flows/orders/7?x=1&y=a%20b",
        &[("X-API-Key", &key), ("Content-Type", "application/json")],
        br#"{"order":7}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.header("x-upstream"), Some("yes"));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.text(), r#"POST /flows/orders/7?x=1&y=a%20b {"order":7}"#);
    let heads = upstream.heads();
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].header("content-type"), Some("application/json"));

    // The path sent is the normalised path that was checked.
    let r = app.send("GET", "/flows/orders/%37?q", &[("X-API-Key", &key)], b"");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.text(), "GET /flows/orders/7?q ");
}

#[test]
fn credentials_certificates_and_spoofed_identity_never_reach_the_upstream() {
    let upstream = Upstream::start();
    let (app, id, key) = app_for(&upstream.origin(), Options::new());
    // A forwarded certificate beside a credential is a second credential:
    // refused, and nothing reaches the upstream (issue 18).
    let bearer = format!("Bearer {key}");
    for certificate in [
        ("Client-Cert", ":MIIBspoofed=:"),
        ("X-Forwarded-Client-Cert", "Hash=abc;Subject=\"CN=evil\""),
        ("X-SSL-Client-Cert", "-----BEGIN%20CERTIFICATE-----"),
    ] {
        for credential in [("X-API-Key", key.as_str()), ("Authorization", &bearer)] {
            let r = app.send("GET", "/flows/orders/1", &[credential, certificate], b"");
            assert_eq!(r.status, 401, "{certificate:?}: {}", r.text());
        }
    }
    let spoofed: [(&str, &str); 7] = [
        ("Client-Cert-Chain", ":MIIBspoofed=:"),
        ("X-Flowgate-Account", "someone-else"),
        ("x-flowgate-flow", "reports"),
        ("X-Flowgate-Assertion", "eyJhbGciOiJub25lIn0.e30."),
        ("spin-client-addr", "10.0.0.1:1"),
        ("Spin-Path-Info", "/elsewhere"),
        ("Cookie", "session=secret"),
    ];
    for credential in [("X-API-Key", key.as_str()), ("Authorization", &bearer)] {
        let mut headers = vec![credential, ("X-Kept", "kept")];
        headers.extend(spoofed);
        let r = app.send("GET", "/flows/orders/1", &headers, b"");
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let seen = upstream.seen();
    assert_eq!(seen.len(), 2);
    for s in &seen {
        let names: Vec<&str> = s.headers.iter().map(|(n, _)| n.as_str()).collect();
        for gone in [
            "authorization",
            "x-api-key",
            "client-cert",
            "client-cert-chain",
            "x-forwarded-client-cert",
            "x-ssl-client-cert",
            "cookie",
        ] {
            assert!(
                !names.contains(&gone),
                "{gone} reached the upstream: {names:?}"
            );
        }
        assert!(
            !names.iter().any(|n| n.starts_with("spin-")),
            "a spin-* header reached the upstream: {names:?}"
        );
        let all = format!("{:?}", s.headers);
        for value in [key.as_str(), "someone-else", "evil", "10.0.0.1", "secret"] {
            assert!(!all.contains(value), "{value} reached the upstream: {all}");
        }
        // Identity is flowgate's, exactly once each.
        let of = |name: &str| s.values(name);
        assert_eq!(of("x-flowgate-account"), vec![id.as_str()]);
        assert_eq!(of("x-flowgate-flow"), vec!["orders"]);
        // flowgate signs its own assertion; the forged one never passes.
        let assertions = of("x-flowgate-assertion");
        assert_eq!(assertions.len(), 1, "{assertions:?}");
        assert!(
            !assertions[0].contains("eyJhbGciOiJub25lIn0"),
            "{assertions:?}"
        );
        assert_eq!(s.header("x-kept"), Some("kept"));
    }
}

#[test]
fn an_unreachable_upstream_is_502_with_a_clear_body() {
    let origin = format!("http://127.0.0.1:{}", closed_port());
    let (app, _, key) = app_for(&origin, Options::new());
    let r = app.send("GET", "/flows/orders/1", &[("X-API-Key", &key)], b"");
    assert_eq!(r.status, 502, "{}", r.text());
    assert_eq!(r.json(), json!({ "error": "upstream_unreachable" }));
    // With a body too: the failure is reported, not hidden behind the body.
    let r = app.send(
        "POST",
        "/flows/orders",
        &[("X-API-Key", &key)],
        &pattern(256 * 1024, 1),
    );
    assert_eq!(r.status, 502, "{}", r.text());
}

#[test]
fn a_silent_upstream_is_504_after_upstream_timeout_ms() {
    let silent = Silent::start();
    let (app, _, key) = app_for(
        &silent.origin(),
        Options::new().variable("upstream_timeout_ms", Some("300")),
    );
    let started = Instant::now();
    let r = app.send("GET", "/flows/orders/1", &[("X-API-Key", &key)], b"");
    let waited = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(r.json(), json!({ "error": "upstream_timeout" }));
    assert!(
        silent.accepted() >= 1,
        "the upstream was never connected to"
    );
    // Not a benchmark: the default limit is 10 s, so an answer well under it
    // shows that the variable, not the default, bounded the wait.
    assert!(
        waited < Duration::from_secs(7),
        "504 came after {waited:?}: upstream_timeout_ms=300 was not applied"
    );
}

#[test]
fn an_unparsable_upstream_timeout_fails_closed_with_503() {
    for bad in ["soon", "0", "-5", "1e3", "99999999999999999999"] {
        let upstream = Upstream::start();
        let (app, _, key) = app_for(
            &upstream.origin(),
            Options::new().variable("upstream_timeout_ms", Some(bad)),
        );
        let r = app.send("GET", "/flows/orders/1", &[("X-API-Key", &key)], b"");
        assert_eq!(r.status, 503, "{bad}: {}", r.text());
        assert!(upstream.seen().is_empty(), "{bad}: the upstream was called");
        assert!(
            app.logs().contains("upstream_timeout_ms"),
            "{bad}: the log does not name the variable:\n{}",
            app.logs()
        );
    }
}

#[test]
fn multi_megabyte_bodies_pass_whole_in_both_directions() {
    let sent = pattern(6 * MB, 7);
    let expected = sent.clone();
    let upstream = Programmed::start(move |head, conn| {
        let body = conn.body(head)?;
        let status = if body == expected { 200 } else { 422 };
        let answer = pattern(5 * MB + 3, 9);
        conn.answer(
            status,
            &[("Content-Type", "application/octet-stream")],
            &answer,
        )
    });
    let (app, _, key) = app_for(&upstream.origin(), Options::new());
    let r = app.send("POST", "/flows/orders/bulk", &[("X-API-Key", &key)], &sent);
    assert_eq!(
        r.status, 200,
        "the upstream did not get the exact 6 MB body"
    );
    assert_eq!(r.body.len(), 5 * MB + 3);
    assert!(
        r.body == pattern(5 * MB + 3, 9),
        "the 5 MB answer was altered"
    );
}

/// Sends the head and the first half of a body, then waits: if flowgate
/// buffered whole bodies, the upstream would see nothing before the rest.
#[test]
fn the_request_body_is_streamed_not_buffered() {
    let (got_first_bytes, first_bytes) = mpsc::channel::<()>();
    let got_first_bytes = Mutex::new(Some(got_first_bytes));
    let upstream = Programmed::start(move |head, conn| {
        let signal = got_first_bytes.lock().ok().and_then(|mut s| s.take());
        let mut total = 0usize;
        conn.body_with(head, |chunk| {
            total += chunk.len();
            if let Some(s) = &signal {
                let _ = s.send(());
            }
        })?;
        conn.answer(200, &[], total.to_string().as_bytes())
    });
    let (app, _, key) = app_for(&upstream.origin(), Options::new());
    let body = pattern(4 * MB, 3);
    let mut stream = connect(app.port, Duration::from_secs(30));
    let head = format!(
        "POST /flows/orders/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         X-API-Key: {key}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send head");
    stream.write_all(&body[..MB]).expect("send first part");
    stream.flush().expect("flush");
    let streamed = first_bytes.recv_timeout(Duration::from_secs(20)).is_ok();
    stream.write_all(&body[MB..]).expect("send the rest");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(
        streamed,
        "the upstream got no byte of the body before the caller sent all of it"
    );
    assert!(
        String::from_utf8_lossy(&answer).ends_with(&format!("\r\n\r\n{}", body.len())),
        "the upstream did not get the whole body: {:?}",
        String::from_utf8_lossy(&answer[..answer.len().min(300)])
    );
}

/// The upstream sends the first part of its body and waits: if flowgate
/// buffered whole bodies, the caller would see nothing before the rest.
#[test]
fn the_response_body_is_streamed_not_buffered() {
    let (go_on, wait) = mpsc::channel::<()>();
    let wait = Arc::new(Mutex::new(wait));
    let body = pattern(3 * MB, 5);
    let served = body.clone();
    let upstream = Programmed::start(move |_head, conn| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            served.len()
        );
        conn.writer.write_all(head.as_bytes())?;
        conn.writer.write_all(&served[..MB])?;
        conn.writer.flush()?;
        if let Ok(w) = wait.lock() {
            let _ = w.recv_timeout(Duration::from_secs(20));
        }
        conn.writer.write_all(&served[MB..])?;
        conn.writer.flush()
    });
    let (app, _, key) = app_for(&upstream.origin(), Options::new());
    let mut stream = connect(app.port, Duration::from_secs(20));
    let request = format!(
        "GET /flows/orders/export HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-API-Key: {key}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("send");
    // Read until the head and some body bytes are in.
    let mut data = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let body_started = loop {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break false;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n")
            && data.len() > end + 4
        {
            break true;
        }
    };
    let _ = go_on.send(());
    assert!(
        body_started,
        "the caller got no byte of the body before the upstream sent all of it"
    );
    let _ = stream.read_to_end(&mut data);
    let end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    assert!(data.starts_with(b"HTTP/1.1 200"), "{:?}", &data[..end]);
    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
    let received = if head.contains("transfer-encoding: chunked") {
        dechunk(&data[end + 4..]).expect("a complete chunked body")
    } else {
        data[end + 4..].to_vec()
    };
    assert!(received == body, "the streamed body was altered");
}

/// An upstream that breaks off mid-body: the caller must not get a body that
/// looks complete (flowgate aborts its answer instead of ending it cleanly).
#[test]
fn an_upstream_breaking_off_mid_body_is_not_passed_on_as_complete() {
    let upstream = Programmed::start(|_head, conn| {
        conn.writer.write_all(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
              400\r\n",
        )?;
        conn.writer.write_all(&[b'a'; 0x400])?;
        conn.writer.write_all(b"\r\n400\r\nonly part of a chunk")?;
        conn.writer.flush()?;
        conn.writer.shutdown(std::net::Shutdown::Both)
    });
    let (app, _, key) = app_for(&upstream.origin(), Options::new());
    let mut stream = connect(app.port, Duration::from_secs(20));
    let request = format!(
        "GET /flows/orders/broken HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-API-Key: {key}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut data = Vec::new();
    let _ = stream.read_to_end(&mut data);
    let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
        return; // No answer at all: nothing that looks complete.
    };
    let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 200") {
        return; // An error status is no complete 200.
    }
    let rest = &data[end + 4..];
    let complete = if head.contains("transfer-encoding: chunked") {
        dechunk(rest).is_some()
    } else {
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok());
        length.is_none_or(|l| rest.len() == l)
    };
    assert!(
        !complete,
        "a truncated upstream body reached the caller as complete: {:?}",
        String::from_utf8_lossy(&data[..data.len().min(200)])
    );
}

#[test]
fn refused_requests_never_reach_the_upstream() {
    let upstream = Upstream::start();
    let (app, _, key) = app_for(&upstream.origin(), Options::new());
    assert_eq!(app.send("GET", "/flows/orders/1", &[], b"").status, 401);
    assert_eq!(
        app.send("DELETE", "/flows/orders/1", &[("X-API-Key", &key)], b"")
            .status,
        403
    );
    assert_eq!(
        app.send("GET", "/flows/orders/%2e%2e/x", &[("X-API-Key", &key)], b"")
            .status,
        400
    );
    assert!(upstream.seen().is_empty());
    assert!(!contains(app.logs().as_bytes(), &key), "the key was logged");
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}
