//! The app given its variables on `spin up`'s command line instead of the
//! environment, in the forms the README recommends for speed on Spin
//! (README, "Variables"): a TOML file of secrets, a JSON file, and one
//! variable read from a file of its own (`--variable NAME=@FILE`). The same
//! test runs on the test host and, with `FLOWGATE_SPIN`, on real Spin.

mod common;

use common::{Options, fresh_dir, random_hex, signing_key, start, start_fails};
use serde_json::json;

fn arg(prefix: &str, path: &std::path::Path) -> String {
    format!("{prefix}@{}", path.to_str().expect("utf-8 path"))
}

#[test]
fn variables_from_files_on_the_command_line_configure_the_app_and_beat_the_environment() {
    let dir = fresh_dir("variables");
    let admin_token = format!("adm-{}", random_hex(20));
    let secrets = dir.join("secrets.toml");
    std::fs::write(
        &secrets,
        format!(
            "admin_token = \"{admin_token}\"\nhmac_pepper = \"{}\"\n",
            random_hex(32)
        ),
    )
    .expect("write");
    let issuer = dir.join("issuer.json");
    std::fs::write(&issuer, r#"{"issuer": "https://from-the-file.example"}"#).expect("write");
    let key = dir.join("signing_key.txt");
    std::fs::write(&key, signing_key()).expect("write");

    let options = Options::new()
        // Nothing of these in the environment: the files must supply them.
        .variable("admin_token", None)
        .variable("hmac_pepper", None)
        .variable("signing_key", None)
        // In the environment too; the command line wins, as in Spin.
        .variable("issuer", Some("https://from-the-environment.example"))
        .variable_arg(&arg("", &secrets))
        .variable_arg(&arg("", &issuer))
        .variable_arg(&arg("signing_key=", &key));
    let mut app = start(options);
    app.admin_token = admin_token;

    let metadata = app
        .send("GET", "/.well-known/oauth-authorization-server", &[], b"")
        .json();
    assert_eq!(
        metadata["issuer"], "https://from-the-file.example",
        "{metadata}"
    );

    // The admin token and the pepper from the TOML file: an account is made
    // and its key works at the edge; the signing key from its own file
    // signs a token that is accepted there too.
    let (_, key) = app.create_account(json!({
        "name": "from-files", "credential_type": "api_key", "flows": ["orders"]
    }));
    assert_eq!(app.at_orders(&[("X-API-Key", &key)]), 200);
    let (client, secret) = app.client_credentials(&["orders"]);
    let token = app.issue_token(&client, &secret);
    assert_eq!(
        app.at_orders(&[("Authorization", &format!("Bearer {token}"))]),
        200
    );
    assert_eq!(
        app.at_orders(&[("X-API-Key", "fgak_not-a-key")]),
        401,
        "a wrong key is still refused"
    );
}

#[test]
fn a_variable_argument_in_no_form_spin_takes_stops_the_start() {
    let out = start_fails(Options::new().variable_arg("just-a-value"));
    assert!(
        out.contains("must be in the form 'key=value' or '@file'"),
        "{out}"
    );
    let out = start_fails(Options::new().variable_arg("@variables.yaml"));
    assert!(out.contains("must end in .json or .toml"), "{out}");
}
