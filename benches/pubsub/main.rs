//! `cargo bench --bench pubsub`: every figure a user of `ftl` cares about,
//! each beside the practical limit on this machine (a hand-written baseline
//! with the same libraries and settings, measured in the same run), printed
//! as one table with medians and spreads. `cargo bench --bench pubsub --
//! --quick` runs every row once with few events: a smoke run for CI, with
//! no timing asserted.
//!
//! Needs the Docker Engine and the test broker image (built if missing),
//! like the integration tests. What limits each number: BENCHMARKS.md.

#![allow(clippy::unwrap_used)]

#[path = "../../tests/it/harness/mod.rs"]
#[allow(dead_code, unused_imports)]
mod harness;
mod loops;
mod parts;
mod table;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use harness::{require_docker, unique, Ev, Project, VerbServer};
use parts::Sink;
use table::{median, quantile, Better, Row, Target};

struct Plan {
    events: usize,
    reps: usize,
    exec_events: usize,
    /// Events per Publisher client (8 clients).
    each: usize,
    latency_samples: usize,
}

const TOPICS: &str = "  t1: {partitions: 1, key: /k}\n  t8: {partitions: 8, key: /k}\n  t32: {partitions: 32, key: /k}\n  fan10: {partitions: 8, key: /k}\n  fan50: {partitions: 8, key: /k}\n  ex: {partitions: 8, key: /k}\n  lat: {}\n  pub: {partitions: 8, key: /k}\n  idle: {}\n";

/// The module file: verb `v` (the sink), `verbs` and `subs` more.
fn module(sink: &Sink, verbs: &str, subs: &str) -> String {
    let subs = if subs.is_empty() {
        "subscriptions: {}\n".to_string()
    } else {
        format!("subscriptions:\n{subs}")
    };
    format!(
        "module: bench\nverbs:\n  v: {{http: \"{}\"}}\n{verbs}topics:\n{TOPICS}{subs}",
        sink.url()
    )
}

/// `n` events of about 1 KB, keyed over 256 keys.
fn events(n: usize) -> Vec<(String, String)> {
    let pad = "x".repeat(960);
    (0..n)
        .map(|i| {
            let k = format!("k{}", i % 256);
            (
                k.clone(),
                format!("{{\"k\":\"{k}\",\"id\":{i},\"pad\":\"{pad}\"}}"),
            )
        })
        .collect()
}

fn produce(p: &Project, topic: &str, n: usize) {
    let evs = events(n);
    let refs: Vec<(Option<&str>, String)> = evs
        .iter()
        .map(|(k, v)| (Some(k.as_str()), v.clone()))
        .collect();
    p.kafka().produce(topic, &refs);
}

fn spin_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn quiet_dev(p: &Project) -> harness::Dev {
    let mut c = p.cmd();
    c.args(["-q", "dev"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    harness::Dev::spawn_command(c)
}

/// `ftl dev` delivering `expect` events to the sink: events/s from the
/// first to the last verb call.
fn ftl_run(p: &Project, sink: &Sink, text: &str, expect: usize, console: bool) -> f64 {
    p.write("bench/ftl.yaml", text);
    let before = sink.count();
    let dev = quiet_dev(p);
    spin_until("the first delivery", Duration::from_secs(120), || {
        sink.count() > before
    });
    let first = Instant::now();
    let open = console.then(|| parts::Console::open(&p.listen));
    spin_until("every delivery", Duration::from_secs(900), || {
        sink.count() >= before + expect
    });
    let rate = expect as f64 / first.elapsed().as_secs_f64();
    if let Some(c) = open {
        eprintln!(
            "    console read {} KB of events while open",
            c.bytes.load(std::sync::atomic::Ordering::SeqCst) / 1024
        );
    }
    dev.stop();
    rate
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn now_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros()
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let plan = if quick {
        Plan {
            events: 2_000,
            reps: 1,
            exec_events: 100,
            each: 25,
            latency_samples: 20,
        }
    } else {
        Plan {
            events: 100_000,
            reps: 3,
            exec_events: 2_000,
            each: 1_250,
            latency_samples: 200,
        }
    };
    // `FTL_BENCH_EVENTS=N` overrides the number of events (to profile).
    let n = std::env::var("FTL_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(plan.events);
    require_docker();
    let started = Instant::now();
    let sink = Sink::start();
    let p = Project::new();
    p.write("bench/ftl.yaml", &module(&sink, "", ""));
    let dev = p.dev();
    dev.wait_ready();
    dev.stop();
    // `FTL_BENCH_ONLY=http,tail` runs only those parts (to profile one).
    let only = std::env::var("FTL_BENCH_ONLY").ok();
    let wanted = |part: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|x| x == part))
    };
    // `FTL_BENCH_PARTITIONS=8` runs that partition count only.
    let counts = std::env::var("FTL_BENCH_PARTITIONS").ok();
    let count_wanted = |c: i32| {
        counts
            .as_deref()
            .is_none_or(|o| o.split(',').any(|x| x == c.to_string()))
    };
    let t = Instant::now();
    for (topic, count, parts) in [
        ("bench.t8", n, &["http", "replay", "tail"][..]),
        (
            "bench.t1",
            n,
            if count_wanted(1) {
                &["http"][..]
            } else {
                &[][..]
            },
        ),
        (
            "bench.t32",
            n,
            if count_wanted(32) {
                &["http"][..]
            } else {
                &[][..]
            },
        ),
        ("bench.fan10", n / 10, &["fan"][..]),
        ("bench.fan50", n / 50, &["fan"][..]),
        ("bench.ex", plan.exec_events, &["exec"][..]),
    ] {
        if parts.iter().any(|p| wanted(p)) {
            produce(&p, topic, count);
        }
    }
    eprintln!("produced the events in {:.1}s", t.elapsed().as_secs_f64());
    let bootstrap = p.bootstrap();
    let mut rows: Vec<Row> = Vec::new();
    let row = |metric: String, unit, better, ftl, baseline, target| Row {
        metric,
        unit,
        better,
        ftl,
        baseline,
        target,
    };

    // ---- delivery through an HTTP verb: 8, 1 and 32 partitions, and with
    // an open console.
    let mut http: Vec<(i32, Vec<f64>, Vec<f64>)> = [8, 1, 32]
        .iter()
        .filter(|c| wanted("http") && count_wanted(**c))
        .map(|p| (*p, vec![], vec![]))
        .collect();
    let mut with_console = Vec::new();
    // The order alternates between repetitions (baseline first, then
    // `ftl` first), and the console run sits beside the run without it: the
    // broker slows as it holds more, and the machine drifts.
    for rep in (0..plan.reps).filter(|_| wanted("http")) {
        for (parts, base, ftl) in http.iter_mut() {
            let topic = format!("bench.t{parts}");
            let g = vec![unique("raw")];
            let sub = format!("  r{parts}x{rep}: {{topic: t{parts}, verb: v}}\n");
            let console = format!("  c{rep}: {{topic: t8, verb: v}}\n");
            let mut steps: Vec<&str> = vec!["raw", "ftl"];
            if *parts == 8 {
                steps.push("console");
            }
            if rep % 2 == 1 {
                steps.reverse();
            }
            for step in steps {
                match step {
                    "raw" => base.push(
                        n as f64 / loops::http_loop(&bootstrap, &topic, &g, &sink.url(), n).secs,
                    ),
                    "ftl" => ftl.push(ftl_run(&p, &sink, &module(&sink, "", &sub), n, false)),
                    _ => {
                        with_console.push(ftl_run(&p, &sink, &module(&sink, "", &console), n, true))
                    }
                }
            }
            eprintln!(
                "  http {parts} partitions rep {rep}: raw {:.0}/s, ftl {:.0}/s{}",
                base.last().unwrap(),
                ftl.last().unwrap(),
                if *parts == 8 {
                    format!(", console open {:.0}/s", with_console.last().unwrap())
                } else {
                    String::new()
                }
            );
        }
    }
    let base8 = http.first().map(|h| h.1.clone()).unwrap_or_default();
    let ftl8 = http.first().map(|h| h.2.clone()).unwrap_or_default();
    for (parts, base, ftl) in http {
        rows.push(row(
            format!(
                "runner, HTTP verb, {parts} partition{}, {n} events of 1 KB",
                if parts == 1 { "" } else { "s" }
            ),
            "ev/s",
            Better::Higher,
            ftl,
            Some(base),
            if parts == 8 {
                Target::Ratio(0.9)
            } else {
                Target::Reported
            },
        ));
    }
    if wanted("http") {
        rows.push(row(
            "same, 8 partitions, console open (baseline: console closed)".into(),
            "ev/s",
            Better::Higher,
            with_console,
            Some(ftl8),
            Target::Ratio(0.9),
        ));
    }

    // ---- several subscriptions on one topic: deliveries/s in all.
    for (subs, topic) in [(10usize, "fan10"), (50, "fan50")] {
        if !wanted("fan") {
            continue;
        }
        let each = n / subs;
        let (mut base, mut ftl) = (vec![], vec![]);
        for rep in 0..plan.reps {
            let groups: Vec<String> = (0..subs).map(|_| unique("raw")).collect();
            base.push(
                (each * subs) as f64
                    / loops::http_loop(
                        &bootstrap,
                        &format!("bench.{topic}"),
                        &groups,
                        &sink.url(),
                        each,
                    )
                    .secs,
            );
            // A verb may be subscribed once: one verb each, all the sink.
            let verbs: String = (0..subs)
                .map(|i| format!("  f{i}: {{http: \"{}\"}}\n", sink.url()))
                .collect();
            let text: String = (0..subs)
                .map(|i| format!("  f{subs}x{rep}y{i}: {{topic: {topic}, verb: f{i}}}\n"))
                .collect();
            ftl.push(ftl_run(
                &p,
                &sink,
                &module(&sink, &verbs, &text),
                each * subs,
                false,
            ));
            eprintln!(
                "  {subs} subscriptions rep {rep}: raw {:.0}/s, ftl {:.0}/s",
                base.last().unwrap(),
                ftl.last().unwrap()
            );
        }
        rows.push(row(
            format!("runner, {subs} subscriptions on one topic ({each} events each), deliveries"),
            "ev/s",
            Better::Higher,
            ftl,
            Some(base),
            Target::Reported,
        ));
    }

    // ---- replay: a drained subscription replayed from the beginning.
    if wanted("replay") {
        p.write(
            "bench/ftl.yaml",
            &module(&sink, "", "  drain: {topic: t8, verb: v}\n"),
        );
        let before = sink.count();
        let dev = quiet_dev(&p);
        spin_until("the first drain", Duration::from_secs(600), || {
            sink.count() >= before + n
        });
        let mut drain = Vec::new();
        for _ in 0..plan.reps {
            let before = sink.count();
            let t = Instant::now();
            p.run(&[
                "pubsub",
                "replay",
                "bench.drain",
                "--from",
                "beginning",
                "--yes",
            ])
            .succeeds();
            eprintln!("    the replay command took {:.0} ms", ms_since(t));
            spin_until("the replayed backlog", Duration::from_secs(600), || {
                sink.count() >= before + n
            });
            drain.push(n as f64 / t.elapsed().as_secs_f64());
            eprintln!("  replay drain: {:.0}/s", drain.last().unwrap());
        }
        dev.stop();
        rows.push(row(
            format!("replay --from beginning of {n} events, command to caught up"),
            "ev/s",
            Better::Higher,
            drain,
            Some(base8.clone()),
            Target::Ratio(0.9),
        ));
    }

    // ---- exec verb `true`.
    if wanted("exec") {
        let (mut base, mut ftl) = (vec![], vec![]);
        for rep in 0..plan.reps {
            base.push(plan.exec_events as f64 / loops::spawn_loop(plan.exec_events, 8));
            p.write(
                "bench/ftl.yaml",
                &module(
                    &sink,
                    "  x: {exec: [\"true\"]}\n",
                    &format!("  e{rep}: {{topic: ex, verb: x}}\n"),
                ),
            );
            let dev = p.dev();
            let name = format!("bench.e{rep}");
            let this = Ev::sub("delivery", &name);
            spin_until("the first exec delivery", Duration::from_secs(120), || {
                dev.count(this) > 0
            });
            let first = Instant::now();
            spin_until("every exec delivery", Duration::from_secs(600), || {
                dev.count(this) >= plan.exec_events
            });
            ftl.push(plan.exec_events as f64 / first.elapsed().as_secs_f64());
            dev.stop();
            eprintln!(
                "  exec: spawns {:.0}/s, ftl {:.0}/s",
                base.last().unwrap(),
                ftl.last().unwrap()
            );
        }
        rows.push(row(
            format!(
                "runner, exec verb `true`, 8 partitions, {} events",
                plan.exec_events
            ),
            "ev/s",
            Better::Higher,
            ftl,
            Some(base),
            Target::Ratio(0.8),
        ));
    }

    // ---- tail of the 8-partition topic to /dev/null.
    if wanted("tail") {
        let (mut base, mut ftl) = (vec![], vec![]);
        for _ in 0..plan.reps {
            let (secs, got) = loops::raw_tail(&bootstrap, "bench.t8");
            assert_eq!(got, n);
            base.push(secs);
            let t = Instant::now();
            let out = p
                .cmd()
                .args([
                    "pubsub",
                    "tail",
                    "bench.t8",
                    "--from",
                    "beginning",
                    "--no-follow",
                    "--json",
                ])
                .stdout(std::fs::File::create("/dev/null").unwrap())
                .status()
                .unwrap();
            assert!(out.success());
            ftl.push(t.elapsed().as_secs_f64());
            eprintln!(
                "  tail: raw {:.2}s, ftl {:.2}s",
                base.last().unwrap(),
                ftl.last().unwrap()
            );
        }
        rows.push(row(
            format!("tail --from beginning --no-follow --json > /dev/null, {n} events"),
            "s",
            Better::Lower,
            ftl,
            Some(base),
            Target::Ratio(0.9),
        ));
    }

    // ---- publish NDJSON from stdin.
    if wanted("publish") {
        let lines = events(n);
        let file = p.path().join("events.ndjson");
        let text: String = lines.iter().map(|(_, v)| format!("{v}\n")).collect();
        std::fs::write(&file, text).unwrap();
        let (mut base, mut ftl) = (vec![], vec![]);
        for _ in 0..plan.reps {
            base.push(loops::raw_publish(&bootstrap, "bench.pub", &lines));
            let t = Instant::now();
            let out = p
                .cmd()
                .args(["-q", "pubsub", "publish", "bench.pub", "-"])
                .stdin(std::fs::File::open(&file).unwrap())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            ftl.push(t.elapsed().as_secs_f64());
            eprintln!(
                "  publish: raw {:.2}s, ftl {:.2}s",
                base.last().unwrap(),
                ftl.last().unwrap()
            );
        }
        rows.push(row(
            format!("publish - with {n} NDJSON lines of 1 KB"),
            "s",
            Better::Lower,
            ftl,
            Some(base),
            Target::Ratio(0.8),
        ));
    }

    // ---- the Publisher, 8 concurrent clients, HTTP and gRPC.
    if wanted("publisher") {
        p.write("bench/ftl.yaml", &module(&sink, "", ""));
        let dev = p.dev();
        dev.wait_ready();
        // Warm, as the raw producer is: the runner's producer has its id.
        parts::publisher_http(&p.listen, "bench.pub", 1, 1);
        parts::publisher_grpc(&p.listen, "bench.pub", 1, 1);
        // (kind, events/s, p50, p99) of each repetition.
        type Samples = (&'static str, Vec<f64>, Vec<f64>, Vec<f64>);
        let mut runs: Vec<Samples> = vec![
            ("HTTP", vec![], vec![], vec![]),
            ("gRPC", vec![], vec![], vec![]),
            ("raw", vec![], vec![], vec![]),
        ];
        for _ in 0..plan.reps {
            for (kind, rate, p50, p99) in runs.iter_mut() {
                let (r, lat) = match *kind {
                    "HTTP" => parts::publisher_http(&p.listen, "bench.pub", 8, plan.each),
                    "gRPC" => parts::publisher_grpc(&p.listen, "bench.pub", 8, plan.each),
                    _ => loops::raw_acks(&bootstrap, "bench.pub", 8, plan.each),
                };
                rate.push(r);
                p50.push(quantile(&lat, 0.5));
                p99.push(quantile(&lat, 0.99));
                eprintln!(
                    "  publisher {kind}: {r:.0}/s p50 {:.2} p99 {:.2} ms",
                    p50.last().unwrap(),
                    p99.last().unwrap()
                );
            }
        }
        dev.stop();
        let raw = runs.pop().unwrap();
        for (kind, rate, p50, p99) in runs {
            rows.push(row(
                format!("Publisher {kind}, 8 clients, events/s (baseline: raw producer, 8 tasks)"),
                "ev/s",
                Better::Higher,
                rate,
                Some(raw.1.clone()),
                Target::Reported,
            ));
            rows.push(row(
                format!("Publisher {kind}, publish→ack p50"),
                "ms",
                Better::Lower,
                p50,
                Some(raw.2.clone()),
                Target::Reported,
            ));
            rows.push(row(
                format!("Publisher {kind}, publish→ack p99"),
                "ms",
                Better::Lower,
                p99,
                Some(raw.3.clone()),
                Target::AtMost(10.0),
            ));
        }
    }

    // ---- publish→verb latency on an idle topic, max_wait 10ms.
    if wanted("latency") {
        let lat_server = VerbServer::start(|_, _| (200, String::new()));
        let raw = loops::raw_latency(&bootstrap, "bench.lat", plan.latency_samples);
        p.write(
            "bench/ftl.yaml",
            &module(
                &sink,
                &format!("  w: {{http: \"{}\"}}\n", lat_server.url("/lat")),
                "  l: {topic: lat, verb: w, from: latest, batch: {max_wait: 10ms}}\n",
            ),
        );
        let dev = p.dev();
        dev.wait_assigned("bench.l", 1);
        std::thread::sleep(Duration::from_millis(500));
        let producer = p.kafka().producer();
        let mut lat = Vec::new();
        for i in 0..plan.latency_samples {
            let before = lat_server.count();
            let sent = now_us();
            let payload = format!("{{\"i\":{i}}}");
            producer
                .send(rdkafka::producer::BaseRecord::<str, str>::to("bench.lat").payload(&payload))
                .map_err(|(e, _)| e)
                .unwrap();
            producer.poll(Duration::ZERO);
            spin_until("the latency event", Duration::from_secs(30), || {
                lat_server.count() > before
            });
            let got = lat_server.requests()[before]
                .wall
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_micros();
            lat.push(got.saturating_sub(sent) as f64 / 1000.0);
            std::thread::sleep(Duration::from_millis(20));
        }
        dev.stop();
        rows.push(row(
            "publish→verb latency p50, idle topic, max_wait 10ms".into(),
            "ms",
            Better::Lower,
            vec![quantile(&lat, 0.5)],
            Some(vec![quantile(&raw, 0.5)]),
            Target::AtMost(3.0),
        ));
        rows.push(row(
            "publish→verb latency p99".into(),
            "ms",
            Better::Lower,
            vec![quantile(&lat, 0.99)],
            Some(vec![quantile(&raw, 0.99)]),
            Target::AtMost(25.0),
        ));
    }

    // ---- start-up: ftl dev to ready with the broker up, 10 topics and 10
    // subscriptions (the first run creates the topics and is not counted).
    if wanted("startup") {
        let topics: String = (0..10).map(|i| format!("  r{i}: {{}}\n")).collect();
        let subs: String = (0..10)
            .map(|i| format!("  r{i}: {{topic: r{i}, verb: v{i}}}\n"))
            .collect();
        let verbs: String = (0..10)
            .map(|i| format!("  v{i}: {{http: \"{}\"}}\n", sink.url()))
            .collect();
        p.write(
            "bench/ftl.yaml",
            &format!("module: bench\nverbs:\n{verbs}topics:\n{topics}subscriptions:\n{subs}"),
        );
        let mut ready = Vec::new();
        for i in 0..=plan.reps.max(3) {
            let ms = time_to(&p.cmd(), &["ready"], &mut |_| {});
            if i > 0 {
                ready.push(ms["ready"]);
            }
        }
        rows.push(row(
            "ftl dev to ready, broker up, 10 topics / 10 subscriptions".into(),
            "ms",
            Better::Lower,
            ready,
            None,
            Target::AtMost(500.0),
        ));
    }

    // ---- a new user: ftl init + ftl dev to the first delivered event, the
    // image present, no container.
    if wanted("firsthour") {
        let mut total = Vec::new();
        let mut phases: Vec<Vec<(String, f64)>> = Vec::new();
        for _ in 0..plan.reps {
            let (t, ph) = first_hour(&p);
            total.push(t);
            phases.push(ph);
        }
        let names: Vec<String> = phases[0].iter().map(|(n, _)| n.clone()).collect();
        let desc: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                format!(
                    "{name} {:.0}",
                    median(&phases.iter().map(|p| p[i].1).collect::<Vec<_>>())
                )
            })
            .collect();
        rows.push(row(
            format!(
                "ftl init + ftl dev to the first delivered event (ms: {})",
                desc.join(", ")
            ),
            "ms",
            Better::Lower,
            total,
            None,
            Target::AtMost(10_000.0),
        ));
    }

    // ---- memory and threads with 50 idle subscriptions.
    if wanted("memory") {
        let subs: String = (0..50)
            .map(|i| format!("  i{i}: {{topic: idle, verb: f{i}}}\n"))
            .collect();
        let verbs: String = (0..50)
            .map(|i| format!("  f{i}: {{http: \"{}\"}}\n", sink.url()))
            .collect();
        p.write("bench/ftl.yaml", &module(&sink, &verbs, &subs));
        let dev = p.dev();
        dev.wait_nth(Ev::of("partitions_assigned"), 50, Duration::from_secs(300));
        std::thread::sleep(Duration::from_secs(2));
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", dev.pid())).unwrap_or_default();
        let field = |name: &str| -> f64 {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.0)
        };
        let (rss, threads) = (field("VmRSS:") / 1024.0, field("Threads:"));
        dev.stop();
        rows.push(row(
            "ftl dev RSS, 50 idle subscriptions".into(),
            "MB",
            Better::Lower,
            vec![rss],
            None,
            Target::AtMost(40.0),
        ));
        rows.push(row(
            "ftl dev threads, 50 idle subscriptions".into(),
            "threads",
            Better::Lower,
            vec![threads],
            None,
            Target::Reported,
        ));
    }

    println!(
        "\npubsub benchmark{}: {}; Tansu test broker; {} repetition{} (median ±half the range); {:.0} s in all\n",
        if quick { " (--quick: a smoke run, few events, figures not meaningful)" } else { "" },
        table::machine(),
        plan.reps,
        if plan.reps == 1 { "" } else { "s" },
        started.elapsed().as_secs_f64()
    );
    println!("{}", table::render(&rows));
    let missed: Vec<&str> = rows
        .iter()
        .filter(|r| r.met() == Some(false))
        .map(|r| r.metric.as_str())
        .collect();
    println!(
        "{} of {} targets met",
        rows.iter().filter(|r| r.met() == Some(true)).count(),
        rows.iter().filter(|r| r.met().is_some()).count()
    );
    if !missed.is_empty() && !quick {
        println!("missed: {}", missed.join("; "));
    }
}

/// Runs `ftl --json dev` from `cmd` until each event type of `marks` has
/// come (calling `seen` on every event); ms from the start to each. Stops
/// it with SIGINT.
fn time_to(
    cmd: &std::process::Command,
    marks: &[&str],
    seen: &mut dyn FnMut(&serde_json::Value),
) -> std::collections::HashMap<String, f64> {
    let mut c = std::process::Command::new(cmd.get_program());
    if let Some(dir) = cmd.get_current_dir() {
        c.current_dir(dir);
    }
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let t = Instant::now();
    let mut child = c
        .args(["--json", "dev"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut got = std::collections::HashMap::new();
    let out = BufReader::new(child.stdout.take().unwrap());
    for line in out.lines().map_while(Result::ok) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        let kind = v["type"].as_str().unwrap_or_default().to_string();
        if marks.contains(&kind.as_str()) && !got.contains_key(&kind) {
            got.insert(kind, ms_since(t));
        }
        seen(&v);
        if marks.iter().all(|m| got.contains_key(*m)) {
            break;
        }
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    got
}

/// `ftl init NAME` then `ftl dev` in it, publishing one event once ready:
/// total ms to its delivery, and each phase.
fn first_hour(p: &Project) -> (f64, Vec<(String, f64)>) {
    let name = unique("demo");
    let dir = tempfile::tempdir().unwrap();
    let mut init = p.cmd();
    init.current_dir(dir.path());
    let t = Instant::now();
    assert!(init.args(["init", &name]).status().unwrap().success());
    let init_ms = ms_since(t);
    let mut dev = p.cmd();
    dev.current_dir(dir.path().join(&name));
    let publish_dir = dir.path().join(&name);
    let base = p.cmd();
    let mut publish_ms = 0.0;
    let mut published = false;
    let ms = time_to(&dev, &["broker_ready", "ready", "delivery"], &mut |e| {
        if e["type"] == "ready" && !published {
            published = true;
            let t = Instant::now();
            let mut c = std::process::Command::new(base.get_program());
            for (k, v) in base.get_envs() {
                if let Some(v) = v {
                    c.env(k, v);
                }
            }
            let ok = c
                .stdout(Stdio::null())
                .current_dir(&publish_dir)
                .args([
                    "pubsub",
                    "publish",
                    "orders",
                    r#"{"userId":"u1","pizza":"diavola"}"#,
                ])
                .status()
                .unwrap()
                .success();
            assert!(ok);
            publish_ms = ms_since(t);
        }
    });
    let _ = harness::docker::try_cli(&["rm", "-f", &format!("ftl-{name}-broker")]);
    let _ = harness::docker::try_cli(&["network", "rm", &format!("ftl-{name}")]);
    let total = init_ms + ms["delivery"];
    (
        total,
        vec![
            ("init".into(), init_ms),
            ("broker".into(), ms["broker_ready"]),
            ("ready".into(), ms["ready"] - ms["broker_ready"]),
            ("publish".into(), publish_ms),
            (
                "delivered".into(),
                ms["delivery"] - ms["ready"] - publish_ms,
            ),
        ],
    )
}
