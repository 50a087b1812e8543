//! Where the server and token come from: the flag, then the environment
//! (clap reads both), then the file `flowgate login` writes, at
//! `$XDG_CONFIG_HOME/flowgate/config.toml` or `~/.config/flowgate/config.toml`,
//! created with mode 0600 in a directory of mode 0700.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Failure;

/// The stored settings.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_token: Option<String>,
}

/// The config file's path; `None` when neither `XDG_CONFIG_HOME` nor `HOME`
/// is set.
pub fn path() -> Option<PathBuf> {
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_CONFIG_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".config")))
        .map(|dir| dir.join("flowgate").join("config.toml"))
}

/// Reads the file; a missing file is empty settings.
pub fn load() -> Result<File, Failure> {
    let Some(path) = path() else {
        return Ok(File::default());
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(File::default()),
        Err(e) => {
            return Err(Failure::Usage(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    warn_if_readable_by_others(&path);
    toml::from_str(&text).map_err(|e| {
        Failure::Usage(format!(
            "{} is not a valid config file: {e}",
            path.display()
        ))
    })
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            eprintln!(
                "flowgate: warning: {} holds a token and is readable by others (mode {mode:o}); run `chmod 600` on it",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes `file`, readable and writable by the owner only, and returns where.
/// The new content goes to a temporary file of mode 0600 first and is then
/// renamed over the old one, so the token is never in a wider-readable file.
pub fn save(file: &File) -> Result<PathBuf, Failure> {
    let path = path().ok_or_else(|| {
        Failure::Usage("set HOME or XDG_CONFIG_HOME to say where the config file goes".into())
    })?;
    let cannot =
        |e: std::io::Error| Failure::Usage(format!("cannot write {}: {e}", path.display()));
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(cannot)?;
    let text = toml::to_string(file).map_err(|e| Failure::Usage(format!("internal: {e}")))?;
    let temporary = dir.join(".config.toml.tmp");
    let _ = std::fs::remove_file(&temporary);
    let mut out = private_file(&temporary).map_err(cannot)?;
    out.write_all(text.as_bytes()).map_err(cannot)?;
    out.sync_all().map_err(cannot)?;
    std::fs::rename(&temporary, &path).map_err(cannot)?;
    Ok(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
pub(crate) fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}
