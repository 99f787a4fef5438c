//! Broker presets: what container each kind runs (image, command line,
//! environment, ports, volume) and the consumer settings that suit it. Pure
//! data, so the Redpanda spec can be checked without pulling its image.

use std::collections::BTreeMap;

use crate::schema::{BrokerKind, BrokerSettings};

pub const LABEL_MANAGED: &str = "dev.ftl.managed";
pub const LABEL_PROJECT: &str = "dev.ftl.project";
pub const LABEL_KIND: &str = "dev.ftl.broker-kind";

pub const REDPANDA_IMAGE: &str = "docker.redpanda.com/redpandadata/redpanda:v24.3.13";
pub const KAFKA_IMAGE: &str = "apache/kafka-native:3.9.1";
pub const TANSU_IMAGE: &str = "ghcr.io/tansu-io/tansu:0.6.0";

/// The port the broker listens on inside its container.
pub const CONTAINER_PORT: u16 = 9092;

/// Everything needed to create a broker container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// Arguments after the image's entrypoint (empty: the image's default).
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub container_port: u16,
    /// Published on 127.0.0.1 only.
    pub host_port: u16,
    pub volume: String,
    /// A Docker network of the project's own: other containers on the
    /// default bridge cannot reach the broker.
    pub network: String,
    pub data_dir: String,
    pub labels: BTreeMap<String, String>,
}

pub fn container_name(project: &str) -> String {
    format!("ftl-{project}-broker")
}

pub fn volume_name(project: &str) -> String {
    format!("ftl-{project}-broker-data")
}

pub fn network_name(project: &str) -> String {
    format!("ftl-{project}")
}

pub fn labels(project: &str, kind: BrokerKind) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_MANAGED.to_string(), "true".to_string()),
        (LABEL_PROJECT.to_string(), project.to_string()),
        (LABEL_KIND.to_string(), kind.name().to_string()),
    ])
}

pub fn default_image(kind: BrokerKind) -> &'static str {
    match kind {
        BrokerKind::Redpanda | BrokerKind::External => REDPANDA_IMAGE,
        BrokerKind::Kafka => KAFKA_IMAGE,
        BrokerKind::Tansu => TANSU_IMAGE,
    }
}

/// Whether a preset's broker keeps topics and events across a restart: the
/// Redpanda and Kafka presets keep them in a volume; Tansu (as the `tansu`
/// preset runs it, `memory://`) keeps everything in memory.
pub fn persists(kind: BrokerKind) -> bool {
    !matches!(kind, BrokerKind::Tansu)
}

/// The container for a Docker-managed broker kind. `host_port` must already
/// be chosen (port 0 resolved) because the broker advertises it.
pub fn container_spec(project: &str, settings: &BrokerSettings, host_port: u16) -> ContainerSpec {
    let kind = settings.kind;
    let image = settings
        .image
        .clone()
        .unwrap_or_else(|| default_image(kind).to_string());
    let advertised = format!("127.0.0.1:{host_port}");
    let (cmd, env, data_dir): (Vec<String>, Vec<String>, &str) = match kind {
        BrokerKind::Redpanda | BrokerKind::External => (
            [
                "redpanda",
                "start",
                "--mode",
                "dev-container",
                "--smp",
                "1",
                "--default-log-level=info",
                "--kafka-addr",
                &format!("0.0.0.0:{CONTAINER_PORT}"),
                "--advertise-kafka-addr",
                &advertised,
                // Topics are made by `ftl dev` with their declared
                // partitions, never by the broker when a client asks.
                "--set",
                "redpanda.auto_create_topics_enabled=false",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            Vec::new(),
            "/var/lib/redpanda/data",
        ),
        BrokerKind::Kafka => (
            Vec::new(),
            vec![
                // A fixed cluster id (16 bytes, base64url, as KRaft wants) so a restarted
                // container finds its own data in the volume.
                "CLUSTER_ID=ZnRsLWxvY2FsLWthZmthIQ".into(),
                "KAFKA_NODE_ID=1".into(),
                "KAFKA_PROCESS_ROLES=broker,controller".into(),
                format!("KAFKA_LISTENERS=PLAINTEXT://0.0.0.0:{CONTAINER_PORT},CONTROLLER://0.0.0.0:9093"),
                format!("KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://{advertised}"),
                "KAFKA_CONTROLLER_LISTENER_NAMES=CONTROLLER".into(),
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".into(),
                "KAFKA_CONTROLLER_QUORUM_VOTERS=1@localhost:9093".into(),
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR=1".into(),
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR=1".into(),
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR=1".into(),
                "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS=0".into(),
                "KAFKA_AUTO_CREATE_TOPICS_ENABLE=false".into(),
                "KAFKA_LOG_DIRS=/var/lib/kafka/data".into(),
            ],
            "/var/lib/kafka/data",
        ),
        // Tansu keeps data where STORAGE_ENGINE says; the memory engine (the
        // only one in the test build) keeps none, but the volume is mounted
        // all the same so a file-backed engine needs no other change.
        BrokerKind::Tansu => (
            vec!["broker".into()],
            vec![
                format!("LISTENER_URL=tcp://0.0.0.0:{CONTAINER_PORT}"),
                format!("ADVERTISED_LISTENER_URL=tcp://{advertised}"),
                "STORAGE_ENGINE=memory://tansu/".into(),
            ],
            "/var/lib/tansu",
        ),
    };
    ContainerSpec {
        name: container_name(project),
        image,
        cmd,
        env,
        container_port: CONTAINER_PORT,
        host_port,
        volume: volume_name(project),
        network: network_name(project),
        data_dir: data_dir.to_string(),
        labels: labels(project, kind),
    }
}

/// Consumer group settings that shape start-up and rebalances, per preset.
/// Overridden by `runner.consumer`. On Tansu a group join is held for about
/// half the session timeout, so a short session makes joins take ~1 s.
pub fn consumer_defaults(kind: BrokerKind) -> Vec<(&'static str, &'static str)> {
    match kind {
        BrokerKind::Tansu => vec![
            ("session.timeout.ms", "2000"),
            ("heartbeat.interval.ms", "500"),
        ],
        BrokerKind::Redpanda | BrokerKind::Kafka => vec![
            ("session.timeout.ms", "10000"),
            ("heartbeat.interval.ms", "1000"),
        ],
        BrokerKind::External => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(kind: BrokerKind) -> BrokerSettings {
        BrokerSettings {
            kind,
            image: None,
            port: 19092,
            bootstrap: None,
            properties: BTreeMap::new(),
        }
    }

    #[test]
    fn redpanda_preset_runs_dev_container_mode_advertising_the_host_port() {
        let spec = container_spec("pizzashop", &settings(BrokerKind::Redpanda), 19092);
        assert_eq!(spec.name, "ftl-pizzashop-broker");
        assert_eq!(
            spec.image,
            "docker.redpanda.com/redpandadata/redpanda:v24.3.13"
        );
        assert_eq!(
            spec.cmd.join(" "),
            "redpanda start --mode dev-container --smp 1 --default-log-level=info \
             --kafka-addr 0.0.0.0:9092 --advertise-kafka-addr 127.0.0.1:19092 \
             --set redpanda.auto_create_topics_enabled=false"
        );
        assert_eq!((spec.container_port, spec.host_port), (9092, 19092));
        assert_eq!(spec.volume, "ftl-pizzashop-broker-data");
        assert_eq!(spec.data_dir, "/var/lib/redpanda/data");
        assert_eq!(
            spec.labels.get(LABEL_MANAGED).map(String::as_str),
            Some("true")
        );
        assert_eq!(
            spec.labels.get(LABEL_PROJECT).map(String::as_str),
            Some("pizzashop")
        );
    }

    #[test]
    fn image_override_wins_and_tansu_advertises_the_host_port() {
        let mut s = settings(BrokerKind::Tansu);
        s.image = Some("ftl-test/tansu:0.6.0".into());
        let spec = container_spec("p", &s, 40000);
        assert_eq!(spec.image, "ftl-test/tansu:0.6.0");
        assert!(spec
            .env
            .contains(&"ADVERTISED_LISTENER_URL=tcp://127.0.0.1:40000".to_string()));
        let kafka = container_spec("p", &settings(BrokerKind::Kafka), 40001);
        assert!(kafka
            .env
            .contains(&"KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:40001".to_string()));
    }
}
