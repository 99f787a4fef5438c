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
        Some(1) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
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
}
