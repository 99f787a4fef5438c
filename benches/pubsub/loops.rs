//! The hand-written baselines: what a developer would write with the same
//! libraries and no `ftl`, each doing exactly the work `ftl` does for the
//! figure it is compared with. Kafka clients get `ftl`'s own settings
//! (`ftl::kafka::Connection`), so a difference is the code's, not the
//! configuration's.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ftl::kafka::Connection;
use ftl::schema::{Batch, BrokerKind, StartFrom};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use tokio::sync::mpsc;

pub fn connection(bootstrap: &str) -> Connection {
    Connection {
        bootstrap: bootstrap.to_string(),
        properties: BTreeMap::new(),
        kind: BrokerKind::Tansu,
    }
}

/// Events per second from the first event received to the last verb call
/// answered.
pub struct Run {
    pub secs: f64,
    /// This process's CPU and context switches over the same time, per
    /// 100,000 events (meaningful when the loop runs in a process of its
    /// own: [`http_loop_process`]).
    pub cost: crate::usage::Cost,
}

/// [`http_loop`] with one group, in a process of its own (this benchmark
/// started again with `FTL_BENCH_CHILD=http_loop`), so its CPU time and
/// context switches are the loop's alone, as `ftl dev`'s are the runner's.
pub fn http_loop_process(bootstrap: &str, topic: &str, group: &str, url: &str, n: usize) -> Run {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .env("FTL_BENCH_CHILD", "http_loop")
        .env(
            "FTL_BENCH_CHILD_ARGS",
            [bootstrap, topic, group, url, &n.to_string()].join("\t"),
        )
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the hand-written runner's process failed"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("the hand-written runner printed {line:?}: {e}"));
    Run {
        secs: v["secs"].as_f64().unwrap(),
        cost: crate::usage::Cost {
            cpu_s: v["cpu_s"].as_f64().unwrap(),
            switches: v["switches"].as_f64().unwrap(),
        },
    }
}

/// The child's side of [`http_loop_process`]: runs the loop, prints its
/// figures as one JSON line.
pub fn http_loop_child() {
    let args = std::env::var("FTL_BENCH_CHILD_ARGS").unwrap();
    let a: Vec<&str> = args.split('\t').collect();
    let n: usize = a[4].parse().unwrap();
    let run = http_loop(a[0], a[1], &[a[2].to_string()], a[3], n);
    println!(
        "{}",
        serde_json::json!({"secs": run.secs, "cpu_s": run.cost.cpu_s, "switches": run.cost.switches})
    );
}

/// A raw consumer group with the runner's fetch settings; one task per
/// partition making the same HTTP call with reqwest, pooled as the
/// runner's client is (`FTL_BENCH_LOOP_CLIENT=ftl`: through the runner's
/// own call instead); the offset after each answered call stored, committed
/// asynchronously every 5 s and at the end. Several `groups` on one topic
/// run side by side in one runtime (the subscriptions-per-topic rows).
pub fn http_loop(bootstrap: &str, topic: &str, groups: &[String], url: &str, n: usize) -> Run {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::builder()
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()
            .unwrap();
        let first: Arc<Mutex<Option<(Instant, crate::usage::Usage)>>> = Arc::default();
        let mut loops = Vec::new();
        for g in groups {
            let (http, first, url) = (http.clone(), first.clone(), url.to_string());
            let config = connection(bootstrap).group_consumer_config(
                g,
                StartFrom::Beginning,
                &Batch::default(),
                &BTreeMap::new(),
            );
            let (topic, g) = (topic.to_string(), g.clone());
            loops.push(tokio::spawn(async move {
                let consumer: Arc<StreamConsumer> = Arc::new(config.create().unwrap());
                consumer.subscribe(&[&topic]).unwrap();
                one_group(consumer, &topic, &g, http, &url, n, first).await
            }));
        }
        let mut last = Instant::now();
        for l in loops {
            last = last.max(l.await.unwrap());
        }
        let end = crate::usage::of("self");
        let (first, at_first) = first.lock().unwrap().unwrap();
        Run {
            secs: (last - first).as_secs_f64(),
            cost: crate::usage::per_100k(at_first, end, n * groups.len()),
        }
    })
}

async fn one_group(
    consumer: Arc<StreamConsumer>,
    topic: &str,
    group: &str,
    http: reqwest::Client,
    url: &str,
    n: usize,
    first: Arc<Mutex<Option<(Instant, crate::usage::Usage)>>>,
) -> Instant {
    let done = Arc::new(AtomicUsize::new(0));
    let stored: Arc<Mutex<HashMap<i32, i64>>> = Arc::default();
    let (finished_tx, mut finished) = mpsc::channel::<Instant>(1);
    let mut workers: HashMap<i32, mpsc::Sender<(i64, String, Vec<u8>)>> = HashMap::new();
    let mut commit = tokio::time::interval(Duration::from_secs(5));
    // Not what a developer would write (reqwest), but the runner's own HTTP
    // call: to tell the runner's cost from its HTTP client's.
    let same_client = std::env::var("FTL_BENCH_LOOP_CLIENT").as_deref() == Ok("ftl");
    let commit_now = |c: &StreamConsumer, mode: CommitMode| {
        let mut tpl = TopicPartitionList::new();
        for (p, o) in stored.lock().unwrap().iter() {
            tpl.add_partition_offset(topic, *p, Offset::Offset(*o))
                .unwrap();
        }
        if tpl.count() > 0 {
            let _ = c.commit(&tpl, mode);
        }
    };
    let last = loop {
        tokio::select! {
            m = consumer.recv() => {
                let m = m.unwrap();
                first
                    .lock()
                    .unwrap()
                    .get_or_insert_with(|| (Instant::now(), crate::usage::of("self")));
                let p = m.partition();
                let tx = workers.entry(p).or_insert_with(|| {
                    let (tx, mut rx) = mpsc::channel::<(i64, String, Vec<u8>)>(4096);
                    let (http, url, done, stored, finished) =
                        (http.clone(), url.to_string(), done.clone(), stored.clone(), finished_tx.clone());
                    let (topic, group) = (topic.to_string(), group.to_string());
                    let verb_client = same_client.then(|| {
                        let url = ftl::schema::HttpUrl::parse(&url).unwrap();
                        let verb = ftl::schema::Verb {
                            module: "bench".into(),
                            name: "v".into(),
                            call: ftl::schema::VerbCall::Http(url),
                            timeout: Duration::from_secs(30),
                            env: Default::default(),
                        };
                        (verb, ftl::runner::verb::VerbClient::new())
                    });
                    tokio::spawn(async move {
                        while let Some((offset, key, body)) = rx.recv().await {
                            if let Some((verb, client)) = &verb_client {
                                // `FTL_BENCH_LOOP_CLIENT=ftl`: the same
                                // request through the runner's own HTTP call.
                                let body = bytes::Bytes::from(body);
                                let d = ftl::runner::verb::Invocation {
                                    topic: &topic,
                                    subscription: &group,
                                    partition: p,
                                    offset,
                                    key: Some(key.as_bytes()),
                                    attempt: 1,
                                    body: &body,
                                    request_key: "",
                                };
                                ftl::runner::verb::call(verb, std::path::Path::new("."), client, &d)
                                    .await
                                    .unwrap();
                            } else {
                                // What the runner sends: the delivery's facts
                                // as headers, and a timeout per call.
                                let r = http
                                    .post(&url)
                                    .timeout(Duration::from_secs(30))
                                    .header("Content-Type", "application/json")
                                    .header("Ftl-Topic", topic.as_str())
                                    .header("Ftl-Subscription", group.as_str())
                                    .header("Ftl-Partition", p.to_string())
                                    .header("Ftl-Offset", offset.to_string())
                                    .header("Ftl-Key", key)
                                    .header("Ftl-Attempt", "1")
                                    .body(body)
                                    .send()
                                    .await
                                    .unwrap();
                                assert!(r.status().is_success());
                                let _ = r.bytes().await;
                            }
                            stored.lock().unwrap().insert(p, offset + 1);
                            if done.fetch_add(1, Ordering::SeqCst) + 1 == n {
                                let _ = finished.send(Instant::now()).await;
                            }
                        }
                    });
                    tx
                });
                let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
                tx.send((m.offset(), key, m.payload().unwrap_or_default().to_vec())).await.unwrap();
            }
            _ = commit.tick() => commit_now(&consumer, CommitMode::Async),
            at = finished.recv() => break at.unwrap(),
        }
    };
    commit_now(&consumer, CommitMode::Sync);
    last
}

/// `n` runs of `true`, 8 at a time (the runner calls an exec verb for 8
/// partitions at once): spawned, waited for, its output collected.
pub fn spawn_loop(n: usize, parallel: usize) -> f64 {
    let started = Instant::now();
    let threads: Vec<_> = (0..parallel)
        .map(|i| {
            let count = n / parallel + usize::from(i < n % parallel);
            std::thread::spawn(move || {
                for _ in 0..count {
                    let out = std::process::Command::new("true").output().unwrap();
                    assert!(out.status.success());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    started.elapsed().as_secs_f64()
}

/// Reads every partition of `topic` from the beginning to its end by
/// assignment and writes each event as `tail --json` does, to /dev/null.
pub fn raw_tail(bootstrap: &str, topic: &str) -> (f64, usize) {
    let started = Instant::now();
    let c: ftl::kafka::Reader = connection(bootstrap).reader("bench").unwrap();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let parts: Vec<i32> = md.topics()[0].partitions().iter().map(|p| p.id()).collect();
    let mut tpl = TopicPartitionList::new();
    let mut ends = HashMap::new();
    for p in &parts {
        let (low, high) = c
            .fetch_watermarks(topic, *p, Duration::from_secs(10))
            .unwrap();
        if high > low {
            ends.insert(*p, high);
            tpl.add_partition_offset(topic, *p, Offset::Offset(low))
                .unwrap();
        }
    }
    c.assign(&tpl).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create("/dev/null").unwrap());
    let mut n = 0;
    while !ends.is_empty() {
        let m = match c.poll(Duration::from_millis(200)) {
            None | Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) => continue,
            Some(m) => m.unwrap(),
        };
        let payload = m.payload().unwrap_or_default();
        let event: serde_json::Value = serde_json::from_slice(payload).unwrap();
        let ts = m.timestamp().to_millis();
        let mut headers = BTreeMap::new();
        if let Some(h) = m.headers() {
            for x in h.iter() {
                headers.insert(
                    x.key.to_string(),
                    String::from_utf8_lossy(x.value.unwrap_or_default()).into_owned(),
                );
            }
        }
        let line = serde_json::json!({
            "topic": m.topic(),
            "partition": m.partition(),
            "offset": m.offset(),
            "timestamp": ts,
            "time": ts.map(|ms| humantime::format_rfc3339_millis(std::time::UNIX_EPOCH + Duration::from_millis(ms as u64)).to_string()),
            "key": m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
            "headers": headers,
            "event": event,
        });
        serde_json::to_writer(&mut out, &line).unwrap();
        out.write_all(b"\n").unwrap();
        n += 1;
        if ends.get(&m.partition()) == Some(&(m.offset() + 1)) {
            ends.remove(&m.partition());
        }
    }
    out.flush().unwrap();
    (started.elapsed().as_secs_f64(), n)
}

/// Publishes `lines` (key, JSON) with `ftl`'s producer settings (acks=all,
/// idempotent, one record per batch on the test broker), 1,000 in flight,
/// then waits for every acknowledgement.
pub fn raw_publish(bootstrap: &str, topic: &str, lines: &[(String, String)]) -> f64 {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let started = Instant::now();
        let p: FutureProducer = connection(bootstrap).producer().unwrap();
        let mut acks: std::collections::VecDeque<rdkafka::producer::DeliveryFuture> =
            std::collections::VecDeque::with_capacity(1000);
        for (k, v) in lines {
            // At most 1,000 unacknowledged, as `ftl pubsub publish -` does
            // (all at once, one-record batches time out in the queue).
            if acks.len() >= 1000 {
                acks.pop_front().unwrap().await.unwrap().unwrap();
            }
            let mut record = FutureRecord::to(topic).key(k).payload(v);
            loop {
                match p.send_result(record) {
                    Ok(ack) => {
                        acks.push_back(ack);
                        break;
                    }
                    // The client's queue is full: wait for the oldest ack.
                    Err((_, r)) => {
                        record = r;
                        acks.pop_front().unwrap().await.unwrap().unwrap();
                    }
                }
            }
        }
        for a in acks {
            a.await.unwrap().unwrap();
        }
        let secs = started.elapsed().as_secs_f64();
        std::thread::spawn(move || drop(p));
        secs
    })
}

/// `clients` tasks each publishing `each` events one after another through
/// one raw producer, as the Publisher does for its callers: events/s and
/// every publish→ack time in ms.
pub fn raw_acks(bootstrap: &str, topic: &str, clients: usize, each: usize) -> (f64, Vec<f64>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let p: FutureProducer = connection(bootstrap).producer().unwrap();
        // Warm: the producer id and metadata.
        p.send(
            FutureRecord::to(topic).key("w").payload("{\"k\":\"w\"}"),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        let started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|c| {
                let p = p.clone();
                let topic = topic.to_string();
                tokio::spawn(async move {
                    let mut lat = Vec::with_capacity(each);
                    for i in 0..each {
                        let key = format!("c{c}-{}", i % 16);
                        let body = format!("{{\"k\":\"{key}\",\"i\":{i}}}");
                        let t = Instant::now();
                        p.send(
                            FutureRecord::to(&topic).key(&key).payload(&body),
                            Duration::from_secs(10),
                        )
                        .await
                        .unwrap();
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    lat
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let rate = (clients * each) as f64 / started.elapsed().as_secs_f64();
        std::thread::spawn(move || drop(p));
        (rate, all)
    })
}

/// publish→poll times in ms on an idle topic for a raw consumer with the
/// runner's fetch settings at `max_wait: 10ms`, reading by assignment.
pub fn raw_latency(bootstrap: &str, topic: &str, samples: usize) -> Vec<f64> {
    let batch = Batch {
        max_wait: Duration::from_millis(10),
        ..Batch::default()
    };
    let c: BaseConsumer = connection(bootstrap)
        .group_consumer_config("bench.rawlat", StartFrom::Latest, &batch, &BTreeMap::new())
        .create()
        .unwrap();
    let (_, high) = c
        .fetch_watermarks(topic, 0, Duration::from_secs(5))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(high))
        .unwrap();
    c.assign(&tpl).unwrap();
    let _ = c.poll(Duration::from_secs(1));
    let producer: rdkafka::producer::BaseProducer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "0")
        .set("batch.num.messages", "1")
        .set("acks", "all")
        .create()
        .unwrap();
    let mut lat = Vec::new();
    for i in 0..samples {
        let _ = c.poll(Duration::from_millis(20));
        let sent = Instant::now();
        let payload = format!("{{\"i\":{i}}}");
        producer
            .send(rdkafka::producer::BaseRecord::<str, str>::to(topic).payload(&payload))
            .map_err(|(e, _)| e)
            .unwrap();
        producer.poll(Duration::ZERO);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(Ok(_)) = c.poll(Duration::from_millis(500)) {
                lat.push(sent.elapsed().as_secs_f64() * 1000.0);
                break;
            }
        }
        assert_eq!(lat.len(), i + 1, "the raw consumer never saw event {i}");
    }
    lat
}
