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
        BrokerCommand::Stop { yes } => {
            confirm_in_use(ctx, &project, "stop", yes).await?;
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
            let asked = confirm_in_use(ctx, &project, "reset", yes).await?;
            if !yes && !asked {
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

/// A running `ftl dev` of the project uses the broker: say so, and go on
/// only with `--yes` or the user's answer. True if the user was asked (and
/// said yes).
async fn confirm_in_use(
    ctx: &Context<'_>,
    project: &crate::schema::Project,
    what: &str,
    yes: bool,
) -> Result<bool> {
    let runners = crate::admin::AdminClient::find_all(project).await;
    if runners.is_empty() {
        return Ok(false);
    }
    let who = runners
        .iter()
        .map(|r| format!("pid {} on {}", r.status().pid, r.status().listen))
        .collect::<Vec<_>>()
        .join(", ");
    let what_then = if what == "reset" {
        "it loses every topic and event; it creates the topics again when the broker is started (`ftl pubsub broker start`)"
    } else {
        "its deliveries and publishes wait until the broker is started again"
    };
    let printer = ctx.printer;
    if yes {
        printer.warn(
            &format!("`ftl dev` ({who}) uses this broker: {what_then}"),
            None,
        );
        return Ok(false);
    }
    if !printer.can_ask() {
        return Err(Error::usage(
            format!("`ftl dev` ({who}) uses this broker; `{what}` would take it away from it"),
            Some(format!("stop `ftl dev` first, or pass --yes ({what_then})")),
        ));
    }
    if !printer.confirm(&format!(
        "`ftl dev` ({who}) uses this broker: {what_then}. {} it anyway?",
        if what == "reset" {
            "Delete it with every topic, group and event,"
        } else {
            "Stop"
        }
    )) {
        return Err(Error::failed(
            format!("{what} cancelled; nothing was changed"),
            None,
        ));
    }
    Ok(true)
}
