//! A module's `ftl.yaml`: the file, its topics and subscriptions, each checked on
//! its own (verbs in `verb_file.rs`); references between them are `resolve`'s.

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
