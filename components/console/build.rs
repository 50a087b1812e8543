//! Compiles `static/` into the component: a table of every file with its
//! request path, content type and strong ETag (SHA-256 of the bytes). A file
//! whose extension has no known content type fails the build, so nothing is
//! ever served with a guessed type.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Content type by file extension.
fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => panic!(
            "{}: no content type known for this extension; add one to build.rs",
            path.display()
        ),
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
            out.push(path);
        }
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    let mut table = String::from(
        "/// Every file of `static/`, compiled in at build time.\npub static ASSETS: &[Asset] = &[\n",
    );
    for file in &files {
        let bytes =
            std::fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let digest = Sha256::digest(&bytes);
        let etag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let relative = file
            .strip_prefix(&root)
            .unwrap_or_else(|_| panic!("{} is outside static/", file.display()))
            .to_str()
            .unwrap_or_else(|| panic!("{}: not UTF-8", file.display()))
            .replace('\\', "/");
        assert!(
            relative
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b)),
            "{relative}: file names in static/ are limited to a-z, 0-9, '-', '_' and '.'"
        );
        // Debug formatting of a str is a valid, escaped Rust string literal.
        let _ = writeln!(
            table,
            "    Asset {{ path: {:?}, content_type: {:?}, etag: {:?}, body: include_bytes!({:?}) }},",
            format!("/console/{relative}"),
            content_type(file),
            format!("\"{etag}\""),
            file.display().to_string(),
        );
    }
    table.push_str("];\n");
    let target =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets.rs");
    std::fs::write(&target, table)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}
