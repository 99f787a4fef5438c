//! CPU time and context switches of a process, from `/proc`: the runner's
//! cost per event beside the hand-written runner's (each in its own
//! process, so neither is charged for the benchmark's verb server).

/// What a process had used at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// User plus system CPU, seconds.
    pub cpu_s: f64,
    /// Voluntary and involuntary context switches of its threads alive now.
    pub switches: u64,
}

/// Clock ticks per second of `/proc/PID/stat`'s CPU times (`getconf
/// CLK_TCK`; 100 on every Linux this runs on, asked once in case not).
fn ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// The usage of process `pid` (`"self"` for this one) now.
pub fn of(pid: &str) -> Usage {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses:
    // utime and stime are the 14th and 15th fields of the line.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu_s = (ticks(11) + ticks(12)) / ticks_per_second();
    let mut switches = 0;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let status = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
            for line in status.lines() {
                if let Some(v) = line
                    .strip_prefix("voluntary_ctxt_switches:")
                    .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
                {
                    switches += v.trim().parse::<u64>().unwrap_or(0);
                }
            }
        }
    }
    Usage { cpu_s, switches }
}

/// What was used between two readings, per 100,000 events.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Cost {
    pub cpu_s: f64,
    pub switches: f64,
}

pub fn per_100k(before: Usage, after: Usage, events: usize) -> Cost {
    let scale = 100_000.0 / events.max(1) as f64;
    Cost {
        cpu_s: (after.cpu_s - before.cpu_s) * scale,
        switches: after.switches.saturating_sub(before.switches) as f64 * scale,
    }
}
