//! The subset of Spin's application manifest (`spin_manifest_version = 2`)
//! that the test host understands (application, variables, HTTP triggers and
//! components), and the checks Spin's loader makes before anything runs.
//!
//! Every check is read from Spin's source at the release tag `v4.0.2`
//! (identical at `v3.6.3`): `crates/manifest/src/schema/v2.rs` and
//! `common.rs` (unknown fields are refused; ids are kebab-case, variable
//! names lower snake case, key-value labels either), `crates/serde/src/id.rs`
//! (the id rules), `crates/loader/src/local.rs` (`required` xor `default`;
//! every component's `allowed_outbound_hosts` validated, templates expanded
//! with the variables' DEFAULT values), `crates/expressions/src/lib.rs`
//! (variable names, templates over undeclared variables) and
//! `crates/app/src/lib.rs` (a trigger naming a missing component). Tables
//! Spin reads but the host does not use (`build`, `files`, `tool`, ...) are
//! accepted and ignored, as `spin up` ignores `build`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::Deserialize;

use crate::template::{Part, parse_template};

/// A parsed `spin.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Must be 2.
    pub spin_manifest_version: toml::Value,
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
#[serde(deny_unknown_fields)]
pub struct Application {
    /// Application name, shown by `/.well-known/spin/info`.
    pub name: String,
    /// Accepted, unused.
    #[serde(default)]
    pub version: Option<String>,
    /// Accepted, unused.
    #[serde(default)]
    pub description: Option<String>,
    /// Accepted, unused.
    #[serde(default)]
    pub authors: Option<Vec<String>>,
    /// Accepted, unused.
    #[serde(default)]
    pub targets: Option<toml::Value>,
    /// `[application.trigger.http]`: accepted, unused.
    #[serde(default)]
    pub trigger: Option<toml::Value>,
    /// Settings of other tools: ignored, as by Spin.
    #[serde(default)]
    pub tool: Option<toml::Value>,
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
    /// Accepted, unused.
    #[serde(default)]
    pub description: Option<String>,
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
    /// The trigger's id, if the manifest gives one.
    #[serde(default)]
    pub id: Option<String>,
}

impl HttpTrigger {
    /// The id Spin gives the trigger: its own, or `<component>-http-trigger`
    /// (`crates/manifest/src/normalize.rs`, first choice of a free id).
    pub fn id(&self) -> String {
        self.id
            .clone()
            .unwrap_or_else(|| format!("{}-http-trigger", self.component))
    }
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
#[serde(deny_unknown_fields)]
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
    /// Fields Spin knows that the host does not use: accepted, ignored.
    #[serde(default)]
    pub description: Option<String>,
    /// Accepted, ignored.
    #[serde(default)]
    pub build: Option<toml::Value>,
    /// Accepted, ignored (the host mounts no files).
    #[serde(default)]
    pub files: Option<toml::Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub exclude_files: Option<toml::Value>,
    /// Accepted, ignored (no SQLite API in the host).
    #[serde(default)]
    pub sqlite_databases: Option<toml::Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub ai_models: Option<toml::Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub targets: Option<toml::Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub tool: Option<toml::Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub profile: Option<toml::Value>,
    /// Refused when set: the host does not compose dependencies.
    #[serde(default)]
    pub dependencies: Option<toml::Value>,
    /// Accepted, ignored.
    #[serde(default)]
    pub dependencies_inherit_configuration: Option<bool>,
    /// Refused when set: deprecated in Spin, not supported here.
    #[serde(default)]
    pub allowed_http_hosts: Option<toml::Value>,
}

/// Spin's id rule (`spin_serde::Id`): words separated by `delim`, each
/// starting with an ASCII letter and all lower or all upper case; `lower`
/// forbids upper-case words. Returns the reason an id is refused.
pub fn check_id(id: &str, delim: char, lower: bool) -> std::result::Result<(), String> {
    if id.is_empty() {
        return Err("empty".into());
    }
    let wrong = if delim == '_' { '-' } else { '_' };
    if id.contains(wrong) {
        return Err(format!(
            "words must be separated with {delim:?}, not {wrong:?}"
        ));
    }
    for word in id.split(delim) {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            return Err(format!("{delim:?}-separated words must not be empty"));
        };
        if !first.is_ascii_alphabetic() {
            return Err(format!(
                "{delim:?}-separated words must start with an ASCII letter; got {first:?}"
            ));
        }
        let upper = first.is_ascii_uppercase();
        for c in chars {
            if c.is_ascii_digit() {
                continue;
            }
            if !c.is_ascii_alphanumeric() {
                return Err(format!(
                    "{delim:?}-separated words may only contain alphanumeric ASCII; got {c:?}"
                ));
            }
            if c.is_ascii_uppercase() != upper {
                return Err(format!(
                    "{delim:?}-separated words must be all lowercase or all UPPERCASE; got {word:?}"
                ));
            }
        }
        if lower && upper {
            return Err(format!(
                "Lower-case identifiers must be all lowercase; got {id:?}"
            ));
        }
    }
    Ok(())
}

impl Manifest {
    /// Reads and checks a manifest file, with Spin's outer messages.
    pub fn load(path: &Path) -> Result<Self> {
        let shown = format!("{:?}", path.display().to_string());
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("Failed to read Spin app manifest from {shown}"))?;
        let manifest = Self::parse_only(&text)
            .with_context(|| format!("Failed to read Spin app manifest from {shown}"))?;
        manifest
            .validate()
            .with_context(|| format!("Failed to load Spin app from {shown}"))?;
        Ok(manifest)
    }

    /// Parses and checks manifest text.
    pub fn parse(text: &str) -> Result<Self> {
        let manifest = Self::parse_only(text)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Parses the TOML and the parts that Spin's schema types check while
    /// deserialising (version, ids, names, labels).
    fn parse_only(text: &str) -> Result<Self> {
        let manifest: Manifest = toml::from_str(text)?;
        let version = &manifest.spin_manifest_version;
        if version.as_integer() != Some(2) {
            let shown = match (version.as_integer(), version.as_str()) {
                (Some(n), _) => n.to_string(),
                (_, Some(s)) => format!("{s:?}"),
                _ => format!("{version:?}"),
            };
            bail!(
                "invalid manifest version: {shown} (this host reads only spin_manifest_version = 2)"
            );
        }
        for name in manifest.variables.keys() {
            check_id(name, '_', true)
                .map_err(|r| anyhow!("invalid variable name {name:?}: {r}"))?;
        }
        for (id, c) in &manifest.component {
            check_id(id, '-', false).map_err(|r| anyhow!("invalid component id {id:?}: {r}"))?;
            for label in &c.key_value_stores {
                if check_id(label, '-', false).is_err() && check_id(label, '_', false).is_err() {
                    bail!(
                        "component {id:?}: key_value_stores label {label:?}: expected kebab-case or snake_case"
                    );
                }
            }
            for name in c.variables.keys() {
                check_id(name, '_', true).map_err(|r| {
                    anyhow!("component {id:?}: invalid variable name {name:?}: {r}")
                })?;
            }
            if c.dependencies.is_some() || c.allowed_http_hosts.is_some() {
                bail!(
                    "component {id:?}: `dependencies` and the deprecated `allowed_http_hosts` are not supported by this test host"
                );
            }
        }
        Ok(manifest)
    }

    /// The loader's and the runtime's refusals, in the order Spin meets them.
    fn validate(&self) -> Result<()> {
        for (name, var) in &self.variables {
            // crates/loader/src/local.rs `locked_variable`.
            if var.required == var.default.is_some() {
                bail!("must be `required` OR have a `default` (variable {name:?})");
            }
            // crates/expressions `Key::validate`, run by `Resolver::new`.
            crate::template::check_name(name).map_err(|r| anyhow!("invalid variable name: {r}"))?;
        }
        let defaults: BTreeMap<&str, Option<&str>> = self
            .variables
            .iter()
            .map(|(k, v)| (k.as_str(), v.default.as_deref()))
            .collect();
        for (id, c) in &self.component {
            crate::outbound::validate(&c.allowed_outbound_hosts, &defaults)
                .context("`allowed_outbound_hosts` is malformed")
                .with_context(|| format!("Failed to load component `{id}`"))?;
        }
        // At startup (factor-variables `configure_app`): component variable
        // templates may name declared application variables only.
        for c in self.component.values() {
            for template in c.variables.values() {
                for part in parse_template(template)? {
                    if let Part::Expr(name) = part
                        && !self.variables.contains_key(&name)
                    {
                        bail!("invalid variable template: unknown variable {name:?}");
                    }
                }
            }
        }
        for trigger in &self.trigger.http {
            if !self.component.contains_key(&trigger.component) {
                bail!(
                    "missing component {:?} configured for trigger {:?}",
                    trigger.component,
                    trigger.id()
                );
            }
            if let RouteConfig::Private { private: false } = trigger.route {
                bail!(
                    "route must be a string pattern or '{{ private = true }}': '{}' has {{ private = false }}",
                    trigger.component
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "spin_manifest_version = 2\n[application]\nname = \"t\"\n";

    fn refused(extra: &str) -> String {
        match Manifest::parse(&format!("{BASE}{extra}")) {
            Ok(_) => panic!("accepted:\n{extra}"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn ids_follow_spin_serde() {
        assert!(check_id("orders_upstream", '_', true).is_ok());
        assert!(check_id("a1_b2", '_', true).is_ok());
        assert!(check_id("a_1", '_', true).is_err());
        assert!(check_id("Orders", '_', true).is_err());
        assert!(check_id("my-component", '-', false).is_ok());
        assert!(check_id("MY-component", '-', false).is_ok());
        assert!(check_id("my_component", '-', false).is_err());
        assert!(check_id("a--b", '-', false).is_err());
    }

    #[test]
    fn variable_with_both_required_and_default_is_refused() {
        let e = refused("[variables]\nx = { required = true, default = \"1\" }\n");
        assert!(e.contains("must be `required` OR have a `default`"), "{e}");
        let e = refused("[variables]\nx = { }\n");
        assert!(e.contains("must be `required` OR have a `default`"), "{e}");
    }

    #[test]
    fn bad_variable_names_are_refused() {
        let e = refused("[variables]\nBad = { default = \"1\" }\n");
        assert!(e.contains("invalid variable name"), "{e}");
        let e = refused("[variables]\nx_1 = { default = \"1\" }\n");
        assert!(e.contains("must start with an ASCII letter"), "{e}");
    }

    #[test]
    fn unknown_fields_are_refused_and_known_ones_accepted() {
        let e = refused("[variables]\nx = { default = \"1\", secrett = true }\n");
        assert!(e.contains("unknown field"), "{e}");
        let ok = format!(
            "{BASE}[variables]\nx = {{ default = \"1\", description = \"d\" }}\n\
             [component.c]\nsource = \"c.wasm\"\ndescription = \"d\"\n\
             [component.c.build]\ncommand = \"true\"\n"
        );
        assert!(Manifest::parse(&ok).is_ok());
        let e = refused("[component.c]\nsource = \"c.wasm\"\nallowed_outbund_hosts = []\n");
        assert!(e.contains("unknown field"), "{e}");
    }

    #[test]
    fn component_template_naming_an_undeclared_variable_is_refused() {
        let e = refused("[component.c]\nsource = \"c.wasm\"\nvariables = { a = \"{{ nope }}\" }\n");
        assert!(e.contains("unknown variable \"nope\""), "{e}");
        let e = refused("[component.c]\nsource = \"c.wasm\"\nvariables = { a = \"{{ nope\" }\n");
        assert!(e.contains("unmatched '{{'"), "{e}");
    }

    #[test]
    fn bad_key_value_labels_are_refused() {
        let e = refused("[component.c]\nsource = \"c.wasm\"\nkey_value_stores = [\"Bad Label\"]\n");
        assert!(e.contains("expected kebab-case or snake_case"), "{e}");
        // A well-formed label no store defines is refused at startup, once
        // the runtime config is known (`kv::Stores::check_labels`).
    }

    #[test]
    fn trigger_naming_a_missing_component_is_refused() {
        let e = refused("[[trigger.http]]\nroute = \"/...\"\ncomponent = \"ghost\"\n");
        assert!(
            e.contains("missing component \"ghost\" configured for trigger \"ghost-http-trigger\""),
            "{e}"
        );
    }

    #[test]
    fn manifest_version_other_than_2_is_refused() {
        let e = match Manifest::parse("spin_manifest_version = 3\n[application]\nname = \"t\"\n") {
            Ok(_) => panic!("accepted version 3"),
            Err(e) => format!("{e:#}"),
        };
        assert!(e.contains("invalid manifest version: 3"), "{e}");
    }

    #[test]
    fn duplicate_component_tables_are_refused() {
        let e = refused("[component.c]\nsource = \"a.wasm\"\n[component.c]\nsource = \"b.wasm\"\n");
        assert!(e.to_lowercase().contains("duplicate"), "{e}");
    }
}
