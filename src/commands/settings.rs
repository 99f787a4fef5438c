//! `ftl settings`: every resolved setting, its value and where it came from
//! (a flag, the environment, a file position, or the default).

use crate::config::Entry;
use crate::error::Result;
use crate::output::{Printer, BOLD, DIM};

use super::Context;

pub async fn settings(ctx: &Context<'_>) -> Result<()> {
    let (entries, project) = crate::load::settings(&ctx.project_dir, &ctx.overrides).await?;
    render(
        ctx.printer,
        &entries,
        project.as_deref(),
        ctx.overrides.user_file.as_deref(),
    );
    Ok(())
}

fn render(
    printer: &Printer,
    entries: &[Entry],
    project: Option<&str>,
    user_file: Option<&std::path::Path>,
) {
    if printer.json {
        for e in entries {
            if !printer.json_line(&serde_json::to_value(e).unwrap_or_default()) {
                return;
            }
        }
        return;
    }
    let width = entries.iter().map(|e| e.key.len()).max().unwrap_or(0);
    // Not capped: a long image name would push its origin out of the column.
    let value_width = entries
        .iter()
        .map(|e| e.value.len().max(1))
        .max()
        .unwrap_or(0);
    for e in entries {
        let value = if e.value.is_empty() { "-" } else { &e.value };
        if !printer.data(&format!(
            "{:<width$}  {:<value_width$}  {}",
            printer.out_style(BOLD, e.key),
            value,
            printer.out_style(DIM, &e.origin.to_string()),
            width = width + printer.out_style(BOLD, "").len(),
        )) {
            return;
        }
    }
    printer.info(&match project {
        Some(p) => format!("project `{p}`"),
        None => "no ftl-project.yaml here: project settings not shown".to_string(),
    });
    printer.info(&match user_file {
        Some(f) if f.is_file() => format!("user settings: {}", f.display()),
        Some(f) => format!("user settings: {} (not present)", f.display()),
        None => "user settings: no config directory found for this user".to_string(),
    });
}
