//! Spin's runtime config file (`spin up --runtime-config-file FILE`, env
//! `RUNTIME_CONFIG_FILE`; `crates/trigger/src/cli.rs` and
//! `crates/runtime-config/src/lib.rs` at `v4.0.2`, the same at `v3.6.3`),
//! as far as key-value stores go:
//!
//! ```toml
//! state_dir = ".spin"                # optional; "" means no state dir
//! [key_value_store.default]
//! type = "redis"
//! url = "redis://127.0.0.1:6379/0"
//! [key_value_store.cache]
//! type = "spin"                      # SQLite
//! path = "cache.db"                  # relative to this file; none: in memory
//! ```
//!
//! A label the file does not name keeps Spin's default (only `default`,
//! SQLite in the state dir). Spin refuses keys it does not use; so does
//! this host, and it also refuses the sections Spin knows but this host
//! does not reproduce (variable providers, SQLite databases, LLMs, ...),
//! naming them, rather than ignoring configuration silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

/// Where one key-value store label lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    /// `type = "spin"`: SQLite at `path` (resolved), or in memory.
    Spin {
        /// The database file.
        path: Option<PathBuf>,
    },
    /// `type = "redis"`: the server and database of `url`.
    Redis {
        /// `redis://` or `rediss://` URL.
        url: String,
    },
}

/// What a runtime config file says, as far as this host follows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// `[key_value_store.<label>]` tables.
    pub key_value_stores: BTreeMap<String, StoreConfig>,
    /// Top-level `state_dir`: `Some("")` means "no state dir".
    pub state_dir: Option<String>,
}

/// Sections Spin's runtime config knows that this host does not follow.
const NOT_REPRODUCED: &[&str] = &[
    "variables_provider",
    "config_provider",
    "sqlite_database",
    "llm_compute",
    "outbound_networking",
    "client_tls",
    "otel",
    "log_dir",
    "max_instance_memory",
];

impl RuntimeConfig {
    /// Reads and checks `path`, with Spin's messages where Spin has one.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read runtime config file '{}'", path.display()))?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self::parse(&text, base).with_context(|| {
            format!(
                "failed to parse runtime config file '{}' as toml",
                path.display()
            )
        })
    }

    /// Parses the file's text; relative store paths are resolved against
    /// `base` (the file's directory, as in Spin).
    pub fn parse(text: &str, base: &Path) -> Result<Self> {
        let table: toml::Table = toml::from_str(text)?;
        let mut config = RuntimeConfig::default();
        for (key, value) in &table {
            match key.as_str() {
                "key_value_store" => {
                    let stores = value
                        .as_table()
                        .ok_or_else(|| anyhow!("key_value_store must be a table of labels"))?;
                    for (label, store) in stores {
                        let parsed = store_config(store, base).with_context(|| {
                            format!("could not configure key-value store with label '{label}'")
                        })?;
                        config.key_value_stores.insert(label.clone(), parsed);
                    }
                }
                "state_dir" => {
                    config.state_dir = Some(
                        value
                            .as_str()
                            .ok_or_else(|| anyhow!("state_dir must be a string"))?
                            .to_owned(),
                    );
                }
                other if NOT_REPRODUCED.contains(&other) => {
                    bail!("runtime config `{other}` is Spin's but not reproduced by flowgate-host")
                }
                other => bail!("unused runtime config key(s): {other}"),
            }
        }
        Ok(config)
    }
}

fn store_config(store: &toml::Value, base: &Path) -> Result<StoreConfig> {
    let table = store
        .as_table()
        .ok_or_else(|| anyhow!("a key-value store must be a table"))?;
    let kind = table
        .get("type")
        .and_then(toml::Value::as_str)
        .ok_or_else(|| anyhow!("missing field `type`"))?;
    let string = |name: &str| -> Result<Option<String>> {
        match table.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| anyhow!("`{name}` must be a string")),
        }
    };
    let allow_only = |names: &[&str]| -> Result<()> {
        match table
            .keys()
            .find(|k| k.as_str() != "type" && !names.contains(&k.as_str()))
        {
            Some(k) => bail!("unknown field `{k}` for store type `{kind}`"),
            None => Ok(()),
        }
    };
    match kind {
        "spin" => {
            allow_only(&["path"])?;
            let path = string("path")?.map(|p| {
                let p = PathBuf::from(p);
                if p.is_absolute() { p } else { base.join(p) }
            });
            Ok(StoreConfig::Spin { path })
        }
        "redis" => {
            allow_only(&["url"])?;
            let url = string("url")?.ok_or_else(|| anyhow!("missing field `url`"))?;
            Ok(StoreConfig::Redis { url })
        }
        "azure_cosmos" | "aws_dynamo" => {
            bail!("store type `{kind}` is Spin's but not reproduced by flowgate-host")
        }
        other => bail!("the store type '{other}' was not registered with the config resolver"),
    }
}

/// Spin's startup line naming the stores a runtime config sets up
/// (`ResolvedRuntimeConfig::summarize`).
pub fn summary(config: &RuntimeConfig, path: &Path) -> Option<String> {
    if config.key_value_stores.is_empty() {
        return None;
    }
    let parts: Vec<String> = config
        .key_value_stores
        .iter()
        .map(|(label, store)| {
            let kind = match store {
                StoreConfig::Spin { .. } => "spin",
                StoreConfig::Redis { .. } => "redis",
            };
            format!("[key_value_store.{label}: {kind}]")
        })
        .collect();
    Some(format!(
        "Using runtime config {} from \"{}\"",
        parts.join(", "),
        path.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_and_spin_stores_are_read_with_paths_relative_to_the_file() -> Result<()> {
        let c = RuntimeConfig::parse(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://127.0.0.1:6379/3\"\n\
             [key_value_store.cache]\ntype = \"spin\"\npath = \"kv/cache.db\"\n",
            Path::new("/etc/flowgate"),
        )?;
        assert_eq!(
            c.key_value_stores.get("default"),
            Some(&StoreConfig::Redis {
                url: "redis://127.0.0.1:6379/3".into()
            })
        );
        assert_eq!(
            c.key_value_stores.get("cache"),
            Some(&StoreConfig::Spin {
                path: Some(PathBuf::from("/etc/flowgate/kv/cache.db"))
            })
        );
        Ok(())
    }

    #[test]
    fn unknown_store_type_key_or_field_is_refused() {
        let refused = |text: &str| RuntimeConfig::parse(text, Path::new(".")).is_err();
        assert!(refused("[key_value_store.default]\ntype = \"memcached\"\n"));
        assert!(refused("[key_value_store.default]\ntype = \"redis\"\n"));
        assert!(refused(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\nuser = \"u\"\n"
        ));
        assert!(refused("surprise = 1\n"));
        assert!(refused("[variables_provider]\ntype = \"vault\"\n"));
    }
}
