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

use crate::cli::PubsubCommand;
use crate::error::{Error, Result};
use crate::publisher::find_topic;
use crate::schema::{Project, Subscription, Topic};

use super::Context;

pub async fn pubsub(ctx: &Context<'_>, command: PubsubCommand) -> Result<()> {
    let project = ctx.read_project(&ctx.project_dir).await?;
    let printer = ctx.printer;
    match command {
        PubsubCommand::Status => status::status(&project, printer).await,
        PubsubCommand::Publish { topic, event, key } => {
            publish::publish(&project, printer, &topic, event, key).await
        }
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
        } => deadletters::replay(&project, printer, &subscription, dry_run, limit).await,
        PubsubCommand::Broker { .. } => Ok(()),
    }
}

fn topic_arg<'p>(project: &'p Project, name: &str) -> Result<&'p Topic> {
    Ok(find_topic(project, name)?)
}

fn sub_arg<'p>(project: &'p Project, name: &str) -> Result<&'p Subscription> {
    Ok(project
        .find_subscription(name)
        .found("subscription", name)?)
}

/// Runs blocking library work (rdkafka's synchronous calls, stdin) off the
/// async executor.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::failed(format!("internal task failed: {e}"), None))?
}
