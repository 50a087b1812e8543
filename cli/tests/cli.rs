//! The `flowgate` binary end to end: every command against the running app
//! (the built components, under the test host or `FLOWGATE_SPIN`), through
//! the binary cargo built for this package, with its exit codes, its output
//! for people and for scripts, and its refusals.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{App, Options, random_hex, start};
use jwt_simple::prelude::*;
use serde_json::{Value, json};

/// What one run of the binary did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    fn ok(self) -> Self {
        assert_eq!(self.code, 0, "{self:?}");
        self
    }
}

/// Runs `flowgate` with a private config directory and nothing from the
/// caller's environment that would change which server or token it uses.
struct Cli {
    server: String,
    token: String,
    config_home: PathBuf,
}

impl Cli {
    fn new(app: &App) -> Self {
        let config_home = common::root()
            .join("target/e2e")
            .join(format!("cli-config-{}", random_hex(6)));
        std::fs::create_dir_all(&config_home).expect("config dir");
        Self {
            server: format!("http://127.0.0.1:{}", app.port),
            token: app.admin_token.clone(),
            config_home,
        }
    }

    fn config_file(&self) -> PathBuf {
        self.config_home.join("flowgate/config.toml")
    }

    /// The command with only the config directory set.
    fn bare(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowgate"));
        cmd.args(args)
            .env_remove("FLOWGATE_SERVER")
            .env_remove("FLOWGATE_API_TOKEN")
            .env("XDG_CONFIG_HOME", &self.config_home)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs with server and token in the environment.
    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.bare(args);
        cmd.env("FLOWGATE_SERVER", &self.server)
            .env("FLOWGATE_API_TOKEN", &self.token);
        output(cmd, None)
    }

    /// Runs with `--output json` and parses standard output.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--output", "json"]);
        self.run(&all).ok().json()
    }
}

fn output(mut cmd: Command, stdin: Option<&str>) -> Run {
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowgate");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("flowgate ran");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn occurrences(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// A path under `target/e2e` for a file the test writes.
fn scratch(name: &str) -> PathBuf {
    let dir = common::root().join("target/e2e");
    std::fs::create_dir_all(&dir).expect("e2e dir");
    dir.join(format!("{name}-{}", random_hex(6)))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write file");
}

#[test]
fn account_lifecycle_runs_from_the_cli_and_the_secret_is_printed_once() {
    let app = start(Options::new());
    let cli = Cli::new(&app);

    // Create (table output): the secret appears once, and works at the edge.
    let created = cli
        .run(&[
            "accounts",
            "create",
            "partner-a",
            "--type",
            "api_key",
            "--flows",
            "orders",
        ])
        .ok();
    let line = created
        .stdout
        .lines()
        .find(|l| l.starts_with("secret: "))
        .unwrap_or_else(|| panic!("no secret line: {created:?}"));
    let secret = line.trim_start_matches("secret: ").to_owned();
    assert!(secret.starts_with("fgak_"), "{secret}");
    assert_eq!(occurrences(&created.stdout, &secret), 1, "{created:?}");
    assert!(!created.stderr.contains(&secret), "secret on stderr");
    // Not a terminal: no "shown once" banner in the way of scripts.
    assert!(!created.stdout.contains("shown once"), "{created:?}");
    assert_eq!(app.at_orders(&[("X-API-Key", &secret)]), 200);
    let id = created
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("id "))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| panic!("no id line: {created:?}"));
    assert!(!cli.config_file().exists(), "create wrote a config file");

    // Get and list: the API's JSON with --output json, a table by default.
    let got = cli.json(&["accounts", "get", &id]);
    assert_eq!(got["name"], "partner-a");
    assert_eq!(got["flows"], json!(["orders"]));
    assert!(got.get("secret").is_none());
    let table = cli.run(&["accounts", "list", "--type", "api_key"]).ok();
    assert!(table.stdout.starts_with("ID "), "{table:?}");
    assert!(table.stdout.contains(&id) && table.stdout.contains("partner-a"));
    let listed = cli.json(&["accounts", "list", "--status", "active", "--all"]);
    assert_eq!(listed["items"][0]["id"], id.as_str());
    let quiet = cli.run(&["accounts", "list", "-q"]).ok();
    assert_eq!(quiet.stdout.trim(), id);

    // Update.
    let updated = cli.json(&["accounts", "update", &id, "--description", "EU partner"]);
    assert_eq!(updated["description"], "EU partner");

    // Kill switch.
    cli.run(&["accounts", "disable", &id]).ok();
    assert_eq!(app.at_orders(&[("X-API-Key", &secret)]), 401);
    cli.run(&["accounts", "enable", &id]).ok();
    assert_eq!(app.at_orders(&[("X-API-Key", &secret)]), 200);

    // Reset: --quiet prints just the new secret; the old one stops.
    let reset = cli.run(&["accounts", "reset-credential", &id, "-q"]).ok();
    let new_secret = reset.stdout.trim();
    assert_eq!(reset.stdout.lines().count(), 1, "{reset:?}");
    assert_ne!(new_secret, secret);
    assert_eq!(app.at_orders(&[("X-API-Key", new_secret)]), 200);
    assert_eq!(app.at_orders(&[("X-API-Key", &secret)]), 401);

    // Tokens: create (shown once), list (never the value), revoke.
    let token = cli.json(&[
        "tokens",
        "create",
        &id,
        "--name",
        "ci",
        "--expires-in",
        "3600",
    ]);
    let token_value = token["token"].as_str().expect("token").to_owned();
    let token_id = token["id"].as_str().expect("id").to_owned();
    let bearer = format!("Bearer {token_value}");
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 200);
    let tokens = cli.run(&["tokens", "list", &id]).ok();
    assert!(tokens.stdout.contains(&token_id) && tokens.stdout.contains("ci"));
    assert!(!tokens.stdout.contains(&token_value));
    cli.run(&["tokens", "revoke", &id, &token_id]).ok();
    assert_eq!(app.at_orders(&[("Authorization", &bearer)]), 401);

    // Grants by flow and by account.
    cli.run(&["grants", "add", "--flow", "reports", "--account", &id])
        .ok();
    let access = cli.json(&["grants", "list", "--flow", "reports"]);
    assert_eq!(access["accounts"][0]["id"], id.as_str());
    let flows = cli.run(&["grants", "list", "--account", &id]).ok();
    assert!(flows.stdout.contains("reports") && flows.stdout.contains("direct"));
    cli.run(&["grants", "remove", "--flow", "reports", "--account", &id])
        .ok();
    assert_eq!(
        cli.json(&["grants", "list", "--account", &id])["items"],
        json!(["orders"])
    );

    // Delete is refused while the account holds grants, naming the flows.
    let refused = cli.run(&["accounts", "delete", &id]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("409"), "{refused:?}");
    assert!(refused.stderr.contains("flows: orders"), "{refused:?}");
    cli.run(&["accounts", "delete", &id, "--force"]).ok();
    let gone = cli.run(&["accounts", "get", &id]);
    assert_eq!(gone.code, 1, "{gone:?}");
    assert!(gone.stderr.contains("404"), "{gone:?}");

    // Nothing the CLI did left a secret in the log.
    let logs = app.logs();
    assert!(!logs.contains(&secret) && !logs.contains(new_secret));
}

#[test]
fn refusals_and_failures_exit_with_their_documented_codes() {
    let app = start(Options::new());
    let cli = Cli::new(&app);

    // 400 naming the field: exit 1, message and field on stderr.
    let bad = cli.run(&["accounts", "create", "bad name!", "--type", "api_key"]);
    assert_eq!(bad.code, 1, "{bad:?}");
    assert!(
        bad.stderr.contains("400") && bad.stderr.contains("field: name"),
        "{bad:?}"
    );
    assert!(bad.stdout.is_empty(), "{bad:?}");

    // 401 with a wrong token.
    let mut wrong = cli.bare(&["flows", "list"]);
    wrong
        .env("FLOWGATE_SERVER", &cli.server)
        .env("FLOWGATE_API_TOKEN", "not-the-admin-token");
    let wrong = output(wrong, None);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.contains("401"), "{wrong:?}");

    // 404.
    let missing = cli.run(&["accounts", "get", "aaaaaaaaaaaaaaaa"]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(missing.stderr.contains("404"), "{missing:?}");

    // A file that cannot be read: usage error, nothing sent.
    let no_file = cli.run(&[
        "accounts",
        "create",
        "x",
        "--type",
        "mtls",
        "--certificate",
        "/nonexistent/cert.pem",
    ]);
    assert_eq!(no_file.code, 2, "{no_file:?}");
    assert!(no_file.stderr.contains("--certificate"), "{no_file:?}");

    // A claims rule that is not a JSON object: usage error, nothing sent.
    let rule = cli.run(&[
        "accounts",
        "create",
        "idp",
        "--type",
        "oidc",
        "--issuer",
        "https://idp.example",
        "--audience",
        "flowgate",
        "--claims-match",
        "sub=svc",
    ]);
    assert_eq!(rule.code, 2, "{rule:?}");
    assert!(rule.stderr.contains("--claims-match"), "{rule:?}");

    // An id that would change the path is refused before any request.
    let traversal = cli.run(&["accounts", "get", "../flows"]);
    assert_eq!(traversal.code, 2, "{traversal:?}");

    // Usage errors from the parser.
    assert_eq!(cli.run(&["accounts", "frobnicate"]).code, 2);
    assert_eq!(cli.run(&["grants", "add", "--flow", "orders"]).code, 2);

    // No server anywhere: usage error that says how to give one.
    let none = output(cli.bare(&["flows", "list"]), None);
    assert_eq!(none.code, 2, "{none:?}");
    assert!(none.stderr.contains("FLOWGATE_SERVER"), "{none:?}");

    // Nobody listening: exit 3.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let unreachable = cli.run(&["flows", "list", "--server", &dead]);
    assert_eq!(unreachable.code, 3, "{unreachable:?}");
    assert!(unreachable.stderr.contains(&dead), "{unreachable:?}");

    // Nothing was created by the refused requests.
    assert_eq!(cli.json(&["accounts", "list"])["items"], json!([]));
}

/// Issue #15: the usage controls are set, shown, filtered and removed from
/// the CLI.
#[test]
fn usage_controls_are_set_and_removed_from_the_cli() {
    let app = start(Options::new());
    let cli = Cli::new(&app);
    let created = cli.json(&[
        "accounts",
        "create",
        "metered",
        "--type",
        "api_key",
        "--limits",
        "burst=20/second,hourly=5000/hour",
        "--quota",
        "1000/monthly",
        "--expires-in",
        "86400",
        "--allowed-ips",
        "10.0.0.0/8,2001:db8::/32",
        "--metadata",
        r#"{"tenant":"acme"}"#,
    ]);
    let id = created["id"].as_str().expect("id").to_owned();
    let shown = cli.json(&["accounts", "get", &id]);
    assert_eq!(
        shown["limits"][1],
        serde_json::json!({"name": "hourly", "limit": 5000, "window": "hour"})
    );
    assert_eq!(shown["quota"]["limit"], 1000);
    assert_eq!(shown["quota"]["refill"], "monthly");
    assert_eq!(
        shown["allowed_ips"],
        serde_json::json!(["10.0.0.0/8", "2001:db8::/32"])
    );
    assert_eq!(shown["metadata"], serde_json::json!({"tenant": "acme"}));
    assert!(shown["expires_at"].is_u64());
    let soon = cli.json(&["accounts", "list", "--expires-within-days", "2"]);
    assert_eq!(soon["items"].as_array().map(Vec::len), Some(1), "{soon}");
    let updated = cli.json(&[
        "accounts",
        "update",
        &id,
        "--limits",
        "",
        "--quota",
        "none",
        "--metadata",
        "null",
        "--allowed-ips",
        "",
    ]);
    for field in ["limits", "quota", "metadata", "allowed_ips"] {
        assert!(updated.get(field).is_none(), "{field} still set: {updated}");
    }
    let bad = cli.run(&["accounts", "update", &id, "--limits", "burst=20"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("--limits"), "{}", bad.stderr);
    let refused = cli.run(&["accounts", "update", &id, "--limits", "x=1/week"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("limits"), "{}", refused.stderr);

    // Usage figures (issue 15 item 7): opt in, then read them back.
    let opted = cli.json(&["accounts", "update", &id, "--record-usage", "true"]);
    assert_eq!(opted["record_usage"], true, "{opted}");
    assert_eq!(opted["recorded"], true, "{opted}");
    let figures = cli.json(&["accounts", "usage", &id]);
    assert_eq!(figures["account_id"], id.as_str(), "{figures}");
    assert_eq!(figures["recorded"], true, "{figures}");
    assert_eq!(figures["totals"]["allowed"], 0, "{figures}");
    assert_eq!(
        figures["to"].as_u64().map(|t| t % 3600),
        Some(0),
        "{figures}"
    );
    let table = cli.run(&["accounts", "usage", &id]).ok();
    assert!(
        table.stdout.contains("RATE LIMITED") && table.stdout.contains("total"),
        "{table:?}"
    );
    let too_old = cli.run(&["accounts", "usage", &id, "--from", "5"]);
    assert_eq!(too_old.code, 1, "{too_old:?}");
    assert!(too_old.stderr.contains("from"), "{too_old:?}");
}

#[test]
fn roles_groups_flows_audit_and_prune_run_from_the_cli() {
    let app = start(Options::new());
    let cli = Cli::new(&app);
    let id = cli.json(&["accounts", "create", "member", "--type", "api_key"])["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Roles.
    let role = cli.json(&[
        "roles",
        "create",
        "pruner",
        "--permissions",
        "maintenance:write",
        "--description",
        "cron",
    ]);
    assert_eq!(role["permissions"], json!(["maintenance:write"]));
    let roles = cli.run(&["roles", "list"]).ok();
    assert!(roles.stdout.contains("admin") && roles.stdout.contains("pruner"));
    assert_eq!(cli.json(&["roles", "get", "auditor"])["built_in"], true);
    let bad_role = cli.run(&["roles", "create", "x", "--permissions", "everything"]);
    assert_eq!(bad_role.code, 1, "{bad_role:?}");
    assert!(
        bad_role.stderr.contains("field: permissions"),
        "{bad_role:?}"
    );
    cli.run(&["roles", "delete", "pruner"]).ok();
    assert_eq!(cli.run(&["roles", "get", "pruner"]).code, 1);

    // Groups, members, and grants to a group.
    cli.run(&["groups", "create", "partners", "--description", "external"])
        .ok();
    cli.run(&["groups", "add-member", "partners", &id]).ok();
    cli.run(&["grants", "add", "--flow", "reports", "--group", "partners"])
        .ok();
    let group = cli.json(&["groups", "get", "partners"]);
    assert_eq!(group["members"], json!([id]));
    assert_eq!(group["grants"], json!(["reports"]));
    let via = cli.run(&["grants", "list", "--account", &id]).ok();
    assert!(via.stdout.contains("group:partners"), "{via:?}");
    let by_flow = cli.run(&["grants", "list", "--flow", "reports"]).ok();
    assert!(by_flow.stdout.contains("group") && by_flow.stdout.contains("partners"));
    let busy = cli.run(&["groups", "delete", "partners"]);
    assert_eq!(busy.code, 1, "{busy:?}");
    assert!(busy.stderr.contains("409"), "{busy:?}");
    cli.run(&[
        "grants", "remove", "--flow", "reports", "--group", "partners",
    ])
    .ok();
    cli.run(&["groups", "remove-member", "partners", &id]).ok();
    cli.run(&["groups", "delete", "partners"]).ok();
    assert!(
        !cli.run(&["groups", "list"])
            .ok()
            .stdout
            .contains("partners")
    );

    // Flows.
    let flows = cli.run(&["flows", "list"]).ok();
    assert!(flows.stdout.contains("/flows/orders") && flows.stdout.contains("/flows/reports"));
    assert_eq!(
        cli.json(&["flows", "get", "reports"])["methods"],
        json!(["GET"])
    );

    // Audit: filtered by target, paged with --all.
    let audit = cli.json(&["audit", "list", "--target", &format!("account:{id}")]);
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["account.create"], "{audit}");
    let everything = cli.json(&["audit", "list", "--limit", "2", "--all"]);
    let count = everything["items"].as_array().map_or(0, Vec::len);
    assert!(count >= 9, "--all followed {count} entries: {everything}");
    let page = cli.run(&["audit", "list", "--limit", "2"]).ok();
    assert!(page.stderr.contains("--before"), "{page:?}");

    // Prune.
    let pruned = cli.json(&["prune"]);
    assert!(
        pruned["deleted"].is_object() && pruned["kept"].is_number(),
        "{pruned}"
    );
}

/// A self-signed client certificate valid until the first day of `year`.
fn certificate(year: i32) -> String {
    common::certs::certificate_until("client.cli.test", year).pem
}

#[test]
fn keys_and_certificates_rotate_with_material_read_from_files() {
    let app = start(Options::new());
    let cli = Cli::new(&app);

    // private_key_jwt: create with one key, add a second, retire the first.
    // The name and the first key id start with `-`, as both may: read as
    // values, not as options.
    let first = scratch("key1.pem");
    write(&first, &Ed25519KeyPair::generate().public_key().to_pem());
    let second = scratch("key2.pem");
    write(&second, &Ed25519KeyPair::generate().public_key().to_pem());
    let signer = cli.json(&[
        "accounts",
        "create",
        "-signer",
        "--type",
        "private_key_jwt",
        "--public-key",
        first.to_str().expect("path"),
        "--key-id=-k1",
    ]);
    let signer_id = signer["id"].as_str().expect("id").to_owned();
    assert!(signer.get("client_id").is_some(), "{signer}");
    assert_eq!(signer["name"], "-signer", "{signer}");
    let added = cli.json(&[
        "keys",
        "add",
        &signer_id,
        "--public-key",
        second.to_str().expect("path"),
        "--key-id",
        "k2",
    ]);
    assert_eq!(
        added["public_keys"].as_array().map(Vec::len),
        Some(2),
        "{added}"
    );
    cli.run(&["keys", "retire", &signer_id, "-k1"]).ok();
    let kids: Vec<Value> = cli.json(&["accounts", "get", &signer_id])["public_keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids, [json!("k2")]);
    let last = cli.run(&["keys", "retire", &signer_id, "k2"]);
    assert_eq!(last.code, 1, "{last:?}");

    // mtls: create with one certificate, add a second, retire the first.
    let cert1 = scratch("cert1.pem");
    write(&cert1, &certificate(2040));
    let cert2 = scratch("cert2.pem");
    write(&cert2, &certificate(2041));
    let erp = cli.json(&[
        "accounts",
        "create",
        "erp",
        "--type",
        "mtls",
        "--certificate",
        cert1.to_str().expect("path"),
        "--flows",
        "orders",
    ]);
    let erp_id = erp["id"].as_str().expect("id").to_owned();
    let old = erp["certificates"][0]["thumbprint"]
        .as_str()
        .expect("thumbprint")
        .to_owned();
    let added = cli.json(&[
        "certificates",
        "add",
        &erp_id,
        "--certificate",
        cert2.to_str().expect("path"),
    ]);
    assert_eq!(
        added["certificates"].as_array().map(Vec::len),
        Some(2),
        "{added}"
    );
    cli.run(&["certificates", "retire", &erp_id, &old]).ok();
    let left = cli.json(&["accounts", "get", &erp_id]);
    assert_eq!(
        left["certificates"].as_array().map(Vec::len),
        Some(1),
        "{left}"
    );
    assert_ne!(left["certificates"][0]["thumbprint"], old.as_str());

    // An expired certificate is refused by the server, naming the field.
    let expired = scratch("expired.pem");
    write(&expired, &certificate(2021));
    let refused = cli.run(&[
        "certificates",
        "add",
        &erp_id,
        "--certificate",
        expired.to_str().expect("path"),
    ]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("field: certificate"), "{refused:?}");
}

#[test]
fn apply_round_trip_shows_exactly_the_change_then_applies_it() {
    let app = start(Options::new());
    let cli = Cli::new(&app);
    let id = cli.json(&[
        "accounts",
        "create",
        "partner-b",
        "--type",
        "basic",
        "--flows",
        "orders",
    ])["id"]
        .as_str()
        .expect("id")
        .to_owned();
    cli.run(&["groups", "create", "ops"]).ok();

    let file = scratch("accounts.json");
    let path = file.to_str().expect("path");
    cli.run(&["export", "-f", path]).ok();
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("export"))
        .expect("export is JSON");
    assert_eq!(doc["format"], "flowgate/v1");

    // Unchanged document: no drift.
    let clean = cli.run(&["apply", "-f", path, "--dry-run"]);
    assert_eq!(clean.code, 0, "{clean:?}");
    assert!(clean.stdout.contains("No changes"), "{clean:?}");

    // Edit one account's description.
    let account = doc["accounts"]
        .as_array_mut()
        .expect("accounts")
        .iter_mut()
        .find(|a| a["id"] == id.as_str())
        .expect("exported account");
    account["description"] = json!("changed in git");
    write(&file, &serde_json::to_string_pretty(&doc).expect("json"));

    let drift = cli.run(&["apply", "-f", path, "--dry-run"]);
    assert_eq!(drift.code, 4, "{drift:?}");
    let change_lines: Vec<&str> = drift
        .stdout
        .lines()
        .filter(|l| l.starts_with("create") || l.starts_with("update"))
        .collect();
    assert_eq!(change_lines.len(), 1, "{drift:?}");
    assert!(
        change_lines[0].contains("account") && change_lines[0].contains(&id),
        "{drift:?}"
    );
    assert!(drift.stdout.contains("1 unchanged"), "{drift:?}");
    // The dry run wrote nothing.
    assert_eq!(cli.json(&["accounts", "get", &id])["description"], "");
    let drift_json = cli.run(&["apply", "-f", path, "--dry-run", "--output", "json"]);
    assert_eq!(drift_json.code, 4, "{drift_json:?}");
    assert_eq!(
        drift_json.json()["changes"],
        json!([{"kind": "account", "name": id, "action": "update"}])
    );

    cli.run(&["apply", "-f", path]).ok();
    assert_eq!(
        cli.json(&["accounts", "get", &id])["description"],
        "changed in git"
    );
    let again = cli.run(&["apply", "-f", path, "--dry-run"]);
    assert_eq!(again.code, 0, "{again:?}");

    // A file that is not JSON is a usage error; one the server refuses
    // names the place.
    write(&file, "not json");
    assert_eq!(cli.run(&["apply", "-f", path, "--dry-run"]).code, 2);
    write(
        &file,
        &json!({"format": "flowgate/v1", "accounts": [{"id": id}]}).to_string(),
    );
    let invalid = cli.run(&["apply", "-f", path]);
    assert_eq!(invalid.code, 1, "{invalid:?}");
    assert!(invalid.stderr.contains("field: accounts[0]"), "{invalid:?}");
}

#[test]
fn every_route_the_cli_calls_is_in_the_served_openapi_document() {
    let app = start(Options::new());
    let cli = Cli::new(&app);
    let doc = app.send("GET", "/admin/v1/openapi.json", &[], b"").json();
    let routes = cli.run(&["api-routes"]).ok();
    let mut seen = 0;
    for line in routes.stdout.lines() {
        let (method, path) = line.split_once(' ').expect("METHOD /path");
        let template = path.strip_prefix("/admin/v1").expect("under /admin/v1");
        let documented = doc["paths"][template].get(method.to_ascii_lowercase());
        assert!(
            documented.is_some(),
            "{method} {path} is not in openapi.json"
        );
        seen += 1;
    }
    assert!(seen >= 30, "only {seen} routes listed: {routes:?}");
}

#[test]
fn login_stores_server_and_token_privately_and_flags_beat_environment_beat_file() {
    let app = start(Options::new());
    let cli = Cli::new(&app);

    // A wrong token is not stored.
    let mut wrong = cli.bare(&["login", "--server", &cli.server]);
    wrong.env("FLOWGATE_API_TOKEN", "wrong-token-for-login");
    let wrong = output(wrong, None);
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(!cli.config_file().exists());

    // The token from standard input, checked, then stored with mode 0600.
    let login = output(
        cli.bare(&["login", "--server", &cli.server]),
        Some(&format!("{}\n", cli.token)),
    );
    assert_eq!(login.code, 0, "{login:?}");
    let file = cli.config_file();
    assert!(
        login.stdout.contains(file.to_str().expect("path")),
        "{login:?}"
    );
    assert!(!login.stdout.contains(&cli.token), "login echoed the token");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file)
            .expect("config")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let stored = std::fs::read_to_string(&file).expect("config");
    assert!(stored.contains(&cli.token) && stored.contains(&cli.server));

    // The file alone is enough.
    let from_file = output(cli.bare(&["flows", "list"]), None);
    assert_eq!(from_file.code, 0, "{from_file:?}");

    // The environment beats the file: a dead server in FLOWGATE_SERVER is used.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let dead = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let mut env_wins = cli.bare(&["flows", "list"]);
    env_wins.env("FLOWGATE_SERVER", &dead);
    assert_eq!(output(env_wins, None).code, 3);
    // The flag beats the environment.
    let mut flag_wins = cli.bare(&["flows", "list", "--server", &cli.server]);
    flag_wins.env("FLOWGATE_SERVER", &dead);
    assert_eq!(output(flag_wins, None).code, 0);
    // Same for the token: a wrong one in the environment beats the file ...
    let mut env_token = cli.bare(&["flows", "list"]);
    env_token.env("FLOWGATE_API_TOKEN", "wrong-token-from-env");
    assert_eq!(output(env_token, None).code, 1);
    // ... and the flag beats the environment.
    let mut flag_token = cli.bare(&["flows", "list", "--api-token", &cli.token]);
    flag_token.env("FLOWGATE_API_TOKEN", "wrong-token-from-env");
    assert_eq!(output(flag_token, None).code, 0);

    // A secret the CLI prints never reaches the config file.
    let created = output(
        cli.bare(&[
            "accounts",
            "create",
            "after-login",
            "--type",
            "api_key",
            "-q",
        ]),
        None,
    );
    assert_eq!(created.code, 0, "{created:?}");
    let secret = created.stdout.trim();
    assert!(secret.starts_with("fgak_"), "{created:?}");
    assert_eq!(occurrences(&created.stdout, secret), 1);
    let after = std::fs::read_to_string(&file).expect("config");
    assert_eq!(after, stored, "the config file changed");
    assert!(!after.contains(secret));
}

/// Every command's help, found by walking the `Commands:` sections.
fn subcommands(path: &[&str]) -> Vec<String> {
    let mut args: Vec<&str> = path.to_vec();
    args.push("--help");
    let help = output(
        {
            let mut c = Command::new(env!("CARGO_BIN_EXE_flowgate"));
            c.args(&args);
            c
        },
        None,
    );
    assert_eq!(help.code, 0, "{help:?}");
    help.stdout
        .split("Commands:\n")
        .nth(1)
        .map(|section| {
            section
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .filter_map(|l| l.split_whitespace().next())
                .filter(|name| *name != "help")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_command_has_help_with_an_example_and_completions_cover_them() {
    let nouns = subcommands(&[]);
    assert!(nouns.len() >= 14, "{nouns:?}");
    let mut checked = 0;
    for noun in &nouns {
        let verbs = subcommands(&[noun]);
        let leaves: Vec<Vec<&str>> = if verbs.is_empty() {
            vec![vec![noun.as_str()]]
        } else {
            verbs
                .iter()
                .map(|v| vec![noun.as_str(), v.as_str()])
                .collect()
        };
        for leaf in leaves {
            let mut args = leaf.clone();
            args.push("--help");
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowgate"));
            cmd.args(&args);
            let help = output(cmd, None);
            assert_eq!(help.code, 0, "{leaf:?}: {help:?}");
            assert!(
                help.stdout.contains("Example") && help.stdout.contains("flowgate "),
                "{leaf:?} has no example: {}",
                help.stdout
            );
            checked += 1;
        }
    }
    assert!(checked >= 35, "only {checked} commands checked");

    for shell in ["bash", "zsh", "fish"] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowgate"));
        cmd.args(["completions", shell]);
        let script = output(cmd, None).ok();
        for word in ["accounts", "reset-credential", "certificates", "apply"] {
            assert!(
                script.stdout.contains(word),
                "{shell} completion lacks {word}"
            );
        }
    }
}

#[test]
fn issue17_generate_writes_the_service_key_once_to_a_private_file_or_stdout() {
    // A private_key_jwt key pair needs no CA, so this app needs none.
    let app = start(Options::new());
    let cli = Cli::new(&app);
    let file = scratch("service-key");
    let file_text = file.to_string_lossy().into_owned();
    let run = cli
        .run(&[
            "accounts",
            "create",
            "gen-signer",
            "--type",
            "private_key_jwt",
            "--generate",
            "--algorithm",
            "EdDSA",
            "--flows",
            "orders",
            "--service-key-file",
            &file_text,
        ])
        .ok();
    let text = std::fs::read_to_string(&file).expect("service key file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the service key file is private");
    }
    let key: Value = serde_json::from_str(&text).expect("JSON service key");
    assert_eq!(key["algorithm"], "EdDSA");
    assert!(
        key["key"]
            .as_str()
            .expect("key")
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    // The key went to the file only: not to the terminal output.
    assert!(!run.stdout.contains("PRIVATE KEY"), "{run:?}");
    assert!(!run.stderr.contains("PRIVATE KEY"), "{run:?}");
    assert!(run.stdout.contains("gen-signer"));
    // The file is never overwritten: a second run refuses before calling.
    let again = cli.run(&[
        "accounts",
        "create",
        "gen-signer-2",
        "--type",
        "private_key_jwt",
        "--generate",
        "--service-key-file",
        &file_text,
    ]);
    assert_eq!(again.code, 2, "{again:?}");
    assert_eq!(std::fs::read_to_string(&file).expect("file"), text);
    let listed = cli.json(&["accounts", "list"]);
    assert!(
        !listed.to_string().contains("gen-signer-2"),
        "nothing was created"
    );
    // Without a file: the service key alone on standard output.
    let id = key["account_id"].as_str().expect("id").to_owned();
    let rotated = cli.run(&["keys", "add", &id, "--generate"]).ok();
    let second: Value = serde_json::from_str(&rotated.stdout).expect("only the service key");
    assert_eq!(second["algorithm"], "ES256", "the default");
    assert_ne!(second["key_id"], key["key_id"]);
    let account = cli.json(&["accounts", "get", &id]);
    assert_eq!(account["public_keys"].as_array().map(Vec::len), Some(2));
    std::fs::remove_file(&file).ok();
}

/// `flowgate signing-key` on its own: no server, no token.
fn signing_key(args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowgate"));
    cmd.arg("signing-key")
        .args(args)
        .env_remove("FLOWGATE_SERVER")
        .env_remove("FLOWGATE_API_TOKEN")
        .stdin(Stdio::null());
    output(cmd, stdin)
}

#[test]
fn issue16_signing_key_prints_a_new_bound_key_and_from_seed_keeps_the_same_key() {
    use flowgate::token::SigningKeys;
    let one = signing_key(&[], None).ok();
    let two = signing_key(&[], None).ok();
    let value = one.stdout.trim_end_matches('\n');
    assert_eq!(value.len(), 192, "{one:?}");
    assert!(value.bytes().all(|b| b.is_ascii_hexdigit()), "{one:?}");
    assert_ne!(value, two.stdout.trim_end(), "two runs, two keys");
    // The app accepts it, and it is the seed's own key.
    let bound = SigningKeys::from_variables(value, "").expect("a valid signing_key");
    let plain = SigningKeys::from_variables(&value[..64], "").expect("its seed");
    assert_eq!(bound.jwks(), plain.jwks());

    // RFC 8032 section 7.1 TEST 1: the seed in, its public key in the value.
    let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    let public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let upgraded = signing_key(&["--from-seed"], Some(&format!("{seed}\n"))).ok();
    let upgraded = upgraded.stdout.trim_end();
    assert_eq!(&upgraded[..64], seed);
    assert_eq!(&upgraded[64..128], public);
    // A bound value comes back unchanged: upgrading twice is harmless.
    let again = signing_key(&["--from-seed"], Some(upgraded)).ok();
    assert_eq!(again.stdout.trim_end(), upgraded);

    // Not a key, or another seed's public key: a usage error naming the
    // variable, nothing on standard output, the input never echoed.
    let swapped = format!("{}{}", &upgraded[..64], &value[64..]);
    for bad in ["not a key".to_owned(), seed[..62].to_owned(), swapped] {
        let run = signing_key(&["--from-seed"], Some(&bad));
        assert_eq!(run.code, 2, "{run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
        assert!(run.stderr.contains("`signing_key`"), "{run:?}");
        assert!(!run.stderr.contains(&bad), "{run:?}");
    }
}
