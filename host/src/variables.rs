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

use anyhow::{Result, bail};
use wasmtime::component::HasData;

use crate::bindings::fermyon::spin::variables::{Error as VarError, Host};
use crate::manifest::Manifest;
use crate::template::{Part, check_name, parse_template};

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
