//! What the broker fault suite checks and reads: the verb's calls, `ftl
//! dev`'s state and log, the broker's topics, the events still owed.

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Ack, Outcome, Publisher, DECLARED};
use crate::harness::{on, Dev, Event, Kafka, On, Project, VerbServer};

/// The ids of the verb's calls (an id twice when it was delivered twice),
/// and when each call came.
pub(super) fn calls(server: &VerbServer) -> Vec<(u64, Instant)> {
    server
        .requests()
        .iter()
        .filter_map(|r| r.json()["id"].as_u64().map(|id| (id, r.at)))
        .collect()
}

pub(super) fn delivered(server: &VerbServer) -> HashSet<u64> {
    calls(server).into_iter().map(|(id, _)| id).collect()
}

/// `ftl dev` still runs.
#[track_caller]
pub(super) fn assert_alive(dev: &Dev, what: &str) {
    if let Some(stat) = dev.exited() {
        panic!(
            "ftl dev exited after {what} ({stat}):\n{}",
            brief(&dev.log())
        );
    }
}

/// What `ftl dev` said, without its thousands of `published` and
/// `delivery` events: its log lines and other events, the last 200. The
/// whole of it goes to a file named at the end.
pub(super) fn brief(log: &str) -> String {
    let kept: Vec<&str> = log
        .lines()
        .filter(|l| {
            !l.starts_with("{\"type\":\"published\"") && !l.starts_with("{\"type\":\"delivery\"")
        })
        .collect();
    let file =
        std::env::temp_dir().join(format!("ftl-fault-suite-broker-{}.log", std::process::id()));
    let saved = match std::fs::write(&file, log) {
        Ok(()) => format!("(all of it: {})", file.display()),
        Err(e) => format!("(cannot save all of it: {e})"),
    };
    format!(
        "{}\n{saved}",
        kept[kept.len().saturating_sub(200)..].join("\n")
    )
}

/// With `FTL_FAULT_BROKER_GDB` set, every thread's stack of `ftl dev`
/// (by gdb) in a file, for a failure message: where a stall waits.
pub(super) fn stacks(dev: &Dev) -> String {
    if std::env::var_os("FTL_FAULT_BROKER_GDB").is_none() {
        return String::new();
    }
    let file = std::env::temp_dir().join(format!("ftl-fault-suite-broker-{}.stacks", dev.pid()));
    let out = Command::new("gdb")
        .args([
            "-p",
            &dev.pid().to_string(),
            "-batch",
            "-ex",
            "thread apply all bt",
        ])
        .output();
    match out {
        Ok(o) => match std::fs::write(&file, &o.stdout) {
            Ok(()) => format!("\n(ftl dev's stacks: {})", file.display()),
            Err(e) => format!("\n(cannot save ftl dev's stacks: {e})"),
        },
        Err(e) => format!("\n(gdb: {e})"),
    }
}

/// Waits for the `n`th event `on` accepts, at most `timeout`; `None` if it
/// did not come.
pub(super) fn try_wait<T>(
    dev: &Dev,
    on: On<impl Fn(&Event) -> Option<T>>,
    n: usize,
    timeout: Duration,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = dev.events().iter().filter_map(&on.test).nth(n - 1) {
            return Some(found);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `f` holds, at most `timeout`; whether it did.
pub(super) fn within(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the broker answers a metadata request; when it did.
#[track_caller]
pub(super) fn wait_answers(p: &Project, dev: &Dev, what: &str) -> Instant {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let kafka = Kafka {
            bootstrap: p.bootstrap(),
        };
        if kafka.answers(Duration::from_millis(300)) {
            return Instant::now();
        }
        assert!(
            Instant::now() < deadline,
            "the broker never answered after {what}:\n{}",
            brief(&dev.log())
        );
    }
}

/// What is wrong with the declared topics' partitions on the broker, after
/// waiting up to 15 s for ftl to make them right; `None` when all are.
pub(super) fn wrong_partitions(p: &Project) -> Option<String> {
    let mut wrong = String::new();
    let right = within(Duration::from_secs(15), || {
        let held = p.kafka().topic_partitions();
        wrong = DECLARED
            .iter()
            .filter(|(t, n)| held.get(*t) != Some(n))
            .map(|(t, n)| format!("{t}: {:?} partitions, declared {n}", held.get(*t)))
            .collect::<Vec<_>>()
            .join("; ");
        wrong.is_empty()
    });
    (!right).then_some(wrong)
}

/// How many times `ftl dev` made `shop.t` so far (created it, or deleted
/// and created it again as declared).
pub(super) fn topic_made(dev: &Dev) -> usize {
    dev.count(&on!(Event::TopicCreated { topic, .. } if topic == "shop.t"))
        + dev.count(&on!(Event::TopicRecreated { topic, .. } if topic == "shop.t"))
}

/// Whether a memory-only broker may have taken this acknowledged event with
/// it in one of these disruptions.
pub(super) fn at_risk_in(outcomes: &[Outcome], a: &Ack) -> bool {
    outcomes
        .iter()
        .any(|o| o.kind.loses_data() && a.at > o.at_risk.0 && a.at <= o.at_risk.1)
}

/// The events acknowledged between `since` and `up_to` and not yet
/// delivered (those a memory-only broker may have taken left out).
pub(super) fn undelivered(
    publisher: &Publisher,
    server: &VerbServer,
    outcomes: &[Outcome],
    (since, up_to): (Option<Instant>, Instant),
) -> Vec<u64> {
    let got = delivered(server);
    let mut ids: Vec<u64> = publisher
        .acked()
        .iter()
        .filter(|a| since.is_none_or(|s| a.at > s) && a.at <= up_to)
        .filter(|a| !got.contains(&a.id) && !at_risk_in(outcomes, a))
        .map(|a| a.id)
        .collect();
    ids.sort();
    ids
}
