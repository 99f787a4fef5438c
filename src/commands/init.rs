//! `ftl init` and `ftl new module`: scaffolding from `templates/`, which is
//! compiled into the binary so it works from any directory.

use std::path::{Path, PathBuf};

use crate::config::{MODULE_FILE, PROJECT_FILE};
use crate::error::{Error, Result};

use super::Context;

const PROJECT_TEMPLATE: &[(&str, &str)] = &[
    (
        "ftl-project.yaml",
        include_str!("../../templates/project/ftl-project.yaml"),
    ),
    (
        "pizza/ftl.yaml",
        include_str!("../../templates/project/pizza/ftl.yaml"),
    ),
    (
        "pizza/handlers/cook.py",
        include_str!("../../templates/project/pizza/handlers/cook.py"),
    ),
    (
        "pizza/handlers/failed.py",
        include_str!("../../templates/project/pizza/handlers/failed.py"),
    ),
];

const MODULE_TEMPLATE: &str = include_str!("../../templates/module/ftl.yaml");
const GRPC_MODULE_TEMPLATE: &str = include_str!("../../templates/module/grpc.ftl.yaml");

pub fn init(ctx: &Context<'_>, dir: Option<PathBuf>, name: Option<String>) -> Result<()> {
    let dir = dir.unwrap_or_else(|| ctx.here.clone());
    if dir.join(PROJECT_FILE).exists() {
        return Err(Error::usage(
            format!(
                "`{}` already holds a project",
                dir.join(PROJECT_FILE).display()
            ),
            Some("choose another directory, e.g. `ftl init myproject`".to_string()),
        ));
    }
    let name = match name {
        Some(n) => n,
        None => project_name_from(&dir),
    };
    if !(name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(Error::usage(
            format!("`{name}` is not a project name"),
            Some("pass --name with a lowercase letter followed by a-z, 0-9 or `-`".to_string()),
        ));
    }
    for (rel, text) in PROJECT_TEMPLATE {
        write(&dir.join(rel), &text.replace("{{name}}", &name))?;
    }
    ctx.printer.info(&format!(
        "created project `{name}` in {}\n  next: ftl dev {}",
        dir.display(),
        dir.display()
    ));
    Ok(())
}

pub fn new_module(ctx: &Context<'_>, name: &str, grpc: bool) -> Result<()> {
    let root = &ctx.project_dir;
    if !root.join(PROJECT_FILE).exists() {
        return Err(Error::usage(
            format!("no `{PROJECT_FILE}` in `{}`", root.display()),
            Some("run it in a project, or point at one with -C DIR".to_string()),
        ));
    }
    let legal = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !legal {
        return Err(Error::usage(
            format!("`{name}` is not a module name"),
            Some("start with a letter; use only letters, digits, `_` and `-`".to_string()),
        ));
    }
    let file = root.join(name).join(MODULE_FILE);
    if file.exists() {
        return Err(Error::usage(
            format!("module `{}` already exists", file.display()),
            None,
        ));
    }
    let template = if grpc {
        GRPC_MODULE_TEMPLATE
    } else {
        MODULE_TEMPLATE
    };
    write(&file, &template.replace("{{module}}", name))?;
    ctx.printer.info(&format!("created {}", file.display()));
    Ok(())
}

fn project_name_from(dir: &Path) -> String {
    let base = std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|s| s.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut name: String = base
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    name = name.trim_matches('-').to_string();
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name = format!("ftl-{name}");
    }
    name.trim_end_matches('-').to_string()
}

fn write(path: &Path, text: &str) -> Result<()> {
    let fail =
        |e: std::io::Error| Error::failed(format!("cannot write `{}`: {e}", path.display()), None);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}
