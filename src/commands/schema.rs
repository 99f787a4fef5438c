use crate::cli::SchemaFormat;
use crate::error::Result;

use super::Context;

pub fn schema(ctx: &Context<'_>, format: SchemaFormat) -> Result<()> {
    let project = ctx.project()?;
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
