use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Result;

/// Prints completions; `completions/` holds them pre-generated and a test
/// keeps those in step with the command line.
pub fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "ftl", &mut std::io::stdout());
    Ok(())
}
