//! What `ftl pubsub status` reports, as data: the project's topics as the
//! broker holds them, each subscription's lag and pending dead letters, and
//! its state in a running `ftl dev` (or `idle` without one).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::admin::RunnerStatus;
use crate::events::State;
use crate::kafka::groups::{group_committed, group_lag, lag, lags, PartitionLag};
use crate::kafka::{self, Connection, KafkaError};
use crate::provision::BrokerStatus;
use crate::schema::{Project, StartFrom};

#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub broker: BrokerStatus,
    /// Every `ftl dev` of this project that answers.
    pub runners: Vec<RunnerInfo>,
    pub topics: Vec<TopicStatus>,
    pub subscriptions: Vec<SubscriptionStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunnerInfo {
    pub pid: u32,
    pub listen: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopicStatus {
    pub name: String,
    /// False when the broker does not have it (yet): `ftl dev` creates it.
    pub provisioned: bool,
    pub partitions: usize,
    pub events: i64,
    pub end_offsets: Vec<i64>,
    /// With `--check`: its retained events against its type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_check: Option<crate::retained::RetainedCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionStatus {
    pub name: String,
    pub group: String,
    pub topic: String,
    /// `running`, `waiting_for_verb`, `starting`, `failed`, `stopped` in a
    /// running `ftl dev`; `idle` when none runs it.
    pub state: String,
    /// Why it failed, for `failed`; why the verb is waited for, for
    /// `waiting_for_verb`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Lag per partition.
    pub lag: BTreeMap<i32, i64>,
    pub total_lag: i64,
    /// Pending dead letters; `None` without a dead-letter topic.
    pub deadletters: Option<i64>,
    /// Events at the verb now per partition, in the running `ftl dev`s
    /// (partitions with none left out).
    pub in_flight: BTreeMap<i32, u32>,
}

/// Reads everything `status` shows (blocking: run it on a blocking thread).
pub fn status(
    conn: &Connection,
    project: &Project,
    broker: BrokerStatus,
    live: &[RunnerStatus],
) -> Result<StatusReport, KafkaError> {
    let reader = conn.reader("status")?;
    let result = status_with(conn, &reader, project, broker, live, &mut Kept::default());
    kafka::close_consumer(reader);
    result
}

/// How long [`Kept`] keeps what it read.
pub const KEEP_FOR: Duration = Duration::from_secs(30);
/// The end offsets are read again after at least this many times as long as
/// reading them took, so that a caller asking every second keeps the broker
/// busy with them at most 1/20 of the time: on a broker that answers in a
/// millisecond, every time; on the test broker, which answers in time
/// proportional to the events it holds (~150 ms for the benchmark's 75
/// partitions), every few seconds.
const HIGHS_GAP_FACTOR: u32 = 20;
/// ... and at most this long after.
const HIGHS_FOR: Duration = Duration::from_secs(5);

/// What a caller that reads the status again and again (the console, every
/// second) keeps between reads, so that each read asks the broker only for
/// what moves on its own: the latest offsets (one request, see
/// [`Kept::highs_due`]). The partitions of the topics, their low watermarks
/// (they move only when the broker deletes events) and the dead-letter
/// cursors (they move only when dead letters are replayed) are read again
/// after [`KEEP_FOR`], when the project changes, or after
/// [`Kept::forget_cursors`].
#[derive(Debug, Default)]
pub struct Kept {
    read_at: Option<Instant>,
    /// Which project they were read for (its address).
    project: usize,
    partitions: Option<BTreeMap<String, Vec<i32>>>,
    lows: HashMap<(String, i32), i64>,
    /// Committed offsets by dead-letter cursor group.
    cursors: HashMap<String, HashMap<i32, Option<i64>>>,
    /// The latest offsets, when they were read, how long that took, and how
    /// many events the live subscriptions had dead-lettered then.
    highs: HashMap<(String, i32), i64>,
    highs_at: Option<Instant>,
    highs_took: Duration,
    highs_dead: u64,
}

impl Kept {
    /// Forgets everything when it is older than [`KEEP_FOR`] at `now` or
    /// was read for another project.
    pub fn expire(&mut self, now: Instant, project: usize) {
        let old = self
            .read_at
            .is_none_or(|t| now.saturating_duration_since(t) > KEEP_FOR);
        if old || project != self.project {
            *self = Kept {
                read_at: Some(now),
                project,
                ..Kept::default()
            };
        }
    }

    /// Dead letters were replayed: their cursors moved.
    pub fn forget_cursors(&mut self) {
        self.cursors.clear();
    }

    /// Whether the latest offsets are to be read again at `now`, the live
    /// subscriptions having dead-lettered `dead` events in all (a new dead
    /// letter moves a dead-letter topic's end: read at once).
    fn highs_due(&self, now: Instant, dead: u64) -> bool {
        let Some(at) = self.highs_at else {
            return true;
        };
        let gap = (self.highs_took * HIGHS_GAP_FACTOR).min(HIGHS_FOR);
        dead != self.highs_dead
            || gap <= Duration::from_secs(1)
            || now.saturating_duration_since(at) >= gap
    }
}

/// [`status`] with a reader and what the caller keeps between reads (the
/// console asks every second).
pub fn status_with(
    conn: &Connection,
    reader: &kafka::Reader,
    project: &Project,
    broker: BrokerStatus,
    live: &[RunnerStatus],
    kept: &mut Kept,
) -> Result<StatusReport, KafkaError> {
    let (topics, subscriptions) = read_status(conn, reader, project, live, kept)?;
    Ok(StatusReport {
        broker,
        runners: live
            .iter()
            .map(|l| RunnerInfo {
                pid: l.pid,
                listen: l.listen.clone(),
            })
            .collect(),
        topics,
        subscriptions,
    })
}

type Marks = Vec<(i32, i64, i64)>;

/// Each topic's watermarks: low ones as kept, the latest read anew when
/// [`Kept::highs_due`] says so. Between two reads an end offset is at least
/// what a live runner committed there (a caught-up subscription's end).
fn read_marks(
    reader: &kafka::Reader,
    asked: &[(String, Vec<i32>)],
    live: &[RunnerStatus],
    kept: &mut Kept,
) -> Result<BTreeMap<String, Marks>, KafkaError> {
    if !kafka::knows_all(&kept.lows, asked) {
        kept.lows = kafka::list_offsets(reader, asked, rdkafka::Offset::Beginning)?;
    }
    let dead: u64 = live
        .iter()
        .flat_map(|l| l.runner.subscriptions.values())
        .map(|s| s.counters.dead_lettered)
        .sum();
    let now = Instant::now();
    if kept.highs_due(now, dead) || !kafka::knows_all(&kept.highs, asked) {
        kept.highs = kafka::list_offsets(reader, asked, rdkafka::Offset::End)?;
        kept.highs_at = Some(now);
        kept.highs_took = now.elapsed();
        kept.highs_dead = dead;
    }
    let mut highs = kept.highs.clone();
    for s in live.iter().flat_map(|l| l.runner.subscriptions.values()) {
        for c in &s.committed {
            let end = highs
                .entry((s.topic.clone(), c.partition))
                .or_insert(c.offset);
            *end = (*end).max(c.offset);
        }
    }
    kafka::marks_of(reader, asked, &kept.lows, &highs)
}

fn read_status(
    conn: &Connection,
    reader: &kafka::Reader,
    project: &Project,
    live: &[RunnerStatus],
    kept: &mut Kept,
) -> Result<(Vec<TopicStatus>, Vec<SubscriptionStatus>), KafkaError> {
    // Three requests in all, however many topics and partitions; one when
    // the rest is kept.
    let names: Vec<String> = project.topics().map(|t| t.kafka_name()).collect();
    let held = match &kept.partitions {
        Some(p) => p.clone(),
        None => {
            let p = kafka::partitions_all(reader, &names)?;
            // Kept once the broker has every topic (`ftl dev` creates them).
            if names.iter().all(|n| p.contains_key(n)) {
                kept.partitions = Some(p.clone());
            }
            p
        }
    };
    let asked: Vec<(String, Vec<i32>)> = names
        .iter()
        .filter_map(|n| held.get(n).map(|p| (n.clone(), p.clone())))
        .collect();
    let marks = read_marks(reader, &asked, live, kept)?;
    let topics = names
        .into_iter()
        .map(|name| match marks.get(&name) {
            Some(m) => TopicStatus {
                provisioned: true,
                partitions: m.len(),
                events: m.iter().map(|(_, l, h)| h - l).sum(),
                end_offsets: m.iter().map(|(_, _, h)| *h).collect(),
                name,
                type_check: None,
            },
            None => TopicStatus {
                name,
                provisioned: false,
                partitions: 0,
                events: 0,
                end_offsets: Vec::new(),
                type_check: None,
            },
        })
        .collect();
    let mut subs = Vec::new();
    for s in project.subscriptions() {
        let topic = s.topic_kafka_name();
        let m = marks.get(&topic).cloned().unwrap_or_default();
        let from_beginning = s.from == StartFrom::Beginning;
        // The runners' own commits when they cover every partition; else
        // the group's offsets from the broker.
        let parts_lag = match known_commits(live, &s.qualified(), &m) {
            Some(known) => m
                .iter()
                .zip(known)
                .map(|((p, low, high), c)| PartitionLag {
                    partition: *p,
                    committed: c,
                    end: *high,
                    lag: lag(c, *low, *high, from_beginning),
                })
                .collect(),
            None => group_lag(conn, &s.group_id(), &topic, &m, from_beginning)?,
        };
        let deadletters = if s.deadletter {
            let dlq = s.deadletter_kafka_name();
            let dm = marks.get(&dlq).cloned().unwrap_or_default();
            let group = s.deadletter_cursor_group();
            let cursor = match kept.cursors.get(&group) {
                Some(c) => c.clone(),
                None => {
                    let parts: Vec<i32> = dm.iter().map(|(p, _, _)| *p).collect();
                    let c = group_committed(conn, &group, &dlq, &parts)?;
                    kept.cursors.insert(group, c.clone());
                    c
                }
            };
            Some(lags(&cursor, &dm, true).iter().map(|l| l.lag).sum())
        } else {
            None
        };
        let (state, reason) = live_state(live, &s.qualified());
        subs.push(SubscriptionStatus {
            name: s.qualified(),
            group: s.group_id(),
            topic,
            state,
            reason,
            total_lag: parts_lag.iter().map(|l| l.lag).sum(),
            lag: parts_lag
                .iter()
                .map(|l: &PartitionLag| (l.partition, l.lag))
                .collect(),
            deadletters,
            in_flight: live_in_flight(live, &s.qualified()),
        });
    }
    Ok((topics, subs))
}

/// Each partition's committed offset as the live runners committed it (in
/// the order of `marks`), if they know every one that holds events (an
/// empty partition has no lag, whatever the group committed).
fn known_commits(live: &[RunnerStatus], name: &str, marks: &Marks) -> Option<Vec<Option<i64>>> {
    marks
        .iter()
        .map(|(p, low, high)| {
            let known = live
                .iter()
                .filter_map(|l| l.runner.subscriptions.get(name))
                .filter(|s| s.partitions.contains(p))
                .flat_map(|s| s.committed.iter())
                .find(|c| c.partition == *p)
                .map(|c| Some(c.offset));
            known.or((low == high).then_some(None))
        })
        .collect()
}

/// A subscription's state across the runners of a project: the most alive
/// one wins (running, starting, failed, stopped), `idle` when none runs it.
fn live_in_flight(live: &[RunnerStatus], name: &str) -> BTreeMap<i32, u32> {
    let mut out = BTreeMap::new();
    for c in live
        .iter()
        .filter_map(|l| l.runner.subscriptions.get(name))
        .flat_map(|s| s.in_flight_per_partition.iter())
    {
        *out.entry(c.partition).or_insert(0) += c.events;
    }
    out
}

fn live_state(live: &[RunnerStatus], name: &str) -> (String, Option<String>) {
    let rank = |s: &State| match s {
        State::Running => 0,
        State::Starting | State::Waiting => 1,
        State::Failed { .. } => 2,
        State::Stopped => 3,
    };
    let best = live
        .iter()
        .filter_map(|l| l.runner.subscriptions.get(name))
        .min_by_key(|s| rank(&s.state));
    match best {
        Some(s) => match (&s.state, &s.waiting_for_verb) {
            (State::Failed { reason }, _) => ("failed".to_string(), Some(reason.clone())),
            (State::Running, Some(why)) => ("waiting_for_verb".to_string(), Some(why.clone())),
            (other, _) => (other.describe(), None),
        },
        None => ("idle".to_string(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_waiting_for_its_grpc_verb_is_not_just_running() {
        use crate::events::Event;
        use crate::hub::Hub;
        let hub = Hub::new();
        hub.emit(Event::ConsumerStarting {
            subscription: "k.s".into(),
            topic: "k.t".into(),
            group: "k.s".into(),
            verb: "v".into(),
        });
        hub.emit(Event::ConsumerStarted {
            subscription: "k.s".into(),
        });
        let live = |hub: &Hub| {
            vec![RunnerStatus {
                project: "p".into(),
                pid: 1,
                listen: "127.0.0.1:1".into(),
                runner: hub.snapshot(),
            }]
        };
        assert_eq!(live_state(&live(&hub), "k.s"), ("running".into(), None));
        hub.emit(Event::VerbWaiting {
            subscription: "k.s".into(),
            verb: "v".into(),
            address: "http://127.0.0.1:9".into(),
            reason: "it does not answer Ping".into(),
        });
        assert_eq!(
            live_state(&live(&hub), "k.s"),
            (
                "waiting_for_verb".into(),
                Some("it does not answer Ping".into())
            )
        );
        hub.emit(Event::VerbReady {
            subscription: "k.s".into(),
            verb: "v".into(),
            address: "http://127.0.0.1:9".into(),
        });
        assert_eq!(live_state(&live(&hub), "k.s"), ("running".into(), None));
    }

    fn filled(at: Instant, project: usize) -> Kept {
        let mut k = Kept::default();
        k.expire(at, project);
        k.lows.insert(("t".into(), 0), 5);
        k.cursors.insert("g".into(), HashMap::from([(0, Some(7))]));
        k.partitions = Some(BTreeMap::from([("t".into(), vec![0])]));
        k
    }

    #[test]
    fn kept_offsets_are_read_again_when_old_for_another_project_or_replayed() {
        let t0 = Instant::now();
        let cases = [
            ("fresh, same project", KEEP_FOR / 2, 1, true),
            (
                "older than KEEP_FOR",
                KEEP_FOR + Duration::from_secs(1),
                1,
                false,
            ),
            ("another project", Duration::ZERO, 2, false),
        ];
        for (what, later, project, kept) in cases {
            let mut k = filled(t0, 1);
            k.expire(t0 + later, project);
            assert_eq!(k.partitions.is_some(), kept, "{what}: partitions");
            assert_eq!(!k.lows.is_empty(), kept, "{what}: low watermarks");
            assert_eq!(!k.cursors.is_empty(), kept, "{what}: cursors");
        }
        let mut k = filled(t0, 1);
        k.forget_cursors();
        assert!(k.cursors.is_empty());
        assert!(k.partitions.is_some() && !k.lows.is_empty());
    }

    #[test]
    fn the_latest_offsets_are_read_again_after_twenty_times_what_reading_took() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        assert!(Kept::default().highs_due(t0, 0), "never read");
        // (took, later, dead-lettered meanwhile, due)
        let cases = [
            ("a fast broker: every time", ms(2), ms(0), 0, true),
            ("at the 1 s bound: every time", ms(50), ms(0), 0, true),
            ("150 ms: not before 3 s", ms(150), ms(2900), 0, false),
            ("150 ms: after 3 s", ms(150), ms(3000), 0, true),
            ("a slow broker: at most 5 s", ms(900), ms(5000), 0, true),
            ("a slow broker: not within 5 s", ms(900), ms(4900), 0, false),
            ("a new dead letter: at once", ms(900), ms(0), 1, true),
        ];
        for (what, took, later, dead, due) in cases {
            let k = Kept {
                highs_at: Some(t0),
                highs_took: took,
                ..Kept::default()
            };
            assert_eq!(k.highs_due(t0 + later, dead), due, "{what}");
        }
    }
}
