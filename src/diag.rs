//! Configuration diagnostics: what is wrong, where (file:line:col with the
//! source line underlined) and how to fix it. Every problem of a project is
//! collected and shown at once.

use std::fmt;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub width: usize,
    pub source_line: String,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gutter = self.line.to_string().len();
        let pad = " ".repeat(gutter);
        writeln!(f, "error: {}", self.message)?;
        writeln!(
            f,
            "{pad}--> {}:{}:{}",
            self.file.display(),
            self.line,
            self.column
        )?;
        if !self.source_line.is_empty() {
            writeln!(f, "{pad} |")?;
            writeln!(f, "{} | {}", self.line, self.source_line)?;
            let indent: String = self
                .source_line
                .chars()
                .take(self.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{pad} | {indent}{}", "^".repeat(self.width.max(1)))?;
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "{pad} = hint: {hint}")?;
        }
        Ok(())
    }
}

/// All problems found in one load of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; nothing was started", self.listed())
    }
}

impl Diagnostics {
    /// Every problem and their count, without saying what follows from
    /// them (a reload keeps running the last good configuration).
    pub fn listed(&self) -> String {
        let mut out = String::new();
        for d in self.0.iter().take(SHOWN) {
            out.push_str(&format!("{d}\n"));
        }
        let n = self.0.len();
        if n > SHOWN {
            out.push_str(&format!(
                "... and {} more problems not shown (fix these first)\n",
                n - SHOWN
            ));
        }
        out.push_str(&format!(
            "{n} problem{} found",
            if n == 1 { "" } else { "s" }
        ));
        out
    }
}

/// How many problems are printed in full; the rest are counted.
const SHOWN: usize = 50;

/// The closest candidate within a small edit distance, for "did you mean".
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let keys = ["partitions", "export", "event", "key"];
        assert_eq!(suggest("partiton", keys), Some("partitions"));
        assert_eq!(suggest("exprot", keys), Some("export"));
        assert_eq!(suggest("retention", keys), None);
    }

    #[test]
    fn renders_location_source_and_hint() {
        let d = Diagnostic {
            file: PathBuf::from("pizza/ftl.yaml"),
            line: 12,
            column: 5,
            width: 8,
            source_line: "    partiton: 8".into(),
            message: "unknown key `partiton` in topic `orders`".into(),
            hint: Some("did you mean `partitions`?".into()),
        };
        let text = d.to_string();
        assert!(text.contains("--> pizza/ftl.yaml:12:5"));
        assert!(text.contains("12 |     partiton: 8\n   |     ^^^^^^^^"));
        assert!(text.contains("= hint: did you mean `partitions`?"));
    }
}
