//! Where running `ftl dev` processes are recorded, so every `ftl` command of
//! a project finds each of its runners without being told an address: a
//! small file per runner in the user's state directory (found with
//! `directories`), named after the project's folder and the process id, and
//! removed when the runner stops. A file left by a killed runner is ignored
//! (nobody answers there) and removed by whoever finds it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One running `ftl dev`, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnerRecord {
    pub project: String,
    pub root: PathBuf,
    pub pid: u32,
    pub listen: SocketAddr,
}

/// The folder of runner records: `$XDG_STATE_HOME/ftl/runners` (or
/// `~/.local/state/ftl/runners`) on Linux, the platform's equivalent
/// elsewhere.
fn runners_dir() -> Option<PathBuf> {
    let dirs = directories::BaseDirs::new()?;
    let base = dirs
        .state_dir()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| dirs.data_local_dir().to_path_buf());
    Some(base.join("ftl").join("runners"))
}

/// A stable short name for a project folder (FNV-1a of its canonical path).
fn folder_key(root: &Path) -> String {
    let path = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.to_string_lossy().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A runner's record; the file goes away when this is dropped.
#[derive(Debug)]
pub struct Registration {
    path: PathBuf,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Records this process as a runner of the project at `root`. `None` when
/// the user has no state directory or it cannot be written (commands then
/// find the runner only at a fixed `runner.listen`).
pub fn register(project: &str, root: &Path, listen: SocketAddr) -> Option<Registration> {
    let dir = runners_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let pid = std::process::id();
    let path = dir.join(format!("{}-{pid}.json", folder_key(root)));
    let record = RunnerRecord {
        project: project.to_string(),
        root: std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf()),
        pid,
        listen,
    };
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(&record).ok()?).ok()?;
    std::fs::rename(&tmp, &path).ok()?;
    Some(Registration { path })
}

/// The recorded runners of the project at `root`, with the file each came
/// from (so a stale one can be removed).
pub fn recorded(root: &Path) -> Vec<(RunnerRecord, PathBuf)> {
    let Some(dir) = runners_dir() else {
        return Vec::new();
    };
    let prefix = format!("{}-", folder_key(root));
    let mut out: Vec<(RunnerRecord, PathBuf)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "json")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .filter_map(|p| {
            let record = serde_json::from_slice(&std::fs::read(&p).ok()?).ok()?;
            Some((record, p))
        })
        .collect();
    out.sort_by_key(|(r, _)| r.pid);
    out
}

/// Forgets a record nobody answers for any more.
pub fn forget(path: &Path) {
    let _ = std::fs::remove_file(path);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_keys_are_stable_and_differ_by_folder() {
        let a = folder_key(Path::new("/nonexistent/a"));
        assert_eq!(a, folder_key(Path::new("/nonexistent/a")));
        assert_ne!(a, folder_key(Path::new("/nonexistent/b")));
        assert_eq!(a.len(), 16);
    }
}
