//! What the runner does when the broker goes away, comes back (maybe at a
//! new address, maybe without its topics), or is paused: every Kafka client
//! that knew the old broker is closed as soon as it is seen going away, the
//! declared topics are put back, and every client is made anew.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::consumer::Control;
use super::{stop_task, BrokerChange, Runner};
use crate::events::{Event, StopReason};

impl Runner {
    /// The next thing the follower saw of the broker; pending for ever once
    /// it has stopped.
    pub async fn broker_change(&mut self) -> BrokerChange {
        match self.broker.recv().await {
            Some(c) => c,
            None => std::future::pending().await,
        }
    }

    /// Acts on what the follower saw.
    pub async fn follow_broker(&mut self, change: BrokerChange) {
        let hub = self.shared.hub.clone();
        let address = self.shared.connection.get().bootstrap;
        match change {
            BrokerChange::Gone { reason } => {
                if self.suspended {
                    return;
                }
                hub.emit(Event::BrokerLost { address, reason });
                self.close_clients().await;
            }
            BrokerChange::Back {
                connection,
                down_ms,
            } => {
                if !self.suspended {
                    // Back without having been seen gone: close first all
                    // the same (nothing may see a topic come back anew).
                    self.close_clients().await;
                }
                if connection.bootstrap != address {
                    hub.emit(Event::BrokerMoved {
                        from: address,
                        address: connection.bootstrap.clone(),
                    });
                    self.shared.connection.set(connection.clone());
                }
                let project = self.current();
                let created =
                    match crate::provision::provision_again(&project, &connection, &hub).await {
                        Ok(done) => [done.created, done.made_by_broker].concat(),
                        Err(e) => {
                            tracing::warn!(
                                "creating the topics after the broker came back failed: {e}"
                            );
                            Vec::new()
                        }
                    };
                if let Err(e) = self.shared.producer.reopen(connection.clone()) {
                    tracing::warn!("cannot make a new producer: {e}");
                }
                hub.emit(Event::BrokerRegained {
                    address: connection.bootstrap.clone(),
                    down_ms,
                });
                self.suspended = false;
                let report = self.reconcile(&project).await;
                if !report.failed.is_empty() {
                    tracing::warn!(
                        "{} subscriptions could not start again after the broker came back",
                        report.failed.len()
                    );
                }
                // A subscription of a topic created again starts over at its
                // first event: any position its group kept (or commits as
                // it joins) belongs to the old topic.
                if !created.is_empty() {
                    let topics: Arc<[String]> = created.into();
                    let senders: Vec<_> = self.tasks.values().map(|t| t.control.clone()).collect();
                    for tx in senders {
                        let _ = tx.send(Control::TopicsRecreated(topics.clone())).await;
                    }
                }
            }
            BrokerChange::Paused => hub.emit(Event::BrokerPaused { address }),
            BrokerChange::Unpaused { paused_ms } => {
                hub.emit(Event::BrokerUnpaused { address, paused_ms })
            }
        }
    }

    /// Closes every Kafka client of the runner now: the subscriptions'
    /// consumers (events in hand are delivered again later), the producer
    /// (publishes wait for the broker) and the kept reader.
    async fn close_clients(&mut self) {
        self.suspended = true;
        let started = Instant::now();
        if let Err(e) = self.shared.producer.close() {
            tracing::warn!("cannot make a new producer: {e}");
        }
        self.shared.reader.reset();
        let tasks: Vec<_> = self.tasks.drain().collect();
        self.publish_routes();
        for (_, t) in &tasks {
            t.gone.cancel();
        }
        let hub = self.shared.hub.clone();
        futures_util::future::join_all(tasks.into_iter().map(|(name, t)| {
            let hub = hub.clone();
            async move {
                stop_task(t, Duration::ZERO).await;
                hub.emit(Event::ConsumerStopped {
                    subscription: name,
                    why: StopReason::BrokerLost,
                });
            }
        }))
        .await;
        tracing::debug!(
            "closed the runner's Kafka clients in {:?}",
            started.elapsed()
        );
    }

    fn current(&self) -> Arc<crate::schema::Project> {
        self.project.borrow().clone()
    }
}
