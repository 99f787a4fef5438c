//! An event a subscription fetched, taken out of librdkafka's buffer once:
//! its payload and key in shared buffers (`Bytes`), so the verb's request,
//! every retry and a dead letter use them without another copy, and its
//! topic's name shared by every event of the subscription.

use std::sync::Arc;

use bytes::Bytes;
use rdkafka::message::{BorrowedMessage, Message, OwnedHeaders};

/// One fetched event, owned (it outlives librdkafka's buffer).
#[derive(Debug, Clone)]
pub struct Fetched {
    topic: Arc<str>,
    partition: i32,
    offset: i64,
    timestamp_ms: Option<i64>,
    key: Option<Bytes>,
    payload: Bytes,
    headers: Option<OwnedHeaders>,
}

impl Fetched {
    /// Copies `m` out of librdkafka's buffer; `topic` is its topic's name,
    /// shared (the caller knows it: a subscription reads one topic).
    pub fn take(m: &BorrowedMessage<'_>, topic: &Arc<str>) -> Fetched {
        let topic = if &**topic == m.topic() {
            topic.clone()
        } else {
            Arc::from(m.topic())
        };
        Fetched {
            topic,
            partition: m.partition(),
            offset: m.offset(),
            timestamp_ms: m.timestamp().to_millis(),
            key: m.key().map(Bytes::copy_from_slice),
            payload: Bytes::copy_from_slice(m.payload().unwrap_or_default()),
            headers: m.headers().map(|h| h.detach()),
        }
    }

    /// An event made here, for tests.
    #[cfg(test)]
    fn new(
        topic: &str,
        partition: i32,
        offset: i64,
        key: Option<&[u8]>,
        payload: &[u8],
        headers: Option<OwnedHeaders>,
    ) -> Fetched {
        Fetched {
            topic: Arc::from(topic),
            partition,
            offset,
            timestamp_ms: None,
            key: key.map(Bytes::copy_from_slice),
            payload: Bytes::copy_from_slice(payload),
            headers,
        }
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn partition(&self) -> i32 {
        self.partition
    }

    pub fn offset(&self) -> i64 {
        self.offset
    }

    /// When the broker or its producer stamped it, milliseconds since the
    /// epoch, when it says.
    pub fn timestamp_ms(&self) -> Option<i64> {
        self.timestamp_ms
    }

    pub fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }

    /// The payload (empty when it has none), shared: cloning it copies no
    /// byte.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    pub fn headers(&self) -> Option<&OwnedHeaders> {
        self.headers.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::{Header, Headers};

    #[test]
    fn an_event_made_here_reads_back_as_given() {
        let h = OwnedHeaders::new().insert(Header {
            key: "ftl.request_key",
            value: Some("req-1"),
        });
        let f = Fetched::new("m.t", 3, 41, Some(b"k"), b"{}", Some(h));
        assert_eq!(
            (f.topic(), f.partition(), f.offset(), f.key()),
            ("m.t", 3, 41, Some(&b"k"[..]))
        );
        assert_eq!(&f.payload()[..], b"{}");
        assert_eq!(f.timestamp_ms(), None);
        let headers = f.headers().map(|h| h.get(0).key);
        assert_eq!(headers, Some("ftl.request_key"));
        // A clone shares the payload's buffer.
        let c = f.clone();
        assert_eq!(c.payload().as_ptr(), f.payload().as_ptr());
    }
}
