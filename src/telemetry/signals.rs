//! The runner's events as FTL's metrics (meter `ftl.pubsub`, FTL's names
//! and attributes) and as spans: one per publish, one per delivery attempt
//! (a child of the publish it delivers). Span and trace ids are derived
//! from the request key and the event's place, so the publish and its
//! deliveries meet in one trace even when the runner did not see the
//! publish itself (the CLI, another client).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::metrics::{Counter, Histogram, MeterProvider};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::events::{Delivery, Event, Outcome, Published};

const METER: &str = "ftl.pubsub";
const MODULE: &str = "ftl.module.name";
const TOPIC_REF: &str = "ftl.pubsub.topic.ref";
const TOPIC_MODULE: &str = "ftl.pubsub.topic.module.name";
const CALLER_VERB_REF: &str = "ftl.pubsub.publish.caller.verb.ref";
const SUBSCRIPTION_REF: &str = "ftl.pubsub.subscription.ref";
const SUBSCRIPTION_MODULE: &str = "ftl.pubsub.subscription.module.name";
const SINCE_PUBLISHED_BUCKET: &str = "ftl.pubsub.time_since_published_ms.bucket";
const OUTCOME: &str = "ftl.outcome.status";
const REQUEST_KEY: &str = "ftl.request_key";

fn module_of(reference: &str) -> &str {
    reference.split_once('.').map_or(reference, |(m, _)| m)
}

fn status(ok: bool) -> &'static str {
    if ok {
        "success"
    } else {
        "failure"
    }
}

/// FTL's bucket of a duration in ms: powers of 4, everything under 4^4
/// together and everything from 4^6 on together (`<1`, `<256`,
/// `[256,1024)`, `[1024,4096)`, `>=4096`).
pub fn bucket(ms: u64) -> String {
    match ms {
        0 => "<1".into(),
        1..=255 => "<256".into(),
        256..=1023 => "[256,1024)".into(),
        1024..=4095 => "[1024,4096)".into(),
        _ => ">=4096".into(),
    }
}

/// FTL's three pubsub instruments.
pub struct Metrics {
    published: Counter<u64>,
    consumed: Counter<u64>,
    ms_to_consume: Histogram<u64>,
}

impl Metrics {
    pub fn new(provider: &SdkMeterProvider) -> Metrics {
        let meter = provider.meter(METER);
        Metrics {
            published: meter
                .u64_counter("ftl.pubsub.published")
                .with_unit("1")
                .with_description("the number of times that an event is published to a topic")
                .build(),
            consumed: meter
                .u64_counter("ftl.pubsub.consumed")
                .with_unit("1")
                .with_description(
                    "the number of delivery attempts of an event to a subscription's verb",
                )
                .build(),
            ms_to_consume: meter
                .u64_histogram("ftl.pubsub.ms_to_consume")
                .with_unit("ms")
                .with_description(
                    "milliseconds from an event's publish to the end of a delivery attempt",
                )
                .build(),
        }
    }

    fn published(&self, topic: &str, by: &str, ok: bool) {
        let mut attrs = vec![
            KeyValue::new(MODULE, module_of(topic).to_string()),
            KeyValue::new(TOPIC_REF, topic.to_string()),
            KeyValue::new(OUTCOME, status(ok)),
        ];
        // A verb named as its caller (FTL's PublishService); the CLI and
        // plain HTTP or gRPC callers are no verb.
        if by.contains('.') {
            attrs.push(KeyValue::new(CALLER_VERB_REF, by.to_string()));
        }
        self.published.add(1, &attrs);
    }

    fn consumed(&self, d: &Delivery) {
        let ok = d.outcome == Outcome::Ok;
        let since = d.since_published_ms;
        let attrs = [
            KeyValue::new(TOPIC_REF, d.topic.clone()),
            KeyValue::new(TOPIC_MODULE, module_of(&d.topic).to_string()),
            KeyValue::new(SUBSCRIPTION_REF, d.subscription.clone()),
            KeyValue::new(SUBSCRIPTION_MODULE, module_of(&d.subscription).to_string()),
            KeyValue::new(SINCE_PUBLISHED_BUCKET, bucket(since.unwrap_or(0))),
            KeyValue::new(OUTCOME, status(ok)),
        ];
        self.consumed.add(1, &attrs);
        if let Some(ms) = since {
            self.ms_to_consume.record(ms, &attrs);
        }
    }
}

/// FNV-1a over the parts, with a seed: stable ids from names.
fn hash(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h = seed;
    for part in parts {
        for b in part.iter().chain(&[0xff]) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    h
}

fn trace_id(request_key: &str) -> TraceId {
    let a = hash(0xcbf2_9ce4_8422_2325, &[request_key.as_bytes()]);
    let b = hash(0x8422_2325_cbf2_9ce4, &[request_key.as_bytes()]);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&a.to_be_bytes());
    bytes[8..].copy_from_slice(&b.to_be_bytes());
    TraceId::from_bytes(bytes)
}

fn publish_span_id(topic: &str, partition: i32, offset: i64) -> SpanId {
    let h = hash(
        0xcbf2_9ce4_8422_2325,
        &[
            topic.as_bytes(),
            &partition.to_be_bytes(),
            &offset.to_be_bytes(),
        ],
    );
    SpanId::from_bytes((h | 1).to_be_bytes())
}

fn delivery_span_id(d: &Delivery) -> SpanId {
    let h = hash(
        0x8422_2325_cbf2_9ce4,
        &[
            d.subscription.as_bytes(),
            d.topic.as_bytes(),
            &d.partition.to_be_bytes(),
            &d.offset.to_be_bytes(),
            &d.attempt.to_be_bytes(),
        ],
    );
    SpanId::from_bytes((h | 1).to_be_bytes())
}

/// A span of request `key`; `(id, parent)`.
fn span(
    key: &str,
    (id, parent): (SpanId, SpanId),
    kind: SpanKind,
    name: String,
    (start, end): (SystemTime, SystemTime),
    attributes: Vec<KeyValue>,
    status: Status,
) -> SpanData {
    SpanData {
        span_context: SpanContext::new(
            trace_id(key),
            id,
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        ),
        parent_span_id: parent,
        parent_span_is_remote: false,
        span_kind: kind,
        name: name.into(),
        start_time: start,
        end_time: end,
        attributes,
        dropped_attributes_count: 0,
        events: Default::default(),
        links: Default::default(),
        status,
        instrumentation_scope: InstrumentationScope::builder(METER).build(),
    }
}

fn publish_span(
    key: &str,
    topic: &str,
    partition: i32,
    offset: i64,
    by: Option<&str>,
    (start, end): (SystemTime, SystemTime),
) -> SpanData {
    let mut attributes = vec![
        KeyValue::new(REQUEST_KEY, key.to_string()),
        KeyValue::new("messaging.system", "kafka"),
        KeyValue::new("messaging.operation.type", "send"),
        KeyValue::new("messaging.destination.name", topic.to_string()),
        KeyValue::new("messaging.destination.partition.id", partition.to_string()),
        KeyValue::new("messaging.kafka.offset", offset),
        KeyValue::new(TOPIC_REF, topic.to_string()),
    ];
    if let Some(by) = by {
        attributes.push(KeyValue::new("ftl.published_by", by.to_string()));
    }
    span(
        key,
        (publish_span_id(topic, partition, offset), SpanId::INVALID),
        SpanKind::Producer,
        format!("publish {topic}"),
        (start, end),
        attributes,
        Status::Unset,
    )
}

fn parse_time(t: Option<&str>) -> Option<SystemTime> {
    t.and_then(|t| humantime::parse_rfc3339_weak(t).ok())
}

/// Publish spans already sent (a publish has one span, however many
/// subscriptions deliver it); the oldest are forgotten past a bound.
#[derive(Default)]
struct Sent {
    set: HashSet<SpanId>,
    order: VecDeque<SpanId>,
}

impl Sent {
    const KEEP: usize = 20_000;

    /// True if `id` is new.
    fn insert(&mut self, id: SpanId) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > Sent::KEEP {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }
}

/// Turns the runner's events into metrics and spans until the hub closes.
pub async fn follow(
    mut events: broadcast::Receiver<Arc<Event>>,
    metrics: Option<Metrics>,
    spans: Option<SpanSender>,
) {
    let mut sent = Sent::default();
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        };
        match &*event {
            Event::Published(p) => {
                if let Some(m) = &metrics {
                    m.published(&p.topic, &p.by, true);
                }
                if let Some(s) = &spans {
                    published(s, &mut sent, p);
                }
            }
            Event::PublishFailed { topic, by, .. } => {
                if let Some(m) = &metrics {
                    m.published(topic, by, false);
                }
            }
            Event::Delivery(d) if d.outcome != Outcome::Abandoned => {
                if let Some(m) = &metrics {
                    m.consumed(d);
                }
                if let Some(s) = &spans {
                    delivered(s, &mut sent, d);
                }
            }
            _ => {}
        }
    }
}

fn published(spans: &SpanSender, sent: &mut Sent, p: &Published) {
    if !sent.insert(publish_span_id(&p.topic, p.partition, p.offset)) {
        return;
    }
    let now = SystemTime::now();
    let start = parse_time(Some(&p.created_at)).unwrap_or(now);
    spans.send(publish_span(
        &p.request_key,
        &p.topic,
        p.partition,
        p.offset,
        Some(&p.by),
        (start, now.max(start)),
    ));
}

fn delivered(spans: &SpanSender, sent: &mut Sent, d: &Delivery) {
    let Some(key) = d.request_key.as_deref() else {
        return;
    };
    let now = SystemTime::now();
    let parent = publish_span_id(&d.topic, d.partition, d.offset);
    // A publish the runner did not make: its span from its headers.
    if sent.insert(parent) {
        let at = parse_time(d.published_at.as_deref()).unwrap_or(now);
        spans.send(publish_span(
            key,
            &d.topic,
            d.partition,
            d.offset,
            d.published_by.as_deref(),
            (at, at),
        ));
    }
    let start = now - Duration::from_millis(d.ms);
    let mut attributes = vec![
        KeyValue::new(REQUEST_KEY, key.to_string()),
        KeyValue::new("messaging.system", "kafka"),
        KeyValue::new("messaging.operation.type", "process"),
        KeyValue::new("messaging.destination.name", d.topic.clone()),
        KeyValue::new(
            "messaging.destination.partition.id",
            d.partition.to_string(),
        ),
        KeyValue::new("messaging.kafka.offset", d.offset),
        KeyValue::new("messaging.consumer.group.name", d.subscription.clone()),
        KeyValue::new(TOPIC_REF, d.topic.clone()),
        KeyValue::new(SUBSCRIPTION_REF, d.subscription.clone()),
        KeyValue::new("ftl.verb", d.verb.clone()),
        KeyValue::new("ftl.attempt", i64::from(d.attempt)),
        KeyValue::new("ftl.outcome", format!("{:?}", d.outcome).to_lowercase()),
        KeyValue::new(OUTCOME, status(d.outcome == Outcome::Ok)),
    ];
    if let Some(ms) = d.since_published_ms {
        attributes.push(KeyValue::new(
            "ftl.pubsub.time_since_published_ms",
            ms as i64,
        ));
    }
    let status = match &d.error {
        Some(e) => Status::error(e.clone()),
        None => Status::Ok,
    };
    spans.send(span(
        key,
        (delivery_span_id(d), parent),
        SpanKind::Consumer,
        format!("deliver {}", d.subscription),
        (start, now),
        attributes,
        status,
    ));
}

enum Command {
    Span(Box<SpanData>),
    Flush(oneshot::Sender<()>),
}

/// Where spans go to be batched and exported.
#[derive(Clone)]
pub struct SpanSender(mpsc::Sender<Command>);

impl SpanSender {
    /// Offers a span; one that finds the queue full is dropped (the
    /// collector is slow or gone: the runner never waits for it).
    fn send(&self, span: SpanData) {
        let _ = self.0.try_send(Command::Span(Box::new(span)));
    }

    /// Exports what is queued (at most 5 s).
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.0.send(Command::Flush(tx)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), rx).await;
        }
    }
}

/// Spans queued before they are dropped; a batch is sent when this many
/// wait or every second.
const QUEUE: usize = 4_096;
const BATCH: usize = 512;

pub fn spawn_span_exporter(
    mut exporter: opentelemetry_otlp::SpanExporter,
    resource: Resource,
) -> SpanSender {
    exporter.set_resource(&resource);
    let (tx, mut rx) = mpsc::channel::<Command>(QUEUE);
    tokio::spawn(async move {
        let mut batch: Vec<SpanData> = Vec::new();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let flush = tokio::select! {
                c = rx.recv() => match c {
                    Some(Command::Span(s)) => {
                        batch.push(*s);
                        if batch.len() < BATCH {
                            continue;
                        }
                        None
                    }
                    Some(Command::Flush(done)) => Some(done),
                    None => return,
                },
                _ = tick.tick() => None,
            };
            if !batch.is_empty() {
                if let Err(e) = exporter.export(std::mem::take(&mut batch)).await {
                    tracing::debug!("OpenTelemetry: spans not exported: {e}");
                }
            }
            if let Some(done) = flush {
                let _ = done.send(());
            }
        }
    });
    SpanSender(tx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_since_published_is_bucketed_as_ftl_does() {
        let cases = [
            (0, "<1"),
            (1, "<256"),
            (255, "<256"),
            (256, "[256,1024)"),
            (1023, "[256,1024)"),
            (1024, "[1024,4096)"),
            (4095, "[1024,4096)"),
            (4096, ">=4096"),
            (99_999, ">=4096"),
        ];
        for (ms, want) in cases {
            assert_eq!(bucket(ms), want, "{ms}");
        }
    }

    #[test]
    fn a_delivery_span_is_a_child_of_its_publish_in_the_requests_trace() {
        let d = match crate::events::delivery(Outcome::Ok) {
            Event::Delivery(d) => d,
            _ => unreachable!(),
        };
        assert_eq!(trace_id("req-a"), trace_id("req-a"));
        assert_ne!(trace_id("req-a"), trace_id("req-b"));
        let parent = publish_span_id(&d.topic, d.partition, d.offset);
        assert_ne!(parent, delivery_span_id(&d));
        let second = Delivery {
            attempt: 2,
            ..d.clone()
        };
        assert_ne!(delivery_span_id(&d), delivery_span_id(&second));
        assert_eq!(module_of("shop.orders"), "shop");
    }
}
