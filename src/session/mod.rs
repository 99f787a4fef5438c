//! `ftl dev`'s session: read the project, ensure the broker (lazily, when a
//! topic needs it), provision, run every subscription, follow edits of the
//! project files until Ctrl-C, stop within the grace period. Everything it
//! does is told as events on its hub; it prints nothing.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use crate::config::{ConfigError, Overrides};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::hub::Hub;
use crate::provision::{self, BrokerHandle};
use crate::runner::{ReconcileReport, Runner};
use crate::schema::Project;
use crate::units::counted;

mod signals;

pub use signals::Signals;

use crate::watch::{Layout, Watcher};

/// Where a runner listening on `listen` serves its console.
pub fn console_url(listen: &str) -> String {
    format!("http://{listen}/")
}

/// What `ftl dev` is asked to run.
#[derive(Debug, Clone)]
pub struct DevRequest {
    /// The project folder.
    pub root: PathBuf,
    /// `--listen` / FTL_LISTEN: wins over `runner.listen`, on every reload
    /// too.
    pub listen: Option<SocketAddr>,
    /// The settings the command line gives.
    pub overrides: Overrides,
}

impl DevRequest {
    async fn read(&self) -> Result<Project> {
        let mut p = crate::load::project(&self.root, &self.overrides).await?;
        if let Some(addr) = self.listen {
            p.runner.listen = addr;
        }
        Ok(p)
    }
}

/// Called when a second Ctrl-C arrives while the runner is finishing the
/// events in hand, just before the process exits (code 130): the caller
/// says so, as the event printer may not get to it.
pub type OnForcedExit = Box<dyn Fn() + Send + Sync>;

/// A running `ftl dev`, ready and following edits.
pub struct Session {
    request: DevRequest,
    project: Project,
    state: DevState,
    signals: Signals,
    watcher: Watcher,
    console: Option<String>,
    /// The last edit was refused: the next valid one says so.
    rejected: bool,
}

impl Session {
    /// Reads the project and brings broker, topics and runner up; emits
    /// `starting` and, when every subscription runs, `ready`. A first start
    /// where a subscription cannot run stops again and says why.
    pub async fn start(request: DevRequest, hub: Hub, forced: OnForcedExit) -> Result<Session> {
        let mut signals = Signals::start()?;
        let project = request.read().await?;
        // Edits from here on are kept, so none made during the start is lost.
        let layout = Layout {
            project_file: crate::config::PROJECT_FILE,
            module_file: crate::config::MODULE_FILE,
        };
        let watcher = Watcher::start(&request.root, layout)?;
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
            forced,
        };
        let report = match state.apply(&project).await {
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
                    counted(names.len(), "subscription"),
                    names.join(", "),
                    reasons.join("\n  ")
                ),
                Some("fix what the lines above say and run `ftl dev` again".into()),
            ));
        }
        let listening = state
            .runner
            .as_ref()
            .and_then(Runner::listening)
            .map(|a| a.to_string());
        let console = listening.as_deref().map(console_url);
        hub.emit(Event::Ready {
            subscriptions: state.running(),
            listen: listening,
            console: console.clone(),
            watching: request.root.display().to_string(),
        });
        Ok(Session {
            request,
            project,
            state,
            signals,
            watcher,
            console,
            rejected: false,
        })
    }

    /// The console's URL, when this runner serves it.
    pub fn console(&self) -> Option<&str> {
        self.console.as_deref()
    }

    /// Applies each edit of the project files (a valid one reconciles, an
    /// invalid one is refused and the last good configuration keeps
    /// running) until Ctrl-C or SIGTERM, then stops.
    pub async fn run(mut self) -> Result<()> {
        loop {
            tokio::select! {
                _ = self.signals.next() => break,
                change = self.state.broker_change() => {
                    self.state.follow_broker(change).await;
                    continue;
                }
                _ = self.watcher.changed() => {}
            }
            self.reload().await;
        }
        self.state.stop(&self.project, &mut self.signals).await;
        Ok(())
    }

    async fn reload(&mut self) {
        let hub = self.state.hub.clone();
        let next = self.request.read().await;
        if self.rejected && next.is_ok() {
            self.rejected = false;
            hub.emit(Event::ReloadValid {
                changed: next.as_ref().is_ok_and(|n| *n != self.project),
                running: self.state.running(),
            });
        }
        let problems = match next {
            Ok(next) if next == self.project => None,
            Ok(next) => match self.state.apply(&next).await {
                Ok(report) => {
                    hub.emit(report.event());
                    if let Some(b) = &self.state.broker {
                        crate::retained::report_type_changes(
                            &self.project,
                            &next,
                            &b.connection,
                            &hub,
                        );
                    }
                    self.project = next;
                    None
                }
                Err(e) => Some(e.render()),
            },
            Err(Error::Config(ConfigError::Invalid(d))) => Some(d.listed()),
            Err(e) => Some(e.render()),
        };
        if let Some(problems) = problems {
            self.rejected = true;
            hub.emit(Event::ReloadRejected {
                problems,
                running: self.state.running(),
            });
        }
    }
}

struct DevState {
    broker: Option<BrokerHandle>,
    runner: Option<Runner>,
    /// This runner's record, so commands find it; removed when dropped.
    registration: Option<crate::runtime::Registration>,
    hub: Hub,
    forced: OnForcedExit,
}

impl DevState {
    /// Brings broker, topics and runner in line with `project`. A project
    /// without topics never touches Docker.
    async fn apply(&mut self, project: &Project) -> Result<ReconcileReport> {
        if project.topics().next().is_none() {
            return Ok(match &mut self.runner {
                Some(runner) => runner.reconcile(project).await,
                None => ReconcileReport::default(),
            });
        }
        if self.broker.is_none() {
            let started = Instant::now();
            let broker = provision::ensure_broker(project, &self.hub).await?;
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

    /// What the runner's follower saw of the broker (pending without a
    /// runner).
    async fn broker_change(&mut self) -> crate::runner::BrokerChange {
        match &mut self.runner {
            Some(r) => r.broker_change().await,
            None => std::future::pending().await,
        }
    }

    async fn follow_broker(&mut self, change: crate::runner::BrokerChange) {
        if let Some(r) = &mut self.runner {
            r.follow_broker(change).await;
        }
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
                    (self.forced)();
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
