//! The runner's accept loop on `runner.listen`. `axum::serve` has neither a
//! header read timeout nor a bound on connections: 200 connections sending
//! a header byte now and then were held for as long as they liked, and
//! 18,000 idle connections took `ftl dev` from 16 MB to 221 MB. Here a
//! connection must send its first bytes and then its headers within
//! [`HEADER_TIMEOUT`], and at most [`MAX_CONNECTIONS`] are served at once;
//! more wait in the kernel's accept queue until one closes.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// Connections served at once (the console, CLI commands, publishers and
/// gRPC clients of one developer's machine use a few dozen at most).
pub const MAX_CONNECTIONS: usize = 1024;
/// How long a client has to send a request's headers (and, on a new
/// connection, its first bytes).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open connections get to finish when the runner stops.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The HTTP/2 connection preface: a client that starts with it speaks gRPC.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Serves `app` on `listener` until `cancel`.
pub async fn serve(listener: TcpListener, app: axum::Router, cancel: CancellationToken) {
    let permits = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    builder.http2().timer(TokioTimer::new());
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = cancel.cancelled() => return,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                // Out of file descriptors and the like: try again shortly.
                Err(e) => {
                    tracing::debug!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = cancel.cancelled() => return,
        };
        let builder = builder.clone();
        let service = TowerToHyperService::new(app.clone());
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if !tokio::time::timeout(HEADER_TIMEOUT, knows_protocol(&stream))
                .await
                .unwrap_or(false)
            {
                return;
            }
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = cancel.cancelled() => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(CLOSE_GRACE, conn).await;
        });
    }
}

/// Waits until the client has sent enough to tell HTTP/1 from HTTP/2 (the
/// HTTP/2 preface, or anything else); false when it closed first. hyper's
/// own check has no timeout: a client that sends nothing would be held.
async fn knows_protocol(stream: &TcpStream) -> bool {
    let mut buf = [0u8; 24];
    loop {
        let n = match stream.peek(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => n,
        };
        if n == H2_PREFACE.len() || buf[..n] != H2_PREFACE[..n] {
            return true;
        }
        // A part of the preface: wait for the rest.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
