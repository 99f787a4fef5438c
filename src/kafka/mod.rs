//! The Kafka client: how to dial the broker, the one producer and consumer
//! configuration every path uses, and (in the submodules) admin calls,
//! reads, group moves, tails and the renewable producer. The limits
//! librdkafka puts on a `batch` are checked in `crate::limits`. Outside this
//! module rdkafka is still used directly by the runner (its consumer loop,
//! commit rule, dead letters and broker probe), by `inspect`, by the
//! Publisher's send and by `crate::deadletter` to read a dead letter back.

mod admin;
mod fetched;
pub mod groups;
pub mod headers;
mod producer;
mod read;
pub mod tail;
mod time_lookup;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::FutureProducer;

pub use admin::{topic_exists_via, Admin, TopicInfo};
pub use fetched::Fetched;
pub use groups::{PartitionLag, ReplayFrom};
pub use producer::RenewableProducer;
pub use read::{
    committed, events_held, header_map, knows_all, list_offsets, marks_of, partitions_all,
    partitions_of, read_behind_cursor, read_behind_cursor_async, read_range, watermarks,
    watermarks_all,
};
pub use time_lookup::offsets_at_time;

use crate::broker;
use crate::schema::{Batch, BrokerKind, StartFrom};

#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("the broker at {bootstrap} does not answer")]
    Unreachable {
        bootstrap: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// A call the Kafka client refused or could not finish.
    #[error("{action} failed")]
    Call {
        action: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The Kafka client refused its settings (a property from
    /// `pubsub.broker.properties` or `runner.consumer`, as given).
    #[error("the Kafka client refused the settings of {client}")]
    Settings {
        client: &'static str,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The broker answered a call with an error code.
    #[error("{action}: the broker refused")]
    Refused {
        action: String,
        #[source]
        code: RDKafkaErrorCode,
    },
    #[error("topic `{topic}` does not exist on the broker")]
    NoTopic { topic: String },
    /// Blocking Kafka work on a helper thread did not come back.
    #[error("{action} stopped")]
    Task {
        action: String,
        #[source]
        source: tokio::task::JoinError,
    },
    #[error("the broker refused to move the offsets of group `{group}`")]
    GroupHasMembers {
        group: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("the broker refused to commit offsets for group `{group}`")]
    CommitRefused {
        group: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("cannot grow topic `{topic}` from {from} to {to} partitions")]
    GrowRefused {
        topic: String,
        from: i32,
        to: i32,
        #[source]
        source: GrowCause,
    },
}

/// Why a topic could not grow: the call failed, or the broker said no.
#[derive(Debug, thiserror::Error)]
pub enum GrowCause {
    #[error(transparent)]
    Call(rdkafka::error::KafkaError),
    #[error("the broker answered {0}")]
    Code(RDKafkaErrorCode),
}

impl KafkaError {
    pub fn hint(&self) -> Option<String> {
        match self {
            KafkaError::Unreachable { .. } => Some(
                "start the broker with `ftl dev` or `ftl pubsub broker start`; for `kind: external` check `bootstrap` and `properties`".into(),
            ),
            KafkaError::GrowRefused { .. } => Some(
                "this broker cannot add partitions; `ftl pubsub broker reset` deletes every topic so the next `ftl dev` creates them with the declared partitions".into(),
            ),
            KafkaError::GroupHasMembers { .. } => Some(
                "the group still lists a member: a runner elsewhere, or one that was killed (the broker drops a dead member only when another joins). Start `ftl dev` and run the replay again: it then goes through the runner".into(),
            ),
            KafkaError::CommitRefused { .. } => {
                Some("is the broker healthy? `ftl pubsub status` tells".into())
            }
            KafkaError::NoTopic { .. } => Some("`ftl dev` creates the project's topics".into()),
            KafkaError::Settings { .. } => Some(
                "check `pubsub.broker.properties` (and `runner.consumer`) in ftl-project.yaml: they go to the Kafka client as they are".into(),
            ),
            KafkaError::Call { .. }
            | KafkaError::Refused { .. }
            | KafkaError::Task { .. } => None,
        }
    }
}

pub(crate) fn call(action: impl Into<String>, source: rdkafka::error::KafkaError) -> KafkaError {
    KafkaError::Call {
        action: action.into(),
        source,
    }
}

fn refused_settings(client: &'static str, source: rdkafka::error::KafkaError) -> KafkaError {
    KafkaError::Settings { client, source }
}

pub(crate) fn task(action: impl Into<String>, source: tokio::task::JoinError) -> KafkaError {
    KafkaError::Task {
        action: action.into(),
        source,
    }
}

/// How to reach the broker: bootstrap servers, extra librdkafka properties,
/// and the preset (which decides a few client defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub bootstrap: String,
    pub properties: BTreeMap<String, String>,
    pub kind: BrokerKind,
}

impl Connection {
    fn base(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("client.id", "ftl")
            .set("socket.keepalive.enable", "true")
            // Topics are created by `ftl dev` with their declared partitions,
            // never as a side effect of a client asking about them.
            .set("allow.auto.create.topics", "false");
        if self.kind != BrokerKind::External {
            // The container publishes on 127.0.0.1 only.
            c.set("broker.address.family", "v4");
            // (`reconnect.backoff.max.ms=1000` would make deliveries resume
            // ~4 s sooner after a broker restart, but one broker restart in
            // three then left the producer's metadata requests failing for
            // good on the test broker: librdkafka's default backoff stays.)
            // A topic created again or grown is noticed within 10 s, not
            // librdkafka's 5 minutes (one small request per client).
            c.set("topic.metadata.refresh.interval.ms", "10000");
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }

    /// The producer settings of every publish path (CLI, Publisher, dead
    /// letters): acks=all with idempotence, and Kafka's Java-client key
    /// hashing so every client agrees where a key lives.
    pub fn producer(&self) -> Result<FutureProducer, KafkaError> {
        self.producer_config()
            .create()
            .map_err(|e| refused_settings("a producer", e))
    }

    fn producer_config(&self) -> ClientConfig {
        let mut c = self.base();
        c.set("acks", "all")
            .set("enable.idempotence", "true")
            .set("partitioner", "murmur2_random")
            .set("linger.ms", "1")
            .set("message.timeout.ms", "30000");
        if self.kind == BrokerKind::Tansu {
            // Tansu answers ListOffsets(LATEST) with the last batch's base
            // offset + 1: one record per batch keeps end offsets and lag right.
            c.set("batch.num.messages", "1");
        }
        c
    }

    /// A consumer for a subscription's group: manual commits, classic group
    /// protocol, fetch settings from `batch`, preset defaults for session and
    /// heartbeat, then the user's `runner.consumer` overrides.
    pub fn group_consumer_config(
        &self,
        group: &str,
        from: StartFrom,
        batch: &Batch,
        overrides: &BTreeMap<String, String>,
    ) -> ClientConfig {
        let mut c = self.base();
        c.set("group.id", group)
            .set("group.protocol", "classic")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set(
                "auto.offset.reset",
                match from {
                    StartFrom::Beginning => "earliest",
                    StartFrom::Latest => "latest",
                },
            )
            .set("partition.assignment.strategy", "cooperative-sticky")
            .set("fetch.min.bytes", batch.min.to_string())
            .set("fetch.max.bytes", batch.default.to_string())
            .set("max.partition.fetch.bytes", batch.default.to_string())
            .set("fetch.wait.max.ms", batch.max_wait.as_millis().to_string())
            // A long verb must not get the member evicted: the runner pauses
            // fetching, not polling, while a verb runs.
            .set("max.poll.interval.ms", "600000");
        for (k, v) in broker::consumer_defaults(self.kind) {
            c.set(k, v);
        }
        for (k, v) in overrides {
            c.set(k, v);
        }
        c
    }

    /// A consumer that reads without joining a group (tail, status,
    /// dead-letter listing). librdkafka still wants a group id; it is
    /// never used for commits.
    pub fn reader(&self, purpose: &str) -> Result<Reader, KafkaError> {
        let mut c = self.base();
        c.set("group.id", format!("ftl-{purpose}-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "true")
            // Not lower: the test broker then answers each fetch with less
            // (a tail of 100k events took 5.5 s at 10 ms instead of 1.9 s).
            .set("fetch.wait.max.ms", "100");
        c.create_with_context(ReaderContext)
            .map_err(|e| refused_settings("a consumer", e))
    }

    /// A consumer with a subscription's group id that never subscribes: it
    /// reads and commits that group's offsets directly.
    pub fn group_committer(&self, group: &str) -> Result<BaseConsumer, KafkaError> {
        let mut c = self.base();
        c.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        c.create().map_err(|e| refused_settings("a consumer", e))
    }

    pub fn admin(&self) -> Result<Admin, KafkaError> {
        let inner: AdminClient<DefaultClientContext> = self
            .base()
            .create()
            .map_err(|e| refused_settings("an admin client", e))?;
        Ok(Admin {
            inner: Arc::new(inner),
            bootstrap: self.bootstrap.clone(),
        })
    }
}

/// A consumer that reads without a group ([`Connection::reader`]).
pub type Reader = BaseConsumer<ReaderContext>;

/// A reader's client context: the end of a partition is how a reader knows
/// it is done (`enable.partition.eof`), not an error, so it is not logged as
/// one (rdkafka's default logs every such signal as `ERROR ... PartitionEOF`
/// with `-v`). Other errors are logged as rdkafka logs them.
pub struct ReaderContext;

impl rdkafka::ClientContext for ReaderContext {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        if is_partition_eof(&error) {
            tracing::trace!(target: "rdkafka::client", "librdkafka: {error}: {reason}");
        } else {
            tracing::error!(target: "rdkafka::client", "librdkafka: {error}: {reason}");
        }
    }
}

impl rdkafka::consumer::ConsumerContext for ReaderContext {}

fn is_partition_eof(error: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::error::KafkaError as E;
    matches!(
        error,
        E::PartitionEOF(_) | E::Global(RDKafkaErrorCode::PartitionEOF)
    )
}

/// The broker cannot be reached (the runner's broker follower reports
/// that once, as `broker_lost`, so each client need not).
pub fn is_broker_away(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(C::AllBrokersDown | C::BrokerTransportFailure | C::Resolve)
    )
}

/// The broker does not hold the topic (a fetch or a produce said so).
pub fn is_unknown_topic(e: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(C::UnknownTopicOrPartition | C::UnknownTopic | C::UnknownTopicId)
    )
}

/// The reader a [`LazyReader`] keeps. Dropped on a thread of
/// its own, wherever its owner goes away: librdkafka's destroy blocks.
pub struct KeptReader(Option<Reader>);

impl KeptReader {
    fn new(reader: Reader) -> KeptReader {
        KeptReader(Some(reader))
    }
}

/// A reader made when first asked for and then kept, shared by whoever
/// reads watermarks often (the console's overview, replays): making one
/// costs ~10 ms of CPU and a new connection to the broker. Dropped when the
/// broker goes away or moves ([`LazyReader::reset`]): a client that knew the
/// old broker's topics must never see them come back with a new identity.
#[derive(Default, Clone)]
pub struct LazyReader(Arc<std::sync::Mutex<Option<Arc<KeptReader>>>>);

impl LazyReader {
    /// The reader, made now if it is not yet (blocking).
    pub fn get(&self, conn: &Connection) -> Result<Arc<KeptReader>, KafkaError> {
        if let Some(r) = self.lock().as_ref() {
            return Ok(r.clone());
        }
        let made = Arc::new(KeptReader::new(conn.reader("kept")?));
        Ok(self.lock().get_or_insert(made).clone())
    }

    /// Forgets the reader; it is closed (on a thread of its own) when its
    /// last user is done with it.
    pub fn reset(&self) {
        self.lock().take();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<KeptReader>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Where a replay moves `partitions` of `topic`, asked through this
    /// reader on a blocking thread.
    pub async fn replay_targets(
        &self,
        conn: &Connection,
        topic: &str,
        partitions: Vec<i32>,
        from: ReplayFrom,
    ) -> Result<Vec<crate::events::PartitionMove>, KafkaError> {
        let (reader, conn, topic) = (self.clone(), conn.clone(), topic.to_string());
        tokio::task::spawn_blocking(move || {
            let reader = reader.get(&conn)?;
            groups::replay_targets(&**reader, &topic, &partitions, from)
        })
        .await
        .map_err(|e| task("finding where to move", e))?
    }
}

/// The broker's address as it is now: the broker container may be created
/// again on another port (`ftl pubsub broker reset` then `start`), and every
/// client made afterwards dials the new one. A `watch`, like the project:
/// readers see the latest address without lock or poison handling.
#[derive(Debug)]
pub struct LiveConnection(tokio::sync::watch::Sender<Connection>);

impl LiveConnection {
    pub fn new(connection: Connection) -> LiveConnection {
        LiveConnection(tokio::sync::watch::Sender::new(connection))
    }

    pub fn get(&self) -> Connection {
        self.0.borrow().clone()
    }

    pub fn set(&self, connection: Connection) {
        self.0.send_replace(connection);
    }
}

impl std::ops::Deref for KeptReader {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        match &self.0 {
            Some(r) => r,
            None => unreachable!("a kept reader is only emptied when dropped"),
        }
    }
}

impl Drop for KeptReader {
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            std::thread::spawn(move || drop(r));
        }
    }
}

/// Closes a consumer on a thread of its own without waiting for it (see
/// `close_consumer`).
pub fn close_later<C: Send + 'static>(consumer: C) {
    std::thread::spawn(move || close_consumer(consumer));
}

/// Closes a consumer off the async executor and with a deadline: librdkafka's
/// close blocks, and was seen to hang on the test broker.
pub fn close_consumer<C: Send + 'static>(consumer: C) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(consumer);
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(Duration::from_secs(10));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_readers_end_of_partition_is_not_an_error() {
        use rdkafka::error::KafkaError as E;
        assert!(is_partition_eof(&E::Global(RDKafkaErrorCode::PartitionEOF)));
        assert!(is_partition_eof(&E::PartitionEOF(3)));
        assert!(!is_partition_eof(&E::Global(
            RDKafkaErrorCode::BrokerTransportFailure
        )));
    }
}
