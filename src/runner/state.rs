//! What the runner's HTTP handlers share (the Publisher's aside): the
//! admin state, a refused request, and the runner's status.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tokio::sync::watch;

use super::{Routes, Shared};
use crate::admin::{ApiError, RunnerStatus};
use crate::provision::BrokerStatus;
use crate::schema::{Lookup, Project, Subscription};

#[derive(Clone)]
pub struct AdminState {
    /// The address actually listened on (`runner.listen` may say port 0).
    pub listen: Option<SocketAddr>,
    pub routes: watch::Receiver<Routes>,
    pub project: watch::Receiver<Arc<Project>>,
    pub shared: Arc<Shared>,
    /// The broker as last read from Docker, and when.
    pub broker: Arc<std::sync::Mutex<SeenBroker>>,
    /// What the overview keeps between reads.
    pub kept: Arc<std::sync::Mutex<crate::inspect::Kept>>,
}

/// The broker as read from Docker, when, and after how many comebacks
/// (`Snapshot::broker.regained`): one that came back is read again, since a
/// restarted container has a new up-time.
pub struct SeenBroker {
    pub status: BrokerStatus,
    pub at: Instant,
    pub regained: u32,
}

impl SeenBroker {
    pub fn new(status: BrokerStatus) -> SeenBroker {
        SeenBroker {
            status,
            at: Instant::now(),
            regained: 0,
        }
    }
}

impl AdminState {
    pub(super) fn project(&self) -> Arc<Project> {
        self.project.borrow().clone()
    }

    /// The broker now: its up-time moved on since it was read, and it is
    /// read again from Docker after it came back (a restart). `regained` is
    /// the snapshot's count of comebacks, from the caller's snapshot.
    pub(super) async fn broker_status(&self, regained: u32) -> BrokerStatus {
        let stale = {
            let seen = self.broker.lock().unwrap_or_else(|p| p.into_inner());
            seen.regained != regained
        };
        if stale {
            // On failure the old reading stays, and is tried again next time.
            if let Ok(handle) = crate::provision::running_broker(&self.project()).await {
                *self.broker.lock().unwrap_or_else(|p| p.into_inner()) = SeenBroker {
                    regained,
                    ..SeenBroker::new(handle.status())
                };
            }
        }
        let seen = self.broker.lock().unwrap_or_else(|p| p.into_inner());
        let mut b = seen.status.clone();
        b.uptime_s = b.uptime_s.map(|s| s + seen.at.elapsed().as_secs());
        b
    }

    pub(super) fn subscription(&self, name: &str) -> Result<Subscription, Refusal> {
        match self.project().find_subscription(name) {
            Lookup::Found(s) => Ok(s.clone()),
            _ => Err(Refusal(
                StatusCode::NOT_FOUND,
                format!("unknown subscription `{name}`"),
            )),
        }
    }
}

pub(super) fn error(status: StatusCode, message: String) -> Response {
    (status, Json(ApiError { error: message })).into_response()
}

/// A refused request: its status and what to tell the caller.
pub(super) struct Refusal(pub StatusCode, pub String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

/// What `GET /admin/status` answers.
pub(super) fn runner_status(state: &AdminState) -> RunnerStatus {
    let project = state.project();
    RunnerStatus {
        project: project.name.clone(),
        pid: std::process::id(),
        listen: state.listen.unwrap_or(project.runner.listen).to_string(),
        runner: state.shared.hub.snapshot(),
    }
}
