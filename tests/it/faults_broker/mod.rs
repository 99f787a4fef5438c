//! The fault suite with the broker (issue 20): one long run, by one
//! command, that prints its figures:
//!
//! ```sh
//! cargo test --release --test it -- --ignored fault_suite_broker --nocapture
//! ```
//!
//! `FTL_FAULT_BROKER_ROUNDS` (default 3) rounds of five disruptions of the
//! test broker's container: `docker stop -t 2` + 5 s + `docker start`;
//! `docker restart -t 0`; `docker kill` + `ftl pubsub broker start`;
//! `docker pause` 20 s + `unpause`; `ftl pubsub broker reset --yes` + `ftl
//! pubsub broker start` (a new container on a new port).
//! `FTL_FAULT_BROKER_KINDS` picks others for each round, e.g. 20 plain
//! `docker restart`s: `FTL_FAULT_BROKER_KINDS=restart
//! FTL_FAULT_BROKER_ROUNDS=20`. Meanwhile `ftl
//! dev` runs a subscription (with a dead-letter topic) of a 4-partition
//! topic, a publish through its HTTP Publisher begins every ~20 ms (not
//! waiting for the earlier ones), and two busy processes keep both cores
//! loaded.
//!
//! After each disruption: `ftl dev` still runs, a publish is acknowledged
//! within 15 s of the broker answering again and reaches the verb, ftl made
//! the topics again (not the broker), and every declared topic has exactly
//! its declared partitions. A disruption that fails a check is recorded and
//! the run goes on (the next one makes every client anew), so one run tells
//! how each kind fares; the test fails at the end if any failed, if a
//! publish was refused, or if an event was lost.
//!
//! Lost means acknowledged while the broker kept it and never delivered.
//! The test broker keeps everything in memory: an event acknowledged just
//! before a stop, kill, restart or reset and not yet delivered is gone with
//! it, and is counted apart. Before each disruption the run waits until
//! everything acknowledged since the last one was delivered, so only the
//! events acknowledged between that moment and the broker being seen going
//! away can be gone with it. With a pause nothing may be lost.
//!
//! To see why a disruption failed: `FTL_FAULT_BROKER_LOG=ftl=debug` (the
//! `RUST_LOG` of `ftl dev`), `FTL_FAULT_BROKER_DEBUG=cgrp` (librdkafka's
//! debug contexts in the subscription's consumer) and
//! `FTL_FAULT_BROKER_GDB=1` (every thread's stack of `ftl dev` when a
//! publish or a delivery does not come).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::harness::{docker, on, require_docker, Dev, Event, Project, VerbServer};

mod checks;
mod load;

use checks::{
    assert_alive, brief, calls, delivered, stacks, topic_made, try_wait, undelivered, wait_answers,
    within, wrong_partitions,
};
pub(crate) use load::Publisher;
use load::{Ack, CpuHogs};

/// Declared partitions of `shop.t` and of its dead-letter topic.
const DECLARED: [(&str, usize); 2] = [("shop.t", 4), ("shop.sFailed", 1)];
/// How soon after the broker answers again a publish must be acknowledged.
const ACK_WITHIN: Duration = Duration::from_secs(15);
/// How long an event acknowledged after the broker came back may take to
/// reach the verb (the group's join and the start over: 1.3–5 s when
/// nothing holds them off, on the busy machine); and how long, before a
/// disruption, the events acknowledged since the last one may take.
const DELIVERED_WITHIN: Duration = Duration::from_secs(45);
const SETTLE_WITHIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Disruption {
    StopStart,
    /// `docker restart` as a user types it (Docker's default 10 s to stop);
    /// not in the default rounds: `FTL_FAULT_BROKER_KINDS=restart`.
    Restart,
    RestartNow,
    KillStart,
    Pause,
    ResetStart,
}

impl Disruption {
    const ALL: [Disruption; 5] = [
        Disruption::StopStart,
        Disruption::RestartNow,
        Disruption::KillStart,
        Disruption::Pause,
        Disruption::ResetStart,
    ];

    fn name(self) -> &'static str {
        match self {
            Disruption::StopStart => "stop -t 2, 5 s, start",
            Disruption::Restart => "restart",
            Disruption::RestartNow => "restart -t 0",
            Disruption::KillStart => "kill, broker start",
            Disruption::Pause => "pause 20 s, unpause",
            Disruption::ResetStart => "reset --yes, broker start",
        }
    }

    /// Every disruption, the default rounds' and the others.
    const EVERY: [Disruption; 6] = [
        Disruption::StopStart,
        Disruption::Restart,
        Disruption::RestartNow,
        Disruption::KillStart,
        Disruption::Pause,
        Disruption::ResetStart,
    ];

    /// Its word in `FTL_FAULT_BROKER_KINDS`.
    fn key(self) -> &'static str {
        match self {
            Disruption::StopStart => "stop",
            Disruption::Restart => "restart",
            Disruption::RestartNow => "restart-now",
            Disruption::KillStart => "kill",
            Disruption::Pause => "pause",
            Disruption::ResetStart => "reset",
        }
    }

    /// The disruptions of each round: `FTL_FAULT_BROKER_KINDS` (words
    /// separated by commas, from `stop`, `restart`, `restart-now`, `kill`,
    /// `pause`, `reset`), or the five of the issue.
    fn chosen() -> Vec<Disruption> {
        let Ok(words) = std::env::var("FTL_FAULT_BROKER_KINDS") else {
            return Disruption::ALL.to_vec();
        };
        words
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .map(|w| {
                Disruption::EVERY
                    .into_iter()
                    .find(|d| d.key() == w)
                    .unwrap_or_else(|| panic!("FTL_FAULT_BROKER_KINDS: no disruption `{w}` (stop, restart, restart-now, kill, pause, reset)"))
            })
            .collect()
    }

    /// The memory-only test broker forgets its topics and events.
    fn loses_data(self) -> bool {
        self != Disruption::Pause
    }
}

/// What one disruption showed.
#[derive(Debug)]
struct Outcome {
    kind: Disruption,
    what: String,
    /// From the broker answering again (or the unpause) to the first
    /// acknowledged publish, and to the first verb call.
    to_ack: Option<Duration>,
    to_delivery: Option<Duration>,
    /// `down_ms` of `broker_regained` (or `paused_ms` of `broker_unpaused`).
    ftl_down_ms: Option<u64>,
    /// Events acknowledged between these two moments (after everything
    /// acknowledged before was delivered, and before the broker was seen
    /// going away): a memory-only broker may take them with it.
    at_risk: (Instant, Instant),
    /// The checks it failed.
    failures: Vec<String>,
}

/// What a disruption works on.
struct Scene<'a> {
    p: &'a Project,
    dev: &'a Dev,
    server: &'a VerbServer,
    publisher: &'a Publisher,
}

/// One disruption of `kind`, and the checks after it.
fn disrupt(scene: &Scene, kind: Disruption, what: String, earlier: &[Outcome]) -> Outcome {
    let Scene {
        p,
        dev,
        server,
        publisher,
    } = *scene;
    let mut failures = Vec::new();
    // Everything acknowledged so far reaches the verb first: only what is
    // acknowledged from here on can be gone with the broker.
    // (Those acknowledged before the broker last lost its data are decided
    // already: delivered, or lost and counted at the end.)
    let settled = Instant::now();
    let since = earlier
        .iter()
        .filter(|o| o.kind.loses_data())
        .map(|o| o.at_risk.1)
        .max();
    let mut missing = Vec::new();
    if !within(SETTLE_WITHIN, || {
        missing = undelivered(publisher, server, earlier, (since, settled));
        missing.is_empty()
    }) {
        failures.push(format!(
            "before it, {} events acknowledged since the broker last lost its data were still not delivered after {SETTLE_WITHIN:?} (first: {:?})",
            missing.len(),
            &missing[..missing.len().min(10)]
        ));
    }
    let lost_before = dev.count(&on!(Event::BrokerLost { .. }));
    let regained_before = dev.count(&on!(Event::BrokerRegained { .. }));
    let unpaused_before = dev.count(&on!(Event::BrokerUnpaused { .. }));
    let made_before = topic_made(dev);
    let container = p.container();
    let went_away = |failures: &mut Vec<String>| {
        if try_wait(
            dev,
            on!(Event::BrokerLost { .. }),
            lost_before + 1,
            Duration::from_secs(30),
        )
        .is_none()
        {
            failures.push("no broker_lost within 30 s".to_string());
        }
        Instant::now()
    };
    let mut at_risk = (settled, settled);
    let answered = match kind {
        Disruption::StopStart => {
            docker::cli(&["stop", "-t", "2", &container]);
            at_risk.1 = went_away(&mut failures);
            // The scenario's deliberate outage.
            std::thread::sleep(Duration::from_secs(5));
            docker::cli(&["start", &container]);
            wait_answers(p, dev, &what)
        }
        Disruption::Restart => {
            docker::cli(&["restart", &container]);
            at_risk.1 = went_away(&mut failures);
            wait_answers(p, dev, &what)
        }
        Disruption::RestartNow => {
            docker::cli(&["restart", "-t", "0", &container]);
            at_risk.1 = went_away(&mut failures);
            wait_answers(p, dev, &what)
        }
        Disruption::KillStart => {
            docker::cli(&["kill", &container]);
            at_risk.1 = went_away(&mut failures);
            p.run(&["pubsub", "broker", "start"]).succeeds();
            wait_answers(p, dev, &what)
        }
        Disruption::Pause => {
            let paused = dev.count(&on!(Event::BrokerPaused { .. }));
            docker::cli(&["pause", &container]);
            if try_wait(
                dev,
                on!(Event::BrokerPaused { .. }),
                paused + 1,
                Duration::from_secs(30),
            )
            .is_none()
            {
                failures.push("no broker_paused within 30 s".to_string());
            }
            // The scenario's deliberate pause.
            std::thread::sleep(Duration::from_secs(20));
            docker::cli(&["unpause", &container]);
            Instant::now()
        }
        Disruption::ResetStart => {
            let before = p.bootstrap();
            p.run(&["pubsub", "broker", "reset", "--yes"])
                .succeeds()
                .says("uses this broker");
            at_risk.1 = went_away(&mut failures);
            p.run(&["pubsub", "broker", "start"]).succeeds();
            let after = p.bootstrap();
            let at = wait_answers(p, dev, &what);
            if before == after {
                failures.push(format!("the new container has the old address {after}"));
            }
            if try_wait(
                dev,
                on!(Event::BrokerMoved { address, .. } if *address == after),
                1,
                Duration::from_secs(30),
            )
            .is_none()
            {
                failures.push(format!("no broker_moved to {after} within 30 s"));
            }
            at
        }
    };
    // A publish is acknowledged within 15 s of the broker answering (its
    // time is taken if it comes later, up to 60 s).
    let mut first = None;
    within(Duration::from_secs(60), || {
        first = publisher.first_acked_after(answered);
        first.is_some()
    });
    let to_ack = first.map(|a| a.at.saturating_duration_since(answered));
    if to_ack.is_none_or(|d| d > ACK_WITHIN) {
        failures.push(format!(
            "no publish acknowledged within {ACK_WITHIN:?} of the broker answering (first after {to_ack:?}); {}{}",
            publisher.describe(),
            stacks(dev)
        ));
    }
    // ... and it reaches the verb.
    if let Some(first) = first {
        if !within(DELIVERED_WITHIN, || delivered(server).contains(&first.id)) {
            failures.push(format!(
                "event {} (acknowledged {:?} after the broker answered) did not reach the verb within {DELIVERED_WITHIN:?}{}",
                first.id,
                first.at - answered,
                stacks(dev)
            ));
        }
    }
    let to_delivery = server
        .requests()
        .iter()
        .map(|r| r.at)
        .find(|at| *at > answered)
        .map(|at| at.saturating_duration_since(answered));
    let ftl_down_ms = if kind == Disruption::Pause {
        try_wait(
            dev,
            on!(Event::BrokerUnpaused { paused_ms, .. } => *paused_ms),
            unpaused_before + 1,
            Duration::from_secs(30),
        )
    } else {
        try_wait(
            dev,
            on!(Event::BrokerRegained { down_ms, .. } => *down_ms),
            regained_before + 1,
            Duration::from_secs(30),
        )
    };
    if ftl_down_ms.is_none() {
        failures.push("no broker_regained (or broker_unpaused) within 30 s".to_string());
    }
    assert_alive(dev, &what);
    if let Some(wrong) = wrong_partitions(p) {
        failures.push(wrong);
    }
    if kind.loses_data() {
        // The topic came back because ftl made it, as declared; not because
        // a client's request made the broker create it.
        if !within(Duration::from_secs(15), || topic_made(dev) > made_before) {
            failures.push("ftl did not create shop.t again".to_string());
        }
    } else {
        if dev.count(&on!(Event::BrokerLost { .. })) != lost_before {
            failures.push("a pause was taken for a loss (broker_lost)".to_string());
        }
        at_risk = (settled, settled);
    }
    let o = Outcome {
        kind,
        what,
        to_ack,
        to_delivery,
        ftl_down_ms,
        at_risk,
        failures,
    };
    let secs =
        |d: Option<Duration>| d.map_or("-".to_string(), |d| format!("{:.2} s", d.as_secs_f64()));
    eprintln!(
        "{}: acknowledged after {}, delivered after {} (ftl dev: down {:?} ms){}",
        o.what,
        secs(o.to_ack),
        secs(o.to_delivery),
        o.ftl_down_ms,
        if o.failures.is_empty() {
            String::new()
        } else {
            format!("; FAILED: {}", o.failures.join("; "))
        }
    );
    o
}

/// Minimum, median and maximum.
fn spread(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    match v.len() {
        0 => "-".to_string(),
        n => format!("{:.2} / {:.2} / {:.2}", v[0], v[n / 2], v[n - 1]),
    }
}

#[test]
#[ignore = "long: run with `cargo test --release --test it -- --ignored fault_suite_broker --nocapture`"]
fn fault_suite_broker() {
    require_docker();
    let rounds: usize = std::env::var("FTL_FAULT_BROKER_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let started = Instant::now();
    // One event in 97 is refused for good: its dead letter is written to
    // the dead-letter topic, which is followed through every disruption too.
    let server = VerbServer::start(|r, _| {
        if r.json()["id"].as_u64().is_some_and(|id| id % 97 == 0) {
            (400, "refused for good".into())
        } else {
            (200, String::new())
        }
    });
    let p = Project::single_subscription(
        &server.url("/v"),
        "partitions: 4, key: /k",
        "deadletter: true",
    );
    // `FTL_FAULT_BROKER_DEBUG=cgrp,topic` turns librdkafka's debug contexts
    // on in the subscription's consumer (`runner.consumer.debug`).
    if let Ok(contexts) = std::env::var("FTL_FAULT_BROKER_DEBUG") {
        p.project_file(&format!("  consumer: {{debug: \"{contexts}\"}}"));
    }
    let _hogs = CpuHogs::start(2);
    // `FTL_FAULT_BROKER_LOG=ftl=debug` gives `ftl dev` that `RUST_LOG`.
    let log_filter = std::env::var("FTL_FAULT_BROKER_LOG").unwrap_or_default();
    let dev = if log_filter.is_empty() {
        p.dev()
    } else {
        p.dev_with(&[("RUST_LOG", &log_filter)])
    };
    dev.wait_assigned("shop.s", 1);
    let mut publisher = Publisher::start(&p.listen);
    let mut outcomes: Vec<Outcome> = Vec::new();
    let kinds = Disruption::chosen();
    for round in 1..=rounds {
        for &kind in &kinds {
            let scene = Scene {
                p: &p,
                dev: &dev,
                server: &server,
                publisher: &publisher,
            };
            let what = format!("round {round}, {}", kind.name());
            let o = disrupt(&scene, kind, what, &outcomes);
            outcomes.push(o);
        }
    }

    // A last stretch of publishing, then everything acknowledged that the
    // broker kept must reach the verb.
    let last = publisher.acked_count();
    let stretch = within(Duration::from_secs(30), || {
        publisher.acked_count() >= last + 50
    });
    publisher.finish();
    let end = Instant::now();
    // (Those acknowledged before the broker last lost its data are decided.)
    let since = outcomes
        .iter()
        .filter(|o| o.kind.loses_data())
        .map(|o| o.at_risk.1)
        .max();
    within(Duration::from_secs(120), || {
        undelivered(&publisher, &server, &outcomes, (since, end)).is_empty()
    });
    assert_alive(&dev, "the last disruption");
    let lost = undelivered(&publisher, &server, &outcomes, (None, end));
    let acked = publisher.acked();
    let all_calls = calls(&server);
    let got: HashSet<u64> = all_calls.iter().map(|(id, _)| *id).collect();
    let gone = |o: &Outcome| {
        acked
            .iter()
            .filter(|a| o.kind.loses_data() && a.at > o.at_risk.0 && a.at <= o.at_risk.1)
            .filter(|a| !got.contains(&a.id))
            .count()
    };
    let duplicates = all_calls.len() - got.len();
    let refused = publisher.refused();
    // Publishes wait while the broker is away (20 s and more for a pause).
    let waits: Vec<f64> = publisher
        .sent()
        .iter()
        .map(|s| (s.ended - s.began).as_secs_f64())
        .collect();
    let waited = waits.iter().filter(|w| **w > 5.0).count();
    let longest = waits.iter().copied().fold(0.0, f64::max);
    let (code, log) = dev.stop();

    let mut by_kind: HashMap<Disruption, Vec<&Outcome>> = HashMap::new();
    for o in &outcomes {
        by_kind.entry(o.kind).or_default().push(o);
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.failures.is_empty()).collect();
    let mut table = format!(
        "fault suite (broker): {} disruptions in {rounds} rounds under 2 busy processes, {} passed every check, \
         ftl dev never exited, {:.0} s\n",
        outcomes.len(),
        outcomes.len() - failed.len(),
        started.elapsed().as_secs_f64()
    );
    table.push_str(
        "| disruption | n | failed | to first ack, s (min / median / max) | to first delivery, s | ftl dev down, s | acknowledged, then gone with the broker |\n",
    );
    for kind in Disruption::EVERY {
        let Some(os) = by_kind.get(&kind) else {
            continue;
        };
        let secs = |f: &dyn Fn(&Outcome) -> Option<Duration>| {
            spread(
                os.iter()
                    .filter_map(|o| f(o))
                    .map(|d| d.as_secs_f64())
                    .collect(),
            )
        };
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            kind.name(),
            os.len(),
            os.iter().filter(|o| !o.failures.is_empty()).count(),
            secs(&|o| o.to_ack),
            secs(&|o| o.to_delivery),
            spread(
                os.iter()
                    .filter_map(|o| o.ftl_down_ms)
                    .map(|m| m as f64 / 1000.0)
                    .collect()
            ),
            os.iter().map(|o| gone(o)).sum::<usize>()
        ));
    }
    table.push_str(&format!(
        "{} published and acknowledged, {} refused or failed, {} verb calls for {} events: \
         lost {} (acknowledged while the broker kept them), gone with the memory-only broker {}, duplicates {}\n\
         {waited} publishes waited more than 5 s, the longest {longest:.1} s\n",
        acked.len(),
        refused.len(),
        all_calls.len(),
        got.len(),
        lost.len(),
        outcomes.iter().map(gone).sum::<usize>(),
        duplicates,
    ));
    for r in &refused {
        table.push_str(&format!("refused: {r}\n"));
    }
    for o in &failed {
        table.push_str(&format!("FAILED {}: {}\n", o.what, o.failures.join("; ")));
    }
    eprintln!("{table}");
    assert!(stretch, "publishing stalled at the end:\n{}", brief(&log));
    // No outage here is longer than a publish may wait (30 s): every
    // publish is acknowledged in the end.
    assert!(
        failed.is_empty() && lost.is_empty() && refused.is_empty(),
        "{} disruptions failed a check; {} publishes refused; lost {} events acknowledged while the broker kept them (first: {:?}):\n{}",
        failed.len(),
        refused.len(),
        lost.len(),
        &lost[..lost.len().min(20)],
        brief(&log)
    );
    assert_eq!(code, 0, "{}", brief(&log));
}
