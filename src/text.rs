//! Small text forms every layer shares: an error with its causes on one
//! line, and a point in time as RFC 3339.

use std::time::SystemTime;

/// An error and its causes on one line (`a: b: c`), for events, logs and
/// API answers. A cause that only repeats the one above it is left out.
pub fn one_line(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut above = out.clone();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !above.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        above = text;
        source = s.source();
    }
    out
}

/// A point in time as RFC 3339 in UTC, to the millisecond.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}
