//! Whole-configuration commands: `export`, `apply` (the API's import, with
//! its dry run as a drift check), `prune`, and `login`, which checks a token
//! and stores it.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::Path;

use serde_json::Value;

use crate::Failure;
use crate::api;
use crate::args::Format;
use crate::client::Client;
use crate::commands::{material, plan_table};
use crate::config;
use crate::output::Out;

/// `export`: the document, always as the API's JSON (it is a file format,
/// not a table), to standard output or to `file`.
pub fn export(client: &Client, file: Option<&Path>) -> Result<(), Failure> {
    let answer = client.call(&api::EXPORT, &[], &[], None)?;
    answer.json()?;
    match file {
        None => println!("{}", answer.text.trim_end()),
        Some(path) => {
            let text = format!("{}\n", answer.text.trim_end());
            std::fs::write(path, text)
                .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", path.display())))?;
            eprintln!("Wrote {}.", path.display());
        }
    }
    Ok(())
}

/// `apply -f FILE [--dry-run]`. A dry run prints the plan and fails with
/// [`Failure::Drift`] when it holds a change; otherwise the document is
/// imported and what changed is printed.
pub fn apply(client: &Client, out: Out, file: &Path, dry_run: bool) -> Result<(), Failure> {
    let text = material("-f", file)?;
    if let Err(e) = serde_json::from_str::<Value>(&text) {
        return Err(Failure::Usage(format!(
            "{} is not JSON: {e}",
            file.display()
        )));
    }
    let query = [("dry_run", dry_run.to_string())];
    let answer = client.send(&api::IMPORT, &[], &query, Some(text.into_bytes()))?;
    let plan = answer.json()?;
    let changes = plan
        .get("changes")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if out.format == Format::Json {
        println!("{}", answer.text.trim_end());
    } else if !out.quiet {
        if dry_run {
            println!("Dry run: nothing was written.");
        }
        print!("{}", plan_table(&plan));
    }
    if dry_run && changes > 0 {
        if out.format == Format::Table {
            eprintln!("flowgate: drift: {changes} change(s) would be applied");
        }
        return Err(Failure::Drift);
    }
    Ok(())
}

/// `prune`: deleted and kept counts.
pub fn prune(client: &Client, out: Out) -> Result<(), Failure> {
    let answer = client.call(&api::PRUNE, &[], &[], None)?;
    out.object(&answer.text, &answer.json()?, &["deleted", "kept"], "kept");
    Ok(())
}

/// `login`: takes the token from `--api-token` or `FLOWGATE_API_TOKEN`, else
/// reads one line from standard input; checks it against the server; then
/// stores server and token in the config file and says where.
pub fn login(server: String, given: Option<String>) -> Result<(), Failure> {
    let token = match given {
        Some(token) => token,
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprint!("API token for {server} (input is shown; prefer piping it): ");
            }
            let mut line = String::new();
            stdin
                .lock()
                .read_line(&mut line)
                .map_err(|e| Failure::Usage(format!("cannot read the token: {e}")))?;
            line.trim().to_owned()
        }
    };
    let client = Client::new(server.clone(), &token)?;
    // Any authenticated route tells a wrong token (401) from a right one; a
    // 403 is a right token of an account without `accounts:read`.
    match client.call(&api::FLOWS_LIST, &[], &[], None) {
        Ok(_) | Err(Failure::Refused { status: 403, .. }) => {}
        Err(e) => return Err(e),
    }
    let path = config::save(&config::File {
        server: Some(server.clone()),
        api_token: Some(token),
    })?;
    println!(
        "Logged in to {server}; saved the server and token to {} (mode 0600).",
        path.display()
    );
    Ok(())
}
