//! `portalgen render --check`: compares fresh renders with the trees on disk, file by file
//! and byte for byte ([`crate::diff::drift`]); writes nothing. Exit 1 when any environment
//! is stale, listing the files `render` would add, remove, change, or refuse to overwrite.

use std::path::Path;

use super::diff::display_path;
use super::{out, Context, ExitStatus};
use crate::output::{self, Tree};

pub fn run(
    ctx: &Context,
    root: &Path,
    out_dir: &Path,
    trees: &[(&String, Tree)],
) -> anyhow::Result<ExitStatus> {
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
                    tree.files.len()
                ));
            }
            continue;
        }
        stale += 1;
        if !disk.exists {
            text.push_str(&format!(
                "{name}: not rendered: {shown} does not exist ({} files to write; run `portalgen render {name}`)\n",
                tree.files.len()
            ));
            continue;
        }
        text.push_str(&format!(
            "{name}: stale: {} changed, {} added, {} removed{}{foreign}\n  \
             run `portalgen render {name}` to update it, `portalgen diff {name}` to see the changes\n",
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
