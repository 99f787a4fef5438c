//! A trace as text: one tree, publishes and the deliveries under them.

use super::{DeliveryNode, PublishNode, Trace};

/// The tree of `t` as lines of text (no colors; the caller styles the
/// whole). Times are shown as given (UTC).
pub fn render(t: &Trace) -> String {
    let mut out = format!("request {}\n", t.request_key);
    if !t.found {
        out.push_str("  (nothing kept of it)\n");
        return out;
    }
    let n = t.publishes.len();
    for (i, p) in t.publishes.iter().enumerate() {
        publish(&mut out, p, "", i + 1 == n);
    }
    if t.truncated {
        out.push_str("  … more steps than one request may keep: the latest are not shown\n");
    }
    out
}

fn branch(last: bool) -> (&'static str, &'static str) {
    if last {
        ("└─ ", "   ")
    } else {
        ("├─ ", "│  ")
    }
}

fn time_of(t: &str) -> String {
    // `2026-12-05T17:41:02.123456789Z` → `17:41:02.123`
    let Some((_, rest)) = t.split_once('T') else {
        return t.to_string();
    };
    let rest = rest.trim_end_matches('Z');
    match rest.split_once('.') {
        Some((hms, frac)) => format!("{hms}.{}", &frac[..frac.len().min(3)]),
        None => rest.to_string(),
    }
}

fn publish(out: &mut String, p: &PublishNode, prefix: &str, last: bool) {
    let (head, rest) = branch(last);
    let place = match (p.partition, p.offset) {
        (Some(pa), Some(o)) => format!("{pa}@{o}"),
        _ => "not published".to_string(),
    };
    let mut line = format!("{prefix}{head}publish {} {place}", p.topic);
    if let Some(t) = &p.published_at {
        line.push_str(&format!(" at {}", time_of(t)));
    }
    match &p.by {
        Some(by) => line.push_str(&format!(" by {by}")),
        None => line.push_str(" by another client"),
    }
    if let Some(k) = &p.key {
        line.push_str(&format!(" key={k}"));
    }
    if let Some(e) = &p.error {
        line.push_str(&format!(": {e}"));
    }
    out.push_str(&line);
    out.push('\n');
    let inner = format!("{prefix}{rest}");
    let n = p.deliveries.len();
    for (i, d) in p.deliveries.iter().enumerate() {
        delivery(out, d, &inner, i + 1 == n);
    }
}

fn delivery(out: &mut String, d: &DeliveryNode, prefix: &str, last: bool) {
    let (head, rest) = branch(last);
    let mut line = format!("{prefix}{head}{}", d.subscription);
    if let Some(v) = &d.verb {
        line.push_str(&format!(" → {v}"));
    }
    line.push_str(&format!(": {}", d.status.describe()));
    if let Some(at) = &d.dead_letter {
        line.push_str(&format!(" to {at}"));
    }
    let attempts = d.attempts.len();
    if attempts > 0 {
        line.push_str(&format!(
            " ({} attempt{}",
            attempts,
            if attempts == 1 { "" } else { "s" }
        ));
        if let Some(ms) = d.since_published_ms {
            line.push_str(&format!(", {} after the publish", fmt_ms(ms)));
        }
        line.push(')');
    }
    out.push_str(&line);
    out.push('\n');
    let inner = format!("{prefix}{rest}");
    let children = d.publishes.len();
    let bar = if children > 0 { "│  " } else { "   " };
    for a in &d.attempts {
        let mut l = format!(
            "{inner}{bar}#{} at {} {}",
            a.attempt,
            time_of(&a.started_at),
            a.outcome
        );
        if let Some(ms) = a.ms {
            l.push_str(&format!(" after {}", fmt_ms(ms)));
        }
        if let Some(e) = &a.error {
            l.push_str(&format!(": {e}"));
        }
        out.push_str(&l);
        out.push('\n');
    }
    for (i, p) in d.publishes.iter().enumerate() {
        publish(out, p, &inner, i + 1 == children);
    }
}

fn fmt_ms(ms: u64) -> String {
    if ms < 10_000 {
        format!("{ms} ms")
    } else {
        crate::units::format_duration(std::time::Duration::from_millis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_show_hours_to_milliseconds() {
        assert_eq!(time_of("2026-12-05T17:41:02.123456789Z"), "17:41:02.123");
        assert_eq!(time_of("2026-12-05T17:41:02.1Z"), "17:41:02.1");
        assert_eq!(time_of("2026-12-05T17:41:02Z"), "17:41:02");
        assert_eq!(time_of("x"), "x");
    }
}
