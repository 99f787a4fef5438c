//! Issue 4: status, publish, tail, replay and dead letters, against the
//! real broker, with and without a running `ftl dev`.

use std::time::{Duration, SystemTime};

use crate::harness::{on, require_docker, wait_until, Event, Project, VerbServer};

pub(crate) fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// A project whose subscription `s` (and `other`) read `shop.t`; `ftl dev`
/// ran once so the broker and topics exist.
pub(crate) fn provisioned(server: &VerbServer, extra_sub: &str) -> Project {
    let p = Project::new();
    p.write(
        "shop/ftl.yaml",
        &format!(
            "module: shop\nverbs:\n  v: {{http: \"{}\"}}\n  w: {{http: \"{}\"}}\ntopics:\n  t: {{event: Any, partitions: 2, key: /k}}\nsubscriptions:\n  s: {{topic: t, verb: v, deadletter: true}}\n{extra_sub}",
            server.url("/v"),
            server.url("/w"),
        ),
    );
    let dev = p.dev();
    dev.wait_ready();
    dev.stop();
    p
}

fn events(range: std::ops::Range<usize>) -> Vec<(Option<&'static str>, String)> {
    range
        .map(|i| {
            let k = ["a", "b", "c"][i % 3];
            (Some(k), format!("{{\"k\":\"{k}\",\"n\":{i}}}"))
        })
        .collect()
}

#[test]
fn tail_reads_every_from_form_in_order_and_moves_no_group() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = provisioned(&server, "");
    let kafka = p.kafka();
    kafka.produce_with_headers("shop.t", &events(0..6), &[("trace", "t1")]);
    let groups_before = kafka.committed("shop.s", "shop.t", 2);

    let out = p.run(&[
        "pubsub",
        "tail",
        "shop.t",
        "--from",
        "beginning",
        "--no-follow",
        "--json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 6);
    for l in &lines {
        for field in [
            "topic",
            "partition",
            "offset",
            "timestamp",
            "time",
            "key",
            "headers",
            "event",
        ] {
            assert!(l.get(field).is_some(), "{field} missing in {l}");
        }
        assert_eq!(l["topic"], "shop.t");
        assert_eq!(l["headers"]["trace"], "t1");
        assert_eq!(l["key"], l["event"]["k"]);
    }
    for part in 0..2 {
        let offs: Vec<i64> = lines
            .iter()
            .filter(|l| l["partition"] == part)
            .map(|l| l["offset"].as_i64().unwrap())
            .collect();
        assert!(
            offs.windows(2).all(|w| w[0] < w[1]),
            "partition {part} out of order: {offs:?}"
        );
        let ns: Vec<i64> = lines
            .iter()
            .filter(|l| l["partition"] == part)
            .map(|l| l["event"]["n"].as_i64().unwrap())
            .collect();
        assert!(
            ns.windows(2).all(|w| w[0] < w[1]),
            "events out of order: {ns:?}"
        );
    }

    // -N: the last event of each partition.
    let out = p.run(&[
        "pubsub",
        "tail",
        "t",
        "--from",
        "-1",
        "--no-follow",
        "--json",
    ]);
    let last = json_lines(&out.stdout);
    assert_eq!(
        last.len(),
        lines
            .iter()
            .map(|l| l["partition"].as_i64())
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
    for l in &last {
        let max = lines
            .iter()
            .filter(|x| x["partition"] == l["partition"])
            .map(|x| x["offset"].as_i64().unwrap())
            .max();
        assert_eq!(l["offset"].as_i64(), max);
    }

    // OFFSET on one partition.
    let p0n = lines[0]["partition"].as_i64().unwrap();
    let p0 = p0n.to_string();
    let out = p.run(&[
        "pubsub",
        "tail",
        "t",
        "--from",
        "1",
        "--partition",
        &p0,
        "--no-follow",
        "--json",
    ]);
    let from1 = json_lines(&out.stdout);
    assert!(!from1.is_empty());
    assert!(from1
        .iter()
        .all(|l| l["partition"].as_i64() == Some(p0n) && l["offset"].as_i64().unwrap() >= 1));

    // -n stops (following, from the beginning).
    let out = p.run(&[
        "pubsub",
        "tail",
        "t",
        "--from",
        "beginning",
        "-n",
        "3",
        "--json",
    ]);
    assert_eq!(json_lines(&out.stdout).len(), 3);

    // TIME: only what came after.
    std::thread::sleep(Duration::from_millis(1200));
    let cut = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    std::thread::sleep(Duration::from_millis(200));
    kafka.produce("shop.t", &events(6..8));
    let out = p.run(&[
        "pubsub",
        "tail",
        "t",
        "--from",
        &cut,
        "--no-follow",
        "--json",
    ]);
    let after: Vec<i64> = json_lines(&out.stdout)
        .iter()
        .map(|l| l["event"]["n"].as_i64().unwrap())
        .collect();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.iter().all(|n| *n >= 6), "{after:?}");
    let out = p.run(&[
        "pubsub",
        "tail",
        "t",
        "--from",
        "-10m",
        "--no-follow",
        "--json",
    ]);
    assert_eq!(json_lines(&out.stdout).len(), 8);

    // latest: only what is published after the tail started.
    let child = p
        .cmd()
        .args([
            "pubsub", "tail", "t", "--from", "latest", "-n", "1", "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    kafka.produce("shop.t", &[(Some("a"), "{\"k\":\"a\",\"n\":99}".into())]);
    let out = child.wait_with_output().unwrap();
    let got = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["event"]["n"], 99);

    // Human output on a closed pipe: exit 0, no error.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "set -o pipefail; {} pubsub tail t --from beginning --no-follow | head -1",
            crate::harness::ftl_bin().display()
        ))
        .current_dir(p.path())
        .env("FTL_BROKER_KIND", "tansu")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains('@'));

    assert_eq!(
        kafka.committed("shop.s", "shop.t", 2),
        groups_before,
        "tail moved a group"
    );

    let out = p.run(&["pubsub", "tail", "nope"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("known topics: shop.t, shop.sFailed")
            || out.stderr.contains("known topics"),
        "{}",
        out.stderr
    );
    let out = p.run(&["pubsub", "tail", "t", "--partition", "7"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("has no partition 7"), "{}", out.stderr);
}

#[test]
fn status_reports_exact_lag_while_stopped_and_zero_once_caught_up() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = provisioned(&server, "");
    p.kafka().produce("shop.t", &events(0..7));
    let out = p.run(&["pubsub", "status", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v = &json_lines(&out.stdout)[0];
    let s = &v["subscriptions"][0];
    assert_eq!(s["name"], "shop.s");
    assert_eq!(s["state"], "idle");
    assert_eq!(s["total_lag"], 7, "{v}");
    assert_eq!(s["deadletters"], 0);
    assert_eq!(v["broker"]["kind"], "tansu");
    let topic = v["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "shop.t")
        .unwrap();
    assert_eq!(topic["events"], 7);

    let dev = p.dev();
    server.wait_for(7, Duration::from_secs(60));
    wait_until("lag 0", Duration::from_secs(20), || {
        let out = p.run(&["pubsub", "status", "--json"]);
        let v = &json_lines(&out.stdout)[0];
        v["subscriptions"][0]["total_lag"] == 0 && v["subscriptions"][0]["state"] == "running"
    });

    // Human output, with what changes from run to run filtered.
    let out = p.run(&["pubsub", "status"]);
    insta::with_settings!({filters => vec![
        (r"t\d+x\d+x\d+", "[project]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"up [0-9a-z ]+", "up [uptime]"),
        (r"pid \d+", "pid [pid]"),
        (r"end offsets [0-9: ]+", "end offsets [offsets]"),
        (r"lag 0 \([0-9: ]+\)", "lag 0 ([per partition])"),
    ]}, {
        insta::assert_snapshot!(out.stdout);
    });
    dev.stop();
}

#[test]
fn replay_redelivers_through_a_running_dev_and_through_an_idle_group() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = provisioned(&server, "");
    let kafka = p.kafka();
    kafka.produce("shop.t", &events(0..4));
    let dev = p.dev();
    server.wait_for(4, Duration::from_secs(60));
    wait_until("commit", Duration::from_secs(20), || {
        kafka
            .committed("shop.s", "shop.t", 2)
            .iter()
            .flatten()
            .sum::<i64>()
            == 4
    });

    // Without --yes and without a terminal: refused, nothing moved.
    let out = p.run(&["pubsub", "replay", "s"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("--yes"), "{}", out.stderr);

    let out = p.run(&["pubsub", "replay", "s", "--from", "beginning", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("4 events will be redelivered by the running ftl dev"),
        "{}",
        out.stdout
    );
    server.wait_for(8, Duration::from_secs(30));
    assert_eq!(
        dev.count(&on!(Event::Ready { .. })),
        1,
        "ftl dev was not restarted"
    );

    // --from TIME: only events after it.
    std::thread::sleep(Duration::from_millis(1200));
    let cut = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    std::thread::sleep(Duration::from_millis(200));
    kafka.produce("shop.t", &events(4..6));
    server.wait_for(10, Duration::from_secs(30));
    let out = p.run(&["pubsub", "replay", "shop.s", "--from", &cut, "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("2 events will be redelivered"),
        "{}",
        out.stdout
    );
    server.wait_for(12, Duration::from_secs(30));
    let replayed: Vec<i64> = server.requests()[10..]
        .iter()
        .map(|r| r.json()["n"].as_i64().unwrap())
        .collect();
    assert!(replayed.iter().all(|n| *n >= 4), "{replayed:?}");
    dev.stop();

    // No runner: the idle group's offsets move; the next start delivers.
    wait_until("commit", Duration::from_secs(20), || {
        kafka
            .committed("shop.s", "shop.t", 2)
            .iter()
            .flatten()
            .sum::<i64>()
            == 6
    });
    let out = p.run(&["pubsub", "replay", "s", "--from", "beginning", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("6 events will be delivered when `ftl dev` starts"),
        "{}",
        out.stdout
    );
    let dev = p.dev();
    server.wait_for(18, Duration::from_secs(60));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.requests().len(), 18);
    dev.stop();
}

#[test]
fn publish_validates_everything_first_and_commands_say_what_to_do_without_a_broker() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = provisioned(&server, "");
    let out = p.run(&["pubsub", "publish", "t", r#"{"k":"a","n":1}"#]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("shop.t ") && out.stdout.contains("key=a"),
        "{}",
        out.stdout
    );

    let out = p.run_with_stdin(
        &["pubsub", "publish", "t", "-"],
        b"{\"k\":\"a\",\"n\":2}\n{\"n\":3}\nnot json\n",
    );
    let stderr = &out.stderr;
    assert_eq!(out.code, 2, "{stderr}");
    assert!(
        stderr.contains("stdin line 2") && stderr.contains("stdin line 3"),
        "{stderr}"
    );
    assert_eq!(
        p.kafka().read_all("shop.t").len(),
        1,
        "nothing of the bad batch was published"
    );

    let batch: String = (0..50)
        .map(|i| format!("{{\"k\":\"k{i}\",\"n\":{i}}}\n"))
        .collect();
    let out = p.run_with_stdin(&["pubsub", "publish", "t", "-", "--json"], batch.as_bytes());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(json_lines(&out.stdout).len(), 50);
    assert_eq!(p.kafka().read_all("shop.t").len(), 51);

    // The broker gone: every command says how to start it.
    let out = p.run(&["pubsub", "broker", "stop"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for args in [
        vec!["pubsub", "status"],
        vec!["pubsub", "tail", "t"],
        vec!["pubsub", "deadletters", "s"],
    ] {
        let out = p.run(&args);
        assert_eq!(out.code, 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("is stopped") && out.stderr.contains("ftl dev"),
            "{args:?}: {}",
            out.stderr
        );
    }
}

#[test]
fn ambiguous_and_unknown_names_list_the_candidates() {
    let p = Project::new().without_broker();
    for m in ["a", "b"] {
        p.write(
            &format!("{m}/ftl.yaml"),
            &format!("module: {m}\nverbs:\n  v: {{exec: [\"true\"]}}\ntopics:\n  orders: {{event: Any}}\nsubscriptions:\n  s: {{topic: orders, verb: v}}\n"),
        );
    }
    let out = p.run(&["pubsub", "tail", "orders"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("matches several topics: a.orders, b.orders"),
        "{}",
        out.stderr
    );
    let out = p.run(&["pubsub", "replay", "x", "--yes"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("known subscriptions: a.s, b.s"),
        "{}",
        out.stderr
    );
}

#[test]
fn replay_on_a_group_held_by_a_killed_runner_says_what_to_do() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = provisioned(&server, "");
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(60),
    );
    p.kafka().produce("shop.t", &events(0..2));
    server.wait_for(2, Duration::from_secs(30));
    dev.signal("KILL");
    drop(dev);
    let out = p.run(&["pubsub", "replay", "s", "--from", "beginning", "--yes"]);
    // The test broker keeps the killed member until another joins, and
    // refuses commits from outside the group meanwhile.
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("refused to move the offsets of group `shop.s`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("Start `ftl dev` and run the replay again"),
        "{}",
        out.stderr
    );
    // Following the hint works.
    let dev = p.dev();
    dev.wait(
        on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(60),
    );
    let before = server.count();
    let out = p.run(&["pubsub", "replay", "s", "--from", "beginning", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    server.wait_for(before + 2, Duration::from_secs(30));
    dev.stop();
}

#[test]
fn publish_to_a_topic_the_broker_lacks_says_so_and_does_not_create_it() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = provisioned(&server, "");
    // Declared after `ftl dev` ran: the broker does not have it. The test
    // broker creates a topic a client asks metadata for, unless the client
    // says not to.
    p.write(
        "late/ftl.yaml",
        "module: late\ntopics:\n  u: {event: Any}\n",
    );
    let out = p.run(&["pubsub", "publish", "late.u", "{}"]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stderr.contains("topic `late.u` does not exist"),
        "{}",
        out.stderr
    );
    let all = p.kafka().topic_names();
    assert!(all.contains(&"shop.t".to_string()), "{all:?}");
    assert!(
        !all.contains(&"late.u".to_string()),
        "asking whether it exists created it: {all:?}"
    );
    let out = p.run(&["pubsub", "publish", "t", r#"{"k":"a"}"#]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}
