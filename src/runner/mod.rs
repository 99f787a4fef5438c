//! The runner (DESIGN §4, §5): every subscription of every module in this
//! one process, each its own consumer group member, plus the Publisher and
//! a small admin API on `runner.listen`. Hot reloads restart only the
//! subscriptions whose definition changed.

mod consumer;
pub mod deadletter;
mod offsets;
pub mod verb;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::producer::FutureProducer;
use tokio::sync::{oneshot, Mutex};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use consumer::ReplaySummary;
use consumer::{Control, SubSpec, SubTask};

use crate::error::{Error, Result};
use crate::kafka::{Connection, ReplayFrom};
use crate::output::{Printer, DIM};
use crate::publisher::Publisher;
use crate::schema::{Lookup, Project};

/// What every subscription of the runner shares.
pub struct Shared {
    pub connection: Connection,
    pub producer: FutureProducer,
    pub http: reqwest::Client,
    pub printer: Printer,
}

impl Shared {
    /// One line per delivery outcome (hidden by `-q`).
    #[allow(clippy::too_many_arguments)]
    fn report(
        &self,
        sub: &str,
        msg: &OwnedMessage,
        verb: &str,
        attempt: u32,
        started: Instant,
        status: &str,
        output: Option<&str>,
    ) {
        if self.printer.quiet {
            return;
        }
        let ms = started.elapsed().as_millis();
        let mut line = format!(
            "{sub} {}@{} → {verb} attempt {attempt} {ms}ms {status}",
            msg.partition(),
            msg.offset()
        );
        if let Some(out) = output {
            for l in out.lines() {
                line.push_str(&format!("\n  {}", self.printer.err_style(DIM, l)));
            }
        }
        eprintln!("{line}");
    }
}

type Tasks = Arc<Mutex<HashMap<String, SubTask>>>;

pub struct Runner {
    shared: Arc<Shared>,
    project: Arc<RwLock<Arc<Project>>>,
    tasks: Tasks,
    grace: Duration,
    server: Option<(CancellationToken, JoinHandle<()>)>,
}

fn specs(project: &Project) -> BTreeMap<String, SubSpec> {
    let mut out = BTreeMap::new();
    for m in &project.modules {
        let dir = m.dir();
        for s in &m.subscriptions {
            if let Some(v) = project.verb(&m.name, &s.verb) {
                out.insert(
                    s.qualified(),
                    SubSpec {
                        sub: s.clone(),
                        verb: v.clone(),
                        module_dir: dir.clone(),
                        consumer_overrides: project.runner.consumer.clone(),
                    },
                );
            }
        }
    }
    out
}

impl Runner {
    pub async fn start(
        project: &Project,
        connection: Connection,
        printer: Printer,
    ) -> Result<Runner> {
        let producer = connection.producer()?;
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::failed(format!("cannot create the HTTP client: {e}"), None))?;
        let shared = Arc::new(Shared {
            connection,
            producer: producer.clone(),
            http,
            printer,
        });
        let current = Arc::new(RwLock::new(Arc::new(project.clone())));
        let tasks: Tasks = Arc::new(Mutex::new(HashMap::new()));
        let mut runner = Runner {
            shared: shared.clone(),
            project: current.clone(),
            tasks: tasks.clone(),
            grace: project.runner.grace,
            server: None,
        };
        runner.server = serve(
            project.runner.listen,
            Publisher {
                project: current,
                producer,
            },
            tasks,
            shared.clone(),
        )
        .await;
        runner.reconcile(project).await?;
        Ok(runner)
    }

    /// Starts, stops and restarts subscriptions so they match `project`.
    pub async fn reconcile(&mut self, project: &Project) -> Result<()> {
        if let Ok(mut p) = self.project.write() {
            *p = Arc::new(project.clone());
        }
        self.grace = project.runner.grace;
        let wanted = specs(project);
        let mut tasks = self.tasks.lock().await;
        let stale: Vec<String> = tasks
            .iter()
            .filter(|(name, t)| wanted.get(*name) != Some(&t.spec))
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            if let Some(task) = tasks.remove(&name) {
                let restarting = wanted.contains_key(&name);
                self.shared.printer.info(&format!(
                    "{name}: {}",
                    if restarting {
                        "changed; restarting after committing"
                    } else {
                        "removed; stopping"
                    }
                ));
                stop_task(task, self.grace).await;
            }
        }
        for (name, spec) in wanted {
            if tasks.contains_key(&name) {
                continue;
            }
            self.shared.printer.info(&format!(
                "{name}: consuming {} with group {} → verb {}",
                spec.sub.topic_kafka_name(),
                spec.sub.group_id(),
                spec.verb.name
            ));
            tasks.insert(name, consumer::spawn(spec, self.shared.clone(), self.grace));
        }
        Ok(())
    }

    /// Stops fetching, lets events in hand finish within `grace`, commits,
    /// leaves the groups.
    pub async fn shutdown(self, grace: Duration) {
        let tasks: Vec<SubTask> = self.tasks.lock().await.drain().map(|(_, t)| t).collect();
        for t in &tasks {
            t.stop.cancel();
        }
        futures_util::future::join_all(tasks.into_iter().map(|t| stop_task(t, grace))).await;
        if let Some((cancel, handle)) = self.server {
            cancel.cancel();
            let _ = tokio::time::timeout(Duration::from_secs(2), handle).await;
        }
    }
}

async fn stop_task(task: SubTask, grace: Duration) {
    task.stop.cancel();
    let _ = tokio::time::timeout(grace + Duration::from_secs(15), task.handle).await;
}

/// Serves the Publisher (gRPC + HTTP) and the admin API. A second runner of
/// the same project finds the address taken: it still consumes (sharing the
/// groups), and the first runner keeps serving.
async fn serve(
    listen: SocketAddr,
    publisher: Publisher,
    tasks: Tasks,
    shared: Arc<Shared>,
) -> Option<(CancellationToken, JoinHandle<()>)> {
    let printer = &shared.printer;
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            printer.warn(
                &format!("cannot listen on {listen} ({e}); this runner consumes but does not serve the Publisher or admin API"),
                Some("another `ftl dev` of this project may hold it; otherwise change `runner.listen` in ftl-project.yaml"),
            );
            return None;
        }
    };
    let admin = axum::Router::new()
        .route("/admin/status", get(admin_status))
        .route("/admin/subscriptions/{sub}/replay", post(admin_replay))
        .route(
            "/admin/subscriptions/{sub}/replay-deadletter",
            post(admin_replay_deadletter),
        )
        .with_state(AdminState {
            tasks,
            project: publisher.project.clone(),
            shared: shared.clone(),
        });
    let app = publisher.router().merge(admin);
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move { c.cancelled().await })
            .await;
    });
    printer.info(&format!("publisher: gRPC and HTTP on {listen}"));
    Some((cancel, handle))
}

#[derive(Clone)]
struct AdminState {
    tasks: Tasks,
    project: Arc<RwLock<Arc<Project>>>,
    shared: Arc<Shared>,
}

impl AdminState {
    fn project(&self) -> Arc<Project> {
        match self.project.read() {
            Ok(p) => p.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

fn admin_error(status: StatusCode, message: String) -> Response {
    (status, Json(serde_json::json!({"error": message}))).into_response()
}

async fn admin_status(State(state): State<AdminState>) -> Response {
    let senders: Vec<(String, tokio::sync::mpsc::Sender<Control>)> = state
        .tasks
        .lock()
        .await
        .iter()
        .map(|(n, t)| (n.clone(), t.control.clone()))
        .collect();
    let mut subs = serde_json::Map::new();
    for (name, tx) in senders {
        let (reply, rx) = oneshot::channel();
        let partitions = if tx.send(Control::Assigned { reply }).await.is_ok() {
            tokio::time::timeout(Duration::from_secs(5), rx)
                .await
                .ok()
                .and_then(|r| r.ok())
        } else {
            None
        };
        subs.insert(name, serde_json::json!({"partitions": partitions}));
    }
    Json(serde_json::json!({
        "project": state.project().name,
        "pid": std::process::id(),
        "subscriptions": subs,
    }))
    .into_response()
}

#[derive(serde::Deserialize)]
struct ReplayQuery {
    /// beginning | latest | milliseconds since the epoch
    from: String,
}

async fn admin_replay(
    State(state): State<AdminState>,
    Path(sub): Path<String>,
    Query(q): Query<ReplayQuery>,
) -> Response {
    let Some(from) = ReplayFrom::from_param(&q.from) else {
        return admin_error(StatusCode::BAD_REQUEST, format!("bad `from`: {}", q.from));
    };
    let project = state.project();
    let name = match project.find_subscription(&sub) {
        Lookup::Found(s) => s.qualified(),
        _ => {
            return admin_error(
                StatusCode::NOT_FOUND,
                format!("unknown subscription `{sub}`"),
            )
        }
    };
    let tx = match state.tasks.lock().await.get(&name) {
        Some(t) => t.control.clone(),
        None => {
            return admin_error(
                StatusCode::NOT_FOUND,
                format!("subscription `{name}` is not running"),
            )
        }
    };
    let (reply, rx) = oneshot::channel();
    if tx.send(Control::Replay { from, reply }).await.is_err() {
        return admin_error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("subscription `{name}` is stopping"),
        );
    }
    match tokio::time::timeout(Duration::from_secs(30), rx).await {
        Ok(Ok(Ok(summary))) => Json(serde_json::json!(summary)).into_response(),
        Ok(Ok(Err(e))) => admin_error(StatusCode::CONFLICT, e),
        _ => admin_error(
            StatusCode::GATEWAY_TIMEOUT,
            format!("subscription `{name}` did not answer"),
        ),
    }
}

#[derive(serde::Deserialize)]
struct ReplayDeadletterQuery {
    limit: Option<u64>,
    #[serde(default)]
    dry_run: bool,
}

/// Dead letters handed back to the verb by the live runner, with the
/// runner's connection, producer and HTTP client.
async fn admin_replay_deadletter(
    State(state): State<AdminState>,
    Path(sub): Path<String>,
    Query(q): Query<ReplayDeadletterQuery>,
) -> Response {
    let project = state.project();
    let sub = match project.find_subscription(&sub) {
        Lookup::Found(s) => s.clone(),
        _ => {
            return admin_error(
                StatusCode::NOT_FOUND,
                format!("unknown subscription `{sub}`"),
            )
        }
    };
    let Some(verb) = project.verb(&sub.module, &sub.verb).cloned() else {
        return admin_error(
            StatusCode::NOT_FOUND,
            format!("unknown verb `{}`", sub.verb),
        );
    };
    let module_dir = project.module_dir(&sub.module);
    let target = deadletter::ReplayTarget {
        connection: &state.shared.connection,
        producer: &state.shared.producer,
        http: &state.shared.http,
        sub: &sub,
        verb: &verb,
        module_dir: &module_dir,
    };
    match deadletter::replay(&target, q.limit, q.dry_run).await {
        Ok(items) => Json(serde_json::json!(items)).into_response(),
        Err(e) => admin_error(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}
