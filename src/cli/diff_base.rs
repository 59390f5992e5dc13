//! `portalgen diff --base REF [ENV…]`: what a change (a pull request) does to the rendered
//! tree. The specs at REF are read with git plumbing into a temporary root
//! ([`crate::revision`]); both sides are rendered and checked in memory by this binary and
//! compared environment by environment. An environment on one side only is all added (or
//! all removed).

use std::borrow::Cow;

use serde::Serialize;

use super::diff::{text_report, Args};
use super::{markdown, out, Context, ExitStatus, Format};
use crate::diagnostic::{Diagnostic, Error};
use crate::diff::{self, digest::Digests, Report};
use crate::pipeline::{self, Keep};
use crate::render::Templates;
use crate::revision;
use crate::spec::{Loaded, Workspace};
use crate::subset::Subset;

/// The JSON report of `diff --base`.
#[derive(Debug, Serialize)]
pub struct BaseReport {
    /// The layout's version (schemas/reports/diff-base.v1.schema.json).
    pub version: u32,
    pub base: String,
    pub commit: String,
    pub identical: bool,
    pub environments: Vec<EnvReport>,
}

#[derive(Debug, Serialize)]
pub struct EnvReport {
    pub name: String,
    pub report: Report,
}

pub fn run(
    ctx: &Context,
    args: &Args,
    base: &str,
    templates: &Templates,
    subset: &Subset,
) -> anyhow::Result<ExitStatus> {
    let ws = ctx.workspace()?;
    let loaded = ws.load_all();
    let at = revision::specs_at(&ws.root, base)?;
    let base_ws = Workspace::open(&at.root)?;
    let base_loaded = base_ws.load_all();
    // The base side renders with the team's extra templates and schemas of the revision.
    let base_templates = args
        .templates
        .load(&at.root)
        .map_err(|e| at_revision(e, &at, base))?;
    let names = names(&ws, &loaded, &base_ws, &args.envs)?;

    let progress = super::progress::Progress::start(
        ctx,
        format!("comparing {} with {base}", names.join(", ")),
    );
    let mut environments = Vec::new();
    for name in &names {
        let old = side(&base_ws, &base_loaded, name, &base_templates)
            .map_err(|e| at_revision(e, &at, base))?;
        let new = side(&ws, &loaded, name, templates)?;
        let empty = Digests::new();
        let (old_label, new_label) = (format!("{name} at {base}"), format!("{name} (work tree)"));
        let mut report = diff::compare_digested(
            diff::Side {
                label: &old_label,
                // One environment on both sides: nothing to match by its name.
                env: None,
                tree: old
                    .as_ref()
                    .map_or(&Nothing as &dyn diff::Files, |(r, _)| r as &dyn diff::Files),
                digests: old.as_ref().map_or(&empty, |(_, d)| d),
            },
            diff::Side {
                label: &new_label,
                env: None,
                tree: new
                    .as_ref()
                    .map_or(&Nothing as &dyn diff::Files, |(r, _)| r as &dyn diff::Files),
                digests: new.as_ref().map_or(&empty, |(_, d)| d),
            },
        );
        report.restrict(subset, new.as_ref().map_or(&empty, |(_, d)| d));
        if args.stat {
            for e in &mut report.entries {
                e.hunks.clear();
            }
        }
        environments.push(EnvReport {
            name: name.clone(),
            report,
        });
    }
    drop(progress);
    let identical = environments.iter().all(|e| e.report.identical);
    let report = BaseReport {
        version: super::report::VERSION,
        base: base.to_owned(),
        commit: at.commit.clone(),
        identical,
        environments,
    };
    let text = match args.format {
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&report)?),
        Format::Markdown => markdown::base_report(&report),
        Format::Text => report
            .environments
            .iter()
            .map(|e| text_report(ctx, &e.report, args.stat))
            .collect::<Vec<_>>()
            .join("\n"),
        Format::Junit | Format::Sarif => {
            let items: Vec<_> = report
                .environments
                .iter()
                .flat_map(|e| super::report::diff_items(&e.name, &e.report))
                .collect();
            if args.format == Format::Sarif {
                super::report::sarif(&items)
            } else {
                let suites: Vec<_> = report
                    .environments
                    .iter()
                    .map(|e| super::report::diff_suite(&e.name, &e.report))
                    .collect();
                super::report::junit("diff --base", &suites, &items)
            }
        }
    };
    out(&text)?;
    Ok(if identical || args.exit_zero {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

type Side<'t> = Option<(FreshOwned<'t>, Digests)>;

/// One side of an environment, rendered and checked; `None` when it has no spec there.
fn side<'t>(
    ws: &Workspace,
    loaded: &Loaded,
    name: &str,
    templates: &'t Templates,
) -> Result<Side<'t>, Error> {
    if !ws.files.contains_key(name) {
        return Ok(None);
    }
    let model = pipeline::model_of(loaded, name)?;
    let mut rendered = pipeline::render(
        &model,
        templates,
        Keep::ForTreeRules,
        diff::digest::of_checked,
    )?;
    let digests = std::mem::take(&mut rendered.inspected);
    Ok(Some((FreshOwned(rendered), digests)))
}

/// The environments to compare: the ones named (an environment removed by the change is
/// known only at the base), or every environment of either side.
fn names(
    ws: &Workspace,
    loaded: &Loaded,
    base: &Workspace,
    given: &[String],
) -> Result<Vec<String>, Error> {
    if given.is_empty() {
        let mut all: Vec<String> = ws.files.keys().chain(base.files.keys()).cloned().collect();
        all.sort();
        all.dedup();
        return Ok(all);
    }
    let mut out: Vec<String> = Vec::new();
    for n in given {
        let name = if base.files.contains_key(n) && !ws.files.contains_key(n) {
            n.clone()
        } else {
            super::select(ws, loaded, std::slice::from_ref(n), false)?.remove(0)
        };
        if !out.contains(&name) {
            out.push(name);
        }
    }
    Ok(out)
}

/// Errors of the base side name its files as `REF:environments/…`, not the temporary root.
fn at_revision(e: Error, at: &revision::AtRevision, base: &str) -> Error {
    let fix = |mut d: Diagnostic| {
        if let Ok(rel) = d.file.strip_prefix(&at.root) {
            let shown = at.shown.rsplit_once(':').map_or("", |(_, p)| p);
            let dir = shown.strip_suffix("environments").unwrap_or("");
            d.file = format!("{base}:{dir}{}", rel.display()).into();
        }
        d
    };
    match e {
        Error::Invalid(d) => Error::Invalid(d.into_iter().map(fix).collect()),
        Error::Rendered(d) => Error::Rendered(d.into_iter().map(fix).collect()),
        other => other,
    }
}

/// A rendered side: its files are rendered again when the report shows one.
struct FreshOwned<'t>(pipeline::Rendered<'t, diff::digest::FileDigest>);

impl diff::Files for FreshOwned<'_> {
    fn read(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        self.0.text(path).map(|t| Cow::Owned(t.into_bytes()))
    }
}

/// The side of an environment that does not exist.
struct Nothing;

impl diff::Files for Nothing {
    fn read(&self, _: &str) -> Option<Cow<'_, [u8]>> {
        None
    }
}
