//! What keeps the broker fault suite busy: two processes loading both
//! cores, and a Publisher client that publishes on its own clock.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Two busy processes at low priority keep both cores loaded; killed when
/// dropped (a failing test too).
pub(super) struct CpuHogs(Vec<Child>);

impl CpuHogs {
    pub(super) fn start(n: usize) -> CpuHogs {
        CpuHogs(
            (0..n)
                .map(|_| {
                    // `nice` execs the shell: the child's pid is the loop's.
                    Command::new("nice")
                        .args(["-n", "10", "sh", "-c", "while :; do :; done"])
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn()
                        .expect("a busy process")
                })
                .collect(),
        )
    }
}

impl Drop for CpuHogs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An acknowledged publish: its id, and when the answer came.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ack {
    pub(super) id: u64,
    pub(super) at: Instant,
}

/// One publish through the Publisher: when it began and ended, and the
/// answer (200: acknowledged by the broker).
#[derive(Debug, Clone)]
pub(super) struct Sent {
    pub(super) id: u64,
    pub(super) began: Instant,
    pub(super) ended: Instant,
    pub(super) status: u16,
    /// The answer's body when it was not a 200.
    pub(super) error: String,
}

/// Publishes `{"id": n, "k": ...}` with increasing ids through the runner's
/// HTTP Publisher: one publish begins every ~20 ms, whether or not earlier
/// ones were answered (at most 64 wait at once), as a service publishing
/// on its own clock would; a publish that hangs does not hold the others.
/// Stopped when dropped.
pub(crate) struct Publisher {
    sent: Arc<Mutex<Vec<Sent>>>,
    /// Publishes under way: id and when each began.
    pending: Arc<Mutex<HashMap<u64, Instant>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

const MAX_PENDING: usize = 64;

impl Publisher {
    pub(crate) fn start(listen: &str) -> Publisher {
        let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
        let pending: Arc<Mutex<HashMap<u64, Instant>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (sent, pending, stop) = (sent.clone(), pending.clone(), stop.clone());
            let listen = listen.to_string();
            std::thread::spawn(move || {
                let mut id = 0u64;
                let mut publishes = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    if pending.lock().unwrap().len() < MAX_PENDING {
                        id += 1;
                        let began = Instant::now();
                        pending.lock().unwrap().insert(id, began);
                        let (sent, pending, listen) =
                            (sent.clone(), pending.clone(), listen.clone());
                        publishes.push(std::thread::spawn(move || {
                            let body = format!("{{\"id\":{id},\"k\":\"k{}\"}}", id % 16);
                            let (status, text) = crate::harness::http(
                                &listen,
                                "POST",
                                "/topics/shop.t",
                                Some(&body),
                            );
                            sent.lock().unwrap().push(Sent {
                                id,
                                began,
                                ended: Instant::now(),
                                status,
                                error: if status == 200 { String::new() } else { text },
                            });
                            pending.lock().unwrap().remove(&id);
                        }));
                        publishes.retain(|p: &JoinHandle<()>| !p.is_finished());
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                for p in publishes {
                    let _ = p.join();
                }
            })
        };
        Publisher {
            sent,
            pending,
            stop,
            thread: Some(thread),
        }
    }

    pub(super) fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }

    /// The publishes answered with anything but a 200: id, how long it
    /// waited, the answer.
    pub(crate) fn refused(&self) -> Vec<String> {
        self.sent()
            .iter()
            .filter(|s| s.status != 200)
            .map(|s| {
                format!(
                    "{} after {:.1} s: {} {}",
                    s.id,
                    (s.ended - s.began).as_secs_f64(),
                    s.status,
                    s.error
                )
            })
            .collect()
    }

    /// The acknowledged publishes, in the order of their answers.
    pub(super) fn acked(&self) -> Vec<Ack> {
        self.sent()
            .into_iter()
            .filter(|s| s.status == 200)
            .map(|s| Ack {
                id: s.id,
                at: s.ended,
            })
            .collect()
    }

    /// How many publishes were acknowledged so far.
    pub(super) fn acked_count(&self) -> usize {
        self.sent().iter().filter(|s| s.status == 200).count()
    }

    /// The first publish acknowledged after `since`.
    pub(super) fn first_acked_after(&self, since: Instant) -> Option<Ack> {
        self.acked().into_iter().find(|a| a.at > since)
    }

    /// For failure messages: the oldest publishes under way and the last
    /// answers that were not a 200.
    pub(super) fn describe(&self) -> String {
        let mut waiting: Vec<(u64, Instant)> = self
            .pending
            .lock()
            .unwrap()
            .iter()
            .map(|(id, at)| (*id, *at))
            .collect();
        waiting.sort();
        let waiting: Vec<String> = waiting
            .iter()
            .take(5)
            .map(|(id, at)| format!("{id} for {:.1} s", at.elapsed().as_secs_f64()))
            .collect();
        let refused: Vec<String> = self.refused().into_iter().rev().take(5).collect();
        format!("publishes waiting: {waiting:?}; last refusals: {refused:?}")
    }

    pub(crate) fn finish(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.finish();
    }
}
