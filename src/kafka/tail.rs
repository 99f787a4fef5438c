//! Reading a topic as `ftl pubsub tail` does: from a position, on some or
//! all partitions, following or stopping at the end. No group is joined and
//! nothing is committed. Every call blocks: use it on a blocking thread.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::Duration;

use rdkafka::consumer::Consumer;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde::Serialize;

use super::read::{header_map, list_offsets, partitions_of, watermarks};
use super::time_lookup::offsets_at_time;
use super::{call, Connection, KafkaError};

/// Where reading starts in each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailFrom {
    Beginning,
    Latest,
    Offset(i64),
    /// The last N events of each partition.
    Last(i64),
    /// Milliseconds since the epoch.
    Time(i64),
}

impl TailFrom {
    /// `beginning`, `latest`, an offset, `-N` (the last N), or a time (RFC
    /// 3339, or `-10m` before `now`).
    pub fn parse(text: &str, now: std::time::SystemTime) -> Result<TailFrom, String> {
        Ok(match text {
            "beginning" => TailFrom::Beginning,
            "latest" => TailFrom::Latest,
            t => match t.parse::<i64>() {
                Ok(n) if n >= 0 => TailFrom::Offset(n),
                Ok(n) => TailFrom::Last(
                    n.checked_neg()
                        .ok_or_else(|| format!("`{t}` is out of range"))?,
                ),
                Err(_) => TailFrom::Time(crate::units::epoch_millis(crate::units::parse_time(
                    t, now,
                )?)),
            },
        })
    }
}

/// What a tail says when it starts past the end of every partition.
pub fn past_end(from: i64, ends: &BTreeMap<i32, i64>) -> String {
    let ends: Vec<String> = ends
        .iter()
        .map(|(p, end)| format!("partition {p} ends at {end}"))
        .collect();
    format!("offset {from} is past the end: {}", ends.join(", "))
}

/// One record as read, with our own types.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the epoch, if the broker gave one.
    pub timestamp: Option<i64>,
    pub key: Option<String>,
    pub headers: BTreeMap<String, String>,
    #[serde(skip)]
    pub payload: Vec<u8>,
}

pub enum Next {
    Record(Record),
    /// Every selected partition is at its end (`follow` off: stop here).
    AtEnd,
    /// Nothing arrived within the poll interval.
    Idle,
    /// The offset asked for is past the end of every selected partition:
    /// their ends (the offset the next event will get), by partition.
    PastEnd {
        from: i64,
        ends: BTreeMap<i32, i64>,
    },
}

pub struct Tail {
    reader: Option<super::Reader>,
    topic: String,
    selected: Vec<i32>,
    at_end: HashSet<i32>,
    /// Partitions read from before the offset asked for, because the
    /// broker's high watermark says it is past their end (a test broker
    /// answers a watermark that can be short of the true end): records
    /// before the offset are skipped, and the end, when reached, is known
    /// for certain. Without this a fetch past the end waits forever.
    wanted: BTreeMap<i32, Wanted>,
}

/// A partition being read up to the offset asked for.
struct Wanted {
    from: i64,
    /// The offset after the last record read.
    next: i64,
    /// Its end was reached before `from`.
    beyond: bool,
}

/// Why a tail cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("topic `{topic}` has no partition {partition}")]
    NoPartition {
        topic: String,
        partition: i32,
        count: usize,
    },
    #[error(transparent)]
    Kafka(#[from] KafkaError),
}

impl Tail {
    pub fn open(
        conn: &Connection,
        topic: &str,
        from: TailFrom,
        only: &[i32],
    ) -> Result<Tail, TailError> {
        let reader = conn.reader("tail")?;
        let all = partitions_of(&reader, topic)?;
        let selected: Vec<i32> = if only.is_empty() {
            all.clone()
        } else {
            only.to_vec()
        };
        if let Some(bad) = selected.iter().find(|p| !all.contains(p)) {
            return Err(TailError::NoPartition {
                topic: topic.to_string(),
                partition: *bad,
                count: all.len(),
            });
        }
        let mut wanted = BTreeMap::new();
        let starts: BTreeMap<i32, Offset> = match from {
            TailFrom::Time(ms) => {
                let mut marks = Vec::new();
                for p in &selected {
                    let (low, high) = watermarks(&reader, topic, *p)?;
                    marks.push((*p, low, high));
                }
                // Checked against the records' timestamps: some brokers
                // answer wrongly (the test broker: offset 0 for any time).
                offsets_at_time(&reader, topic, &marks, ms)?
                    .into_iter()
                    .map(|(p, o)| (p, Offset::Offset(o)))
                    .collect()
            }
            // Each partition's first offset, asked for all at once: handed
            // `Offset::Beginning`, librdkafka looks each partition up on its
            // own before fetching (~0.2 s more for 8 partitions on the test
            // broker).
            TailFrom::Beginning => {
                let asked = [(topic.to_string(), selected.clone())];
                let firsts = list_offsets(&reader, &asked, Offset::Beginning)?;
                selected
                    .iter()
                    .map(|p| {
                        let o = firsts
                            .get(&(topic.to_string(), *p))
                            .map_or(Offset::Beginning, |o| Offset::Offset(*o));
                        (*p, o)
                    })
                    .collect()
            }
            TailFrom::Offset(n) => {
                let mut starts = BTreeMap::new();
                for p in &selected {
                    let high = watermarks(&reader, topic, *p)?.1;
                    if n > high {
                        wanted.insert(
                            *p,
                            Wanted {
                                from: n,
                                next: high,
                                beyond: false,
                            },
                        );
                        starts.insert(*p, Offset::Offset(high));
                    } else {
                        starts.insert(*p, Offset::Offset(n));
                    }
                }
                starts
            }
            other => selected
                .iter()
                .map(|p| {
                    let o = match other {
                        TailFrom::Beginning => Offset::Beginning,
                        TailFrom::Latest | TailFrom::Time(_) => Offset::End,
                        TailFrom::Offset(n) => Offset::Offset(n),
                        TailFrom::Last(n) => Offset::OffsetTail(n),
                    };
                    (*p, o)
                })
                .collect(),
        };
        let mut tpl = TopicPartitionList::new();
        for (p, o) in &starts {
            let _ = tpl.add_partition_offset(topic, *p, *o);
        }
        reader
            .assign(&tpl)
            .map_err(|e| call(format!("reading {topic}"), e))?;
        Ok(Tail {
            reader: Some(reader),
            topic: topic.to_string(),
            selected,
            at_end: HashSet::new(),
            wanted,
        })
    }

    /// The next record, or why there is none now.
    pub fn next(&mut self, wait: Duration) -> Next {
        match self.poll(wait) {
            Polled::Record(r) => {
                self.at_end.remove(&r.partition);
                Next::Record(r)
            }
            Polled::End(p) => {
                self.at_end.insert(p);
                if self.selected.iter().all(|p| self.at_end.contains(p)) {
                    Next::AtEnd
                } else {
                    Next::Idle
                }
            }
            Polled::Idle => Next::Idle,
            Polled::PastEnd { from, ends } => Next::PastEnd { from, ends },
        }
    }

    /// Every selected partition to its end, merged into one sequence in
    /// timestamp order (then partition, offset), as `--no-follow` shows it.
    pub fn merged(self) -> MergedTail {
        MergedTail {
            tail: self,
            heads: BTreeMap::new(),
            ended: HashSet::new(),
        }
    }

    fn poll(&mut self, wait: Duration) -> Polled {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let polled =
                self.poll_once(deadline.saturating_duration_since(std::time::Instant::now()));
            let polled = match polled {
                Polled::Record(r) => match self.wanted.get_mut(&r.partition) {
                    Some(w) if r.offset < w.from => {
                        w.next = r.offset + 1;
                        if std::time::Instant::now() < deadline {
                            continue;
                        }
                        Polled::Idle
                    }
                    Some(_) => {
                        self.wanted.remove(&r.partition);
                        Polled::Record(r)
                    }
                    None => Polled::Record(r),
                },
                Polled::End(p) => {
                    let beyond = match self.wanted.get_mut(&p) {
                        Some(w) if w.next < w.from => {
                            w.beyond = true;
                            true
                        }
                        Some(_) => {
                            self.wanted.remove(&p);
                            false
                        }
                        None => false,
                    };
                    let all = beyond
                        && self
                            .selected
                            .iter()
                            .all(|p| self.wanted.get(p).is_some_and(|w| w.beyond));
                    if all {
                        Polled::PastEnd {
                            from: self.wanted.values().map(|w| w.from).max().unwrap_or(0),
                            ends: self.wanted.iter().map(|(p, w)| (*p, w.next)).collect(),
                        }
                    } else {
                        Polled::End(p)
                    }
                }
                other => other,
            };
            return polled;
        }
    }

    fn poll_once(&mut self, wait: Duration) -> Polled {
        let Some(reader) = &self.reader else {
            return Polled::Idle;
        };
        match reader.poll(wait) {
            Some(Ok(m)) => Polled::Record(Record {
                topic: m.topic().to_string(),
                partition: m.partition(),
                offset: m.offset(),
                timestamp: m.timestamp().to_millis(),
                key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
                headers: header_map(m.headers()),
                payload: m.payload().unwrap_or_default().to_vec(),
            }),
            Some(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => Polled::End(p),
            Some(Err(e)) => {
                tracing::debug!("tail {}: {e}", self.topic);
                Polled::Idle
            }
            None => Polled::Idle,
        }
    }
}

enum Polled {
    Record(Record),
    /// The partition is at its end (for now).
    End(i32),
    Idle,
    PastEnd {
        from: i64,
        ends: BTreeMap<i32, i64>,
    },
}

/// A tail that stops at the end, in timestamp order across partitions: a
/// record goes out once every partition not yet at its end has one waiting,
/// so nothing older can still arrive.
pub struct MergedTail {
    tail: Tail,
    heads: BTreeMap<i32, VecDeque<Record>>,
    ended: HashSet<i32>,
}

impl MergedTail {
    pub fn next(&mut self, wait: Duration) -> Next {
        loop {
            let ready = self.tail.selected.iter().all(|p| {
                self.ended.contains(p) || self.heads.get(p).is_some_and(|q| !q.is_empty())
            });
            if ready {
                let first = self
                    .heads
                    .iter()
                    .filter_map(|(p, q)| {
                        q.front().map(|r| (r.timestamp.unwrap_or(0), *p, r.offset))
                    })
                    .min();
                return match first.and_then(|(_, p, _)| self.heads.get_mut(&p)?.pop_front()) {
                    Some(r) => Next::Record(r),
                    None => Next::AtEnd,
                };
            }
            match self.tail.poll(wait) {
                Polled::Record(r) => {
                    self.ended.remove(&r.partition);
                    self.heads.entry(r.partition).or_default().push_back(r);
                }
                Polled::End(p) => {
                    self.ended.insert(p);
                }
                Polled::Idle => return Next::Idle,
                Polled::PastEnd { from, ends } => return Next::PastEnd { from, ends },
            }
        }
    }
}

impl Drop for Tail {
    fn drop(&mut self) {
        // No group was joined and nothing is committed, so nobody needs to
        // wait for the close: it takes ~100 ms in librdkafka, most of a
        // short `tail --no-follow`, and the command exits meanwhile.
        if let Some(r) = self.reader.take() {
            std::thread::spawn(move || drop(r));
        }
    }
}
