//! Ctrl-C and SIGTERM for `ftl dev`.

use tokio::sync::mpsc;

use crate::error::{Error, Result};

/// Ctrl-C and SIGTERM, listened for by one long-lived task from the start,
/// so a signal that arrives while `ftl dev` is busy (a reload, a start) is
/// kept until it is read.
pub struct Signals {
    rx: mpsc::UnboundedReceiver<()>,
}

impl Signals {
    pub fn start() -> Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let fail =
                |e: std::io::Error| Error::failed(format!("cannot listen for signals: {e}"), None);
            let mut int = signal(SignalKind::interrupt()).map_err(fail)?;
            let mut term = signal(SignalKind::terminate()).map_err(fail)?;
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        Some(()) = int.recv() => {}
                        Some(()) = term.recv() => {}
                        else => return,
                    }
                    if tx.send(()).is_err() {
                        return;
                    }
                }
            });
        }
        #[cfg(not(unix))]
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if tx.send(()).is_err() {
                    return;
                }
            }
        });
        Ok(Signals { rx })
    }

    pub async fn next(&mut self) {
        if self.rx.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
    }
}
