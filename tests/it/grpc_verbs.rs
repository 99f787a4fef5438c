//! Issue 13: `grpc` verbs speak FTL's VerbService, and the runner serves
//! FTL's PublishService, against a VerbService server the test runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ftl::ftl_proto::v1::verb_service_server::{VerbService, VerbServiceServer};
use ftl::ftl_proto::v1::{call_response, CallRequest, CallResponse, PingRequest, PingResponse};

use crate::harness::{free_port, on, require_docker, wait_until, Event, Project};
use ftl::events::{Delivery, Outcome};

/// What the module server received: the request and its gRPC metadata.
type Received = Arc<Mutex<Vec<(CallRequest, Vec<(String, String)>)>>>;

#[derive(Clone)]
struct ModuleServer {
    ready: Arc<AtomicBool>,
    received: Received,
}

#[tonic::async_trait]
impl VerbService for ModuleServer {
    async fn ping(
        &self,
        _: tonic::Request<PingRequest>,
    ) -> Result<tonic::Response<PingResponse>, tonic::Status> {
        Ok(tonic::Response::new(PingResponse {
            not_ready: (!self.ready.load(Ordering::SeqCst)).then(|| "warming up".to_string()),
        }))
    }

    async fn call(
        &self,
        request: tonic::Request<CallRequest>,
    ) -> Result<tonic::Response<CallResponse>, tonic::Status> {
        let metadata = request
            .metadata()
            .iter()
            .filter_map(|kv| match kv {
                tonic::metadata::KeyAndValueRef::Ascii(k, v) => {
                    Some((k.to_string(), v.to_str().unwrap_or_default().to_string()))
                }
                _ => None,
            })
            .collect();
        let req = request.into_inner();
        let body = String::from_utf8_lossy(&req.body).to_string();
        self.received.lock().unwrap().push((req, metadata));
        if body.contains("never") {
            return Err(tonic::Status::invalid_argument("no such pizza"));
        }
        let response = if body.contains("fail") {
            call_response::Response::Error(call_response::Error {
                message: "the oven is cold".into(),
                stack: Some("at oven.rs:1".into()),
            })
        } else {
            call_response::Response::Body(b"cooked".to_vec())
        };
        Ok(tonic::Response::new(CallResponse {
            response: Some(response),
        }))
    }
}

#[test]
fn grpc_verbs_get_ftls_call_wait_for_ping_and_fail_as_ftl_says() {
    require_docker();
    let port = free_port();
    let addr = format!("http://127.0.0.1:{port}");
    let p = Project::new();
    p.module("shop")
        .verb("v", &format!("grpc: \"{addr}\", timeout: 5s"))
        .topic("t", "partitions: 2, key: /k")
        .subscription(
            "s",
            "topic: t, verb: v, deadletter: true, retry: {count: 1, min_backoff: 100ms, max_backoff: 100ms}",
        )
        .write();
    let dev = p.dev();
    dev.wait_assigned("shop.s", 1);
    p.kafka()
        .produce("shop.t", &[(Some("a"), "{\"k\":\"a\",\"n\":1}".into())]);
    // No server yet: the runner waits, burning no retries.
    let waiting = dev.wait(
        on!(Event::VerbWaiting { subscription, address, .. } if subscription == "shop.s" => address.clone()),
        Duration::from_secs(30),
    );
    assert_eq!(waiting, addr, "{}", dev.log());

    // The module server starts late, and says it is not ready at first.
    let server = ModuleServer {
        ready: Arc::new(AtomicBool::new(false)),
        received: Received::default(),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    {
        let server = server.clone();
        rt.spawn(async move {
            tonic::transport::Server::builder()
                .add_service(VerbServiceServer::new(server))
                .serve(format!("127.0.0.1:{port}").parse().unwrap())
                .await
        });
    }
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        server.received.lock().unwrap().is_empty(),
        "called before ready"
    );
    server.ready.store(true, Ordering::SeqCst);
    dev.wait(
        on!(Event::VerbReady { subscription, .. } if subscription == "shop.s"),
        Duration::from_secs(30),
    );
    let ok = dev.wait(
        on!(Event::Delivery(d) if d.subscription == "shop.s" => d.clone()),
        Duration::from_secs(30),
    );
    assert_eq!((ok.outcome, ok.attempt), (Outcome::Ok, 1), "{ok:?}");
    assert_eq!(ok.output.as_deref(), Some("cooked"));
    {
        let received = server.received.lock().unwrap();
        let (req, metadata) = &received[0];
        assert_eq!(req.body, b"{\"k\":\"a\",\"n\":1}");
        let verb = req.verb.as_ref().unwrap();
        assert_eq!((verb.module.as_str(), verb.name.as_str()), ("shop", "v"));
        let pairs: Vec<(String, String)> = req
            .metadata
            .as_ref()
            .unwrap()
            .values
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        for (k, v) in [
            ("ftl-topic", "shop.t"),
            ("ftl-subscription", "shop.s"),
            ("ftl-key", "a"),
            ("ftl-attempt", "1"),
            ("ftl-offset", "0"),
        ] {
            assert!(
                pairs.contains(&(k.to_string(), v.to_string())),
                "{k}: {pairs:?}"
            );
            assert!(
                metadata.contains(&(k.to_string(), v.to_string())),
                "{k}: {metadata:?}"
            );
        }
    }

    // An error response is retried, then dead-lettered with the verb's
    // message and stack; a never-succeeds status after one attempt.
    p.kafka().produce(
        "shop.t",
        &[
            (Some("a"), "{\"k\":\"a\",\"fail\":true}".into()),
            (Some("a"), "{\"k\":\"a\",\"never\":true}".into()),
        ],
    );
    let dead: Vec<Delivery> = (1..=2)
        .map(|n| {
            dev.wait_nth(
                on!(Event::Delivery(d) if d.outcome == Outcome::DeadLettered => d.clone()),
                n,
                Duration::from_secs(30),
            )
        })
        .collect();
    assert_eq!(
        (dead[0].attempt, dead[0].error.as_deref()),
        (2, Some("the oven is cold"))
    );
    assert_eq!(dead[1].attempt, 1, "{:?}", dead[1]);
    assert!(
        dead[1]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("no such pizza"),
        "{:?}",
        dead[1]
    );
    let letters = p.kafka().read_all("shop.sFailed");
    assert_eq!(letters.len(), 2);
    assert_eq!(
        letters[0]
            .headers
            .get("ftl.error.stack")
            .map(String::as_str),
        Some("at oven.rs:1")
    );

    // FTL's PublishService: the same partition as the Publisher for a key.
    use ftl::ftl_proto::pubsub::v1::publish_service_client::PublishServiceClient;
    use ftl::ftl_proto::pubsub::v1::PublishEventRequest;
    let base = format!("http://{}", p.listen);
    rt.block_on(async {
        let mut client = PublishServiceClient::connect(base).await.unwrap();
        client
            .publish_event(PublishEventRequest {
                topic: Some(ftl::ftl_proto::v1::Ref {
                    name: "t".into(),
                    module: "shop".into(),
                }),
                body: br#"{"k":"zeta","n":9}"#.to_vec(),
                key: String::new(),
                caller: "shop.v".into(),
            })
            .await
            .unwrap();
    });
    let (code, body) = p.http("POST", "/topics/shop.t", Some(r#"{"k":"zeta","n":10}"#));
    assert_eq!(code, 200, "{body}");
    wait_until("both zeta events", Duration::from_secs(30), || {
        p.kafka()
            .read_all("shop.t")
            .iter()
            .filter(|r| r.key.as_deref() == Some("zeta"))
            .count()
            == 2
    });
    let zeta: Vec<i32> = p
        .kafka()
        .read_all("shop.t")
        .iter()
        .filter(|r| r.key.as_deref() == Some("zeta"))
        .map(|r| r.partition)
        .collect();
    assert_eq!(
        zeta[0], zeta[1],
        "one key, one partition, whichever way it came"
    );
    let (code, log) = dev.stop();
    assert_eq!(code, 0, "{log}");
}

#[test]
fn a_module_with_a_grpc_verb_is_scaffolded() {
    let p = Project::new().without_broker();
    p.run(&["new", "module", "kitchen", "--verb", "grpc"])
        .succeeds()
        .says("created");
    p.run(&["schema"])
        .succeeds()
        .prints("verb handle")
        .prints("+grpc http://127.0.0.1:8893");
    let text = std::fs::read_to_string(p.path().join("kitchen/ftl.yaml")).unwrap();
    assert!(text.contains("VerbService"), "{text}");
}
