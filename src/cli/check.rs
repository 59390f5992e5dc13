//! `portalgen render --check`: compares fresh renders with the trees on disk, file by file
//! and byte for byte ([`crate::diff::drift`]); writes nothing. Exit 1 when any environment
//! is stale, listing the files `render` would add, remove, change, or refuse to overwrite.

use std::path::Path;

use serde::Serialize;

use super::diff::display_path;
use super::{out, paint, report, Context, ExitStatus, Format};
use crate::diagnostic::Severity;
use crate::diff::Drift;
use crate::output;
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

/// One environment's folder compared with its fresh render file by file, as the render
/// streams them ([`Compare::files`]): only the drift is kept, never the texts.
pub struct Compare<'a> {
    dir: std::path::PathBuf,
    disk: output::OnDisk,
    subset: &'a Subset,
    rendered: std::collections::BTreeSet<String>,
    drift: Drift,
    /// Files of the subset the fresh render gives.
    files: usize,
}

impl<'a> Compare<'a> {
    pub fn open(out_dir: &Path, name: &str, subset: &'a Subset) -> crate::diagnostic::Result<Self> {
        let dir = out_dir.join(name);
        let disk = output::read_listing(&dir)?;
        Ok(Compare {
            dir,
            disk,
            subset,
            rendered: Default::default(),
            drift: Drift::default(),
            files: 0,
        })
    }

    /// Compares a batch of fresh files with the disk's.
    pub fn files(&mut self, batch: &[(&str, &[u8])]) -> crate::diagnostic::Result<()> {
        use rayon::prelude::*;
        let (dir, disk, subset) = (&self.dir, &self.disk, self.subset);
        // Per file: kept by the subset, and which list it goes to (0 same, 1 changed,
        // 2 added, 3 blocked).
        let judged: Vec<(bool, u8)> = batch
            .par_iter()
            .map(|(p, b)| -> crate::diagnostic::Result<(bool, u8)> {
                let old = output::read_owned(dir, disk, p)?;
                let keep = subset.is_everything()
                    || subset.keeps_file(p, b)
                    || old.as_deref().is_some_and(|o| subset.keeps_file(p, o));
                let list = match old {
                    Some(o) if o == *b => 0,
                    Some(_) => 1,
                    None if disk.foreign.contains(*p) => 3,
                    None => 2,
                };
                Ok((keep, list))
            })
            .collect::<crate::diagnostic::Result<_>>()?;
        for ((p, b), (keep, list)) in batch.iter().zip(judged) {
            self.rendered.insert((*p).to_owned());
            if subset.is_everything() || subset.keeps_file(p, b) {
                self.files += 1;
            }
            if !keep {
                continue;
            }
            match list {
                1 => self.drift.changed.push((*p).to_owned()),
                2 => self.drift.added.push((*p).to_owned()),
                3 => self.drift.blocked.push((*p).to_owned()),
                _ => {}
            }
        }
        Ok(())
    }

    /// The drift of the whole folder, once every file was compared.
    pub fn finish(mut self, name: &str) -> crate::diagnostic::Result<EnvCompared> {
        let mut removed = Vec::new();
        for p in &self.disk.owned_paths {
            if self.rendered.contains(p) {
                continue;
            }
            let keep = self.subset.is_everything()
                || output::read_owned(&self.dir, &self.disk, p)?
                    .is_some_and(|o| self.subset.keeps_file(p, &o));
            if keep {
                removed.push(p.clone());
            }
        }
        self.drift.removed = removed;
        self.drift.foreign = self
            .disk
            .foreign
            .iter()
            .filter(|p| !self.rendered.contains(*p) && self.subset.keeps_path(p))
            .cloned()
            .collect();
        for list in [
            &mut self.drift.changed,
            &mut self.drift.added,
            &mut self.drift.blocked,
        ] {
            list.sort();
        }
        if self.disk.legacy_record && self.subset.is_everything() {
            // `render` prunes the old checks record: until then the tree is not up to date.
            self.drift.removed.push(output::LEGACY_RECORD.to_owned());
        }
        Ok(EnvCompared {
            name: name.to_owned(),
            exists: self.disk.exists,
            files: self.files,
            drift: self.drift,
        })
    }
}

/// One environment's folder compared with a fresh render.
pub struct EnvCompared {
    name: String,
    exists: bool,
    files: usize,
    drift: Drift,
}

/// The report of `render --check` over environments compared.
pub fn report_compared(
    ctx: &Context,
    root: &Path,
    out_dir: &Path,
    compared: Vec<EnvCompared>,
    format: Format,
) -> anyhow::Result<ExitStatus> {
    let envs = compared.len();
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
    for EnvCompared {
        name,
        exists,
        files,
        drift: d,
    } in compared
    {
        let name = &name;
        let dir = out_dir.join(name);
        let shown = display_path(&dir, root);
        results.push(EnvCheck {
            name: (*name).clone(),
            dir: shown.clone(),
            up_to_date: d.is_empty(),
            exists,
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
        if !exists {
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
    if stale > 0 && envs > 1 {
        text.push_str(&format!("{stale} of {envs} environments stale\n"));
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
