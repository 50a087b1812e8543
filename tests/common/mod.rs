//! The harness of the end-to-end tests: starts the app (the built components
//! in `target/wasm32-wasip2/release`) on a free loopback port, under the
//! project's test host by default or under `spin up` when `FLOWGATE_SPIN`
//! names a Spin binary, and talks to it over plain HTTP/1.1 sockets so that
//! tests can also send what a polite client never would.
//!
//! `FLOWGATE_AUTHORIZER=p3` runs the WASIp3 build of the authorizer
//! (`authorizer_p3.wasm`, docs/p3.md) instead of the default one. It runs on
//! Spin 4 only: under the test host (which runs WASI 0.2 components only) a
//! test file with that selection reports itself skipped when it first starts
//! the app, and its binary ends there.
#![allow(dead_code)]

pub mod caddy;
pub mod certs;
pub mod gateway;
pub mod http;
pub mod nginx;
pub mod redis;
pub mod scenarios;
pub mod servers;
pub mod skip;
pub mod upstream;

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use http::Response;

/// An `Authorization: Basic` value (RFC 7617) for `user` and `password`,
/// joined by one colon and base64-encoded as given.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// The repository root: the nearest directory holding `spin.toml` above the
/// manifest of the package whose tests include this module (the root
/// package, or a workspace member such as `cli/` that includes it by path).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("spin.toml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or(manifest)
}

/// Random bytes from the OS.
pub fn random_bytes(bytes: usize) -> Vec<u8> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .expect("read /dev/urandom");
    buf
}

/// Random bytes as lower-case hex, from the OS.
pub fn random_hex(bytes: usize) -> String {
    random_bytes(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new `signing_key` value in the bound form that `flowgate signing-key`
/// prints (the fast form: no key derivation per request). The default of
/// [`Options::new`]; a plain seed is `random_hex(32)`.
pub fn signing_key() -> String {
    let seed: [u8; 32] = random_bytes(32).try_into().expect("32 bytes");
    flowgate::token::key::bound_value(&seed).to_string()
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

/// The variable that selects the authorizer build the app runs.
pub const AUTHORIZER_VARIABLE: &str = "FLOWGATE_AUTHORIZER";

/// Whether `FLOWGATE_AUTHORIZER=p3` selects the WASIp3 build of the
/// authorizer (any other non-empty value is refused, never ignored).
pub fn p3_authorizer() -> bool {
    match std::env::var(AUTHORIZER_VARIABLE).as_deref() {
        Ok("p3") => true,
        Ok("") | Err(_) => false,
        Ok(other) => panic!("{AUTHORIZER_VARIABLE}={other}: the only build to select is `p3`"),
    }
}

/// The authorizer's artifact under `target/wasm32-wasip2/release`.
fn authorizer_artifact() -> &'static str {
    if p3_authorizer() {
        "authorizer_p3"
    } else {
        "authorizer"
    }
}

/// With the p3 authorizer selected and no Spin to run it, reports this test
/// binary as skipped and ends it: the test host cannot run a WASIp3
/// component, and a test must never pass without having run. `on_spin` is
/// whether this app would run on real Spin.
fn skip_p3_without_spin(on_spin: bool) {
    if p3_authorizer() && !on_spin {
        skip::skipped(&format!(
            "{AUTHORIZER_VARIABLE}=p3 needs real Spin 4: this app would run on the test host (no \
             FLOWGATE_SPIN, or a stand-in launcher of it), which runs WASI 0.2 components only; \
             every test of this binary that was still to run is skipped"
        ));
        std::process::exit(0);
    }
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
    /// Origins of external OIDC issuers to trust: each is added to a copy of
    /// `spin.toml` exactly as docs/oidc.md tells an operator to.
    pub issuers: Vec<String>,
    /// The server binary, instead of the test host or `FLOWGATE_SPIN`.
    pub program: Option<PathBuf>,
    /// A Spin runtime config file (`--runtime-config-file`, which both the
    /// test host and `spin up` take), e.g. to put the store on Redis.
    pub runtime_config: Option<PathBuf>,
    /// `--variable` arguments, in order (`NAME=VALUE`, `NAME=@FILE`,
    /// `@FILE.json`, `@FILE.toml`: both hosts take them, ahead of the
    /// environment).
    pub variable_args: Vec<String>,
    /// Lines of `spin.toml` to replace, each wherever it occurs exactly
    /// (a component variable's literal, say): the app then runs from an
    /// edited copy.
    pub manifest_lines: Vec<(String, String)>,
}

/// A running app.
pub struct App {
    server: Server,
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

/// A new directory under `target/e2e`, named after `kind`, this process
/// and a counter.
pub fn fresh_dir(kind: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = root().join("target/e2e").join(format!(
        "{kind}-{}-{n}-{}",
        std::process::id(),
        random_hex(4)
    ));
    std::fs::create_dir_all(&dir).expect("create test dir");
    dir
}

fn require_artifacts(options: &Options) {
    // A `program` runs the test host under a stand-in launcher
    // (tests/cleanup.rs), even with FLOWGATE_SPIN set.
    skip_p3_without_spin(on_real_spin() && options.program.is_none());
    for name in [authorizer_artifact(), "management", "console"] {
        let wasm = root().join(format!("target/wasm32-wasip2/release/{name}.wasm"));
        assert!(
            wasm.exists(),
            "{} is missing: build the components first (scripts/test does, or \
             `cargo build --target wasm32-wasip2 --release -p authorizer -p management -p console`, \
             and `-p authorizer-p3` for {AUTHORIZER_VARIABLE}=p3)",
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
                ("signing_key".into(), Some(signing_key())),
            ],
            env: vec![],
            state_dir: None,
            key_values: vec![],
            runtime_config: None,
            variable_args: vec![],
            manifest_lines: vec![],
            issuers: vec![],
            program: None,
        }
    }

    /// Runs the app from a copy of `spin.toml` in which every line that is
    /// exactly `line` reads `with` instead; the start fails if none is.
    pub fn manifest_line(mut self, line: &str, with: &str) -> Self {
        self.manifest_lines.push((line.into(), with.into()));
        self
    }

    /// Trusts the external OIDC issuer at `origin` (`scheme://host:port`):
    /// the app runs from a copy of `spin.toml` with the documented edit, a
    /// variable `oidc_issuer_<letter>` defaulting to `origin` and its
    /// template in the `allowed_outbound_hosts` of both components.
    pub fn trust_issuer(mut self, origin: &str) -> Self {
        self.issuers.push(origin.into());
        self
    }

    /// Runs `program` (with `spin up`'s arguments) instead of the test host
    /// or `FLOWGATE_SPIN`.
    pub fn program(mut self, program: &Path) -> Self {
        self.program = Some(program.into());
        self
    }

    /// The manifest to run: `spin.toml` itself, or an edited copy of it
    /// when issuers are trusted or the p3 authorizer is selected.
    fn manifest(&self) -> PathBuf {
        let original = root().join("spin.toml");
        if self.issuers.is_empty() && !p3_authorizer() && self.manifest_lines.is_empty() {
            return original;
        }
        let text = std::fs::read_to_string(&original).expect("read spin.toml");
        let names: Vec<String> = (0..self.issuers.len())
            .map(|i| format!("oidc_issuer_{}", char::from(b'a' + i as u8)))
            .collect();
        let templates: String = names
            .iter()
            .map(|n| format!("\"{{{{ {n} }}}}\", "))
            .collect();
        let root = root().display().to_string();
        let mut lists = 0;
        let mut out = String::new();
        let mut replaced = vec![0; self.manifest_lines.len()];
        for line in text.lines() {
            let edit = self
                .manifest_lines
                .iter()
                .position(|(from, _)| from == line);
            let line = match edit {
                Some(i) => {
                    replaced[i] += 1;
                    self.manifest_lines[i].1.as_str()
                }
                None => line,
            };
            if let Some(rest) = line
                .strip_prefix("allowed_outbound_hosts = [")
                .filter(|_| !names.is_empty())
            {
                lists += 1;
                let rest = if rest.starts_with(']') {
                    rest.to_owned()
                } else {
                    format!(", {rest}")
                };
                let entries = templates.trim_end_matches(", ");
                out.push_str(&format!("allowed_outbound_hosts = [{entries}{rest}\n"));
            } else if let Some(path) = line.strip_prefix("source = \"target/") {
                let path = if p3_authorizer() {
                    path.replace("/authorizer.wasm\"", "/authorizer_p3.wasm\"")
                } else {
                    path.to_owned()
                };
                out.push_str(&format!("source = \"{root}/target/{path}\n"));
            } else {
                out.push_str(line);
                out.push('\n');
                if line == "[variables]" {
                    for (name, origin) in names.iter().zip(&self.issuers) {
                        out.push_str(&format!("{name} = {{ default = \"{origin}\" }}\n"));
                    }
                }
            }
        }
        for ((from, _), n) in self.manifest_lines.iter().zip(&replaced) {
            assert!(*n > 0, "spin.toml has no line `{from}` to replace");
        }
        assert!(
            names.is_empty() || lists == 2,
            "spin.toml should have one allowed_outbound_hosts line per component"
        );
        assert!(
            !p3_authorizer() || out.contains("/authorizer_p3.wasm\""),
            "spin.toml should name target/wasm32-wasip2/release/authorizer.wasm"
        );
        let path = fresh_dir("manifest").join("spin.toml");
        std::fs::write(&path, out).expect("write the edited spin.toml");
        path
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

    /// Adds a `--variable` argument.
    pub fn variable_arg(mut self, arg: &str) -> Self {
        self.variable_args.push(arg.into());
        self
    }

    /// Sets an environment variable of the host process.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The value a variable is set to (empty when unset).
    pub fn value(&self, name: &str) -> String {
        self.variables
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn command(&self, port: u16, state_dir: &Path) -> Command {
        let spin = std::env::var_os("FLOWGATE_SPIN").filter(|v| !v.is_empty());
        let mut cmd = match self.program.clone().map(Into::into).or(spin) {
            Some(program) => Command::new(program),
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
            .arg(self.manifest())
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
        for arg in &self.variable_args {
            cmd.arg("--variable").arg(arg);
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
        // Its own process group, so that stopping it reaches every process
        // it started (`spin up` runs `spin trigger http` as a child).
        cmd.process_group(0);
        cmd
    }
}

/// Starts the app with `options`; panics if it does not come up.
pub fn start(options: Options) -> App {
    require_artifacts(&options);
    let port = free_port();
    let state_dir = options
        .state_dir
        .clone()
        .unwrap_or_else(|| fresh_dir("state"));
    let log_dir = fresh_dir("logs");
    let stdout = std::fs::File::create(log_dir.join("stdout.log")).expect("log file");
    let stderr = std::fs::File::create(log_dir.join("stderr.log")).expect("log file");
    let mut server = Server::spawn(
        options
            .command(port, &state_dir)
            .stdout(stdout)
            .stderr(stderr),
    )
    .expect("start the app");
    let deadline = Instant::now() + Duration::from_secs(60);
    // Ready when the port answers AND this server announced that address.
    // A bare connect could reach another test's server that took the port
    // between `free_port` and the bind (one flake of tests/cleanup.rs);
    // both hosts print the base URL once they serve (Spin 4.0.2:
    // `print_startup_msgs` in crates/trigger-http/src/server.rs).
    let announced = format!("http://127.0.0.1:{port}");
    let announced_in = |name: &str| {
        std::fs::read_to_string(log_dir.join(name)).is_ok_and(|log| log.contains(&announced))
    };
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok()
            && (announced_in("stdout.log") || announced_in("stderr.log"))
        {
            break;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
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
        server,
        port,
        admin_token: options.value("admin_token"),
        pepper: options.value("hmac_pepper"),
        state_dir,
        log_dir,
    }
}

/// Starts the app and expects it to refuse to start; returns what it printed.
pub fn start_fails(options: Options) -> String {
    require_artifacts(&options);
    let port = free_port();
    let state_dir = fresh_dir("state");
    let log = state_dir.join("start.log");
    let file = std::fs::File::create(&log).expect("log file");
    let mut server = Server::spawn(
        options
            .command(port, &state_dir)
            .stdout(file.try_clone().expect("log file"))
            .stderr(file),
    )
    .expect("run the app");
    // A process still running after 30 s has not refused to start.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Ok(Some(status)) = server.child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            server.stop();
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
    /// A well-formed API key of `account_id`, tagged with this app's pepper
    /// as flowgate tags what it issues, but never issued: it passes the tag
    /// and is refused (`401`) after the account's record is read, as a key
    /// replaced by a reset is.
    pub fn unissued_key(&self, account_id: &str) -> String {
        tagged_under(
            flowgate::secret::SecretKind::ApiKey,
            account_id,
            &self.pepper,
        )
    }

    /// The forward-auth answer (status) for `GET /flows/orders/1` with
    /// `extra` headers: what a gateway asks `/authorize` about a caller.
    pub fn at_orders(&self, extra: &[(&str, &str)]) -> u16 {
        self.forward_auth("GET", "/flows/orders/1", extra).status
    }

    /// A forward-auth request in the Traefik style: `GET /authorize` with
    /// the original `method` and `uri` in `X-Forwarded-Method` and
    /// `X-Forwarded-Uri`, then `extra` headers (credentials and the like).
    pub fn forward_auth(&self, method: &str, uri: &str, extra: &[(&str, &str)]) -> Response {
        let mut headers = vec![("X-Forwarded-Method", method), ("X-Forwarded-Uri", uri)];
        headers.extend_from_slice(extra);
        self.send("GET", "/authorize", &headers, b"")
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

    /// Creates a `client_secret` account for `flows`; returns its
    /// `(client_id, secret)`, asserting `201`.
    pub fn client_credentials(&self, flows: &[&str]) -> (String, String) {
        let body = serde_json::json!({
            "name": format!("client-{}", random_hex(3)),
            "credential_type": "client_secret",
            "flows": flows,
        });
        let r = self.admin("POST", "/admin/v1/accounts", Some(body));
        assert_eq!(r.status, 201, "{}", r.text());
        let json = r.json();
        assert_eq!(
            json["client_id"], json["id"],
            "a client's id is its account id"
        );
        (
            json["client_id"].as_str().expect("client_id").to_owned(),
            json["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// An access token from `POST /oauth2/token` (client_secret_post),
    /// asserting `200`.
    pub fn issue_token(&self, client_id: &str, secret: &str) -> String {
        let form =
            format!("grant_type=client_credentials&client_id={client_id}&client_secret={secret}");
        let r = self.send(
            "POST",
            "/oauth2/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
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
        self.server.stop();
        self.state_dir.clone()
    }

    /// The process group of the app's server (for tests of the cleanup).
    pub fn process_group(&self) -> u32 {
        self.server.group
    }
}

/// A server process the tests started, leader of its own process group.
/// Stopping it stops the whole group; dropping it checks that nothing of
/// the group survived, and fails the test if something did.
pub struct Server {
    /// The direct child (`spin up`, the test host, nginx).
    pub child: Child,
    /// Its process group id (the child's pid).
    pub group: u32,
    stopped: bool,
}

impl Server {
    /// Spawns `cmd`, which must have been given `process_group(0)`.
    pub fn spawn(cmd: &mut Command) -> std::io::Result<Self> {
        let child = cmd.spawn()?;
        let group = child.id();
        Ok(Self {
            child,
            group,
            stopped: false,
        })
    }

    /// SIGTERM to the whole group, a wait, then SIGKILL to what is left.
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        signal_group(self.group, "TERM");
        if !wait_group_gone(&mut self.child, self.group, Duration::from_secs(5)) {
            signal_group(self.group, "KILL");
            wait_group_gone(&mut self.child, self.group, Duration::from_secs(5));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let left = group_members(self.group);
        if !left.is_empty() {
            let message = format!(
                "processes of a server this test started are still running after SIGKILL: {left:?}"
            );
            if std::thread::panicking() {
                eprintln!("{message}");
            } else {
                panic!("{message}");
            }
        }
    }
}

/// Sends `SIG<signal>` to every process of `group` (`kill -s SIG -- -PGID`;
/// std has no group signal and the tests take no libc dependency for it).
fn signal_group(group: u32, signal: &str) {
    let _ = Command::new("kill")
        .args(["-s", signal, "--", &format!("-{group}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Reaps `child` and waits until no live process of `group` remains.
fn wait_group_gone(child: &mut Child, group: u32, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let _ = child.try_wait();
        if group_members(group).is_empty() {
            let _ = child.try_wait();
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Live (not zombie) processes in process group `group`, as `(pid, name)`,
/// read from `/proc/<pid>/stat`.
pub fn group_members(group: u32) -> Vec<(u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (name) state ppid pgrp ...`; the name may contain spaces.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let mut fields = stat[close + 1..].split_whitespace();
        let state = fields.next().unwrap_or_default();
        let pgrp = fields.nth(1).and_then(|f| f.parse::<u32>().ok());
        if pgrp == Some(group) && state != "Z" && state != "X" {
            found.push((pid, stat[open + 1..close].to_owned()));
        }
    }
    found
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

/// Fills with one byte: the body of the keys made below.
struct Fixed;
impl flowgate::env::Random for Fixed {
    fn fill(&self, buf: &mut [u8]) {
        buf.fill(0x42);
    }
}

/// A well-formed API key of `account_id` (prefix, id, valid checksum) made
/// up without the app's pepper, as anyone can: its keyed tag fails, so the
/// authorizer refuses it (`401`) before reading the store.
pub fn forged_key(account_id: &str) -> String {
    forged_secret(flowgate::secret::SecretKind::ApiKey, account_id)
}

/// [`forged_key`] for any kind of secret (a client secret, say).
pub fn forged_secret(kind: flowgate::secret::SecretKind, account_id: &str) -> String {
    tagged_under(kind, account_id, &"0f".repeat(32))
}

/// A secret of `kind` for `account_id` with a fixed body, tagged under the
/// pepper whose variable text is `pepper`.
fn tagged_under(kind: flowgate::secret::SecretKind, account_id: &str, pepper: &str) -> String {
    let pepper = flowgate::hash::Pepper::from_variable(pepper).expect("a pepper");
    flowgate::secret::NewSecret::generate(kind, account_id, &Fixed, &pepper).into_string()
}

/// The form of [`forged_key`] issued before the keyed tag (no tag, valid
/// checksum): refused before the store unless `untagged_secrets` is
/// `accept`.
pub fn untagged_key(account_id: &str) -> String {
    // The tagged form without its tag: prefix, id and body, then a checksum.
    rechecked(&forged_key(account_id)[..flowgate::secret::UNTAGGED_LEN])
}

/// `text`, a secret's form, with its last 8 characters (the public checksum,
/// src/secret.rs) made the checksum of the rest again: what anyone can do
/// without the pepper.
pub fn rechecked(text: &str) -> String {
    let signed = &text[..text.len() - 8];
    format!("{signed}{}", flowgate::secret::checksum(signed))
}
