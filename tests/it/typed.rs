//! Issue 21: typed events. Data and enum types in module files, every
//! publish path checking events against their topic's type, the schema
//! printing the types and giving JSON Schema.

use std::time::Duration;

use crate::harness::{on, require_docker, Event, Project};

const PIZZA: &str = "module: pizza
data:
  Order:
    userId: String
    pizza: Size
    toppings: [String]
    extras: {String: Int}
    note: String?
    placedAt: Time
    table: kitchen.Table
enums:
  Size: [small, medium, large]
verbs:
  v: {exec: [\"true\"]}
topics:
  orders: {event: Order, partitions: 4, key: /userId}
";

const KITCHEN: &str = "module: kitchen
data:
  Table: {number: Int, export: true}
";

const VALID: &str = r#"{"userId":"u1","pizza":"small","toppings":["ham","olive"],"extras":{"cheese":2},"placedAt":"2026-12-05T17:30:00Z","table":{"number":4}}"#;

/// Each kind of mistake, made on the valid event, with the error it must
/// give (the JSON path and what was expected).
fn mistakes() -> Vec<(&'static str, String, &'static str)> {
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(VALID).unwrap();
        f(&mut v);
        v.to_string()
    };
    vec![
        (
            "wrong type",
            edit(&|v| v["table"]["number"] = "four".into()),
            "/table/number: expected Int, got \"four\"",
        ),
        (
            "missing field",
            edit(&|v| {
                v.as_object_mut().unwrap().remove("userId");
            }),
            "/userId: missing",
        ),
        (
            "unknown field",
            edit(&|v| v["usrId"] = "u1".into()),
            "/usrId: unknown field of pizza.Order (did you mean `userId`?)",
        ),
        (
            "bad enum value",
            edit(&|v| v["pizza"] = "huge".into()),
            "/pizza: \"huge\" is not one of small, medium, large",
        ),
        (
            "bad time",
            edit(&|v| v["placedAt"] = "yesterday".into()),
            "/placedAt: \"yesterday\" is not a Time (RFC 3339",
        ),
        (
            "wrong array element",
            edit(&|v| v["toppings"][1] = 3.into()),
            "/toppings/1: expected String, got 3",
        ),
    ]
}

fn typed_project() -> Project {
    let p = Project::new();
    p.write("pizza/ftl.yaml", PIZZA);
    p.write("kitchen/ftl.yaml", KITCHEN);
    p
}

#[test]
fn a_valid_event_publishes_and_each_mistake_is_refused_with_its_path_on_every_path() {
    require_docker();
    let p = typed_project();
    let dev = p.dev();
    dev.wait_ready();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let base = format!("http://{}", p.listen);
    use ftl::ftl_proto::pubsub::v1::publish_service_client::PublishServiceClient;
    use ftl::ftl_proto::pubsub::v1::PublishEventRequest;
    use ftl::publisher::proto::publisher_client::PublisherClient;
    use ftl::publisher::proto::{PublishRequest, Ref};
    let grpc = |body: &str| -> Result<(), tonic::Status> {
        rt.block_on(async {
            let mut c = PublisherClient::connect(base.clone()).await.unwrap();
            c.publish(PublishRequest {
                topic: Some(Ref {
                    module: "pizza".into(),
                    name: "orders".into(),
                }),
                body: body.as_bytes().to_vec(),
                key: Vec::new(),
            })
            .await
            .map(|_| ())
        })
    };
    let ftl_grpc = |body: &str| -> Result<(), tonic::Status> {
        rt.block_on(async {
            let mut c = PublishServiceClient::connect(base.clone()).await.unwrap();
            c.publish_event(PublishEventRequest {
                topic: Some(ftl::ftl_proto::v1::Ref {
                    module: "pizza".into(),
                    name: "orders".into(),
                }),
                body: body.as_bytes().to_vec(),
                key: String::new(),
                caller: "pizza.v".into(),
            })
            .await
            .map(|_| ())
        })
    };

    // A valid event goes through every path.
    p.run(&["pubsub", "publish", "pizza.orders", VALID])
        .succeeds();
    let (code, body) = p.http("POST", "/topics/pizza.orders", Some(VALID));
    assert_eq!(code, 200, "{body}");
    grpc(VALID).unwrap();
    ftl_grpc(VALID).unwrap();

    for (kind, event, expected) in mistakes() {
        let out = p.run(&["pubsub", "publish", "pizza.orders", &event]);
        out.fails_with(2)
            .says("the event for `pizza.orders` is not a pizza.Order: ")
            .says(expected);
        let (code, body) = p.http("POST", "/topics/pizza.orders", Some(&event));
        assert_eq!(code, 400, "{kind}: {body}");
        assert!(
            body.contains(&expected.replace('"', "\\\"")),
            "{kind}: {body}"
        );
        for (path, result) in [
            ("Publisher", grpc(&event)),
            ("PublishService", ftl_grpc(&event)),
        ] {
            let status = result.expect_err(kind);
            assert_eq!(
                status.code(),
                tonic::Code::InvalidArgument,
                "{kind} via {path}"
            );
            assert!(
                status.message().contains(expected),
                "{kind} via {path}: {status:?}"
            );
        }
    }

    // An NDJSON batch with one bad line publishes nothing, and says which.
    let before = p.kafka().read_all("pizza.orders").len();
    assert_eq!(before, 4);
    let bad = &mistakes()[5].1;
    let batch = format!("{VALID}\n{VALID}\n{bad}\n{VALID}\n");
    let out = p.run_with_stdin(
        &["pubsub", "publish", "pizza.orders", "-"],
        batch.as_bytes(),
    );
    out.fails_with(2)
        .says("nothing was published; 1 invalid event:")
        .says("stdin line 3: the event for `pizza.orders` is not a pizza.Order: /toppings/1: expected String, got 3");
    let out = p.run_with_stdin(
        &["pubsub", "publish", "pizza.orders", "-"],
        format!("{VALID}\n{VALID}\n").as_bytes(),
    );
    out.succeeds();
    assert_eq!(p.kafka().read_all("pizza.orders").len(), before + 2);
}

#[test]
fn a_topic_whose_event_names_no_type_is_an_error_at_its_line() {
    let p = Project::new().without_broker();
    p.write(
        "shop/ftl.yaml",
        "module: shop\ntopics:\n  orders:\n    event: Order\n    partitions: 1\n  audit: {partitions: 1}\n",
    );
    p.run(&["schema"])
        .fails_with(2)
        .says("error: unknown type `Order`\n --> shop/ftl.yaml:4:12")
        .says("error: topic `audit` has no `event` type\n --> shop/ftl.yaml:6:3")
        .says("or write `event: Any` to accept any JSON")
        .says("2 problems found");
}

#[test]
fn type_mistakes_are_all_reported_with_positions() {
    let p = Project::new().without_broker();
    p.write(
        "pizza/ftl.yaml",
        "module: pizza
data:
  Order:
    userId: String
    pizza: Sise
    table: kitchen.Table
    extras: {Float: Int}
    toppings: \"[String\"
  Loop:
    next: Loop
  Ping: {pong: Pong}
  Pong: {ping: Ping}
  Fine: {next: Fine?, all: [Fine]}
  order: {}
  String: {}
enums:
  Size: [small, medium, small]
  Order: [a]
topics:
  orders: {event: Order, partitions: 8, key: /user}
  sized: {event: Size}
  noType: {}
  other: {event: Menu}
  listKey: {event: Fine, partitions: 2, key: /all}
",
    );
    p.write(
        "kitchen/ftl.yaml",
        "module: kitchen\ndata:\n  Table: {number: Int}\n",
    );
    p.write(
        "bar/ftl.yaml",
        "module: bar\ndata:\n  Drink:\n    name: String\n    name: Int\n",
    );
    let out = p.run(&["schema"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.matches("error: ").count(), 16, "{}", out.stderr);
    insta::assert_snapshot!(out.stderr);
}

#[test]
fn the_schema_prints_the_types_and_dead_letters_of_the_source_type() {
    let p = Project::new().without_broker();
    p.write(
        "pizza/ftl.yaml",
        &format!("{PIZZA}subscriptions:\n  cook: {{topic: orders, verb: v, deadletter: true}}\n"),
    );
    p.write("kitchen/ftl.yaml", KITCHEN);
    let out = p.run(&["schema"]);
    out.succeeds()
        .prints("  export data Table {\n    number Int\n  }")
        .prints("  enum Size: String {\n    small = \"small\"\n    medium = \"medium\"\n    large = \"large\"\n  }")
        .prints("  data Order {\n    userId String\n    pizza pizza.Size\n    toppings [String]\n    extras {String: Int}\n    note String?\n    placedAt Time\n    table kitchen.Table\n  }")
        .prints("  topic orders pizza.Order\n")
        .prints("  topic cookFailed builtin.FailedEvent<pizza.Order>\n");
}

/// `ftl schema --format json` of the example, checked with Python's
/// `jsonschema` (an implementation that shares no code with ftl): the
/// example's events pass, and each kind of mistake fails.
#[test]
fn the_examples_json_schema_checks_its_events_with_an_independent_validator() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "this test needs python3 with the `jsonschema` package: pip install jsonschema"
    );
    let out = std::process::Command::new(crate::harness::ftl_bin())
        .args(["-C", "examples/pizzashop", "schema", "--format", "json"])
        .current_dir(crate::harness::repo_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let schema = &doc["types"]["pizza.Order"];
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let events = serde_json::json!([
        [true, {"userId": "u1", "pizza": "diavola"}],
        [true, {"userId": "u1", "pizza": "diavola", "size": "large", "toppings": ["ham"], "placedAt": "2026-12-05T17:30:00Z"}],
        [true, {"userId": "u1", "pizza": "diavola", "size": null}],
        [false, {"userId": "u1"}],
        [false, {"userId": "u1", "pizza": "diavola", "colour": "red"}],
        [false, {"userId": "u1", "pizza": "diavola", "size": "huge"}],
        [false, {"userId": "u1", "pizza": "diavola", "toppings": ["ham", 3]}],
        [false, {"userId": 7, "pizza": "diavola"}],
        [false, {"userId": "u1", "pizza": "diavola", "placedAt": "yesterday"}],
    ]);
    let script = r#"
import json, sys
import jsonschema
data = json.load(sys.stdin)
v = jsonschema.Draft202012Validator(data["schema"], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
jsonschema.Draft202012Validator.check_schema(data["schema"])
print(json.dumps([v.is_valid(e) for _, e in data["events"]]))
"#;
    let input = serde_json::json!({"schema": schema, "events": events}).to_string();
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Vec<bool> = serde_json::from_slice(&out.stdout).unwrap();
    let expected: Vec<bool> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[0].as_bool().unwrap())
        .collect();
    assert_eq!(got, expected);
}

/// Events another Kafka client wrote, that do not match the topic's type:
/// marked by `tail` (text and `--json`), counted by `status --check`,
/// marked in the console's topic browser.
#[test]
fn events_already_on_a_topic_are_shown_against_its_type() {
    require_docker();
    let p = typed_project();
    let dev = p.dev();
    dev.wait_ready();
    let kafka = p.kafka();
    let wrong = r#"{"userId":"u2","pizza":"huge","toppings":[],"extras":{},"placedAt":"2026-12-05T17:30:00Z","table":{"number":1}}"#;
    kafka.produce(
        "pizza.orders",
        &[
            (Some("u1"), VALID.to_string()),
            (Some("u2"), wrong.to_string()),
            (Some("u3"), "not json".to_string()),
        ],
    );

    let out = p.run(&[
        "pubsub",
        "tail",
        "pizza.orders",
        "--from",
        "beginning",
        "--no-follow",
    ]);
    out.succeeds();
    assert_eq!(
        out.stdout.matches("✗ not a pizza.Order:").count(),
        2,
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("✗ not a pizza.Order: /pizza: \"huge\" is not one of small, medium, large"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("✗ not a pizza.Order: not JSON"),
        "{}",
        out.stdout
    );

    let out = p.run(&[
        "--json",
        "pubsub",
        "tail",
        "pizza.orders",
        "--from",
        "beginning",
        "--no-follow",
    ]);
    out.succeeds();
    let lines = crate::harness::json_lines(&out.stdout);
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    let invalid: Vec<&str> = lines.iter().filter_map(|l| l["invalid"].as_str()).collect();
    assert_eq!(invalid.len(), 2, "{}", out.stdout);
    assert!(
        invalid.contains(&"/pizza: \"huge\" is not one of small, medium, large"),
        "{invalid:?}"
    );

    let out = p.run(&["pubsub", "status", "--check"]);
    out.succeeds()
        .prints("✗ 2 of 3 retained events do not match pizza.Order; first: ");
    let out = p.run(&["--json", "pubsub", "status", "--check"]);
    let report = crate::harness::first_json(&out.stdout);
    let orders = report["topics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "pizza.orders")
        .unwrap()
        .clone();
    assert_eq!(orders["type_check"]["invalid"], 2, "{orders}");
    assert_eq!(orders["type_check"]["read"], 3, "{orders}");
    assert_eq!(orders["type_check"]["complete"], true, "{orders}");

    let (code, body) = p.http(
        "GET",
        "/admin/topics/pizza.orders/events?from=beginning",
        None,
    );
    assert_eq!(code, 200, "{body}");
    let records: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(records.len(), 3, "{body}");
    assert_eq!(
        records
            .iter()
            .filter(|r| r.get("invalid").is_some())
            .count(),
        2,
        "{body}"
    );
}

#[test]
fn a_reload_that_changes_a_type_says_how_many_retained_events_it_refuses() {
    require_docker();
    let p = typed_project();
    let dev = p.dev();
    dev.wait_ready();
    let large = VALID.replace("\"small\"", "\"large\"");
    p.kafka().produce(
        "pizza.orders",
        &[(Some("u1"), VALID.to_string()), (Some("u1"), large)],
    );
    p.write(
        "pizza/ftl.yaml",
        &PIZZA.replace("Size: [small, medium, large]", "Size: [small, medium]"),
    );
    let (topic, ty, read, invalid, first, complete) = dev.wait(
        on!(Event::TypeChanged { topic, ty, read, invalid, first, complete } =>
            (topic.clone(), ty.clone(), *read, *invalid, first.clone(), *complete)),
        Duration::from_secs(30),
    );
    assert_eq!(
        (topic.as_str(), ty.as_str(), read, invalid, complete),
        ("pizza.orders", "pizza.Order", 2, 1, true)
    );
    assert!(
        first[0].ends_with(": /pizza: \"large\" is not one of small, medium"),
        "{first:?}"
    );
}

/// While `pizza/ftl.yaml` is invalid on disk, commands use what the running
/// `ftl dev` runs: its topics keep their types.
#[test]
fn a_module_file_invalid_mid_edit_keeps_its_topics_checked() {
    require_docker();
    let p = typed_project();
    let dev = p.dev();
    dev.wait_ready();
    p.write(
        "pizza/ftl.yaml",
        &PIZZA.replace("partitions:", "partitons:"),
    );
    dev.wait(
        on!(Event::ReloadRejected { .. } => ()),
        Duration::from_secs(30),
    );
    let bad = &mistakes()[3].1;
    p.run(&["pubsub", "publish", "pizza.orders", bad])
        .fails_with(2)
        .says("/pizza: \"huge\" is not one of small, medium, large");
    p.run(&["pubsub", "publish", "pizza.orders", VALID])
        .succeeds();
}
