//! Notices the broker going away and coming back: a metadata request every
//! couple of seconds (one small request; the broker barely notices), two
//! failures in a row mean lost. The events say so. On its return the
//! producer is made anew and the project's topics and dead-letter topics
//! are created again where they are missing. A broker that lost a topic
//! lost its events and the groups' positions in it too: every subscription
//! of a topic created again is told to start over at its first event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::consumer::Control;
use super::{Routes, Shared};
use crate::events::Event;
use crate::kafka::KafkaError;

const PROBE_EVERY: Duration = Duration::from_secs(2);
const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);
const FAILURES_TO_LOSE: u32 = 2;

pub fn watch_broker(
    shared: Arc<Shared>,
    project: watch::Receiver<Arc<crate::schema::Project>>,
    routes: watch::Receiver<Routes>,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        let address = shared.connection.bootstrap.clone();
        let mut failures = 0;
        let mut lost_at: Option<Instant> = None;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(PROBE_EVERY) => {}
            }
            // The runner's producer asks: no extra Kafka client (threads,
            // buffers) just for this.
            match shared.producer.probe(PROBE_TIMEOUT).await {
                // The runtime is going away.
                Err(KafkaError::Task { .. }) => return,
                Ok(()) => {
                    failures = 0;
                    if let Some(t) = lost_at.take() {
                        // A broker that restarted may not know the
                        // producer's id any more: start with a new one.
                        if let Err(e) = shared.producer.renew() {
                            tracing::warn!("cannot renew the producer: {e}");
                        }
                        shared.hub.emit(Event::BrokerRegained {
                            address: address.clone(),
                            down_ms: t.elapsed().as_millis() as u64,
                        });
                        // A broker that lost its data (memory-only, or a
                        // new volume) gets the project's topics back.
                        let current = project.borrow().clone();
                        match crate::provision::provision(&current, &shared.connection, &shared.hub)
                            .await
                        {
                            Ok(done) if !done.created.is_empty() => {
                                start_over(&routes, done.created.into()).await;
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!(
                                "provisioning after the broker came back failed: {e}"
                            ),
                        }
                    }
                }
                Err(e) => {
                    failures += 1;
                    if failures == FAILURES_TO_LOSE && lost_at.is_none() {
                        lost_at = Some(Instant::now());
                        shared.hub.emit(Event::BrokerLost {
                            address: address.clone(),
                            reason: crate::text::one_line(&e),
                        });
                    }
                }
            }
        }
    });
}

/// Tells every running subscription which topics were created again; those
/// on one of them start over.
async fn start_over(routes: &watch::Receiver<Routes>, topics: Arc<[String]>) {
    // Copied out: a watch borrow is a lock, never held across a send.
    let senders: Vec<_> = routes.borrow().values().cloned().collect();
    for tx in senders {
        let _ = tx.send(Control::TopicsRecreated(topics.clone())).await;
    }
}
