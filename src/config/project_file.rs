//! `ftl-project.yaml`: the project's name, modules, broker and runner.

use super::*;

impl Loader {
    pub(super) fn project_file(&mut self, src: usize) -> ProjectHeader {
        let mut header = ProjectHeader {
            name: None,
            modules: None,
            broker: BrokerSettings {
                kind: BrokerKind::Redpanda,
                image: None,
                port: DEFAULT_PORT,
                bootstrap: None,
                properties: BTreeMap::new(),
            },
            runner: RunnerSettings {
                listen: DEFAULT_LISTEN
                    .parse()
                    .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8892))),
                consumer: BTreeMap::new(),
                grace: Duration::from_secs(10),
            },
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
            self.check_keys(src, pubsub, PUBSUB_KEYS, "`pubsub`");
            if let Some(broker) = pubsub
                .get_node("broker")
                .and_then(|n| self.mapping(src, n, "`pubsub.broker`"))
            {
                self.broker(src, broker, &mut header.broker);
            }
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
                        Ok(addr) if addr.ip().is_loopback() => header.runner.listen = addr,
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
            }
            if let Some(n) = runner.get_node("grace") {
                if let Some(d) = self.duration(src, n, "`runner.grace`") {
                    header.runner.grace = d;
                }
            }
        }
        header
    }

    pub(super) fn broker(&mut self, src: usize, broker: &MarkedMappingNode, out: &mut BrokerSettings) {
        self.check_keys(src, broker, BROKER_KEYS, "`pubsub.broker`");
        if let Some(n) = broker.get_node("kind") {
            if let Some(s) = self.scalar(src, n, "`kind`", "a broker kind") {
                match BrokerKind::parse(s.as_str()) {
                    Some(k) => out.kind = k,
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
            out.image = self.string(src, n, "`image`");
        }
        if let Some(n) = broker.get_node("port") {
            if let Some(p) = self.integer(src, n, "`port`") {
                match u16::try_from(p) {
                    Ok(p) => out.port = p,
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
            out.bootstrap = self.string(src, n, "`bootstrap`");
        }
        if let Some(n) = broker.get_node("properties") {
            out.properties = self.string_map(src, n, "`properties`");
        }
        if out.kind == BrokerKind::External && out.bootstrap.is_none() {
            self.error(
                src,
                broker.span(),
                "an `external` broker needs `bootstrap`".into(),
                Some("add `bootstrap: \"host:9092\"`".into()),
            );
        }
    }
}
