//! A project in a temporary directory, and running `ftl` in it.

use std::path::Path;
use std::process::{Command, Stdio};

use super::{docker, free_port, ftl_bin, http, unique, Dev, Kafka, TEST_IMAGE};

/// A project in a temporary directory; its broker container and volume are
/// removed when it is dropped.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub name: String,
    pub listen: String,
    uses_broker: bool,
}

impl Project {
    /// A project with `port: 0` and a free runner port.
    pub fn new() -> Project {
        let name = unique("t");
        let listen = format!("127.0.0.1:{}", free_port());
        let dir = tempfile::tempdir().expect("temp dir");
        let p = Project {
            dir,
            name,
            listen,
            uses_broker: true,
        };
        p.project_file("");
        p
    }

    /// Writes `ftl-project.yaml` anew, with more lines under `runner:`
    /// (each indented by two spaces, e.g. `  consumer: {a: b}`).
    pub fn project_file(&self, runner_extra: &str) {
        self.write(
            "ftl-project.yaml",
            &format!(
                "name: {}\npubsub:\n  broker:\n    kind: tansu\n    port: 0\nrunner:\n  listen: {}\n  grace: 5s\n{runner_extra}",
                self.name, self.listen
            ),
        );
    }

    /// A JSON request to this project's runner (`runner.listen`); the
    /// answer's status and body.
    pub fn http(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        http(&self.listen, method, path, body)
    }

    /// A project with one module `shop`: topic `t` (its attributes given,
    /// e.g. `partitions: 4, key: /u`) and subscription `s` calling HTTP verb
    /// `v` at `url` (extra attributes given, e.g. `retry: {count: 3}`).
    pub fn single_subscription(url: &str, topic: &str, sub_extra: &str) -> Project {
        let p = Project::new();
        let sub = if sub_extra.is_empty() {
            "topic: t, verb: v".to_string()
        } else {
            format!("topic: t, verb: v, {sub_extra}")
        };
        p.module("shop")
            .http_verb("v", url)
            .topic("t", topic)
            .subscription("s", &sub)
            .write();
        p
    }

    /// A module file, built from its parts: `p.module("shop").http_verb("v",
    /// url).topic("t", "partitions: 4, key: /u").subscription("s", "topic:
    /// t, verb: v").write()`.
    pub fn module(&self, name: &str) -> ModuleBuilder<'_> {
        ModuleBuilder {
            project: self,
            name: name.to_string(),
            verbs: Vec::new(),
            topics: Vec::new(),
            subscriptions: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.dir.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        // Write then rename so `ftl dev` never reads half a file.
        let tmp = p.with_extension("tmp~");
        std::fs::write(&tmp, text).expect("write");
        std::fs::rename(&tmp, &p).expect("rename");
    }

    /// `ftl` in this project, against the test broker.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(ftl_bin());
        c.current_dir(self.path())
            .env("FTL_BROKER_KIND", "tansu")
            .env("FTL_BROKER_IMAGE", TEST_IMAGE)
            .env("NO_COLOR", "1")
            // No user settings file of whoever runs the tests leaks in.
            .env("XDG_CONFIG_HOME", self.path().join(".no-user-config"))
            // Runner records of this project's `ftl dev`s, apart from others'.
            .env("XDG_STATE_HOME", self.path().join(".state"))
            .env_remove("RUST_LOG");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Output::of(self.cmd().args(args).output().expect("run ftl"))
    }

    /// `ftl` with `input` on its stdin.
    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = self
            .cmd()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run ftl");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
        Output::of(child.wait_with_output().expect("run ftl"))
    }

    /// `ftl dev --json`: tests follow its events.
    pub fn dev(&self) -> Dev {
        self.dev_with(&[])
    }

    pub fn dev_with(&self, extra_env: &[(&str, &str)]) -> Dev {
        self.spawn_dev(&["--json", "dev"], extra_env)
    }

    /// `ftl dev` as a person sees it: no events, only the text on stderr.
    pub fn dev_text(&self) -> Dev {
        self.spawn_dev(&["dev"], &[])
    }

    fn spawn_dev(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Dev {
        let mut c = self.cmd();
        c.args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        for (k, v) in extra_env {
            c.env(k, v);
        }
        Dev::spawn(c)
    }

    /// The bootstrap address of the running broker.
    pub fn bootstrap(&self) -> String {
        let c = docker::inspect(&self.container()).expect("the broker container exists");
        let port = c
            .host_config
            .and_then(|h| h.port_bindings)
            .and_then(|p| p.get("9092/tcp").cloned().flatten())
            .and_then(|b| b.first().and_then(|b| b.host_port.clone()))
            .expect("a published port");
        format!("127.0.0.1:{port}")
    }

    pub fn container(&self) -> String {
        format!("ftl-{}-broker", self.name)
    }

    pub fn kafka(&self) -> Kafka {
        Kafka {
            bootstrap: self.bootstrap(),
        }
    }

    pub fn without_broker(mut self) -> Self {
        self.uses_broker = false;
        self
    }
}

impl Default for Project {
    fn default() -> Self {
        Project::new()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if self.uses_broker {
            let _ = self
                .cmd()
                .args(["pubsub", "broker", "reset", "--yes"])
                .output();
        }
    }
}

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    fn of(out: std::process::Output) -> Output {
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn succeeds(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success; stderr:\n{}", self.stderr);
        self
    }

    /// Exits with `code` (1 failure, 2 usage or invalid project).
    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "stderr:\n{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }

    #[track_caller]
    pub fn says(&self, text: &str) -> &Self {
        assert!(
            self.stderr.contains(text),
            "stderr lacks `{text}`:\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn prints(&self, text: &str) -> &Self {
        assert!(
            self.stdout.contains(text),
            "stdout lacks `{text}`:\n{}",
            self.stdout
        );
        self
    }
}

/// A module file being put together (see `Project::module`).
pub struct ModuleBuilder<'p> {
    project: &'p Project,
    name: String,
    verbs: Vec<String>,
    topics: Vec<String>,
    subscriptions: Vec<String>,
}

impl ModuleBuilder<'_> {
    pub fn http_verb(mut self, name: &str, url: &str) -> Self {
        self.verbs.push(format!("{name}: {{http: \"{url}\"}}"));
        self
    }

    /// A verb given as YAML attributes, e.g. `exec: ["true"], timeout: 1s`.
    pub fn verb(mut self, name: &str, attrs: &str) -> Self {
        self.verbs.push(format!("{name}: {{{attrs}}}"));
        self
    }

    /// A topic given as YAML attributes; its events are untyped
    /// (`event: Any`) unless the attributes name an `event`.
    pub fn topic(mut self, name: &str, attrs: &str) -> Self {
        let attrs = match attrs {
            a if a.contains("event:") => a.to_string(),
            "" => "event: Any".to_string(),
            a => format!("event: Any, {a}"),
        };
        self.topics.push(format!("{name}: {{{attrs}}}"));
        self
    }

    pub fn subscription(mut self, name: &str, attrs: &str) -> Self {
        self.subscriptions.push(format!("{name}: {{{attrs}}}"));
        self
    }

    pub fn write(self) {
        let mut text = format!("module: {}\n", self.name);
        for (section, items) in [
            ("verbs", &self.verbs),
            ("topics", &self.topics),
            ("subscriptions", &self.subscriptions),
        ] {
            if !items.is_empty() {
                text.push_str(&format!("{section}:\n"));
                for i in items {
                    text.push_str(&format!("  {i}\n"));
                }
            }
        }
        self.project
            .write(&format!("{}/ftl.yaml", self.name), &text);
    }
}
