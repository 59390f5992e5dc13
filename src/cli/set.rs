//! `portalgen set image ENV TAG|sha256:…`: the most common CI edit after a build. The spec
//! is edited in its text (comments and formatting kept, [`crate::spec::edit`]), the edited
//! spec is checked and the environment rendered and checked in memory; only then is the
//! spec written (atomically) and the environment's tree rendered.

use std::path::{Path, PathBuf};

use clap_complete::ArgValueCompleter;

use super::{note, select, Context, ExitStatus, TemplatesArgs};
use crate::diagnostic::{Diagnostic, Error};
use crate::output;
use crate::pipeline;
use crate::spec::edit::{self, ImageRef};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Set the image tag or digest of an environment (a digest replaces a tag, and back).
    #[command(
        after_help = "Examples:\n  portalgen set image staging 2.16.0\n  portalgen set image prod-us sha256:4f1c…   # 64 hex characters\n  portalgen set image dev 2.16.0-rc.1 --no-render"
    )]
    Image(ImageArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImageArgs {
    /// The environment (or tier name) whose spec to edit.
    #[arg(value_name = "ENV", add = ArgValueCompleter::new(super::completions::environments))]
    pub env: String,
    /// The new tag, or a digest `sha256:<64 hex>`.
    #[arg(value_name = "TAG|DIGEST")]
    pub image: String,
    /// The service whose image to set (for specs with several services).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Edit and check the spec, render nothing.
    #[arg(long)]
    pub no_render: bool,
    /// Render into DIR/<env>/ instead of <root>/rendered/<env>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub templates: TemplatesArgs,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<ExitStatus> {
    match &args.what {
        What::Image(a) => image(ctx, a),
    }
}

fn image(ctx: &Context, args: &ImageArgs) -> anyhow::Result<ExitStatus> {
    if let Some(service) = &args.service {
        let shown: String = service
            .chars()
            .take(40)
            .flat_map(char::escape_default)
            .collect();
        return Err(Error::Other(format!(
            "--service {shown}: this spec format has one service, whose image is spec.image; leave out --service"
        ))
        .into());
    }
    let to = ImageRef::parse(&args.image)
        .map_err(|e| Error::Other(format!("{}: {e}", escaped(&args.image))))?;
    let ws = ctx.workspace()?;
    let mut loaded = ws.load_all();
    let name = select(&ws, &loaded, std::slice::from_ref(&args.env), false)?.remove(0);
    let path = ws.files[&name].clone();
    refuse_symlink(&path)?;
    let env = loaded.checked(&name)?;
    let before = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let after = edit::set_image(env, &before, &to).map_err(Error::invalid)?;
    let edited = crate::spec::parse_bytes(&path, after.as_bytes()).map_err(Error::Invalid)?;
    loaded.envs.insert(name.clone(), edited);

    // The environment and its replicas (their models read the primary's spec).
    let mut names = vec![name.clone()];
    names.extend(
        loaded
            .envs
            .iter()
            .filter(|(_, e)| e.spec.replica_of.as_deref() == Some(name.as_str()))
            .map(|(n, _)| n.clone()),
    );
    let templates = args.templates.load(&ws.root)?;
    let mut trees = Vec::new();
    let mut problems = Vec::new();
    for n in &names {
        match pipeline::render_env(&loaded, n, &templates) {
            Ok(tree) => trees.push((n, tree)),
            Err(Error::Invalid(d)) | Err(Error::Rendered(d)) => problems.extend(d),
            Err(other) => return Err(other.into()),
        }
    }
    if !problems.is_empty() {
        return Err(Error::Invalid(problems).into());
    }

    let shown = path
        .strip_prefix(&ws.root)
        .unwrap_or(&path)
        .display()
        .to_string();
    if after == before {
        note(
            ctx,
            &format!(
                "{shown}: spec.image.{} is already {}",
                field(&to),
                args.image
            ),
        );
    } else {
        write_atomically(&path, &after)?;
        note(
            ctx,
            &format!("{shown}: spec.image.{} set to {}", field(&to), args.image),
        );
    }
    if args.no_render {
        return Ok(ExitStatus::Success);
    }
    let out_dir = args.out.clone().unwrap_or_else(|| ws.root.join("rendered"));
    for (n, tree) in &trees {
        let report = output::write_env(&out_dir, n, tree)?;
        let dest = out_dir.join(n);
        note(
            ctx,
            &if report.unchanged {
                format!(
                    "{n}: unchanged ({} files) in {}",
                    report.files,
                    dest.display()
                )
            } else {
                format!("{n}: wrote {} files to {}", report.files, dest.display())
            },
        );
    }
    Ok(ExitStatus::Success)
}

fn field(to: &ImageRef) -> &'static str {
    match to {
        ImageRef::Tag(_) => "tag",
        ImageRef::Digest(_) => "digest",
    }
}

fn escaped(s: &str) -> String {
    s.chars().take(80).flat_map(char::escape_default).collect()
}

/// A spec that is a symlink is not edited: the edit would replace the link with a file
/// (or, followed, write outside the project).
fn refuse_symlink(path: &Path) -> Result<(), Error> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.file_type().is_symlink() {
        return Err(Error::invalid(Diagnostic::new(
            path,
            "the spec is a symlink; portalgen edits only regular files",
        )));
    }
    Ok(())
}

/// Writes `text` beside `path` and renames it over `path`: a reader (or a crash) sees the
/// old spec or the new one, never half of one. The file's permissions are kept.
fn write_atomically(path: &Path, text: &str) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("spec");
    let tmp = dir.join(format!(".{name}.portalgen-edit"));
    let perms = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .permissions();
    std::fs::write(&tmp, text).map_err(|e| Error::io(&tmp, e))?;
    std::fs::set_permissions(&tmp, perms).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(path, e)
    })
}
