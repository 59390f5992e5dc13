//! `portalgen render --check`: compares fresh renders with the trees on disk; writes nothing.

use std::path::Path;

use super::{out, Context, ExitStatus};
use crate::output::{self, Tree};

/// How a tree on disk differs from a fresh render.
#[derive(Debug, Default)]
pub struct Drift {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

impl Drift {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

/// What `render` would change in `<out>/<env>/`.
pub fn drift(out_dir: &Path, env: &str, tree: &Tree) -> crate::diagnostic::Result<Drift> {
    let disk = output::read_on_disk(&out_dir.join(env))?;
    let mut d = Drift::default();
    for (path, bytes) in &tree.files {
        match disk.owned.get(path) {
            None => d.added.push(path.clone()),
            Some(b) if b != bytes => d.changed.push(path.clone()),
            Some(_) => {}
        }
    }
    d.removed = disk
        .owned
        .keys()
        .filter(|p| !tree.files.contains_key(*p))
        .cloned()
        .collect();
    Ok(d)
}

pub fn run(ctx: &Context, out_dir: &Path, trees: &[(&String, Tree)]) -> anyhow::Result<ExitStatus> {
    let mut stale = 0;
    let mut text = String::new();
    for (name, tree) in trees {
        let d = drift(out_dir, name, tree)?;
        if d.is_empty() {
            if !ctx.quiet {
                text.push_str(&format!(
                    "{name}: up to date ({} files)\n",
                    tree.files.len()
                ));
            }
            continue;
        }
        stale += 1;
        text.push_str(&format!(
            "{name}: stale: {} added, {} removed, {} changed (run `portalgen render {name}`)\n",
            d.added.len(),
            d.removed.len(),
            d.changed.len()
        ));
        for (mark, list) in [("+", &d.added), ("-", &d.removed), ("~", &d.changed)] {
            for p in list {
                text.push_str(&format!("  {mark} {name}/{p}\n"));
            }
        }
    }
    out(&text)?;
    Ok(if stale == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
