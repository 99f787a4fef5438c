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

mod commands;
mod delivery;
mod keyed;
mod loops;
mod parts;
mod startup;
mod table;
mod usage;

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ftl_test_support as harness;
use harness::{require_docker, Project};
use parts::Sink;
use table::Row;

/// What one run measures, and which parts of it.
pub struct Ctx<'a> {
    pub p: &'a Project,
    pub sink: &'a Sink,
    pub plan: &'a Plan,
    pub n: usize,
    pub bootstrap: String,
    /// `FTL_BENCH_ONLY`
    only: Option<String>,
    /// `FTL_BENCH_PARTITIONS`
    counts: Option<String>,
}

impl Ctx<'_> {
    pub fn wanted(&self, part: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|o| o.split(',').any(|x| x == part))
    }

    pub fn count_wanted(&self, count: i32) -> bool {
        self.counts
            .as_deref()
            .is_none_or(|o| o.split(',').any(|x| x == count.to_string()))
    }
}

pub struct Plan {
    events: usize,
    reps: usize,
    exec_events: usize,
    /// Events per Publisher client (8 clients).
    each: usize,
    latency_samples: usize,
}

/// Untyped topics (`event: Any`), and `typed` for the typed-against-`Any`
/// publish rows: its type accepts the events of both `events` and the
/// Publisher clients.
const TOPICS: &str = "  t1: {event: Any, partitions: 1, key: /k}\n  t8: {event: Any, partitions: 8, key: /k}\n  t32: {event: Any, partitions: 32, key: /k}\n  fan10: {event: Any, partitions: 8, key: /k}\n  fan50: {event: Any, partitions: 8, key: /k}\n  k256: {event: Any, partitions: 8, key: /k}\n  k8: {event: Any, partitions: 8, key: /k}\n  ex: {event: Any, partitions: 8, key: /k}\n  lat: {event: Any}\n  pub: {event: Any, partitions: 8, key: /k}\n  typed: {event: Ev, partitions: 8, key: /k}\n  idle: {event: Any}\n";

const TYPES: &str = "data:\n  Ev: {k: String, id: Int?, i: Int?, pad: String?}\n";

/// The module file: verb `v` (the sink), `verbs` and `subs` more.
fn module(sink: &Sink, verbs: &str, subs: &str) -> String {
    let subs = if subs.is_empty() {
        "subscriptions: {}\n".to_string()
    } else {
        format!("subscriptions:\n{subs}")
    };
    format!(
        "module: bench\n{TYPES}verbs:\n  v: {{http: \"{}\"}}\n{verbs}topics:\n{TOPICS}{subs}",
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
    ftl_run_costed(p, sink, text, expect, console).0
}

/// [`ftl_run`], and what `ftl dev` used meanwhile per 100,000 events.
fn ftl_run_costed(
    p: &Project,
    sink: &Sink,
    text: &str,
    expect: usize,
    console: bool,
) -> (f64, usage::Cost) {
    p.write("bench/ftl.yaml", text);
    let before = sink.count();
    let dev = quiet_dev(p);
    let pid = dev.pid().to_string();
    spin_until("the first delivery", Duration::from_secs(120), || {
        sink.count() > before
    });
    let first = Instant::now();
    let at_first = usage::of(&pid);
    let open = console.then(|| parts::Console::open(&p.listen));
    spin_until("every delivery", Duration::from_secs(900), || {
        sink.count() >= before + expect
    });
    let rate = expect as f64 / first.elapsed().as_secs_f64();
    let cost = usage::per_100k(at_first, usage::of(&pid), expect);
    if let Some(c) = open {
        eprintln!(
            "    console read {} KB of events while open",
            c.bytes.load(std::sync::atomic::Ordering::SeqCst) / 1024
        );
    }
    dev.stop();
    (rate, cost)
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
    // The hand-written runner in a process of its own (see
    // `loops::http_loop_process`).
    if std::env::var("FTL_BENCH_CHILD").as_deref() == Ok("http_loop") {
        loops::http_loop_child();
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let mut plan = if quick {
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
    // `FTL_BENCH_EXEC_EVENTS=N` the exec verb's (to profile).
    if let Some(x) = std::env::var("FTL_BENCH_EXEC_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        plan.exec_events = x;
    }
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
    let topics = [
        ("bench.t8", n, &["http", "replay", "tail"][..]),
        (
            "bench.t1",
            delivery::events_on(1, n),
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
    ]
    .into_iter()
    .filter(|(_, _, parts)| parts.iter().any(|p| wanted(p)))
    .collect::<Vec<_>>();
    // The topics side by side, a producer each: one after another took a
    // minute (the test broker answers one record per batch).
    std::thread::scope(|s| {
        for (topic, count, _) in &topics {
            let p = &p;
            s.spawn(move || produce(p, topic, *count));
        }
    });
    eprintln!("produced the events in {:.1}s", t.elapsed().as_secs_f64());
    let mut rows: Vec<Row> = Vec::new();

    let ctx = Ctx {
        p: &p,
        sink: &sink,
        plan: &plan,
        n,
        bootstrap: p.bootstrap(),
        only,
        counts,
    };
    delivery::run(&ctx, &mut rows);
    commands::run(&ctx, &mut rows);
    startup::run(&ctx, &mut rows);
    keyed::run(&ctx, &mut rows);
    // Last: the topics it creates stay on the broker.
    keyed::many_topics(&ctx, &mut rows);

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
