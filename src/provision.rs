//! Getting the broker and topics into the state the project declares: find
//! or start the broker (lazily, only when a topic needs it), wait until Kafka
//! answers, create topics and dead-letter topics, grow partitions.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::docker::{BrokerContainer, Docker, DockerError};
use crate::error::{Error, Result};
use crate::events::{Event, Report, Severity};
use crate::hub::Hub;
use crate::kafka::{Connection, KafkaError, TopicInfo};
use crate::schema::{BrokerKind, Project};

const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// What to do with one declared topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create {
        topic: String,
        partitions: i32,
    },
    Grow {
        topic: String,
        from: i32,
        to: i32,
    },
    /// The topic has more partitions than declared: partitions are never
    /// removed (that would lose events), so it is kept as it is.
    KeepMore {
        topic: String,
        existing: i32,
        declared: i32,
    },
    Unchanged {
        topic: String,
    },
}

/// Decides, for each declared topic, what provisioning must do.
pub fn plan(declared: &[(String, i32)], existing: &HashMap<String, TopicInfo>) -> Vec<Action> {
    declared
        .iter()
        .map(|(topic, want)| {
            let topic = topic.clone();
            match existing.get(&topic) {
                None => Action::Create {
                    topic,
                    partitions: *want,
                },
                Some(info) if info.partitions < *want => Action::Grow {
                    topic,
                    from: info.partitions,
                    to: *want,
                },
                Some(info) if info.partitions > *want => Action::KeepMore {
                    topic,
                    existing: info.partitions,
                    declared: *want,
                },
                Some(_) => Action::Unchanged { topic },
            }
        })
        .collect()
}

/// The broker a project uses, as found now.
pub struct BrokerHandle {
    pub connection: Connection,
    pub container: Option<BrokerContainer>,
}

impl BrokerHandle {
    /// The event that says this broker is ready, `started` when the wait began.
    pub fn ready_event(&self, started: Instant) -> Event {
        Event::BrokerReady {
            kind: self.connection.kind.name().to_string(),
            address: self.connection.bootstrap.clone(),
            container: self.container.as_ref().map(|c| c.name.clone()),
            how: self
                .container
                .as_ref()
                .map_or("external", |c| c.outcome.name())
                .to_string(),
            ms: started.elapsed().as_millis() as u64,
        }
    }

    /// What `status` shows of the broker.
    pub fn status(&self) -> BrokerStatus {
        match &self.container {
            Some(c) => BrokerStatus {
                kind: c.kind.clone(),
                container: Some(c.name.clone()),
                image: Some(c.image.clone()),
                address: c.address(),
                uptime_s: c
                    .started_at
                    .as_deref()
                    .and_then(|s| humantime::parse_rfc3339_weak(s).ok())
                    .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
                    .map(|d| d.as_secs()),
            },
            None => BrokerStatus {
                kind: "external".into(),
                container: None,
                image: None,
                address: self.connection.bootstrap.clone(),
                uptime_s: None,
            },
        }
    }
}

/// The broker as `ftl pubsub status` reports it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BrokerStatus {
    pub kind: String,
    pub container: Option<String>,
    pub image: Option<String>,
    pub address: String,
    pub uptime_s: Option<u64>,
}

fn connection_for(project: &Project, container: Option<&BrokerContainer>) -> Connection {
    match container {
        Some(c) => Connection {
            bootstrap: c.address(),
            properties: Default::default(),
            kind: BrokerKind::parse(&c.kind).unwrap_or(project.broker.kind),
        },
        None => Connection {
            bootstrap: project.broker.bootstrap.clone().unwrap_or_default(),
            properties: project.broker.properties.clone(),
            kind: BrokerKind::External,
        },
    }
}

/// Starts the broker if needed and waits until Kafka answers; what it does
/// (pulling, the container, the wait) is told to `report`.
pub async fn ensure_broker(project: &Project, report: &dyn Report) -> Result<BrokerHandle> {
    if project.broker.kind == BrokerKind::External {
        let connection = connection_for(project, None);
        connection
            .admin()?
            .wait_ready(Duration::from_secs(15))
            .await?;
        return Ok(BrokerHandle {
            connection,
            container: None,
        });
    }
    let docker = Docker::connect().await?;
    let container = docker
        .ensure_broker(&project.name, &project.broker, report)
        .await?;
    let connection = connection_for(project, Some(&container));
    report.report(Event::BrokerWaiting {
        container: container.name.clone(),
        kind: connection.kind.name().to_string(),
        address: connection.bootstrap.clone(),
        how: container.outcome.name().to_string(),
    });
    let ready = connection.admin()?.wait_ready(READY_TIMEOUT).await;
    if let Err(e) = ready {
        let logs = docker.last_logs(&container.name, 20).await;
        return Err(Error::failed(
            format!(
                "the broker container `{}` did not answer Kafka requests on {} within {}s ({e})\n  last log lines:\n{}",
                container.name,
                connection.bootstrap,
                READY_TIMEOUT.as_secs(),
                indent(&logs)
            ),
            Some("`ftl pubsub broker logs` shows everything; `ftl pubsub broker reset` starts over".into()),
        ));
    }
    Ok(BrokerHandle {
        connection,
        container: Some(container),
    })
}

/// The broker as it runs now, without starting anything.
pub async fn running_broker(project: &Project) -> Result<BrokerHandle> {
    if project.broker.kind == BrokerKind::External {
        return Ok(BrokerHandle {
            connection: connection_for(project, None),
            container: None,
        });
    }
    let docker = Docker::connect().await?;
    match docker.find_broker(&project.name).await? {
        Some(c) if c.running => Ok(BrokerHandle {
            connection: connection_for(project, Some(&c)),
            container: Some(c),
        }),
        Some(c) => Err(DockerError::Stopped { name: c.name }.into()),
        None => Err(DockerError::NoContainer {
            name: crate::broker::container_name(&project.name),
        }
        .into()),
    }
}

/// Stops the project's broker container; the container it stopped, if any.
pub async fn stop_broker(project: &Project) -> Result<Option<BrokerContainer>> {
    Ok(Docker::connect().await?.stop_broker(&project.name).await?)
}

/// Removes the project's broker container and its volume (only if ftl made
/// them); what was removed and what was left alone.
pub async fn remove_broker(project: &Project) -> Result<crate::docker::Removed> {
    Ok(Docker::connect()
        .await?
        .remove_broker(&project.name)
        .await?)
}

/// Hands the broker container's log to `on_text`, chunk by chunk.
pub async fn broker_logs(
    project: &Project,
    follow: bool,
    tail: Option<u64>,
    on_text: impl FnMut(&str) -> bool,
) -> Result<()> {
    let docker = Docker::connect().await?;
    let name = crate::broker::container_name(&project.name);
    if docker.find_broker(&project.name).await?.is_none() {
        return Err(DockerError::NoContainer { name }.into());
    }
    Ok(docker.logs(&name, follow, tail, on_text).await?)
}

/// What `provision` did, beyond the events it emitted.
#[derive(Debug, Default)]
pub struct Provisioned {
    /// Topics that did not exist and were created (Kafka names).
    pub created: Vec<String>,
    /// Topics the broker created by itself (with too few partitions) that
    /// hold events another program published: kept as they are, and new to
    /// every subscription of them.
    pub made_by_broker: Vec<String>,
    /// Problems that did not stop it (a broker that cannot grow a topic).
    pub problems: Vec<KafkaError>,
}

/// Every declared topic (dead-letter topics included) with its partitions,
/// by Kafka name.
pub fn declared(project: &Project) -> Vec<(String, i32)> {
    project
        .topics()
        .map(|t| (t.kafka_name(), t.partitions))
        .collect()
}

/// Creates missing topics, grows partitions, warns about topics with more
/// partitions than declared.
pub async fn provision(
    project: &Project,
    connection: &Connection,
    hub: &Hub,
) -> Result<Provisioned> {
    provision_with(project, connection, hub, false).await
}

/// As [`provision`], for a broker that came back: a topic with fewer
/// partitions than declared was not made by ftl (the broker created it when
/// another program's client asked for it) and holds nothing of the
/// project's. Where the broker cannot grow it, it is deleted and created
/// again as declared if it is empty; if it holds events (the other
/// program's, acknowledged to it) it is kept, never deleted, and reported.
pub async fn provision_again(
    project: &Project,
    connection: &Connection,
    hub: &Hub,
) -> Result<Provisioned> {
    provision_with(project, connection, hub, true).await
}

async fn provision_with(
    project: &Project,
    connection: &Connection,
    hub: &Hub,
    recreate_smaller: bool,
) -> Result<Provisioned> {
    let admin = connection.admin()?;
    let done = provision_by(&admin, project, connection, hub, recreate_smaller).await;
    admin.close();
    done
}

async fn provision_by(
    admin: &crate::kafka::Admin,
    project: &Project,
    connection: &Connection,
    hub: &Hub,
    recreate_smaller: bool,
) -> Result<Provisioned> {
    let existing = admin.topics(Duration::from_secs(10)).await?;
    let declared = declared(project);
    let replication = if connection.kind == BrokerKind::External {
        -1
    } else {
        1
    };
    let actions = plan(&declared, &existing);
    let create: Vec<(String, i32)> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Create { topic, partitions } => Some((topic.clone(), *partitions)),
            _ => None,
        })
        .collect();
    let mut created = Vec::new();
    let mut made_by_broker = Vec::new();
    if !create.is_empty() {
        admin.create_topics(&create, replication).await?;
        for (topic, partitions) in create {
            created.push(topic.clone());
            hub.emit(Event::TopicCreated { topic, partitions });
        }
    }
    let mut problems = Vec::new();
    for a in &actions {
        match a {
            Action::Grow { topic, from, to } => match admin.grow_partitions(topic, *from, *to).await {
                Ok(()) => hub.emit(Event::TopicGrown { topic: topic.clone(), from: *from, to: *to }),
                Err(e) if recreate_smaller => match crate::kafka::events_held(connection, topic).await {
                    // Empty: nothing of anyone's is lost by making it again.
                    Ok(0) => match recreate(admin, topic, *to, replication).await {
                        Ok(()) => {
                            created.push(topic.clone());
                            hub.emit(Event::TopicRecreated { topic: topic.clone(), had: *from, partitions: *to });
                        }
                        Err(again) => {
                            hub.emit(Event::TopicProblem {
                                topic: topic.clone(),
                                severity: Severity::Error,
                                message: format!("{}; deleting it to create it again failed: {}", crate::text::one_line(&e), crate::text::one_line(&again)),
                                hint: e.hint(),
                            });
                            problems.push(e);
                        }
                    },
                    // It holds events another program published (ftl's
                    // own clients never make a topic): never deleted. It is
                    // new to the subscriptions all the same, so they start
                    // over on the partitions it has and deliver them.
                    held => {
                        made_by_broker.push(topic.clone());
                        let (module, name) = declared_at(project, topic);
                        let held = match held {
                            Ok(n) => format!("holds {n} events that another program published"),
                            Err(count) => format!("may hold events of another program (counting them failed: {})", crate::text::one_line(&count)),
                        };
                        hub.emit(Event::TopicProblem {
                            topic: topic.clone(),
                            severity: Severity::Error,
                            message: format!(
                                "the broker lost {topic} and created it again by itself with {from} partitions ({to} declared), which it cannot grow; it {held}, so ftl keeps it: subscriptions run on its {from} partitions"
                            ),
                            hint: Some(format!(
                                "to keep this topic as it is, declare `partitions: {from}` for topic `{name}` in module `{module}`; to have {to} partitions, let the subscriptions deliver its events, then `ftl pubsub broker reset` (every topic is created again, empty)"
                            )),
                        });
                        problems.push(e);
                    }
                },
                Err(e) => {
                    hub.emit(Event::TopicProblem {
                        topic: topic.clone(),
                        severity: Severity::Error,
                        message: crate::text::one_line(&e),
                        hint: e.hint(),
                    });
                    problems.push(e);
                }
            },
            Action::KeepMore { topic, existing, declared } => hub.emit(Event::TopicProblem {
                topic: topic.clone(),
                severity: Severity::Warning,
                message: format!("topic {topic} has {existing} partitions but {declared} are declared; keeping {existing} (partitions are never removed)"),
                hint: Some("declare the existing count to silence this, or `ftl pubsub broker reset` to start over".into()),
            }),
            _ => {}
        }
    }
    Ok(Provisioned {
        created,
        made_by_broker,
        problems,
    })
}

/// The module and name a topic (by Kafka name) is declared under.
fn declared_at(project: &Project, kafka_name: &str) -> (String, String) {
    project
        .topics()
        .find(|t| t.kafka_name() == kafka_name)
        .map(|t| (t.module.clone(), t.name.clone()))
        .unwrap_or_else(|| (String::new(), kafka_name.to_string()))
}

/// Deletes `topic` and creates it with `partitions`; the broker may take a
/// moment to forget the deleted one.
async fn recreate(
    admin: &crate::kafka::Admin,
    topic: &str,
    partitions: i32,
    replication: i32,
) -> std::result::Result<(), KafkaError> {
    admin.delete_topics(&[topic.to_string()]).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let gone = !admin
            .topics(Duration::from_secs(5))
            .await?
            .contains_key(topic);
        if gone || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    admin
        .create_topics(&[(topic.to_string(), partitions)], replication)
        .await
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_creates_grows_and_never_shrinks() {
        let existing = HashMap::from([
            ("a.same".to_string(), TopicInfo { partitions: 4 }),
            ("a.grow".to_string(), TopicInfo { partitions: 2 }),
            ("a.shrink".to_string(), TopicInfo { partitions: 8 }),
        ]);
        let declared = vec![
            ("a.same".to_string(), 4),
            ("a.grow".to_string(), 6),
            ("a.shrink".to_string(), 3),
            ("a.new".to_string(), 5),
        ];
        assert_eq!(
            plan(&declared, &existing),
            vec![
                Action::Unchanged {
                    topic: "a.same".into()
                },
                Action::Grow {
                    topic: "a.grow".into(),
                    from: 2,
                    to: 6
                },
                Action::KeepMore {
                    topic: "a.shrink".into(),
                    existing: 8,
                    declared: 3
                },
                Action::Create {
                    topic: "a.new".into(),
                    partitions: 5
                },
            ]
        );
    }
}
