//! The harness of the end-to-end tests: starts the app (the built components
//! in `target/wasm32-wasip2/release`) on a free loopback port, under the
//! project's test host by default or under `spin up` when `FLOWGATE_SPIN`
//! names a Spin binary, and talks to it over plain HTTP/1.1 sockets so that
//! tests can also send what a polite client never would.
#![allow(dead_code)]

pub mod http;
pub mod nginx;
pub mod redis;
pub mod scenarios;
pub mod servers;
pub mod upstream;

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use http::Response;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Random bytes as lower-case hex, from the OS.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Whether the tests run against a real Spin binary.
pub fn on_real_spin() -> bool {
    std::env::var_os("FLOWGATE_SPIN").is_some_and(|v| !v.is_empty())
}

/// How to start the app.
#[derive(Clone)]
pub struct Options {
    /// Spin variables, by lower-case name; `None` leaves one unset.
    pub variables: Vec<(String, Option<String>)>,
    /// Extra environment for the host process (test-host switches).
    pub env: Vec<(String, String)>,
    /// Reuse this state directory (to test persistence).
    pub state_dir: Option<PathBuf>,
    /// Records written to the `default` store at startup (`--key-value`,
    /// which both the test host and `spin up` take), e.g. to seed records
    /// older than a test could wait for.
    pub key_values: Vec<(String, String)>,
    /// A Spin runtime config file (`--runtime-config-file`, which both the
    /// test host and `spin up` take), e.g. to put the store on Redis.
    pub runtime_config: Option<PathBuf>,
}

/// A running app.
pub struct App {
    child: Child,
    /// Its base URL's port.
    pub port: u16,
    /// The bootstrap admin token.
    pub admin_token: String,
    /// The HMAC pepper.
    pub pepper: String,
    /// Its state directory (key-value data, logs).
    pub state_dir: PathBuf,
    log_dir: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn fresh_dir(kind: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = root().join("target/e2e").join(format!(
        "{kind}-{}-{n}-{}",
        std::process::id(),
        random_hex(4)
    ));
    std::fs::create_dir_all(&dir).expect("create test dir");
    dir
}

fn require_artifacts() {
    for name in ["authorizer", "management"] {
        let wasm = root().join(format!("target/wasm32-wasip2/release/{name}.wasm"));
        assert!(
            wasm.exists(),
            "{} is missing: build the components first (scripts/test does, or \
             `cargo build --target wasm32-wasip2 --release -p authorizer -p management`)",
            wasm.display()
        );
    }
}

/// The test host binary.
pub fn host_binary() -> PathBuf {
    std::env::var_os("FLOWGATE_HOST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/host/flowgate-host"))
}

impl Options {
    /// Fresh secrets and default upstreams.
    pub fn new() -> Self {
        Self {
            variables: vec![
                (
                    "admin_token".into(),
                    Some(format!("adm-{}", random_hex(20))),
                ),
                ("hmac_pepper".into(), Some(random_hex(32))),
                ("signing_key".into(), Some(random_hex(32))),
            ],
            env: vec![],
            state_dir: None,
            key_values: vec![],
            runtime_config: None,
        }
    }

    /// Starts the app with this Spin runtime config file.
    pub fn runtime_config(mut self, path: &Path) -> Self {
        self.runtime_config = Some(path.to_owned());
        self
    }

    /// Writes `value` under `key` in the `default` store at startup.
    pub fn key_value(mut self, key: &str, value: &str) -> Self {
        self.key_values.push((key.into(), value.into()));
        self
    }

    /// Sets (or, with `None`, unsets) a Spin variable.
    pub fn variable(mut self, name: &str, value: Option<&str>) -> Self {
        self.variables.retain(|(n, _)| n != name);
        self.variables.push((name.into(), value.map(str::to_owned)));
        self
    }

    /// Sets an environment variable of the host process.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    fn value(&self, name: &str) -> String {
        self.variables
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn command(&self, port: u16, state_dir: &Path) -> Command {
        let mut cmd = match std::env::var_os("FLOWGATE_SPIN").filter(|v| !v.is_empty()) {
            Some(spin) => Command::new(spin),
            None => {
                let host = host_binary();
                assert!(
                    host.exists(),
                    "{} is missing: build it with `cargo build --profile host -p flowgate-host` \
                     (scripts/test does)",
                    host.display()
                );
                Command::new(host)
            }
        };
        cmd.arg("up")
            .arg("--from")
            .arg(root().join("spin.toml"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--state-dir")
            .arg(state_dir)
            .current_dir(root())
            .stdin(Stdio::null());
        for (key, value) in &self.key_values {
            cmd.arg("--key-value").arg(format!("{key}={value}"));
        }
        if let Some(path) = &self.runtime_config {
            cmd.arg("--runtime-config-file").arg(path);
        }
        for (name, value) in &self.variables {
            let key = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        for (name, value) in &self.env {
            cmd.env(name, value);
        }
        cmd
    }
}

/// Starts the app with `options`; panics if it does not come up.
pub fn start(options: Options) -> App {
    require_artifacts();
    let port = free_port();
    let state_dir = options
        .state_dir
        .clone()
        .unwrap_or_else(|| fresh_dir("state"));
    let log_dir = fresh_dir("logs");
    let stdout = std::fs::File::create(log_dir.join("stdout.log")).expect("log file");
    let stderr = std::fs::File::create(log_dir.join("stderr.log")).expect("log file");
    let mut child = options
        .command(port, &state_dir)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("start the app");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log_dir.join("stderr.log")).unwrap_or_default();
            panic!("the app exited with {status} before serving:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "the app did not come up within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    App {
        child,
        port,
        admin_token: options.value("admin_token"),
        pepper: options.value("hmac_pepper"),
        state_dir,
        log_dir,
    }
}

/// Starts the app and expects it to refuse to start; returns what it printed.
pub fn start_fails(options: Options) -> String {
    require_artifacts();
    let port = free_port();
    let state_dir = fresh_dir("state");
    let log = state_dir.join("start.log");
    let file = std::fs::File::create(&log).expect("log file");
    let mut child = options
        .command(port, &state_dir)
        .stdout(file.try_clone().expect("log file"))
        .stderr(file)
        .spawn()
        .expect("run the app");
    // A process still running after 30 s has not refused to start.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the app kept running although it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        !status.success(),
        "the app exited successfully although it should have refused"
    );
    std::fs::read_to_string(&log).unwrap_or_default()
}

impl App {
    /// The forward-auth answer (status) for `GET /flows/orders/1` with
    /// `extra` headers: what a gateway asks `/authorize` about a caller.
    pub fn at_orders(&self, extra: &[(&str, &str)]) -> u16 {
        let mut headers = vec![
            ("X-Forwarded-Method", "GET"),
            ("X-Forwarded-Uri", "/flows/orders/1"),
        ];
        headers.extend_from_slice(extra);
        self.send("GET", "/authorize", &headers, b"").status
    }

    /// Sends a request; see [`http::send`].
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        http::send(self.port, method, path, headers, body)
    }

    /// Sends raw bytes as the whole request.
    pub fn raw(&self, request: &[u8]) -> Response {
        http::raw(self.port, request)
    }

    /// Sends an admin request with the bootstrap token and a JSON body.
    pub fn admin(&self, method: &str, path: &str, body: Option<serde_json::Value>) -> Response {
        let auth = format!("Bearer {}", self.admin_token);
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.send(
            method,
            path,
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    }

    /// Creates an account and returns (id, secret), asserting `201`.
    pub fn create_account(&self, body: serde_json::Value) -> (String, String) {
        let r = self.admin("POST", "/admin/v1/accounts", Some(body));
        assert_eq!(r.status, 201, "{}", r.text());
        let json = r.json();
        (
            json["id"].as_str().expect("id").to_owned(),
            json["secret"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// Every byte of the key-value store's files (SQLite database, journal,
    /// WAL), for tests that look for leaked secrets.
    pub fn store_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        let mut stack = vec![self.state_dir.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.to_string_lossy().contains("key_value") {
                    all.extend(std::fs::read(&path).unwrap_or_default());
                }
            }
        }
        all
    }

    /// Everything the app printed so far, and Spin's log files if any.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for dir in [&self.log_dir, &self.state_dir.join("logs")] {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
                }
            }
        }
        text
    }

    /// Stops the app and returns its state directory, for a restart.
    pub fn stop(mut self) -> PathBuf {
        self.kill();
        self.state_dir.clone()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Runs `n` calls at once, one per thread released together; returns
/// their results in call order.
pub fn at_once<T: Send + 'static>(
    n: usize,
    call: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let call = std::sync::Arc::new(call);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (call, barrier) = (
                std::sync::Arc::clone(&call),
                std::sync::Arc::clone(&barrier),
            );
            std::thread::spawn(move || {
                barrier.wait();
                call(i)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect()
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}
