//! The suite cleans up after itself (issue #11): `spin up` serves through a
//! child process (`spin trigger http`), so stopping only the process the
//! test started left that child listening. Here a two-process launcher of
//! the same shape (a shell that starts the test host as its child and
//! waits) stands in for `spin up`, so this runs on any machine, with or
//! without `FLOWGATE_SPIN`.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use common::{Options, group_members, host_binary, start};

/// Held for the whole of each test here: one test at a time. A script that
/// is being written cannot be executed ("text file busy", ETXTBSY), and a
/// process forked by the other test's thread in that moment keeps the
/// write descriptor open until it execs, so the script just written failed
/// to start (seen once in CI: `start the app: ... Text file busy`). Writing
/// and starting never overlap a fork of this binary while this is held.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> MutexGuard<'static, ()> {
    // A test that failed while holding it must not fail the other one too.
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A `spin up` look-alike: passes its arguments to the test host, which it
/// runs as a child, and waits for it.
fn launcher(name: &str) -> PathBuf {
    let dir = common::root().join("target/e2e");
    std::fs::create_dir_all(&dir).expect("target/e2e");
    // One file per test: writing a script another test is executing fails
    // with "text file busy" (and see `ONE_AT_A_TIME`).
    let path = dir.join(format!("launcher-{}-{name}.sh", std::process::id()));
    let script = format!(
        "#!/bin/sh\n# Stand-in for `spin up`: the server runs as a child.\n\"{}\" \"$@\" &\nwait\n",
        host_binary().display()
    );
    std::fs::write(&path, script).expect("write launcher");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn issue11_stopping_an_app_also_stops_the_server_its_launcher_started() {
    let _alone = one_at_a_time();
    let launcher = launcher("stop");
    let app = start(Options::new().program(&launcher));
    assert_eq!(
        app.send("GET", "/.well-known/spin/health", &[], b"").status,
        200
    );
    let group = app.process_group();
    let members = group_members(group);
    assert!(
        members.len() >= 2,
        "launcher and server should both be in the group: {members:?}"
    );
    app.stop();
    assert_eq!(group_members(group), vec![], "group {group} after stop");
}

#[test]
fn issue11_killing_only_the_launcher_would_leave_the_server_running() {
    // What the harness did before: kill the direct child only. The server
    // survives, which is why the harness now stops the whole group; this
    // shows the check above can fail.
    let _alone = one_at_a_time();
    let launcher = launcher("kill");
    let app = start(Options::new().program(&launcher));
    let group = app.process_group();
    let status = std::process::Command::new("kill")
        .args(["-s", "KILL", &group.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left = group_members(group);
    assert!(
        left.iter()
            .any(|(_, name)| name.starts_with("flowgate-host")),
        "the orphaned server should still be running: {left:?}"
    );
    assert_eq!(
        app.send("GET", "/.well-known/spin/health", &[], b"").status,
        200,
        "and still serving"
    );
    // Dropping the app stops the rest of the group and checks it is gone.
    drop(app);
    assert_eq!(group_members(group), vec![]);
}
