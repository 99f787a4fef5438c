//! A partition's worker with key concurrency (`concurrency: {per: key,
//! max: N}`): events of different keys reach the verb at once, at most
//! `max` of the partition; the events of one key one at a time in offset
//! order, each with its retries and dead letter before the next (events
//! without a key count as one key). Every event taken is `begin`-ed in
//! `Offsets`, so the commit stays below the lowest one not finished.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::offsets::{Assignment, Offsets};
use super::Shared;
use super::SubSpec;
use crate::kafka::Fetched;

/// Events held behind busy keys before the worker takes no more (its queue
/// then fills and the partition is paused).
const HELD: usize = 4096;

/// What a partition's keyed worker needs.
pub(super) struct KeyedWorker {
    pub partition: i32,
    pub asg: Assignment,
    pub spec: Arc<SubSpec>,
    pub shared: Arc<Shared>,
    pub offsets: Arc<Offsets>,
    pub stop: CancellationToken,
    /// Told when the worker has nothing queued: the end of a batch.
    pub idle: Arc<super::consumer::Idle>,
    pub max: usize,
}

impl KeyedWorker {
    /// Takes the partition's events from `rx` (in offset order) until it
    /// is stopped, revoked or one of its events is abandoned; then lets the
    /// events at the verb finish (or be abandoned) and returns.
    pub(super) async fn run(self, mut rx: mpsc::Receiver<Fetched>) {
        let KeyedWorker {
            partition: p,
            asg,
            spec,
            shared,
            offsets,
            stop,
            idle,
            max,
        } = self;
        let deliver = |msg: Fetched| {
            let (spec, shared, stop, revoked) = (
                spec.clone(),
                shared.clone(),
                stop.clone(),
                asg.revoked.clone(),
            );
            async move {
                let ok = super::deliver::deliver(&msg, &spec, &shared, &stop, &revoked).await;
                (msg, ok)
            }
        };
        let mut keys: Keys<Fetched> = Keys::default();
        let mut running = FuturesUnordered::new();
        // An event was abandoned, or its queue closed: take nothing more.
        let mut ended = false;
        loop {
            let taking = !ended && !stop.is_cancelled() && !asg.revoked.is_cancelled();
            if !taking && running.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                Some((msg, ok)) = running.next(), if !running.is_empty() => {
                    let msg: Fetched = msg;
                    if ok {
                        offsets.mark_done(p, asg.epoch, msg.offset());
                        if let Some(next) = keys.finished(msg.key()) {
                            // Not after a stop or revocation that came
                            // while this event finished.
                            if !ended && !stop.is_cancelled() && !asg.revoked.is_cancelled() {
                                running.push(deliver(next));
                            }
                        }
                    } else {
                        ended = true;
                    }
                    if rx.is_empty() {
                        idle.say();
                    }
                }
                m = rx.recv(), if taking && running.len() < max && keys.held() < HELD => match m {
                    Some(m) => {
                        offsets.begin(p, asg.epoch, m.offset());
                        let key = m.key().map(<[u8]>::to_vec);
                        if let Some(m) = keys.take(key.as_deref(), m) {
                            running.push(deliver(m));
                        }
                    }
                    None => ended = true,
                },
                _ = stop.cancelled(), if taking => {}
                _ = asg.revoked.cancelled(), if taking => {}
            }
        }
    }
}

/// Which keys have an event at the verb, and the events held behind them.
/// A key is busy from the moment one of its events is taken until its last
/// held event finished.
#[derive(Debug)]
struct Keys<T> {
    busy: HashMap<Option<Vec<u8>>, VecDeque<T>>,
    held: usize,
}

impl<T> Default for Keys<T> {
    fn default() -> Self {
        Keys {
            busy: HashMap::new(),
            held: 0,
        }
    }
}

impl<T> Keys<T> {
    /// An event of `key` arrives: it may go to the verb now (returned) or
    /// waits behind its key's earlier events (held).
    fn take(&mut self, key: Option<&[u8]>, event: T) -> Option<T> {
        match self.busy.get_mut(&key.map(<[u8]>::to_vec)) {
            Some(held) => {
                held.push_back(event);
                self.held += 1;
                None
            }
            None => {
                self.busy.insert(key.map(<[u8]>::to_vec), VecDeque::new());
                Some(event)
            }
        }
    }

    /// The event of `key` at the verb finished: the key's next event, which
    /// goes to the verb now, if one was held.
    fn finished(&mut self, key: Option<&[u8]>) -> Option<T> {
        let k = key.map(<[u8]>::to_vec);
        let held = self.busy.get_mut(&k)?;
        match held.pop_front() {
            Some(next) => {
                self.held -= 1;
                Some(next)
            }
            None => {
                self.busy.remove(&k);
                None
            }
        }
    }

    fn held(&self) -> usize {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_goes_to_the_verb_one_event_at_a_time_in_order() {
        let mut k = Keys::default();
        assert_eq!(k.take(Some(b"a"), 0), Some(0));
        assert_eq!(k.take(Some(b"b"), 1), Some(1));
        assert_eq!(k.take(Some(b"a"), 2), None);
        assert_eq!(k.take(Some(b"a"), 3), None);
        assert_eq!(k.take(Some(b"c"), 4), Some(4));
        assert_eq!(k.held(), 2);
        // b finishing frees b only.
        assert_eq!(k.finished(Some(b"b")), None);
        assert_eq!(k.take(Some(b"b"), 5), Some(5));
        // a's held events come out in their order, one per finish.
        assert_eq!(k.finished(Some(b"a")), Some(2));
        assert_eq!(k.take(Some(b"a"), 6), None);
        assert_eq!(k.finished(Some(b"a")), Some(3));
        assert_eq!(k.finished(Some(b"a")), Some(6));
        assert_eq!(k.finished(Some(b"a")), None);
        assert_eq!(k.held(), 0);
        assert_eq!(k.take(Some(b"a"), 7), Some(7));
    }

    #[test]
    fn events_without_a_key_count_as_one_key() {
        let mut k = Keys::default();
        assert_eq!(k.take(None, 0), Some(0));
        assert_eq!(k.take(None, 1), None);
        // An empty key is a key, not the absence of one.
        assert_eq!(k.take(Some(b""), 2), Some(2));
        assert_eq!(k.finished(None), Some(1));
        assert_eq!(k.finished(None), None);
        assert_eq!(k.take(None, 3), Some(3));
    }
}
