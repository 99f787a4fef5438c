//! Issue 3: the runner delivers every subscription to its verb, at least
//! once, with retries, dead letters and clean shutdown; the Publisher.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::json;

use crate::harness::{require_docker, wait_until, Dev, Ev, Project, Rng, VerbServer};

fn ok(_: &crate::harness::Request, _: usize) -> (u16, String) {
    (200, String::new())
}

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
            "module: shop\nverbs:\n  viaHttp: {{http: \"{}\"}}\n  viaExec:\n    exec: [\"sh\", \"-c\", {}]\ntopics:\n  orders: {{partitions: 8, key: /k}}\nsubscriptions:\n  h: {{topic: orders, verb: viaHttp}}\n  e: {{topic: orders, verb: viaExec}}\n",
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
    dev.wait(Ev::of("partitions_assigned"), Duration::from_secs(60));
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
    let retry = dev.wait(Ev::sub("delivery", "shop.s"), Duration::from_secs(1));
    assert_eq!(retry["outcome"], "retry", "{retry}");
    assert_eq!(retry["retry_in_ms"], 300, "{retry}");
    assert_eq!(retry["error"], "HTTP 500: not yet", "{retry}");
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
            "module: shop\nverbs:\n  v: {{http: \"{}\"}}\n  x: {{exec: [\"sh\", \"-c\", \"cat >/dev/null; echo unparseable >&2; exit 65\"]}}\ntopics:\n  t: {{key: /u}}\nsubscriptions:\n  s: {{topic: t, verb: v, deadletter: true, retry: {{count: 2, min_backoff: 100ms, max_backoff: 100ms}}}}\n  q: {{topic: t, verb: x, deadletter: true, retry: {{count: 5, min_backoff: 1s, max_backoff: 1s}}}}\n",
            server.url("/v")
        ),
    );
    let dev = p.dev();
    dev.wait_nth(Ev::of("partitions_assigned"), 2, Duration::from_secs(60));
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
        "module: shop\nverbs:\n  early: {{http: \"{}\"}}\n  late: {{http: \"{}\"}}\ntopics:\n  t: {{partitions: 2, key: /k}}\n",
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
        Ev::sub("partitions_assigned", "shop.l"),
        Duration::from_secs(60),
    );
    dev.wait(
        Ev::sub("partitions_assigned", "shop.e"),
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
fn killing_the_runner_at_random_moments_loses_no_event() {
    require_docker();
    // A verb slower than the producer, so kills land while events flow.
    let server = VerbServer::start(|_, _| {
        std::thread::sleep(Duration::from_millis(8));
        (200, String::new())
    });
    let p = Project::single_subscription(&server.url("/v"), "partitions: 8, key: /u", "");
    let total = 5000;
    let dev = p.dev();
    dev.wait(Ev::of("partitions_assigned"), Duration::from_secs(60));
    let kafka = p.kafka();
    // Events flow (about 1000/s for 5 s) while the runner is killed and
    // restarted; each kill lands after the new runner delivered something.
    let producer = {
        let bootstrap = kafka.bootstrap.clone();
        std::thread::spawn(move || {
            let kafka = crate::harness::Kafka { bootstrap };
            for chunk in 0..50 {
                let events: Vec<(String, String)> = (0..total / 50)
                    .map(|i| {
                        let id = chunk * (total / 50) + i;
                        (
                            format!("u{}", id % 50),
                            format!("{{\"id\":{id},\"u\":\"u{}\"}}", id % 50),
                        )
                    })
                    .collect();
                kafka.produce(
                    "shop.t",
                    &events
                        .iter()
                        .map(|(k, v)| (Some(k.as_str()), v.clone()))
                        .collect::<Vec<_>>(),
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let mut rng = Rng::new();
    let mut dev = Some(dev);
    for kill in 0..6 {
        let before = server.count();
        wait_until("the runner to deliver", Duration::from_secs(60), || {
            server.count() > before || server.count() >= total
        });
        std::thread::sleep(Duration::from_millis(rng.below(400)));
        let d = dev.take().unwrap();
        d.signal("KILL");
        eprintln!("kill {kill}: SIGKILL after {} deliveries", server.count());
        drop(d);
        let d = p.dev();
        d.wait_ready();
        dev = Some(d);
    }
    producer.join().unwrap();
    let dev = dev.take().unwrap();
    wait_until(
        "every event to be delivered",
        Duration::from_secs(120),
        || {
            let ids: HashSet<i64> = server
                .requests()
                .iter()
                .map(|r| r.json()["id"].as_i64().unwrap())
                .collect();
            ids.len() == total
        },
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
    let reqs = server.requests();
    let ids: HashSet<i64> = reqs
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    let lost: Vec<i64> = (0..total as i64).filter(|i| !ids.contains(i)).collect();
    eprintln!(
        "crash test: {} events, {} deliveries, {} duplicates, {} lost",
        total,
        reqs.len(),
        reqs.len() - ids.len(),
        lost.len()
    );
    assert!(lost.is_empty(), "lost {lost:?}");
}

/// Partitions a runner's log says it delivered from.
/// The partitions whose events this runner delivered.
fn partitions_delivered(dev: &Dev, sub: &str) -> HashSet<i32> {
    dev.events()
        .iter()
        .filter(|e| Ev::sub("delivery", sub).matches(e))
        .filter_map(|e| e["partition"].as_i64().map(|p| p as i32))
        .collect()
}

#[test]
fn two_runners_split_partitions_and_take_over_on_stop_and_after_a_crash() {
    require_docker();
    let server = VerbServer::start(ok);
    let p = Project::single_subscription(&server.url("/v"), "partitions: 4, key: /u", "");
    let kafka_events = |from: usize, n: usize| -> Vec<(String, String)> {
        (from..from + n)
            .map(|id| (format!("u{}", id % 40), format!("{{\"id\":{id}}}")))
            .collect()
    };
    let produce = |p: &Project, events: Vec<(String, String)>| {
        p.kafka().produce(
            "shop.t",
            &events
                .iter()
                .map(|(k, v)| (Some(k.as_str()), v.clone()))
                .collect::<Vec<_>>(),
        );
    };
    let a = p.dev();
    a.wait(
        Ev::sub("partitions_assigned", "shop.s"),
        Duration::from_secs(60),
    );
    let b = p.dev();
    b.wait(Ev::of("listen_failed"), Duration::from_secs(60));
    b.wait(
        Ev::sub("partitions_assigned", "shop.s"),
        Duration::from_secs(60),
    );
    std::thread::sleep(Duration::from_secs(2));
    produce(&p, kafka_events(0, 400));
    wait_until("400 events", Duration::from_secs(60), || {
        server.requests().len() >= 400
    });
    std::thread::sleep(Duration::from_millis(500));
    let pa = partitions_delivered(&a, "shop.s");
    let pb = partitions_delivered(&b, "shop.s");
    assert!(
        !pa.is_empty() && !pb.is_empty(),
        "both runners deliver: {pa:?} {pb:?}"
    );
    assert!(pa.is_disjoint(&pb), "partitions are split: {pa:?} {pb:?}");

    // SIGTERM: b leaves the group, a takes its partitions at once.
    let assigned_before = a.count(Ev::sub("partitions_assigned", "shop.s"));
    let stopped = Instant::now();
    let (code, log) = b.stop();
    assert_eq!(code, 0, "{log}");
    a.wait_nth(
        Ev::sub("partitions_assigned", "shop.s"),
        assigned_before + 1,
        Duration::from_secs(15),
    );
    eprintln!("takeover after SIGTERM: {:?}", stopped.elapsed());
    produce(&p, kafka_events(400, 200));
    wait_until("600 events", Duration::from_secs(60), || {
        server
            .requests()
            .iter()
            .map(|r| r.json()["id"].as_i64().unwrap())
            .collect::<HashSet<_>>()
            .len()
            >= 600
    });

    // SIGKILL a runner, start a new one: the group recovers.
    let c = p.dev();
    c.wait(
        Ev::sub("partitions_assigned", "shop.s"),
        Duration::from_secs(60),
    );
    c.signal("KILL");
    drop(c);
    let d = p.dev();
    d.wait(
        Ev::sub("partitions_assigned", "shop.s"),
        Duration::from_secs(60),
    );
    produce(&p, kafka_events(600, 200));
    wait_until("800 events", Duration::from_secs(90), || {
        server
            .requests()
            .iter()
            .map(|r| r.json()["id"].as_i64().unwrap())
            .collect::<HashSet<_>>()
            .len()
            >= 800
    });
    let ids: HashSet<i64> = server
        .requests()
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 800, "0 lost");
    d.stop();
    a.stop();
}

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
    dev.wait(Ev::of("partitions_assigned"), Duration::from_secs(60));
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    server.wait_for(1, Duration::from_secs(30));
    dev.signal("INT");
    let mut dev = dev;
    let (code, log) = dev.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 0, "{log}");
    let done = dev.wait(Ev::sub("delivery", "shop.s"), Duration::from_secs(1));
    assert_eq!(
        (
            &done["partition"],
            &done["offset"],
            &done["attempt"],
            &done["outcome"]
        ),
        (&json!(0), &json!(0), &json!(1), &json!("ok")),
        "{log}"
    );
    assert_eq!(p.kafka().committed("shop.s", "shop.t", 1), vec![Some(1)]);
    // Not delivered again.
    let dev = p.dev();
    dev.wait(Ev::of("partitions_assigned"), Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(server.requests().len(), 1);
    dev.stop();
}

#[test]
fn ctrl_c_during_a_verb_slower_than_the_grace_period_redelivers_it() {
    require_docker();
    let (p, server) = slow_verb_project("1s", 4000);
    let dev = p.dev();
    dev.wait(Ev::of("partitions_assigned"), Duration::from_secs(60));
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    server.wait_for(1, Duration::from_secs(30));
    dev.signal("INT");
    let mut dev = dev;
    let (code, log) = dev.wait_exit(Duration::from_secs(30));
    assert_eq!(code, 0, "{log}");
    let gave_up = dev.wait(Ev::sub("delivery", "shop.s"), Duration::from_secs(1));
    assert_eq!(gave_up["outcome"], "abandoned", "{log}");
    assert_eq!(dev.count(Ev::sub("abandoned", "shop.s")), 1, "{log}");
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
fn the_publisher_accepts_grpc_and_http_and_rejects_bad_events() {
    require_docker();
    let p = Project::new();
    p.write(
        "shop/ftl.yaml",
        "module: shop\nverbs:\n  v: {exec: [\"true\"]}\ntopics:\n  orders: {partitions: 8, key: /userId}\n  single: {}\n",
    );
    let dev = p.dev();
    dev.wait(Ev::of("listening"), Duration::from_secs(60));
    dev.wait_ready();
    let base = format!("http://{}", p.listen);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let post = |path: &str, body: &str| {
        rt.block_on(async {
            let r = http
                .post(format!("{base}{path}"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&r.bytes().await.unwrap()).unwrap(),
            )
        })
    };
    let (status, v) = post("/topics/shop.orders", r#"{"userId":"u7","n":1}"#);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["key"], "u7");
    let (status, v) = post("/topics/orders?key=explicit", r#"{"userId":"u7","n":2}"#);
    assert_eq!((status, v["key"].as_str()), (200, Some("explicit")), "{v}");
    let (status, v) = post("/topics/shop.orders", "not json");
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("not JSON"), "{v}");
    let (status, v) = post("/topics/shop.orders", r#"{"n":3}"#);
    assert_eq!(status, 400);
    assert!(
        v["error"].as_str().unwrap().contains("no partition key"),
        "{v}"
    );
    let (status, v) = post("/topics/shop.nope", "{}");
    assert_eq!(status, 404);
    assert!(v["hint"].as_str().unwrap().contains("shop.orders"), "{v}");

    // gRPC, through a tonic client generated from the same .proto.
    use ftl::publisher::proto::publisher_client::PublisherClient;
    use ftl::publisher::proto::{PublishRequest, Ref};
    let (grpc_ok, grpc_bad) = rt.block_on(async {
        let mut client = PublisherClient::connect(base.clone()).await.unwrap();
        let ok = client
            .publish(PublishRequest {
                topic: Some(Ref {
                    module: "shop".into(),
                    name: "orders".into(),
                }),
                body: br#"{"userId":"u7","n":4}"#.to_vec(),
                key: Vec::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let bad = client
            .publish(PublishRequest {
                topic: Some(Ref {
                    module: "shop".into(),
                    name: "orders".into(),
                }),
                body: b"{".to_vec(),
                key: Vec::new(),
            })
            .await
            .unwrap_err();
        // A key that is not UTF-8, and a request larger than any event:
        // each answered with a status, nothing published.
        let bad_key = client
            .publish(PublishRequest {
                topic: Some(Ref {
                    module: "shop".into(),
                    name: "orders".into(),
                }),
                body: br#"{"userId":"u7"}"#.to_vec(),
                key: vec![0xff, 0xfe],
            })
            .await
            .unwrap_err();
        let huge = client
            .publish(PublishRequest {
                topic: Some(Ref {
                    module: "shop".into(),
                    name: "orders".into(),
                }),
                body: vec![b' '; 5 * 1024 * 1024],
                key: Vec::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(bad_key.code(), tonic::Code::InvalidArgument, "{bad_key:?}");
        assert!(
            bad_key
                .message()
                .contains("PublishRequest.key is not UTF-8"),
            "{bad_key:?}"
        );
        assert!(
            matches!(
                huge.code(),
                tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
            ),
            "{huge:?}"
        );
        (ok, bad)
    });
    assert_eq!(grpc_bad.code(), tonic::Code::InvalidArgument);
    let records = p.kafka().read_all("shop.orders");
    assert_eq!(
        records.len(),
        3,
        "only the valid events were published: {records:?}"
    );
    // Same key, same partition, whoever published it (murmur2 like Kafka's Java client).
    let u7: HashSet<i32> = records
        .iter()
        .filter(|r| r.key.as_deref() == Some("u7"))
        .map(|r| r.partition)
        .collect();
    assert_eq!(u7, HashSet::from([grpc_ok.partition]));
    p.kafka().produce(
        "shop.orders",
        &[(Some("u7"), "{\"userId\":\"u7\",\"n\":5}".into())],
    );
    let records = p.kafka().read_all("shop.orders");
    let last = records
        .iter()
        .find(|r| r.payload.contains("\"n\":5"))
        .unwrap();
    assert_eq!(
        last.partition, grpc_ok.partition,
        "a plain librdkafka murmur2 producer agrees"
    );
    dev.stop();
}

#[test]
fn a_reload_restarts_only_the_changed_subscription_and_quiet_hides_deliveries() {
    require_docker();
    let server = VerbServer::start(ok);
    let p = Project::new();
    let module = format!(
        "module: shop\nverbs:\n  v: {{http: \"{}\"}}\n  w: {{http: \"{}\"}}\ntopics:\n  t: {{}}\nsubscriptions:\n  a: {{topic: t, verb: v}}\n  b: {{topic: t, verb: w}}\n",
        server.url("/v"),
        server.url("/w")
    );
    p.write("shop/ftl.yaml", &module);
    let dev = p.dev();
    dev.wait_nth(Ev::of("partitions_assigned"), 2, Duration::from_secs(60));
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
    let reload = dev.wait(Ev::of("reload_applied"), Duration::from_secs(30));
    let log = dev.log();
    assert_eq!(reload["restarted"], serde_json::json!(["shop.b"]), "{log}");
    assert_eq!(dev.count(Ev::sub("consumer_stopped", "shop.b")), 1, "{log}");
    assert_eq!(dev.count(Ev::sub("consumer_stopped", "shop.a")), 0, "{log}");
    assert_eq!(
        dev.count(Ev::sub("consumer_starting", "shop.a")),
        1,
        "{log}"
    );
    dev.wait_nth(
        Ev::sub("partitions_assigned", "shop.b"),
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
    dev.wait(Ev::of("partitions_assigned"), Duration::from_secs(60));
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    dev.wait_where("a retry in 30s", 1, Duration::from_secs(30), |e| {
        e["outcome"] == "retry" && e["retry_in_ms"] == 30_000
    });
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
        Ev::sub("partitions_assigned", "shop.s"),
        Duration::from_secs(20),
    );
    p.kafka()
        .produce("shop.t", &[(Some("a"), "{\"k\":\"a\"}".into())]);
    assert_eq!(server.wait_for(1, Duration::from_secs(30)).len(), 1);
    dev.stop();
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

#[test]
fn a_second_ctrl_c_exits_at_once() {
    require_docker();
    let (p, server) = slow_verb_project("30s", 20_000);
    let dev = p.dev();
    dev.wait(Ev::of("partitions_assigned"), Duration::from_secs(60));
    p.kafka().produce("shop.t", &[(None, "{\"id\":1}".into())]);
    server.wait_for(1, Duration::from_secs(30));
    dev.signal("INT");
    dev.wait(Ev::of("stopping"), Duration::from_secs(10));
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
