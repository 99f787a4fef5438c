//! Property tests over everything a user or a peer can feed `ftl`: the
//! project files, sizes and durations, `--from`, the Publisher's bodies and
//! keys, dead-letter records read back. None may panic; a rejection is an
//! error with a position where one exists. Bad input never changes meaning:
//! a control character in a project file is a problem at its position (not
//! a file cut short), and a key with control characters reaches a verb
//! intact on every path.
//!
//! `cargo test --lib fuzz` runs 256 cases per target (as `.ci/run` does);
//! `PROPTEST_CASES=10000 cargo test --release --lib fuzz` is the long run.

use std::time::SystemTime;

use proptest::prelude::*;

use crate::config::{self, ConfigError, Overrides};
use crate::units;

/// Text that looks like YAML often enough to reach the validator: keys the
/// files know, punctuation, numbers, units, and arbitrary characters.
fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("module: ".to_string()),
        Just("name: ".to_string()),
        Just("verbs:\n".to_string()),
        Just("topics:\n".to_string()),
        Just("subscriptions:\n".to_string()),
        Just("pubsub:\n  broker:\n".to_string()),
        Just("runner:\n".to_string()),
        Just("  ".to_string()),
        Just("\n".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(", ".to_string()),
        Just(": ".to_string()),
        Just("- ".to_string()),
        Just("---\n".to_string()),
        Just("exec: [\"true\"]".to_string()),
        Just("http: \"http://127.0.0.1:1/x\"".to_string()),
        Just("topic: t".to_string()),
        Just("verb: v".to_string()),
        Just("partitions: ".to_string()),
        Just("key: /k".to_string()),
        Just("batch: {default: ".to_string()),
        Just("retry: {count: ".to_string()),
        Just("timeout: ".to_string()),
        Just("listen: ".to_string()),
        "[0-9]{1,22}(ms|s|m|h|B|KB|MB|GB)?",
        "[a-zA-Z0-9_.-]{1,12}",
        "\\PC{1,8}",
    ];
    prop::collection::vec(token, 0..60).prop_map(|t| t.concat())
}

fn load(project: &str, module: &str) -> Result<crate::schema::Project, ConfigError> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("ftl-project.yaml"), project).expect("write");
    std::fs::create_dir_all(dir.path().join("m")).expect("mkdir");
    std::fs::write(dir.path().join("m/ftl.yaml"), module).expect("write");
    config::load(dir.path(), &Overrides::none())
}

/// A control character YAML does not allow.
fn control() -> impl Strategy<Value = char> {
    prop_oneof![
        Just('\u{0}'),
        Just('\u{1b}'),
        Just('\u{7f}'),
        Just('\u{9b}'),
        (0u32..0x20)
            .prop_filter("not tab or a line end", |c| ![9, 10, 13].contains(c))
            .prop_map(|c| char::from_u32(c).unwrap_or('\u{0}')),
    ]
}

/// Percent-decodes what `key_for_verb` encoded.
fn percent_decoded(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("00");
            out.push(u8::from_str_radix(hex, 16).unwrap_or(0));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

const VALID_MODULE: &str = "module: m\nverbs:\n  v: {exec: [\"true\"]}\ntopics:\n  t: {event: \"E\"}\nsubscriptions:\n  s: {topic: t, verb: v}\n";

proptest! {
    #[test]
    fn fuzz_a_control_character_anywhere_in_a_file_is_a_problem_at_its_position(
        at in 0usize..200,
        c in control(),
        in_project in any::<bool>(),
    ) {
        let project_text = "name: p\nrunner:\n  grace: 5s\n";
        let base = if in_project { project_text } else { VALID_MODULE };
        let chars: Vec<char> = base.chars().collect();
        let at = at % (chars.len() + 1);
        let text: String = chars[..at].iter().chain(std::iter::once(&c)).chain(chars[at..].iter()).collect();
        let line = chars[..at].iter().filter(|c| **c == '\n').count() + 1;
        let column = at - chars[..at].iter().rposition(|c| *c == '\n').map_or(0, |i| i + 1) + 1;
        let r = if in_project { load(&text, VALID_MODULE) } else { load(project_text, &text) };
        let Err(ConfigError::Invalid(d)) = r else {
            return Err(TestCaseError::fail(format!("{c:?} at {at} was not refused")));
        };
        prop_assert_eq!(d.0.len(), 1, "{}", d);
        prop_assert_eq!((d.0[0].line, d.0[0].column), (line, column), "{}", d);
        prop_assert!(!d.0[0].source_line.chars().any(char::is_control), "{}", d);
    }

    #[test]
    fn fuzz_a_key_with_control_characters_reaches_the_verb_intact_on_every_path(
        prefix in "\\PC{0,6}",
        c in control(),
        suffix in "\\PC{0,6}",
    ) {
        let key = format!("{prefix}{c}{suffix}");
        // HTTP: `?key=` percent-encoded decodes to the key; CLI and gRPC
        // hand it as it is. Every path then checks it as a partition key.
        let query: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
        let from_http = crate::publisher::query_key(Some(&format!("key={query}")));
        prop_assert_eq!(from_http, Ok(Some(key.clone())));
        let topic = crate::schema::Topic {
            module: "m".into(),
            name: "t".into(),
            event: "E".into(),
            export: false,
            partitions: 4,
            key: Some("/k".into()),
            deadletter_of: None,
            ty: Default::default(),
        };
        let checked = crate::publisher::check_events(&topic, &[(1, "{}".into())], Some(&key));
        prop_assert!(checked.is_ok(), "{:?}", checked.err());
        // The verb gets it in a form a header, metadata and the environment
        // hold, told it is encoded, and decodes the same bytes.
        let (sent, encoding) = crate::runner::verb::key_for_verb(Some(key.as_bytes()));
        prop_assert_eq!(encoding, Some("percent"));
        prop_assert!(reqwest::header::HeaderValue::from_str(&sent).is_ok());
        prop_assert!(!sent.chars().any(char::is_control));
        prop_assert_eq!(percent_decoded(&sent), key.as_bytes().to_vec());
        // Text output shows it without a control character.
        prop_assert!(!crate::output::escape_controls(&key).chars().any(char::is_control));
    }

    #[test]
    fn fuzz_the_loader_never_panics_and_points_inside_the_files(
        project in yamlish(),
        module in yamlish(),
    ) {
        let project = format!("name: p\n{project}");
        match load(&project, &module) {
            Ok(_) => {}
            Err(ConfigError::Invalid(d)) => {
                for diag in &d.0 {
                    let text = if diag.file.ends_with("ftl-project.yaml") { &project } else { &module };
                    let lines = text.lines().count().max(1);
                    prop_assert!(diag.line >= 1 && diag.line <= lines + 1, "{diag}");
                    prop_assert!(diag.column >= 1, "{diag}");
                }
            }
            Err(other) => prop_assert!(false, "unexpected error: {other}"),
        }
    }

    #[test]
    fn fuzz_sizes_durations_and_times_never_panic(text in "\\PC{0,30}|-?[0-9]{1,25}(ms|s|m|h)([0-9]{1,25}(ms|s|m|h))?") {
        let _ = units::parse_size(&text);
        if let Ok(d) = units::parse_duration(&text) {
            prop_assert!(d <= units::MAX_DURATION);
            let printed = units::format_duration(d);
            prop_assert_eq!(units::parse_duration(&printed), Ok(d));
        }
        let now = SystemTime::now();
        let _ = units::parse_time(&text, now);
        let _ = units::parse_time(&format!("-{text}"), now);
    }

    #[test]
    fn fuzz_publisher_bodies_and_keys_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..400),
        key in proptest::option::of("\\PC{0,20}"),
        query in "\\PC{0,40}|key=(%[0-9a-fA-F]{2}|%|[a-z+]){0,10}",
    ) {
        let topic = crate::schema::Topic {
            module: "m".into(),
            name: "t".into(),
            event: "E".into(),
            export: false,
            partitions: 4,
            key: Some("/k".into()),
            deadletter_of: None,
            ty: Default::default(),
        };
        let text = String::from_utf8_lossy(&body).into_owned();
        let _ = crate::publisher::check_events(&topic, &[(1, text)], key.as_deref());
        let _ = crate::publisher::query_key(Some(&query));
    }

    #[test]
    fn fuzz_dead_letters_read_back_never_panic(
        payload in proptest::option::of(prop::collection::vec(any::<u8>(), 0..300)),
        key in proptest::option::of(prop::collection::vec(any::<u8>(), 0..20)),
        headers in prop::collection::vec(("ftl\\.[a-z_.]{0,20}|[a-z]{1,5}", proptest::option::of(prop::collection::vec(any::<u8>(), 0..30))), 0..12),
    ) {
        use rdkafka::message::{Header, OwnedHeaders, OwnedMessage, Timestamp};
        let mut h = OwnedHeaders::new();
        for (k, v) in &headers {
            h = h.insert(Header { key: k, value: v.as_deref() });
        }
        let msg = OwnedMessage::new(payload, key, "m.sFailed".into(), Timestamp::NotAvailable, 0, 7, Some(h));
        let dl = crate::deadletter::DeadLetter::parse(&msg, false);
        prop_assert_eq!(dl.offset, 7);
    }
}
