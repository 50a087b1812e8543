//! `--generate`: flowgate makes the credential of an `mtls` or
//! `private_key_jwt` account and answers once with a service key
//! (docs/service-keys.md). The service key, which holds the private key, is
//! written to a new file with mode 0600 (`--service-key-file`), or printed
//! alone to standard output so that `> key.json` captures exactly it; it is
//! never mixed into the table output and never written anywhere else.

use std::io::Write as _;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::Failure;
use crate::api::Route;
use crate::args::Generate;
use crate::client::Client;
use crate::commands::ACCOUNT_FIRST;
use crate::output::Out;

/// The request's `generate` field, if `--generate` was given.
pub fn field(g: &Generate) -> Option<Value> {
    if !g.generate {
        return None;
    }
    let mut options = Map::new();
    if let Some(a) = &g.algorithm {
        options.insert("algorithm".into(), Value::from(a.as_str()));
    }
    if let Some(d) = g.validity_days {
        options.insert("validity_days".into(), Value::from(d));
    }
    Some(if options.is_empty() {
        json!(true)
    } else {
        Value::Object(options)
    })
}

/// `--generate` on a route whose body is `generate` alone (reset, add).
pub fn only(
    client: &Client,
    out: Out,
    route: &Route,
    params: &[&str],
    generate: Generate,
) -> Result<(), Failure> {
    let body = json!({ "generate": field(&generate) });
    call(client, out, route, params, &body, generate.service_key_file)
}

/// Calls `route` with `body` (which asks for `generate`) and hands the
/// service key out once: to `file` (created new, mode 0600, before the call
/// so that an unwritable path costs no issued credential) with the account
/// printed as usual, or alone to standard output.
pub fn call(
    client: &Client,
    out: Out,
    route: &Route,
    params: &[&str],
    body: &Value,
    file: Option<PathBuf>,
) -> Result<(), Failure> {
    let mut opened = match &file {
        Some(path) => Some(crate::config::private_file(path).map_err(|e| {
            Failure::Usage(format!(
                "cannot create --service-key-file {}: {e}",
                path.display()
            ))
        })?),
        None => None,
    };
    let answer = match client.call(route, params, &[], Some(body)) {
        Ok(answer) => answer,
        Err(e) => {
            if let Some(path) = &file {
                drop(opened.take());
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
    };
    let mut account = answer.json()?;
    let key = account
        .as_object_mut()
        .and_then(|m| m.remove("service_key"))
        .ok_or_else(|| Failure::Unreachable("the answer carries no service key".into()))?;
    let text = serde_json::to_string_pretty(&key).unwrap_or_default() + "\n";
    match (opened, &file) {
        (Some(mut f), Some(path)) => {
            f.write_all(text.as_bytes()).map_err(|e| {
                Failure::Usage(format!(
                    "the service key could not be written to {} ({e}); it is lost: reset the credential",
                    path.display()
                ))
            })?;
            out.object(&account.to_string(), &account, ACCOUNT_FIRST, "id");
            eprintln!(
                "Service key written to {} (mode 0600). flowgate keeps no copy of its private key.",
                path.display()
            );
        }
        _ => print!("{text}"),
    }
    Ok(())
}
