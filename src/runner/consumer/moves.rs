//! Moving a running subscription's positions: a replay asked for through
//! the admin API, and starting over on a topic the broker lost and ftl
//! created again. Both abandon the work in hand, move every assigned
//! partition, and commit the new positions before delivery goes on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::{resume, GroupConsumer, SubSpec, Worker};
use crate::admin::ReplaySummary;
use crate::events::Event;
use crate::kafka::groups::{commit_moves, replay_targets};
use crate::kafka::ReplayFrom;
use crate::runner::offsets::Offsets;
use crate::runner::Shared;

/// How long a seek of a partition not yet ready (just assigned) is retried.
const SEEK_PATIENCE: Duration = Duration::from_secs(5);
const SEEK_RETRY: Duration = Duration::from_millis(100);

/// Starting over that fails for this long is reported.
const START_OVER_PATIENCE: Duration = Duration::from_secs(30);

/// A start over that waits: since when, and whether it was reported.
pub(super) struct StartOver {
    pub(super) since: Instant,
    pub(super) warned: bool,
}

/// Starts a subscription whose topic was created again over at the new
/// topic's first events: its partitions move to their beginning and that is
/// committed, whatever the group had (a revocation in the broker's first
/// moments back may have committed positions of the old topic). Until it
/// holds partitions it waits (the replay says it holds none). True once
/// done.
pub(super) async fn try_start_over(
    shared: &Arc<Shared>,
    consumer: &Arc<GroupConsumer>,
    offsets: &Offsets,
    workers: &mut HashMap<i32, Worker>,
    spec: &SubSpec,
    pending: &mut StartOver,
) -> bool {
    let name = spec.sub.qualified();
    match replay(
        shared,
        consumer,
        offsets,
        workers,
        spec,
        ReplayFrom::Beginning,
    )
    .await
    {
        Ok(summary) => {
            shared.hub.emit(Event::StartedOver {
                subscription: name,
                topic: offsets.topic().to_string(),
                partitions: summary.partitions.iter().map(|m| m.partition).collect(),
            });
            true
        }
        Err(reason) => {
            if !pending.warned && pending.since.elapsed() >= START_OVER_PATIENCE {
                pending.warned = true;
                tracing::warn!("{name}: cannot yet start over on its topic created again: {reason}; still trying");
            } else {
                tracing::debug!("{name}: starting over failed: {reason}");
            }
            false
        }
    }
}

/// Moves every assigned partition of the subscription, commits the new
/// positions (and tells the snapshot) and lets delivery continue from
/// there. The broker calls run on blocking threads.
pub(super) async fn replay(
    shared: &Arc<Shared>,
    consumer: &Arc<GroupConsumer>,
    offsets: &Offsets,
    workers: &mut HashMap<i32, Worker>,
    spec: &SubSpec,
    from: ReplayFrom,
) -> Result<ReplaySummary, String> {
    let group = spec.sub.group_id();
    let topic = offsets.topic().to_string();
    let assigned = offsets.assigned();
    if assigned.is_empty() {
        return Err(
            "this runner holds no partition of the subscription yet (still joining the group?)"
                .into(),
        );
    }
    // Asked through the runner's reader: the group consumer's connection is
    // held by its fetch (up to `max_wait`) for each of these requests, which
    // made a replay of 8 idle partitions take ~1.9 s.
    let (s, t) = (shared.clone(), topic.clone());
    let targets = tokio::task::spawn_blocking(move || {
        let reader = s.reader.get(&s.connection.get())?;
        replay_targets(&**reader, &t, &assigned, from)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| crate::error::one_line(&e))?;
    for m in &targets {
        // Abandon work in hand (its events come again) and drop what was queued.
        offsets.reset(m.partition, m.offset);
        if let Some(w) = workers.remove(&m.partition) {
            if w.paused {
                resume(consumer, &topic, m.partition);
            }
        }
    }
    let (c, moves) = (consumer.clone(), targets.clone());
    tokio::task::spawn_blocking(move || -> Result<(), String> {
        // All partitions in one request: a seek waits for the fetch in
        // progress (up to `max_wait`), so one per partition took 8 × 250 ms
        // on an idle topic.
        // A partition just assigned is not ready to seek until librdkafka
        // has read its committed offset (`State`, "Erroneous state"): it is
        // tried again, briefly, rather than failing the replay.
        let deadline = Instant::now() + SEEK_PATIENCE;
        let mut pending: Vec<&crate::events::PartitionMove> = moves.iter().collect();
        while !pending.is_empty() {
            let mut tpl = TopicPartitionList::new();
            for m in &pending {
                tpl.add_partition_offset(&topic, m.partition, Offset::Offset(m.offset))
                    .map_err(|e| format!("moving {topic}[{}] to {}: {e}", m.partition, m.offset))?;
            }
            let done = c
                .seek_partitions(tpl, Duration::from_secs(10))
                .map_err(|e| format!("moving {topic}'s partitions: {e}"))?;
            let mut again = Vec::new();
            for e in done.elements() {
                match e.error() {
                    Ok(()) => {}
                    Err(err)
                        if err.rdkafka_error_code() == Some(RDKafkaErrorCode::State)
                            && Instant::now() < deadline =>
                    {
                        again.push(e.partition());
                    }
                    Err(err) => {
                        return Err(format!(
                            "moving {topic}[{}] to {:?}: {err}",
                            e.partition(),
                            e.offset()
                        ))
                    }
                }
            }
            pending.retain(|m| again.contains(&m.partition));
            if !pending.is_empty() {
                std::thread::sleep(SEEK_RETRY);
            }
        }
        commit_moves(&*c, &topic, &group, &moves).map_err(|e| crate::error::one_line(&e))
    })
    .await
    .map_err(|e| e.to_string())??;
    shared
        .hub
        .committed(&spec.sub.qualified(), offsets.committed_positions());
    Ok(ReplaySummary {
        redelivered: targets.iter().map(|m| m.redelivered()).sum(),
        partitions: targets,
    })
}
