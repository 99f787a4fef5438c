//! `ftl pubsub tail TOPIC`: print events as they arrive (partition, offset,
//! time, key, pretty JSON), or NDJSON with `--json`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::admin::RecordLine;
use crate::error::{Error, Result};
use crate::kafka::tail::{Next, Record, Tail, TailError, TailFrom};
use crate::output::{pretty_json, DataBatch, Printer, CYAN, DIM};
use crate::provision;
use crate::schema::Project;

use super::{blocking, topic_arg};

pub struct TailArgs {
    pub from: String,
    pub partitions: Vec<i32>,
    pub limit: Option<u64>,
    pub follow: bool,
}

pub async fn tail(project: &Project, printer: &Printer, topic: &str, args: TailArgs) -> Result<()> {
    let topic = topic_arg(project, topic)?.kafka_name();
    let topic_name = topic.clone();
    let printer_for_summary = printer.clone();
    let from = parse_from(&args.from)?;
    let broker = provision::running_broker(project).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        s.store(true, Ordering::SeqCst);
    });
    let printer = printer.clone();
    let conn = broker.connection.clone();
    let described = args.from.clone();
    let (shown, followed) = blocking(move || {
        let tail = Tail::open(&conn, &topic, from, &args.partitions).map_err(|e| match e {
            TailError::NoPartition {
                topic,
                partition,
                count,
            } => Error::usage(
                format!("topic `{topic}` has no partition {partition}"),
                Some(format!(
                    "its partitions are 0 to {}",
                    count.saturating_sub(1)
                )),
            ),
            TailError::Kafka(k) => k.into(),
        })?;
        // Following: as events arrive. Not following: everything up to the
        // end, partitions merged in timestamp order.
        let mut next: Box<dyn FnMut(Duration) -> Next> = if args.follow {
            let mut tail = tail;
            Box::new(move |wait| tail.next(wait))
        } else {
            let mut merged = tail.merged();
            Box::new(move |wait| merged.next(wait))
        };
        let mut shown: u64 = 0;
        let mut batch = DataBatch::new();
        while !stop.load(Ordering::SeqCst) && args.limit.is_none_or(|n| shown < n) {
            match next(Duration::from_millis(200)) {
                Next::Record(r) => {
                    shown += 1;
                    let written = if printer.json {
                        printer.json_batched(&mut batch, &RecordLine::from(r))
                    } else {
                        printer.data_batched(&mut batch, &render_record(&printer, r))
                    };
                    if !written {
                        return Ok((shown, args.follow)); // stdout closed (`| head`): not an error
                    }
                }
                Next::AtEnd if !args.follow => break,
                // Nothing more right now: show what is there.
                Next::AtEnd | Next::Idle => {
                    if !printer.flush_data(&mut batch) {
                        return Ok((shown, args.follow));
                    }
                }
            }
        }
        printer.flush_data(&mut batch);
        Ok((shown, args.follow))
    })
    .await?;
    if shown == 0 && !followed {
        printer_for_summary.info(&match described.as_str() {
            "latest" => "no events: `--from latest` (the default) shows only events published from now on; \
                 `--from beginning` or `--from -10` shows earlier ones, and without --no-follow tail waits for new ones"
                .to_string(),
            other => format!("no events in {topic_name} from `{other}`"),
        });
    }
    Ok(())
}

fn parse_from(text: &str) -> Result<TailFrom> {
    TailFrom::parse(text, SystemTime::now()).map_err(|e| {
        Error::usage(
            format!("bad --from: {e}"),
            Some("use beginning, latest, an offset, -N, a time (RFC 3339) or -10m".to_string()),
        )
    })
}

/// One event as `tail` shows it: a JSON line with `--json`.
/// A record as text (`--json` writes [`RecordLine`] instead).
fn render_record(printer: &Printer, r: Record) -> String {
    let (partition, offset) = (r.partition, r.offset);
    let line = RecordLine::from(r);
    let (time, event) = (line.time, line.event);
    let mut text = format!(
        "{} {}{}",
        printer.out_style(CYAN, &format!("{partition}@{offset}")),
        printer.out_style(DIM, time.as_deref().unwrap_or("-")),
        line.key
            .as_ref()
            .map(|k| format!(" key={k}"))
            .unwrap_or_default()
    );
    if let Some(k) = &line.request_key {
        text.push_str(&format!(" request={k}"));
    }
    if let Some(t) = &line.published_at {
        text.push_str(&format!(" published={t}"));
    }
    if printer.verbose > 0 {
        for (k, v) in &line.headers {
            text.push_str(&format!(
                "\n  {} {k}={}",
                printer.out_style(DIM, "header"),
                v
            ));
        }
    }
    text.push('\n');
    text.push_str(&pretty_json(&event, printer.colors_stdout()));
    text
}
