//! The Docker Engine API, as the tests see it.

use bollard::models::{ContainerInspectResponse, ContainerSummary};
use bollard::query_parameters::ListContainersOptionsBuilder;
use std::collections::HashMap;

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

async fn client() -> bollard::Docker {
    bollard::Docker::connect_with_defaults()
        .expect("docker client")
        .negotiate_version()
        .await
        .expect("Docker Engine reachable")
}

pub fn inspect(name: &str) -> Option<ContainerInspectResponse> {
    block_on(async { client().await.inspect_container(name, None).await.ok() })
}

/// Containers (running or not) labelled for this project.
pub fn containers_of(project: &str) -> Vec<ContainerSummary> {
    block_on(async {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("dev.ftl.project={project}")],
        )]);
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        client()
            .await
            .list_containers(Some(opts))
            .await
            .expect("list containers")
    })
}

/// The `docker` command; panics (with its output) when it fails.
pub fn cli(args: &[&str]) -> std::process::Output {
    let out = std::process::Command::new("docker")
        .args(args)
        .output()
        .expect("run docker");
    assert!(out.status.success(), "docker {args:?}: {out:?}");
    out
}

/// The `docker` command's output, failing or not.
pub fn try_cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new("docker")
        .args(args)
        .output()
        .expect("run docker")
}
