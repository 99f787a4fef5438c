//! The runner's own failures, typed: a consumer that cannot start, a move
//! of positions that cannot be made, a dead letter given up.

use crate::kafka::KafkaError;

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Kafka(#[from] KafkaError),
    /// A dead letter given up before the broker acknowledged it (shutdown,
    /// revocation): its source event stays uncommitted and comes again.
    #[error("abandoned before the broker acknowledged the dead letter")]
    Abandoned,
    /// Positions can only be moved on partitions this runner holds.
    #[error("this runner holds no partition of the subscription yet (still joining the group?)")]
    NoPartitions,
    /// The subscription's verb is no longer in the project.
    #[error("verb `{0}` is gone")]
    VerbGone(String),
}

impl From<RunnerError> for crate::error::Error {
    fn from(e: RunnerError) -> Self {
        match e {
            RunnerError::Kafka(k) => k.into(),
            other => crate::error::Error::failed(crate::text::one_line(&other), None),
        }
    }
}
