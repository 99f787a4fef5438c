//! A producer that can be replaced while in use.

use rdkafka::producer::FutureProducer;
use tokio::sync::watch;

use super::{Connection, KafkaError};

/// The runner's producer (Publisher and dead letters), which can be made
/// anew: after the broker came back (a memory-only broker has forgotten the
/// producer's id and answers `UnknownProducerId` for ever), or after a fatal
/// error, which librdkafka says only a new producer recovers from. Callers
/// take a clone for each send; no lock is held across an `.await`.
pub struct RenewableProducer {
    connection: Connection,
    current: watch::Sender<FutureProducer>,
}

impl RenewableProducer {
    pub fn new(connection: Connection) -> Result<RenewableProducer, KafkaError> {
        let producer = connection.producer()?;
        Ok(RenewableProducer {
            connection,
            current: watch::Sender::new(producer),
        })
    }

    /// The producer to send with now.
    pub fn get(&self) -> FutureProducer {
        self.current.borrow().clone()
    }

    /// Replaces the producer; sends in flight on the old one finish or fail
    /// on their own. Closing the old one blocks, so it happens on a thread
    /// of its own.
    pub fn renew(&self) -> Result<(), KafkaError> {
        let fresh = self.connection.producer()?;
        let old = self.current.send_replace(fresh);
        std::thread::spawn(move || drop(old));
        Ok(())
    }

    /// Asks the broker for its metadata through the producer now (on a
    /// blocking thread): whether the broker answers, without a Kafka client
    /// of its own.
    pub async fn probe(&self, timeout: std::time::Duration) -> Result<(), KafkaError> {
        use rdkafka::producer::Producer;
        let producer = self.get();
        let bootstrap = self.connection.bootstrap.clone();
        tokio::task::spawn_blocking(move || producer.client().fetch_metadata(None, timeout))
            .await
            .map_err(|e| super::task("asking the broker for its metadata", e))?
            .map(|_| ())
            .map_err(|source| KafkaError::Unreachable { bootstrap, source })
    }

    /// Renews the producer if librdkafka says it hit a fatal error.
    pub fn renew_if_fatal(&self) -> bool {
        use rdkafka::producer::Producer;
        let fatal = self.get().client().fatal_error();
        match fatal {
            Some((code, reason)) => {
                tracing::warn!(
                    "the producer hit a fatal error ({code:?}: {reason}); making a new one"
                );
                self.renew().is_ok()
            }
            None => false,
        }
    }
}
