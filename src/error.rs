//! The top-level error: knows its exit code and renders `error:` and `hint:`
//! lines. Each outside system has its own error enum that converts into it.

use crate::config::ConfigError;
use crate::docker::DockerError;
use crate::kafka::KafkaError;

/// Exit codes: 0 ok, 1 failure, 2 usage or invalid project.
pub const EXIT_FAILURE: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Docker(#[from] DockerError),
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    #[error(transparent)]
    Publish(#[from] crate::publisher::PublishError),
    #[error(transparent)]
    Lookup(#[from] crate::schema::LookupError),
    #[error(transparent)]
    Admin(#[from] crate::admin::AdminError),
    #[error(transparent)]
    Watch(#[from] crate::watch::WatchError),
    #[error("{message}")]
    Usage {
        message: String,
        hint: Option<String>,
    },
    #[error("{message}")]
    Failed {
        message: String,
        hint: Option<String>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The labelled lines of a rendered error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Error,
    Cause,
    Hint,
}

impl Error {
    pub fn usage(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: hint.into(),
        }
    }
    pub fn failed(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Error::Failed {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(ConfigError::Io { .. }) => EXIT_FAILURE,
            Error::Config(_) | Error::Usage { .. } | Error::Lookup(_) => EXIT_USAGE,
            Error::Publish(p) if p.is_usage() => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::Docker(e) => e.hint(),
            Error::Kafka(e) => e.hint(),
            Error::Publish(e) => e.hint(),
            Error::Lookup(e) => Some(e.hint()),
            Error::Admin(_) => Some(
                "`ftl pubsub status` shows whether `ftl dev` runs; its output says more".into(),
            ),
            Error::Watch(_) => Some(
                "on Linux, raise fs.inotify.max_user_watches or max_user_instances (sysctl)".into(),
            ),
            Error::Usage { hint, .. } | Error::Failed { hint, .. } => hint.clone(),
        }
    }

    /// The causes under this error, outermost first. A cause that only
    /// repeats the one above it (rdkafka's errors show their code, then
    /// have it as their source) is left out.
    pub fn causes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            let text = s.to_string();
            if !out.last().is_some_and(|above| above.contains(&text)) {
                out.push(text);
            }
            source = s.source();
        }
        out
    }

    /// The text shown to the user: `error:`, a `caused by:` line per cause,
    /// and the hint.
    pub fn render(&self) -> String {
        self.render_styled(|_, label| label.to_string())
    }

    /// The one render path: `label` styles each line's label (the printer
    /// colours them on a terminal).
    pub fn render_styled(&self, label: impl Fn(Part, &str) -> String) -> String {
        match self {
            // Diagnostics render their own `error:` lines.
            Error::Config(ConfigError::Invalid(d)) => format!("{d}\n"),
            _ => {
                let mut out = format!("{} {self}\n", label(Part::Error, "error:"));
                for cause in self.causes() {
                    out.push_str(&format!("  {} {cause}\n", label(Part::Cause, "caused by:")));
                }
                if let Some(h) = self.hint() {
                    out.push_str(&format!("{} {h}\n", label(Part::Hint, "hint:")));
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};

    use super::*;
    use crate::config::Origin;
    use crate::docker::{ConnectFailure, PullFailure};
    use crate::kafka::GrowCause;
    use crate::publisher::PublishError;

    /// Every error a user meets, as they read it, with its exit code.
    #[test]
    fn every_user_facing_error_renders_its_causes_hint_and_exit_code() {
        let errors: Vec<Error> = vec![
            ConfigError::NotFound { dir: "shop".into() }.into(),
            ConfigError::ExternalWithoutBootstrap {
                kind_from: Origin::Env {
                    variable: "FTL_BROKER_KIND".into(),
                },
            }
            .into(),
            ConfigError::Io {
                path: "shop/ftl.yaml".into(),
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            }
            .into(),
            DockerError::Unreachable {
                tried: vec!["unix:///var/run/docker.sock".into()],
                source: ConnectFailure::Timeout(Duration::from_secs(10)),
            }
            .into(),
            DockerError::ImageUnavailable {
                image: "redpanda:v1".into(),
                source: PullFailure::Said("pull access denied".into()),
            }
            .into(),
            DockerError::PortTaken {
                port: 19092,
                holder: Some(crate::docker::PortHolder {
                    container: "ftl-pizzashop-broker".into(),
                    project: Some("pizzashop".into()),
                }),
            }
            .into(),
            DockerError::PortTaken {
                port: 8080,
                holder: None,
            }
            .into(),
            DockerError::NameTaken {
                name: "ftl-shop-broker".into(),
                owner: "it was not created by ftl".into(),
            }
            .into(),
            DockerError::Stopped {
                name: "ftl-shop-broker".into(),
            }
            .into(),
            DockerError::NoContainer {
                name: "ftl-shop-broker".into(),
            }
            .into(),
            KafkaError::NoTopic {
                topic: "shop.orders".into(),
            }
            .into(),
            KafkaError::GroupHasMembers {
                group: "shop.cook".into(),
                source: RdError::ConsumerCommit(RDKafkaErrorCode::UnknownMemberId),
            }
            .into(),
            KafkaError::GrowRefused {
                topic: "shop.orders".into(),
                from: 3,
                to: 5,
                source: GrowCause::Code(RDKafkaErrorCode::InvalidPartitions),
            }
            .into(),
            PublishError::UnknownTopic {
                name: "ordrs".into(),
                known: vec!["shop.orders".into()],
            }
            .into(),
            crate::schema::LookupError::Ambiguous {
                what: "subscription",
                name: "cook".into(),
                candidates: vec!["pizza.cook".into(), "kitchen.cook".into()],
            }
            .into(),
            crate::admin::AdminError::Refused("subscription `shop.cook` is stopping".into()).into(),
            Error::usage("no event given", Some("pass the event as JSON".to_string())),
            Error::failed("replay cancelled; nothing was moved", None),
        ];
        let shown: Vec<String> = errors
            .iter()
            .map(|e| format!("[exit {}]\n{}", e.exit_code(), e.render()))
            .collect();
        insta::assert_snapshot!(shown.join("\n"));
    }
}
