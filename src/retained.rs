//! What a topic already holds, against its type: events that another client
//! published, or that were published before the type changed. A bounded
//! read from the beginning (blocking: run it on a blocking thread).

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::kafka::tail::{Next, Tail, TailError, TailFrom};
use crate::kafka::Connection;

use crate::types::TopicType;

/// How many retained events a check reads at most, and for how long.
pub const MAX_EVENTS: u64 = 100_000;
pub const MAX_TIME: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Serialize)]
pub struct RetainedCheck {
    /// The type's name (`pizza.Order`).
    pub ty: String,
    /// Events read.
    pub read: u64,
    /// Of which do not match.
    pub invalid: u64,
    /// The first three that do not match.
    pub first: Vec<InvalidAt>,
    /// False when the read stopped at its bound before the end.
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct InvalidAt {
    pub partition: i32,
    pub offset: i64,
    pub problem: String,
}

/// Reads `topic` from its beginning (at most `max_events`, for at most
/// `max_time`) and checks every event against `ty`.
pub fn check_retained(
    conn: &Connection,
    topic: &str,
    ty: &TopicType,
    max_events: u64,
    max_time: Duration,
) -> Result<RetainedCheck, TailError> {
    let mut tail = Tail::open(conn, topic, TailFrom::Beginning, &[])?;
    let mut out = RetainedCheck {
        ty: ty.name(),
        read: 0,
        invalid: 0,
        first: Vec::new(),
        complete: false,
    };
    let deadline = Instant::now() + max_time;
    while out.read < max_events && Instant::now() < deadline {
        match tail.next(Duration::from_millis(200)) {
            Next::Record(r) => {
                out.read += 1;
                let problem = match serde_json::from_slice::<serde_json::Value>(&r.payload) {
                    Ok(v) => ty.check(&v).err().map(|m| m.to_string()),
                    Err(_) => Some("not JSON".to_string()),
                };
                if let Some(problem) = problem {
                    out.invalid += 1;
                    if out.first.len() < 3 {
                        out.first.push(InvalidAt {
                            partition: r.partition,
                            offset: r.offset,
                            problem,
                        });
                    }
                }
            }
            // From the beginning, past the end only means nothing is left.
            Next::AtEnd | Next::PastEnd { .. } => {
                out.complete = true;
                break;
            }
            Next::Idle => {}
        }
    }
    Ok(out)
}

/// After a reload: for each topic whose type changed, checks what it holds
/// against the new type on a blocking thread and tells `hub`. Bounded more
/// tightly than `status --check`: a reload must not keep the broker busy.
pub fn report_type_changes(
    old: &crate::schema::Project,
    new: &crate::schema::Project,
    conn: &Connection,
    hub: &crate::hub::Hub,
) {
    for t in new.topics().filter(|t| !t.ty.is_any()) {
        let before = old.topics().find(|o| o.kafka_name() == t.kafka_name());
        // The JSON Schema holds every declaration the type reaches: equal
        // schemas accept the same events.
        if before.is_none_or(|o| o.ty.json_schema() == t.ty.json_schema()) {
            continue;
        }
        let (conn, hub, topic, ty) = (conn.clone(), hub.clone(), t.kafka_name(), t.ty.clone());
        tokio::task::spawn_blocking(move || {
            let Ok(c) = check_retained(&conn, &topic, &ty, 10_000, Duration::from_secs(5)) else {
                return; // the topic is not there (yet): nothing is retained
            };
            hub.emit(crate::events::Event::TypeChanged {
                topic,
                ty: c.ty,
                read: c.read,
                invalid: c.invalid,
                first: c
                    .first
                    .iter()
                    .map(|i| format!("{}@{}: {}", i.partition, i.offset, i.problem))
                    .collect(),
                complete: c.complete,
            });
        });
    }
}
