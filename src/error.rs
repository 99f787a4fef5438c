//! The top-level error: knows its exit code and renders `error:` and `hint:`
//! lines. Each outside system has its own error enum that converts into it.

use crate::config::ConfigError;
use crate::docker::DockerError;
use crate::kafka::KafkaError;

/// Exit codes (DESIGN §6): 0 ok, 1 failure, 2 usage or invalid project.
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
            Error::Config(_) | Error::Usage { .. } => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Config(e) => e.hint(),
            Error::Docker(e) => e.hint(),
            Error::Kafka(e) => e.hint(),
            Error::Usage { hint, .. } | Error::Failed { hint, .. } => hint.clone(),
        }
    }

    /// The text shown to the user.
    pub fn render(&self) -> String {
        match self {
            // Diagnostics render their own `error:` lines.
            Error::Config(ConfigError::Invalid(d)) => format!("{d}\n"),
            _ => {
                let mut out = format!("error: {self}\n");
                if let Some(h) = self.hint() {
                    out.push_str(&format!("hint: {h}\n"));
                }
                out
            }
        }
    }
}
