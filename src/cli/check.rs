//! `portalgen render --check`: compares fresh renders with the trees on disk, file by file
//! and byte for byte ([`crate::diff::drift`]); writes nothing. Exit 1 when any environment
//! is stale, listing the files `render` would add, remove, change, or refuse to overwrite.

use std::path::Path;

use serde::Serialize;

use super::diff::display_path;
use super::{out, paint, report, Context, ExitStatus, Format};
use crate::diagnostic::Severity;
use crate::diff::Drift;
use crate::output::{self, Tree};
use crate::subset::Subset;

/// One environment's result, as JSON (schemas/reports/check.v1.schema.json).
#[derive(Debug, Serialize)]
struct EnvCheck {
    name: String,
    /// The folder checked, relative to the project root when inside it.
    dir: String,
    up_to_date: bool,
    /// Whether the folder exists at all.
    exists: bool,
    /// Files a fresh render gives (of the subset asked for).
    files: usize,
    #[serde(flatten)]
    drift: Drift,
}

#[derive(Debug, Serialize)]
struct JsonReport {
    version: u32,
    ok: bool,
    environments: Vec<EnvCheck>,
}

pub fn run(
    ctx: &Context,
    root: &Path,
    out_dir: &Path,
    trees: &[(&String, Tree)],
    subset: &Subset,
    format: Format,
) -> anyhow::Result<ExitStatus> {
    let mut results = Vec::new();
    let color = super::diff::use_color(ctx.color);
    // The command that fixes it, with the --out it was checked with.
    let fix = if out_dir == root.join("rendered") {
        String::new()
    } else {
        format!(" --out {}", display_path(out_dir, root))
    };
    let mut stale = 0;
    let mut text = String::new();
    for (name, tree) in trees {
        let dir = out_dir.join(name);
        let shown = display_path(&dir, root);
        let disk = output::read_on_disk(&dir)?;
        let mut d = crate::diff::drift(&disk, tree);
        if disk.legacy_record {
            // `render` prunes the old checks record: until then the tree is not up to date.
            d.removed.push(output::LEGACY_RECORD.to_owned());
        }
        narrow(&mut d, tree, &disk, subset);
        let files = tree
            .files
            .iter()
            .filter(|(p, b)| subset.keeps_file(p, b))
            .count();
        results.push(EnvCheck {
            name: (*name).clone(),
            dir: shown.clone(),
            up_to_date: d.is_empty(),
            exists: disk.exists,
            files,
            drift: d.clone(),
        });
        let foreign = if d.foreign.is_empty() {
            String::new()
        } else {
            format!(
                "; {} file(s) portalgen does not own left alone",
                d.foreign.len()
            )
        };
        if d.is_empty() {
            if !ctx.quiet {
                text.push_str(&format!(
                    "{name}: up to date ({} files in {shown}{foreign})\n",
                    files
                ));
            }
            continue;
        }
        stale += 1;
        if !disk.exists {
            text.push_str(&format!(
                "{name}: not rendered: {shown} does not exist ({} files to write; run `portalgen render {name}{fix}`)\n",
                files
            ));
            continue;
        }
        text.push_str(&format!(
            "{name}: {}: {} changed, {} added, {} removed{}{foreign}\n  \
             run `portalgen render {name}{fix}` to update it, `portalgen diff {name}{fix}` to see the changes\n",
            paint(color, "1;33", "stale"),
            d.changed.len(),
            d.added.len(),
            d.removed.len(),
            if d.blocked.is_empty() { String::new() } else { format!(", {} in the way", d.blocked.len()) },
        ));
        for (mark, list, note) in [
            ("~", &d.changed, ""),
            ("+", &d.added, ""),
            ("-", &d.removed, ""),
            (
                "!",
                &d.blocked,
                "  (a file portalgen does not own has this path; render would refuse)",
            ),
        ] {
            for p in list {
                text.push_str(&format!("  {mark} {shown}/{p}{note}\n"));
            }
        }
    }
    if stale > 0 && trees.len() > 1 {
        text.push_str(&format!("{stale} of {} environments stale\n", trees.len()));
    }
    let text = match format {
        Format::Text => text,
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&JsonReport {
                version: report::VERSION,
                ok: stale == 0,
                environments: results,
            })?
        ),
        Format::Junit => report::junit("render --check", &suites(&results), &items(&results, &fix)),
        Format::Sarif => report::sarif(&items(&results, &fix)),
        other => return Err(super::unsupported(other, "render --check").into()),
    };
    out(&text)?;
    Ok(if stale == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn suites(results: &[EnvCheck]) -> Vec<report::Suite> {
    results
        .iter()
        .map(|r| report::Suite {
            name: r.name.clone(),
            passed: if r.up_to_date {
                vec![format!("{} is up to date ({} files)", r.dir, r.files)]
            } else {
                Vec::new()
            },
        })
        .collect()
}

/// One item per file `render` would change.
fn items(results: &[EnvCheck], fix: &str) -> Vec<report::Item> {
    let mut items = Vec::new();
    for r in results {
        let d = &r.drift;
        for (list, what) in [
            (&d.changed, "differs from a fresh render"),
            (&d.added, "is missing: a fresh render writes it"),
            (&d.removed, "is no longer rendered: render removes it"),
            (
                &d.blocked,
                "is in the way: a file portalgen does not own has a rendered file's path",
            ),
        ] {
            for p in list {
                items.push(report::Item {
                    environment: r.name.clone(),
                    rule: "portalgen/stale".into(),
                    severity: Severity::Error,
                    file: format!("{}/{p}", r.dir).replace('\\', "/"),
                    line: None,
                    column: None,
                    object: None,
                    path: None,
                    message: format!("{}/{p} {what}", r.dir),
                    hint: Some(format!(
                        "run `portalgen render {}{fix}` and commit the result",
                        r.name
                    )),
                });
            }
        }
    }
    items
}

/// Keeps the drift of the files of `subset` (a file is in it when its fresh render or its
/// copy on disk holds something asked for).
fn narrow(d: &mut Drift, tree: &Tree, disk: &output::OnDisk, subset: &Subset) {
    if subset.is_everything() {
        return;
    }
    let keeps = |p: &String| {
        tree.files.get(p).is_some_and(|b| subset.keeps_file(p, b))
            || disk.owned.get(p).is_some_and(|b| subset.keeps_file(p, b))
    };
    for list in [&mut d.changed, &mut d.added, &mut d.removed, &mut d.blocked] {
        list.retain(keeps);
    }
    d.foreign.retain(|p| subset.keeps_path(p));
}
