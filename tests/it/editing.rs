//! Issue 14: while files are being edited, commands keep working and
//! messages say what really happened.

use std::time::Duration;

use crate::harness::{
    first_json, free_port, on, require_docker, wait_until, Event, Project, VerbServer,
};

#[test]
fn commands_work_while_an_unrelated_module_file_is_invalid() {
    require_docker();
    let server = VerbServer::start(|_, _| (200, String::new()));
    let p = Project::single_subscription(&server.url("/v"), "", "");
    p.module("ev").topic("events", "").write();
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);

    // `ev/ftl.yaml` breaks mid-edit.
    p.write(
        "ev/ftl.yaml",
        "module: ev\ntopics:\n  events: {event: Any, partitions: [\n",
    );
    let (problems, running) = dev.wait(
        on!(Event::ReloadRejected { problems, running } => (problems.clone(), *running)),
        Duration::from_secs(30),
    );
    assert_eq!(running, 1, "{problems}");
    assert!(problems.contains("ev/ftl.yaml:"), "{problems}");

    // `ftl dev` runs its last valid version: the commands use that one.
    let out = p.run(&["pubsub", "publish", "shop.t", "{\"id\":1}"]);
    out.succeeds()
        .prints("shop.t 0@0")
        .says("warning: `ev/ftl.yaml` is invalid on disk (")
        .says("uses the version the running `ftl dev`");
    assert_eq!(out.stderr.matches("warning:").count(), 1, "{}", out.stderr);
    server.wait_for(1, Duration::from_secs(30));
    let out = p.run(&["pubsub", "status", "--json"]);
    out.succeeds().says("`ev/ftl.yaml` is invalid");
    assert_eq!(
        first_json(&out.stdout)["subscriptions"][0]["state"],
        "running"
    );

    p.run(&["pubsub", "publish", "ev.events", "{}"])
        .succeeds()
        .prints("ev.events 0@0");
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");

    // No `ftl dev`: the broken module is left out, and its own topic is a
    // clear error naming the file and line.
    p.run(&["pubsub", "publish", "shop.t", "{\"id\":2}"])
        .succeeds()
        .says("warning: `ev/ftl.yaml` is invalid and left out (");
    p.run(&["pubsub", "publish", "ev.events", "{}"])
        .fails_with(2)
        .says("topic `ev.events` may be declared in `ev/ftl.yaml`, which is invalid")
        .says("--> ev/ftl.yaml:4:");
}

#[test]
fn an_invalid_edit_says_the_last_good_configuration_still_runs() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "", "");
    let dev = p.dev_text();
    dev.wait_for_line("ftl dev: ready", Duration::from_secs(60));
    p.write("shop/ftl.yaml", "module: shop\nverbs:\n  v: {http: 7}\n");
    let line = dev.wait_for_line(
        "still running the last good configuration",
        Duration::from_secs(30),
    );
    assert!(
        line.contains(
            "the edit is invalid; still running the last good configuration (1 subscription)"
        ),
        "{line}"
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
    assert!(!log.contains("nothing was started"), "{log}");
    assert!(log.contains("shop/ftl.yaml:3:"), "{log}");
}

#[test]
fn two_runners_of_one_project_from_one_folder_with_listen() {
    require_docker();
    let p = Project::single_subscription("http://127.0.0.1:9/v", "partitions: 2, key: /k", "");
    let (a_addr, b_addr) = (
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    );
    let a = p.dev_with(&[("FTL_LISTEN", &a_addr)]);
    assert_eq!(
        a.wait(
            on!(Event::Listening { address } => address.clone()),
            Duration::from_secs(60)
        ),
        a_addr
    );
    let mut c = p.cmd();
    c.args(["--json", "dev", "--listen", &b_addr])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let b = crate::harness::Dev::spawn_command(c);
    assert_eq!(
        b.wait(
            on!(Event::Listening { address } => address.clone()),
            Duration::from_secs(60)
        ),
        b_addr
    );
    a.wait_ready();
    b.wait_ready();
    wait_until("status lists both runners", Duration::from_secs(30), || {
        let out = p.run(&["pubsub", "status", "--json"]);
        let listens: Vec<String> = first_json(&out.stdout)["runners"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|x| x["listen"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        listens.contains(&a_addr) && listens.contains(&b_addr)
    });
    let out = p.run(&["pubsub", "status"]);
    out.succeeds()
        .prints(&format!("on {a_addr}"))
        .prints(&format!("on {b_addr}"));
    a.stop();
    b.stop();
}
