//! What happens in `ftl dev`, as typed data. The runner and `ftl dev` emit
//! [`Event`]s on one [`Hub`]; every consumer (the printer, the `--json`
//! stream, the admin API, tests) reads them from there and nothing else
//! decides what happened. The hub also folds the events into a
//! [`Snapshot`] (each subscription's state, assignment, in-flight events and
//! counters) held in a `watch` channel, so a late reader sees the present
//! without replaying history.
//!
//! The JSON shape (`type` first, snake_case names) is a documented interface
//! (README, "ftl dev --json"): add fields, never rename or remove them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

/// How many events a slow reader may fall behind before it misses some (it
/// is then told how many, as a `lagged` event).
const BACKLOG: usize = 16_384;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// The project was loaded; nothing started yet.
    Starting {
        project: String,
        modules: usize,
        topics: usize,
        subscriptions: usize,
    },
    /// The broker answers Kafka requests.
    BrokerReady {
        kind: String,
        address: String,
        container: Option<String>,
        /// `reused`, `started`, `created` or `external`.
        how: String,
        ms: u64,
    },
    TopicCreated {
        topic: String,
        partitions: i32,
    },
    TopicGrown {
        topic: String,
        from: i32,
        to: i32,
    },
    /// Something about a topic that did not stop `ftl dev` (a broker that
    /// cannot grow it: `error`; more partitions than declared: `warning`).
    TopicProblem {
        topic: String,
        severity: Severity,
        message: String,
        hint: Option<String>,
    },
    /// The Publisher, admin API and console serve on this address.
    Listening {
        address: String,
    },
    /// Another process holds the address: this runner consumes but does
    /// not serve.
    ListenFailed {
        address: String,
        reason: String,
    },
    /// A subscription's consumer is being created.
    ConsumerStarting {
        subscription: String,
        topic: String,
        group: String,
        verb: String,
    },
    /// The consumer exists and has subscribed to its topic.
    ConsumerStarted {
        subscription: String,
    },
    /// The subscription does not run; `reason` says why.
    ConsumerFailed {
        subscription: String,
        reason: String,
        hint: Option<String>,
    },
    ConsumerStopped {
        subscription: String,
        why: StopReason,
    },
    PartitionsAssigned {
        subscription: String,
        partitions: Vec<i32>,
    },
    PartitionsRevoked {
        subscription: String,
        partitions: Vec<i32>,
    },
    /// A gRPC verb's module server is not ready (or not there): deliveries
    /// to it wait, burning no retries.
    VerbWaiting {
        subscription: String,
        verb: String,
        address: String,
        reason: String,
    },
    /// The module server answered `Ping` as ready.
    VerbReady {
        subscription: String,
        verb: String,
        address: String,
    },
    /// One attempt to hand an event to its verb, and how it ended.
    Delivery(Delivery),
    ReplayStarted {
        subscription: String,
        from: String,
    },
    ReplayDone {
        subscription: String,
        redelivered: i64,
        partitions: Vec<PartitionMove>,
    },
    ReplayFailed {
        subscription: String,
        reason: String,
    },
    DeadletterReplayDone {
        subscription: String,
        ok: usize,
        failed: usize,
    },
    BrokerLost {
        address: String,
        reason: String,
    },
    BrokerRegained {
        address: String,
        down_ms: u64,
    },
    /// A valid edit of the project files was applied.
    ReloadApplied {
        started: Vec<String>,
        restarted: Vec<String>,
        stopped: Vec<String>,
        failed: Vec<String>,
    },
    /// An edit was refused; the last good configuration keeps running.
    ReloadRejected {
        /// The problems as printed, with file:line:col.
        problems: String,
        /// Subscriptions still running on the last good configuration.
        running: usize,
    },
    /// Every subscription's consumer exists; deliveries may begin.
    Ready {
        subscriptions: usize,
        listen: Option<String>,
        /// The console's URL (on `listen`).
        #[serde(default)]
        console: Option<String>,
        watching: String,
    },
    Stopping,
    /// An event in hand did not finish within the grace period.
    Abandoned {
        subscription: String,
        grace_ms: u64,
    },
    Stopped,
    /// This reader fell behind and missed `missed` events.
    Lagged {
        missed: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Its definition changed: it restarts with the new one.
    Changed,
    /// It is no longer declared.
    Removed,
    Shutdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The verb succeeded.
    Ok,
    /// The verb failed; another attempt follows after `retry_in_ms`.
    Retry,
    /// No attempts left: written to the dead-letter topic.
    DeadLettered,
    /// No attempts left and no dead-letter topic: skipped.
    Dropped,
    /// Given up without an outcome (shutdown, revocation, replay): the
    /// event stays uncommitted and comes again.
    Abandoned,
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub subscription: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub verb: String,
    pub attempt: u32,
    pub ms: u64,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadletter_topic: Option<String>,
    /// What the verb printed (exec verbs' stdout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
}

/// Where a replay moved one partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionMove {
    pub partition: i32,
    /// The group's new position.
    pub offset: i64,
    /// The partition's end offset when it moved.
    pub end: i64,
}

impl PartitionMove {
    pub fn redelivered(&self) -> i64 {
        (self.end - self.offset).max(0)
    }
}

// ------------------------------------------------------------ the snapshot

/// The runner now: what `ftl pubsub status` and the console show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub broker: BrokerHealth,
    pub subscriptions: BTreeMap<String, SubState>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BrokerHealth {
    pub address: Option<String>,
    /// False between `broker_lost` and `broker_regained`.
    pub reachable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubState {
    #[serde(flatten)]
    pub state: State,
    pub topic: String,
    pub group: String,
    pub verb: String,
    pub partitions: Vec<i32>,
    /// The event each partition's worker holds now, one per partition in
    /// partition order. (A list, not a map by partition: integer map keys do
    /// not survive serde's flattening on the way back in.)
    pub in_flight: Vec<InFlight>,
    pub counters: Counters,
    /// The group's committed position of each partition this runner has
    /// committed (partition order).
    #[serde(default)]
    pub committed: Vec<Committed>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Committed {
    pub partition: i32,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    Starting,
    Running,
    Failed { reason: String },
    Stopped,
}

impl State {
    /// `running`, `failed: <reason>`, ...
    pub fn describe(&self) -> String {
        match self {
            State::Starting => "starting".into(),
            State::Running => "running".into(),
            State::Failed { reason } => format!("failed: {reason}"),
            State::Stopped => "stopped".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlight {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub attempt: u32,
    /// When this attempt began, milliseconds since the epoch.
    pub since_ms: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub ok: u64,
    pub retried: u64,
    pub dead_lettered: u64,
    pub dropped: u64,
    pub abandoned: u64,
}

impl Snapshot {
    /// Folds one event in. Returns whether anything changed.
    pub fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::BrokerReady { address, .. } => {
                self.broker = BrokerHealth {
                    address: Some(address.clone()),
                    reachable: true,
                };
                return true;
            }
            Event::BrokerLost { .. } => {
                self.broker.reachable = false;
                return true;
            }
            Event::BrokerRegained { .. } => {
                self.broker.reachable = true;
                return true;
            }
            Event::ConsumerStarting {
                subscription,
                topic,
                group,
                verb,
            } => {
                let counters = self
                    .subscriptions
                    .get(subscription)
                    .map(|s| s.counters)
                    .unwrap_or_default();
                self.subscriptions.insert(
                    subscription.clone(),
                    SubState {
                        state: State::Starting,
                        topic: topic.clone(),
                        group: group.clone(),
                        verb: verb.clone(),
                        partitions: Vec::new(),
                        in_flight: Vec::new(),
                        counters,
                        committed: Vec::new(),
                    },
                );
                return true;
            }
            Event::ConsumerStopped {
                subscription,
                why: StopReason::Removed,
            } => return self.subscriptions.remove(subscription).is_some(),
            _ => {}
        }
        // The rest change one subscription the snapshot already holds.
        let name = match event {
            Event::ConsumerStarted { subscription }
            | Event::ConsumerFailed { subscription, .. }
            | Event::ConsumerStopped { subscription, .. }
            | Event::PartitionsAssigned { subscription, .. }
            | Event::PartitionsRevoked { subscription, .. } => subscription,
            Event::Delivery(d) => &d.subscription,
            _ => return false,
        };
        let Some(s) = self.subscriptions.get_mut(name) else {
            return false;
        };
        match event {
            Event::ConsumerStarted { .. } => s.state = State::Running,
            Event::ConsumerFailed { reason, .. } => {
                s.state = State::Failed {
                    reason: reason.clone(),
                };
                s.partitions.clear();
                s.in_flight.clear();
                s.committed.clear();
            }
            Event::ConsumerStopped { .. } => {
                s.state = State::Stopped;
                s.partitions.clear();
                s.in_flight.clear();
                s.committed.clear();
            }
            Event::PartitionsAssigned { partitions, .. } => {
                s.partitions.extend(partitions);
                s.partitions.sort_unstable();
                s.partitions.dedup();
            }
            Event::PartitionsRevoked { partitions, .. } => {
                s.partitions.retain(|p| !partitions.contains(p));
                s.in_flight.retain(|f| !partitions.contains(&f.partition));
                s.committed.retain(|c| !partitions.contains(&c.partition));
            }
            Event::Delivery(d) => {
                let c = &mut s.counters;
                match d.outcome {
                    Outcome::Ok => c.ok += 1,
                    Outcome::Retry => c.retried += 1,
                    Outcome::DeadLettered => c.dead_lettered += 1,
                    Outcome::Dropped => c.dropped += 1,
                    Outcome::Abandoned => c.abandoned += 1,
                }
                if d.outcome != Outcome::Retry {
                    s.in_flight.retain(|f| f.partition != d.partition);
                }
            }
            _ => return false,
        }
        true
    }
}

// ------------------------------------------------------------ the hub

/// Where events are emitted and read. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Event>>,
    state: Arc<watch::Sender<Snapshot>>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        let (tx, _) = broadcast::channel(BACKLOG);
        let (state, _) = watch::channel(Snapshot::default());
        Hub {
            tx,
            state: Arc::new(state),
        }
    }

    pub fn emit(&self, event: Event) {
        self.state.send_if_modified(|s| s.apply(&event));
        // No reader is not an error: events are only offered.
        let _ = self.tx.send(Arc::new(event));
    }

    /// A reader of every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// The state now.
    pub fn snapshot(&self) -> Snapshot {
        self.state.borrow().clone()
    }

    /// What a subscription's group has committed, as the runner committed it.
    pub fn committed(&self, subscription: &str, positions: Vec<(i32, i64)>) {
        self.state.send_if_modified(|s| {
            let Some(sub) = s.subscriptions.get_mut(subscription) else {
                return false;
            };
            for (partition, offset) in positions {
                match sub
                    .committed
                    .binary_search_by_key(&partition, |c| c.partition)
                {
                    Ok(i) => sub.committed[i].offset = offset,
                    Err(i) => sub.committed.insert(i, Committed { partition, offset }),
                }
            }
            true
        });
    }

    /// The event a partition's worker is working on (`None`: idle). Kept in
    /// the snapshot only: an event per attempt start would double the
    /// stream for no reader's benefit.
    pub fn in_flight(&self, subscription: &str, partition: i32, now: Option<InFlight>) {
        // `now`, when given, is for `partition`.
        self.state.send_if_modified(|s| {
            let Some(sub) = s.subscriptions.get_mut(subscription) else {
                return false;
            };
            match now {
                Some(f) => {
                    sub.in_flight.retain(|g| g.partition != partition);
                    let at = sub.in_flight.partition_point(|g| g.partition < partition);
                    sub.in_flight.insert(at, f);
                }
                None => {
                    sub.in_flight.retain(|g| g.partition != partition);
                }
            }
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(outcome: Outcome) -> Event {
        Event::Delivery(Delivery {
            subscription: "m.s".into(),
            topic: "m.t".into(),
            partition: 1,
            offset: 7,
            key: Some("k".into()),
            verb: "v".into(),
            attempt: 1,
            ms: 3,
            outcome,
            error: None,
            retry_in_ms: None,
            deadletter_topic: None,
            output: None,
        })
    }

    #[test]
    fn the_snapshot_follows_a_subscription_through_its_life() {
        let mut s = Snapshot::default();
        let steps = [
            Event::ConsumerStarting {
                subscription: "m.s".into(),
                topic: "m.t".into(),
                group: "m.s".into(),
                verb: "v".into(),
            },
            Event::ConsumerStarted {
                subscription: "m.s".into(),
            },
            Event::PartitionsAssigned {
                subscription: "m.s".into(),
                partitions: vec![2, 0],
            },
            Event::PartitionsAssigned {
                subscription: "m.s".into(),
                partitions: vec![1],
            },
            delivery(Outcome::Retry),
            delivery(Outcome::DeadLettered),
            delivery(Outcome::Ok),
            Event::PartitionsRevoked {
                subscription: "m.s".into(),
                partitions: vec![0],
            },
        ];
        for e in &steps {
            assert!(s.apply(e), "{e:?} changed nothing");
        }
        let sub = &s.subscriptions["m.s"];
        assert_eq!(sub.state, State::Running);
        assert_eq!(sub.partitions, vec![1, 2]);
        assert_eq!(
            sub.counters,
            Counters {
                ok: 1,
                retried: 1,
                dead_lettered: 1,
                ..Counters::default()
            }
        );
        assert!(s.apply(&Event::ConsumerFailed {
            subscription: "m.s".into(),
            reason: "boom".into(),
            hint: None,
        }));
        assert_eq!(s.subscriptions["m.s"].state.describe(), "failed: boom");
        assert!(s.subscriptions["m.s"].partitions.is_empty());
        // A restart keeps the counters.
        s.apply(&steps[0]);
        assert_eq!(s.subscriptions["m.s"].counters.ok, 1);
        assert!(s.apply(&Event::ConsumerStopped {
            subscription: "m.s".into(),
            why: StopReason::Removed,
        }));
        assert!(s.subscriptions.is_empty());
    }

    #[test]
    fn the_snapshot_keeps_what_the_runner_committed_for_its_partitions() {
        let hub = Hub::new();
        hub.emit(Event::ConsumerStarting {
            subscription: "m.s".into(),
            topic: "m.t".into(),
            group: "m.s".into(),
            verb: "v".into(),
        });
        hub.committed("m.s", vec![(2, 7), (0, 3)]);
        hub.committed("m.s", vec![(0, 5)]);
        let at = |s: &Snapshot| -> Vec<(i32, i64)> {
            s.subscriptions["m.s"]
                .committed
                .iter()
                .map(|c| (c.partition, c.offset))
                .collect()
        };
        assert_eq!(at(&hub.snapshot()), vec![(0, 5), (2, 7)]);
        hub.emit(Event::PartitionsRevoked {
            subscription: "m.s".into(),
            partitions: vec![2],
        });
        assert_eq!(at(&hub.snapshot()), vec![(0, 5)]);
    }

    #[test]
    fn events_serialize_with_their_type_first() {
        let line = serde_json::to_string(&delivery(Outcome::DeadLettered)).unwrap();
        assert!(
            line.starts_with(r#"{"type":"delivery","subscription":"m.s""#),
            "{line}"
        );
        assert!(line.contains(r#""outcome":"dead_lettered""#), "{line}");
        let back: Event = serde_json::from_str(&line).unwrap();
        assert_eq!(back, delivery(Outcome::DeadLettered));
        let state = serde_json::to_value(State::Failed { reason: "x".into() }).unwrap();
        assert_eq!(state, serde_json::json!({"state": "failed", "reason": "x"}));
    }
}
