//! Every method the Publisher serves over gRPC is unary: a call carries
//! exactly one message. tonic reads the first and ignores the rest, so a
//! call with two answered OK having published one; here the request body is
//! read (within the size limit) and its frames counted first.

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The gRPC frame header: a compressed flag and a big-endian length.
const FRAME_HEADER: usize = 5;

/// How many whole frames `body` holds, or `None` when it does not end on a
/// frame boundary.
pub fn frames(body: &[u8]) -> Option<usize> {
    let mut at = 0;
    let mut n = 0;
    while at < body.len() {
        let header = body.get(at..at + FRAME_HEADER)?;
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        at = at.checked_add(FRAME_HEADER + len)?;
        if at > body.len() {
            return None;
        }
        n += 1;
    }
    Some(n)
}

/// Refuses a unary call that does not carry exactly one message.
pub async fn one_message(limit: usize, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return tonic::Status::resource_exhausted(format!(
                "the request is larger than {limit} bytes"
            ))
            .into_http::<Body>()
            .into_response()
        }
    };
    match frames(&bytes) {
        Some(1) => {
            if let Some(refused) = refused_key(parts.uri.path(), &bytes) {
                return refused.into_http::<Body>().into_response();
            }
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Some(n) => tonic::Status::invalid_argument(format!(
            "{} is a unary call: it carries one message, this one had {n}",
            parts.uri.path()
        ))
        .into_http::<Body>()
        .into_response(),
        None => tonic::Status::invalid_argument("the request ends inside a gRPC message")
            .into_http::<Body>()
            .into_response(),
    }
}

/// `PublishEventRequest.key` as bytes: the same field on the wire as the
/// `string` the generated type has, whose decoder fails a key that is not
/// UTF-8 with INTERNAL, as if the runner were at fault.
#[derive(Clone, PartialEq, prost::Message)]
struct EventKey {
    #[prost(bytes = "vec", tag = "3")]
    key: Vec<u8>,
}

/// INVALID_ARGUMENT for a `PublishEvent` whose key is not UTF-8, as
/// `ftl.v1.Publisher/Publish` answers it.
fn refused_key(path: &str, frame: &[u8]) -> Option<tonic::Status> {
    use crate::ftl_proto::pubsub::v1::publish_service_server::SERVICE_NAME;
    let method = path.strip_prefix('/')?.strip_prefix(SERVICE_NAME)?;
    // Compressed messages are left to tonic (the Publisher enables none).
    if method != "/PublishEvent" || frame.first() != Some(&0) {
        return None;
    }
    let m = <EventKey as prost::Message>::decode(frame.get(FRAME_HEADER..)?).ok()?;
    match String::from_utf8(m.key) {
        Ok(_) => None,
        Err(_) => Some(tonic::Status::invalid_argument(
            "PublishEventRequest.key is not UTF-8 text; keys are stored as text",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_counted_and_a_cut_frame_is_not_whole() {
        let one = [0u8, 0, 0, 0, 2, 8, 1];
        assert_eq!(frames(&one), Some(1));
        assert_eq!(frames(&[one, one].concat()), Some(2));
        assert_eq!(frames(&[]), Some(0));
        assert_eq!(frames(&one[..6]), None);
        assert_eq!(frames(&[0, 255, 255, 255, 255]), None);
    }

    #[test]
    fn a_publish_event_key_that_is_not_utf8_is_refused() {
        let path = "/xyz.block.ftl.pubsub.v1.PublishService/PublishEvent";
        let frame = |key: &[u8]| {
            let mut m = vec![0x1a, key.len() as u8];
            m.extend_from_slice(key);
            [vec![0, 0, 0, 0, m.len() as u8], m].concat()
        };
        let refused = refused_key(path, &frame(&[0xff, 0xfe])).expect("refused");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused_key(path, &frame("é".as_bytes())).is_none());
        assert!(refused_key("/ftl.v1.Publisher/Publish", &frame(&[0xff])).is_none());
    }
}
