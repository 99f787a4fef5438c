//! The first offset at or after a time, checked. Kafka answers ListOffsets
//! by time from its time index; some brokers answer wrongly (the test
//! broker, Tansu 0.6, answers offset 0 for any time). So the answer is
//! checked against the records' own timestamps (the record there is at or
//! after the time, the one before it is not), and where it is wrong the
//! offset is found by a binary search on the timestamps: a few reads of
//! one record each, whatever the partition holds.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::{call, KafkaError};

/// How long reading one record may take.
const READ_ONE: Duration = Duration::from_secs(10);
/// Reading past the reported end stops after this long without a record
/// (for a consumer that is not told where a partition ends).
const PAST_END_QUIET: Duration = Duration::from_millis(500);

/// For each (partition, low, high): the first offset whose record is at or
/// after `millis` (`high` when none is). `consumer` must be one that is free
/// to be assigned partitions (a reader, not a group member); it is left
/// unassigned. Blocking.
pub fn offsets_at_time<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partitions: &[(i32, i64, i64)],
    millis: i64,
) -> Result<HashMap<i32, i64>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for (p, _, _) in partitions {
        let _ = tpl.add_partition_offset(topic, *p, Offset::Offset(millis));
    }
    let answered = consumer
        .offsets_for_times(tpl, Duration::from_secs(10))
        .map_err(|e| call(format!("looking up offsets by time in {topic}"), e))?;
    let mut out = HashMap::new();
    for (p, low, high) in partitions {
        let said = match answered.find_partition(topic, *p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => o,
            _ => *high,
        };
        let mut read = |o: i64| timestamp_at(consumer, topic, *p, o);
        let found = checked(*low, *high, said, millis, &mut read).and_then(|o| {
            // Nothing that recent below the end the broker reported: the
            // test broker reports the end of a partition too low when its
            // last batch holds several records, so read on from there.
            if o == *high {
                past_the_end(consumer, topic, *p, o, millis)
            } else {
                Ok(o)
            }
        });
        let _ = consumer.unassign();
        out.insert(*p, found?);
    }
    Ok(out)
}

/// The broker's answer `said` if the timestamps agree with it, else the
/// right offset by binary search over [low, high). `ts(o)` is the timestamp
/// of the record at `o` (or the first after it).
fn checked(
    low: i64,
    high: i64,
    said: i64,
    millis: i64,
    ts: &mut impl FnMut(i64) -> Result<i64, KafkaError>,
) -> Result<i64, KafkaError> {
    if low >= high {
        return Ok(high);
    }
    let said = said.clamp(low, high);
    let at_or_after =
        |o: i64, ts: &mut dyn FnMut(i64) -> Result<i64, KafkaError>| ts(o).map(|t| t >= millis);
    let right = if said == high {
        !at_or_after(high - 1, ts)?
    } else {
        at_or_after(said, ts)? && (said == low || !at_or_after(said - 1, ts)?)
    };
    if right {
        return Ok(said);
    }
    let (mut lo, mut hi) = (low, high);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if at_or_after(mid, ts)? {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(lo)
}

/// Reads `topic[partition]` from `from` on: the offset of the first record
/// at or after `millis`, or the real end when none is.
fn past_the_end<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
    from: i64,
    millis: i64,
) -> Result<i64, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    let _ = tpl.add_partition_offset(topic, partition, Offset::Offset(from));
    consumer
        .assign(&tpl)
        .map_err(|e| call(format!("reading {topic}[{partition}]"), e))?;
    let mut end = from;
    let deadline = Instant::now() + READ_ONE;
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline && quiet_since.elapsed() < PAST_END_QUIET {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) if m.partition() == partition && m.offset() >= from => {
                if m.timestamp().to_millis().unwrap_or(i64::MIN) >= millis {
                    return Ok(m.offset());
                }
                end = m.offset() + 1;
                quiet_since = Instant::now();
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) if p == partition => break,
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) | Some(Ok(_)) | None => {}
            Some(Err(e)) => return Err(call(format!("reading {topic}[{partition}]"), e)),
        }
    }
    Ok(end)
}

/// The timestamp of the record at `offset` of `topic[partition]` (or of the
/// first one after it, where records were removed).
fn timestamp_at<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<i64, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    let _ = tpl.add_partition_offset(topic, partition, Offset::Offset(offset));
    consumer
        .assign(&tpl)
        .map_err(|e| call(format!("reading {topic}[{partition}]"), e))?;
    let deadline = Instant::now() + READ_ONE;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) if m.partition() == partition && m.offset() >= offset => {
                return Ok(m.timestamp().to_millis().unwrap_or(i64::MIN));
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(_))) | Some(Ok(_)) | None => {}
            Some(Err(e)) => return Err(call(format!("reading {topic}[{partition}]"), e)),
        }
    }
    Err(KafkaError::Call {
        action: format!("reading {topic}[{partition}] at offset {offset} to check its time"),
        source: rdkafka::error::KafkaError::MessageConsumption(
            rdkafka::types::RDKafkaErrorCode::OperationTimedOut,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Timestamps of offsets 10..20: two per second from 1000.
    fn ts(o: i64) -> Result<i64, KafkaError> {
        Ok(1000 + (o - 10) / 2 * 1000)
    }

    #[test]
    fn a_right_answer_is_kept_and_a_wrong_one_is_searched_for() {
        let mut reads = 0;
        let mut count = |o| {
            reads += 1;
            ts(o)
        };
        // Right: 14 is at 3000, 13 at 2000.
        assert_eq!(checked(10, 20, 14, 3000, &mut count).unwrap(), 14);
        assert_eq!(reads, 2);
        // The test broker's answer (0, the low watermark) for any time.
        for (millis, want) in [
            (0, 10),
            (1000, 10),
            (1500, 12),
            (3000, 14),
            (5000, 18),
            (5001, 20),
            (99_000, 20),
        ] {
            assert_eq!(
                checked(10, 20, 10, millis, &mut ts).unwrap(),
                want,
                "{millis}"
            );
            // "Nothing that recent" answered as the end.
            assert_eq!(
                checked(10, 20, 20, millis, &mut ts).unwrap(),
                want,
                "{millis}"
            );
        }
        // An empty partition: its end.
        assert_eq!(checked(5, 5, 0, 1, &mut ts).unwrap(), 5);
    }

    #[test]
    fn the_search_reads_few_records() {
        let mut reads = 0;
        let mut count = |o: i64| {
            reads += 1;
            Ok(o * 10)
        };
        assert_eq!(
            checked(0, 1_000_000, 0, 5_000_005, &mut count).unwrap(),
            500_001
        );
        assert!(reads <= 25, "{reads} reads");
    }
}
