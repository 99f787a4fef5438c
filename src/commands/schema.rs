//! `ftl schema`: the resolved schema. While a module file is invalid and a
//! running `ftl dev` runs its last valid version, that version is shown,
//! after the file's problems.

use crate::cli::SchemaFormat;
use crate::config::ConfigError;
use crate::error::{Error, Result};

use super::Context;

pub async fn schema(ctx: &Context<'_>, format: SchemaFormat) -> Result<()> {
    let live = ctx.read_project_live().await?;
    if !live.left_out.is_empty() {
        // Nothing runs them: the file's problems, as before (exit code 2).
        return Err(ctx.project().err().unwrap_or_else(|| {
            Error::from(ConfigError::Invalid(crate::diag::Diagnostics(
                live.left_out
                    .iter()
                    .flat_map(|s| s.problems.0.iter().cloned())
                    .collect(),
            )))
        }));
    }
    for s in &live.from_runner {
        ctx.printer.warn(
            &format!(
                "`{}` is invalid on disk; shown is the version the running `ftl dev` (pid {}) runs. The file's problems:\n\n{}",
                s.file.display(),
                live.pid.unwrap_or_default(),
                s.problems.listed().trim_end()
            ),
            Some("`ftl dev` takes the file again once it is valid"),
        );
    }
    let project = live.project;
    match format {
        SchemaFormat::Ftl if !ctx.printer.json => {
            ctx.printer.data(project.to_ftl().trim_end());
        }
        _ => {
            let text = serde_json::to_string_pretty(&project.to_json()).unwrap_or_default();
            ctx.printer.data(&text);
        }
    }
    Ok(())
}
