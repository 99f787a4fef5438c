//! Admin calls: topics, partitions, metadata. One client per `Connection`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewPartitions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;

use super::{call, task, GrowCause, KafkaError};

#[derive(Clone)]
pub struct Admin {
    pub(super) inner: Arc<AdminClient<DefaultClientContext>>,
    pub(super) bootstrap: String,
}

/// What the broker says about one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub partitions: i32,
}

impl Admin {
    /// Closes the client on a thread of its own (librdkafka's destroy
    /// blocks).
    pub fn close(self) {
        std::thread::spawn(move || drop(self));
    }

    /// Every topic and its partition count (one metadata request).
    pub async fn topics(
        &self,
        timeout: Duration,
    ) -> Result<HashMap<String, TopicInfo>, KafkaError> {
        let inner = self.inner.clone();
        topics_of(
            self.bootstrap.clone(),
            move |t| inner.inner().fetch_metadata(None, t),
            timeout,
        )
        .await
    }

    /// Waits until a metadata request answers: the broker is ready.
    pub async fn wait_ready(&self, timeout: Duration) -> Result<(), KafkaError> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .topics(
                    left.min(Duration::from_secs(2))
                        .max(Duration::from_millis(200)),
                )
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Creates topics; one that already exists counts as created.
    pub async fn create_topics(
        &self,
        topics: &[(String, i32)],
        replication: i32,
    ) -> Result<(), KafkaError> {
        let new: Vec<NewTopic<'_>> = topics
            .iter()
            .map(|(name, p)| NewTopic::new(name, *p, TopicReplication::Fixed(replication)))
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = self
            .inner
            .create_topics(new.iter(), &opts)
            .await
            .map_err(|e| call("creating topics", e))?;
        for r in results {
            match r {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(KafkaError::Refused {
                        action: format!("creating topic `{name}`"),
                        code,
                    })
                }
            }
        }
        Ok(())
    }

    pub async fn grow_partitions(&self, topic: &str, from: i32, to: i32) -> Result<(), KafkaError> {
        let new = NewPartitions::new(topic, to.max(0) as usize);
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let refused = |source: GrowCause| KafkaError::GrowRefused {
            topic: topic.to_string(),
            from,
            to,
            source,
        };
        let results = self
            .inner
            .create_partitions([&new], &opts)
            .await
            .map_err(|e| refused(GrowCause::Call(e)))?;
        for r in results {
            if let Err((_, code)) = r {
                return Err(refused(GrowCause::Code(code)));
            }
        }
        Ok(())
    }

    pub async fn delete_topics(&self, names: &[String]) -> Result<(), KafkaError> {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = self
            .inner
            .delete_topics(&refs, &opts)
            .await
            .map_err(|e| call("deleting topics", e))?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::UnknownTopicOrPartition)) => {}
                Err((name, code)) => {
                    return Err(KafkaError::Refused {
                        action: format!("deleting topic `{name}`"),
                        code,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Whether the broker has `topic`, from a metadata request for it alone
/// (asking for every topic costs a broker of 1,500 topics tens of ms).
/// Asked through the producer rather than a client of its own: besides
/// saving a client, the answer starts the idempotent producer's id request
/// at once (librdkafka otherwise waits for a 500 ms timer first,
/// `rdkafka_idempotence.c`, which made one `ftl pubsub publish` take 0.7 s).
/// Every client of ours sets `allow.auto.create.topics=false`, so the
/// question never makes the topic exist on a broker that auto-creates.
pub async fn topic_exists_via(
    producer: &rdkafka::producer::FutureProducer,
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<bool, KafkaError> {
    use rdkafka::producer::Producer;
    let producer = producer.clone();
    let name = topic.to_string();
    let topics = topics_of(
        bootstrap.to_string(),
        move |t| producer.client().fetch_metadata(Some(&name), t),
        timeout,
    )
    .await?;
    Ok(topics.get(topic).is_some_and(|t| t.partitions > 0))
}

/// Every topic and its partition count, from one metadata request made by
/// `fetch` on a blocking thread.
async fn topics_of(
    bootstrap: String,
    fetch: impl FnOnce(Duration) -> rdkafka::error::KafkaResult<rdkafka::metadata::Metadata>
        + Send
        + 'static,
    timeout: Duration,
) -> Result<HashMap<String, TopicInfo>, KafkaError> {
    tokio::task::spawn_blocking(move || {
        let md = fetch(timeout).map_err(|source| KafkaError::Unreachable { bootstrap, source })?;
        Ok(md
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .map(|t| {
                (
                    t.name().to_string(),
                    TopicInfo {
                        partitions: t.partitions().len() as i32,
                    },
                )
            })
            .collect())
    })
    .await
    .map_err(|e| task("a metadata request", e))?
}
