//! Lines of data written together: one write for many lines.

use std::io::Write;

use super::Printer;

/// Lines of data not yet written (see [`Printer::data_batched`]).
pub struct DataBatch {
    text: Vec<u8>,
    since: std::time::Instant,
}

impl DataBatch {
    /// A line waits at most this long for the ones after it.
    const MAX_AGE: std::time::Duration = std::time::Duration::from_millis(50);

    pub fn new() -> DataBatch {
        DataBatch {
            text: Vec::new(),
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
        self.batched(batch, |text| text.extend_from_slice(line.as_bytes()))
    }

    /// [`Printer::data_batched`] for a value written as one line of JSON,
    /// encoded straight into the batch.
    pub fn json_batched<T: serde::Serialize>(&self, batch: &mut DataBatch, value: &T) -> bool {
        self.batched(batch, |text| {
            // Writing into a Vec fails only for a value that is not JSON
            // (a map with non-string keys): none is handed here.
            let _ = serde_json::to_writer(&mut *text, value);
        })
    }

    fn batched(&self, batch: &mut DataBatch, write: impl FnOnce(&mut Vec<u8>)) -> bool {
        if batch.text.is_empty() {
            batch.since = std::time::Instant::now();
        }
        write(&mut batch.text);
        batch.text.push(b'\n');
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
        let ok = out.write_all(&batch.text).and_then(|_| out.flush()).is_ok();
        batch.text.clear();
        ok
    }
}
