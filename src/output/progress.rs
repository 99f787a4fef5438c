//! Bars and spinners, drawn from the progress events the library reports
//! (an image pull's layers, the wait for the broker). Only on a terminal;
//! elsewhere those events are lines (or JSON with `--json`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::Printer;
use crate::events::Event;

/// What is on the terminal now; shared by a printer's clones.
#[derive(Default)]
pub(super) struct Drawn {
    multi: Option<MultiProgress>,
    layers: HashMap<String, ProgressBar>,
    spinner: Option<ProgressBar>,
}

impl std::fmt::Debug for Drawn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drawn")
            .field("layers", &self.layers.len())
            .field("spinner", &self.spinner.is_some())
            .finish()
    }
}

pub(super) type Shared = Arc<Mutex<Drawn>>;

/// The line that says the broker is being waited for.
pub(super) fn waiting_text(container: &str, kind: &str, address: &str, how: &str) -> String {
    let verb = match how {
        "reused" => "reusing",
        other => other,
    };
    format!("broker: {verb} {container} ({kind}) on {address}, waiting for Kafka to answer")
}

impl Printer {
    fn drawn(&self) -> std::sync::MutexGuard<'_, Drawn> {
        self.drawn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `e` is drawn as a bar or spinner (on a terminal) rather than
    /// written as a line.
    pub(super) fn draws(&self, e: &Event) -> bool {
        self.shows_progress()
            && matches!(
                e,
                Event::ImageLayer { .. } | Event::ImagePulled { .. } | Event::BrokerWaiting { .. }
            )
    }

    /// Draws a progress event (see [`Printer::draws`]); any other event
    /// ends the spinner first, so its line is not drawn over.
    pub(super) fn draw(&self, e: &Event) {
        if !self.shows_progress() {
            return;
        }
        let mut drawn = self.drawn();
        match e {
            Event::ImageLayer {
                layer,
                status,
                current,
                total,
                ..
            } => {
                let multi = drawn.multi.get_or_insert_with(MultiProgress::new).clone();
                let bar = drawn.layers.entry(layer.clone()).or_insert_with(|| {
                    let style = ProgressStyle::with_template(
                        "{prefix:.dim} {msg:12} [{bar:30}] {bytes}/{total_bytes}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                    let b = multi.add(ProgressBar::new(0));
                    b.set_style(style);
                    b.set_prefix(layer.clone());
                    b
                });
                bar.set_message(status.clone());
                if let (Some(cur), Some(total)) = (current, total) {
                    bar.set_length(*total);
                    bar.set_position(*cur);
                }
            }
            Event::ImagePulled { .. } => {
                for (_, b) in drawn.layers.drain() {
                    b.finish();
                }
                drawn.multi = None;
            }
            Event::BrokerWaiting {
                container,
                kind,
                address,
                how,
            } => {
                if let Some(old) = drawn.spinner.take() {
                    old.finish_and_clear();
                }
                let pb = ProgressBar::new_spinner();
                pb.set_style(
                    ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                pb.set_message(waiting_text(container, kind, address, how));
                pb.enable_steady_tick(Duration::from_millis(100));
                drawn.spinner = Some(pb);
            }
            _ => {
                if let Some(s) = drawn.spinner.take() {
                    s.finish_and_clear();
                }
            }
        }
    }

    /// Takes the spinner and any bars off the terminal (before an error).
    pub fn clear_progress(&self) {
        let mut drawn = self.drawn();
        if let Some(s) = drawn.spinner.take() {
            s.finish_and_clear();
        }
        for (_, b) in drawn.layers.drain() {
            b.finish();
        }
        drawn.multi = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_for_the_broker_reads_as_it_did_before_it_was_an_event() {
        assert_eq!(
            waiting_text("ftl-p-broker", "tansu", "127.0.0.1:4000", "reused"),
            "broker: reusing ftl-p-broker (tansu) on 127.0.0.1:4000, waiting for Kafka to answer"
        );
        assert_eq!(
            waiting_text("ftl-p-broker", "redpanda", "127.0.0.1:4000", "created"),
            "broker: created ftl-p-broker (redpanda) on 127.0.0.1:4000, waiting for Kafka to answer"
        );
    }
}
