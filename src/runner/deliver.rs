//! One event's way through its verb: attempts with backoff, then a dead
//! letter (or a skip without a dead-letter topic), each attempt a typed
//! delivery event. The commit rule stays in `offsets.rs`: this only says
//! whether the event is finished.

use std::time::{Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use super::{deadletter, verb, Shared, SubSpec};
use crate::events::{Delivery, Event, InFlight, Outcome};
use crate::kafka::{headers, Fetched};
use crate::schema::VerbCall;

/// Delivers one event with retries and, when they run out, a dead letter.
/// True when the event is finished (its offset may be committed); false
/// when it was abandoned (shutdown, revocation, replay).
pub(super) async fn deliver(
    msg: &Fetched,
    spec: &SubSpec,
    shared: &Shared,
    stop: &CancellationToken,
    abandon: &CancellationToken,
) -> bool {
    let ended = std::sync::atomic::AtomicBool::new(false);
    let finished = attempts(msg, spec, shared, stop, abandon, &ended).await;
    // Given up between attempts, it left no delivery event to end it.
    if !ended.load(std::sync::atomic::Ordering::Relaxed) {
        shared
            .hub
            .flight_ended(&spec.name, msg.partition(), msg.offset());
    }
    finished
}

async fn attempts(
    msg: &Fetched,
    spec: &SubSpec,
    shared: &Shared,
    stop: &CancellationToken,
    abandon: &CancellationToken,
    // Set when a delivery event took the event off the verb.
    ended: &std::sync::atomic::AtomicBool,
) -> bool {
    let sub = &spec.sub;
    let name = &spec.name;
    let body = msg.payload();
    let key = msg.key().map(|k| String::from_utf8_lossy(k).into_owned());
    // The request it belongs to: its `ftl.request_key`, or (another client
    // published it) a key derived from where it sits, the same for every
    // subscription.
    let seen = headers::read(msg.headers());
    let request_key = seen
        .request_key
        .clone()
        .unwrap_or_else(|| headers::key_for_event(msg.topic(), msg.partition(), msg.offset()));
    let published = seen.created();
    let since_published = || {
        published.and_then(|p| {
            SystemTime::now()
                .duration_since(p)
                .ok()
                .map(|d| d.as_millis() as u64)
        })
    };
    let mut attempt: u32 = 1;
    let mut first_failed_at: Option<SystemTime> = None;
    let hub = &shared.hub;
    let report = |attempt: u32, started: Instant, outcome: Outcome| Delivery {
        subscription: name.clone(),
        topic: msg.topic().to_string(),
        partition: msg.partition(),
        offset: msg.offset(),
        key: key.clone(),
        verb: spec.verb.name.clone(),
        attempt,
        ms: started.elapsed().as_millis() as u64,
        outcome,
        error: None,
        retry_in_ms: None,
        deadletter_topic: None,
        output: None,
        request_key: Some(request_key.clone()),
        published_at: seen.created_at.clone(),
        since_published_ms: since_published(),
        published_by: seen.published_by.clone(),
    };
    let finish = |d: Delivery| {
        ended.store(
            d.outcome != Outcome::Retry,
            std::sync::atomic::Ordering::Relaxed,
        );
        hub.emit(Event::Delivery(d))
    };
    // A gRPC module server is asked whether it is ready before the first
    // attempt: a server that starts late burns no retries.
    if let VerbCall::Grpc(addr) = &spec.verb.call {
        let mut waited = false;
        let ready = super::verb::grpc::wait_ready(addr, abandon, |why| {
            waited = true;
            hub.emit(Event::VerbWaiting {
                subscription: name.clone(),
                verb: spec.verb.name.clone(),
                address: addr.clone(),
                reason: why.to_string(),
            });
        })
        .await;
        if !ready {
            return false;
        }
        if waited {
            hub.emit(Event::VerbReady {
                subscription: name.clone(),
                verb: spec.verb.name.clone(),
                address: addr.clone(),
            });
        }
    }
    loop {
        let d = verb::Invocation {
            topic: msg.topic(),
            subscription: name,
            partition: msg.partition(),
            offset: msg.offset(),
            key: msg.key(),
            attempt,
            body,
            request_key: &request_key,
        };
        hub.in_flight(
            name,
            msg.partition(),
            Some(InFlight {
                partition: msg.partition(),
                offset: msg.offset(),
                key: key.clone(),
                attempt,
                since_ms: crate::units::epoch_millis(SystemTime::now()),
                topic: Some(msg.topic().to_string()),
                request_key: Some(request_key.clone()),
                published_at: seen.created_at.clone(),
                published_by: seen.published_by.clone(),
            }),
        );
        let started = Instant::now();
        let result = tokio::select! {
            r = verb::call(&spec.verb, &spec.module_dir, &shared.http, &d) => r,
            _ = abandon.cancelled() => {
                finish(report(attempt, started, Outcome::Abandoned));
                return false;
            }
        };
        let failure = match result {
            Ok(output) => {
                finish(Delivery {
                    output,
                    ..report(attempt, started, Outcome::Ok)
                });
                return true;
            }
            Err(f) => f,
        };
        let now = SystemTime::now();
        let first = *first_failed_at.get_or_insert(now);
        if !failure.permanent && attempt <= sub.retry.count {
            let backoff = sub.retry.backoff_before(attempt + 1);
            finish(Delivery {
                error: Some(failure.message),
                retry_in_ms: Some(backoff.as_millis() as u64),
                ..report(attempt, started, Outcome::Retry)
            });
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = stop.cancelled() => return false,
                _ = abandon.cancelled() => return false,
            }
            attempt += 1;
            continue;
        }
        if !sub.deadletter {
            finish(Delivery {
                error: Some(failure.message),
                ..report(attempt, started, Outcome::Dropped)
            });
            return true;
        }
        let info = deadletter::FailureRecord {
            source_topic: msg.topic(),
            source_partition: msg.partition(),
            source_offset: msg.offset(),
            source_timestamp: msg.timestamp_ms(),
            subscription: name,
            verb: &spec.verb.name,
            attempts: attempt,
            first_failed_at: first,
            failed_at: now,
            stack: failure.stack.as_deref(),
        };
        // A dead letter is a publish of the same request.
        let stamp = headers::Stamp {
            request_key: request_key.clone(),
            created_at: SystemTime::now(),
            published_by: headers::BY_DEADLETTER.to_string(),
        };
        let headers = stamp.apply(Some(&deadletter::headers(msg.headers(), &info)));
        let payload = crate::deadletter::failed_event(body, &failure.message);
        let dlq = sub.deadletter_kafka_name();
        let published = deadletter::publish(
            &shared.producer,
            &dlq,
            msg.key(),
            &payload,
            headers,
            abandon,
        )
        .await;
        return match published {
            Ok((partition, offset)) => {
                hub.emit(Event::Published(crate::events::Published {
                    topic: dlq.clone(),
                    partition,
                    offset,
                    key: key.clone(),
                    request_key: stamp.request_key.clone(),
                    created_at: headers::format_time(stamp.created_at),
                    by: stamp.published_by.clone(),
                    failed: Some(crate::events::Source {
                        subscription: name.clone(),
                        topic: msg.topic().to_string(),
                        partition: msg.partition(),
                        offset: msg.offset(),
                    }),
                }));
                finish(Delivery {
                    error: Some(failure.message),
                    deadletter_topic: Some(dlq),
                    ..report(attempt, started, Outcome::DeadLettered)
                });
                true
            }
            Err(_) => {
                finish(report(attempt, started, Outcome::Abandoned));
                false
            }
        };
    }
}
