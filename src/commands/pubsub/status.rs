//! `ftl pubsub status`: the broker, the topics and every subscription's
//! state, lag and pending dead letters.

use std::time::Duration;

use crate::error::Result;
use crate::inspect::StatusReport;
use crate::output::{counted, Printer, BOLD, DIM, GREEN, RED, YELLOW};
use crate::schema::Project;

pub async fn status(project: &Project, printer: &Printer, check: bool) -> Result<()> {
    let report = crate::access::status(project, check).await?;
    if printer.json {
        printer.json_line(&serde_json::to_value(&report).unwrap_or_default());
        return Ok(());
    }
    for l in render(&report, printer) {
        if !printer.data(&l) {
            break;
        }
    }
    Ok(())
}

fn render(report: &StatusReport, printer: &Printer) -> Vec<String> {
    let b = &report.broker;
    let mut lines = vec![format!(
        "{} {} {} on {}{}",
        printer.out_style(BOLD, "broker"),
        b.kind,
        b.container.as_deref().unwrap_or("(external)"),
        b.address,
        b.uptime_s
            .map(|s| format!(
                ", up {}",
                humantime::format_duration(Duration::from_secs(s))
            ))
            .unwrap_or_default()
    )];
    if report.runners.is_empty() {
        lines.push(format!(
            "{} no ftl dev running",
            printer.out_style(BOLD, "runner")
        ));
    }
    for r in &report.runners {
        lines.push(format!(
            "{} ftl dev running (pid {}) on {}",
            printer.out_style(BOLD, "runner"),
            r.pid,
            r.listen
        ));
    }
    lines.push(printer.out_style(BOLD, "topics"));
    for t in &report.topics {
        if !t.provisioned {
            lines.push(format!(
                "  {:<40} {}",
                t.name,
                printer.out_style(YELLOW, "not created — ftl dev creates it")
            ));
            continue;
        }
        let ends: Vec<String> = t
            .end_offsets
            .iter()
            .enumerate()
            .map(|(p, o)| format!("{p}:{o}"))
            .collect();
        lines.push(format!(
            "  {:<40} {} partition{}  {}  end offsets {}",
            t.name,
            t.partitions,
            if t.partitions == 1 { " " } else { "s" },
            counted(t.events.max(0) as usize, "event"),
            ends.join(" ")
        ));
        if let Some(c) = &t.type_check {
            let style = if c.invalid > 0 { RED } else { GREEN };
            let mark = if c.invalid > 0 { "✗" } else { "✓" };
            lines.push(format!(
                "    {} {}",
                printer.out_style(style, mark),
                check_summary(c)
            ));
        }
    }
    lines.push(printer.out_style(BOLD, "subscriptions"));
    for s in &report.subscriptions {
        let lag: Vec<String> = s.lag.iter().map(|(p, l)| format!("{p}:{l}")).collect();
        let dl = match s.deadletters {
            Some(0) => "0 dead letters".to_string(),
            Some(n) => printer.out_style(RED, &counted(n as usize, "dead letter")),
            None => "no dead-letter topic".to_string(),
        };
        let state = match s.state.as_str() {
            "running" => printer.out_style(GREEN, "running"),
            "failed" => printer.out_style(
                RED,
                &format!("failed: {}", s.reason.as_deref().unwrap_or("unknown")),
            ),
            "idle" => printer.out_style(DIM, "idle   "),
            "waiting_for_verb" => printer.out_style(
                YELLOW,
                &format!(
                    "waiting for verb: {};",
                    s.reason.as_deref().unwrap_or("it is not ready")
                ),
            ),
            other => printer.out_style(YELLOW, other),
        };
        let created = report
            .topics
            .iter()
            .find(|t| t.name == s.topic)
            .is_none_or(|t| t.provisioned);
        let lag = if !created {
            printer.out_style(YELLOW, "no lag yet (topic not created)")
        } else if lag.is_empty() {
            format!("lag {}", s.total_lag)
        } else {
            format!("lag {} ({})", s.total_lag, lag.join(" "))
        };
        let flight = if s.in_flight.is_empty() {
            String::new()
        } else {
            let per: Vec<String> = s
                .in_flight
                .iter()
                .map(|(p, n)| format!("{p}:{n}"))
                .collect();
            format!(
                "  in flight {} ({})",
                s.in_flight.values().sum::<u32>(),
                per.join(" ")
            )
        };
        lines.push(format!("  {:<40} {state}  {lag}  {dl}{flight}", s.name));
    }
    lines
}

/// `2 of 120 retained events do not match pizza.Order; first: 0@4: ...`.
fn check_summary(c: &crate::retained::RetainedCheck) -> String {
    let read = format!(
        "{}{}",
        counted(c.read as usize, "retained event"),
        if c.complete {
            ""
        } else {
            " (read up to the bound)"
        }
    );
    if c.invalid == 0 {
        return format!("{read}, all of type {}", c.ty);
    }
    let first: Vec<String> = c
        .first
        .iter()
        .map(|i| format!("{}@{}: {}", i.partition, i.offset, i.problem))
        .collect();
    format!(
        "{} of {read} do not match {}; first: {}",
        c.invalid,
        c.ty,
        first.join("; ")
    )
}
