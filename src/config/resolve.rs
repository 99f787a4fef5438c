//! Cross-file resolution: duplicate modules, topic and verb references,
//! exports, Kafka names, generated dead-letter topics.

use super::*;

impl Loader {
    /// Cross-file checks: duplicate modules, references, Kafka names.
    pub(super) fn resolve(
        &mut self,
        raw: Vec<RawModule>,
    ) -> (Vec<Module>, std::sync::Arc<crate::types::Types>) {
        let mut seen_modules: HashMap<String, usize> = HashMap::new();
        let mut raw_kept = Vec::new();
        for m in raw {
            if let Some(first) = seen_modules.get(&m.name) {
                let other = self.display_path(*first).display().to_string();
                self.error(
                    m.src,
                    &m.name_span,
                    format!("duplicate module `{}`", m.name),
                    Some(format!(
                        "`{other}` declares it too; module names are unique"
                    )),
                );
                continue;
            }
            seen_modules.insert(m.name.clone(), m.src);
            raw_kept.push(m);
        }
        let types = self.resolve_types(&mut raw_kept);
        // Every topic, generated dead-letter topics included, by (module, name).
        let mut topics: HashMap<(String, String), Topic> = HashMap::new();
        for m in &raw_kept {
            for (t, _) in &m.topics {
                topics.insert((m.name.clone(), t.name.clone()), t.clone());
            }
        }
        let mut modules = Vec::new();
        for m in raw_kept {
            let mut out = Module {
                name: m.name.clone(),
                file: self.root.join(&self.sources[m.src].rel),
                verbs: m.verbs,
                topics: Vec::new(),
                subscriptions: Vec::new(),
            };
            for (t, span) in &m.topics {
                if let Some(p) = kafka_name_problem(&t.kafka_name()) {
                    self.error(
                        m.src,
                        span,
                        p,
                        Some("shorten or rename the topic or module".into()),
                    );
                }
            }
            out.topics = m.topics.into_iter().map(|(t, _)| t).collect();
            let mut verbs_used: HashMap<String, String> = HashMap::new();
            let mut dead_letters = Vec::new();
            // Every dead-letter topic a subscription declares, valid or not:
            // a problem elsewhere in a subscription must not make a reference
            // to its dead-letter topic look dangling as well.
            let declared_dlqs: HashSet<String> = m
                .subs
                .iter()
                .filter(|rs| rs.sub.deadletter)
                .map(|rs| rs.sub.deadletter_topic())
                .collect();
            for mut rs in m.subs {
                let mut ok = rs.valid;
                // Resolve the topic reference.
                let (tm, tn) = match rs.topic_ref.split_once('.') {
                    Some((a, b)) => (a.to_string(), b.to_string()),
                    None => (m.name.clone(), rs.topic_ref.clone()),
                };
                let dlq_source = tn
                    .strip_suffix(DEADLETTER_SUFFIX)
                    .filter(|_| !topics.contains_key(&(tm.clone(), tn.clone())));
                let target = topics.get(&(tm.clone(), tn.clone())).cloned();
                match target {
                    Some(t) if t.module != m.name && !t.export => {
                        self.error(
                            m.src,
                            &rs.topic_span,
                            format!("topic `{tm}.{tn}` is not exported by module `{tm}`"),
                            Some(format!(
                                "add `export: true` to topic `{tn}` in module `{tm}`"
                            )),
                        );
                        ok = false;
                    }
                    Some(_) => {}
                    None if dlq_source.is_some() && tm == m.name => {
                        // A dead-letter topic of this module; checked once all
                        // subscriptions are known.
                    }
                    None => {
                        let candidates: Vec<String> =
                            topics.keys().map(|(a, b)| format!("{a}.{b}")).collect();
                        let hint = match suggest(
                            &format!("{tm}.{tn}"),
                            candidates.iter().map(String::as_str),
                        ) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None if candidates.is_empty() => {
                                "declare it under `topics:`".to_string()
                            }
                            None => format!("known topics: {}", sorted(candidates).join(", ")),
                        };
                        self.error(
                            m.src,
                            &rs.topic_span,
                            format!(
                                "subscription `{}` refers to unknown topic `{}`",
                                rs.sub.name, rs.topic_ref
                            ),
                            Some(hint),
                        );
                        ok = false;
                    }
                }
                rs.sub.topic = (tm, tn);
                // The verb: of this module, subscribed once.
                if !out.verbs.iter().any(|v| v.name == rs.sub.verb) {
                    let hint =
                        match suggest(&rs.sub.verb, out.verbs.iter().map(|v| v.name.as_str())) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("declare it under `verbs:` in module `{}`", m.name),
                        };
                    self.error(
                        m.src,
                        &rs.verb_span,
                        format!(
                            "subscription `{}` refers to unknown verb `{}`",
                            rs.sub.name, rs.sub.verb
                        ),
                        Some(hint),
                    );
                    ok = false;
                } else if let Some(first) = verbs_used.get(&rs.sub.verb) {
                    self.error(m.src, &rs.verb_span, format!("verb `{}` is subscribed twice", rs.sub.verb), Some(format!("subscription `{first}` already calls it; a verb has one subscription (seed: \"a subscription can only have a single subscriber verb\")")));
                    ok = false;
                } else {
                    verbs_used.insert(rs.sub.verb.clone(), rs.sub.name.clone());
                }
                for name in std::iter::once(rs.sub.group_id())
                    .chain(rs.sub.deadletter.then(|| rs.sub.deadletter_kafka_name()))
                {
                    if let Some(p) = kafka_name_problem(&name) {
                        self.error(
                            m.src,
                            &rs.span,
                            p,
                            Some("shorten or rename the subscription or module".into()),
                        );
                        ok = false;
                    }
                }
                if rs.sub.deadletter {
                    let dlq = rs.sub.deadletter_topic();
                    if out.topics.iter().any(|t| t.name == dlq) {
                        self.error(m.src, &rs.span, format!("topic `{dlq}` is declared and is also the dead-letter topic of subscription `{}`", rs.sub.name), Some("rename the topic or the subscription".into()));
                        ok = false;
                    }
                }
                if ok {
                    dead_letters.push((rs.sub.clone(), rs.topic_span));
                    out.subscriptions.push(rs.sub);
                }
            }
            // Generated dead-letter topics.
            let mut generated = Vec::new();
            for s in out.subscriptions.iter().filter(|s| s.deadletter) {
                let source = topics
                    .get(&s.topic)
                    .map(|t| t.ty.clone())
                    .unwrap_or_default();
                let ty = crate::types::TopicType {
                    types: types.clone(),
                    event: crate::types::EventType::Failed(Box::new(source.event)),
                };
                generated.push(Topic {
                    module: m.name.clone(),
                    name: s.deadletter_topic(),
                    event: ty.name(),
                    ty,
                    export: false,
                    partitions: 1,
                    key: None,
                    deadletter_of: Some(s.name.clone()),
                });
            }
            // Subscriptions to this module's dead-letter topics.
            let names: HashSet<String> = generated.iter().map(|t| t.name.clone()).collect();
            for (s, span) in &dead_letters {
                if s.topic.0 == m.name
                    && !topics.contains_key(&s.topic)
                    && !names.contains(&s.topic.1)
                    && !declared_dlqs.contains(&s.topic.1)
                {
                    self.error(m.src, span, format!("subscription `{}` refers to unknown topic `{}`", s.name, s.topic.1), Some(format!("`{}` would be a dead-letter topic, but subscription `{}` does not declare `deadletter: true`", s.topic.1, s.topic.1.trim_end_matches(DEADLETTER_SUFFIX))));
                }
            }
            out.topics.extend(generated);
            modules.push(out);
        }
        (modules, types)
    }
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
