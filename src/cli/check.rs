//! `portalgen render --check`: compares fresh renders with the trees on disk, file by file
//! and byte for byte ([`crate::diff::drift`]); writes nothing. Exit 1 when any environment
//! is stale, listing the files `render` would add, remove, change, or refuse to overwrite.

use std::path::Path;

use super::diff::display_path;
use super::{out, paint, Context, ExitStatus};
use crate::output::{self, Tree};
use crate::subset::Subset;

pub fn run(
    ctx: &Context,
    root: &Path,
    out_dir: &Path,
    trees: &[(&String, Tree)],
    subset: &Subset,
) -> anyhow::Result<ExitStatus> {
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
        if !subset.is_everything() {
            let keeps = |p: &String| {
                tree.files.get(p).is_some_and(|b| subset.keeps_file(p, b))
                    || disk.owned.get(p).is_some_and(|b| subset.keeps_file(p, b))
            };
            for list in [&mut d.changed, &mut d.added, &mut d.removed, &mut d.blocked] {
                list.retain(keeps);
            }
            d.foreign.retain(|p| subset.keeps_path(p));
        }
        let files = tree
            .files
            .iter()
            .filter(|(p, b)| subset.keeps_file(p, b))
            .count();
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
    out(&text)?;
    Ok(if stale == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
