//! Where events are emitted and read, with what is folded from them: the
//! state snapshot, the latest events for a late reader, and the request
//! history that `ftl pubsub trace` reads. It sits above `events` (what
//! happens) and `trace` (requests folded from what happens), so neither
//! needs the other's place.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

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

/// Where events are emitted and read. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    tx: broadcast::Sender<Arc<Event>>,
    state: Arc<watch::Sender<Snapshot>>,
    /// Recent requests, fed here so no event is missed (a slow reader of
    /// the stream would lag).
    history: Arc<std::sync::Mutex<crate::trace::History>>,
    /// The latest events but deliveries, oldest first; at most [`RECENT`].
    recent: Arc<Mutex<VecDeque<Recent>>>,
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
        let (state, _) = watch::channel(Snapshot::default());
        Hub {
            tx,
            state: Arc::new(state),
            history: Arc::new(std::sync::Mutex::new(crate::trace::History::new(
                crate::trace::Budget::default(),
            ))),
            recent: Arc::new(Mutex::new(VecDeque::with_capacity(RECENT))),
        }
    }

    pub fn emit(&self, event: Event) {
        self.state.send_if_modified(|s| s.apply(&event));
        if matches!(
            event,
            Event::Delivery(_) | Event::Published(_) | Event::PublishFailed { .. }
        ) {
            self.history().record(&event);
        }
        let event = Arc::new(event);
        // Deliveries and publishes are counted in the snapshot or kept in
        // the request history, not here: at thousands a second they would
        // push out everything else.
        if !matches!(
            *event,
            Event::Delivery(_)
                | Event::Published(_)
                | Event::PublishFailed { .. }
                | Event::Lagged { .. }
        ) {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(Recent {
                at_ms: crate::units::epoch_millis(std::time::SystemTime::now()),
                event: event.clone(),
            });
        }
        // No reader is not an error: events are only offered.
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

    fn history(&self) -> std::sync::MutexGuard<'_, crate::trace::History> {
        self.history.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tree of one request as the history holds it (see
    /// [`crate::trace::History::trace`]).
    pub fn trace(
        &self,
        key: &str,
        subscribers: &dyn Fn(&str) -> Vec<(String, String)>,
    ) -> crate::trace::Trace {
        self.history().trace(key, subscribers)
    }

    /// The request an event belongs to, if the history holds it.
    pub fn request_of(&self, at: &crate::trace::At) -> Option<String> {
        self.history().key_of(at)
    }

    /// What the history keeps.
    pub fn kept(&self) -> crate::trace::Kept {
        self.history().kept()
    }

    /// The state now.
    pub fn snapshot(&self) -> Snapshot {
        self.state.borrow().clone()
    }

    /// What a subscription's group has committed, as the runner committed it.
    pub fn committed(&self, subscription: &str, positions: Vec<(i32, i64)>) {
        self.state.send_if_modified(|s| {
            s.apply(Update::Committed {
                subscription,
                positions: &positions,
            })
        });
    }

    /// An attempt of an event began (`Some`: it replaces the event's
    /// previous attempt), or the partition is idle (`None`: all its events
    /// leave). Kept in the snapshot only: an event per attempt start would
    /// double the stream for no reader's benefit.
    pub fn in_flight(&self, subscription: &str, partition: i32, now: Option<InFlight>) {
        if let Some(f) = &now {
            self.history().attempt_started(subscription, f);
        }
        self.state.send_if_modified(|s| {
            s.apply(Update::InFlight {
                subscription,
                partition,
                now: now.as_ref(),
            })
        });
    }

    /// The event at `offset` is no longer at the verb (finished or given
    /// up without a delivery event).
    pub fn flight_ended(&self, subscription: &str, partition: i32, offset: i64) {
        self.state.send_if_modified(|s| {
            s.apply(Update::FlightEnded {
                subscription,
                partition,
                offset,
            })
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
