//! The broker container's life as the Docker Engine tells it: a stop, a
//! kill, a restart, a pause or a container created again (`ftl pubsub broker
//! reset` then `start`) is known the moment it happens, not at the next
//! health probe.

use std::collections::HashMap;

use bollard::models::EventMessageTypeEnum;
use bollard::query_parameters::EventsOptionsBuilder;
use futures_util::{Stream, StreamExt};

use super::{api, Docker, DockerError};

/// What happened to a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerChange {
    Created,
    Started,
    /// Its process ended (stop, kill, crash, or the first half of a restart).
    Died,
    Destroyed,
    Paused,
    Unpaused,
}

impl ContainerChange {
    /// The change an engine event action names, if it is one we follow.
    pub fn of_action(action: &str) -> Option<ContainerChange> {
        // Actions may carry a suffix (`exec_start: sh`); ours do not.
        Some(match action {
            "create" => ContainerChange::Created,
            "start" => ContainerChange::Started,
            "die" => ContainerChange::Died,
            "destroy" => ContainerChange::Destroyed,
            "pause" => ContainerChange::Paused,
            "unpause" => ContainerChange::Unpaused,
            _ => return None,
        })
    }
}

const FOLLOWED: [&str; 6] = ["create", "start", "die", "destroy", "pause", "unpause"];

impl Docker {
    /// The changes of the container named `name` from now on, in the order
    /// the engine saw them. The stream ends when the engine connection does.
    pub fn follow_container(
        &self,
        name: &str,
    ) -> impl Stream<Item = Result<ContainerChange, DockerError>> + Send + 'static {
        let filters = HashMap::from([
            ("type", vec!["container".to_string()]),
            ("container", vec![name.to_string()]),
            ("event", FOLLOWED.iter().map(|s| s.to_string()).collect()),
        ]);
        let options = EventsOptionsBuilder::new().filters(&filters).build();
        let wanted = name.to_string();
        self.inner.events(Some(options)).filter_map(move |m| {
            let out = match m {
                Err(e) => Some(Err(api("follow the broker container's events")(e))),
                Ok(m) => {
                    // The engine filters already; a name filter also matches
                    // longer names containing it, so check it exactly.
                    let named = m
                        .actor
                        .as_ref()
                        .and_then(|a| a.attributes.as_ref())
                        .and_then(|a| a.get("name"))
                        .is_some_and(|n| *n == wanted);
                    let container = m.typ == Some(EventMessageTypeEnum::CONTAINER);
                    m.action
                        .as_deref()
                        .filter(|_| named && container)
                        .and_then(ContainerChange::of_action)
                        .map(Ok)
                }
            };
            std::future::ready(out)
        })
    }

    /// Whether the container named `name` is paused now (`None`: no such
    /// container).
    pub async fn is_paused(&self, name: &str) -> Result<Option<bool>, DockerError> {
        Ok(self
            .inspect(name)
            .await?
            .map(|c| c.state.and_then(|s| s.paused).unwrap_or(false)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_actions_map_to_changes() {
        assert_eq!(
            ContainerChange::of_action("die"),
            Some(ContainerChange::Died)
        );
        assert_eq!(
            ContainerChange::of_action("unpause"),
            Some(ContainerChange::Unpaused)
        );
        assert_eq!(ContainerChange::of_action("exec_start: sh"), None);
        assert_eq!(ContainerChange::of_action("kill"), None);
        for a in FOLLOWED {
            assert!(ContainerChange::of_action(a).is_some(), "{a}");
        }
    }
}
