//! `ftl dev`: validate, lazily ensure the broker, provision, run every
//! subscription, and follow edits of the project files until Ctrl-C.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::{self, ConfigError, PROJECT_FILE};
use crate::error::{Error, Result};
use crate::output::Printer;
use crate::provision::{self, BrokerHandle};
use crate::runner::Runner;
use crate::schema::Project;

use super::Context;

const WATCH_INTERVAL: Duration = Duration::from_millis(300);

pub async fn dev(ctx: &Context<'_>, dir: Option<PathBuf>) -> Result<()> {
    let root = dir.unwrap_or_else(|| ctx.project_dir.clone());
    let printer = ctx.printer;
    let mut project = ctx.load(&root)?;
    printer.info(&summary(&project));
    let mut state = DevState {
        broker: None,
        runner: None,
    };
    state.apply(&project, printer).await?;
    let mut seen = fingerprint(&root);
    printer.info(&format!(
        "ftl dev: ready; watching {} for changes (Ctrl-C to stop)",
        root.display()
    ));
    let mut signals = Signals::new()?;
    loop {
        tokio::select! {
            _ = signals.next() => break,
            _ = tokio::time::sleep(WATCH_INTERVAL) => {}
        }
        let now = fingerprint(&root);
        if now == seen {
            continue;
        }
        seen = now;
        match ctx.load(&root) {
            Ok(next) if next == project => {}
            Ok(next) => match state.apply(&next, printer).await {
                Ok(()) => {
                    printer.info("ftl dev: configuration reloaded");
                    project = next;
                }
                Err(e) => printer.error(
                    &format!("{e}; keeping the last good configuration"),
                    e.hint().as_deref(),
                ),
            },
            Err(Error::Config(ConfigError::Invalid(d))) => {
                eprintln!("{d}");
                printer.warn(
                    "the edit is invalid; keeping the last good configuration",
                    None,
                );
            }
            Err(e) => printer.error(
                &format!("{e}; keeping the last good configuration"),
                e.hint().as_deref(),
            ),
        }
    }
    printer.info("ftl dev: stopping (Ctrl-C again to exit at once)");
    if let Some(runner) = state.runner.take() {
        let grace = project.runner.grace;
        tokio::select! {
            _ = runner.shutdown(grace) => {}
            _ = signals.next() => {
                printer.warn("exiting at once; events in hand were not committed and will be delivered again", None);
                std::process::exit(130);
            }
        }
    }
    printer.info("ftl dev: stopped; the broker keeps running for a fast next start");
    Ok(())
}

struct DevState {
    broker: Option<BrokerHandle>,
    runner: Option<Runner>,
}

impl DevState {
    /// Brings broker, topics and runner in line with `project`. A project
    /// without topics never touches Docker.
    async fn apply(&mut self, project: &Project, printer: &Printer) -> Result<()> {
        if project.topics().next().is_none() {
            if let Some(runner) = &mut self.runner {
                runner.reconcile(project).await?;
            } else {
                printer.info("ftl dev: no topics declared; the broker is not needed yet");
            }
            return Ok(());
        }
        if self.broker.is_none() {
            self.broker = Some(provision::ensure_broker(project, printer).await?);
        }
        let Some(broker) = &self.broker else {
            return Ok(());
        };
        provision::provision(project, &broker.connection, printer).await?;
        match &mut self.runner {
            Some(runner) => runner.reconcile(project).await?,
            None => {
                self.runner =
                    Some(Runner::start(project, broker.connection.clone(), printer.clone()).await?)
            }
        }
        Ok(())
    }
}

fn summary(project: &Project) -> String {
    let topics = project.topics().count();
    let subs = project.subscriptions().count();
    format!(
        "ftl dev: project `{}`: {} module{}, {topics} topic{}, {subs} subscription{}",
        project.name,
        project.modules.len(),
        plural(project.modules.len()),
        plural(topics),
        plural(subs)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The bytes of every project file: a change in any of them (or a module
/// folder appearing) triggers a reload.
fn fingerprint(root: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let mut files = vec![root.join(PROJECT_FILE)];
    files.extend(config::module_files(root));
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).ok();
            (p, bytes)
        })
        .collect()
}

/// Ctrl-C and SIGTERM, as one stream.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Self> {
        Ok(Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(|e| Error::failed(format!("cannot listen for SIGTERM: {e}"), None))?,
        })
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
