//! Reads `policies/*.toml`, checks every flow with the core's own parser (a bad
//! policy fails the build, naming the file and field), and writes them out as
//! a static table, so that no request pays for parsing policy files.

use std::fmt::Write as _;
use std::path::Path;

use flowgate::policy::{Upstream, check_set, parse_flow};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut flows = Vec::new();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        flows.push(parse_flow(&name, &text).unwrap_or_else(|e| panic!("policy error: {e}")));
    }
    check_set(&flows).unwrap_or_else(|e| panic!("policy error: {e}"));

    let mut out = String::from(
        "/// The flows of `policies/`, checked at build time.\npub static FLOWS: &[Flow] = &[\n",
    );
    for f in &flows {
        let upstream = match &f.upstream {
            None => "None".to_owned(),
            Some(Upstream::Url(u)) => format!("Some(Upstream::Url(Cow::Borrowed({u:?})))"),
            Some(Upstream::Variable(v)) => {
                format!("Some(Upstream::Variable(Cow::Borrowed({v:?})))")
            }
        };
        // Debug formatting of a str is a valid, escaped Rust string literal.
        let _ = writeln!(
            out,
            "    Flow {{ id: Cow::Borrowed({:?}), description: Cow::Borrowed({:?}), \
             path_prefix: Cow::Borrowed({:?}), methods: MethodSet({}), upstream: {upstream}, \
             credential_types: CredentialSet({}), project: Cow::Borrowed({:?}), \
             environment: Cow::Borrowed({:?}) }},",
            f.id,
            f.description,
            f.path_prefix,
            f.methods.0,
            f.credential_types.0,
            f.project,
            f.environment
        );
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("flows.rs");
    std::fs::write(&target, out)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}
