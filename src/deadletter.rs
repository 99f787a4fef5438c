//! The dead-letter format shared by the runner, the admin API and the
//! commands: the headers ftl writes, the `builtin.FailedEvent` document, a
//! dead letter as read back and where it sits, and what a replay did with it.

use serde_json::Value;

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
