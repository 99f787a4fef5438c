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
    connection: std::sync::RwLock<Connection>,
    current: watch::Sender<FutureProducer>,
    /// Counts the producers made: a send that failed on a producer since
    /// replaced is sent again on the new one ([`RenewableProducer::replaced_since`]).
    generation: std::sync::atomic::AtomicU64,
    /// False while the broker is away (or being reconciled): a publish then
    /// waits for it, within its timeout, rather than reach a broker whose
    /// topics are not there yet.
    available: watch::Sender<bool>,
}

impl RenewableProducer {
    pub fn new(connection: Connection) -> Result<RenewableProducer, KafkaError> {
        let producer = connection.producer()?;
        Ok(RenewableProducer {
            connection: std::sync::RwLock::new(connection),
            current: watch::Sender::new(producer),
            generation: std::sync::atomic::AtomicU64::new(0),
            available: watch::Sender::new(true),
        })
    }

    /// The producer to send with now.
    pub fn get(&self) -> FutureProducer {
        self.current.borrow().clone()
    }

    /// The producer to send with now, and its generation. The generation
    /// is read first: a renewal in between then pairs the new producer with
    /// the old generation (a failed send is sent again, needlessly but
    /// safely), never the old producer with the new generation (a failed
    /// send on a replaced producer taken for one on the current).
    pub fn get_with_generation(&self) -> (FutureProducer, u64) {
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        (self.current.borrow().clone(), generation)
    }

    /// Whether the producer of `generation` was replaced since.
    pub fn replaced_since(&self, generation: u64) -> bool {
        self.generation.load(std::sync::atomic::Ordering::Acquire) != generation
    }

    /// Replaces the producer. What the old one still holds is purged, so
    /// a send under way fails at once (and is sent again on the new one by
    /// its caller) rather than reach a broker that came back without the
    /// old producer's state. Closing the old one blocks, so it happens on a
    /// thread of its own.
    pub fn renew(&self) -> Result<(), KafkaError> {
        use rdkafka::producer::{Producer, PurgeConfig};
        let connection = match self.connection.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        };
        let fresh = connection.producer()?;
        let old = self.current.send_replace(fresh);
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        std::thread::spawn(move || {
            old.purge(PurgeConfig::default().queue().inflight());
            drop(old)
        });
        Ok(())
    }

    /// The broker went away: the producer that knew it is closed now (a
    /// memory-only broker that comes back has the same topic names under new
    /// identities, which librdkafka's metadata cache does not survive), and
    /// publishes wait until [`RenewableProducer::reopen`].
    pub fn close(&self) -> Result<(), KafkaError> {
        self.available.send_replace(false);
        self.renew()
    }

    /// The broker is back (at `connection`, which may be a new address) and
    /// its topics are in place: a new producer, and publishes go on.
    pub fn reopen(&self, connection: Connection) -> Result<(), KafkaError> {
        match self.connection.write() {
            Ok(mut c) => *c = connection,
            Err(p) => *p.into_inner() = connection,
        }
        let renewed = self.renew();
        self.available.send_replace(true);
        renewed
    }

    /// Waits, at most `timeout`, until the broker is there to publish to;
    /// false if it is not by then.
    pub async fn wait_available(&self, timeout: std::time::Duration) -> bool {
        let mut rx = self.available.subscribe();
        let up = tokio::time::timeout(timeout, rx.wait_for(|up| *up)).await;
        matches!(up, Ok(Ok(_)))
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
