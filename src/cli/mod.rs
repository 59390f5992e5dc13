//! The command line: arguments, one module per subcommand, and the one place that prints
//! errors and decides the exit status.

mod check;
mod completions;
mod diff;
mod list;
mod render;
mod schema;
mod validate;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostic::{Error, Result};
use crate::render::Templates;
use crate::spec::{Loaded, Workspace};

/// Exit statuses (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Clean: nothing to report.
    Success,
    /// Differences or findings.
    Failure,
    /// An error: bad input, I/O.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        match s {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "portalgen",
    version,
    about = "Generate a multi-tenant portal's whole GitOps tree from one small spec per environment",
    after_help = "Examples:\n  portalgen render prod-us          write rendered/prod-us/\n  portalgen render --all --check    exit 1 if the committed tree is stale\n  portalgen diff staging prod       what differs between two environments\n  portalgen diff prod-us            what `render prod-us` would change\n  portalgen validate --all          every check, nothing written\n  portalgen list                    environments with tier, region, tenants"
)]
pub struct Cli {
    /// The project root (default: the nearest ancestor folder holding `environments/`).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// When to use colors.
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
    /// Print only errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// The environments a command works on, and the templates it renders them with: the
/// arguments `render` and `validate` share (flattened into each, as ruff shares its
/// `GlobalConfigArgs`).
#[derive(Debug, clap::Args)]
pub struct EnvArgs {
    /// Environments, or tier names (dev, staging, prod) standing for their one primary.
    #[arg(value_name = "ENV")]
    pub envs: Vec<String>,
    /// Every environment under environments/.
    #[arg(long)]
    pub all: bool,
    /// Templates that replace the embedded ones of the same relative path.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

/// Output format of `diff` and `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render environments into DIR/<env>/ (default: rendered/).
    #[command(
        after_help = "Examples:\n  portalgen render prod-us\n  portalgen render --all\n  portalgen render staging --out /tmp/out\n  portalgen render --all --check    # CI: exit 1 if the committed tree differs"
    )]
    Render(render::Args),
    /// Run every check on the spec and the rendered output; write nothing.
    #[command(
        after_help = "Examples:\n  portalgen validate prod-us\n  portalgen validate --all\n  portalgen validate --all --format json   # machine-readable findings for CI"
    )]
    Validate(validate::Args),
    /// Compare two environments object by object, or an environment's committed tree with
    /// a fresh render. Exit 0 when equal, 1 when they differ, 2 on error.
    #[command(
        after_help = "Examples:\n  portalgen diff staging prod-us        # what changes from staging to prod-us\n  portalgen diff staging prod           # a tier name stands for its one primary\n  portalgen diff prod-us                # what `portalgen render prod-us` would change\n  portalgen diff staging prod-us --stat # counts and one line per object\n  portalgen diff prod-us --format json  # for CI bots"
    )]
    Diff(diff::Args),
    /// List the environments with tier, region, role and tenant count.
    #[command(after_help = "Example:\n  portalgen list")]
    List,
    /// Print the environment spec's JSON Schema.
    #[command(after_help = "Example:\n  portalgen schema > environment.schema.json")]
    Schema,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  portalgen completions bash > ~/.local/share/bash-completion/completions/portalgen\n  portalgen completions zsh > ~/.zfunc/_portalgen\n  portalgen completions fish > ~/.config/fish/completions/portalgen.fish"
    )]
    Completions(completions::Args),
}

/// Runs the binary: parses arguments, runs the command, reports errors, exits.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(status) => status.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::from(0);
            }
            report_error(&err);
            ExitStatus::Error.into()
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || matches!(e.downcast_ref::<Error>(), Some(Error::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[allow(clippy::print_stderr)]
fn report_error(err: &anyhow::Error) {
    let mut text = String::new();
    match err.downcast_ref::<Error>() {
        Some(e) if !e.diagnostics().is_empty() => {
            for d in e.diagnostics() {
                text.push_str(&format!("error: {d}\n"));
            }
            let n = e.diagnostics().len();
            text.push_str(&format!(
                "{n} error{}; nothing was written",
                if n == 1 { "" } else { "s" }
            ));
        }
        _ => {
            text.push_str(&format!("error: {err}"));
            for cause in err.chain().skip(1) {
                text.push_str(&format!("\n  caused by: {cause}"));
            }
        }
    }
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// Runs one command.
pub fn run(cli: &Cli) -> anyhow::Result<ExitStatus> {
    let ctx = Context::new(cli);
    match &cli.command {
        Command::Render(args) => render::run(&ctx, args),
        Command::Validate(args) => validate::run(&ctx, args),
        Command::Diff(args) => diff::run(&ctx, args),
        Command::Completions(args) => completions::run(args),
        Command::List => list::run(&ctx),
        Command::Schema => schema::run(),
    }
}

/// What every command needs: where the project is, and how to print.
pub struct Context {
    root_arg: Option<PathBuf>,
    pub quiet: bool,
    pub color: Color,
}

impl Context {
    fn new(cli: &Cli) -> Context {
        Context {
            root_arg: cli.root.clone(),
            quiet: cli.quiet,
            color: cli.color,
        }
    }

    pub fn root(&self) -> Result<PathBuf> {
        match &self.root_arg {
            Some(root) => Ok(root.clone()),
            None => {
                let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
                Workspace::discover(&cwd).ok_or_else(|| {
                    Error::Other(format!(
                        "no environments/ folder in {} or any folder above it; pass --root DIR",
                        cwd.display()
                    ))
                })
            }
        }
    }

    pub fn workspace(&self) -> Result<Workspace> {
        Workspace::open(&self.root()?)
    }
}

/// Command-line environment arguments resolved to names (tier names stand for their one
/// primary environment), without duplicates, in the order given.
pub fn select(ws: &Workspace, loaded: &Loaded, names: &[String], all: bool) -> Result<Vec<String>> {
    if all {
        if !names.is_empty() {
            return Err(Error::Other(
                "give environment names or --all, not both".into(),
            ));
        }
        return Ok(ws.files.keys().cloned().collect());
    }
    if names.is_empty() {
        return Err(Error::Other(format!(
            "name an environment or pass --all; known: {}",
            ws.files.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for n in names {
        let name = loaded.resolve_name(n, &ws.files)?;
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

pub fn templates(dir: Option<&Path>) -> Result<Templates> {
    match dir {
        Some(d) => Templates::with_overrides(d),
        None => Templates::embedded(),
    }
}

/// Writes to stdout; a closed pipe ends the program quietly (see [`main`]).
pub fn out(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

/// Writes to stderr (progress and summaries that are not the command's output).
pub fn note(ctx: &Context, text: &str) {
    if !ctx.quiet {
        let _ = writeln!(io::stderr().lock(), "{text}");
    }
}
