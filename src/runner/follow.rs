//! Follows the broker: the Docker Engine's events for its container (a stop,
//! kill, restart, pause or a container created again is known at once), a
//! health probe every couple of seconds with a client made for that probe
//! alone, and hints from the runner (a fetch or a publish that found a topic
//! missing). What it sees goes to the runner as a [`BrokerChange`]; the
//! runner closes and remakes its Kafka clients and reconciles the topics.
//!
//! A client that knew the broker's topics must never see one of them come
//! back under the same name with a new identity: librdkafka 2.12's metadata
//! cache corrupts itself then (a SIGSEGV in `rd_kafka_metadata_cache_find`).
//! So the broker going away is reported the moment the engine says so, and
//! a declared topic that disappeared between two probes is reported as the
//! broker going away and coming back.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use crate::docker::{ContainerChange, Docker};
use crate::kafka::{Connection, TopicInfo};
use crate::schema::{BrokerKind, Project};

const PROBE_EVERY: Duration = Duration::from_secs(2);
/// While the broker is away: how often to ask whether it is back.
const PROBE_AWAY: Duration = Duration::from_millis(500);
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);
const FAILURES_TO_LOSE: u32 = 2;
/// The engine's event stream ended (the engine restarted): try again after.
const RECONNECT_DOCKER: Duration = Duration::from_secs(2);

/// What the runner is told about its broker.
#[derive(Debug, Clone)]
pub enum BrokerChange {
    /// Gone (or lost topics it had): close every Kafka client now.
    Gone {
        reason: String,
    },
    /// Answering again at `connection` (maybe a new address): reconcile the
    /// topics, then make the clients anew.
    Back {
        connection: Connection,
        down_ms: u64,
    },
    Paused,
    Unpaused {
        paused_ms: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    Up,
    Away(Instant),
    Paused(Instant),
}

pub struct Follower {
    pub connection: Connection,
    pub project: tokio::sync::watch::Receiver<Arc<Project>>,
    /// Someone saw a topic missing: probe now.
    pub hint: Arc<Notify>,
    pub stop: CancellationToken,
}

impl Follower {
    pub fn spawn(self) -> mpsc::Receiver<BrokerChange> {
        let (tx, rx) = mpsc::channel(16);
        tokio::spawn(self.run(tx));
        rx
    }

    fn project(&self) -> Arc<Project> {
        self.project.borrow().clone()
    }

    async fn run(self, tx: mpsc::Sender<BrokerChange>) {
        let managed = self.connection.kind != BrokerKind::External;
        let project_name = self.project().name.clone();
        let container = crate::broker::container_name(&project_name);
        let mut st = State {
            connection: self.connection.clone(),
            seen: Seen::Up,
            failures: 0,
            known: HashMap::new(),
            epoch: 0,
        };
        let mut docker: Option<Docker> = None;
        let mut changes = None;
        let mut next_docker_try = tokio::time::Instant::now();
        let mut next_probe = tokio::time::Instant::now() + PROBE_EVERY;
        // A probe runs beside the engine's events: a container that dies
        // while a probe waits on it is known at once.
        let mut probing: Option<Probing> = None;
        loop {
            if managed && changes.is_none() && tokio::time::Instant::now() >= next_docker_try {
                if docker.is_none() {
                    docker = Docker::connect().await.ok();
                }
                match &docker {
                    Some(d) => {
                        changes = Some(Box::pin(d.follow_container(&container)));
                        // A change while the stream was not followed: the
                        // probe (soon) finds what it left.
                        next_probe = next_probe.min(tokio::time::Instant::now());
                    }
                    None => next_docker_try = tokio::time::Instant::now() + RECONNECT_DOCKER,
                }
            }
            let idle = probing.is_none();
            let mut probe_now = false;
            let mut finished = None;
            let mut out: Vec<BrokerChange> = Vec::new();
            {
                let change = async {
                    match changes.as_mut() {
                        Some(s) => s.next().await,
                        None => std::future::pending().await,
                    }
                };
                let probed = async {
                    match probing.as_mut() {
                        Some(p) => p.await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    _ = self.stop.cancelled() => return,
                    c = change => match c {
                        Some(Ok(c)) => {
                            tracing::debug!("broker container: {c:?}");
                            st.container_changed(c, &mut out);
                            if c == ContainerChange::Started {
                                probe_now = true;
                            }
                        }
                        Some(Err(e)) => {
                            tracing::debug!("following the broker container: {e}");
                            changes = None;
                            docker = None;
                            next_docker_try = tokio::time::Instant::now() + RECONNECT_DOCKER;
                        }
                        None => {
                            changes = None;
                            next_docker_try = tokio::time::Instant::now() + RECONNECT_DOCKER;
                        }
                    },
                    r = probed => finished = Some(r),
                    _ = self.hint.notified() => probe_now = true,
                    _ = tokio::time::sleep_until(next_probe), if idle => probe_now = true,
                }
            }
            if let Some((epoch, result)) = finished {
                probing = None;
                if epoch == st.epoch {
                    st.probed(result, &self.project(), &mut out);
                }
                next_probe = tokio::time::Instant::now()
                    + match st.seen {
                        Seen::Away(_) => PROBE_AWAY,
                        _ if st.known.is_empty() => PROBE_AWAY,
                        _ => PROBE_EVERY,
                    };
            }
            for c in out {
                if tx.send(c).await.is_err() {
                    return;
                }
            }
            if !probe_now || probing.is_some() {
                continue;
            }
            if let Seen::Paused(_) = st.seen {
                // A paused broker answers nothing; that is not a loss.
                next_probe = tokio::time::Instant::now() + PROBE_EVERY;
                continue;
            }
            if let (Seen::Away(_), true, Some(d)) = (st.seen, managed, &docker) {
                // The container may be a new one, on another port.
                match d.find_broker(&project_name).await {
                    Ok(Some(c)) if c.running => st.connection.bootstrap = c.address(),
                    _ => {
                        next_probe = tokio::time::Instant::now() + PROBE_AWAY;
                        continue;
                    }
                }
            }
            let (epoch, connection) = (st.epoch, st.connection.clone());
            probing = Some(Box::pin(async move { (epoch, probe(&connection).await) }));
        }
    }
}

type Probing = std::pin::Pin<
    Box<dyn std::future::Future<Output = (u64, Result<HashMap<String, TopicInfo>, String>)> + Send>,
>;

/// What the follower knows of the broker.
struct State {
    connection: Connection,
    seen: Seen,
    failures: u32,
    /// The declared topics the broker had at the last probe, with their
    /// partitions: one that disappears was lost by the broker.
    known: HashMap<String, i32>,
    /// Counts container changes: a probe begun before one is stale.
    epoch: u64,
}

impl State {
    fn container_changed(&mut self, c: ContainerChange, out: &mut Vec<BrokerChange>) {
        self.epoch += 1;
        match (c, self.seen) {
            (ContainerChange::Died | ContainerChange::Destroyed, Seen::Up | Seen::Paused(_)) => {
                self.seen = Seen::Away(Instant::now());
                self.known.clear();
                let reason = if c == ContainerChange::Died {
                    "its container stopped"
                } else {
                    "its container was removed"
                };
                out.push(BrokerChange::Gone {
                    reason: reason.into(),
                });
            }
            (ContainerChange::Paused, Seen::Up) => {
                self.seen = Seen::Paused(Instant::now());
                out.push(BrokerChange::Paused);
            }
            (ContainerChange::Unpaused, Seen::Paused(since)) => {
                self.seen = Seen::Up;
                self.failures = 0;
                out.push(BrokerChange::Unpaused {
                    paused_ms: since.elapsed().as_millis() as u64,
                });
            }
            _ => {}
        }
    }

    fn probed(
        &mut self,
        result: Result<HashMap<String, TopicInfo>, String>,
        project: &Project,
        out: &mut Vec<BrokerChange>,
    ) {
        match (result, self.seen) {
            (Ok(topics), Seen::Away(since)) => {
                self.failures = 0;
                self.seen = Seen::Up;
                // Learnt again at the next probe, after the runner created
                // what was missing.
                self.known.clear();
                let _ = topics;
                out.push(BrokerChange::Back {
                    connection: self.connection.clone(),
                    down_ms: since.elapsed().as_millis() as u64,
                });
            }
            (Ok(topics), _) => {
                self.failures = 0;
                let now = declared_present(project, &topics);
                let lost: Vec<String> = self
                    .known
                    .iter()
                    .filter(|(t, p)| now.get(*t).is_none_or(|n| n < *p))
                    .map(|(t, _)| t.clone())
                    .collect();
                self.known = now;
                if !lost.is_empty() {
                    // Gone and back at once: every client that knew the old
                    // topics is closed before they are created again.
                    self.known.clear();
                    out.push(BrokerChange::Gone {
                        reason: format!(
                            "it no longer has {} as declared (it restarted between two probes)",
                            lost.join(", ")
                        ),
                    });
                    out.push(BrokerChange::Back {
                        connection: self.connection.clone(),
                        down_ms: 0,
                    });
                }
            }
            (Err(e), Seen::Up) => {
                self.failures += 1;
                if self.failures >= FAILURES_TO_LOSE {
                    self.seen = Seen::Away(Instant::now());
                    self.known.clear();
                    out.push(BrokerChange::Gone { reason: e });
                }
            }
            (Err(_), _) => {}
        }
    }
}

/// One metadata request by a client made for it alone and closed after: it
/// knows nothing from before, so a broker that came back with new topic
/// identities cannot upset it.
async fn probe(connection: &Connection) -> Result<HashMap<String, TopicInfo>, String> {
    let admin = connection.admin().map_err(|e| crate::text::one_line(&e))?;
    let topics = admin.topics(PROBE_TIMEOUT).await;
    admin.close();
    topics.map_err(|e| crate::text::one_line(&e))
}

/// The declared topics (and dead-letter topics) the broker has, with the
/// partitions it has of them.
fn declared_present(
    project: &Project,
    topics: &HashMap<String, TopicInfo>,
) -> HashMap<String, i32> {
    crate::provision::declared(project)
        .into_iter()
        .filter_map(|(t, _)| topics.get(&t).map(|i| (t, i.partitions)))
        .collect()
}
