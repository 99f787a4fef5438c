//! Publishing (docs/design.md, "Publishing"): the one path every event takes into a topic, used
//! by `ftl pubsub publish`, the runner's gRPC `Publisher.Publish` and
//! `POST /topics/<module>.<topic>`. The body must be JSON; an empty key is
//! taken from the topic's `key` pointer; the call returns once the broker
//! acknowledged (acks=all).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;
use tokio::sync::watch;

use crate::kafka::headers::{check_request_key, BadRequestKey, Stamp, REQUEST_ID_HEADER};
use crate::schema::{Lookup, Project, Topic};

/// How to send a request key that was refused.
pub const REQUEST_KEY_HINT: &str =
    "send the key of the request being handled as it came (FTL-Request-ID), or none for a new request";

mod batch;
mod grpc;
mod unary;

pub use batch::{check_events, publish_all, BatchError};

pub mod proto {
    tonic::include_proto!("ftl.v1");
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("unknown topic `{name}`")]
    UnknownTopic { name: String, known: Vec<String> },
    #[error("`{name}` matches several topics: {}", candidates.join(", "))]
    AmbiguousTopic {
        name: String,
        candidates: Vec<String>,
    },
    #[error("the event for `{topic}` is not JSON")]
    NotJson {
        topic: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the event for `{topic}` is not a {ty}: {mismatch}")]
    Mismatch {
        topic: String,
        ty: String,
        mismatch: crate::types::Mismatch,
    },
    #[error(
        "the event for `{topic}` has no partition key: nothing at `{pointer}` and no key given"
    )]
    MissingKey { topic: String, pointer: String },
    #[error("the event for `{topic}` has a {found} at `{pointer}`; a partition key must be a string, number or boolean")]
    BadKey {
        topic: String,
        pointer: String,
        found: &'static str,
    },
    #[error("the event for `{topic}` is {size} bytes; at most {limit} fit in one Kafka message")]
    TooLarge {
        topic: String,
        size: usize,
        limit: usize,
    },
    #[error("the broker did not acknowledge the event for `{topic}`")]
    Broker {
        topic: String,
        #[source]
        source: rdkafka::error::KafkaError,
    },
    #[error("the broker was away for {}s, the event for `{topic}` was not published", waited.as_secs())]
    Unavailable { topic: String, waited: Duration },
}

/// How long a publish waits for a broker that went away to come back.
const PUBLISH_WAIT: Duration = Duration::from_secs(30);

impl PublishError {
    pub fn hint(&self) -> Option<String> {
        match self {
            PublishError::UnknownTopic { known, .. } if known.is_empty() => {
                Some("the project declares no topics".into())
            }
            PublishError::UnknownTopic { known, .. } => {
                Some(format!("known topics: {}", known.join(", ")))
            }
            PublishError::AmbiguousTopic { .. } => Some("write it as module.topic".into()),
            PublishError::NotJson { .. } => {
                Some("events are JSON documents, e.g. '{\"id\": 1}'".into())
            }
            PublishError::Mismatch { .. } => Some(
                "fix the event, or its type in the module's ftl.yaml (`ftl schema` prints the types)".into(),
            ),
            PublishError::MissingKey { pointer, .. } => Some(format!(
                "add a value at `{pointer}` to the event, or pass a key (--key K, or ?key=K)"
            )),
            PublishError::BadKey { .. } => {
                Some("pass a key explicitly (--key K, or ?key=K)".into())
            }
            PublishError::TooLarge { .. } => Some(
                "send a reference to the data (a URL, an id) instead of the data itself, or split the event".into(),
            ),
            PublishError::Broker { .. } | PublishError::Unavailable { .. } => {
                Some("is the broker running? `ftl pubsub status` tells".into())
            }
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            PublishError::UnknownTopic { .. } => StatusCode::NOT_FOUND,
            PublishError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            PublishError::Broker { .. } | PublishError::Unavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl PublishError {
    /// Bad input (exit code 2), or the broker failing us (1).
    pub fn is_usage(&self) -> bool {
        !matches!(
            self,
            PublishError::Broker { .. } | PublishError::Unavailable { .. }
        )
    }
}

/// Finds a topic by `module.topic` or unique bare name.
pub fn find_topic<'p>(project: &'p Project, name: &str) -> Result<&'p Topic, PublishError> {
    match project.find_topic(name) {
        Lookup::Found(t) => Ok(t),
        Lookup::Unknown(known) => Err(PublishError::UnknownTopic {
            name: name.to_string(),
            known,
        }),
        Lookup::Ambiguous(candidates) => Err(PublishError::AmbiguousTopic {
            name: name.to_string(),
            candidates,
        }),
    }
}

/// The partition key of an event: the given key when not empty, else the
/// value at the topic's `key` pointer. A single-partition topic may go
/// without one.
pub fn event_key(
    topic: &Topic,
    event: &Value,
    key: Option<&str>,
) -> Result<Option<String>, PublishError> {
    if let Some(k) = key.filter(|k| !k.is_empty()) {
        return Ok(Some(k.to_string()));
    }
    let Some(pointer) = &topic.key else {
        return Ok(None);
    };
    let missing = || PublishError::MissingKey {
        topic: topic.kafka_name(),
        pointer: pointer.clone(),
    };
    match event.pointer(pointer) {
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(Value::Null) | None if topic.partitions == 1 => Ok(None),
        Some(Value::Null) | None => Err(missing()),
        Some(other) => Err(PublishError::BadKey {
            topic: topic.kafka_name(),
            pointer: pointer.clone(),
            found: if other.is_array() { "list" } else { "object" },
        }),
    }
}

/// The event against the topic's type (nothing to do for `event: Any`).
pub fn check_type(topic: &Topic, event: &Value) -> Result<(), PublishError> {
    if topic.ty.is_any() {
        return Ok(());
    }
    topic
        .ty
        .check(event)
        .map_err(|mismatch| PublishError::Mismatch {
            topic: topic.kafka_name(),
            ty: topic.event.clone(),
            mismatch,
        })
}

/// Where the broker stored an event.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Published {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<String>,
    /// `ftl.request_key`: the caller's, or a new one.
    pub request_key: String,
    /// `ftl.created_at`.
    pub created_at: String,
}

/// The largest event (body and key) `ftl` publishes: the Kafka client's
/// `message.max.bytes` (1,000,000) less room for the record's framing and
/// headers. Larger ones are refused before anything is sent.
pub const MAX_EVENT_BYTES: usize = 1_000_000 - 4_096;

fn check_size(topic: &Topic, body: &[u8], key: Option<&str>) -> Result<(), PublishError> {
    let size = body.len() + key.map_or(0, str::len);
    if size > MAX_EVENT_BYTES {
        return Err(PublishError::TooLarge {
            topic: topic.kafka_name(),
            size,
            limit: MAX_EVENT_BYTES,
        });
    }
    Ok(())
}

/// Validates and publishes one event with FTL's headers from `stamp`;
/// returns after the broker acknowledged.
pub async fn publish(
    producer: &FutureProducer,
    topic: &Topic,
    body: &[u8],
    key: Option<&str>,
    stamp: &Stamp,
) -> Result<Published, PublishError> {
    let event: Value = serde_json::from_slice(body).map_err(|source| PublishError::NotJson {
        topic: topic.kafka_name(),
        source,
    })?;
    check_type(topic, &event)?;
    let key = event_key(topic, &event, key)?;
    check_size(topic, body, key.as_deref())?;
    send(producer, topic, body, key, stamp).await
}

/// Publishes one event that was checked already, with its partition key
/// and FTL's headers.
async fn send(
    producer: &FutureProducer,
    topic: &Topic,
    body: &[u8],
    key: Option<String>,
    stamp: &Stamp,
) -> Result<Published, PublishError> {
    let name = topic.kafka_name();
    let mut record = FutureRecord::<str, [u8]>::to(&name)
        .payload(body)
        .headers(stamp.headers());
    if let Some(k) = &key {
        record = record.key(k.as_str());
    }
    let delivery = producer
        .send(record, Duration::from_secs(30))
        .await
        .map_err(|(source, _)| match source.rdkafka_error_code() {
            // The broker's own limit may be lower than the client's.
            Some(rdkafka::types::RDKafkaErrorCode::MessageSizeTooLarge) => PublishError::TooLarge {
                topic: name.clone(),
                size: body.len(),
                limit: MAX_EVENT_BYTES.min(body.len().saturating_sub(1)),
            },
            _ => PublishError::Broker {
                topic: name.clone(),
                source,
            },
        })?;
    Ok(Published {
        topic: name,
        partition: delivery.partition,
        offset: delivery.offset,
        key,
        request_key: stamp.request_key.clone(),
        created_at: crate::kafka::headers::format_time(stamp.created_at),
    })
}

/// The Publisher as served by the runner: the current project (hot reloads
/// replace it) and the shared producer.
#[derive(Clone)]
pub struct Publisher {
    pub project: watch::Receiver<Arc<Project>>,
    pub producer: Arc<crate::kafka::RenewableProducer>,
    /// Where each publish is told (request traces, OpenTelemetry).
    pub hub: crate::hub::Hub,
}

/// Who published, as `ftl.published_by` says.
pub const BY_CLI: &str = "cli";
pub const BY_HTTP: &str = "http";
pub const BY_GRPC: &str = "grpc";

impl Publisher {
    fn current(&self) -> Arc<Project> {
        self.project.borrow().clone()
    }

    /// Publishes to the topic named `name`; `request_key` is the caller's
    /// (checked already), `by` says who called.
    async fn publish_named(
        &self,
        name: &str,
        body: &[u8],
        key: Option<&str>,
        request_key: Option<String>,
        by: &str,
    ) -> Result<Published, PublishError> {
        let stamp = Stamp::now(request_key, by, name);
        let result = self.publish_stamped(name, body, key, &stamp).await;
        match &result {
            Ok(p) => self
                .hub
                .emit(crate::events::Event::Published(crate::events::Published {
                    topic: p.topic.clone(),
                    partition: p.partition,
                    offset: p.offset,
                    key: p.key.clone(),
                    request_key: p.request_key.clone(),
                    created_at: p.created_at.clone(),
                    by: by.to_string(),
                    failed: None,
                })),
            Err(e) => self.hub.emit(crate::events::Event::PublishFailed {
                topic: name.to_string(),
                request_key: stamp.request_key.clone(),
                by: by.to_string(),
                error: crate::text::one_line(e),
            }),
        }
        result
    }

    async fn publish_stamped(
        &self,
        name: &str,
        body: &[u8],
        key: Option<&str>,
        stamp: &Stamp,
    ) -> Result<Published, PublishError> {
        let project = self.current();
        let topic = find_topic(&project, name)?.clone();
        // While the broker is away or its topics are being created again,
        // the event waits (within the publish timeout) instead of failing.
        let started = tokio::time::Instant::now();
        let unavailable = || PublishError::Unavailable {
            topic: topic.kafka_name(),
            waited: PUBLISH_WAIT,
        };
        if !self.producer.wait_available(PUBLISH_WAIT).await {
            return Err(unavailable());
        }
        let (producer, generation) = self.producer.get_with_generation();
        let result = publish(&producer, &topic, body, key, stamp).await;
        if !matches!(result, Err(PublishError::Broker { .. })) {
            return result;
        }
        // The broker went away while it was sent: its producer was closed
        // (and purged). The event waits for the broker, within what is left
        // of the publish wait, and is sent on the new producer.
        if self.producer.replaced_since(generation) {
            let left = PUBLISH_WAIT.saturating_sub(started.elapsed());
            if !self.producer.wait_available(left).await {
                return Err(unavailable());
            }
            return publish(&self.producer.get(), &topic, body, key, stamp).await;
        }
        // A fatal producer error is recovered from only by a new producer
        // (librdkafka's rule); the event is sent once more with it.
        if self.producer.renew_if_fatal() {
            return publish(&self.producer.get(), &topic, body, key, stamp).await;
        }
        result
    }

    /// gRPC `ftl.v1.Publisher` and `POST /topics/{topic}` on one router.
    pub fn router(self) -> axum::Router {
        // A request larger than any event can be is refused with a status
        // (RESOURCE_EXHAUSTED-like OUT_OF_RANGE from tonic), not read whole.
        let grpc = tonic::service::Routes::new(
            proto::publisher_server::PublisherServer::new(self.clone())
                .max_decoding_message_size(MAX_EVENT_BYTES + 64 * 1024),
        )
        .add_service(
            crate::ftl_proto::pubsub::v1::publish_service_server::PublishServiceServer::new(
                self.clone(),
            )
            .max_decoding_message_size(MAX_EVENT_BYTES + 64 * 1024),
        )
        .into_axum_router()
        .layer(axum::middleware::from_fn(|req, next| {
            unary::one_message(MAX_EVENT_BYTES + 64 * 1024, req, next)
        }));
        let http = axum::Router::new()
            .route("/topics/{topic}", post(http_publish))
            .with_state(self);
        grpc.merge(http)
    }
}

/// The `key` of a query string, percent-decoded. A key that is not UTF-8
/// is refused rather than changed (a lossy decode would store another key).
pub(crate) fn query_key(query: Option<&str>) -> Result<Option<String>, String> {
    let Some(query) = query else {
        return Ok(None);
    };
    let mut found = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        // A parameter it does not know is refused, never ignored: `?kye=a`
        // would otherwise publish without the key the caller meant.
        if name != "key" {
            return Err(format!(
                "unknown query parameter `{name}`: the only one is `key`"
            ));
        }
        if found.is_some() {
            return Err("`key` is given twice".to_string());
        }
        // percent-encoding leaves a `%` without two hex digits as it is;
        // such a value is refused instead.
        let malformed = value.match_indices('%').any(|(i, _)| {
            !value
                .get(i + 1..i + 3)
                .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
        });
        if malformed {
            return Err(format!("`{value}` is not a valid query value"));
        }
        // `+` is a space in a query; an encoded plus is `%2B`.
        let out: Vec<u8> = percent_encoding::percent_decode_str(&value.replace('+', " ")).collect();
        found = Some(String::from_utf8(out).map_err(|_| {
            format!("the key `{value}` is not UTF-8 text; keys are stored as text")
        })?);
    }
    Ok(found)
}

async fn http_publish(
    State(publisher): State<Publisher>,
    Path(topic): Path<String>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let request_key = match headers.get(REQUEST_ID_HEADER) {
        None => None,
        Some(v) => match v
            .to_str()
            .map_err(|_| BadRequestKey::NotVisible(String::from_utf8_lossy(v.as_bytes()).into()))
            .and_then(|k| check_request_key(k).map(|()| k.to_string()))
        {
            Ok(k) => Some(k),
            Err(e) => {
                let body = serde_json::json!({"error": format!("{REQUEST_ID_HEADER}: {e}"), "hint": REQUEST_KEY_HINT});
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
        },
    };
    let key = match query_key(query.as_deref()) {
        Ok(k) => k,
        Err(message) => {
            let body = serde_json::json!({"error": message, "hint": "the only query parameter is `key`: UTF-8 text, percent-encoded"});
            return (StatusCode::BAD_REQUEST, Json(body)).into_response();
        }
    };
    match publisher
        .publish_named(&topic, &body, key.as_deref(), request_key, BY_HTTP)
        .await
    {
        Ok(p) => (StatusCode::OK, Json(serde_json::json!(p))).into_response(),
        Err(e) => {
            let status = e.status();
            let body = serde_json::json!({"error": crate::text::one_line(&e), "hint": e.hint()});
            (status, Json(body)).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(partitions: i32, key: Option<&str>) -> Topic {
        Topic {
            module: "pizza".into(),
            name: "orders".into(),
            event: "pizza.Order".into(),
            export: false,
            partitions,
            key: key.map(String::from),
            deadletter_of: None,
            ty: Default::default(),
        }
    }

    #[test]
    fn query_keys_are_decoded_and_non_utf8_keys_refused() {
        assert_eq!(query_key(None), Ok(None));
        assert_eq!(query_key(Some("")), Ok(None));
        assert_eq!(
            query_key(Some("kye=a")),
            Err("unknown query parameter `kye`: the only one is `key`".into())
        );
        assert!(query_key(Some("key=a&key=b")).is_err());
        assert_eq!(query_key(Some("key=u%201+x")), Ok(Some("u 1 x".into())));
        assert_eq!(query_key(Some("key=%C3%A9")), Ok(Some("é".into())));
        assert!(query_key(Some("key=%ff%fe"))
            .unwrap_err()
            .contains("not UTF-8"));
        assert!(query_key(Some("key=%f")).is_err());
    }

    #[test]
    fn key_comes_from_argument_then_pointer() {
        let t = topic(8, Some("/user/id"));
        let ev = serde_json::json!({"user": {"id": 42}});
        assert_eq!(event_key(&t, &ev, Some("k")).unwrap(), Some("k".into()));
        assert_eq!(event_key(&t, &ev, Some("")).unwrap(), Some("42".into()));
        assert!(matches!(
            event_key(&t, &serde_json::json!({}), None),
            Err(PublishError::MissingKey { .. })
        ));
        assert!(matches!(
            event_key(&t, &serde_json::json!({"user": {"id": [1]}}), None),
            Err(PublishError::BadKey { .. })
        ));
        assert_eq!(
            event_key(&topic(1, Some("/x")), &serde_json::json!({}), None).unwrap(),
            None
        );
        assert_eq!(event_key(&topic(1, None), &ev, None).unwrap(), None);
    }
}
