//! `ftl pubsub status | publish | tail | replay | deadletters |
//! replay-deadletter`: looking inside the local PubSub and driving it, by
//! module and subscription names rather than raw Kafka names. Each file
//! builds a typed report through the library and renders it as text or
//! `--json`; none talks to Kafka or Docker itself.

mod deadletters;
mod publish;
mod replay;
mod status;
mod tail;
mod trace;

use crate::cli::PubsubCommand;
use crate::error::{Error, Result};
use crate::publisher::find_topic;
use crate::schema::{Project, Subscription, Topic};

use super::Context;

pub async fn pubsub(ctx: &Context<'_>, command: PubsubCommand) -> Result<()> {
    // Only the parts a command needs must be valid: a module file with
    // problems is taken from the running `ftl dev`, else left out, with one
    // warning.
    let live = ctx.read_project_live().await?;
    let printer = ctx.printer;
    crate::commands::live::warn(&live, printer);
    let (project, skipped) = (live.project, live.left_out);
    needs_skipped(&project, &skipped, &command)?;
    match command {
        PubsubCommand::Status { check } => status::status(&project, printer, check).await,
        PubsubCommand::Trace { request, follow } => {
            trace::trace(&project, printer, &request, follow).await
        }
        PubsubCommand::Publish {
            topic,
            event,
            key,
            request_key,
        } => publish::publish(&project, printer, &topic, event, key, request_key).await,
        PubsubCommand::Tail {
            topic,
            from,
            partitions,
            limit,
            no_follow,
        } => {
            let args = tail::TailArgs {
                from,
                partitions,
                limit,
                follow: !no_follow,
            };
            tail::tail(&project, printer, &topic, args).await
        }
        PubsubCommand::Replay {
            subscription,
            from,
            yes,
        } => replay::replay(&project, printer, &subscription, &from, yes).await,
        PubsubCommand::Deadletters {
            subscription,
            limit,
            all,
        } => deadletters::list(&project, printer, &subscription, limit, all).await,
        PubsubCommand::ReplayDeadletter {
            subscription,
            dry_run,
            limit,
            yes: _,
        } => deadletters::replay(&project, printer, &subscription, dry_run, limit).await,
        PubsubCommand::Broker { .. } => Ok(()),
    }
}

/// The name a command is about, if it lies in a module file that was left
/// out: an error that says so, with that file's problems.
fn needs_skipped(
    project: &Project,
    skipped: &[crate::config::SkippedModule],
    command: &PubsubCommand,
) -> Result<()> {
    use crate::schema::Lookup;
    let (what, name) = match command {
        PubsubCommand::Publish { topic, .. } | PubsubCommand::Tail { topic, .. } => {
            ("topic", topic)
        }
        PubsubCommand::Replay { subscription, .. }
        | PubsubCommand::Deadletters { subscription, .. }
        | PubsubCommand::ReplayDeadletter { subscription, .. } => ("subscription", subscription),
        _ => return Ok(()),
    };
    let known = match what {
        "topic" => !matches!(project.find_topic(name), Lookup::Unknown(_)),
        _ => !matches!(project.find_subscription(name), Lookup::Unknown(_)),
    };
    if known || skipped.is_empty() {
        return Ok(());
    }
    let in_module = |s: &&crate::config::SkippedModule| match name.split_once('.') {
        Some((module, _)) => s.folder == module,
        None => true,
    };
    let Some(s) = skipped.iter().find(in_module) else {
        return Ok(());
    };
    Err(Error::usage(
        format!(
            "{what} `{name}` may be declared in `{}`, which is invalid:\n\n{}",
            s.file.display(),
            s.problems.to_string().trim_end()
        ),
        Some(format!(
            "fix `{}`; commands about the other modules work meanwhile",
            s.file.display()
        )),
    ))
}

fn topic_arg<'p>(project: &'p Project, name: &str) -> Result<&'p Topic> {
    Ok(find_topic(project, name)?)
}

fn sub_arg<'p>(project: &'p Project, name: &str) -> Result<&'p Subscription> {
    Ok(project
        .find_subscription(name)
        .found("subscription", name)?)
}
