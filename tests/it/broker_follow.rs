//! `ftl dev` follows its broker through whatever happens to the container:
//! a `docker restart` (fast: the broker is back before a health probe could
//! notice), a pause, a reset and start on another port. Every wait is on an
//! event of `ftl dev` or on the verb's requests, never a sleep.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{docker, json_lines, on, require_docker, Dev, Event, Project, VerbServer};

/// Publishes `{"id": id}` through the runner's Publisher; its status code.
fn publish(p: &Project, id: u32) -> u16 {
    crate::harness::http(
        &p.listen,
        "POST",
        "/topics/shop.t",
        Some(&format!("{{\"id\":{id}}}")),
    )
    .0
}

/// The ids the verb received.
fn delivered(server: &VerbServer) -> Vec<u64> {
    server
        .requests()
        .iter()
        .filter_map(|r| r.json()["id"].as_u64())
        .collect()
}

#[track_caller]
fn wait_delivered(server: &VerbServer, dev: &Dev, id: u64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !delivered(server).contains(&id) {
        assert!(
            Instant::now() < deadline,
            "event {id} never reached the verb within {timeout:?}; ftl dev:\n{}",
            dev.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `ftl dev` still runs: its process exists and is not a zombie (a crash
/// leaves one until the test reaps it).
#[track_caller]
fn assert_alive(dev: &Dev) {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", dev.pid())).unwrap_or_default();
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|r| r.split_whitespace().next());
    assert!(
        matches!(state, Some(s) if s != "Z" && s != "X"),
        "ftl dev exited ({stat}):\n{}",
        dev.log()
    );
}

/// A restart fits between two health probes and comes back without the
/// topic (the test broker keeps nothing); librdkafka 2.12 crashed `ftl dev`
/// (SIGSEGV in its metadata cache) in 11 of 12 such restarts when a client
/// that knew the old topic saw it come back with a new identity.
#[test]
fn docker_restart_of_the_broker_is_followed_and_deliveries_go_on() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = Project::single_subscription(&server.url("/v"), "partitions: 4, key: /id", "");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    for round in 1..=3u32 {
        let args: &[&str] = if round == 2 {
            &["restart", "-t", "0"]
        } else {
            &["restart"]
        };
        let mut cmd: Vec<&str> = args.to_vec();
        let container = p.container();
        cmd.push(&container);
        docker::cli(&cmd);
        let lost = dev.wait_nth(
            on!(Event::BrokerLost { reason, .. } => reason.clone()),
            round as usize,
            Duration::from_secs(30),
        );
        assert_eq!(lost, "its container stopped");
        let back = dev.wait_nth(
            on!(Event::BrokerRegained { down_ms, .. } => *down_ms),
            round as usize,
            Duration::from_secs(60),
        );
        // Waits (within its timeout) for the topic to be there again.
        let status = publish(&p, round);
        assert_eq!(status, 200, "publish after restart {round}:\n{}", dev.log());
        wait_delivered(&server, &dev, round as u64, Duration::from_secs(30));
        assert_alive(&dev);
        eprintln!("restart {round}: back after {back} ms");
    }
    // Created again with the declared partitions, by ftl, every time.
    assert_eq!(p.kafka().partitions("shop.t"), Some(4));
    assert_eq!(
        dev.count(&on!(Event::TopicCreated { .. })),
        4,
        "once at start, once per restart:\n{}",
        dev.log()
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

/// `broker reset --yes` then `broker start` makes a new container on a new
/// port: `ftl dev` moves every client there.
#[test]
fn a_reset_and_start_moves_ftl_dev_to_the_new_container() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = Project::single_subscription(&server.url("/v"), "", "");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    let before = p.bootstrap();

    // Without --yes and without a terminal, a reset under a runner is refused.
    let out = p.run(&["pubsub", "broker", "reset"]);
    out.fails_with(2).says("`ftl dev` (pid ");
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);
    let out = p.run(&["pubsub", "broker", "reset", "--yes"]);
    out.succeeds().says("uses this broker");
    dev.wait(on!(Event::BrokerLost { .. }), Duration::from_secs(30));
    p.run(&["pubsub", "broker", "start"]).succeeds();
    let after = p.bootstrap();
    assert_ne!(before, after, "the new container has a new port");

    let moved = dev.wait(
        on!(Event::BrokerMoved { address, .. } => address.clone()),
        Duration::from_secs(60),
    );
    assert_eq!(moved, after);
    let back = dev.wait(
        on!(Event::BrokerRegained { address, .. } => address.clone()),
        Duration::from_secs(60),
    );
    assert_eq!(back, after);
    assert_eq!(publish(&p, 7), 200, "{}", dev.log());
    wait_delivered(&server, &dev, 7, Duration::from_secs(30));

    let out = p.run(&["pubsub", "status", "--json"]);
    out.succeeds();
    let status = &json_lines(&out.stdout)[0];
    assert_eq!(status["broker"]["address"], after.as_str(), "{status}");
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

/// A paused broker answers nothing: shown as paused, and what is published
/// meanwhile is acknowledged and delivered once it is unpaused.
#[test]
fn a_paused_broker_is_shown_paused_and_nothing_is_lost() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = Project::single_subscription(&server.url("/v"), "", "");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    assert_eq!(publish(&p, 1), 200);
    wait_delivered(&server, &dev, 1, Duration::from_secs(30));

    docker::cli(&["pause", &p.container()]);
    dev.wait(on!(Event::BrokerPaused { .. }), Duration::from_secs(30));
    let (code, body) = p.http("GET", "/admin/status", None);
    assert_eq!(code, 200, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["broker"]["paused"], true, "{status}");

    // Published while paused: acknowledged only after the unpause.
    let listen = p.listen.clone();
    let publishing = std::thread::spawn(move || {
        crate::harness::http(&listen, "POST", "/topics/shop.t", Some("{\"id\":2}")).0
    });
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        !publishing.is_finished(),
        "acknowledged by a paused broker?"
    );
    docker::cli(&["unpause", &p.container()]);
    let paused_ms = dev.wait(
        on!(Event::BrokerUnpaused { paused_ms, .. } => *paused_ms),
        Duration::from_secs(30),
    );
    assert!(paused_ms >= 500, "{paused_ms}");
    assert_eq!(publishing.join().unwrap(), 200, "{}", dev.log());
    wait_delivered(&server, &dev, 2, Duration::from_secs(30));
    assert_eq!(
        dev.count(&on!(Event::BrokerLost { .. })),
        0,
        "{}",
        dev.log()
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

/// `broker stop` under a running `ftl dev` says so; with `--yes` it stops,
/// and `ftl dev` sees it at once (not at the next probe).
#[test]
fn stopping_the_broker_under_ftl_dev_needs_yes_and_is_seen_at_once() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    p.run(&["pubsub", "broker", "stop"])
        .fails_with(2)
        .says("uses this broker");
    p.run(&["pubsub", "broker", "stop", "--yes"])
        .succeeds()
        .says("its deliveries and publishes wait");
    let lost = dev.wait(
        on!(Event::BrokerLost { reason, .. } => reason.clone()),
        Duration::from_secs(10),
    );
    assert_eq!(lost, "its container stopped");
    // Its consumer was closed and waits for the broker.
    dev.wait(
        on!(Event::ConsumerStopped { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(30),
    );
    let (code, body) = p.http("GET", "/admin/status", None);
    assert_eq!(code, 200, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(status["broker"]["reachable"], false, "{status}");
    assert_eq!(
        status["subscriptions"]["shop.s"]["state"], "waiting",
        "{status}"
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}
