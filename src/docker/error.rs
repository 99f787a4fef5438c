//! What goes wrong with Docker, as users meet it: each variant keeps the
//! engine's own error (with its HTTP status) and knows its hint.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("cannot reach the Docker Engine (tried {})", tried.join(", "))]
    Unreachable {
        tried: Vec<String>,
        #[source]
        source: ConnectFailure,
    },
    #[error("image `{image}` is not on this machine and cannot be pulled")]
    ImageUnavailable {
        image: String,
        #[source]
        source: PullFailure,
    },
    #[error("port {port} on 127.0.0.1 is already in use{}, so the broker cannot publish on it", holder.as_ref().map(|h| format!(" by {h}")).unwrap_or_default())]
    PortTaken {
        port: u16,
        holder: Option<PortHolder>,
    },
    #[error("a container named `{name}` exists but {owner}")]
    NameTaken { name: String, owner: String },
    #[error("a volume named `{name}` exists but {owner}")]
    VolumeTaken { name: String, owner: String },
    #[error("no broker container `{name}` exists")]
    NoContainer { name: String },
    #[error("the broker container `{name}` is stopped")]
    Stopped { name: String },
    #[error("Docker could not {action}")]
    Api {
        action: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error("cannot {action}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Docker could not create the broker container: it kept being created and removed concurrently")]
    Contended,
}

/// Who publishes a host port, when a container does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortHolder {
    pub container: String,
    /// Its ftl project, when `ftl` made it.
    pub project: Option<String>,
}

impl std::fmt::Display for PortHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.project {
            Some(p) => write!(f, "`{}` (the broker of ftl project `{p}`)", self.container),
            None => write!(f, "container `{}`", self.container),
        }
    }
}

/// Why no engine answered: the last endpoint's failure.
#[derive(Debug, thiserror::Error)]
pub enum ConnectFailure {
    #[error("no endpoint to try")]
    NoEndpoint,
    #[error(transparent)]
    Api(bollard::errors::Error),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// Why an image could not be pulled: the API call failed, or the pull
/// stream said so.
#[derive(Debug, thiserror::Error)]
pub enum PullFailure {
    #[error(transparent)]
    Api(bollard::errors::Error),
    #[error("the registry answered: {0}")]
    Said(String),
}

impl DockerError {
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            DockerError::Unreachable { .. } => "start the Docker Engine (for example `sudo systemctl start docker`), \
                 or point DOCKER_HOST at its socket (unix:///var/run/docker.sock, or \
                 unix://$XDG_RUNTIME_DIR/docker.sock for rootless Docker); \
                 a project with `kind: external` needs no Docker"
                .into(),
            DockerError::ImageUnavailable { .. } => "without registry access: load or build an image (`docker load`, `docker build`; \
                 a clone of ftl builds a small Kafka-compatible broker with `scripts/build-test-broker-image.sh`), \
                 then name it once for all projects in ~/.config/ftl/config.yaml: \
                 `pubsub: {broker: {kind: tansu, image: \"ftl-test/tansu:0.6.0\"}}` (`docker images` lists what you have; \
                 FTL_BROKER_KIND / FTL_BROKER_IMAGE do it for one shell); or use a broker you run with `kind: external`"
                .into(),
            DockerError::PortTaken { port, holder } => match holder {
                Some(h) => format!(
                    "`docker stop {}` frees it{}; or set `pubsub.broker.port` in ftl-project.yaml to 0 (a free port, picked once)",
                    h.container,
                    if h.project.is_some() { " (`ftl pubsub broker stop` in that project does the same)" } else { "" }
                ),
                None => format!(
                    "another process holds it (`ss -ltnp 'sport = :{port}'` shows which); set `pubsub.broker.port` in ftl-project.yaml to 0 to pick a free one"
                ),
            },
            DockerError::NameTaken { .. } => "remove or rename that container, or change `name` in ftl-project.yaml".into(),
            DockerError::VolumeTaken { name, .. } => format!(
                "ftl keeps the broker's data only in a volume it made; if that volume's data is not needed, `docker volume rm {name}`; else change `name` in ftl-project.yaml"
            ),
            DockerError::NoContainer { .. } | DockerError::Stopped { .. } => {
                "start it with `ftl dev` or `ftl pubsub broker start`".into()
            }
            DockerError::Api { .. } | DockerError::Io { .. } | DockerError::Contended => return None,
        })
    }
}
