//! `portalgen render`: every selected environment is rendered and checked in memory first;
//! only when all of them pass is anything written (or, with `--check`, compared).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap_complete::ArgValueCompleter;

use super::progress::Progress;
use super::{
    check, detail, note, out, select, Context, ExitStatus, Format, SubsetArgs, TemplatesArgs,
};
use crate::diagnostic::Error;
use crate::output::{self, Tree};
use crate::pipeline;
use crate::subset::Subset;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Environments (or tier names: dev, staging, prod) to render.
    #[arg(value_name = "ENV", add = ArgValueCompleter::new(super::completions::environments))]
    pub envs: Vec<String>,
    /// Render every environment under environments/.
    #[arg(long)]
    pub all: bool,
    /// Write DIR/<env>/ instead of <root>/rendered/<env>/ (`-`: the same as --stdout).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Write every document to stdout as one multi-document YAML stream, in the tree's
    /// order (for `kubectl apply -f -`, kubeconform); nothing is written to disk.
    #[arg(long, conflicts_with = "check")]
    pub stdout: bool,
    /// Write nothing; exit 1 if the tree on disk differs from a fresh render.
    #[arg(long)]
    pub check: bool,
    /// Exit 1 when the render changed anything on disk (a pre-commit hook that fixes the
    /// tree and fails, so that the fix is reviewed and committed).
    #[arg(long, conflicts_with = "check")]
    pub fail_on_change: bool,
    /// With --check: the report's format (text, json, junit, sarif).
    #[arg(long, value_enum, default_value_t = Format::Text, requires = "check")]
    pub format: Format,
    #[command(flatten)]
    pub subset: SubsetArgs,
    #[command(flatten)]
    pub templates: TemplatesArgs,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<ExitStatus> {
    let ws = ctx.workspace()?;
    let loaded = ws.load_all();
    let names = select(&ws, &loaded, &args.envs, args.all)?;
    let templates = args.templates.load(&ws.root)?;
    let subset = args.subset.subset(&templates)?;
    let to_stdout = args.stdout || args.out.as_deref() == Some(Path::new("-"));
    if to_stdout && args.check {
        return Err(Error::Other("--out - (stdout) and --check exclude each other".into()).into());
    }
    if !subset.is_everything() && !to_stdout && !args.check {
        return Err(Error::Other(
            "--family, --kind and --name choose what is printed or checked: add --stdout or \
             --check (writing part of a tree would prune the rest of it)"
                .into(),
        )
        .into());
    }
    let out_dir = args.out.clone().unwrap_or_else(|| ws.root.join("rendered"));
    super::refuse_symlinked_out(&ws.root, &out_dir)?;

    // Writing streams: each environment's files are written into its staging folder batch
    // by batch as they pass their checks (the whole tree is never held), and nothing is
    // swapped in until every environment passed (a failure removes the staging folders).
    let writing = !to_stdout && !args.check;
    let mut trees = Vec::new();
    let mut prepared = Vec::new();
    let mut compared = Vec::new();
    let mut problems = Vec::new();
    let progress = Progress::start(ctx, format!("rendering {}", names.join(", ")));
    for name in &names {
        let started = Instant::now();
        let rendered = if writing && problems.is_empty() {
            pipeline::model_of(&loaded, name).and_then(|model| {
                let mut w = output::EnvWriter::open(&out_dir, name)?;
                pipeline::render_streamed(
                    &model,
                    &templates,
                    pipeline::batch_files(),
                    |_, _, _| (),
                    |batch| w.files(&as_files(&batch)),
                )?;
                w.prepare().map(|p| (Tree::default(), Some(p), 0))
            })
        } else if args.check {
            // Compared file by file as the render streams them.
            pipeline::model_of(&loaded, name).and_then(|model| {
                let mut c = check::Compare::open(&out_dir, name, &subset)?;
                let r = pipeline::render_streamed(
                    &model,
                    &templates,
                    pipeline::batch_files(),
                    |_, _, _| (),
                    |batch| c.files(&as_files(&batch)),
                )?;
                compared.push(c.finish(name)?);
                Ok((Tree::default(), None, r.inspected.len()))
            })
        } else if writing {
            // An earlier environment failed: this one is checked, not written.
            pipeline::model_of(&loaded, name)
                .and_then(|model| {
                    pipeline::render(
                        &model,
                        &templates,
                        pipeline::Keep::ForTreeRules,
                        |_, _, _| (),
                    )
                })
                .map(|r| (Tree::default(), None, r.inspected.len()))
        } else {
            pipeline::render_env(&loaded, name, &templates).map(|t| (t, None, 0))
        };
        match rendered {
            Ok((tree, p, streamed)) => {
                let took = started.elapsed().as_secs_f64();
                let files = p
                    .as_ref()
                    .map_or(tree.files.len().max(streamed), |p| p.report().files);
                detail(
                    ctx,
                    &format!("{name}: rendered and checked {files} files in {took:.2} s"),
                );
                if let Some(p) = p {
                    prepared.push((name, p));
                } else {
                    trees.push((name, tree));
                }
            }
            // A problem shared by several environments (the system file's, a primary's)
            // is reported once.
            Err(Error::Invalid(d)) | Err(Error::Rendered(d)) => {
                for d in d {
                    if !problems.contains(&d) {
                        problems.push(d);
                    }
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    drop(progress);
    if !problems.is_empty() {
        return Err(Error::Invalid(problems).into());
    }

    if to_stdout {
        out(&stream(&trees, &subset))?;
        return Ok(ExitStatus::Success);
    }
    if args.check {
        return check::report_compared(ctx, &ws.root, &out_dir, compared, args.format);
    }
    let mut changed = 0;
    for (name, prepared) in prepared {
        let report = prepared.commit()?;
        changed += usize::from(!report.unchanged);
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
    Ok(if args.fail_on_change && changed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// Every document of the subset, environment by environment in the order given, file by
/// file in the tree's order: one YAML stream, each document after a `---` line and a
/// `# Source: ENV/PATH` comment (the file it would be written to).
fn stream(trees: &[(&String, Tree)], subset: &Subset) -> String {
    let mut text = String::new();
    for (name, tree) in trees {
        for (path, bytes) in &tree.files {
            let file = String::from_utf8_lossy(bytes);
            for doc in subset.documents(path, &file) {
                text.push_str("---\n# Source: ");
                text.push_str(name);
                text.push('/');
                text.push_str(path);
                text.push('\n');
                text.push_str(doc);
                if !doc.ends_with('\n') {
                    text.push('\n');
                }
            }
        }
    }
    text
}

/// A streamed batch as the (path, bytes) pairs the writer and the comparison take.
fn as_files(batch: &[pipeline::Checked]) -> Vec<(&str, &[u8])> {
    batch
        .iter()
        .map(|c| (c.path.as_str(), c.text.as_bytes()))
        .collect()
}
