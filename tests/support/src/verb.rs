//! A stand-in verb: a tiny HTTP server that records what it receives.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

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

    /// A verb that fails its first call (500, "warming up"), refuses for good
    /// any event containing "bad" (400, "no such pizza") and takes the rest:
    /// one stream with a retry, deliveries and a dead letter.
    pub fn warming_up_refusing_bad() -> VerbServer {
        VerbServer::start(|r, n| {
            if String::from_utf8_lossy(&r.body).contains("bad") {
                (400, "no such pizza".into())
            } else if n == 0 {
                (500, "warming up".into())
            } else {
                (200, String::new())
            }
        })
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

/// A verb that succeeds at once.
pub fn ok(_: &Request, _: usize) -> (u16, String) {
    (200, String::new())
}
