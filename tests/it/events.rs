//! Issue 7: the runner speaks in typed events (`ftl dev --json`), no
//! subscription fails silently, and the admin API is typed and streams.

use std::time::Duration;

use serde_json::{json, Value};

use ftl::events::{Delivery, Outcome};

use crate::harness::{json_lines, on, require_docker, wait_until, Event, Project, VerbServer};

/// A librdkafka property value the Kafka client refuses at creation.
const REFUSED_CONSUMER: &str = "  consumer: {session.timeout.ms: \"soon\"}\n";

#[test]
fn the_json_stream_has_one_typed_object_per_event_with_its_type_first() {
    require_docker();
    // First delivery fails (retried), the second succeeds; "bad" events are
    // refused for good and dead-lettered.
    let server = VerbServer::warming_up_refusing_bad();
    let p = Project::single_subscription(
        &server.url("/v"),
        "",
        "deadletter: true, retry: {count: 2, min_backoff: 100ms, max_backoff: 100ms}",
    );
    let dev = p.dev();
    let ready = dev.wait_ready();
    let Event::Ready {
        subscriptions,
        listen,
        ..
    } = &ready
    else {
        unreachable!("{ready:?}")
    };
    assert_eq!(*subscriptions, 1, "{ready:?}");
    assert_eq!(listen.as_deref(), Some(p.listen.as_str()), "{ready:?}");
    dev.wait_assigned("shop.s", 1);
    p.kafka().produce(
        "shop.t",
        &[
            (Some("k1"), "{\"id\":1}".into()),
            (Some("k2"), "{\"id\":\"bad\"}".into()),
        ],
    );
    let dead = dev.wait(
        on!(Event::Delivery(d) if d.outcome == Outcome::DeadLettered => d.clone()),
        Duration::from_secs(30),
    );
    // The stream as written: one object per event, its type first.
    let written = dev.json();
    for e in &written {
        let first = e.as_object().and_then(|o| o.keys().next()).cloned();
        assert_eq!(first.as_deref(), Some("type"), "type comes first: {e}");
    }
    let events = dev.events();
    assert_eq!(written.len(), events.len());
    let at = |test: fn(&Event) -> bool| events.iter().position(test).unwrap_or(usize::MAX);
    assert!(
        at(|e| matches!(e, Event::Starting { .. }))
            < at(|e| matches!(e, Event::BrokerReady { .. })),
        "{events:?}"
    );
    assert!(
        at(|e| matches!(e, Event::ConsumerStarting { .. }))
            < at(|e| matches!(e, Event::ConsumerStarted { .. })),
        "{events:?}"
    );
    assert!(
        at(|e| matches!(e, Event::ConsumerStarted { .. }))
            < at(|e| matches!(e, Event::Ready { .. })),
        "{events:?}"
    );
    assert!(
        at(|e| matches!(e, Event::Listening { .. })) < at(|e| matches!(e, Event::Ready { .. })),
        "{events:?}"
    );
    let deliveries: Vec<&Value> = written
        .iter()
        .zip(&events)
        .filter(|(_, e)| matches!(e, Event::Delivery(d) if d.subscription == "shop.s"))
        .map(|(w, _)| w)
        .collect();
    assert_eq!(
        deliveries[0],
        &json!({
            "type": "delivery", "subscription": "shop.s", "topic": "shop.t",
            "partition": 0, "offset": 0, "key": "k1", "verb": "v", "attempt": 1,
            "ms": deliveries[0]["ms"], "outcome": "retry",
            "error": "HTTP 500: warming up", "retry_in_ms": 100,
            // Published by another client without FTL's headers: the key
            // the runner gave it.
            "request_key": deliveries[0]["request_key"],
        })
    );
    assert!(
        deliveries[0]["request_key"]
            .as_str()
            .unwrap()
            .starts_with("req-pubsub-shop-t-"),
        "{}",
        deliveries[0]
    );
    assert_eq!(deliveries[1]["outcome"], "ok");
    assert_eq!(deliveries[1]["attempt"], 2);
    let Delivery {
        offset,
        attempt,
        deadletter_topic,
        error,
        ..
    } = &dead;
    assert_eq!(*offset, 1);
    assert_eq!(*attempt, 1, "a 4xx is not retried: {dead:?}");
    assert_eq!(deadletter_topic.as_deref(), Some("shop.sFailed"));
    assert_eq!(error.as_deref(), Some("HTTP 400: no such pizza"));

    // The snapshot behind the admin API counted them.
    let (code, body) = p.http("GET", "/admin/status", None);
    assert_eq!(code, 200, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    let sub = &status["subscriptions"]["shop.s"];
    assert_eq!(sub["state"], "running", "{status}");
    assert_eq!(sub["partitions"], json!([0]), "{status}");
    assert_eq!(
        sub["counters"],
        json!({"ok": 1, "retried": 1, "dead_lettered": 1, "dropped": 0, "abandoned": 0}),
        "{status}"
    );
    assert_eq!(status["broker"]["reachable"], true, "{status}");

    let (code, log, events) = dev.stop_with_events();
    assert_eq!(code, 0, "{log}");
    let at = |test: fn(&Event) -> bool| events.iter().position(test).unwrap_or(usize::MAX);
    assert!(
        at(|e| matches!(e, Event::Stopping)) < at(|e| matches!(e, Event::ConsumerStopped { .. })),
        "{log}"
    );
    assert!(matches!(events.last(), Some(Event::Stopped)), "{log}");
}

#[test]
fn a_subscription_whose_consumer_cannot_start_stops_ftl_dev_at_first_start() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    p.project_file(REFUSED_CONSUMER);
    let mut dev = p.dev();
    let (code, log) = dev.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 1, "{log}");
    let (reason, hint) = dev.wait(
        on!(Event::ConsumerFailed { subscription, reason, hint } if subscription == "shop.s" => (reason.clone(), hint.clone())),
        Duration::from_secs(1),
    );
    assert!(reason.contains("session.timeout.ms"), "{reason}");
    assert!(
        hint.as_deref()
            .unwrap_or_default()
            .contains("runner.consumer"),
        "{hint:?}"
    );
    assert_eq!(
        dev.count(&on!(Event::Ready { .. })),
        0,
        "never ready:\n{log}"
    );
    assert!(
        log.contains("error: 1 subscription could not start, so `ftl dev` stopped: shop.s"),
        "{log}"
    );
}

#[test]
fn a_subscription_that_fails_on_reload_is_failed_in_status_and_comes_back_when_fixed() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = Project::single_subscription(&server.url("/v"), "", "");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);

    p.project_file(REFUSED_CONSUMER);
    let failed = dev.wait(
        on!(Event::ReloadApplied { failed, .. } => failed.clone()),
        Duration::from_secs(30),
    );
    assert_eq!(failed, ["shop.s"], "{}", dev.log());
    dev.wait(
        on!(Event::ConsumerFailed { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(1),
    );

    let out = p.run(&["pubsub", "status", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s = &json_lines(&out.stdout)[0]["subscriptions"][0];
    assert_eq!(s["state"], "failed", "{s}");
    assert!(
        s["reason"].as_str().unwrap().contains("session.timeout.ms"),
        "{s}"
    );
    let out = p.run(&["pubsub", "status"]);
    assert!(
        out.stdout.contains("shop.s") && out.stdout.contains("failed: the Kafka client refused"),
        "{}",
        out.stdout
    );

    // Fixed: it starts again and delivers.
    p.project_file("");
    let restarted = dev.wait_nth(
        on!(Event::ReloadApplied { restarted, .. } => restarted.clone()),
        2,
        Duration::from_secs(30),
    );
    assert_eq!(restarted, ["shop.s"], "{}", dev.log());
    dev.wait_assigned("shop.s", 2);
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    server.wait_for(1, Duration::from_secs(30));
    wait_until("status running", Duration::from_secs(10), || {
        let out = p.run(&["pubsub", "status", "--json"]);
        json_lines(&out.stdout)[0]["subscriptions"][0]["state"] == "running"
    });
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_dead_letter_replay_through_the_runner_streams_progress_while_a_slow_verb_works() {
    require_docker();
    // The first delivery is refused for good; the replay takes 6 s, longer
    // than the runner's heartbeat.
    let server = VerbServer::start(|_, n| {
        if n == 0 {
            (400, "not yet".into())
        } else {
            std::thread::sleep(Duration::from_secs(6));
            (200, String::new())
        }
    });
    let p = Project::single_subscription(&server.url("/v"), "", "deadletter: true");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    dev.wait(
        on!(Event::Delivery(d) if d.outcome == Outcome::DeadLettered),
        Duration::from_secs(30),
    );

    // State changes need a JSON body.
    let (code, body) = p.http(
        "POST",
        "/admin/subscriptions/shop.s/replay-deadletter",
        Some("limit=1"),
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("bad request body"), "{body}");

    let (code, body) = p.http(
        "POST",
        "/admin/subscriptions/shop.s/replay-deadletter",
        Some("{\"limit\": null, \"dry_run\": false}"),
    );
    assert_eq!(code, 200, "{body}");
    let lines = json_lines(&body);
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["type"].as_str()).collect();
    assert_eq!(kinds, ["working", "item", "done"], "{body}");
    assert_eq!(lines[1]["replayed"]["outcome"], "ok", "{body}");
    let done = dev.wait(
        on!(Event::DeadletterReplayDone { subscription, ok, failed } if subscription == "shop.s" => (*ok, *failed)),
        Duration::from_secs(5),
    );
    assert_eq!(done, (1, 0));

    let out = p.run(&["pubsub", "deadletters", "shop.s"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("0 pending dead letters"),
        "{}",
        out.stderr
    );
    dev.stop();
}

#[test]
fn the_broker_going_away_and_coming_back_are_events() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev();
    dev.wait_ready();
    let docker = crate::harness::docker::cli;
    docker(&["stop", "-t", "1", &p.container()]);
    let lost = dev.wait(
        on!(Event::BrokerLost { address, .. } => address.clone()),
        Duration::from_secs(30),
    );
    assert_eq!(lost, p.bootstrap());
    let (code, body) = p.http("GET", "/admin/status", None);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r#""reachable":false"#), "{body}");
    docker(&["start", &p.container()]);
    let down_ms = dev.wait(
        on!(Event::BrokerRegained { down_ms, .. } => *down_ms),
        Duration::from_secs(30),
    );
    assert!(down_ms > 0, "{}", dev.log());
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}
