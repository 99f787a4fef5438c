//! Reading what the broker holds without joining a group: watermarks,
//! committed offsets, records by range or time, and where a replay goes.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::message::{Headers, Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};

use super::{call, close_consumer, task, Connection, KafkaError};

/// Low and high watermarks of a partition.
pub fn watermarks<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topic: &str,
    partition: i32,
) -> Result<(i64, i64), KafkaError> {
    consumer
        .fetch_watermarks(topic, partition, Duration::from_secs(5))
        .map_err(|e| call(format!("reading offsets of {topic}[{partition}]"), e))
}

/// A partition's low and high watermarks: (partition, low, high).
pub type Marks = (i32, i64, i64);

/// The offsets of the partitions of several topics at `at` (the protocol's
/// timestamps: `Offset::Beginning` for the earliest, `Offset::End` for the
/// latest), in one ListOffsets request, by (topic, partition).
pub fn list_offsets<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topics: &[(String, Vec<i32>)],
    at: Offset,
) -> Result<HashMap<(String, i32), i64>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for (topic, parts) in topics {
        for p in parts {
            let _ = tpl.add_partition_offset(topic, *p, at);
        }
    }
    let mut out = HashMap::new();
    if tpl.count() == 0 {
        return Ok(out);
    }
    let got = consumer
        .offsets_for_times(tpl, Duration::from_secs(10))
        .map_err(|e| call("reading the topics' offsets", e))?;
    for e in got.elements() {
        if let Err(err) = e.error() {
            return Err(call(
                format!("reading offsets of {}[{}]", e.topic(), e.partition()),
                err,
            ));
        }
        if let Offset::Offset(o) = e.offset() {
            out.insert((e.topic().to_string(), e.partition()), o);
        }
    }
    Ok(out)
}

/// Low and high watermarks of the partitions of several topics, in two
/// requests (ListOffsets for the earliest and the latest of all of them)
/// instead of two per partition. By topic, in the order given.
///
/// `lows` holds low watermarks already known: when it has every partition
/// asked for, only the latest offsets are asked (one request); otherwise it
/// is filled anew. Low watermarks move only when the broker deletes events.
pub fn watermarks_all<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topics: &[(String, Vec<i32>)],
    lows: &mut HashMap<(String, i32), i64>,
) -> Result<BTreeMap<String, Vec<Marks>>, KafkaError> {
    if !knows_all(lows, topics) {
        *lows = list_offsets(consumer, topics, Offset::Beginning)?;
    }
    let high = list_offsets(consumer, topics, Offset::End)?;
    marks_of(consumer, topics, lows, &high)
}

/// Whether `offsets` has every partition of `topics`.
pub fn knows_all(offsets: &HashMap<(String, i32), i64>, topics: &[(String, Vec<i32>)]) -> bool {
    topics
        .iter()
        .all(|(t, parts)| parts.iter().all(|p| offsets.contains_key(&(t.clone(), *p))))
}

/// Each topic's marks from known low and high offsets; a partition missing
/// from either is asked for alone.
pub fn marks_of<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topics: &[(String, Vec<i32>)],
    low: &HashMap<(String, i32), i64>,
    high: &HashMap<(String, i32), i64>,
) -> Result<BTreeMap<String, Vec<Marks>>, KafkaError> {
    let mut out = BTreeMap::new();
    for (topic, parts) in topics {
        let mut marks = Vec::with_capacity(parts.len());
        for p in parts {
            let k = (topic.clone(), *p);
            marks.push(match (low.get(&k), high.get(&k)) {
                (Some(l), Some(h)) => (*p, *l, *h),
                _ => {
                    let (l, h) = watermarks(consumer, topic, *p)?;
                    (*p, l, h)
                }
            });
        }
        out.insert(topic.clone(), marks);
    }
    Ok(out)
}

/// The partitions of each of `topics` the broker has, in one metadata
/// request; a topic it does not have is left out.
pub fn partitions_all<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topics: &[String],
) -> Result<BTreeMap<String, Vec<i32>>, KafkaError> {
    let md = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .map_err(|e| call("reading the topics' metadata", e))?;
    Ok(md
        .topics()
        .iter()
        .filter(|t| t.error().is_none() && !t.partitions().is_empty())
        .filter(|t| topics.iter().any(|n| n == t.name()))
        .map(|t| {
            let mut parts: Vec<i32> = t.partitions().iter().map(|p| p.id()).collect();
            parts.sort_unstable();
            (t.name().to_string(), parts)
        })
        .collect())
}

/// The committed offsets of the consumer's group for some partitions.
pub fn committed<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partitions: &[i32],
) -> Result<HashMap<i32, Option<i64>>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    for p in partitions {
        tpl.add_partition(topic, *p);
    }
    let got = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .map_err(|e| call(format!("reading committed offsets of {topic}"), e))?;
    Ok(partitions
        .iter()
        .map(|p| {
            let o = match got.find_partition(topic, *p).map(|e| e.offset()) {
                Some(Offset::Offset(o)) => Some(o),
                _ => None,
            };
            (*p, o)
        })
        .collect())
}

/// Reads the records of `ranges` (partition, from, to-exclusive), at most
/// `limit`, in partition then offset order. Assigns partitions directly:
/// no group is joined and nothing is committed.
pub fn read_range<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    ranges: &[(i32, i64, i64)],
    limit: Option<u64>,
) -> Result<Vec<OwnedMessage>, KafkaError> {
    let mut tpl = TopicPartitionList::new();
    let mut open: HashMap<i32, i64> = HashMap::new();
    for (p, from, to) in ranges {
        if from < to {
            let _ = tpl.add_partition_offset(topic, *p, Offset::Offset(*from));
            open.insert(*p, *to);
        }
    }
    let mut out = Vec::new();
    if open.is_empty() {
        return Ok(out);
    }
    consumer
        .assign(&tpl)
        .map_err(|e| call(format!("reading {topic}"), e))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while !open.is_empty() && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let p = m.partition();
                if let Some(to) = open.get(&p).copied() {
                    if m.offset() < to {
                        out.push(m.detach());
                    }
                    if m.offset() + 1 >= to {
                        open.remove(&p);
                    }
                }
            }
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                open.remove(&p);
            }
            Some(Err(e)) => return Err(call(format!("reading {topic}"), e)),
            None => {}
        }
    }
    out.sort_by_key(|m| (m.partition(), m.offset()));
    if let Some(n) = limit {
        out.truncate(n as usize);
    }
    Ok(out)
}

/// The partitions of a topic as the broker knows them; an error that says
/// `ftl dev` creates it when the topic does not exist.
pub fn partitions_of<C: ConsumerContext, K: Consumer<C>>(
    consumer: &K,
    topic: &str,
) -> Result<Vec<i32>, KafkaError> {
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| call(format!("reading metadata of {topic}"), e))?;
    let t = md
        .topics()
        .iter()
        .find(|t| t.name() == topic && t.error().is_none());
    match t {
        Some(t) if !t.partitions().is_empty() => {
            Ok(t.partitions().iter().map(|p| p.id()).collect())
        }
        _ => Err(KafkaError::NoTopic {
            topic: topic.to_string(),
        }),
    }
}

/// A record's headers as text (values decoded lossily as UTF-8).
pub fn header_map<H: Headers>(headers: Option<&H>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    if let Some(h) = headers {
        for i in 0..h.count() {
            let x = h.get(i);
            out.insert(
                x.key.to_string(),
                String::from_utf8_lossy(x.value.unwrap_or_default()).into_owned(),
            );
        }
    }
    out
}

/// The records of a topic read through a cursor group (dead letters): from
/// the group's committed position, or from the start with `all`, each with
/// whether the cursor is past it already. Blocking.
pub fn read_behind_cursor(
    connection: &Connection,
    topic: &str,
    cursor_group: &str,
    all: bool,
    limit: Option<u64>,
) -> Result<Vec<(OwnedMessage, bool)>, KafkaError> {
    let reader = connection.reader("deadletters")?;
    let cursor_consumer = connection.group_committer(cursor_group)?;
    let partitions = partitions_of(&reader, topic)?;
    let cursor = committed(&cursor_consumer, topic, &partitions)?;
    let mut ranges = Vec::new();
    let mut cursors = HashMap::new();
    for p in &partitions {
        let (low, high) = watermarks(&reader, topic, *p)?;
        let c = cursor.get(p).copied().flatten().unwrap_or(low).max(low);
        cursors.insert(*p, c);
        ranges.push((*p, if all { low } else { c }, high));
    }
    let msgs = read_range(&reader, topic, &ranges, limit)?;
    close_consumer(reader);
    close_consumer(cursor_consumer);
    Ok(msgs
        .into_iter()
        .map(|m| {
            let behind = m.offset() < cursors.get(&m.partition()).copied().unwrap_or(0);
            (m, behind)
        })
        .collect())
}

/// How many events `topic` holds (the sum over its partitions of high
/// minus low watermark), asked with a reader of its own on a blocking
/// thread; the reader is new, so it has no earlier idea of the topic.
pub async fn events_held(connection: &Connection, topic: &str) -> Result<i64, KafkaError> {
    let action = format!("counting the events of {topic}");
    let (connection, topic) = (connection.clone(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        let reader = connection.reader("count")?;
        let held = partitions_all(&reader, std::slice::from_ref(&topic)).and_then(|parts| {
            let topics: Vec<(String, Vec<i32>)> = parts.into_iter().collect();
            let marks = watermarks_all(&reader, &topics, &mut HashMap::new())?;
            Ok(marks
                .values()
                .flatten()
                .map(|(_, low, high)| (high - low).max(0))
                .sum())
        });
        close_consumer(reader);
        held
    })
    .await
    .map_err(|e| task(action, e))?
}

/// `read_behind_cursor` on a blocking thread.
pub async fn read_behind_cursor_async(
    connection: &Connection,
    topic: &str,
    cursor_group: &str,
    all: bool,
    limit: Option<u64>,
) -> Result<Vec<(OwnedMessage, bool)>, KafkaError> {
    let action = format!("reading {topic}");
    let (connection, topic, group) = (
        connection.clone(),
        topic.to_string(),
        cursor_group.to_string(),
    );
    tokio::task::spawn_blocking(move || read_behind_cursor(&connection, &topic, &group, all, limit))
        .await
        .map_err(|e| task(action, e))?
}
