//! `ftl pubsub tail TOPIC`: print events as they arrive (partition, offset,
//! time, key, pretty JSON), or NDJSON with `--json`.

use std::time::SystemTime;

use crate::access::{self, TailRequest, Tailed};
use crate::admin::RecordLine;
use crate::error::{Error, Result};
use crate::kafka::tail::{Record, TailFrom};
use crate::output::{escape_controls, pretty_json, DataBatch, Printer, CYAN, DIM, RED};
use crate::schema::Project;
use crate::types::TopicType;

use super::topic_arg;

pub struct TailArgs {
    pub from: String,
    pub partitions: Vec<i32>,
    pub limit: Option<u64>,
    pub follow: bool,
}

pub async fn tail(project: &Project, printer: &Printer, topic: &str, args: TailArgs) -> Result<()> {
    let declared = topic_arg(project, topic)?;
    let ty = declared.ty.clone();
    let topic = declared.kafka_name();
    let request = TailRequest {
        topic: topic.clone(),
        from: parse_from(&args.from)?,
        partitions: args.partitions,
        limit: args.limit,
        follow: args.follow,
    };
    // Following: as events arrive. Not following: everything up to the
    // end, partitions merged in timestamp order.
    let out = printer.clone();
    let mut batch = DataBatch::new();
    let shown = access::tail(project, request, move |t| match t {
        Tailed::Record(r) => {
            if out.json {
                out.json_batched(&mut batch, &RecordLine::typed(r, &ty))
            } else {
                let text = render_record(&out, r, &ty);
                out.data_batched(&mut batch, &text)
            }
        }
        // Nothing more right now: show what is there. False when stdout
        // is closed (`| head`): the end, not an error.
        Tailed::Idle => out.flush_data(&mut batch),
    })
    .await?;
    if shown == 0 && !args.follow {
        printer.info(&match args.from.as_str() {
            "latest" => "no events: `--from latest` (the default) shows only events published from now on; \
                 `--from beginning` or `--from -10` shows earlier ones, and without --no-follow tail waits for new ones"
                .to_string(),
            other => format!("no events in {topic} from `{other}`"),
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
fn render_record(printer: &Printer, r: Record, ty: &TopicType) -> String {
    let (partition, offset) = (r.partition, r.offset);
    let line = RecordLine::typed(r, ty);
    let (time, event) = (line.time, line.event);
    let mut text = format!(
        "{} {}{}",
        printer.out_style(CYAN, &format!("{partition}@{offset}")),
        printer.out_style(DIM, time.as_deref().unwrap_or("-")),
        line.key
            .as_ref()
            .map(|k| format!(" key={}", escape_controls(k)))
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
                "\n  {} {}={}",
                printer.out_style(DIM, "header"),
                escape_controls(k),
                escape_controls(v)
            ));
        }
    }
    if let Some(problem) = &line.invalid {
        text.push_str(&format!(
            "\n  {} {problem}",
            printer.out_style(RED, &format!("✗ not a {}:", ty.name()))
        ));
    }
    text.push('\n');
    text.push_str(&pretty_json(&event, printer.colors_stdout()));
    text
}
