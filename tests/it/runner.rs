//! Issue 3: the runner delivers every subscription to its verb, at least
//! once, with retries, dead letters and clean shutdown; the Publisher.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, UNIX_EPOCH};

use crate::harness::{ok, on, require_docker, wait_until, Event, Project, VerbServer};
use ftl::events::Outcome;

#[test]
fn http_and_exec_verbs_get_the_exact_bytes_headers_and_env_in_key_order() {
    require_docker();
    let server = VerbServer::start(ok);
    let p = Project::new();
    let out_file = p.path().join("exec.out");
    let script = format!(
        "printf '%s|%s|%s|%s|%s|%s|%s\\n' \"$FTL_TOPIC\" \"$FTL_SUBSCRIPTION\" \"$FTL_PARTITION\" \"$FTL_OFFSET\" \"$FTL_KEY\" \"$FTL_ATTEMPT\" \"$(cat)\" >> {}",
        out_file.display()
    );
    p.write(
        "shop/ftl.yaml",
        &format!(
            "module: shop\nverbs:\n  viaHttp: {{http: \"{}\"}}\n  viaExec:\n    exec: [\"sh\", \"-c\", {}]\ntopics:\n  orders: {{event: Any, partitions: 8, key: /k}}\nsubscriptions:\n  h: {{topic: orders, verb: viaHttp}}\n  e: {{topic: orders, verb: viaExec}}\n",
            server.url("/h"),
            serde_json::to_string(&script).unwrap()
        ),
    );
    let dev = p.dev();
    dev.wait_ready();
    let keys = 10;
    let per_key = 20;
    let events: Vec<(String, String)> = (0..per_key)
        .flat_map(|seq| {
            (0..keys).map(move |k| {
                (
                    format!("k{k}"),
                    format!("{{\"k\":\"k{k}\",\"seq\":{seq},\"text\":\"grüße ✓\"}}"),
                )
            })
        })
        .collect();
    let kafka = p.kafka();
    kafka.produce(
        "shop.orders",
        &events
            .iter()
            .map(|(k, v)| (Some(k.as_str()), v.clone()))
            .collect::<Vec<_>>(),
    );
    let total = keys * per_key;
    let reqs = server.wait_for(total, Duration::from_secs(60));
    assert_eq!(reqs.len(), total, "{}", dev.log());
    wait_until("exec verb lines", Duration::from_secs(60), || {
        std::fs::read_to_string(&out_file)
            .map(|s| s.lines().count() >= total)
            .unwrap_or(false)
    });

    let published: HashSet<&str> = events.iter().map(|(_, v)| v.as_str()).collect();
    let records = kafka.read_all("shop.orders");
    let where_: HashMap<String, (i32, i64)> = records
        .iter()
        .map(|r| (r.payload.clone(), (r.partition, r.offset)))
        .collect();
    let mut last_seq: HashMap<String, i64> = HashMap::new();
    for r in &reqs {
        let body = String::from_utf8(r.body.clone()).unwrap();
        assert!(published.contains(body.as_str()), "unexpected body {body}");
        assert_eq!(r.header("content-type"), "application/json");
        assert_eq!(r.header("ftl-topic"), "shop.orders");
        assert_eq!(r.header("ftl-subscription"), "shop.h");
        assert_eq!(r.header("ftl-attempt"), "1");
        let v = r.json();
        assert_eq!(r.header("ftl-key"), v["k"].as_str().unwrap());
        let (partition, offset) = where_[&body];
        assert_eq!(r.header("ftl-partition"), partition.to_string());
        assert_eq!(r.header("ftl-offset"), offset.to_string());
        let seq = v["seq"].as_i64().unwrap();
        let prev = last_seq.insert(v["k"].as_str().unwrap().to_string(), seq);
        assert!(prev.is_none_or(|p| p < seq), "key order broken for {body}");
    }
    let partitions_used: HashSet<i32> = records.iter().map(|r| r.partition).collect();
    assert!(
        partitions_used.len() > 1,
        "keys should spread over partitions"
    );

    let text = std::fs::read_to_string(&out_file).unwrap();
    let mut last_seq: HashMap<String, i64> = HashMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.splitn(7, '|').collect();
        assert_eq!(f.len(), 7, "{line}");
        assert_eq!((f[0], f[1], f[5]), ("shop.orders", "shop.e", "1"), "{line}");
        assert!(published.contains(f[6]), "exec got other bytes: {line}");
        assert_eq!(
            where_[f[6]],
            (f[2].parse().unwrap(), f[3].parse().unwrap()),
            "{line}"
        );
        let v: serde_json::Value = serde_json::from_str(f[6]).unwrap();
        assert_eq!(f[4], v["k"].as_str().unwrap());
        let seq = v["seq"].as_i64().unwrap();
        let prev = last_seq.insert(f[4].to_string(), seq);
        assert!(prev.is_none_or(|p| p < seq), "key order broken: {line}");
    }
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_failing_verb_is_retried_with_doubling_backoff_then_committed() {
    require_docker();
    let server = VerbServer::start(|_, n| {
        if n < 2 {
            (500, "not yet".into())
        } else {
            (200, String::new())
        }
    });
    let p = Project::single_subscription(
        &server.url("/v"),
        "",
        "retry: {count: 3, min_backoff: 300ms, max_backoff: 5s}",
    );
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { .. }),
        Duration::from_secs(60),
    );
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    let reqs = server.wait_for(3, Duration::from_secs(30));
    assert_eq!(reqs.len(), 3, "{}", dev.log());
    let attempts: Vec<&str> = reqs.iter().map(|r| r.header("ftl-attempt")).collect();
    assert_eq!(attempts, vec!["1", "2", "3"]);
    let g1 = reqs[1].at - reqs[0].at;
    let g2 = reqs[2].at - reqs[1].at;
    eprintln!("backoffs: {g1:?}, {g2:?}");
    assert!(
        g1 >= Duration::from_millis(280) && g1 < Duration::from_millis(2500),
        "{g1:?}"
    );
    assert!(
        g2 >= Duration::from_millis(580) && g2 < Duration::from_millis(4000),
        "{g2:?}"
    );
    assert!(
        g2 > g1 + Duration::from_millis(150),
        "backoff did not double: {g1:?} then {g2:?}"
    );
    let kafka = p.kafka();
    wait_until(
        "the offset to be committed",
        Duration::from_secs(15),
        || kafka.committed("shop.s", "shop.t", 1) == vec![Some(1)],
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        server.requests().len(),
        3,
        "delivered once more each time, then never again"
    );
    let retry = dev.wait(
        on!(Event::Delivery(d) if d.subscription == "shop.s" => d.clone()),
        Duration::from_secs(1),
    );
    assert_eq!(retry.outcome, Outcome::Retry, "{retry:?}");
    assert_eq!(retry.retry_in_ms, Some(300), "{retry:?}");
    assert_eq!(
        retry.error.as_deref(),
        Some("HTTP 500: not yet"),
        "{retry:?}"
    );
    dev.stop();
}

#[test]
fn exhausted_and_final_failures_are_dead_lettered_before_the_next_event() {
    require_docker();
    let server = VerbServer::start(|r, _| {
        let body = String::from_utf8_lossy(&r.body).to_string();
        if body.contains("bad") {
            (500, "kitchen on fire".into())
        } else if body.contains("never") {
            (422, "no such pizza".into())
        } else {
            (200, String::new())
        }
    });
    let p = Project::new();
    p.write(
        "shop/ftl.yaml",
        &format!(
            "module: shop\nverbs:\n  v: {{http: \"{}\"}}\n  x: {{exec: [\"sh\", \"-c\", \"cat >/dev/null; echo unparseable >&2; exit 65\"]}}\ntopics:\n  t: {{event: Any, key: /u}}\nsubscriptions:\n  s: {{topic: t, verb: v, deadletter: true, retry: {{count: 2, min_backoff: 100ms, max_backoff: 100ms}}}}\n  q: {{topic: t, verb: x, deadletter: true, retry: {{count: 5, min_backoff: 1s, max_backoff: 1s}}}}\n",
            server.url("/v")
        ),
    );
    let dev = p.dev();
    dev.wait_nth(
        on!(Event::PartitionsAssigned { .. }),
        2,
        Duration::from_secs(60),
    );
    let kafka = p.kafka();
    let bad = r#"{"u":"u1","what":"bad"}"#;
    let never = r#"{"u":"u2","what":"never"}"#;
    let good = r#"{"u":"u3","what":"good"}"#;
    kafka.produce_with_headers("shop.t", &[(Some("u1"), bad.into())], &[("trace", "abc")]);
    kafka.produce(
        "shop.t",
        &[(Some("u2"), never.into()), (Some("u3"), good.into())],
    );
    let reqs = server.wait_for(5, Duration::from_secs(30));
    let bodies: Vec<String> = reqs
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert_eq!(
        bodies,
        vec![bad, bad, bad, never, good],
        "3 attempts, then 1 (final 4xx), then the next event"
    );

    wait_until("dead letters", Duration::from_secs(30), || {
        kafka.read_all("shop.sFailed").len() == 2
    });
    let dl = kafka.read_all("shop.sFailed");
    let first = &dl[0];
    assert_eq!(first.key.as_deref(), Some("u1"));
    let v: serde_json::Value = serde_json::from_str(&first.payload).unwrap();
    assert_eq!(
        v["event"],
        serde_json::from_str::<serde_json::Value>(bad).unwrap()
    );
    assert_eq!(v["error"], "HTTP 500: kitchen on fire");
    let h = &first.headers;
    assert_eq!(h["trace"], "abc", "original headers are kept");
    assert_eq!(h["ftl.source.topic"], "shop.t");
    assert_eq!(h["ftl.source.partition"], "0");
    assert_eq!(h["ftl.source.offset"], "0");
    assert!(h["ftl.source.timestamp"].parse::<i64>().unwrap() > 0);
    assert_eq!(h["ftl.subscription"], "shop.s");
    assert_eq!(h["ftl.verb"], "v");
    assert_eq!(h["ftl.attempts"], "3");
    for k in ["ftl.first_failed_at", "ftl.failed_at"] {
        assert!(
            humantime::parse_rfc3339_weak(&h[k]).is_ok(),
            "{k}: {}",
            h[k]
        );
    }
    assert!(h["ftl.first_failed_at"] < h["ftl.failed_at"]);
    // The dead letter was acknowledged before the next event was handed over.
    let dl_ms = dl[0].timestamp.unwrap();
    let never_ms = reqs[3].wall.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!(
        dl_ms <= never_ms,
        "dead letter at {dl_ms}, next event delivered at {never_ms}"
    );
    let second: serde_json::Value = serde_json::from_str(&dl[1].payload).unwrap();
    assert_eq!(second["error"], "HTTP 422: no such pizza");
    assert_eq!(dl[1].headers["ftl.attempts"], "1");

    // exit 65 from an exec verb: dead-lettered after one attempt each.
    wait_until("exec dead letters", Duration::from_secs(30), || {
        kafka.read_all("shop.qFailed").len() == 3
    });
    for r in kafka.read_all("shop.qFailed") {
        assert_eq!(r.headers["ftl.attempts"], "1");
        let v: serde_json::Value = serde_json::from_str(&r.payload).unwrap();
        assert_eq!(v["error"], "exit code 65: unparseable");
    }
    dev.stop();
}

#[test]
fn from_latest_skips_earlier_events_and_from_beginning_gets_them() {
    require_docker();
    let server = VerbServer::start(ok);
    let p = Project::new();
    let verbs = format!(
        "module: shop\nverbs:\n  early: {{http: \"{}\"}}\n  late: {{http: \"{}\"}}\ntopics:\n  t: {{event: Any, partitions: 2, key: /k}}\n",
        server.url("/early"),
        server.url("/late")
    );
    p.write("shop/ftl.yaml", &verbs);
    let dev = p.dev();
    dev.wait_ready();
    let kafka = p.kafka();
    let old: Vec<(Option<&str>, String)> = (0..4)
        .map(|i| {
            (
                Some(["a", "b"][i % 2]),
                format!("{{\"k\":\"x\",\"n\":\"old{i}\"}}"),
            )
        })
        .collect();
    kafka.produce("shop.t", &old);
    p.write(
        "shop/ftl.yaml",
        &format!("{verbs}subscriptions:\n  e: {{topic: t, verb: early, from: beginning}}\n  l: {{topic: t, verb: late, from: latest}}\n"),
    );
    dev.wait(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.l"),
        Duration::from_secs(60),
    );
    dev.wait(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.e"),
        Duration::from_secs(60),
    );
    std::thread::sleep(Duration::from_millis(1500));
    let new: Vec<(Option<&str>, String)> = (0..3)
        .map(|i| {
            (
                Some(["a", "b"][i % 2]),
                format!("{{\"k\":\"x\",\"n\":\"new{i}\"}}"),
            )
        })
        .collect();
    kafka.produce("shop.t", &new);
    server.wait_for(10, Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(1000));
    let by_path = |path: &str| -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for r in server.requests().iter().filter(|r| r.path == path) {
            *m.entry(r.json()["n"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        m
    };
    let early = by_path("/early");
    let late = by_path("/late");
    assert_eq!(early.len(), 7, "{early:?}\n{}", dev.log());
    assert_eq!(
        late.keys().cloned().collect::<Vec<_>>(),
        vec!["new0", "new1", "new2"],
        "{late:?}\n{}",
        dev.log()
    );
    dev.stop();
}

#[test]
fn a_reload_restarts_only_the_changed_subscription_and_quiet_hides_deliveries() {
    require_docker();
    let server = VerbServer::start(ok);
    let p = Project::new();
    let module = format!(
        "module: shop\nverbs:\n  v: {{http: \"{}\"}}\n  w: {{http: \"{}\"}}\ntopics:\n  t: {{event: Any}}\nsubscriptions:\n  a: {{topic: t, verb: v}}\n  b: {{topic: t, verb: w}}\n",
        server.url("/v"),
        server.url("/w")
    );
    p.write("shop/ftl.yaml", &module);
    let dev = p.dev();
    dev.wait_nth(
        on!(Event::PartitionsAssigned { .. }),
        2,
        Duration::from_secs(60),
    );
    p.kafka().produce("shop.t", &[(None, "{\"n\":1}".into())]);
    server.wait_for(2, Duration::from_secs(60));
    // Change b's retry policy only.
    p.write(
        "shop/ftl.yaml",
        &module.replace(
            "b: {topic: t, verb: w}",
            "b: {topic: t, verb: w, retry: {count: 2}}",
        ),
    );
    let restarted = dev.wait(
        on!(Event::ReloadApplied { restarted, .. } => restarted.clone()),
        Duration::from_secs(30),
    );
    let log = dev.log();
    assert_eq!(restarted, ["shop.b"], "{log}");
    assert_eq!(
        dev.count(&on!(Event::ConsumerStopped { subscription, .. } if subscription == "shop.b")),
        1,
        "{log}"
    );
    assert_eq!(
        dev.count(&on!(Event::ConsumerStopped { subscription, .. } if subscription == "shop.a")),
        0,
        "{log}"
    );
    assert_eq!(
        dev.count(&on!(Event::ConsumerStarting { subscription, .. } if subscription == "shop.a")),
        1,
        "{log}"
    );
    dev.wait_nth(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.b"),
        2,
        Duration::from_secs(30),
    );
    p.kafka().produce("shop.t", &[(None, "{\"n\":2}".into())]);
    server.wait_for(4, Duration::from_secs(60));
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
    let per_sub = |path: &str| server.requests().iter().filter(|r| r.path == path).count();
    assert_eq!(
        (per_sub("/v"), per_sub("/w")),
        (2, 2),
        "each event once per subscription:\n{log}"
    );

    // -q: no delivery lines.
    p.kafka().produce("shop.t", &[(None, "{\"n\":3}".into())]);
    let mut c = p.cmd();
    c.args(["-q", "dev"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let dev = crate::harness::Dev::spawn_command(c);
    server.wait_for(6, Duration::from_secs(60));
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
    assert!(!log.contains("→"), "-q hides delivery lines:\n{log}");
}

/// More events than a partition worker buffers: the partition is paused
/// and resumed, and every event still arrives once, in order.
#[test]
fn a_backlog_larger_than_the_worker_buffer_arrives_once_and_in_order() {
    require_docker();
    let server = VerbServer::start(ok);
    let p = Project::single_subscription(&server.url("/v"), "", "");
    let dev = p.dev();
    dev.wait_ready();
    dev.stop();
    let total = 9000;
    let events: Vec<(Option<&str>, String)> = (0..total)
        .map(|i| (None, format!("{{\"id\":{i}}}")))
        .collect();
    p.kafka().produce("shop.t", &events);
    let mut c = p.cmd();
    c.args(["-q", "dev"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let dev = crate::harness::Dev::spawn_command(c);
    let reqs = server.wait_for(total, Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(500));
    let ids: Vec<i64> = server
        .requests()
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    assert_eq!(reqs.len(), total);
    assert_eq!(
        ids,
        (0..total as i64).collect::<Vec<_>>(),
        "once each, in offset order"
    );
    dev.stop();
}
