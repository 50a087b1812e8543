//! Application variables and their templates, resolved the way `spin up`
//! resolves them with no runtime config: `--variable` values first, then
//! `SPIN_VARIABLE_<NAME>` environment variables (name upper-cased), then a
//! `.env` file in the working directory (same `SPIN_VARIABLE_` keys), then the
//! manifest default. A required variable that none of these can supply stops
//! startup with Spin's message. Values are resolved once at startup; Spin
//! resolves on each `get`, which gives the same answers for a static
//! environment.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use wasmtime::component::HasData;

use crate::bindings::fermyon::spin::variables::{Error as VarError, Host};
use crate::manifest::Manifest;
use crate::template::{Part, check_name, parse_template};

/// The values one `--variable` argument gives, in the forms `spin up` takes
/// (`crates/variables-static/src/source.rs` at `v4.0.2`, the same at
/// `v3.6.3`): `NAME=VALUE`; `NAME=@FILE`, the file's text as it is
/// (trailing newline included); and `@FILE.json` or `@FILE.toml`, a table
/// of names to string values. Anything else is refused with Spin's message,
/// so a value is never taken for what the caller did not mean. Files are
/// read here, once, as Spin reads them once when it starts.
pub fn cli_variable(arg: &str) -> Result<Vec<(String, String)>> {
    let read = |path: &str| {
        std::fs::read_to_string(path).with_context(|| format!("Failed to read \"{path}\"."))
    };
    if let Some(path) = arg.strip_prefix('@') {
        let table: HashMap<String, String> =
            match Path::new(path).extension().and_then(|e| e.to_str()) {
                Some("json") => serde_json::from_str(&read(path)?)
                    .with_context(|| format!("Failed to parse JSON from \"{path}\"."))?,
                Some("toml") => toml::from_str(&read(path)?)
                    .with_context(|| format!("Failed to parse TOML from \"{path}\"."))?,
                _ => bail!("variable files must end in .json or .toml"),
            };
        let mut pairs: Vec<_> = table.into_iter().collect();
        pairs.sort();
        return Ok(pairs);
    }
    let Some((name, value)) = arg.split_once('=') else {
        bail!("variables must be in the form 'key=value' or '@file'");
    };
    let value = match value.strip_prefix('@') {
        Some(path) => read(path)?,
        None => value.to_owned(),
    };
    Ok(vec![(name.to_owned(), value)])
}

/// Where variable values come from, besides the process environment.
#[derive(Debug, Clone, Default)]
pub struct VariableSources {
    /// `--variable NAME=VALUE` values: highest precedence.
    pub cli: BTreeMap<String, String>,
    /// Path of a dotenv file, `.env` in the working directory by default.
    pub dotenv: Option<std::path::PathBuf>,
}

/// Reads `KEY=VALUE` lines of a dotenv file (comments, `export`, quotes).
fn load_dotenv(path: &Path) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let v = ['"', '\'']
                .iter()
                .find_map(|q| v.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

/// All application variables, resolved.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    values: HashMap<String, String>,
}

impl Resolved {
    /// Resolves every `[variables]` entry; fails like Spin when a required
    /// variable has no value.
    pub fn resolve(manifest: &Manifest, sources: &VariableSources) -> Result<Self> {
        let dotenv = sources
            .dotenv
            .as_deref()
            .map(load_dotenv)
            .unwrap_or_default();
        let mut values = HashMap::new();
        let mut missing = Vec::new();
        for (name, var) in &manifest.variables {
            if let Err(reason) = check_name(name) {
                bail!("invalid variable name: {reason}");
            }
            let env_key = format!("SPIN_VARIABLE_{}", name.to_ascii_uppercase());
            let value = sources
                .cli
                .get(name)
                .cloned()
                .or_else(|| std::env::var(&env_key).ok())
                .or_else(|| dotenv.get(&env_key).cloned())
                .or_else(|| var.default.clone());
            match value {
                Some(v) => {
                    values.insert(name.clone(), v);
                }
                None => missing.push(name.clone()),
            }
        }
        if !missing.is_empty() {
            // Spin's wording (spin-expressions), keys shown as `Key("name")`.
            let keys: Vec<String> = missing.iter().map(|k| format!("Key({k:?})")).collect();
            bail!(
                "provider error: no provider resolved required variable(s): [{}]",
                keys.join(", ")
            );
        }
        Ok(Self { values })
    }

    /// Expands a template; every referenced variable must be declared.
    pub fn expand(&self, template: &str) -> Result<String> {
        let mut out = String::new();
        for part in parse_template(template)? {
            match part {
                Part::Lit(l) => out.push_str(&l),
                Part::Expr(e) => match self.values.get(&e) {
                    Some(v) => out.push_str(v),
                    None => bail!("invalid variable template: unknown variable {e:?}"),
                },
            }
        }
        Ok(out)
    }
}

/// A component's variables, expanded: name to value.
#[derive(Debug, Clone, Default)]
pub struct ComponentVariables {
    /// Component id, used in Spin's `undefined` messages.
    pub component: String,
    /// Expanded values by variable name.
    pub values: HashMap<String, String>,
}

impl ComponentVariables {
    /// Looks a variable up with Spin's error variants.
    pub fn get(&self, name: &str) -> std::result::Result<String, VarError> {
        check_name(name).map_err(VarError::InvalidName)?;
        // Spin registers every component (even one without variables), so
        // an unknown name is always reported per component and key.
        self.values.get(name).cloned().ok_or_else(|| {
            VarError::Undefined(format!("no variable for {:?}.{name:?}", self.component))
        })
    }
}

/// What `fermyon:spin/variables` reaches of an instance: its component's
/// variables.
pub struct VariablesView<'a> {
    /// The component's variables.
    pub variables: &'a ComponentVariables,
    /// Reads made so far by this instance (`FLOWGATE_HOST_KV_LOG`).
    pub reads: &'a mut u32,
}

/// The [`HasData`] of `fermyon:spin/variables`.
pub struct VariablesData;

impl HasData for VariablesData {
    type Data<'a> = VariablesView<'a>;
}

impl Host for VariablesView<'_> {
    async fn get(
        &mut self,
        name: String,
    ) -> wasmtime::Result<std::result::Result<String, VarError>> {
        *self.reads += 1;
        Ok(self.variables.get(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::cli_variable;

    /// A file of `text` in a fresh directory, named `name`.
    fn file(name: &str, text: &str) -> String {
        let dir = std::env::temp_dir().join(format!(
            "flowgate-host-variables-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path.to_str().expect("utf-8 path").to_owned()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_name_and_a_value_are_taken_literally() {
        assert_eq!(
            cli_variable("issuer=https://a.example").expect("ok"),
            pairs(&[("issuer", "https://a.example")])
        );
        // Only the first `=` separates; an empty value is a value.
        assert_eq!(cli_variable("k=a=b").expect("ok"), pairs(&[("k", "a=b")]));
        assert_eq!(cli_variable("k=").expect("ok"), pairs(&[("k", "")]));
    }

    #[test]
    fn a_value_from_a_file_is_its_text_as_it_is() {
        let path = file("pepper.txt", "00ff\n");
        assert_eq!(
            cli_variable(&format!("hmac_pepper=@{path}")).expect("ok"),
            pairs(&[("hmac_pepper", "00ff\n")])
        );
    }

    #[test]
    fn json_and_toml_files_give_every_name_they_hold() {
        let json = file(
            "vars.json",
            r#"{"issuer": "https://j.example", "access_token_ttl": "60"}"#,
        );
        assert_eq!(
            cli_variable(&format!("@{json}")).expect("ok"),
            pairs(&[("access_token_ttl", "60"), ("issuer", "https://j.example")])
        );
        let toml = file(
            "vars.toml",
            "issuer = \"https://t.example\"\nsigning_key_previous = \"\"\n",
        );
        assert_eq!(
            cli_variable(&format!("@{toml}")).expect("ok"),
            pairs(&[
                ("issuer", "https://t.example"),
                ("signing_key_previous", "")
            ])
        );
    }

    #[test]
    fn anything_else_is_refused_with_spins_message() {
        let refused = |arg: &str| format!("{:#}", cli_variable(arg).expect_err(arg));
        assert!(refused("no-equals-sign").contains("must be in the form 'key=value' or '@file'"));
        assert!(refused("@vars.yaml").contains("must end in .json or .toml"));
        assert!(refused("@/nonexistent/vars.toml").contains("Failed to read"));
        assert!(refused("k=@/nonexistent/value.txt").contains("Failed to read"));
        let not_strings = file("numbers.toml", "access_token_ttl = 60\n");
        assert!(refused(&format!("@{not_strings}")).contains("Failed to parse TOML"));
    }
}
