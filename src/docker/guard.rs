//! What keeps the broker's container to itself: a network of its own
//! project, and a taken port traced to who holds it.

use std::collections::HashMap;

use super::{api, status_of, Docker, DockerError, PortHolder, CONFLICT, NOT_FOUND};
use crate::broker::{LABEL_MANAGED, LABEL_PROJECT};

impl Docker {
    /// The project's own network, made (labelled) when missing; one of that
    /// name that ftl did not make is refused like a foreign volume.
    pub(super) async fn ensure_network(
        &self,
        name: &str,
        labels: &HashMap<String, String>,
    ) -> Result<(), DockerError> {
        match self
            .inner
            .inspect_network(
                name,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await
        {
            Ok(n) => {
                let theirs = n.labels.unwrap_or_default();
                if theirs.get(LABEL_MANAGED).map(String::as_str) != Some("true")
                    || theirs.get(LABEL_PROJECT) != labels.get(LABEL_PROJECT)
                {
                    return Err(DockerError::NameTaken {
                        name: name.to_string(),
                        owner: "is a network ftl did not create for this project".into(),
                    });
                }
                Ok(())
            }
            Err(e) if status_of(&e) == Some(NOT_FOUND) => {
                let request = bollard::models::NetworkCreateRequest {
                    name: name.to_string(),
                    labels: Some(labels.clone()),
                    ..Default::default()
                };
                match self.inner.create_network(request).await {
                    Ok(_) => Ok(()),
                    // Made meanwhile by another `ftl` of this project.
                    Err(e) if status_of(&e) == Some(CONFLICT) => Ok(()),
                    Err(e) => Err(api(format!("create network `{name}`"))(e)),
                }
            }
            Err(e) => Err(api(format!("inspect network `{name}`"))(e)),
        }
    }

    /// A taken port, with the container that publishes it if one does.
    pub(super) async fn port_taken(&self, port: u16) -> DockerError {
        let options = bollard::query_parameters::ListContainersOptionsBuilder::new().build();
        let holder = self
            .inner
            .list_containers(Some(options))
            .await
            .ok()
            .and_then(|list| {
                list.into_iter().find(|c| {
                    c.ports
                        .iter()
                        .flatten()
                        .any(|p| p.public_port == Some(port))
                })
            })
            .map(|c| PortHolder {
                container: c
                    .names
                    .and_then(|n| n.first().cloned())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string(),
                project: c.labels.and_then(|l| {
                    (l.get(LABEL_MANAGED).map(String::as_str) == Some("true"))
                        .then(|| l.get(LABEL_PROJECT).cloned())
                        .flatten()
                }),
            });
        DockerError::PortTaken { port, holder }
    }
}
