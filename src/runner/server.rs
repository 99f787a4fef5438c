//! What the runner serves on `runner.listen`: the Publisher (gRPC + HTTP)
//! and the admin API, whose wire types live in `crate::admin`. A second
//! runner of the same project finds the address taken: it still consumes
//! (sharing the groups), and the first runner keeps serving.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::consumer::Control;
use super::deadletter;
use super::state::{error, runner_status, AdminState, Refusal};
use crate::admin::{self, DeadletterProgress, DeadletterReplayRequest, ReplayRequest};
use crate::events::Event;
use crate::publisher::Publisher;

pub struct Server {
    pub address: SocketAddr,
    cancel: CancellationToken,
    handle: JoinHandle<()>,
}

impl Server {
    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(2), self.handle).await;
    }
}

pub async fn serve(
    listen: SocketAddr,
    publisher: Publisher,
    mut admin: AdminState,
) -> Option<Server> {
    let hub = admin.shared.hub.clone();
    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(l) => l,
        Err(e) => {
            hub.emit(Event::ListenFailed {
                address: listen.to_string(),
                reason: e.to_string(),
            });
            return None;
        }
    };
    let address = listener.local_addr().unwrap_or(listen);
    admin.listen = Some(address);
    let routes = axum::Router::new()
        .route(admin::STATUS_PATH, get(status))
        .route(crate::trace::TRACE_PATH, get(super::trace_api::trace))
        .route(admin::PROJECT_PATH, get(running_project))
        .route("/admin/subscriptions/{sub}/replay", post(replay_route))
        .route(
            "/admin/subscriptions/{sub}/replay-deadletter",
            post(replay_deadletter_route),
        )
        .with_state(admin.clone());
    let app = publisher
        .router()
        .merge(routes)
        .merge(super::console::router(admin))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(address, guard));
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let handle = tokio::spawn(super::listen::serve(listener, app, c));
    hub.emit(Event::Listening {
        address: address.to_string(),
    });
    Some(Server {
        address,
        cancel,
        handle,
    })
}

fn is_grpc(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// `GET /admin/project`: the modules this runner runs now.
async fn running_project(State(state): State<AdminState>) -> Json<admin::RunningProject> {
    Json(admin::RunningProject {
        modules: state.project().modules.clone(),
    })
}

/// What is not a route: gRPC's UNIMPLEMENTED for gRPC requests, else 404.
async fn not_found(req: axum::extract::Request) -> Response {
    if is_grpc(req.headers()) {
        return tonic::Status::unimplemented(format!("no gRPC method {}", req.uri().path()))
            .into_http();
    }
    error(
        StatusCode::NOT_FOUND,
        format!(
            "nothing is served at {} {}: the runner serves the console at /, POST /topics/<module>.<topic>, gRPC ftl.v1.Publisher and /admin/...",
            req.method(),
            req.uri().path()
        ),
    )
}

/// Only this machine's own tools may talk to the runner, as dev servers do
/// it: a `Host` of 127.0.0.1, localhost or [::1] with our port (a DNS-
/// rebinding page has another), no foreign `Origin` (a page the developer
/// visits), and state changes as JSON (a cross-site form or `text/plain`
/// POST needs no preflight). gRPC requests are checked for Host and Origin.
async fn guard(
    State(address): State<SocketAddr>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let port = address.port();
    // Two of them: which one a check reads is a guess; refuse.
    for name in [axum::http::header::HOST, axum::http::header::ORIGIN] {
        if req.headers().get_all(&name).iter().nth(1).is_some() {
            return error(
                StatusCode::BAD_REQUEST,
                format!("refused: the request has more than one `{name}` header"),
            );
        }
    }
    // Refused before a byte of it is read, and the connection closed: the
    // rest of the body is not worth reading.
    let length = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > MAX_BODY as u64) {
        let mut r = error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "refused: a body of {} bytes; the runner takes at most {MAX_BODY} bytes (an event is at most {} bytes)",
                length.unwrap_or_default(),
                crate::publisher::MAX_EVENT_BYTES
            ),
        );
        r.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return r;
    }
    let local = |authority: &str| {
        ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .any(|h| authority == format!("{h}:{port}"))
    };
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    if !host.as_deref().is_some_and(local) {
        return error(
            StatusCode::FORBIDDEN,
            format!(
                "refused: Host `{}` is not this runner (127.0.0.1:{port}, localhost:{port} or [::1]:{port})",
                host.unwrap_or_default()
            ),
        );
    }
    if let Some(origin) = req.headers().get(axum::http::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default();
        let own = origin.strip_prefix("http://").is_some_and(local);
        if !own {
            return error(
                StatusCode::FORBIDDEN,
                format!("refused: requests from the web page `{origin}` are not served"),
            );
        }
    }
    let changes_state = !matches!(
        *req.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if changes_state && !is_grpc(req.headers()) {
        let json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !json {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "state changes need `Content-Type: application/json` (curl: -H 'Content-Type: application/json')".into(),
            );
        }
    }
    next.run(req).await
}

/// The largest request body the runner reads (axum's own default limit
/// for bodies read whole).
const MAX_BODY: usize = 2 * 1024 * 1024;

/// A JSON request body; anything else is refused with a JSON error.
fn body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(bytes)
        .map_err(|e| Refusal(StatusCode::BAD_REQUEST, format!("bad request body: {e}")))
}

async fn status(State(state): State<AdminState>) -> Response {
    Json(runner_status(&state)).into_response()
}

async fn replay_route(
    State(state): State<AdminState>,
    Path(sub): Path<String>,
    bytes: Bytes,
) -> Result<Response, Refusal> {
    let request: ReplayRequest = body(&bytes)?;
    if let Some(why) = request.from.problem() {
        return Err(Refusal(StatusCode::BAD_REQUEST, format!("bad from: {why}")));
    }
    let name = state.subscription(&sub)?.qualified();
    let Some(tx) = state.routes.borrow().get(&name).cloned() else {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            format!("subscription `{name}` is not running"),
        ));
    };
    let (reply, rx) = oneshot::channel();
    let control = Control::Replay {
        from: request.from,
        reply,
    };
    if tx.send(control).await.is_err() {
        return Err(Refusal(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("subscription `{name}` is stopping"),
        ));
    }
    match tokio::time::timeout(Duration::from_secs(60), rx).await {
        Ok(Ok(Ok(summary))) => Ok(Json(summary).into_response()),
        Ok(Ok(Err(e))) => Err(Refusal(StatusCode::CONFLICT, crate::text::one_line(&e))),
        _ => Err(Refusal(
            StatusCode::GATEWAY_TIMEOUT,
            format!("subscription `{name}` did not answer"),
        )),
    }
}

/// Hands dead letters back to the verb with the runner's connection,
/// producer and HTTP client, streaming progress as NDJSON.
async fn replay_deadletter_route(
    State(state): State<AdminState>,
    Path(sub): Path<String>,
    bytes: Bytes,
) -> Result<Response, Refusal> {
    let request: DeadletterReplayRequest = body(&bytes)?;
    let sub = state.subscription(&sub)?;
    let project = state.project();
    let Some(verb) = project.verb(&sub.module, &sub.verb).cloned() else {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            format!("unknown verb `{}`", sub.verb),
        ));
    };
    let module_dir = project.module_dir(&sub.module);
    let pick = match request.only {
        None => deadletter::Pick::Pending {
            limit: request.limit,
        },
        Some(at) => {
            // Refused up front with the reason; the replay itself checks again.
            let pending = deadletter::read_async(&state.shared.connection.get(), &sub, false, None)
                .await
                .map_err(|e| {
                    Refusal(
                        StatusCode::BAD_GATEWAY,
                        format!(
                            "cannot read the dead letters: {}",
                            crate::text::one_line(&e)
                        ),
                    )
                })?;
            let positions: Vec<crate::deadletter::At> =
                pending.iter().map(|(d, _)| d.at()).collect();
            crate::deadletter::next_in_partition(&positions, at)
                .map_err(|why| Refusal(StatusCode::CONFLICT, why.to_string()))?;
            deadletter::Pick::Next(at)
        }
    };
    let (tx, rx) = mpsc::channel::<DeadletterProgress>(64);
    tokio::spawn(async move {
        let shared = &state.shared;
        // The overview reads the dead letters' cursor again.
        let forget = || {
            state
                .kept
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .forget_cursors()
        };
        let connection = shared.connection.get();
        let target = deadletter::ReplayTarget {
            connection: &connection,
            producer: &shared.producer,
            http: &shared.http,
            sub: &sub,
            verb: &verb,
            module_dir: &module_dir,
        };
        let (items_tx, mut items) = mpsc::unbounded_channel();
        let job = deadletter::replay_deadletters(&target, pick, request.dry_run, |r| {
            let _ = items_tx.send(r.clone());
        });
        tokio::pin!(job);
        let mut done = 0;
        let mut heartbeat = tokio::time::interval(admin::HEARTBEAT);
        heartbeat.tick().await;
        let outcome = loop {
            tokio::select! {
                r = &mut job => break r,
                Some(item) = items.recv() => {
                    done += 1;
                    forget();
                    let _ = tx.send(DeadletterProgress::Item { replayed: Box::new(item) }).await;
                }
                _ = heartbeat.tick() => {
                    let _ = tx.send(DeadletterProgress::Working { done }).await;
                }
            }
        };
        while let Ok(item) = items.try_recv() {
            let _ = tx
                .send(DeadletterProgress::Item {
                    replayed: Box::new(item),
                })
                .await;
        }
        forget();
        let last = match outcome {
            Ok(report) => {
                // A dry run changed nothing: nothing is announced.
                if !request.dry_run {
                    shared.hub.emit(report.event(&sub.qualified()));
                }
                DeadletterProgress::Done
            }
            Err(e) => DeadletterProgress::Failed {
                error: crate::text::one_line(&e),
            },
        };
        let _ = tx.send(last).await;
    });
    let lines = futures_util::stream::unfold(rx, |mut rx| async move {
        let p = rx.recv().await?;
        let mut line = serde_json::to_vec(&p).unwrap_or_default();
        line.push(b'\n');
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(line)), rx))
    });
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(lines),
    )
        .into_response())
}
