//! What the `ftl pubsub` commands do to a project's PubSub, as typed
//! requests and results, and the one policy for where it is done: a
//! subscription's work goes through the running `ftl dev` that holds it (it
//! owns the group's partitions and its verb's connections), else it is done
//! here, directly against the broker. rdkafka's blocking calls run on
//! blocking threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::admin::{AdminClient, DeadletterProgress, DeadletterReplayRequest};
use crate::deadletter::{DeadLetter, Replayed};
use crate::error::{Error, Result};
use crate::events::PartitionMove;
use crate::inspect::{self, StatusReport};
use crate::kafka::tail::{past_end, Next, Record, Tail, TailError, TailFrom};
use crate::kafka::{groups, ReplayFrom};
use crate::provision;
use crate::runner::deadletter;
use crate::schema::{Project, Subscription};

/// Runs blocking library work (rdkafka's synchronous calls) off the async
/// executor.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::failed(format!("internal task failed: {e}"), None))?
}

/// The running `ftl dev`s of `project` that hold a live consumer of `sub`.
pub async fn holders(project: &Project, sub: &Subscription) -> Vec<AdminClient> {
    AdminClient::find_all(project)
        .await
        .into_iter()
        .filter(|l| l.runs(&sub.qualified()))
        .collect()
}

/// Where a piece of work was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Through {
    /// By the running `ftl dev` with this pid.
    Runner(u32),
    /// By this command, directly against the broker.
    Here,
}

/// `ftl pubsub status`: the broker, the topics, every subscription (with
/// what the running `ftl dev`s say of theirs).
/// With `check`, each typed topic is also read and checked against its type.
pub async fn status(project: &Project, check: bool) -> Result<StatusReport> {
    let broker = provision::running_broker(project).await?;
    let live: Vec<_> = AdminClient::find_all(project)
        .await
        .iter()
        .map(|l| l.status().clone())
        .collect();
    let conn = broker.connection.clone();
    let project = project.clone();
    let broker_status = broker.status();
    blocking(move || {
        let mut report =
            inspect::status(&conn, &project, broker_status, &live).map_err(Error::from)?;
        if check {
            check_types(&conn, &project, &mut report)?;
        }
        Ok(report)
    })
    .await
}

/// Each provisioned topic with a type, read and checked against it.
fn check_types(
    conn: &crate::kafka::Connection,
    project: &Project,
    report: &mut StatusReport,
) -> Result<()> {
    use crate::retained;
    for t in report.topics.iter_mut().filter(|t| t.provisioned) {
        let Some(declared) = project.topics().find(|d| d.kafka_name() == t.name) else {
            continue;
        };
        if declared.ty.is_any() {
            continue;
        }
        let checked = retained::check_retained(
            conn,
            &t.name,
            &declared.ty,
            retained::MAX_EVENTS,
            retained::MAX_TIME,
        )
        .map_err(|e| match e {
            crate::kafka::tail::TailError::Kafka(k) => Error::from(k),
            other => Error::failed(other.to_string(), None),
        })?;
        t.type_check = Some(checked);
    }
    Ok(())
}

/// What `replay` did.
#[derive(Debug, Serialize)]
pub struct SubscriptionReplay {
    pub subscription: String,
    pub redelivered: i64,
    /// `runner` or `idle group`.
    pub through: &'static str,
    pub partitions: Vec<PartitionMove>,
    /// The running `ftl dev`s that moved their partitions.
    #[serde(skip)]
    pub runners: Vec<u32>,
}

/// Moves `sub`'s group to `from`: each running `ftl dev` holding it moves
/// the partitions it holds; with none, the idle group's offsets are moved
/// here.
pub async fn replay(
    project: &Project,
    sub: &Subscription,
    from: ReplayFrom,
) -> Result<SubscriptionReplay> {
    let live = holders(project, sub).await;
    let (partitions, through) = if live.is_empty() {
        let broker = provision::running_broker(project).await?;
        let conn = broker.connection.clone();
        let (topic, group) = (sub.topic_kafka_name(), sub.group_id());
        let moves = blocking(move || {
            groups::move_idle_group(&conn, &topic, &group, from).map_err(Error::from)
        })
        .await?;
        (moves, "idle group")
    } else {
        let mut partitions = Vec::new();
        for l in &live {
            partitions.extend(l.replay(&sub.qualified(), from).await?.partitions);
        }
        partitions.sort_by_key(|m| m.partition);
        (partitions, "runner")
    };
    Ok(SubscriptionReplay {
        subscription: sub.qualified(),
        redelivered: partitions.iter().map(PartitionMove::redelivered).sum(),
        through,
        partitions,
        runners: live.iter().map(|l| l.status().pid).collect(),
    })
}

/// `sub`'s dead letters (only the pending ones unless `all`), at most
/// `limit`.
pub async fn dead_letters(
    project: &Project,
    sub: &Subscription,
    all: bool,
    limit: Option<u64>,
) -> Result<Vec<DeadLetter>> {
    let broker = provision::running_broker(project).await?;
    let conn = broker.connection.clone();
    let sub = sub.clone();
    let items = blocking(move || Ok(deadletter::read(&conn, &sub, all, limit)?)).await?;
    Ok(items.into_iter().map(|(d, _)| d).collect())
}

/// What `replay_dead_letters` did.
#[derive(Debug)]
pub struct DeadLettersReplayed {
    pub items: Vec<Replayed>,
    pub through: Through,
}

/// Hands `sub`'s pending dead letters back to its verb, through the running
/// `ftl dev` holding it, else here; `on_item` hears of each as it is done.
pub async fn replay_dead_letters(
    project: &Project,
    sub: &Subscription,
    limit: Option<u64>,
    dry_run: bool,
    mut on_item: impl FnMut(&Replayed),
) -> Result<DeadLettersReplayed> {
    match holders(project, sub).await.into_iter().next() {
        Some(l) => {
            let request = DeadletterReplayRequest {
                limit,
                dry_run,
                only: None,
            };
            let mut items = Vec::new();
            l.replay_deadletter(&sub.qualified(), &request, |p| {
                if let DeadletterProgress::Item { replayed } = p {
                    on_item(&replayed);
                    items.push(*replayed);
                }
            })
            .await?;
            Ok(DeadLettersReplayed {
                items,
                through: Through::Runner(l.status().pid),
            })
        }
        None => {
            let broker = provision::running_broker(project).await?;
            let report =
                deadletter::replay_here(&broker.connection, project, sub, limit, dry_run, on_item)
                    .await?;
            Ok(DeadLettersReplayed {
                items: report.items,
                through: Through::Here,
            })
        }
    }
}

/// What `tail` reads.
#[derive(Debug, Clone)]
pub struct TailRequest {
    /// The topic's Kafka name.
    pub topic: String,
    pub from: TailFrom,
    /// Only these partitions (all when empty).
    pub partitions: Vec<i32>,
    pub limit: Option<u64>,
    /// Wait for new events at the end (else stop there, having merged the
    /// partitions in timestamp order).
    pub follow: bool,
}

/// What `tail` hands its reader.
pub enum Tailed {
    Record(Record),
    /// Nothing more right now (or the end): a good time to show what is
    /// buffered.
    Idle,
}

/// Reads `request.topic` until its end (or, following, until Ctrl-C), at
/// most `limit` records, handing each to `on` on a blocking thread; `on`
/// returning false stops it (stdout closed). How many records were read.
pub async fn tail(
    project: &Project,
    request: TailRequest,
    mut on: impl FnMut(Tailed) -> bool + Send + 'static,
) -> Result<u64> {
    let broker = provision::running_broker(project).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        s.store(true, Ordering::SeqCst);
    });
    let conn = broker.connection.clone();
    blocking(move || {
        let TailRequest {
            topic,
            from,
            partitions,
            limit,
            follow,
        } = request;
        let tail = Tail::open(&conn, &topic, from, &partitions).map_err(|e| match e {
            TailError::NoPartition {
                topic,
                partition,
                count,
            } => Error::usage(
                format!("topic `{topic}` has no partition {partition}"),
                Some(format!(
                    "its partitions are 0 to {}",
                    count.saturating_sub(1)
                )),
            ),
            TailError::Kafka(k) => k.into(),
        })?;
        let mut next: Box<dyn FnMut(Duration) -> Next> = if follow {
            let mut tail = tail;
            Box::new(move |wait| tail.next(wait))
        } else {
            let mut merged = tail.merged();
            Box::new(move |wait| merged.next(wait))
        };
        let mut shown: u64 = 0;
        while !stop.load(Ordering::SeqCst) && limit.is_none_or(|n| shown < n) {
            match next(Duration::from_millis(200)) {
                Next::Record(r) => {
                    shown += 1;
                    if !on(Tailed::Record(r)) {
                        return Ok(shown);
                    }
                }
                Next::PastEnd { from, ends } => {
                    on(Tailed::Idle);
                    return Err(Error::usage(
                        past_end(from, &ends),
                        Some("the next event of a partition gets its end as offset: use a lower --from, or `--from latest` to wait for new events".to_string()),
                    ));
                }
                Next::AtEnd if !follow => break,
                Next::AtEnd | Next::Idle => {
                    if !on(Tailed::Idle) {
                        return Ok(shown);
                    }
                }
            }
        }
        on(Tailed::Idle);
        Ok(shown)
    })
    .await
}
