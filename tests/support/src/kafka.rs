//! Direct rdkafka access to the test broker, to check what `ftl` did.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::{Offset, TopicPartitionList};

pub struct Kafka {
    pub bootstrap: String,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub payload: String,
    pub headers: HashMap<String, String>,
    pub timestamp: Option<i64>,
}

impl Kafka {
    fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("broker.address.family", "v4");
        c
    }

    pub fn partitions(&self, topic: &str) -> Option<usize> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", "ftl-test-meta")
            .create()
            .expect("consumer");
        let md = c
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        md.topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len())
    }

    /// Every topic the broker has (a metadata request for all of them,
    /// which creates none).
    pub fn topic_names(&self) -> Vec<String> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", "ftl-test-meta")
            .create()
            .expect("consumer");
        let md = c
            .fetch_metadata(None, Duration::from_secs(10))
            .expect("metadata");
        let mut names: Vec<String> = md.topics().iter().map(|t| t.name().to_string()).collect();
        names.sort();
        names
    }

    /// Every topic the broker has with its partitions, from one metadata
    /// request for all of them (which creates none: asking for one topic by
    /// name makes the test broker create it with 4 partitions).
    pub fn topic_partitions(&self) -> HashMap<String, usize> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", "ftl-test-meta")
            .create()
            .expect("consumer");
        let md = c
            .fetch_metadata(None, Duration::from_secs(10))
            .expect("metadata");
        md.topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| (t.name().to_string(), t.partitions().len()))
            .collect()
    }

    /// Whether the broker answers a metadata request within `timeout`. The
    /// client is made for this one question, so nothing it learnt before
    /// (a reconnect backoff, an old address) delays the answer.
    pub fn answers(&self, timeout: Duration) -> bool {
        let c: Result<BaseConsumer, _> = self.config().set("group.id", "ftl-test-meta").create();
        c.is_ok_and(|c| c.fetch_metadata(None, timeout).is_ok())
    }

    /// Produces `events` as [`Kafka::produce`] does, as a client of
    /// another program would (its metadata requests let the broker create
    /// a topic it lacks); the partition and offset of each event the broker
    /// acknowledged. Events not acknowledged within 10 s are left out.
    pub fn produce_acked(&self, topic: &str, events: &[(Option<&str>, String)]) -> Vec<(i32, i64)> {
        let acked = Arc::new(Mutex::new(Vec::new()));
        let p: BaseProducer<Acks> = self
            .config()
            .set("linger.ms", "0")
            .set("batch.num.messages", "1")
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            .set("message.timeout.ms", "10000")
            .create_with_context(Acks(acked.clone()))
            .expect("producer");
        for (k, v) in events {
            let mut record = BaseRecord::<str, str>::to(topic).payload(v.as_str());
            if let Some(k) = k {
                record = record.key(*k);
            }
            let mut r = Some(record);
            while let Some(rec) = r.take() {
                if let Err((e, rec)) = p.send(rec) {
                    assert!(
                        matches!(
                            e,
                            rdkafka::error::KafkaError::MessageProduction(
                                rdkafka::types::RDKafkaErrorCode::QueueFull
                            )
                        ),
                        "{e}"
                    );
                    p.poll(Duration::from_millis(50));
                    r = Some(rec);
                }
            }
            p.poll(Duration::ZERO);
        }
        // Not acknowledged in time is an answer too: left out.
        let _ = p.flush(Duration::from_secs(15));
        drop(p);
        let out = acked.lock().expect("lock").clone();
        out
    }

    /// Produces each event as its own record batch (the test broker's end
    /// offsets are wrong for multi-record batches).
    /// A producer that sends each record as its own batch, right away.
    pub fn producer(&self) -> BaseProducer {
        self.config()
            .set("linger.ms", "0")
            .set("batch.num.messages", "1")
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            .create()
            .expect("producer")
    }

    pub fn produce(&self, topic: &str, events: &[(Option<&str>, String)]) {
        self.produce_with_headers(topic, events, &[]);
    }

    pub fn produce_with_headers(
        &self,
        topic: &str,
        events: &[(Option<&str>, String)],
        headers: &[(&str, &str)],
    ) {
        let p = self.producer();
        for (k, v) in events {
            let mut r = BaseRecord::<str, str>::to(topic).payload(v.as_str());
            if !headers.is_empty() {
                let mut h = rdkafka::message::OwnedHeaders::new();
                for (hk, hv) in headers {
                    h = h.insert(rdkafka::message::Header {
                        key: hk,
                        value: Some(*hv),
                    });
                }
                r = r.headers(h);
            }
            if let Some(k) = k {
                r = r.key(*k);
            }
            let mut r = Some(r);
            while let Some(rec) = r.take() {
                if let Err((e, rec)) = p.send(rec) {
                    assert!(
                        matches!(
                            e,
                            rdkafka::error::KafkaError::MessageProduction(
                                rdkafka::types::RDKafkaErrorCode::QueueFull
                            )
                        ),
                        "{e}"
                    );
                    p.poll(Duration::from_millis(50));
                    r = Some(rec);
                }
            }
            p.poll(Duration::ZERO);
        }
        p.flush(Duration::from_secs(300)).expect("flush");
    }

    /// Every record of a topic, read by assignment (no group is joined).
    pub fn read_all(&self, topic: &str) -> Vec<Record> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", "ftl-test-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create()
            .expect("consumer");
        let n = self.partitions(topic).unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        let mut tpl = TopicPartitionList::new();
        for p in 0..n {
            tpl.add_partition_offset(topic, p as i32, Offset::Beginning)
                .expect("tpl");
        }
        c.assign(&tpl).expect("assign");
        let mut eof = std::collections::HashSet::new();
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while eof.len() < n && Instant::now() < deadline {
            match c.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    let mut headers = HashMap::new();
                    if let Some(h) = m.headers() {
                        for i in 0..h.count() {
                            let hd = h.get(i);
                            headers.insert(
                                hd.key.to_string(),
                                String::from_utf8_lossy(hd.value.unwrap_or_default()).into_owned(),
                            );
                        }
                    }
                    out.push(Record {
                        partition: m.partition(),
                        offset: m.offset(),
                        key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                        payload: String::from_utf8_lossy(m.payload().unwrap_or_default())
                            .into_owned(),
                        headers,
                        timestamp: m.timestamp().to_millis(),
                    });
                }
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                    eof.insert(p);
                }
                _ => {}
            }
        }
        out
    }

    /// Commits `offset` as `group`'s position in `topic[partition]` from
    /// outside the group, retried while the topic does not exist yet. A
    /// group with a live member refuses it: that error is returned.
    pub fn try_commit(
        &self,
        group: &str,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<(), rdkafka::error::KafkaError> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(topic, partition, Offset::Offset(offset))
            .expect("offset");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match c.commit(&tpl, rdkafka::consumer::CommitMode::Sync) {
                Err(e)
                    if e.rdkafka_error_code()
                        != Some(rdkafka::types::RDKafkaErrorCode::UnknownMemberId)
                        && Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                r => return r,
            }
        }
    }

    /// The committed offsets of a group, per partition.
    pub fn committed(&self, group: &str, topic: &str, partitions: usize) -> Vec<Option<i64>> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", group)
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(topic, p as i32);
        }
        let got = c
            .committed_offsets(tpl, Duration::from_secs(10))
            .expect("committed");
        (0..partitions)
            .map(
                |p| match got.find_partition(topic, p as i32).map(|e| e.offset()) {
                    Some(Offset::Offset(o)) => Some(o),
                    _ => None,
                },
            )
            .collect()
    }
}

impl Kafka {
    /// Produces `total` keyed events `{"id": n, "u": "u<n % keys>"}` (key
    /// `u<n % keys>`) to `topic` on a thread of its own, in `chunks` chunks
    /// with `pause` between them, so events flow while a test does harm.
    pub fn produce_keyed_in_background(
        &self,
        topic: &str,
        total: usize,
        keys: usize,
        chunks: usize,
        pause: Duration,
    ) -> std::thread::JoinHandle<()> {
        let kafka = Kafka {
            bootstrap: self.bootstrap.clone(),
        };
        let topic = topic.to_string();
        std::thread::spawn(move || {
            for chunk in 0..chunks {
                let events: Vec<(String, String)> = (0..total / chunks)
                    .map(|i| {
                        let id = chunk * (total / chunks) + i;
                        let u = format!("u{}", id % keys);
                        (u.clone(), format!("{{\"id\":{id},\"u\":\"{u}\"}}"))
                    })
                    .collect();
                kafka.produce(
                    &topic,
                    &events
                        .iter()
                        .map(|(k, v)| (Some(k.as_str()), v.clone()))
                        .collect::<Vec<_>>(),
                );
                std::thread::sleep(pause);
            }
        })
    }
}

/// Keeps where each acknowledged event went.
struct Acks(Arc<Mutex<Vec<(i32, i64)>>>);

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Ok(m) = result {
            self.0
                .lock()
                .expect("lock")
                .push((m.partition(), m.offset()));
        }
    }
}
