//! Issue 10: the first hour of a new user, every stumble removed.

use std::time::Duration;

use serde_json::Value;

use crate::harness::{
    first_json, http, on, require_docker, wait_until, Event, Project, VerbServer,
};

/// A project file that leaves every port to `ftl`.
fn no_ports(p: &Project) {
    p.write("ftl-project.yaml", &format!("name: {}\n", p.name));
}

#[test]
fn two_projects_run_side_by_side_with_no_port_set() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let projects: Vec<Project> = (0..2)
        .map(|_| {
            let p = Project::single_subscription(&server.url("/v"), "", "");
            no_ports(&p);
            p
        })
        .collect();
    let devs: Vec<_> = projects.iter().map(|p| p.dev()).collect();
    let mut addresses = Vec::new();
    for (p, dev) in projects.iter().zip(&devs) {
        let Event::Ready {
            listen: Some(addr), ..
        } = dev.wait_ready()
        else {
            panic!("ready names its address:\n{}", dev.log())
        };
        dev.wait_assigned("shop.s", 1);
        // Published through this project's own runner, at the port it picked.
        let (code, body) = http(&addr, "POST", "/topics/shop.t", Some("{\"n\":1}"));
        assert_eq!(code, 200, "{body}");
        // Commands find the runner without being told where it is.
        let out = p.run(&["pubsub", "status", "--json"]);
        out.succeeds();
        let status = first_json(&out.stdout);
        assert_eq!(status["runners"][0]["listen"], addr.as_str(), "{status}");
        assert_eq!(status["subscriptions"][0]["state"], "running", "{status}");
        addresses.push(addr);
    }
    assert_ne!(addresses[0], addresses[1]);
    server.wait_for(2, Duration::from_secs(30));
    for dev in devs {
        let (code, log) = dev.stop();
        assert_eq!(code, 0, "{log}");
    }
    // A stopped runner is no longer found.
    let out = projects[0].run(&["pubsub", "status", "--json"]);
    assert_eq!(first_json(&out.stdout)["runners"], serde_json::json!([]));
}

#[test]
fn two_runners_of_one_project_are_both_listed_and_both_replay() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = Project::single_subscription(&server.url("/v"), "partitions: 4, key: /k", "");
    no_ports(&p);
    let a = p.dev();
    a.wait_ready();
    let b = p.dev();
    b.wait_ready();
    assert_eq!(b.count(&on!(Event::ListenFailed { .. })), 0, "{}", b.log());
    let events: Vec<(Option<&str>, String)> = (0..40)
        .map(|i| {
            (
                Some(["a", "b", "c", "d", "e", "f"][i % 6]),
                format!("{{\"k\":{i}}}"),
            )
        })
        .collect();
    wait_until(
        "both runners hold partitions",
        Duration::from_secs(60),
        || {
            let out = p.run(&["pubsub", "status", "--json"]);
            first_json(&out.stdout)["runners"].as_array().map(Vec::len) == Some(2)
                && a.count(&on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s")) > 0
                && b.count(&on!(Event::PartitionsAssigned { subscription, .. } if subscription == "shop.s")) > 0
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    p.kafka().produce("shop.t", &events);
    server.wait_for(40, Duration::from_secs(60));
    // Replay moves every partition: each runner moves the ones it holds.
    let out = p.run(&[
        "pubsub",
        "replay",
        "s",
        "--from",
        "beginning",
        "--yes",
        "--json",
    ]);
    out.succeeds();
    let moved = first_json(&out.stdout);
    assert_eq!(moved["redelivered"], 40, "{moved}");
    assert_eq!(moved["partitions"].as_array().unwrap().len(), 4, "{moved}");
    server.wait_for(80, Duration::from_secs(60));
    a.stop();
    b.stop();
}

#[test]
fn commands_find_the_project_from_a_subfolder_and_name_one_below() {
    let p = Project::new().without_broker();
    p.module("shop").verb("v", "exec: [\"true\"]").write();
    let out = p
        .cmd()
        .current_dir(p.path().join("shop"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("module shop"));
    // Above a project: the hint names it instead of suggesting `ftl init`.
    let outer = tempfile::tempdir().unwrap();
    let init = p
        .cmd()
        .current_dir(outer.path())
        .args(["init", "demo"])
        .output()
        .unwrap();
    assert!(init.status.success(), "{init:?}");
    let out = p
        .cmd()
        .current_dir(outer.path())
        .args(["pubsub", "status"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("or the folders above it"), "{stderr}");
    assert!(
        stderr.contains("there is a project in `demo`: run the command there, or add `-C demo`"),
        "{stderr}"
    );
}

#[test]
fn stopping_a_memory_broker_says_its_topics_are_gone_and_status_shows_it() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev();
    dev.wait_ready();
    dev.stop();
    p.run(&["pubsub", "broker", "stop"])
        .succeeds()
        .says("keeps everything in memory, so its topics and events are gone");
    p.run(&["pubsub", "broker", "start"]).succeeds();
    p.run(&["pubsub", "status"])
        .succeeds()
        .prints("shop.t")
        .prints("not created — ftl dev creates it");
}

#[test]
fn tail_without_follow_merges_partitions_oldest_first_and_says_why_it_is_empty() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "partitions: 3, key: /k", "");
    let dev = p.dev();
    dev.wait_ready();
    dev.stop();
    let kafka = p.kafka();
    for i in 0..12 {
        kafka.produce(
            "shop.t",
            &[(
                Some(["a", "b", "c", "d"][i % 4]),
                format!("{{\"k\":\"x\",\"id\":{i}}}"),
            )],
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let ids = |args: &[&str]| -> Vec<i64> {
        let out = p.run(args);
        out.succeeds();
        out.stdout
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["event"]["id"]
                    .as_i64()
                    .unwrap()
            })
            .collect()
    };
    let all = ids(&[
        "pubsub",
        "tail",
        "t",
        "--from",
        "beginning",
        "--no-follow",
        "--json",
    ]);
    assert_eq!(
        all,
        (0..12).collect::<Vec<_>>(),
        "oldest first across partitions"
    );
    let first = ids(&[
        "pubsub",
        "tail",
        "t",
        "--from",
        "beginning",
        "--no-follow",
        "-n",
        "3",
        "--json",
    ]);
    assert_eq!(first, vec![0, 1, 2]);
    // The default is `latest`: nothing old, and it says why.
    p.run(&["pubsub", "tail", "t", "--no-follow"])
        .succeeds()
        .says("no events: `--from latest` (the default) shows only events published from now on");
}
