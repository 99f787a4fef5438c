//! The harness `ftl`'s integration tests and its benchmark share, over the
//! real parts: the `ftl` binary, the Docker Engine and the test broker
//! (Tansu, from an image built by `scripts/build-test-broker-image.sh`).
//! Every test gets its own project directory and project name, so its
//! container, topics and groups never collide with another test's.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod dev;
pub mod docker;
mod http;
mod kafka;
mod project;
mod verb;

pub use dev::{Dev, On};
pub use ftl::events::{self, Event};
pub use http::{http, request, Response};
pub use kafka::Kafka;
pub use project::{Output, Project};
pub use verb::{ok, Request, VerbServer};

pub const TEST_IMAGE: &str = "ftl-test/tansu:0.6.0";

/// The `ftl` binary Cargo built for the test or benchmark running.
pub fn ftl_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("ftl")
}

/// The `ftl` repository (this crate lives in its `tests/support`).
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Docker must be there, and the test broker image must exist (built here
/// when missing). Never skips: a missing engine fails the test with a
/// message saying how to get one.
pub fn require_docker() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let r = READY.get_or_init(|| {
        let info = Command::new("docker")
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
            .map_err(|e| format!("the `docker` command is missing ({e})"))?;
        if !info.status.success() {
            return Err(format!(
                "the Docker Engine is not reachable: {}",
                String::from_utf8_lossy(&info.stderr).trim()
            ));
        }
        let have = Command::new("docker")
            .args(["image", "inspect", TEST_IMAGE])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !have {
            let out = Command::new(repo_root().join("scripts/build-test-broker-image.sh"))
                .output()
                .map_err(|e| format!("cannot run the image build script: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "building {TEST_IMAGE} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(())
    });
    if let Err(e) = r {
        panic!(
            "these tests need a running Docker Engine and the test broker image: {e}\n\
             start Docker (e.g. `dockerd &`) and run `scripts/build-test-broker-image.sh`"
        );
    }
}

pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}x{}x{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 10_000
    )
}

/// Test jitter from a seeded generator; the seed is printed, so a failing
/// run can be read again with the same timings in mind.
pub struct Rng(fastrand::Rng);

impl Rng {
    pub fn new() -> Rng {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        eprintln!("rng seed {seed}");
        Rng(fastrand::Rng::with_seed(seed))
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0.u64(..n.max(1))
    }
}

impl Default for Rng {
    fn default() -> Self {
        Rng::new()
    }
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The JSON objects among `text`'s lines (other lines are skipped).
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
        .filter(serde_json::Value::is_object)
        .collect()
}

/// The first line of `text` as JSON (`null` when it is not).
pub fn first_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text.lines().next().unwrap_or("")).unwrap_or(serde_json::Value::Null)
}
