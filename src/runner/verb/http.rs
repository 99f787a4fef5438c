//! Calling an HTTP verb: one POST per attempt, on a pooled keep-alive
//! connection, the event as the body and its facts as `Ftl-*` headers.
//!
//! Written on hyper-util's client rather than reqwest: the runner makes one
//! call per delivered event, and reqwest's conveniences cost per call what
//! a verb never uses (it parsed the request's URL again from each response
//! for its redirect support, copied the header map, checked proxies, and
//! looked up every header name from its text). With the URL's `Uri` made
//! once and the header names static, `ftl dev` spent a fifth to a quarter
//! less CPU per event (BENCHMARKS.md, "The HTTP verb's client").

use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::{fact, key_for_verb, Invocation, Output, VerbFailure};
use crate::schema::HttpUrl;

/// The connection pool every HTTP verb of the runner is called through.
/// Cloning it shares the pool.
#[derive(Clone)]
pub struct VerbClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for VerbClient {
    fn default() -> Self {
        VerbClient::new()
    }
}

impl VerbClient {
    /// Idle connections are kept 90 s, at most 64 per verb address (a
    /// subscription's partitions call at once), without Nagle's delay.
    pub fn new() -> VerbClient {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .pool_timer(TokioTimer::new())
            .build(connector);
        VerbClient { client }
    }
}

const FTL_TOPIC: HeaderName = HeaderName::from_static(fact::TOPIC);
const FTL_SUBSCRIPTION: HeaderName = HeaderName::from_static(fact::SUBSCRIPTION);
const FTL_PARTITION: HeaderName = HeaderName::from_static(fact::PARTITION);
const FTL_OFFSET: HeaderName = HeaderName::from_static(fact::OFFSET);
const FTL_KEY: HeaderName = HeaderName::from_static(fact::KEY);
const FTL_KEY_ENCODING: HeaderName = HeaderName::from_static(fact::KEY_ENCODING);
const FTL_ATTEMPT: HeaderName = HeaderName::from_static(fact::ATTEMPT);
/// `FTL-Request-ID` (`kafka::headers::REQUEST_ID_HEADER`) as HTTP/1 sends
/// it: header names are case-insensitive, and hyper, like reqwest before
/// it, writes them in lower case.
const FTL_REQUEST_ID: HeaderName = HeaderName::from_static(fact::REQUEST_ID);

/// How much of a failed call's answer the message keeps.
const ANSWER_KEPT: usize = 300;

/// POSTs the event to `url`, within `timeout` from connecting to the end
/// of the answer's body.
pub(super) async fn call_http(
    url: &HttpUrl,
    timeout: Duration,
    http: &VerbClient,
    d: &Invocation<'_>,
) -> Result<Output, VerbFailure> {
    let failure = |message: String| VerbFailure {
        message,
        permanent: false,
        stack: None,
    };
    let request = request(url, d).map_err(|e| failure(format!("POST {url}: {e}")))?;
    let deadline = tokio::time::Instant::now() + timeout;
    let response = match tokio::time::timeout_at(deadline, http.client.request(request)).await {
        Err(_) => {
            return Err(failure(format!(
                "POST {url} timed out after {}",
                crate::units::format_duration(timeout)
            )))
        }
        Ok(Err(e)) if e.is_connect() => {
            return Err(failure(format!(
                "POST {url} failed: cannot connect ({}); is the verb's server listening there?",
                innermost(&e)
            )))
        }
        Ok(Err(e)) => {
            return Err(failure(format!(
                "POST {url} failed: {}",
                crate::text::one_line(&e)
            )))
        }
        Ok(Ok(response)) => response,
    };
    let status = response.status().as_u16();
    let succeeded = (200..300).contains(&status);
    // The answer's body is read to its end, so that its connection goes
    // back to the pool. A verb answers with its status: a body that is
    // slow, broken or long changes nothing (its connection is closed).
    let mut head = Vec::new();
    let keep = if succeeded { 0 } else { ANSWER_KEPT };
    let _ =
        tokio::time::timeout_at(deadline, read_body(response.into_body(), keep, &mut head)).await;
    if succeeded {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&head).trim().to_string();
    Err(VerbFailure {
        message: if text.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {text}")
        },
        permanent: super::http_status_permanent(status),
        stack: None,
    })
}

/// The last error of `e`'s chain: what the system said (`Connection
/// refused (os error 111)`), without the client's layers.
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut at = e;
    while let Some(source) = at.source() {
        at = source;
    }
    at.to_string()
}

/// The request: the body shared with the event (no copy), the headers the
/// contract names (docs/design.md, "Delivery").
fn request(url: &HttpUrl, d: &Invocation<'_>) -> Result<http::Request<Full<Bytes>>, String> {
    let (key, encoding) = key_for_verb(d.key);
    let mut request = http::Request::new(Full::new(d.body.clone()));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = url.uri().clone();
    let headers = request.headers_mut();
    headers.reserve(10);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(auth) = url.authorization() {
        headers.insert(http::header::AUTHORIZATION, auth.clone());
    }
    headers.insert(FTL_TOPIC, text_value("the topic", d.topic)?);
    headers.insert(
        FTL_SUBSCRIPTION,
        text_value("the subscription", d.subscription)?,
    );
    headers.insert(FTL_PARTITION, HeaderValue::from(d.partition));
    headers.insert(FTL_OFFSET, HeaderValue::from(d.offset));
    headers.insert(FTL_KEY, text_value("the key", &key)?);
    if let Some(e) = encoding {
        headers.insert(FTL_KEY_ENCODING, HeaderValue::from_static(e));
    }
    headers.insert(FTL_ATTEMPT, HeaderValue::from(d.attempt));
    headers.insert(
        FTL_REQUEST_ID,
        text_value("the request key", d.request_key)?,
    );
    Ok(request)
}

fn text_value(what: &str, text: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_str(text)
        .map_err(|_| format!("{what} `{text}` cannot be sent as an HTTP header value"))
}

/// The most of an answer's body that is read (and dropped) for its
/// connection to be used again.
const BODY_READ: usize = 1 << 20;

/// Reads `body` to its end (at most [`BODY_READ`] bytes), its first `keep`
/// bytes into `head`.
async fn read_body(mut body: hyper::body::Incoming, keep: usize, head: &mut Vec<u8>) {
    let mut read = 0;
    while let Some(Ok(frame)) = body.frame().await {
        let Some(data) = frame.data_ref() else {
            continue;
        };
        let room = keep.saturating_sub(head.len());
        head.extend_from_slice(&data[..data.len().min(room)]);
        read += data.len();
        if read > BODY_READ {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use hyper::body::Body;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    #[test]
    fn the_request_id_header_is_the_one_the_contract_names() {
        assert!(
            crate::kafka::headers::REQUEST_ID_HEADER.eq_ignore_ascii_case(FTL_REQUEST_ID.as_str())
        );
    }

    /// A verb server on 127.0.0.1 that answers every request on a
    /// connection with `answer` (or never, when it is empty), counting the
    /// connections it accepted.
    async fn server(answer: &'static str) -> (HttpUrl, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = HttpUrl::parse(&format!("http://{}/v", listener.local_addr().unwrap())).unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut conn, _) = listener.accept().await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        let Ok(n) = conn.read(&mut buf).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        seen.extend_from_slice(&buf[..n]);
                        // Each request here ends with its 2-byte body `{}`.
                        while let Some(end) = seen.windows(2).position(|w| w == b"{}") {
                            seen.drain(..end + 2);
                            if answer.is_empty() {
                                continue;
                            }
                            if conn.write_all(answer.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    /// An HTTP/1.1 answer for [`server`].
    fn answer(status: &str, body: &str) -> &'static str {
        let text = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        Box::leak(text.into_boxed_str())
    }

    fn event() -> Invocation<'static> {
        static BODY: Bytes = Bytes::from_static(b"{}");
        Invocation {
            topic: "m.t",
            subscription: "m.s",
            partition: 3,
            offset: 7,
            key: Some(b"k"),
            attempt: 1,
            body: &BODY,
            request_key: "req-ingress-t-1",
        }
    }

    #[test]
    fn the_request_carries_the_event_its_facts_and_the_urls_credentials() {
        let url = HttpUrl::parse("http://u:p@127.0.0.1:9/v?x=1").unwrap();
        let r = request(&url, &event()).unwrap();
        assert_eq!(r.method(), http::Method::POST);
        assert_eq!(r.uri().to_string(), "http://127.0.0.1:9/v?x=1");
        let got: Vec<(String, String)> = r
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .collect();
        let want = [
            ("content-type", "application/json"),
            ("authorization", "Basic dTpw"),
            ("ftl-topic", "m.t"),
            ("ftl-subscription", "m.s"),
            ("ftl-partition", "3"),
            ("ftl-offset", "7"),
            ("ftl-key", "k"),
            ("ftl-attempt", "1"),
            ("ftl-request-id", "req-ingress-t-1"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(r.body().size_hint().exact(), Some(2));
    }

    #[tokio::test]
    async fn calls_share_one_connection_when_the_verb_answers_with_a_body() {
        // A body larger than one read: the connection is kept only when the
        // answer is read to its end.
        let (url, accepted) = server(answer("200 OK", &"y".repeat(300_000))).await;
        let http = VerbClient::new();
        for _ in 0..5 {
            let got = call_http(&url, Duration::from_secs(5), &http, &event()).await;
            assert_eq!(got, Ok(None));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_call_says_the_status_and_the_start_of_the_answer() {
        let (url, _) = server(answer("422 Unprocessable", &"x".repeat(1000))).await;
        let err = call_http(&url, Duration::from_secs(5), &VerbClient::new(), &event())
            .await
            .unwrap_err();
        assert!(err.permanent, "{err:?}");
        assert_eq!(
            err.message,
            format!("HTTP 422: {}", "x".repeat(ANSWER_KEPT))
        );
        let (url, _) = server(answer("503 Busy", "")).await;
        let err = call_http(&url, Duration::from_secs(5), &VerbClient::new(), &event())
            .await
            .unwrap_err();
        assert!(!err.permanent, "{err:?}");
        assert_eq!(err.message, "HTTP 503");
    }

    #[tokio::test]
    async fn a_verb_that_never_answers_times_out_and_one_not_listening_is_retried() {
        let (url, _) = server("").await;
        let err = call_http(
            &url,
            Duration::from_millis(300),
            &VerbClient::new(),
            &event(),
        )
        .await
        .unwrap_err();
        assert!(!err.permanent);
        assert_eq!(err.message, format!("POST {url} timed out after 300ms"));

        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = HttpUrl::parse(&format!("http://{}/v", closed.local_addr().unwrap())).unwrap();
        drop(closed);
        let err = call_http(&url, Duration::from_secs(5), &VerbClient::new(), &event())
            .await
            .unwrap_err();
        assert!(!err.permanent);
        let said = format!("POST {url} failed: cannot connect (Connection refused (os error ");
        assert!(
            err.message.starts_with(&said)
                && err
                    .message
                    .ends_with(")); is the verb's server listening there?"),
            "{}",
            err.message
        );
    }
}
