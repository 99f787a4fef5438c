//! HTTP requests to `ftl`'s runner (Publisher, admin API, console), through
//! reqwest's blocking client.

use std::sync::OnceLock;

use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use reqwest::Method;

/// An answer: its status, headers and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Response {
    /// The headers (`name: value` lines) and the body, as one text to
    /// search and to show in failure messages.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {}\n", v.to_str().unwrap_or("?")));
        }
        out.push('\n');
        out.push_str(&self.body);
        out
    }

    /// A header's value ("" when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    // No timeout, as a test waits as long as the runner takes.
    CLIENT.get_or_init(|| {
        Client::builder()
            .timeout(None)
            .build()
            .expect("an HTTP client")
    })
}

/// One request to `addr` (`127.0.0.1:PORT`) with exactly these extra
/// headers (a `Host` among them replaces the address's).
pub fn request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Response {
    let method = Method::from_bytes(method.as_bytes()).expect("an HTTP method");
    let mut req = client().request(method, format!("http://{addr}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if !body.is_empty() {
        req = req.body(body.to_string());
    }
    let resp = req.send().expect("a request to the runner");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().expect("the answer's body");
    Response {
        status,
        headers,
        body,
    }
}

/// One request to `addr` (`127.0.0.1:PORT`) as JSON; the answer's status
/// and body.
pub fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let r = request(
        addr,
        method,
        path,
        &[("Content-Type", "application/json")],
        body.unwrap_or(""),
    );
    (r.status, r.body)
}
