//! `portalgen completions SHELL`: prints the script that registers portalgen's completions
//! with the shell. The script asks portalgen itself (`COMPLETE=SHELL portalgen -- …`) for
//! the candidates, so that environment names come from the project's `environments/`.

use std::ffi::OsStr;

use clap_complete::engine::CompletionCandidate;
use clap_complete::env::Shells;
use clap_complete::Shell;

use super::ExitStatus;
use crate::spec::{Tier, Workspace};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The variable that asks portalgen for completions instead of running a command.
pub const VAR: &str = "COMPLETE";

pub fn run(args: &Args) -> anyhow::Result<ExitStatus> {
    let name = args.shell.to_string();
    let shells = Shells::builtins();
    let shell = shells
        .completer(&name)
        .ok_or_else(|| anyhow::anyhow!("no completion support for {name}"))?;
    let mut script = Vec::new();
    shell.write_registration(VAR, "portalgen", "portalgen", "portalgen", &mut script)?;
    super::out(&String::from_utf8_lossy(&script))?;
    Ok(ExitStatus::Success)
}

/// The environment names (and tier names) of the project around the current folder.
pub fn environments(current: &OsStr) -> Vec<CompletionCandidate> {
    let current = current.to_string_lossy();
    let Some(root) = std::env::current_dir()
        .ok()
        .and_then(|cwd| Workspace::discover(&cwd))
    else {
        return Vec::new();
    };
    let Ok(ws) = Workspace::open(&root) else {
        return Vec::new();
    };
    let tiers = Tier::ALL.iter().map(|t| t.as_str().to_owned());
    ws.files
        .keys()
        .cloned()
        .chain(tiers.filter(|t| !ws.files.contains_key(t)))
        .filter(|n| n.starts_with(current.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}
