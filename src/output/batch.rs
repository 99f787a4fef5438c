//! Lines of data written together: one write for many lines.

use std::io::Write;

use super::Printer;

/// Lines of data not yet written (see [`Printer::data_batched`]).
pub struct DataBatch {
    text: String,
    since: std::time::Instant,
}

impl DataBatch {
    /// A line waits at most this long for the ones after it.
    const MAX_AGE: std::time::Duration = std::time::Duration::from_millis(50);

    pub fn new() -> DataBatch {
        DataBatch {
            text: String::new(),
            since: std::time::Instant::now(),
        }
    }
}

impl Default for DataBatch {
    fn default() -> Self {
        DataBatch::new()
    }
}

impl Printer {
    /// Adds a line to `batch`, writing the batch when it is large or was
    /// started a while ago: one write for many lines (a write per line
    /// costs more than the rest of `tail --json`). False when stdout is closed.
    pub fn data_batched(&self, batch: &mut DataBatch, line: &str) -> bool {
        if batch.text.is_empty() {
            batch.since = std::time::Instant::now();
        }
        batch.text.push_str(line);
        batch.text.push('\n');
        if batch.text.len() >= 64 * 1024 || batch.since.elapsed() >= DataBatch::MAX_AGE {
            return self.flush_data(batch);
        }
        true
    }

    /// Writes what `batch` holds. False when stdout is closed.
    pub fn flush_data(&self, batch: &mut DataBatch) -> bool {
        if batch.text.is_empty() {
            return true;
        }
        let mut out = std::io::stdout().lock();
        let ok = out
            .write_all(batch.text.as_bytes())
            .and_then(|_| out.flush())
            .is_ok();
        batch.text.clear();
        ok
    }
}
