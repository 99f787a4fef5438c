//! The resolved project: modules, verbs, topics (declared and generated
//! dead-letter topics) and subscriptions, after validation. Everything that
//! derives a Kafka name from an FTL name lives here, so the naming rules
//! (docs/design.md, "Names") are in one place.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod http_url;
mod render;

pub use http_url::HttpUrl;

use crate::units::{format_duration, format_size};

/// Kafka's documented limit on topic names.
pub const MAX_KAFKA_NAME: usize = 249;

/// Suffix of a subscription's generated dead-letter topic (seed: `<name>Failed`).
pub const DEADLETTER_SUFFIX: &str = "Failed";

#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub name: String,
    pub root: PathBuf,
    pub broker: BrokerSettings,
    pub runner: RunnerSettings,
    pub modules: Vec<Module>,
    /// Every module's data and enum declarations.
    pub types: std::sync::Arc<crate::types::Types>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerKind {
    Redpanda,
    Kafka,
    Tansu,
    External,
}

impl BrokerKind {
    pub const ALL: [BrokerKind; 4] = [
        BrokerKind::Redpanda,
        BrokerKind::Kafka,
        BrokerKind::Tansu,
        BrokerKind::External,
    ];

    pub fn name(self) -> &'static str {
        match self {
            BrokerKind::Redpanda => "redpanda",
            BrokerKind::Kafka => "kafka",
            BrokerKind::Tansu => "tansu",
            BrokerKind::External => "external",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct BrokerSettings {
    pub kind: BrokerKind,
    /// Image override; `None` means the preset's default.
    pub image: Option<String>,
    /// Host port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Bootstrap servers for `external`.
    pub bootstrap: Option<String>,
    /// librdkafka properties for `external` (security and the like).
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RunnerSettings {
    pub listen: SocketAddr,
    /// librdkafka consumer properties overriding the broker preset's.
    pub consumer: BTreeMap<String, String>,
    /// How long an event in hand may finish after Ctrl-C.
    pub grace: Duration,
}

/// Serialized as the runner's admin API hands it to commands (the modules a
/// running `ftl dev` runs, while a file on disk is mid-edit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Module {
    pub name: String,
    /// The module's `ftl.yaml`.
    pub file: PathBuf,
    pub verbs: Vec<Verb>,
    /// Declared topics followed by generated dead-letter topics.
    pub topics: Vec<Topic>,
    pub subscriptions: Vec<Subscription>,
}

impl Module {
    /// Where the module's `ftl.yaml` is: exec verbs run here.
    pub fn dir(&self) -> PathBuf {
        self.file
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verb {
    pub module: String,
    pub name: String,
    #[serde(flatten)]
    pub call: VerbCall,
    #[serde(serialize_with = "ser_duration", deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// The environment an exec verb runs with.
    #[serde(default, skip_serializing_if = "ExecEnv::is_default")]
    pub env: ExecEnv,
}

/// What an exec verb's environment holds besides the `FTL_*` variables:
/// by default all of `ftl dev`'s (what a developer expects of a local
/// tool); with `inherit_env: false` only the `pass_env` names of it; plus
/// `env`, set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecEnv {
    pub inherit_env: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pass_env: Vec<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}

impl Default for ExecEnv {
    fn default() -> Self {
        ExecEnv {
            inherit_env: true,
            pass_env: Vec::new(),
            env: BTreeMap::new(),
        }
    }
}

impl ExecEnv {
    pub fn is_default(&self) -> bool {
        *self == ExecEnv::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerbCall {
    Http(HttpUrl),
    Exec(Vec<String>),
    /// FTL's `VerbService.Call` on a module server at this address.
    Grpc(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub module: String,
    pub name: String,
    /// Fully qualified event type (`pizza.Order`, `builtin.FailedEvent<pizza.Order>`).
    pub event: String,
    pub export: bool,
    pub partitions: i32,
    /// JSON pointer into the event giving the partition key.
    pub key: Option<String>,
    /// Set on generated dead-letter topics: the subscription they belong to.
    pub deadletter_of: Option<String>,
    /// What its events must be (`event` is its name).
    #[serde(default)]
    pub ty: crate::types::TopicType,
}

impl Topic {
    pub fn kafka_name(&self) -> String {
        topic_name(&self.module, &self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartFrom {
    Beginning,
    Latest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retry {
    pub count: u32,
    #[serde(serialize_with = "ser_duration", deserialize_with = "de_duration")]
    pub min_backoff: Duration,
    #[serde(serialize_with = "ser_duration", deserialize_with = "de_duration")]
    pub max_backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            count: 0,
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(1),
        }
    }
}

impl Retry {
    /// Backoff before attempt `attempt` (2 = first retry): doubling from
    /// `min_backoff`, capped at `max_backoff`.
    pub fn backoff_before(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(31);
        self.min_backoff
            .saturating_mul(1u32 << doublings)
            .min(self.max_backoff)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// fetch.min.bytes
    pub min: u64,
    /// max bytes per fetch
    pub default: u64,
    /// fetch.wait.max.ms
    #[serde(serialize_with = "ser_duration", deserialize_with = "de_duration")]
    pub max_wait: Duration,
}

impl Default for Batch {
    /// The seed's (and Sarama's) defaults.
    fn default() -> Self {
        Batch {
            min: 1,
            default: 1024 * 1024,
            max_wait: Duration::from_millis(250),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub module: String,
    pub name: String,
    /// The topic's module and name.
    pub topic: (String, String),
    pub verb: String,
    pub from: StartFrom,
    pub deadletter: bool,
    pub retry: Retry,
    pub batch: Batch,
    /// How many events of one partition reach the verb at once.
    #[serde(default)]
    pub concurrency: Concurrency,
}

/// How many events of one partition reach the verb at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "per", rename_all = "lowercase")]
pub enum Concurrency {
    /// One event at a time per partition, in offset order.
    #[default]
    Partition,
    /// Events of different keys at once, at most `max` per partition;
    /// the events of one key one at a time, in offset order (events
    /// without a key count as one key).
    Key { max: u32 },
}

impl Concurrency {
    /// `max` when a subscription says `per: key` without it.
    pub const DEFAULT_MAX: u32 = 32;
    /// The largest `max` accepted.
    pub const LIMIT: u32 = 1024;
}

impl Subscription {
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
    pub fn group_id(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
    pub fn topic_kafka_name(&self) -> String {
        topic_name(&self.topic.0, &self.topic.1)
    }
    /// The generated dead-letter topic's FTL name (inside this module).
    pub fn deadletter_topic(&self) -> String {
        format!("{}{DEADLETTER_SUFFIX}", self.name)
    }
    pub fn deadletter_kafka_name(&self) -> String {
        topic_name(&self.module, &self.deadletter_topic())
    }
    /// The consumer group that marks how far the dead letters were handed
    /// back to the verb: everything before its offset was replayed with
    /// success (or appended again with its new error).
    pub fn deadletter_cursor_group(&self) -> String {
        format!("{}.ftl-replayed", self.deadletter_kafka_name())
    }
}

pub fn topic_name(module: &str, topic: &str) -> String {
    format!("{module}.{topic}")
}

/// Checks a Kafka topic or group name: legal characters and length.
pub fn kafka_name_problem(name: &str) -> Option<String> {
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Some(format!(
            "Kafka name `{name}` contains `{bad}`; legal characters are a-z, A-Z, 0-9, `.`, `_` and `-`"
        ));
    }
    if name.len() > MAX_KAFKA_NAME {
        return Some(format!(
            "Kafka name `{}...` is {} characters long; Kafka allows at most {MAX_KAFKA_NAME}",
            &name[..40],
            name.len()
        ));
    }
    None
}

fn ser_duration<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

fn de_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    crate::units::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// What a name on the command line (`module.name` or a unique bare name)
/// resolved to, or why it did not.
#[derive(Debug, PartialEq)]
pub enum Lookup<'a, T> {
    Found(&'a T),
    Unknown(Vec<String>),
    Ambiguous(Vec<String>),
}

impl<'a, T> Lookup<'a, T> {
    /// The thing found, or an error that names the candidates.
    pub fn found(self, what: &'static str, name: &str) -> Result<&'a T, LookupError> {
        match self {
            Lookup::Found(t) => Ok(t),
            Lookup::Unknown(known) => Err(LookupError::Unknown {
                what,
                name: name.to_string(),
                known,
            }),
            Lookup::Ambiguous(candidates) => Err(LookupError::Ambiguous {
                what,
                name: name.to_string(),
                candidates,
            }),
        }
    }
}

/// A name on the command line that names nothing, or several things.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("unknown {what} `{name}`")]
    Unknown {
        what: &'static str,
        name: String,
        known: Vec<String>,
    },
    #[error("`{name}` matches several {what}s: {}", candidates.join(", "))]
    Ambiguous {
        what: &'static str,
        name: String,
        candidates: Vec<String>,
    },
}

impl LookupError {
    pub fn hint(&self) -> String {
        match self {
            LookupError::Unknown { what, known, .. } if known.is_empty() => {
                format!("the project declares no {what}s")
            }
            LookupError::Unknown { what, known, .. } => {
                format!("known {what}s: {}", known.join(", "))
            }
            LookupError::Ambiguous { what, .. } => format!("write it as module.{what}"),
        }
    }
}

impl Project {
    pub fn topics(&self) -> impl Iterator<Item = &Topic> {
        self.modules.iter().flat_map(|m| m.topics.iter())
    }
    pub fn subscriptions(&self) -> impl Iterator<Item = &Subscription> {
        self.modules.iter().flat_map(|m| m.subscriptions.iter())
    }
    pub fn topic(&self, module: &str, name: &str) -> Option<&Topic> {
        self.topics().find(|t| t.module == module && t.name == name)
    }
    pub fn verb(&self, module: &str, name: &str) -> Option<&Verb> {
        self.modules
            .iter()
            .filter(|m| m.name == module)
            .flat_map(|m| m.verbs.iter())
            .find(|v| v.name == name)
    }

    pub fn module_dir(&self, module: &str) -> PathBuf {
        self.modules
            .iter()
            .find(|m| m.name == module)
            .map(Module::dir)
            .unwrap_or_default()
    }

    pub fn find_topic(&self, text: &str) -> Lookup<'_, Topic> {
        lookup(self.topics(), text, |t| (&t.module, &t.name))
    }
    pub fn find_subscription(&self, text: &str) -> Lookup<'_, Subscription> {
        lookup(self.subscriptions(), text, |s| (&s.module, &s.name))
    }
}

fn lookup<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    text: &str,
    key: impl Fn(&T) -> (&String, &String),
) -> Lookup<'a, T> {
    let items: Vec<&T> = items.collect();
    let all = || -> Vec<String> {
        items
            .iter()
            .map(|t| {
                let (m, n) = key(t);
                format!("{m}.{n}")
            })
            .collect()
    };
    let matches: Vec<&T> = match text.split_once('.') {
        Some((m, n)) => items
            .iter()
            .copied()
            .filter(|t| key(t) == (&m.to_string(), &n.to_string()))
            .collect(),
        None => items.iter().copied().filter(|t| key(t).1 == text).collect(),
    };
    match matches.len() {
        1 => Lookup::Found(matches[0]),
        0 => Lookup::Unknown(all()),
        _ => Lookup::Ambiguous(
            matches
                .iter()
                .map(|t| {
                    let (m, n) = key(t);
                    format!("{m}.{n}")
                })
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_min_to_max() {
        let r = Retry {
            count: 10,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(500),
        };
        let got: Vec<u128> = (2..7).map(|a| r.backoff_before(a).as_millis()).collect();
        assert_eq!(got, vec![100, 200, 400, 500, 500]);
        assert_eq!(r.backoff_before(1000), Duration::from_millis(500));
    }

    #[test]
    fn kafka_names_are_checked_for_characters_and_length() {
        assert_eq!(kafka_name_problem("pizza.orders"), None);
        assert!(kafka_name_problem("pizza.or ders").unwrap().contains("` `"));
        let long = format!("m.{}", "x".repeat(248));
        assert!(kafka_name_problem(&long)
            .unwrap()
            .contains("250 characters"));
    }
}
