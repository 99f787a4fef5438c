//! `grpc` verbs: FTL's `VerbService.Call` on a module server, as FTL's own
//! runner calls it, so a module built with FTL's SDKs plugs into `ftl dev`.
//! One HTTP/2 connection per address, shared by every partition; before the
//! first delivery, `Ping` until the server says it is ready.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tonic::transport::Channel;

use super::{Invocation, Output, VerbFailure};
use crate::ftl_proto::v1::verb_service_client::VerbServiceClient;
use crate::ftl_proto::v1::{call_response, CallRequest, Metadata, PingRequest, Ref};
use crate::schema::Verb;

/// How often a server that is not ready yet is asked again.
const PING_EVERY: Duration = Duration::from_millis(500);

fn channels() -> &'static Mutex<HashMap<String, Channel>> {
    static CHANNELS: OnceLock<Mutex<HashMap<String, Channel>>> = OnceLock::new();
    CHANNELS.get_or_init(Default::default)
}

/// Addresses that answered `Ping` as ready once.
fn ready() -> &'static Mutex<HashSet<String>> {
    static READY: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    READY.get_or_init(Default::default)
}

/// The one connection to `addr` (made lazily; it reconnects by itself).
fn channel(addr: &str) -> Result<Channel, VerbFailure> {
    let mut all = channels().lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = all.get(addr) {
        return Ok(c.clone());
    }
    let endpoint = Channel::from_shared(addr.to_string()).map_err(|e| VerbFailure {
        message: format!("`{addr}` is not a gRPC address: {e}"),
        permanent: true,
        stack: None,
    })?;
    let c = endpoint
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .connect_lazy();
    all.insert(addr.to_string(), c.clone());
    Ok(c)
}

/// Why the module server at `addr` cannot take calls now; `None`: ready.
pub async fn not_ready(addr: &str) -> Option<String> {
    if ready()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(addr)
    {
        return None;
    }
    let channel = match channel(addr) {
        Ok(c) => c,
        Err(f) => return Some(f.message),
    };
    let mut client = VerbServiceClient::new(channel);
    let mut request = tonic::Request::new(PingRequest {});
    request.set_timeout(Duration::from_secs(2));
    match client.ping(request).await {
        Ok(r) => match r.into_inner().not_ready {
            Some(why) if !why.is_empty() => Some(format!("it says it is not ready: {why}")),
            _ => {
                ready()
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(addr.to_string());
                None
            }
        },
        Err(status) => Some(format!(
            "it does not answer Ping ({:?}: {})",
            status.code(),
            status.message()
        )),
    }
}

/// Waits until the module server at `addr` answers `Ping` as ready, calling
/// `waiting` once with the reason if it is not at first. Returns false if
/// `stop` fired first.
pub async fn wait_ready(
    addr: &str,
    stop: &tokio_util::sync::CancellationToken,
    mut waiting: impl FnMut(&str),
) -> bool {
    let mut said = false;
    loop {
        match not_ready(addr).await {
            None => return true,
            Some(why) => {
                if !said {
                    waiting(&why);
                    said = true;
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return false,
            _ = tokio::time::sleep(PING_EVERY) => {}
        }
    }
}

/// gRPC status codes that say the event can never succeed (like HTTP 4xx):
/// dead-lettered after one attempt.
fn permanent(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::InvalidArgument
            | tonic::Code::NotFound
            | tonic::Code::Unimplemented
            | tonic::Code::FailedPrecondition
    )
}

pub async fn call(addr: &str, verb: &Verb, d: &Invocation<'_>) -> Result<Output, VerbFailure> {
    use super::fact;
    let mut client = VerbServiceClient::new(channel(addr)?);
    let (key, encoding) = super::key_for_verb(d.key);
    let mut facts = vec![
        (fact::TOPIC, d.topic.to_string()),
        (fact::SUBSCRIPTION, d.subscription.to_string()),
        (fact::PARTITION, d.partition.to_string()),
        (fact::OFFSET, d.offset.to_string()),
        (fact::KEY, key),
        (fact::ATTEMPT, d.attempt.to_string()),
        // As FTL's runner sends it: a verb that publishes with it continues
        // the request.
        (fact::REQUEST_ID, d.request_key.to_string()),
    ];
    if let Some(e) = encoding {
        facts.push((fact::KEY_ENCODING, e.to_string()));
    }
    let body = CallRequest {
        metadata: Some(Metadata {
            values: facts
                .iter()
                .map(|(k, v)| crate::ftl_proto::v1::metadata::Pair {
                    key: k.to_string(),
                    value: v.clone(),
                })
                .collect(),
        }),
        verb: Some(Ref {
            name: verb.name.clone(),
            module: verb.module.clone(),
        }),
        body: d.body.to_vec(),
    };
    let mut request = tonic::Request::new(body);
    request.set_timeout(verb.timeout);
    for (k, v) in &facts {
        if let Ok(value) = v.parse() {
            request.metadata_mut().insert(*k, value);
        }
    }
    let answer = tokio::time::timeout(verb.timeout, client.call(request)).await;
    let response = match answer {
        Err(_) => {
            return Err(VerbFailure {
                message: format!(
                    "{}.{} at {addr} timed out after {}",
                    verb.module,
                    verb.name,
                    crate::units::format_duration(verb.timeout)
                ),
                permanent: false,
                stack: None,
            })
        }
        Ok(Err(status)) => {
            return Err(VerbFailure {
                message: format!("gRPC {:?}: {}", status.code(), status.message()),
                permanent: permanent(status.code()),
                stack: None,
            })
        }
        Ok(Ok(r)) => r.into_inner(),
    };
    match response.response {
        Some(call_response::Response::Error(e)) => Err(VerbFailure {
            message: e.message,
            permanent: false,
            stack: e.stack.filter(|s| !s.is_empty()),
        }),
        Some(call_response::Response::Body(b)) => {
            let text = String::from_utf8_lossy(&b[..b.len().min(64 * 1024)])
                .trim_end()
                .to_string();
            Ok((!text.is_empty()).then_some(text))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_that_can_never_succeed_are_final() {
        for code in [
            tonic::Code::InvalidArgument,
            tonic::Code::NotFound,
            tonic::Code::Unimplemented,
            tonic::Code::FailedPrecondition,
        ] {
            assert!(permanent(code), "{code:?}");
        }
        for code in [
            tonic::Code::Unavailable,
            tonic::Code::DeadlineExceeded,
            tonic::Code::ResourceExhausted,
            tonic::Code::Internal,
        ] {
            assert!(!permanent(code), "{code:?}");
        }
    }
}
