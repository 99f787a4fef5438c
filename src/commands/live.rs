//! The project as the commands that look at a running `ftl dev` see it: a
//! module file that is invalid on disk (mid-edit) is taken from what the
//! running `ftl dev` runs, its last valid version, and the command says so;
//! with no `ftl dev` running it is left out.

use crate::admin::{self, AdminClient};
use crate::config::SkippedModule;
use crate::error::Result;
use crate::output::Printer;
use crate::schema::Project;

use super::Context;

pub struct LiveProject {
    pub project: Project,
    /// Invalid on disk, taken from the running `ftl dev` (its pid).
    pub from_runner: Vec<SkippedModule>,
    pub pid: Option<u32>,
    /// Invalid on disk and not run by any `ftl dev`: left out.
    pub left_out: Vec<SkippedModule>,
}

impl Context<'_> {
    pub async fn read_project_live(&self) -> Result<LiveProject> {
        let (mut project, skipped) = self.read_project_partial().await?;
        if skipped.is_empty() {
            return Ok(LiveProject {
                project,
                from_runner: Vec::new(),
                pid: None,
                left_out: Vec::new(),
            });
        }
        let runner = AdminClient::find(&project).await;
        let running = match &runner {
            Some(r) => r.running_modules().await.unwrap_or_default(),
            None => Vec::new(),
        };
        let put_back = admin::stand_in(&mut project, &skipped, &running);
        let (from_runner, left_out): (Vec<_>, Vec<_>) = skipped
            .into_iter()
            .partition(|s| put_back.contains(&s.file));
        Ok(LiveProject {
            project,
            pid: runner
                .filter(|_| !from_runner.is_empty())
                .map(|r| r.status().pid),
            from_runner,
            left_out,
        })
    }
}

impl LiveProject {
    /// One warning per invalid module file: which version the command uses.
    pub fn warn(&self, printer: &Printer) {
        let first = |s: &SkippedModule| {
            s.problems
                .0
                .first()
                .map(|d| format!(" ({}:{}: {})", d.line, d.column, d.message))
                .unwrap_or_default()
        };
        for s in &self.from_runner {
            printer.warn(
                &format!(
                    "`{}` is invalid on disk{}; this command uses the version the running `ftl dev` (pid {}) runs",
                    s.file.display(),
                    first(s),
                    self.pid.unwrap_or_default()
                ),
                Some("`ftl schema` shows every problem; `ftl dev` takes the file again once it is valid"),
            );
        }
        for s in &self.left_out {
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
}
