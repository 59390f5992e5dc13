//! `portalgen render`: every selected environment is rendered and checked in memory first;
//! only when all of them pass is anything written (or, with `--check`, compared).

use std::path::PathBuf;

use super::{check, note, select, templates, Context, EnvArgs, ExitStatus};
use crate::diagnostic::Error;
use crate::output;
use crate::pipeline;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub envs: EnvArgs,
    /// Write DIR/<env>/ instead of <root>/rendered/<env>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write nothing; exit 1 if the tree on disk differs from a fresh render.
    #[arg(long)]
    pub check: bool,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<ExitStatus> {
    let ws = ctx.workspace()?;
    let loaded = ws.load_all();
    let names = select(&ws, &loaded, &args.envs.envs, args.envs.all)?;
    let templates = templates(args.envs.templates.as_deref())?;
    let out_dir = args.out.clone().unwrap_or_else(|| ws.root.join("rendered"));

    let mut trees = Vec::new();
    let mut problems = Vec::new();
    for name in &names {
        let passed = output::Validated::read(&out_dir.join(name));
        match pipeline::render_env_with(&loaded, name, &templates, &passed) {
            Ok(tree) => trees.push((name, tree)),
            Err(Error::Invalid(d)) | Err(Error::Rendered(d)) => problems.extend(d),
            Err(other) => return Err(other.into()),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems).into());
    }

    if args.check {
        return check::run(ctx, &ws.root, &out_dir, &trees);
    }
    for (name, tree) in &trees {
        let report = output::write_env(&out_dir, name, tree)?;
        let dest = out_dir.join(name);
        if report.unchanged {
            note(
                ctx,
                &format!(
                    "{name}: unchanged ({} files) in {}",
                    report.files,
                    dest.display()
                ),
            );
        } else {
            let mut line = format!(
                "{name}: wrote {} files ({} bytes) to {}",
                report.files,
                report.bytes,
                dest.display()
            );
            if !report.pruned.is_empty() {
                line.push_str(&format!(", pruned {}", report.pruned.len()));
            }
            if !report.foreign_kept.is_empty() {
                line.push_str(&format!(
                    ", kept {} file(s) portalgen does not own",
                    report.foreign_kept.len()
                ));
            }
            note(ctx, &line);
        }
    }
    Ok(ExitStatus::Success)
}
