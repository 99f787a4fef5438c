//! `ftl pubsub replay SUBSCRIPTION --from ...`: move a subscription's group
//! so its verb processes events again, through the running `ftl dev` when
//! one holds the subscription, else by moving the idle group's offsets.

use std::time::SystemTime;

use crate::error::{Error, Result};
use crate::kafka::ReplayFrom;
use crate::output::{counted, Printer};
use crate::schema::Project;
use crate::units::{epoch_millis, parse_time};

use super::sub_arg;

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
    let report = crate::access::replay(project, sub, from).await?;
    if printer.json {
        printer.json_line(&serde_json::to_value(&report).unwrap_or_default());
        return Ok(());
    }
    let events = counted(report.redelivered.max(0) as usize, "event");
    let pids: Vec<String> = report.runners.iter().map(u32::to_string).collect();
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
