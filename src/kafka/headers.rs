//! FTL's own Kafka headers, as FTL's runner writes them: every published
//! event carries `ftl.created_at` (RFC 3339 with nanoseconds, UTC) and
//! `ftl.request_key` (the request it belongs to). A request key is the
//! caller's when it sends one (`FTL-Request-ID`), else a new one in FTL's
//! form, `req-<origin>-<what>-<suffix>`: the suffix is 10 random bytes in
//! lowercase base 36, as FTL's keys are, so FTL's own tools parse ours.

use std::time::SystemTime;

use rdkafka::message::{Header, Headers, OwnedHeaders};

/// When the event was published (RFC 3339, nanoseconds, UTC).
pub const CREATED_AT: &str = "ftl.created_at";
/// The request the event belongs to.
pub const REQUEST_KEY: &str = "ftl.request_key";
/// Who published it (`cli`, `http`, `grpc`, a verb `module.verb`, `deadletter`):
/// `ftl`'s own header, shown by `ftl pubsub trace`.
pub const PUBLISHED_BY: &str = "ftl.published_by";
/// `ftl.published_by` of a dead letter.
pub const BY_DEADLETTER: &str = "deadletter";
/// The HTTP header (and, lowercased, the gRPC metadata) a caller sends its
/// request key in, and that verbs receive it in.
pub const REQUEST_ID_HEADER: &str = "FTL-Request-ID";
/// The same for gRPC metadata (lowercase, as HTTP/2 sends it).
pub const REQUEST_ID_METADATA: &str = "ftl-request-id";
/// What exec verbs find the key in.
pub const REQUEST_ID_ENV: &str = "FTL_REQUEST_ID";

/// The longest request key accepted from a caller.
pub const MAX_REQUEST_KEY: usize = 256;

/// Where a request entered, as FTL names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// From outside: the CLI, the Publisher.
    Ingress,
    /// An event first seen by a subscription, published by another client.
    Pubsub,
}

impl Origin {
    fn as_str(self) -> &'static str {
        match self {
            Origin::Ingress => "ingress",
            Origin::Pubsub => "pubsub",
        }
    }
}

/// Lowercase base 36 of a big-endian number, one `0` per leading zero byte
/// (the encoding of FTL's key suffixes).
fn base36(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    let significant = &bytes[zeros..];
    let mut out = Vec::with_capacity(zeros + significant.len() * 2);
    if significant.len() <= 16 {
        // Every key suffix fits in 128 bits: plain division, no long
        // arithmetic (a key is derived for every event delivered without
        // one). A 128-bit division is a library call, so it only splits off
        // 12 digits at a time; the digits themselves come from 64-bit
        // division by a constant (a multiplication).
        const TWELVE_DIGITS: u128 = 36u128.pow(12);
        let mut n = significant
            .iter()
            .fold(0u128, |n, b| (n << 8) | u128::from(*b));
        while n > u128::from(u64::MAX) {
            let mut low = (n % TWELVE_DIGITS) as u64;
            for _ in 0..12 {
                out.push(DIGITS[(low % 36) as usize]);
                low /= 36;
            }
            n /= TWELVE_DIGITS;
        }
        let mut n = n as u64;
        while n > 0 {
            out.push(DIGITS[(n % 36) as usize]);
            n /= 36;
        }
    } else {
        let mut number: Vec<u8> = significant.to_vec();
        while !number.is_empty() {
            let mut rest = Vec::with_capacity(number.len());
            let mut carry: u32 = 0;
            for b in &number {
                let acc = carry * 256 + u32::from(*b);
                let q = acc / 36;
                carry = acc % 36;
                if !(rest.is_empty() && q == 0) {
                    rest.push(q as u8);
                }
            }
            out.push(DIGITS[carry as usize]);
            number = rest;
        }
    }
    out.extend(std::iter::repeat_n(b'0', zeros));
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `what` as FTL keeps it in a key: every run of other characters than
/// ASCII letters and digits becomes one `-`.
fn normalise(what: &str) -> String {
    let mut out = String::with_capacity(what.len());
    for c in what.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn key_from(origin: Origin, what: &str, suffix: &[u8]) -> String {
    let what = normalise(what);
    if what.is_empty() {
        format!("req-{}-{}", origin.as_str(), base36(suffix))
    } else {
        format!("req-{}-{what}-{}", origin.as_str(), base36(suffix))
    }
}

/// A new request key, e.g. `req-ingress-pizza-orders-1n8c0r9v2kq0wxyz3a`.
pub fn new_request_key(origin: Origin, what: &str) -> String {
    let mut suffix = [0u8; 10];
    if getrandom::fill(&mut suffix).is_err() {
        // No system randomness (never seen): the clock still makes it unique
        // enough for one developer's machine.
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        suffix.copy_from_slice(&nanos.to_be_bytes()[6..]);
    }
    key_from(origin, what, &suffix)
}

/// The key of an event that arrived without one (another client published
/// it): derived from where it sits, so every subscription, and a restarted
/// runner, give it the same key.
pub fn key_for_event(topic: &str, partition: i32, offset: i64) -> String {
    // FNV-1a, twice with different seeds: stable across builds, unlike
    // std's hasher.
    let fnv = |seed: u64| {
        let mut h = seed;
        for b in topic
            .as_bytes()
            .iter()
            .chain(&partition.to_be_bytes())
            .chain(&offset.to_be_bytes())
        {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        h
    };
    let (a, b) = (fnv(0xcbf2_9ce4_8422_2325), fnv(0x8422_2325_cbf2_9ce4));
    let mut suffix = [0u8; 10];
    suffix[..8].copy_from_slice(&a.to_be_bytes());
    suffix[8..].copy_from_slice(&b.to_be_bytes()[..2]);
    // A leading zero byte would make the suffix parse to fewer bytes.
    suffix[0] |= 1;
    key_from(Origin::Pubsub, topic, &suffix)
}

/// Why a request key sent by a caller is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadRequestKey {
    #[error("the request key is empty")]
    Empty,
    #[error("the request key is {0} bytes long; at most {MAX_REQUEST_KEY} are kept")]
    TooLong(usize),
    #[error("the request key `{0}` holds a character other than visible ASCII")]
    NotVisible(String),
}

/// A caller's request key, if it can travel as a header everywhere (HTTP,
/// gRPC metadata, an environment variable): visible ASCII, no spaces.
pub fn check_request_key(key: &str) -> Result<(), BadRequestKey> {
    if key.is_empty() {
        return Err(BadRequestKey::Empty);
    }
    if key.len() > MAX_REQUEST_KEY {
        return Err(BadRequestKey::TooLong(key.len()));
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BadRequestKey::NotVisible(key.escape_debug().to_string()));
    }
    Ok(())
}

/// `t` as `ftl.created_at` writes it.
pub fn format_time(t: SystemTime) -> String {
    humantime::format_rfc3339_nanos(t).to_string()
}

/// What FTL's headers say about an event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub request_key: Option<String>,
    pub created_at: Option<String>,
    pub published_by: Option<String>,
}

impl Seen {
    /// When the event was published, if its header says.
    pub fn created(&self) -> Option<SystemTime> {
        self.created_at
            .as_deref()
            .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
    }
}

/// Reads FTL's headers from an event's headers.
pub fn read<H: Headers>(headers: Option<&H>) -> Seen {
    let mut seen = Seen::default();
    let Some(h) = headers else {
        return seen;
    };
    for header in h.iter() {
        let slot = match header.key {
            REQUEST_KEY => &mut seen.request_key,
            CREATED_AT => &mut seen.created_at,
            PUBLISHED_BY => &mut seen.published_by,
            _ => continue,
        };
        *slot = header
            .value
            .and_then(|v| std::str::from_utf8(v).ok())
            .filter(|v| !v.is_empty())
            .map(str::to_string);
    }
    seen
}

/// What a publish stamps on its event: the request, when, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    pub request_key: String,
    pub created_at: SystemTime,
    pub published_by: String,
}

impl Stamp {
    /// A stamp for now: the caller's key, or a new one named after `what`.
    pub fn now(request_key: Option<String>, by: &str, what: &str) -> Stamp {
        Stamp {
            request_key: request_key.unwrap_or_else(|| new_request_key(Origin::Ingress, what)),
            created_at: SystemTime::now(),
            published_by: by.to_string(),
        }
    }

    /// `headers` with FTL's headers set to this stamp (earlier values of
    /// them dropped).
    pub fn apply<H: Headers>(&self, headers: Option<&H>) -> OwnedHeaders {
        let mut out = OwnedHeaders::new();
        if let Some(h) = headers {
            for header in h.iter() {
                if ![REQUEST_KEY, CREATED_AT, PUBLISHED_BY].contains(&header.key) {
                    out = out.insert(header);
                }
            }
        }
        let created = format_time(self.created_at);
        for (key, value) in [
            (CREATED_AT, created.as_str()),
            (REQUEST_KEY, self.request_key.as_str()),
            (PUBLISHED_BY, self.published_by.as_str()),
        ] {
            out = out.insert(Header {
                key,
                value: Some(value.as_bytes()),
            });
        }
        out
    }

    /// FTL's headers alone.
    pub fn headers(&self) -> OwnedHeaders {
        self.apply::<OwnedHeaders>(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_keys_have_ftls_form_and_differ() {
        let a = new_request_key(Origin::Ingress, "pizza.orders");
        let b = new_request_key(Origin::Ingress, "pizza.orders");
        assert_ne!(a, b);
        assert!(a.starts_with("req-ingress-pizza-orders-"), "{a}");
        let suffix = a.rsplit('-').next().unwrap();
        assert!(suffix.len() >= 14 && suffix.len() <= 16, "{suffix}");
        assert!(suffix
            .bytes()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        assert!(check_request_key(&a).is_ok());
    }

    #[test]
    fn base36_matches_the_number_it_encodes() {
        assert_eq!(base36(&[0x01, 0x00]), "74");
        assert_eq!(base36(&[0x00, 0x23]), "0z");
        assert_eq!(base36(&[0xff; 10]), "5gv2rma270x9hhj3");
        assert_eq!(base36(&[0x00]), "0");
        // 128 bits (the last that divides natively), and past them.
        assert_eq!(base36(&[0xff; 16]), "f5lxx1zz5pnorynqglhzmsp33");
        assert_eq!(base36(&[0xff; 17]), "2zrw1727u0mgg6ugs60vxe42e4f");
        // Split into 12-digit chunks: a chunk of zeros in the middle stays.
        let n = 36u128.pow(20) + 5;
        let bytes = n.to_be_bytes();
        let first = bytes.iter().position(|b| *b != 0).unwrap();
        assert_eq!(base36(&bytes[first..]), format!("1{}5", "0".repeat(19)));
    }

    #[test]
    fn a_headerless_event_gets_the_same_key_every_time() {
        let k = key_for_event("pizza.orders", 1, 7);
        assert_eq!(k, key_for_event("pizza.orders", 1, 7));
        assert_ne!(k, key_for_event("pizza.orders", 1, 8));
        assert!(k.starts_with("req-pubsub-pizza-orders-"), "{k}");
    }

    #[test]
    fn caller_keys_must_travel_as_headers() {
        assert!(check_request_key("req-ingress-x-abc").is_ok());
        assert_eq!(check_request_key(""), Err(BadRequestKey::Empty));
        assert!(matches!(
            check_request_key("a b"),
            Err(BadRequestKey::NotVisible(_))
        ));
        assert!(matches!(
            check_request_key("é"),
            Err(BadRequestKey::NotVisible(_))
        ));
        assert_eq!(
            check_request_key(&"x".repeat(300)),
            Err(BadRequestKey::TooLong(300))
        );
    }

    #[test]
    fn a_stamp_replaces_ftls_headers_and_keeps_the_others() {
        let old = OwnedHeaders::new()
            .insert(Header {
                key: "trace",
                value: Some("1"),
            })
            .insert(Header {
                key: REQUEST_KEY,
                value: Some("old"),
            });
        let stamp = Stamp {
            request_key: "req-ingress-k".into(),
            created_at: SystemTime::UNIX_EPOCH + std::time::Duration::new(5, 7),
            published_by: "cli".into(),
        };
        let h = stamp.apply(Some(&old));
        let seen = read(Some(&h));
        assert_eq!(seen.request_key.as_deref(), Some("req-ingress-k"));
        assert_eq!(
            seen.created_at.as_deref(),
            Some("1970-01-01T00:00:05.000000007Z")
        );
        assert_eq!(seen.published_by.as_deref(), Some("cli"));
        assert_eq!(seen.created(), Some(stamp.created_at));
        assert_eq!(h.count(), 4);
    }
}
