//! The one table the benchmark prints: each figure of `ftl` beside its
//! baseline measured in the same run, the ratio, the target and whether it
//! is met; medians and spreads over the repetitions.

#[derive(Clone, Copy)]
pub enum Better {
    Higher,
    Lower,
}

#[derive(Clone, Copy)]
pub enum Target {
    /// ftl ≥ this × baseline (for `Lower`: baseline ≥ this × ftl).
    Ratio(f64),
    /// ftl ≤ this (in the row's unit).
    AtMost(f64),
    /// ftl ≤ baseline + this (in the row's unit).
    WithinOf(f64),
    Reported,
}

pub struct Row {
    pub metric: String,
    pub unit: &'static str,
    pub better: Better,
    pub ftl: Vec<f64>,
    pub baseline: Option<Vec<f64>>,
    pub target: Target,
}

pub fn row(
    metric: String,
    unit: &'static str,
    better: Better,
    ftl: Vec<f64>,
    baseline: Option<Vec<f64>>,
    target: Target,
) -> Row {
    Row {
        metric,
        unit,
        better,
        ftl,
        baseline,
        target,
    }
}

pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

/// The `q` quantile (0..1) of `v`.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
}

fn spread(v: &[f64]) -> String {
    if v.len() < 2 {
        return String::new();
    }
    let (lo, hi) = v
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
    format!(" ±{:.0}%", (hi - lo) / 2.0 / median(v) * 100.0)
}

fn num(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

impl Row {
    /// ftl relative to its baseline, > 1 meaning ftl does better.
    pub fn ratio(&self) -> Option<f64> {
        let b = median(self.baseline.as_ref()?);
        let f = median(&self.ftl);
        Some(match self.better {
            Better::Higher => f / b,
            Better::Lower => b / f,
        })
    }

    pub fn met(&self) -> Option<bool> {
        match self.target {
            Target::Ratio(r) => self.ratio().map(|x| x >= r),
            Target::AtMost(m) => Some(median(&self.ftl) <= m),
            Target::WithinOf(d) => self
                .baseline
                .as_ref()
                .map(|b| median(&self.ftl) <= median(b) + d),
            Target::Reported => None,
        }
    }

    fn cells(&self) -> [String; 6] {
        let target = match self.target {
            Target::Ratio(r) => format!("≥ {r}×"),
            Target::AtMost(m) => format!("≤ {} {}", num(m), self.unit),
            Target::WithinOf(d) => format!("≤ baseline + {} {}", num(d), self.unit),
            Target::Reported => "reported".into(),
        };
        [
            self.metric.clone(),
            format!(
                "{} {}{}",
                num(median(&self.ftl)),
                self.unit,
                spread(&self.ftl)
            ),
            self.baseline
                .as_ref()
                .map(|b| format!("{} {}{}", num(median(b)), self.unit, spread(b)))
                .unwrap_or_else(|| "—".into()),
            self.ratio()
                .map(|r| format!("{r:.2}×"))
                .unwrap_or_else(|| "—".into()),
            target,
            match self.met() {
                Some(true) => "yes".into(),
                Some(false) => "**no**".into(),
                None => "—".into(),
            },
        ]
    }
}

/// A Markdown table (it goes into BENCHMARKS.md as it is).
pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| metric | ftl | baseline | ratio | target | met |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        out.push_str(&format!("| {} |\n", r.cells().join(" | ")));
    }
    out
}

/// Cores, memory and CPU model of this machine.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0 / 1024.0)
        .unwrap_or(0.0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores ({cpu}), {mem_gb:.0} GiB")
}
