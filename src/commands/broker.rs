use crate::broker::container_name;
use crate::cli::BrokerCommand;
use crate::error::{Error, Result};
use crate::provision;
use crate::schema::BrokerKind;

use super::Context;

pub async fn broker(ctx: &Context<'_>, command: BrokerCommand) -> Result<()> {
    // The broker needs only the project file: module files may be mid-edit.
    let (project, _) = ctx.read_project_partial().await?;
    if project.broker.kind == BrokerKind::External {
        return Err(Error::usage(
            "this project uses an external broker; ftl does not manage it",
            Some(
                "`ftl pubsub broker` manages Docker brokers (kind redpanda, kafka or tansu)"
                    .to_string(),
            ),
        ));
    }
    let printer = ctx.printer;
    match command {
        BrokerCommand::Start => {
            let started = std::time::Instant::now();
            let broker = provision::ensure_broker(&project, printer).await?;
            printer.event(broker.ready_event(started));
        }
        BrokerCommand::Stop => {
            if let Some(c) = provision::stop_broker(&project).await? {
                let kept = BrokerKind::parse(&c.kind).is_none_or(crate::broker::persists);
                printer.info(&if kept {
                    format!(
                        "stopped {}; its topics and events are kept in volume {}",
                        c.name,
                        crate::broker::volume_name(&project.name)
                    )
                } else {
                    format!(
                        "stopped {}; it ({}) keeps everything in memory, so its topics and events are gone: the next `ftl dev` creates the topics again",
                        c.name, c.kind
                    )
                });
            } else {
                printer.info(&format!(
                    "no broker container for project `{}`",
                    project.name
                ));
            }
        }
        BrokerCommand::Logs { follow, tail } => {
            provision::broker_logs(&project, follow, tail, |text| printer.data(text)).await?;
        }
        BrokerCommand::Reset { yes } => {
            let name = container_name(&project.name);
            if !yes {
                if !printer.can_ask() {
                    return Err(Error::usage(
                        format!(
                            "`reset` deletes `{name}` with every topic, consumer group and event"
                        ),
                        Some("pass --yes to confirm".to_string()),
                    ));
                }
                if !printer.confirm(&format!(
                    "Delete `{name}` and its volume, with every topic, group and event?"
                )) {
                    return Err(Error::failed("reset cancelled; nothing was deleted", None));
                }
            }
            let removed = provision::remove_broker(&project).await?;
            // Say only what was done.
            let mut done: Vec<String> = Vec::new();
            if let Some(c) = &removed.container {
                done.push(format!("container {c}"));
            }
            if let Some(v) = &removed.volume {
                done.push(format!("volume {v}"));
            }
            if done.is_empty() {
                printer.info(&format!(
                    "no broker container or volume of project `{}`; nothing to reset",
                    project.name
                ));
            } else {
                printer.info(&format!(
                    "removed {}; the next `ftl dev` starts afresh",
                    done.join(" and ")
                ));
            }
            if let Some(v) = &removed.foreign_volume {
                printer.warn(
                    &format!(
                        "volume {v} was not created by ftl for this project and was left alone"
                    ),
                    Some(&format!(
                        "`docker volume rm {v}` removes it if its data is not needed"
                    )),
                );
            }
        }
    }
    Ok(())
}
