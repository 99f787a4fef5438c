//! The runner now, folded from its events: what `ftl pubsub status` and
//! the console show.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Event, Outcome, StopReason};

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
    /// How many times it came back (each `broker_regained`).
    #[serde(default)]
    pub regained: u32,
    /// Its container is paused (`docker pause`).
    #[serde(default)]
    pub paused: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubState {
    #[serde(flatten)]
    pub state: State,
    pub topic: String,
    pub group: String,
    pub verb: String,
    pub partitions: Vec<i32>,
    /// The events at the verb now, in partition and offset order: one per
    /// partition at most, or up to `concurrency.max` with `per: key`. (A
    /// list, not a map by partition: integer map keys do not survive
    /// serde's flattening on the way back in.)
    pub in_flight: Vec<InFlight>,
    /// How many events each partition has at the verb now (partitions with
    /// none are left out), in partition order.
    #[serde(default)]
    pub in_flight_per_partition: Vec<PartitionInFlight>,
    pub counters: Counters,
    /// The group's committed position of each partition this runner has
    /// committed (partition order).
    #[serde(default)]
    pub committed: Vec<Committed>,
    /// Why deliveries wait for the verb (a gRPC module server that does not
    /// answer `Ping` as ready yet), while they do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for_verb: Option<String>,
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
    Failed {
        reason: String,
    },
    Stopped,
    /// Its consumer was closed when the broker went away; it starts again
    /// when the broker is back.
    Waiting,
}

impl State {
    /// `running`, `failed: <reason>`, ...
    pub fn describe(&self) -> String {
        match self {
            State::Starting => "starting".into(),
            State::Running => "running".into(),
            State::Failed { reason } => format!("failed: {reason}"),
            State::Stopped => "stopped".into(),
            State::Waiting => "waiting for the broker".into(),
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_key: Option<String>,
    /// When the event was published (`ftl.created_at`), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionInFlight {
    pub partition: i32,
    pub events: u32,
}

impl SubState {
    /// Counts `in_flight` per partition again (after it changed).
    pub(super) fn recount(&mut self) {
        self.in_flight_per_partition.clear();
        for f in &self.in_flight {
            match self.in_flight_per_partition.last_mut() {
                Some(c) if c.partition == f.partition => c.events += 1,
                _ => self.in_flight_per_partition.push(PartitionInFlight {
                    partition: f.partition,
                    events: 1,
                }),
            }
        }
    }

    /// The event `f` is at the verb (a new attempt replaces the last).
    /// `in_flight` stays sorted by partition and offset, and the count of
    /// its partition is changed in place (this runs at every attempt).
    pub(super) fn flight_started(&mut self, f: InFlight) {
        let at = self
            .in_flight
            .partition_point(|g| (g.partition, g.offset) < (f.partition, f.offset));
        match self.in_flight.get_mut(at) {
            Some(g) if g.partition == f.partition && g.offset == f.offset => *g = f,
            _ => {
                let partition = f.partition;
                self.in_flight.insert(at, f);
                let counts = &mut self.in_flight_per_partition;
                match counts.binary_search_by_key(&partition, |c| c.partition) {
                    Ok(i) => counts[i].events += 1,
                    Err(i) => counts.insert(
                        i,
                        PartitionInFlight {
                            partition,
                            events: 1,
                        },
                    ),
                }
            }
        }
    }

    /// The event at `offset` left the verb; false if it was not there.
    pub(super) fn flight_ended(&mut self, partition: i32, offset: i64) -> bool {
        let Ok(at) = self
            .in_flight
            .binary_search_by_key(&(partition, offset), |f| (f.partition, f.offset))
        else {
            return false;
        };
        self.in_flight.remove(at);
        let counts = &mut self.in_flight_per_partition;
        if let Ok(i) = counts.binary_search_by_key(&partition, |c| c.partition) {
            counts[i].events -= 1;
            if counts[i].events == 0 {
                counts.remove(i);
            }
        }
        true
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub ok: u64,
    pub retried: u64,
    pub dead_lettered: u64,
    pub dropped: u64,
    pub abandoned: u64,
}

/// What changes the snapshot: an event, or what the runner keeps in the
/// snapshot only (an event per commit or attempt start would double the
/// stream for no reader's benefit).
#[derive(Debug, Clone)]
pub enum Update<'a> {
    Event(&'a Event),
    /// What a subscription's group has committed, as the runner committed it.
    Committed {
        subscription: &'a str,
        positions: &'a [(i32, i64)],
    },
    /// An attempt of an event at the verb began (`Some`: it replaces the
    /// event's previous attempt), or the partition is idle (`None`: all its
    /// events leave); `now`, when given, is for `partition`.
    InFlight {
        subscription: &'a str,
        partition: i32,
        /// Moved into the snapshot (an attempt per event: no copy of its
        /// strings).
        now: Option<InFlight>,
    },
    /// The event at `offset` left the verb (finished, or given up without a
    /// delivery event).
    FlightEnded {
        subscription: &'a str,
        partition: i32,
        offset: i64,
    },
}

impl<'a> From<&'a Event> for Update<'a> {
    fn from(event: &'a Event) -> Self {
        Update::Event(event)
    }
}

impl Snapshot {
    /// Folds one update in: the one way the snapshot changes. Returns
    /// whether anything changed.
    pub fn apply<'a>(&mut self, update: impl Into<Update<'a>>) -> bool {
        match update.into() {
            Update::Event(event) => self.fold(event),
            Update::Committed {
                subscription,
                positions,
            } => {
                let Some(sub) = self.subscriptions.get_mut(subscription) else {
                    return false;
                };
                for &(partition, offset) in positions {
                    match sub
                        .committed
                        .binary_search_by_key(&partition, |c| c.partition)
                    {
                        Ok(i) => sub.committed[i].offset = offset,
                        Err(i) => sub.committed.insert(i, Committed { partition, offset }),
                    }
                }
                true
            }
            Update::InFlight {
                subscription,
                partition,
                now,
            } => {
                let Some(sub) = self.subscriptions.get_mut(subscription) else {
                    return false;
                };
                match now {
                    Some(f) => sub.flight_started(f),
                    None => {
                        sub.in_flight.retain(|g| g.partition != partition);
                        sub.recount();
                    }
                }
                true
            }
            Update::FlightEnded {
                subscription,
                partition,
                offset,
            } => self
                .subscriptions
                .get_mut(subscription)
                .is_some_and(|sub| sub.flight_ended(partition, offset)),
        }
    }

    fn fold(&mut self, event: &Event) -> bool {
        match event {
            Event::BrokerReady { address, .. } => {
                self.broker = BrokerHealth {
                    address: Some(address.clone()),
                    reachable: true,
                    regained: self.broker.regained,
                    paused: false,
                };
                return true;
            }
            Event::BrokerLost { .. } => {
                self.broker.reachable = false;
                self.broker.paused = false;
                return true;
            }
            Event::BrokerPaused { .. } => {
                self.broker.paused = true;
                return true;
            }
            Event::BrokerUnpaused { .. } => {
                self.broker.paused = false;
                return true;
            }
            Event::BrokerMoved { address, .. } => {
                self.broker.address = Some(address.clone());
                return true;
            }
            Event::BrokerRegained { address, .. } => {
                self.broker.address = Some(address.clone());
                self.broker.paused = false;
                self.broker.reachable = true;
                self.broker.regained += 1;
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
                        in_flight_per_partition: Vec::new(),
                        counters,
                        committed: Vec::new(),
                        waiting_for_verb: None,
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
            | Event::PartitionsRevoked { subscription, .. }
            | Event::VerbWaiting { subscription, .. }
            | Event::VerbReady { subscription, .. } => subscription,
            Event::Delivery(d) => &d.subscription,
            _ => return false,
        };
        let Some(s) = self.subscriptions.get_mut(name) else {
            return false;
        };
        match event {
            Event::ConsumerStarted { .. } => s.state = State::Running,
            Event::VerbWaiting { reason, .. } => s.waiting_for_verb = Some(reason.clone()),
            Event::VerbReady { .. } => s.waiting_for_verb = None,
            Event::ConsumerFailed { reason, .. } => {
                s.waiting_for_verb = None;
                s.state = State::Failed {
                    reason: reason.clone(),
                };
                s.partitions.clear();
                s.in_flight.clear();
                s.in_flight_per_partition.clear();
                s.committed.clear();
            }
            Event::ConsumerStopped { why, .. } => {
                s.waiting_for_verb = None;
                s.state = if *why == StopReason::BrokerLost {
                    State::Waiting
                } else {
                    State::Stopped
                };
                s.partitions.clear();
                s.in_flight.clear();
                s.in_flight_per_partition.clear();
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
                s.recount();
                s.committed.retain(|c| !partitions.contains(&c.partition));
            }
            Event::Delivery(d) => {
                // A verb that answered is not waited for.
                s.waiting_for_verb = None;
                let c = &mut s.counters;
                match d.outcome {
                    Outcome::Ok => c.ok += 1,
                    Outcome::Retry => c.retried += 1,
                    Outcome::DeadLettered => c.dead_lettered += 1,
                    Outcome::Dropped => c.dropped += 1,
                    Outcome::Abandoned => c.abandoned += 1,
                }
                if d.outcome != Outcome::Retry {
                    s.flight_ended(d.partition, d.offset);
                }
            }
            _ => return false,
        }
        true
    }
}
