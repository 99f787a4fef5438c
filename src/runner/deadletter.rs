//! Dead letters (DESIGN §4): the FailedEvent document, its headers, and a
//! publish that only returns once the broker acknowledged it.

use std::time::{Duration, SystemTime};

use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
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

/// Headers ftl writes on a dead letter (replaced when a dead letter fails again).
pub const FTL_HEADERS: [&str; 9] = [
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
    out
}

/// Publishes until the broker acknowledges; a refused publish is retried
/// with backoff. Returns false only when `abandon` fires first (the source
/// event then stays uncommitted and is delivered again).
pub async fn publish(
    producer: &FutureProducer,
    topic: &str,
    key: Option<&[u8]>,
    payload: &[u8],
    headers: OwnedHeaders,
    abandon: &CancellationToken,
) -> Result<(i32, i64), String> {
    let mut backoff = Duration::from_millis(200);
    loop {
        let mut record = FutureRecord::<[u8], [u8]>::to(topic)
            .payload(payload)
            .headers(headers.clone());
        if let Some(k) = key {
            record = record.key(k);
        }
        let send = producer.send(record, Duration::from_secs(30));
        let result = tokio::select! {
            r = send => r,
            _ = abandon.cancelled() => return Err("abandoned before the broker acknowledged".into()),
        };
        match result {
            Ok(d) => return Ok((d.partition, d.offset)),
            Err((e, _)) => {
                tracing::warn!(
                    "dead letter to {topic} not acknowledged ({e}); retrying in {backoff:?}"
                );
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = abandon.cancelled() => return Err(format!("abandoned: {e}")),
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
}
