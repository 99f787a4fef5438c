//! One subscription's consumer group member: fetches from the topic, hands
//! each partition's events to its own worker (one event at a time, in
//! offset order; partitions run concurrently), retries, dead-letters, and
//! commits through `Offsets`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::offsets::{Assignment, Offsets};
use super::{deadletter, verb, Shared};
use crate::kafka::{replay_targets, PartitionMove, ReplayFrom};
use crate::output::{GREEN, RED, YELLOW};
use crate::schema::{Subscription, Verb};

/// Events buffered per partition worker before the partition is paused.
/// Resuming a paused partition costs a fresh fetch (tens of ms on the test
/// broker), so the buffer must cover that: with 256 the HTTP-verb benchmark
/// ran at ~6k events/s, with 4096 at ~28k. Unprocessed events are never
/// committed, so a large buffer costs memory, not safety.
const WORKER_QUEUE: usize = 4096;
/// Asynchronous commit within a batch (seed: every 5 s).
const COMMIT_INTERVAL: Duration = Duration::from_secs(5);
/// End-of-batch commits are at most this frequent: with a fast verb every
/// event ends a batch, and a commit per event would load the broker.
const MIN_COMMIT_GAP: Duration = Duration::from_millis(50);
const DRAIN_INTERVAL: Duration = Duration::from_millis(20);
/// How long a stopping member waits for its join to complete before leaving.
const JOIN_WAIT: Duration = Duration::from_secs(5);

/// Everything that defines a running subscription; a change restarts it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubSpec {
    pub sub: Subscription,
    pub verb: Verb,
    pub module_dir: PathBuf,
    pub consumer_overrides: BTreeMap<String, String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplaySummary {
    pub partitions: Vec<PartitionMove>,
    pub redelivered: i64,
}

pub enum Control {
    Replay {
        from: ReplayFrom,
        reply: oneshot::Sender<Result<ReplaySummary, String>>,
    },
    Assigned {
        reply: oneshot::Sender<Vec<i32>>,
    },
}

pub struct SubTask {
    pub spec: SubSpec,
    pub stop: CancellationToken,
    pub control: mpsc::Sender<Control>,
    pub handle: JoinHandle<()>,
}

pub fn spawn(spec: SubSpec, shared: Arc<Shared>, grace: Duration) -> SubTask {
    let stop = CancellationToken::new();
    let (tx, rx) = mpsc::channel(8);
    let handle = tokio::spawn(run(spec.clone(), shared, stop.clone(), rx, grace));
    SubTask {
        spec,
        stop,
        control: tx,
        handle,
    }
}

struct SubContext {
    offsets: Arc<Offsets>,
    name: String,
}

impl ClientContext for SubContext {}

impl ConsumerContext for SubContext {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                let parts = partitions_of(tpl, self.offsets.topic());
                tracing::debug!("{}: partitions {parts:?} revoked", self.name);
                if let Err(e) = self.offsets.revoke(consumer, &parts) {
                    tracing::warn!("{}: commit on revocation failed ({e}); those events will be delivered again", self.name);
                }
            }
            Rebalance::Error(e) => {
                tracing::warn!("{}: rebalance failed: {e}", self.name);
                self.offsets.lose_all();
            }
            Rebalance::Assign(_) => {}
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance {
            let parts = partitions_of(tpl, self.offsets.topic());
            if !parts.is_empty() {
                tracing::info!("{}: assigned partitions {parts:?}", self.name);
                // A partition paused while we held it before (its worker was
                // full) must not come back paused: nothing would resume it.
                if let Err(e) = consumer.resume(tpl) {
                    tracing::debug!("{}: resume on assignment: {e}", self.name);
                }
            }
            self.offsets.assign(&parts);
        }
    }
}

fn partitions_of(tpl: &TopicPartitionList, topic: &str) -> Vec<i32> {
    tpl.elements()
        .iter()
        .filter(|e| e.topic() == topic)
        .map(|e| e.partition())
        .collect()
}

struct Worker {
    epoch: u64,
    tx: mpsc::Sender<OwnedMessage>,
    overflow: VecDeque<OwnedMessage>,
    paused: bool,
    join: JoinHandle<()>,
}

async fn run(
    spec: SubSpec,
    shared: Arc<Shared>,
    stop: CancellationToken,
    mut control: mpsc::Receiver<Control>,
    grace: Duration,
) {
    let name = spec.sub.qualified();
    let topic = spec.sub.topic_kafka_name();
    let abort = CancellationToken::new();
    let offsets = Arc::new(Offsets::new(topic.clone(), abort.clone()));
    let config = shared.connection.group_consumer_config(
        &spec.sub.group_id(),
        spec.sub.from,
        &spec.sub.batch,
        &spec.consumer_overrides,
    );
    let context = SubContext {
        offsets: offsets.clone(),
        name: name.clone(),
    };
    let consumer: StreamConsumer<SubContext> = match config.create_with_context(context) {
        Ok(c) => c,
        Err(e) => {
            shared.printer.error(
                &format!("{name}: cannot create its consumer: {e}"),
                Some("check `runner.consumer` in ftl-project.yaml"),
            );
            return;
        }
    };
    if let Err(e) = consumer.subscribe(&[&topic]) {
        shared
            .printer
            .error(&format!("{name}: cannot subscribe to {topic}: {e}"), None);
        return;
    }
    let spec = Arc::new(spec);
    let idle = Arc::new(Notify::new());
    let mut workers: HashMap<i32, Worker> = HashMap::new();
    let mut last_commit = Instant::now();
    // A worker drained what it was handed: the end of a batch.
    let mut batch_done = false;
    let mut last_error: Option<Instant> = None;

    loop {
        // Wake up soon only while some partition has events waiting for its
        // worker; otherwise at the next periodic commit.
        let next_tick = if workers.values().any(|w| !w.overflow.is_empty()) {
            tokio::time::Instant::now() + DRAIN_INTERVAL
        } else if batch_done {
            tokio::time::Instant::from_std(last_commit + MIN_COMMIT_GAP)
        } else {
            tokio::time::Instant::from_std(last_commit + COMMIT_INTERVAL)
        };
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            Some(ctrl) = control.recv() => match ctrl {
                Control::Replay { from, reply } => {
                    let r = replay(&consumer, &offsets, &mut workers, from);
                    let _ = reply.send(r);
                }
                Control::Assigned { reply } => {
                    let _ = reply.send(offsets.assigned());
                }
            },
            msg = consumer.recv() => match msg {
                Ok(m) => {
                    let p = m.partition();
                    // An event of a partition no longer ours: its new owner
                    // delivers it.
                    let Some(asg) = offsets.assignment(p) else { continue };
                    let owned = m.detach();
                    let w = match workers.get(&p) {
                        Some(w) if w.epoch == asg.epoch => workers.get_mut(&p),
                        _ => {
                            let w = start_worker(p, asg, spec.clone(), shared.clone(), offsets.clone(), stop.clone(), idle.clone());
                            if let Some(old) = workers.insert(p, w) {
                                if old.paused {
                                    resume(&consumer, &topic, p);
                                }
                            }
                            workers.get_mut(&p)
                        }
                    };
                    if let Some(w) = w {
                        if !w.overflow.is_empty() {
                            w.overflow.push_back(owned);
                        } else if let Err(mpsc::error::TrySendError::Full(m)) = w.tx.try_send(owned) {
                            w.overflow.push_back(m);
                            if !w.paused {
                                pause(&consumer, &topic, p);
                                w.paused = true;
                            }
                        }
                    }
                }
                Err(e) => {
                    if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                        tracing::warn!("{name}: {e}");
                        last_error = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = idle.notified() => batch_done = true,
            _ = tokio::time::sleep_until(next_tick) => {
                for (p, w) in workers.iter_mut() {
                    while let Some(m) = w.overflow.pop_front() {
                        if let Err(mpsc::error::TrySendError::Full(m)) = w.tx.try_send(m) {
                            w.overflow.push_front(m);
                            break;
                        }
                    }
                    if w.overflow.is_empty() && w.paused {
                        resume(&consumer, &topic, *p);
                        w.paused = false;
                    }
                }
                workers.retain(|_, w| !w.join.is_finished() || !w.overflow.is_empty());
                let since = last_commit.elapsed();
                if since >= COMMIT_INTERVAL || (batch_done && since >= MIN_COMMIT_GAP) {
                    commit(&offsets, &consumer, CommitMode::Async, &name);
                    last_commit = Instant::now();
                    batch_done = false;
                }
            }
        }
    }

    // Shutdown: no new events; let the ones in hand finish within the grace
    // period, then abandon them uncommitted.
    let joins: Vec<JoinHandle<()>> = workers.into_values().map(|w| w.join).collect();
    let all = futures_util::future::join_all(joins);
    tokio::pin!(all);
    if tokio::time::timeout(grace, &mut all).await.is_err() {
        shared.printer.warn(&format!("{name}: an event was still in hand after {}s; abandoned, it will be delivered again", grace.as_secs()), None);
        abort.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), all).await;
    }
    abort.cancel();
    finish_join(&consumer, &offsets).await;
    commit(&offsets, &consumer, CommitMode::Sync, &name);
    // Leave the group now so the next start (or another runner) does not
    // wait out the session timeout. Closing blocks: off the executor.
    consumer.unsubscribe();
    let _ = tokio::task::spawn_blocking(move || crate::kafka::close_consumer(consumer)).await;
}

/// Leaving a group in the middle of its join left the test broker (Tansu)
/// waiting for the leaver forever, so no later member was ever assigned
/// anything. Before leaving, let a join in progress complete (bounded).
/// What arrives meanwhile is neither delivered nor committed.
async fn finish_join(consumer: &StreamConsumer<SubContext>, offsets: &Offsets) {
    let deadline = Instant::now() + JOIN_WAIT;
    while !offsets.has_joined() && Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(100), consumer.recv()).await;
    }
}

fn commit(offsets: &Offsets, consumer: &StreamConsumer<SubContext>, mode: CommitMode, name: &str) {
    if let Err(e) = offsets.commit(consumer, mode) {
        tracing::warn!("{name}: commit failed ({e}); retried with the next commit");
    }
}

fn one(topic: &str, p: i32) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, p);
    tpl
}

fn pause(consumer: &StreamConsumer<SubContext>, topic: &str, p: i32) {
    if let Err(e) = consumer.pause(&one(topic, p)) {
        tracing::debug!("pause {topic}[{p}]: {e}");
    }
}

fn resume(consumer: &StreamConsumer<SubContext>, topic: &str, p: i32) {
    if let Err(e) = consumer.resume(&one(topic, p)) {
        tracing::debug!("resume {topic}[{p}]: {e}");
    }
}

/// Moves every assigned partition of the subscription, commits the new
/// positions and lets delivery continue from there.
fn replay(
    consumer: &StreamConsumer<SubContext>,
    offsets: &Offsets,
    workers: &mut HashMap<i32, Worker>,
    from: ReplayFrom,
) -> Result<ReplaySummary, String> {
    let topic = offsets.topic().to_string();
    let timeout = Duration::from_secs(10);
    let assigned = offsets.assigned();
    if assigned.is_empty() {
        return Err(
            "this runner holds no partition of the subscription yet (still joining the group?)"
                .into(),
        );
    }
    let targets = replay_targets(consumer, &topic, &assigned, from).map_err(|e| e.to_string())?;
    let mut tpl = TopicPartitionList::new();
    for (p, target, _) in &targets {
        // Abandon work in hand (its events come again) and drop what was queued.
        offsets.reset(*p, *target);
        if let Some(w) = workers.remove(p) {
            if w.paused {
                resume(consumer, &topic, *p);
            }
        }
        consumer
            .seek(&topic, *p, Offset::Offset(*target), timeout)
            .map_err(|e| format!("moving {topic}[{p}] to {target}: {e}"))?;
        let _ = tpl.add_partition_offset(&topic, *p, Offset::Offset(*target));
    }
    consumer
        .commit(&tpl, CommitMode::Sync)
        .map_err(|e| format!("committing the new offsets: {e}"))?;
    let redelivered = targets.iter().map(|(_, t, h)| (h - t).max(0)).sum();
    Ok(ReplaySummary {
        partitions: targets,
        redelivered,
    })
}

fn start_worker(
    p: i32,
    asg: Assignment,
    spec: Arc<SubSpec>,
    shared: Arc<Shared>,
    offsets: Arc<Offsets>,
    stop: CancellationToken,
    idle: Arc<Notify>,
) -> Worker {
    let (tx, mut rx) = mpsc::channel::<OwnedMessage>(WORKER_QUEUE);
    let epoch = asg.epoch;
    let join = tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                _ = asg.revoked.cancelled() => break,
                m = rx.recv() => match m { Some(m) => m, None => break },
            };
            if !deliver(&msg, &spec, &shared, &stop, &asg.revoked).await {
                break;
            }
            offsets.mark_done(p, asg.epoch, msg.offset());
            if rx.is_empty() {
                idle.notify_one();
            }
        }
    });
    Worker {
        epoch,
        tx,
        overflow: VecDeque::new(),
        paused: false,
        join,
    }
}

/// Delivers one event with retries and, when they run out, a dead letter.
/// True when the event is finished (its offset may be committed); false
/// when it was abandoned (shutdown, revocation, replay).
async fn deliver(
    msg: &OwnedMessage,
    spec: &SubSpec,
    shared: &Shared,
    stop: &CancellationToken,
    abandon: &CancellationToken,
) -> bool {
    let sub = &spec.sub;
    let name = sub.qualified();
    let body = msg.payload().unwrap_or_default();
    let mut attempt: u32 = 1;
    let mut first_failed_at: Option<SystemTime> = None;
    loop {
        let d = verb::Delivery {
            topic: msg.topic(),
            subscription: &name,
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key(),
            attempt,
            body,
        };
        let started = Instant::now();
        let result = tokio::select! {
            r = verb::call(&spec.verb, &spec.module_dir, &shared.http, &d) => r,
            _ = abandon.cancelled() => {
                shared.report(&name, msg, &spec.verb.name, attempt, started, &shared.printer.err_style(YELLOW, "abandoned"), None);
                return false;
            }
        };
        let failure = match result {
            Ok(output) => {
                shared.report(
                    &name,
                    msg,
                    &spec.verb.name,
                    attempt,
                    started,
                    &shared.printer.err_style(GREEN, "ok"),
                    output.as_deref(),
                );
                return true;
            }
            Err(f) => f,
        };
        let now = SystemTime::now();
        let first = *first_failed_at.get_or_insert(now);
        if !failure.permanent && attempt <= sub.retry.count {
            let backoff = sub.retry.backoff_before(attempt + 1);
            let status = format!(
                "{} in {}: {}",
                shared.printer.err_style(YELLOW, "retry"),
                crate::units::format_duration(backoff),
                failure.message
            );
            shared.report(&name, msg, &spec.verb.name, attempt, started, &status, None);
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.cancelled() => return false,
                _ = abandon.cancelled() => return false,
            }
            attempt += 1;
            continue;
        }
        if !sub.deadletter {
            let status = format!(
                "{} (no dead-letter topic; skipped): {}",
                shared.printer.err_style(RED, "failed"),
                failure.message
            );
            shared.report(&name, msg, &spec.verb.name, attempt, started, &status, None);
            return true;
        }
        let info = deadletter::Failure {
            source_topic: msg.topic(),
            source_partition: msg.partition(),
            source_offset: msg.offset(),
            source_timestamp: msg.timestamp().to_millis(),
            subscription: &name,
            verb: &spec.verb.name,
            attempts: attempt,
            first_failed_at: first,
            failed_at: now,
        };
        let headers = deadletter::headers(msg.headers(), &info);
        let payload = deadletter::failed_event(body, &failure.message);
        let dlq = sub.deadletter_kafka_name();
        match deadletter::publish(
            &shared.producer,
            &dlq,
            msg.key(),
            &payload,
            headers,
            abandon,
        )
        .await
        {
            Ok(_) => {
                let status = format!(
                    "{} to {dlq}: {}",
                    shared.printer.err_style(RED, "dead-lettered"),
                    failure.message
                );
                shared.report(&name, msg, &spec.verb.name, attempt, started, &status, None);
                return true;
            }
            Err(_) => return false,
        }
    }
}
