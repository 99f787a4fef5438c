//! `GET /admin/trace?key=K` (or `?event=TOPIC@PARTITION:OFFSET`): one
//! request's tree from the runner's history, for `ftl pubsub trace` and the
//! console.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::state::{AdminState, Refusal};
use crate::trace::{At, Trace};

#[derive(Debug, serde::Deserialize)]
pub(super) struct TraceQuery {
    key: Option<String>,
    event: Option<String>,
}

pub(super) async fn trace(
    State(state): State<AdminState>,
    Query(q): Query<TraceQuery>,
) -> Result<Response, Refusal> {
    let key = match (q.key, q.event) {
        (Some(k), None) => k,
        (None, Some(e)) => {
            let at = At::parse(&e).ok_or_else(|| {
                Refusal(
                    StatusCode::BAD_REQUEST,
                    format!("`{e}` is not an event: write TOPIC@PARTITION:OFFSET"),
                )
            })?;
            match state.shared.hub.request_of(&at) {
                Some(k) => k,
                None => key_on_broker(&state, at).await?,
            }
        }
        _ => {
            return Err(Refusal(
                StatusCode::BAD_REQUEST,
                "give one of `key` (a request key) or `event` (TOPIC@PARTITION:OFFSET)".into(),
            ))
        }
    };
    Ok(Json(trace_of(&state, &key)).into_response())
}

/// The tree of request `key`, with the project's subscriptions of each
/// topic (those that have not begun show as pending).
pub(super) fn trace_of(state: &AdminState, key: &str) -> Trace {
    let project = state.project();
    let subscribers = |topic: &str| -> Vec<(String, String)> {
        project
            .subscriptions()
            .filter(|s| s.topic_kafka_name() == topic)
            .map(|s| (s.qualified(), s.verb.clone()))
            .collect()
    };
    state.shared.hub.trace(key, &subscribers)
}

/// The request key of an event the history does not hold, read from the
/// broker (its `ftl.request_key`, or the key the runner gives an event
/// without one).
async fn key_on_broker(state: &AdminState, at: At) -> Result<String, Refusal> {
    let connection = state.shared.connection.get();
    let wanted = at.clone();
    let read = tokio::task::spawn_blocking(move || {
        let reader = connection.reader("trace")?;
        let msgs = crate::kafka::read_range(
            &reader,
            &wanted.topic,
            &[(wanted.partition, wanted.offset, wanted.offset + 1)],
            Some(1),
        );
        crate::kafka::close_consumer(reader);
        msgs
    })
    .await
    .map_err(|e| Refusal(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    .map_err(|e| {
        Refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read {at}: {}", crate::text::one_line(&e)),
        )
    })?;
    let Some(msg) = read.first() else {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            format!("there is no event at {at} on the broker"),
        ));
    };
    use rdkafka::message::Message;
    Ok(crate::kafka::headers::read(msg.headers())
        .request_key
        .unwrap_or_else(|| {
            crate::kafka::headers::key_for_event(&at.topic, at.partition, at.offset)
        }))
}
