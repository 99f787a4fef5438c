//! Consumer groups seen from outside: where a replay moves a group, moving
//! the offsets of a group no runner holds, and a group's lag.

use std::collections::HashMap;
use std::sync::Arc;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use serde::{Deserialize, Serialize};

use super::read::{partitions_of, watermarks_all};
use super::time_lookup::offsets_at_time;
use super::{call, close_consumer, task, Connection, KafkaError};
use crate::events::PartitionMove;

/// Where a replay moves a subscription's group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayFrom {
    Beginning,
    Latest,
    /// Milliseconds since the epoch.
    Time(i64),
}

impl ReplayFrom {
    /// Why the broker cannot be asked for this position, if it cannot: a
    /// negative time means "latest"/"earliest" or nothing to ListOffsets,
    /// and the broker took 10 s to say so.
    pub fn problem(&self) -> Option<String> {
        match self {
            ReplayFrom::Time(ms) if *ms < 0 => Some(format!(
                "the time {ms} is before 1970: give milliseconds since the epoch (0 or more), beginning or latest"
            )),
            _ => None,
        }
    }
}

impl std::fmt::Display for ReplayFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplayFrom::Beginning => f.write_str("beginning"),
            ReplayFrom::Latest => f.write_str("latest"),
            ReplayFrom::Time(ms) => {
                let t =
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis((*ms).max(0) as u64);
                f.write_str(&crate::text::rfc3339(t))
            }
        }
    }
}

/// Where each partition goes for a replay: the low watermark, the end, or
/// the first offset at or after a time (the end when none is that recent).
/// Blocking.
pub fn replay_targets<C: ConsumerContext>(
    consumer: &rdkafka::consumer::BaseConsumer<C>,
    topic: &str,
    partitions: &[i32],
    from: ReplayFrom,
) -> Result<Vec<PartitionMove>, KafkaError> {
    // Two requests for all the partitions, not two for each: on the test
    // broker holding 100k events each took ~10 ms.
    let asked = [(topic.to_string(), partitions.to_vec())];
    let marks = watermarks_all(consumer, &asked, &mut HashMap::new())?
        .remove(topic)
        .unwrap_or_default();
    let found = match from {
        ReplayFrom::Time(ms) => {
            // Checked against the records' timestamps: some brokers answer
            // wrongly (the test broker: offset 0 for any time).
            offsets_at_time(consumer, topic, &marks, ms)?
        }
        _ => HashMap::new(),
    };
    Ok(marks
        .into_iter()
        .map(|(partition, low, end)| PartitionMove {
            partition,
            offset: match from {
                ReplayFrom::Beginning => low,
                ReplayFrom::Latest => end,
                ReplayFrom::Time(_) => found.get(&partition).copied().unwrap_or(end),
            },
            end,
        })
        .collect())
}

/// Commits `moves` as the group's offsets (blocking).
pub fn commit_moves<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topic: &str,
    group: &str,
    moves: &[PartitionMove],
) -> Result<(), KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for m in moves {
        let _ = tpl.add_partition_offset(topic, m.partition, Offset::Offset(m.offset));
    }
    consumer
        .commit(&tpl, CommitMode::Sync)
        .map_err(|source| classify_commit(group, source))
}

/// A refused commit: a group with live (or ghost) members is told apart by
/// its error code.
fn classify_commit(group: &str, source: rdkafka::error::KafkaError) -> KafkaError {
    match source.rdkafka_error_code() {
        Some(
            RDKafkaErrorCode::UnknownMemberId
            | RDKafkaErrorCode::RebalanceInProgress
            | RDKafkaErrorCode::IllegalGeneration,
        ) => KafkaError::GroupHasMembers {
            group: group.to_string(),
            source,
        },
        _ => KafkaError::CommitRefused {
            group: group.to_string(),
            source,
        },
    }
}

/// Moves the offsets of a group no runner holds, from a consumer with the
/// group's id that never joins it (blocking).
pub fn move_idle_group(
    conn: &Connection,
    topic: &str,
    group: &str,
    from: ReplayFrom,
) -> Result<Vec<PartitionMove>, KafkaError> {
    let committer = conn.group_committer(group)?;
    let result = partitions_of(&committer, topic)
        .and_then(|parts| replay_targets(&committer, topic, &parts, from))
        .and_then(|moves| commit_moves(&committer, topic, group, &moves).map(|_| moves));
    close_consumer(committer);
    result
}

/// A partition's lag: how many events the group has still to handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionLag {
    pub partition: i32,
    pub committed: Option<i64>,
    pub end: i64,
    pub lag: i64,
}

/// How many events of a partition (watermarks `low`..`high`) a group at
/// `committed` has still to handle. A group that never committed starts at
/// `low` when it reads from the beginning, at the end otherwise.
pub fn lag(committed: Option<i64>, low: i64, high: i64, from_beginning: bool) -> i64 {
    match committed {
        Some(c) => (high - c.max(low)).max(0),
        None if from_beginning => high - low,
        None => 0,
    }
}

/// The lag of `group` on each partition, given the partitions' watermarks
/// (partition, low, high). A group that never committed starts at `low`
/// when it reads from the beginning, at the end otherwise (blocking).
pub fn group_lag(
    conn: &Connection,
    group: &str,
    topic: &str,
    marks: &[(i32, i64, i64)],
    from_beginning: bool,
) -> Result<Vec<PartitionLag>, KafkaError> {
    let parts: Vec<i32> = marks.iter().map(|(p, _, _)| *p).collect();
    let committed = group_committed(conn, group, topic, &parts)?;
    Ok(lags(&committed, marks, from_beginning))
}

/// The committed offsets of `group` on some partitions of `topic`, through
/// a client of its own that does not join the group (blocking).
pub fn group_committed(
    conn: &Connection,
    group: &str,
    topic: &str,
    partitions: &[i32],
) -> Result<HashMap<i32, Option<i64>>, KafkaError> {
    let committer = conn.group_committer(group)?;
    let committed = super::read::committed(&committer, topic, partitions);
    close_consumer(committer);
    committed
}

/// Each partition's lag (watermarks `marks`: partition, low, high) for a
/// group that committed `committed`.
pub fn lags(
    committed: &HashMap<i32, Option<i64>>,
    marks: &[(i32, i64, i64)],
    from_beginning: bool,
) -> Vec<PartitionLag> {
    marks
        .iter()
        .map(|(p, low, high)| {
            let c = committed.get(p).copied().flatten();
            PartitionLag {
                partition: *p,
                committed: c,
                end: *high,
                lag: lag(c, *low, *high, from_beginning),
            }
        })
        .collect()
}

/// Commits the position just past `offset` of one partition for the
/// consumer's group (a cursor moved past what was dealt with), on a blocking
/// thread.
pub async fn commit_past(
    consumer: &Arc<BaseConsumer>,
    topic: &str,
    partition: i32,
    offset: i64,
    action: String,
) -> Result<(), KafkaError> {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, Offset::Offset(offset + 1))
        .map_err(|e| call(action.clone(), e))?;
    let c = consumer.clone();
    let what = action.clone();
    tokio::task::spawn_blocking(move || c.commit(&tpl, CommitMode::Sync))
        .await
        .map_err(|e| task(what, e))?
        .map_err(|e| call(action, e))
}

/// Asks the broker for a topic's metadata through a group member now (on a
/// blocking thread): a member learns of a topic created again without
/// waiting for its periodic refresh.
pub async fn refresh_metadata<C, K>(consumer: Arc<K>, topic: &str) -> Result<(), KafkaError>
where
    C: ConsumerContext + 'static,
    K: Consumer<C> + Send + Sync + 'static,
{
    let t = topic.to_string();
    let action = format!("asking for the metadata of {topic}");
    tokio::task::spawn_blocking(move || {
        consumer.fetch_metadata(Some(&t), std::time::Duration::from_secs(5))
    })
    .await
    .map_err(|e| task(action.clone(), e))?
    .map(|_| ())
    .map_err(|e| call(action, e))
}

/// A new member of a subscription's group: its consumer made from `config`
/// with `context`, subscribed to `topic` (librdkafka's constructor blocks,
/// so on a blocking thread).
pub async fn join<C: ConsumerContext + 'static>(
    config: rdkafka::ClientConfig,
    context: C,
    topic: &str,
) -> Result<StreamConsumer<C>, KafkaError> {
    let topic = topic.to_string();
    tokio::task::spawn_blocking(move || {
        let consumer: StreamConsumer<C> =
            config
                .create_with_context(context)
                .map_err(|source| KafkaError::Settings {
                    client: "the subscription's consumer",
                    source,
                })?;
        consumer
            .subscribe(&[&topic])
            .map_err(|e| call(format!("subscribing to {topic}"), e))?;
        Ok(consumer)
    })
    .await
    .map_err(|e| task("creating the subscription's consumer", e))?
}

/// Moves a member's partitions to `moves` and commits them as the group's
/// offsets, on a blocking thread. All partitions go in one request: a seek
/// waits for the fetch in progress (up to `max_wait`), so one per partition
/// took 8 × 250 ms on an idle topic.
/// How long a seek of a partition not yet ready (just assigned) is retried.
const SEEK_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);
const SEEK_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

pub async fn seek_and_commit<C: ConsumerContext + 'static>(
    consumer: Arc<StreamConsumer<C>>,
    topic: &str,
    group: &str,
    moves: Vec<PartitionMove>,
) -> Result<(), KafkaError> {
    let (topic, group) = (topic.to_string(), group.to_string());
    tokio::task::spawn_blocking(move || {
        // All partitions in one request: a seek waits for the fetch in
        // progress (up to `max_wait`). A partition just assigned is not
        // ready to seek until librdkafka has read its committed offset
        // (`State`, "Erroneous state"): it is tried again, briefly, rather
        // than failing the replay.
        let deadline = std::time::Instant::now() + SEEK_PATIENCE;
        let mut pending: Vec<&PartitionMove> = moves.iter().collect();
        while !pending.is_empty() {
            let mut tpl = TopicPartitionList::new();
            for m in &pending {
                tpl.add_partition_offset(&topic, m.partition, Offset::Offset(m.offset))
                    .map_err(|e| {
                        call(
                            format!("moving {topic}[{}] to {}", m.partition, m.offset),
                            e,
                        )
                    })?;
            }
            let done = consumer
                .seek_partitions(tpl, std::time::Duration::from_secs(10))
                .map_err(|e| call(format!("moving {topic}'s partitions"), e))?;
            let mut again = Vec::new();
            for e in done.elements() {
                match e.error() {
                    Ok(()) => {}
                    Err(err)
                        if err.rdkafka_error_code() == Some(RDKafkaErrorCode::State)
                            && std::time::Instant::now() < deadline =>
                    {
                        again.push(e.partition());
                    }
                    Err(err) => {
                        let action =
                            format!("moving {topic}[{}] to {:?}", e.partition(), e.offset());
                        return Err(call(action, err));
                    }
                }
            }
            pending.retain(|m| again.contains(&m.partition));
            if !pending.is_empty() {
                std::thread::sleep(SEEK_RETRY);
            }
        }
        commit_moves(&*consumer, &topic, &group, &moves)
    })
    .await
    .map_err(|e| task("moving the partitions", e))?
}
