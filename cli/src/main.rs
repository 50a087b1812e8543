//! `flowgate`: the management API (`/admin/v1`) from a terminal and from CI.
//! Parses the command line, finds the server and token (flag, environment,
//! config file), runs one command and exits with a documented code.
#![forbid(unsafe_code)]

mod api;
mod args;
mod client;
mod commands;
mod config;
mod declarative;
mod output;
mod service_key;
mod signing_key;

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};
use serde_json::Value;

use args::{Cli, Command};
use client::Client;
use output::Out;

/// Why a command did not succeed; each kind has its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The server answered with a non-2xx status (exit 1).
    Refused { status: u16, body: String },
    /// The command line, a file it names, or the settings are wrong (exit 2).
    Usage(String),
    /// No answer from the server, or one that is not the API's (exit 3).
    Unreachable(String),
    /// `apply --dry-run` found a difference (exit 4).
    Drift,
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Self::Refused { .. } => 1,
            Self::Usage(_) => 2,
            Self::Unreachable(_) => 3,
            Self::Drift => 4,
        }
    }

    /// Tells the user on standard error: the API's message, the field it
    /// names and the flows a conflict lists.
    fn report(&self) {
        match self {
            Self::Refused { status, body } => {
                let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
                let code = json.get("error").and_then(Value::as_str).unwrap_or("");
                let message = json.get("message").and_then(Value::as_str);
                match message {
                    Some(m) => eprintln!("flowgate: refused by the server ({status} {code}): {m}"),
                    None => eprintln!("flowgate: refused by the server ({status} {code})"),
                }
                if let Some(field) = json.get("field").and_then(Value::as_str) {
                    eprintln!("  field: {field}");
                }
                if let Some(flows) = json.get("flows").and_then(Value::as_array) {
                    let names: Vec<&str> = flows.iter().filter_map(Value::as_str).collect();
                    eprintln!("  flows: {}", names.join(", "));
                }
                match status {
                    401 => eprintln!(
                        "  hint: check --api-token, FLOWGATE_API_TOKEN or the token `flowgate login` saved"
                    ),
                    409 if json.get("flows").is_some() => {
                        eprintln!("  hint: remove the grants first, or delete with --force")
                    }
                    _ => {}
                }
            }
            Self::Usage(message) => eprintln!("flowgate: {message}"),
            Self::Unreachable(message) => eprintln!("flowgate: {message}"),
            Self::Drift => {}
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            failure.report();
            ExitCode::from(failure.exit_code())
        }
    }
}

/// A value from the flag or the environment (clap has read both), else from
/// the config file; an empty value counts as unset.
fn setting(given: Option<String>, stored: Option<String>) -> Option<String> {
    given
        .filter(|v| !v.is_empty())
        .or(stored.filter(|v| !v.is_empty()))
}

fn run(cli: Cli) -> Result<(), Failure> {
    let out = Out::new(cli.global.output, cli.global.quiet);
    match cli.command {
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "flowgate", &mut std::io::stdout());
            return Ok(());
        }
        Command::ApiRoutes => {
            for route in api::ROUTES {
                println!("{route}");
            }
            return Ok(());
        }
        Command::SigningKey { from_seed } => return signing_key::print(from_seed),
        _ => {}
    }
    let file = config::load()?;
    let server = setting(cli.global.server, file.server).ok_or_else(|| {
        Failure::Usage(
            "no server: pass --server, set FLOWGATE_SERVER, or run `flowgate login`".into(),
        )
    })?;
    let server = client::server_url(&server)?;
    if let Command::Login = cli.command {
        return declarative::login(server, setting(cli.global.api_token, None));
    }
    let token = setting(cli.global.api_token, file.api_token).ok_or_else(|| {
        Failure::Usage(
            "no API token: pass --api-token, set FLOWGATE_API_TOKEN, or run `flowgate login`"
                .into(),
        )
    })?;
    let client = Client::new(server, &token)?;
    match cli.command {
        Command::Accounts(c) => commands::accounts(&client, out, c),
        Command::Keys(c) => commands::keys(&client, out, c),
        Command::Certificates(c) => commands::certificates(&client, out, c),
        Command::Tokens(c) => commands::tokens(&client, out, c),
        Command::Grants(c) => commands::grants(&client, out, c),
        Command::Roles(c) => commands::roles(&client, out, c),
        Command::Groups(c) => commands::groups(&client, out, c),
        Command::Audit(c) => commands::audit(&client, out, c),
        Command::Flows(c) => commands::flows(&client, out, c),
        Command::Export { file } => declarative::export(&client, file.as_deref()),
        Command::Apply { file, dry_run } => declarative::apply(&client, out, &file, dry_run),
        Command::Prune => declarative::prune(&client, out),
        Command::Login
        | Command::Completions { .. }
        | Command::ApiRoutes
        | Command::SigningKey { .. } => Ok(()),
    }
}
