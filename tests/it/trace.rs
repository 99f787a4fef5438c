//! Issue 22: FTL's request keys and headers on every publish, the key
//! handed to every verb kind, and `ftl pubsub trace`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{free_port, http_raw, json_lines, require_docker, Project, VerbServer};

fn is_rfc3339_nanos_utc(t: &str) -> bool {
    // 2026-12-05T17:41:02.123456789Z
    t.len() == 30
        && t.ends_with('Z')
        && t.as_bytes()[19] == b'.'
        && t[20..29].bytes().all(|b| b.is_ascii_digit())
}

/// The chain of the issue: a publish to `a`; the verb of `a`'s subscription
/// publishes to `b` through the HTTP Publisher with the key it got; `b`'s
/// verb fails into a dead letter. One request, one tree.
#[test]
fn a_chain_of_three_topics_is_one_request_in_trace() {
    require_docker();
    let p = Project::new();
    let listen = p.listen.clone();
    let server = VerbServer::start(move |r, _| match r.path.as_str() {
        "/a" => {
            let key = r.header("ftl-request-id").to_string();
            let body = r#"{"step":2}"#;
            let (status, answer) = http_raw(
                &listen,
                &format!(
                    "POST /topics/shop.b HTTP/1.1\r\nHost: {listen}\r\nContent-Type: application/json\r\nFTL-Request-ID: {key}"
                ),
                body,
            );
            if status == 200 {
                (200, String::new())
            } else {
                (500, format!("publish to b failed: {answer}"))
            }
        }
        _ => (500, "oven broken".into()),
    });
    p.module("shop")
        .http_verb("va", &server.url("/a"))
        .http_verb("vb", &server.url("/b"))
        .topic("a", "partitions: 1")
        .topic("b", "partitions: 1")
        .subscription("sa", "topic: a, verb: va")
        .subscription(
            "sb",
            "topic: b, verb: vb, deadletter: true, retry: {count: 1, min_backoff: 100ms, max_backoff: 100ms}",
        )
        .write();
    let dev = p.dev();
    dev.wait_assigned("shop.sa", 1);
    dev.wait_assigned("shop.sb", 1);

    let out = p.run(&["--json", "pubsub", "publish", "a", r#"{"step":1}"#]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let published = &json_lines(&out.stdout)[0];
    let key = published["request_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("req-ingress-shop-a-"), "{key}");
    assert!(
        is_rfc3339_nanos_utc(published["created_at"].as_str().unwrap()),
        "{published}"
    );

    let dead = dev.wait_where(
        "the dead letter of shop.sb",
        1,
        Duration::from_secs(60),
        |e| {
            e["type"] == "delivery"
                && e["subscription"] == "shop.sb"
                && e["outcome"] == "dead_lettered"
        },
    );
    assert_eq!(dead["request_key"], key.as_str(), "{dead}");
    assert!(dead["since_published_ms"].as_u64().is_some(), "{dead}");

    // Every event of the chain carries FTL's headers, with the one key.
    let kafka = p.kafka();
    for topic in ["shop.a", "shop.b", "shop.sbFailed"] {
        let records = kafka.read_all(topic);
        assert_eq!(records.len(), 1, "{topic}");
        let h = &records[0].headers;
        assert_eq!(h.get("ftl.request_key"), Some(&key), "{topic}: {h:?}");
        assert!(is_rfc3339_nanos_utc(&h["ftl.created_at"]), "{topic}: {h:?}");
    }
    // Both verbs were handed the key.
    for r in server.requests() {
        assert_eq!(r.header("ftl-request-id"), key, "{}", r.path);
    }

    let text = p.run(&["pubsub", "trace", &key]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    for line in [
        format!("request {key}"),
        "publish shop.a 0@0".to_string(),
        "by cli".to_string(),
        "shop.sa → va: ok (1 attempt".to_string(),
        "publish shop.b 0@0".to_string(),
        "by http".to_string(),
        "shop.sb → vb: dead-lettered to shop.sbFailed 0@0 (2 attempts".to_string(),
        "retry after".to_string(),
        "HTTP 500: oven broken".to_string(),
        "publish shop.sbFailed 0@0".to_string(),
        "by deadletter".to_string(),
    ] {
        assert!(
            text.stdout.contains(&line),
            "no `{line}` in:\n{}",
            text.stdout
        );
    }
    // b's publish sits under a's delivery, the dead letter under b's.
    let at = |needle: &str| text.stdout.find(needle).unwrap();
    assert!(
        at("shop.sa →") < at("publish shop.b") && at("shop.sb →") < at("publish shop.sbFailed")
    );

    let json = p.run(&["--json", "pubsub", "trace", &key]);
    assert_eq!(json.code, 0, "{}", json.stderr);
    let docs = json_lines(&json.stdout);
    assert_eq!(docs.len(), 1, "one JSON document: {}", json.stdout);
    let t = &docs[0];
    assert_eq!(
        (&t["request_key"], &t["found"]),
        (&Value::from(key.as_str()), &Value::from(true))
    );
    assert_eq!(t["publishes"].as_array().unwrap().len(), 1, "{t:#}");
    let a = &t["publishes"][0];
    assert_eq!(
        (&a["topic"], &a["by"]),
        (&Value::from("shop.a"), &Value::from("cli")),
        "{a:#}"
    );
    let sa = &a["deliveries"][0];
    assert_eq!(
        (&sa["subscription"], &sa["status"]),
        (&Value::from("shop.sa"), &Value::from("ok"))
    );
    let b = &sa["publishes"][0];
    assert_eq!(
        (&b["topic"], &b["by"]),
        (&Value::from("shop.b"), &Value::from("http"))
    );
    let sb = &b["deliveries"][0];
    assert_eq!(sb["status"], "dead_lettered", "{sb:#}");
    let outcomes: Vec<&str> = sb["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["retry", "dead_lettered"]);
    assert_eq!(sb["attempts"][0]["error"], "HTTP 500: oven broken");
    assert_eq!(
        sb["dead_letter"],
        serde_json::json!({"topic": "shop.sbFailed", "partition": 0, "offset": 0})
    );
    assert_eq!(sb["publishes"][0]["by"], "deadletter");

    // From an event: the same request.
    let from_event = p.run(&["--json", "pubsub", "trace", "sbFailed@0:0"]);
    assert_eq!(from_event.code, 0, "{}", from_event.stderr);
    assert_eq!(json_lines(&from_event.stdout)[0], *t);

    // A request the runner never saw: said so, with what it keeps.
    let unknown = p.run(&["pubsub", "trace", "req-ingress-nothing-0"]);
    assert_eq!(unknown.code, 1, "{}", unknown.stdout);
    assert!(
        unknown
            .stderr
            .contains("saw nothing of request `req-ingress-nothing-0`"),
        "{}",
        unknown.stderr
    );
    assert!(
        unknown.stderr.contains("the runner keeps the last"),
        "{}",
        unknown.stderr
    );

    // tail shows the request and the publish time.
    let tail = p.run(&["pubsub", "tail", "b", "--from", "beginning", "--no-follow"]);
    assert!(
        tail.stdout.contains(&format!("request={key} published=")),
        "{}",
        tail.stdout
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

use ftl::ftl_proto::v1::verb_service_server::{VerbService, VerbServiceServer};
use ftl::ftl_proto::v1::{call_response, CallRequest, CallResponse, PingRequest, PingResponse};

/// A module server that records the `ftl-request-id` of each call.
#[derive(Clone, Default)]
struct KeyRecorder(Arc<Mutex<Vec<String>>>);

#[tonic::async_trait]
impl VerbService for KeyRecorder {
    async fn ping(
        &self,
        _: tonic::Request<PingRequest>,
    ) -> Result<tonic::Response<PingResponse>, tonic::Status> {
        Ok(tonic::Response::new(PingResponse { not_ready: None }))
    }

    async fn call(
        &self,
        request: tonic::Request<CallRequest>,
    ) -> Result<tonic::Response<CallResponse>, tonic::Status> {
        let key = request
            .metadata()
            .get("ftl-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        self.0.lock().unwrap().push(key);
        Ok(tonic::Response::new(CallResponse {
            response: Some(call_response::Response::Body(Vec::new())),
        }))
    }
}

/// Each publish path stamps FTL's headers (the caller's key when it sends
/// one), and HTTP, exec and gRPC verbs all get the key; an event another
/// client published without one gets a key too.
#[test]
fn every_publish_path_stamps_ftls_headers_and_every_verb_kind_gets_the_key() {
    require_docker();
    let port = free_port();
    let grpc = KeyRecorder::default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    {
        let grpc = grpc.clone();
        rt.spawn(async move {
            tonic::transport::Server::builder()
                .add_service(VerbServiceServer::new(grpc))
                .serve(format!("127.0.0.1:{port}").parse().unwrap())
                .await
        });
    }
    let http = VerbServer::start(|_, _| (200, String::new()));
    let p = Project::new();
    let exec_log = p.path().join("exec-keys.txt");
    p.module("shop")
        .http_verb("h", &http.url("/h"))
        .verb(
            "e",
            &format!(
                r#"exec: ["sh", "-c", "echo \"$FTL_REQUEST_ID\" >> {}"]"#,
                exec_log.display()
            ),
        )
        .verb("g", &format!("grpc: \"http://127.0.0.1:{port}\""))
        .topic("t", "partitions: 1")
        .subscription("sh", "topic: t, verb: h")
        .subscription("se", "topic: t, verb: e")
        .subscription("sg", "topic: t, verb: g")
        .write();
    let dev = p.dev();
    for s in ["shop.sh", "shop.se", "shop.sg"] {
        dev.wait_assigned(s, 1);
    }
    // CLI with a key, HTTP with and without one, the gRPC Publisher and
    // PublishService with one (metadata), another client without headers.
    assert_eq!(
        p.run(&[
            "pubsub",
            "publish",
            "t",
            r#"{"n":0}"#,
            "--request-key",
            "req-ingress-cli-k0"
        ])
        .code,
        0
    );
    let refused = p.run(&[
        "pubsub",
        "publish",
        "t",
        r#"{"n":0}"#,
        "--request-key",
        "a b",
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    let post = |key: Option<&str>, n: u32| {
        let header = key
            .map(|k| format!("\r\nFTL-Request-ID: {k}"))
            .unwrap_or_default();
        http_raw(
            &p.listen,
            &format!("POST /topics/shop.t HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json{header}", p.listen),
            &format!(r#"{{"n":{n}}}"#),
        )
    };
    assert_eq!(post(Some("req-ingress-http-k1"), 1).0, 200);
    let (status, answer) = post(None, 2);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(post(Some("bad key"), 9).0, 400);
    rt.block_on(async {
        use ftl::ftl_proto::pubsub::v1::publish_service_client::PublishServiceClient;
        use ftl::ftl_proto::pubsub::v1::PublishEventRequest;
        use ftl::publisher::proto::publisher_client::PublisherClient;
        use ftl::publisher::proto::{PublishRequest, Ref};
        let base = format!("http://{}", p.listen);
        let mut seed = PublisherClient::connect(base.clone()).await.unwrap();
        let mut request = tonic::Request::new(PublishRequest {
            topic: Some(Ref {
                module: b"shop".to_vec(),
                name: b"t".to_vec(),
            }),
            body: br#"{"n":3}"#.to_vec(),
            key: Vec::new(),
        });
        request
            .metadata_mut()
            .insert("ftl-request-id", "req-ingress-grpc-k3".parse().unwrap());
        seed.publish(request).await.unwrap();
        let mut ftl = PublishServiceClient::connect(base).await.unwrap();
        let mut request = tonic::Request::new(PublishEventRequest {
            topic: Some(ftl::ftl_proto::v1::Ref {
                name: "t".into(),
                module: "shop".into(),
            }),
            body: br#"{"n":4}"#.to_vec(),
            key: String::new(),
            caller: "shop.h".into(),
        });
        request
            .metadata_mut()
            .insert("ftl-request-id", "req-ingress-ftl-k4".parse().unwrap());
        ftl.publish_event(request).await.unwrap();
    });
    p.kafka().produce("shop.t", &[(None, r#"{"n":5}"#.into())]);

    dev.wait_where(
        "six deliveries by each verb",
        18,
        Duration::from_secs(60),
        |e| e["type"] == "delivery" && e["outcome"] == "ok",
    );
    let records = p.kafka().read_all("shop.t");
    assert_eq!(records.len(), 6);
    let keys: Vec<Option<String>> = records
        .iter()
        .map(|r| r.headers.get("ftl.request_key").cloned())
        .collect();
    let by: Vec<Option<&str>> = records
        .iter()
        .map(|r| r.headers.get("ftl.published_by").map(String::as_str))
        .collect();
    assert_eq!(keys[0].as_deref(), Some("req-ingress-cli-k0"));
    assert_eq!(keys[1].as_deref(), Some("req-ingress-http-k1"));
    assert!(
        keys[2]
            .as_deref()
            .unwrap()
            .starts_with("req-ingress-shop-t-"),
        "{keys:?}"
    );
    assert_eq!(keys[3].as_deref(), Some("req-ingress-grpc-k3"));
    assert_eq!(keys[4].as_deref(), Some("req-ingress-ftl-k4"));
    assert_eq!(keys[5], None, "another client's event has no headers");
    assert_eq!(
        by,
        [
            Some("cli"),
            Some("http"),
            Some("http"),
            Some("grpc"),
            Some("shop.h"),
            None
        ]
    );
    for r in &records[..5] {
        assert!(
            is_rfc3339_nanos_utc(&r.headers["ftl.created_at"]),
            "{:?}",
            r.headers
        );
    }
    // The headerless event got a key when delivered, the same for every
    // subscription.
    let fifth: Vec<Value> = dev
        .events()
        .into_iter()
        .filter(|e| e["type"] == "delivery" && e["offset"] == 5)
        .collect();
    assert_eq!(fifth.len(), 3);
    let given = fifth[0]["request_key"].as_str().unwrap().to_string();
    assert!(given.starts_with("req-pubsub-shop-t-"), "{given}");
    assert!(fifth.iter().all(|e| e["request_key"] == given.as_str()));

    let mut expected: Vec<String> = keys[..5].iter().map(|k| k.clone().unwrap()).collect();
    expected.push(given);
    let http_keys: Vec<String> = http
        .requests()
        .iter()
        .map(|r| r.header("ftl-request-id").to_string())
        .collect();
    let exec_keys: Vec<String> = std::fs::read_to_string(&exec_log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let grpc_keys = grpc.0.lock().unwrap().clone();
    assert_eq!(http_keys, expected, "HTTP verb");
    assert_eq!(exec_keys, expected, "exec verb");
    assert_eq!(grpc_keys, expected, "gRPC verb");
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}
