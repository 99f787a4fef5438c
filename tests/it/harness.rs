//! A small harness over the real parts: the `ftl` binary, the Docker Engine
//! and the test broker (Tansu, from an image built by
//! `scripts/build-test-broker-image.sh`). Every test gets its own project
//! directory and project name, so its container, topics and groups never
//! collide with another test's.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{Offset, TopicPartitionList};

pub const TEST_IMAGE: &str = "ftl-test/tansu:0.6.0";

pub fn ftl_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ftl"))
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Docker must be there, and the test broker image must exist (built here
/// when missing). Never skips: a missing engine fails the test with a
/// message saying how to get one.
pub fn require_docker() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let r = READY.get_or_init(|| {
        let info = Command::new("docker")
            .args(["version", "--format", "{{.Server.Version}}"])
            .output()
            .map_err(|e| format!("the `docker` command is missing ({e})"))?;
        if !info.status.success() {
            return Err(format!(
                "the Docker Engine is not reachable: {}",
                String::from_utf8_lossy(&info.stderr).trim()
            ));
        }
        let have = Command::new("docker")
            .args(["image", "inspect", TEST_IMAGE])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !have {
            let out = Command::new(repo_root().join("scripts/build-test-broker-image.sh"))
                .output()
                .map_err(|e| format!("cannot run the image build script: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "building {TEST_IMAGE} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        Ok(())
    });
    if let Err(e) = r {
        panic!(
            "these tests need a running Docker Engine and the test broker image: {e}\n\
             start Docker (e.g. `dockerd &`) and run `scripts/build-test-broker-image.sh`"
        );
    }
}

pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}{}x{}x{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 10_000
    )
}

/// A small pseudo-random generator (no dependency needed for test jitter).
pub struct Rng(u64);

impl Rng {
    pub fn new() -> Rng {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        eprintln!("rng seed {seed}");
        Rng(seed | 1)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A project in a temporary directory; its broker container and volume are
/// removed when it is dropped.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub name: String,
    pub listen: String,
    uses_broker: bool,
}

impl Project {
    /// A project with `port: 0` and a free runner port.
    pub fn new() -> Project {
        let name = unique("t");
        let listen = format!("127.0.0.1:{}", free_port());
        let dir = tempfile::tempdir().expect("temp dir");
        let p = Project {
            dir,
            name,
            listen,
            uses_broker: true,
        };
        p.write(
            "ftl-project.yaml",
            &format!(
                "name: {}\npubsub:\n  broker:\n    kind: tansu\n    port: 0\nrunner:\n  listen: {}\n  grace: 5s\n",
                p.name, p.listen
            ),
        );
        p
    }

    /// A project with one module `shop`: topic `t` (its attributes given,
    /// e.g. `partitions: 4, key: /u`) and subscription `s` calling HTTP verb
    /// `v` at `url` (extra attributes given, e.g. `retry: {count: 3}`).
    pub fn single_subscription(url: &str, topic: &str, sub_extra: &str) -> Project {
        let p = Project::new();
        let sub_extra = if sub_extra.is_empty() {
            String::new()
        } else {
            format!(", {sub_extra}")
        };
        p.write(
            "shop/ftl.yaml",
            &format!(
                "module: shop\nverbs:\n  v: {{http: \"{url}\"}}\ntopics:\n  t: {{{topic}}}\nsubscriptions:\n  s: {{topic: t, verb: v{sub_extra}}}\n"
            ),
        );
        p
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        // Write then rename so `ftl dev` never reads half a file.
        let tmp = p.with_extension("tmp~");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, &p).expect("rename");
    }

    /// `ftl` in this project, against the test broker.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(ftl_bin());
        c.current_dir(self.path())
            .env("FTL_BROKER_KIND", "tansu")
            .env("FTL_BROKER_IMAGE", TEST_IMAGE)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd().args(args).output().expect("run ftl");
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn dev(&self) -> Dev {
        self.dev_with(&[])
    }

    pub fn dev_with(&self, extra_env: &[(&str, &str)]) -> Dev {
        let mut c = self.cmd();
        c.arg("dev")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        for (k, v) in extra_env {
            c.env(k, v);
        }
        Dev::spawn(c)
    }

    /// The bootstrap address of the running broker.
    pub fn bootstrap(&self) -> String {
        let c = docker::inspect(&self.container()).expect("the broker container exists");
        let port = c
            .host_config
            .and_then(|h| h.port_bindings)
            .and_then(|p| p.get("9092/tcp").cloned().flatten())
            .and_then(|b| b.first().and_then(|b| b.host_port.clone()))
            .expect("a published port");
        format!("127.0.0.1:{port}")
    }

    pub fn container(&self) -> String {
        format!("ftl-{}-broker", self.name)
    }

    pub fn kafka(&self) -> Kafka {
        Kafka {
            bootstrap: self.bootstrap(),
        }
    }

    pub fn without_broker(mut self) -> Self {
        self.uses_broker = false;
        self
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if self.uses_broker {
            let _ = self
                .cmd()
                .args(["pubsub", "broker", "reset", "--yes"])
                .output();
        }
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// A running `ftl dev`, its stderr collected line by line.
pub struct Dev {
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Dev {
    pub fn spawn_command(c: Command) -> Dev {
        Dev::spawn(c)
    }

    fn spawn(mut c: Command) -> Dev {
        let mut child = c.spawn().expect("spawn ftl dev");
        // Both streams are drained so `ftl dev` never blocks on a full pipe;
        // stdout carries no data for `dev`, so its lines join the log.
        let lines = Arc::new(Mutex::new(Vec::new()));
        for (stream, sink) in [
            (
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn Read + Send>),
                lines.clone(),
            ),
            (
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn Read + Send>),
                lines.clone(),
            ),
        ] {
            if let Some(s) = stream {
                std::thread::spawn(move || {
                    for line in BufReader::new(s).lines().map_while(Result::ok) {
                        if std::env::var_os("FTL_TEST_ECHO").is_some() {
                            eprintln!("[dev] {line}");
                        }
                        sink.lock().expect("lock").push(line);
                    }
                });
            }
        }
        Dev {
            child: Some(child),
            lines,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn log(&self) -> String {
        self.lines.lock().expect("lock").join("\n")
    }

    /// Waits for a stderr line containing `needle`; panics with the log.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> String {
        self.wait_for_nth(needle, 1, timeout)
    }

    pub fn wait_for_nth(&self, needle: &str, n: usize, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let found: Vec<String> = self
                .lines
                .lock()
                .expect("lock")
                .iter()
                .filter(|l| l.contains(needle))
                .cloned()
                .collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "`ftl dev` never printed `{needle}` (x{n}) within {timeout:?}; its output:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn count(&self, needle: &str) -> usize {
        self.lines
            .lock()
            .expect("lock")
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) -> (i32, String) {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(40))
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> (i32, String) {
        let deadline = Instant::now() + timeout;
        let Some(mut c) = self.child.take() else {
            return (-1, self.log());
        };
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return (status.code().unwrap_or(-1), self.log());
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                panic!(
                    "`ftl dev` did not exit within {timeout:?}; its output:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Direct rdkafka access to the test broker, to check what `ftl` did.
pub struct Kafka {
    pub bootstrap: String,
}

#[derive(Debug, Clone)]
pub struct Record {
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    pub payload: String,
    pub headers: HashMap<String, String>,
    pub timestamp: Option<i64>,
}

impl Kafka {
    fn config(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap)
            .set("broker.address.family", "v4");
        c
    }

    pub fn partitions(&self, topic: &str) -> Option<usize> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", "ftl-test-meta")
            .create()
            .expect("consumer");
        let md = c
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        md.topics()
            .iter()
            .find(|t| t.name() == topic && t.error().is_none())
            .map(|t| t.partitions().len())
    }

    /// Produces each event as its own record batch (the test broker's end
    /// offsets are wrong for multi-record batches).
    /// A producer that sends each record as its own batch, right away.
    pub fn producer(&self) -> BaseProducer {
        self.config()
            .set("linger.ms", "0")
            .set("batch.num.messages", "1")
            .set("acks", "all")
            .set("partitioner", "murmur2_random")
            .create()
            .expect("producer")
    }

    pub fn produce(&self, topic: &str, events: &[(Option<&str>, String)]) {
        self.produce_with_headers(topic, events, &[]);
    }

    pub fn produce_with_headers(
        &self,
        topic: &str,
        events: &[(Option<&str>, String)],
        headers: &[(&str, &str)],
    ) {
        let p = self.producer();
        for (k, v) in events {
            let mut r = BaseRecord::<str, str>::to(topic).payload(v.as_str());
            if !headers.is_empty() {
                let mut h = rdkafka::message::OwnedHeaders::new();
                for (hk, hv) in headers {
                    h = h.insert(rdkafka::message::Header {
                        key: hk,
                        value: Some(*hv),
                    });
                }
                r = r.headers(h);
            }
            if let Some(k) = k {
                r = r.key(*k);
            }
            let mut r = Some(r);
            while let Some(rec) = r.take() {
                if let Err((e, rec)) = p.send(rec) {
                    assert!(
                        matches!(
                            e,
                            rdkafka::error::KafkaError::MessageProduction(
                                rdkafka::types::RDKafkaErrorCode::QueueFull
                            )
                        ),
                        "{e}"
                    );
                    p.poll(Duration::from_millis(50));
                    r = Some(rec);
                }
            }
            p.poll(Duration::ZERO);
        }
        p.flush(Duration::from_secs(30)).expect("flush");
    }

    /// Every record of a topic, read by assignment (no group is joined).
    pub fn read_all(&self, topic: &str) -> Vec<Record> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", "ftl-test-reader")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .create()
            .expect("consumer");
        let n = self.partitions(topic).unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        let mut tpl = TopicPartitionList::new();
        for p in 0..n {
            tpl.add_partition_offset(topic, p as i32, Offset::Beginning)
                .expect("tpl");
        }
        c.assign(&tpl).expect("assign");
        let mut eof = std::collections::HashSet::new();
        let mut out = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while eof.len() < n && Instant::now() < deadline {
            match c.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    let mut headers = HashMap::new();
                    if let Some(h) = m.headers() {
                        for i in 0..h.count() {
                            let hd = h.get(i);
                            headers.insert(
                                hd.key.to_string(),
                                String::from_utf8_lossy(hd.value.unwrap_or_default()).into_owned(),
                            );
                        }
                    }
                    out.push(Record {
                        partition: m.partition(),
                        offset: m.offset(),
                        key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                        payload: String::from_utf8_lossy(m.payload().unwrap_or_default())
                            .into_owned(),
                        headers,
                        timestamp: m.timestamp().to_millis(),
                    });
                }
                Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                    eof.insert(p);
                }
                _ => {}
            }
        }
        out
    }

    /// The committed offsets of a group, per partition.
    pub fn committed(&self, group: &str, topic: &str, partitions: usize) -> Vec<Option<i64>> {
        let c: BaseConsumer = self
            .config()
            .set("group.id", group)
            .create()
            .expect("consumer");
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions {
            tpl.add_partition(topic, p as i32);
        }
        let got = c
            .committed_offsets(tpl, Duration::from_secs(10))
            .expect("committed");
        (0..partitions)
            .map(
                |p| match got.find_partition(topic, p as i32).map(|e| e.offset()) {
                    Some(Offset::Offset(o)) => Some(o),
                    _ => None,
                },
            )
            .collect()
    }
}

/// What a test HTTP verb received.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
    pub wall: SystemTime,
}

impl Request {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
            .unwrap_or("")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

type Responder = dyn Fn(&Request, usize) -> (u16, String) + Send + Sync;

/// A tiny HTTP/1.1 server (keep-alive) standing in for a verb: it records
/// every request and answers with what `respond` says (given the request and
/// how many requests came before it).
pub struct VerbServer {
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

impl VerbServer {
    pub fn start(
        respond: impl Fn(&Request, usize) -> (u16, String) + Send + Sync + 'static,
    ) -> VerbServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let respond: Arc<Responder> = Arc::new(respond);
        let reqs = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let reqs = reqs.clone();
                let respond = respond.clone();
                std::thread::spawn(move || serve_conn(stream, reqs, respond));
            }
        });
        VerbServer { port, requests }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }

    /// How many requests came, without copying them.
    pub fn count(&self) -> usize {
        self.requests.lock().expect("lock").len()
    }

    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Request> {
        let deadline = Instant::now() + timeout;
        while self.count() < n && Instant::now() <= deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        self.requests()
    }
}

fn serve_conn(stream: TcpStream, reqs: Arc<Mutex<Vec<Request>>>, respond: Arc<Responder>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let mut headers = HashMap::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let req = Request {
            path,
            headers,
            body,
            at: Instant::now(),
            wall: SystemTime::now(),
        };
        let n = {
            let mut r = reqs.lock().expect("lock");
            r.push(req.clone());
            r.len() - 1
        };
        let (status, text) = respond(&req, n);
        let resp = format!(
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\r\n{text}",
            text.len()
        );
        if writer.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// The Docker Engine API, as the tests see it.
pub mod docker {
    use bollard::models::{ContainerInspectResponse, ContainerSummary};
    use bollard::query_parameters::ListContainersOptionsBuilder;
    use std::collections::HashMap;

    fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    async fn client() -> bollard::Docker {
        bollard::Docker::connect_with_defaults()
            .expect("docker client")
            .negotiate_version()
            .await
            .expect("Docker Engine reachable")
    }

    pub fn inspect(name: &str) -> Option<ContainerInspectResponse> {
        block_on(async { client().await.inspect_container(name, None).await.ok() })
    }

    /// Containers (running or not) labelled for this project.
    pub fn containers_of(project: &str) -> Vec<ContainerSummary> {
        block_on(async {
            let filters = HashMap::from([(
                "label".to_string(),
                vec![format!("dev.ftl.project={project}")],
            )]);
            let opts = ListContainersOptionsBuilder::new()
                .all(true)
                .filters(&filters)
                .build();
            client()
                .await
                .list_containers(Some(opts))
                .await
                .expect("list containers")
        })
    }
}
