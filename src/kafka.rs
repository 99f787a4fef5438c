//! Everything rdkafka: how to dial the broker, admin calls (topics,
//! partitions, metadata), and the one producer and consumer configuration
//! every path uses. rdkafka's types stay behind this module's functions where
//! practical; the runner uses the consumer types directly.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::producer::FutureProducer;
use rdkafka::{Offset, TopicPartitionList};

use crate::broker;
use crate::schema::{Batch, BrokerKind, StartFrom};

#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("the broker at {bootstrap} does not answer: {cause}")]
    Unreachable { bootstrap: String, cause: String },
    #[error("{action} failed: {cause}")]
    Call { action: String, cause: String },
    #[error(
        "cannot grow topic `{topic}` from {from} to {to} partitions: the broker answered {cause}"
    )]
    GrowRefused {
        topic: String,
        from: i32,
        to: i32,
        cause: String,
    },
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
            KafkaError::Call { .. } => None,
        }
    }
}

fn call(action: impl Into<String>, e: impl std::fmt::Display) -> KafkaError {
    KafkaError::Call {
        action: action.into(),
        cause: e.to_string(),
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
            .set("socket.keepalive.enable", "true");
        if self.kind != BrokerKind::External {
            // The container publishes on 127.0.0.1 only.
            c.set("broker.address.family", "v4");
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
        c.create().map_err(|e| call("creating a producer", e))
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
            .set("fetch.max.bytes", batch.default.max(1024).to_string())
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
    pub fn reader(&self, purpose: &str) -> Result<BaseConsumer, KafkaError> {
        let mut c = self.base();
        c.set("group.id", format!("ftl-{purpose}-{}", std::process::id()))
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("enable.partition.eof", "true")
            .set("fetch.wait.max.ms", "100");
        c.create().map_err(|e| call("creating a consumer", e))
    }

    /// A consumer with a subscription's group id that never subscribes: it
    /// reads and commits that group's offsets directly.
    pub fn group_committer(&self, group: &str) -> Result<BaseConsumer, KafkaError> {
        let mut c = self.base();
        c.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false");
        c.create().map_err(|e| call("creating a consumer", e))
    }

    pub fn admin(&self) -> Result<Admin, KafkaError> {
        let inner: AdminClient<DefaultClientContext> = self
            .base()
            .create()
            .map_err(|e| call("creating an admin client", e))?;
        Ok(Admin {
            inner: Arc::new(inner),
            bootstrap: self.bootstrap.clone(),
        })
    }
}

#[derive(Clone)]
pub struct Admin {
    inner: Arc<AdminClient<DefaultClientContext>>,
    bootstrap: String,
}

/// What the broker says about one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub partitions: i32,
}

impl Admin {
    /// Every topic and its partition count (one metadata request).
    pub async fn topics(
        &self,
        timeout: Duration,
    ) -> Result<HashMap<String, TopicInfo>, KafkaError> {
        let inner = self.inner.clone();
        let bootstrap = self.bootstrap.clone();
        tokio::task::spawn_blocking(move || {
            let md = inner.inner().fetch_metadata(None, timeout).map_err(|e| {
                KafkaError::Unreachable {
                    bootstrap,
                    cause: e.to_string(),
                }
            })?;
            Ok(md
                .topics()
                .iter()
                .filter(|t| t.error().is_none())
                .map(|t| {
                    (
                        t.name().to_string(),
                        TopicInfo {
                            partitions: t.partitions().len() as i32,
                        },
                    )
                })
                .collect())
        })
        .await
        .map_err(|e| call("metadata request", e))?
    }

    /// Waits until a metadata request answers: the broker is ready.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), KafkaError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .topics(
                    left.min(Duration::from_secs(2))
                        .max(Duration::from_millis(200)),
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Creates topics; one that already exists counts as created.
    pub async fn create_topics(
        &self,
        topics: &[(String, i32)],
        replication: i32,
    ) -> Result<(), KafkaError> {
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|(name, p)| NewTopic::new(name, *p, TopicReplication::Fixed(replication)))
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = self
            .inner
            .create_topics(new.iter(), &opts)
            .await
            .map_err(|e| call("creating topics", e))?;
        for r in results {
            match r {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => return Err(call(format!("creating topic `{name}`"), code)),
            }
        }
        Ok(())
    }

    pub async fn grow_partitions(&self, topic: &str, from: i32, to: i32) -> Result<(), KafkaError> {
        let new = NewPartitions::new(topic, to.max(0) as usize);
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let refused = |cause: String| KafkaError::GrowRefused {
            topic: topic.to_string(),
            from,
            to,
            cause,
        };
        let results = self
            .inner
            .create_partitions([&new], &opts)
            .await
            .map_err(|e| refused(e.to_string()))?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(refused(format!("{code:?} ({code})")));
            }
        }
        Ok(())
    }

    pub async fn delete_topics(&self, names: &[String]) -> Result<(), KafkaError> {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = self
            .inner
            .delete_topics(&refs, &opts)
            .await
            .map_err(|e| call("deleting topics", e))?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
                Err((name, code)) => return Err(call(format!("deleting topic `{name}`"), code)),
            }
        }
        Ok(())
    }
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

/// Low and high watermarks of a partition.
pub fn watermarks<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topic: &str,
    partition: i32,
) -> Result<(i64, i64), KafkaError> {
    consumer
        .fetch_watermarks(topic, partition, Duration::from_secs(5))
        .map_err(|e| call(format!("reading offsets of {topic}[{partition}]"), e))
}

/// The committed offsets of the consumer's group for some partitions.
pub fn committed(
    consumer: &BaseConsumer,
    topic: &str,
    partitions: &[i32],
) -> Result<HashMap<i32, Option<i64>>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for p in partitions {
        tpl.add_partition(topic, *p);
    }
    let got = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .map_err(|e| call(format!("reading committed offsets of {topic}"), e))?;
    Ok(partitions
        .iter()
        .map(|p| {
            let o = match got.find_partition(topic, *p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => Some(o),
                _ => None,
            };
            (*p, o)
        })
        .collect())
}

/// The first offset at or after `millis` in each partition (the end when
/// no record is that recent).
pub fn offsets_for_time<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topic: &str,
    partitions: &[(i32, i64)],
    millis: i64,
) -> Result<HashMap<i32, i64>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for (p, _) in partitions {
        let _ = tpl.add_partition_offset(topic, *p, Offset::Offset(millis));
    }
    let found = consumer
        .offsets_for_times(tpl, Duration::from_secs(10))
        .map_err(|e| call(format!("looking up offsets by time in {topic}"), e))?;
    Ok(partitions
        .iter()
        .map(|(p, high)| {
            let o = match found.find_partition(topic, *p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => o,
                _ => *high,
            };
            (*p, o)
        })
        .collect())
}

/// Reads the records of `ranges` (partition, from, to-exclusive), at most
/// `limit`, in partition then offset order. Assigns partitions directly:
/// no group is joined and nothing is committed.
pub fn read_range(
    consumer: &BaseConsumer,
    topic: &str,
    ranges: &[(i32, i64, i64)],
    limit: Option<u64>,
) -> Result<Vec<OwnedMessage>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    let mut open: HashMap<i32, i64> = HashMap::new();
    for (p, from, to) in ranges {
        if from < to {
            let _ = tpl.add_partition_offset(topic, *p, Offset::Offset(*from));
            open.insert(*p, *to);
        }
    }
    let mut out = Vec::new();
    if open.is_empty() {
        return Ok(out);
    }
    consumer
        .assign(&tpl)
        .map_err(|e| call(format!("reading {topic}"), e))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !open.is_empty() && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let p = m.partition();
                if let Some(to) = open.get(&p).copied() {
                    if m.offset() < to {
                        out.push(m.detach());
                    }
                    if m.offset() + 1 >= to {
                        open.remove(&p);
                    }
                }
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                open.remove(&p);
            }
            Some(Err(e)) => return Err(call(format!("reading {topic}"), e)),
            None => {}
        }
    }
    out.sort_by_key(|m| (m.partition(), m.offset()));
    if let Some(n) = limit {
        out.truncate(n as usize);
    }
    Ok(out)
}

/// The partitions of a topic as the broker knows them; an error that says
/// `ftl dev` creates it when the topic does not exist.
pub fn partitions_of<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topic: &str,
) -> Result<Vec<i32>, KafkaError> {
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| call(format!("reading metadata of {topic}"), e))?;
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none());
    match t {
        Some(t) if !t.partitions().is_empty() => {
            Ok(t.partitions().iter().map(|p| p.id()).collect())
        }
        _ => Err(call(
            format!("reading topic `{topic}`"),
            "the topic does not exist on the broker; `ftl dev` creates it",
        )),
    }
}

/// Where a replay moves a subscription's group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFrom {
    Beginning,
    Latest,
    /// Milliseconds since the epoch.
    Time(i64),
}

impl ReplayFrom {
    /// The form the runner's admin API takes: `beginning`, `latest` or
    /// milliseconds since the epoch.
    pub fn to_param(self) -> String {
        match self {
            ReplayFrom::Beginning => "beginning".into(),
            ReplayFrom::Latest => "latest".into(),
            ReplayFrom::Time(ms) => ms.to_string(),
        }
    }

    pub fn from_param(text: &str) -> Option<ReplayFrom> {
        match text {
            "beginning" => Some(ReplayFrom::Beginning),
            "latest" => Some(ReplayFrom::Latest),
            ms => ms.parse().ok().map(ReplayFrom::Time),
        }
    }
}

/// (partition, new offset, end offset)
pub type PartitionMove = (i32, i64, i64);

/// Where each partition goes for a replay: the low watermark, the end, or
/// the first offset at or after a time (the end when none is that recent).
pub fn replay_targets<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topic: &str,
    partitions: &[i32],
    from: ReplayFrom,
) -> Result<Vec<PartitionMove>, KafkaError> {
    let mut marks = Vec::new();
    for p in partitions {
        let (low, high) = watermarks(consumer, topic, *p)?;
        marks.push((*p, low, high));
    }
    Ok(match from {
        ReplayFrom::Beginning => marks,
        ReplayFrom::Latest => marks.into_iter().map(|(p, _, h)| (p, h, h)).collect(),
        ReplayFrom::Time(ms) => {
            let highs: Vec<(i32, i64)> = marks.iter().map(|(p, _, h)| (*p, *h)).collect();
            let found = offsets_for_time(consumer, topic, &highs, ms)?;
            marks
                .into_iter()
                .map(|(p, _, h)| (p, found.get(&p).copied().unwrap_or(h), h))
                .collect()
        }
    })
}

/// A record's headers as text (values decoded lossily as UTF-8).
pub fn header_map<H: Headers>(headers: Option<&H>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(h) = headers {
        for i in 0..h.count() {
            let x = h.get(i);
            out.insert(
                x.key.to_string(),
                String::from_utf8_lossy(x.value.unwrap_or_default()).into_owned(),
            );
        }
    }
    out
}
