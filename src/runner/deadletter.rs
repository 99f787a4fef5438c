//! Dead letters (DESIGN §4): the FailedEvent document, its headers, and a
//! publish that only returns once the broker acknowledged it.

use std::time::{Duration, SystemTime};

use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::FutureRecord;

use crate::kafka::RenewableProducer;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub const H_SOURCE_TOPIC: &str = "ftl.source.topic";
pub const H_SOURCE_PARTITION: &str = "ftl.source.partition";
pub const H_SOURCE_OFFSET: &str = "ftl.source.offset";
pub const H_SOURCE_TIMESTAMP: &str = "ftl.source.timestamp";
pub const H_SUBSCRIPTION: &str = "ftl.subscription";
pub const H_VERB: &str = "ftl.verb";
pub const H_ATTEMPTS: &str = "ftl.attempts";
pub const H_FIRST_FAILED_AT: &str = "ftl.first_failed_at";
pub const H_FAILED_AT: &str = "ftl.failed_at";
pub const H_STACK: &str = "ftl.error.stack";

/// Headers ftl writes on a dead letter (replaced when a dead letter fails again).
pub const FTL_HEADERS: [&str; 10] = [
    H_STACK,
    H_SOURCE_TOPIC,
    H_SOURCE_PARTITION,
    H_SOURCE_OFFSET,
    H_SOURCE_TIMESTAMP,
    H_SUBSCRIPTION,
    H_VERB,
    H_ATTEMPTS,
    H_FIRST_FAILED_AT,
    H_FAILED_AT,
];

/// `builtin.FailedEvent`: `{"event": <original>, "error": "..."}`. An event
/// that is not JSON is kept as a string so nothing is lost.
pub fn failed_event(body: &[u8], error: &str) -> Vec<u8> {
    let event = serde_json::from_slice::<Value>(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()));
    serde_json::to_vec(&serde_json::json!({"event": event, "error": error})).unwrap_or_default()
}

/// Where a failed event came from and how it failed.
#[derive(Debug, Clone)]
pub struct Failure<'a> {
    pub source_topic: &'a str,
    pub source_partition: i32,
    pub source_offset: i64,
    /// Milliseconds since the epoch, if the broker gave one.
    pub source_timestamp: Option<i64>,
    pub subscription: &'a str,
    pub verb: &'a str,
    pub attempts: u32,
    pub first_failed_at: SystemTime,
    pub failed_at: SystemTime,
    /// The verb's stack trace, when it sent one (gRPC verbs).
    pub stack: Option<&'a str>,
}

pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The original headers (minus ftl's own, which are written anew) plus the
/// failure's.
pub fn headers<H: Headers>(original: Option<&H>, f: &Failure<'_>) -> OwnedHeaders {
    let mut out = OwnedHeaders::new();
    if let Some(h) = original {
        for i in 0..h.count() {
            let header = h.get(i);
            if !FTL_HEADERS.contains(&header.key) {
                out = out.insert(Header {
                    key: header.key,
                    value: header.value,
                });
            }
        }
    }
    let fields = [
        (H_SOURCE_TOPIC, f.source_topic.to_string()),
        (H_SOURCE_PARTITION, f.source_partition.to_string()),
        (H_SOURCE_OFFSET, f.source_offset.to_string()),
        (
            H_SOURCE_TIMESTAMP,
            f.source_timestamp
                .map(|t| t.to_string())
                .unwrap_or_default(),
        ),
        (H_SUBSCRIPTION, f.subscription.to_string()),
        (H_VERB, f.verb.to_string()),
        (H_ATTEMPTS, f.attempts.to_string()),
        (H_FIRST_FAILED_AT, rfc3339(f.first_failed_at)),
        (H_FAILED_AT, rfc3339(f.failed_at)),
    ];
    for (k, v) in fields {
        out = out.insert(Header {
            key: k,
            value: Some(v.as_bytes()),
        });
    }
    if let Some(stack) = f.stack {
        out = out.insert(Header {
            key: H_STACK,
            value: Some(stack.as_bytes()),
        });
    }
    out
}

/// A dead letter given up before the broker acknowledged it (shutdown,
/// revocation): its source event stays uncommitted and comes again.
#[derive(Debug, thiserror::Error)]
#[error("abandoned before the broker acknowledged the dead letter")]
pub struct Abandoned;

/// Publishes until the broker acknowledges; a refused publish is retried
/// with backoff, with a new producer after a fatal error. Fails only when
/// `abandon` fires first (the source event then stays uncommitted and is
/// delivered again).
pub async fn publish(
    producer: &RenewableProducer,
    topic: &str,
    key: Option<&[u8]>,
    payload: &[u8],
    headers: OwnedHeaders,
    abandon: &CancellationToken,
) -> Result<(i32, i64), Abandoned> {
    let mut backoff = Duration::from_millis(200);
    loop {
        let mut record = FutureRecord::<[u8], [u8]>::to(topic)
            .payload(payload)
            .headers(headers.clone());
        if let Some(k) = key {
            record = record.key(k);
        }
        let current = producer.get();
        let send = current.send(record, Duration::from_secs(30));
        let result = tokio::select! {
            r = send => r,
            _ = abandon.cancelled() => return Err(Abandoned),
        };
        match result {
            Ok(d) => return Ok((d.partition, d.offset)),
            Err((e, _)) => {
                tracing::warn!(
                    "dead letter to {topic} not acknowledged ({e}); retrying in {backoff:?}"
                );
                producer.renew_if_fatal();
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = abandon.cancelled() => return Err(Abandoned),
                }
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_event_wraps_json_and_keeps_other_bytes_as_text() {
        let v: Value = serde_json::from_slice(&failed_event(br#"{"id":1}"#, "boom")).unwrap();
        assert_eq!(v, serde_json::json!({"event": {"id": 1}, "error": "boom"}));
        let v: Value = serde_json::from_slice(&failed_event(b"not json", "x")).unwrap();
        assert_eq!(v["event"], "not json");
    }

    #[test]
    fn only_the_next_dead_letter_of_a_partition_replays_alone() {
        let at = |partition, offset| At { partition, offset };
        // Read order: partition 0 then 1.
        let pending = [at(0, 4), at(0, 7), at(1, 2)];
        let cases = [
            (at(0, 4), Ok(0)),
            (at(1, 2), Ok(2)),
            (
                at(0, 7),
                Err(NotNext::Behind {
                    wanted: at(0, 7),
                    next: at(0, 4),
                }),
            ),
            (at(0, 3), Err(NotNext::NotPending(at(0, 3)))),
            (at(2, 0), Err(NotNext::NotPending(at(2, 0)))),
        ];
        for (wanted, expected) in cases {
            assert_eq!(next_in_partition(&pending, wanted), expected, "{wanted}");
        }
    }
}

/// A dead letter as read back from its topic.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DeadLetter {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub error: String,
    pub attempts: u32,
    pub source_topic: String,
    pub source_partition: Option<i32>,
    pub source_offset: Option<i64>,
    /// Milliseconds since the epoch of the original event.
    #[serde(default)]
    pub source_timestamp: Option<i64>,
    pub first_failed_at: String,
    pub failed_at: String,
    pub event: Value,
    /// Already handed back to the verb successfully (`--all` shows them).
    pub replayed: bool,
}

impl DeadLetter {
    pub fn parse(msg: &rdkafka::message::OwnedMessage, replayed: bool) -> DeadLetter {
        use rdkafka::message::Message;
        let h = crate::kafka::header_map(msg.headers());
        let doc: Value =
            serde_json::from_slice(msg.payload().unwrap_or_default()).unwrap_or(Value::Null);
        DeadLetter {
            topic: msg.topic().to_string(),
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            error: doc["error"].as_str().unwrap_or_default().to_string(),
            attempts: h.get(H_ATTEMPTS).and_then(|a| a.parse().ok()).unwrap_or(0),
            source_topic: h.get(H_SOURCE_TOPIC).cloned().unwrap_or_default(),
            source_partition: h.get(H_SOURCE_PARTITION).and_then(|a| a.parse().ok()),
            source_offset: h.get(H_SOURCE_OFFSET).and_then(|a| a.parse().ok()),
            source_timestamp: h.get(H_SOURCE_TIMESTAMP).and_then(|a| a.parse().ok()),
            first_failed_at: h.get(H_FIRST_FAILED_AT).cloned().unwrap_or_default(),
            failed_at: h.get(H_FAILED_AT).cloned().unwrap_or_default(),
            event: doc.get("event").cloned().unwrap_or(Value::Null),
            replayed,
        }
    }
}

/// Reads a subscription's dead letters: the pending ones, or all with
/// `all`. Blocking (rdkafka calls).
pub fn read(
    connection: &crate::kafka::Connection,
    sub: &crate::schema::Subscription,
    all: bool,
    limit: Option<u64>,
) -> Result<Vec<(DeadLetter, rdkafka::message::OwnedMessage)>, crate::kafka::KafkaError> {
    let topic = sub.deadletter_kafka_name();
    let reader = connection.reader("deadletters")?;
    let cursor_consumer = connection.group_committer(&sub.deadletter_cursor_group())?;
    let partitions = crate::kafka::partitions_of(&reader, &topic)?;
    let cursor = crate::kafka::committed(&cursor_consumer, &topic, &partitions)?;
    let mut ranges = Vec::new();
    let mut cursors = std::collections::HashMap::new();
    for p in &partitions {
        let (low, high) = crate::kafka::watermarks(&reader, &topic, *p)?;
        let c = cursor.get(p).copied().flatten().unwrap_or(low).max(low);
        cursors.insert(*p, c);
        ranges.push((*p, if all { low } else { c }, high));
    }
    let msgs = crate::kafka::read_range(&reader, &topic, &ranges, limit)?;
    crate::kafka::close_consumer(reader);
    crate::kafka::close_consumer(cursor_consumer);
    Ok(msgs
        .into_iter()
        .map(|m| {
            use rdkafka::message::Message;
            let replayed = m.offset() < cursors.get(&m.partition()).copied().unwrap_or(0);
            (DeadLetter::parse(&m, replayed), m)
        })
        .collect())
}

/// Where a dead letter sits in its dead-letter topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct At {
    pub partition: i32,
    pub offset: i64,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.partition, self.offset)
    }
}

impl DeadLetter {
    pub fn at(&self) -> At {
        At {
            partition: self.partition,
            offset: self.offset,
        }
    }
}

/// Which pending dead letters a replay hands back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The pending ones in order, at most `limit`.
    Pending { limit: Option<u64> },
    /// Just this one, which must be the next pending one of its partition:
    /// the cursor is one offset per partition, so moving it past a dead
    /// letter moves it past every earlier one too.
    Next(At),
}

/// Why one dead letter cannot be replayed on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotNext {
    /// Not pending (replayed already, or no such offset).
    NotPending(At),
    /// Earlier dead letters of its partition are pending: this one comes first.
    Behind { wanted: At, next: At },
}

impl std::fmt::Display for NotNext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotNext::NotPending(at) => write!(f, "dead letter {at} is not pending (replayed already, or no such offset)"),
            NotNext::Behind { wanted, next } => write!(
                f,
                "dead letter {wanted} is not the next of partition {}: replay {next} first (the cursor moves in order)",
                wanted.partition
            ),
        }
    }
}

/// The index of `at` among the pending dead letters (in read order), if it
/// is the first pending one of its partition.
pub fn next_in_partition(pending: &[At], at: At) -> Result<usize, NotNext> {
    let first = pending
        .iter()
        .enumerate()
        .filter(|(_, p)| p.partition == at.partition)
        .min_by_key(|(_, p)| p.offset);
    match first {
        Some((i, p)) if *p == at => Ok(i),
        Some((_, p)) if pending.contains(&at) => Err(NotNext::Behind {
            wanted: at,
            next: *p,
        }),
        _ => Err(NotNext::NotPending(at)),
    }
}

/// The outcome of handing one dead letter back to its verb.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Replayed {
    #[serde(flatten)]
    pub dead_letter: DeadLetter,
    pub outcome: ReplayOutcome,
    pub new_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReplayOutcome {
    /// The verb succeeded: acknowledged, not handed back again.
    #[serde(rename = "ok")]
    Ok,
    /// The verb failed again: appended again with its new error.
    #[serde(rename = "failed")]
    Failed,
    /// `--dry-run`: would be handed back.
    #[serde(rename = "dry-run")]
    DryRun,
}

/// Every dead letter a replay handled.
#[derive(Debug, Clone, Default)]
pub struct ReplayReport {
    pub items: Vec<Replayed>,
}

impl ReplayReport {
    pub fn count(&self, outcome: ReplayOutcome) -> usize {
        self.items.iter().filter(|r| r.outcome == outcome).count()
    }

    pub fn event(&self, subscription: &str) -> crate::events::Event {
        crate::events::Event::DeadletterReplayDone {
            subscription: subscription.to_string(),
            ok: self.count(ReplayOutcome::Ok),
            failed: self.count(ReplayOutcome::Failed),
        }
    }
}

/// What replaying needs: the subscription, its verb and where exec verbs run.
pub struct ReplayTarget<'a> {
    pub connection: &'a crate::kafka::Connection,
    pub producer: &'a RenewableProducer,
    pub http: &'a reqwest::Client,
    pub sub: &'a crate::schema::Subscription,
    pub verb: &'a crate::schema::Verb,
    pub module_dir: &'a std::path::Path,
}

/// Hands each pending dead letter back to the subscription's verb only
/// (never to the source topic, which other subscriptions read). A success
/// moves the cursor past it; a failure is appended again with its new error
/// and attempt count, then the cursor moves past the old copy.
pub async fn replay(
    t: &ReplayTarget<'_>,
    pick: Pick,
    dry_run: bool,
    mut on_item: impl FnMut(&Replayed),
) -> Result<ReplayReport, crate::kafka::KafkaError> {
    let (connection, sub) = (t.connection.clone(), t.sub.clone());
    let limit = match pick {
        Pick::Pending { limit } => limit,
        Pick::Next(_) => None,
    };
    let mut pending = tokio::task::spawn_blocking(move || read(&connection, &sub, false, limit))
        .await
        .map_err(|e| crate::kafka::task("reading dead letters", e))??;
    if let Pick::Next(at) = pick {
        let positions: Vec<At> = pending.iter().map(|(d, _)| d.at()).collect();
        pending = match next_in_partition(&positions, at) {
            Ok(i) => vec![pending.swap_remove(i)],
            Err(_) => Vec::new(),
        };
    }
    let mut out = Vec::new();
    if dry_run {
        for (dl, _) in pending {
            let r = Replayed {
                dead_letter: dl,
                outcome: ReplayOutcome::DryRun,
                new_error: None,
            };
            on_item(&r);
            out.push(r);
        }
        return Ok(ReplayReport { items: out });
    }
    let cursor = std::sync::Arc::new(
        t.connection
            .group_committer(&t.sub.deadletter_cursor_group())?,
    );
    let name = t.sub.qualified();
    let never = CancellationToken::new();
    for (dl, msg) in pending {
        use rdkafka::message::Message;
        let body = serde_json::to_vec(&dl.event).unwrap_or_default();
        // The dead letter carries the request on (an older one, written
        // before dead letters had it, gets the key of its source event).
        let request_key = crate::kafka::headers::read(msg.headers())
            .request_key
            .unwrap_or_else(|| {
                crate::kafka::headers::key_for_event(
                    &dl.source_topic,
                    dl.source_partition.unwrap_or(0),
                    dl.source_offset.unwrap_or(-1),
                )
            });
        let d = super::verb::Delivery {
            topic: &dl.source_topic,
            subscription: &name,
            partition: dl.source_partition.unwrap_or(0),
            offset: dl.source_offset.unwrap_or(-1),
            key: msg.key(),
            attempt: dl.attempts + 1,
            body: &body,
            request_key: &request_key,
        };
        let result = super::verb::call(t.verb, t.module_dir, t.http, &d).await;
        let (outcome, new_error) = match result {
            Ok(_) => (ReplayOutcome::Ok, None),
            Err(f) => {
                let now = SystemTime::now();
                let first = humantime::parse_rfc3339_weak(&dl.first_failed_at).unwrap_or(now);
                let info = Failure {
                    source_topic: &dl.source_topic,
                    source_partition: dl.source_partition.unwrap_or(0),
                    source_offset: dl.source_offset.unwrap_or(-1),
                    source_timestamp: dl.source_timestamp,
                    subscription: &name,
                    verb: &t.verb.name,
                    attempts: dl.attempts + 1,
                    first_failed_at: first,
                    failed_at: now,
                    stack: f.stack.as_deref(),
                };
                let stamp = crate::kafka::headers::Stamp {
                    request_key: request_key.clone(),
                    created_at: now,
                    published_by: crate::kafka::headers::BY_DEADLETTER.to_string(),
                };
                let headers = stamp.apply(Some(&headers(msg.headers(), &info)));
                let payload = failed_event(&body, &f.message);
                publish(t.producer, &dl.topic, msg.key(), &payload, headers, &never).await?;
                (ReplayOutcome::Failed, Some(f.message))
            }
        };
        // Only now is this dead letter dealt with.
        let mut tpl = rdkafka::TopicPartitionList::new();
        let _ = tpl.add_partition_offset(
            &dl.topic,
            dl.partition,
            rdkafka::Offset::Offset(dl.offset + 1),
        );
        let c = cursor.clone();
        let action = format!("recording the replay of {}@{}", dl.partition, dl.offset);
        tokio::task::spawn_blocking(move || {
            rdkafka::consumer::Consumer::commit(&*c, &tpl, rdkafka::consumer::CommitMode::Sync)
        })
        .await
        .map_err(|e| crate::kafka::task(action.clone(), e))?
        .map_err(|e| crate::kafka::call(action, e))?;
        let r = Replayed {
            dead_letter: dl,
            outcome,
            new_error,
        };
        on_item(&r);
        out.push(r);
    }
    tokio::task::spawn_blocking(move || crate::kafka::close_consumer(cursor));
    Ok(ReplayReport { items: out })
}

/// Hands dead letters back to the verb from this process (no `ftl dev`
/// runs the subscription): its own producer and HTTP client.
pub async fn replay_here(
    connection: &crate::kafka::Connection,
    project: &crate::schema::Project,
    sub: &crate::schema::Subscription,
    limit: Option<u64>,
    dry_run: bool,
    on_item: impl FnMut(&Replayed),
) -> Result<ReplayReport, crate::error::Error> {
    let verb = project
        .verb(&sub.module, &sub.verb)
        .cloned()
        .ok_or_else(|| crate::error::Error::failed(format!("verb `{}` is gone", sub.verb), None))?;
    let module_dir = project.module_dir(&sub.module);
    let producer = RenewableProducer::new(connection.clone())?;
    let http = reqwest::Client::new();
    let target = ReplayTarget {
        connection,
        producer: &producer,
        http: &http,
        sub,
        verb: &verb,
        module_dir: &module_dir,
    };
    Ok(replay(&target, Pick::Pending { limit }, dry_run, on_item).await?)
}
