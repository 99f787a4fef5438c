//! Settings from layers, highest first: command-line flags, the environment,
//! the project file, the user settings file, built-in defaults. The
//! defaults of these layered settings live here; every resolved value
//! remembers where it came from (`ftl settings` shows it). The defaults of a
//! module's own declarations (retry, batch, a verb's timeout) live with their
//! types in `crate::schema` and where `config/module_file.rs` reads them.
//!
//! The user settings file (`config.yaml` in the user's config directory, on
//! Linux `$XDG_CONFIG_HOME/ftl/` or `~/.config/ftl/`) holds the same keys as
//! `ftl-project.yaml`'s `pubsub.broker` section, as personal defaults: a
//! developer without registry access sets the broker there once.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::schema::{BrokerKind, BrokerSettings};

pub const DEFAULT_KIND: BrokerKind = BrokerKind::Redpanda;
/// 0: a free port, picked when the broker container is created and kept by it.
pub const DEFAULT_PORT: u16 = 0;
/// Port 0: a free port each start, recorded where every command finds it
/// (`crate::runtime`).
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(127, 0, 0, 1), 0));
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// The user settings file's name in the user's config directory.
pub const USER_FILE: &str = "config.yaml";

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Origin {
    Flag {
        flag: String,
    },
    Env {
        variable: String,
    },
    /// A project or user settings file, at the value's position.
    File {
        file: PathBuf,
        line: usize,
        column: usize,
    },
    Default,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag { flag } => write!(f, "flag {flag}"),
            Origin::Env { variable } => write!(f, "environment {variable}"),
            Origin::File { file, line, column } => {
                write!(f, "{}:{line}:{column}", file.display())
            }
            Origin::Default => f.write_str("default"),
        }
    }
}

/// The `pubsub.broker` keys one layer sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerLayer {
    pub kind: Option<(BrokerKind, Origin)>,
    pub image: Option<(String, Origin)>,
    pub port: Option<(u16, Origin)>,
    pub bootstrap: Option<(String, Origin)>,
    pub properties: Option<(BTreeMap<String, String>, Origin)>,
}

/// What the command line says about settings: flags, the environment, and
/// which user settings file to read.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub flags: BrokerLayer,
    pub env: BrokerLayer,
    /// `None`: no user settings file is read.
    pub user_file: Option<PathBuf>,
}

impl Overrides {
    /// No flags, no environment, no user settings file (tests, tools).
    pub fn none() -> Overrides {
        Overrides::default()
    }
}

/// The user settings file for this user, found with `directories`.
pub fn user_file() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|d| d.config_dir().join("ftl").join(USER_FILE))
}

/// One resolved setting, for `ftl settings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub key: &'static str,
    pub value: String,
    pub origin: Origin,
}

fn first<'a, T>(
    layers: &[&'a BrokerLayer],
    get: impl Fn(&'a BrokerLayer) -> &'a Option<(T, Origin)>,
) -> Option<(usize, &'a (T, Origin))> {
    layers
        .iter()
        .enumerate()
        .find_map(|(i, l)| get(l).as_ref().map(|v| (i, v)))
}

/// Merges broker layers given highest first. An image goes with the kind it
/// was chosen for: a layer's image is used only when the kind in effect at
/// that layer (its own, or the next lower one's) is the resolved kind, so
/// `FTL_BROKER_KIND=tansu` never runs a project's Redpanda image.
pub fn resolve_broker(layers: &[&BrokerLayer]) -> (BrokerSettings, Vec<Entry>) {
    let kind_at = |i: usize| {
        first(&layers[i..], |l| &l.kind)
            .map(|(_, (k, _))| *k)
            .unwrap_or(DEFAULT_KIND)
    };
    let (kind, kind_origin) = first(layers, |l| &l.kind)
        .map(|(_, (k, o))| (*k, o.clone()))
        .unwrap_or((DEFAULT_KIND, Origin::Default));
    let image = layers
        .iter()
        .enumerate()
        .filter(|(i, _)| kind_at(*i) == kind)
        .find_map(|(_, l)| l.image.clone());
    let port = first(layers, |l| &l.port).map(|(_, v)| v.clone());
    let bootstrap = first(layers, |l| &l.bootstrap).map(|(_, v)| v.clone());
    let properties = first(layers, |l| &l.properties).map(|(_, v)| v.clone());
    let mut entries = vec![Entry {
        key: "pubsub.broker.kind",
        value: kind.name().to_string(),
        origin: kind_origin,
    }];
    entries.push(match &image {
        Some((i, o)) => Entry {
            key: "pubsub.broker.image",
            value: i.clone(),
            origin: o.clone(),
        },
        None => Entry {
            key: "pubsub.broker.image",
            value: crate::broker::default_image(kind).to_string(),
            origin: Origin::Default,
        },
    });
    if kind == BrokerKind::External {
        entries.push(Entry {
            key: "pubsub.broker.bootstrap",
            value: bootstrap.as_ref().map(|b| b.0.clone()).unwrap_or_default(),
            origin: bootstrap
                .as_ref()
                .map(|b| b.1.clone())
                .unwrap_or(Origin::Default),
        });
    } else {
        entries.push(Entry {
            key: "pubsub.broker.port",
            value: port
                .as_ref()
                .map(|p| p.0)
                .unwrap_or(DEFAULT_PORT)
                .to_string(),
            origin: port
                .as_ref()
                .map(|p| p.1.clone())
                .unwrap_or(Origin::Default),
        });
    }
    if let Some((props, origin)) = &properties {
        entries.push(Entry {
            key: "pubsub.broker.properties",
            value: props
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            origin: origin.clone(),
        });
    }
    let settings = BrokerSettings {
        kind,
        image: image.map(|(i, _)| i),
        port: port.map(|(p, _)| p).unwrap_or(DEFAULT_PORT),
        bootstrap: bootstrap.map(|(b, _)| b),
        properties: properties.map(|(p, _)| p).unwrap_or_default(),
    };
    (settings, entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str) -> Origin {
        Origin::File {
            file: file.into(),
            line: 1,
            column: 1,
        }
    }

    fn layer(kind: Option<BrokerKind>, image: Option<&str>, o: Origin) -> BrokerLayer {
        BrokerLayer {
            kind: kind.map(|k| (k, o.clone())),
            image: image.map(|i| (i.to_string(), o)),
            ..BrokerLayer::default()
        }
    }

    #[test]
    fn layers_resolve_highest_first_and_an_image_goes_with_its_kind() {
        use BrokerKind::*;
        let env = |k, i| {
            layer(
                k,
                i,
                Origin::Env {
                    variable: "FTL_BROKER_KIND".into(),
                },
            )
        };
        let none = BrokerLayer::default();
        // (flags/env, project, user) -> (kind, image)
        let cases: Vec<(
            BrokerLayer,
            BrokerLayer,
            BrokerLayer,
            BrokerKind,
            Option<&str>,
        )> = vec![
            // Nothing anywhere: the defaults.
            (none.clone(), none.clone(), none.clone(), Redpanda, None),
            // The user's file applies to a project that leaves kind and image.
            (
                none.clone(),
                none.clone(),
                layer(Some(Tansu), Some("t:1"), at("user")),
                Tansu,
                Some("t:1"),
            ),
            // The project's kind wins; the user's image was for another kind.
            (
                none.clone(),
                layer(Some(Redpanda), None, at("project")),
                layer(Some(Tansu), Some("t:1"), at("user")),
                Redpanda,
                None,
            ),
            // Same kind in both: the user's image still applies.
            (
                none.clone(),
                layer(Some(Tansu), None, at("project")),
                layer(Some(Tansu), Some("t:1"), at("user")),
                Tansu,
                Some("t:1"),
            ),
            // The environment's kind drops the project's image for another kind.
            (
                env(Some(Tansu), None),
                layer(Some(Redpanda), Some("rp:1"), at("project")),
                none.clone(),
                Tansu,
                None,
            ),
            // An image alone in the environment goes with the project's kind.
            (
                env(None, Some("rp:2")),
                layer(Some(Redpanda), Some("rp:1"), at("project")),
                none.clone(),
                Redpanda,
                Some("rp:2"),
            ),
        ];
        for (i, (high, project, user, kind, image)) in cases.into_iter().enumerate() {
            let (s, entries) = resolve_broker(&[&high, &project, &user]);
            assert_eq!(s.kind, kind, "case {i}");
            assert_eq!(s.image.as_deref(), image, "case {i}");
            assert_eq!(entries[0].key, "pubsub.broker.kind");
            assert_eq!(s.port, DEFAULT_PORT);
        }
    }
}
