//! `ftl dev`'s events as text: one line (or a few) per event on stderr,
//! or JSON lines on stdout with `--json`; the printer's half that reads the
//! runner's event stream.

use std::io::Write;

use super::*;
/// How a rendered event is shown.
pub(super) enum Shown {
    /// A line on stderr, hidden by `-q`.
    Info(String),
    Warn(String, Option<String>),
    Error(String, Option<String>),
    /// Text printed as it is (diagnostics) on stderr.
    Raw(String),
}

impl Printer {
    /// Prints every event from `events` until the channel closes: JSON lines
    /// on stdout with `--json`, human lines on stderr otherwise. Events that
    /// arrive together are written together.
    /// When `done` fires, what is already in the channel is printed, then
    /// it returns.
    pub async fn follow_events(
        &self,
        mut events: tokio::sync::broadcast::Receiver<std::sync::Arc<Event>>,
        done: tokio_util::sync::CancellationToken,
    ) {
        use tokio::sync::broadcast::error::{RecvError, TryRecvError};
        let mut finishing = false;
        loop {
            let mut batch = Vec::new();
            if !finishing {
                tokio::select! {
                    r = events.recv() => match r {
                        Ok(e) => batch.push(e),
                        Err(RecvError::Lagged(n)) => batch.push(std::sync::Arc::new(Event::Lagged { missed: n })),
                        Err(RecvError::Closed) => return,
                    },
                    _ = done.cancelled() => finishing = true,
                }
            }
            loop {
                match events.try_recv() {
                    Ok(e) => batch.push(e),
                    Err(TryRecvError::Lagged(n)) => {
                        batch.push(std::sync::Arc::new(Event::Lagged { missed: n }))
                    }
                    Err(_) => break,
                }
                if batch.len() >= 256 {
                    break;
                }
            }
            if batch.is_empty() && finishing {
                return;
            }
            self.print_events(&batch);
        }
    }

    /// Whether deliveries are printed (`--json`, or text without `-q`).
    pub fn shows_deliveries(&self) -> bool {
        self.json || !self.quiet
    }

    /// Prints one event as `ftl dev` would.
    pub fn event(&self, e: Event) {
        self.print_events(&[std::sync::Arc::new(e)]);
    }

    fn print_events(&self, batch: &[std::sync::Arc<Event>]) {
        if self.json {
            let mut text = String::new();
            for e in batch {
                if let Ok(line) = serde_json::to_string(&**e) {
                    text.push_str(&line);
                    text.push('\n');
                }
            }
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
            return;
        }
        let mut text = String::new();
        let flush = |text: &mut String| {
            if !text.is_empty() {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(text.as_bytes());
                text.clear();
            }
        };
        for e in batch {
            // The bulk of the stream, hidden by -q: not even rendered.
            if self.quiet && matches!(&**e, Event::Delivery(_)) {
                continue;
            }
            if self.shows_progress() {
                // Lines so far first, so bars and spinners come after them.
                flush(&mut text);
                self.draw(e);
                if self.draws(e) {
                    continue;
                }
            }
            let Some(shown) = self.render_event(e) else {
                continue;
            };
            let error = matches!(shown, Shown::Error(..));
            match shown {
                Shown::Info(line) if !self.quiet => text.push_str(&line),
                Shown::Info(_) => continue,
                Shown::Raw(t) => text.push_str(t.trim_end()),
                Shown::Warn(msg, hint) | Shown::Error(msg, hint) => {
                    let (label, style) = if error {
                        ("error:", RED)
                    } else {
                        ("warning:", YELLOW)
                    };
                    text.push_str(&format!("{} {msg}", self.err_style(style, label)));
                    if let Some(h) = hint {
                        text.push_str(&format!("\n{} {h}", self.err_style(BOLD, "hint:")));
                    }
                }
            }
            text.push('\n');
        }
        flush(&mut text);
    }

    fn render_event(&self, e: &Event) -> Option<Shown> {
        let info = |s: String| Some(Shown::Info(s));
        match e {
            Event::Starting {
                project,
                modules,
                topics,
                subscriptions,
            } => info(format!(
                "ftl dev: project `{project}`: {}, {}, {}{}",
                counted(*modules, "module"),
                counted(*topics, "topic"),
                counted(*subscriptions, "subscription"),
                if *topics == 0 {
                    "; no topics declared, so the broker is not needed yet"
                } else {
                    ""
                }
            )),
            Event::BrokerReady {
                kind,
                address,
                container,
                how,
                ms,
            } => info(match container {
                Some(c) => format!("broker: {c} ({kind}) ready on {address} in {ms} ms ({how})"),
                None => format!("broker: external at {address}, ready in {ms} ms"),
            }),
            Event::ImagePulling { image } => info(format!("pulling {image}")),
            Event::ImageLayer { .. } | Event::ImagePulled { .. } | Event::BrokerContainer { .. } => {
                None
            }
            Event::BrokerKindMismatch {
                container,
                running,
                asked,
            } => Some(Shown::Warn(
                format!("the broker container `{container}` runs `{running}`, the project asks for `{asked}`; using the running one"),
                Some(format!(
                    "to keep it, say `kind: {running}` once for all projects in ~/.config/ftl/config.yaml (`pubsub: {{broker: {{kind: {running}, image: ...}}}}`) or in ftl-project.yaml; `ftl pubsub broker reset` removes it so the next start creates the kind asked for"
                )),
            )),
            Event::BrokerWaiting {
                container,
                kind,
                address,
                how,
            } => info(progress::waiting_text(container, kind, address, how)),
            Event::TopicCreated { topic, partitions } => info(format!(
                "topic {topic}: created with {}",
                counted(*partitions as usize, "partition")
            )),
            Event::TopicGrown { topic, from, to } => {
                info(format!("topic {topic}: grown from {from} to {to} partitions"))
            }
            Event::TopicProblem {
                severity,
                message,
                hint,
                ..
            } => Some(match severity {
                Severity::Warning => Shown::Warn(message.clone(), hint.clone()),
                Severity::Error => Shown::Error(message.clone(), hint.clone()),
            }),
            Event::Listening { address } => {
                info(format!("publisher: gRPC and HTTP on {address}"))
            }
            Event::ListenFailed { address, reason } => Some(Shown::Warn(
                format!("cannot listen on {address} ({reason}); this runner consumes but does not serve the Publisher or admin API"),
                Some("another `ftl dev` of this project may hold it; otherwise change `runner.listen` in ftl-project.yaml".into()),
            )),
            Event::ConsumerStarting {
                subscription,
                topic,
                group,
                verb,
            } => info(format!(
                "{subscription}: consuming {topic} with group {group} → verb {verb}"
            )),
            Event::ConsumerStarted { .. } => None,
            Event::ConsumerFailed {
                subscription,
                reason,
                hint,
            } => Some(Shown::Error(
                format!("{subscription}: cannot start: {reason}"),
                hint.clone(),
            )),
            Event::ConsumerStopped { subscription, why } => match why {
                StopReason::Changed => {
                    info(format!("{subscription}: changed; restarting after committing"))
                }
                StopReason::Removed => info(format!("{subscription}: removed; stopped")),
                StopReason::Shutdown => None,
                StopReason::BrokerLost => info(format!(
                    "{subscription}: its Kafka client is closed until the broker is back"
                )),
            },
            Event::PartitionsAssigned {
                subscription,
                partitions,
            } => info(format!("{subscription}: assigned partitions {partitions:?}")),
            Event::PartitionsRevoked {
                subscription,
                partitions,
            } => info(format!("{subscription}: partitions {partitions:?} revoked")),
            Event::VerbWaiting {
                subscription,
                verb,
                address,
                reason,
            } => Some(Shown::Warn(
                format!("{subscription}: waiting for verb {verb} at {address}: {reason}"),
                Some("start the module server; deliveries go on once its Ping answers ready".into()),
            )),
            Event::VerbReady {
                subscription,
                verb,
                address,
            } => info(format!("{subscription}: verb {verb} at {address} is ready")),
            Event::Delivery(d) => info(self.render_delivery(d)),
            // The caller hears of its publish; `--json` and `ftl pubsub
            // trace` show them.
            Event::Published(_) | Event::PublishFailed { .. } => None,
            Event::ReplayStarted { subscription, from } => {
                info(format!("{subscription}: replaying from {from}"))
            }
            Event::ReplayDone {
                subscription,
                redelivered,
                ..
            } => info(format!(
                "{subscription}: replay moved the offsets; {} will be redelivered",
                counted(*redelivered as usize, "event")
            )),
            Event::ReplayFailed {
                subscription,
                reason,
            } => Some(Shown::Warn(format!("{subscription}: replay failed: {reason}"), None)),
            Event::DeadletterReplayDone {
                subscription,
                ok,
                failed,
            } => info(format!(
                "{subscription}: dead letters handed back to the verb: {ok} succeeded, {failed} failed again"
            )),
            Event::StartedOver {
                subscription,
                topic,
                partitions,
            } => Some(Shown::Warn(
                format!("{subscription}: {topic} was created again (the broker came back without it); delivering it from its first event on partitions {partitions:?}"),
                Some("events published before the broker lost its data are gone; a broker with a volume (Redpanda, the default) keeps them".into()),
            )),
            Event::BrokerLost { address, reason } => Some(Shown::Warn(
                format!("the broker at {address} does not answer ({reason}); deliveries wait until it is back"),
                Some("`ftl pubsub broker start` starts a stopped broker; `ftl pubsub broker logs` shows why it went away".into()),
            )),
            Event::TopicRecreated { topic, had, partitions } => Some(Shown::Warn(
                format!("topic {topic} had {had} partitions (the broker made it by itself); deleted and created again with {partitions}"),
                None,
            )),
            Event::BrokerPaused { address } => Some(Shown::Warn(
                format!("the broker at {address} is paused; deliveries and publishes wait until it is unpaused"),
                Some("`docker unpause` its container; nothing is lost meanwhile".into()),
            )),
            Event::BrokerUnpaused { address, paused_ms } => info(format!(
                "broker: {address} unpaused after {}",
                crate::units::format_duration(std::time::Duration::from_millis(*paused_ms))
            )),
            Event::BrokerMoved { from, address } => info(format!(
                "broker: its container was created again; every client moves from {from} to {address}"
            )),
            Event::BrokerRegained { address, down_ms } => info(format!(
                "broker: {address} answers again after {}",
                crate::units::format_duration(std::time::Duration::from_millis(*down_ms))
            )),
            Event::ReloadApplied {
                started,
                restarted,
                stopped,
                failed,
            } => {
                let mut parts = Vec::new();
                for (what, names) in [
                    ("started", started),
                    ("restarted", restarted),
                    ("stopped", stopped),
                ] {
                    if !names.is_empty() {
                        parts.push(format!("{what} {}", names.join(", ")));
                    }
                }
                if failed.is_empty() {
                    info(if parts.is_empty() {
                        "ftl dev: configuration reloaded".to_string()
                    } else {
                        format!("ftl dev: configuration reloaded ({})", parts.join("; "))
                    })
                } else {
                    Some(Shown::Error(
                        format!(
                            "ftl dev: configuration reloaded, but {} could not start: {}",
                            counted(failed.len(), "subscription"),
                            failed.join(", ")
                        ),
                        Some("the `cannot start` lines above say why; `ftl pubsub status` shows them as failed".into()),
                    ))
                }
            }
            Event::TypeChanged {
                topic,
                ty,
                read,
                invalid,
                first,
                complete,
            } => Some(typed::type_changed(topic, ty, *read, *invalid, first, *complete)),
            Event::ReloadRejected { problems, running } => {
                let mut text = problems.trim_end().to_string();
                text.push('\n');
                text.push_str(&format!(
                    "{} the edit is invalid; still running the last good configuration ({})",
                    self.err_style(YELLOW, "warning:"),
                    counted(*running, "subscription")
                ));
                Some(Shown::Raw(text))
            }
            Event::ReloadValid { changed, running } => info(if *changed {
                "ftl dev: the edit is valid again; reloading".to_string()
            } else {
                format!(
                    "ftl dev: the edit is valid again and matches what runs; nothing to reload ({} running)",
                    counted(*running, "subscription")
                )
            }),
            Event::Ready {
                watching, listen, ..
            } => info(format!(
                "ftl dev: ready; watching {watching} for changes (Ctrl-C to stop){}",
                listen
                    .as_deref()
                    .map(|l| format!("\nconsole: {}", console_url(l)))
                    .unwrap_or_default()
            )),
            Event::Stopping => info("ftl dev: stopping (Ctrl-C again to exit at once)".into()),
            Event::Abandoned {
                subscription,
                grace_ms,
            } => Some(Shown::Warn(
                format!(
                    "{subscription}: an event was still in hand after {}; abandoned, it will be delivered again",
                    crate::units::format_duration(std::time::Duration::from_millis(*grace_ms))
                ),
                None,
            )),
            Event::Stopped => {
                info("ftl dev: stopped; the broker keeps running for a fast next start".into())
            }
            Event::Lagged { missed } => Some(Shown::Warn(
                format!("{} not shown: the output could not keep up", counted(*missed as usize, "event")),
                None,
            )),
        }
    }

    fn render_delivery(&self, d: &Delivery) -> String {
        let error = d.error.as_deref().map(escape_controls).unwrap_or_default();
        let status = match d.outcome {
            Outcome::Ok => self.err_style(GREEN, "ok"),
            Outcome::Retry => format!(
                "{} in {}: {}",
                self.err_style(YELLOW, "retry"),
                crate::units::format_duration(std::time::Duration::from_millis(
                    d.retry_in_ms.unwrap_or(0)
                )),
                error
            ),
            Outcome::DeadLettered => format!(
                "{} to {}: {}",
                self.err_style(RED, "dead-lettered"),
                d.deadletter_topic.as_deref().unwrap_or_default(),
                error
            ),
            Outcome::Dropped => format!(
                "{} (no dead-letter topic; skipped): {}",
                self.err_style(RED, "failed"),
                error
            ),
            Outcome::Abandoned => self.err_style(YELLOW, "abandoned"),
        };
        let mut line = format!(
            "{} {}@{} → {} attempt {} {}ms {status}",
            d.subscription, d.partition, d.offset, d.verb, d.attempt, d.ms
        );
        if let Some(out) = &d.output {
            for l in out.lines() {
                line.push_str(&format!("\n  {}", self.err_style(DIM, l)));
            }
        }
        line
    }
}
