//! `ftl pubsub publish TOPIC [JSON|-] [--key K]`: one event, or NDJSON lines
//! from stdin; nothing is published unless every event is valid.

use crate::error::{Error, Result};
use crate::output::{counted, Printer};
use crate::provision;
use crate::publisher::{self, BatchError};
use crate::schema::Project;

use super::topic_arg;

pub async fn publish(
    project: &Project,
    printer: &Printer,
    topic: &str,
    event: Option<String>,
    key: Option<String>,
    request_key: Option<String>,
) -> Result<()> {
    let topic = topic_arg(project, topic)?.clone();
    if let Some(k) = &request_key {
        crate::kafka::headers::check_request_key(k).map_err(|e| {
            Error::usage(
                format!("--request-key: {e}"),
                Some(crate::publisher::REQUEST_KEY_HINT.to_string()),
            )
        })?;
    }
    let from_stdin = matches!(event.as_deref(), None | Some("-"));
    let events: Vec<(usize, String)> = match event {
        Some(e) if e != "-" => vec![(1, e)],
        _ => {
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) && event.is_none() {
                return Err(Error::usage(
                    "no event given",
                    Some("pass the event as JSON (`ftl pubsub publish pizza.orders '{\"id\":1}'`) or pipe NDJSON with `-`".to_string()),
                ));
            }
            crate::load::stdin_lines().await?
        }
    };
    let invalid = |e: BatchError| batch_error(e, from_stdin);
    // Bad input is refused before the broker is even looked for.
    publisher::check_events(&topic, &events, key.as_deref()).map_err(invalid)?;
    let broker = provision::running_broker(project).await?;
    let total = events.len();
    let spinner = (total > 1 && printer.shows_progress()).then(|| {
        printer.spinner(&format!(
            "publishing {total} events to {}",
            topic.kafka_name()
        ))
    });
    let mut done = 0;
    let published = publisher::publish_all(
        &broker.connection,
        &topic,
        &events,
        key.as_deref(),
        request_key.as_deref(),
        |p| {
            done += 1;
            if let Some(s) = &spinner {
                s.set_message(format!("published {done}/{total} to {}", p.topic));
            }
            // One result line per event on stdout, as text or JSON; the
            // summary of a batch goes to stderr.
            if printer.json {
                printer.json_line(&serde_json::to_value(p).unwrap_or_default());
            } else {
                printer.data(&format!(
                    "{} {}@{}{} request={}",
                    p.topic,
                    p.partition,
                    p.offset,
                    p.key
                        .as_ref()
                        .map(|k| format!(" key={k}"))
                        .unwrap_or_default(),
                    p.request_key
                ));
            }
        },
    )
    .await
    .map_err(invalid);
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    let n = published?;
    if total != 1 {
        printer.info(&format!(
            "published {} to {}",
            counted(n, "event"),
            topic.kafka_name()
        ));
    }
    Ok(())
}

fn batch_error(e: BatchError, from_stdin: bool) -> Error {
    match e {
        BatchError::Invalid(problems) => {
            let n = problems.len();
            // Events that are JSON but not of the topic's type want the
            // type, not advice on quoting.
            let types: Vec<String> = problems
                .iter()
                .filter_map(|(_, e)| match e {
                    crate::publisher::PublishError::Mismatch { ty, .. } => Some(ty.clone()),
                    _ => None,
                })
                .collect();
            let all_types = !types.is_empty() && types.len() == n;
            let mut msg = problems
                .into_iter()
                .take(10)
                .map(|(line, e)| {
                    let e = crate::text::one_line(&e);
                    if from_stdin {
                        format!("stdin line {line}: {e}")
                    } else {
                        e
                    }
                })
                .collect::<Vec<_>>()
                .join("\n  ");
            if n > 10 {
                msg.push_str(&format!("\n  ... and {} more", n - 10));
            }
            Error::usage(
                format!(
                    "nothing was published; {}:\n  {msg}",
                    counted(n, "invalid event")
                ),
                Some(if all_types {
                    format!("`ftl schema` shows {} and its fields; `event: Any` on the topic accepts any JSON", types[0])
                } else if from_stdin {
                    "each event is one JSON document per line; multi-partition topics need their key field or --key".to_string()
                } else {
                    "give the event as one JSON document in single quotes (`'{\"userId\":\"u1\"}'`); multi-partition topics need their key field or --key".to_string()
                }),
            )
        }
        BatchError::NoTopic(name) => Error::failed(
            format!("topic `{name}` does not exist on the broker yet"),
            Some("`ftl dev` creates the project's topics".to_string()),
        ),
        BatchError::Kafka(k) => k.into(),
        BatchError::Publish(p) => p.into(),
        BatchError::Partial { published, failed } => {
            let lines = |v: Vec<usize>| {
                v.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let problems = failed
                .iter()
                .take(10)
                .map(|(line, e)| format!("line {line}: {}", crate::text::one_line(e)))
                .collect::<Vec<_>>()
                .join("\n  ");
            Error::failed(
                format!(
                    "the broker refused {} of {} events; published lines: {} (their offsets are on stdout); not published: {}\n  {problems}",
                    failed.len(),
                    failed.len() + published.len(),
                    if published.is_empty() { "none".to_string() } else { lines(published.iter().map(|(l, _)| *l).collect()) },
                    lines(failed.iter().map(|(l, _)| *l).collect()),
                ),
                Some("publish the lines that were not published again once the cause is fixed".to_string()),
            )
        }
    }
}
