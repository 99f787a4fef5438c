//! `ftl pubsub replay SUBSCRIPTION --from ...`: move a subscription's group
//! so its verb processes events again, through the running `ftl dev` when
//! one holds the subscription, else by moving the idle group's offsets.

use std::time::SystemTime;

use serde::Serialize;

use crate::admin::AdminClient;
use crate::error::{Error, Result};
use crate::events::PartitionMove;
use crate::kafka::{groups, ReplayFrom};
use crate::output::{counted, Printer};
use crate::provision;
use crate::schema::Project;
use crate::units::{epoch_millis, parse_time};

use super::{blocking, sub_arg};

#[derive(Debug, Serialize)]
struct ReplayReport {
    subscription: String,
    redelivered: i64,
    /// `runner` or `idle group`.
    through: &'static str,
    partitions: Vec<PartitionMove>,
}

pub async fn replay(
    project: &Project,
    printer: &Printer,
    name: &str,
    from: &str,
    yes: bool,
) -> Result<()> {
    let sub = sub_arg(project, name)?;
    let (from, label) = match from {
        "beginning" => (ReplayFrom::Beginning, "the beginning".to_string()),
        "latest" => (
            ReplayFrom::Latest,
            "the latest event (skipping everything not yet processed)".to_string(),
        ),
        t => {
            let at = parse_time(t, SystemTime::now()).map_err(|e| {
                Error::usage(
                    format!("bad --from: {e}"),
                    Some("use beginning, latest, a time (RFC 3339) or -10m".to_string()),
                )
            })?;
            (ReplayFrom::Time(epoch_millis(at)), crate::text::rfc3339(at))
        }
    };
    if !yes {
        if !printer.can_ask() {
            return Err(Error::usage(
                format!(
                    "replay moves the offsets of `{}`; its verb processes those events again",
                    sub.qualified()
                ),
                Some("pass --yes to confirm".to_string()),
            ));
        }
        if !printer.confirm(&format!(
            "Move `{}` to {label} so `{}` processes those events again?",
            sub.qualified(),
            sub.verb
        )) {
            return Err(Error::failed("replay cancelled; nothing was moved", None));
        }
    }
    // Each running `ftl dev` moves the partitions it holds.
    let live: Vec<AdminClient> = AdminClient::find_all(project)
        .await
        .into_iter()
        .filter(|l| l.runs(&sub.qualified()))
        .collect();
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
    let report = ReplayReport {
        subscription: sub.qualified(),
        redelivered: partitions.iter().map(PartitionMove::redelivered).sum(),
        through,
        partitions,
    };
    if printer.json {
        printer.json_line(&serde_json::to_value(&report).unwrap_or_default());
        return Ok(());
    }
    let events = counted(report.redelivered.max(0) as usize, "event");
    let pids: Vec<String> = live.iter().map(|l| l.status().pid.to_string()).collect();
    printer.data(&match pids.len() {
        0 => format!(
            "{}: moved to {label}; {events} will be delivered when `ftl dev` starts",
            report.subscription
        ),
        1 => format!(
            "{}: moved to {label}; {events} will be redelivered by the running ftl dev (pid {})",
            report.subscription, pids[0]
        ),
        _ => format!(
            "{}: moved to {label}; {events} will be redelivered by the running ftl devs (pids {})",
            report.subscription,
            pids.join(", ")
        ),
    });
    Ok(())
}
