//! Following edits of a project's files: the operating system says when
//! something changed (inotify, FSEvents, ... through `notify`), and a
//! change is handed on once the files have been quiet for a moment, so an
//! editor's burst of writes (or a save done as write-temp-then-rename)
//! makes one reload, read after the last write.
//!
//! The debounce is written here over notify's channel rather than taken
//! from `notify-debouncer-mini`: the quiet period must start again only on
//! events about the project's files (a build writing next to them must not
//! hold a reload back), and a new module folder must be watched the moment
//! it appears, both of which need the raw events.
//!
//! What is watched: the project folder itself (the project file, module
//! folders appearing, disappearing or renamed) and each folder directly in
//! it (its module file written, replaced by a rename, or deleted); nothing
//! deeper, so a module's own build output or `node_modules` costs no
//! watches.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use tokio::time::Instant;

#[cfg(test)]
use crate::config::{MODULE_FILE, PROJECT_FILE};

/// How long the files must be quiet before a change is handed on.
pub const QUIET: Duration = Duration::from_millis(100);
/// A change is handed on at most this long after it began, even while
/// writes keep coming.
pub const MOST: Duration = Duration::from_secs(2);

/// The operating system would not watch the project folder.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch `{}` for changes", root.display())]
pub struct WatchError {
    pub root: PathBuf,
    #[source]
    pub source: notify::Error,
}

/// Which files are the project's: `project_file` directly in the folder,
/// `module_file` in each folder directly in it.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub project_file: &'static str,
    pub module_file: &'static str,
}

pub struct Watcher {
    watcher: notify::RecommendedWatcher,
    rx: mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
    root: PathBuf,
    layout: Layout,
    folders: HashSet<PathBuf>,
}

impl Watcher {
    /// Starts watching `root`; changes from now on are kept until read.
    pub fn start(root: &Path, layout: Layout) -> Result<Watcher, WatchError> {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let fail = |source| WatchError {
            root: root.clone(),
            source,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            // The receiver gone means `ftl dev` is ending.
            let _ = tx.send(event);
        })
        .map_err(fail)?;
        watcher
            .watch(&root, RecursiveMode::NonRecursive)
            .map_err(fail)?;
        let mut w = Watcher {
            watcher,
            rx,
            root,
            layout,
            folders: HashSet::new(),
        };
        if let Ok(entries) = std::fs::read_dir(&w.root) {
            for e in entries.flatten() {
                w.follow_folder(&e.path());
            }
        }
        Ok(w)
    }

    /// Waits until the project's files change, then until they have been
    /// quiet for [`QUIET`] (at most [`MOST`] after the first change).
    pub async fn changed(&mut self) {
        loop {
            let Some(event) = self.rx.recv().await else {
                return std::future::pending().await;
            };
            if self.concerns_project(event) {
                break;
            }
        }
        let last_chance = Instant::now() + MOST;
        let mut quiet_from = Instant::now() + QUIET;
        loop {
            tokio::select! {
                event = self.rx.recv() => match event {
                    Some(event) => {
                        if self.concerns_project(event) {
                            quiet_from = (Instant::now() + QUIET).min(last_chance);
                        }
                    }
                    None => return,
                },
                _ = tokio::time::sleep_until(quiet_from) => {
                    tracing::debug!("the project's files changed");
                    return;
                }
            }
        }
    }

    /// Whether `event` is about the project's files; a folder that
    /// appeared in the project folder is watched from now on.
    fn concerns_project(&mut self, event: notify::Result<notify::Event>) -> bool {
        let Ok(event) = event else {
            // Events may have been lost (a full queue): read the files again.
            return true;
        };
        if event.need_rescan() {
            return true;
        }
        // Reading a file (ftl's own reload included) changes nothing.
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return false;
        }
        tracing::trace!(kind = ?event.kind, paths = ?event.paths, "file event");
        let mut concerns = false;
        for path in &event.paths {
            if path.parent() == Some(&self.root) {
                if path
                    .file_name()
                    .is_some_and(|n| n == self.layout.project_file)
                {
                    concerns = true;
                } else if path.is_dir() {
                    // A module folder made, or renamed into place.
                    self.follow_folder(path);
                    concerns = true;
                } else if !path.exists() {
                    // Gone: a module folder deleted or renamed away (or an
                    // editor's temporary file; reading again costs little).
                    self.folders.remove(path);
                    concerns = true;
                }
            } else if path
                .file_name()
                .is_some_and(|n| n == self.layout.module_file)
                && path.parent().and_then(Path::parent) == Some(&self.root)
            {
                concerns = true;
            }
        }
        concerns
    }

    fn follow_folder(&mut self, path: &Path) {
        if !path.is_dir() || self.folders.contains(path) {
            return;
        }
        // A folder that cannot be watched (no permission) holds no module
        // ftl can read either.
        if self
            .watcher
            .watch(path, RecursiveMode::NonRecursive)
            .is_ok()
        {
            self.folders.insert(path.to_path_buf());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYOUT: Layout = Layout {
        project_file: PROJECT_FILE,
        module_file: MODULE_FILE,
    };

    /// Whether `changed` returns within `wait`.
    async fn changes(w: &mut Watcher, wait: Duration) -> bool {
        tokio::time::timeout(wait, w.changed()).await.is_ok()
    }

    #[tokio::test]
    async fn a_storm_of_writes_is_one_change_after_the_last_write() {
        let dir = tempfile::tempdir().unwrap();
        let module = dir.path().join("shop");
        std::fs::create_dir(&module).unwrap();
        std::fs::write(dir.path().join(PROJECT_FILE), "name: p\n").unwrap();
        std::fs::write(module.join(MODULE_FILE), "module: shop\n").unwrap();
        let mut w = Watcher::start(dir.path(), LAYOUT).unwrap();
        for i in 0..50 {
            std::fs::write(module.join(MODULE_FILE), format!("module: shop\n# {i}\n")).unwrap();
        }
        assert!(changes(&mut w, Duration::from_secs(5)).await);
        assert_eq!(
            std::fs::read_to_string(module.join(MODULE_FILE)).unwrap(),
            "module: shop\n# 49\n"
        );
        assert!(
            !changes(&mut w, Duration::from_millis(500)).await,
            "a second change was reported for one storm"
        );
    }

    #[tokio::test]
    async fn new_modules_renames_and_deletions_are_seen_and_other_files_are_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(PROJECT_FILE), "name: p\n").unwrap();
        let mut w = Watcher::start(dir.path(), LAYOUT).unwrap();
        let quiet = Duration::from_millis(500);
        let soon = Duration::from_secs(5);

        // A new module folder, then its module file a moment later.
        let module = dir.path().join("shop");
        std::fs::create_dir(&module).unwrap();
        assert!(changes(&mut w, soon).await, "new folder");
        tokio::time::sleep(Duration::from_millis(50)).await;
        std::fs::write(module.join(MODULE_FILE), "module: shop\n").unwrap();
        assert!(changes(&mut w, soon).await, "new module file");

        // An editor's save: a temporary file renamed over the module file.
        let tmp = module.join(".ftl.yaml.swp");
        std::fs::write(&tmp, "module: shop\n# saved\n").unwrap();
        std::fs::rename(&tmp, module.join(MODULE_FILE)).unwrap();
        assert!(changes(&mut w, soon).await, "atomic rename");

        // Files that are not the project's.
        std::fs::write(module.join("main.go"), "package main\n").unwrap();
        std::fs::create_dir(module.join("target")).unwrap();
        std::fs::write(module.join("target").join(MODULE_FILE), "x").unwrap();
        assert!(!changes(&mut w, quiet).await, "an unrelated file");

        // The project file, and a module deleted.
        std::fs::write(dir.path().join(PROJECT_FILE), "name: q\n").unwrap();
        assert!(changes(&mut w, soon).await, "project file");
        std::fs::remove_dir_all(&module).unwrap();
        assert!(changes(&mut w, soon).await, "module deleted");
        assert!(!changes(&mut w, quiet).await, "nothing more");

        // Reading the files (as a reload does) is no change.
        std::fs::read_to_string(dir.path().join(PROJECT_FILE)).unwrap();
        assert!(!changes(&mut w, quiet).await, "a read");
    }
}
