//! A subscription's `concurrency: {per: partition | key, max: N}`.

use super::*;
use crate::schema::Concurrency;

impl Loader {
    /// The setting, or `None` after reporting what is wrong with it.
    pub(super) fn concurrency(&mut self, src: usize, node: &Node) -> Option<Concurrency> {
        let Some(map) = self.mapping(src, node, "`concurrency`") else {
            // An empty value means the default; a wrong one was reported.
            return matches!(node, Node::Scalar(_)).then_some(Concurrency::default());
        };
        self.check_keys(src, map, CONCURRENCY_KEYS, "`concurrency`");
        // Both fields are checked before giving up, so both are reported.
        let per = match map.get_node("per") {
            None => Some(false),
            Some(n) => {
                let s = self.scalar(src, n, "`concurrency.per`", "`partition` or `key`")?;
                match s.as_str() {
                    "partition" => Some(false),
                    "key" => Some(true),
                    other => {
                        self.error(
                            src,
                            s.span(),
                            format!(
                                "`concurrency.per` must be `partition` or `key`, not `{other}`"
                            ),
                            Some(
                                "`key` runs events of different keys at once, in order per key"
                                    .into(),
                            ),
                        );
                        None
                    }
                }
            }
        };
        let max = match map.get_node("max") {
            None => Some(None),
            Some(n) => match self.integer(src, n, "`concurrency.max`") {
                Some(v) if (1..=i64::from(Concurrency::LIMIT)).contains(&v) => {
                    Some(Some((v as u32, *n.span())))
                }
                Some(v) => {
                    self.error(
                        src,
                        n.span(),
                        format!("`concurrency.max` cannot be {v}"),
                        Some(format!(
                            "use 1 to {}: the most events of one partition at the verb at once",
                            Concurrency::LIMIT
                        )),
                    );
                    None
                }
                None => None,
            },
        };
        match (per?, max?) {
            (true, max) => Some(Concurrency::Key {
                max: max.map_or(Concurrency::DEFAULT_MAX, |(v, _)| v),
            }),
            (false, None) => Some(Concurrency::Partition),
            (false, Some((_, span))) => {
                self.error(
                    src,
                    &span,
                    "`concurrency.max` needs `per: key`".into(),
                    Some(
                        "with `per: partition` a partition's events reach the verb one at a time; \
                         add `per: key` to run events of different keys at once"
                            .into(),
                    ),
                );
                None
            }
        }
    }
}
