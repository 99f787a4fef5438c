//! The resolved project written out: in FTL's schema syntax (`ftl schema`)
//! and as JSON (`ftl schema --format json`).

use std::fmt::Write as _;

use super::*;

impl Project {
    /// The resolved schema in the seed's FTL syntax.
    pub fn to_ftl(&self) -> String {
        let mut out = String::new();
        for (i, m) in self.modules.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let _ = writeln!(out, "module {} {{", m.name);
            let mut blocks: Vec<String> = self.types.ftl_blocks(&m.name);
            for t in &m.topics {
                let mut b = String::new();
                let export = if t.export { "export " } else { "" };
                let _ = writeln!(b, "  {export}topic {} {}", t.name, t.event);
                let _ = writeln!(b, "    +partitions {}", t.partitions);
                if let Some(k) = &t.key {
                    let _ = writeln!(b, "    +key {k}");
                }
                blocks.push(b);
            }
            for s in &m.subscriptions {
                let mut b = String::new();
                let _ = writeln!(
                    b,
                    "  subscription {} ({}.{} : {}.{})",
                    s.name, s.topic.0, s.topic.1, s.module, s.verb
                );
                if s.retry.count > 0 {
                    let _ = writeln!(
                        b,
                        "    +retry {} {} {}",
                        s.retry.count,
                        format_duration(s.retry.min_backoff),
                        format_duration(s.retry.max_backoff)
                    );
                }
                let _ = writeln!(
                    b,
                    "    +batch {} {} {}",
                    format_size(s.batch.min),
                    format_size(s.batch.default),
                    format_duration(s.batch.max_wait)
                );
                if s.deadletter {
                    let _ = writeln!(b, "    +deadletter");
                }
                if let Concurrency::Key { max } = s.concurrency {
                    let _ = writeln!(b, "    +concurrency key {max}");
                }
                let from = match s.from {
                    StartFrom::Beginning => "beginning",
                    StartFrom::Latest => "latest",
                };
                let _ = writeln!(b, "    +from {from}");
                blocks.push(b);
            }
            for v in &m.verbs {
                let mut b = String::new();
                let _ = writeln!(b, "  verb {}", v.name);
                match &v.call {
                    VerbCall::Http(url) => {
                        let _ = writeln!(b, "    +http {url}");
                    }
                    VerbCall::Exec(argv) => {
                        let _ = writeln!(b, "    +exec {}", argv.join(" "));
                    }
                    VerbCall::Grpc(url) => {
                        let _ = writeln!(b, "    +grpc {url}");
                    }
                }
                let _ = writeln!(b, "    +timeout {}", format_duration(v.timeout));
                blocks.push(b);
            }
            out.push_str(&blocks.join("\n"));
            out.push_str("}\n");
        }
        out
    }

    /// The resolved schema as one JSON document, Kafka names included;
    /// `types` holds a JSON Schema (2020-12) per data type.
    pub fn to_json(&self) -> serde_json::Value {
        let modules: Vec<serde_json::Value> = self
            .modules
            .iter()
            .map(|m| {
                let topics: Vec<serde_json::Value> = m
                    .topics
                    .iter()
                    .map(|t| {
                        let mut v = serde_json::to_value(t).unwrap_or_default();
                        if let Some(o) = v.as_object_mut() {
                            o.remove("ty"); // the schema gives `types` once
                        }
                        v["kafka_topic"] = t.kafka_name().into();
                        v
                    })
                    .collect();
                let subs: Vec<serde_json::Value> = m
                    .subscriptions
                    .iter()
                    .map(|s| {
                        let mut v = serde_json::to_value(s).unwrap_or_default();
                        v["topic"] = topic_name(&s.topic.0, &s.topic.1).into();
                        v["kafka_topic"] = s.topic_kafka_name().into();
                        v["consumer_group"] = s.group_id().into();
                        v["deadletter_topic"] = if s.deadletter {
                            s.deadletter_kafka_name().into()
                        } else {
                            serde_json::Value::Null
                        };
                        v
                    })
                    .collect();
                serde_json::json!({
                    "name": m.name,
                    "verbs": m.verbs,
                    "topics": topics,
                    "subscriptions": subs,
                })
            })
            .collect();
        serde_json::json!({
            "project": self.name,
            "modules": modules,
            "types": crate::types::data_schemas(&self.types),
        })
    }
}
