//! Reading the project (and the settings, and stdin) on a blocking thread,
//! for async callers: the files are read and parsed off the async executor.

use std::path::{Path, PathBuf};

use crate::config::{self, ConfigError, Entry, Overrides, SkippedModule};
use crate::error::{Error, Result};
use crate::schema::Project;

async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> Result<T, ConfigError> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::failed(format!("{what} failed: {e}"), None))?
        .map_err(Into::into)
}

/// Reads and validates the project in `dir`.
pub async fn project(dir: &Path, overrides: &Overrides) -> Result<Project> {
    let (dir, overrides) = (dir.to_path_buf(), overrides.clone());
    blocking("reading the project", move || {
        config::load(&dir, &overrides)
    })
    .await
}

/// The project without its invalid module files, and which those are.
pub async fn project_partial(
    dir: &Path,
    overrides: &Overrides,
) -> Result<(Project, Vec<SkippedModule>)> {
    let (dir, overrides) = (dir.to_path_buf(), overrides.clone());
    blocking("reading the project", move || {
        config::load_partial(&dir, &overrides)
    })
    .await
}

/// Every resolved setting with where it came from, and the project's name;
/// outside a project, the settings that apply without one.
pub async fn settings(dir: &Path, overrides: &Overrides) -> Result<(Vec<Entry>, Option<String>)> {
    let (dir, overrides): (PathBuf, Overrides) = (dir.to_path_buf(), overrides.clone());
    blocking(
        "reading settings",
        move || match config::load_with_settings(&dir, &overrides) {
            Ok((p, entries)) => Ok((entries, Some(p.name))),
            Err(ConfigError::NotFound { .. }) => {
                config::settings_without_project(&overrides).map(|e| (e, None))
            }
            Err(e) => Err(e),
        },
    )
    .await
}

/// NDJSON from stdin: (line number, text) of every non-blank line.
pub async fn stdin_lines() -> Result<Vec<(usize, String)>> {
    tokio::task::spawn_blocking(|| {
        use std::io::BufRead;
        let mut v = Vec::new();
        for (i, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line.map_err(|e| Error::failed(format!("cannot read stdin: {e}"), None))?;
            if !line.trim().is_empty() {
                v.push((i + 1, line));
            }
        }
        Ok(v)
    })
    .await
    .map_err(|e| Error::failed(format!("internal task failed: {e}"), None))?
}
