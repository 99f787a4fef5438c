//! Issue 3: Ctrl-C and SIGTERM: the event in hand finishes within the grace
//! period or comes again; backoffs are interrupted; a second Ctrl-C exits.

use std::time::{Duration, Instant};

use crate::harness::{ok, on, require_docker, Event, Project, VerbServer};
use ftl::events::Outcome;

fn slow_verb_project(grace: &str, verb_ms: u64) -> (Project, VerbServer) {
    let server = VerbServer::start(move |_, n| {
        if n == 0 {
            std::thread::sleep(Duration::from_millis(verb_ms));
        }
        (200, String::new())
    });
    let p = Project::single_subscription(&server.url("/v"), "", "");
    let text = std::fs::read_to_string(p.path().join("ftl-project.yaml")).unwrap();
    p.write(
        "ftl-project.yaml",
        &text.replace("grace: 5s", &format!("grace: {grace}")),
    );
    (p, server)
}

#[test]
fn ctrl_c_during_a_slow_verb_finishes_the_event_within_the_grace_period() {
    require_docker();
    let (p, server) = slow_verb_project("5s", 1500);
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { .. }),
        Duration::from_secs(60),
    );
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    server.wait_for(1, Duration::from_secs(30));
    dev.signal("INT");
    let mut dev = dev;
    let (code, log) = dev.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 0, "{log}");
    let done = dev.wait(
        on!(Event::Delivery(d) if d.subscription == "shop.s" => d.clone()),
        Duration::from_secs(1),
    );
    assert_eq!(
        (done.partition, done.offset, done.attempt, done.outcome),
        (0, 0, 1, Outcome::Ok),
        "{log}"
    );
    assert_eq!(p.kafka().committed("shop.s", "shop.t", 1), vec![Some(1)]);
    // Not delivered again.
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { .. }),
        Duration::from_secs(60),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(server.requests().len(), 1);
    dev.stop();
}

#[test]
fn ctrl_c_during_a_verb_slower_than_the_grace_period_redelivers_it() {
    require_docker();
    let (p, server) = slow_verb_project("1s", 4000);
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { .. }),
        Duration::from_secs(60),
    );
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    server.wait_for(1, Duration::from_secs(30));
    dev.signal("INT");
    let mut dev = dev;
    let (code, log) = dev.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 0, "{log}");
    let gave_up = dev.wait(
        on!(Event::Delivery(d) if d.subscription == "shop.s" => d.outcome),
        Duration::from_secs(1),
    );
    assert_eq!(gave_up, Outcome::Abandoned, "{log}");
    assert_eq!(
        dev.count(&on!(Event::Abandoned { subscription, .. } if subscription == "shop.s")),
        1,
        "{log}"
    );
    let dev = p.dev();
    server.wait_for(2, Duration::from_secs(30));
    assert_eq!(
        server.requests()[1].json()["id"],
        1,
        "the abandoned event comes again"
    );
    dev.stop();
}

#[test]
fn ctrl_c_interrupts_a_retry_backoff_without_committing() {
    require_docker();
    let server = VerbServer::start(|_, n| {
        if n == 0 {
            (503, "busy".into())
        } else {
            (200, String::new())
        }
    });
    let p = Project::single_subscription(
        &server.url("/v"),
        "",
        "retry: {count: 3, min_backoff: 30s, max_backoff: 30s}",
    );
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { .. }),
        Duration::from_secs(60),
    );
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    dev.wait(
        on!(Event::Delivery(d) if d.outcome == Outcome::Retry && d.retry_in_ms == Some(30_000)),
        Duration::from_secs(30),
    );
    let asked = Instant::now();
    dev.signal("INT");
    let mut dev = dev;
    let (code, log) = dev.wait_exit(Duration::from_secs(20));
    assert_eq!(code, 0, "{log}");
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "the backoff was waited out: {:?}",
        asked.elapsed()
    );
    assert_eq!(p.kafka().committed("shop.s", "shop.t", 1), vec![None]);
    let dev = p.dev();
    server.wait_for(2, Duration::from_secs(30));
    assert_eq!(
        server.requests()[1].header("ftl-attempt"),
        "1",
        "retry state is not kept across restarts"
    );
    dev.stop();
}

/// Regression: leaving a group while its join was in progress left the test
/// broker waiting for the leaver, and no later runner was ever assigned.
#[test]
fn stopping_during_the_group_join_does_not_wedge_the_group() {
    require_docker();
    let server = VerbServer::start(ok);
    let p = Project::single_subscription(&server.url("/v"), "partitions: 2, key: /k", "");
    for _ in 0..3 {
        let dev = p.dev();
        dev.wait_ready();
        let (code, log) = dev.stop();
        assert_eq!(code, 0, "{log}");
    }
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(20),
    );
    p.kafka()
        .produce("shop.t", &[(Some("a"), "{\"k\":\"a\"}".into())]);
    assert_eq!(server.wait_for(1, Duration::from_secs(30)).len(), 1);
    dev.stop();
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    require_docker();
    let (p, server) = slow_verb_project("30s", 20_000);
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { .. }),
        Duration::from_secs(60),
    );
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    server.wait_for(1, Duration::from_secs(30));
    dev.signal("INT");
    dev.wait(on!(Event::Stopping), Duration::from_secs(10));
    let asked = Instant::now();
    dev.signal("INT");
    let mut dev = dev;
    let (code, log) = dev.wait_exit(Duration::from_secs(10));
    assert_eq!(code, 130, "{log}");
    assert!(
        asked.elapsed() < Duration::from_secs(5),
        "{:?}",
        asked.elapsed()
    );
    assert!(log.contains("exiting at once"), "{log}");
    // Nothing was committed for the event in hand.
    assert_eq!(p.kafka().committed("shop.s", "shop.t", 1), vec![None]);
}
