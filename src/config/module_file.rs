//! A module's `ftl.yaml`: verbs, topics and subscriptions, each checked on
//! its own; references between them are `resolve`'s.

use super::*;
use crate::schema::Concurrency;

impl Loader {
    pub(super) fn module_file(&mut self, src: usize) -> Option<RawModule> {
        let root = self.parse(src)?;
        self.check_keys(src, &root, MODULE_KEYS, "ftl.yaml");
        let (name, name_span) = match root.get_scalar("module") {
            Some(s) if self.check_name(src, s, "module") => (s.as_str().to_string(), *s.span()),
            Some(_) => return None,
            None => {
                self.error_at(
                    src,
                    1,
                    1,
                    1,
                    "missing `module`".into(),
                    Some("add `module: <name>` at the top".into()),
                );
                return None;
            }
        };
        let mut m = RawModule {
            src,
            name: name.clone(),
            name_span,
            verbs: Vec::new(),
            topics: Vec::new(),
            events: HashMap::new(),
            types: self.type_sections(src, &root),
            subs: Vec::new(),
        };

        if let Some(verbs) = root
            .get_node("verbs")
            .and_then(|n| self.mapping(src, n, "`verbs`"))
        {
            for (key, node) in verbs.iter() {
                if !self.check_name(src, key, "verb") {
                    continue;
                }
                if let Some(v) = self.verb(src, &name, key, node) {
                    m.verbs.push(v);
                }
            }
        }
        if let Some(topics) = root
            .get_node("topics")
            .and_then(|n| self.mapping(src, n, "`topics`"))
        {
            for (key, node) in topics.iter() {
                if !self.check_name(src, key, "topic") {
                    continue;
                }
                if let Some((t, raw)) = self.topic(src, &name, key, node) {
                    m.events.insert(t.name.clone(), raw);
                    m.topics.push((t, *key.span()));
                }
            }
        }
        if let Some(subs) = root
            .get_node("subscriptions")
            .and_then(|n| self.mapping(src, n, "`subscriptions`"))
        {
            for (key, node) in subs.iter() {
                if !self.check_name(src, key, "subscription") {
                    continue;
                }
                if let Some(s) = self.subscription(src, &name, key, node) {
                    m.subs.push(s);
                }
            }
        }
        Some(m)
    }

    pub(super) fn verb(
        &mut self,
        src: usize,
        module: &str,
        key: &MarkedScalarNode,
        node: &Node,
    ) -> Option<Verb> {
        let what = format!("verb `{}`", key.as_str());
        let Some(map) = self.mapping(src, node, &what) else {
            self.scalar_error(
                src,
                key,
                format!("{what} has no `http`, `exec` or `grpc`"),
                Some("add `http: http://127.0.0.1:PORT/path`, `exec: [\"cmd\", \"arg\"]` or `grpc: http://127.0.0.1:PORT`".into()),
            );
            return None;
        };
        self.check_keys(src, map, VERB_KEYS, &what);
        let http = map
            .get_node("http")
            .and_then(|n| self.string(src, n, &format!("`http` of {what}")));
        let exec = map.get_node("exec").and_then(|n| match n {
            Node::Sequence(seq) if !seq.is_empty() => {
                let mut argv = Vec::new();
                for item in seq.iter() {
                    match item.as_scalar() {
                        Some(s) => argv.push(s.as_str().to_string()),
                        None => self.error(src, item.span(), format!("each item of `exec` of {what} must be a string"), Some("write the command and its arguments as strings, like `[\"python3\", \"handler.py\"]`".into())),
                    }
                }
                if argv.first().is_some_and(|c| c.trim().is_empty()) {
                    self.error(src, seq.iter().next().map_or(n.span(), |i| i.span()), format!("the command of `exec` of {what} is empty"), Some("name a program first, like `[\"python3\", \"handler.py\"]`".into()));
                    return None;
                }
                (argv.len() == seq.len()).then_some(argv)
            }
            other => {
                self.error(src, other.span(), format!("`exec` of {what} must be a non-empty list, like `[\"python3\", \"handler.py\"]`"), Some("the command runs without a shell; put each argument in its own list item".into()));
                None
            }
        });
        if let Some(url) = &http {
            if let Some(problem) = http_url_problem(url) {
                if let Some(n) = map.get_node("http") {
                    self.error(
                        src,
                        n.span(),
                        format!("`http` of {what} must be an http:// URL, not `{url}`: {problem}"),
                        Some("write it like `http://127.0.0.1:8081/processOrder`".into()),
                    );
                }
                return None;
            }
        }
        let grpc = map
            .get_node("grpc")
            .and_then(|n| self.string(src, n, &format!("`grpc` of {what}")));
        if let Some(url) = &grpc {
            if let Some(problem) = http_url_problem(url) {
                if let Some(n) = map.get_node("grpc") {
                    self.error(
                        src,
                        n.span(),
                        format!("`grpc` of {what} must be the module server's http:// address, not `{url}`: {problem}"),
                        Some("write it like `http://127.0.0.1:8893`".into()),
                    );
                }
                return None;
            }
        }
        let call = match (http, exec, grpc) {
            (Some(url), None, None) => VerbCall::Http(url),
            (None, Some(argv), None) => VerbCall::Exec(argv),
            (None, None, Some(url)) => VerbCall::Grpc(url),
            (None, None, None) => {
                if ["http", "exec", "grpc"]
                    .iter()
                    .all(|k| map.get_node(k).is_none())
                {
                    self.scalar_error(
                        src,
                        key,
                        format!("{what} has neither `http`, `exec` nor `grpc`"),
                        Some(
                            "add `http: http://127.0.0.1:PORT/path`, `exec: [\"cmd\", \"arg\"]` or `grpc: http://127.0.0.1:PORT`"
                                .into(),
                        ),
                    );
                }
                return None;
            }
            _ => {
                self.scalar_error(
                    src,
                    key,
                    format!("{what} is called more than one way (`http`, `exec`, `grpc`)"),
                    Some("a verb is called one way: keep one of them".into()),
                );
                return None;
            }
        };
        let timeout = match map.get_node("timeout") {
            Some(n) => match self.duration(src, n, &format!("`timeout` of {what}")) {
                Some(d) if d.is_zero() => {
                    self.error(
                        src,
                        n.span(),
                        format!("a `timeout` of 0s would fail every call of {what}"),
                        Some("give the verb time to answer, like `30s`".into()),
                    );
                    return None;
                }
                Some(d) => d,
                None => Duration::from_secs(30),
            },
            None => Duration::from_secs(30),
        };
        let env = self.exec_env(src, map, &what, matches!(call, VerbCall::Exec(_)))?;
        Some(Verb {
            module: module.into(),
            name: key.as_str().into(),
            call,
            timeout,
            env,
        })
    }

    /// `env`, `inherit_env` and `pass_env` of an exec verb.
    fn exec_env(
        &mut self,
        src: usize,
        map: &MarkedMappingNode,
        what: &str,
        exec: bool,
    ) -> Option<ExecEnv> {
        let mut out = ExecEnv::default();
        let mut ok = true;
        if !exec {
            for k in ["env", "inherit_env", "pass_env"] {
                if let Some(n) = map.get_node(k) {
                    self.error(
                        src,
                        n.span(),
                        format!("`{k}` of {what} applies to exec verbs only"),
                        Some("an HTTP or gRPC verb runs on its own; set its environment where it starts".into()),
                    );
                    ok = false;
                }
            }
            return ok.then_some(out);
        }
        if let Some(n) = map.get_node("inherit_env") {
            match self.boolean(src, n, &format!("`inherit_env` of {what}")) {
                Some(b) => out.inherit_env = b,
                None => ok = false,
            }
        }
        if let Some(n) = map.get_node("pass_env") {
            match n {
                Node::Sequence(seq) => {
                    for item in seq.iter() {
                        match item.as_scalar() {
                            Some(s) if env_name_problem(s.as_str()).is_none() => {
                                out.pass_env.push(s.as_str().to_string())
                            }
                            Some(s) => {
                                let why = env_name_problem(s.as_str()).unwrap_or_default();
                                self.scalar_error(
                                    src,
                                    s,
                                    format!("`pass_env` of {what}: {why}"),
                                    None,
                                );
                                ok = false;
                            }
                            None => {
                                self.error(
                                    src,
                                    item.span(),
                                    format!(
                                        "each item of `pass_env` of {what} must be a variable name"
                                    ),
                                    None,
                                );
                                ok = false;
                            }
                        }
                    }
                    if out.inherit_env {
                        self.error(
                            src,
                            n.span(),
                            format!("`pass_env` of {what} needs `inherit_env: false`"),
                            Some("the verb inherits the whole environment unless `inherit_env: false`; `pass_env` then says which variables it keeps".into()),
                        );
                        ok = false;
                    }
                }
                other => {
                    self.error(
                        src,
                        other.span(),
                        format!(
                            "`pass_env` of {what} must be a list of names, like `[PATH, HOME]`"
                        ),
                        None,
                    );
                    ok = false;
                }
            }
        }
        if let Some(n) = map.get_node("env") {
            let m = self.mapping(src, n, &format!("`env` of {what}"))?;
            for (k, v) in m.iter() {
                if let Some(why) = env_name_problem(k.as_str()) {
                    self.scalar_error(src, k, format!("`env` of {what}: {why}"), None);
                    ok = false;
                    continue;
                }
                let Some(value) = self.scalar(
                    src,
                    v,
                    &format!("`env` `{}` of {what}", k.as_str()),
                    "a string",
                ) else {
                    ok = false;
                    continue;
                };
                if value.as_str().contains('\0') {
                    self.scalar_error(src, value, format!("`env` `{}` of {what} holds a NUL character, which no environment value can", k.as_str()), None);
                    ok = false;
                    continue;
                }
                out.env
                    .insert(k.as_str().to_string(), value.as_str().to_string());
            }
        }
        ok.then_some(out)
    }

    pub(super) fn topic(
        &mut self,
        src: usize,
        module: &str,
        key: &MarkedScalarNode,
        node: &Node,
    ) -> Option<(Topic, RawEvent)> {
        let what = format!("topic `{}`", key.as_str());
        let empty = MarkedMappingNode::new_empty(*node.span());
        let map = self.mapping(src, node, &what).unwrap_or(&empty);
        self.check_keys(src, map, TOPIC_KEYS, &what);
        // The type is resolved once every module's types are known.
        let event = match map.get_node("event") {
            Some(n) => self
                .string(src, n, &format!("`event` of {what}"))
                .map(|e| (e, super::types::node_span(n))),
            None => {
                self.scalar_error(
                    src,
                    key,
                    format!("{what} has no `event` type"),
                    Some(format!(
                        "name the type of its events, like `event: {}` with `{}` declared under `data:`, or write `event: Any` to accept any JSON",
                        upper_first(key.as_str()),
                        upper_first(key.as_str())
                    )),
                );
                None
            }
        };
        let event_text = event.as_ref().map(|(e, _)| e.clone()).unwrap_or_default();
        let export = map
            .get_node("export")
            .and_then(|n| self.boolean(src, n, "`export`"))
            .unwrap_or(false);
        let mut partitions = 1;
        let mut ok = true;
        if let Some(n) = map.get_node("partitions") {
            match self.integer(src, n, "`partitions`") {
                Some(p) if (1..=i64::from(i32::MAX)).contains(&p) => partitions = p as i32,
                Some(p) => {
                    self.error(
                        src,
                        n.span(),
                        format!("{what} has {p} partitions; a topic needs at least 1"),
                        Some("set `partitions: 1` or more".into()),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        let key_ptr = match map.get_node("key") {
            Some(n) => match self.string(src, n, "`key`") {
                Some(p) if p.starts_with('/') => Some(p),
                Some(p) => {
                    self.error(
                        src,
                        n.span(),
                        format!("`key` of {what} must be a JSON pointer, not `{p}`"),
                        Some(format!("JSON pointers start with `/`: write `/{p}`")),
                    );
                    ok = false;
                    None
                }
                None => None,
            },
            None => None,
        };
        if ok && partitions > 1 && key_ptr.is_none() {
            self.scalar_error(src, key, format!("{what} has {partitions} partitions but no `key`"), Some("add `key: /field` (a JSON pointer into the event) so events of one key stay in order in one partition, or use 1 partition".into()));
        }
        // Kept even when invalid (the load fails anyway) so references to it
        // do not cascade into "unknown topic" errors.
        let _ = ok;
        let key_span = map.get_node("key").map(super::types::node_span);
        Some((
            Topic {
                module: module.into(),
                name: key.as_str().into(),
                event: event_text,
                export,
                partitions,
                key: key_ptr,
                deadletter_of: None,
                ty: Default::default(),
            },
            RawEvent {
                event,
                key: key_span,
            },
        ))
    }

    pub(super) fn subscription(
        &mut self,
        src: usize,
        module: &str,
        key: &MarkedScalarNode,
        node: &Node,
    ) -> Option<RawSubscription> {
        let what = format!("subscription `{}`", key.as_str());
        let Some(map) = self.mapping(src, node, &what) else {
            self.scalar_error(
                src,
                key,
                format!("{what} has no `topic` and `verb`"),
                Some("add `topic: <topic>` and `verb: <verb>`".into()),
            );
            return None;
        };
        self.check_keys(src, map, SUB_KEYS, &what);
        let mut ok = true;
        let topic = match map.get_node("topic") {
            Some(n) => self
                .scalar(src, n, "`topic`", "a topic name")
                .map(|s| (s.as_str().to_string(), *s.span())),
            None => {
                self.scalar_error(
                    src,
                    key,
                    format!("{what} has no `topic`"),
                    Some("add `topic: <topic>` or `topic: <module>.<topic>`".into()),
                );
                None
            }
        };
        let verb = match map.get_node("verb") {
            Some(n) => self
                .scalar(src, n, "`verb`", "a verb name")
                .map(|s| (s.as_str().to_string(), *s.span())),
            None => {
                self.scalar_error(
                    src,
                    key,
                    format!("{what} has no `verb`"),
                    Some("add `verb: <verb of this module>`".into()),
                );
                None
            }
        };
        let from = match map
            .get_node("from")
            .and_then(|n| self.scalar(src, n, "`from`", "beginning or latest"))
        {
            None => StartFrom::Beginning,
            Some(s) => match s.as_str() {
                "beginning" => StartFrom::Beginning,
                "latest" => StartFrom::Latest,
                other => {
                    self.scalar_error(
                        src,
                        s,
                        format!("`from` must be `beginning` or `latest`, not `{other}`"),
                        None,
                    );
                    ok = false;
                    StartFrom::Beginning
                }
            },
        };
        let deadletter = map
            .get_node("deadletter")
            .and_then(|n| self.boolean(src, n, "`deadletter`"))
            .unwrap_or(false);
        let mut retry = Retry::default();
        if let Some(r) = map
            .get_node("retry")
            .and_then(|n| self.mapping(src, n, "`retry`"))
        {
            self.check_keys(src, r, RETRY_KEYS, "`retry`");
            if let Some(n) = r.get_node("count") {
                match self.integer(src, n, "`retry.count`") {
                    Some(c) if (0..=i64::from(u32::MAX)).contains(&c) => retry.count = c as u32,
                    Some(c) => {
                        self.error(
                            src,
                            n.span(),
                            format!("`retry.count` cannot be {c}"),
                            Some("use 0 or more".into()),
                        );
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            let min = r
                .get_node("min_backoff")
                .map(|n| self.duration(src, n, "`retry.min_backoff`"));
            let max = r
                .get_node("max_backoff")
                .map(|n| self.duration(src, n, "`retry.max_backoff`"));
            match (min, max) {
                (Some(None), _) | (_, Some(None)) => ok = false,
                (min, max) => {
                    if let Some(Some(d)) = min {
                        retry.min_backoff = d;
                        retry.max_backoff = retry.max_backoff.max(d);
                    }
                    if let Some(Some(d)) = max {
                        retry.max_backoff = d;
                    }
                    if retry.max_backoff < retry.min_backoff {
                        self.error(
                            src,
                            r.span(),
                            "`retry.max_backoff` is shorter than `min_backoff`".into(),
                            Some("the backoff doubles from min_backoff up to max_backoff".into()),
                        );
                        ok = false;
                    }
                }
            }
        }
        let mut batch = Batch::default();
        if let Some(b) = map
            .get_node("batch")
            .and_then(|n| self.mapping(src, n, "`batch`"))
        {
            self.check_keys(src, b, BATCH_KEYS, "`batch`");
            for (field, slot) in [("min", &mut batch.min), ("default", &mut batch.default)] {
                if let Some(n) = b.get_node(field) {
                    match self.size(src, n, &format!("`batch.{field}`")) {
                        Some(v) if v >= 1 && v <= i32::MAX as u64 => *slot = v,
                        Some(v) => {
                            self.error(
                                src,
                                n.span(),
                                format!("`batch.{field}` of {v} bytes is out of range"),
                                Some("use between 1B and 2047MB".into()),
                            );
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
            }
            if let Some(n) = b.get_node("max_wait") {
                match self.duration(src, n, "`batch.max_wait`") {
                    Some(d) => batch.max_wait = d,
                    None => ok = false,
                }
            }
            if batch.min > batch.default {
                self.error(
                    src,
                    b.span(),
                    "`batch.min` is larger than `batch.default`".into(),
                    Some("min is the bytes to wait for, default the most to fetch at once".into()),
                );
                ok = false;
            }
        }
        // Checked with or without a `batch` key: `runner.consumer` may move
        // the limits under the defaults.
        let batch_node = map.get_node("batch").and_then(|n| n.as_mapping());
        for (field, message, hint) in
            crate::limits::batch_problems(&batch, &self.consumer_overrides)
        {
            let name = match field {
                BatchField::Min => "min",
                BatchField::Default => "default",
                BatchField::MaxWait => "max_wait",
            };
            let span = batch_node
                .map(|b| b.get_node(name).map(|n| *n.span()).unwrap_or(*b.span()))
                .unwrap_or(*key.span());
            let hint = if batch_node.and_then(|b| b.get_node(name)).is_some() {
                hint
            } else {
                format!("{hint}; or change `message.max.bytes` in `runner.consumer`")
            };
            self.error(src, &span, message, Some(hint));
            ok = false;
        }
        let concurrency = match map.get_node("concurrency") {
            Some(n) => self.concurrency(src, n).unwrap_or_else(|| {
                ok = false;
                Concurrency::default()
            }),
            None => Concurrency::default(),
        };
        let ((topic_ref, topic_span), (verb, verb_span)) = (topic?, verb?);
        Some(RawSubscription {
            sub: Subscription {
                module: module.into(),
                name: key.as_str().into(),
                topic: (String::new(), String::new()),
                verb,
                from,
                deadletter,
                retry,
                batch,
                concurrency,
            },
            span: *key.span(),
            topic_ref,
            topic_span,
            verb_span,
            valid: ok,
        })
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Why a verb's URL cannot be called, if it cannot.
fn http_url_problem(url: &str) -> Option<String> {
    match reqwest::Url::parse(url) {
        Err(e) => Some(e.to_string()),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => {
            Some(format!("the scheme is `{}`", u.scheme()))
        }
        Ok(u) if u.host_str().is_none_or(str::is_empty) => Some("it names no host".into()),
        Ok(_) => None,
    }
}

/// Why `name` cannot be an environment variable of a verb, if it cannot.
fn env_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("a variable name cannot be empty".into());
    }
    if name.contains(['=', '\0']) || name.chars().any(char::is_control) {
        return Some(format!(
            "`{}` is not a variable name (no `=` or control characters)",
            name.escape_debug()
        ));
    }
    if name.starts_with("FTL_") {
        return Some(format!(
            "`{name}` is set by ftl for each call (the `FTL_` names are its own)"
        ));
    }
    None
}
