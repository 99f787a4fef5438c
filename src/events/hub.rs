//! Where events are emitted and read, and the snapshot kept beside them.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use super::{Event, InFlight, Snapshot, Update};

/// How many events a slow reader may fall behind before it misses some (it
/// is then told how many, as a `lagged` event).
const BACKLOG: usize = 16_384;

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
            s.apply(Update::Committed {
                subscription,
                positions: &positions,
            })
        });
    }

    /// The event a partition's worker is working on (`None`: idle). Kept in
    /// the snapshot only: an event per attempt start would double the
    /// stream for no reader's benefit.
    pub fn in_flight(&self, subscription: &str, partition: i32, now: Option<InFlight>) {
        self.state.send_if_modified(|s| {
            s.apply(Update::InFlight {
                subscription,
                partition,
                now: now.as_ref(),
            })
        });
    }
}
