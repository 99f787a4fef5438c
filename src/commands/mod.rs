//! One file per command; `dispatch` resolves the settings every command
//! shares (project directory, environment overrides) and calls it.

mod broker;
mod completions;
mod dev;
mod init;
mod live;
mod pubsub;
mod schema;
mod settings;

use std::path::{Path, PathBuf};

use crate::cli::{BrokerKindArg, Cli, Command, GlobalArgs, NewCommand, PubsubCommand};
use crate::config::{self, Origin, Overrides};
use crate::error::Result;
use crate::output::Printer;
use crate::schema::{BrokerKind, Project};

/// What every command gets: where the project is, how to print, and the
/// settings the command line gives (flags, environment, the user settings
/// file).
pub struct Context<'a> {
    pub printer: &'a Printer,
    /// `-C DIR`, else the nearest folder upwards holding ftl-project.yaml
    /// (as cargo and git look), else `.`.
    pub project_dir: PathBuf,
    /// `-C DIR` or `.`: where `ftl init` creates a project.
    pub here: PathBuf,
    pub overrides: Overrides,
}

/// Loads projects with the command line's settings; owned, so it can go to
/// a blocking thread.
#[derive(Debug, Clone)]
pub struct ProjectLoader {
    overrides: Overrides,
}

impl ProjectLoader {
    pub fn load(&self, dir: &Path) -> Result<Project> {
        Ok(config::load(dir, &self.overrides)?)
    }
}

/// The settings layers the command line gives: `--broker-kind` and
/// `--broker-image` as flags or from `FTL_BROKER_KIND` / `FTL_BROKER_IMAGE`
/// (clap says which), and the user settings file.
pub fn overrides(global: &GlobalArgs, matches: &clap::ArgMatches) -> Overrides {
    let mut o = Overrides {
        user_file: config::user_file(),
        ..Overrides::default()
    };
    let origin = |id: &str, flag: &str, variable: &str| match matches.value_source(id) {
        Some(clap::parser::ValueSource::EnvVariable) => Origin::Env {
            variable: variable.into(),
        },
        _ => Origin::Flag { flag: flag.into() },
    };
    if let Some(kind) = global.broker_kind {
        let from = origin("broker_kind", "--broker-kind", "FTL_BROKER_KIND");
        let layer = match from {
            Origin::Env { .. } => &mut o.env,
            _ => &mut o.flags,
        };
        layer.kind = Some((kind_of(kind), from));
    }
    if let Some(image) = global.broker_image.as_ref().filter(|s| !s.is_empty()) {
        let from = origin("broker_image", "--broker-image", "FTL_BROKER_IMAGE");
        let layer = match from {
            Origin::Env { .. } => &mut o.env,
            _ => &mut o.flags,
        };
        layer.image = Some((image.clone(), from));
    }
    o
}

impl Context<'_> {
    pub fn loader(&self) -> ProjectLoader {
        ProjectLoader {
            overrides: self.overrides.clone(),
        }
    }

    pub fn load(&self, dir: &Path) -> Result<Project> {
        self.loader().load(dir)
    }

    pub fn project(&self) -> Result<Project> {
        self.load(&self.project_dir)
    }

    /// The project without its invalid module files (and which those are),
    /// read on a blocking thread.
    pub async fn read_project_partial(&self) -> Result<(Project, Vec<config::SkippedModule>)> {
        crate::load::project_partial(&self.project_dir, &self.overrides).await
    }
}

fn kind_of(arg: BrokerKindArg) -> BrokerKind {
    match arg {
        BrokerKindArg::Redpanda => BrokerKind::Redpanda,
        BrokerKindArg::Kafka => BrokerKind::Kafka,
        BrokerKindArg::Tansu => BrokerKind::Tansu,
        BrokerKindArg::External => BrokerKind::External,
    }
}

pub async fn dispatch(cli: Cli, overrides: Overrides, printer: &Printer) -> Result<()> {
    let here = cli.global.project.unwrap_or_else(|| PathBuf::from("."));
    let project_dir = config::find_root(&here).unwrap_or_else(|| here.clone());
    let ctx = Context {
        printer,
        project_dir,
        here,
        overrides,
    };
    match cli.command {
        Command::Init { dir, name } => init::init(&ctx, dir, name),
        Command::New {
            command: NewCommand::Module { name, verb },
        } => init::new_module(&ctx, &name, verb == crate::cli::VerbKindArg::Grpc),
        Command::Dev { dir, listen, open } => dev::dev(&ctx, dir, listen, open).await,
        Command::Schema { format } => schema::schema(&ctx, format).await,
        Command::Completions { shell } => completions::completions(shell),
        Command::Settings => settings::settings(&ctx).await,
        Command::Pubsub { command } => match command {
            PubsubCommand::Broker { command } => broker::broker(&ctx, command).await,
            other => pubsub::pubsub(&ctx, other).await,
        },
    }
}
