//! Request traces: what `ftl dev` saw of one request (one `ftl.request_key`)
//! across topics. The runner folds its typed events (publishes, delivery
//! attempts, attempts in flight) into a bounded in-memory [`History`]; the
//! admin API answers `GET /admin/trace` with a [`Trace`], the tree
//! `ftl pubsub trace` and the console show: each publish, the deliveries of
//! it, their attempts, what was published while handling them, and where
//! each branch ended.
//!
//! The types here are the wire format, shared by the server and the client.

mod history;
mod render;

pub use history::{Budget, History};
pub use render::render;

use serde::{Deserialize, Serialize};

/// `GET /admin/trace?key=K` or `?event=TOPIC@PARTITION:OFFSET`.
pub const TRACE_PATH: &str = "/admin/trace";

/// One request as the runner saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub request_key: String,
    /// False when the runner kept nothing of it (see `kept`).
    pub found: bool,
    /// The request had more steps than one request may keep: the latest
    /// ones were not recorded.
    #[serde(default)]
    pub truncated: bool,
    /// The publishes nobody in this request's tree made (the CLI, another
    /// client, the Publisher outside any delivery), in order.
    pub publishes: Vec<PublishNode>,
    /// What the runner keeps, and what it let go.
    pub kept: Kept,
}

/// An event published in the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishNode {
    pub topic: String,
    /// Where the broker stored it (none when the publish failed).
    pub partition: Option<i32>,
    pub offset: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// `ftl.created_at`, when known.
    pub published_at: Option<String>,
    /// `cli`, `http`, `grpc`, a verb, `deadletter`; none when the event did
    /// not say (another client).
    pub by: Option<String>,
    /// Why the publish failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub deliveries: Vec<DeliveryNode>,
}

/// One subscription's handling of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryNode {
    pub subscription: String,
    pub verb: Option<String>,
    pub status: Status,
    pub attempts: Vec<AttemptNode>,
    /// Milliseconds from the publish to the end of the last attempt (or to
    /// the start of the one in flight).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_published_ms: Option<u64>,
    /// Where it was dead-lettered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<At>,
    /// What was published while it was being handled (its dead letter too).
    pub publishes: Vec<PublishNode>,
}

/// Where a branch of the request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The verb succeeded.
    Ok,
    /// Written to the dead-letter topic.
    DeadLettered,
    /// No attempts left and no dead-letter topic: skipped.
    Dropped,
    /// An attempt runs now.
    InFlight,
    /// Failed; another attempt follows.
    Retrying,
    /// Not delivered yet (or given up on shutdown: it comes again).
    Pending,
}

impl Status {
    pub fn describe(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::DeadLettered => "dead-lettered",
            Status::Dropped => "dropped",
            Status::InFlight => "in flight",
            Status::Retrying => "retrying",
            Status::Pending => "pending",
        }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptNode {
    pub attempt: u32,
    /// When it started (RFC 3339, ms).
    pub started_at: String,
    /// How long it took; none while in flight.
    pub ms: Option<u64>,
    /// `ok`, `retry`, `dead_lettered`, `dropped`, `abandoned`, or `in_flight`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An event's place.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct At {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}@{}", self.topic, self.partition, self.offset)
    }
}

impl At {
    /// `TOPIC@PARTITION:OFFSET`, as `ftl pubsub trace` takes an event.
    pub fn parse(text: &str) -> Option<At> {
        let (topic, rest) = text.rsplit_once('@')?;
        let (partition, offset) = rest.split_once(':')?;
        Some(At {
            topic: topic.to_string(),
            partition: partition.parse().ok()?,
            offset: offset.parse().ok()?,
        })
    }
}

/// What the history keeps and let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Kept {
    pub budget: Budget,
    pub requests: usize,
    pub steps: usize,
    pub bytes: usize,
    /// Requests let go to stay within the budget, oldest first.
    pub dropped: u64,
    /// When the oldest request kept began (ms since the epoch).
    pub oldest_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_named_topic_at_partition_colon_offset() {
        assert_eq!(
            At::parse("pizza.orders@2:17"),
            Some(At {
                topic: "pizza.orders".into(),
                partition: 2,
                offset: 17
            })
        );
        assert_eq!(At::parse("pizza.orders@2"), None);
        assert_eq!(At::parse("pizza.orders:17"), None);
        assert_eq!(At::parse("x@a:1"), None);
    }
}
