//! Moving a running subscription's positions: a replay asked for through
//! the admin API, and starting over on a topic the broker lost and ftl
//! created again. Both abandon the work in hand, move every assigned
//! partition, and commit the new positions before delivery goes on.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{resume, GroupConsumer, Worker};
use crate::admin::ReplaySummary;
use crate::events::Event;
use crate::kafka::groups::seek_and_commit;
use crate::kafka::ReplayFrom;
use crate::runner::error::RunnerError;
use crate::runner::offsets::Offsets;
use crate::runner::{Shared, SubSpec};

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
    let name = &spec.name;
    match move_positions(
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
                subscription: name.clone(),
                topic: offsets.topic().to_string(),
                partitions: summary.partitions.iter().map(|m| m.partition).collect(),
            });
            true
        }
        Err(e) => {
            let reason = crate::text::one_line(&e);
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
pub(super) async fn move_positions(
    shared: &Arc<Shared>,
    consumer: &Arc<GroupConsumer>,
    offsets: &Offsets,
    workers: &mut HashMap<i32, Worker>,
    spec: &SubSpec,
    from: ReplayFrom,
) -> Result<ReplaySummary, RunnerError> {
    let group = spec.sub.group_id();
    let topic = offsets.topic().to_string();
    let assigned = offsets.assigned();
    if assigned.is_empty() {
        return Err(RunnerError::NoPartitions);
    }
    // Asked through the runner's reader: the group consumer's connection is
    // held by its fetch (up to `max_wait`) for each of these requests, which
    // made a replay of 8 idle partitions take ~1.9 s.
    let targets = shared
        .reader
        .replay_targets(&shared.connection.get(), &topic, assigned, from)
        .await?;
    for m in &targets {
        // Abandon work in hand (its events come again) and drop what was queued.
        offsets.reset(m.partition, m.offset);
        if let Some(w) = workers.remove(&m.partition) {
            if w.paused {
                resume(consumer, &topic, m.partition);
            }
        }
    }
    seek_and_commit(consumer.clone(), &topic, &group, targets.clone()).await?;
    shared
        .hub
        .committed(&spec.name, offsets.committed_positions());
    Ok(ReplaySummary {
        redelivered: targets.iter().map(|m| m.redelivered()).sum(),
        partitions: targets,
    })
}
