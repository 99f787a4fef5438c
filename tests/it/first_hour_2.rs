//! Issue 24: the first hour, second pass. What a new user tripped on, each
//! tried as they would: the commands while a module file is mid-edit, dead
//! letters that fail again, a gRPC verb that is not up yet, the console's
//! history, `--open` without a browser, a second Ctrl-C.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::harness::browser::Browser;
use ftl::events::Outcome;

use crate::harness::{free_port, on, require_docker, Event, Project, VerbServer};

/// Whether the console's browser tests must be skipped: no `chromium` or
/// `chromedriver` on `PATH`. Says so once, on the terminal (past the test
/// harness's capture). With `CI` set a missing browser fails instead: CI
/// keeps the browser tests mandatory.
pub fn no_browser() -> bool {
    let on_path = |names: &[&str]| {
        std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| names.iter().any(|n| dir.join(n).is_file()))
        })
    };
    let missing: Vec<&str> = [
        (
            "chromium",
            &["chromium", "chromium-browser", "google-chrome"][..],
        ),
        ("chromedriver", &["chromedriver"][..]),
    ]
    .into_iter()
    .filter(|(_, names)| !on_path(names))
    .map(|(what, _)| what)
    .collect();
    if missing.is_empty() {
        return false;
    }
    let what = match missing.as_slice() {
        [one] => format!("`{one}` is"),
        _ => "`chromium` and `chromedriver` are".to_string(),
    };
    if std::env::var_os("CI").is_some() {
        panic!("the console tests need a browser, and CI is set: {what} not on PATH (Debian: apt-get install chromium chromium-driver)");
    }
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "skipping the console's browser tests: {what} not on PATH (Debian: apt-get install chromium chromium-driver)"
        );
    });
    true
}

#[test]
fn the_commands_use_what_ftl_dev_runs_while_a_module_file_is_invalid() {
    require_docker();
    let p = Project::new();
    p.module("shop")
        .verb("cook", "exec: [\"true\"]")
        .topic("orders", "partitions: 2, key: /user")
        .subscription("kitchen", "topic: orders, verb: cook")
        .write();
    let good = std::fs::read_to_string(p.path().join("shop/ftl.yaml")).unwrap();
    let dev = p.dev();
    dev.wait_ready();
    dev.wait_assigned("shop.kitchen", 1);

    p.write("shop/ftl.yaml", &good.replace("partitions:", "partitons:"));
    dev.wait(on!(Event::ReloadRejected { .. }), Duration::from_secs(30));
    let from_runner = "`shop/ftl.yaml` is invalid on disk (";

    let status = p.run(&["pubsub", "status"]);
    status.succeeds().says(from_runner).prints("shop.kitchen");
    assert!(status.stdout.contains("shop.orders"), "{}", status.stdout);

    p.run(&["pubsub", "publish", "orders", r#"{"user":"u1"}"#])
        .succeeds()
        .says(from_runner)
        .prints("shop.orders ");
    p.run(&[
        "pubsub",
        "tail",
        "orders",
        "--from",
        "beginning",
        "--no-follow",
    ])
    .succeeds()
    .says(from_runner)
    .prints(r#""user": "u1""#);
    // The schema is what runs, after the file's problems.
    p.run(&["schema"])
        .succeeds()
        .says("unknown key `partitons`")
        .says("shown is the version the running `ftl dev`")
        .prints("+partitions 2");

    // Fixed: `ftl dev` says the edit is valid again, and nothing restarts.
    p.write("shop/ftl.yaml", &good);
    let valid = dev.wait(
        on!(Event::ReloadValid { changed, running } => (*changed, *running)),
        Duration::from_secs(30),
    );
    assert_eq!(valid, (false, 1));
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");

    // No `ftl dev`: the invalid module is left out, as before.
    p.write("shop/ftl.yaml", &good.replace("partitions:", "partitons:"));
    p.run(&["schema"])
        .fails_with(2)
        .says("unknown key `partitons`");
    p.run(&["pubsub", "status"])
        .succeeds()
        .says("is invalid and left out");
}

#[test]
fn a_dead_letter_replay_that_fails_again_exits_1_and_a_dry_run_announces_nothing() {
    require_docker();
    let server = VerbServer::start(|_, _| (500, "the oven is cold".into()));
    let p = Project::single_subscription(
        &server.url("/v"),
        "partitions: 1",
        "deadletter: true, retry: {count: 0}",
    );
    let dev = p.dev();
    dev.wait_ready();
    dev.wait_assigned("shop.s", 1);
    p.run(&["pubsub", "publish", "t", r#"{"n":1}"#]).succeeds();
    dev.wait(
        on!(Event::Delivery(d) if d.outcome == Outcome::DeadLettered),
        Duration::from_secs(30),
    );

    // A dry run, with `--yes` as scripts pass it: it changes nothing and
    // nothing says it did.
    p.run(&["pubsub", "replay-deadletter", "s", "--dry-run", "--yes"])
        .succeeds()
        .says("nothing was replayed")
        .prints("would replay (dry-run)");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        dev.count(&on!(Event::DeadletterReplayDone { .. })),
        0,
        "{}",
        dev.log()
    );

    // Every event fails again: exit code 1, and how many are pending.
    p.run(&["pubsub", "replay-deadletter", "s", "--yes"])
        .fails_with(1)
        .says("0 succeeded, 1 failed again")
        .says("every replayed dead letter of shop.s failed again; 1 dead letter still pending");
    dev.wait(
        on!(Event::DeadletterReplayDone { .. }),
        Duration::from_secs(10),
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");

    // `-v` tail reads to the end without logging the end as an error.
    let tail = p.run(&[
        "-v",
        "pubsub",
        "tail",
        "t",
        "--from",
        "beginning",
        "--no-follow",
    ]);
    tail.succeeds().prints(r#""n": 1"#);
    assert!(!tail.stderr.contains("PartitionEOF"), "{}", tail.stderr);

    // A topic declared since: status says it is not created (no `lag 0 ()`).
    p.module("later")
        .http_verb("v", &server.url("/later"))
        .topic("t", "")
        .subscription("s", "topic: t, verb: v")
        .write();
    let status = p.run(&["pubsub", "status"]);
    status.succeeds().prints("no lag yet (topic not created)");
    assert!(!status.stdout.contains("()"), "{}", status.stdout);
}

#[test]
fn a_grpc_verb_not_up_yet_shows_as_waiting_for_verb_in_status_and_the_console() {
    require_docker();
    // Nothing listens there: `Ping` never answers.
    let addr = format!("http://127.0.0.1:{}", free_port());
    let p = Project::new();
    p.module("kitchen")
        .verb("handle", &format!("grpc: \"{addr}\""))
        .topic("tickets", "")
        .subscription("cook", "topic: tickets, verb: handle")
        .write();
    let dev = p.dev();
    let ready = dev.wait_ready();
    dev.wait_assigned("kitchen.cook", 1);
    p.run(&["pubsub", "publish", "tickets", r#"{"n":1}"#])
        .succeeds();
    dev.wait(
        on!(Event::VerbWaiting { subscription, .. } if subscription == "kitchen.cook"),
        Duration::from_secs(30),
    );
    p.run(&["pubsub", "status"])
        .succeeds()
        .prints("waiting for verb: it does not answer Ping");

    if no_browser() {
        return;
    }
    let Event::Ready {
        console: Some(url), ..
    } = ready
    else {
        panic!("ready names the console: {ready:?}");
    };
    let b = Browser::start("light");
    b.goto(&url);
    // What happened before the page was opened, as sentences.
    b.wait_for(
        "the history in Activity",
        crate::harness::browser::PAGE_OPEN,
        "const t = document.querySelector('#activity').innerText; return t.includes('kitchen.cook was assigned partitions 0') && t.includes('kitchen.cook is waiting for verb handle')",
    );
    let activity = b.text("#activity");
    assert!(!activity.contains('{'), "{activity}");
    b.wait_for(
        "the subscription waiting for its verb",
        Duration::from_secs(10),
        "const r = document.querySelector('tr[data-sub=\"kitchen.cook\"]'); return r && r.innerText.includes('waiting for verb handle') && r.innerText.includes('it does not answer Ping')",
    );
    // No dead-letter topic: its button cannot be pressed.
    b.wait_for(
        "the Dead letters button disabled",
        Duration::from_secs(10),
        "return document.querySelector('tr[data-sub=\"kitchen.cook\"] [data-action=deadletters]').disabled",
    );
    b.wait_for(
        "the topics",
        Duration::from_secs(10),
        "return document.querySelector('#topics').innerText.includes('kitchen.tickets')",
    );
    b.screenshot("first-hour-waiting-verb-and-history");
    b.click("#tab-publish");
    b.wait_for(
        "the topic's size in words",
        Duration::from_secs(10),
        "return document.querySelector('#publish-key').textContent === '1 partition, 1 event'",
    );
}

#[test]
fn ftl_dev_open_says_when_the_browser_cannot_be_opened() {
    require_docker();
    let p = Project::new();
    p.module("shop")
        .verb("cook", "exec: [\"true\"]")
        .topic("orders", "")
        .subscription("kitchen", "topic: orders, verb: cook")
        .write();
    // An opener that exists but opens nothing, as `xdg-open` without a
    // desktop (exit code 3).
    let bin = tempfile::tempdir().unwrap();
    let opener = bin.path().join(if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    });
    std::fs::write(
        &opener,
        "#!/bin/sh\necho 'no method available' >&2\nexit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = p.cmd();
    c.args(["dev", "--open"])
        .env("PATH", path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null());
    let dev = crate::harness::Dev::spawn_command(c);
    dev.wait_for_line(
        "could not open the console (exit code 3)",
        Duration::from_secs(60),
    );
    dev.wait_for_line(
        &format!("open http://{}/ in a browser yourself", p.listen),
        Duration::from_secs(5),
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

/// Whether `pid` is gone (a zombie waiting for its reaper counts as gone).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

#[test]
fn a_second_ctrl_c_stops_an_exec_verb_and_what_it_started() {
    require_docker();
    let p = Project::new();
    // The verb starts a child and waits: both must go.
    p.module("shop")
        .verb(
            "cook",
            r#"exec: ["sh", "-c", "sleep 120 & echo $! > child.pid; echo $$ > verb.pid; wait"]"#,
        )
        .topic("orders", "")
        .subscription("kitchen", "topic: orders, verb: cook")
        .write();
    let dev = p.dev();
    dev.wait_ready();
    dev.wait_assigned("shop.kitchen", 1);
    p.run(&["pubsub", "publish", "orders", "{}"]).succeeds();
    let read = |f: &str| std::fs::read_to_string(p.path().join("shop").join(f)).ok();
    crate::harness::wait_until("the verb's pid files", Duration::from_secs(30), || {
        read("verb.pid").is_some_and(|s| s.ends_with('\n'))
            && read("child.pid").is_some_and(|s| s.ends_with('\n'))
    });
    let (verb, child) = (read("verb.pid").unwrap(), read("child.pid").unwrap());
    let (verb, child) = (verb.trim(), child.trim());
    assert!(!gone(verb) && !gone(child));
    dev.signal("INT");
    dev.wait(on!(Event::Stopping), Duration::from_secs(10));
    dev.signal("INT");
    let mut dev = dev;
    let (code, log) = dev.wait_exit(Duration::from_secs(10));
    assert_eq!(code, 130, "{log}");
    crate::harness::wait_until(
        "the verb and its child gone",
        Duration::from_secs(5),
        || gone(verb) && gone(child),
    );
}

#[test]
fn settings_keep_the_origin_column_aligned_and_a_single_event_gets_its_own_hint() {
    let p = Project::new().without_broker();
    p.write(
        "ftl-project.yaml",
        &format!("name: {}\nrunner:\n  listen: {}\n", p.name, p.listen),
    );
    p.module("shop")
        .http_verb("v", "http://127.0.0.1:1/v")
        .topic("orders", "")
        .subscription("s", "topic: orders, verb: v")
        .write();
    let out = p
        .cmd()
        .args(["settings"])
        .env("FTL_BROKER_KIND", "redpanda")
        .env_remove("FTL_BROKER_IMAGE")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let columns: Vec<usize> = text
        .lines()
        .map(|l| {
            ["environment", "default", "ftl-project.yaml"]
                .iter()
                .filter_map(|o| l.find(o))
                .min()
                .unwrap_or_else(|| panic!("no origin in `{l}`"))
        })
        .collect();
    assert!(text.contains("environment FTL_BROKER_KIND"), "{text}");
    assert!(columns.windows(2).all(|w| w[0] == w[1]), "{text}");

    p.run(&["pubsub", "publish", "orders", "{userId:1}"])
        .fails_with(2)
        .says("give the event as one JSON document in single quotes");
}
