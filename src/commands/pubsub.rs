//! `ftl pubsub status | publish | tail | replay | deadletters |
//! replay-deadletter`: looking inside the local PubSub and driving it, by
//! module and subscription names rather than raw Kafka names.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use rdkafka::message::Message;
use rdkafka::Offset;
use serde_json::{json, Value};

use crate::cli::PubsubCommand;
use crate::error::{Error, Result};
use crate::kafka::{self, Connection};
use crate::kafka::{partitions_of, replay_targets, PartitionMove, ReplayFrom};
use crate::output::{pretty_json, Printer, BOLD, CYAN, DIM, GREEN, RED, YELLOW};
use crate::provision::{self, BrokerHandle};
use crate::publisher::{self, find_topic};
use crate::runner::deadletter::{self, DeadLetter, Replayed};
use crate::schema::{Lookup, Project, StartFrom, Subscription, Topic};
use crate::units::{epoch_millis, parse_time};

use super::Context;

pub async fn pubsub(ctx: &Context<'_>, command: PubsubCommand) -> Result<()> {
    let project = ctx.project()?;
    let printer = ctx.printer;
    match command {
        PubsubCommand::Status => status(&project, printer).await,
        PubsubCommand::Publish { topic, event, key } => {
            publish(&project, printer, &topic, event, key).await
        }
        PubsubCommand::Tail {
            topic,
            from,
            partitions,
            limit,
            no_follow,
        } => {
            let topic = topic_arg(&project, &topic)?.clone();
            let from = TailFrom::parse(&from)?;
            let broker = provision::running_broker(&project).await?;
            let stop = Arc::new(AtomicBool::new(false));
            let s = stop.clone();
            tokio::spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                s.store(true, Ordering::SeqCst);
            });
            let printer = printer.clone();
            let conn = broker.connection.clone();
            tokio::task::spawn_blocking(move || {
                tail(
                    &conn,
                    &topic,
                    from,
                    &partitions,
                    limit,
                    !no_follow,
                    &printer,
                    &stop,
                )
            })
            .await
            .map_err(|e| Error::failed(format!("tail stopped: {e}"), None))?
        }
        PubsubCommand::Replay {
            subscription,
            from,
            yes,
        } => replay(&project, printer, &subscription, &from, yes).await,
        PubsubCommand::Deadletters {
            subscription,
            limit,
            all,
        } => deadletters(&project, printer, &subscription, limit, all).await,
        PubsubCommand::ReplayDeadletter {
            subscription,
            dry_run,
            limit,
        } => replay_deadletter(&project, printer, &subscription, dry_run, limit).await,
        PubsubCommand::Broker { .. } => Ok(()),
    }
}

fn topic_arg<'p>(project: &'p Project, name: &str) -> Result<&'p Topic> {
    Ok(find_topic(project, name)?)
}

fn sub_arg<'p>(project: &'p Project, name: &str) -> Result<&'p Subscription> {
    match project.find_subscription(name) {
        Lookup::Found(s) => Ok(s),
        Lookup::Unknown(known) => Err(Error::usage(
            format!("unknown subscription `{name}`"),
            Some(if known.is_empty() {
                "the project declares no subscriptions".to_string()
            } else {
                format!("known subscriptions: {}", known.join(", "))
            }),
        )),
        Lookup::Ambiguous(c) => Err(Error::usage(
            format!("`{name}` matches several subscriptions: {}", c.join(", ")),
            Some("write it as module.subscription".to_string()),
        )),
    }
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

fn kafka_err(e: kafka::KafkaError) -> Error {
    Error::Kafka(e)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::failed(format!("internal task failed: {e}"), None))?
}

/// The admin API of a running `ftl dev` of this project, if one answers.
struct LiveRunner {
    base: String,
    status: Value,
    http: reqwest::Client,
}

impl LiveRunner {
    async fn find(project: &Project) -> Option<LiveRunner> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .ok()?;
        let base = format!("http://{}", project.runner.listen);
        let r = http
            .get(format!("{base}/admin/status"))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        let status: Value = serde_json::from_slice(&r.bytes().await.ok()?).ok()?;
        (status["project"] == project.name).then_some(LiveRunner { base, status, http })
    }

    fn runs(&self, sub: &Subscription) -> bool {
        self.status["subscriptions"].get(sub.qualified()).is_some()
    }

    fn pid(&self) -> String {
        self.status["pid"].to_string()
    }

    async fn post(&self, path: &str) -> Result<Value> {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|e| {
                Error::failed(format!("the running `ftl dev` did not answer: {e}"), None)
            })?;
        let ok = r.status().is_success();
        let body: Value =
            serde_json::from_slice(&r.bytes().await.unwrap_or_default()).unwrap_or(Value::Null);
        if ok {
            Ok(body)
        } else {
            Err(Error::failed(
                format!(
                    "the running `ftl dev` refused: {}",
                    body["error"].as_str().unwrap_or("unknown error")
                ),
                None,
            ))
        }
    }
}

// ---------------------------------------------------------------- status

async fn status(project: &Project, printer: &Printer) -> Result<()> {
    let broker = provision::running_broker(project).await?;
    let live = LiveRunner::find(project).await;
    let conn = broker.connection.clone();
    let project2 = project.clone();
    let live_subs: Vec<String> = project
        .subscriptions()
        .filter(|s| live.as_ref().is_some_and(|l| l.runs(s)))
        .map(|s| s.qualified())
        .collect();
    let report = blocking(move || status_report(&conn, &project2, &live_subs)).await?;
    let broker_json = broker_json(&broker);
    if printer.json {
        printer.json_line(
            &json!({"broker": broker_json, "topics": report.0, "subscriptions": report.1}),
        );
        return Ok(());
    }
    let b = &broker_json;
    let mut lines = vec![format!(
        "{} {} {} on {}{}",
        printer.out_style(BOLD, "broker"),
        b["kind"].as_str().unwrap_or_default(),
        b["container"].as_str().unwrap_or("(external)"),
        b["address"].as_str().unwrap_or_default(),
        b["uptime"]
            .as_str()
            .map(|u| format!(", up {u}"))
            .unwrap_or_default()
    )];
    lines.push(match &live {
        Some(l) => format!(
            "{} ftl dev running (pid {}) on {}",
            printer.out_style(BOLD, "runner"),
            l.pid(),
            project.runner.listen
        ),
        None => format!("{} no ftl dev running", printer.out_style(BOLD, "runner")),
    });
    lines.push(printer.out_style(BOLD, "topics"));
    for t in &report.0 {
        let ends: Vec<String> = t["end_offsets"]
            .as_array()
            .map(|a| {
                a.iter()
                    .enumerate()
                    .map(|(p, o)| format!("{p}:{o}"))
                    .collect()
            })
            .unwrap_or_default();
        lines.push(format!(
            "  {:<40} {:>3} partition{}  {} event{}  end offsets {}",
            t["name"].as_str().unwrap_or_default(),
            t["partitions"],
            if t["partitions"] == 1 { " " } else { "s" },
            t["events"],
            if t["events"] == 1 { "" } else { "s" },
            ends.join(" ")
        ));
    }
    lines.push(printer.out_style(BOLD, "subscriptions"));
    for s in &report.1 {
        let state = s["state"].as_str().unwrap_or_default();
        let lag: Vec<String> = s["lag"]
            .as_object()
            .map(|m| m.iter().map(|(p, l)| format!("{p}:{l}")).collect())
            .unwrap_or_default();
        let dl = match s["deadletters"].as_i64() {
            Some(0) => "0 dead letters".to_string(),
            Some(n) => printer.out_style(
                RED,
                &format!("{n} dead letter{}", if n == 1 { "" } else { "s" }),
            ),
            None => "no dead-letter topic".to_string(),
        };
        lines.push(format!(
            "  {:<40} {}  lag {} ({})  {}",
            s["name"].as_str().unwrap_or_default(),
            if state == "running" {
                printer.out_style(GREEN, "running")
            } else {
                printer.out_style(DIM, "idle   ")
            },
            s["total_lag"],
            lag.join(" "),
            dl
        ));
    }
    for l in lines {
        if !printer.data(&l) {
            break;
        }
    }
    Ok(())
}

fn broker_json(broker: &BrokerHandle) -> Value {
    match &broker.container {
        Some(c) => {
            let uptime = c
                .started_at
                .as_deref()
                .and_then(|s| humantime::parse_rfc3339_weak(s).ok())
                .and_then(|t| SystemTime::now().duration_since(t).ok())
                .map(|d| humantime::format_duration(Duration::from_secs(d.as_secs())).to_string());
            json!({"kind": c.kind, "container": c.name, "image": c.image, "address": c.address(), "uptime": uptime})
        }
        None => {
            json!({"kind": "external", "container": null, "address": broker.connection.bootstrap, "uptime": null})
        }
    }
}

/// Topics with end offsets and subscriptions with lag (blocking calls).
fn status_report(
    conn: &Connection,
    project: &Project,
    live: &[String],
) -> Result<(Vec<Value>, Vec<Value>)> {
    let reader = conn.reader("status").map_err(kafka_err)?;
    let mut marks: BTreeMap<String, Vec<(i32, i64, i64)>> = BTreeMap::new();
    let mut topics = Vec::new();
    for t in project.topics() {
        let name = t.kafka_name();
        let Ok(parts) = partitions_of(&reader, &name) else {
            topics.push(json!({"name": name, "partitions": 0, "events": 0, "end_offsets": [], "provisioned": false}));
            continue;
        };
        let mut m = Vec::new();
        for p in parts {
            let (low, high) = kafka::watermarks(&reader, &name, p).map_err(kafka_err)?;
            m.push((p, low, high));
        }
        let events: i64 = m.iter().map(|(_, l, h)| h - l).sum();
        topics.push(json!({
            "name": name,
            "partitions": m.len(),
            "events": events,
            "end_offsets": m.iter().map(|(_, _, h)| *h).collect::<Vec<_>>(),
            "provisioned": true,
        }));
        marks.insert(name, m);
    }
    let mut subs = Vec::new();
    for s in project.subscriptions() {
        let topic = s.topic_kafka_name();
        let m = marks.get(&topic).cloned().unwrap_or_default();
        let group = conn.group_committer(&s.group_id()).map_err(kafka_err)?;
        let parts: Vec<i32> = m.iter().map(|(p, _, _)| *p).collect();
        let committed = kafka::committed(&group, &topic, &parts).map_err(kafka_err)?;
        kafka::close_consumer(group);
        let mut lag = serde_json::Map::new();
        let mut total = 0;
        for (p, low, high) in &m {
            let l = match committed.get(p).copied().flatten() {
                Some(c) => (high - c.max(*low)).max(0),
                None if s.from == StartFrom::Beginning => high - low,
                None => 0,
            };
            total += l;
            lag.insert(p.to_string(), l.into());
        }
        let deadletters = if s.deadletter {
            let dlq = s.deadletter_kafka_name();
            let cursor_group = conn
                .group_committer(&deadletter::cursor_group(s))
                .map_err(kafka_err)?;
            let dm = marks.get(&dlq).cloned().unwrap_or_default();
            let dparts: Vec<i32> = dm.iter().map(|(p, _, _)| *p).collect();
            let cursor = kafka::committed(&cursor_group, &dlq, &dparts).map_err(kafka_err)?;
            kafka::close_consumer(cursor_group);
            let n: i64 = dm
                .iter()
                .map(|(p, low, high)| {
                    high - cursor.get(p).copied().flatten().unwrap_or(*low).max(*low)
                })
                .sum();
            Value::from(n.max(0))
        } else {
            Value::Null
        };
        subs.push(json!({
            "name": s.qualified(),
            "group": s.group_id(),
            "topic": topic,
            "state": if live.contains(&s.qualified()) { "running" } else { "idle" },
            "lag": lag,
            "total_lag": total,
            "deadletters": deadletters,
        }));
    }
    kafka::close_consumer(reader);
    Ok((topics, subs))
}

// ---------------------------------------------------------------- publish

async fn publish(
    project: &Project,
    printer: &Printer,
    topic: &str,
    event: Option<String>,
    key: Option<String>,
) -> Result<()> {
    let topic = topic_arg(project, topic)?.clone();
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
            let mut v = Vec::new();
            for (i, line) in std::io::stdin().lock().lines().enumerate() {
                let line =
                    line.map_err(|e| Error::failed(format!("cannot read stdin: {e}"), None))?;
                if !line.trim().is_empty() {
                    v.push((i + 1, line));
                }
            }
            v
        }
    };
    // Validate everything first: bad input publishes nothing.
    let mut problems = Vec::new();
    for (line, text) in &events {
        let check = serde_json::from_str::<Value>(text)
            .map_err(|e| publisher::PublishError::NotJson {
                topic: topic.kafka_name(),
                cause: e.to_string(),
            })
            .and_then(|v| publisher::event_key(&topic, &v, key.as_deref()));
        if let Err(e) = check {
            problems.push(if from_stdin {
                format!("stdin line {line}: {e}")
            } else {
                e.to_string()
            });
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        let mut msg = problems
            .into_iter()
            .take(10)
            .collect::<Vec<_>>()
            .join("\n  ");
        if n > 10 {
            msg.push_str(&format!("\n  ... and {} more", n - 10));
        }
        return Err(Error::usage(
            format!("nothing was published; {n} invalid event{}:\n  {msg}", if n == 1 { "" } else { "s" }),
            Some("each event is one JSON document per line; multi-partition topics need their key field or --key".to_string()),
        ));
    }
    let broker = provision::running_broker(project).await?;
    let admin = broker.connection.admin()?;
    if !admin
        .topics(Duration::from_secs(10))
        .await?
        .contains_key(&topic.kafka_name())
    {
        return Err(Error::failed(
            format!(
                "topic `{}` does not exist on the broker yet",
                topic.kafka_name()
            ),
            Some("`ftl dev` creates the project's topics".to_string()),
        ));
    }
    let producer = broker.connection.producer()?;
    let total = events.len();
    let spinner = (total > 1 && printer.shows_progress()).then(|| {
        printer.spinner(&format!(
            "publishing {total} events to {}",
            topic.kafka_name()
        ))
    });
    let mut results = futures_util::stream::iter(events.iter())
        .map(|(_, text)| publisher::publish(&producer, &topic, text.as_bytes(), key.as_deref()))
        .buffered(1000);
    let mut done = 0;
    while let Some(r) = results.next().await {
        let p = r?;
        done += 1;
        if let Some(s) = &spinner {
            s.set_message(format!(
                "published {done}/{total} to {}",
                topic.kafka_name()
            ));
        }
        if printer.json {
            printer.json_line(&json!(p));
        } else if total == 1 {
            printer.data(&format!(
                "{} {}@{}{}",
                p.topic,
                p.partition,
                p.offset,
                p.key
                    .as_ref()
                    .map(|k| format!(" key={k}"))
                    .unwrap_or_default()
            ));
        }
    }
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    if total != 1 {
        printer.info(&format!(
            "published {done} event{} to {}",
            if done == 1 { "" } else { "s" },
            topic.kafka_name()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------- tail

#[derive(Debug, Clone, Copy, PartialEq)]
enum TailFrom {
    Beginning,
    Latest,
    Offset(i64),
    Last(i64),
    Time(i64),
}

impl TailFrom {
    fn parse(text: &str) -> Result<TailFrom> {
        Ok(match text {
            "beginning" => TailFrom::Beginning,
            "latest" => TailFrom::Latest,
            t if t.parse::<i64>().is_ok_and(|n| n >= 0) => TailFrom::Offset(t.parse().unwrap_or(0)),
            t if t.starts_with('-') && t[1..].parse::<i64>().is_ok() => {
                TailFrom::Last(t[1..].parse().unwrap_or(0))
            }
            t => TailFrom::Time(epoch_millis(parse_time(t, SystemTime::now()).map_err(
                |e| {
                    Error::usage(
                        format!("bad --from: {e}"),
                        Some(
                            "use beginning, latest, an offset, -N, a time (RFC 3339) or -10m"
                                .to_string(),
                        ),
                    )
                },
            )?)),
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn tail(
    conn: &Connection,
    topic: &Topic,
    from: TailFrom,
    only: &[i32],
    limit: Option<u64>,
    follow: bool,
    printer: &Printer,
    stop: &AtomicBool,
) -> Result<()> {
    use rdkafka::consumer::Consumer;
    let name = topic.kafka_name();
    let reader = conn.reader("tail").map_err(kafka_err)?;
    let all = partitions_of(&reader, &name).map_err(kafka_err)?;
    let selected: Vec<i32> = if only.is_empty() {
        all.clone()
    } else {
        only.to_vec()
    };
    if let Some(bad) = selected.iter().find(|p| !all.contains(p)) {
        return Err(Error::usage(
            format!("topic `{name}` has no partition {bad}"),
            Some(format!(
                "its partitions are 0 to {}",
                all.len().saturating_sub(1)
            )),
        ));
    }
    let mut tpl = rdkafka::TopicPartitionList::new();
    let starts: BTreeMap<i32, Offset> = match from {
        TailFrom::Time(ms) => {
            let mut marks = Vec::new();
            for p in &selected {
                marks.push((
                    *p,
                    kafka::watermarks(&reader, &name, *p).map_err(kafka_err)?.1,
                ));
            }
            kafka::offsets_for_time(&reader, &name, &marks, ms)
                .map_err(kafka_err)?
                .into_iter()
                .map(|(p, o)| (p, Offset::Offset(o)))
                .collect()
        }
        other => selected
            .iter()
            .map(|p| {
                let o = match other {
                    TailFrom::Beginning => Offset::Beginning,
                    TailFrom::Latest => Offset::End,
                    TailFrom::Offset(n) => Offset::Offset(n),
                    TailFrom::Last(n) => Offset::OffsetTail(n),
                    TailFrom::Time(_) => Offset::End,
                };
                (*p, o)
            })
            .collect(),
    };
    for (p, o) in &starts {
        let _ = tpl.add_partition_offset(&name, *p, *o);
    }
    reader
        .assign(&tpl)
        .map_err(|e| Error::failed(format!("cannot read {name}: {e}"), None))?;
    let mut at_end: std::collections::HashSet<i32> = std::collections::HashSet::new();
    let mut shown: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        if limit.is_some_and(|n| shown >= n) {
            break;
        }
        match reader.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                at_end.remove(&m.partition());
                shown += 1;
                if !print_record(printer, &m) {
                    break; // stdout closed (`| head`): not an error
                }
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
                if !follow && selected.iter().all(|p| at_end.contains(p)) {
                    break;
                }
            }
            Some(Err(e)) => tracing::debug!("tail {name}: {e}"),
            None => {}
        }
    }
    // No group was joined and nothing is committed: dropping is enough.
    kafka::close_consumer(reader);
    Ok(())
}

fn print_record(printer: &Printer, m: &rdkafka::message::BorrowedMessage<'_>) -> bool {
    let payload = m.payload().unwrap_or_default();
    let event: Value = serde_json::from_slice(payload)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(payload).into_owned()));
    let key = m.key().map(|k| String::from_utf8_lossy(k).into_owned());
    let ts = m.timestamp().to_millis();
    let headers = kafka::header_map(m.headers());
    let time = ts.map(|ms| {
        deadletter::rfc3339(std::time::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64))
    });
    if printer.json {
        return printer.json_line(&json!({
            "topic": m.topic(),
            "partition": m.partition(),
            "offset": m.offset(),
            "timestamp": ts,
            "time": time,
            "key": key,
            "headers": headers,
            "event": event,
        }));
    }
    let mut text = format!(
        "{} {}{}",
        printer.out_style(CYAN, &format!("{}@{}", m.partition(), m.offset())),
        printer.out_style(DIM, time.as_deref().unwrap_or("-")),
        key.map(|k| format!(" key={k}")).unwrap_or_default()
    );
    if printer.verbose > 0 {
        for (k, v) in &headers {
            text.push_str(&format!(
                "\n  {} {k}={}",
                printer.out_style(DIM, "header"),
                v
            ));
        }
    }
    text.push('\n');
    text.push_str(&pretty_json(&event, printer.colors_stdout()));
    printer.data(&text)
}

// ---------------------------------------------------------------- replay

async fn replay(
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
            (ReplayFrom::Time(epoch_millis(at)), deadletter::rfc3339(at))
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
    if let Some(live) = LiveRunner::find(project).await.filter(|l| l.runs(sub)) {
        let summary = live
            .post(&format!(
                "/admin/subscriptions/{}/replay?from={}",
                sub.qualified(),
                from.to_param()
            ))
            .await?;
        let n = summary["redelivered"].as_i64().unwrap_or(0);
        if printer.json {
            printer.json_line(&json!({"subscription": sub.qualified(), "redelivered": n, "through": "runner", "partitions": summary["partitions"]}));
        } else {
            printer.data(&format!(
                "{}: moved to {label}; {n} event{} will be redelivered by the running ftl dev (pid {})",
                sub.qualified(),
                if n == 1 { "" } else { "s" },
                live.pid()
            ));
        }
        return Ok(());
    }
    let broker = provision::running_broker(project).await?;
    let conn = broker.connection.clone();
    let s = sub.clone();
    let (n, parts) = blocking(move || move_idle_group(&conn, &s, from)).await?;
    if printer.json {
        printer.json_line(&json!({"subscription": sub.qualified(), "redelivered": n, "through": "idle group", "partitions": parts}));
    } else {
        printer.data(&format!(
            "{}: moved to {label}; {n} event{} will be delivered when `ftl dev` starts",
            sub.qualified(),
            if n == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

/// Commits new offsets for a group no runner holds, from a consumer with
/// the group's id that never joins it.
fn move_idle_group(
    conn: &Connection,
    sub: &Subscription,
    from: ReplayFrom,
) -> Result<(i64, Vec<PartitionMove>)> {
    use rdkafka::consumer::{CommitMode, Consumer};
    let topic = sub.topic_kafka_name();
    let group = conn.group_committer(&sub.group_id()).map_err(kafka_err)?;
    let parts = partitions_of(&group, &topic).map_err(kafka_err)?;
    let targets = replay_targets(&group, &topic, &parts, from).map_err(kafka_err)?;
    let mut tpl = rdkafka::TopicPartitionList::new();
    for (p, o, _) in &targets {
        let _ = tpl.add_partition_offset(&topic, *p, Offset::Offset(*o));
    }
    let result = group.commit(&tpl, CommitMode::Sync);
    kafka::close_consumer(group);
    if let Err(e) = result {
        let text = e.to_string();
        let hint = if text.contains("UnknownMemberId")
            || text.contains("RebalanceInProgress")
            || text.contains("IllegalGeneration")
        {
            "the group still lists a member: a runner elsewhere, or one that was killed (the broker drops a dead member only when another joins). Start `ftl dev` and run the replay again: it then goes through the runner"
        } else {
            "is the broker healthy? `ftl pubsub status` tells"
        };
        return Err(Error::failed(
            format!(
                "the broker refused to move the offsets of group `{}`: {text}",
                sub.group_id()
            ),
            Some(hint.to_string()),
        ));
    }
    let n = targets.iter().map(|(_, o, h)| (h - o).max(0)).sum();
    Ok((n, targets))
}

// ---------------------------------------------------------------- dead letters

async fn deadletters(
    project: &Project,
    printer: &Printer,
    name: &str,
    limit: Option<u64>,
    all: bool,
) -> Result<()> {
    let sub = deadletter_sub(project, name)?.clone();
    let broker = provision::running_broker(project).await?;
    let conn = broker.connection.clone();
    let s = sub.clone();
    let items =
        blocking(move || deadletter::read(&conn, &s, all, limit).map_err(kafka_err)).await?;
    let pending = items.iter().filter(|(d, _)| !d.replayed).count();
    for (dl, _) in &items {
        let ok = if printer.json {
            printer.json_line(&json!(dl))
        } else {
            printer.data(&render_deadletter(printer, dl, None))
        };
        if !ok {
            return Ok(());
        }
    }
    if !printer.json {
        printer.info(&format!(
            "{pending} pending dead letter{} of {}{}",
            if pending == 1 { "" } else { "s" },
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

fn render_deadletter(printer: &Printer, dl: &DeadLetter, outcome: Option<&Replayed>) -> String {
    let mut head = format!(
        "{} from {} {}@{}  attempts {}  first failed {}  last failed {}{}",
        printer.out_style(CYAN, &format!("{}@{}", dl.partition, dl.offset)),
        dl.source_topic,
        dl.source_partition
            .map(|p| p.to_string())
            .unwrap_or_else(|| "?".into()),
        dl.source_offset
            .map(|p| p.to_string())
            .unwrap_or_else(|| "?".into()),
        dl.attempts,
        dl.first_failed_at,
        dl.failed_at,
        dl.key
            .as_ref()
            .map(|k| format!("  key={k}"))
            .unwrap_or_default(),
    );
    if dl.replayed {
        head.push_str(&printer.out_style(DIM, "  (replayed)"));
    }
    let mut text = head;
    text.push_str(&format!(
        "\n  {} {}",
        printer.out_style(RED, "error:"),
        dl.error
    ));
    if let Some(r) = outcome {
        let o = match r.outcome.as_str() {
            "ok" => printer.out_style(GREEN, "replayed: ok"),
            "failed" => printer.out_style(
                RED,
                &format!(
                    "replayed: failed again: {}",
                    r.new_error.as_deref().unwrap_or_default()
                ),
            ),
            other => printer.out_style(YELLOW, &format!("would replay ({other})")),
        };
        text.push_str(&format!("\n  {o}"));
    }
    let color = printer.colors_stdout();
    for line in pretty_json(&dl.event, color).lines() {
        text.push_str(&format!("\n  {line}"));
    }
    text
}

async fn replay_deadletter(
    project: &Project,
    printer: &Printer,
    name: &str,
    dry_run: bool,
    limit: Option<u64>,
) -> Result<()> {
    let sub = deadletter_sub(project, name)?.clone();
    let live = LiveRunner::find(project).await.filter(|l| l.runs(&sub));
    let (items, through): (Vec<Replayed>, String) = match live {
        Some(l) => {
            let mut q = format!(
                "/admin/subscriptions/{}/replay-deadletter?dry_run={dry_run}",
                sub.qualified()
            );
            if let Some(n) = limit {
                q.push_str(&format!("&limit={n}"));
            }
            let v = l.post(&q).await?;
            let items = v
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| serde_json::from_value(r.clone()).ok())
                        .collect()
                })
                .unwrap_or_default();
            (items, format!("the running ftl dev (pid {})", l.pid()))
        }
        None => {
            let broker = provision::running_broker(project).await?;
            let verb = project
                .verb(&sub.module, &sub.verb)
                .cloned()
                .ok_or_else(|| Error::failed(format!("verb `{}` is gone", sub.verb), None))?;
            let module_dir = project.module_dir(&sub.module);
            let producer = broker.connection.producer()?;
            let http = reqwest::Client::new();
            let target = deadletter::ReplayTarget {
                connection: &broker.connection,
                producer: &producer,
                http: &http,
                sub: &sub,
                verb: &verb,
                module_dir: &module_dir,
            };
            (
                deadletter::replay(&target, limit, dry_run).await?,
                "this command".to_string(),
            )
        }
    };
    let ok = items.iter().filter(|r| r.outcome == "ok").count();
    let failed = items.iter().filter(|r| r.outcome == "failed").count();
    for r in &items {
        let shown = if printer.json {
            printer.json_line(&json!(r))
        } else {
            printer.data(&render_deadletter(printer, &r.dead_letter, Some(r)))
        };
        if !shown {
            break;
        }
    }
    if printer.json {
        return Ok(());
    }
    if dry_run {
        printer.info(&format!(
            "dry run: {} dead letter{} would be handed to verb `{}`",
            items.len(),
            if items.len() == 1 { "" } else { "s" },
            sub.verb
        ));
    } else {
        printer.info(&format!(
            "replayed {} dead letter{} of {} to verb `{}` through {through}: {ok} succeeded, {failed} failed again (kept with their new error)",
            items.len(),
            if items.len() == 1 { "" } else { "s" },
            sub.qualified(),
            sub.verb
        ));
    }
    Ok(())
}
