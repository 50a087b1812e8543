//! `flowgate-host up`: a stand-in for `spin up` with the same flags for what
//! it supports: `-f/--from <spin.toml>`, `--listen <addr>` (env
//! `SPIN_HTTP_LISTEN_ADDR`), `--state-dir <dir>` (empty: in-memory store),
//! `-e/--env NAME=VALUE` (WASI environment of every component, as in Spin),
//! `--variable NAME=VALUE | NAME=@FILE | @FILE.json | @FILE.toml`
//! (application variables, highest precedence; `variables::cli_variable`),
//! `--key-value KEY=VALUE` (written to the default store at startup),
//! `--runtime-config-file FILE` (env `RUNTIME_CONFIG_FILE`: key-value stores
//! on SQLite or Redis) and `--disable-pooling`. See lib.rs for the test-only environment switches.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use flowgate_host::{HostConfig, StateDir};

const USAGE: &str = "usage: flowgate-host up [-f|--from <spin.toml>] [--listen <addr>] \
[--state-dir <dir>] [-e|--env NAME=VALUE]... \
[--variable NAME=VALUE|NAME=@FILE|@FILE.json|@FILE.toml]... \
[--key-value KEY=VALUE]... [--runtime-config-file FILE] [--disable-pooling]";

fn pair(s: &str, what: &str) -> Result<(String, String)> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| anyhow!("{what} expects NAME=VALUE, got {s:?}"))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<HostConfig> {
    let mut config = HostConfig::new("spin.toml")?;
    if let Ok(listen) = std::env::var("SPIN_HTTP_LISTEN_ADDR") {
        config.listen = listen.parse().context("SPIN_HTTP_LISTEN_ADDR")?;
    }
    let mut first = true;
    while let Some(arg) = args.next() {
        if first && arg == "up" {
            first = false;
            continue;
        }
        first = false;
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| anyhow!("{flag} needs a value\n{USAGE}"))
        };
        match flag.as_str() {
            "-f" | "--from" | "--file" => {
                let path = PathBuf::from(value()?);
                // Like Spin, a directory means the spin.toml inside it.
                config.manifest = if path.is_dir() {
                    path.join("spin.toml")
                } else {
                    path
                };
            }
            "--listen" => config.listen = value()?.parse().context("--listen")?,
            "--state-dir" => {
                let v = value()?;
                config.state_dir = if v.is_empty() {
                    StateDir::Unset
                } else {
                    StateDir::Path(PathBuf::from(v))
                };
            }
            "-e" | "--env" => config.env.push(pair(&value()?, "--env")?),
            "--variable" => {
                let arg = value()?;
                let pairs = flowgate_host::variables::cli_variable(&arg)
                    // Not the argument itself: it may hold a secret.
                    .context("invalid value for '--variable'")?;
                // A later argument wins, as in Spin.
                config.variables.cli.extend(pairs);
            }
            "--key-value" => config.key_values.push(pair(&value()?, "--key-value")?),
            "--runtime-config-file" => {
                config.runtime_config_file = Some(PathBuf::from(value()?));
            }
            "--disable-pooling" => config.pooling = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    Ok(config)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("Error: {e}");
        for cause in e.chain().skip(1) {
            eprintln!("\nCaused by:\n      {cause}");
        }
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let config = parse_args(std::env::args().skip(1))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let host = flowgate_host::start(config).await?;
        let mut out = std::io::stdout();
        out.write_all(host.banner().as_bytes())?;
        out.flush()?;
        tokio::select! {
            r = host.wait() => r,
            _ = tokio::signal::ctrl_c() => Ok(()),
        }
    })
}
