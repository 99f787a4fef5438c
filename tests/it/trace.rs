//! Issue 22: FTL's request keys and headers on every publish, the key
//! handed to every verb kind, and `ftl pubsub trace`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{
    free_port, json_lines, on, request, require_docker, Event, Project, VerbServer,
};

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
            let answer = request(
                &listen,
                "POST",
                "/topics/shop.b",
                &[
                    ("Content-Type", "application/json"),
                    ("FTL-Request-ID", &key),
                ],
                r#"{"step":2}"#,
            );
            if answer.status == 200 {
                (200, String::new())
            } else {
                (500, format!("publish to b failed: {}", answer.body))
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

    let dead = dev.wait(
        on!(Event::Delivery(d) if d.subscription == "shop.sb" && d.outcome == ftl::events::Outcome::DeadLettered => d.clone()),
        Duration::from_secs(60),
    );
    assert_eq!(dead.request_key.as_deref(), Some(key.as_str()), "{dead:?}");
    assert!(dead.since_published_ms.is_some(), "{dead:?}");

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

    // --follow prints the tree and keeps running.
    {
        use std::io::BufRead;
        let mut child = p
            .cmd()
            .args(["pubsub", "trace", &key, "--follow"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = Vec::new();
        for line in lines {
            let line = line.unwrap();
            let done = line.contains("publish shop.sbFailed 0@0");
            seen.push(line);
            if done {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(700));
        assert!(
            child.try_wait().unwrap().is_none(),
            "--follow keeps running: {seen:?}"
        );
        child.kill().unwrap();
        let _ = child.wait();
        assert!(
            seen.iter().any(|l| l.contains("publish shop.a 0@0")),
            "{seen:?}"
        );
    }

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

    // The console: a dead letter opens the request's tree with its timeline.
    let b = crate::harness::browser::Browser::start("light");
    b.goto(&format!("http://{}/#deadletters", p.listen));
    b.wait_for(
        "the dead letter",
        crate::harness::browser::PAGE_OPEN,
        "return document.querySelector('#dls tbody').innerText.includes('oven broken')",
    );
    b.click("#dls tbody tr button.trace-open");
    let tree = b.wait_for(
        "the request's tree",
        Duration::from_secs(10),
        "const t = document.querySelector('#trace-tree'); return t && t.querySelector('.tree') && t.innerText",
    );
    let tree = tree.as_str().unwrap().to_string();
    for needle in [
        "publish shop.a 0@0",
        "shop.sa → va",
        "publish shop.b 0@0",
        "shop.sb → vb",
        "dead lettered to shop.sbFailed 0@0",
        "by deadletter",
    ] {
        assert!(
            tree.contains(needle),
            "no `{needle}` in the console's tree:\n{tree}"
        );
    }
    let bars = b.eval("return document.querySelectorAll('#trace-tree .timeline .bar').length");
    assert!(
        bars.as_u64().unwrap() >= 6,
        "a bar per publish and attempt: {bars}"
    );
    // The dead letter's publish is the last step: its bar sits at the far right.
    let last = b.eval("const bs = [...document.querySelectorAll('#trace-tree .timeline .bar')]; return parseFloat(bs[bs.length - 1].style.left)");
    assert!(
        last.as_f64().unwrap() > 90.0,
        "the last step's bar starts at {last}%"
    );
    b.screenshot("trace");
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
        let mut headers = vec![("Content-Type", "application/json")];
        if let Some(k) = key {
            headers.push(("FTL-Request-ID", k));
        }
        let r = request(
            &p.listen,
            "POST",
            "/topics/shop.t",
            &headers,
            &format!(r#"{{"n":{n}}}"#),
        );
        (r.status, r.body)
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

    dev.wait_nth(
        on!(Event::Delivery(d) if d.outcome == ftl::events::Outcome::Ok),
        18,
        Duration::from_secs(60),
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
    let fifth: Vec<ftl::events::Delivery> = dev
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Delivery(d) if d.offset == 5 => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(fifth.len(), 3);
    let given = fifth[0].request_key.clone().unwrap();
    assert!(given.starts_with("req-pubsub-shop-t-"), "{given}");
    assert!(fifth
        .iter()
        .all(|d| d.request_key.as_deref() == Some(given.as_str())));

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

/// What the OTLP receiver of the test got, decoded.
#[derive(Default)]
struct Received {
    metrics: Vec<opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest>,
    traces: Vec<opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest>,
}

/// An OTLP http/protobuf receiver on 127.0.0.1 (a collector stand-in).
fn otlp_receiver(rt: &tokio::runtime::Runtime) -> (u16, Arc<Mutex<Received>>) {
    use axum::body::Bytes;
    use axum::routing::post;
    use prost::Message;
    let got = Arc::new(Mutex::new(Received::default()));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let (m, t) = (got.clone(), got.clone());
    let app = axum::Router::new()
        .route(
            "/v1/metrics",
            post(move |body: Bytes| async move {
                let req = opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest::decode(body).unwrap();
                m.lock().unwrap().metrics.push(req);
                ""
            }),
        )
        .route(
            "/v1/traces",
            post(move |body: Bytes| async move {
                let req = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(body).unwrap();
                t.lock().unwrap().traces.push(req);
                ""
            }),
        );
    rt.spawn(async move { axum::serve(listener, app).await });
    (port, got)
}

fn attrs(
    kvs: &[opentelemetry_proto::tonic::common::v1::KeyValue],
) -> std::collections::BTreeMap<String, String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
    kvs.iter()
        .map(|kv| {
            let v = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                Some(V::StringValue(s)) => s.clone(),
                Some(V::IntValue(i)) => i.to_string(),
                other => format!("{other:?}"),
            };
            (kv.key.clone(), v)
        })
        .collect()
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, FTL's three metrics (with FTL's
/// attributes) and a publish span with its delivery span as a child arrive
/// at the collector, under the service name given.
#[test]
fn otlp_gets_ftls_metrics_and_a_span_per_publish_and_delivery_attempt() {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    require_docker();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (port, got) = otlp_receiver(&rt);
    let verb = VerbServer::start(|_, n| {
        if n == 0 {
            (500, "cold".into())
        } else {
            (200, String::new())
        }
    });
    let p = Project::new();
    p.module("shop")
        .http_verb("v", &verb.url("/v"))
        .topic("t", "partitions: 1")
        .subscription(
            "s",
            "topic: t, verb: v, retry: {count: 2, min_backoff: 50ms, max_backoff: 50ms}",
        )
        .write();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dev = p.dev_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "shop-dev"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "300"),
    ]);
    dev.wait_assigned("shop.s", 1);
    let answer = request(
        &p.listen,
        "POST",
        "/topics/shop.t",
        &[
            ("Content-Type", "application/json"),
            ("FTL-Request-ID", "req-ingress-otel-1"),
        ],
        r#"{"n":1}"#,
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    dev.wait(
        on!(Event::Delivery(d) if d.outcome == ftl::events::Outcome::Ok),
        Duration::from_secs(30),
    );
    let names = |r: &Received| -> Vec<String> {
        r.metrics
            .iter()
            .flat_map(|m| &m.resource_metrics)
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .map(|m| m.name.clone())
            .collect()
    };
    let span_count = |r: &Received| {
        r.traces
            .iter()
            .flat_map(|t| &t.resource_spans)
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans)
            .count()
    };
    // The outcomes the `consumed` counter was exported with so far: the
    // success comes 50 ms after the failure, so an export may hold only the
    // failure; a later one holds both.
    let consumed = |r: &Received| -> std::collections::BTreeSet<String> {
        r.metrics
            .iter()
            .flat_map(|m| &m.resource_metrics)
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .filter(|m| m.name == "ftl.pubsub.consumed")
            .flat_map(|m| match &m.data {
                Some(Data::Sum(s)) => s
                    .data_points
                    .iter()
                    .map(|d| {
                        attrs(&d.attributes)
                            .get("ftl.outcome.status")
                            .cloned()
                            .unwrap_or_default()
                    })
                    .collect(),
                _ => Vec::new(),
            })
            .collect()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        {
            let r = got.lock().unwrap();
            let n = names(&r);
            let all = [
                "ftl.pubsub.published",
                "ftl.pubsub.consumed",
                "ftl.pubsub.ms_to_consume",
            ]
            .iter()
            .all(|want| n.iter().any(|x| x == want));
            if all && span_count(&r) >= 3 && consumed(&r).len() == 2 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the collector got metrics {n:?} and {} spans; ftl dev said:\n{}",
                span_count(&r),
                dev.log()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let r = got.lock().unwrap();
    // Metrics: meter ftl.pubsub, FTL's attribute names, the service name.
    let rm = &r.metrics[0].resource_metrics[0];
    assert_eq!(
        attrs(&rm.resource.as_ref().unwrap().attributes)["service.name"],
        "shop-dev"
    );
    let mut consumed_outcomes = std::collections::BTreeSet::new();
    for sm in r
        .metrics
        .iter()
        .flat_map(|m| &m.resource_metrics)
        .flat_map(|rm| &rm.scope_metrics)
    {
        assert_eq!(sm.scope.as_ref().unwrap().name, "ftl.pubsub");
        for m in &sm.metrics {
            let points: Vec<_> = match &m.data {
                Some(Data::Sum(s)) => s.data_points.iter().map(|d| attrs(&d.attributes)).collect(),
                Some(Data::Histogram(h)) => {
                    h.data_points.iter().map(|d| attrs(&d.attributes)).collect()
                }
                other => panic!("{}: {other:?}", m.name),
            };
            for a in points {
                match m.name.as_str() {
                    "ftl.pubsub.published" => {
                        assert_eq!(a["ftl.module.name"], "shop", "{a:?}");
                        assert_eq!(a["ftl.pubsub.topic.ref"], "shop.t", "{a:?}");
                        assert_eq!(a["ftl.outcome.status"], "success", "{a:?}");
                    }
                    "ftl.pubsub.consumed" | "ftl.pubsub.ms_to_consume" => {
                        assert_eq!(a["ftl.pubsub.topic.ref"], "shop.t", "{a:?}");
                        assert_eq!(a["ftl.pubsub.topic.module.name"], "shop", "{a:?}");
                        assert_eq!(a["ftl.pubsub.subscription.ref"], "shop.s", "{a:?}");
                        assert_eq!(a["ftl.pubsub.subscription.module.name"], "shop", "{a:?}");
                        assert!(
                            a.contains_key("ftl.pubsub.time_since_published_ms.bucket"),
                            "{a:?}"
                        );
                        consumed_outcomes.insert(a["ftl.outcome.status"].clone());
                    }
                    other => panic!("an unexpected metric {other}"),
                }
            }
        }
    }
    assert_eq!(
        consumed_outcomes.into_iter().collect::<Vec<_>>(),
        ["failure", "success"]
    );
    // Spans: the publish, and each attempt a child of it in one trace.
    let spans: Vec<_> = r
        .traces
        .iter()
        .flat_map(|t| &t.resource_spans)
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .collect();
    let publish = spans
        .iter()
        .find(|s| s.name == "publish shop.t")
        .expect("a publish span");
    let deliveries: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "deliver shop.s")
        .collect();
    assert_eq!(deliveries.len(), 2, "one span per attempt");
    for d in &deliveries {
        assert_eq!(d.trace_id, publish.trace_id);
        assert_eq!(d.parent_span_id, publish.span_id);
        assert_eq!(
            attrs(&d.attributes)["ftl.request_key"],
            "req-ingress-otel-1"
        );
    }
    assert_eq!(
        attrs(&publish.attributes)["ftl.request_key"],
        "req-ingress-otel-1"
    );
    drop(r);
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

/// An event at its verb now shows in its request's trace as in flight
/// (the history takes attempts from the runner's snapshot when asked),
/// found by its key and by where it sits, then as done once the verb answers.
#[test]
fn an_event_at_its_verb_shows_in_flight_in_its_trace() {
    require_docker();
    let server = VerbServer::start(|_, _| {
        std::thread::sleep(Duration::from_secs(4));
        (200, String::new())
    });
    let p = Project::new();
    p.module("shop")
        .http_verb("slow", &server.url("/slow"))
        .topic("t", "partitions: 1")
        .subscription("s", "topic: t, verb: slow")
        .write();
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    let out = p.run(&["--json", "pubsub", "publish", "t", r#"{"n":1}"#]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let key = json_lines(&out.stdout)[0]["request_key"]
        .as_str()
        .unwrap()
        .to_string();
    // Until the runner has fetched the event, it has seen nothing of the
    // request (the command says so and exits non-zero).
    let status_of = |what: &str| -> Value {
        let t = p.run(&["--json", "pubsub", "trace", what]);
        if t.code != 0 {
            return Value::Null;
        }
        json_lines(&t.stdout)[0]["publishes"][0]["deliveries"][0]["status"].clone()
    };
    crate::harness::wait_until(
        "the event in flight in its trace",
        Duration::from_secs(3),
        || status_of(&key) == "in_flight",
    );
    // Found by where it sits too, while no attempt of it has ended.
    let by_place = p.run(&["--json", "pubsub", "trace", "shop.t@0:0"]);
    assert_eq!(by_place.code, 0, "{}", by_place.stderr);
    assert_eq!(
        json_lines(&by_place.stdout)[0]["request_key"],
        Value::from(key.as_str()),
        "{}",
        by_place.stdout
    );
    dev.wait(
        on!(Event::Delivery(d) if d.outcome == ftl::events::Outcome::Ok),
        Duration::from_secs(30),
    );
    assert_eq!(status_of(&key), "ok");
    dev.stop();
}
