//! A partition's worker: the queue its member hands events to, and the
//! loop that takes them to the verb one at a time (or, with `concurrency:
//! {per: key}`, `keyed.rs`); pausing the partition while its worker is full.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rdkafka::consumer::Consumer;
use rdkafka::message::{BorrowedMessage, Message};
use rdkafka::TopicPartitionList;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::GroupConsumer;
use crate::kafka::Fetched;
use crate::runner::offsets::{Assignment, Offsets};
use crate::runner::{Shared, SubSpec};
use crate::schema::Concurrency;

/// Events buffered per partition worker before the partition is paused.
/// Resuming a paused partition costs a fresh fetch (tens of ms on the test
/// broker), so the buffer must cover that: with 256 the HTTP-verb benchmark
/// ran at ~6k events/s, with 4096 at ~28k. Unprocessed events are never
/// committed, so a large buffer costs memory, not safety.
const WORKER_QUEUE: usize = 4096;

/// A worker takes at most this many events from its queue at once (one
/// wake-up per batch, not per event); still one at a time to the verb.
const WORKER_BATCH: usize = 64;

/// A worker drained what it was handed (the end of a batch): the member
/// commits soon. Said once until the member commits, so a fast verb that
/// drains its queue at every event does not wake the member at every event.
#[derive(Default)]
pub(in crate::runner) struct Idle {
    said: std::sync::atomic::AtomicBool,
    notify: Notify,
}

impl Idle {
    pub(in crate::runner) fn say(&self) {
        if !self.said.swap(true, std::sync::atomic::Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    pub(super) async fn heard(&self) {
        self.notify.notified().await
    }

    /// The member committed: the next drained queue is said again.
    pub(super) fn reset(&self) {
        self.said.store(false, std::sync::atomic::Ordering::Release);
    }
}

pub(super) struct Worker {
    pub(super) epoch: u64,
    pub(super) tx: mpsc::Sender<Fetched>,
    pub(super) overflow: VecDeque<Fetched>,
    pub(super) paused: bool,
    pub(super) join: JoinHandle<()>,
}

/// What handing an event to its partition's worker needs.
pub(super) struct Hand<'a> {
    pub(super) consumer: &'a GroupConsumer,
    /// The subscription's topic (its name shared by its fetched events).
    pub(super) topic: &'a Arc<str>,
    pub(super) spec: &'a Arc<SubSpec>,
    pub(super) shared: &'a Arc<Shared>,
    pub(super) offsets: &'a Arc<Offsets>,
    pub(super) stop: &'a CancellationToken,
    pub(super) idle: &'a Arc<Idle>,
}

impl Hand<'_> {
    /// Hands `m` to its partition's worker (started for the partition's
    /// current assignment if need be); a full worker's partition is paused
    /// and its events wait in `overflow`.
    pub(super) fn over(&self, workers: &mut HashMap<i32, Worker>, m: &BorrowedMessage<'_>) {
        let p = m.partition();
        // An event of a partition no longer ours: its new owner delivers it.
        let Some(epoch) = self.offsets.epoch(p) else {
            return;
        };
        if workers.get(&p).is_none_or(|w| w.epoch != epoch) {
            let Some(asg) = self.offsets.assignment(p) else {
                return;
            };
            let w = start_worker(
                p,
                asg,
                self.spec.clone(),
                self.shared.clone(),
                self.offsets.clone(),
                self.stop.clone(),
                self.idle.clone(),
            );
            if let Some(old) = workers.insert(p, w) {
                if old.paused {
                    resume(self.consumer, self.topic, p);
                }
            }
        }
        let Some(w) = workers.get_mut(&p) else {
            return;
        };
        let owned = Fetched::take(m, self.topic);
        if !w.overflow.is_empty() {
            w.overflow.push_back(owned);
        } else if let Err(mpsc::error::TrySendError::Full(m)) = w.tx.try_send(owned) {
            w.overflow.push_back(m);
            if !w.paused {
                pause(self.consumer, self.topic, p);
                w.paused = true;
            }
        }
    }
}

fn one(topic: &str, p: i32) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, p);
    tpl
}

pub(super) fn pause(consumer: &GroupConsumer, topic: &str, p: i32) {
    if let Err(e) = consumer.pause(&one(topic, p)) {
        tracing::debug!("pause {topic}[{p}]: {e}");
    }
}

pub(super) fn resume(consumer: &GroupConsumer, topic: &str, p: i32) {
    if let Err(e) = consumer.resume(&one(topic, p)) {
        tracing::debug!("resume {topic}[{p}]: {e}");
    }
}

fn start_worker(
    p: i32,
    asg: Assignment,
    spec: Arc<SubSpec>,
    shared: Arc<Shared>,
    offsets: Arc<Offsets>,
    stop: CancellationToken,
    idle: Arc<Idle>,
) -> Worker {
    let (tx, mut rx) = mpsc::channel::<Fetched>(WORKER_QUEUE);
    let epoch = asg.epoch;
    let join = if let Concurrency::Key { max } = spec.sub.concurrency {
        let worker = crate::runner::keyed::KeyedWorker {
            partition: p,
            asg,
            spec,
            shared,
            offsets,
            stop,
            idle,
            max: max as usize,
        };
        tokio::spawn(worker.run(rx))
    } else {
        // Its own handle on the stop: asking a token whether it is
        // cancelled takes its lock, which the workers of all partitions
        // would share.
        let stop = stop.child_token();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(WORKER_BATCH);
            'run: loop {
                let taken = tokio::select! {
                    biased;
                    _ = stop.cancelled() => break,
                    _ = asg.revoked.cancelled() => break,
                    n = rx.recv_many(&mut batch, WORKER_BATCH) => n,
                };
                if taken == 0 {
                    break;
                }
                for msg in batch.drain(..) {
                    if stop.is_cancelled() || asg.revoked.is_cancelled() {
                        break 'run;
                    }
                    if !crate::runner::deliver::deliver(&msg, &spec, &shared, &stop, &asg.revoked)
                        .await
                    {
                        break 'run;
                    }
                    offsets.mark_done(p, asg.epoch, msg.offset());
                }
                if rx.is_empty() {
                    idle.say();
                }
            }
        })
    };
    Worker {
        epoch,
        tx,
        overflow: VecDeque::new(),
        paused: false,
        join,
    }
}
