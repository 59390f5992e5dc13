//! `portalgen man`: prints the man page (roff), generated from the command-line definition.

use clap::CommandFactory;

use super::{out, Cli, ExitStatus};

pub fn run() -> anyhow::Result<ExitStatus> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    out(&String::from_utf8_lossy(&page))?;
    Ok(ExitStatus::Success)
}
