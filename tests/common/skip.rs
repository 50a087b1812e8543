//! Tests that cannot run here say so, never pass silently. A skip is written
//! straight to the terminal's stderr (past the test harness's output capture,
//! so a passing run shows it too) and, in a run of `scripts/test`, appended
//! to the run's list of skipped tests, which `scripts/test` prints at the
//! end: `target/e2e/<FLOWGATE_SUITE_RUN>/skipped.txt`, one line a skip.

use std::io::Write as _;
use std::path::PathBuf;

/// The file of this suite run's skips, when the run is `scripts/test`'s.
pub fn list() -> Option<PathBuf> {
    let run = std::env::var("FLOWGATE_SUITE_RUN").ok()?;
    if run.is_empty() || run.contains('/') {
        return None;
    }
    Some(
        super::root()
            .join("target/e2e")
            .join(run)
            .join("skipped.txt"),
    )
}

/// The calling test, as `<test file>::<test name>`: the test binary's name
/// without cargo's hash, and the name the harness gives the test's thread.
pub fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let file = match binary.rsplit_once('-') {
        Some((file, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => file.to_owned(),
        _ => binary,
    };
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("(unnamed test)");
    format!("{file}::{test}")
}

/// Reports that the calling test did not run, or not wholly, and why.
pub fn skipped(reason: &str) {
    let line = format!("{}: {reason}", current_test());
    let _ = writeln!(std::io::stderr(), "\n*** SKIPPED {line} ***\n");
    if let Some(path) = list() {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // One short append per skip: concurrent tests do not interleave it.
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
        if let Err(e) = appended {
            panic!("could not record the skip in {}: {e}", path.display());
        }
    }
}

/// On real Spin (`FLOWGATE_SPIN`), reports the calling test as skipped for
/// `reason` and returns `true`; elsewhere returns `false`.
pub fn skip_on_real_spin(reason: &str) -> bool {
    if !super::on_real_spin() {
        return false;
    }
    skipped(&format!("cannot run on real Spin: {reason}"));
    true
}

/// When `variable` is `1`, reports the calling test as skipped on request
/// for `reason` and returns `true`; otherwise returns `false`.
pub fn skip_requested(variable: &str, reason: &str) -> bool {
    if std::env::var(variable).as_deref() != Ok("1") {
        return false;
    }
    skipped(&format!("{variable}=1: {reason}"));
    true
}
