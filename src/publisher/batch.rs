//! Publishing a batch of numbered events (`ftl pubsub publish`'s NDJSON):
//! every event is checked before the first is sent, so bad input publishes
//! nothing; then they go out with many awaiting acknowledgement.

use super::*;
/// Why a batch of events was not published.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Nothing was published: these (line, problem) pairs were invalid.
    #[error("{} invalid event{}", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Invalid(Vec<(usize, PublishError)>),
    #[error("topic `{0}` does not exist on the broker yet")]
    NoTopic(String),
    #[error(transparent)]
    Kafka(#[from] crate::kafka::KafkaError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The broker refused some events after others were acknowledged.
    #[error("{} of {} events were not published", failed.len(), failed.len() + published.len())]
    Partial {
        /// (line, where it went)
        published: Vec<(usize, Published)>,
        /// (line, why not)
        failed: Vec<(usize, PublishError)>,
    },
}

/// Checks numbered events (line, JSON text) for `topic` without publishing:
/// each must be JSON of the topic's type, with a partition key where the
/// topic needs one.
pub fn check_events(
    topic: &Topic,
    events: &[(usize, String)],
    key: Option<&str>,
) -> Result<Vec<Option<String>>, BatchError> {
    let mut problems = Vec::new();
    let mut keys = Vec::with_capacity(events.len());
    for (line, text) in events {
        let check = serde_json::from_str::<Value>(text)
            .map_err(|source| PublishError::NotJson {
                topic: topic.kafka_name(),
                source,
            })
            .and_then(|v| check_type(topic, &v).and_then(|()| event_key(topic, &v, key)))
            .and_then(|k| check_size(topic, text.as_bytes(), k.as_deref()).map(|()| k));
        match check {
            Ok(k) => keys.push(k),
            Err(e) => problems.push((*line, e)),
        }
    }
    if problems.is_empty() {
        Ok(keys)
    } else {
        Err(BatchError::Invalid(problems))
    }
}

/// Publishes numbered events (line, JSON text) to `topic`: all are checked
/// first, and bad input publishes nothing; then they go out with up to 1000
/// awaiting acknowledgement, and `on_done` hears of each in order.
pub async fn publish_all(
    connection: &crate::kafka::Connection,
    topic: &Topic,
    events: &[(usize, String)],
    key: Option<&str>,
    request_key: Option<&str>,
    mut on_done: impl FnMut(&Published),
) -> Result<usize, BatchError> {
    use futures_util::StreamExt;
    // Each event is parsed and checked once, here; then only sent.
    let keys = check_events(topic, events, key)?;
    let producer = connection.producer()?;
    let name = topic.kafka_name();
    let exists = crate::kafka::topic_exists_via(
        &producer,
        &connection.bootstrap,
        &name,
        Duration::from_secs(10),
    )
    .await?;
    if !exists {
        return Err(BatchError::NoTopic(name));
    }
    // Until the first acknowledgement, a metadata answer now and then lets
    // the producer ask for its id as soon as a broker connection is up
    // (the first answer may come before that).
    let nudging = tokio_util::sync::CancellationToken::new();
    tokio::spawn({
        let (producer, stop) = (producer.clone(), nudging.clone());
        let bootstrap = connection.bootstrap.clone();
        async move {
            while !stop.is_cancelled() {
                let _ = crate::kafka::topic_exists_via(
                    &producer,
                    &bootstrap,
                    &name,
                    Duration::from_millis(200),
                )
                .await;
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
        }
    });
    // Stops on the first acknowledgement, or when this returns.
    let stop_nudging = nudging.clone().drop_guard();
    let mut done = 0;
    {
        let mut published = Vec::new();
        let mut failed = Vec::new();
        let mut results = futures_util::stream::iter(events.iter().zip(keys))
            .map(|((line, text), key)| {
                let producer = &producer;
                // Each event is a request of its own unless the caller names one.
                let stamp =
                    Stamp::now(request_key.map(str::to_string), BY_CLI, &topic.kafka_name());
                async move {
                    let r = send(producer, topic, text.as_bytes(), key, &stamp).await;
                    (*line, r)
                }
            })
            .buffered(1000);
        while let Some((line, r)) = results.next().await {
            nudging.cancel();
            match r {
                Ok(p) => {
                    on_done(&p);
                    done += 1;
                    published.push((line, p));
                }
                Err(e) => failed.push((line, e)),
            }
        }
        drop(results);
        if !failed.is_empty() {
            std::thread::spawn(move || drop(producer));
            return Err(if published.is_empty() && failed.len() == 1 {
                BatchError::Publish(failed.remove(0).1)
            } else {
                BatchError::Partial { published, failed }
            });
        }
    }
    // Every event is acknowledged: nothing is left to flush. Closing joins
    // librdkafka's threads, which sleep in 100 ms steps (~190 ms measured),
    // so it happens on a thread of its own instead of on the caller's path;
    // a command that exits right after does not wait for it.
    std::thread::spawn(move || drop(producer));
    drop(stop_nudging);
    Ok(done)
}
