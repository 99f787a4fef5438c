//! Issue 9 (parts): `runner.listen` serves this machine's own tools only,
//! and refuses what it does not serve.

use crate::harness::{on, Event};
use crate::harness::{request, require_docker, Project};

#[test]
fn the_runner_serves_only_local_tools_and_refuses_what_it_does_not_serve() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev();
    dev.wait_ready();
    let addr = p.listen.clone();
    let port = addr.rsplit(':').next().unwrap().to_string();
    let json = ("Content-Type", "application/json");
    let post = |path: &str, headers: &[(&str, &str)], body: &str| {
        let r = request(&addr, "POST", path, headers, body);
        (r.status, r.text())
    };
    // Not routes: 404 with a JSON error, never a gRPC 200.
    for path in [
        "/topics/shop.t/",
        "/topics/shop.t/x",
        "//topics/shop.t",
        "/topics/../admin/status",
        "/topics/",
        "/nonexistent",
    ] {
        let (code, text) = if path.contains("..") {
            // An HTTP client resolves `..` before sending: this one goes
            // as written.
            post_as_written(&addr, path, "{}")
        } else {
            post(path, &[json], "{}")
        };
        assert_eq!(code, 404, "{path}: {text}");
        assert!(text.contains("\"error\""), "{path}: {text}");
        assert!(!text.contains("grpc-status"), "{path}: {text}");
    }
    // A web page: foreign Origin, rebinding Host, a form-like content type.
    let (code, text) = post(
        "/topics/shop.t",
        &[json, ("Origin", "http://evil.example")],
        "{}",
    );
    assert_eq!(code, 403, "{text}");
    assert!(text.contains("evil.example"), "{text}");
    let evil = format!("evil.example:{port}");
    let r = request(&addr, "GET", "/admin/status", &[("Host", &evil)], "");
    let (code, text) = (r.status, r.text());
    assert_eq!(code, 403, "{text}");
    let (code, text) = post(
        "/topics/shop.t",
        &[("Content-Type", "text/plain")],
        "{\"id\":1}",
    );
    assert_eq!(code, 415, "{text}");
    let (code, text) = post(
        "/admin/subscriptions/shop.s/replay",
        &[("Content-Type", "text/plain")],
        "{\"from\":\"beginning\"}",
    );
    assert_eq!(code, 415, "{text}");
    // A key that is not UTF-8 is refused, not changed.
    let (code, text) = post("/topics/shop.t?key=%ff%fe", &[json], "{\"id\":2}");
    assert_eq!(code, 400, "{text}");
    assert!(text.contains("not UTF-8"), "{text}");
    // What was refused published nothing.
    assert!(p.kafka().read_all("shop.t").is_empty());
    // Local tools keep working: localhost, its own origin, the CLI.
    let (host, origin) = (
        format!("localhost:{port}"),
        format!("http://localhost:{port}"),
    );
    let (code, text) = post(
        "/topics/shop.t",
        &[("Host", &host), ("Origin", &origin), json],
        "{\"id\":3}",
    );
    assert_eq!(code, 200, "{text}");
    p.run(&["pubsub", "status"])
        .succeeds()
        .prints("ftl dev running");
    assert_eq!(p.kafka().read_all("shop.t").len(), 1);
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn files_accepted_before_but_wrong_are_problems_with_positions() {
    let p = Project::new().without_broker();
    p.module("a")
        .verb("e", "exec: [\"\"]")
        .verb("h1", "http: \"http://\"")
        .verb("h2", "http: \"https://[::1\"")
        .verb("h3", "http: \"http://127.0.0.1:99999/x\"")
        .verb("t", "exec: [\"true\"], timeout: 0s")
        .write();
    p.write("b/ftl.yaml", "module: b\n---\nmodule: c\n");
    std::fs::create_dir_all(p.path().join("c")).unwrap();
    std::fs::write(
        p.path().join("c/ftl.yaml"),
        b"module: c\nverbs:\n  v: {exec: [\"\xff\"]}\n",
    )
    .unwrap();
    p.run(&["schema"])
        .fails_with(2)
        .says("the command of `exec` of verb `e` is empty")
        .says("a/ftl.yaml:4:")
        .says("`http` of verb `h1` must be an http:// URL, not `http://`: empty host")
        .says("`http` of verb `h2` must be an http:// URL, not `https://[::1`: invalid IPv6 address")
        .says("`http` of verb `h3` must be an http:// URL, not `http://127.0.0.1:99999/x`: invalid port number")
        .says("a `timeout` of 0s would fail every call of verb `t`")
        .says("a second YAML document: ftl reads one document per file")
        .says("--> b/ftl.yaml:2:1")
        .says("the file is not UTF-8 text (byte 0xff)")
        .says("--> c/ftl.yaml:3:15");
}

#[test]
fn a_file_with_very_many_problems_lists_the_first_and_counts_the_rest() {
    let p = Project::new().without_broker();
    let mut text = String::from("module: m\ntopics:\n");
    for i in 0..40_000 {
        text.push_str(&format!("  t{i}: {{event: Any, colour: red}}\n"));
    }
    p.write("m/ftl.yaml", &text);
    let out = p.run(&["schema"]);
    out.fails_with(2)
        .says("... and 39950 more problems not shown (fix these first)")
        .says("40000 problems found; nothing was started");
    assert_eq!(
        out.stderr.matches("error: unknown key `colour`").count(),
        50
    );
}

/// A JSON POST whose request target goes exactly as written (hyper's
/// client keeps `..` segments; reqwest's URLs resolve them): its status,
/// headers and body as one text.
fn post_as_written(addr: &str, path: &str, body: &str) -> (u16, String) {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = Client::builder(TokioExecutor::new()).build_http::<String>();
        let req = axum::http::Request::post(format!("http://{addr}{path}"))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .unwrap();
        assert_eq!(req.uri().path(), path, "sent as written");
        let resp = client.request(req).await.expect("a request to the runner");
        let status = resp.status().as_u16();
        let mut text = String::new();
        for (k, v) in resp.headers() {
            text.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("?")));
        }
        let body = axum::body::to_bytes(axum::body::Body::new(resp.into_body()), usize::MAX)
            .await
            .expect("the answer's body");
        text.push('\n');
        text.push_str(&String::from_utf8_lossy(&body));
        (status, text)
    })
}

#[test]
fn too_large_events_are_refused_before_anything_is_published() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev();
    dev.wait_ready();
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(1_500_000));
    let addr = p.listen.clone();
    let r = request(
        &addr,
        "POST",
        "/topics/shop.t",
        &[("Content-Type", "application/json")],
        &big,
    );
    let (code, text) = (r.status, r.text());
    assert_eq!(code, 413, "{}", &text[..text.len().min(300)]);
    assert!(
        text.contains("at most 995904"),
        "{}",
        &text[..text.len().min(300)]
    );
    // NDJSON with a too-large third line: nothing is published.
    let stdin = format!("{{\"id\":1}}\n{{\"id\":2}}\n{big}\n{{\"id\":4}}\n");
    let out = p.run_with_stdin(&["pubsub", "publish", "shop.t", "-"], stdin.as_bytes());
    let stderr = &out.stderr;
    assert_eq!(out.code, 2, "{stderr}");
    assert!(
        stderr.contains("nothing was published; 1 invalid event:\n  stdin line 3: the event for `shop.t` is 1500010 bytes; at most 995904 fit in one Kafka message"),
        "{stderr}"
    );
    assert!(p.kafka().read_all("shop.t").is_empty());
    dev.stop();
}

#[test]
fn after_a_broker_restart_topics_come_back_and_publishing_and_delivery_go_on() {
    require_docker();
    let server = crate::harness::VerbServer::start(|_, _| (200, String::new()));
    // From latest: after the restart the group has no position, and a
    // reset to the end would skip what was published before it rejoined.
    let p = Project::single_subscription(&server.url("/v"), "", "deadletter: true, from: latest");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    let publish = |id: i32| {
        crate::harness::http(
            &p.listen,
            "POST",
            "/topics/shop.t",
            Some(&format!("{{\"id\":{id}}}")),
        )
    };
    // Five events delivered before: the runner's position (at least 5)
    // lies beyond the end of the topic created again, where the first
    // events after land. From latest, the position is set by the first
    // fetch: publish until five arrived.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut id = 0;
    while server.count() < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "no delivery before the restart:\n{}",
            dev.log()
        );
        id += 1;
        assert_eq!(publish(id).0, 200);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    // The memory-only test broker forgets everything when it stops: the
    // topic, its events and the group's positions.
    let docker = crate::harness::docker::cli;
    docker(&["stop", "-t", "1", &p.container()]);
    dev.wait(
        on!(Event::BrokerLost { .. }),
        std::time::Duration::from_secs(30),
    );
    docker(&["start", &p.container()]);
    let restarted = std::time::Instant::now();
    // What a revocation in the broker's first moments back can do: commit
    // the position in the old topic (5) to the broker that forgot it, as
    // soon as the topic exists again. Refused when the runner's member is
    // back in the group first (a local broker is reconnected to within a
    // second), and then `from: latest` is what would skip the events.
    let stale = p.kafka().try_commit("shop.s", "shop.t", 0, 5);
    eprintln!(
        "committing the old position {:?} after the broker started: {stale:?}",
        restarted.elapsed()
    );
    if stale.is_ok() {
        assert_eq!(
            dev.count(&on!(Event::StartedOver { .. })),
            0,
            "the runner started over before the old position was committed, so this run shows nothing:\n{}",
            dev.log()
        );
    }
    // The topic and the dead-letter topic are created again.
    for topic in ["shop.t", "shop.sFailed"] {
        dev.wait_nth(
            on!(Event::TopicCreated { topic: t, .. } if t == topic),
            2,
            std::time::Duration::from_secs(30),
        );
    }
    // The Publisher works again (a new producer) and the subscription delivers.
    let mut answered = 0;
    for attempt in 0..60 {
        if publish(100 + attempt).0 == 200 {
            answered = 100 + attempt;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(
        answered > 0,
        "the Publisher never recovered:\n{}",
        dev.log()
    );
    eprintln!(
        "the Publisher answered 200 again {:?} after the broker started",
        restarted.elapsed()
    );
    let after: Vec<i32> = (answered..answered + 5).collect();
    for id in &after[1..] {
        assert_eq!(publish(*id).0, 200);
    }
    // Every event published after the restart is delivered, the first ones
    // too (offsets 0..5 of the new topic, before the old position).
    dev.wait(
        on!(Event::StartedOver { subscription, topic, .. } if subscription == "shop.s" && topic == "shop.t"),
        std::time::Duration::from_secs(60),
    );
    eprintln!(
        "started over {:?} after the broker started",
        restarted.elapsed()
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let seen: Vec<i64> = server
            .requests()
            .iter()
            .filter_map(|r| r.json()["id"].as_i64())
            .collect();
        let missing: Vec<&i32> = after
            .iter()
            .filter(|id| !seen.contains(&(**id as i64)))
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "events {missing:?} published after the restart were never delivered (delivered: {seen:?}):\n{}",
            dev.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    eprintln!(
        "delivered again {:?} after the broker started",
        restarted.elapsed()
    );
    // The console's broker up-time is the restarted container's, not the
    // time since `ftl dev` first found it.
    let (code, body) = crate::harness::http(&p.listen, "GET", "/admin/overview", None);
    assert_eq!(code, 200, "{body}");
    let overview: serde_json::Value = serde_json::from_str(&body).unwrap();
    let up = overview["broker"]["uptime_s"].as_u64().unwrap();
    assert!(
        up <= restarted.elapsed().as_secs() + 1,
        "up {up} s, but the broker started {:?} ago",
        restarted.elapsed()
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_volume_ftl_did_not_make_is_refused_and_left_alone() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let volume = format!("ftl-{}-broker-data", p.name);
    assert!(
        crate::harness::docker::try_cli(&["volume", "create", &volume])
            .status
            .success()
    );
    p.run(&["dev"])
        .fails_with(1)
        .says(&format!(
            "a volume named `{volume}` exists but was not created by ftl"
        ))
        .says(&format!("`docker volume rm {volume}`"));
    p.run(&["pubsub", "broker", "reset", "--yes"])
        .succeeds()
        .says("nothing to reset")
        .says(&format!(
            "volume {volume} was not created by ftl for this project and was left alone"
        ));
    assert!(
        crate::harness::docker::try_cli(&["volume", "inspect", &volume])
            .status
            .success()
    );
    assert!(crate::harness::docker::try_cli(&["volume", "rm", &volume])
        .status
        .success());
}

#[test]
fn the_broker_sits_on_a_network_of_its_own_project() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev();
    dev.wait_ready();
    let c = crate::harness::docker::inspect(&p.container()).unwrap();
    let network = format!("ftl-{}", p.name);
    assert_eq!(
        c.host_config.and_then(|h| h.network_mode).as_deref(),
        Some(network.as_str())
    );
    let labels = crate::harness::docker::try_cli(&[
        "network",
        "inspect",
        "-f",
        "{{index .Labels \"dev.ftl.project\"}}",
        &network,
    ]);
    assert_eq!(String::from_utf8_lossy(&labels.stdout).trim(), p.name);
    dev.stop();
    p.run(&["pubsub", "broker", "reset", "--yes"])
        .succeeds()
        .says("removed container");
    assert!(
        !crate::harness::docker::try_cli(&["network", "inspect", &network])
            .status
            .success()
    );
}

#[test]
fn an_external_broker_is_used_without_docker() {
    require_docker();
    let server = crate::harness::VerbServer::start(|_, _| (200, String::new()));
    // A broker ftl did not start: the test runs it itself.
    let port = crate::harness::free_port();
    let name = crate::harness::unique("ftl-test-external-");
    let started = crate::harness::docker::try_cli(&[
        "run",
        "-d",
        "--rm",
        "--name",
        &name,
        "-p",
        &format!("127.0.0.1:{port}:9092"),
        "-e",
        &format!("ADVERTISED_LISTENER_URL=tcp://127.0.0.1:{port}"),
        crate::harness::TEST_IMAGE,
    ]);
    assert!(started.status.success(), "{started:?}");
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = crate::harness::docker::try_cli(&["rm", "-f", &self.0]);
        }
    }
    let _cleanup = Cleanup(name);

    let p =
        Project::single_subscription(&server.url("/v"), "", "deadletter: true").without_broker();
    let external = |properties: &str| {
        p.write(
            "ftl-project.yaml",
            &format!(
                "name: {}\npubsub:\n  broker:\n    kind: external\n    bootstrap: \"127.0.0.1:{port}\"\n{properties}runner:\n  listen: {}\n",
                p.name, p.listen
            ),
        );
    };
    let without_docker = |args: &[&str]| {
        let mut c = p.cmd();
        c.env_remove("FTL_BROKER_KIND")
            .env_remove("FTL_BROKER_IMAGE")
            .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            .args(args);
        c
    };
    // A wrong property reaches librdkafka and is named.
    external("    properties: {security.protocol: bogus}\n");
    let out = without_docker(&["dev"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("security.protocol"), "{stderr}");
    assert!(stderr.contains("pubsub.broker.properties"), "{stderr}");

    external("");
    let mut c = without_docker(&["--json", "dev"]);
    c.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let dev = crate::harness::Dev::spawn_command(c);
    let how = dev.wait(
        on!(Event::BrokerReady { how, .. } => how.clone()),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(how, "external", "{}", dev.log());
    dev.wait_assigned("shop.s", 1);
    let published = without_docker(&["pubsub", "publish", "shop.t", "{\"id\":1}"])
        .output()
        .unwrap();
    assert!(published.status.success(), "{published:?}");
    server.wait_for(1, std::time::Duration::from_secs(30));
    for args in [
        &["pubsub", "status"][..],
        &[
            "pubsub",
            "tail",
            "shop.t",
            "--from",
            "beginning",
            "--no-follow",
        ][..],
        &["pubsub", "deadletters", "shop.s"][..],
        &["pubsub", "replay", "shop.s", "--from", "beginning", "--yes"][..],
    ] {
        let out = without_docker(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    server.wait_for(2, std::time::Duration::from_secs(30));
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_broker_killed_and_started_while_events_are_published_loses_nothing_acknowledged_after() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    require_docker();
    let server = crate::harness::VerbServer::start(|_, _| (200, String::new()));
    let p = Project::single_subscription(&server.url("/v"), "partitions: 2, key: /k", "");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    // Publishing goes on through the Publisher the whole time: (id, acked at).
    let acked: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (acked, refused, stop) = (acked.clone(), refused.clone(), stop.clone());
        let listen = p.listen.clone();
        std::thread::spawn(move || {
            let mut id = 0i64;
            while !stop.load(Ordering::SeqCst) {
                id += 1;
                let body = format!("{{\"id\":{id},\"k\":\"k{}\"}}", id % 7);
                let (code, _) =
                    crate::harness::http(&listen, "POST", "/topics/shop.t", Some(&body));
                if code == 200 {
                    acked.lock().unwrap().push((id, Instant::now()));
                } else {
                    refused.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(100));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    let killed = crate::harness::docker::try_cli(&["kill", &p.container()]);
    assert!(killed.status.success(), "{killed:?}");
    dev.wait(on!(Event::BrokerLost { .. }), Duration::from_secs(30));
    // Started again the way a user would.
    p.run(&["pubsub", "broker", "start"]).succeeds();
    let started = Instant::now();
    dev.wait(on!(Event::BrokerRegained { .. }), Duration::from_secs(30));
    // The CLI publishes too once the topic is back.
    crate::harness::wait_until("the CLI to publish", Duration::from_secs(30), || {
        p.run(&["pubsub", "publish", "shop.t", "{\"id\":-1,\"k\":\"cli\"}"])
            .code
            == 0
    });
    std::thread::sleep(Duration::from_secs(3));
    stop.store(true, Ordering::SeqCst);
    publisher.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    // What a memory-only broker acknowledged before its restart is gone
    // with it (RELIABILITY.md); everything acknowledged after must arrive.
    let after: Vec<i64> = acked
        .iter()
        .filter(|(_, at)| *at > started)
        .map(|(id, _)| *id)
        .collect();
    assert!(
        !after.is_empty(),
        "nothing was acknowledged after the restart"
    );
    let first_after = acked
        .iter()
        .find(|(_, at)| *at > started)
        .map(|(_, at)| at.duration_since(started))
        .unwrap();
    crate::harness::wait_until(
        "every event acknowledged after the restart",
        Duration::from_secs(60),
        || {
            let got: std::collections::HashSet<i64> = server
                .requests()
                .iter()
                .filter_map(|r| r.json()["id"].as_i64())
                .collect();
            after.iter().all(|id| got.contains(id)) && got.contains(&-1)
        },
    );
    let delivered = server.requests().len();
    let distinct: std::collections::HashSet<i64> = server
        .requests()
        .iter()
        .filter_map(|r| r.json()["id"].as_i64())
        .collect();
    eprintln!(
        "broker kill + start: {} acknowledged ({} after the restart, the first {:?} after it), {} refused during the outage, \
         {} deliveries of {} events, {} duplicates, 0 lost of those acknowledged after the restart",
        acked.len(),
        after.len(),
        first_after,
        refused.load(Ordering::SeqCst),
        delivered,
        distinct.len(),
        delivered - distinct.len()
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_verb_slower_than_the_poll_interval_keeps_its_partition() {
    use std::time::Duration;
    require_docker();
    // The first call takes 4 s, longer than the 2.5 s poll interval set
    // below: the runner keeps polling while the verb works, so the member
    // is not evicted and the event is not handed to anyone else.
    let server = crate::harness::VerbServer::start(|_, n| {
        if n == 0 {
            std::thread::sleep(Duration::from_secs(4));
        }
        (200, String::new())
    });
    let p = Project::single_subscription(&server.url("/v"), "", "");
    p.project_file("  consumer: {max.poll.interval.ms: \"2500\"}\n");
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    p.kafka().produce(
        "shop.t",
        &[(None, "{\"id\":1}".into()), (None, "{\"id\":2}".into())],
    );
    server.wait_for(2, Duration::from_secs(30));
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(server.requests().len(), 2, "each event once");
    assert_eq!(
        dev.count(&on!(Event::PartitionsRevoked { subscription, .. } if subscription == "shop.s")),
        0,
        "{}",
        dev.log()
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}
