//! Integration tests of the flowgate-host binary against the `probe` fixture
//! component (host/tests/probe). They build nothing: build the fixture first
//! with `cargo build --target wasm32-wasip2 --release -p probe`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn probe_wasm() -> PathBuf {
    let wasm = root().join("target/wasm32-wasip2/release/probe.wasm");
    assert!(
        wasm.exists(),
        "missing {}: build the fixture first with \
         `cargo build --target wasm32-wasip2 --release -p probe`",
        wasm.display()
    );
    wasm
}

fn probe_manifest() -> PathBuf {
    probe_wasm();
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe/spin.toml")
}

/// A fresh, empty directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "flowgate-host-test-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

struct Host {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn command(manifest: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowgate-host"));
    cmd.arg("up")
        .arg("-f")
        .arg(manifest)
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .current_dir(cwd)
        .env_remove("FLOWGATE_HOST_KV_LOG")
        .env_remove("FLOWGATE_HOST_KV_FAULTS")
        .envs(env.iter().copied());
    cmd
}

/// Starts the host and waits for its "Serving http://..." line.
fn start(manifest: &Path, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Host {
    let mut child = command(manifest, cwd, args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start host: {e}"));
    let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = match lines.next() {
            Some(Ok(l)) => l,
            _ => panic!("host exited before serving"),
        };
        if let Some(url) = line.strip_prefix("Serving http://") {
            break url
                .parse()
                .unwrap_or_else(|e| panic!("bad address {url}: {e}"));
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Host { child, addr }
}

fn start_probe(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Host {
    let mut env = env.to_vec();
    if !env.iter().any(|(k, _)| *k == "SPIN_VARIABLE_TOKEN") {
        env.push(("SPIN_VARIABLE_TOKEN", "t0k3n"));
    }
    let state = dir.join("state");
    let state = state.to_string_lossy().to_string();
    let mut all = vec!["--state-dir", state.as_str()];
    all.extend_from_slice(args);
    start(&probe_manifest(), dir, &all, &env)
}

/// One HTTP/1.1 request; returns status and (de-chunked) body.
fn request(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    stream
        .write_all(req.as_bytes())
        .unwrap_or_else(|e| panic!("write: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("read: {e}"));
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("bad response {text:?}"));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {head:?}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_string()
        },
    )
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

fn get(host: &Host, path: &str) -> String {
    let (status, body) = request(host.addr, path, &[]);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn header_value<'a>(body: &'a str, name: &str) -> Vec<&'a str> {
    body.lines()
        .filter_map(|l| l.split_once(": ").or_else(|| l.split_once(':')))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .collect()
}

#[test]
fn routing_like_spin() {
    let dir = temp_dir("routing");
    let host = start_probe(&dir, &[], &[]);
    let route = |path: &str| {
        let body = get(&host, path);
        header_value(&body, "spin-raw-component-route")
            .first()
            .map(|s| s.to_string())
            .unwrap_or_default()
    };
    assert_eq!(route("/api/exact"), "/api/exact");
    assert_eq!(route("/api/exact/"), "/api/exact");
    assert_eq!(route("/api/other"), "/api/...");
    assert_eq!(route("/api"), "/api/...");
    assert_eq!(route("/slash"), "/slash/");
    assert_eq!(route("/slash/"), "/slash/");
    assert_eq!(route("/slash/deeper"), "/...");
    assert_eq!(route("/"), "/...");

    let body = get(&host, "/api/a/b/?q=1");
    assert_eq!(header_value(&body, "spin-path-info"), vec!["/a/b/"]);
    assert_eq!(header_value(&body, "spin-component-route"), vec!["/api"]);
    assert_eq!(header_value(&body, "spin-matched-route"), vec!["/api/..."]);
    assert_eq!(
        header_value(&body, "spin-full-url"),
        vec![format!("http://{}/api/a/b/?q=1", host.addr).as_str()]
    );

    // No catch-all route: unmatched paths get an empty 404.
    let manifest = dir.join("only.toml");
    let wasm = probe_wasm();
    std::fs::write(
        &manifest,
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"only\"\n\
             [[trigger.http]]\nroute = \"/only\"\ncomponent = \"c\"\n\
             [component.c]\nsource = {:?}\n",
            wasm.to_string_lossy()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let only = start(&manifest, &dir, &[], &[]);
    assert_eq!(request(only.addr, "/nope", &[]), (404, String::new()));
    assert_eq!(request(only.addr, "/only", &[]).0, 200);
    assert_eq!(
        request(only.addr, "/.well-known/spin/health", &[]),
        (200, "OK".into())
    );
}

#[test]
fn spin_headers_follow_client_spoofs() {
    let dir = temp_dir("headers");
    let host = start_probe(&dir, &[], &[]);
    let (status, body) = request(
        host.addr,
        "/x/y",
        &[("spin-client-addr", "6.6.6.6:1"), ("x-mine", "1")],
    );
    assert_eq!(status, 200);
    let addrs = header_value(&body, "spin-client-addr");
    assert_eq!(addrs.len(), 2, "{body}");
    assert_eq!(addrs[0], "6.6.6.6:1", "client value comes first: {body}");
    assert!(addrs[1].starts_with("127.0.0.1:"), "{body}");
    for name in [
        "spin-path-info",
        "spin-full-url",
        "spin-matched-route",
        "spin-base-path",
        "spin-raw-component-route",
        "spin-component-route",
    ] {
        assert_eq!(header_value(&body, name).len(), 1, "{name} in {body}");
    }
    assert_eq!(header_value(&body, "spin-base-path"), vec!["/"]);
    assert_eq!(header_value(&body, "spin-path-info"), vec!["/x/y"]);
    assert_eq!(header_value(&body, "x-mine"), vec!["1"]);
    assert!(header_value(&body, "connection").is_empty());
}

#[test]
fn key_value_persists_and_is_scoped() {
    let dir = temp_dir("kv");
    {
        let host = start_probe(&dir, &[], &[]);
        assert_eq!(get(&host, "/?op=set&key=k1&value=v1"), "ok");
        assert_eq!(get(&host, "/?op=get&key=k1"), "value v1");
        assert_eq!(get(&host, "/?op=exists&key=k1"), "exists true");
        assert_eq!(get(&host, "/?op=set&key=k2&value=v2"), "ok");
        assert_eq!(get(&host, "/?op=delete&key=k2"), "ok");
        assert_eq!(get(&host, "/?op=keys"), "keys k1");
        // Unlisted stores are denied, whether or not they exist.
        assert_eq!(
            get(&host, "/?op=open&store=other"),
            "err Error::AccessDenied"
        );
        assert_eq!(
            get(&host, "/api/?op=open&store=default"),
            "err Error::AccessDenied"
        );
    }
    assert!(dir.join("state/sqlite_key_value.db").exists());
    let host = start_probe(&dir, &[], &[]);
    assert_eq!(get(&host, "/?op=get&key=k1"), "value v1");
    assert_eq!(get(&host, "/?op=get&key=k2"), "none");
}

#[test]
fn variables_resolve_like_spin() {
    let dir = temp_dir("vars");
    let host = start_probe(&dir, &[], &[("SPIN_VARIABLE_TOKEN", "from-env")]);
    assert_eq!(get(&host, "/?op=var&name=greeting"), "value hello, world");
    assert_eq!(get(&host, "/?op=var&name=token"), "value from-env");
    assert_eq!(
        get(&host, "/?op=var&name=nope"),
        "err Error::Undefined(\"no variable for \\\"probe\\\".\\\"nope\\\"\")"
    );
    assert!(get(&host, "/?op=var&name=Bad").starts_with("err Error::InvalidName("));
    drop(host);

    let host = start_probe(&dir, &["--variable", "greeting=hi"], &[]);
    assert_eq!(get(&host, "/?op=var&name=greeting"), "value hi, world");
    drop(host);

    // A required variable with no value: startup fails, naming it.
    let out = command(&probe_manifest(), &dir, &[], &[])
        .env_remove("SPIN_VARIABLE_TOKEN")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no provider resolved required variable(s): [Key(\"token\")]"),
        "{stderr}"
    );
}

/// A one-shot upstream answering "pong".
fn upstream() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\npong",
            );
        }
    });
    addr
}

#[test]
fn outbound_allow_list() {
    let dir = temp_dir("outbound");
    let up = upstream();
    let origin = format!("http://{up}");
    let host = start_probe(&dir, &[], &[("SPIN_VARIABLE_UPSTREAM", origin.as_str())]);
    assert_eq!(
        get(&host, &format!("/?op=fetch&url={origin}/ping")),
        "status 200 body pong"
    );
    // Same host, other port: not allowed.
    assert_eq!(
        get(&host, "/?op=fetch&url=http://127.0.0.1:1/ping"),
        "err ErrorCode::HttpRequestDenied"
    );
    assert_eq!(
        get(&host, "/?op=fetch&url=http://example.com/"),
        "err ErrorCode::HttpRequestDenied"
    );
    // The api component allows nothing.
    assert_eq!(
        get(&host, &format!("/api/?op=fetch&url={origin}/ping")),
        "err ErrorCode::HttpRequestDenied"
    );
}

/// A keep-alive upstream answering "pong" to every request on a connection;
/// returns its address and the number of connections it accepted.
fn keep_alive_upstream() -> (SocketAddr, std::sync::Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let accepted = std::sync::Arc::new(AtomicU32::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    // A GET without a body: the head ends with an empty line.
                    let mut line = String::new();
                    let mut head_done = false;
                    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                        if line == "\r\n" {
                            head_done = true;
                            break;
                        }
                        line.clear();
                    }
                    if !head_done {
                        return;
                    }
                    let reply = b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\npong";
                    if reader.get_mut().write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, accepted)
}

/// Fetches `origin`/ping through the probe `n` times, one request after the
/// other, and checks every answer.
fn fetch_times(host: &Host, origin: &str, n: usize) {
    for _ in 0..n {
        assert_eq!(
            get(host, &format!("/?op=fetch&url={origin}/ping")),
            "status 200 body pong"
        );
        // The connection goes back to the pool once the host has read the
        // response to its end, just after the guest answered.
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Issue #16: Spin 4.0.2 reuses outbound connections across instances
/// (`connection_pooling` on by default); so does the host.
#[test]
fn issue16_outbound_connections_are_reused_across_requests() {
    let dir = temp_dir("outbound-reuse");
    let (up, accepted) = keep_alive_upstream();
    let origin = format!("http://{up}");
    let host = start_probe(&dir, &[], &[("SPIN_VARIABLE_UPSTREAM", origin.as_str())]);
    fetch_times(&host, &origin, 3);
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[test]
fn issue16_outbound_reuse_off_opens_a_connection_per_request() {
    let dir = temp_dir("outbound-no-reuse");
    let (up, accepted) = keep_alive_upstream();
    let origin = format!("http://{up}");
    let host = start_probe(
        &dir,
        &[],
        &[
            ("SPIN_VARIABLE_UPSTREAM", origin.as_str()),
            ("FLOWGATE_HOST_NO_CONNECTION_POOLING", "1"),
        ],
    );
    fetch_times(&host, &origin, 3);
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

/// An upstream that closes every connection after one answer: nothing is
/// reused, and no request fails for it.
#[test]
fn issue16_outbound_connection_closed_by_upstream_is_not_reused() {
    let dir = temp_dir("outbound-closed");
    let up = upstream();
    let origin = format!("http://{up}");
    let host = start_probe(&dir, &[], &[("SPIN_VARIABLE_UPSTREAM", origin.as_str())]);
    fetch_times(&host, &origin, 3);
}

/// Issue #16: `FLOWGATE_HOST_MEMORY_LOG` writes each request's peak linear
/// memory, a whole number of 64 KiB wasm pages, and its `memory.grow`s.
#[test]
fn issue16_memory_log_records_peak_linear_memory() {
    let dir = temp_dir("memlog");
    let log = dir.join("memory.log");
    let log_s = log.to_string_lossy().to_string();
    let host = start_probe(&dir, &[], &[("FLOWGATE_HOST_MEMORY_LOG", log_s.as_str())]);
    get(&host, "/api/x");
    get(&host, "/?op=var&name=greeting");
    // The echo of a 200 KB header needs more heap than any initial memory
    // leaves free, so that instance must grow its memory.
    let (status, _) = request(host.addr, "/api/big", &[("x-big", &"a".repeat(200_000))]);
    assert_eq!(status, 200);
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let mut grown = Vec::new();
    for (line, prefix) in lines
        .iter()
        .zip(["api GET /api/x ", "probe GET / ", "api GET /api/big "])
    {
        let (bytes, grows): (usize, usize) = line
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix("peak_linear_memory="))
            .and_then(|rest| rest.split_once(" memory_grows="))
            .and_then(|(bytes, grows)| Some((bytes.parse().ok()?, grows.parse().ok()?)))
            .unwrap_or_else(|| panic!("unexpected line {line:?}"));
        assert!(bytes >= 65536 && bytes.is_multiple_of(65536), "{line}");
        assert!(grows * 65536 < bytes, "{line}");
        grown.push((bytes, grows));
    }
    // The same component, small and large: only the large request's memory
    // had to grow past what the small one used.
    let ((small, _), (large, grows)) = (grown[0], grown[2]);
    assert!(grows >= 1 && large > small, "{text}");
}

/// Issue #11: the manifest Spin 4.0.2 refused (flowgate's `spin.toml` with
/// `oidc_issuer_origin = { default = "" }` in an outbound template) and the
/// other load-time refusals stop the host before it serves, with Spin's
/// words, whatever value the variable has at run time.
#[test]
fn issue11_released_spin_refusals_stop_the_host() {
    let dir = temp_dir("refusals");
    let head = "spin_manifest_version = 2\n[application]\nname = \"flowgate\"\n";
    let component = "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"authorizer\"\n\
                     [component.authorizer]\nsource = \"authorizer.wasm\"\n";
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "released-4.0.2-refused",
            "[variables]\norders_upstream = { default = \"http://127.0.0.1:9001\" }\n\
             oidc_issuer_origin = { default = \"\" }\n",
            &[
                "Failed to load Spin app from",
                "Failed to load component `authorizer`",
                "`allowed_outbound_hosts` is malformed",
                "using default variable value(s) with template \"{{ oidc_issuer_origin }}\" results in invalid config \"\"",
                "\"\" is not an allowed outbound host format.",
            ],
        ),
        (
            "required-and-default",
            "[variables]\norders_upstream = { required = true, default = \"http://a\" }\n\
             oidc_issuer_origin = { default = \"https://idp.example\" }\n",
            &["must be `required` OR have a `default`"],
        ),
        (
            "bad-variable-name",
            "[variables]\norders_upstream = { default = \"http://127.0.0.1:9001\" }\n\
             oidc_issuer_origin = { default = \"https://idp.example\" }\nOops = { default = \"x\" }\n",
            &["invalid variable name \"Oops\""],
        ),
    ];
    for (name, variables, expected) in cases {
        let manifest = dir.join(format!("{name}.toml"));
        let text = format!(
            "{head}{variables}{component}\
             allowed_outbound_hosts = [\"{{{{ orders_upstream }}}}\", \"{{{{ oidc_issuer_origin }}}}\"]\n"
        );
        std::fs::write(&manifest, text).unwrap_or_else(|e| panic!("{e}"));
        let out = command(
            &manifest,
            &dir,
            &[],
            &[("SPIN_VARIABLE_OIDC_ISSUER_ORIGIN", "https://idp.example")],
        )
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!out.status.success(), "{name}: the host started");
        let stderr = String::from_utf8_lossy(&out.stderr);
        for line in *expected {
            assert!(
                stderr.contains(line),
                "{name}: {line:?} missing from:\n{stderr}"
            );
        }
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("Serving"),
            "{name}"
        );
    }
}

/// A run-time value that is no valid host (the load-time check passed with
/// the default) makes Spin deny every outbound request of the component,
/// the app still serves (this host used to refuse to start).
#[test]
fn runtime_invalid_outbound_value_denies_every_request_of_the_component() {
    let dir = temp_dir("outbound-invalid");
    let up = upstream();
    let host = start_probe(&dir, &[], &[("SPIN_VARIABLE_UPSTREAM", "http://bad host")]);
    assert_eq!(
        get(&host, &format!("/?op=fetch&url=http://{up}/ping")),
        "err ErrorCode::HttpRequestDenied"
    );
    assert_eq!(get(&host, "/?op=var&name=greeting"), "value hello, world");
}

#[test]
fn traps_are_500() {
    let dir = temp_dir("trap");
    let host = start_probe(&dir, &[], &[]);
    assert_eq!(request(host.addr, "/?op=trap", &[]), (500, String::new()));
    assert_eq!(get(&host, "/?op=var&name=greeting"), "value hello, world");
}

#[test]
fn kv_log_counts_calls_per_request() {
    let dir = temp_dir("kvlog");
    let log = dir.join("kv.log");
    let log_s = log.to_string_lossy().to_string();
    let host = start_probe(&dir, &[], &[("FLOWGATE_HOST_KV_LOG", log_s.as_str())]);
    get(&host, "/?op=set&key=a&value=1");
    get(&host, "/?op=get&key=a");
    get(&host, "/?op=var&name=greeting");
    get(&host, "/api/x");
    let text = std::fs::read_to_string(&log).unwrap_or_else(|e| panic!("{e}"));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        vec![
            "probe GET / get=0 set=1 delete=0 exists=0 get_keys=0 variables=0 spin_opens=1 wasi_opens=0",
            "probe GET / get=1 set=0 delete=0 exists=0 get_keys=0 variables=0 spin_opens=1 wasi_opens=0",
            "probe GET / get=0 set=0 delete=0 exists=0 get_keys=0 variables=1 spin_opens=0 wasi_opens=0",
            "api GET /api/x get=0 set=0 delete=0 exists=0 get_keys=0 variables=0 spin_opens=0 wasi_opens=0",
        ]
    );
}

#[test]
fn kv_faults_fail_closed() {
    let dir = temp_dir("faults");
    let host = start_probe(&dir, &[], &[("FLOWGATE_HOST_KV_FAULTS", "fail")]);
    assert_eq!(
        get(&host, "/?op=get&key=a"),
        "err Error::Other(\"injected fault (FLOWGATE_HOST_KV_FAULTS)\")"
    );
    drop(host);
    let host = start_probe(&dir, &[], &[("FLOWGATE_HOST_KV_FAULTS", "delay_ms:150")]);
    let t = std::time::Instant::now();
    assert_eq!(get(&host, "/?op=get&key=a"), "none");
    assert!(t.elapsed() >= Duration::from_millis(150));
    drop(host);
    // A bad spec is a startup error.
    let out = command(
        &probe_manifest(),
        &dir,
        &[],
        &[("FLOWGATE_HOST_KV_FAULTS", "boom")],
    )
    .env("SPIN_VARIABLE_TOKEN", "x")
    .output()
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success());
}
