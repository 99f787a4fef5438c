//! The runner's admin API on `runner.listen`: the paths, the request and
//! response types both ends use, and the client the commands use to reach a
//! running `ftl dev`. The server side is `runner::server`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::deadletter::{At, Replayed};
use crate::events::{PartitionMove, Snapshot, State};
use crate::kafka::ReplayFrom;
use crate::schema::Project;

pub const STATUS_PATH: &str = "/admin/status";

pub fn replay_path(subscription: &str) -> String {
    format!("/admin/subscriptions/{subscription}/replay")
}

pub fn replay_deadletter_path(subscription: &str) -> String {
    format!("/admin/subscriptions/{subscription}/replay-deadletter")
}

/// `GET /admin/overview`: `ftl pubsub status`'s report, from the runner.
pub const OVERVIEW_PATH: &str = "/admin/overview";
/// `GET /admin/events`: the event stream the console follows (SSE).
pub const EVENTS_PATH: &str = "/admin/events";
/// `GET /admin/recent`: the latest events but deliveries, oldest first
/// ([`RecentEvents`]): what the console shows as Activity on load.
pub const RECENT_PATH: &str = "/admin/recent";

/// `GET /admin/recent`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecentEvents {
    pub events: Vec<crate::hub::Recent>,
}

/// `GET /admin/project`: the modules the runner runs now (its last valid
/// configuration), for commands while a module file on disk is invalid.
pub const PROJECT_PATH: &str = "/admin/project";

/// `GET /admin/project`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunningProject {
    pub modules: Vec<crate::schema::Module>,
}

/// Puts back, from what a running `ftl dev` runs, the modules whose files
/// were left out of `project` because they are invalid on disk. Returns the
/// left-out files it could put back; the others stay left out.
pub fn stand_in(
    project: &mut Project,
    skipped: &[crate::config::SkippedModule],
    running: &[crate::schema::Module],
) -> Vec<std::path::PathBuf> {
    let mut put_back = Vec::new();
    for s in skipped {
        let Some(m) = running.iter().find(|m| m.file.ends_with(&s.file)) else {
            continue;
        };
        if project.modules.iter().any(|have| have.name == m.name) {
            continue;
        }
        project.modules.push(m.clone());
        put_back.push(s.file.clone());
    }
    project.modules.sort_by(|a, b| a.file.cmp(&b.file));
    put_back
}

/// `GET /admin/status`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunnerStatus {
    pub project: String,
    pub pid: u32,
    pub listen: String,
    #[serde(flatten)]
    pub runner: Snapshot,
}

/// `POST /admin/subscriptions/{sub}/replay`.
#[derive(Debug, Clone, Serialize, Deserialize)]
// A field it does not know is refused, never ignored: a typo such as
// `dryRun` once did a real replay.
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    pub from: ReplayFrom,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplaySummary {
    pub partitions: Vec<PartitionMove>,
    pub redelivered: i64,
}

/// `POST /admin/subscriptions/{sub}/replay-deadletter`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
// A field it does not know is refused, never ignored: a typo such as
// `dryRun` once did a real replay.
#[serde(deny_unknown_fields)]
pub struct DeadletterReplayRequest {
    pub limit: Option<u64>,
    #[serde(default)]
    pub dry_run: bool,
    /// Just this dead letter (the next pending one of its partition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<At>,
}

/// The dead-letter replay answers with one of these per line (NDJSON) as
/// the work goes on, so a long verb never looks like a dead runner.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DeadletterProgress {
    /// A verb call is still running (sent every few seconds).
    Working {
        done: usize,
    },
    Item {
        replayed: Box<Replayed>,
    },
    Done,
    Failed {
        error: String,
    },
}

/// One message of `GET /admin/events` (SSE event `events`): what happened
/// since the last one. Deliveries beyond a bound per message are counted in
/// `skipped`, not sent: the counters in `status` messages stay exact.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventBatch {
    pub events: Vec<std::sync::Arc<crate::events::Event>>,
    pub skipped: u64,
}

/// One event as `ftl pubsub tail --json` prints it and the console's topic
/// browser shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RecordLine {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub time: Option<String>,
    pub key: Option<String>,
    pub headers: std::collections::BTreeMap<String, String>,
    /// The payload as JSON, or as a string when it is not JSON.
    pub event: serde_json::Value,
    /// The first way the event differs from its topic's type, if it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid: Option<String>,
    /// `ftl.request_key`, when the event has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_key: Option<String>,
    /// `ftl.created_at`: when it was published, when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
}

impl RecordLine {
    /// The record, checked against its topic's type.
    pub fn typed(r: crate::kafka::tail::Record, ty: &crate::types::TopicType) -> RecordLine {
        let parsed = serde_json::from_slice::<serde_json::Value>(&r.payload).ok();
        let invalid = match &parsed {
            _ if ty.is_any() => None,
            Some(event) => ty.check(event).err().map(|m| m.to_string()),
            None => Some("not JSON".into()),
        };
        RecordLine {
            invalid,
            ..RecordLine::with_event(r, parsed)
        }
    }

    /// The record with its payload parsed already (`None`: not JSON).
    fn with_event(r: crate::kafka::tail::Record, parsed: Option<serde_json::Value>) -> RecordLine {
        let event = parsed.unwrap_or_else(|| {
            serde_json::Value::String(String::from_utf8_lossy(&r.payload).into_owned())
        });
        RecordLine {
            topic: r.topic,
            partition: r.partition,
            offset: r.offset,
            timestamp: r.timestamp,
            time: r.timestamp.map(|ms| {
                crate::text::rfc3339(
                    std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64),
                )
            }),
            key: r.key,
            request_key: r.headers.get(crate::kafka::headers::REQUEST_KEY).cloned(),
            published_at: r.headers.get(crate::kafka::headers::CREATED_AT).cloned(),
            headers: r.headers,
            event,
            invalid: None,
        }
    }
}

impl From<crate::kafka::tail::Record> for RecordLine {
    fn from(r: crate::kafka::tail::Record) -> RecordLine {
        let parsed = serde_json::from_slice(&r.payload).ok();
        RecordLine::with_event(r, parsed)
    }
}

/// How often the server says it is still working.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// Silence longer than this means the runner is gone.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Every error answer: `{"error": "..."}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiError {
    pub error: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the running `ftl dev` did not answer")]
    Unreachable(#[source] reqwest::Error),
    #[error("the running `ftl dev` refused: {0}")]
    Refused(String),
    #[error("the running `ftl dev` went silent for {}s", IDLE_TIMEOUT.as_secs())]
    Silent,
    #[error("the running `ftl dev` answered something unexpected: {0}")]
    Garbled(String),
}

/// What `ftl pubsub trace` starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceOf {
    Key(String),
    Event(crate::trace::At),
}

/// A running `ftl dev` of this project, found at `runner.listen`.
pub struct AdminClient {
    base: String,
    http: reqwest::Client,
    status: RunnerStatus,
}

impl AdminClient {
    /// A runner of `project` that answers, if any.
    pub async fn find(project: &Project) -> Option<AdminClient> {
        AdminClient::find_all(project).await.into_iter().next()
    }

    /// Every runner of `project` that answers: those recorded in the user's
    /// state directory (`crate::runtime`) and one at a fixed `runner.listen`.
    /// A record where nobody listens any more is removed.
    pub async fn find_all(project: &Project) -> Vec<AdminClient> {
        let Ok(http) = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .build()
        else {
            return Vec::new();
        };
        let root = project.root.clone();
        let recorded = tokio::task::spawn_blocking(move || crate::runtime::recorded(&root))
            .await
            .unwrap_or_default();
        let mut candidates: Vec<(std::net::SocketAddr, Option<std::path::PathBuf>)> = recorded
            .into_iter()
            .map(|(r, path)| (r.listen, Some(path)))
            .collect();
        let fixed = project.runner.listen;
        if fixed.port() != 0 && !candidates.iter().any(|(a, _)| *a == fixed) {
            candidates.push((fixed, None));
        }
        let mut out: Vec<AdminClient> = Vec::new();
        for (addr, record) in candidates {
            let base = format!("http://{addr}");
            let answer = http
                .get(format!("{base}{STATUS_PATH}"))
                .timeout(Duration::from_secs(3))
                .send()
                .await;
            let status: Option<RunnerStatus> = match answer {
                Ok(r) => r.json().await.ok(),
                Err(e) => {
                    if e.is_connect() {
                        if let Some(path) = &record {
                            crate::runtime::forget(path);
                        }
                    }
                    None
                }
            };
            if let Some(status) = status.filter(|s| s.project == project.name) {
                if !out.iter().any(|c| c.status.pid == status.pid) {
                    out.push(AdminClient {
                        base,
                        http: http.clone(),
                        status,
                    });
                }
            }
        }
        out
    }

    pub fn status(&self) -> &RunnerStatus {
        &self.status
    }

    /// Whether this runner holds a live consumer of the subscription.
    pub fn runs(&self, subscription: &str) -> bool {
        self.status
            .runner
            .subscriptions
            .get(subscription)
            .is_some_and(|s| matches!(s.state, State::Running | State::Starting))
    }

    /// The modules this runner runs now.
    pub async fn running_modules(&self) -> Result<Vec<crate::schema::Module>, AdminError> {
        let r = self
            .http
            .get(format!("{}{PROJECT_PATH}", self.base))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .map_err(AdminError::Unreachable)?;
        if !r.status().is_success() {
            return Err(AdminError::Refused(format!(
                "{} {}",
                r.status(),
                PROJECT_PATH
            )));
        }
        let bytes = r.bytes().await.map_err(AdminError::Unreachable)?;
        serde_json::from_slice::<RunningProject>(&bytes)
            .map(|p| p.modules)
            .map_err(|e| AdminError::Garbled(e.to_string()))
    }

    async fn post<B: Serialize>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<reqwest::Response, AdminError> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await
            .map_err(AdminError::Unreachable)?;
        if r.status().is_success() {
            return Ok(r);
        }
        let bytes = r.bytes().await.unwrap_or_default();
        Err(AdminError::Refused(
            serde_json::from_slice::<ApiError>(&bytes)
                .map(|e| e.error)
                .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned()),
        ))
    }

    pub async fn replay(
        &self,
        subscription: &str,
        from: ReplayFrom,
    ) -> Result<ReplaySummary, AdminError> {
        let r = self
            .post(&replay_path(subscription), &ReplayRequest { from })
            .await?;
        r.json().await.map_err(|e| {
            if e.is_decode() {
                AdminError::Garbled(crate::text::one_line(&e))
            } else {
                AdminError::Unreachable(e)
            }
        })
    }

    /// One request's tree (`what`: a request key, or an event as
    /// `TOPIC@PARTITION:OFFSET`).
    pub async fn trace(&self, what: &TraceOf) -> Result<crate::trace::Trace, AdminError> {
        let (name, value) = match what {
            TraceOf::Key(k) => ("key", k.clone()),
            TraceOf::Event(at) => (
                "event",
                format!("{}@{}:{}", at.topic, at.partition, at.offset),
            ),
        };
        let r = self
            .http
            .get(format!("{}{}", self.base, crate::trace::TRACE_PATH))
            .query(&[(name, value)])
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(AdminError::Unreachable)?;
        let ok = r.status().is_success();
        let bytes = r.bytes().await.map_err(AdminError::Unreachable)?;
        if !ok {
            return Err(AdminError::Refused(
                serde_json::from_slice::<ApiError>(&bytes)
                    .map(|e| e.error)
                    .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into_owned()),
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| AdminError::Garbled(e.to_string()))
    }

    /// Streams the replay's progress to `on` until it is done.
    pub async fn replay_deadletter(
        &self,
        subscription: &str,
        request: &DeadletterReplayRequest,
        mut on: impl FnMut(DeadletterProgress),
    ) -> Result<(), AdminError> {
        use futures_util::TryStreamExt;
        use tokio::io::AsyncBufReadExt;
        let r = self
            .post(&replay_deadletter_path(subscription), request)
            .await?;
        let body =
            tokio_util::io::StreamReader::new(r.bytes_stream().map_err(std::io::Error::other));
        let mut lines = body.lines();
        loop {
            let line = tokio::time::timeout(IDLE_TIMEOUT, lines.next_line())
                .await
                .map_err(|_| AdminError::Silent)?
                .map_err(
                    |e| match e.into_inner().map(|e| e.downcast::<reqwest::Error>()) {
                        Some(Ok(e)) => AdminError::Unreachable(*e),
                        Some(Err(other)) => AdminError::Garbled(other.to_string()),
                        None => AdminError::Garbled("the answer broke off".into()),
                    },
                )?;
            let Some(line) = line else {
                return Err(AdminError::Garbled(
                    "the answer ended before the replay was done".into(),
                ));
            };
            let p: DeadletterProgress =
                serde_json::from_str(&line).map_err(|e| AdminError::Garbled(e.to_string()))?;
            match p {
                DeadletterProgress::Done => return Ok(()),
                DeadletterProgress::Failed { error } => return Err(AdminError::Refused(error)),
                other => on(other),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, InFlight};
    use crate::hub::Hub;

    fn module(file: &str, name: &str) -> crate::schema::Module {
        crate::schema::Module {
            name: name.into(),
            file: std::path::PathBuf::from(file),
            verbs: Vec::new(),
            topics: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    #[test]
    fn a_module_invalid_on_disk_is_taken_from_the_running_ftl_dev() {
        let mut project = crate::config::load(
            std::path::Path::new("examples/pizzashop"),
            &crate::config::Overrides::none(),
        )
        .unwrap();
        let running = project.modules.clone();
        // As the runner hands them over, and back.
        let wire = serde_json::to_string(&RunningProject {
            modules: running.clone(),
        })
        .unwrap();
        let running = serde_json::from_str::<RunningProject>(&wire)
            .unwrap()
            .modules;
        assert_eq!(running, project.modules);
        project.modules.clear();
        let kitchen = project.root.join("kitchen/ftl.yaml");
        project
            .modules
            .push(module(&kitchen.display().to_string(), "kitchen"));
        let skipped = |file: &str| crate::config::SkippedModule {
            file: file.into(),
            folder: file.split('/').next().unwrap().into(),
            problems: crate::diag::Diagnostics(Vec::new()),
        };
        let put_back = stand_in(
            &mut project,
            &[skipped("pizza/ftl.yaml"), skipped("oven/ftl.yaml")],
            &running,
        );
        assert_eq!(put_back, vec![std::path::PathBuf::from("pizza/ftl.yaml")]);
        let names: Vec<&str> = project.modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["kitchen", "pizza"]);
        assert_eq!(project.modules[1], running[0]);
    }

    #[test]
    fn a_runner_status_with_events_in_flight_reads_back() {
        // Regression: a partition-keyed map of in-flight events serialized,
        // then failed to read back (flattened struct), and commands then
        // thought no `ftl dev` was running.
        let hub = Hub::new();
        hub.emit(Event::ConsumerStarting {
            subscription: "m.s".into(),
            topic: "m.t".into(),
            group: "m.s".into(),
            verb: "v".into(),
        });
        hub.emit(Event::ConsumerFailed {
            subscription: "m.s".into(),
            reason: "r".into(),
            hint: None,
        });
        for p in [3, 1] {
            hub.in_flight(
                "m.s",
                p,
                Some(InFlight {
                    partition: p,
                    offset: 9,
                    key: None,
                    attempt: 2,
                    since_ms: 1,
                    topic: None,
                    request_key: None,
                    published_at: None,
                    published_by: None,
                }),
            );
        }
        let status = RunnerStatus {
            project: "p".into(),
            pid: 1,
            listen: "127.0.0.1:1".into(),
            runner: hub.snapshot(),
        };
        let text = serde_json::to_string(&status).unwrap();
        let back: RunnerStatus = serde_json::from_str(&text).unwrap();
        let sub = &back.runner.subscriptions["m.s"];
        let parts: Vec<i32> = sub.in_flight.iter().map(|f| f.partition).collect();
        assert_eq!(parts, vec![1, 3]);
        assert_eq!(sub.state.describe(), "failed: r");
    }
}
