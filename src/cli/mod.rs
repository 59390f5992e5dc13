//! The command line: arguments, one module per subcommand, and the one place that prints
//! errors and decides the exit status.

mod check;
mod completions;
mod diff;
mod diff_base;
mod explain;
mod list;
mod man;
mod markdown;
mod progress;
mod render;
mod report;
mod schema;
mod set;
mod validate;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::diagnostic::{Error, Result};
use crate::render::Templates;
use crate::spec::{Loaded, Workspace};
use crate::subset::Subset;

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

/// `portalgen -V`: the version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PORTALGEN_COMMIT"),
    ")"
);

/// `portalgen --version`: also what the checks are built on (the spec's API version, the
/// Kubernetes API of k8s-openapi, the upstream releases of the embedded schemas).
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PORTALGEN_COMMIT"),
    ")\nspec: portalgen.dev/v1alpha1\nkubernetes: 1.33 (k8s-openapi)\nschemas: ",
    env!("PORTALGEN_SCHEMA_VERSIONS")
);

#[derive(Debug, Parser)]
#[command(
    name = "portalgen",
    version = VERSION,
    long_version = LONG_VERSION,
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
    /// Say more on stderr: the project root, what each environment took.
    #[arg(long, short, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// The part of the rendered tree a command looks at (see [`crate::subset`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SubsetArgs {
    /// Only these families (top folders of the tree): argocd, cloudflare, grafana,
    /// kubernetes, prometheus. Comma-separated or repeated.
    #[arg(long, value_name = "FAMILY", value_delimiter = ',')]
    pub family: Vec<String>,
    /// Only objects of these kinds (e.g. `Deployment,Service`; any case).
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    pub kind: Vec<String>,
    /// Only objects with these `metadata.name`s.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub name: Vec<String>,
}

impl SubsetArgs {
    /// The subset asked for; `templates` tells the kinds of the team's own schemas.
    pub fn subset(&self, templates: &Templates) -> Result<Subset> {
        let team_kinds = templates.team_schemas().kinds();
        Subset::with_kinds(&self.family, &self.kind, &self.name, &team_kinds)
    }
}

/// The templates a command renders with (`render`, `validate`, `diff`, `set image`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TemplatesArgs {
    /// Templates that replace the embedded ones of the same relative path.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

impl TemplatesArgs {
    /// The templates of a run in the project at `root`: the embedded ones, the team's
    /// `templates/extra/` and `schemas/extra/`, and `--templates DIR`.
    pub fn load(&self, root: &Path) -> Result<Templates> {
        Templates::load(Some(root), self.templates.as_deref())
    }
}

/// Output format of the reports (`validate`, `render --check`, `diff`, `list`): not every
/// command has every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people.
    Text,
    /// For scripts and bots; the schemas are in schemas/reports/.
    Json,
    /// JUnit XML (GitLab `artifacts:reports:junit`, most CI test views).
    Junit,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// A pull-request comment (`diff --base`).
    Markdown,
}

/// The error for a format a command does not have.
pub fn unsupported(format: Format, command: &str) -> Error {
    let name = format
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_owned());
    Error::Other(format!("{command} has no --format {name}"))
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
    /// Where every value of a rendered object came from: the spec line, the tier default,
    /// the system file, a patch, a rule of the model or the template.
    #[command(
        after_help = "Examples:\n  portalgen explain prod-us Deployment/portal-system/portal-app\n  portalgen explain prod-us Deployment/portal-app spec.replicas\n  portalgen explain staging HorizontalPodAutoscaler/portal-app spec --format json"
    )]
    Explain(explain::Args),
    /// List the environments with tier, region, role and tenant count.
    #[command(after_help = "Examples:\n  portalgen list\n  portalgen list --format json")]
    List(list::Args),
    /// Print the environment spec's JSON Schema (or a JSON report's, with --report).
    #[command(
        after_help = "Examples:\n  portalgen schema > environment.schema.json\n  portalgen schema --report validate"
    )]
    Schema(schema::Args),
    /// Print a shell completion script (it completes environment names too).
    #[command(
        after_help = "Examples:\n  portalgen completions bash > ~/.local/share/bash-completion/completions/portalgen\n  portalgen completions zsh > ~/.zfunc/_portalgen\n  portalgen completions fish > ~/.config/fish/completions/portalgen.fish"
    )]
    Completions(completions::Args),
    /// Edit a spec in place (comments and formatting kept), check it, and render.
    #[command(
        after_help = "Examples:\n  portalgen set image staging 2.16.0\n  portalgen set image prod-us sha256:<64 hex characters>"
    )]
    Set(set::Args),
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  portalgen man > ~/.local/share/man/man1/portalgen.1")]
    Man,
}

/// Runs the binary: parses arguments, runs the command, reports errors, exits.
pub fn main() -> ExitCode {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(completions::VAR)
        .complete();
    // clap reports its own errors (an unknown option, a missing value) before `--color` is
    // parsed, so the choice is read from the raw arguments first.
    let color = match color_arg(std::env::args_os().skip(1)) {
        Some(Color::Always) => clap::ColorChoice::Always,
        Some(Color::Never) => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    };
    let cli = match Cli::command()
        .color(color)
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match run(&cli) {
        Ok(status) => status.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::from(0);
            }
            report_error(&err, color_on(cli.color, &io::stderr()));
            ExitStatus::Error.into()
        }
    }
}

/// The value of the last `--color` before a `--`, if any.
fn color_arg(args: impl Iterator<Item = std::ffi::OsString>) -> Option<Color> {
    let mut color = None;
    let mut args = args.map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        let value = match arg.as_str() {
            "--" => break,
            "--color" => args.next(),
            a => a.strip_prefix("--color=").map(str::to_owned),
        };
        if let Some(v) = value {
            color = Color::from_str(&v, true).ok().or(color);
        }
    }
    color
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || matches!(e.downcast_ref::<Error>(), Some(Error::Io { source, .. }) if source.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[allow(clippy::print_stderr)]
fn report_error(err: &anyhow::Error, color: bool) {
    let error = paint(color, "1;31", "error:");
    let mut text = String::new();
    match err.downcast_ref::<Error>() {
        Some(e) if !e.diagnostics().is_empty() => {
            for d in e.diagnostics() {
                text.push_str(&format!("{error} {d}\n"));
            }
            let n = e.diagnostics().len();
            text.push_str(&format!(
                "{n} error{}; nothing was written",
                if n == 1 { "" } else { "s" }
            ));
        }
        _ => {
            text.push_str(&format!("{error} {err}"));
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
        Command::Explain(args) => explain::run(&ctx, args),
        Command::Completions(args) => completions::run(args),
        Command::List(args) => list::run(&ctx, args),
        Command::Schema(args) => schema::run(args),
        Command::Man => man::run(),
        Command::Set(args) => set::run(&ctx, args),
    }
}

/// What every command needs: where the project is, and how to print.
pub struct Context {
    root_arg: Option<PathBuf>,
    pub quiet: bool,
    pub verbose: u8,
    pub color: Color,
}

impl Context {
    fn new(cli: &Cli) -> Context {
        Context {
            root_arg: cli.root.clone(),
            quiet: cli.quiet,
            verbose: cli.verbose,
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
        let root = self.root()?;
        detail(self, &format!("root: {}", root.display()));
        Workspace::open(&root)
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

/// Writes to stderr with `-v` only.
pub fn detail(ctx: &Context, text: &str) {
    if ctx.verbose > 0 {
        let _ = writeln!(io::stderr().lock(), "{text}");
    }
}

/// Whether to color what goes to `stream`: `--color always|never`, or with `auto` when it
/// is a terminal and `NO_COLOR` is unset or empty.
pub fn color_on(color: Color, stream: &impl std::io::IsTerminal) -> bool {
    match color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && stream.is_terminal()
        }
    }
}

/// `text` in the SGR color `code` when `on`.
pub fn paint(on: bool, code: &str, text: &str) -> String {
    if on {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// Refuses an output folder that is, or lies below, a symlink inside the project root (a
/// committed `rendered -> ~/.config` must not make portalgen write there).
fn refuse_symlinked_out(root: &std::path::Path, out: &std::path::Path) -> Result<()> {
    crate::fsafe::check_no_symlinks(root, out).map_err(|refused| {
        crate::diagnostic::Error::Other(format!("refusing the output folder: {refused}"))
    })?;
    Ok(())
}
