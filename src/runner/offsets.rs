//! The commit rule, in one place: an event's offset is committed only after
//! its verb succeeded or its dead letter was acknowledged (the worker then
//! calls `mark_done`). Commits happen at the end of each batch a partition
//! worker drained and every 5 s asynchronously, and synchronously on
//! revocation and shutdown. A partition that was revoked stops accepting
//! marks, so a late finish never moves the offsets of its new owner.
//!
//! With key concurrency (`concurrency: {per: key}`) a partition's events
//! finish out of order: its worker calls `begin` for each event it takes,
//! in offset order, and the offset to commit is then the lowest event begun
//! and not finished (everything below it is finished), or past the highest
//! finished when none is pending. A crash or a revocation repeats work
//! then, and never skips it. Offsets need not be contiguous (compaction,
//! transaction markers): only events begun count.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
struct Part {
    /// Bumped on every (re)assignment; marks from older epochs are ignored.
    epoch: u64,
    /// Next offset to commit: the lowest pending event, or the highest
    /// finished + 1 when none is pending.
    done: Option<i64>,
    /// Events begun and not finished (key concurrency only).
    pending: BTreeSet<i64>,
    /// The highest finished event + 1.
    finished_to: Option<i64>,
    committed: Option<i64>,
    /// Cancelled when the partition is revoked: its worker abandons work.
    revoked: CancellationToken,
}

impl Part {
    /// `done` from what is pending and finished.
    fn settle(&mut self) {
        self.done = match self.pending.first() {
            Some(lowest) => Some(*lowest),
            None => self.finished_to,
        };
        // Nothing finished yet: the position before the first pending
        // event is where the group already is, nothing to commit.
        if self.finished_to.is_none() {
            self.done = None;
        }
    }

    fn forget(&mut self) {
        self.done = None;
        self.pending.clear();
        self.finished_to = None;
    }
}

#[derive(Debug)]
pub struct Offsets {
    topic: String,
    /// Parent of every partition token: cancelling it abandons all work.
    abort: CancellationToken,
    parts: Mutex<HashMap<i32, Part>>,
    next_epoch: Mutex<u64>,
    /// Set once the group handed this member its first assignment.
    joined: std::sync::atomic::AtomicBool,
}

/// A partition as assigned now: its epoch and revocation token.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub epoch: u64,
    pub revoked: CancellationToken,
}

impl Offsets {
    pub fn new(topic: String, abort: CancellationToken) -> Self {
        Offsets {
            topic,
            abort,
            parts: Mutex::new(HashMap::new()),
            next_epoch: Mutex::new(0),
            joined: std::sync::atomic::AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, Part>> {
        self.parts.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn has_joined(&self) -> bool {
        self.joined.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// An assignment arrived (possibly empty: more members than partitions).
    pub fn assign(&self, partitions: &[i32]) {
        self.joined.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut next = self.next_epoch.lock().unwrap_or_else(|p| p.into_inner());
        let mut parts = self.lock();
        for p in partitions {
            *next += 1;
            if let Some(old) = parts.get(p) {
                old.revoked.cancel();
            }
            parts.insert(
                *p,
                Part {
                    epoch: *next,
                    done: None,
                    pending: BTreeSet::new(),
                    finished_to: None,
                    committed: None,
                    revoked: self.abort.child_token(),
                },
            );
        }
    }

    /// The current assignment's epoch of `partition`, if it is ours (what
    /// [`Offsets::assignment`] says, without a handle on its token).
    pub fn epoch(&self, partition: i32) -> Option<u64> {
        self.lock().get(&partition).map(|p| p.epoch)
    }

    pub fn assignment(&self, partition: i32) -> Option<Assignment> {
        self.lock().get(&partition).map(|p| Assignment {
            epoch: p.epoch,
            revoked: p.revoked.clone(),
        })
    }

    pub fn assigned(&self) -> Vec<i32> {
        let mut v: Vec<i32> = self.lock().keys().copied().collect();
        v.sort();
        v
    }

    /// What is committed now, per partition (those with a known position).
    pub fn committed_positions(&self) -> Vec<(i32, i64)> {
        let mut v: Vec<(i32, i64)> = self
            .lock()
            .iter()
            .filter_map(|(p, part)| part.committed.map(|c| (*p, c)))
            .collect();
        v.sort_unstable();
        v
    }

    /// The event at `offset` was taken by a worker that may finish events
    /// out of order: nothing from it on is committed until it is finished.
    /// Called in offset order.
    pub fn begin(&self, partition: i32, epoch: u64, offset: i64) {
        if let Some(p) = self.lock().get_mut(&partition) {
            if p.epoch == epoch {
                p.pending.insert(offset);
                p.settle();
            }
        }
    }

    /// The event at `offset` is finished: its verb succeeded or its failure
    /// was durably recorded.
    pub fn mark_done(&self, partition: i32, epoch: u64, offset: i64) {
        if let Some(p) = self.lock().get_mut(&partition) {
            if p.epoch == epoch {
                p.pending.remove(&offset);
                p.finished_to = Some(p.finished_to.map_or(offset + 1, |f| f.max(offset + 1)));
                p.settle();
            }
        }
    }

    /// Forgets progress of a partition whose position was moved (replay).
    /// Its worker's late marks are ignored (new epoch).
    pub fn reset(&self, partition: i32, committed: i64) {
        let mut next = self.next_epoch.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = self.lock().get_mut(&partition) {
            *next += 1;
            p.epoch = *next;
            p.revoked.cancel();
            p.revoked = self.abort.child_token();
            p.forget();
            p.committed = Some(committed);
        }
    }

    /// Forgets the progress of every partition (its topic was created
    /// again): work in hand is abandoned, nothing done so far is committed,
    /// and late marks are ignored (new epochs).
    pub fn forget_progress(&self) {
        let mut next = self.next_epoch.lock().unwrap_or_else(|p| p.into_inner());
        for p in self.lock().values_mut() {
            *next += 1;
            p.epoch = *next;
            p.revoked.cancel();
            p.revoked = self.abort.child_token();
            p.forget();
            p.committed = None;
        }
    }

    /// Commits what is done and not yet committed. With `CommitMode::Sync`
    /// everything done is committed again, so a failed async commit is
    /// repaired.
    pub fn commit<C: Consumer<X>, X: rdkafka::consumer::ConsumerContext>(
        &self,
        consumer: &C,
        mode: CommitMode,
    ) -> Result<usize, KafkaError> {
        let mut tpl = TopicPartitionList::new();
        let mut parts = self.lock();
        for (p, part) in parts.iter() {
            if let Some(done) = part.done {
                if matches!(mode, CommitMode::Sync) || part.committed != Some(done) {
                    let _ = tpl.add_partition_offset(&self.topic, *p, Offset::Offset(done));
                }
            }
        }
        let n = tpl.count();
        if n == 0 {
            return Ok(0);
        }
        match consumer.commit(&tpl, mode) {
            Ok(()) => {
                for part in parts.values_mut() {
                    part.committed = part.done;
                }
                Ok(n)
            }
            Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(0),
            Err(e) => Err(e),
        }
    }

    /// Revocation: commit what was done on these partitions, synchronously,
    /// then abandon their work. Called from the rebalance callback, before
    /// the partitions are given up.
    pub fn revoke<C: Consumer<X>, X: rdkafka::consumer::ConsumerContext>(
        &self,
        consumer: &C,
        partitions: &[i32],
    ) -> Result<(), KafkaError> {
        let mut tpl = TopicPartitionList::new();
        let mut parts = self.lock();
        for p in partitions {
            if let Some(part) = parts.remove(p) {
                part.revoked.cancel();
                if let Some(done) = part.done {
                    let _ = tpl.add_partition_offset(&self.topic, *p, Offset::Offset(done));
                }
            }
        }
        drop(parts);
        if tpl.count() == 0 {
            return Ok(());
        }
        match consumer.commit(&tpl, CommitMode::Sync) {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Assignment lost (session expired): nothing can be committed.
    pub fn lose_all(&self) {
        let mut parts = self.lock();
        for part in parts.values() {
            part.revoked.cancel();
        }
        parts.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgotten_progress_is_never_committed_and_late_marks_are_ignored() {
        let o = Offsets::new("t".into(), CancellationToken::new());
        o.assign(&[0, 1]);
        let before = o.assignment(0).unwrap();
        o.mark_done(0, before.epoch, 4);
        o.forget_progress();
        assert!(before.revoked.is_cancelled());
        o.mark_done(0, before.epoch, 7);
        let parts = o.lock();
        assert_eq!(parts.get(&0).unwrap().done, None);
        assert_eq!(parts.get(&0).unwrap().committed, None);
        assert!(!parts.get(&1).unwrap().revoked.is_cancelled());
        drop(parts);
        assert_eq!(o.assigned(), vec![0, 1]);
        let after = o.assignment(0).unwrap();
        o.mark_done(0, after.epoch, 2);
        assert_eq!(o.lock().get(&0).unwrap().done, Some(3));
    }

    #[test]
    fn marks_from_an_older_assignment_are_ignored() {
        let o = Offsets::new("t".into(), CancellationToken::new());
        o.assign(&[0]);
        let first = o.assignment(0).unwrap();
        o.mark_done(0, first.epoch, 4);
        o.assign(&[0]);
        assert!(first.revoked.is_cancelled());
        let second = o.assignment(0).unwrap();
        o.mark_done(0, first.epoch, 9);
        assert_eq!(o.lock().get(&0).unwrap().done, None);
        o.mark_done(0, second.epoch, 9);
        assert_eq!(o.lock().get(&0).unwrap().done, Some(10));
    }

    fn done(o: &Offsets, p: i32) -> Option<i64> {
        o.lock().get(&p).unwrap().done
    }

    #[test]
    fn out_of_order_finishes_commit_only_below_the_lowest_unfinished() {
        let o = Offsets::new("t".into(), CancellationToken::new());
        o.assign(&[0]);
        let e = o.assignment(0).unwrap().epoch;
        for off in 10..15 {
            o.begin(0, e, off);
        }
        assert_eq!(done(&o, 0), None, "nothing finished, nothing to commit");
        o.mark_done(0, e, 12);
        o.mark_done(0, e, 14);
        assert_eq!(done(&o, 0), Some(10), "10 is not finished: it comes again");
        o.mark_done(0, e, 10);
        assert_eq!(done(&o, 0), Some(11));
        o.mark_done(0, e, 11);
        assert_eq!(done(&o, 0), Some(13));
        o.mark_done(0, e, 13);
        assert_eq!(done(&o, 0), Some(15), "all finished: past the highest");
        // A later event begun does not move what is committed back.
        o.begin(0, e, 15);
        assert_eq!(done(&o, 0), Some(15));
    }

    #[test]
    fn gaps_in_offsets_are_stepped_over_but_never_a_pending_event() {
        let o = Offsets::new("t".into(), CancellationToken::new());
        o.assign(&[3]);
        let e = o.assignment(3).unwrap().epoch;
        // 1, 2, 5 and 6 do not exist (compaction, transaction markers).
        for off in [0, 3, 4, 7, 9] {
            o.begin(3, e, off);
        }
        o.mark_done(3, e, 0);
        assert_eq!(done(&o, 3), Some(3));
        o.mark_done(3, e, 4);
        o.mark_done(3, e, 9);
        assert_eq!(done(&o, 3), Some(3));
        o.mark_done(3, e, 3);
        assert_eq!(done(&o, 3), Some(7));
        o.mark_done(3, e, 7);
        assert_eq!(done(&o, 3), Some(10));
    }

    #[test]
    fn an_abandoned_event_holds_the_commit_below_it() {
        let o = Offsets::new("t".into(), CancellationToken::new());
        o.assign(&[0]);
        let e = o.assignment(0).unwrap().epoch;
        for off in 0..4 {
            o.begin(0, e, off);
        }
        // 1 is abandoned (shutdown, revocation): never marked done.
        for off in [0, 2, 3] {
            o.mark_done(0, e, off);
        }
        assert_eq!(done(&o, 0), Some(1));
    }

    #[test]
    fn pending_events_of_an_older_epoch_neither_hold_nor_move_the_new_one() {
        let o = Offsets::new("t".into(), CancellationToken::new());
        o.assign(&[0]);
        let first = o.assignment(0).unwrap().epoch;
        for off in 0..3 {
            o.begin(0, first, off);
        }
        o.mark_done(0, first, 2);
        // Revoked and assigned again: the new owner starts at the group's
        // position; the old worker's late begins and finishes are ignored.
        o.assign(&[0]);
        let second = o.assignment(0).unwrap().epoch;
        o.begin(0, first, 3);
        o.mark_done(0, first, 0);
        assert_eq!(done(&o, 0), None);
        o.begin(0, second, 0);
        o.begin(0, second, 1);
        o.mark_done(0, second, 1);
        assert_eq!(done(&o, 0), Some(0));
        o.mark_done(0, second, 0);
        assert_eq!(done(&o, 0), Some(2));
        // A replay moves the position: what was pending is forgotten.
        o.begin(0, second, 2);
        o.reset(0, 0);
        let third = o.assignment(0).unwrap().epoch;
        o.mark_done(0, second, 2);
        assert_eq!(done(&o, 0), None);
        o.begin(0, third, 0);
        o.mark_done(0, third, 0);
        assert_eq!(done(&o, 0), Some(1));
    }

    #[test]
    fn one_at_a_time_workers_need_no_begin() {
        let o = Offsets::new("t".into(), CancellationToken::new());
        o.assign(&[0]);
        let e = o.assignment(0).unwrap().epoch;
        o.mark_done(0, e, 5);
        assert_eq!(done(&o, 0), Some(6));
        o.mark_done(0, e, 8);
        assert_eq!(done(&o, 0), Some(9));
    }
}
