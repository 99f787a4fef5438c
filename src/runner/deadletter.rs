//! Dead letters, as the runner writes and replays them: the headers of a
//! failure, a publish that only returns once the broker acknowledged it,
//! reading a subscription's dead letters and handing them back to its verb.
//! Their format lives in `crate::deadletter`.

use std::time::{Duration, SystemTime};

use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::FutureRecord;
use tokio_util::sync::CancellationToken;

use super::error::RunnerError;
use crate::deadletter::{
    failed_event, next_in_partition, At, DeadLetter, ReplayOutcome, Replayed, FTL_HEADERS,
    H_ATTEMPTS, H_FAILED_AT, H_FIRST_FAILED_AT, H_SOURCE_OFFSET, H_SOURCE_PARTITION,
    H_SOURCE_TIMESTAMP, H_SOURCE_TOPIC, H_STACK, H_SUBSCRIPTION, H_VERB,
};
use crate::kafka::RenewableProducer;
use crate::schema::Retry;
use crate::text::rfc3339;

/// Where a failed event came from and how it failed.
#[derive(Debug, Clone)]
pub struct FailureRecord<'a> {
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

/// The original headers (minus ftl's own, which are written anew) plus the
/// failure's.
pub fn headers<H: Headers>(original: Option<&H>, f: &FailureRecord<'_>) -> OwnedHeaders {
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

/// How a refused dead-letter publish is retried: from 200 ms, doubling, at
/// most 5 s apart, for as long as it takes.
const PUBLISH_RETRY: Retry = Retry {
    count: u32::MAX,
    min_backoff: Duration::from_millis(200),
    max_backoff: Duration::from_secs(5),
};

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
) -> Result<(i32, i64), RunnerError> {
    for attempt in 1.. {
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
            _ = abandon.cancelled() => return Err(RunnerError::Abandoned),
        };
        match result {
            Ok(d) => return Ok((d.partition, d.offset)),
            Err((e, _)) => {
                let backoff = PUBLISH_RETRY.backoff_before(attempt + 1);
                tracing::warn!(
                    "dead letter to {topic} not acknowledged ({e}); retrying in {backoff:?}"
                );
                producer.renew_if_fatal();
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = abandon.cancelled() => return Err(RunnerError::Abandoned),
                }
            }
        }
    }
    Err(RunnerError::Abandoned)
}

/// Reads a subscription's dead letters: the pending ones, or all with
/// `all`. Blocking (rdkafka calls); `read_async` is the same off the
/// executor.
pub fn read(
    connection: &crate::kafka::Connection,
    sub: &crate::schema::Subscription,
    all: bool,
    limit: Option<u64>,
) -> Result<Vec<(DeadLetter, rdkafka::message::OwnedMessage)>, crate::kafka::KafkaError> {
    let records = crate::kafka::read_behind_cursor(
        connection,
        &sub.deadletter_kafka_name(),
        &sub.deadletter_cursor_group(),
        all,
        limit,
    )?;
    Ok(parse_all(records))
}

/// `read` on a blocking thread.
pub async fn read_async(
    connection: &crate::kafka::Connection,
    sub: &crate::schema::Subscription,
    all: bool,
    limit: Option<u64>,
) -> Result<Vec<(DeadLetter, rdkafka::message::OwnedMessage)>, crate::kafka::KafkaError> {
    let records = crate::kafka::read_behind_cursor_async(
        connection,
        &sub.deadletter_kafka_name(),
        &sub.deadletter_cursor_group(),
        all,
        limit,
    )
    .await?;
    Ok(parse_all(records))
}

fn parse_all(
    records: Vec<(rdkafka::message::OwnedMessage, bool)>,
) -> Vec<(DeadLetter, rdkafka::message::OwnedMessage)> {
    records
        .into_iter()
        .map(|(m, replayed)| (DeadLetter::parse(&m, replayed), m))
        .collect()
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
    pub http: &'a super::verb::VerbClient,
    pub sub: &'a crate::schema::Subscription,
    pub verb: &'a crate::schema::Verb,
    pub module_dir: &'a std::path::Path,
}

/// Hands each pending dead letter back to the subscription's verb only
/// (never to the source topic, which other subscriptions read). A success
/// moves the cursor past it; a failure is appended again with its new error
/// and attempt count, then the cursor moves past the old copy.
pub async fn replay_deadletters(
    t: &ReplayTarget<'_>,
    pick: Pick,
    dry_run: bool,
    mut on_item: impl FnMut(&Replayed),
) -> Result<ReplayReport, RunnerError> {
    let limit = match pick {
        Pick::Pending { limit } => limit,
        Pick::Next(_) => None,
    };
    let mut pending = read_async(t.connection, t.sub, false, limit).await?;
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
        let body = bytes::Bytes::from(serde_json::to_vec(&dl.event).unwrap_or_default());
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
        let d = super::verb::Invocation {
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
                let info = FailureRecord {
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
        let action = format!("recording the replay of {}@{}", dl.partition, dl.offset);
        crate::kafka::groups::commit_past(&cursor, &dl.topic, dl.partition, dl.offset, action)
            .await?;
        let r = Replayed {
            dead_letter: dl,
            outcome,
            new_error,
        };
        on_item(&r);
        out.push(r);
    }
    crate::kafka::close_later(cursor);
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
        .ok_or_else(|| RunnerError::VerbGone(sub.verb.clone()))?;
    let module_dir = project.module_dir(&sub.module);
    let producer = RenewableProducer::new(connection.clone())?;
    let http = super::verb::VerbClient::new();
    let target = ReplayTarget {
        connection,
        producer: &producer,
        http: &http,
        sub,
        verb: &verb,
        module_dir: &module_dir,
    };
    Ok(replay_deadletters(&target, Pick::Pending { limit }, dry_run, on_item).await?)
}
