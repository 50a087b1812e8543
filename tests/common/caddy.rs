//! A real Caddy in front of flowgate, for the gateway test: the checked-in
//! `examples/caddy/Caddyfile` itself, with its three addresses moved to test
//! ports and its listener bound to loopback. Caddy runs with its home, data
//! and config directories inside the test's own directory, without TLS
//! automation or an admin endpoint, so it touches nothing outside it and
//! reaches no network; it is killed when the guard is dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::gateway::{self, Launch, Process};

/// Where Caddy is, if it is installed (Debian: `/usr/bin/caddy`).
pub fn binary() -> Option<PathBuf> {
    gateway::find("caddy", &["/usr/bin/caddy", "/usr/local/bin/caddy"])
}

/// The example Caddyfile.
pub fn example() -> String {
    let path = super::root().join("examples/caddy/Caddyfile");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Replaces `from` by `to` in `text`, which must contain it.
fn moved(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "examples/caddy/Caddyfile no longer contains `{from}`: update tests/common/caddy.rs"
    );
    text.replace(from, to)
}

/// The example with Caddy on `listen` (loopback only), flowgate on
/// `flowgate` and the upstream on `upstream`.
pub fn config(example: &str, listen: u16, flowgate: u16, upstream: u16) -> String {
    let text = moved(
        example,
        "http://:8080 {",
        &format!("http://:{listen} {{\n\tbind 127.0.0.1"),
    );
    let text = moved(
        &text,
        "forward_auth 127.0.0.1:3000 {",
        &format!("forward_auth 127.0.0.1:{flowgate} {{"),
    );
    moved(
        &text,
        "reverse_proxy 127.0.0.1:9001",
        &format!("reverse_proxy 127.0.0.1:{upstream}"),
    )
}

/// Starts `binary` with the configuration that `conf` writes for a
/// directory and a listen port; `Err` with Caddy's own words if it does not
/// come up.
pub fn start_with(
    binary: &Path,
    conf: impl FnOnce(&Path, u16) -> String,
) -> Result<Process, String> {
    let launch = Launch {
        kind: "caddy",
        config_file: "Caddyfile",
        log_files: &[],
    };
    Process::start(launch, conf, |dir, conf| {
        let mut command = Command::new(binary);
        command
            .arg("run")
            .arg("--config")
            .arg(conf)
            .arg("--adapter")
            .arg("caddyfile")
            // Caddy keeps certificates, locks and its autosaved config under
            // these; point them all into the test's directory.
            .env("HOME", dir)
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("XDG_CONFIG_HOME", dir.join("config"))
            .current_dir(dir);
        command
    })
}
