//! The runner (docs/design.md, "Delivery" and "Publishing"): every subscription of every module in this
//! one process, each its own consumer group member, plus the Publisher and
//! the admin API on `runner.listen`. Hot reloads restart only the
//! subscriptions whose definition changed.
//!
//! The `Runner` alone owns the subscription tasks (a plain map, no lock);
//! the admin API reaches a task through its control channel, found in a
//! `watch` of routes. Everything that happens is an event on the `Hub`.

mod console;
mod consumer;
pub mod deadletter;
mod deliver;
pub mod error;
mod follow;
mod keyed;
mod listen;
mod offsets;
mod reconcile;
mod server;
mod state;
mod trace_api;
pub mod verb;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use consumer::{Control, SubTask};

use crate::error::Result;
use crate::events::{Event, StopReason};
use crate::hub::Hub;
use crate::kafka::{Connection, LiveConnection, RenewableProducer};
use crate::publisher::Publisher;
use crate::schema::{Project, Subscription, Verb};
pub use follow::BrokerChange;

/// What every subscription of the runner shares.
pub struct Shared {
    /// Where the broker is now (it may move: a container created again).
    pub connection: crate::kafka::LiveConnection,
    /// The Publisher's and the dead letters' producer.
    pub producer: Arc<RenewableProducer>,
    /// The HTTP verbs' connection pool.
    pub http: verb::VerbClient,
    pub hub: Hub,
    /// A reader for watermarks and offsets (the console, replays).
    pub reader: crate::kafka::LazyReader,
    /// Someone saw a topic missing on the broker: the follower checks now.
    pub hint: Arc<tokio::sync::Notify>,
}

/// Everything that defines a running subscription; a change restarts it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubSpec {
    /// The subscription's qualified name (`module.name`), made once: every
    /// delivery event and snapshot update names it.
    pub name: String,
    pub sub: Subscription,
    pub verb: Verb,
    pub module_dir: PathBuf,
    pub consumer_overrides: BTreeMap<String, String>,
}

/// Each running subscription's control channel, by qualified name.
type Routes = HashMap<String, mpsc::Sender<Control>>;

/// What a reconcile did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReconcileReport {
    pub started: Vec<String>,
    pub restarted: Vec<String>,
    pub stopped: Vec<String>,
    /// (subscription, reason)
    pub failed: Vec<(String, String)>,
}

impl ReconcileReport {
    pub fn event(&self) -> Event {
        Event::ReloadApplied {
            started: self.started.clone(),
            restarted: self.restarted.clone(),
            stopped: self.stopped.clone(),
            failed: self.failed.iter().map(|(n, _)| n.clone()).collect(),
        }
    }
}

pub struct Runner {
    shared: Arc<Shared>,
    /// The project as last reconciled; the Publisher, the admin API and the
    /// broker watch read it.
    project: watch::Sender<Arc<Project>>,
    tasks: HashMap<String, SubTask>,
    /// Subscriptions whose consumer could not start; retried on reload.
    failed: HashSet<String>,
    routes: watch::Sender<Routes>,
    grace: Duration,
    server: Option<server::Server>,
    health: CancellationToken,
    /// What the follower sees of the broker.
    broker: mpsc::Receiver<BrokerChange>,
    /// The broker is away: every Kafka client is closed until it is back.
    suspended: bool,
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
                        name: s.qualified(),
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
    /// Starts the Publisher, the admin API and every subscription. The
    /// report says which subscriptions could not start.
    pub async fn start(
        project: &Project,
        connection: Connection,
        broker: crate::provision::BrokerStatus,
        hub: Hub,
    ) -> Result<(Runner, ReconcileReport)> {
        let producer = Arc::new(RenewableProducer::new(connection.clone())?);
        let http = verb::VerbClient::new();
        let shared = Arc::new(Shared {
            connection: LiveConnection::new(connection.clone()),
            producer: producer.clone(),
            http,
            hub,
            reader: Default::default(),
            hint: Default::default(),
        });
        let current = watch::Sender::new(Arc::new(project.clone()));
        let (routes, routes_rx) = watch::channel(Routes::new());
        let server = server::serve(
            project.runner.listen,
            Publisher {
                project: current.subscribe(),
                producer,
                hub: shared.hub.clone(),
            },
            state::AdminState {
                listen: None,
                routes: routes_rx,
                project: current.subscribe(),
                shared: shared.clone(),
                broker: Arc::new(std::sync::Mutex::new(state::SeenBroker::new(broker))),
                kept: Default::default(),
            },
        )
        .await;
        let health = CancellationToken::new();
        let broker_changes = follow::Follower {
            connection,
            project: current.subscribe(),
            hint: shared.hint.clone(),
            stop: health.clone(),
        }
        .spawn();
        let mut runner = Runner {
            shared,
            project: current,
            tasks: HashMap::new(),
            failed: HashSet::new(),
            routes,
            grace: project.runner.grace,
            server,
            health,
            broker: broker_changes,
            suspended: false,
        };
        let report = runner.reconcile(project).await;
        Ok((runner, report))
    }

    /// Where the Publisher and admin API serve, if this runner serves.
    pub fn listening(&self) -> Option<SocketAddr> {
        self.server.as_ref().map(|s| s.address)
    }

    /// How many subscriptions run now.
    pub fn running(&self) -> usize {
        self.tasks.len()
    }

    /// Starts, stops and restarts subscriptions so they match `project`.
    pub async fn reconcile(&mut self, project: &Project) -> ReconcileReport {
        self.project.send_replace(Arc::new(project.clone()));
        self.grace = project.runner.grace;
        if self.suspended {
            // Nothing can start without the broker; it all starts when it is
            // back, with the project as it is then.
            return ReconcileReport::default();
        }
        let wanted = specs(project);
        let hub = self.shared.hub.clone();
        let grace = self.grace;
        let mut report = ReconcileReport::default();
        // A task that ended on its own (it said why) is restarted too.
        let stale: Vec<String> = self
            .tasks
            .iter()
            .filter(|(name, t)| wanted.get(*name) != Some(&t.spec) || t.handle.is_finished())
            .map(|(name, _)| name.clone())
            .collect();
        let mut stopping = Vec::new();
        for name in stale {
            if let Some(task) = self.tasks.remove(&name) {
                let why = if wanted.contains_key(&name) {
                    StopReason::Changed
                } else {
                    report.stopped.push(name.clone());
                    StopReason::Removed
                };
                stopping.push(async move {
                    stop_task(task, grace).await;
                    (name, why)
                });
            }
        }
        self.publish_routes();
        let restarting: HashSet<String> = futures_util::future::join_all(stopping)
            .await
            .into_iter()
            .map(|(name, why)| {
                hub.emit(Event::ConsumerStopped {
                    subscription: name.clone(),
                    why,
                });
                name
            })
            .filter(|name| wanted.contains_key(name))
            .collect();
        for name in self.failed.clone() {
            if !wanted.contains_key(&name) {
                self.failed.remove(&name);
                hub.emit(Event::ConsumerStopped {
                    subscription: name,
                    why: StopReason::Removed,
                });
            }
        }
        for (name, spec) in wanted {
            if self.tasks.contains_key(&name) {
                continue;
            }
            hub.emit(Event::ConsumerStarting {
                subscription: name.clone(),
                topic: spec.sub.topic_kafka_name(),
                group: spec.sub.group_id(),
                verb: spec.verb.name.clone(),
            });
            let again = restarting.contains(&name) || self.failed.contains(&name);
            match consumer::start(spec, self.shared.clone(), self.grace).await {
                Ok(task) => {
                    self.failed.remove(&name);
                    hub.emit(Event::ConsumerStarted {
                        subscription: name.clone(),
                    });
                    self.tasks.insert(name.clone(), task);
                    if again {
                        report.restarted.push(name);
                    } else {
                        report.started.push(name);
                    }
                }
                Err(e) => {
                    let reason = crate::text::one_line(&e);
                    hub.emit(Event::ConsumerFailed {
                        subscription: name.clone(),
                        reason: reason.clone(),
                        hint: Some(if project.runner.consumer.is_empty() {
                            "this is a bug in ftl if the project files validate; please report it with `ftl dev -v` output".into()
                        } else {
                            "check `runner.consumer` in ftl-project.yaml: its properties go to the Kafka client as they are".into()
                        }),
                    });
                    self.failed.insert(name.clone());
                    report.failed.push((name, reason));
                }
            }
        }
        self.publish_routes();
        report
    }

    fn publish_routes(&self) {
        let routes: Routes = self
            .tasks
            .iter()
            .map(|(n, t)| (n.clone(), t.control.clone()))
            .collect();
        self.routes.send_replace(routes);
    }

    /// Stops fetching, lets events in hand finish within `grace`, commits,
    /// leaves the groups.
    pub async fn shutdown(mut self, grace: Duration) {
        self.health.cancel();
        let tasks: Vec<(String, SubTask)> = self.tasks.drain().collect();
        self.publish_routes();
        for (_, t) in &tasks {
            t.stop.cancel();
        }
        let hub = self.shared.hub.clone();
        futures_util::future::join_all(tasks.into_iter().map(|(name, t)| {
            let hub = hub.clone();
            async move {
                stop_task(t, grace).await;
                hub.emit(Event::ConsumerStopped {
                    subscription: name,
                    why: StopReason::Shutdown,
                });
            }
        }))
        .await;
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }
}

async fn stop_task(task: SubTask, grace: Duration) {
    task.stop.cancel();
    let _ = tokio::time::timeout(grace + Duration::from_secs(15), task.handle).await;
}
