//! Issue 3: the Publisher on `runner.listen`, over HTTP and gRPC.

use std::collections::HashSet;
use std::time::Duration;

use crate::harness::{on, require_docker, Event, Project};

#[test]
fn the_publisher_accepts_grpc_and_http_and_rejects_bad_events() {
    require_docker();
    let p = Project::new();
    p.write(
        "shop/ftl.yaml",
        "module: shop\nverbs:\n  v: {exec: [\"true\"]}\ntopics:\n  orders: {event: Any, partitions: 8, key: /userId}\n  single: {event: Any}\n",
    );
    let dev = p.dev();
    dev.wait(on!(Event::Listening { .. }), Duration::from_secs(60));
    dev.wait_ready();
    let base = format!("http://{}", p.listen);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let post = |path: &str, body: &str| {
        rt.block_on(async {
            let r = http
                .post(format!("{base}{path}"))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (
                status,
                serde_json::from_slice::<serde_json::Value>(&r.bytes().await.unwrap()).unwrap(),
            )
        })
    };
    let (status, v) = post("/topics/shop.orders", r#"{"userId":"u7","n":1}"#);
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["key"], "u7");
    let (status, v) = post("/topics/orders?key=explicit", r#"{"userId":"u7","n":2}"#);
    assert_eq!((status, v["key"].as_str()), (200, Some("explicit")), "{v}");
    let (status, v) = post("/topics/shop.orders", "not json");
    assert_eq!(status, 400);
    assert!(v["error"].as_str().unwrap().contains("not JSON"), "{v}");
    let (status, v) = post("/topics/shop.orders", r#"{"n":3}"#);
    assert_eq!(status, 400);
    assert!(
        v["error"].as_str().unwrap().contains("no partition key"),
        "{v}"
    );
    let (status, v) = post("/topics/shop.nope", "{}");
    assert_eq!(status, 404);
    assert!(v["hint"].as_str().unwrap().contains("shop.orders"), "{v}");

    // gRPC, through a tonic client generated from the same .proto.
    use ftl::publisher::proto::publisher_client::PublisherClient;
    use ftl::publisher::proto::{PublishRequest, Ref};
    let (grpc_ok, grpc_bad) = rt.block_on(async {
        let mut client = PublisherClient::connect(base.clone()).await.unwrap();
        let ok = client
            .publish(PublishRequest {
                topic: Some(Ref {
                    module: "shop".into(),
                    name: "orders".into(),
                }),
                body: br#"{"userId":"u7","n":4}"#.to_vec(),
                key: Vec::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let bad = client
            .publish(PublishRequest {
                topic: Some(Ref {
                    module: "shop".into(),
                    name: "orders".into(),
                }),
                body: b"{".to_vec(),
                key: Vec::new(),
            })
            .await
            .unwrap_err();
        // A key that is not UTF-8, and a request larger than any event:
        // each answered with a status, nothing published.
        let bad_key = client
            .publish(PublishRequest {
                topic: Some(Ref {
                    module: "shop".into(),
                    name: "orders".into(),
                }),
                body: br#"{"userId":"u7"}"#.to_vec(),
                key: vec![0xff, 0xfe],
            })
            .await
            .unwrap_err();
        let huge = client
            .publish(PublishRequest {
                topic: Some(Ref {
                    module: "shop".into(),
                    name: "orders".into(),
                }),
                body: vec![b' '; 5 * 1024 * 1024],
                key: Vec::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(bad_key.code(), tonic::Code::InvalidArgument, "{bad_key:?}");
        assert!(
            bad_key
                .message()
                .contains("PublishRequest.key is not UTF-8"),
            "{bad_key:?}"
        );
        assert!(
            matches!(
                huge.code(),
                tonic::Code::OutOfRange | tonic::Code::ResourceExhausted
            ),
            "{huge:?}"
        );
        (ok, bad)
    });
    assert_eq!(grpc_bad.code(), tonic::Code::InvalidArgument);
    let records = p.kafka().read_all("shop.orders");
    assert_eq!(
        records.len(),
        3,
        "only the valid events were published: {records:?}"
    );
    // Same key, same partition, whoever published it (murmur2 like Kafka's Java client).
    let u7: HashSet<i32> = records
        .iter()
        .filter(|r| r.key.as_deref() == Some("u7"))
        .map(|r| r.partition)
        .collect();
    assert_eq!(u7, HashSet::from([grpc_ok.partition]));
    p.kafka().produce(
        "shop.orders",
        &[(Some("u7"), "{\"userId\":\"u7\",\"n\":5}".into())],
    );
    let records = p.kafka().read_all("shop.orders");
    let last = records
        .iter()
        .find(|r| r.payload.contains("\"n\":5"))
        .unwrap();
    assert_eq!(
        last.partition, grpc_ok.partition,
        "a plain librdkafka murmur2 producer agrees"
    );
    dev.stop();
}
