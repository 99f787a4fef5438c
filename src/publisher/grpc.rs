//! The Publisher over gRPC: `ftl.v1.Publisher` (the seed's) and FTL's own
//! `PublishService`, both onto the one publish path.

use super::{proto, PublishError, Publisher};

#[tonic::async_trait]
impl proto::publisher_server::Publisher for Publisher {
    async fn publish(
        &self,
        request: tonic::Request<proto::PublishRequest>,
    ) -> Result<tonic::Response<proto::PublishResponse>, tonic::Status> {
        let request_key = request_key(request.metadata())?;
        let req = request.into_inner();
        let Some(topic) = req.topic else {
            return Err(tonic::Status::invalid_argument(
                "PublishRequest.topic is required",
            ));
        };
        let text = |field: &str, bytes: Vec<u8>| {
            String::from_utf8(bytes)
                .map_err(|_| tonic::Status::invalid_argument(format!("{field} is not UTF-8 text")))
        };
        let name = format!(
            "{}.{}",
            text("PublishRequest.topic.module", topic.module)?,
            text("PublishRequest.topic.name", topic.name)?
        );
        let key = text("PublishRequest.key", req.key)?;
        match self
            .publish_named(&name, &req.body, Some(&key), request_key, super::BY_GRPC)
            .await
        {
            Ok(p) => Ok(tonic::Response::new(proto::PublishResponse {
                partition: p.partition,
                offset: p.offset,
            })),
            Err(e) => Err(grpc_status(&e)),
        }
    }
}

/// The caller's request key from the call's metadata (`ftl-request-id`),
/// refused with INVALID_ARGUMENT if it cannot travel on as a header.
fn request_key(metadata: &tonic::metadata::MetadataMap) -> Result<Option<String>, tonic::Status> {
    use crate::kafka::headers::{check_request_key, REQUEST_ID_METADATA};
    let Some(value) = metadata.get(REQUEST_ID_METADATA) else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| {
        tonic::Status::invalid_argument(format!("{REQUEST_ID_METADATA} is not visible ASCII text"))
    })?;
    check_request_key(key).map_err(|e| {
        tonic::Status::invalid_argument(format!(
            "{REQUEST_ID_METADATA}: {e} (hint: {})",
            super::REQUEST_KEY_HINT
        ))
    })?;
    Ok(Some(key.to_string()))
}

/// A publish error as a gRPC status: unknown topic NOT_FOUND, the broker
/// UNAVAILABLE, bad input INVALID_ARGUMENT; the message carries the hint.
fn grpc_status(e: &PublishError) -> tonic::Status {
    let msg = match e.hint() {
        Some(h) => format!("{} (hint: {h})", crate::text::one_line(e)),
        None => crate::text::one_line(e),
    };
    match e {
        PublishError::UnknownTopic { .. } => tonic::Status::not_found(msg),
        PublishError::Broker { .. } | PublishError::Unavailable { .. } => {
            tonic::Status::unavailable(msg)
        }
        _ => tonic::Status::invalid_argument(msg),
    }
}

/// FTL's own `PublishService`: modules built with FTL's SDKs publish here
/// unchanged, with the same validation and partitioning as every path.
#[tonic::async_trait]
impl crate::ftl_proto::pubsub::v1::publish_service_server::PublishService for Publisher {
    async fn ping(
        &self,
        _: tonic::Request<crate::ftl_proto::v1::PingRequest>,
    ) -> Result<tonic::Response<crate::ftl_proto::v1::PingResponse>, tonic::Status> {
        Ok(tonic::Response::new(crate::ftl_proto::v1::PingResponse {
            not_ready: None,
        }))
    }

    async fn publish_event(
        &self,
        request: tonic::Request<crate::ftl_proto::pubsub::v1::PublishEventRequest>,
    ) -> Result<tonic::Response<crate::ftl_proto::pubsub::v1::PublishEventResponse>, tonic::Status>
    {
        let request_key = request_key(request.metadata())?;
        let req = request.into_inner();
        let Some(topic) = req.topic else {
            return Err(tonic::Status::invalid_argument(
                "PublishEventRequest.topic is required",
            ));
        };
        let name = format!("{}.{}", topic.module, topic.name);
        // FTL's SDKs name the publishing verb in `caller`.
        let by = if req.caller.is_empty() {
            super::BY_GRPC.to_string()
        } else {
            req.caller.clone()
        };
        match self
            .publish_named(&name, &req.body, Some(&req.key), request_key, &by)
            .await
        {
            Ok(p) => {
                tracing::debug!(
                    "{} published {}@{} for {}",
                    p.topic,
                    p.partition,
                    p.offset,
                    if req.caller.is_empty() {
                        "an unnamed caller"
                    } else {
                        &req.caller
                    }
                );
                Ok(tonic::Response::new(
                    crate::ftl_proto::pubsub::v1::PublishEventResponse {},
                ))
            }
            Err(e) => Err(grpc_status(&e)),
        }
    }
}
