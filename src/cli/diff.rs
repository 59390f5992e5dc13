//! `portalgen diff`: an object-aware comparison of two environments (`diff ENV_A ENV_B`),
//! or of an environment's committed tree with a fresh render (`diff ENV`). The comparison
//! is [`crate::diff`]; this module only formats the report: a summary first (one line per
//! object or tenant group), then the details, or JSON for CI bots.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use clap_complete::ArgValueCompleter;

use super::{out, select, Color, Context, ExitStatus, Format, SubsetArgs, TemplatesArgs};
use crate::diff::{self, digest, hunks::Tag, Entry, Report, Status};
use crate::output;
use crate::pipeline::{self, Keep};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Two environments (or tier names) to compare, old then new; or one environment to
    /// compare its committed tree with a fresh render.
    ///
    /// With --base: the environments to compare at REF and in the work tree (default: all).
    #[arg(
        value_name = "ENV",
        add = ArgValueCompleter::new(super::completions::environments)
    )]
    pub envs: Vec<String>,
    /// Compare the environments as rendered from the specs at the git revision REF (read
    /// with git plumbing; the work tree is not touched) with the work tree's.
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Exit 0 when there are differences (still 2 on errors): for a report-only CI step.
    #[arg(long)]
    pub exit_zero: bool,
    /// Show only the summary: counts and one line per object.
    #[arg(long)]
    pub stat: bool,
    /// Output format: text, json, markdown (with --base: a pull-request comment).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// With one ENV: the committed trees are in DIR/<env>/ (default: <root>/rendered/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// With two environments: for each changed field, why the two sides differ (where
    /// each side's value came from; see `portalgen explain`). Text report only.
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub templates: TemplatesArgs,
    #[command(flatten)]
    pub subset: SubsetArgs,
}

pub fn run(ctx: &Context, args: &Args) -> anyhow::Result<ExitStatus> {
    let ws = ctx.workspace()?;
    let loaded = ws.load_all();
    let templates = args.templates.load(&ws.root)?;
    let subset = args.subset.subset(&templates)?;
    if let Some(base) = &args.base {
        return super::diff_base::run(ctx, args, base, &templates, &subset);
    }
    if args.envs.is_empty() || args.envs.len() > 2 {
        return Err(crate::diagnostic::Error::Other(
            "diff takes one environment (against its rendered tree) or two (old, new), or --base REF".into(),
        )
        .into());
    }
    let names: Vec<String> = args
        .envs
        .iter()
        .map(|n| select(&ws, &loaded, std::slice::from_ref(n), false).map(|mut v| v.remove(0)))
        .collect::<Result<_, _>>()?;
    if args.explain && (names.len() != 2 || args.format != Format::Text || args.stat) {
        return Err(crate::diagnostic::Error::Other(
            "--explain takes two environments and the text report (no --stat)".into(),
        )
        .into());
    }
    let progress = super::progress::Progress::start(ctx, format!("comparing {}", names.join(", ")));
    let mut report = match names.as_slice() {
        [old, new] => {
            // Each side's digests are taken from the parse its checks made, and its texts
            // are let go: the few files the report shows are rendered again.
            let render = |name| -> Result<_, crate::diagnostic::Error> {
                let model = pipeline::model_of(&loaded, name)?;
                let mut r =
                    pipeline::render(&model, &templates, Keep::ForTreeRules, digest::of_checked)?;
                let digests = std::mem::take(&mut r.inspected);
                Ok((r, digests))
            };
            let (a, b) = rayon::join(|| render(old), || render(new));
            let ((a, da), (b, db)) = (a?, b?);
            let mut report = diff::compare_digested(
                diff::Side {
                    label: old,
                    env: Some(old),
                    tree: &Fresh(&a),
                    digests: &da,
                },
                diff::Side {
                    label: new,
                    env: Some(new),
                    tree: &Fresh(&b),
                    digests: &db,
                },
            );
            report.restrict(&subset, &db);
            // The process ends after the report: freeing two trees and their digests one
            // allocation at a time (half a million at 10,000 tenants) would only delay it.
            std::mem::forget((a, da, b, db));
            report
        }
        [env] => {
            let out_dir = args.out.clone().unwrap_or_else(|| ws.root.join("rendered"));
            super::refuse_symlinked_out(&ws.root, &out_dir)?;
            let model = pipeline::model_of(&loaded, env)?;
            let dir = out_dir.join(env);
            let disk = output::read_listing(&dir)?;
            // The tree on disk is compared file by file as the fresh render streams past
            // it; neither tree's texts are held.
            let mut on_disk = diff::disk::DiskDigests::new(&dir, &disk);
            let mut fresh = pipeline::render_streamed(
                &model,
                &templates,
                pipeline::batch_files(),
                digest::of_checked,
                |batch| {
                    let files: Vec<(&str, &[u8])> = batch
                        .iter()
                        .map(|c| (c.path.as_str(), c.text.as_bytes()))
                        .collect();
                    on_disk.files(&files)
                },
            )?;
            let digests = std::mem::take(&mut fresh.inspected);
            let digested = on_disk.finish(&digests)?;
            let shown = display_path(&dir, &ws.root);
            let label = if disk.exists {
                format!("{shown} (on disk)")
            } else {
                format!("{shown} (not rendered yet)")
            };
            let mut report = diff::compare_with_disk_digested(
                &label,
                &disk,
                &diff::disk::DiskFiles {
                    dir: &dir,
                    disk: &disk,
                },
                &digested,
                &format!("{env} (fresh render)"),
                &Fresh(&fresh),
                &digests,
            );
            report.restrict(&subset, &digests);
            // (As above: the process ends after the report.)
            std::mem::forget((fresh, digests, digested));
            report
        }
        _ => unreachable!("clap allows one or two environments"),
    };
    drop(progress);
    if args.stat {
        for e in &mut report.entries {
            e.hunks.clear();
        }
    }
    // The environment the report is about: the new side's.
    let suite = names.last().map_or("", String::as_str);
    let text = match args.format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&Versioned {
                version: super::report::VERSION,
                report: &report,
            })?
        ),
        Format::Text if args.explain => {
            let mut text = text_report(ctx, &report, args.stat);
            text.push_str(&why(&ws.root, &loaded, &templates, &names, &report)?);
            text
        }
        Format::Text => text_report(ctx, &report, args.stat),
        Format::Junit => super::report::junit(
            "diff",
            &[super::report::diff_suite(suite, &report)],
            &super::report::diff_items(suite, &report),
        ),
        Format::Sarif => super::report::sarif(&super::report::diff_items(suite, &report)),
        Format::Markdown => {
            return Err(crate::diagnostic::Error::Other(
                "--format markdown is for diff --base REF (a pull-request comment)".into(),
            )
            .into())
        }
    };
    out(&text)?;
    Ok(if report.identical || args.exit_zero {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// How many changed objects `--explain` explains.
const EXPLAINED: usize = 50;

/// `diff A B --explain`: for each changed object, each field that differs and where each
/// side's value came from.
fn why(
    root: &Path,
    loaded: &crate::spec::Loaded,
    templates: &crate::render::Templates,
    names: &[String],
    report: &Report,
) -> Result<String, crate::diagnostic::Error> {
    use crate::diagnostic::Error;
    use crate::diff::identity::ObjectId;
    use crate::explain::{self, Index, Query};
    let (old_model, new_model) = (
        pipeline::model_of(loaded, &names[0])?,
        pipeline::model_of(loaded, &names[1])?,
    );
    let (old_index, new_index) = (Index::new(&old_model), Index::new(&new_model));
    let old_plan = pipeline::plan(&old_model, templates);
    let new_plan = pipeline::plan(&new_model, templates);
    let mut s = String::from("\nWhy they differ:\n");
    let changed: Vec<&Entry> = report
        .entries
        .iter()
        .filter(|e| e.status == Status::Changed)
        .collect();
    for e in changed.iter().take(EXPLAINED) {
        let (Some(op), Some(np)) = (&e.old_path, &e.new_path) else {
            continue;
        };
        let query = match &e.object {
            ObjectId::Kubernetes {
                kind,
                namespace,
                name,
                ..
            } => Query::Object {
                kind: kind.clone(),
                namespace: (!namespace.is_empty()).then(|| namespace.clone()),
                name: name.clone(),
            },
            ObjectId::File { path, .. } => Query::File(path.clone()),
        };
        let side = |index: &Index, plan: &[crate::families::Artifact], file: &str| {
            explain::explain_in(index, templates, plan, file, &query)
                .map_err(|d| Error::Invalid(vec![d]))
        };
        let (Some(a), Some(b)) = (
            side(&old_index, &old_plan, op)?,
            side(&new_index, &new_plan, np)?,
        ) else {
            continue;
        };
        s.push_str(&format!("~ {}\n", e.title));
        for d in explain::differences(&a, &b) {
            let value = |l: Option<&explain::Leaf>| {
                l.map_or_else(
                    || "(none)".to_owned(),
                    |l| {
                        let v = crate::render::scalar(&l.value);
                        match v.char_indices().nth(80) {
                            Some((i, _)) => format!("{}…", &v[..i]),
                            None => v,
                        }
                    },
                )
            };
            s.push_str(&format!(
                "  {}: {} → {}\n",
                d.path.quoted(),
                value(d.old),
                value(d.new)
            ));
            for (name, leaf) in [(&names[0], d.old), (&names[1], d.new)] {
                let origin = leaf.map_or_else(
                    || "not rendered".to_owned(),
                    |l| l.origin.relative_to(root).to_string(),
                );
                s.push_str(&format!("    {name}: {origin}\n"));
            }
        }
    }
    if changed.len() > EXPLAINED {
        s.push_str(&format!(
            "  … {} more changed objects; `portalgen explain ENV OBJECT` explains any of them\n",
            changed.len() - EXPLAINED
        ));
    }
    Ok(s)
}

/// A report with the version of its layout (schemas/reports/diff.v1.schema.json).
#[derive(serde::Serialize)]
struct Versioned<'a> {
    version: u32,
    #[serde(flatten)]
    report: &'a Report,
}

/// The report for people.
pub(super) fn text_report(ctx: &Context, report: &Report, stat: bool) -> String {
    Printer {
        color: use_color(ctx.color),
    }
    .report(report, stat)
}

/// A rendered environment's files, rendered again when the comparison asks for one.
struct Fresh<'a>(&'a pipeline::Rendered<'a, digest::FileDigest>);

impl diff::Files for Fresh<'_> {
    fn read(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        self.0.text(path).map(|t| Cow::Owned(t.into_bytes()))
    }
}

/// `path` relative to `root` when it is inside it (as people type it), else as it is.
pub fn display_path(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Whether to color stdout: `--color always|never`, or with `auto` when stdout is a
/// terminal and `NO_COLOR` is not set (https://no-color.org).
pub fn use_color(color: Color) -> bool {
    super::color_on(color, &std::io::stdout())
}

/// How many tenant ids a line shows before `…`.
const EXAMPLES: usize = 3;

struct Printer {
    color: bool,
}

impl Printer {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn mark(&self, status: Status) -> String {
        match status {
            Status::Changed => self.paint("33", "~"),
            Status::Added => self.paint("32", "+"),
            Status::Removed => self.paint("31", "-"),
        }
    }

    fn report(&self, r: &Report, stat: bool) -> String {
        let mut s = String::new();
        s.push_str(&self.paint("1", &format!("{} → {}", r.old, r.new)));
        s.push('\n');
        if r.identical {
            s.push_str(&format!(
                "  no differences ({} objects)\n",
                r.summary.unchanged
            ));
            self.foreign(&mut s, r);
            return s;
        }
        let sum = &r.summary;
        s.push_str(&format!(
            "  objects: {} changed, {} added, {} removed, {} unchanged\n",
            sum.changed, sum.added, sum.removed, sum.unchanged
        ));
        let t = &r.tenants;
        if t.changed + t.only_old.count + t.only_new.count > 0 {
            let mut parts = vec![format!("{} in both ({} changed)", t.in_both, t.changed)];
            for (set, side) in [(&t.only_new, &r.new), (&t.only_old, &r.old)] {
                if set.count > 0 {
                    parts.push(format!(
                        "{} only in {side} ({})",
                        set.count,
                        examples(&set.ids)
                    ));
                }
            }
            s.push_str(&format!("  tenants: {}\n", parts.join(", ")));
        }
        self.summary(&mut s, r);
        self.foreign(&mut s, r);
        if !r.reformatted.is_empty() {
            s.push_str(&format!(
                "\n  files that differ only in formatting or comments (render rewrites them): {}\n",
                r.reformatted.len()
            ));
            for p in &r.reformatted {
                s.push_str(&format!("  {} {p}\n", self.paint("33", "~")));
            }
        }
        if !stat {
            for e in &r.entries {
                s.push('\n');
                self.details(&mut s, e);
            }
        }
        s
    }

    /// One line per entry, with its line counts, and one per one-sided tenant set.
    fn summary(&self, s: &mut String, r: &Report) {
        let label = |e: &Entry| match &e.tenants {
            Some(g) => format!("{}  ×{} tenant{}", e.title, g.count, plural(g.count)),
            None => e.title.clone(),
        };
        let width = r
            .entries
            .iter()
            .map(|e| label(e).chars().count())
            .max()
            .unwrap_or(0)
            .min(72);
        s.push('\n');
        for e in &r.entries {
            let mut counts = Vec::new();
            if e.added_lines > 0 {
                counts.push(self.paint("32", &format!("+{}", e.added_lines)));
            }
            if e.removed_lines > 0 {
                counts.push(self.paint("31", &format!("-{}", e.removed_lines)));
            }
            match &e.tenants {
                Some(g) if !g.moved.is_empty() => {
                    counts.push(format!("({} in another file)", g.moved.len()))
                }
                None if e.moved() => counts.push("(in another file)".into()),
                _ => {}
            }
            let line = format!(
                "  {} {:<width$}  {}",
                self.mark(e.status),
                label(e),
                counts.join(" ")
            );
            s.push_str(line.trim_end());
            s.push('\n');
        }
        for (set, side, status) in [
            (&r.tenants.only_new, &r.new, Status::Added),
            (&r.tenants.only_old, &r.old, Status::Removed),
        ] {
            if set.count > 0 {
                s.push_str(&format!(
                    "  {} {} tenant{} only in {side}: {} objects ({})\n",
                    self.mark(status),
                    set.count,
                    plural(set.count),
                    set.objects,
                    examples(&set.ids)
                ));
            }
        }
    }

    fn foreign(&self, s: &mut String, r: &Report) {
        if r.foreign.is_empty() {
            return;
        }
        s.push_str(&format!(
            "\n  files portalgen does not own (left alone, not compared): {}\n",
            r.foreign.len()
        ));
        for f in &r.foreign {
            let note = if f.in_the_way {
                "  ← a rendered file has this path: render would refuse"
            } else {
                ""
            };
            s.push_str(&format!("  {} {}{note}\n", self.paint("35", "?"), f.path));
        }
    }

    fn details(&self, s: &mut String, e: &Entry) {
        let status = match e.status {
            Status::Changed => "changed",
            Status::Added => "added",
            Status::Removed => "removed",
        };
        s.push_str(&format!(
            "{} {} ({status})\n",
            self.mark(e.status),
            self.paint("1", &e.title)
        ));
        if let Some(g) = &e.tenants {
            s.push_str(&format!(
                "  {} tenant{} alike: {}; shown for {}\n",
                g.count,
                plural(g.count),
                examples(&g.ids),
                g.shown
            ));
        }
        match (&e.old_path, &e.new_path) {
            (Some(a), Some(b)) if e.tenants.as_ref().is_some_and(|g| !g.moved.is_empty()) => {
                let g = e.tenants.as_ref().expect("a tenant group");
                let moved = if g.moved.len() == g.count {
                    "all of them move".to_owned()
                } else {
                    format!("{} of them move ({})", g.moved.len(), examples(&g.moved))
                };
                let example = if a == b {
                    String::new()
                } else {
                    format!(", e.g. {a} → {b}")
                };
                s.push_str(&format!("  file: {moved} to another file{example}\n"));
            }
            (Some(a), Some(b)) if a != b => s.push_str(&format!("  file: {a} → {b}\n")),
            (Some(p), _) | (None, Some(p)) => s.push_str(&format!("  file: {p}\n")),
            (None, None) => {}
        }
        for h in &e.hunks {
            if e.status == Status::Changed {
                s.push_str(&format!("  {}\n", self.paint("36", &h.header())));
            }
            for l in &h.lines {
                let text = format!("{}{}", l.tag.sign(), l.text);
                let text = match l.tag {
                    Tag::Context => text,
                    Tag::Added => self.paint("32", &text),
                    Tag::Removed => self.paint("31", &text),
                };
                s.push_str(&format!("  {}\n", text.trim_end()));
            }
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `t00001, t00002, t00003, … 17 more`
fn examples(ids: &[String]) -> String {
    let mut text = ids
        .iter()
        .take(EXAMPLES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > EXAMPLES {
        text.push_str(&format!(", … {} more", ids.len() - EXAMPLES));
    }
    text
}
