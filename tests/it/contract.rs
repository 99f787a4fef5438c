//! The `ftl dev --json` stream is a contract (README, "ftl dev --json"):
//! fields are added, never renamed or removed. Its shape (each event type's
//! field names, in order, and the kind of each value) is kept in a
//! snapshot, so a change to it shows in review instead of breaking a
//! program that reads the stream.

use std::collections::BTreeMap;
use std::time::Duration;

use ftl::events::{Delivery, Outcome, PartitionMove, Severity, StopReason};
use serde_json::{json, Map, Value};

use crate::harness::{on, require_docker, Event, Project, VerbServer};

/// A value's kind in place of the value: `"string"`, `"integer"`, ...; an
/// array as the kind of its items; an object field by field.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!("integer"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => json!([items.first().map(shape).unwrap_or(json!("any"))]),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// One event of every type, every optional field given. The match has no
/// wildcard: a new event type does not compile until it has a sample here
/// (and so a line in the snapshot).
fn samples() -> Vec<Event> {
    let s = || "shop.s".to_string();
    let delivery = Delivery {
        subscription: s(),
        topic: "shop.t".into(),
        partition: 0,
        offset: 7,
        key: Some("k".into()),
        verb: "v".into(),
        attempt: 2,
        ms: 3,
        outcome: Outcome::Retry,
        error: Some("HTTP 500".into()),
        retry_in_ms: Some(100),
        deadletter_topic: Some("shop.sFailed".into()),
        output: Some("cooked".into()),
        request_key: Some("req-ingress-shop-t-1".into()),
        published_at: Some("2026-12-05T17:00:00.000000001Z".into()),
        since_published_ms: Some(5),
        published_by: Some("cli".into()),
    };
    let all = vec![
        Event::Starting {
            project: "p".into(),
            modules: 1,
            topics: 1,
            subscriptions: 1,
        },
        Event::BrokerReady {
            kind: "tansu".into(),
            address: "127.0.0.1:1".into(),
            container: Some("ftl-p-broker".into()),
            how: "created".into(),
            ms: 1,
        },
        Event::ImagePulling { image: "i".into() },
        Event::ImageLayer {
            image: "i".into(),
            layer: "l".into(),
            status: "Downloading".into(),
            current: Some(1),
            total: Some(2),
        },
        Event::ImagePulled {
            image: "i".into(),
            ms: 1,
        },
        Event::BrokerContainer {
            container: "ftl-p-broker".into(),
            kind: "tansu".into(),
            image: "i".into(),
            how: "created".into(),
        },
        Event::BrokerKindMismatch {
            container: "ftl-p-broker".into(),
            running: "tansu".into(),
            asked: "redpanda".into(),
        },
        Event::BrokerWaiting {
            container: "ftl-p-broker".into(),
            kind: "tansu".into(),
            address: "127.0.0.1:1".into(),
            how: "created".into(),
        },
        Event::TopicCreated {
            topic: "shop.t".into(),
            partitions: 1,
        },
        Event::TopicGrown {
            topic: "shop.t".into(),
            from: 1,
            to: 2,
        },
        Event::TopicProblem {
            topic: "shop.t".into(),
            severity: Severity::Warning,
            message: "m".into(),
            hint: Some("h".into()),
        },
        Event::Listening {
            address: "127.0.0.1:1".into(),
        },
        Event::ListenFailed {
            address: "127.0.0.1:1".into(),
            reason: "r".into(),
        },
        Event::ConsumerStarting {
            subscription: s(),
            topic: "shop.t".into(),
            group: s(),
            verb: "v".into(),
        },
        Event::ConsumerStarted { subscription: s() },
        Event::ConsumerFailed {
            subscription: s(),
            reason: "r".into(),
            hint: Some("h".into()),
        },
        Event::ConsumerStopped {
            subscription: s(),
            why: StopReason::Changed,
        },
        Event::PartitionsAssigned {
            subscription: s(),
            partitions: vec![0],
        },
        Event::PartitionsRevoked {
            subscription: s(),
            partitions: vec![0],
        },
        Event::VerbWaiting {
            subscription: s(),
            verb: "v".into(),
            address: "127.0.0.1:1".into(),
            reason: "r".into(),
        },
        Event::VerbReady {
            subscription: s(),
            verb: "v".into(),
            address: "127.0.0.1:1".into(),
        },
        Event::Delivery(delivery),
        Event::Published(ftl::events::Published {
            topic: "shop.sFailed".into(),
            partition: 0,
            offset: 1,
            key: Some("k".into()),
            request_key: "req-ingress-shop-t-1".into(),
            created_at: "2026-12-05T17:00:00.000000001Z".into(),
            by: "deadletter".into(),
            failed: Some(ftl::events::Source {
                subscription: s(),
                topic: "shop.t".into(),
                partition: 0,
                offset: 7,
            }),
        }),
        Event::PublishFailed {
            topic: "shop.t".into(),
            request_key: "req-ingress-shop-t-2".into(),
            by: "http".into(),
            error: "e".into(),
        },
        Event::ReplayStarted {
            subscription: s(),
            from: "beginning".into(),
        },
        Event::ReplayDone {
            subscription: s(),
            redelivered: 1,
            partitions: vec![PartitionMove {
                partition: 0,
                offset: 0,
                end: 1,
            }],
        },
        Event::ReplayFailed {
            subscription: s(),
            reason: "r".into(),
        },
        Event::DeadletterReplayDone {
            subscription: s(),
            ok: 1,
            failed: 0,
        },
        Event::StartedOver {
            subscription: s(),
            topic: "shop.t".into(),
            partitions: vec![0],
        },
        Event::BrokerLost {
            address: "127.0.0.1:1".into(),
            reason: "r".into(),
        },
        Event::BrokerRegained {
            address: "127.0.0.1:1".into(),
            down_ms: 1,
        },
        Event::TopicRecreated {
            topic: "m.t".into(),
            had: 4,
            partitions: 8,
        },
        Event::BrokerPaused {
            address: "127.0.0.1:1".into(),
        },
        Event::BrokerUnpaused {
            address: "127.0.0.1:1".into(),
            paused_ms: 1,
        },
        Event::BrokerMoved {
            from: "127.0.0.1:1".into(),
            address: "127.0.0.1:2".into(),
        },
        Event::ReloadApplied {
            started: vec![s()],
            restarted: vec![s()],
            stopped: vec![s()],
            failed: vec![s()],
        },
        Event::TypeChanged {
            topic: "shop.t".into(),
            ty: "shop.Order".into(),
            read: 1,
            invalid: 1,
            first: vec!["0@0: /id: missing".into()],
            complete: true,
        },
        Event::ReloadRejected {
            problems: "p".into(),
            running: 1,
        },
        Event::ReloadValid {
            changed: false,
            running: 1,
        },
        Event::Ready {
            subscriptions: 1,
            listen: Some("127.0.0.1:1".into()),
            console: Some("http://127.0.0.1:1/".into()),
            watching: ".".into(),
        },
        Event::Stopping,
        Event::Abandoned {
            subscription: s(),
            grace_ms: 1,
        },
        Event::Stopped,
        Event::Lagged { missed: 1 },
    ];
    // Every type once: the match below lists them all.
    for e in &all {
        match e {
            Event::Starting { .. }
            | Event::BrokerReady { .. }
            | Event::ImagePulling { .. }
            | Event::ImageLayer { .. }
            | Event::ImagePulled { .. }
            | Event::BrokerContainer { .. }
            | Event::BrokerKindMismatch { .. }
            | Event::BrokerWaiting { .. }
            | Event::TopicCreated { .. }
            | Event::TopicGrown { .. }
            | Event::TopicProblem { .. }
            | Event::Listening { .. }
            | Event::ListenFailed { .. }
            | Event::ConsumerStarting { .. }
            | Event::ConsumerStarted { .. }
            | Event::ConsumerFailed { .. }
            | Event::ConsumerStopped { .. }
            | Event::PartitionsAssigned { .. }
            | Event::PartitionsRevoked { .. }
            | Event::VerbWaiting { .. }
            | Event::VerbReady { .. }
            | Event::Delivery(_)
            | Event::Published(_)
            | Event::PublishFailed { .. }
            | Event::ReplayStarted { .. }
            | Event::ReplayDone { .. }
            | Event::ReplayFailed { .. }
            | Event::DeadletterReplayDone { .. }
            | Event::StartedOver { .. }
            | Event::BrokerLost { .. }
            | Event::BrokerRegained { .. }
            | Event::TopicRecreated { .. }
            | Event::BrokerPaused { .. }
            | Event::BrokerUnpaused { .. }
            | Event::BrokerMoved { .. }
            | Event::ReloadApplied { .. }
            | Event::TypeChanged { .. }
            | Event::ReloadRejected { .. }
            | Event::ReloadValid { .. }
            | Event::Ready { .. }
            | Event::Stopping
            | Event::Abandoned { .. }
            | Event::Stopped
            | Event::Lagged { .. } => {}
        }
    }
    all
}

/// Each event type's shape, by its `type`.
fn shapes(events: impl IntoIterator<Item = Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for e in events {
        let kind = e["type"].as_str().expect("a type").to_string();
        out.insert(kind, shape(&e));
    }
    out
}

#[test]
fn the_json_stream_keeps_the_shape_of_every_event_type() {
    let expected = shapes(
        samples()
            .iter()
            .map(|e| serde_json::to_value(e).expect("an event serializes")),
    );
    let text: String = expected
        .iter()
        .map(|(kind, shape)| format!("{kind}: {shape}\n"))
        .collect();
    insta::assert_snapshot!(text);

    // What a real `ftl dev --json` writes has those shapes: a retried, a
    // delivered and a dead-lettered event, a reload, a stop.
    require_docker();
    let server = VerbServer::warming_up_refusing_bad();
    let p = Project::single_subscription(
        &server.url("/v"),
        "",
        "deadletter: true, retry: {count: 2, min_backoff: 100ms, max_backoff: 100ms}",
    );
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    p.kafka().produce(
        "shop.t",
        &[
            (Some("k1"), "{\"id\":1}".into()),
            (Some("k2"), "{\"id\":\"bad\"}".into()),
        ],
    );
    dev.wait(
        on!(Event::Delivery(d) if d.outcome == Outcome::DeadLettered),
        Duration::from_secs(30),
    );
    p.module("shop")
        .http_verb("v", &server.url("/v"))
        .topic("t", "")
        .subscription("s", "topic: t, verb: v, deadletter: true")
        .write();
    dev.wait(on!(Event::ReloadApplied { .. }), Duration::from_secs(30));
    let written = dev.json();
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
    for e in &written {
        let kind = e["type"].as_str().expect("a type");
        let want = &expected[kind];
        let got = shape(e);
        // Optional fields may be absent; what is there is as expected,
        // in the same order.
        let (Value::Object(got), Value::Object(want)) = (&got, want) else {
            panic!("{kind}: not an object: {e}");
        };
        let order: Vec<&String> = want.keys().filter(|k| got.contains_key(*k)).collect();
        assert_eq!(got.keys().collect::<Vec<_>>(), order, "{kind}: {e}");
        for (k, v) in got {
            // An empty array has no item to show its kind; an absent
            // optional value is null.
            let fits = v == &want[k] || v == "null" || (v == &json!(["any"]) && want[k].is_array());
            assert!(
                fits,
                "{kind}.{k} is {v}, the contract says {}: {e}",
                want[k]
            );
        }
    }
}
