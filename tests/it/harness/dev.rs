//! A running `ftl dev`: its `--json` events from stdout, its stderr lines,
//! and waits on either. Tests follow the events; the text is for tests of
//! what a person reads, and for failure messages.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A test on one event: its `type`, and optionally its subscription.
#[derive(Debug, Clone, Copy)]
pub struct Ev<'a> {
    pub kind: &'a str,
    pub subscription: Option<&'a str>,
}

impl<'a> Ev<'a> {
    pub fn of(kind: &'a str) -> Ev<'a> {
        Ev {
            kind,
            subscription: None,
        }
    }

    /// The event of this type for one subscription.
    pub fn sub(kind: &'a str, subscription: &'a str) -> Ev<'a> {
        Ev {
            kind,
            subscription: Some(subscription),
        }
    }

    pub fn matches(&self, e: &Value) -> bool {
        e["type"] == self.kind && self.subscription.is_none_or(|s| e["subscription"] == s)
    }
}

pub struct Dev {
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
    events: Arc<Mutex<Vec<Value>>>,
    /// How many events of each (type, subscription) came, and of each type
    /// (subscription ""): `count` is a lookup, not a scan, so a benchmark
    /// that asks every few milliseconds does not take CPU from `ftl dev`.
    tally: Arc<Mutex<HashMap<(String, String), usize>>>,
}

impl Dev {
    pub fn spawn_command(c: Command) -> Dev {
        Dev::spawn(c)
    }

    pub(super) fn spawn(mut c: Command) -> Dev {
        let mut child = c.spawn().expect("spawn ftl dev");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let events = Arc::new(Mutex::new(Vec::new()));
        let tally = Arc::new(Mutex::new(HashMap::new()));
        let echo = std::env::var_os("FTL_TEST_ECHO").is_some();
        // Both streams are drained so `ftl dev` never blocks on a full pipe.
        // A stdout line that is a JSON object is an event; any other line
        // joins the log.
        if let Some(out) = child.stdout.take() {
            let (lines, events, tally) = (lines.clone(), events.clone(), tally.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if echo {
                        eprintln!("[dev out] {line}");
                    }
                    match serde_json::from_str::<Value>(&line) {
                        Ok(v) if v.is_object() => {
                            let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                            let (kind, sub) = (text("type"), text("subscription"));
                            {
                                let mut t = tally.lock().expect("lock");
                                *t.entry((kind.clone(), String::new())).or_default() += 1;
                                if !sub.is_empty() {
                                    *t.entry((kind, sub)).or_default() += 1;
                                }
                            }
                            events.lock().expect("lock").push(v)
                        }
                        _ => lines.lock().expect("lock").push(line),
                    }
                }
            });
        }
        if let Some(err) = child.stderr.take() {
            let lines = lines.clone();
            std::thread::spawn(move || {
                let reader = BufReader::new(Box::new(err) as Box<dyn Read + Send>);
                for line in reader.lines().map_while(Result::ok) {
                    if echo {
                        eprintln!("[dev] {line}");
                    }
                    lines.lock().expect("lock").push(line);
                }
            });
        }
        Dev {
            child: Some(child),
            lines,
            events,
            tally,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Everything `ftl dev` wrote: stderr lines, then its events.
    pub fn log(&self) -> String {
        let mut out = self.lines.lock().expect("lock").join("\n");
        for e in self.events.lock().expect("lock").iter() {
            out.push('\n');
            out.push_str(&e.to_string());
        }
        out
    }

    pub fn events(&self) -> Vec<Value> {
        self.events.lock().expect("lock").clone()
    }

    /// Waits for an event; returns it. Panics with the log on timeout.
    #[track_caller]
    pub fn wait(&self, ev: Ev<'_>, timeout: Duration) -> Value {
        self.wait_nth(ev, 1, timeout)
    }

    /// Waits for the `n`th event `ev` matches.
    #[track_caller]
    pub fn wait_nth(&self, ev: Ev<'_>, n: usize, timeout: Duration) -> Value {
        self.wait_where(&format!("{ev:?} (x{n})"), n, timeout, |e| ev.matches(e))
    }

    /// Waits for the `n`th event `f` accepts.
    #[track_caller]
    pub fn wait_where(
        &self,
        what: &str,
        n: usize,
        timeout: Duration,
        f: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let found: Vec<Value> = self
                .events
                .lock()
                .expect("lock")
                .iter()
                .filter(|e| f(e))
                .cloned()
                .collect();
            if found.len() >= n {
                return found[n - 1].clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "`ftl dev` never emitted {what} within {timeout:?}; its output:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// `ready`: every subscription's consumer exists.
    #[track_caller]
    pub fn wait_ready(&self) -> Value {
        self.wait(Ev::of("ready"), Duration::from_secs(60))
    }

    /// The subscription was handed partitions (the `n`th time).
    #[track_caller]
    pub fn wait_assigned(&self, subscription: &str, n: usize) -> Value {
        self.wait_nth(
            Ev::sub("partitions_assigned", subscription),
            n,
            Duration::from_secs(60),
        )
    }

    pub fn count(&self, ev: Ev<'_>) -> usize {
        let key = (
            ev.kind.to_string(),
            ev.subscription.unwrap_or_default().to_string(),
        );
        self.tally
            .lock()
            .expect("lock")
            .get(&key)
            .copied()
            .unwrap_or(0)
    }

    /// Waits for a stderr line containing `needle` (`dev_text` runs).
    #[track_caller]
    pub fn wait_for_line(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self
                .lines
                .lock()
                .expect("lock")
                .iter()
                .find(|l| l.contains(needle))
            {
                return l.clone();
            }
            if Instant::now() > deadline {
                panic!(
                    "`ftl dev` never printed `{needle}` within {timeout:?}; its output:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status();
    }

    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) -> (i32, String) {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(40))
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> (i32, String) {
        let deadline = Instant::now() + timeout;
        let Some(mut c) = self.child.take() else {
            return (-1, self.log());
        };
        loop {
            if let Ok(Some(status)) = c.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                return (status.code().unwrap_or(-1), self.log());
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                panic!(
                    "`ftl dev` did not exit within {timeout:?}; its output:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
