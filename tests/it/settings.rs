//! Issue 8: settings in layers (flags, environment, project file, the user
//! settings file, defaults), `ftl settings`, and user input that used to
//! overflow.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{ftl_bin, on, require_docker, Event, Project, TEST_IMAGE};

/// `ftl` with no broker variables and `XDG_CONFIG_HOME` at `config_home`.
fn ftl_with_user_settings(p: &Project, config_home: &std::path::Path) -> Command {
    let mut c = Command::new(ftl_bin());
    c.current_dir(p.path())
        .env_remove("FTL_BROKER_KIND")
        .env_remove("FTL_BROKER_IMAGE")
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("XDG_CONFIG_HOME", config_home);
    c
}

fn user_settings(text: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("ftl")).unwrap();
    std::fs::write(home.path().join("ftl/config.yaml"), text).unwrap();
    home
}

fn settings_json(out: &std::process::Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn entry<'a>(entries: &'a [Value], key: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {entries:?}"))
}

#[test]
fn a_project_made_by_init_runs_on_the_broker_named_in_the_user_settings_file() {
    require_docker();
    let home = user_settings(&format!(
        "pubsub:\n  broker:\n    kind: tansu\n    image: {TEST_IMAGE}\n"
    ));
    let p = Project::new();
    std::fs::remove_file(p.path().join("ftl-project.yaml")).unwrap();
    let out = ftl_with_user_settings(&p, home.path())
        .args(["init", ".", "--name", &p.name])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // It sets no port: it runs beside everything else as it is.
    let out = ftl_with_user_settings(&p, home.path())
        .args(["--json", "settings"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let entries = settings_json(&out);
    let kind = entry(&entries, "pubsub.broker.kind");
    assert_eq!(kind["value"], "tansu", "{kind}");
    let user_file = home.path().join("ftl/config.yaml");
    assert_eq!(
        kind["origin"],
        serde_json::json!({"from": "file", "file": user_file, "line": 3, "column": 11})
    );
    assert_eq!(entry(&entries, "pubsub.broker.image")["value"], TEST_IMAGE);
    assert_eq!(
        entry(&entries, "runner.listen")["origin"]["from"],
        "default"
    );
    assert_eq!(entry(&entries, "pubsub.broker.port")["value"], "0");

    let mut c = ftl_with_user_settings(&p, home.path());
    c.args(["--json", "dev"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null());
    let dev = crate::harness::Dev::spawn_command(c);
    let kind = dev.wait(
        on!(Event::BrokerReady { kind, .. } => kind.clone()),
        Duration::from_secs(60),
    );
    assert_eq!(kind, "tansu", "{}", dev.log());
    dev.wait_ready();
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn settings_come_from_flags_then_environment_then_project_then_user_file() {
    let home = user_settings("pubsub:\n  broker:\n    kind: tansu\n    port: 0\n");
    let p = Project::new().without_broker();
    p.write(
        "ftl-project.yaml",
        &format!(
            "name: {}\npubsub:\n  broker:\n    kind: kafka\nrunner:\n  grace: 3s\n",
            p.name
        ),
    );
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = ftl_with_user_settings(&p, home.path());
        c.args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        settings_json(&out)
    };
    // The project's kind over the user's; the user's port (no project port).
    let e = run(&["--json", "settings"], &[]);
    assert_eq!(entry(&e, "pubsub.broker.kind")["value"], "kafka");
    assert_eq!(
        entry(&e, "pubsub.broker.kind")["origin"]["file"],
        "ftl-project.yaml"
    );
    assert_eq!(entry(&e, "pubsub.broker.port")["value"], "0");
    assert_eq!(entry(&e, "runner.grace")["value"], "3s");
    assert_eq!(entry(&e, "runner.listen")["origin"]["from"], "default");
    // The environment over the project; a flag over the environment.
    let e = run(&["--json", "settings"], &[("FTL_BROKER_KIND", "redpanda")]);
    assert_eq!(entry(&e, "pubsub.broker.kind")["value"], "redpanda");
    assert_eq!(
        entry(&e, "pubsub.broker.kind")["origin"],
        serde_json::json!({"from": "env", "variable": "FTL_BROKER_KIND"})
    );
    let e = run(
        &["--json", "--broker-kind", "tansu", "settings"],
        &[("FTL_BROKER_KIND", "redpanda")],
    );
    assert_eq!(entry(&e, "pubsub.broker.kind")["value"], "tansu");
    assert_eq!(
        entry(&e, "pubsub.broker.kind")["origin"],
        serde_json::json!({"from": "flag", "flag": "--broker-kind"})
    );
    // Text: one line per setting with its origin.
    let out = ftl_with_user_settings(&p, home.path())
        .arg("settings")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with("pubsub.broker.kind")
            && l.contains("kafka")
            && l.ends_with("ftl-project.yaml:4:11")),
        "{text}"
    );
}

#[test]
fn a_mistake_in_the_user_settings_file_is_reported_at_its_position() {
    let home = user_settings("pubsub:\n  broker:\n    kind: rabbitmq\n    colour: red\n");
    let p = Project::new().without_broker();
    let out = ftl_with_user_settings(&p, home.path())
        .arg("schema")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = home.path().join("ftl/config.yaml");
    assert!(
        stderr.contains("error: unknown broker kind `rabbitmq`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}:3:11", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("unknown key `colour`"), "{stderr}");
    assert!(
        stderr.contains(&format!("{}:4:5", file.display())),
        "{stderr}"
    );
}

#[test]
fn durations_too_large_are_clear_errors_not_overflows() {
    // Regression: these panicked with an arithmetic overflow.
    let p = Project::new().without_broker();
    p.module("shop")
        .verb("v", "exec: [\"true\"], timeout: 18446744073709551615s1s")
        .write();
    p.run(&["schema"])
        .fails_with(2)
        .says("`18446744073709551615s1s` is too long: at most 876000h")
        .says("shop/ftl.yaml:3:");

    p.module("shop")
        .verb("v", "exec: [\"true\"]")
        .topic("t", "")
        .subscription("s", "topic: t, verb: v")
        .write();
    for args in [
        &[
            "pubsub",
            "replay",
            "s",
            "--from",
            "-99999999999999999h1h",
            "--yes",
        ][..],
        &["pubsub", "tail", "t", "--from", "-99999999999999999h1h"][..],
    ] {
        p.run(args)
            .fails_with(2)
            .says("error: bad --from: `99999999999999999h1h` is too long");
    }
}
