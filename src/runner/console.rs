//! The console: a web page `ftl dev` serves at `/` on `runner.listen`, and
//! the read-only admin routes it needs beside the ones the commands use.
//! Its only sources are the hub's events (an SSE stream, sampled so a busy
//! runner never waits on a browser) and the same reports the commands build
//! (`inspect::status`, the tail reader, the dead-letter reader). The page,
//! its script and its styles are compiled in: nothing is fetched from
//! another host.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use serde::Deserialize;
use tokio::sync::{broadcast, mpsc};

use super::state::{runner_status, AdminState, Refusal};
use crate::admin::{self, EventBatch, RecordLine, ReplaySummary};
use crate::deadletter::DeadLetter;
use crate::events::{Event, Outcome};
use crate::kafka::tail::{past_end, Next, Tail, TailError, TailFrom};
use crate::kafka::{groups, ReplayFrom};
use crate::runner::deadletter;
use crate::schema::Lookup;

const INDEX: &str = include_str!("console/index.html");
const JS: &str = "text/javascript; charset=utf-8";
/// Every asset under `/console/`: name, content type, text.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("console/app.css"),
    ),
    ("app.js", JS, include_str!("console/app.js")),
    ("dom.js", JS, include_str!("console/dom.js")),
    ("overview.js", JS, include_str!("console/overview.js")),
    ("deliveries.js", JS, include_str!("console/deliveries.js")),
    ("topics.js", JS, include_str!("console/topics.js")),
    ("deadletters.js", JS, include_str!("console/deadletters.js")),
    ("publish.js", JS, include_str!("console/publish.js")),
    ("trace.js", JS, include_str!("console/trace.js")),
];

/// How often the event stream sends what happened.
const FLUSH: Duration = Duration::from_millis(200);
/// Successful deliveries sent per flush; the rest are counted as skipped.
/// At 10,000 events/s the page then gets 500 rows a second at most.
const OK_PER_FLUSH: usize = 100;
/// Every other event (failures, retries, state changes) per flush.
const OTHER_PER_FLUSH: usize = 400;
/// A `status` message (the snapshot) every this many flushes: 1 s.
const STATUS_EVERY: u32 = 5;
/// The most records the topic browser and the dead-letter view return.
const MAX_ROWS: u64 = 500;

pub fn router(state: AdminState) -> axum::Router {
    axum::Router::new()
        .route(
            "/",
            get(|| async { page("text/html; charset=utf-8", INDEX) }),
        )
        .route("/console/{file}", get(asset))
        .route(admin::EVENTS_PATH, get(events))
        .route(admin::RECENT_PATH, get(recent))
        .route(admin::OVERVIEW_PATH, get(overview))
        .route("/admin/topics/{topic}/events", get(browse))
        .route("/admin/subscriptions/{sub}/deadletters", get(deadletters))
        .route(
            "/admin/subscriptions/{sub}/replay-preview",
            get(replay_preview),
        )
        .with_state(state)
}

/// A compiled-in asset. The page may be framed by nobody and may load
/// nothing from elsewhere: a page on another site can neither show it in a
/// frame (and trick a click on "replay") nor inject a script.
fn page(content_type: &'static str, body: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, body)) => page(content_type, body),
        None => Refusal(
            StatusCode::NOT_FOUND,
            format!("the console has no file `{file}`"),
        )
        .into_response(),
    }
}

/// `GET /admin/events`: Server-Sent Events. `events` messages carry what
/// happened since the last one ([`EventBatch`]); `status` messages the
/// runner's snapshot, once a second and on connecting.
async fn events(State(state): State<AdminState>) -> impl IntoResponse {
    let (tx, rx) = mpsc::channel::<SseEvent>(16);
    let hub_rx = state.shared.hub.subscribe();
    tokio::spawn(follow(state, hub_rx, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let e = rx.recv().await?;
        Some((Ok::<_, Infallible>(e), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `GET /admin/recent`: what happened before the page was opened.
async fn recent(State(state): State<AdminState>) -> Json<admin::RecentEvents> {
    Json(admin::RecentEvents {
        events: state.shared.hub.recent(),
    })
}

fn sse<T: serde::Serialize>(name: &str, data: &T) -> SseEvent {
    SseEvent::default()
        .event(name)
        .data(serde_json::to_string(data).unwrap_or_default())
}

/// Reads the hub for one console until it goes away. Sending waits for a
/// slow page; meanwhile the hub's reader falls behind and what it misses
/// is counted as skipped. The runner never waits on a page.
async fn follow(
    state: AdminState,
    mut rx: broadcast::Receiver<Arc<Event>>,
    tx: mpsc::Sender<SseEvent>,
) {
    if tx
        .send(sse("status", &runner_status(&state)))
        .await
        .is_err()
    {
        return;
    }
    let mut tick = tokio::time::interval(FLUSH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sampler = Sampler::default();
    let mut ticks: u32 = 0;
    // Woken by the clock, not by each event: at 20,000 events/s a wake-up
    // per event costs the runner more than the page is worth. What came
    // meanwhile waits in the hub (16,384 at most; beyond, it is counted).
    loop {
        tokio::select! {
            _ = tx.closed() => return,
            _ = tick.tick() => {}
        }
        loop {
            match rx.try_recv() {
                Ok(e) => sampler.offer(e),
                Err(broadcast::error::TryRecvError::Lagged(n)) => sampler.skipped += n,
                Err(broadcast::error::TryRecvError::Empty) => break,
                Err(broadcast::error::TryRecvError::Closed) => return,
            }
        }
        if let Some(batch) = sampler.take() {
            if tx.send(sse("events", &batch)).await.is_err() {
                return;
            }
        }
        ticks = ticks.wrapping_add(1);
        if ticks % STATUS_EVERY == 0
            && tx
                .send(sse("status", &runner_status(&state)))
                .await
                .is_err()
        {
            return;
        }
    }
}

/// What one flush sends: every event up to a bound, successful deliveries
/// up to a smaller one (failures are what a developer looks for).
#[derive(Default)]
struct Sampler {
    events: Vec<Arc<Event>>,
    ok: usize,
    skipped: u64,
}

impl Sampler {
    fn offer(&mut self, e: Arc<Event>) {
        // The page reads a request's publishes through its trace; one line
        // per publish would crowd out the rest.
        if matches!(&*e, Event::Published(_)) {
            return;
        }
        let is_ok = matches!(&*e, Event::Delivery(d) if d.outcome == Outcome::Ok);
        let kept = if is_ok {
            self.ok < OK_PER_FLUSH
        } else {
            self.events.len() - self.ok < OTHER_PER_FLUSH
        };
        if !kept {
            self.skipped += 1;
            return;
        }
        if is_ok {
            self.ok += 1;
        }
        self.events.push(e);
    }

    fn take(&mut self) -> Option<EventBatch> {
        if self.events.is_empty() && self.skipped == 0 {
            return None;
        }
        let batch = EventBatch {
            events: std::mem::take(&mut self.events),
            skipped: self.skipped,
        };
        self.ok = 0;
        self.skipped = 0;
        Some(batch)
    }
}

fn failed(what: &str, e: &dyn std::error::Error) -> Refusal {
    Refusal(
        StatusCode::BAD_GATEWAY,
        format!("{what}: {}", crate::text::one_line(e)),
    )
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        Refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal task failed: {e}"),
        )
    })?
}

/// `GET /admin/overview`: `ftl pubsub status`'s report (topics with their
/// end offsets, each subscription's lag and pending dead letters).
async fn overview(State(state): State<AdminState>) -> Result<Response, Refusal> {
    let project = state.project();
    let conn = state.shared.connection.get();
    let live = vec![runner_status(&state)];
    let broker = state.broker_status(live[0].runner.broker.regained).await;
    let (shared, kept) = (state.shared.clone(), state.kept.clone());
    // What the overview keeps is for this project only.
    let project_id = Arc::as_ptr(&project) as usize;
    let report = blocking(move || {
        let reader = shared
            .reader
            .get(&conn)
            .map_err(|e| failed("cannot read the broker", &e))?;
        let mut known = {
            let mut k = kept.lock().unwrap_or_else(|p| p.into_inner());
            k.expire(std::time::Instant::now(), project_id);
            std::mem::take(&mut *k)
        };
        let report =
            crate::inspect::status_with(&conn, &reader, &project, broker, &live, &mut known);
        *kept.lock().unwrap_or_else(|p| p.into_inner()) = known;
        report.map_err(|e| failed("cannot read the broker", &e))
    })
    .await?;
    Ok(Json(report).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BrowseQuery {
    /// As `tail --from`: beginning, latest, an offset, -N, a time.
    from: Option<String>,
    partition: Option<i32>,
    limit: Option<u64>,
}

/// `GET /admin/topics/{topic}/events?from=&partition=&limit=`: what `ftl
/// pubsub tail --no-follow` prints, as a JSON list (at most 500).
async fn browse(
    State(state): State<AdminState>,
    Path(topic): Path<String>,
    Query(q): Query<BrowseQuery>,
) -> Result<Response, Refusal> {
    let project = state.project();
    let (name, ty) = match project.find_topic(&topic) {
        Lookup::Found(t) => (t.kafka_name(), t.ty.clone()),
        _ => {
            return Err(Refusal(
                StatusCode::NOT_FOUND,
                format!("unknown topic `{topic}`"),
            ))
        }
    };
    let text = q.from.as_deref().unwrap_or("-20");
    let from = TailFrom::parse(text, SystemTime::now())
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, format!("bad from `{text}`: {e}")))?;
    let limit = q.limit.unwrap_or(100).min(MAX_ROWS);
    let partitions: Vec<i32> = q.partition.into_iter().collect();
    let conn = state.shared.connection.get();
    let lines = blocking(move || {
        let tail = Tail::open(&conn, &name, from, &partitions).map_err(|e| match e {
            TailError::NoPartition { .. } => Refusal(StatusCode::NOT_FOUND, e.to_string()),
            TailError::Kafka(k) => failed("cannot read the topic", &k),
        })?;
        let mut merged = tail.merged();
        let mut lines = Vec::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while (lines.len() as u64) < limit && std::time::Instant::now() < deadline {
            match merged.next(Duration::from_millis(200)) {
                Next::Record(r) => lines.push(RecordLine::typed(r, &ty)),
                Next::AtEnd => break,
                Next::Idle => {}
                Next::PastEnd { from, ends } => {
                    return Err(Refusal(StatusCode::BAD_REQUEST, past_end(from, &ends)))
                }
            }
        }
        Ok(lines)
    })
    .await?;
    Ok(Json(lines).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadletterQuery {
    /// Replayed ones too.
    #[serde(default)]
    all: bool,
}

/// `GET /admin/subscriptions/{sub}/deadletters?all=`: what `ftl pubsub
/// deadletters` lists (at most 500).
async fn deadletters(
    State(state): State<AdminState>,
    Path(sub): Path<String>,
    Query(q): Query<DeadletterQuery>,
) -> Result<Response, Refusal> {
    let sub = state.subscription(&sub)?;
    if !sub.deadletter {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            format!(
                "subscription `{}` has no dead-letter topic (add `deadletter: true` to it)",
                sub.qualified()
            ),
        ));
    }
    // Each dead letter's event against its source topic's type.
    let ty = state
        .project()
        .topic(&sub.topic.0, &sub.topic.1)
        .map(|t| t.ty.clone())
        .unwrap_or_default();
    let items: Vec<DeadLetter> =
        deadletter::read_async(&state.shared.connection.get(), &sub, q.all, Some(MAX_ROWS))
            .await
            .map(|items| items.into_iter().map(|(d, _)| d).collect())
            .map_err(|e| failed("cannot read the dead letters", &e))?;
    let items: Vec<serde_json::Value> = items
        .iter()
        .map(|d| {
            let mut v = serde_json::to_value(d).unwrap_or_default();
            if let Some(m) = (!ty.is_any()).then(|| ty.check(&d.event).err()).flatten() {
                v["invalid"] = m.to_string().into();
            }
            v
        })
        .collect();
    Ok(Json(items).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewQuery {
    /// `beginning`, `latest`, or milliseconds since the epoch.
    from: String,
}

/// `GET /admin/subscriptions/{sub}/replay-preview?from=`: where a replay
/// would move each partition and how many events that hands to the verb
/// again; nothing moves.
async fn replay_preview(
    State(state): State<AdminState>,
    Path(sub): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> Result<Response, Refusal> {
    let sub = state.subscription(&sub)?;
    let from = match q.from.as_str() {
        "beginning" => ReplayFrom::Beginning,
        "latest" => ReplayFrom::Latest,
        t => ReplayFrom::Time(t.parse().map_err(|_| {
            Refusal(
                StatusCode::BAD_REQUEST,
                format!("bad from `{t}`: beginning, latest or milliseconds since the epoch"),
            )
        })?),
    };
    if let Some(why) = from.problem() {
        return Err(Refusal(StatusCode::BAD_REQUEST, format!("bad from: {why}")));
    }
    let shared = state.shared.clone();
    let topic = sub.topic_kafka_name();
    let summary = blocking(move || {
        let reader = shared
            .reader
            .get(&shared.connection.get())
            .map_err(|e| failed("cannot read the topic", &e))?;
        let moves = crate::kafka::partitions_of(&**reader, &topic)
            .and_then(|parts| groups::replay_targets(&**reader, &topic, &parts, from));
        let partitions = moves.map_err(|e| failed("cannot read the topic", &e))?;
        Ok(ReplaySummary {
            redelivered: partitions.iter().map(|m| m.redelivered()).sum(),
            partitions,
        })
    })
    .await?;
    Ok(Json(summary).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(outcome: Outcome) -> Arc<Event> {
        Arc::new(crate::events::delivery(outcome))
    }

    #[test]
    fn a_flush_keeps_every_failure_and_samples_successes() {
        let mut s = Sampler::default();
        for _ in 0..OK_PER_FLUSH + 50 {
            s.offer(delivery(Outcome::Ok));
        }
        for _ in 0..3 {
            s.offer(delivery(Outcome::DeadLettered));
        }
        s.offer(Arc::new(Event::Stopping));
        let batch = s.take().expect("a batch");
        assert_eq!(batch.events.len(), OK_PER_FLUSH + 4);
        assert_eq!(batch.skipped, 50);
        // The next flush starts afresh; an empty one sends nothing.
        assert!(s.take().is_none());
        for _ in 0..OTHER_PER_FLUSH + 1 {
            s.offer(delivery(Outcome::Retry));
        }
        let batch = s.take().expect("a batch");
        assert_eq!(batch.events.len(), OTHER_PER_FLUSH);
        assert_eq!(batch.skipped, 1);
    }
}
