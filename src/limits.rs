//! The limits librdkafka puts on the fetch settings a subscription's
//! `batch` becomes, checked when the project is read so that a consumer is
//! never refused at start.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::schema::Batch;

/// The part of a subscription's `batch` a check is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchField {
    Min,
    Default,
    MaxWait,
}

/// librdkafka's `message.max.bytes` unless `runner.consumer` sets it.
pub const MESSAGE_MAX_BYTES: u64 = 1_000_000;
/// Upper bounds librdkafka 2.12 puts on the fetch settings a `batch` becomes
/// (`rdkafka_conf.c`): `fetch.min.bytes`, `max.partition.fetch.bytes`,
/// `fetch.wait.max.ms`.
const FETCH_MIN_BYTES_MAX: u64 = 100_000_000;
const PARTITION_FETCH_BYTES_MAX: u64 = 1_000_000_000;
const FETCH_WAIT_MAX: Duration = Duration::from_secs(300);

/// What librdkafka would refuse in a subscription's `batch`, checked before
/// anything starts: (field, problem, hint). `overrides` are
/// `runner.consumer`, which may raise or lower `message.max.bytes`.
pub fn batch_problems(
    batch: &Batch,
    overrides: &BTreeMap<String, String>,
) -> Vec<(BatchField, String, String)> {
    let message_max = overrides
        .get("message.max.bytes")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(MESSAGE_MAX_BYTES);
    let mut out = Vec::new();
    if batch.min > FETCH_MIN_BYTES_MAX {
        out.push((
            BatchField::Min,
            format!(
                "`batch.min` of {} bytes is more than the Kafka client allows ({FETCH_MIN_BYTES_MAX} bytes, `fetch.min.bytes`)",
                batch.min
            ),
            "use at most 95MB".to_string(),
        ));
    }
    if batch.default < message_max {
        out.push((
            BatchField::Default,
            format!(
                "`batch.default` of {} bytes is below the Kafka client's `message.max.bytes` ({message_max} bytes): its consumer would be refused",
                batch.default
            ),
            format!("use at least {}KB (the default is 1MB)", message_max.div_ceil(1024)),
        ));
    }
    if batch.default > PARTITION_FETCH_BYTES_MAX {
        out.push((
            BatchField::Default,
            format!(
                "`batch.default` of {} bytes is more than the Kafka client allows ({PARTITION_FETCH_BYTES_MAX} bytes, `max.partition.fetch.bytes`)",
                batch.default
            ),
            "use at most 953MB".to_string(),
        ));
    }
    if batch.max_wait > FETCH_WAIT_MAX {
        out.push((
            BatchField::MaxWait,
            format!(
                "`batch.max_wait` of {} is longer than a fetch may wait (5m, `fetch.wait.max.ms`)",
                crate::units::format_duration(batch.max_wait)
            ),
            "use at most 5m; the seed's default is 250ms".to_string(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_settings_librdkafka_refuses_are_found_before_start() {
        let none = BTreeMap::new();
        let ok = Batch::default();
        assert!(batch_problems(&ok, &none).is_empty());
        let cases: [(Batch, Vec<BatchField>); 4] = [
            (
                Batch {
                    default: 64 * 1024,
                    min: 1,
                    ..ok
                },
                vec![BatchField::Default],
            ),
            (
                Batch {
                    min: 200_000_000,
                    default: 300_000_000,
                    ..ok
                },
                vec![BatchField::Min],
            ),
            (
                Batch {
                    default: 2_000_000_000,
                    ..ok
                },
                vec![BatchField::Default],
            ),
            (
                Batch {
                    max_wait: Duration::from_secs(301),
                    ..ok
                },
                vec![BatchField::MaxWait],
            ),
        ];
        for (batch, want) in cases {
            let got: Vec<BatchField> = batch_problems(&batch, &none)
                .into_iter()
                .map(|(f, _, _)| f)
                .collect();
            assert_eq!(got, want, "{batch:?}");
        }
        // A lower `message.max.bytes` in runner.consumer allows a smaller fetch.
        let lower = BTreeMap::from([("message.max.bytes".to_string(), "65536".to_string())]);
        let small = Batch {
            default: 64 * 1024,
            ..ok
        };
        assert!(batch_problems(&small, &lower).is_empty());
    }
}
