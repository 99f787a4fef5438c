//! Everything that talks to the Docker Engine (through bollard): connecting,
//! the broker container's get-or-create lifecycle, logs and reset. bollard's
//! types stay inside this module.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, HostConfig, Mount, MountType, PortBinding,
    VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;

use crate::broker::{self, ContainerSpec, LABEL_KIND, LABEL_MANAGED, LABEL_PROJECT};
use crate::events::{Event, Report};
use crate::schema::BrokerSettings;

mod error;
mod events;
mod guard;
pub use error::{ConnectFailure, DockerError, PortHolder, PullFailure};
pub use events::ContainerChange;

fn api(action: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> DockerError {
    let action = action.into();
    move |source| DockerError::Api { action, source }
}

/// The HTTP status the engine answered with, if it answered.
fn status_of(e: &bollard::errors::Error) -> Option<u16> {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

const CONFLICT: u16 = 409;
const NOT_FOUND: u16 = 404;

/// What `reset` removed, and what it left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    pub container: Option<String>,
    pub volume: Option<String>,
    /// A volume of that name that ftl did not make: left alone.
    pub foreign_volume: Option<String>,
}

/// How the broker container was made ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerOutcome {
    Reused,
    Started,
    Created,
}

impl ContainerOutcome {
    /// The word events use: `reused`, `started`, `created`.
    pub fn name(self) -> &'static str {
        match self {
            ContainerOutcome::Reused => "reused",
            ContainerOutcome::Started => "started",
            ContainerOutcome::Created => "created",
        }
    }
}

/// A layer's byte counts are reported at most this often; a change of its
/// status always is.
const LAYER_REPORT_EVERY: Duration = Duration::from_millis(250);

/// Which of an image pull's layer updates are reported: Docker sends one
/// every few kilobytes, far more than a reader wants.
#[derive(Debug, Default)]
struct LayerThrottle {
    /// Per layer: the last status reported, and when.
    last: HashMap<String, (String, Instant)>,
}

impl LayerThrottle {
    /// Whether the update of `layer` to `status` at `now` is reported (and
    /// if so, it counts as reported).
    fn due(&mut self, layer: &str, status: &str, now: Instant) -> bool {
        let due = match self.last.get(layer) {
            None => true,
            Some((last, at)) => last != status || now.duration_since(*at) >= LAYER_REPORT_EVERY,
        };
        if due {
            self.last
                .insert(layer.to_string(), (status.to_string(), now));
        }
        due
    }
}

/// A running broker container.
#[derive(Debug, Clone)]
pub struct BrokerContainer {
    pub id: String,
    pub name: String,
    pub host_port: u16,
    pub kind: String,
    pub image: String,
    pub started_at: Option<String>,
    pub running: bool,
    pub outcome: ContainerOutcome,
}

impl BrokerContainer {
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.host_port)
    }
}

pub struct Docker {
    inner: bollard::Docker,
}

/// Where to look for the engine: DOCKER_HOST alone when set, else the usual
/// sockets (system, rootless, Docker Desktop, colima).
fn candidates() -> Vec<String> {
    if let Ok(h) = std::env::var("DOCKER_HOST") {
        if !h.is_empty() {
            return vec![h];
        }
    }
    let mut out = vec!["unix:///var/run/docker.sock".to_string()];
    let mut extra = Vec::new();
    if let Ok(dir) = std::env::var("XDG_RUNTIME_DIR") {
        extra.push(format!("{dir}/docker.sock"));
    }
    if let Ok(home) = std::env::var("HOME") {
        extra.push(format!("{home}/.docker/run/docker.sock"));
        extra.push(format!("{home}/.colima/default/docker.sock"));
        extra.push(format!("{home}/.rd/docker.sock"));
    }
    out.extend(
        extra
            .into_iter()
            .filter(|p| std::path::Path::new(p).exists())
            .map(|p| format!("unix://{p}")),
    );
    out
}

impl Docker {
    pub async fn connect() -> Result<Docker, DockerError> {
        let tried = candidates();
        let mut last = ConnectFailure::NoEndpoint;
        let wait = Duration::from_secs(10);
        for host in &tried {
            let client = match bollard::Docker::connect_with_host(host) {
                Ok(c) => c,
                Err(e) => {
                    last = ConnectFailure::Api(e);
                    continue;
                }
            };
            match tokio::time::timeout(wait, client.negotiate_version()).await {
                Ok(Ok(inner)) => return Ok(Docker { inner }),
                Ok(Err(e)) => last = ConnectFailure::Api(e),
                Err(_) => last = ConnectFailure::Timeout(wait),
            }
        }
        Err(DockerError::Unreachable {
            tried,
            source: last,
        })
    }

    async fn inspect(&self, name: &str) -> Result<Option<ContainerInspectResponse>, DockerError> {
        match self.inner.inspect_container(name, None).await {
            Ok(c) => Ok(Some(c)),
            Err(e) if status_of(&e) == Some(NOT_FOUND) => Ok(None),
            Err(e) => Err(api(format!("inspect container `{name}`"))(e)),
        }
    }

    /// The project's broker container, if there is one. A container on that
    /// name that ftl did not label for this project is an error: we never
    /// touch containers we did not make.
    pub async fn find_broker(&self, project: &str) -> Result<Option<BrokerContainer>, DockerError> {
        let name = broker::container_name(project);
        let Some(c) = self.inspect(&name).await? else {
            return Ok(None);
        };
        let labels = c
            .config
            .as_ref()
            .and_then(|c| c.labels.clone())
            .unwrap_or_default();
        if labels.get(LABEL_MANAGED).map(String::as_str) != Some("true") {
            return Err(DockerError::NameTaken {
                name,
                owner: "was not created by ftl".into(),
            });
        }
        if labels.get(LABEL_PROJECT).map(String::as_str) != Some(project) {
            return Err(DockerError::NameTaken {
                name,
                owner: format!(
                    "belongs to ftl project `{}`",
                    labels.get(LABEL_PROJECT).cloned().unwrap_or_default()
                ),
            });
        }
        let state = c.state.clone().unwrap_or_default();
        let host_port = c
            .host_config
            .as_ref()
            .and_then(|h| h.port_bindings.as_ref())
            .and_then(|p| p.get(&format!("{}/tcp", broker::CONTAINER_PORT)).cloned())
            .flatten()
            .and_then(|b| b.first().and_then(|b| b.host_port.clone()))
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        Ok(Some(BrokerContainer {
            id: c.id.clone().unwrap_or_default(),
            name,
            host_port,
            kind: labels.get(LABEL_KIND).cloned().unwrap_or_default(),
            image: c
                .config
                .as_ref()
                .and_then(|c| c.image.clone())
                .unwrap_or_default(),
            started_at: state.started_at.clone(),
            running: state.running.unwrap_or(false),
            outcome: ContainerOutcome::Reused,
        }))
    }

    /// Get-or-create: reuse a running container, start a stopped one, create
    /// (pulling the image) an absent one. Readiness (Kafka answers) is the
    /// caller's next step. What happens is told to `report`.
    pub async fn ensure_broker(
        &self,
        project: &str,
        settings: &BrokerSettings,
        report: &dyn Report,
    ) -> Result<BrokerContainer, DockerError> {
        let c = self.get_or_create_broker(project, settings, report).await?;
        report.report(Event::BrokerContainer {
            container: c.name.clone(),
            kind: c.kind.clone(),
            image: c.image.clone(),
            how: c.outcome.name().to_string(),
        });
        Ok(c)
    }

    async fn get_or_create_broker(
        &self,
        project: &str,
        settings: &BrokerSettings,
        report: &dyn Report,
    ) -> Result<BrokerContainer, DockerError> {
        for _ in 0..3 {
            if let Some(mut c) = self.find_broker(project).await? {
                if c.kind != settings.kind.name() {
                    report.report(Event::BrokerKindMismatch {
                        container: c.name.clone(),
                        running: c.kind.clone(),
                        asked: settings.kind.name().to_string(),
                    });
                }
                if c.running {
                    return Ok(c);
                }
                self.start(&c.name, c.host_port).await?;
                let mut started =
                    self.find_broker(project)
                        .await?
                        .ok_or_else(|| DockerError::NoContainer {
                            name: c.name.clone(),
                        })?;
                started.outcome = ContainerOutcome::Started;
                c = started;
                return Ok(c);
            }
            let port = match choose_port(settings.port) {
                Ok(p) => p,
                Err(DockerError::PortTaken { port, .. }) => {
                    return Err(self.port_taken(port).await)
                }
                Err(e) => return Err(e),
            };
            let spec = broker::container_spec(project, settings, port);
            self.ensure_image(&spec.image, report).await?;
            match self.create(&spec).await {
                Ok(()) => {}
                // Someone else created it first: take theirs.
                Err(DockerError::Api { source, .. }) if status_of(&source) == Some(CONFLICT) => {
                    continue
                }
                Err(e) => return Err(e),
            }
            self.start(&spec.name, port).await?;
            let mut c =
                self.find_broker(project)
                    .await?
                    .ok_or_else(|| DockerError::NoContainer {
                        name: spec.name.clone(),
                    })?;
            c.outcome = ContainerOutcome::Created;
            return Ok(c);
        }
        Err(DockerError::Contended)
    }

    /// Starts a container whose port is published on 127.0.0.1:`port`. The
    /// engine reports a taken port only in its message text, so the port is
    /// checked here first and the engine's answer kept as it is.
    async fn start(&self, name: &str, port: u16) -> Result<(), DockerError> {
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
            return Err(self.port_taken(port).await);
        }
        self.inner
            .start_container(name, None)
            .await
            .map_err(api(format!("start container `{name}`")))
    }

    async fn ensure_image(&self, image: &str, report: &dyn Report) -> Result<(), DockerError> {
        match self.inner.inspect_image(image).await {
            Ok(_) => return Ok(()),
            Err(e) if status_of(&e) == Some(NOT_FOUND) => {}
            Err(e) => return Err(api(format!("inspect image `{image}`"))(e)),
        }
        let started = Instant::now();
        report.report(Event::ImagePulling {
            image: image.to_string(),
        });
        let mut throttle = LayerThrottle::default();
        let options = CreateImageOptionsBuilder::new().from_image(image).build();
        let mut stream = self.inner.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| DockerError::ImageUnavailable {
                image: image.to_string(),
                source: PullFailure::Api(e),
            })?;
            if let Some(detail) = info.error_detail {
                return Err(DockerError::ImageUnavailable {
                    image: image.to_string(),
                    source: PullFailure::Said(detail.message.unwrap_or_default()),
                });
            }
            let Some(layer) = info.id else { continue };
            let status = info.status.unwrap_or_default();
            let (current, total) = match info.progress_detail {
                Some(p) => (
                    p.current.map(|n| n.max(0) as u64),
                    p.total.map(|n| n.max(0) as u64),
                ),
                None => (None, None),
            };
            if !throttle.due(&layer, &status, Instant::now()) {
                continue;
            }
            report.report(Event::ImageLayer {
                image: image.to_string(),
                layer,
                status,
                current,
                total,
            });
        }
        report.report(Event::ImagePulled {
            image: image.to_string(),
            ms: started.elapsed().as_millis() as u64,
        });
        Ok(())
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<(), DockerError> {
        let labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
        // Docker hands back an existing volume of that name without a word:
        // only one ftl made for this project is used.
        match self.inner.inspect_volume(&spec.volume).await {
            Ok(v) => {
                let project = spec.labels.get(LABEL_PROJECT);
                if v.labels.get(LABEL_MANAGED).map(String::as_str) != Some("true")
                    || v.labels.get(LABEL_PROJECT) != project
                {
                    return Err(DockerError::VolumeTaken {
                        name: spec.volume.clone(),
                        owner: match v.labels.get(LABEL_PROJECT) {
                            Some(other) if v.labels.contains_key(LABEL_MANAGED) => {
                                format!("belongs to ftl project `{other}`")
                            }
                            _ => "was not created by ftl".into(),
                        },
                    });
                }
            }
            Err(e) if status_of(&e) == Some(NOT_FOUND) => {
                let volume = VolumeCreateRequest {
                    name: Some(spec.volume.clone()),
                    labels: Some(labels.clone()),
                    ..Default::default()
                };
                self.inner
                    .create_volume(volume)
                    .await
                    .map_err(api(format!("create volume `{}`", spec.volume)))?;
            }
            Err(e) => return Err(api(format!("inspect volume `{}`", spec.volume))(e)),
        }
        self.ensure_network(&spec.network, &labels).await?;
        let port_key = format!("{}/tcp", spec.container_port);
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: (!spec.cmd.is_empty()).then(|| spec.cmd.clone()),
            env: Some(spec.env.clone()),
            labels: Some(labels),
            exposed_ports: Some(vec![port_key.clone()]),
            host_config: Some(HostConfig {
                port_bindings: Some(HashMap::from([(
                    port_key,
                    Some(vec![PortBinding {
                        host_ip: Some("127.0.0.1".into()),
                        host_port: Some(spec.host_port.to_string()),
                    }]),
                )])),
                network_mode: Some(spec.network.clone()),
                mounts: Some(vec![Mount {
                    target: Some(spec.data_dir.clone()),
                    source: Some(spec.volume.clone()),
                    typ: Some(MountType::VOLUME),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::new()
            .name(&spec.name)
            .build();
        self.inner
            .create_container(Some(options), body)
            .await
            .map_err(api(format!("create container `{}`", spec.name)))?;
        Ok(())
    }

    /// Stops the project's broker; the container as it was, if there is one.
    pub async fn stop_broker(&self, project: &str) -> Result<Option<BrokerContainer>, DockerError> {
        let Some(c) = self.find_broker(project).await? else {
            return Ok(None);
        };
        if c.running {
            let options = StopContainerOptionsBuilder::new().t(10).build();
            self.inner
                .stop_container(&c.name, Some(options))
                .await
                .map_err(api(format!("stop container `{}`", c.name)))?;
        }
        Ok(Some(c))
    }

    /// Removes the container and its volume: every topic, group and event.
    pub async fn remove_broker(&self, project: &str) -> Result<Removed, DockerError> {
        let mut removed = Removed::default();
        if let Some(c) = self.find_broker(project).await? {
            let options = RemoveContainerOptionsBuilder::new()
                .force(true)
                .v(true)
                .build();
            self.inner
                .remove_container(&c.name, Some(options))
                .await
                .map_err(api(format!("remove container `{}`", c.name)))?;
            removed.container = Some(c.name);
        }
        let volume = broker::volume_name(project);
        match self.inner.inspect_volume(&volume).await {
            Ok(v)
                if v.labels.get(LABEL_MANAGED).map(String::as_str) == Some("true")
                    && v.labels.get(LABEL_PROJECT).map(String::as_str) == Some(project) =>
            {
                self.inner
                    .remove_volume(
                        &volume,
                        None::<bollard::query_parameters::RemoveVolumeOptions>,
                    )
                    .await
                    .map_err(api(format!("remove volume `{volume}`")))?;
                removed.volume = Some(volume);
            }
            Ok(_) => removed.foreign_volume = Some(volume),
            Err(_) => {}
        }
        let network = broker::network_name(project);
        if let Ok(n) = self
            .inner
            .inspect_network(
                &network,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await
        {
            let labels = n.labels.unwrap_or_default();
            if labels.get(LABEL_MANAGED).map(String::as_str) == Some("true")
                && labels.get(LABEL_PROJECT).map(String::as_str) == Some(project)
            {
                self.inner
                    .remove_network(&network)
                    .await
                    .map_err(api(format!("remove network `{network}`")))?;
            }
        }
        Ok(removed)
    }

    /// The container's last `lines` log lines, for error messages.
    pub async fn last_logs(&self, name: &str, lines: u64) -> String {
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = self.inner.logs(name, Some(options));
        let mut out = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            out.push_str(&chunk.to_string());
        }
        out
    }

    /// Streams the container's logs to stdout until the end (or forever with
    /// `follow`). Stops quietly when stdout is closed.
    /// Hands each chunk of the container's log to `on_text` until it says
    /// stop (false) or the log ends.
    pub async fn logs(
        &self,
        name: &str,
        follow: bool,
        tail: Option<u64>,
        mut on_text: impl FnMut(&str) -> bool,
    ) -> Result<(), DockerError> {
        let tail = tail.map(|n| n.to_string()).unwrap_or_else(|| "all".into());
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .follow(follow)
            .tail(&tail)
            .build();
        let mut stream = self.inner.logs(name, Some(options));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(api(format!("read the logs of `{name}`")))?;
            let text = chunk.to_string();
            if !on_text(text.trim_end_matches('\n')) {
                break;
            }
        }
        Ok(())
    }
}

/// Resolves the host port: 0 picks a free one (it must be known before the
/// container is created because the broker advertises it); a fixed port is
/// checked so the user hears which setting to change.
fn choose_port(port: u16) -> Result<u16, DockerError> {
    match std::net::TcpListener::bind(("127.0.0.1", port)) {
        Ok(l) => l
            .local_addr()
            .map(|a| a.port())
            .map_err(|source| DockerError::Io {
                action: "pick a free port".into(),
                source,
            }),
        Err(_) => Err(DockerError::PortTaken { port, holder: None }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layers_bytes_are_reported_at_most_every_quarter_second_and_each_new_status_at_once() {
        let mut t = LayerThrottle::default();
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        assert!(t.due("a", "Downloading", at(0)));
        assert!(!t.due("a", "Downloading", at(100)));
        // Another layer has its own clock.
        assert!(t.due("b", "Downloading", at(100)));
        assert!(!t.due("a", "Downloading", at(249)));
        assert!(t.due("a", "Downloading", at(250)));
        assert!(t.due("a", "Download complete", at(260)));
        assert!(t.due("a", "Extracting", at(270)));
        assert!(!t.due("a", "Extracting", at(300)));
    }
}
