//! Looking up events by time on the test broker, which answers offset 0 for
//! any time: `ftl` checks the answer against the events' timestamps.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::harness::{require_docker, Project, VerbServer};

fn ids(p: &Project, from: &str) -> Vec<i64> {
    let out = p.run(&[
        "pubsub",
        "tail",
        "t",
        "--from",
        from,
        "--no-follow",
        "--json",
    ]);
    assert_eq!(out.code, 0, "tail --from {from}: {}", out.stderr);
    out.stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["event"]["id"]
                .as_i64()
                .unwrap()
        })
        .collect()
}

#[test]
fn tail_and_replay_from_a_time_start_at_the_first_event_at_or_after_it() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = Project::single_subscription(&server.url("/v"), "partitions: 2, key: /id", "");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    let kafka = p.kafka();
    let batch = |ids: std::ops::Range<i64>| -> Vec<(Option<String>, String)> {
        ids.map(|i| (Some(format!("{i}")), format!("{{\"id\":{i}}}")))
            .collect()
    };
    let send = |ids: std::ops::Range<i64>| {
        let b = batch(ids);
        let refs: Vec<(Option<&str>, String)> =
            b.iter().map(|(k, v)| (k.as_deref(), v.clone())).collect();
        kafka.produce("shop.t", &refs);
    };
    // Events 0..6, then (the gap is what the test is about, not a wait on
    // the broker) 6 s later events 6..10.
    send(0..6);
    std::thread::sleep(Duration::from_secs(6));
    let cut = humantime::format_rfc3339_millis(SystemTime::now()).to_string();
    send(6..10);
    server.wait_for(10, Duration::from_secs(30));

    assert_eq!(ids(&p, "2030-01-01T00:00:00Z"), Vec::<i64>::new());
    let mut recent = ids(&p, "-5s");
    recent.sort();
    assert_eq!(recent, (6..10).collect::<Vec<_>>());
    let mut after = ids(&p, &cut);
    after.sort();
    assert_eq!(after, (6..10).collect::<Vec<_>>());
    let mut all = ids(&p, "2020-01-01T00:00:00Z");
    all.sort();
    assert_eq!(all, (0..10).collect::<Vec<_>>());

    // Replay through the running ftl dev: exactly the events at or after.
    let out = p.run(&["pubsub", "replay", "s", "--from", &cut, "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("4 events will be redelivered"),
        "{}",
        out.stdout
    );
    server.wait_for(14, Duration::from_secs(30));
    let mut again: Vec<i64> = server.requests()[10..]
        .iter()
        .map(|r| r.json()["id"].as_i64().unwrap())
        .collect();
    again.sort();
    assert_eq!(again, (6..10).collect::<Vec<_>>());
    // A time after every event: nothing to replay.
    let out = p.run(&[
        "pubsub",
        "replay",
        "s",
        "--from",
        "2030-01-01T00:00:00Z",
        "--yes",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("0 events will be redelivered")
            || out.stdout.contains("nothing to redeliver")
            || out.stdout.contains("no events"),
        "{}",
        out.stdout
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}
