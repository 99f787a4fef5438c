//! One file per command; `dispatch` resolves the settings every command
//! shares (project directory, environment overrides) and calls it.

mod broker;
mod completions;
mod dev;
mod init;
mod pubsub;
mod schema;

use std::path::{Path, PathBuf};

use crate::cli::{BrokerKindArg, Cli, Command, GlobalArgs, NewCommand, PubsubCommand};
use crate::config;
use crate::error::Result;
use crate::output::Printer;
use crate::schema::{BrokerKind, Project};

/// What every command gets: where the project is, how to print, and the
/// broker overrides from flags or `FTL_BROKER_KIND` / `FTL_BROKER_IMAGE`.
pub struct Context<'a> {
    pub printer: &'a Printer,
    pub project_dir: PathBuf,
    pub broker_kind: Option<BrokerKind>,
    pub broker_image: Option<String>,
}

/// Loads projects with the command line's overrides; owned, so it can go to
/// a blocking thread.
#[derive(Debug, Clone)]
pub struct ProjectLoader {
    broker_kind: Option<BrokerKind>,
    broker_image: Option<String>,
}

impl ProjectLoader {
    /// Loads and validates the project, then applies the overrides.
    pub fn load(&self, dir: &Path) -> Result<Project> {
        let mut project = config::load(dir)?;
        if let Some(kind) = self.broker_kind {
            if kind != project.broker.kind {
                project.broker.image = None;
            }
            project.broker.kind = kind;
        }
        if let Some(image) = &self.broker_image {
            project.broker.image = Some(image.clone());
        }
        if project.broker.kind == BrokerKind::External && project.broker.bootstrap.is_none() {
            return Err(crate::error::Error::usage(
                "the broker kind is `external` but the project has no `pubsub.broker.bootstrap`",
                Some(
                    "add `bootstrap: \"host:9092\"` under `pubsub.broker` in ftl-project.yaml"
                        .to_string(),
                ),
            ));
        }
        Ok(project)
    }
}

impl Context<'_> {
    pub fn loader(&self) -> ProjectLoader {
        ProjectLoader {
            broker_kind: self.broker_kind,
            broker_image: self.broker_image.clone(),
        }
    }

    pub fn load(&self, dir: &Path) -> Result<Project> {
        self.loader().load(dir)
    }

    pub fn project(&self) -> Result<Project> {
        self.load(&self.project_dir)
    }

    /// Reads and validates the project in `dir` on a blocking thread, for
    /// async commands.
    pub async fn read_project(&self, dir: &Path) -> Result<Project> {
        let loader = self.loader();
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || loader.load(&dir))
            .await
            .map_err(|e| {
                crate::error::Error::failed(format!("reading the project failed: {e}"), None)
            })?
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

pub async fn dispatch(cli: Cli, printer: &Printer) -> Result<()> {
    let GlobalArgs {
        project,
        broker_kind,
        broker_image,
        ..
    } = cli.global;
    let ctx = Context {
        printer,
        project_dir: project.unwrap_or_else(|| PathBuf::from(".")),
        broker_kind: broker_kind.map(kind_of),
        broker_image: broker_image.filter(|s| !s.is_empty()),
    };
    match cli.command {
        Command::Init { dir, name } => init::init(&ctx, dir, name),
        Command::New {
            command: NewCommand::Module { name },
        } => init::new_module(&ctx, &name),
        Command::Dev { dir } => dev::dev(&ctx, dir).await,
        Command::Schema { format } => schema::schema(&ctx, format),
        Command::Completions { shell } => completions::completions(shell),
        Command::Pubsub { command } => match command {
            PubsubCommand::Broker { command } => broker::broker(&ctx, command).await,
            other => pubsub::pubsub(&ctx, other).await,
        },
    }
}
