//! Start-up, a new project's first delivered event, and memory.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{on, unique, Event, Project};
use crate::table::{median, row, Better, Row, Target};
use crate::{module, ms_since, Ctx};

pub fn run(c: &Ctx, rows: &mut Vec<Row>) {
    let (p, sink, plan) = (c.p, c.sink, c.plan);
    let wanted = |part: &str| c.wanted(part);
    // ---- start-up: ftl dev to ready with the broker up, 10 topics and 10
    // subscriptions (the first run creates the topics and is not counted).
    if wanted("startup") {
        let topics: String = (0..10)
            .map(|i| format!("  r{i}: {{event: Any}}\n"))
            .collect();
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
            let ms = time_to(
                &p.cmd(),
                &[("ready", |e| matches!(e, Event::Ready { .. }))],
                &mut |_| {},
            );
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
            let (t, ph) = first_hour(p);
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
        p.write("bench/ftl.yaml", &module(sink, &verbs, &subs));
        // A fresh `ftl dev` each time: one reading moves by ±1 MB.
        let (mut rss, mut threads) = (Vec::new(), Vec::new());
        for _ in 0..plan.reps {
            let dev = p.dev();
            dev.wait_nth(
                on!(Event::PartitionsAssigned { .. }),
                50,
                Duration::from_secs(300),
            );
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
            rss.push(field("VmRSS:") / 1024.0);
            threads.push(field("Threads:"));
            dev.stop();
        }
        rows.push(row(
            "ftl dev RSS, 50 idle subscriptions".into(),
            "MB",
            Better::Lower,
            rss,
            None,
            Target::AtMost(40.0),
        ));
        rows.push(row(
            "ftl dev threads, 50 idle subscriptions".into(),
            "threads",
            Better::Lower,
            threads,
            None,
            Target::Reported,
        ));
    }
}

/// A moment `time_to` times: its name and the event that marks it.
type Mark = (&'static str, fn(&Event) -> bool);

/// Runs `ftl --json dev` from `cmd` until an event of each of `marks` (a
/// name and a test) has come (calling `seen` on every event); ms from the
/// start to each, by name. Stops it with SIGINT.
fn time_to(
    cmd: &std::process::Command,
    marks: &[Mark],
    seen: &mut dyn FnMut(&Event),
) -> std::collections::HashMap<&'static str, f64> {
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
        let Ok(e) = serde_json::from_str::<Event>(&line) else {
            continue;
        };
        for (name, test) in marks {
            if test(&e) && !got.contains_key(name) {
                got.insert(*name, ms_since(t));
            }
        }
        seen(&e);
        if marks.iter().all(|(name, _)| got.contains_key(name)) {
            break;
        }
    }
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    got
}

/// A new command with `base`'s program and environment.
fn like(base: &std::process::Command) -> std::process::Command {
    let mut c = std::process::Command::new(base.get_program());
    for (k, v) in base.get_envs() {
        if let Some(v) = v {
            c.env(k, v);
        }
    }
    c
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
    let marks: [Mark; 3] = [
        ("broker_ready", |e| matches!(e, Event::BrokerReady { .. })),
        ("ready", |e| matches!(e, Event::Ready { .. })),
        ("delivery", |e| matches!(e, Event::Delivery(_))),
    ];
    let ms = time_to(&dev, &marks, &mut |e| {
        if matches!(e, Event::Ready { .. }) && !published {
            published = true;
            let t = Instant::now();
            let ok = like(&base)
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
    // The broker's container, volume and network go, as a user removes
    // them (removing the container alone left a volume per run behind).
    let _ = like(&base)
        .current_dir(&publish_dir)
        .args(["pubsub", "broker", "reset", "--yes"])
        .output();
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
