//! Issue 7: the runner speaks in typed events (`ftl dev --json`), no
//! subscription fails silently, and the admin API is typed and streams.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::{json_lines, require_docker, wait_until, Ev, Project, VerbServer};

/// A librdkafka property value the Kafka client refuses at creation.
const REFUSED_CONSUMER: &str = "  consumer: {session.timeout.ms: \"soon\"}\n";

#[test]
fn the_json_stream_has_one_typed_object_per_event_with_its_type_first() {
    require_docker();
    // First delivery fails (retried), the second succeeds; "bad" events are
    // refused for good and dead-lettered.
    let server = VerbServer::start(|r, n| {
        if String::from_utf8_lossy(&r.body).contains("bad") {
            (400, "no such pizza".into())
        } else if n == 0 {
            (500, "warming up".into())
        } else {
            (200, String::new())
        }
    });
    let p = Project::single_subscription(
        &server.url("/v"),
        "",
        "deadletter: true, retry: {count: 2, min_backoff: 100ms, max_backoff: 100ms}",
    );
    let dev = p.dev();
    let ready = dev.wait_ready();
    assert_eq!(ready["subscriptions"], 1, "{ready}");
    assert_eq!(ready["listen"], json!(p.listen), "{ready}");
    dev.wait_assigned("shop.s", 1);
    p.kafka().produce(
        "shop.t",
        &[
            (Some("k1"), "{\"id\":1}".into()),
            (Some("k2"), "{\"id\":\"bad\"}".into()),
        ],
    );
    let dead = dev.wait_where("a dead letter", 1, Duration::from_secs(30), |e| {
        e["outcome"] == "dead_lettered"
    });
    let events = dev.events();
    for e in &events {
        let first = e.as_object().and_then(|o| o.keys().next()).cloned();
        assert_eq!(first.as_deref(), Some("type"), "type comes first: {e}");
    }
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    let at = |k: &str| kinds.iter().position(|x| *x == k).unwrap_or(usize::MAX);
    assert!(at("starting") < at("broker_ready"), "{kinds:?}");
    assert!(
        at("consumer_starting") < at("consumer_started"),
        "{kinds:?}"
    );
    assert!(at("consumer_started") < at("ready"), "{kinds:?}");
    assert!(at("listening") < at("ready"), "{kinds:?}");
    let deliveries: Vec<&Value> = events
        .iter()
        .filter(|e| Ev::sub("delivery", "shop.s").matches(e))
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
    assert_eq!(dead["offset"], 1);
    assert_eq!(dead["attempt"], 1, "a 4xx is not retried: {dead}");
    assert_eq!(dead["deadletter_topic"], "shop.sFailed");
    assert_eq!(dead["error"], "HTTP 400: no such pizza");

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

    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
    let kinds: Vec<String> = json_lines(&log)
        .iter()
        .filter_map(|e| e["type"].as_str().map(String::from))
        .collect();
    let at = |k: &str| kinds.iter().position(|x| x == k).unwrap_or(usize::MAX);
    assert!(at("stopping") < at("consumer_stopped"), "{log}");
    assert_eq!(kinds.last().map(String::as_str), Some("stopped"), "{log}");
}

#[test]
fn a_subscription_whose_consumer_cannot_start_stops_ftl_dev_at_first_start() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    p.project_file(REFUSED_CONSUMER);
    let mut dev = p.dev();
    let (code, log) = dev.wait_exit(Duration::from_secs(60));
    assert_eq!(code, 1, "{log}");
    let failed = dev.wait(Ev::sub("consumer_failed", "shop.s"), Duration::from_secs(1));
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.contains("session.timeout.ms"), "{failed}");
    assert!(
        failed["hint"].as_str().unwrap().contains("runner.consumer"),
        "{failed}"
    );
    assert_eq!(dev.count(Ev::of("ready")), 0, "never ready:\n{log}");
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
    let reload = dev.wait(Ev::of("reload_applied"), Duration::from_secs(30));
    assert_eq!(reload["failed"], json!(["shop.s"]), "{reload}");
    dev.wait(Ev::sub("consumer_failed", "shop.s"), Duration::from_secs(1));

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
    let reload = dev.wait_nth(Ev::of("reload_applied"), 2, Duration::from_secs(30));
    assert_eq!(reload["restarted"], json!(["shop.s"]), "{reload}");
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
    dev.wait_where("the dead letter", 1, Duration::from_secs(30), |e| {
        e["outcome"] == "dead_lettered"
    });

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
        Ev::sub("deadletter_replay_done", "shop.s"),
        Duration::from_secs(5),
    );
    assert_eq!((&done["ok"], &done["failed"]), (&json!(1), &json!(0)));

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
    let lost = dev.wait(Ev::of("broker_lost"), Duration::from_secs(30));
    assert_eq!(lost["address"], json!(p.bootstrap()), "{lost}");
    let (code, body) = p.http("GET", "/admin/status", None);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r#""reachable":false"#), "{body}");
    docker(&["start", &p.container()]);
    let back = dev.wait(Ev::of("broker_regained"), Duration::from_secs(30));
    assert!(back["down_ms"].as_u64().unwrap() > 0, "{back}");
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}
