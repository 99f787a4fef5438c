//! Sizes (`1KB`, `1MB`) and durations (`250ms`, `1s`) as written in `ftl.yaml`
//! and in the seed's `+batch` / `+retry` syntax. Parsing and printing live
//! together so `ftl schema` prints exactly what a user can write back.

use std::time::Duration;

/// Parses a byte size: a whole number followed by `B`, `KB`, `MB` or `GB`
/// (powers of 1024, as Sarama and the seed mean them). A bare number is bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "`{text}` is not a size: expected a whole number with a unit, like `1B`, `64KB` or `1MB`"
        ));
    }
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is too large"))?;
    let mult = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" | "K" | "KIB" => 1024,
        "MB" | "M" | "MIB" => 1024 * 1024,
        "GB" | "G" | "GIB" => 1024 * 1024 * 1024,
        other => {
            return Err(format!(
                "`{text}` has an unknown size unit `{other}`: use B, KB, MB or GB"
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Prints a size in the largest unit that divides it exactly.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")];
    for (mult, unit) in UNITS {
        if bytes >= mult && bytes % mult == 0 {
            return format!("{}{unit}", bytes / mult);
        }
    }
    format!("{bytes}B")
}

/// The longest duration anything accepts (100 years): every deadline and
/// sum computed from a user's duration then stays far from overflowing.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Parses a duration: a whole number followed by `ms`, `s`, `m` or `h`;
/// several parts may be combined (`1m30s`). Longer than `MAX_DURATION` is
/// an error, never an overflow.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration: write it like `250ms`, `1s` or `2m`".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (digits, tail) = rest.split_at(split);
        if digits.is_empty() {
            return Err(format!(
                "`{text}` is not a duration: write it like `250ms`, `1s` or `2m`"
            ));
        }
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("`{text}` is too large"))?;
        let too_long = || {
            format!(
                "`{text}` is too long: at most {}h",
                MAX_DURATION.as_secs() / 3600
            )
        };
        let secs = |mult: u64| {
            n.checked_mul(mult)
                .map(Duration::from_secs)
                .ok_or_else(too_long)
        };
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => secs(1)?,
            "m" => secs(60)?,
            "h" => secs(3600)?,
            "" => {
                return Err(format!(
                    "`{text}` has no unit: write `{text}ms` or `{text}s`"
                ))
            }
            other => {
                return Err(format!(
                    "`{text}` has an unknown duration unit `{}`: use ms, s, m or h",
                    other.trim()
                ))
            }
        };
        total = total
            .checked_add(part)
            .filter(|t| *t <= MAX_DURATION)
            .ok_or_else(too_long)?;
        rest = next;
    }
    Ok(total)
}

/// Prints a duration the way a user writes it (`250ms`, `1s`, `2m`, `1m30s`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms % 1000 != 0 {
        return format!("{ms}ms");
    }
    let mut secs = ms / 1000;
    let mut out = String::new();
    for (mult, unit) in [(3600, "h"), (60, "m")] {
        if secs >= mult {
            out.push_str(&format!("{}{unit}", secs / mult));
            secs %= mult;
        }
    }
    if secs > 0 {
        out.push_str(&format!("{secs}s"));
    }
    out
}

/// A point in time on the command line: RFC 3339 (`2026-11-25T10:00:00Z`)
/// or a duration before now (`-10m`).
pub fn parse_time(text: &str, now: std::time::SystemTime) -> Result<std::time::SystemTime, String> {
    if let Some(ago) = text.strip_prefix('-') {
        let d = parse_duration(ago)?;
        return now
            .checked_sub(d)
            .ok_or_else(|| format!("`{text}` reaches before 1970"));
    }
    humantime::parse_rfc3339_weak(text).map_err(|_| {
        format!("`{text}` is not a time: write RFC 3339 (`2026-11-25T10:00:00Z`) or a time ago (`-10m`)")
    })
}

/// Milliseconds since the epoch.
pub fn epoch_millis(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// "1 topic", "3 topics".
pub fn counted(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_or_ago() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(10_000);
        assert_eq!(parse_time("-10m", now), Ok(now - Duration::from_secs(600)));
        assert_eq!(
            epoch_millis(parse_time("1970-01-01T00:00:05Z", now).unwrap()),
            5000
        );
        assert!(parse_time("yesterday", now).is_err());
    }

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("1B"), Ok(1));
        assert_eq!(parse_size("1KB"), Ok(1024));
        assert_eq!(parse_size("1MB"), Ok(1024 * 1024));
        assert_eq!(parse_size("2gb"), Ok(2 << 30));
        assert_eq!(parse_size("17"), Ok(17));
        assert!(parse_size("MB").is_err());
        assert!(parse_size("1XB").unwrap_err().contains("unknown size unit"));
        assert!(parse_size("-1KB").is_err());
    }

    #[test]
    fn sizes_print_back_in_the_largest_exact_unit() {
        for text in ["1B", "1KB", "1MB", "3GB", "1500B"] {
            assert_eq!(format_size(parse_size(text).unwrap()), text);
        }
    }

    #[test]
    fn durations_parse_and_print_back() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("10").unwrap_err().contains("no unit"));
        // Regression: these overflowed into a panic.
        for huge in ["18446744073709551615s1s", "99999999999999999h1h", "876001h"] {
            assert!(
                parse_duration(huge).unwrap_err().contains("is too long"),
                "{huge}"
            );
        }
        assert_eq!(parse_duration("876000h"), Ok(MAX_DURATION));
        assert!(parse_duration("1y")
            .unwrap_err()
            .contains("unknown duration unit"));
        assert!(parse_duration("fast").is_err());
        for text in ["250ms", "1s", "2m", "1m30s", "1h"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
    }
}
