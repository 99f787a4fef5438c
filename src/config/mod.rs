//! Loading and validating `ftl-project.yaml` and every module's `ftl.yaml`.
//!
//! We parse with `marked-yaml` rather than deserialising with serde: serde
//! stops at the first problem and (with serde_yaml) only knows positions of
//! syntax errors, while `ftl` reports every problem at once, each with
//! file:line:col, including semantic ones such as a dangling reference. A
//! marked node tree gives every key and value its span, and a hand-written
//! walker keeps going after each problem.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoaderOptions, Node, Span};

use crate::diag::{suggest, Diagnostic, Diagnostics};
use crate::limits::BatchField;
use crate::schema::{
    kafka_name_problem, Batch, BrokerKind, BrokerSettings, ExecEnv, HttpUrl, Module, Project,
    Retry, RunnerSettings, StartFrom, Subscription, Topic, Verb, VerbCall, DEADLETTER_SUFFIX,
};
use crate::units::{parse_duration, parse_size};

pub use files::{read as read_file, Unusable};

pub const PROJECT_FILE: &str = "ftl-project.yaml";
pub const MODULE_FILE: &str = "ftl.yaml";

mod settings;
pub use settings::{
    user_file, BrokerLayer, Entry, Origin, Overrides, DEFAULT_GRACE, DEFAULT_KIND, DEFAULT_LISTEN,
    DEFAULT_PORT,
};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no `{PROJECT_FILE}` in `{}` or the folders above it", dir.display())]
    NotFound { dir: PathBuf },
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
    #[error(
        "the broker kind is `external` (from {kind_from}) but no `pubsub.broker.bootstrap` is set"
    )]
    ExternalWithoutBootstrap { kind_from: Origin },
}

impl ConfigError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::NotFound { dir } => Some(match projects_below(dir).first() {
                Some(p) => format!(
                    "there is a project in `{}`: run the command there, or add `-C {}`",
                    p.display(),
                    p.display()
                ),
                None => {
                    "run `ftl init` to create a project, or point at one with `-C DIR`".to_string()
                }
            }),
            ConfigError::ExternalWithoutBootstrap { .. } => Some(
                "add `bootstrap: \"host:9092\"` under `pubsub.broker` in ftl-project.yaml"
                    .to_string(),
            ),
            _ => None,
        }
    }
}

/// The nearest folder from `start` upwards that holds `ftl-project.yaml`
/// (`start` itself first), as `start` joined with `..` steps (`.`, `..`,
/// `../..`) so file names in messages stay relative and short.
pub fn find_root(start: &Path) -> Option<PathBuf> {
    let mut rel = start.to_path_buf();
    let absolute = std::fs::canonicalize(start).ok()?;
    for dir in absolute.ancestors() {
        if dir.join(PROJECT_FILE).is_file() {
            return Some(rel);
        }
        rel = if rel == Path::new(".") {
            PathBuf::from("..")
        } else {
            rel.join("..")
        };
    }
    None
}

/// Projects in the folders right under `dir`, for a hint when `dir` is not
/// in a project.
pub fn projects_below(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(PROJECT_FILE).is_file())
        .map(|p| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p))
        .collect();
    out.sort();
    out
}

/// The module files a project consists of, found without validating them
/// (the dev loop watches these).
pub fn module_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let p = e.path().join(MODULE_FILE);
            // Whatever is there (a dangling symlink, a FIFO, a folder we
            // may not look into) is a module file the loader names as
            // unusable, not one silently left out.
            let there = match std::fs::symlink_metadata(&p) {
                Ok(_) => true,
                Err(err) => err.kind() == std::io::ErrorKind::PermissionDenied && e.path().is_dir(),
            };
            if there {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Loads and validates the project at `root`, its settings resolved with
/// `overrides` (flags, environment, the user settings file).
pub fn load(root: &Path, overrides: &Overrides) -> Result<Project, ConfigError> {
    load_with_settings(root, overrides).map(|(p, _)| p)
}

/// Reads the user settings file into `loader` when there is one.
fn user_layer(loader: &mut Loader, overrides: &Overrides) -> Result<BrokerLayer, ConfigError> {
    match &overrides.user_file {
        Some(path) if path.is_file() => match loader.add_file(path.clone(), path)? {
            Some(src) => Ok(loader.user_file(src)),
            None => Ok(BrokerLayer::default()),
        },
        _ => Ok(BrokerLayer::default()),
    }
}

/// Every problem found so far, or nothing.
fn problems(loader: &mut Loader) -> Result<(), ConfigError> {
    if loader.diags.is_empty() {
        return Ok(());
    }
    let mut diags = std::mem::take(&mut loader.diags);
    diags.sort_by_key(|(src, d)| (*src, d.line, d.column));
    Err(ConfigError::Invalid(Diagnostics(
        diags.into_iter().map(|(_, d)| d).collect(),
    )))
}

fn resolve_broker(
    overrides: &Overrides,
    project: &BrokerLayer,
    user: &BrokerLayer,
) -> Result<(BrokerSettings, Vec<Entry>), ConfigError> {
    let (broker, entries) =
        settings::resolve_broker(&[&overrides.flags, &overrides.env, project, user]);
    if broker.kind == BrokerKind::External && broker.bootstrap.is_none() {
        return Err(ConfigError::ExternalWithoutBootstrap {
            kind_from: entries[0].origin.clone(),
        });
    }
    Ok((broker, entries))
}

/// The settings that hold outside any project: flags, environment, the
/// user settings file and the defaults (`ftl settings` with no project).
pub fn settings_without_project(overrides: &Overrides) -> Result<Vec<Entry>, ConfigError> {
    let mut loader = Loader {
        root: PathBuf::from("."),
        sources: Vec::new(),
        diags: Vec::new(),
        consumer_overrides: BTreeMap::new(),
    };
    let user = user_layer(&mut loader, overrides)?;
    problems(&mut loader)?;
    let (_, entries) = settings::resolve_broker(&[&overrides.flags, &overrides.env, &user]);
    Ok(entries)
}

/// `load`, and every setting with where its value came from.
pub fn load_with_settings(
    root: &Path,
    overrides: &Overrides,
) -> Result<(Project, Vec<Entry>), ConfigError> {
    load_inner(root, overrides, &HashSet::new()).map_err(|f| match f {
        LoadFailure::Config(e) => e,
        LoadFailure::Modules { diags, .. } => ConfigError::Invalid(diags),
    })
}

/// A module file left out of a partial load because it has problems.
#[derive(Debug, Clone)]
pub struct SkippedModule {
    /// The module file, relative to the project root.
    pub file: PathBuf,
    /// Its folder: the module's name unless the file says otherwise.
    pub folder: String,
    pub problems: Diagnostics,
}

/// The project without the module files that have problems (and those that
/// only fail because of them), for commands that need only the valid parts.
/// The project file and the user settings file must be valid.
pub fn load_partial(
    root: &Path,
    overrides: &Overrides,
) -> Result<(Project, Vec<SkippedModule>), ConfigError> {
    let mut skip: HashSet<PathBuf> = HashSet::new();
    let mut skipped = Vec::new();
    loop {
        match load_inner(root, overrides, &skip) {
            Ok((project, _)) => return Ok((project, skipped)),
            Err(LoadFailure::Config(e)) => return Err(e),
            Err(LoadFailure::Modules { diags, files }) => {
                for file in files {
                    let problems = Diagnostics(
                        diags
                            .0
                            .iter()
                            .filter(|d| d.file.ends_with(&file))
                            .cloned()
                            .collect(),
                    );
                    let folder = file
                        .parent()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    skip.insert(file.clone());
                    skipped.push(SkippedModule {
                        file,
                        folder,
                        problems,
                    });
                }
            }
        }
    }
}

enum LoadFailure {
    Config(ConfigError),
    /// Only module files have problems: these.
    Modules {
        diags: Diagnostics,
        files: Vec<PathBuf>,
    },
}

impl From<ConfigError> for LoadFailure {
    fn from(e: ConfigError) -> Self {
        LoadFailure::Config(e)
    }
}

fn load_inner(
    root: &Path,
    overrides: &Overrides,
    skip: &HashSet<PathBuf>,
) -> Result<(Project, Vec<Entry>), LoadFailure> {
    let project_path = root.join(PROJECT_FILE);
    if !project_path.is_file() {
        return Err(ConfigError::NotFound {
            dir: root.to_path_buf(),
        }
        .into());
    }
    let mut loader = Loader {
        root: root.to_path_buf(),
        sources: Vec::new(),
        diags: Vec::new(),
        consumer_overrides: BTreeMap::new(),
    };
    let Some(project_src) = loader.add_file(PathBuf::from(PROJECT_FILE), &project_path)? else {
        problems(&mut loader)?;
        return Err(LoadFailure::Config(ConfigError::NotFound {
            dir: root.to_path_buf(),
        }));
    };
    let header = loader.project_file(project_src);
    loader.consumer_overrides = header.runner.consumer.clone();
    let user = user_layer(&mut loader, overrides)?;
    let module_paths: Vec<(PathBuf, Option<Span>)> = match &header.modules {
        Some(list) => list
            .iter()
            .map(|(name, span)| (PathBuf::from(name).join(MODULE_FILE), Some(*span)))
            .collect(),
        None => module_files(root)
            .into_iter()
            .filter_map(|p| p.strip_prefix(root).ok().map(|p| (p.to_path_buf(), None)))
            .collect(),
    };
    let mut raw_modules = Vec::new();
    let first_module_src = loader.sources.len();
    for (rel, span) in module_paths {
        if skip.contains(&rel) {
            continue;
        }
        let full = root.join(&rel);
        if let Err(why) = files::check(&full) {
            if why != files::Unusable::Missing {
                loader.unusable(rel, &why);
                continue;
            }
            if let Some(span) = span {
                loader.error(
                    project_src,
                    &span,
                    format!("module folder has no `{}`", rel.display()),
                    Some(format!(
                        "create it with `ftl new module {}`, or remove the entry",
                        rel.parent()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default()
                    )),
                );
            }
            continue;
        }
        let Some(src) = loader.add_file(rel, &full)? else {
            continue;
        };
        if let Some(m) = loader.module_file(src) {
            raw_modules.push(m);
        }
    }
    let (modules, types) = loader.resolve(raw_modules);

    let bad_files: Vec<PathBuf> = {
        let mut v: Vec<PathBuf> = loader
            .diags
            .iter()
            .map(|(src, _)| *src)
            .filter(|src| *src >= first_module_src)
            .map(|src| loader.sources[src].rel.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let only_modules = loader.diags.iter().all(|(src, _)| *src >= first_module_src);
    if let Err(ConfigError::Invalid(diags)) = problems(&mut loader) {
        return Err(if only_modules && !bad_files.is_empty() {
            LoadFailure::Modules {
                diags,
                files: bad_files,
            }
        } else {
            LoadFailure::Config(ConfigError::Invalid(diags))
        });
    }
    let (broker, mut entries) = resolve_broker(overrides, &header.broker, &user)?;
    for (key, value) in [
        ("runner.listen", header.runner.listen.to_string()),
        (
            "runner.grace",
            crate::units::format_duration(header.runner.grace),
        ),
        (
            "runner.consumer",
            header
                .runner
                .consumer
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ] {
        entries.push(Entry {
            key,
            value,
            origin: header
                .runner_origins
                .get(key)
                .cloned()
                .unwrap_or(Origin::Default),
        });
    }
    let project = Project {
        name: header.name.unwrap_or_default(),
        root: root.to_path_buf(),
        broker,
        runner: header.runner,
        modules,
        types,
    };
    Ok((project, entries))
}

impl Loader {
    /// Reads a file into a new source. A file that cannot be used, is not
    /// UTF-8, or holds characters YAML does not allow (where the parser
    /// would stop, reading the file cut short) is a problem, and is not
    /// parsed (`None`).
    fn add_file(&mut self, rel: PathBuf, full: &Path) -> Result<Option<usize>, ConfigError> {
        let bytes = match files::read(full) {
            Ok(b) => b,
            Err(why) => {
                self.unusable(rel, &why);
                return Ok(None);
            }
        };
        match String::from_utf8(bytes) {
            Ok(text) if files::disallowed(&text).next().is_some() => {
                self.disallowed(rel, &text);
                Ok(None)
            }
            Ok(text) => Ok(Some(self.add_source(rel, text))),
            Err(e) => {
                let bytes = e.as_bytes();
                let at = e.utf8_error().valid_up_to();
                let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
                let line_start = bytes[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |i| i + 1);
                let column = String::from_utf8_lossy(&bytes[line_start..at])
                    .chars()
                    .count()
                    + 1;
                let text = String::from_utf8_lossy(bytes).into_owned();
                let src = self.add_source(rel, text);
                self.error_at(
                    src,
                    line,
                    column,
                    1,
                    format!("the file is not UTF-8 text (byte 0x{:02x})", bytes[at]),
                    Some("save it as UTF-8".into()),
                );
                Ok(None)
            }
        }
    }
}

impl Loader {
    /// A project file that cannot be used: a problem naming it and why.
    fn unusable(&mut self, rel: PathBuf, why: &files::Unusable) {
        let src = self.add_source(rel, String::new());
        let message = format!(
            "`{}` cannot be used: {why}",
            self.display_path(src).display()
        );
        self.error_at(src, 1, 1, 1, message, Some(why.hint().to_string()));
    }

    /// Each character of `text` YAML does not allow, as a problem at its
    /// line and column; the source lines shown have them replaced.
    fn disallowed(&mut self, rel: PathBuf, text: &str) {
        let found: Vec<(usize, char)> = files::disallowed(text).collect();
        let src = self.add_source(rel, files::shown(text));
        for (at, c) in found {
            let starts = &self.sources[src].line_starts;
            let line = starts.partition_point(|s| *s <= at);
            let line_start = starts[line - 1];
            let column = text[line_start..at].chars().count() + 1;
            self.error_at(
                src,
                line,
                column,
                1,
                format!(
                    "the file holds {}, which YAML does not allow{}",
                    files::name(c),
                    if c == '\0' {
                        " (the file would be read as if it ended here)"
                    } else {
                        ""
                    }
                ),
                Some("remove it; write control characters in a double-quoted string as escapes, like \"\\u0007\"".into()),
            );
        }
    }
}

struct Source {
    rel: PathBuf,
    text: String,
    /// Where each line starts (byte offsets).
    line_starts: Vec<usize>,
}

struct Loader {
    root: PathBuf,
    sources: Vec<Source>,
    /// (source index, diagnostic) so output is ordered by file then position.
    diags: Vec<(usize, Diagnostic)>,
    /// `runner.consumer` of the project file: the Kafka client limits a
    /// subscription's `batch` must respect depend on it.
    consumer_overrides: BTreeMap<String, String>,
}

struct ProjectHeader {
    name: Option<String>,
    modules: Option<Vec<(String, Span)>>,
    broker: BrokerLayer,
    runner: RunnerSettings,
    /// Where the project file sets `runner.*` keys.
    runner_origins: BTreeMap<&'static str, Origin>,
}

struct RawModule {
    src: usize,
    name: String,
    name_span: Span,
    verbs: Vec<Verb>,
    topics: Vec<(Topic, Span)>,
    /// Each topic's `event` and `key` as written, by topic name.
    events: HashMap<String, RawEvent>,
    types: types::RawTypes,
    subs: Vec<RawSubscription>,
}

/// A topic's `event` (text and where) and where its `key` is written.
struct RawEvent {
    event: Option<(String, Span)>,
    key: Option<Span>,
}

struct RawSubscription {
    sub: Subscription,
    span: Span,
    topic_ref: String,
    topic_span: Span,
    verb_span: Span,
    /// False when a field had a problem: references are still checked.
    valid: bool,
}

const PROJECT_KEYS: &[&str] = &["name", "modules", "pubsub", "runner"];
const PUBSUB_KEYS: &[&str] = &["broker"];
const BROKER_KEYS: &[&str] = &["kind", "image", "port", "bootstrap", "properties"];
const RUNNER_KEYS: &[&str] = &["listen", "consumer", "grace"];
const MODULE_KEYS: &[&str] = &[
    "module",
    "data",
    "enums",
    "verbs",
    "topics",
    "subscriptions",
];
const VERB_KEYS: &[&str] = &[
    "http",
    "exec",
    "grpc",
    "timeout",
    "env",
    "inherit_env",
    "pass_env",
];
const TOPIC_KEYS: &[&str] = &["event", "export", "partitions", "key"];
const SUB_KEYS: &[&str] = &[
    "topic",
    "verb",
    "from",
    "deadletter",
    "retry",
    "batch",
    "concurrency",
];
const CONCURRENCY_KEYS: &[&str] = &["per", "max"];
const RETRY_KEYS: &[&str] = &["count", "min_backoff", "max_backoff"];
const BATCH_KEYS: &[&str] = &["min", "default", "max_wait"];

mod concurrency;
mod cursor;
mod files;
mod module_file;
mod project_file;
mod resolve;
#[cfg(test)]
mod tests;
mod type_resolve;
mod types;
#[cfg(test)]
mod types_tests;
mod verb_file;
