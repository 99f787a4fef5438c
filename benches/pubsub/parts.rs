//! What the benchmark runs beside `ftl`: the verb (a keep-alive HTTP
//! server answering 200 at once), callers of the runner's Publisher, and an
//! open console (its event stream and overview, as the page reads them).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use ftl::publisher::proto::publisher_client::PublisherClient;
use ftl::publisher::proto::{PublishRequest, Ref};

/// The verb: answers every POST with 200 at once and counts them.
pub struct Sink {
    pub port: u16,
    pub count: Arc<AtomicUsize>,
    _rt: tokio::runtime::Runtime,
}

impl Sink {
    pub fn start() -> Sink {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let c = count.clone();
        let app = axum::Router::new().fallback(move |_body: Bytes| {
            let c = c.clone();
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::OK
            }
        });
        rt.spawn(async move { axum::serve(listener, app).await });
        Sink {
            port,
            count,
            _rt: rt,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v", self.port)
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }
}

/// An open console: reads `GET /admin/events` (SSE) as it comes and asks
/// for `/admin/overview` once a second, as the page does, until dropped.
pub struct Console {
    stop: Arc<AtomicBool>,
    pub bytes: Arc<AtomicUsize>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Console {
    pub fn open(listen: &str) -> Console {
        let stop = Arc::new(AtomicBool::new(false));
        let bytes = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        // `FTL_BENCH_CONSOLE=events|overview` opens one half only (to see
        // which costs what).
        let half = std::env::var("FTL_BENCH_CONSOLE").unwrap_or_default();
        let (s, b, addr) = (stop.clone(), bytes.clone(), listen.to_string());
        threads.push(std::thread::spawn(move || {
            if half == "overview" {
                return;
            }
            // reqwest, reading the stream chunk by chunk; the stop flag is
            // looked at every 200 ms.
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut resp = reqwest::Client::new()
                    .get(format!("http://{addr}/admin/events"))
                    .header("Accept", "text/event-stream")
                    .send()
                    .await
                    .unwrap();
                while !s.load(Ordering::SeqCst) {
                    tokio::select! {
                        chunk = resp.chunk() => match chunk {
                            Ok(Some(c)) => {
                                b.fetch_add(c.len(), Ordering::SeqCst);
                            }
                            _ => break,
                        },
                        _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    }
                }
            });
        }));
        let (s, addr) = (stop.clone(), listen.to_string());
        let half = std::env::var("FTL_BENCH_CONSOLE").unwrap_or_default();
        threads.push(std::thread::spawn(move || {
            while half != "events" && !s.load(Ordering::SeqCst) {
                let (status, _) = crate::harness::http(&addr, "GET", "/admin/overview", None);
                assert_eq!(status, 200);
                std::thread::sleep(Duration::from_secs(1));
            }
        }));
        Console {
            stop,
            bytes,
            threads,
        }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// `clients` callers of the runner's Publisher, each publishing `each`
/// events one after another: events/s and every publish→ack time in ms.
pub fn publisher_http(listen: &str, topic: &str, clients: usize, each: usize) -> (f64, Vec<f64>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|c| {
                let url = format!("http://{listen}/topics/{topic}");
                tokio::spawn(async move {
                    let http = reqwest::Client::builder()
                        .tcp_nodelay(true)
                        .build()
                        .unwrap();
                    let mut lat = Vec::with_capacity(each);
                    for i in 0..each {
                        let body = format!("{{\"k\":\"c{c}-{}\",\"i\":{i}}}", i % 16);
                        let t = Instant::now();
                        let r = http
                            .post(&url)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .await
                            .unwrap();
                        assert!(r.status().is_success(), "{}", r.status());
                        let _ = r.bytes().await;
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    lat
                })
            })
            .collect();
        collect(tasks, clients * each, started).await
    })
}

pub fn publisher_grpc(listen: &str, topic: &str, clients: usize, each: usize) -> (f64, Vec<f64>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (module, name) = topic.split_once('.').unwrap();
    rt.block_on(async {
        let started = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|c| {
                let url = format!("http://{listen}");
                let (module, name) = (module.to_string(), name.to_string());
                tokio::spawn(async move {
                    let mut client = PublisherClient::connect(url).await.unwrap();
                    let mut lat = Vec::with_capacity(each);
                    for i in 0..each {
                        let key = format!("c{c}-{}", i % 16);
                        let t = Instant::now();
                        client
                            .publish(PublishRequest {
                                topic: Some(Ref {
                                    module: module.clone().into_bytes(),
                                    name: name.clone().into_bytes(),
                                }),
                                body: format!("{{\"k\":\"{key}\",\"i\":{i}}}").into_bytes(),
                                key: Vec::new(),
                            })
                            .await
                            .unwrap();
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    lat
                })
            })
            .collect();
        collect(tasks, clients * each, started).await
    })
}

async fn collect(
    tasks: Vec<tokio::task::JoinHandle<Vec<f64>>>,
    n: usize,
    started: Instant,
) -> (f64, Vec<f64>) {
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (n as f64 / started.elapsed().as_secs_f64(), all)
}
