//! The subset of Spin's application manifest (`spin_manifest_version = 2`)
//! that the test host understands: application, variables, HTTP triggers and
//! components. Unknown tables (such as `[component.NAME.build]`) are ignored,
//! as `spin up` ignores them at run time.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// A parsed `spin.toml`.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    /// Must be 2.
    pub spin_manifest_version: u32,
    /// The `[application]` table.
    pub application: Application,
    /// The `[variables]` table: application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    /// The `[trigger]` table; only `http` triggers are served.
    #[serde(default)]
    pub trigger: Triggers,
    /// The `[component.NAME]` tables.
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

/// The `[application]` table.
#[derive(Debug, Deserialize)]
pub struct Application {
    /// Application name, printed nowhere but kept for completeness.
    pub name: String,
}

/// An application variable: exactly one of `default` or `required = true`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Value used when no provider has one.
    pub default: Option<String>,
    /// Startup fails if no provider has a value.
    #[serde(default)]
    pub required: bool,
    /// Secret values are never logged (the host logs none anyway).
    #[serde(default)]
    pub secret: bool,
}

/// The `[trigger]` table.
#[derive(Debug, Default, Deserialize)]
pub struct Triggers {
    /// `[[trigger.http]]` entries, in manifest order.
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

/// One `[[trigger.http]]` entry.
#[derive(Debug, Deserialize)]
pub struct HttpTrigger {
    /// A route pattern, or `{ private = true }` for an unroutable component.
    pub route: RouteConfig,
    /// The component that handles the route.
    pub component: String,
}

/// A route: a pattern string, or `{ private = true }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RouteConfig {
    /// A routable pattern such as `/api/...`.
    Route(String),
    /// A component reachable only by service chaining.
    Private {
        /// Must be true (Spin rejects `private = false`).
        private: bool,
    },
}

/// A `[component.NAME]` table.
#[derive(Debug, Deserialize)]
pub struct Component {
    /// Path of the `.wasm` file, relative to the manifest's directory.
    pub source: String,
    /// Key-value store labels this component may open.
    #[serde(default)]
    pub key_value_stores: Vec<String>,
    /// Outbound hosts this component may reach; entries may be templates.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: name to template over application variables.
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// WASI environment variables of the component.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

impl Manifest {
    /// Reads and checks a manifest file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read manifest {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("invalid manifest {}", path.display()))
    }

    /// Parses and checks manifest text.
    pub fn parse(text: &str) -> Result<Self> {
        let manifest: Manifest = toml::from_str(text)?;
        if manifest.spin_manifest_version != 2 {
            bail!("only spin_manifest_version = 2 is supported");
        }
        for (name, var) in &manifest.variables {
            // Spin's rule: a variable is either required or has a default.
            if var.required == var.default.is_some() {
                bail!("variable {name:?} must have exactly one of `default` or `required = true`");
            }
        }
        for trigger in &manifest.trigger.http {
            if !manifest.component.contains_key(&trigger.component) {
                bail!(
                    "trigger references unknown component {:?}",
                    trigger.component
                );
            }
            if let RouteConfig::Private { private: false } = trigger.route {
                bail!(
                    "route must be a string pattern or '{{ private = true }}': '{}' has {{ private = false }}",
                    trigger.component
                );
            }
        }
        Ok(manifest)
    }
}
