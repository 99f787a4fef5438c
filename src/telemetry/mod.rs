//! OpenTelemetry out: when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` / `..._TRACES_ENDPOINT`) is set,
//! `ftl dev` exports FTL's pubsub metrics and a span per publish and per
//! delivery attempt over OTLP (http/protobuf) to the user's collector. The
//! exporter reads the runner's typed events like any other consumer; with
//! nothing set, nothing is started.
//!
//! The OpenTelemetry crates stay behind this module. Their HTTP requests go
//! through the runner's async reqwest client on the tokio runtime (the
//! metric reader exports from a thread of its own: the request is spawned
//! onto the runtime and awaited from there).

mod signals;

use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::Resource;

use crate::hub::Hub;

const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
const METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
const PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
const METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
const TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

/// The service name when `OTEL_SERVICE_NAME` is not set.
pub const DEFAULT_SERVICE: &str = "ftl-dev";

/// What the environment asks for (read once, at start).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    pub metrics: bool,
    pub traces: bool,
    pub service: String,
    /// Why a signal is not exported although an endpoint is set.
    pub refused: Vec<String>,
}

impl Config {
    /// From variables as `get` gives them (the process environment in use).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Config {
        let set = |name: &str| get(name).is_some_and(|v| !v.trim().is_empty());
        let any = set(ENDPOINT);
        let mut c = Config {
            metrics: any || set(METRICS_ENDPOINT),
            traces: any || set(TRACES_ENDPOINT),
            service: get(SERVICE_NAME)
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_SERVICE.to_string()),
            refused: Vec::new(),
        };
        for (on, signal, var) in [
            (&mut c.metrics, "metrics", METRICS_PROTOCOL),
            (&mut c.traces, "traces", TRACES_PROTOCOL),
        ] {
            let protocol = get(var).or_else(|| get(PROTOCOL));
            match protocol.as_deref().map(str::trim) {
                None | Some("") | Some("http/protobuf") => {}
                Some(other) if *on => {
                    *on = false;
                    c.refused.push(format!(
                        "{signal} are not exported: `{other}` is not a protocol ftl speaks (set {var} or {PROTOCOL} to http/protobuf, the collector's port 4318)"
                    ));
                }
                Some(_) => {}
            }
        }
        c
    }
}

/// The exporters `ftl dev` runs; [`Telemetry::shutdown`] sends what is left.
pub struct Telemetry {
    meters: Option<SdkMeterProvider>,
    spans: Option<signals::SpanSender>,
    task: tokio::task::JoinHandle<()>,
}

/// The request key's way through OTLP: an HTTP client that runs each
/// request on the runtime it was made on.
#[derive(Debug, Clone)]
struct RuntimeClient {
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[tonic::async_trait]
impl HttpClient for RuntimeClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let http = self.http.clone();
        let call = async move {
            let (parts, body) = request.into_parts();
            let mut builder = http
                .request(parts.method, parts.uri.to_string())
                .timeout(Duration::from_secs(10))
                .body(body);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let answer = builder.send().await?;
            let mut out = Response::builder().status(answer.status().as_u16());
            for (name, value) in answer.headers() {
                out = out.header(name.as_str(), value.as_bytes());
            }
            let body = answer.bytes().await?;
            Ok::<_, HttpError>(out.body(Bytes::from(body.to_vec()))?)
        };
        self.runtime.spawn(call).await?
    }
}

/// Starts exporting what `config` asks for, reading the runner's events
/// from `hub`; `None` when nothing is asked for. Problems (an endpoint that
/// is not a URL, a protocol ftl does not speak) are logged, never fatal.
pub fn start(hub: &Hub, config: &Config) -> Option<Telemetry> {
    for why in &config.refused {
        tracing::warn!("OpenTelemetry: {why}");
    }
    if !config.metrics && !config.traces {
        return None;
    }
    let client = RuntimeClient {
        http: reqwest::Client::new(),
        runtime: tokio::runtime::Handle::current(),
    };
    let resource = Resource::builder()
        .with_service_name(config.service.clone())
        .build();
    let meters = if config.metrics {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_http_client(client.clone())
            .with_protocol(Protocol::HttpBinary)
            .build();
        match exporter {
            Ok(e) => Some(
                SdkMeterProvider::builder()
                    .with_periodic_exporter(e)
                    .with_resource(resource.clone())
                    .build(),
            ),
            Err(e) => {
                tracing::warn!("OpenTelemetry: metrics are not exported: {e}");
                None
            }
        }
    } else {
        None
    };
    let spans = if config.traces {
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .build();
        match exporter {
            Ok(e) => Some(signals::spawn_span_exporter(e, resource)),
            Err(e) => {
                tracing::warn!("OpenTelemetry: spans are not exported: {e}");
                None
            }
        }
    } else {
        None
    };
    let metrics = meters.as_ref().map(signals::Metrics::new);
    let task = tokio::spawn(signals::follow(hub.subscribe(), metrics, spans.clone()));
    Some(Telemetry {
        meters,
        spans,
        task,
    })
}

impl Telemetry {
    /// Stops reading events and sends what was not sent yet (at most a few
    /// seconds: a collector that went away does not hold up the exit).
    pub async fn shutdown(self) {
        // Let the last events of the runner reach the exporters.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.task.abort();
        if let Some(spans) = self.spans {
            spans.flush().await;
        }
        if let Some(meters) = self.meters {
            let done = tokio::task::spawn_blocking(move || meters.shutdown());
            let _ = tokio::time::timeout(Duration::from_secs(5), done).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Config {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_env(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn nothing_is_exported_unless_an_endpoint_is_set() {
        let none = env(&[(SERVICE_NAME, "shop")]);
        assert!(!none.metrics && !none.traces);
        let all = env(&[(ENDPOINT, "http://127.0.0.1:4318")]);
        assert!(all.metrics && all.traces);
        assert_eq!(all.service, DEFAULT_SERVICE);
        let metrics = env(&[
            (METRICS_ENDPOINT, "http://x/v1/metrics"),
            (SERVICE_NAME, "shop"),
        ]);
        assert!(metrics.metrics && !metrics.traces);
        assert_eq!(metrics.service, "shop");
        let traces = env(&[(TRACES_ENDPOINT, "http://x/v1/traces")]);
        assert!(!traces.metrics && traces.traces);
    }

    #[test]
    fn only_http_protobuf_is_spoken_and_others_are_said() {
        let grpc = env(&[(ENDPOINT, "http://x:4317"), (PROTOCOL, "grpc")]);
        assert!(!grpc.metrics && !grpc.traces);
        assert_eq!(grpc.refused.len(), 2);
        assert!(grpc.refused[0].contains("`grpc`"), "{:?}", grpc.refused);
        let mixed = env(&[
            (ENDPOINT, "http://x:4318"),
            (PROTOCOL, "grpc"),
            (TRACES_PROTOCOL, "http/protobuf"),
        ]);
        assert!(!mixed.metrics && mixed.traces);
        let fine = env(&[(ENDPOINT, "http://x:4318"), (PROTOCOL, "http/protobuf")]);
        assert!(fine.metrics && fine.traces && fine.refused.is_empty());
    }
}
