//! Reading the project (and the settings, and stdin) on a blocking thread,
//! for async callers: the files are read and parsed off the async executor.

use std::path::{Path, PathBuf};

use crate::admin::{self, AdminClient};
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

/// The project as the commands that look at a running `ftl dev` see it: a
/// module file that is invalid on disk (mid-edit) is taken from what the
/// running `ftl dev` runs, its last valid version; with no `ftl dev`
/// running it is left out.
pub struct LiveProject {
    pub project: Project,
    /// Invalid on disk, taken from the running `ftl dev` (its pid).
    pub from_runner: Vec<SkippedModule>,
    pub pid: Option<u32>,
    /// Invalid on disk and not run by any `ftl dev`: left out.
    pub left_out: Vec<SkippedModule>,
}

/// Reads the project in `dir`; invalid module files are taken from the
/// running `ftl dev` where it runs them (see [`LiveProject`]).
pub async fn project_live(dir: &Path, overrides: &Overrides) -> Result<LiveProject> {
    let (mut project, skipped) = project_partial(dir, overrides).await?;
    if skipped.is_empty() {
        return Ok(LiveProject {
            project,
            from_runner: Vec::new(),
            pid: None,
            left_out: Vec::new(),
        });
    }
    let runner = AdminClient::find(&project).await;
    let running = match &runner {
        Some(r) => r.running_modules().await.unwrap_or_default(),
        None => Vec::new(),
    };
    let put_back = admin::stand_in(&mut project, &skipped, &running);
    let (from_runner, left_out): (Vec<_>, Vec<_>) = skipped
        .into_iter()
        .partition(|s| put_back.contains(&s.file));
    Ok(LiveProject {
        project,
        pid: runner
            .filter(|_| !from_runner.is_empty())
            .map(|r| r.status().pid),
        from_runner,
        left_out,
    })
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
