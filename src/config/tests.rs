use super::*;

fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Project, ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let r = load(dir.path(), &Overrides::none());
    (dir, r)
}

#[test]
fn resolves_names_defaults_and_dead_letter_topics() {
    let (_d, r) = project(&[
            ("ftl-project.yaml", "name: shop\n"),
            ("pizza/ftl.yaml", "module: pizza\ndata:\n  Order: {userId: String}\nverbs:\n  cook: {exec: [\"true\"]}\n  failed: {http: \"http://127.0.0.1:1/x\"}\ntopics:\n  orders: {partitions: 8, key: /userId, event: Order}\nsubscriptions:\n  cookSub: {topic: orders, verb: cook, deadletter: true}\n  failedSub: {topic: cookSubFailed, verb: failed}\n"),
        ]);
    let p = r.unwrap();
    assert_eq!(p.broker.kind, BrokerKind::Redpanda);
    let t: Vec<String> = p
        .topics()
        .map(|t| format!("{} {} {}", t.kafka_name(), t.partitions, t.event))
        .collect();
    assert_eq!(
        t,
        vec![
            "pizza.orders 8 pizza.Order",
            "pizza.cookSubFailed 1 builtin.FailedEvent<pizza.Order>"
        ]
    );
    let s = p.find_subscription("cookSub");
    let Lookup::Found(s) = s else { panic!("{s:?}") };
    assert_eq!(s.group_id(), "pizza.cookSub");
    assert_eq!(s.batch, Batch::default());
}

use crate::schema::Lookup;

/// Each problem of a failed load as `line:column message`.
#[track_caller]
fn problems(r: Result<Project, ConfigError>) -> Vec<String> {
    let Err(ConfigError::Invalid(d)) = r else {
        panic!("expected problems, got {r:?}")
    };
    d.0.iter()
        .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
        .collect()
}

#[test]
fn reports_every_problem_with_positions() {
    let (_d, r) = project(&[
            ("ftl-project.yaml", "name: shop\n"),
            ("a/ftl.yaml", "module: a\nverbs:\n  v: {exec: [\"x\"]}\ntopics:\n  t: {partitions: 0, colour: red, event: Any}\nsubscriptions:\n  s: {topic: nope, verb: v, batch: {max_wait: 5 minutes}}\n"),
        ]);
    let got = problems(r);
    assert_eq!(got.len(), 4, "{got:#?}");
    assert!(
        got[0].starts_with("5:19 topic `t` has 0 partitions"),
        "{got:#?}"
    );
    assert!(got[1].starts_with("5:22 unknown key `colour`"), "{got:#?}");
    assert!(got[3].starts_with("7:47 bad duration"), "{got:#?}");
    assert!(
        got[2].starts_with("7:14 subscription `s` refers to unknown topic `nope`"),
        "{got:#?}"
    );
}

#[test]
fn a_bad_field_of_a_subscription_does_not_make_its_dead_letter_topic_dangling() {
    let (_d, r) = project(&[
            ("ftl-project.yaml", "name: shop\n"),
            ("a/ftl.yaml", "module: a\nverbs:\n  v: {exec: [\"x\"]}\n  w: {exec: [\"x\"]}\ntopics:\n  t: {event: Any}\nsubscriptions:\n  s: {topic: t, verb: v, deadletter: true, batch: {default: 64KB}}\n  f: {topic: sFailed, verb: w}\n"),
        ]);
    let got = problems(r);
    assert_eq!(got.len(), 1, "{got:#?}");
    assert!(
        got[0].starts_with("8:61 `batch.default` of 65536 bytes"),
        "{got:#?}"
    );
}

#[test]
fn key_concurrency_is_read_with_its_default_max() {
    let (_d, r) = project(&[
            ("ftl-project.yaml", "name: shop\n"),
            ("a/ftl.yaml", "module: a\nverbs:\n  a: {exec: [\"x\"]}\n  b: {exec: [\"x\"]}\n  c: {exec: [\"x\"]}\n  d: {exec: [\"x\"]}\n  e: {exec: [\"x\"]}\ntopics:\n  t: {event: Any}\nsubscriptions:\n  s: {topic: t, verb: a, concurrency: {per: key, max: 8}}\n  d: {topic: t, verb: b, concurrency: {per: key}}\n  p: {topic: t, verb: c, concurrency: {per: partition}}\n  n: {topic: t, verb: d}\n"),
        ]);
    let p = r.unwrap();
    let of = |name: &str| match p.find_subscription(name) {
        Lookup::Found(s) => s.concurrency,
        other => panic!("{other:?}"),
    };
    use crate::schema::Concurrency;
    assert_eq!(of("s"), Concurrency::Key { max: 8 });
    assert_eq!(of("d"), Concurrency::Key { max: 32 });
    assert_eq!(of("p"), Concurrency::Partition);
    assert_eq!(of("n"), Concurrency::Partition);
}

#[test]
fn bad_concurrency_settings_are_reported_where_they_are() {
    let (_d, r) = project(&[
            ("ftl-project.yaml", "name: shop\n"),
            ("a/ftl.yaml", "module: a\nverbs:\n  a: {exec: [\"x\"]}\n  b: {exec: [\"x\"]}\n  c: {exec: [\"x\"]}\n  d: {exec: [\"x\"]}\n  e: {exec: [\"x\"]}\n  f: {exec: [\"x\"]}\ntopics:\n  t: {event: Any}\nsubscriptions:\n  a: {topic: t, verb: a, concurrency: {per: user, max: 2}}\n  b: {topic: t, verb: b, concurrency: {per: key, max: 0}}\n  c: {topic: t, verb: c, concurrency: {max: 4}}\n  d: {topic: t, verb: d, concurrency: {per: key, width: 2}}\n  e: {topic: t, verb: e, concurrency: key}\n  f: {topic: t, verb: f, concurrency: {per: keys, max: 0}}\n"),
        ]);
    let got = problems(r);
    assert_eq!(got.len(), 7, "{got:#?}");
    assert!(
        got[0].starts_with("12:45 `concurrency.per` must be `partition` or `key`, not `user`"),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("13:55 `concurrency.max` cannot be 0"),
        "{got:#?}"
    );
    assert!(
        got[2].starts_with("14:45 `concurrency.max` needs `per: key`"),
        "{got:#?}"
    );
    assert!(got[3].starts_with("15:50 unknown key `width`"), "{got:#?}");
    assert!(
        got[4].starts_with("16:39 `concurrency` must be a mapping"),
        "{got:#?}"
    );
    // Both fields of one setting are reported.
    assert!(got[5].starts_with("17:45 `concurrency.per`"), "{got:#?}");
    assert!(got[6].starts_with("17:56 `concurrency.max`"), "{got:#?}");
}

#[test]
fn a_nul_byte_is_a_problem_at_its_position_not_the_end_of_the_file() {
    let (_d, r) = project(&[
        ("ftl-project.yaml", "name: shop\n"),
        (
            "m/ftl.yaml",
            "module: m\nverbs:\n  v: {exec: [\"true\"]}\ntopics:\n  t: {}\n  \0\nsubscriptions:\n  s: {topic: t, verb: v}\n",
        ),
    ]);
    assert_eq!(
        problems(r),
        vec!["6:3 the file holds a NUL byte (U+0000), which YAML does not allow (the file would be read as if it ended here)"]
    );
    let (_d, r) = project(&[("ftl-project.yaml", "name: shop\nmodules: [\u{1b}]\n")]);
    let got = problems(r);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("2:11 the file holds an escape character (U+001B)"),
        "{got:?}"
    );
}

#[cfg(unix)]
#[test]
fn a_module_file_that_cannot_be_used_is_a_problem_naming_it() {
    use std::os::unix::fs::symlink;
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::fs::write(root.join(PROJECT_FILE), "name: shop\n").unwrap();
    for m in ["loop", "dangling", "dir", "dev"] {
        std::fs::create_dir(root.join(m)).unwrap();
    }
    symlink("ftl.yaml", root.join("loop/ftl.yaml")).unwrap();
    symlink("gone.yaml", root.join("dangling/ftl.yaml")).unwrap();
    std::fs::create_dir(root.join("dir/ftl.yaml")).unwrap();
    symlink("/dev/zero", root.join("dev/ftl.yaml")).unwrap();
    let Err(ConfigError::Invalid(d)) = load(root, &Overrides::none()) else {
        panic!("expected problems")
    };
    let got: Vec<String> = d.0.iter().map(|d| d.message.clone()).collect();
    let root = root.display();
    assert_eq!(
        got,
        vec![
            format!("`{root}/dangling/ftl.yaml` cannot be used: it is a symlink to `gone.yaml`, which does not exist"),
            format!("`{root}/dev/ftl.yaml` cannot be used: it is a device, not a file; it was not opened"),
            format!("`{root}/dir/ftl.yaml` cannot be used: it is a folder, not a file"),
            format!("`{root}/loop/ftl.yaml` cannot be used: it is a symlink loop (it points back at itself, through `ftl.yaml`)"),
        ]
    );
}

#[test]
fn an_exec_verb_says_what_environment_it_gets_and_mistakes_have_positions() {
    let (_d, r) = project(&[
        ("ftl-project.yaml", "name: shop\n"),
        (
            "m/ftl.yaml",
            "module: m\nverbs:\n  v: {exec: [\"true\"], env: {A: \"1\"}, inherit_env: false, pass_env: [PATH]}\n",
        ),
    ]);
    let p = r.unwrap();
    let env = &p.modules[0].verbs[0].env;
    assert!(!env.inherit_env);
    assert_eq!(env.pass_env, vec!["PATH"]);
    assert_eq!(env.env.get("A").map(String::as_str), Some("1"));
    let (_d, r) = project(&[
        ("ftl-project.yaml", "name: shop\n"),
        (
            "m/ftl.yaml",
            "module: m\nverbs:\n  a: {exec: [\"true\"], pass_env: [PATH]}\n  b: {http: \"http://127.0.0.1:1/x\", env: {A: \"1\"}}\n  c: {exec: [\"true\"], env: {FTL_KEY: x, \"A=B\": y}, inherit_env: maybe}\n",
        ),
    ]);
    assert_eq!(
        problems(r),
        vec![
            "3:33 `pass_env` of verb `a` needs `inherit_env: false`",
            "4:42 `env` of verb `b` applies to exec verbs only",
            "5:29 `env` of verb `c`: `FTL_KEY` is set by ftl for each call (the `FTL_` names are its own)",
            "5:41 `env` of verb `c`: `A=B` is not a variable name (no `=` or control characters)",
            "5:65 `inherit_env` of verb `c` must be true or false, not `maybe`",
        ]
    );
}
