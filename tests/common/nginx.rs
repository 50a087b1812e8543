//! A real nginx in front of flowgate, for the gateway test: `auth_request`
//! to flowgate's `/authorize`, the identity headers passed on, and a
//! `proxy_pass` to a loopback upstream. nginx runs in the foreground without
//! a master process, with every path (pid, logs, temp files) in its own
//! directory, in its own process group, which is stopped (and checked to be
//! gone) when the guard is dropped.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where nginx is, if it is installed. Debian puts it in `/usr/sbin`, which
/// is not on every user's `PATH`.
pub fn binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("nginx"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        [
            "/usr/sbin/nginx",
            "/usr/local/sbin/nginx",
            "/usr/local/nginx/sbin/nginx",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
    })
}

/// The configuration: the same shape as `examples/nginx/flowgate.conf`, with
/// test ports and a private directory for everything nginx writes.
pub fn config(dir: &Path, listen: u16, flowgate: u16, upstream: u16) -> String {
    let dir = dir.display();
    format!(
        r#"daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    server {{
        listen 127.0.0.1:{listen};

        location /flows/ {{
            auth_request /_flowgate_authorize;
            auth_request_set $flowgate_account $upstream_http_x_flowgate_account;
            auth_request_set $flowgate_account_name $upstream_http_x_flowgate_account_name;
            auth_request_set $flowgate_flow $upstream_http_x_flowgate_flow;
            auth_request_set $flowgate_assertion $upstream_http_x_flowgate_assertion;
            # On a 401 from flowgate, auth_request itself copies its
            # WWW-Authenticate into the answer: no add_header needed.

            # Identity comes from flowgate only: these replace whatever the
            # client sent under the same names.
            proxy_set_header X-Flowgate-Account $flowgate_account;
            proxy_set_header X-Flowgate-Account-Name $flowgate_account_name;
            proxy_set_header X-Flowgate-Flow $flowgate_flow;
            proxy_set_header X-Flowgate-Assertion $flowgate_assertion;
            # Credentials stay at the edge.
            proxy_set_header Authorization "";
            proxy_set_header X-API-Key "";
            proxy_pass http://127.0.0.1:{upstream};
        }}

        location = /_flowgate_authorize {{
            internal;
            proxy_pass http://127.0.0.1:{flowgate}/authorize;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
            proxy_set_header X-Original-Method $request_method;
            # The other family of forwarded headers, if a client sent it,
            # must not reach flowgate next to these.
            proxy_set_header X-Forwarded-Uri "";
            proxy_set_header X-Forwarded-Method "";
        }}
    }}
}}
"#
    )
}

/// A running nginx; its process group is stopped on drop.
pub struct Nginx {
    server: super::Server,
    /// Its port.
    pub port: u16,
    /// Its directory (config, logs).
    pub dir: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Nginx {
    /// Starts `binary` in front of flowgate on `flowgate` and the upstream on
    /// `upstream`; `Err` with nginx's own words if it does not come up.
    pub fn start(binary: &Path, flowgate: u16, upstream: u16) -> Result<Self, String> {
        Self::start_with(binary, |dir, listen| {
            config(dir, listen, flowgate, upstream)
        })
    }

    /// Starts `binary` with the configuration that `conf` writes for a
    /// directory and a listen port.
    pub fn start_with(
        binary: &Path,
        conf: impl FnOnce(&Path, u16) -> String,
    ) -> Result<Self, String> {
        let dir = super::root().join("target/e2e").join(format!(
            "nginx-{}-{}",
            std::process::id(),
            super::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let port = free_port();
        let text = conf(&dir, port);
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
        let log = std::fs::File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(binary);
        cmd
            // -p and -e keep nginx away from its compiled-in paths
            // (/var/log/nginx, /usr/share/nginx), which may be root-owned.
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0);
        let server = super::Server::spawn(&mut cmd)
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        let mut nginx = Self { server, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(nginx);
            }
            if let Ok(Some(status)) = nginx.server.child.try_wait() {
                return Err(format!("nginx exited with {status}:\n{}", nginx.logs()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "nginx did not listen within 20 s:\n{}",
                    nginx.logs()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// nginx's stderr and error log.
    pub fn logs(&self) -> String {
        ["stderr.log", "error.log"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.server.stop();
        let _ = std::fs::remove_file(self.dir.join("nginx.pid"));
    }
}
