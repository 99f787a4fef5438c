//! One subscription's consumer group member: fetches from the topic, hands
//! each partition's events to its own worker (one event at a time, in
//! offset order, or with `concurrency: {per: key}` one at a time per key:
//! `keyed.rs`; partitions run concurrently), retries, dead-letters, and
//! commits through `Offsets`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::{ClientContext, TopicPartitionList};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

mod moves;
mod worker;

use moves::{move_positions, try_start_over, StartOver};
pub(in crate::runner) use worker::Idle;
use worker::{resume, Hand, Worker};

use super::error::RunnerError;
use super::offsets::Offsets;
use super::{Shared, SubSpec};
use crate::admin::ReplaySummary;
use crate::events::Event;
use crate::hub::Hub;
use crate::kafka::ReplayFrom;

/// Asynchronous commit within a batch (seed: every 5 s).
const COMMIT_INTERVAL: Duration = Duration::from_secs(5);
/// End-of-batch commits are at most this frequent: with a fast verb every
/// event ends a batch, and a commit per event would load the broker.
const MIN_COMMIT_GAP: Duration = Duration::from_millis(50);
const DRAIN_INTERVAL: Duration = Duration::from_millis(20);
/// At most this many events already fetched are handed over in one turn of
/// the member's loop (then its timers and control messages get a turn).
const READY_AT_ONCE: usize = 256;
/// How long a stopping member waits for its join to complete before leaving.
const JOIN_WAIT: Duration = Duration::from_secs(5);
/// How often a subscription whose topic was created again tries to start
/// over (it waits for partitions while its member rejoins the group).
const START_OVER_RETRY: Duration = Duration::from_millis(200);

pub enum Control {
    Replay {
        from: ReplayFrom,
        reply: oneshot::Sender<Result<ReplaySummary, RunnerError>>,
    },
    /// The broker came back without these topics (Kafka names) and they
    /// were created again: a subscription of one of them starts over.
    TopicsRecreated(Arc<[String]>),
}

pub struct SubTask {
    pub spec: SubSpec,
    pub stop: CancellationToken,
    /// The broker went away: close the consumer at once, committing nothing.
    pub gone: CancellationToken,
    pub control: mpsc::Sender<Control>,
    pub handle: JoinHandle<()>,
}

type GroupConsumer = StreamConsumer<SubContext>;

/// Creates the subscription's consumer and subscribes it (on a blocking
/// thread: librdkafka's constructor is synchronous), then runs it. An error
/// says why the consumer could not be created; nothing runs then.
pub async fn start(
    spec: SubSpec,
    shared: Arc<Shared>,
    grace: Duration,
) -> Result<SubTask, RunnerError> {
    let name = spec.name.clone();
    let topic = spec.sub.topic_kafka_name();
    let abort = CancellationToken::new();
    let offsets = Arc::new(Offsets::new(topic.clone(), abort.clone()));
    let config = shared.connection.get().group_consumer_config(
        &spec.sub.group_id(),
        spec.sub.from,
        &spec.sub.batch,
        &spec.consumer_overrides,
    );
    let context = SubContext {
        offsets: offsets.clone(),
        name: name.clone(),
        hub: shared.hub.clone(),
        hint: shared.hint.clone(),
        abandoned: AtomicBool::new(false),
    };
    let consumer: GroupConsumer = crate::kafka::groups::join(config, context, &topic).await?;
    let stop = CancellationToken::new();
    let gone = CancellationToken::new();
    let (tx, rx) = mpsc::channel(8);
    let member = Member {
        spec: Arc::new(spec.clone()),
        consumer: Arc::new(consumer),
        offsets,
        abort,
    };
    let hub = shared.hub.clone();
    let (s, g) = (stop.clone(), gone.clone());
    let handle = tokio::spawn(async move {
        let run = tokio::spawn(run(member, shared, s.clone(), g, rx, grace));
        // A task that ends while nobody stopped it, or panics, is a
        // subscription that no longer runs: say so.
        let reason = match run.await {
            Ok(()) if s.is_cancelled() => None,
            Ok(()) => Some("its consumer loop ended unexpectedly".to_string()),
            Err(e) => Some(format!("its consumer loop crashed: {e}")),
        };
        if let Some(reason) = reason {
            hub.emit(Event::ConsumerFailed {
                subscription: name,
                reason,
                hint: Some("restart `ftl dev`; run with -v for details".into()),
            });
        }
    });
    Ok(SubTask {
        spec,
        stop,
        gone,
        control: tx,
        handle,
    })
}

/// A created consumer and what its loop needs.
struct Member {
    spec: Arc<SubSpec>,
    consumer: Arc<GroupConsumer>,
    offsets: Arc<Offsets>,
    abort: CancellationToken,
}

struct SubContext {
    offsets: Arc<Offsets>,
    name: String,
    hub: Hub,
    /// Tells the broker's follower to compare the broker with the project
    /// now (a commit failed: the topic may be gone or created again).
    hint: Arc<Notify>,
    /// Closed because the broker went away: its close is not waited for, so
    /// what it still says of its partitions or commits could come after its
    /// successor joined (a late revocation would take the successor's
    /// partitions out of the snapshot). It says nothing more.
    abandoned: AtomicBool,
}

impl SubContext {
    fn abandoned(&self) -> bool {
        self.abandoned.load(Ordering::SeqCst)
    }

    fn commit_failed(&self, e: &rdkafka::error::KafkaError) {
        use rdkafka::types::RDKafkaErrorCode as C;
        if self.abandoned() {
            return;
        }
        // Nothing to commit is no failure.
        if e.rdkafka_error_code() == Some(C::NoOffset) {
            return;
        }
        tracing::warn!(
            "{}: commit failed ({e}); retried with the next commit",
            self.name
        );
        self.hint.notify_one();
    }
}

impl ClientContext for SubContext {}

impl ConsumerContext for SubContext {
    /// Asynchronous commits report here.
    fn commit_callback(
        &self,
        result: rdkafka::error::KafkaResult<()>,
        _offsets: &TopicPartitionList,
    ) {
        if let Err(e) = result {
            self.commit_failed(&e);
        }
    }

    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if self.abandoned() {
            return;
        }
        match rebalance {
            Rebalance::Revoke(tpl) => {
                let parts = partitions_of(tpl, self.offsets.topic());
                if let Err(e) = self.offsets.revoke(consumer, &parts) {
                    tracing::warn!("{}: commit on revocation failed ({e}); those events will be delivered again", self.name);
                    self.hint.notify_one();
                }
                if !parts.is_empty() {
                    self.hub.emit(Event::PartitionsRevoked {
                        subscription: self.name.clone(),
                        partitions: parts,
                    });
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
        if self.abandoned() {
            return;
        }
        if let Rebalance::Assign(tpl) = rebalance {
            let parts = partitions_of(tpl, self.offsets.topic());
            if !parts.is_empty() {
                // A partition paused while we held it before (its worker was
                // full) must not come back paused: nothing would resume it.
                if let Err(e) = consumer.resume(tpl) {
                    tracing::debug!("{}: resume on assignment: {e}", self.name);
                }
            }
            self.offsets.assign(&parts);
            if !parts.is_empty() {
                self.hub.emit(Event::PartitionsAssigned {
                    subscription: self.name.clone(),
                    partitions: parts,
                });
            }
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

async fn run(
    member: Member,
    shared: Arc<Shared>,
    stop: CancellationToken,
    gone: CancellationToken,
    mut control: mpsc::Receiver<Control>,
    grace: Duration,
) {
    let Member {
        spec,
        consumer,
        offsets,
        abort,
    } = member;
    let name = spec.name.clone();
    let topic = spec.sub.topic_kafka_name();
    let shared_topic: Arc<str> = Arc::from(topic.as_str());
    let idle = Arc::new(Idle::default());
    let mut workers: HashMap<i32, Worker> = HashMap::new();
    let mut last_commit = Instant::now();
    // A worker drained what it was handed: the end of a batch.
    let mut batch_done = false;
    let mut last_error: Option<Instant> = None;
    // Its topic was created again and it has not yet started over (it
    // needs partitions to move).
    let mut start_over: Option<StartOver> = None;
    // When the tick comes while something waits for it (a start over, a
    // partition's overflow): a deadline set once, not moved at every turn of
    // the loop, or a steady stream of events would hold it off for good.
    let mut soon: Option<tokio::time::Instant> = None;

    loop {
        // Wake up soon only while some partition has events waiting for its
        // worker, or it waits to start over; otherwise at the next periodic
        // commit.
        let waiting = start_over.is_some() || workers.values().any(|w| !w.overflow.is_empty());
        if !waiting {
            soon = None;
        }
        let next_tick = if waiting {
            *soon.get_or_insert_with(|| {
                tokio::time::Instant::now()
                    + if start_over.is_some() {
                        START_OVER_RETRY
                    } else {
                        DRAIN_INTERVAL
                    }
            })
        } else if batch_done {
            tokio::time::Instant::from_std(last_commit + MIN_COMMIT_GAP)
        } else {
            tokio::time::Instant::from_std(last_commit + COMMIT_INTERVAL)
        };
        tokio::select! {
            biased;
            _ = gone.cancelled() => return close_now(consumer, offsets, workers, &stop, &abort).await,
            _ = stop.cancelled() => break,
            Some(ctrl) = control.recv() => match ctrl {
                Control::Replay { from, reply } => {
                    shared.hub.emit(Event::ReplayStarted { subscription: name.clone(), from: from.to_string() });
                    let r = move_positions(&shared, &consumer, &offsets, &mut workers, &spec, from).await;
                    shared.hub.emit(match &r {
                        Ok(s) => Event::ReplayDone { subscription: name.clone(), redelivered: s.redelivered, partitions: s.partitions.clone() },
                        Err(e) => Event::ReplayFailed { subscription: name.clone(), reason: crate::text::one_line(e) },
                    });
                    let _ = reply.send(r);
                }
                Control::TopicsRecreated(topics) => if topics.contains(&topic) {
                    // Nothing known of the old topic may be committed to the
                    // new one: its positions mean nothing there.
                    offsets.forget_progress();
                    for (p, w) in workers.drain() {
                        if w.paused {
                            resume(&consumer, &topic, p);
                        }
                    }
                    start_over = Some(StartOver { since: Instant::now(), warned: false });
                    // A member that rejoined while the topic was missing
                    // holds nothing and would learn of the topic only at the
                    // next periodic metadata refresh: ask for it now.
                    let (c, t) = (consumer.clone(), topic.clone());
                    tokio::spawn(async move {
                        if let Err(e) = crate::kafka::groups::refresh_metadata(c, &t).await {
                            tracing::debug!("metadata of {t} after it was created again: {e}");
                        }
                    });
                }
            },
            msg = consumer.recv() => match msg {
                Ok(m) => {
                    // Its topic was created again: what it fetches before
                    // starting over is fetched again from the first event.
                    if start_over.is_some() {
                        continue;
                    }
                    let hand = Hand { consumer: &consumer, topic: &shared_topic, spec: &spec, shared: &shared, offsets: &offsets, stop: &stop, idle: &idle };
                    hand.over(&mut workers, &m);
                    drop(m);
                    // What else librdkafka holds ready is handed over in the
                    // same turn: one pass of this loop per fetched batch,
                    // not per event.
                    for _ in 0..READY_AT_ONCE {
                        match consumer.recv().now_or_never() {
                            Some(Ok(m)) => hand.over(&mut workers, &m),
                            // An error comes again through the loop.
                            _ => break,
                        }
                    }
                }
                Err(e) => {
                    if crate::kafka::is_unknown_topic(&e) {
                        // The broker lost the topic: the follower checks now.
                        shared.hint.notify_one();
                    }
                    if crate::kafka::is_broker_away(&e) {
                        // `broker_lost` says it once, for every client.
                        tracing::debug!("{name}: {e}");
                    } else if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                        tracing::warn!("{name}: {e}");
                        last_error = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = idle.heard() => batch_done = true,

            _ = tokio::time::sleep_until(next_tick) => {
                soon = None;
                if let Some(pending) = &mut start_over {
                    // An attempt can wait seconds on a broker that just came
                    // back (a seek, a commit): a Ctrl-C does not wait for it.
                    let done = tokio::select! {
                        biased;
                        _ = stop.cancelled() => false,
                        done = try_start_over(&shared, &consumer, &offsets, &mut workers, &spec, pending) => done,
                    };
                    if done {
                        start_over = None;
                    }
                }
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
                    idle.reset();
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
        shared.hub.emit(Event::Abandoned {
            subscription: name.clone(),
            grace_ms: grace.as_millis() as u64,
        });
        abort.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), all).await;
    }
    abort.cancel();
    finish_join(&consumer, &offsets).await;
    // The final commit, leaving the group (so the next start or another
    // runner does not wait out the session timeout) and closing all block:
    // off the executor.
    let _ = tokio::task::spawn_blocking(move || {
        commit(&offsets, &consumer, CommitMode::Sync, &name);
        consumer.unsubscribe();
        crate::kafka::close_consumer(consumer);
    })
    .await;
}

/// The broker went away: nothing can be committed, and the consumer must
/// not live to see the broker come back (its topics may come back with new
/// identities, which librdkafka's metadata cache does not survive). Events
/// in hand are abandoned uncommitted (delivered again), the consumer is
/// closed without a commit.
async fn close_now(
    consumer: Arc<GroupConsumer>,
    offsets: Arc<Offsets>,
    workers: HashMap<i32, Worker>,
    stop: &CancellationToken,
    abort: &CancellationToken,
) {
    consumer.context().abandoned.store(true, Ordering::SeqCst);
    offsets.lose_all();
    stop.cancel();
    abort.cancel();
    for w in workers.into_values() {
        w.join.abort();
    }
    // Not waited for: with the broker away, librdkafka's close waits for
    // the group's coordinator (up to its request timeout), and the runner
    // must not wait with it to take the broker back: the fault suite saw a
    // reset recovered only after 9.9 s. Nothing is committed by the closing
    // consumer (its partitions were forgotten above).
    crate::kafka::close_later(consumer);
}

/// Leaving a group in the middle of its join left the test broker (Tansu)
/// waiting for the leaver forever, so no later member was ever assigned
/// anything. Before leaving, let a join in progress complete (bounded).
/// What arrives meanwhile is neither delivered nor committed.
async fn finish_join(consumer: &GroupConsumer, offsets: &Offsets) {
    let deadline = Instant::now() + JOIN_WAIT;
    while !offsets.has_joined() && Instant::now() < deadline {
        let _ = tokio::time::timeout(Duration::from_millis(100), consumer.recv()).await;
    }
}

/// `CommitMode::Async` only queues the request and returns; `Sync` blocks
/// and is called on a blocking thread.
fn commit(offsets: &Offsets, consumer: &GroupConsumer, mode: CommitMode, name: &str) {
    match offsets.commit(consumer, mode) {
        Ok(0) => {}
        // The snapshot knows the group's positions, so status and the
        // console need not ask the broker for them.
        Ok(_) => consumer
            .context()
            .hub
            .committed(name, offsets.committed_positions()),
        Err(e) => consumer.context().commit_failed(&e),
    }
}
