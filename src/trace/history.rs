//! The runner's recent requests, folded from its typed events within a
//! fixed budget: the oldest request goes first when any limit is passed.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{At, AttemptNode, DeliveryNode, Kept, PublishNode, Status, Trace};
use crate::events::{Delivery, Event, InFlight, Outcome, Published};

/// What the history may hold. A step is a publish or a delivery attempt;
/// bytes are counted from the text each step keeps plus a fixed cost per
/// step (an estimate of the memory it takes, within a factor of two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    pub requests: usize,
    pub steps: usize,
    pub bytes: usize,
    /// Steps one request may keep (a loop publishing forever stays bounded).
    pub steps_per_request: usize,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            requests: 10_000,
            steps: 100_000,
            bytes: 32 * 1024 * 1024,
            steps_per_request: 2_000,
        }
    }
}

/// Fixed cost of a step beyond its text: its record, the vector and map
/// slots around it, and the allocator's rounding. Calibrated so the
/// estimate stays above what is used: 10,000 requests of three steps each
/// (publish, attempt start, outcome) grew the resident memory of a release
/// build by 10.0 MB, estimated 13.9 MB (before one-slot growth of small
/// vectors, the same history took 21.9 MB).
const STEP_BYTES: usize = 320;

/// Pushes one record, growing small vectors one slot at a time: most
/// requests hold one publish, one delivery and one attempt, and a vector's
/// first growth would reserve four.
fn push<T>(v: &mut Vec<T>, x: T) {
    if v.len() < 8 {
        v.reserve_exact(1);
    }
    v.push(x);
}

#[derive(Debug)]
struct PublishRec {
    at: Option<At>,
    topic: String,
    key: Option<String>,
    published_at: Option<String>,
    by: Option<String>,
    error: Option<String>,
    /// The delivery it was published while handling (index in `deliveries`).
    parent: Option<usize>,
}

#[derive(Debug)]
struct AttemptRec {
    attempt: u32,
    started_ms: i64,
    ms: Option<u64>,
    outcome: Option<Outcome>,
    error: Option<String>,
}

#[derive(Debug)]
struct DeliveryRec {
    subscription: String,
    at: At,
    verb: Option<String>,
    attempts: Vec<AttemptRec>,
    since_published_ms: Option<u64>,
    dead_letter: Option<At>,
}

impl DeliveryRec {
    fn in_flight_since(&self) -> Option<i64> {
        self.attempts
            .last()
            .filter(|a| a.outcome.is_none())
            .map(|a| a.started_ms)
    }
}

#[derive(Debug, Default)]
struct Request {
    first_ms: i64,
    publishes: Vec<PublishRec>,
    deliveries: Vec<DeliveryRec>,
    steps: usize,
    bytes: usize,
    truncated: bool,
}

impl Request {
    /// Adds a step of `cost` bytes made by `apply`, unless the request holds
    /// `limit` steps already (then it is marked truncated); whether it did.
    fn take_step(&mut self, limit: usize, cost: usize, apply: impl FnOnce(&mut Request)) -> bool {
        if self.steps >= limit {
            self.truncated = true;
            return false;
        }
        apply(self);
        self.steps += 1;
        self.bytes += cost;
        true
    }

    fn publish_of(&mut self, at: &At) -> Option<usize> {
        self.publishes
            .iter()
            .position(|p| p.at.as_ref() == Some(at))
    }

    fn delivery_of(&self, subscription: &str, at: &At) -> Option<usize> {
        self.deliveries
            .iter()
            .position(|d| d.subscription == subscription && d.at == *at)
    }
}

/// The recent requests of this runner.
#[derive(Debug, Default)]
pub struct History {
    budget: Budget,
    /// By request key (shared with `order`: one copy of each key).
    requests: HashMap<Arc<str>, Request, foldhash::fast::RandomState>,
    /// Request keys, oldest first.
    order: VecDeque<Arc<str>>,
    steps: usize,
    bytes: usize,
    dropped: u64,
}

fn text(s: &str) -> usize {
    s.len()
}

fn now_ms() -> i64 {
    crate::units::epoch_millis(std::time::SystemTime::now())
}

impl History {
    pub fn new(budget: Budget) -> History {
        History {
            budget,
            ..History::default()
        }
    }

    /// Folds one runner event in (the others are not about requests).
    pub fn record(&mut self, event: &Event) {
        self.record_at(event, now_ms())
    }

    /// Folds in an event emitted at `at_ms` (milliseconds since the epoch):
    /// the hub folds events in batches, after they were emitted.
    pub fn record_at(&mut self, event: &Event, at_ms: i64) {
        match event {
            Event::Published(p) => self.published(p, at_ms),
            Event::PublishFailed {
                topic,
                request_key,
                by,
                error,
            } => {
                let size = text(topic) + text(by) + text(error);
                self.step(request_key, size, at_ms, |r| {
                    let parent = parent_of(r, Some(by));
                    push(
                        &mut r.publishes,
                        PublishRec {
                            at: None,
                            topic: topic.clone(),
                            key: None,
                            published_at: None,
                            by: Some(by.clone()),
                            error: Some(error.clone()),
                            parent,
                        },
                    );
                });
            }
            Event::Delivery(d) => self.delivered(d, at_ms),
            _ => {}
        }
    }

    /// An attempt began (the snapshot's in-flight report).
    pub fn attempt_started(&mut self, subscription: &str, f: &InFlight) {
        let (Some(key), Some(topic)) = (&f.request_key, &f.topic) else {
            return;
        };
        let at = At {
            topic: topic.clone(),
            partition: f.partition,
            offset: f.offset,
        };
        let size = text(subscription) + text(topic);
        self.step(key, size, f.since_ms, |r| {
            let d = delivery(
                r,
                subscription,
                &at,
                f.key.as_deref(),
                f.published_at.as_deref(),
                f.published_by.as_deref(),
            );
            let rec = &mut r.deliveries[d];
            match rec.attempts.last_mut() {
                Some(a) if a.attempt == f.attempt && a.outcome.is_none() => {
                    a.started_ms = f.since_ms
                }
                _ => push(
                    &mut rec.attempts,
                    AttemptRec {
                        attempt: f.attempt,
                        started_ms: f.since_ms,
                        ms: None,
                        outcome: None,
                        error: None,
                    },
                ),
            }
        });
    }

    fn published(&mut self, p: &Published, at_ms: i64) {
        let at = At {
            topic: p.topic.clone(),
            partition: p.partition,
            offset: p.offset,
        };
        let size = text(&p.topic) + text(&p.created_at) + text(&p.by);
        self.step(&p.request_key, size, at_ms, |r| {
            let parent = match &p.failed {
                Some(src) => {
                    let from = At {
                        topic: src.topic.clone(),
                        partition: src.partition,
                        offset: src.offset,
                    };
                    let d = r.delivery_of(&src.subscription, &from);
                    if let Some(d) = d {
                        r.deliveries[d].dead_letter = Some(at.clone());
                    }
                    d
                }
                None => parent_of(r, Some(&p.by)),
            };
            let rec = PublishRec {
                at: Some(at.clone()),
                topic: p.topic.clone(),
                key: p.key.clone(),
                published_at: Some(p.created_at.clone()),
                by: Some(p.by.clone()),
                error: None,
                parent,
            };
            match r.publish_of(&at) {
                // A delivery of it was seen first.
                Some(i) => r.publishes[i] = rec,
                None => push(&mut r.publishes, rec),
            }
        });
    }

    fn delivered(&mut self, d: &Delivery, ended: i64) {
        let Some(key) = &d.request_key else {
            return;
        };
        let at = At {
            topic: d.topic.clone(),
            partition: d.partition,
            offset: d.offset,
        };
        let size = text(&d.subscription) + d.error.as_deref().map_or(0, text);
        self.step(key, size, ended, |r| {
            let i = delivery(
                r,
                &d.subscription,
                &at,
                d.key.as_deref(),
                d.published_at.as_deref(),
                d.published_by.as_deref(),
            );
            let rec = &mut r.deliveries[i];
            rec.verb = Some(d.verb.clone());
            rec.since_published_ms = d.since_published_ms.or(rec.since_published_ms);
            let attempt = match rec.attempts.last_mut() {
                Some(a) if a.attempt == d.attempt && a.outcome.is_none() => a,
                _ => {
                    push(
                        &mut rec.attempts,
                        AttemptRec {
                            attempt: d.attempt,
                            started_ms: ended - d.ms as i64,
                            ms: None,
                            outcome: None,
                            error: None,
                        },
                    );
                    let last = rec.attempts.len() - 1;
                    &mut rec.attempts[last]
                }
            };
            attempt.ms = Some(d.ms);
            attempt.outcome = Some(d.outcome);
            attempt.error = d.error.clone();
            if let Some(dlq) = &d.deadletter_topic {
                if rec.dead_letter.is_none() {
                    rec.dead_letter = Some(At {
                        topic: dlq.clone(),
                        partition: -1,
                        offset: -1,
                    });
                }
            }
        });
    }

    /// Adds a step of about `size` bytes of text, taken at `at_ms`, to
    /// request `key` (made if new), then lets the oldest requests go while
    /// over budget.
    fn step(&mut self, key: &str, size: usize, at_ms: i64, apply: impl FnOnce(&mut Request)) {
        let cost = size + STEP_BYTES;
        let limit = self.budget.steps_per_request;
        // The key is hashed once for a request the history holds, twice for
        // a new one (most deliveries begin a request).
        let added = match self.requests.get_mut(key) {
            Some(r) => r.take_step(limit, cost, apply),
            None => {
                let mut r = Request {
                    first_ms: at_ms,
                    bytes: text(key) + STEP_BYTES,
                    ..Request::default()
                };
                self.bytes += text(key) + STEP_BYTES;
                let added = r.take_step(limit, cost, apply);
                let key: Arc<str> = Arc::from(key);
                self.order.push_back(key.clone());
                self.requests.insert(key, r);
                added
            }
        };
        if !added {
            return;
        }
        self.steps += 1;
        self.bytes += cost;
        while self.order.len() > 1
            && (self.order.len() > self.budget.requests
                || self.steps > self.budget.steps
                || self.bytes > self.budget.bytes)
        {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.requests.remove(&oldest) {
                self.steps -= gone.steps;
                self.bytes -= gone.bytes;
                self.dropped += 1;
            }
        }
    }

    pub fn kept(&self) -> Kept {
        Kept {
            budget: self.budget,
            requests: self.requests.len(),
            steps: self.steps,
            bytes: self.bytes,
            dropped: self.dropped,
            oldest_ms: self
                .order
                .front()
                .and_then(|k| self.requests.get(k))
                .map(|r| r.first_ms),
        }
    }

    /// The request an event belongs to, if the history holds it.
    pub fn key_of(&self, at: &At) -> Option<String> {
        self.requests
            .iter()
            .find(|(_, r)| {
                r.publishes.iter().any(|p| p.at.as_ref() == Some(at))
                    || r.deliveries.iter().any(|d| d.at == *at)
            })
            .map(|(k, _)| k.to_string())
    }

    /// The tree of request `key`; `subscribers(topic)` names the
    /// subscriptions of a topic and their verbs, so a delivery that has not
    /// begun shows as pending.
    pub fn trace(&self, key: &str, subscribers: &dyn Fn(&str) -> Vec<(String, String)>) -> Trace {
        let Some(r) = self.requests.get(key) else {
            return Trace {
                request_key: key.to_string(),
                found: false,
                truncated: false,
                publishes: Vec::new(),
                kept: self.kept(),
            };
        };
        let node = |i: usize| publish_node(r, i, subscribers, 0);
        Trace {
            request_key: key.to_string(),
            found: true,
            truncated: r.truncated,
            publishes: (0..r.publishes.len())
                .filter(|i| r.publishes[*i].parent.is_none())
                .map(node)
                .collect(),
            kept: self.kept(),
        }
    }
}

/// The delivery of `at` by `subscription` in `r`, made (with the publish
/// of `at`, if unseen) when new.
fn delivery(
    r: &mut Request,
    subscription: &str,
    at: &At,
    key: Option<&str>,
    published_at: Option<&str>,
    by: Option<&str>,
) -> usize {
    if r.publish_of(at).is_none() {
        // Published by someone the runner did not see (the CLI, another
        // client): known from its headers only.
        push(
            &mut r.publishes,
            PublishRec {
                at: Some(at.clone()),
                topic: at.topic.clone(),
                key: key.map(str::to_string),
                published_at: published_at.map(str::to_string),
                by: by.map(str::to_string),
                error: None,
                parent: None,
            },
        );
    }
    match r.delivery_of(subscription, at) {
        Some(i) => i,
        None => {
            push(
                &mut r.deliveries,
                DeliveryRec {
                    subscription: subscription.to_string(),
                    at: at.clone(),
                    verb: None,
                    attempts: Vec::new(),
                    since_published_ms: None,
                    dead_letter: None,
                },
            );
            r.deliveries.len() - 1
        }
    }
}

/// The delivery of this request a publish was made while handling: the
/// one in flight (of verb `by`, when several are), latest started first.
fn parent_of(r: &Request, by: Option<&String>) -> Option<usize> {
    let in_flight = || {
        r.deliveries
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.in_flight_since().map(|s| (i, d, s)))
    };
    let by_verb = in_flight()
        .filter(|(_, d, _)| {
            by.is_some_and(|b| {
                d.verb.as_deref() == Some(b.as_str()) || b.rsplit('.').next() == d.verb.as_deref()
            })
        })
        .max_by_key(|(_, _, s)| *s);
    by_verb
        .or_else(|| in_flight().max_by_key(|(_, _, s)| *s))
        .map(|(i, _, _)| i)
}

/// Deep enough for any real chain; a cycle of links cannot recurse forever.
const MAX_DEPTH: usize = 64;

fn publish_node(
    r: &Request,
    i: usize,
    subscribers: &dyn Fn(&str) -> Vec<(String, String)>,
    depth: usize,
) -> PublishNode {
    let p = &r.publishes[i];
    let mut deliveries: Vec<DeliveryNode> = match &p.at {
        Some(at) if depth < MAX_DEPTH => r
            .deliveries
            .iter()
            .enumerate()
            .filter(|(_, d)| d.at == *at)
            .map(|(di, _)| delivery_node(r, di, subscribers, depth))
            .collect(),
        _ => Vec::new(),
    };
    if p.at.is_some() && p.error.is_none() {
        for (sub, verb) in subscribers(&p.topic) {
            if !deliveries.iter().any(|d| d.subscription == sub) {
                deliveries.push(DeliveryNode {
                    subscription: sub,
                    verb: Some(verb),
                    status: Status::Pending,
                    attempts: Vec::new(),
                    since_published_ms: None,
                    dead_letter: None,
                    publishes: Vec::new(),
                });
            }
        }
    }
    PublishNode {
        topic: p.topic.clone(),
        partition: p.at.as_ref().map(|a| a.partition),
        offset: p.at.as_ref().map(|a| a.offset),
        key: p.key.clone(),
        published_at: p.published_at.clone(),
        by: p.by.clone(),
        error: p.error.clone(),
        deliveries,
    }
}

fn delivery_node(
    r: &Request,
    di: usize,
    subscribers: &dyn Fn(&str) -> Vec<(String, String)>,
    depth: usize,
) -> DeliveryNode {
    let d = &r.deliveries[di];
    let last = d.attempts.last();
    let status = match last.map(|a| a.outcome) {
        None => Status::Pending,
        Some(None) => Status::InFlight,
        Some(Some(Outcome::Ok)) => Status::Ok,
        Some(Some(Outcome::Retry)) => Status::Retrying,
        Some(Some(Outcome::DeadLettered)) => Status::DeadLettered,
        Some(Some(Outcome::Dropped)) => Status::Dropped,
        Some(Some(Outcome::Abandoned)) => Status::Pending,
    };
    let attempts = d
        .attempts
        .iter()
        .map(|a| AttemptNode {
            attempt: a.attempt,
            started_at: crate::text::rfc3339(
                std::time::UNIX_EPOCH
                    + std::time::Duration::from_millis(a.started_ms.max(0) as u64),
            ),
            ms: a.ms,
            outcome: match a.outcome {
                None => "in_flight".to_string(),
                Some(o) => serde_json::to_value(o)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            },
            error: a.error.clone(),
        })
        .collect();
    let publishes = (0..r.publishes.len())
        .filter(|i| r.publishes[*i].parent == Some(di))
        .map(|i| publish_node(r, i, subscribers, depth + 1))
        .collect();
    DeliveryNode {
        subscription: d.subscription.clone(),
        verb: d.verb.clone(),
        status,
        attempts,
        since_published_ms: d.since_published_ms,
        dead_letter: d.dead_letter.clone().filter(|a| a.offset >= 0),
        publishes,
    }
}

#[cfg(test)]
mod tests;
