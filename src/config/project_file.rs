//! `ftl-project.yaml`: the project's name, modules, broker and runner.

use super::*;

impl Loader {
    pub(super) fn project_file(&mut self, src: usize) -> ProjectHeader {
        let mut header = ProjectHeader {
            name: None,
            modules: None,
            broker: BrokerLayer::default(),
            runner: RunnerSettings {
                listen: DEFAULT_LISTEN,
                consumer: BTreeMap::new(),
                grace: DEFAULT_GRACE,
            },
            runner_origins: BTreeMap::new(),
        };
        let Some(root) = self.parse(src) else {
            return header;
        };
        self.check_keys(src, &root, PROJECT_KEYS, "ftl-project.yaml");
        match root.get_node("name") {
            None => self.error_at(
                src,
                1,
                1,
                1,
                "missing `name`".into(),
                Some(
                    "add `name: myproject` (a-z, 0-9 and `-`); it names the broker container"
                        .into(),
                ),
            ),
            Some(n) => {
                if let Some(s) = self.scalar(src, n, "`name`", "a string") {
                    let name = s.as_str();
                    let ok = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                        && name
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                    if ok {
                        header.name = Some(name.to_string());
                    } else {
                        self.scalar_error(src, s, format!("project name `{name}` is not allowed"), Some("use a lowercase letter followed by a-z, 0-9 or `-`; it names the broker container".into()));
                    }
                }
            }
        }
        if let Some(n) = root.get_node("modules") {
            match n {
                Node::Sequence(seq) => {
                    let mut list = Vec::new();
                    for item in seq.iter() {
                        if let Some(s) =
                            self.scalar(src, item, "a `modules` entry", "a folder name")
                        {
                            list.push((s.as_str().to_string(), *s.span()));
                        }
                    }
                    header.modules = Some(list);
                }
                other => self.error(
                    src,
                    other.span(),
                    "`modules` must be a list of folder names, like `[pizza, kitchen]`".into(),
                    None,
                ),
            }
        }
        if let Some(pubsub) = root
            .get_node("pubsub")
            .and_then(|n| self.mapping(src, n, "`pubsub`"))
        {
            header.broker = self.pubsub(src, pubsub);
        }
        if let Some(runner) = root
            .get_node("runner")
            .and_then(|n| self.mapping(src, n, "`runner`"))
        {
            self.check_keys(src, runner, RUNNER_KEYS, "`runner`");
            if let Some(n) = runner.get_node("listen") {
                if let Some(s) = self.scalar(
                    src,
                    n,
                    "`runner.listen`",
                    "an address like `127.0.0.1:8892`",
                ) {
                    match s.as_str().parse::<SocketAddr>() {
                        Ok(addr) if addr.ip().is_loopback() => {
                            header.runner.listen = addr;
                            header
                                .runner_origins
                                .insert("runner.listen", self.origin(src, s.span()));
                        }
                        Ok(_) => self.scalar_error(
                            src,
                            s,
                            format!(
                                "`runner.listen` must be a loopback address, not `{}`",
                                s.as_str()
                            ),
                            Some(
                                "the runner only listens on this machine: use `127.0.0.1:<port>`"
                                    .into(),
                            ),
                        ),
                        Err(_) => self.scalar_error(
                            src,
                            s,
                            format!("`{}` is not an address", s.as_str()),
                            Some("write it as `127.0.0.1:8892`".into()),
                        ),
                    }
                }
            }
            if let Some(n) = runner.get_node("consumer") {
                header.runner.consumer = self.string_map(src, n, "`runner.consumer`");
                header
                    .runner_origins
                    .insert("runner.consumer", self.origin(src, n.span()));
            }
            if let Some(n) = runner.get_node("grace") {
                if let Some(d) = self.duration(src, n, "`runner.grace`") {
                    header.runner.grace = d;
                    header
                        .runner_origins
                        .insert("runner.grace", self.origin(src, n.span()));
                }
            }
        }
        header
    }

    /// The `pubsub` section: of the project file, or the whole of the user
    /// settings file (which holds nothing else).
    pub(super) fn pubsub(&mut self, src: usize, pubsub: &MarkedMappingNode) -> BrokerLayer {
        self.check_keys(src, pubsub, PUBSUB_KEYS, "`pubsub`");
        match pubsub
            .get_node("broker")
            .and_then(|n| self.mapping(src, n, "`pubsub.broker`"))
        {
            Some(broker) => self.broker(src, broker),
            None => BrokerLayer::default(),
        }
    }

    fn broker(&mut self, src: usize, broker: &MarkedMappingNode) -> BrokerLayer {
        self.check_keys(src, broker, BROKER_KEYS, "`pubsub.broker`");
        let mut out = BrokerLayer::default();
        if let Some(n) = broker.get_node("kind") {
            if let Some(s) = self.scalar(src, n, "`kind`", "a broker kind") {
                match BrokerKind::parse(s.as_str()) {
                    Some(k) => out.kind = Some((k, self.origin(src, s.span()))),
                    None => self.scalar_error(
                        src,
                        s,
                        format!("unknown broker kind `{}`", s.as_str()),
                        Some("use one of redpanda, kafka, tansu, external".into()),
                    ),
                }
            }
        }
        if let Some(n) = broker.get_node("image") {
            out.image = self
                .string(src, n, "`image`")
                .map(|i| (i, self.origin(src, n.span())));
        }
        if let Some(n) = broker.get_node("port") {
            if let Some(p) = self.integer(src, n, "`port`") {
                match u16::try_from(p) {
                    Ok(p) => out.port = Some((p, self.origin(src, n.span()))),
                    Err(_) => self.error(
                        src,
                        n.span(),
                        format!("port {p} is out of range"),
                        Some("use 1-65535, or 0 to pick a free port".into()),
                    ),
                }
            }
        }
        if let Some(n) = broker.get_node("bootstrap") {
            out.bootstrap = self
                .string(src, n, "`bootstrap`")
                .map(|b| (b, self.origin(src, n.span())));
        }
        if let Some(n) = broker.get_node("properties") {
            let props = self.string_map(src, n, "`properties`");
            out.properties = Some((props, self.origin(src, n.span())));
        }
        if matches!(out.kind, Some((BrokerKind::External, _))) && out.bootstrap.is_none() {
            self.error(
                src,
                broker.span(),
                "an `external` broker needs `bootstrap`".into(),
                Some("add `bootstrap: \"host:9092\"`".into()),
            );
        }
        out
    }

    /// The user settings file: `pubsub.broker` keys only.
    pub(super) fn user_file(&mut self, src: usize) -> BrokerLayer {
        let Some(root) = self.parse(src) else {
            return BrokerLayer::default();
        };
        self.check_keys(src, &root, &["pubsub"], "the user settings file");
        match root
            .get_node("pubsub")
            .and_then(|n| self.mapping(src, n, "`pubsub`"))
        {
            Some(pubsub) => self.pubsub(src, pubsub),
            None => BrokerLayer::default(),
        }
    }
}
