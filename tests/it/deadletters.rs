//! Issue 4: dead letters listed and handed back to their own verb only.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::harness::{on, require_docker, wait_until, Event, VerbServer};
use crate::pubsub::{json_lines, provisioned};

#[test]
fn dead_letters_are_listed_and_replayed_to_their_own_verb_only() {
    require_docker();
    let broken = Arc::new(AtomicBool::new(true));
    let b = broken.clone();
    let server = VerbServer::start(move |r, _| {
        if r.path == "/v" && b.load(Ordering::SeqCst) {
            (500, "oven broken".into())
        } else {
            (200, String::new())
        }
    });
    let p = provisioned(&server, "  other: {topic: t, verb: w}\n");
    let kafka = p.kafka();
    let dev = p.dev();
    dev.wait_nth(
        on!(Event::PartitionsAssigned { .. }),
        2,
        Duration::from_secs(60),
    );
    // One key, so the dead letters arrive in a known order.
    let same_key: Vec<(Option<&str>, String)> = (0..3)
        .map(|n| (Some("a"), format!("{{\"k\":\"a\",\"n\":{n}}}")))
        .collect();
    kafka.produce("shop.t", &same_key);
    wait_until("3 dead letters", Duration::from_secs(30), || {
        kafka.read_all("shop.sFailed").len() == 3
    });
    let to_other = || server.requests().iter().filter(|r| r.path == "/w").count();
    let to_v = || server.requests().iter().filter(|r| r.path == "/v").count();
    wait_until("other subscription", Duration::from_secs(30), || {
        to_other() == 3
    });

    let out = p.run(&["pubsub", "deadletters", "s", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dls = json_lines(&out.stdout);
    assert_eq!(dls.len(), 3);
    for d in &dls {
        assert_eq!(d["error"], "HTTP 500: oven broken");
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["source_topic"], "shop.t");
        assert!(d["source_offset"].as_i64().is_some() && d["source_partition"].as_i64().is_some());
        assert!(!d["first_failed_at"].as_str().unwrap().is_empty());
        assert_eq!(d["key"], d["event"]["k"]);
    }
    let one = json_lines(
        &p.run(&["pubsub", "deadletters", "s", "-n", "1", "--json"])
            .stdout,
    );
    assert_eq!(one.len(), 1);
    // The dead-letter topic is a topic like any other for tail.
    let tailed = json_lines(
        &p.run(&[
            "pubsub",
            "tail",
            "sFailed",
            "--from",
            "beginning",
            "--no-follow",
            "--json",
        ])
        .stdout,
    );
    assert_eq!(tailed.len(), 3);
    assert_eq!(tailed[0]["headers"]["ftl.subscription"], "shop.s");
    assert_eq!(tailed[0]["event"]["error"], "HTTP 500: oven broken");
    let human = p.run(&["pubsub", "deadletters", "s"]);
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", "[time]"),
        (r"from shop\.t \d@\d", "from shop.t [p]@[o]"),
    ]}, {
        insta::assert_snapshot!(human.stdout);
    });
    dev.stop();

    // Still broken, no runner: the CLI calls the verb; failures are kept
    // with their new error and attempt count.
    let v_before = to_v();
    // Every one failed again: exit code 1, and how many are pending.
    let out = p.run(&["pubsub", "replay-deadletter", "s"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("0 succeeded, 3 failed again")
            && out.stderr.contains("3 dead letters still pending"),
        "{}",
        out.stderr
    );
    assert_eq!(to_v(), v_before + 3);
    let dls = json_lines(&p.run(&["pubsub", "deadletters", "s", "--json"]).stdout);
    assert_eq!(dls.len(), 3);
    assert!(dls.iter().all(|d| d["attempts"] == 2));

    // Fixed, through the running dev: each goes to verb v only.
    broken.store(false, Ordering::SeqCst);
    let dev = p.dev();
    dev.wait_nth(
        on!(Event::PartitionsAssigned { .. }),
        2,
        Duration::from_secs(60),
    );
    let (v_before, other_before) = (to_v(), to_other());
    let dry = p.run(&["pubsub", "replay-deadletter", "s", "--dry-run"]);
    assert!(
        dry.stderr
            .contains("3 dead letters would be handed to verb `v`"),
        "{}",
        dry.stderr
    );
    assert_eq!(to_v(), v_before);
    let out = p.run(&["pubsub", "replay-deadletter", "s"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("through the running ftl dev"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("3 succeeded, 0 failed again"),
        "{}",
        out.stderr
    );
    assert_eq!(to_v(), v_before + 3);
    let replayed: Vec<String> = server
        .requests()
        .iter()
        .rev()
        .take(3)
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(replayed, vec!["/v", "/v", "/v"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        to_other(),
        other_before,
        "the other subscription saw nothing new"
    );

    let again = p.run(&["pubsub", "replay-deadletter", "s"]);
    assert!(
        again.stderr.contains("replayed 0 dead letters"),
        "{}",
        again.stderr
    );
    assert_eq!(to_v(), v_before + 3);
    assert!(json_lines(&p.run(&["pubsub", "deadletters", "s", "--json"]).stdout).is_empty());
    let status = json_lines(&p.run(&["pubsub", "status", "--json"]).stdout);
    assert_eq!(status[0]["subscriptions"][0]["deadletters"], 0);

    let out = p.run(&["pubsub", "deadletters", "other"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deadletter: true"), "{}", out.stderr);
    dev.stop();
}
