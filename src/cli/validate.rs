//! `portalgen validate`: the spec checks and every check on the rendered output, for each
//! selected environment; reports all findings and writes nothing.

use std::path::PathBuf;

use super::{note, out, select, templates, Context, ExitStatus};
use crate::diagnostic::Error;
use crate::pipeline;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environments (or tier names) to validate.
    #[arg(value_name = "ENV")]
    pub envs: Vec<String>,
    /// Validate every environment under environments/.
    #[arg(long)]
    pub all: bool,
    /// Templates that replace the embedded ones of the same relative path.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<ExitStatus> {
    let ws = ctx.workspace()?;
    let loaded = ws.load_all();
    let names = select(&ws, &loaded, &args.envs, args.all)?;
    let templates = templates(args.templates.as_deref())?;
    let mut findings = Vec::new();
    let mut input_errors = Vec::new();
    for name in &names {
        match pipeline::render_env(&loaded, name, &templates) {
            Ok(tree) => note(
                ctx,
                &format!("{name}: ok ({} files checked)", tree.files.len()),
            ),
            Err(Error::Rendered(d)) => findings.extend(d),
            Err(Error::Invalid(d)) => input_errors.extend(d),
            Err(other) => return Err(other.into()),
        }
    }
    if !input_errors.is_empty() {
        return Err(Error::Invalid(input_errors).into());
    }
    let mut text = String::new();
    for f in &findings {
        text.push_str(&format!("finding: {f}\n"));
    }
    out(&text)?;
    Ok(if findings.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
