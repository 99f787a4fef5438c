//! How a command says which version of an invalid module file it uses (see
//! [`crate::load::LiveProject`]): the running `ftl dev`'s, or none.

use crate::config::SkippedModule;
use crate::error::Result;
use crate::load::{self, LiveProject};
use crate::output::Printer;

use super::Context;

impl Context<'_> {
    pub async fn read_project_live(&self) -> Result<LiveProject> {
        load::project_live(&self.project_dir, &self.overrides).await
    }
}

/// One warning per invalid module file: which version the command uses.
pub fn warn(live: &LiveProject, printer: &Printer) {
    let first = |s: &SkippedModule| {
        s.problems
            .0
            .first()
            .map(|d| format!(" ({}:{}: {})", d.line, d.column, d.message))
            .unwrap_or_default()
    };
    for s in &live.from_runner {
        printer.warn(
            &format!(
                "`{}` is invalid on disk{}; this command uses the version the running `ftl dev` (pid {}) runs",
                s.file.display(),
                first(s),
                live.pid.unwrap_or_default()
            ),
            Some("`ftl schema` shows every problem; `ftl dev` takes the file again once it is valid"),
        );
    }
    for s in &live.left_out {
        printer.warn(
            &format!(
                "`{}` is invalid and left out{}; this command uses the rest of the project",
                s.file.display(),
                first(s)
            ),
            None,
        );
    }
}
