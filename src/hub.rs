//! Where events are emitted and read, with what is folded from them: the
//! state snapshot, the latest events for a late reader, and the request
//! history that `ftl pubsub trace` reads. It sits above `events` (what
//! happens) and `trace` (requests folded from what happens), so neither
//! needs the other's place.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use crate::events::{Event, InFlight, Snapshot, Update};

/// How many events a slow reader may fall behind before it misses some (it
/// is then told how many, as a `lagged` event).
const BACKLOG: usize = 16_384;

/// How many of the latest events other than deliveries the hub keeps, so
/// a reader that comes late (the console, on load) sees what happened.
pub const RECENT: usize = 200;

/// An event the hub kept, and when it was emitted (milliseconds since the
/// epoch).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Recent {
    pub at_ms: i64,
    pub event: Arc<Event>,
}

/// How many steps of requests wait before they are folded into the
/// history (or until someone reads it): folding one at a time took a lock
/// and ran the fold on the delivery task for every event.
const FOLD_BATCH: usize = 256;

/// Where events are emitted and read. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    /// Every event.
    tx: broadcast::Sender<Arc<Event>>,
    /// Every event but deliveries and publishes, for readers that show
    /// none of those: each event sent wakes a waiting reader, and at
    /// thousands of deliveries a second those wake-ups cost the runner
    /// more than its own work.
    quiet: broadcast::Sender<Arc<Event>>,
    /// Read on demand (status, the console's once-a-second update), never
    /// waited on: a lock, not a `watch`, whose every change would notify.
    state: Arc<Mutex<Snapshot>>,
    /// Recent requests, fed here so no event is missed (a slow reader of
    /// the stream would lag).
    requests: Arc<Requests>,
    /// The latest events but deliveries, oldest first; at most [`RECENT`].
    recent: Arc<Mutex<VecDeque<Recent>>>,
}

/// The request history and the steps it has yet to fold, in the order
/// they happened.
struct Requests {
    pending: Mutex<Vec<Step>>,
    history: Mutex<crate::trace::History>,
}

enum Step {
    /// A delivery or publish event, and when it was emitted.
    Event(i64, Arc<Event>),
    /// An attempt began (subscription, event).
    Attempt(String, InFlight),
}

impl Requests {
    fn add(&self, step: Step) {
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            pending.push(step);
            if pending.len() < FOLD_BATCH {
                return;
            }
        }
        drop(self.history());
    }

    /// The history with every step so far folded in. The steps are taken
    /// while the history is held, so batches fold in the order they came
    /// (the history's lock is always taken first).
    fn history(&self) -> std::sync::MutexGuard<'_, crate::trace::History> {
        let mut history = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let batch = std::mem::replace(
            &mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()),
            Vec::with_capacity(FOLD_BATCH),
        );
        fold_into(&mut history, batch);
        history
    }
}

fn fold_into(history: &mut crate::trace::History, batch: Vec<Step>) {
    for step in batch {
        match step {
            Step::Event(at_ms, event) => history.record_at(&event, at_ms),
            Step::Attempt(subscription, f) => history.attempt_started(&subscription, &f),
        }
    }
}

impl crate::events::Report for Hub {
    fn report(&self, event: Event) {
        self.emit(event);
    }
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        let (tx, _) = broadcast::channel(BACKLOG);
        let (quiet, _) = broadcast::channel(BACKLOG);
        Hub {
            tx,
            quiet,
            state: Arc::new(Mutex::new(Snapshot::default())),
            requests: Arc::new(Requests {
                pending: Mutex::new(Vec::with_capacity(FOLD_BATCH)),
                history: Mutex::new(crate::trace::History::new(crate::trace::Budget::default())),
            }),
            recent: Arc::new(Mutex::new(VecDeque::with_capacity(RECENT))),
        }
    }

    pub fn emit(&self, event: Event) {
        // A publish made while its request is at a verb is that delivery's
        // child: the attempts of the request at the verbs now go into the
        // history first (they are not recorded as they start: that would
        // cost every delivery a step).
        let attempts = match &event {
            Event::Published(p) => self.at_verbs(&p.request_key),
            Event::PublishFailed { request_key, .. } => self.at_verbs(request_key),
            _ => Vec::new(),
        };
        for (subscription, f) in attempts {
            self.requests.add(Step::Attempt(subscription, f));
        }
        self.state().apply(&event);
        let event = Arc::new(event);
        // Deliveries and publishes are counted in the snapshot or kept in
        // the request history, not with the recent events: at thousands a
        // second they would push out everything else.
        if matches!(
            *event,
            Event::Delivery(_) | Event::Published(_) | Event::PublishFailed { .. }
        ) {
            let now = crate::units::epoch_millis(std::time::SystemTime::now());
            self.requests.add(Step::Event(now, event.clone()));
            // No reader is not an error: events are only offered.
            let _ = self.tx.send(event);
            return;
        }
        if !matches!(*event, Event::Lagged { .. }) {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(Recent {
                at_ms: crate::units::epoch_millis(std::time::SystemTime::now()),
                event: event.clone(),
            });
        }
        let _ = self.quiet.send(event.clone());
        let _ = self.tx.send(event);
    }

    /// The latest events but deliveries, oldest first.
    pub fn recent(&self) -> Vec<Recent> {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.iter().cloned().collect()
    }

    /// A reader of every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }

    /// A reader of every event but deliveries and publishes (see `quiet`).
    pub fn subscribe_quiet(&self) -> broadcast::Receiver<Arc<Event>> {
        self.quiet.subscribe()
    }

    fn history(&self) -> std::sync::MutexGuard<'_, crate::trace::History> {
        self.requests.history()
    }

    /// The tree of one request as the history holds it (see
    /// [`crate::trace::History::trace`]).
    pub fn trace(
        &self,
        key: &str,
        subscribers: &dyn Fn(&str) -> Vec<(String, String)>,
    ) -> crate::trace::Trace {
        let attempts = self.at_verbs(key);
        let mut history = self.history();
        for (subscription, f) in &attempts {
            history.attempt_started(subscription, f);
        }
        history.trace(key, subscribers)
    }

    /// The request an event belongs to, if the history holds it (or the
    /// event is at a verb now).
    pub fn request_of(&self, at: &crate::trace::At) -> Option<String> {
        let kept = self.history().key_of(at);
        kept.or_else(|| {
            self.state()
                .subscriptions
                .values()
                .flat_map(|s| &s.in_flight)
                .find(|f| {
                    f.partition == at.partition
                        && f.offset == at.offset
                        && f.topic.as_deref() == Some(at.topic.as_str())
                })
                .and_then(|f| f.request_key.clone())
        })
    }

    /// The attempts of request `key` at a verb now: (subscription, event).
    fn at_verbs(&self, key: &str) -> Vec<(String, InFlight)> {
        let state = self.state();
        state
            .subscriptions
            .iter()
            .flat_map(|(name, s)| s.in_flight.iter().map(move |f| (name, f)))
            .filter(|(_, f)| f.request_key.as_deref() == Some(key))
            .map(|(name, f)| (name.clone(), f.clone()))
            .collect()
    }

    /// What the history keeps.
    pub fn kept(&self) -> crate::trace::Kept {
        self.history().kept()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Snapshot> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state now.
    pub fn snapshot(&self) -> Snapshot {
        self.state().clone()
    }

    /// What a subscription's group has committed, as the runner committed it.
    pub fn committed(&self, subscription: &str, positions: Vec<(i32, i64)>) {
        self.state().apply(Update::Committed {
            subscription,
            positions: &positions,
        });
    }

    /// An attempt of an event began (`Some`: it replaces the event's
    /// previous attempt), or the partition is idle (`None`: all its events
    /// leave). Kept in the snapshot only: an event per attempt start would
    /// double the stream for no reader's benefit. The request history takes
    /// it from there when it needs it (a publish made meanwhile, a trace).
    pub fn in_flight(&self, subscription: &str, partition: i32, now: Option<InFlight>) {
        self.state().apply(Update::InFlight {
            subscription,
            partition,
            now,
        });
    }

    /// The event at `offset` is no longer at the verb (finished or given
    /// up without a delivery event).
    pub fn flight_ended(&self, subscription: &str, partition: i32, offset: i64) {
        self.state().apply(Update::FlightEnded {
            subscription,
            partition,
            offset,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Snapshot;
    use crate::events::{delivery, Outcome};

    #[test]
    fn the_hub_keeps_the_latest_events_but_deliveries_for_a_late_reader() {
        let hub = Hub::new();
        hub.emit(Event::Stopping);
        for _ in 0..1000 {
            hub.emit(delivery(Outcome::Ok));
        }
        for missed in 0..RECENT as u64 {
            hub.emit(Event::BrokerRegained {
                address: "a".into(),
                down_ms: missed,
            });
        }
        hub.emit(Event::Stopped);
        let recent = hub.recent();
        assert_eq!(recent.len(), RECENT);
        // The oldest gave way; no delivery took a place.
        assert!(matches!(
            *recent[0].event,
            Event::BrokerRegained { down_ms: 1, .. }
        ));
        assert!(matches!(*recent[RECENT - 1].event, Event::Stopped));
        assert!(recent.iter().all(|r| r.at_ms > 0));
    }

    #[test]
    fn a_partition_with_key_concurrency_counts_each_event_at_the_verb() {
        let hub = Hub::new();
        hub.emit(Event::ConsumerStarting {
            subscription: "m.s".into(),
            topic: "m.t".into(),
            group: "m.s".into(),
            verb: "v".into(),
        });
        let at = |partition: i32, offset: i64, attempt: u32| {
            Some(InFlight {
                partition,
                offset,
                key: None,
                attempt,
                since_ms: 1,
                topic: None,
                request_key: None,
                published_at: None,
                published_by: None,
            })
        };
        for (p, o) in [(1, 9), (1, 7), (0, 3), (1, 8)] {
            hub.in_flight("m.s", p, at(p, o, 1));
        }
        // A retry of 1@7 replaces its first attempt.
        hub.in_flight("m.s", 1, at(1, 7, 2));
        let counts = |hub: &Hub| {
            let s = hub.snapshot();
            let sub = &s.subscriptions["m.s"];
            let order: Vec<(i32, i64, u32)> = sub
                .in_flight
                .iter()
                .map(|f| (f.partition, f.offset, f.attempt))
                .collect();
            let per: Vec<(i32, u32)> = sub
                .in_flight_per_partition
                .iter()
                .map(|c| (c.partition, c.events))
                .collect();
            (order, per)
        };
        assert_eq!(
            counts(&hub),
            (
                vec![(0, 3, 1), (1, 7, 2), (1, 8, 1), (1, 9, 1)],
                vec![(0, 1), (1, 3)]
            )
        );
        // 1@7 delivered (its delivery event), 0@3 given up between attempts.
        hub.emit(delivery(Outcome::Ok));
        hub.flight_ended("m.s", 0, 3);
        assert_eq!(counts(&hub), (vec![(1, 8, 1), (1, 9, 1)], vec![(1, 2)]));
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
}
