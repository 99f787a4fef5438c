//! `cargo bench --bench pubsub`: the runner against a raw rdkafka consumer on
//! the same broker, in one run, printed as ratios against that baseline.
//! Needs the Docker Engine and the test broker image (built if missing), like
//! the integration tests.
//!
//! - throughput: a raw rdkafka consumer group reading N events (baseline),
//!   then `ftl dev` delivering the same N events to an HTTP verb on 8
//!   partitions;
//! - latency: publish → verb on an idle topic, p50 and p99;
//! - one `ftl pubsub publish`: the whole command, against a raw producer made
//!   for one acknowledged event;
//! - memory: resident size of `ftl dev` with 50 idle subscriptions.

#![allow(clippy::unwrap_used)]

#[path = "../tests/it/harness/mod.rs"]
#[allow(dead_code, unused_imports)]
mod harness;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ftl::ftl_proto::v1::verb_service_server::{VerbService, VerbServiceServer};
use ftl::ftl_proto::v1::{call_response, CallRequest, CallResponse, PingRequest, PingResponse};

/// A module server that answers every call at once, counting them.
struct Counting(Arc<AtomicUsize>);

#[tonic::async_trait]
impl VerbService for Counting {
    async fn ping(
        &self,
        _: tonic::Request<PingRequest>,
    ) -> Result<tonic::Response<PingResponse>, tonic::Status> {
        Ok(tonic::Response::new(PingResponse { not_ready: None }))
    }

    async fn call(
        &self,
        _: tonic::Request<CallRequest>,
    ) -> Result<tonic::Response<CallResponse>, tonic::Status> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(tonic::Response::new(CallResponse {
            response: Some(call_response::Response::Body(Vec::new())),
        }))
    }
}
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use harness::{require_docker, wait_until, Ev, Project, VerbServer};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::BaseRecord;
use rdkafka::Message;

const EVENTS: usize = 20_000;

fn now_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

fn quiet_dev(p: &Project) -> harness::Dev {
    let mut c = p.cmd();
    c.args(["-q", "dev"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    harness::Dev::spawn_command(c)
}

fn main() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = Project::new();
    p.write(
        "bench/ftl.yaml",
        &format!(
            "module: bench\nverbs:\n  v: {{http: \"{}\"}}\ntopics:\n  t: {{partitions: 8, key: /k}}\n  lat: {{}}\n",
            server.url("/v")
        ),
    );
    // Provision, then stop: the events are produced before anyone consumes.
    let dev = p.dev();
    dev.wait_ready();
    dev.stop();
    let kafka = p.kafka();
    let events: Vec<(String, String)> = (0..EVENTS)
        .map(|i| {
            (
                format!("k{}", i % 256),
                format!("{{\"k\":\"k{}\",\"id\":{i}}}", i % 256),
            )
        })
        .collect();
    kafka.produce(
        "bench.t",
        &events
            .iter()
            .map(|(k, v)| (Some(k.as_str()), v.clone()))
            .collect::<Vec<_>>(),
    );

    // Baseline: a raw rdkafka consumer group (manual commit at the end).
    let started = Instant::now();
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &kafka.bootstrap)
        .set("broker.address.family", "v4")
        .set("group.id", "bench.raw")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "2000")
        .set("heartbeat.interval.ms", "500")
        .create()
        .unwrap();
    c.subscribe(&["bench.t"]).unwrap();
    let mut n = 0;
    let mut first: Option<Instant> = None;
    while n < EVENTS {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(100)) {
            first.get_or_insert_with(Instant::now);
            std::hint::black_box(m.payload());
            n += 1;
        }
    }
    let raw_secs = first.unwrap().elapsed().as_secs_f64();
    let raw_rate = EVENTS as f64 / raw_secs;
    eprintln!(
        "raw consumer: join {:?}, {EVENTS} events in {raw_secs:.2}s",
        first.unwrap() - started
    );
    drop(c);

    // Baseline latency: a raw consumer reading the idle topic by assignment.
    let raw_lat = {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &kafka.bootstrap)
            .set("broker.address.family", "v4")
            .set("group.id", "bench.rawlat")
            .set("fetch.wait.max.ms", "10")
            .create()
            .unwrap();
        let (_, high) = c
            .fetch_watermarks("bench.lat", 0, Duration::from_secs(5))
            .unwrap();
        let mut tpl = rdkafka::TopicPartitionList::new();
        tpl.add_partition_offset("bench.lat", 0, rdkafka::Offset::Offset(high))
            .unwrap();
        c.assign(&tpl).unwrap();
        // Warm up: the first fetch resolves metadata.
        let _ = c.poll(Duration::from_secs(1));
        let producer = kafka.producer();
        let mut lat = Vec::new();
        for i in 0..100 {
            // Let the consumer sit in an idle fetch.
            let _ = c.poll(Duration::from_millis(100));
            let sent = now_us();
            let payload = format!("{{\"i\":{i}}}");
            producer
                .send(BaseRecord::<str, str>::to("bench.lat").payload(&payload))
                .map_err(|(e, _)| e)
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Some(Ok(_)) = c.poll(Duration::from_millis(500)) {
                    lat.push((now_us() - sent) as f64 / 1000.0);
                    break;
                }
            }
            assert_eq!(lat.len(), i + 1, "the raw consumer never saw event {i}");
        }
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        (lat[50], lat[99])
    };

    // The runner, HTTP verb, 8 partitions.
    p.write(
        "bench/ftl.yaml",
        &format!(
            "module: bench\nverbs:\n  v: {{http: \"{}\"}}\n  w: {{http: \"{}\"}}\ntopics:\n  t: {{partitions: 8, key: /k}}\n  lat: {{}}\nsubscriptions:\n  s: {{topic: t, verb: v}}\n  l: {{topic: lat, verb: w, from: latest, batch: {{max_wait: 10ms}}}}\n",
            server.url("/v"),
            server.url("/lat")
        ),
    );
    let dev = quiet_dev(&p);
    wait_until("the first delivery", Duration::from_secs(60), || {
        server.count() > 0
    });
    let first = Instant::now();
    wait_until("every event", Duration::from_secs(600), || {
        server.count() >= EVENTS
    });
    let runner_secs = first.elapsed().as_secs_f64();
    let runner_rate = EVENTS as f64 / runner_secs;
    let ids: HashSet<i64> = server
        .requests()
        .iter()
        .filter_map(|r| r.json()["id"].as_i64())
        .collect();
    assert_eq!(ids.len(), EVENTS);
    dev.stop();

    // The same events through a grpc verb (FTL's VerbService on a module
    // server answering at once), as a subscription of its own.
    let grpc_calls = Arc::new(AtomicUsize::new(0));
    let grpc_port = harness::free_port();
    let grpc_rt = tokio::runtime::Runtime::new().unwrap();
    grpc_rt.spawn({
        let calls = grpc_calls.clone();
        async move {
            tonic::transport::Server::builder()
                .add_service(VerbServiceServer::new(Counting(calls)))
                .serve(format!("127.0.0.1:{grpc_port}").parse().unwrap())
                .await
        }
    });
    p.write(
        "bench/ftl.yaml",
        &format!(
            "module: bench\nverbs:\n  v: {{http: \"{}\"}}\n  w: {{http: \"{}\"}}\n  g: {{grpc: \"http://127.0.0.1:{grpc_port}\"}}\ntopics:\n  t: {{partitions: 8, key: /k}}\n  lat: {{}}\nsubscriptions:\n  g: {{topic: t, verb: g}}\n  l: {{topic: lat, verb: w, from: latest, batch: {{max_wait: 10ms}}}}\n",
            server.url("/v"),
            server.url("/lat")
        ),
    );
    let dev = quiet_dev(&p);
    wait_until("the first grpc call", Duration::from_secs(60), || {
        grpc_calls.load(Ordering::SeqCst) > 0
    });
    let first = Instant::now();
    wait_until("every event through grpc", Duration::from_secs(600), || {
        grpc_calls.load(Ordering::SeqCst) >= EVENTS
    });
    let grpc_rate = EVENTS as f64 / first.elapsed().as_secs_f64();
    // This runner (its `l` subscription assigned long ago) measures latency.

    // Latency on an idle topic: publish one, wait for the verb, repeat.
    let samples = 200;
    let mut lat = Vec::with_capacity(samples);
    let producer = kafka.producer();
    for i in 0..samples {
        let before = server.count();
        let sent = now_us();
        let payload = format!("{{\"i\":{i}}}");
        producer
            .send(BaseRecord::<str, str>::to("bench.lat").payload(&payload))
            .map_err(|(e, _)| e)
            .unwrap();
        producer.poll(Duration::ZERO);
        wait_until("the latency event", Duration::from_secs(30), || {
            server.count() > before
        });
        let got = server.requests()[before]
            .wall
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros();
        lat.push(got.saturating_sub(sent) as f64 / 1000.0);
        std::thread::sleep(Duration::from_millis(20));
    }
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p50 = lat[samples / 2];
    let p99 = lat[samples * 99 / 100];
    dev.stop();

    // One `ftl pubsub publish` (a whole process: start, find the broker,
    // check the topic, publish, wait for the acknowledgement, exit) against a
    // raw producer made afresh for one acknowledged event (acks=all).
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let cli_ms = median(
        (0..9)
            .map(|i| {
                let started = Instant::now();
                let out = p
                    .cmd()
                    .args(["pubsub", "publish", "bench.lat", &format!("{{\"i\":{i}}}")])
                    .output()
                    .unwrap();
                assert!(out.status.success(), "{out:?}");
                started.elapsed().as_secs_f64() * 1000.0
            })
            .collect(),
    );
    let raw_ms = median(
        (0..9)
            .map(|i| {
                let started = Instant::now();
                let producer: rdkafka::producer::BaseProducer =
                    rdkafka::config::ClientConfig::new()
                        .set("bootstrap.servers", p.bootstrap())
                        .set("acks", "all")
                        .create()
                        .unwrap();
                let payload = format!("{{\"i\":{i}}}");
                producer
                    .send(BaseRecord::<str, str>::to("bench.lat").payload(&payload))
                    .map_err(|(e, _)| e)
                    .unwrap();
                rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).unwrap();
                let ms = started.elapsed().as_secs_f64() * 1000.0;
                std::thread::spawn(move || drop(producer));
                ms
            })
            .collect(),
    );

    // Memory with 50 idle subscriptions.
    let subs: String = (0..50)
        .map(|i| format!("  s{i}: {{topic: idle, verb: w{i}}}\n"))
        .collect();
    let verbs: String = (0..50)
        .map(|i| format!("  w{i}: {{http: \"{}\"}}\n", server.url("/idle")))
        .collect();
    p.write("bench/ftl.yaml", &format!("module: bench\nverbs:\n{verbs}topics:\n  t: {{partitions: 8, key: /k}}\n  lat: {{}}\n  idle: {{}}\nsubscriptions:\n{subs}"));
    let dev = p.dev();
    dev.wait_nth(Ev::of("partitions_assigned"), 50, Duration::from_secs(180));
    std::thread::sleep(Duration::from_secs(2));
    let status = std::fs::read_to_string(format!("/proc/{}/status", dev.pid())).unwrap_or_default();
    let rss_kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    dev.stop();

    println!("pubsub benchmark ({EVENTS} events of ~30 bytes, 8 partitions, Tansu test broker)");
    println!("  baseline raw rdkafka consumer   {raw_rate:>10.0} events/s   1.00x");
    println!(
        "  ftl runner, HTTP verb           {runner_rate:>10.0} events/s   {:.2}x of baseline",
        runner_rate / raw_rate
    );
    println!(
        "  ftl runner, grpc verb           {grpc_rate:>10.0} events/s   {:.2}x of baseline   (FTL's VerbService, answering at once)",
        grpc_rate / raw_rate
    );
    println!("  baseline raw consumer latency   p50 {:.2} ms   p99 {:.2} ms   (publish -> poll, idle topic, fetch wait 10ms)", raw_lat.0, raw_lat.1);
    println!("  publish -> verb latency         p50 {p50:.2} ms   p99 {p99:.2} ms   ({samples} samples, idle topic, batch.max_wait 10ms)   {:.2}x / {:.2}x of baseline", p50 / raw_lat.0, p99 / raw_lat.1);
    println!(
        "  one ftl pubsub publish (process)  {cli_ms:.0} ms   baseline raw producer created for one event {raw_ms:.0} ms   {:.2}x   (median of 9; target <= 150 ms)",
        cli_ms / raw_ms
    );
    println!(
        "  ftl dev RSS, 50 idle subscriptions   {:.1} MB",
        rss_kb / 1024.0
    );
}
