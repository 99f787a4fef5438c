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
