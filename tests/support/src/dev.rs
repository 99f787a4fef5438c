//! A running `ftl dev`: its `--json` events from stdout, read back as
//! [`Event`] values, its stderr lines, and waits on either. Tests follow the
//! events through [`on!`](crate::on) patterns; the text is for tests of what
//! a person reads, and for failure messages.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ftl::events::Event;

/// A test on one event: what it looks for (for failure messages) and a
/// function giving `Some(value)` for an event it accepts. Built by
/// [`on!`](crate::on).
#[derive(Clone, Copy)]
pub struct On<F> {
    pub what: &'static str,
    pub test: F,
}

/// `on!(Event::Ready { .. })` accepts the events the pattern matches and
/// gives a copy of the event; `on!(Event::Listening { address } => address.clone())`
/// gives what follows `=>`. A guard may follow the pattern:
/// `on!(Event::Delivery(d) if d.subscription == "shop.s" => d.clone())`.
#[macro_export]
macro_rules! on {
    ($p:pat $(if $g:expr)? => $out:expr) => {
        $crate::On {
            what: stringify!($p $(if $g)?),
            test: |e: &$crate::Event| match e {
                $p $(if $g)? => Some($out),
                #[allow(unreachable_patterns)]
                _ => None,
            },
        }
    };
    ($p:pat $(if $g:expr)?) => {
        $crate::On {
            what: stringify!($p $(if $g)?),
            test: |e: &$crate::Event| match e {
                $p $(if $g)? => Some(e.clone()),
                #[allow(unreachable_patterns)]
                _ => None,
            },
        }
    };
}

/// What `ftl dev` wrote on stdout and stderr so far.
#[derive(Default)]
struct Seen {
    /// stderr lines and stdout lines that are not JSON.
    lines: Vec<String>,
    events: Vec<Event>,
    /// Each event's line as written (for tests of the JSON itself).
    json: Vec<String>,
    /// stdout lines that look like JSON but are not an [`Event`]: the
    /// `--json` contract broken.
    strays: Vec<String>,
}

pub struct Dev {
    child: Option<Child>,
    seen: Arc<Mutex<Seen>>,
}

impl Dev {
    pub fn spawn_command(c: Command) -> Dev {
        Dev::spawn(c)
    }

    pub(super) fn spawn(mut c: Command) -> Dev {
        let mut child = c.spawn().expect("spawn ftl dev");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let echo = std::env::var_os("FTL_TEST_ECHO").is_some();
        // Both streams are drained so `ftl dev` never blocks on a full pipe.
        // A stdout line that reads as an event is one; a line that is not
        // JSON joins the log; JSON that is no event is kept apart, and every
        // wait fails on it.
        if let Some(out) = child.stdout.take() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if echo {
                        eprintln!("[dev out] {line}");
                    }
                    let event = serde_json::from_str::<Event>(&line);
                    let mut s = seen.lock().expect("lock");
                    match event {
                        Ok(e) => {
                            s.events.push(e);
                            s.json.push(line);
                        }
                        Err(_) if serde_json::from_str::<serde_json::Value>(&line).is_ok() => {
                            s.strays.push(line)
                        }
                        Err(_) => s.lines.push(line),
                    }
                }
            });
        }
        if let Some(err) = child.stderr.take() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let reader = BufReader::new(Box::new(err) as Box<dyn Read + Send>);
                for line in reader.lines().map_while(Result::ok) {
                    if echo {
                        eprintln!("[dev] {line}");
                    }
                    seen.lock().expect("lock").lines.push(line);
                }
            });
        }
        Dev {
            child: Some(child),
            seen,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// `None` while `ftl dev` runs; once it exited (a crash leaves a zombie
    /// until the test reaps it), its `/proc/PID/stat` line, which says how.
    pub fn exited(&self) -> Option<String> {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next());
        match state {
            Some(s) if s != "Z" && s != "X" => None,
            _ => Some(stat),
        }
    }

    /// Everything `ftl dev` wrote: stderr lines, then its events (as JSON
    /// lines again), then any stdout JSON that was no event.
    pub fn log(&self) -> String {
        let s = self.seen.lock().expect("lock");
        let mut out = s.lines.join("\n");
        for e in &s.events {
            out.push('\n');
            out.push_str(&serde_json::to_string(e).unwrap_or_default());
        }
        for l in &s.strays {
            out.push_str("\nnot an event: ");
            out.push_str(l);
        }
        out
    }

    /// The events so far, in order.
    pub fn events(&self) -> Vec<Event> {
        self.seen.lock().expect("lock").events.clone()
    }

    /// The events so far as `ftl dev` wrote them: JSON objects, in order
    /// (for tests of the `--json` contract itself, e.g. its field order).
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.seen
            .lock()
            .expect("lock")
            .json
            .iter()
            .map(|l| serde_json::from_str(l).expect("an event line is JSON"))
            .collect()
    }

    /// Waits for an event `on` accepts; returns what it gives. Panics with
    /// the log on timeout.
    #[track_caller]
    pub fn wait<T>(&self, on: On<impl Fn(&Event) -> Option<T>>, timeout: Duration) -> T {
        self.wait_nth(on, 1, timeout)
    }

    /// Waits for the `n`th event `on` accepts.
    #[track_caller]
    pub fn wait_nth<T>(
        &self,
        on: On<impl Fn(&Event) -> Option<T>>,
        n: usize,
        timeout: Duration,
    ) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let s = self.seen.lock().expect("lock");
                assert!(
                    s.strays.is_empty(),
                    "`ftl dev --json` wrote JSON that is no event: {}",
                    s.strays.join("\n")
                );
                if let Some(found) = s.events.iter().filter_map(&on.test).nth(n - 1) {
                    return found;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "`ftl dev` never emitted `{}` (x{n}) within {timeout:?}; its output:\n{}",
                    on.what,
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// `ready`: every subscription's consumer exists.
    #[track_caller]
    pub fn wait_ready(&self) -> Event {
        self.wait(crate::on!(Event::Ready { .. }), Duration::from_secs(60))
    }

    /// The subscription was handed partitions (the `n`th time); which.
    #[track_caller]
    pub fn wait_assigned(&self, subscription: &str, n: usize) -> Vec<i32> {
        self.wait_nth(
            crate::on!(Event::PartitionsAssigned { subscription: s, partitions } if s == subscription => partitions.clone()),
            n,
            Duration::from_secs(60),
        )
    }

    /// How many events so far `on` accepts.
    pub fn count<T>(&self, on: &On<impl Fn(&Event) -> Option<T>>) -> usize {
        self.seen
            .lock()
            .expect("lock")
            .events
            .iter()
            .filter(|e| (on.test)(e).is_some())
            .count()
    }

    /// Waits for a stderr line containing `needle` (`dev_text` runs).
    #[track_caller]
    pub fn wait_for_line(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(l) = self
                .seen
                .lock()
                .expect("lock")
                .lines
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
    pub fn stop(self) -> (i32, String) {
        let (code, log, _) = self.stop_with_events();
        (code, log)
    }

    /// SIGTERM and wait for a clean exit; also every event it emitted.
    pub fn stop_with_events(mut self) -> (i32, String, Vec<Event>) {
        self.signal("TERM");
        let (code, log) = self.wait_exit(Duration::from_secs(40));
        (code, log, self.events())
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
