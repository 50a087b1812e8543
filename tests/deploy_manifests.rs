//! The SpinKube deployment in `deploy/` checked against `spin.toml`, without
//! a cluster: every variable Spin would refuse to start without, and every
//! secret, is bound in the `SpinApp` (secrets only from Kubernetes Secrets);
//! every key-value store the components open is on Redis; the app runs at
//! least two replicas on the Spin shim; the prune CronJob calls the prune
//! route with the app's own admin token; and every Secret key the manifests
//! read is one deploy/README.md tells the operator to create.
//!
//! The lists come from `spin.toml` itself, so a variable added there without
//! a binding here fails this test. The YAML is read with a real YAML parser
//! (`yaml-rust2`), every document of every file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A variable of spin.toml's `[variables]`.
#[derive(Debug)]
struct Variable {
    name: String,
    required: bool,
    secret: bool,
}

fn spin_toml() -> toml::Table {
    let path = root().join("spin.toml");
    read(&path)
        .parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("spin.toml: {e}"))
}

fn spin_variables() -> Vec<Variable> {
    let manifest = spin_toml();
    let table = manifest
        .get("variables")
        .and_then(toml::Value::as_table)
        .expect("spin.toml has a [variables] table");
    let flag = |v: &toml::Value, name: &str| {
        v.get(name)
            .map(|f| f.as_bool().expect("a boolean flag"))
            .unwrap_or(false)
    };
    let variables: Vec<Variable> = table
        .iter()
        .map(|(name, v)| Variable {
            name: name.clone(),
            required: flag(v, "required"),
            secret: flag(v, "secret"),
        })
        .collect();
    assert!(
        variables.iter().any(|v| v.required),
        "spin.toml declares no required variable: did its format change?"
    );
    variables
}

/// The key-value stores the components of spin.toml open.
fn spin_stores() -> BTreeSet<String> {
    let manifest = spin_toml();
    let components = manifest
        .get("component")
        .and_then(toml::Value::as_table)
        .expect("spin.toml has components");
    let stores: BTreeSet<String> = components
        .values()
        .filter_map(|c| c.get("key_value_stores").and_then(toml::Value::as_array))
        .flatten()
        .map(|s| s.as_str().expect("a store name").to_owned())
        .collect();
    assert!(
        !stores.is_empty(),
        "no component of spin.toml opens a store"
    );
    stores
}

/// Every YAML document of every `*.yaml` in deploy/, with its file name.
fn documents() -> Vec<(String, Yaml)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("deploy"))
        .expect("deploy/ exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .expect("a file name")
            .to_string_lossy()
            .into_owned();
        let docs = YamlLoader::load_from_str(&read(&path))
            .unwrap_or_else(|e| panic!("deploy/{name} is not valid YAML: {e}"));
        all.extend(
            docs.into_iter()
                .filter(|d| !d.is_null())
                .map(|d| (name.clone(), d)),
        );
    }
    all
}

fn of_kind(docs: &[(String, Yaml)], kind: &str) -> Vec<Yaml> {
    docs.iter()
        .filter(|(_, d)| d["kind"].as_str() == Some(kind))
        .map(|(_, d)| d.clone())
        .collect()
}

fn spin_app() -> Yaml {
    let apps = of_kind(&documents(), "SpinApp");
    assert_eq!(apps.len(), 1, "deploy/ holds exactly one SpinApp");
    apps.into_iter().next().expect("one SpinApp")
}

/// The SpinApp's variable bindings, by name.
fn bindings(app: &Yaml) -> Vec<(String, Yaml)> {
    app["spec"]["variables"]
        .as_vec()
        .expect("spec.variables is a list")
        .iter()
        .map(|b| {
            let name = b["name"].as_str().expect("every binding has a name");
            (name.to_owned(), b.clone())
        })
        .collect()
}

/// `(secret name, key)` of a `secretKeyRef`, and whether it is optional.
fn secret_ref(value_from: &Yaml) -> Option<(String, String, bool)> {
    let r = &value_from["secretKeyRef"];
    Some((
        r["name"].as_str()?.to_owned(),
        r["key"].as_str()?.to_owned(),
        r["optional"].as_bool().unwrap_or(false),
    ))
}

/// Every `secretKeyRef` anywhere in `yaml`.
fn all_secret_refs(yaml: &Yaml, found: &mut BTreeSet<(String, String)>) {
    match yaml {
        Yaml::Hash(map) => {
            for (k, v) in map {
                if k.as_str() == Some("secretKeyRef") {
                    let name = v["name"].as_str().expect("secretKeyRef.name");
                    let key = v["key"].as_str().expect("secretKeyRef.key");
                    found.insert((name.to_owned(), key.to_owned()));
                }
                all_secret_refs(v, found);
            }
        }
        Yaml::Array(items) => items.iter().for_each(|i| all_secret_refs(i, found)),
        _ => {}
    }
}

#[test]
fn every_required_and_every_secret_variable_of_spin_toml_is_bound_in_the_spinapp() {
    let app = spin_app();
    let bound: BTreeSet<String> = bindings(&app).into_iter().map(|(n, _)| n).collect();
    let missing: Vec<String> = spin_variables()
        .into_iter()
        .filter(|v| (v.required || v.secret) && !bound.contains(&v.name))
        .map(|v| v.name)
        .collect();
    assert!(
        missing.is_empty(),
        "variables of spin.toml that deploy/flowgate.yaml does not bind: {missing:?}"
    );
}

#[test]
fn secret_variables_come_from_kubernetes_secrets_never_from_literals() {
    let app = spin_app();
    let bindings = bindings(&app);
    for variable in spin_variables().iter().filter(|v| v.secret) {
        let (_, binding) = bindings
            .iter()
            .find(|(n, _)| *n == variable.name)
            .unwrap_or_else(|| panic!("{} is not bound", variable.name));
        assert!(
            binding["value"].is_badvalue(),
            "{} is a secret but has a literal value in deploy/flowgate.yaml",
            variable.name
        );
        let (_, _, optional) = secret_ref(&binding["valueFrom"]).unwrap_or_else(|| {
            panic!(
                "{} is a secret but is not read from a Secret (valueFrom.secretKeyRef)",
                variable.name
            )
        });
        // An optional reference to a required variable would start a pod
        // that Spin then refuses, instead of one Kubernetes holds back with
        // a clear "secret key not found".
        assert!(
            !(variable.required && optional),
            "{} is required but its secretKeyRef is optional",
            variable.name
        );
    }
}

#[test]
fn required_variables_without_a_secret_have_a_value_or_a_source() {
    let app = spin_app();
    let bindings = bindings(&app);
    for variable in spin_variables().iter().filter(|v| v.required) {
        let Some((_, binding)) = bindings.iter().find(|(n, _)| *n == variable.name) else {
            continue; // reported by the test above
        };
        let literal = binding["value"].as_str().is_some_and(|v| !v.is_empty());
        let sourced = !binding["valueFrom"].is_badvalue();
        assert!(
            literal || sourced,
            "{} is required but bound to nothing",
            variable.name
        );
    }
}

#[test]
fn every_bound_variable_is_declared_in_spin_toml() {
    // Spin ignores SPIN_VARIABLE_* names it does not declare: a typo here
    // would silently leave the default in place.
    let declared: BTreeSet<String> = spin_variables().into_iter().map(|v| v.name).collect();
    for (name, _) in bindings(&spin_app()) {
        assert!(
            declared.contains(&name),
            "deploy/flowgate.yaml binds `{name}`, which spin.toml does not declare"
        );
    }
}

#[test]
fn the_spinapp_runs_at_least_two_replicas_on_the_spin_shim() {
    let app = spin_app();
    assert_eq!(
        app["apiVersion"].as_str(),
        Some("core.spinkube.dev/v1alpha1")
    );
    assert_eq!(
        app["spec"]["executor"].as_str(),
        Some("containerd-shim-spin")
    );
    let replicas = app["spec"]["replicas"]
        .as_i64()
        .expect("spec.replicas is a number");
    assert!(replicas >= 2, "replicas is {replicas}");
    assert!(
        !app["spec"]["image"].as_str().unwrap_or_default().is_empty(),
        "spec.image is empty"
    );
}

#[test]
fn every_store_the_components_open_is_on_redis_with_its_url_from_a_secret() {
    let app = spin_app();
    let stores = app["spec"]["runtimeConfig"]["keyValueStores"]
        .as_vec()
        .expect("spec.runtimeConfig.keyValueStores is a list");
    for name in spin_stores() {
        let store = stores
            .iter()
            .find(|s| s["name"].as_str() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("the key-value store `{name}` is not configured"));
        assert_eq!(store["type"].as_str(), Some("redis"), "store {name}");
        let url = store["options"]
            .as_vec()
            .expect("options is a list")
            .iter()
            .find(|o| o["name"].as_str() == Some("url"))
            .unwrap_or_else(|| panic!("store {name} has no url option"));
        // The URL carries the Redis password.
        assert!(url["value"].is_badvalue(), "store {name}: a literal url");
        assert!(
            secret_ref(&url["valueFrom"]).is_some(),
            "store {name}: the url does not come from a Secret"
        );
    }
}

#[test]
fn the_prune_cronjob_posts_to_the_prune_route_of_the_app_with_its_admin_token() {
    let docs = documents();
    let app = spin_app();
    let service = app["metadata"]["name"]
        .as_str()
        .expect("the SpinApp's name");
    let admin = bindings(&app)
        .into_iter()
        .find(|(n, _)| n == "admin_token")
        .and_then(|(_, b)| secret_ref(&b["valueFrom"]))
        .map(|(name, key, _)| (name, key))
        .expect("admin_token is bound from a Secret");

    let jobs = of_kind(&docs, "CronJob");
    assert_eq!(jobs.len(), 1, "one prune CronJob");
    let job = &jobs[0];
    assert_eq!(job["spec"]["concurrencyPolicy"].as_str(), Some("Forbid"));
    let containers = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        .as_vec()
        .expect("containers");
    assert_eq!(containers.len(), 1);
    let container = &containers[0];
    let command: Vec<&str> = container["command"]
        .as_vec()
        .expect("command is a list")
        .iter()
        .map(|c| c.as_str().expect("a string"))
        .collect();
    let script = command.join(" ");
    assert!(script.contains("-X POST"), "{script}");
    assert!(
        script.contains(&format!("http://{service}/admin/v1/maintenance/prune")),
        "{script}"
    );
    // A non-2xx answer must fail the job, or a broken prune would look fine.
    assert!(script.contains(" -f"), "{script}");

    let env = container["env"].as_vec().expect("env is a list");
    let token = env
        .iter()
        .find(|e| e["name"].as_str() == Some("ADMIN_TOKEN"))
        .expect("ADMIN_TOKEN in env");
    let (name, key, optional) = secret_ref(&token["valueFrom"]).expect("from a Secret");
    assert_eq!((name, key), admin, "the token the app checks");
    assert!(!optional);
    assert!(script.contains("Authorization: Bearer %s"), "{script}");
    assert!(script.contains("\"$ADMIN_TOKEN\""), "{script}");
}

#[test]
fn every_secret_key_the_manifests_read_is_created_in_the_readme() {
    let readme = read(&root().join("deploy/README.md"));
    let mut refs = BTreeSet::new();
    for (_, doc) in documents() {
        all_secret_refs(&doc, &mut refs);
    }
    assert!(!refs.is_empty());
    for (secret, key) in refs {
        assert!(
            readme.contains(&format!("create secret generic {secret}")),
            "deploy/README.md does not create the Secret {secret}"
        );
        assert!(
            readme.contains(&format!("{key}=")),
            "deploy/README.md does not mention the key {key} of {secret}"
        );
    }
}

#[test]
fn kustomization_applies_every_manifest() {
    let docs = documents();
    let kustomizations = of_kind(&docs, "Kustomization");
    assert_eq!(kustomizations.len(), 1);
    let listed: BTreeSet<&str> = kustomizations[0]["resources"]
        .as_vec()
        .expect("resources")
        .iter()
        .map(|r| r.as_str().expect("a file name"))
        .collect();
    let files: BTreeSet<&str> = docs
        .iter()
        .map(|(f, _)| f.as_str())
        .filter(|f| *f != "kustomization.yaml")
        .collect();
    assert_eq!(listed, files);
}
