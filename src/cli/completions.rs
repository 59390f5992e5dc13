//! `portalgen completions SHELL`: prints a completion script for the shell.

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, ExitStatus};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

pub fn run(args: &Args) -> anyhow::Result<ExitStatus> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "portalgen", &mut script);
    super::out(&String::from_utf8_lossy(&script))?;
    Ok(ExitStatus::Success)
}
