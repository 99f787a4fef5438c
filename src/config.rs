//! Loading and validating `ftl-project.yaml` and every module's `ftl.yaml`.
//!
//! We parse with `marked-yaml` rather than deserialising with serde: serde
//! stops at the first problem and (with serde_yaml) only knows positions of
//! syntax errors, while DESIGN §1 asks for every problem at once, each with
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
use crate::kafka::BatchField;
use crate::schema::{
    kafka_name_problem, Batch, BrokerKind, BrokerSettings, Module, Project, Retry, RunnerSettings,
    StartFrom, Subscription, Topic, Verb, VerbCall, DEADLETTER_SUFFIX,
};
use crate::units::{parse_duration, parse_size};

pub const PROJECT_FILE: &str = "ftl-project.yaml";
pub const MODULE_FILE: &str = "ftl.yaml";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8892";
pub const DEFAULT_PORT: u16 = 19092;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no `{PROJECT_FILE}` in `{}`", dir.display())]
    NotFound { dir: PathBuf },
    #[error("cannot read `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(Diagnostics),
}

impl ConfigError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ConfigError::NotFound { .. } => Some(
                "run `ftl init` to create a project, or point at one with `-C DIR`".to_string(),
            ),
            _ => None,
        }
    }
}

/// The module files a project consists of, found without validating them
/// (the dev loop watches these).
pub fn module_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(root) {
        for e in entries.flatten() {
            let p = e.path().join(MODULE_FILE);
            if p.is_file() {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// Loads and validates the project at `root`.
pub fn load(root: &Path) -> Result<Project, ConfigError> {
    let project_path = root.join(PROJECT_FILE);
    if !project_path.is_file() {
        return Err(ConfigError::NotFound {
            dir: root.to_path_buf(),
        });
    }
    let mut loader = Loader {
        root: root.to_path_buf(),
        sources: Vec::new(),
        diags: Vec::new(),
        consumer_overrides: BTreeMap::new(),
    };
    let text = read(&project_path)?;
    let project_src = loader.add_source(PathBuf::from(PROJECT_FILE), text);
    let header = loader.project_file(project_src);
    loader.consumer_overrides = header.runner.consumer.clone();

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
    for (rel, span) in module_paths {
        let full = root.join(&rel);
        if !full.is_file() {
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
        let text = read(&full)?;
        let src = loader.add_source(rel, text);
        if let Some(m) = loader.module_file(src) {
            raw_modules.push(m);
        }
    }
    let modules = loader.resolve(raw_modules);

    if !loader.diags.is_empty() {
        let mut diags = loader.diags;
        diags.sort_by_key(|(src, d)| (*src, d.line, d.column));
        return Err(ConfigError::Invalid(Diagnostics(
            diags.into_iter().map(|(_, d)| d).collect(),
        )));
    }
    Ok(Project {
        name: header.name.unwrap_or_default(),
        root: root.to_path_buf(),
        broker: header.broker,
        runner: header.runner,
        modules,
    })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })
}

struct Source {
    rel: PathBuf,
    text: String,
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
    broker: BrokerSettings,
    runner: RunnerSettings,
}

struct RawModule {
    src: usize,
    name: String,
    name_span: Span,
    verbs: Vec<Verb>,
    topics: Vec<(Topic, Span)>,
    subs: Vec<RawSubscription>,
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
const MODULE_KEYS: &[&str] = &["module", "verbs", "topics", "subscriptions"];
const VERB_KEYS: &[&str] = &["http", "exec", "timeout"];
const TOPIC_KEYS: &[&str] = &["event", "export", "partitions", "key"];
const SUB_KEYS: &[&str] = &["topic", "verb", "from", "deadletter", "retry", "batch"];
const RETRY_KEYS: &[&str] = &["count", "min_backoff", "max_backoff"];
const BATCH_KEYS: &[&str] = &["min", "default", "max_wait"];

impl Loader {
    fn add_source(&mut self, rel: PathBuf, text: String) -> usize {
        self.sources.push(Source { rel, text });
        self.sources.len() - 1
    }

    fn display_path(&self, src: usize) -> PathBuf {
        let rel = &self.sources[src].rel;
        if self.root == Path::new(".") || self.root.as_os_str().is_empty() {
            rel.clone()
        } else {
            self.root.join(rel)
        }
    }

    fn error_at(
        &mut self,
        src: usize,
        line: usize,
        column: usize,
        width: usize,
        message: String,
        hint: Option<String>,
    ) {
        let source_line = self.sources[src]
            .text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("")
            .to_string();
        let d = Diagnostic {
            file: self.display_path(src),
            line: line.max(1),
            column: column.max(1),
            width,
            source_line,
            message,
            hint,
        };
        self.diags.push((src, d));
    }

    fn error(&mut self, src: usize, span: &Span, message: String, hint: Option<String>) {
        let (line, column, width) = match span.start() {
            Some(start) => {
                let width = match span.end() {
                    Some(end) if end.line() == start.line() && end.column() > start.column() => {
                        end.column() - start.column()
                    }
                    _ => 1,
                };
                (start.line(), start.column(), width)
            }
            None => (1, 1, 1),
        };
        self.error_at(src, line, column, width, message, hint);
    }

    fn scalar_error(
        &mut self,
        src: usize,
        s: &MarkedScalarNode,
        message: String,
        hint: Option<String>,
    ) {
        let (line, column) = s
            .span()
            .start()
            .map(|m| (m.line(), m.column()))
            .unwrap_or((1, 1));
        self.error_at(
            src,
            line,
            column,
            s.as_str().chars().count().max(1),
            message,
            hint,
        );
    }

    fn parse(&mut self, src: usize) -> Option<MarkedMappingNode> {
        let text = self.sources[src].text.clone();
        if text.trim().is_empty() {
            self.error_at(
                src,
                1,
                1,
                1,
                "the file is empty".into(),
                Some("see `ftl init` for a working example".into()),
            );
            return None;
        }
        let options = LoaderOptions::default().error_on_duplicate_keys(true);
        match marked_yaml::parse_yaml_with_options(src, &text, options) {
            Ok(Node::Mapping(m)) => Some(m),
            Ok(other) => {
                self.error(
                    src,
                    other.span(),
                    "the file must be a YAML mapping".into(),
                    None,
                );
                None
            }
            Err(e) => {
                self.load_error(src, e);
                None
            }
        }
    }

    fn load_error(&mut self, src: usize, e: marked_yaml::LoadError) {
        use marked_yaml::LoadError as E;
        match e {
            E::DuplicateKey(inner) => {
                let first = inner
                    .prev_key
                    .span()
                    .start()
                    .map(|m| format!("line {}", m.line()))
                    .unwrap_or_default();
                self.scalar_error(
                    src,
                    &inner.key,
                    format!("duplicate name `{}`", inner.key.as_str()),
                    Some(format!(
                        "it is already defined on {first}; rename or remove one"
                    )),
                );
            }
            E::ScanError(m, err) => {
                let text = err.to_string();
                let msg = text.split(" at ").next().unwrap_or(&text).to_string();
                self.error_at(
                    src,
                    m.line(),
                    m.column(),
                    1,
                    format!("invalid YAML: {msg}"),
                    Some("check indentation and quoting on this line or the one before".into()),
                );
            }
            E::TopLevelMustBeMapping(m) | E::TopLevelMustBeSequence(m) => self.error_at(
                src,
                m.line(),
                m.column(),
                1,
                "the file must be a YAML mapping".into(),
                None,
            ),
            E::UnexpectedAnchor(m) => self.error_at(
                src,
                m.line(),
                m.column(),
                1,
                "YAML anchors are not supported".into(),
                Some("write the value out in full".into()),
            ),
            E::MappingKeyMustBeScalar(m) => self.error_at(
                src,
                m.line(),
                m.column(),
                1,
                "mapping keys must be plain names".into(),
                None,
            ),
            E::UnexpectedTag(m) => self.error_at(
                src,
                m.line(),
                m.column(),
                1,
                "YAML tags are not supported".into(),
                Some("remove the `!tag`".into()),
            ),
        }
    }

    /// Reports keys not in `allowed`, with a suggestion.
    fn check_keys(&mut self, src: usize, map: &MarkedMappingNode, allowed: &[&str], what: &str) {
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let hint = match suggest(key.as_str(), allowed.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("allowed keys: {}", allowed.join(", ")),
                };
                self.scalar_error(
                    src,
                    key,
                    format!("unknown key `{}` in {what}", key.as_str()),
                    Some(hint),
                );
            }
        }
    }

    fn mapping<'n>(
        &mut self,
        src: usize,
        node: &'n Node,
        what: &str,
    ) -> Option<&'n MarkedMappingNode> {
        match node {
            Node::Mapping(m) => Some(m),
            Node::Scalar(s)
                if s.as_str().is_empty() || s.as_str() == "~" || s.as_str() == "null" =>
            {
                None
            }
            other => {
                self.error(
                    src,
                    other.span(),
                    format!("{what} must be a mapping (`key: value` lines)"),
                    None,
                );
                None
            }
        }
    }

    fn scalar<'n>(
        &mut self,
        src: usize,
        node: &'n Node,
        what: &str,
        expected: &str,
    ) -> Option<&'n MarkedScalarNode> {
        match node {
            Node::Scalar(s) => Some(s),
            other => {
                self.error(
                    src,
                    other.span(),
                    format!("{what} must be {expected}"),
                    None,
                );
                None
            }
        }
    }

    fn string(&mut self, src: usize, node: &Node, what: &str) -> Option<String> {
        let s = self.scalar(src, node, what, "a string")?;
        if s.as_str().is_empty() {
            self.error(src, s.span(), format!("{what} is empty"), None);
            return None;
        }
        Some(s.as_str().to_string())
    }

    fn boolean(&mut self, src: usize, node: &Node, what: &str) -> Option<bool> {
        let s = self.scalar(src, node, what, "true or false")?;
        match s.as_bool() {
            Some(b) => Some(b),
            None => {
                self.scalar_error(
                    src,
                    s,
                    format!("{what} must be true or false, not `{}`", s.as_str()),
                    None,
                );
                None
            }
        }
    }

    fn duration(&mut self, src: usize, node: &Node, what: &str) -> Option<Duration> {
        let s = self.scalar(src, node, what, "a duration like `250ms` or `1s`")?;
        match parse_duration(s.as_str()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.scalar_error(
                    src,
                    s,
                    format!("bad duration for {what}: {e}"),
                    Some("durations are a number and a unit: `250ms`, `1s`, `2m`".into()),
                );
                None
            }
        }
    }

    fn size(&mut self, src: usize, node: &Node, what: &str) -> Option<u64> {
        let s = self.scalar(src, node, what, "a size like `1KB` or `1MB`")?;
        match parse_size(s.as_str()) {
            Ok(d) => Some(d),
            Err(e) => {
                self.scalar_error(
                    src,
                    s,
                    format!("bad size for {what}: {e}"),
                    Some("sizes are a number and a unit: `1B`, `64KB`, `1MB`".into()),
                );
                None
            }
        }
    }

    fn integer(&mut self, src: usize, node: &Node, what: &str) -> Option<i64> {
        let s = self.scalar(src, node, what, "a whole number")?;
        match s.as_i64() {
            Some(n) => Some(n),
            None => {
                self.scalar_error(
                    src,
                    s,
                    format!("{what} must be a whole number, not `{}`", s.as_str()),
                    None,
                );
                None
            }
        }
    }

    fn string_map(&mut self, src: usize, node: &Node, what: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        if let Some(map) = self.mapping(src, node, what) {
            for (k, v) in map.iter() {
                if let Some(s) =
                    self.scalar(src, v, &format!("{what} `{}`", k.as_str()), "a string")
                {
                    out.insert(k.as_str().to_string(), s.as_str().to_string());
                }
            }
        }
        out
    }

    /// A module, topic, subscription or verb name: it becomes part of a
    /// Kafka name and `.` separates module from name.
    fn check_name(&mut self, src: usize, key: &MarkedScalarNode, what: &str) -> bool {
        let name = key.as_str();
        let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            self.scalar_error(
                src,
                key,
                format!("{what} name `{name}` is not a legal name"),
                Some("names start with a letter and use only a-z, A-Z, 0-9, `_` and `-` (they become Kafka names; `.` separates module and name)".into()),
            );
        }
        ok
    }

    fn project_file(&mut self, src: usize) -> ProjectHeader {
        let mut header = ProjectHeader {
            name: None,
            modules: None,
            broker: BrokerSettings {
                kind: BrokerKind::Redpanda,
                image: None,
                port: DEFAULT_PORT,
                bootstrap: None,
                properties: BTreeMap::new(),
            },
            runner: RunnerSettings {
                listen: DEFAULT_LISTEN
                    .parse()
                    .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8892))),
                consumer: BTreeMap::new(),
                grace: Duration::from_secs(10),
            },
        };
        let Some(root) = self.parse(src) else {
            return header;
        };
        self.check_keys(src, &root, PROJECT_KEYS, "ftl-project.yaml");
        match root.get_node("name") {
            None => self.error_at(
                src,
                1,
                1,
                1,
                "missing `name`".into(),
                Some(
                    "add `name: myproject` (a-z, 0-9 and `-`); it names the broker container"
                        .into(),
                ),
            ),
            Some(n) => {
                if let Some(s) = self.scalar(src, n, "`name`", "a string") {
                    let name = s.as_str();
                    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && name
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                    if ok {
                        header.name = Some(name.to_string());
                    } else {
                        self.scalar_error(src, s, format!("project name `{name}` is not allowed"), Some("use a lowercase letter followed by a-z, 0-9 or `-`; it names the broker container".into()));
                    }
                }
            }
        }
        if let Some(n) = root.get_node("modules") {
            match n {
                Node::Sequence(seq) => {
                    let mut list = Vec::new();
                    for item in seq.iter() {
                        if let Some(s) =
                            self.scalar(src, item, "a `modules` entry", "a folder name")
                        {
                            list.push((s.as_str().to_string(), *s.span()));
                        }
                    }
                    header.modules = Some(list);
                }
                other => self.error(
                    src,
                    other.span(),
                    "`modules` must be a list of folder names, like `[pizza, kitchen]`".into(),
                    None,
                ),
            }
        }
        if let Some(pubsub) = root
            .get_node("pubsub")
            .and_then(|n| self.mapping(src, n, "`pubsub`"))
        {
            self.check_keys(src, pubsub, PUBSUB_KEYS, "`pubsub`");
            if let Some(broker) = pubsub
                .get_node("broker")
                .and_then(|n| self.mapping(src, n, "`pubsub.broker`"))
            {
                self.broker(src, broker, &mut header.broker);
            }
        }
        if let Some(runner) = root
            .get_node("runner")
            .and_then(|n| self.mapping(src, n, "`runner`"))
        {
            self.check_keys(src, runner, RUNNER_KEYS, "`runner`");
            if let Some(n) = runner.get_node("listen") {
                if let Some(s) = self.scalar(
                    src,
                    n,
                    "`runner.listen`",
                    "an address like `127.0.0.1:8892`",
                ) {
                    match s.as_str().parse::<SocketAddr>() {
                        Ok(addr) if addr.ip().is_loopback() => header.runner.listen = addr,
                        Ok(_) => self.scalar_error(
                            src,
                            s,
                            format!(
                                "`runner.listen` must be a loopback address, not `{}`",
                                s.as_str()
                            ),
                            Some(
                                "the runner only listens on this machine: use `127.0.0.1:<port>`"
                                    .into(),
                            ),
                        ),
                        Err(_) => self.scalar_error(
                            src,
                            s,
                            format!("`{}` is not an address", s.as_str()),
                            Some("write it as `127.0.0.1:8892`".into()),
                        ),
                    }
                }
            }
            if let Some(n) = runner.get_node("consumer") {
                header.runner.consumer = self.string_map(src, n, "`runner.consumer`");
            }
            if let Some(n) = runner.get_node("grace") {
                if let Some(d) = self.duration(src, n, "`runner.grace`") {
                    header.runner.grace = d;
                }
            }
        }
        header
    }

    fn broker(&mut self, src: usize, broker: &MarkedMappingNode, out: &mut BrokerSettings) {
        self.check_keys(src, broker, BROKER_KEYS, "`pubsub.broker`");
        if let Some(n) = broker.get_node("kind") {
            if let Some(s) = self.scalar(src, n, "`kind`", "a broker kind") {
                match BrokerKind::parse(s.as_str()) {
                    Some(k) => out.kind = k,
                    None => self.scalar_error(
                        src,
                        s,
                        format!("unknown broker kind `{}`", s.as_str()),
                        Some("use one of redpanda, kafka, tansu, external".into()),
                    ),
                }
            }
        }
        if let Some(n) = broker.get_node("image") {
            out.image = self.string(src, n, "`image`");
        }
        if let Some(n) = broker.get_node("port") {
            if let Some(p) = self.integer(src, n, "`port`") {
                match u16::try_from(p) {
                    Ok(p) => out.port = p,
                    Err(_) => self.error(
                        src,
                        n.span(),
                        format!("port {p} is out of range"),
                        Some("use 1-65535, or 0 to pick a free port".into()),
                    ),
                }
            }
        }
        if let Some(n) = broker.get_node("bootstrap") {
            out.bootstrap = self.string(src, n, "`bootstrap`");
        }
        if let Some(n) = broker.get_node("properties") {
            out.properties = self.string_map(src, n, "`properties`");
        }
        if out.kind == BrokerKind::External && out.bootstrap.is_none() {
            self.error(
                src,
                broker.span(),
                "an `external` broker needs `bootstrap`".into(),
                Some("add `bootstrap: \"host:9092\"`".into()),
            );
        }
    }

    fn module_file(&mut self, src: usize) -> Option<RawModule> {
        let root = self.parse(src)?;
        self.check_keys(src, &root, MODULE_KEYS, "ftl.yaml");
        let (name, name_span) = match root.get_scalar("module") {
            Some(s) if self.check_name(src, s, "module") => (s.as_str().to_string(), *s.span()),
            Some(_) => return None,
            None => {
                self.error_at(
                    src,
                    1,
                    1,
                    1,
                    "missing `module`".into(),
                    Some("add `module: <name>` at the top".into()),
                );
                return None;
            }
        };
        let mut m = RawModule {
            src,
            name: name.clone(),
            name_span,
            verbs: Vec::new(),
            topics: Vec::new(),
            subs: Vec::new(),
        };

        if let Some(verbs) = root
            .get_node("verbs")
            .and_then(|n| self.mapping(src, n, "`verbs`"))
        {
            for (key, node) in verbs.iter() {
                if !self.check_name(src, key, "verb") {
                    continue;
                }
                if let Some(v) = self.verb(src, &name, key, node) {
                    m.verbs.push(v);
                }
            }
        }
        if let Some(topics) = root
            .get_node("topics")
            .and_then(|n| self.mapping(src, n, "`topics`"))
        {
            for (key, node) in topics.iter() {
                if !self.check_name(src, key, "topic") {
                    continue;
                }
                if let Some(t) = self.topic(src, &name, key, node) {
                    m.topics.push((t, *key.span()));
                }
            }
        }
        if let Some(subs) = root
            .get_node("subscriptions")
            .and_then(|n| self.mapping(src, n, "`subscriptions`"))
        {
            for (key, node) in subs.iter() {
                if !self.check_name(src, key, "subscription") {
                    continue;
                }
                if let Some(s) = self.subscription(src, &name, key, node) {
                    m.subs.push(s);
                }
            }
        }
        Some(m)
    }

    fn verb(
        &mut self,
        src: usize,
        module: &str,
        key: &MarkedScalarNode,
        node: &Node,
    ) -> Option<Verb> {
        let what = format!("verb `{}`", key.as_str());
        let Some(map) = self.mapping(src, node, &what) else {
            self.scalar_error(
                src,
                key,
                format!("{what} has no `http` or `exec`"),
                Some("add `http: http://127.0.0.1:PORT/path` or `exec: [\"cmd\", \"arg\"]`".into()),
            );
            return None;
        };
        self.check_keys(src, map, VERB_KEYS, &what);
        let http = map
            .get_node("http")
            .and_then(|n| self.string(src, n, &format!("`http` of {what}")));
        let exec = map.get_node("exec").and_then(|n| match n {
            Node::Sequence(seq) if !seq.is_empty() => {
                let argv: Vec<String> = seq.iter().filter_map(|i| i.as_scalar().map(|s| s.as_str().to_string())).collect();
                (argv.len() == seq.len()).then_some(argv)
            }
            other => {
                self.error(src, other.span(), format!("`exec` of {what} must be a non-empty list, like `[\"python3\", \"handler.py\"]`"), Some("the command runs without a shell; put each argument in its own list item".into()));
                None
            }
        });
        if let Some(url) = &http {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                if let Some(n) = map.get_node("http") {
                    self.error(
                        src,
                        n.span(),
                        format!("`http` of {what} must be an http:// URL, not `{url}`"),
                        Some("write it like `http://127.0.0.1:8081/processOrder`".into()),
                    );
                }
                return None;
            }
        }
        let call = match (http, exec) {
            (Some(url), None) => VerbCall::Http(url),
            (None, Some(argv)) => VerbCall::Exec(argv),
            (Some(_), Some(_)) => {
                self.scalar_error(
                    src,
                    key,
                    format!("{what} has both `http` and `exec`"),
                    Some("a verb is called one way: keep one of them".into()),
                );
                return None;
            }
            (None, None) => {
                if map.get_node("http").is_none() && map.get_node("exec").is_none() {
                    self.scalar_error(
                        src,
                        key,
                        format!("{what} has neither `http` nor `exec`"),
                        Some(
                            "add `http: http://127.0.0.1:PORT/path` or `exec: [\"cmd\", \"arg\"]`"
                                .into(),
                        ),
                    );
                }
                return None;
            }
        };
        let timeout = map
            .get_node("timeout")
            .and_then(|n| self.duration(src, n, &format!("`timeout` of {what}")))
            .unwrap_or(Duration::from_secs(30));
        Some(Verb {
            module: module.into(),
            name: key.as_str().into(),
            call,
            timeout,
        })
    }

    fn topic(
        &mut self,
        src: usize,
        module: &str,
        key: &MarkedScalarNode,
        node: &Node,
    ) -> Option<Topic> {
        let what = format!("topic `{}`", key.as_str());
        let empty = MarkedMappingNode::new_empty(*node.span());
        let map = self.mapping(src, node, &what).unwrap_or(&empty);
        self.check_keys(src, map, TOPIC_KEYS, &what);
        let event = map
            .get_node("event")
            .and_then(|n| self.string(src, n, &format!("`event` of {what}")))
            .unwrap_or_else(|| upper_first(key.as_str()));
        let event = if event.contains('.') {
            event
        } else {
            format!("{module}.{event}")
        };
        let export = map
            .get_node("export")
            .and_then(|n| self.boolean(src, n, "`export`"))
            .unwrap_or(false);
        let mut partitions = 1;
        let mut ok = true;
        if let Some(n) = map.get_node("partitions") {
            match self.integer(src, n, "`partitions`") {
                Some(p) if (1..=i64::from(i32::MAX)).contains(&p) => partitions = p as i32,
                Some(p) => {
                    self.error(
                        src,
                        n.span(),
                        format!("{what} has {p} partitions; a topic needs at least 1"),
                        Some("set `partitions: 1` or more".into()),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        let key_ptr = match map.get_node("key") {
            Some(n) => match self.string(src, n, "`key`") {
                Some(p) if p.starts_with('/') => Some(p),
                Some(p) => {
                    self.error(
                        src,
                        n.span(),
                        format!("`key` of {what} must be a JSON pointer, not `{p}`"),
                        Some(format!("JSON pointers start with `/`: write `/{p}`")),
                    );
                    ok = false;
                    None
                }
                None => None,
            },
            None => None,
        };
        if ok && partitions > 1 && key_ptr.is_none() {
            self.scalar_error(src, key, format!("{what} has {partitions} partitions but no `key`"), Some("add `key: /field` (a JSON pointer into the event) so events of one key stay in order in one partition, or use 1 partition".into()));
        }
        // Kept even when invalid (the load fails anyway) so references to it
        // do not cascade into "unknown topic" errors.
        let _ = ok;
        Some(Topic {
            module: module.into(),
            name: key.as_str().into(),
            event,
            export,
            partitions,
            key: key_ptr,
            deadletter_of: None,
        })
    }

    fn subscription(
        &mut self,
        src: usize,
        module: &str,
        key: &MarkedScalarNode,
        node: &Node,
    ) -> Option<RawSubscription> {
        let what = format!("subscription `{}`", key.as_str());
        let Some(map) = self.mapping(src, node, &what) else {
            self.scalar_error(
                src,
                key,
                format!("{what} has no `topic` and `verb`"),
                Some("add `topic: <topic>` and `verb: <verb>`".into()),
            );
            return None;
        };
        self.check_keys(src, map, SUB_KEYS, &what);
        let mut ok = true;
        let topic = match map.get_node("topic") {
            Some(n) => self
                .scalar(src, n, "`topic`", "a topic name")
                .map(|s| (s.as_str().to_string(), *s.span())),
            None => {
                self.scalar_error(
                    src,
                    key,
                    format!("{what} has no `topic`"),
                    Some("add `topic: <topic>` or `topic: <module>.<topic>`".into()),
                );
                None
            }
        };
        let verb = match map.get_node("verb") {
            Some(n) => self
                .scalar(src, n, "`verb`", "a verb name")
                .map(|s| (s.as_str().to_string(), *s.span())),
            None => {
                self.scalar_error(
                    src,
                    key,
                    format!("{what} has no `verb`"),
                    Some("add `verb: <verb of this module>`".into()),
                );
                None
            }
        };
        let from = match map
            .get_node("from")
            .and_then(|n| self.scalar(src, n, "`from`", "beginning or latest"))
        {
            None => StartFrom::Beginning,
            Some(s) => match s.as_str() {
                "beginning" => StartFrom::Beginning,
                "latest" => StartFrom::Latest,
                other => {
                    self.scalar_error(
                        src,
                        s,
                        format!("`from` must be `beginning` or `latest`, not `{other}`"),
                        None,
                    );
                    ok = false;
                    StartFrom::Beginning
                }
            },
        };
        let deadletter = map
            .get_node("deadletter")
            .and_then(|n| self.boolean(src, n, "`deadletter`"))
            .unwrap_or(false);
        let mut retry = Retry::default();
        if let Some(r) = map
            .get_node("retry")
            .and_then(|n| self.mapping(src, n, "`retry`"))
        {
            self.check_keys(src, r, RETRY_KEYS, "`retry`");
            if let Some(n) = r.get_node("count") {
                match self.integer(src, n, "`retry.count`") {
                    Some(c) if (0..=i64::from(u32::MAX)).contains(&c) => retry.count = c as u32,
                    Some(c) => {
                        self.error(
                            src,
                            n.span(),
                            format!("`retry.count` cannot be {c}"),
                            Some("use 0 or more".into()),
                        );
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            let min = r
                .get_node("min_backoff")
                .map(|n| self.duration(src, n, "`retry.min_backoff`"));
            let max = r
                .get_node("max_backoff")
                .map(|n| self.duration(src, n, "`retry.max_backoff`"));
            match (min, max) {
                (Some(None), _) | (_, Some(None)) => ok = false,
                (min, max) => {
                    if let Some(Some(d)) = min {
                        retry.min_backoff = d;
                        retry.max_backoff = retry.max_backoff.max(d);
                    }
                    if let Some(Some(d)) = max {
                        retry.max_backoff = d;
                    }
                    if retry.max_backoff < retry.min_backoff {
                        self.error(
                            src,
                            r.span(),
                            "`retry.max_backoff` is shorter than `min_backoff`".into(),
                            Some("the backoff doubles from min_backoff up to max_backoff".into()),
                        );
                        ok = false;
                    }
                }
            }
        }
        let mut batch = Batch::default();
        if let Some(b) = map
            .get_node("batch")
            .and_then(|n| self.mapping(src, n, "`batch`"))
        {
            self.check_keys(src, b, BATCH_KEYS, "`batch`");
            for (field, slot) in [("min", &mut batch.min), ("default", &mut batch.default)] {
                if let Some(n) = b.get_node(field) {
                    match self.size(src, n, &format!("`batch.{field}`")) {
                        Some(v) if v >= 1 && v <= i32::MAX as u64 => *slot = v,
                        Some(v) => {
                            self.error(
                                src,
                                n.span(),
                                format!("`batch.{field}` of {v} bytes is out of range"),
                                Some("use between 1B and 2047MB".into()),
                            );
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
            }
            if let Some(n) = b.get_node("max_wait") {
                match self.duration(src, n, "`batch.max_wait`") {
                    Some(d) => batch.max_wait = d,
                    None => ok = false,
                }
            }
            if batch.min > batch.default {
                self.error(
                    src,
                    b.span(),
                    "`batch.min` is larger than `batch.default`".into(),
                    Some("min is the bytes to wait for, default the most to fetch at once".into()),
                );
                ok = false;
            }
        }
        // Checked with or without a `batch` key: `runner.consumer` may move
        // the limits under the defaults.
        let batch_node = map.get_node("batch").and_then(|n| n.as_mapping());
        for (field, message, hint) in crate::kafka::batch_problems(&batch, &self.consumer_overrides)
        {
            let name = match field {
                BatchField::Min => "min",
                BatchField::Default => "default",
                BatchField::MaxWait => "max_wait",
            };
            let span = batch_node
                .map(|b| b.get_node(name).map(|n| *n.span()).unwrap_or(*b.span()))
                .unwrap_or(*key.span());
            let hint = if batch_node.and_then(|b| b.get_node(name)).is_some() {
                hint
            } else {
                format!("{hint}; or change `message.max.bytes` in `runner.consumer`")
            };
            self.error(src, &span, message, Some(hint));
            ok = false;
        }
        let ((topic_ref, topic_span), (verb, verb_span)) = (topic?, verb?);
        Some(RawSubscription {
            sub: Subscription {
                module: module.into(),
                name: key.as_str().into(),
                topic: (String::new(), String::new()),
                verb,
                from,
                deadletter,
                retry,
                batch,
            },
            span: *key.span(),
            topic_ref,
            topic_span,
            verb_span,
            valid: ok,
        })
    }

    /// Cross-file checks: duplicate modules, references, Kafka names.
    fn resolve(&mut self, raw: Vec<RawModule>) -> Vec<Module> {
        let mut seen_modules: HashMap<String, usize> = HashMap::new();
        let mut raw_kept = Vec::new();
        for m in raw {
            if let Some(first) = seen_modules.get(&m.name) {
                let other = self.display_path(*first).display().to_string();
                self.error(
                    m.src,
                    &m.name_span,
                    format!("duplicate module `{}`", m.name),
                    Some(format!(
                        "`{other}` declares it too; module names are unique"
                    )),
                );
                continue;
            }
            seen_modules.insert(m.name.clone(), m.src);
            raw_kept.push(m);
        }
        // Every topic, generated dead-letter topics included, by (module, name).
        let mut topics: HashMap<(String, String), Topic> = HashMap::new();
        for m in &raw_kept {
            for (t, _) in &m.topics {
                topics.insert((m.name.clone(), t.name.clone()), t.clone());
            }
        }
        let mut modules = Vec::new();
        for m in raw_kept {
            let mut out = Module {
                name: m.name.clone(),
                file: self.root.join(&self.sources[m.src].rel),
                verbs: m.verbs,
                topics: Vec::new(),
                subscriptions: Vec::new(),
            };
            for (t, span) in &m.topics {
                if let Some(p) = kafka_name_problem(&t.kafka_name()) {
                    self.error(
                        m.src,
                        span,
                        p,
                        Some("shorten or rename the topic or module".into()),
                    );
                }
            }
            out.topics = m.topics.into_iter().map(|(t, _)| t).collect();
            let mut verbs_used: HashMap<String, String> = HashMap::new();
            let mut dead_letters = Vec::new();
            // Every dead-letter topic a subscription declares, valid or not:
            // a problem elsewhere in a subscription must not make a reference
            // to its dead-letter topic look dangling as well.
            let declared_dlqs: HashSet<String> = m
                .subs
                .iter()
                .filter(|rs| rs.sub.deadletter)
                .map(|rs| rs.sub.deadletter_topic())
                .collect();
            for mut rs in m.subs {
                let mut ok = rs.valid;
                // Resolve the topic reference.
                let (tm, tn) = match rs.topic_ref.split_once('.') {
                    Some((a, b)) => (a.to_string(), b.to_string()),
                    None => (m.name.clone(), rs.topic_ref.clone()),
                };
                let dlq_source = tn
                    .strip_suffix(DEADLETTER_SUFFIX)
                    .filter(|_| !topics.contains_key(&(tm.clone(), tn.clone())));
                let target = topics.get(&(tm.clone(), tn.clone())).cloned();
                match target {
                    Some(t) if t.module != m.name && !t.export => {
                        self.error(
                            m.src,
                            &rs.topic_span,
                            format!("topic `{tm}.{tn}` is not exported by module `{tm}`"),
                            Some(format!(
                                "add `export: true` to topic `{tn}` in module `{tm}`"
                            )),
                        );
                        ok = false;
                    }
                    Some(_) => {}
                    None if dlq_source.is_some() && tm == m.name => {
                        // A dead-letter topic of this module; checked once all
                        // subscriptions are known.
                    }
                    None => {
                        let candidates: Vec<String> =
                            topics.keys().map(|(a, b)| format!("{a}.{b}")).collect();
                        let hint = match suggest(
                            &format!("{tm}.{tn}"),
                            candidates.iter().map(String::as_str),
                        ) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None if candidates.is_empty() => {
                                "declare it under `topics:`".to_string()
                            }
                            None => format!("known topics: {}", sorted(candidates).join(", ")),
                        };
                        self.error(
                            m.src,
                            &rs.topic_span,
                            format!(
                                "subscription `{}` refers to unknown topic `{}`",
                                rs.sub.name, rs.topic_ref
                            ),
                            Some(hint),
                        );
                        ok = false;
                    }
                }
                rs.sub.topic = (tm, tn);
                // The verb: of this module, subscribed once.
                if !out.verbs.iter().any(|v| v.name == rs.sub.verb) {
                    let hint =
                        match suggest(&rs.sub.verb, out.verbs.iter().map(|v| v.name.as_str())) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("declare it under `verbs:` in module `{}`", m.name),
                        };
                    self.error(
                        m.src,
                        &rs.verb_span,
                        format!(
                            "subscription `{}` refers to unknown verb `{}`",
                            rs.sub.name, rs.sub.verb
                        ),
                        Some(hint),
                    );
                    ok = false;
                } else if let Some(first) = verbs_used.get(&rs.sub.verb) {
                    self.error(m.src, &rs.verb_span, format!("verb `{}` is subscribed twice", rs.sub.verb), Some(format!("subscription `{first}` already calls it; a verb has one subscription (seed: \"a subscription can only have a single subscriber verb\")")));
                    ok = false;
                } else {
                    verbs_used.insert(rs.sub.verb.clone(), rs.sub.name.clone());
                }
                for name in std::iter::once(rs.sub.group_id())
                    .chain(rs.sub.deadletter.then(|| rs.sub.deadletter_kafka_name()))
                {
                    if let Some(p) = kafka_name_problem(&name) {
                        self.error(
                            m.src,
                            &rs.span,
                            p,
                            Some("shorten or rename the subscription or module".into()),
                        );
                        ok = false;
                    }
                }
                if rs.sub.deadletter {
                    let dlq = rs.sub.deadletter_topic();
                    if out.topics.iter().any(|t| t.name == dlq) {
                        self.error(m.src, &rs.span, format!("topic `{dlq}` is declared and is also the dead-letter topic of subscription `{}`", rs.sub.name), Some("rename the topic or the subscription".into()));
                        ok = false;
                    }
                }
                if ok {
                    dead_letters.push((rs.sub.clone(), rs.topic_span));
                    out.subscriptions.push(rs.sub);
                }
            }
            // Generated dead-letter topics.
            let mut generated = Vec::new();
            for s in out.subscriptions.iter().filter(|s| s.deadletter) {
                let source_event = topics
                    .get(&s.topic)
                    .map(|t| t.event.clone())
                    .unwrap_or_else(|| "builtin.Any".into());
                generated.push(Topic {
                    module: m.name.clone(),
                    name: s.deadletter_topic(),
                    event: format!("builtin.FailedEvent<{source_event}>"),
                    export: false,
                    partitions: 1,
                    key: None,
                    deadletter_of: Some(s.name.clone()),
                });
            }
            // Subscriptions to this module's dead-letter topics.
            let names: HashSet<String> = generated.iter().map(|t| t.name.clone()).collect();
            for (s, span) in &dead_letters {
                if s.topic.0 == m.name
                    && !topics.contains_key(&s.topic)
                    && !names.contains(&s.topic.1)
                    && !declared_dlqs.contains(&s.topic.1)
                {
                    self.error(m.src, span, format!("subscription `{}` refers to unknown topic `{}`", s.name, s.topic.1), Some(format!("`{}` would be a dead-letter topic, but subscription `{}` does not declare `deadletter: true`", s.topic.1, s.topic.1.trim_end_matches(DEADLETTER_SUFFIX))));
                }
            }
            out.topics.extend(generated);
            modules.push(out);
        }
        modules
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Project, ConfigError>) {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let r = load(dir.path());
        (dir, r)
    }

    #[test]
    fn resolves_names_defaults_and_dead_letter_topics() {
        let (_d, r) = project(&[
            ("ftl-project.yaml", "name: shop\n"),
            ("pizza/ftl.yaml", "module: pizza\nverbs:\n  cook: {exec: [\"true\"]}\n  failed: {http: \"http://127.0.0.1:1/x\"}\ntopics:\n  orders: {partitions: 8, key: /userId, event: Order}\nsubscriptions:\n  cookSub: {topic: orders, verb: cook, deadletter: true}\n  failedSub: {topic: cookSubFailed, verb: failed}\n"),
        ]);
        let p = r.unwrap();
        assert_eq!(p.broker.kind, BrokerKind::Redpanda);
        let t: Vec<String> = p
            .topics()
            .map(|t| format!("{} {} {}", t.kafka_name(), t.partitions, t.event))
            .collect();
        assert_eq!(
            t,
            vec![
                "pizza.orders 8 pizza.Order",
                "pizza.cookSubFailed 1 builtin.FailedEvent<pizza.Order>"
            ]
        );
        let s = p.find_subscription("cookSub");
        let Lookup::Found(s) = s else { panic!("{s:?}") };
        assert_eq!(s.group_id(), "pizza.cookSub");
        assert_eq!(s.batch, Batch::default());
    }

    use crate::schema::Lookup;

    #[test]
    fn reports_every_problem_with_positions() {
        let (_d, r) = project(&[
            ("ftl-project.yaml", "name: shop\n"),
            ("a/ftl.yaml", "module: a\nverbs:\n  v: {exec: [\"x\"]}\ntopics:\n  t: {partitions: 0, colour: red}\nsubscriptions:\n  s: {topic: nope, verb: v, batch: {max_wait: 5 minutes}}\n"),
        ]);
        let Err(ConfigError::Invalid(d)) = r else {
            panic!()
        };
        let got: Vec<String> =
            d.0.iter()
                .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
                .collect();
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(
            got[0].starts_with("5:19 topic `t` has 0 partitions"),
            "{got:#?}"
        );
        assert!(got[1].starts_with("5:22 unknown key `colour`"), "{got:#?}");
        assert!(got[3].starts_with("7:47 bad duration"), "{got:#?}");
        assert!(
            got[2].starts_with("7:14 subscription `s` refers to unknown topic `nope`"),
            "{got:#?}"
        );
    }

    #[test]
    fn a_bad_field_of_a_subscription_does_not_make_its_dead_letter_topic_dangling() {
        let (_d, r) = project(&[
            ("ftl-project.yaml", "name: shop\n"),
            ("a/ftl.yaml", "module: a\nverbs:\n  v: {exec: [\"x\"]}\n  w: {exec: [\"x\"]}\ntopics:\n  t: {}\nsubscriptions:\n  s: {topic: t, verb: v, deadletter: true, batch: {default: 64KB}}\n  f: {topic: sFailed, verb: w}\n"),
        ]);
        let Err(ConfigError::Invalid(d)) = r else {
            panic!()
        };
        let got: Vec<String> =
            d.0.iter()
                .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
                .collect();
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(
            got[0].starts_with("8:61 `batch.default` of 65536 bytes"),
            "{got:#?}"
        );
    }
}
