//! `ftl pubsub trace KEY|TOPIC@PARTITION:OFFSET [--follow]`: one request's
//! tree across topics, from the running `ftl dev`'s history.

use std::time::Duration;

use crate::admin::{AdminClient, TraceOf};
use crate::error::{Error, Result};
use crate::output::Printer;
use crate::schema::Project;
use crate::trace::{At, Trace};

/// How often `--follow` asks again.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);

pub async fn trace(
    project: &Project,
    printer: &Printer,
    request: &str,
    follow: bool,
) -> Result<()> {
    let what = parse(project, request)?;
    let Some(live) = AdminClient::find(project).await else {
        return Err(Error::failed(
            format!("no `ftl dev` of project `{}` is running", project.name),
            Some(
                "request traces live in the running `ftl dev`'s memory: start it, then publish"
                    .into(),
            ),
        ));
    };
    let mut last: Option<Trace> = None;
    loop {
        let t = live.trace(&what).await?;
        if last.as_ref() != Some(&t) {
            if !show(printer, &t, follow) {
                return Ok(());
            }
            if !t.found && !follow {
                return Err(not_kept(&t));
            }
            last = Some(t);
        }
        if !follow {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// A request key, or an event (`TOPIC@PARTITION:OFFSET`, the topic as
/// `module.topic` or a unique bare name).
fn parse(project: &Project, text: &str) -> Result<TraceOf> {
    if !text.contains('@') {
        crate::kafka::headers::check_request_key(text).map_err(|e| {
            Error::usage(
                format!("`{text}` is not a request key: {e}"),
                Some("pass a request key (`ftl pubsub tail` shows them as request=...) or an event as TOPIC@PARTITION:OFFSET".into()),
            )
        })?;
        return Ok(TraceOf::Key(text.to_string()));
    }
    let Some(mut at) = At::parse(text) else {
        return Err(Error::usage(
            format!("`{text}` is not an event"),
            Some("write it as TOPIC@PARTITION:OFFSET, e.g. pizza.orders@0:17".into()),
        ));
    };
    at.topic = super::topic_arg(project, &at.topic)?.kafka_name();
    Ok(TraceOf::Event(at))
}

/// Prints one version of the tree; false when stdout went away.
fn show(printer: &Printer, t: &Trace, follow: bool) -> bool {
    if printer.json {
        return printer.json_line(&serde_json::to_value(t).unwrap_or_default());
    }
    if !t.found {
        if follow {
            return printer.data(&format!(
                "request {}: nothing yet ({})",
                t.request_key,
                kept_text(t)
            ));
        }
        return true;
    }
    let text = crate::trace::render(t);
    let text = if follow {
        format!(
            "{}\n{}",
            printer.out_style(crate::output::DIM, "──"),
            text.trim_end()
        )
    } else {
        text.trim_end().to_string()
    };
    printer.data(&text)
}

fn kept_text(t: &Trace) -> String {
    let k = &t.kept;
    let since = k
        .oldest_ms
        .map(|ms| {
            format!(
                " since {}",
                crate::text::rfc3339(
                    std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
                )
            )
        })
        .unwrap_or_default();
    format!(
        "the runner keeps the last {} requests, {} steps, {} MB; it holds {} request{}{since}, and let {} older one{} go",
        k.budget.requests,
        k.budget.steps,
        k.budget.bytes / (1024 * 1024),
        k.requests,
        if k.requests == 1 { "" } else { "s" },
        k.dropped,
        if k.dropped == 1 { "" } else { "s" },
    )
}

fn not_kept(t: &Trace) -> Error {
    Error::failed(
        format!(
            "the running `ftl dev` saw nothing of request `{}`",
            t.request_key
        ),
        Some(format!(
            "{}; a request older than that, or from before this `ftl dev` started, is not kept",
            kept_text(t)
        )),
    )
}
