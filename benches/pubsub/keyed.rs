//! Key-ordered concurrency against one event at a time per partition, with
//! a verb that takes 10 ms (a database write, a call to another service);
//! and one `ftl pubsub publish` on a broker of 1,500 topics against 10.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

use crate::harness::unique;
use crate::table::{median, row, Better, Row, Target};
use crate::{ftl_run, loops, module, Ctx};

/// Events of the 10 ms rows (each per-partition run takes ~25 s).
const EVENTS: usize = 20_000;
/// Topics on the broker for the second publish row.
const MANY_TOPICS: usize = 1_500;

/// `n` events of about 1 KB keyed over `keys` keys.
fn events(n: usize, keys: usize) -> Vec<(Option<String>, String)> {
    let pad = "x".repeat(960);
    (0..n)
        .map(|i| {
            let k = format!("k{}", i % keys);
            let v = format!("{{\"k\":\"{k}\",\"id\":{i},\"pad\":\"{pad}\"}}");
            (Some(k), v)
        })
        .collect()
}

pub fn run(c: &Ctx, rows: &mut Vec<Row>) {
    if !c.wanted("keys") {
        return;
    }
    let (p, sink, plan) = (c.p, c.sink, c.plan);
    let n = if c.n < 10_000 { c.n } else { EVENTS };
    let t = Instant::now();
    std::thread::scope(|s| {
        for (topic, keys) in [("bench.k256", 256), ("bench.k8", 8)] {
            s.spawn(move || {
                let evs = events(n, keys);
                let refs: Vec<(Option<&str>, String)> =
                    evs.iter().map(|(k, v)| (k.as_deref(), v.clone())).collect();
                p.kafka().produce(topic, &refs);
            });
        }
    });
    eprintln!(
        "produced the keyed events in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let verbs = format!("  slow: {{http: \"{}\"}}\n", sink.slow_url());
    for (topic, keys) in [("k256", 256), ("k8", 8)] {
        let (mut per_key, mut per_partition, mut raw) = (vec![], vec![], vec![]);
        for rep in 0..plan.reps {
            let key_sub = format!(
                "  {topic}key{rep}: {{topic: {topic}, verb: slow, concurrency: {{per: key, max: 32}}}}\n"
            );
            let part_sub = format!("  {topic}part{rep}: {{topic: {topic}, verb: slow}}\n");
            per_key.push(ftl_run(p, sink, &module(sink, &verbs, &key_sub), n, false));
            per_partition.push(ftl_run(p, sink, &module(sink, &verbs, &part_sub), n, false));
            if keys == 256 {
                let g = vec![unique("raw")];
                let secs = loops::http_loop(
                    &c.bootstrap,
                    &format!("bench.{topic}"),
                    &g,
                    &sink.slow_url(),
                    n,
                )
                .secs;
                raw.push(n as f64 / secs);
            }
            eprintln!(
                "  10 ms verb, {keys} keys rep {rep}: per key {:.0}/s, per partition {:.0}/s{}",
                per_key.last().unwrap(),
                per_partition.last().unwrap(),
                raw.last()
                    .map(|r| format!(", hand-written one at a time per partition {r:.0}/s"))
                    .unwrap_or_default()
            );
        }
        rows.push(row(
            format!("10 ms verb, 8 partitions, {keys} keys, {n} events: `per: key, max: 32` (baseline: `per: partition`)"),
            "ev/s",
            Better::Higher,
            per_key.clone(),
            Some(per_partition),
            if keys == 256 {
                Target::Ratio(10.0)
            } else {
                Target::Reported
            },
        ));
        if keys == 256 {
            rows.push(row(
                "same, baseline: a hand-written runner, one event at a time per partition".into(),
                "ev/s",
                Better::Higher,
                per_key,
                Some(raw),
                Target::Reported,
            ));
        }
    }
}

/// One `ftl pubsub publish` of one event, with the broker holding the
/// project's topics, then with 1,500 more. Runs last: the topics stay.
pub fn many_topics(c: &Ctx, rows: &mut Vec<Row>) {
    if !c.wanted("manytopics") {
        return;
    }
    let (p, plan) = (c.p, c.plan);
    p.write("bench/ftl.yaml", &module(c.sink, "", ""));
    let samples = if plan.reps == 1 { 5 } else { 15 };
    let publish = || -> Vec<f64> {
        (0..samples)
            .map(|_| {
                let t = Instant::now();
                let out = p
                    .cmd()
                    .args([
                        "-q",
                        "pubsub",
                        "publish",
                        "bench.pub",
                        r#"{"k":"a","id":1}"#,
                    ])
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect()
    };
    let few = publish();
    let before = p.kafka().topic_names().len();
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &c.bootstrap)
        .set("broker.address.family", "v4")
        .create()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let t = Instant::now();
    let names: Vec<String> = (before..MANY_TOPICS)
        .map(|i| format!("extra.t{i}"))
        .collect();
    for chunk in names.chunks(100) {
        let topics: Vec<NewTopic> = chunk
            .iter()
            .map(|n| NewTopic::new(n, 1, TopicReplication::Fixed(1)))
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(60)));
        rt.block_on(admin.create_topics(&topics, &opts)).unwrap();
    }
    let after = p.kafka().topic_names().len();
    eprintln!(
        "  created {} topics in {:.1}s: {before} → {after}",
        names.len(),
        t.elapsed().as_secs_f64()
    );
    let many = publish();
    eprintln!(
        "  publish one event: {:.1} ms with {before} topics, {:.1} ms with {after}",
        median(&few),
        median(&many)
    );
    rows.push(row(
        format!("one `ftl pubsub publish`, broker of {after} topics (baseline: of {before})"),
        "ms",
        Better::Lower,
        many,
        Some(few),
        Target::WithinOf(5.0),
    ));
}
