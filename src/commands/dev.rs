//! `ftl dev`: builds the request, runs the session (the library's
//! `session`), and prints what it emits (text, or JSON lines with `--json`)
//! until Ctrl-C.

use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::hub::Hub;
use crate::session::{DevRequest, Session};

use super::Context;

pub async fn dev(
    ctx: &Context<'_>,
    dir: Option<PathBuf>,
    listen: Option<std::net::SocketAddr>,
    open: bool,
) -> Result<()> {
    if let Some(addr) = listen.filter(|a| !a.ip().is_loopback()) {
        return Err(Error::usage(
            format!("--listen {addr} is not a loopback address"),
            Some("the runner listens on this machine only: use 127.0.0.1:<port>".to_string()),
        ));
    }
    let request = DevRequest {
        root: dir.unwrap_or_else(|| ctx.project_dir.clone()),
        listen,
        overrides: ctx.overrides.clone(),
    };
    let hub = Hub::new();
    let printer = ctx.printer.clone();
    let done = CancellationToken::new();
    let printing = tokio::spawn({
        // A reader that shows no delivery is not woken by each one.
        let events = if printer.shows_deliveries() {
            hub.subscribe()
        } else {
            hub.subscribe_quiet()
        };
        let done = done.clone();
        async move { printer.follow_events(events, done).await }
    });
    // OpenTelemetry out, when the standard variables ask for it.
    let telemetry = crate::telemetry::start(
        &hub,
        &crate::telemetry::Config::from_env(|k| std::env::var(k).ok()),
    );
    let result = run(ctx, request, open, hub).await;
    if let Some(t) = telemetry {
        t.shutdown().await;
    }
    // Every event emitted so far is printed before `ftl dev` returns.
    done.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), printing).await;
    result
}

async fn run(ctx: &Context<'_>, request: DevRequest, open: bool, hub: Hub) -> Result<()> {
    let printer = ctx.printer.clone();
    let forced = Box::new(move || {
        // The event printer may not get to it before the exit: said here.
        printer.warn(
            "exiting at once; events in hand were not committed and will be delivered again",
            None,
        );
    });
    let session = Session::start(request, hub, forced).await?;
    if open {
        match session.console() {
            Some(url) => open_browser(url, ctx),
            None => ctx.printer.warn(
                "--open: there is no console to open (no topics yet, or another `ftl dev` of this project serves it)",
                None,
            ),
        }
    }
    session.run().await
}

/// Opens `url` in the default browser (`xdg-open`, `open` on macOS),
/// without waiting for it.
fn open_browser(url: &str, ctx: &Context<'_>) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match spawned {
        // Reaped when it exits, so no zombie stays behind. An opener that
        // runs but opens nothing (`xdg-open` with no browser: exit code 3)
        // is said too, with the address.
        Ok(mut child) => {
            let printer = ctx.printer.clone();
            let url = url.to_string();
            std::thread::spawn(move || match child.wait() {
                Ok(status) if !status.success() => printer.warn(
                    &format!(
                        "--open: `{opener}` could not open the console ({})",
                        status
                            .code()
                            .map(|c| format!("exit code {c}"))
                            .unwrap_or_else(|| "killed by a signal".into())
                    ),
                    Some(&format!("open {url} in a browser yourself")),
                ),
                _ => {}
            });
        }
        Err(e) => {
            ctx.printer.warn(
                &format!("--open: cannot run `{opener}`: {e}"),
                Some(&format!("open {url} in a browser yourself")),
            );
        }
    }
}
