//! A real `redis-server` for the scale-out tests: started in the foreground
//! on a free loopback port with no persistence (no RDB snapshots, no AOF)
//! and its own directory, and killed when the guard is dropped. Also the
//! Spin runtime config file that puts the `default` store on it, which both
//! the test host and `spin up` take with `--runtime-config-file`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `redis-server` is, if it is installed.
pub fn binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("redis-server"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
    })
}

/// `redis-server`, or `None` when it is missing and `FLOWGATE_SKIP_REDIS=1`
/// asks to skip (said loudly). Missing without that: the test fails and
/// says how to get it.
pub fn binary_or_skip(test: &str) -> Option<PathBuf> {
    if let Some(binary) = binary() {
        return Some(binary);
    }
    if super::skip::skip_requested(
        "FLOWGATE_SKIP_REDIS",
        &format!("{test} needs redis-server, which is not installed"),
    ) {
        return None;
    }
    panic!(
        "redis-server is not installed, so flowgate cannot be tested on a shared Redis. \
         Run scripts/install-test-tools as root (it installs Debian's redis-server), \
         or set FLOWGATE_SKIP_REDIS=1 to skip this test on purpose."
    );
}

/// A running `redis-server`; killed on drop.
pub struct Redis {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its directory (log, runtime config).
    pub dir: PathBuf,
}

impl Redis {
    /// Starts `binary`; `Err` with its own words if it does not come up.
    pub fn start(binary: &Path) -> Result<Self, String> {
        let dir = super::root().join("target/e2e").join(format!(
            "redis-{}-{}",
            std::process::id(),
            super::random_hex(4)
        ));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let port = super::free_port();
        let log = dir.join("redis.log");
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            // No persistence, and nothing written outside its directory.
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .arg("--logfile")
            .arg(&log)
            .args(["--daemonize", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let mut redis = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if redis.command("PING").is_ok_and(|r| r.starts_with("+PONG")) {
                return Ok(redis);
            }
            if let Ok(Some(status)) = redis.child.try_wait() {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("redis-server exited with {status}:\n{text}"));
            }
            if Instant::now() > deadline {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!("redis-server did not answer within 20 s:\n{text}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends one inline command and returns the first reply as text.
    pub fn command(&self, line: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        stream.write_all(format!("{line}\r\n").as_bytes())?;
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// The URL of database `db`.
    pub fn url(&self, db: u8) -> String {
        format!("redis://127.0.0.1:{}/{db}", self.port)
    }

    /// Writes a Spin runtime config file that puts the `default` store on
    /// database `db` of this server, and returns its path.
    pub fn runtime_config(&self, db: u8) -> PathBuf {
        let path = self.dir.join(format!("runtime-config-{db}.toml"));
        let text = format!(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"{}\"\n",
            self.url(db)
        );
        std::fs::write(&path, text).expect("write the runtime config");
        path
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
