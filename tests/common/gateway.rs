//! What the real-gateway tests (`tests/gateway_*.rs`) share: finding a
//! gateway's binary, failing or skipping loudly when it is missing, running
//! it from a private directory (configuration, logs, everything it writes)
//! until the guard is dropped, and the setup of flowgate with an account and
//! a recording upstream behind the gateway, and the checks every gateway
//! in front of flowgate must pass (a test file adds what is particular to
//! its gateway).

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::upstream::Upstream;
use super::{App, Options, Response, http, start};

/// Where `name` is: on `PATH`, else the first of `elsewhere` that exists
/// (Debian puts some servers in `/usr/sbin`, which is not on every `PATH`).
pub fn find(name: &str, elsewhere: &[&str]) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| elsewhere.iter().map(PathBuf::from).find(|p| p.is_file()))
}

/// A gateway a test file needs: its binary, or `None` when it is missing and
/// `skip_variable=1` asks for a skip (said loudly on stderr). Without the
/// skip a missing gateway fails the test with `how_to_get_it`.
pub fn required(
    binary: Option<PathBuf>,
    test_file: &str,
    skip_variable: &str,
    how_to_get_it: &str,
) -> Option<PathBuf> {
    if binary.is_some() {
        return binary;
    }
    if super::skip::skip_requested(
        skip_variable,
        &format!("the gateway {test_file} drives is not installed"),
    ) {
        return None;
    }
    panic!(
        "the gateway {test_file} drives is not installed, so flowgate cannot be tested \
         behind it. {how_to_get_it}, or set {skip_variable}=1 to skip this test on purpose."
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// How to start one gateway process.
pub struct Launch<'a> {
    /// A short name for its directory and messages (`nginx`, `caddy`).
    pub kind: &'a str,
    /// The configuration file's name inside the directory.
    pub config_file: &'a str,
    /// Log files it writes into its directory, shown by [`Process::logs`]
    /// after its stderr.
    pub log_files: &'a [&'a str],
}

/// A running gateway, in a process group of its own, which is stopped (and
/// checked to be gone) on drop.
pub struct Process {
    server: super::Server,
    kind: String,
    log_files: Vec<String>,
    /// Its loopback port.
    pub port: u16,
    /// Its private directory (configuration, logs, state).
    pub dir: PathBuf,
}

impl Process {
    /// Writes the configuration that `config` makes for the directory and a
    /// free listen port, runs the command that `command` builds for the
    /// directory and the configuration file, and waits until the port
    /// answers; `Err` with the gateway's own words if it does not come up.
    pub fn start(
        launch: Launch<'_>,
        config: impl FnOnce(&Path, u16) -> String,
        command: impl FnOnce(&Path, &Path) -> Command,
    ) -> Result<Self, String> {
        let dir = super::root().join("target/e2e").join(format!(
            "{}-{}-{}",
            launch.kind,
            std::process::id(),
            super::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let port = free_port();
        let text = config(&dir, port);
        let config_path = dir.join(launch.config_file);
        std::fs::write(&config_path, text)
            .map_err(|e| format!("{}: {e}", config_path.display()))?;
        let log = std::fs::File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut command = command(&dir, &config_path);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0);
        let server = super::Server::spawn(&mut command)
            .map_err(|e| format!("cannot run {}: {e}", launch.kind))?;
        let mut process = Self {
            server,
            kind: launch.kind.to_owned(),
            log_files: launch.log_files.iter().map(|f| (*f).to_owned()).collect(),
            port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(process);
            }
            if let Ok(Some(status)) = process.server.child.try_wait() {
                return Err(format!(
                    "{} exited with {status}:\n{}",
                    process.kind,
                    process.logs()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen within 20 s:\n{}",
                    process.kind,
                    process.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Its stderr and the log files it writes.
    pub fn logs(&self) -> String {
        std::iter::once("stderr.log")
            .chain(self.log_files.iter().map(String::as_str))
            .map(|f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// flowgate, a recording upstream and a gateway in front of both, with one
/// API-key account granted the `orders` flow.
pub struct Setup {
    /// The gateway.
    pub gateway: Process,
    /// The flows' upstream, recording what reaches it.
    pub upstream: Upstream,
    /// flowgate.
    pub app: App,
    /// The account's id.
    pub id: String,
    /// The account's API key.
    pub key: String,
    /// The account's name.
    pub name: String,
}

impl Setup {
    /// Starts flowgate and the upstream, creates the account `account_name`
    /// (API key, granted `orders`), then the gateway through `gateway`, which
    /// gets flowgate's port and the upstream's.
    pub fn start(
        account_name: &str,
        gateway: impl FnOnce(u16, u16) -> Result<Process, String>,
    ) -> Self {
        let upstream = Upstream::start();
        let app = start(Options::new());
        let (id, key) = app.create_account(serde_json::json!({
            "name": account_name,
            "credential_type": "api_key",
            "flows": ["orders"],
        }));
        let gateway = gateway(app.port, upstream.port)
            .unwrap_or_else(|e| panic!("the gateway did not start: {e}"));
        Self {
            gateway,
            upstream,
            app,
            id,
            key,
            name: account_name.to_owned(),
        }
    }

    /// Sends a request to the gateway.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        http::send(self.gateway.port, method, path, headers, body)
    }

    /// The gateway's and flowgate's logs, for assertion messages.
    pub fn context(&self) -> String {
        format!(
            "{} log:\n{}\nflowgate log:\n{}",
            self.gateway.kind,
            self.gateway.logs(),
            self.app.logs()
        )
    }

    /// Every value of header `name` (lower case) on request `index` that the
    /// upstream saw.
    pub fn upstream_values(&self, index: usize, name: &str) -> Vec<String> {
        self.upstream.seen()[index]
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The checks every gateway configuration in front of flowgate must pass.
impl Setup {
    /// Issue #15: over the account's rate limit the client gets `429` with
    /// `Retry-After` and the `RateLimit` headers through the gateway, and
    /// the request never reaches the upstream.
    pub fn check_rate_limited_is_429_with_retry_after(&self) {
        let r = self.app.admin(
            "PATCH",
            &format!("/admin/v1/accounts/{}", self.id),
            Some(serde_json::json!({
                "limits": [{"name": "gw", "limit": 1, "window": "day"}]
            })),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        let before = self.upstream.seen().len();
        let first = self.send("GET", "/flows/orders/1", &[("X-API-Key", &self.key)], b"");
        assert_eq!(first.status, 200, "{}", self.context());
        let second = self.send("GET", "/flows/orders/1", &[("X-API-Key", &self.key)], b"");
        assert_eq!(second.status, 429, "{}\n{}", second.text(), self.context());
        let retry: u64 = second
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("Retry-After missing: {:?}", second.headers));
        assert!((1..=86_400).contains(&retry));
        assert_eq!(
            second.header("ratelimit"),
            Some(format!("\"gw\";r=0;t={retry}").as_str())
        );
        assert_eq!(
            second.header("ratelimit-policy"),
            Some("\"gw\";q=1;w=86400")
        );
        assert_eq!(
            self.upstream.seen().len(),
            before + 1,
            "the limited request got through"
        );
        // A plain refusal stays 403.
        let r = self.send("GET", "/flows/reports/1", &[("X-API-Key", &self.key)], b"");
        assert_eq!(r.status, 403, "{}", self.context());
    }

    /// A granted GET (key in `X-API-Key`) and POST (key as a bearer token,
    /// with a body) reach the upstream with flowgate's identity and without
    /// the credentials; the body goes to the upstream.
    pub fn check_granted_requests_reach_the_upstream_with_flowgates_identity(&self) {
        let r = self.send(
            "GET",
            "/flows/orders/42?page=2",
            &[("X-API-Key", &self.key)],
            b"",
        );
        assert_eq!(r.status, 200, "{}\n{}", r.text(), self.context());
        assert_eq!(r.text(), "upstream saw GET /flows/orders/42?page=2");
        let bearer = format!("Bearer {}", self.key);
        let r = self.send(
            "POST",
            "/flows/orders",
            &[("Authorization", &bearer)],
            br#"{"order":1}"#,
        );
        assert_eq!(r.status, 200, "{}\n{}", r.text(), self.context());

        let seen = self.upstream.seen();
        assert_eq!(seen.len(), 2, "{seen:?}");
        for request in &seen {
            assert_eq!(request.header("x-flowgate-account"), Some(self.id.as_str()));
            assert_eq!(request.header("x-flowgate-flow"), Some("orders"));
            assert_eq!(
                request.header("x-flowgate-account-name"),
                Some(self.name.as_str())
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

    /// No credential, a wrong Basic password and an unknown key: `401`, the
    /// challenge passed back exactly once, nothing at the upstream.
    pub fn check_no_credential_is_401_with_the_challenge_passed_back(&self) {
        let r = self.send("GET", "/flows/orders/1", &[], b"");
        assert_eq!(r.status, 401, "{}\n{}", r.text(), self.context());
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
        let basic = super::basic(&self.name, "nope");
        let r = self.send("GET", "/flows/orders/1", &[("Authorization", &basic)], b"");
        assert_eq!(r.status, 401);
        assert!(
            r.header("www-authenticate")
                .is_some_and(|v| v.starts_with("Basic realm=\"flowgate\"")),
            "{:?}",
            r.headers
        );
        let r = self.send(
            "GET",
            "/flows/orders/1",
            &[("X-API-Key", "fgak_not_a_real_key")],
            b"",
        );
        assert_eq!(r.status, 401);
        assert!(
            self.upstream.seen().is_empty(),
            "a refused request reached the upstream"
        );
    }

    /// Another flow, a method the grant lacks, and climbs into another flow
    /// (plain, with encoded separators, with encoded dots): `403`, nothing
    /// at the upstream. The gateway passes the URI as the client sent it
    /// and flowgate normalises it itself, so each is refused however the
    /// gateway or the upstream would have read it.
    pub fn check_not_granted_is_403(&self) {
        let key = [("X-API-Key", self.key.as_str())];
        let other_flow = self.send("GET", "/flows/reports/1", &key, b"");
        assert_eq!(other_flow.status, 403, "{}", self.context());
        let wrong_method = self.send("DELETE", "/flows/orders/1", &key, b"");
        assert_eq!(wrong_method.status, 403);
        for path in [
            "/flows/orders/../reports/1",
            "/flows/orders%2F..%2Freports/1",
            "/flows/orders/%2e%2e/reports/1",
        ] {
            let r = self.send("GET", path, &key, b"");
            assert_eq!(r.status, 403, "{path}: {}", self.context());
        }
        assert!(
            self.upstream.seen().is_empty(),
            "a refused request reached the upstream: {:?}",
            self.upstream.seen()
        );
    }

    /// Identity headers a client sends are not believed: with a valid key
    /// the upstream sees flowgate's identity only; without one a spoofed
    /// identity is `401`; forwarded-request headers naming another URI or
    /// method do not move the check (`403`). Exactly one request (the
    /// first) reaches the upstream.
    pub fn check_spoofed_identity_and_forwarded_headers_do_not_get_through(&self) {
        let r = self.send(
            "GET",
            "/flows/orders/1",
            &[
                ("X-API-Key", &self.key),
                ("X-Flowgate-Account", "someone-else"),
                ("X-Flowgate-Flow", "reports"),
                ("X-Flowgate-Account-Name", "admin"),
                ("X-Flowgate-Assertion", "forged"),
            ],
            b"",
        );
        assert_eq!(r.status, 200, "{}", self.context());
        let values = |name: &str| self.upstream_values(0, name);
        assert_eq!(values("x-flowgate-account"), vec![self.id.clone()]);
        assert_eq!(values("x-flowgate-flow"), vec!["orders".to_owned()]);
        assert_eq!(values("x-flowgate-account-name"), vec![self.name.clone()]);
        // Whatever flowgate sends (nothing, in forward-auth today), never the client's.
        assert!(
            !values("x-flowgate-assertion").contains(&"forged".to_owned()),
            "{:?}",
            self.upstream.seen()[0].headers
        );

        let r = self.send(
            "GET",
            "/flows/orders/1",
            &[
                ("X-Flowgate-Account", &self.id),
                ("X-Flowgate-Flow", "orders"),
            ],
            b"",
        );
        assert_eq!(r.status, 401);

        let r = self.send(
            "DELETE",
            "/flows/reports/1",
            &[
                ("X-API-Key", &self.key),
                ("X-Original-URI", "/flows/orders/1"),
                ("X-Original-Method", "GET"),
                ("X-Forwarded-Uri", "/flows/orders/1"),
                ("X-Forwarded-Method", "GET"),
            ],
            b"",
        );
        assert_eq!(r.status, 403, "{}", self.context());
        assert_eq!(
            self.upstream.seen().len(),
            1,
            "only the granted request got through"
        );
    }
}
