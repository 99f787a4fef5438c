//! Issue 2: project files, validation, the Docker-managed broker, topics.

use std::time::{Duration, Instant};

use crate::harness::{docker, on, require_docker, Event, Project};

const MODULE_NO_TOPICS: &str = "module: shop\nverbs:\n  noop: {exec: [\"true\"]}\n";

fn module_with_topic(partitions: i32) -> String {
    format!(
        "module: shop\nverbs:\n  noop: {{exec: [\"true\"]}}\ntopics:\n  orders: {{event: Any, partitions: {partitions}, key: /id}}\nsubscriptions:\n  audit: {{topic: orders, verb: noop, deadletter: true}}\n"
    )
}

#[test]
fn a_project_without_topics_never_touches_docker() {
    require_docker();
    let p = Project::new();
    p.write("shop/ftl.yaml", MODULE_NO_TOPICS);
    let dev = p.dev();
    dev.wait_ready();
    std::thread::sleep(Duration::from_millis(500));
    let (code, log, events) = dev.stop_with_events();
    assert_eq!(code, 0, "{log}");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Starting { topics: 0, .. })),
        "{log}"
    );
    assert!(
        docker::containers_of(&p.name).is_empty(),
        "a container was created:\n{log}"
    );
}

#[test]
fn adding_a_topic_starts_the_broker_and_creates_topics_then_a_second_dev_reuses_it() {
    require_docker();
    let p = Project::new();
    p.write("shop/ftl.yaml", MODULE_NO_TOPICS);
    let dev = p.dev();
    dev.wait_ready();
    assert!(docker::containers_of(&p.name).is_empty());

    // The edit brings the broker up and provisions.
    p.write("shop/ftl.yaml", &module_with_topic(3));
    dev.wait(
        on!(Event::TopicCreated { topic, partitions: 1 } if topic == "shop.auditFailed"),
        Duration::from_secs(60),
    );
    dev.wait(on!(Event::ReloadApplied { .. }), Duration::from_secs(30));

    let c = docker::inspect(&p.container()).expect("broker container");
    let labels = c
        .config
        .as_ref()
        .and_then(|c| c.labels.clone())
        .unwrap_or_default();
    assert_eq!(
        labels.get("dev.ftl.managed").map(String::as_str),
        Some("true")
    );
    assert_eq!(labels.get("dev.ftl.project"), Some(&p.name));
    let bindings = c
        .host_config
        .as_ref()
        .and_then(|h| h.port_bindings.clone())
        .unwrap();
    let binding = bindings["9092/tcp"].as_ref().unwrap();
    assert_eq!(binding.len(), 1);
    assert_eq!(binding[0].host_ip.as_deref(), Some("127.0.0.1"));
    let port = binding[0].host_port.clone().unwrap();
    assert_ne!(
        port, "0",
        "port 0 must be resolved before the container is created"
    );
    // The broker advertises the picked port.
    let env = c
        .config
        .as_ref()
        .and_then(|c| c.env.clone())
        .unwrap_or_default();
    assert!(
        env.contains(&format!("ADVERTISED_LISTENER_URL=tcp://127.0.0.1:{port}")),
        "{env:?}"
    );
    let mounts = c.mounts.clone().unwrap_or_default();
    assert!(
        mounts
            .iter()
            .any(|m| m.name.as_deref() == Some(&format!("ftl-{}-broker-data", p.name))),
        "{mounts:?}"
    );

    let kafka = p.kafka();
    assert_eq!(kafka.partitions("shop.orders"), Some(3));
    assert_eq!(kafka.partitions("shop.auditFailed"), Some(1));
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");

    // A second `ftl dev` reuses the running container and is ready quickly.
    let id = c.id.clone().unwrap();
    let started = Instant::now();
    let dev = p.dev();
    let (how, ms) = dev.wait(
        on!(Event::BrokerReady { how, ms, .. } => (how.clone(), *ms)),
        Duration::from_secs(30),
    );
    let elapsed = started.elapsed();
    assert_eq!(how, "reused", "{}", dev.log());
    assert!(ms < 1000, "broker ready after {ms} ms:\n{}", dev.log());
    assert_eq!(docker::inspect(&p.container()).and_then(|c| c.id), Some(id));
    eprintln!("second start: broker ready in {ms} ms, `broker_ready` event after {elapsed:?}");
    dev.stop();
}

#[test]
fn lowering_partitions_warns_and_raising_them_names_the_way_out() {
    require_docker();
    let p = Project::new();
    p.write("shop/ftl.yaml", &module_with_topic(3));
    // What a person reads: the text on stderr.
    let dev = p.dev_text();
    dev.wait_for_line("ftl dev: ready", Duration::from_secs(60));

    p.write("shop/ftl.yaml", &module_with_topic(2));
    let warn = dev.wait_for_line(
        "warning: topic shop.orders has 3 partitions but 2 are declared",
        Duration::from_secs(30),
    );
    assert!(warn.contains("keeping 3"), "{warn}");
    assert_eq!(p.kafka().partitions("shop.orders"), Some(3));

    // Tansu refuses CreatePartitions: the user hears why and what to do.
    p.write("shop/ftl.yaml", &module_with_topic(5));
    let err = dev.wait_for_line(
        "cannot grow topic `shop.orders` from 3 to 5 partitions",
        Duration::from_secs(30),
    );
    assert!(err.starts_with("error:"), "{err}");
    let log = dev.log();
    assert!(log.contains("ftl pubsub broker reset"), "{log}");
    // Nothing else broke: the runner goes on.
    assert_eq!(p.kafka().partitions("shop.orders"), Some(3));
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn an_invalid_edit_keeps_the_last_good_configuration() {
    require_docker();
    let p = Project::new().without_broker();
    p.write("shop/ftl.yaml", MODULE_NO_TOPICS);
    let dev = p.dev();
    dev.wait_ready();
    p.write(
        "shop/ftl.yaml",
        "module: shop\nverbs:\n  noop: {exec: [\"true\"], timeout: soon}\n",
    );
    let (problems, running) = dev.wait(
        on!(Event::ReloadRejected { problems, running } => (problems.clone(), *running)),
        Duration::from_secs(30),
    );
    assert!(problems.contains("shop/ftl.yaml:3:"), "{problems}");
    assert_eq!(running, 0, "{problems}");
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn docker_host_pointing_at_nothing_is_one_clear_error() {
    let p = Project::new().without_broker();
    p.write("shop/ftl.yaml", &module_with_topic(1));
    let out = p
        .cmd()
        .arg("dev")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot reach the Docker Engine (tried unix:///nonexistent/docker.sock)"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: start the Docker Engine"), "{stderr}");
    assert!(stderr.contains("DOCKER_HOST"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_taken_host_port_names_the_port_and_the_setting() {
    require_docker();
    let p = Project::new();
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let text = std::fs::read_to_string(p.path().join("ftl-project.yaml")).unwrap();
    p.write(
        "ftl-project.yaml",
        &text.replace("port: 0", &format!("port: {port}")),
    );
    p.write("shop/ftl.yaml", &module_with_topic(1));
    let out = p.run(&["dev"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("pubsub.broker.port"), "{}", out.stderr);
    assert!(docker::containers_of(&p.name).is_empty());
}

#[test]
fn ten_planted_mistakes_are_all_reported_with_positions() {
    let p = Project::new().without_broker();
    p.write(
        "ftl-project.yaml",
        "name: Bad_Name\npubsub:\n  broker:\n    kind: rabbitmq\n    port: 99999\n",
    );
    p.write(
        "pizza/ftl.yaml",
        "module: pizza\nverbs:\n  cook:\n    http: http://127.0.0.1:1/cook\n    exec: [\"true\"]\n  bake: {exec: [\"true\"], timeout: 5 minutes}\n  box: {}\ntopics:\n  orders: {partitions: 8, event: Any}\n  \"bad topic\": {}\n  menu: {partitons: 2, event: Any}\nsubscriptions:\n  a: {topic: kitchen.tickets, verb: bake, batch: {min: 1XB}}\n  b: {topic: orders, verb: bake}\n",
    );
    p.write(
        "kitchen/ftl.yaml",
        "module: kitchen\nverbs:\n  v: {exec: [\"true\"]}\ntopics:\n  tickets: {event: Any}\n",
    );
    let out = p.run(&["schema"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.matches("error: ").count(), 12, "{}", out.stderr);
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn the_example_project_is_valid_and_its_schema_is_stable() {
    let out = std::process::Command::new(crate::harness::ftl_bin())
        .args(["-C", "examples/pizzashop", "schema"])
        .current_dir(crate::harness::repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn an_image_that_is_absent_and_cannot_be_pulled_says_how_to_get_one() {
    require_docker();
    let p = Project::new();
    p.write("shop/ftl.yaml", &module_with_topic(1));
    let out = p
        .cmd()
        .arg("dev")
        .env("FTL_BROKER_IMAGE", "ftl-test/absent:0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("image `ftl-test/absent:0` is not on this machine and cannot be pulled"),
        "{stderr}"
    );
    assert!(stderr.contains("FTL_BROKER_IMAGE"), "{stderr}");
    assert!(stderr.contains("~/.config/ftl/config.yaml"), "{stderr}");
    assert!(stderr.contains("kind: external"), "{stderr}");
    // Nothing ran, so nothing is said to stop.
    assert!(!stderr.contains("stopping"), "{stderr}");
    assert!(docker::containers_of(&p.name).is_empty());
}

#[test]
fn broker_start_logs_stop_and_reset_manage_only_this_projects_container() {
    require_docker();
    let p = Project::new();
    p.write("shop/ftl.yaml", &module_with_topic(1));
    let out = p.run(&["pubsub", "broker", "start"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("ready on 127.0.0.1:"), "{}", out.stderr);
    let out = p.run(&["pubsub", "broker", "logs", "--tail", "5"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.trim().is_empty());
    let out = p.run(&["pubsub", "broker", "stop"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let state = docker::inspect(&p.container())
        .and_then(|c| c.state)
        .and_then(|s| s.running);
    assert_eq!(state, Some(false));
    // A stopped broker is started again, same container.
    let out = p.run(&["pubsub", "broker", "start"]);
    assert!(out.stderr.contains("started"), "{}", out.stderr);
    let out = p.run(&["pubsub", "broker", "reset"]);
    assert_eq!(out.code, 2, "reset without a terminal needs --yes");
    let out = p.run(&["pubsub", "broker", "reset", "--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(docker::containers_of(&p.name).is_empty());

    // A container on our name that ftl did not label is never touched.
    let name = p.container();
    let made = std::process::Command::new("docker")
        .args(["create", "--name", &name, crate::harness::TEST_IMAGE])
        .output()
        .unwrap();
    assert!(made.status.success());
    let out = p.run(&["dev"]);
    let _ = std::process::Command::new("docker")
        .args(["rm", "-f", &name])
        .output();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "a container named `{name}` exists but was not created by ftl"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_batch_the_kafka_client_would_refuse_is_invalid_at_its_line() {
    // Regression (issue 7): `batch: {default: 64KB}` validated, then its
    // consumer was never created and status called it running.
    let p = Project::new().without_broker();
    p.write(
        "shop/ftl.yaml",
        "module: shop\nverbs:\n  v: {exec: [\"true\"]}\ntopics:\n  t: {event: Any}\nsubscriptions:\n  s:\n    topic: t\n    verb: v\n    batch: {min: 1B, default: 64KB, max_wait: 6m}\n",
    );
    let out = p.run(&["dev"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("error: `batch.default` of 65536 bytes is below the Kafka client's `message.max.bytes` (1000000 bytes)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("shop/ftl.yaml:10:31"), "{}", out.stderr);
    assert!(out.stderr.contains("use at least 977KB"), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("`batch.max_wait` of 6m is longer than a fetch may wait"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("shop/ftl.yaml:10:47"), "{}", out.stderr);
    // A smaller `message.max.bytes` in runner.consumer makes room for it.
    p.project_file("  consumer: {message.max.bytes: \"65536\"}\n");
    p.module("shop")
        .verb("v", "exec: [\"true\"]")
        .topic("t", "")
        .subscription("s", "topic: t, verb: v, batch: {default: 64KB}")
        .write();
    p.run(&["schema"])
        .succeeds()
        .prints("subscription s (shop.t : shop.v)")
        .prints("+batch 1B 64KB 250ms");
}
