//! Calling a verb (docs/design.md, "Delivery"): `http` POSTs the event, `exec` runs a command
//! without a shell with the event on stdin. Both say success, a retryable
//! failure, or "this event will never succeed" (HTTP 4xx other than 408 and
//! 429; exit code 65, EX_DATAERR).

use std::path::Path;
use std::process::Stdio;

use tokio::io::AsyncWriteExt;

use crate::kafka::headers::REQUEST_ID_ENV;
use crate::schema::{Verb, VerbCall};

pub(super) mod grpc;
mod http;

pub use http::VerbClient;

/// The names under which a verb is told the event's facts: HTTP headers
/// and gRPC metadata alike (lower case, as gRPC requires and HTTP/1 sends).
pub(super) mod fact {
    pub const TOPIC: &str = "ftl-topic";
    pub const SUBSCRIPTION: &str = "ftl-subscription";
    pub const PARTITION: &str = "ftl-partition";
    pub const OFFSET: &str = "ftl-offset";
    pub const KEY: &str = "ftl-key";
    pub const KEY_ENCODING: &str = "ftl-key-encoding";
    pub const ATTEMPT: &str = "ftl-attempt";
    pub use crate::kafka::headers::REQUEST_ID_METADATA as REQUEST_ID;
}

/// Exit code with which an exec verb says "never retry this event".
pub const EX_DATAERR: i32 = 65;

/// What the verb is told about the event.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    pub topic: &'a str,
    pub subscription: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub attempt: u32,
    /// The payload, shared: an HTTP request takes it without a copy.
    pub body: &'a bytes::Bytes,
    /// The request the event belongs to: `FTL-Request-ID` (HTTP header,
    /// gRPC metadata) or `FTL_REQUEST_ID` (exec).
    pub request_key: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerbFailure {
    pub message: String,
    /// Retrying cannot help: dead-letter at once.
    pub permanent: bool,
    /// The verb's stack trace, when it sent one (gRPC verbs).
    pub stack: Option<String>,
}

/// What a successful call printed (exec stdout), if anything.
pub type Output = Option<String>;

/// Calls the verb.
pub async fn call(
    verb: &Verb,
    module_dir: &Path,
    http: &VerbClient,
    d: &Invocation<'_>,
) -> Result<Output, VerbFailure> {
    match &verb.call {
        VerbCall::Http(url) => http::call_http(url, verb.timeout, http, d).await,
        VerbCall::Exec(argv) => call_exec(argv, verb, module_dir, d).await,
        VerbCall::Grpc(addr) => grpc::call(addr, verb, d).await,
    }
}

/// The key as a verb is given it: as it is, or percent-encoded (RFC 3986:
/// every byte but `A-Z a-z 0-9 - . _ ~` as `%XX`) when it cannot be carried
/// as it is: not UTF-8, a control character (an HTTP header or gRPC
/// metadata value cannot hold one, an environment value cannot hold NUL),
/// or a space at either end (HTTP drops it). `Some("percent")` says it was
/// encoded (`Ftl-Key-Encoding`, `FTL_KEY_ENCODING`, `ftl-key-encoding`).
/// An event is never failed because of its key.
pub fn key_for_verb(key: Option<&[u8]>) -> (String, Option<&'static str>) {
    let Some(key) = key else {
        return (String::new(), None);
    };
    match std::str::from_utf8(key) {
        Ok(text)
            if !text.chars().any(char::is_control)
                && !text.starts_with(' ')
                && !text.ends_with(' ') =>
        {
            (text.to_string(), None)
        }
        _ => {
            let mut out = String::with_capacity(key.len() * 3);
            for b in key {
                if b.is_ascii_alphanumeric() || b"-._~".contains(b) {
                    out.push(char::from(*b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            (out, Some(KEY_ENCODING))
        }
    }
}

/// What `Ftl-Key-Encoding` says of a percent-encoded key.
pub const KEY_ENCODING: &str = "percent";

/// HTTP status → outcome: 2xx ok; 408, 429 and 5xx retried; other 4xx final.
pub fn http_status_permanent(status: u16) -> bool {
    (400..500).contains(&status) && status != 408 && status != 429
}

/// The most of a successful verb's stdout that is kept (shown, and put in
/// its delivery event); the rest is read and counted, never held.
const STDOUT_KEPT: usize = 64 * 1024;
/// How much of a failed verb's stderr end is kept (the message shows its
/// last 300 characters).
const STDERR_KEPT: usize = 4 * 1024;

/// Kills the verb's whole process group when dropped while armed: on a
/// timeout, and when the delivery is abandoned (Ctrl-C, revocation). A
/// verb that finished is disarmed. While armed its group is listed in
/// [`RUNNING`], so that exiting at once (a second Ctrl-C, which runs no
/// destructor) still reaches it.
struct GroupKill(Option<u32>);

/// The process groups of the exec verbs running now. Process-wide because
/// so is what it serves: `std::process::exit` on a second Ctrl-C.
static RUNNING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

impl GroupKill {
    fn arm(pid: Option<u32>) -> GroupKill {
        if let Some(p) = pid {
            RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push(p);
        }
        GroupKill(pid)
    }

    fn disarm(&mut self) {
        if let Some(p) = self.0.take() {
            RUNNING
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|q| *q != p);
        }
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        if let Some(p) = self.0 {
            kill_group(p);
        }
        self.disarm();
    }
}

fn kill_group(pid: u32) {
    #[cfg(unix)]
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// Kills every exec verb running now with all it started: for exiting at
/// once, when no destructor runs.
pub fn kill_running_verbs() {
    let groups = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    for pid in groups {
        kill_group(pid);
    }
}

/// Reads a stream to its end keeping at most `cap` bytes: the first ones
/// (`head`) or the last ones. Returns them and the total read.
async fn read_capped(
    stream: Option<impl tokio::io::AsyncRead + Unpin>,
    head: bool,
    cap: usize,
) -> (Vec<u8>, u64) {
    use tokio::io::AsyncReadExt;
    let Some(mut stream) = stream else {
        return (Vec::new(), 0);
    };
    let mut kept = Vec::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; 8192];
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        total += n as u64;
        if head {
            let room = cap.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        } else {
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > 2 * cap {
                kept.drain(..kept.len() - cap);
            }
        }
    }
    if !head && kept.len() > cap {
        kept.drain(..kept.len() - cap);
    }
    (kept, total)
}

async fn call_exec(
    argv: &[String],
    verb: &Verb,
    dir: &Path,
    d: &Invocation<'_>,
) -> Result<Output, VerbFailure> {
    let timeout = verb.timeout;
    let Some((program, args)) = argv.split_first() else {
        return Err(VerbFailure {
            message: "exec verb has no command".into(),
            permanent: true,
            stack: None,
        });
    };
    let (key, encoding) = key_for_verb(d.key);
    let mut command = tokio::process::Command::new(program);
    if !verb.env.inherit_env {
        command.env_clear();
        for name in &verb.env.pass_env {
            if let Some(value) = std::env::var_os(name) {
                command.env(name, value);
            }
        }
    }
    command.envs(&verb.env.env);
    match encoding {
        Some(e) => command.env("FTL_KEY_ENCODING", e),
        // Not one inherited from `ftl dev`'s own environment either.
        None => command.env_remove("FTL_KEY_ENCODING"),
    };
    command
        .args(args)
        .current_dir(dir)
        .env("FTL_TOPIC", d.topic)
        .env("FTL_SUBSCRIPTION", d.subscription)
        .env("FTL_PARTITION", d.partition.to_string())
        .env("FTL_OFFSET", d.offset.to_string())
        .env("FTL_KEY", &key)
        .env("FTL_ATTEMPT", d.attempt.to_string())
        .env(REQUEST_ID_ENV, d.request_key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so a timeout reaches what it started too.
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command.spawn().map_err(|e| VerbFailure {
        message: format!("cannot run `{program}` in {}: {e}", dir.display()),
        permanent: false,
        stack: None,
    })?;
    let mut group = GroupKill::arm(child.id());
    let body = d.body.clone();
    let mut stdin = child.stdin.take();
    let feed = async move {
        if let Some(s) = stdin.as_mut() {
            // A verb that does not read its stdin is not an error.
            let _ = s.write_all(&body).await;
            let _ = s.shutdown().await;
        }
    };
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let run = async {
        let (_, out, err, status) = tokio::join!(
            feed,
            read_capped(stdout, true, STDOUT_KEPT),
            read_capped(stderr, false, STDERR_KEPT),
            child.wait()
        );
        status.map(|s| (s, out, err))
    };
    let (status, (stdout, stdout_total), (stderr, _)) =
        match tokio::time::timeout(timeout, run).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => {
                return Err(VerbFailure {
                    message: format!("`{program}` failed: {e}"),
                    permanent: false,
                    stack: None,
                })
            }
            // `group` kills the process group as it goes.
            Err(_) => {
                return Err(VerbFailure {
                    message: format!(
                        "`{program}` timed out after {} and was killed",
                        crate::units::format_duration(timeout)
                    ),
                    permanent: false,
                    stack: None,
                })
            }
        };
    // Finished: what it started on purpose is its business.
    group.disarm();
    if status.success() {
        let mut text = String::from_utf8_lossy(&stdout).trim_end().to_string();
        if stdout_total > stdout.len() as u64 {
            text.push_str(&format!(
                "\n… {} more bytes of output not kept",
                stdout_total - stdout.len() as u64
            ));
        }
        return Ok((!text.is_empty()).then_some(text));
    }
    let stderr = String::from_utf8_lossy(&stderr);
    let tail: String = {
        let t = stderr.trim_end();
        let start = t.char_indices().rev().nth(299).map(|(i, _)| i).unwrap_or(0);
        t[start..].to_string()
    };
    let code = status.code();
    let what = match code {
        Some(c) => format!("exit code {c}"),
        None => "killed by a signal".to_string(),
    };
    Err(VerbFailure {
        message: if tail.is_empty() {
            what
        } else {
            format!("{what}: {tail}")
        },
        permanent: code == Some(EX_DATAERR),
        stack: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_key_no_header_or_environment_can_hold_is_percent_encoded_and_says_so() {
        assert_eq!(key_for_verb(None), (String::new(), None));
        assert_eq!(
            key_for_verb(Some("user 42/é".as_bytes())),
            ("user 42/é".into(), None)
        );
        for (key, sent) in [
            (&b"a\nb"[..], "a%0Ab"),
            (b"\x7f", "%7F"),
            (b"\x01", "%01"),
            (b"\0", "%00"),
            (b"\xff%", "%FF%25"),
            (b" a", "%20a"),
        ] {
            assert_eq!(key_for_verb(Some(key)), (sent.into(), Some("percent")));
        }
    }

    #[test]
    fn only_client_errors_other_than_timeout_and_throttling_are_final() {
        assert!(http_status_permanent(400));
        assert!(http_status_permanent(404));
        assert!(http_status_permanent(422));
        assert!(!http_status_permanent(408));
        assert!(!http_status_permanent(429));
        assert!(!http_status_permanent(500));
        assert!(!http_status_permanent(503));
    }

    #[tokio::test]
    async fn exec_gets_the_event_on_stdin_and_exit_65_is_final() {
        let verb = Verb {
            module: "m".into(),
            name: "v".into(),
            call: VerbCall::Exec(vec![
                "sh".into(),
                "-c".into(),
                "read x; [ \"$x\" = '{\"a\":1}' ] && [ \"$FTL_ATTEMPT\" = 2 ] || exit 65; echo ok $FTL_REQUEST_ID"
                    .into(),
            ]),
            timeout: Duration::from_secs(5),
            env: Default::default(),
        };
        let d = Invocation {
            topic: "m.t",
            subscription: "m.s",
            partition: 0,
            offset: 1,
            key: None,
            attempt: 2,
            body: &bytes::Bytes::from_static(b"{\"a\":1}\n"),
            request_key: "req-ingress-t-1",
        };
        let http = VerbClient::new();
        assert_eq!(
            call(&verb, Path::new("."), &http, &d).await,
            Ok(Some("ok req-ingress-t-1".into()))
        );
        let d1 = Invocation { attempt: 1, ..d };
        let err = call(&verb, Path::new("."), &http, &d1).await.unwrap_err();
        assert!(err.permanent, "{err:?}");
    }

    #[tokio::test]
    async fn an_exec_verb_gets_the_environment_it_says() {
        // Any variable of this process stands for a secret of `ftl dev`'s.
        let (secret, value) = std::env::vars()
            .find(|(k, _)| {
                k != "HOME" && !k.starts_with("FTL_") && !k.contains(['-', '.']) && !k.is_empty()
            })
            .expect("a variable in the test's environment");
        let script = format!("printf '%s|%s|%s|%s' \"${{{secret}-unset}}\" \"$GREETING\" \"$FTL_TOPIC\" \"${{HOME-unset}}\"");
        let script = script.as_str();
        let mut verb = exec(script, Duration::from_secs(5));
        verb.call = VerbCall::Exec(vec!["/bin/sh".into(), "-c".into(), script.into()]);
        verb.env.env.insert("GREETING".into(), "hi".into());
        let http = VerbClient::new();
        let home = std::env::var("HOME").unwrap_or_else(|_| "unset".into());
        let got = call(&verb, Path::new("."), &http, &delivery()).await;
        assert_eq!(got, Ok(Some(format!("{value}|hi|m.t|{home}"))));
        verb.env.inherit_env = false;
        verb.env.pass_env = vec!["HOME".into()];
        let got = call(&verb, Path::new("."), &http, &delivery()).await;
        assert_eq!(got, Ok(Some(format!("unset|hi|m.t|{home}"))));
    }

    fn exec(script: &str, timeout: Duration) -> Verb {
        Verb {
            module: "m".into(),
            name: "v".into(),
            call: VerbCall::Exec(vec!["sh".into(), "-c".into(), script.into()]),
            timeout,
            env: Default::default(),
        }
    }

    fn delivery() -> Invocation<'static> {
        static BODY: bytes::Bytes = bytes::Bytes::from_static(b"{}");
        Invocation {
            topic: "m.t",
            subscription: "m.s",
            partition: 0,
            offset: 1,
            key: None,
            attempt: 1,
            body: &BODY,
            request_key: "req-ingress-t-1",
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_timeout_kills_what_the_verb_started_too() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let verb = exec(
            &format!("sleep 1001 & echo $! > {}; wait", pidfile.display()),
            Duration::from_millis(500),
        );
        let http = VerbClient::new();
        let err = call(&verb, dir.path(), &http, &delivery())
            .await
            .unwrap_err();
        assert!(err.message.contains("timed out"), "{err:?}");
        let pid = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .to_string();
        let mut alive = true;
        for _ in 0..50 {
            let status = std::process::Command::new("kill")
                .args(["-0", &pid])
                .stderr(std::process::Stdio::null())
                .status()
                .unwrap();
            // A zombie still answers kill -0: it counts as gone once it is not running.
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if !status.success() || state.contains(") Z ") {
                alive = false;
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            !alive,
            "the verb's child `sleep` (pid {pid}) outlived the timeout"
        );
    }

    #[tokio::test]
    async fn output_is_read_with_a_bounded_buffer() {
        let verb = exec(
            "head -c 5000000 /dev/zero | tr '\\0' a; head -c 3000000 /dev/zero | tr '\\0' e >&2",
            Duration::from_secs(20),
        );
        let http = VerbClient::new();
        let out = call(&verb, Path::new("."), &http, &delivery())
            .await
            .unwrap()
            .unwrap();
        assert!(out.len() < STDOUT_KEPT + 100, "{}", out.len());
        assert!(
            out.ends_with("4934464 more bytes of output not kept"),
            "{}",
            &out[out.len() - 60..]
        );
        let failing = exec(
            "head -c 3000000 /dev/zero | tr '\\0' e >&2; echo last words >&2; exit 3",
            Duration::from_secs(20),
        );
        let err = call(&failing, Path::new("."), &http, &delivery())
            .await
            .unwrap_err();
        assert!(
            err.message.starts_with("exit code 3: eee"),
            "{}",
            &err.message[..40]
        );
        assert!(err.message.ends_with("last words"), "{}", err.message);
        assert!(err.message.chars().count() <= 320, "{}", err.message.len());
    }
}
