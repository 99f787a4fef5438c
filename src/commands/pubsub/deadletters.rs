//! `ftl pubsub deadletters` and `replay-deadletter`: list a subscription's
//! failed events, and hand them back to its verb (through the running
//! `ftl dev` when it holds the subscription).

use crate::access::{self, Through};
use crate::deadletter::{DeadLetter, ReplayOutcome, Replayed};
use crate::error::{Error, Result};
use crate::output::{
    counted, escape_controls, pretty_json, Printer, CYAN, DIM, GREEN, RED, YELLOW,
};
use crate::schema::{Project, Subscription};
use crate::types::TopicType;

use super::sub_arg;

/// The type of the events a subscription's dead letters carry: its
/// topic's.
fn source_type(project: &Project, sub: &Subscription) -> TopicType {
    project
        .topic(&sub.topic.0, &sub.topic.1)
        .map(|t| t.ty.clone())
        .unwrap_or_default()
}

/// How a dead letter's event differs from its type, if it does.
fn invalid(ty: &TopicType, dl: &DeadLetter) -> Option<String> {
    if ty.is_any() {
        return None;
    }
    ty.check(&dl.event).err().map(|m| m.to_string())
}

fn deadletter_sub<'p>(project: &'p Project, name: &str) -> Result<&'p Subscription> {
    let sub = sub_arg(project, name)?;
    if !sub.deadletter {
        return Err(Error::usage(
            format!("subscription `{}` has no dead-letter topic", sub.qualified()),
            Some("add `deadletter: true` to it in its ftl.yaml; failures are then kept instead of skipped".to_string()),
        ));
    }
    Ok(sub)
}

pub async fn list(
    project: &Project,
    printer: &Printer,
    name: &str,
    limit: Option<u64>,
    all: bool,
) -> Result<()> {
    let sub = deadletter_sub(project, name)?;
    let items = access::dead_letters(project, sub, all, limit).await?;
    let pending = items.iter().filter(|d| !d.replayed).count();
    let ty = source_type(project, sub);
    for dl in &items {
        let invalid = invalid(&ty, dl);
        let ok = if printer.json {
            let mut v = serde_json::to_value(dl).unwrap_or_default();
            if let Some(problem) = &invalid {
                v["invalid"] = problem.as_str().into();
            }
            printer.json_line(&v)
        } else {
            printer.data(&render(printer, dl, None, invalid.as_deref()))
        };
        if !ok {
            return Ok(());
        }
    }
    if !printer.json {
        printer.info(&format!(
            "{} of {}{}",
            counted(pending, "pending dead letter"),
            sub.qualified(),
            if pending > 0 {
                "; `ftl pubsub replay-deadletter` hands them back to the verb"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

pub async fn replay(
    project: &Project,
    printer: &Printer,
    name: &str,
    dry_run: bool,
    limit: Option<u64>,
) -> Result<()> {
    let sub = deadletter_sub(project, name)?;
    let ty = source_type(project, sub);
    let show = |r: &Replayed| {
        if printer.json {
            printer.json_line(&serde_json::to_value(r).unwrap_or_default());
        } else {
            let invalid = invalid(&ty, &r.dead_letter);
            printer.data(&render(
                printer,
                &r.dead_letter,
                Some(r),
                invalid.as_deref(),
            ));
        }
    };
    let replayed = access::replay_dead_letters(project, sub, limit, dry_run, show).await?;
    let items = replayed.items;
    let through = match replayed.through {
        Through::Runner(pid) => format!("the running ftl dev (pid {pid})"),
        Through::Here => "this command".to_string(),
    };
    let count = |o: ReplayOutcome| items.iter().filter(|r| r.outcome == o).count();
    let (ok, failed) = (count(ReplayOutcome::Ok), count(ReplayOutcome::Failed));
    // Those that failed again are pending once more, beside any the limit
    // left out: asked from the broker, so the count is what is there.
    let pending = if failed > 0 {
        Some(access::dead_letters(project, sub, false, None).await?.len())
    } else {
        None
    };
    if !printer.json {
        if dry_run {
            printer.info(&format!(
                "dry run: {} would be handed to verb `{}`; nothing was replayed",
                counted(items.len(), "dead letter"),
                sub.verb
            ));
        } else {
            printer.info(&format!(
                "replayed {} of {} to verb `{}` through {through}: {ok} succeeded, {failed} failed again (kept with their new error)",
                counted(items.len(), "dead letter"),
                sub.qualified(),
                sub.verb,
            ));
        }
    }
    if !dry_run && failed > 0 && ok == 0 {
        return Err(Error::failed(
            format!(
                "every replayed dead letter of {} failed again; {} still pending",
                sub.qualified(),
                counted(pending.unwrap_or(failed), "dead letter"),
            ),
            Some(format!(
                "`ftl pubsub deadletters {}` shows their new errors; fix the verb, then replay them again",
                sub.qualified()
            )),
        ));
    }
    if let Some(n) = pending.filter(|_| !printer.json) {
        printer.info(&format!("{} still pending", counted(n, "dead letter")));
    }
    Ok(())
}

fn render(
    printer: &Printer,
    dl: &DeadLetter,
    outcome: Option<&Replayed>,
    invalid: Option<&str>,
) -> String {
    let mut text = format!(
        "{} from {} {}@{}  attempts {}  first failed {}  last failed {}{}",
        printer.out_style(CYAN, &format!("{}@{}", dl.partition, dl.offset)),
        escape_controls(&dl.source_topic),
        dl.source_partition
            .map(|p| p.to_string())
            .unwrap_or_else(|| "?".into()),
        dl.source_offset
            .map(|p| p.to_string())
            .unwrap_or_else(|| "?".into()),
        dl.attempts,
        escape_controls(&dl.first_failed_at),
        escape_controls(&dl.failed_at),
        dl.key
            .as_ref()
            .map(|k| format!("  key={}", escape_controls(k)))
            .unwrap_or_default(),
    );
    if dl.replayed {
        text.push_str(&printer.out_style(DIM, "  (replayed)"));
    }
    text.push_str(&format!(
        "\n  {} {}",
        printer.out_style(RED, "error:"),
        escape_controls(&dl.error)
    ));
    if let Some(r) = outcome {
        let o = match r.outcome {
            ReplayOutcome::Ok => printer.out_style(GREEN, "replayed: ok"),
            ReplayOutcome::Failed => printer.out_style(
                RED,
                &format!(
                    "replayed: failed again: {}",
                    escape_controls(r.new_error.as_deref().unwrap_or_default())
                ),
            ),
            ReplayOutcome::DryRun => printer.out_style(YELLOW, "would replay (dry-run)"),
        };
        text.push_str(&format!("\n  {o}"));
    }
    if let Some(problem) = invalid {
        text.push_str(&format!(
            "\n  {} {problem}",
            printer.out_style(RED, "✗ the event does not match its type:")
        ));
    }
    let color = printer.colors_stdout();
    for line in pretty_json(&dl.event, color).lines() {
        text.push_str(&format!("\n  {line}"));
    }
    text
}
