//! What happens in `ftl dev`, as typed data. The runner and `ftl dev` emit
//! [`Event`]s on one hub (`crate::hub`); every consumer (the printer, the `--json`
//! stream, the admin API, tests) reads them from there and nothing else
//! decides what happened. The hub also folds the events into a
//! [`Snapshot`] (each subscription's state, assignment, in-flight events and
//! counters) held in a `watch` channel, so a late reader sees the present
//! without replaying history.
//!
//! The JSON shape (`type` first, snake_case names) is a documented interface
//! (README, "ftl dev --json"): add fields, never rename or remove them.

use serde::{Deserialize, Serialize};

mod snapshot;

pub use snapshot::{
    BrokerHealth, Committed, Counters, InFlight, PartitionInFlight, Snapshot, State, SubState,
    Update,
};

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
    /// The broker's image is not on this machine: Docker pulls it.
    ImagePulling {
        image: String,
    },
    /// Progress of one layer of the image being pulled: each change of
    /// `status`, and the bytes at most every quarter second per layer.
    ImageLayer {
        image: String,
        layer: String,
        /// Docker's word for the step (`Downloading`, `Extracting`, ...).
        status: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        current: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        total: Option<u64>,
    },
    /// The image is on this machine now.
    ImagePulled {
        image: String,
        ms: u64,
    },
    /// The broker's container was found running (`reused`), started again
    /// (`started`) or made (`created`).
    BrokerContainer {
        container: String,
        kind: String,
        image: String,
        how: String,
    },
    /// The broker container runs another kind than the project asks for;
    /// the running one is used.
    BrokerKindMismatch {
        container: String,
        running: String,
        asked: String,
    },
    /// Waiting for the broker to answer Kafka requests.
    BrokerWaiting {
        container: String,
        kind: String,
        address: String,
        how: String,
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
    /// The runner published an event (the Publisher, a dead letter) and the
    /// broker acknowledged it.
    Published(Published),
    /// A publish through the Publisher failed (bad input or the broker).
    PublishFailed {
        topic: String,
        request_key: String,
        by: String,
        error: String,
    },
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
    /// The broker came back without the subscription's topic (it lost its
    /// data) and the topic was created again: the subscription delivers the
    /// new topic from its first event on these partitions.
    StartedOver {
        subscription: String,
        topic: String,
        partitions: Vec<i32>,
    },
    BrokerLost {
        address: String,
        reason: String,
    },
    BrokerRegained {
        address: String,
        down_ms: u64,
    },
    /// A topic with fewer partitions than declared, which the broker had
    /// made by itself after it lost the project's, was deleted and created
    /// again as declared.
    TopicRecreated {
        topic: String,
        had: i32,
        partitions: i32,
    },
    /// The broker's container was paused (`docker pause`): nothing is
    /// delivered or acknowledged until it is unpaused; nothing is lost.
    BrokerPaused {
        address: String,
    },
    BrokerUnpaused {
        address: String,
        paused_ms: u64,
    },
    /// The broker came back at another address (its container was created
    /// again): every Kafka client of the runner now dials `address`.
    BrokerMoved {
        from: String,
        address: String,
    },
    /// A valid edit of the project files was applied.
    ReloadApplied {
        started: Vec<String>,
        restarted: Vec<String>,
        stopped: Vec<String>,
        failed: Vec<String>,
    },
    /// A reload changed a topic's type: what its retained events are
    /// against the new type (a bounded read from the beginning).
    TypeChanged {
        topic: String,
        ty: String,
        read: u64,
        invalid: u64,
        /// The first three that do not match: `partition@offset: problem`.
        first: Vec<String>,
        /// False when the read stopped at its bound.
        complete: bool,
    },
    /// An edit was refused; the last good configuration keeps running.
    ReloadRejected {
        /// The problems as printed, with file:line:col.
        problems: String,
        /// Subscriptions still running on the last good configuration.
        running: usize,
    },
    /// The project files are valid again after a rejected edit. `changed`:
    /// they differ from what runs (a `reload_applied` follows); else they
    /// are back to it and nothing restarts.
    ReloadValid {
        changed: bool,
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

/// Where a library step tells what it is doing, as it happens (the way
/// uv's resolver calls a reporter its CLI implements): the hub in
/// `ftl dev`, so the printer, `--json` and the console see it; the printer
/// itself in one-shot commands.
pub trait Report: Send + Sync {
    fn report(&self, event: Event);
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
    /// The broker went away: its Kafka client was closed at once (nothing
    /// more could be committed); it starts again when the broker is back.
    BrokerLost,
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
    /// The request the event belongs to (`ftl.request_key`, or the key the
    /// runner gave an event published without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_key: Option<String>,
    /// When the event was published (`ftl.created_at`), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    /// Milliseconds from the publish to the end of this attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_published_ms: Option<u64>,
    /// Who published the event (`ftl.published_by`), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_by: Option<String>,
}

/// An event the runner published, as the broker stored it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub request_key: String,
    /// `ftl.created_at` as written.
    pub created_at: String,
    /// `cli`, `http`, `grpc`, a verb (`module.verb`), or `deadletter`.
    pub by: String,
    /// For a dead letter: the delivery that failed into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<Source>,
}

/// An event of a subscription (where a dead letter came from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub subscription: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
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

/// One delivery attempt of `m.s` (partition 1, offset 7, key `k`), for tests.
#[cfg(test)]
pub(crate) fn delivery(outcome: Outcome) -> Event {
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
        request_key: None,
        published_at: None,
        since_published_ms: None,
        published_by: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn events_serialize_with_their_type_first() {
        let line = serde_json::to_string(&delivery(Outcome::DeadLettered)).unwrap();
        assert!(
            line.starts_with(r#"{"type":"delivery","subscription":"m.s""#),
            "{line}"
        );
        assert!(line.contains(r#""outcome":"dead_lettered""#), "{line}");
        let back: Event = serde_json::from_str(&line).unwrap();
        assert_eq!(back, delivery(Outcome::DeadLettered));
        let layer = Event::ImageLayer {
            image: "i".into(),
            layer: "l".into(),
            status: "Waiting".into(),
            current: None,
            total: None,
        };
        let line = serde_json::to_string(&layer).unwrap();
        assert_eq!(
            line,
            r#"{"type":"image_layer","image":"i","layer":"l","status":"Waiting"}"#
        );
        assert_eq!(serde_json::from_str::<Event>(&line).unwrap(), layer);
        let waiting = serde_json::to_string(&Event::BrokerWaiting {
            container: "c".into(),
            kind: "tansu".into(),
            address: "127.0.0.1:1".into(),
            how: "reused".into(),
        })
        .unwrap();
        assert!(
            waiting.starts_with(r#"{"type":"broker_waiting","#),
            "{waiting}"
        );
        let state = serde_json::to_value(State::Failed { reason: "x".into() }).unwrap();
        assert_eq!(state, serde_json::json!({"state": "failed", "reason": "x"}));
    }
}
