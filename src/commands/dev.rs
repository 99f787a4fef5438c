//! `ftl dev`: validate, lazily ensure the broker, provision, run every
//! subscription, and follow edits of the project files until Ctrl-C. What
//! happens is emitted as events; the printer (text, or JSON lines with
//! `--json`) is one reader of them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::{self, ConfigError, PROJECT_FILE};
use crate::error::{Error, Result};
use crate::events::{Event, Hub};
use crate::provision::{self, BrokerHandle};
use crate::runner::{ReconcileReport, Runner};
use crate::schema::Project;

use super::Context;

const WATCH_INTERVAL: Duration = Duration::from_millis(300);

pub async fn dev(
    ctx: &Context<'_>,
    dir: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    open: bool,
) -> Result<()> {
    let root = dir.unwrap_or_else(|| ctx.project_dir.clone());
    if let Some(addr) = listen.filter(|a| !a.ip().is_loopback()) {
        return Err(Error::usage(
            format!("--listen {addr} is not a loopback address"),
            Some("the runner listens on this machine only: use 127.0.0.1:<port>".to_string()),
        ));
    }
    let hub = Hub::new();
    let printer = ctx.printer.clone();
    let done = CancellationToken::new();
    let printing = tokio::spawn({
        let events = hub.subscribe();
        let done = done.clone();
        async move { printer.follow_events(events, done).await }
    });
    // OpenTelemetry out, when the standard variables ask for it.
    let telemetry = crate::telemetry::start(
        &hub,
        &crate::telemetry::Config::from_env(|k| std::env::var(k).ok()),
    );
    let result = run(ctx, &root, listen, open, &hub).await;
    if let Some(t) = telemetry {
        t.shutdown().await;
    }
    // Every event emitted so far is printed before `ftl dev` returns.
    done.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), printing).await;
    result
}

async fn run(
    ctx: &Context<'_>,
    root: &Path,
    listen: Option<std::net::SocketAddr>,
    open: bool,
    hub: &Hub,
) -> Result<()> {
    let mut signals = Signals::start()?;
    // `--listen` / FTL_LISTEN wins over `runner.listen`, on every reload too.
    let read = |root: &Path| {
        let root = root.to_path_buf();
        async move {
            let mut p = ctx.read_project(&root).await?;
            if let Some(addr) = listen {
                p.runner.listen = addr;
            }
            Ok::<Project, Error>(p)
        }
    };
    let mut project = read(root).await?;
    hub.emit(Event::Starting {
        project: project.name.clone(),
        modules: project.modules.len(),
        topics: project.topics().count(),
        subscriptions: project.subscriptions().count(),
    });
    let mut state = DevState {
        broker: None,
        runner: None,
        registration: None,
        hub: hub.clone(),
    };
    let first = state.apply(&project, ctx).await;
    let report = match first {
        Ok(r) => r,
        Err(e) => {
            state.stop(&project, &mut signals).await;
            return Err(e);
        }
    };
    if !report.failed.is_empty() {
        state.stop(&project, &mut signals).await;
        let (names, reasons): (Vec<String>, Vec<String>) = report
            .failed
            .iter()
            .map(|(n, r)| (n.clone(), format!("{n}: {r}")))
            .unzip();
        return Err(Error::failed(
            format!(
                "{} could not start, so `ftl dev` stopped: {}\n  {}",
                crate::output::counted(names.len(), "subscription"),
                names.join(", "),
                reasons.join("\n  ")
            ),
            Some("fix what the lines above say and run `ftl dev` again".into()),
        ));
    }
    let mut seen = fingerprint(root).await;
    // The last edit was refused: the next valid one says so.
    let mut rejected = false;
    let listening = state
        .runner
        .as_ref()
        .and_then(Runner::listening)
        .map(|a| a.to_string());
    let console = listening.as_deref().map(crate::output::console_url);
    hub.emit(Event::Ready {
        subscriptions: state.runner.as_ref().map(Runner::running).unwrap_or(0),
        listen: listening,
        console: console.clone(),
        watching: root.display().to_string(),
    });
    if open {
        match &console {
            Some(url) => open_browser(url, ctx),
            None => ctx.printer.warn(
                "--open: there is no console to open (no topics yet, or another `ftl dev` of this project serves it)",
                None,
            ),
        }
    }
    loop {
        tokio::select! {
            _ = signals.next() => break,
            _ = tokio::time::sleep(WATCH_INTERVAL) => {}
        }
        let now = fingerprint(root).await;
        if now == seen {
            continue;
        }
        seen = now;
        let next = read(root).await;
        if rejected && next.is_ok() {
            rejected = false;
            hub.emit(Event::ReloadValid {
                changed: next.as_ref().is_ok_and(|n| *n != project),
                running: state.running(),
            });
        }
        let problems = match next {
            Ok(next) if next == project => None,
            Ok(next) => match state.apply(&next, ctx).await {
                Ok(report) => {
                    hub.emit(report.event());
                    project = next;
                    None
                }
                Err(e) => Some(e.render()),
            },
            Err(Error::Config(ConfigError::Invalid(d))) => Some(d.listed()),
            Err(e) => Some(e.render()),
        };
        if let Some(problems) = problems {
            rejected = true;
            hub.emit(Event::ReloadRejected {
                problems,
                running: state.running(),
            });
        }
    }
    state.stop(&project, &mut signals).await;
    Ok(())
}

struct DevState {
    broker: Option<BrokerHandle>,
    runner: Option<Runner>,
    /// This runner's record, so commands find it; removed when dropped.
    registration: Option<crate::runtime::Registration>,
    hub: Hub,
}

/// Opens `url` in the default browser (`xdg-open`, `open` on macOS),
/// without waiting for it.
fn open_browser(url: &str, ctx: &Context<'_>) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        // Reaped when it exits, so no zombie stays behind. An opener that
        // runs but opens nothing (`xdg-open` with no browser: exit code 3)
        // is said too, with the address.
        Ok(mut child) => {
            let printer = ctx.printer.clone();
            let url = url.to_string();
            std::thread::spawn(move || match child.wait() {
                Ok(status) if !status.success() => printer.warn(
                    &format!(
                        "--open: `{opener}` could not open the console ({})",
                        status
                            .code()
                            .map(|c| format!("exit code {c}"))
                            .unwrap_or_else(|| "killed by a signal".into())
                    ),
                    Some(&format!("open {url} in a browser yourself")),
                ),
                _ => {}
            });
        }
        Err(e) => {
            ctx.printer.warn(
                &format!("--open: cannot run `{opener}`: {e}"),
                Some(&format!("open {url} in a browser yourself")),
            );
        }
    }
}

impl DevState {
    /// Brings broker, topics and runner in line with `project`. A project
    /// without topics never touches Docker.
    async fn apply(&mut self, project: &Project, ctx: &Context<'_>) -> Result<ReconcileReport> {
        if project.topics().next().is_none() {
            return Ok(match &mut self.runner {
                Some(runner) => runner.reconcile(project).await,
                None => ReconcileReport::default(),
            });
        }
        if self.broker.is_none() {
            let started = Instant::now();
            let broker = provision::ensure_broker(project, ctx.printer).await?;
            self.hub.emit(broker.ready_event(started));
            self.broker = Some(broker);
        }
        let Some(broker) = &self.broker else {
            return Ok(ReconcileReport::default());
        };
        provision::provision(project, &broker.connection, &self.hub).await?;
        Ok(match &mut self.runner {
            Some(runner) => runner.reconcile(project).await,
            None => {
                let (runner, report) = Runner::start(
                    project,
                    broker.connection.clone(),
                    broker.status(),
                    self.hub.clone(),
                )
                .await?;
                if let Some(addr) = runner.listening() {
                    self.registration =
                        crate::runtime::register(&project.name, &project.root, addr);
                }
                self.runner = Some(runner);
                report
            }
        })
    }

    fn running(&self) -> usize {
        self.runner.as_ref().map(Runner::running).unwrap_or(0)
    }

    /// Ctrl-C / SIGTERM: finish or abandon events in hand within the grace
    /// period; a second signal exits at once.
    async fn stop(&mut self, project: &Project, signals: &mut Signals) {
        // Nothing ran (a failed first start without a runner): nothing to say.
        if self.runner.is_none() && self.broker.is_none() {
            return;
        }
        self.hub.emit(Event::Stopping);
        self.registration = None;
        if let Some(runner) = self.runner.take() {
            let grace = project.runner.grace;
            tokio::select! {
                _ = runner.shutdown(grace) => {}
                _ = signals.next() => {
                    // The printer may not get to it: say it here.
                    eprintln!("warning: exiting at once; events in hand were not committed and will be delivered again");
                    // No destructor runs past here: the verbs' processes
                    // are stopped by hand.
                    crate::runner::verb::kill_running_verbs();
                    std::process::exit(130);
                }
            }
        }
        self.hub.emit(Event::Stopped);
    }
}

/// The bytes of every project file: a change in any of them (or a module
/// folder appearing) triggers a reload. Read off the async executor.
async fn fingerprint(root: &Path) -> Vec<(PathBuf, Option<Vec<u8>>)> {
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut files = vec![root.join(PROJECT_FILE)];
        files.extend(config::module_files(&root));
        files
            .into_iter()
            .map(|p| {
                let bytes = std::fs::read(&p).ok();
                (p, bytes)
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// Ctrl-C and SIGTERM, listened for by one long-lived task from the start,
/// so a signal that arrives while `ftl dev` is busy (a reload, a start) is
/// kept until it is read.
struct Signals {
    rx: mpsc::UnboundedReceiver<()>,
}

impl Signals {
    fn start() -> Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let fail =
                |e: std::io::Error| Error::failed(format!("cannot listen for signals: {e}"), None);
            let mut int = signal(SignalKind::interrupt()).map_err(fail)?;
            let mut term = signal(SignalKind::terminate()).map_err(fail)?;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        Some(()) = int.recv() => {}
                        Some(()) = term.recv() => {}
                        else => return,
                    }
                    if tx.send(()).is_err() {
                        return;
                    }
                }
            });
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if tx.send(()).is_err() {
                    return;
                }
            }
        });
        Ok(Signals { rx })
    }

    async fn next(&mut self) {
        if self.rx.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}
