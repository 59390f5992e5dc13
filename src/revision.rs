//! The specs of a project at a git revision (`diff --base REF`), read with git plumbing
//! (`rev-parse`, `ls-tree`, `cat-file`) into a temporary root: the work tree, the index and
//! the refs are never touched, and nothing is checked out.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::diagnostic::{Error, Result};
use crate::spec::MAX_SPEC_BYTES;

/// A temporary project root holding `environments/` as it was at a revision; removed when
/// dropped.
#[derive(Debug)]
pub struct AtRevision {
    pub root: PathBuf,
    /// The commit the revision named (full hash).
    pub commit: String,
    /// The specs' folder as `REF:path` for messages, e.g. `main:environments`.
    pub shown: String,
}

impl Drop for AtRevision {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Reads `<project>/environments/*.yaml` at `rev` of the git repository `project` is in,
/// and the team's `templates/extra/` and `schemas/extra/`. A revision without an
/// `environments/` folder gives an empty one (every environment is then new).
pub fn specs_at(project: &Path, rev: &str) -> Result<AtRevision> {
    if rev.starts_with('-') || rev.is_empty() {
        return Err(Error::Other(format!(
            "--base {}: not a revision",
            shown(rev)
        )));
    }
    let git = |args: &[&str]| -> Result<Vec<u8>> {
        let out = Command::new("git")
            .arg("-C")
            .arg(project)
            .args(args)
            .output()
            .map_err(|e| Error::Other(format!("--base needs git: {e}")))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            Err(Error::Other(format!(
                "--base {}: git {}: {}",
                shown(rev),
                args[0],
                err.lines()
                    .next()
                    .unwrap_or("failed")
                    .chars()
                    .take(200)
                    .collect::<String>()
            )))
        }
    };
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).trim().to_owned();
    let commit = text(git(&[
        "rev-parse",
        "--verify",
        "--end-of-options",
        &format!("{rev}^{{commit}}"),
    ])?);
    // The project root's path inside the repository ("" at its top, else "sub/dir/").
    let prefix = text(git(&["rev-parse", "--show-prefix"])?);
    let listing = git(&[
        "ls-tree",
        "-z",
        "-l",
        "--full-tree",
        &commit,
        "--",
        &format!("{prefix}environments/"),
    ])?;

    let root = temp_root()?;
    let at = AtRevision {
        root,
        commit: commit.clone(),
        shown: format!("{rev}:{prefix}environments"),
    };
    let envs = at.root.join("environments");
    std::fs::create_dir(&envs).map_err(|e| Error::io(&envs, e))?;
    for entry in listing.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        // `<mode> <type> <object> <size>\t<path>`
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let [mode, kind, object, size] = fields[..] else {
            continue;
        };
        let name = path.rsplit('/').next().unwrap_or_default();
        // Regular files only (a symlink's target is not followed), plain names only.
        let plain =
            !name.starts_with('.') && !name.contains(['\\', '\0']) && name.ends_with(".yaml");
        if kind != "blob" || !mode.starts_with("100") || !plain {
            continue;
        }
        if size.parse::<usize>().map_or(true, |s| s > MAX_SPEC_BYTES) {
            return Err(Error::Other(format!(
                "--base {}: {path} is larger than {MAX_SPEC_BYTES} bytes, the most a spec may be",
                shown(rev)
            )));
        }
        let bytes = git(&["cat-file", "blob", object])?;
        let dest = envs.join(name);
        std::fs::write(&dest, bytes).map_err(|e| Error::io(&dest, e))?;
    }
    // What the team adds (docs/escape-hatch.md), as it was at the revision: its extra
    // templates and their schemas are part of what a change renders.
    for dir in crate::render::team::PROJECT_DIRS {
        copy_folder(&git, &commit, &prefix, dir, &at.root, rev)?;
    }
    Ok(at)
}

/// The most files copied from one folder at a revision (the loader refuses more anyway).
const MAX_COPIED: usize = 10_000;

/// Copies every file under `<prefix><dir>/` at `commit` to `root/<dir>/`. A symlink there
/// is refused (the work tree's would be too); the loader checks names and sizes as it
/// does in the work tree.
fn copy_folder(
    git: &dyn Fn(&[&str]) -> Result<Vec<u8>>,
    commit: &str,
    prefix: &str,
    dir: &str,
    root: &Path,
    rev: &str,
) -> Result<()> {
    let from = format!("{prefix}{dir}/");
    let listing = git(&[
        "ls-tree",
        "-r",
        "-z",
        "-l",
        "--full-tree",
        commit,
        "--",
        &from,
    ])?;
    let entries: Vec<&[u8]> = listing
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.len() > MAX_COPIED {
        return Err(Error::Other(format!(
            "--base {}: {from} holds more than {MAX_COPIED} files",
            shown(rev)
        )));
    }
    for entry in entries {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            continue;
        };
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let [mode, kind, object, size] = fields[..] else {
            continue;
        };
        let Some(rel) = path.strip_prefix(&from) else {
            continue;
        };
        if kind != "blob" || !mode.starts_with("100") {
            return Err(Error::Other(format!(
                "--base {}: {path} is not a regular file at that revision (portalgen does not follow symlinks)",
                shown(rev)
            )));
        }
        if rel
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
        {
            continue;
        }
        if size.parse::<usize>().map_or(true, |s| s > MAX_SPEC_BYTES) {
            return Err(Error::Other(format!(
                "--base {}: {path} is larger than {MAX_SPEC_BYTES} bytes",
                shown(rev)
            )));
        }
        let bytes = git(&["cat-file", "blob", object])?;
        let dest = root.join(dir).join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&dest, bytes).map_err(|e| Error::io(&dest, e))?;
    }
    Ok(())
}

/// A new, empty folder under the system's temporary folder.
fn temp_root() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..100u32 {
        let dir = base.join(format!(
            "portalgen-base-{}-{nanos:x}-{attempt}",
            std::process::id()
        ));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        }
    }
    Err(Error::Other("could not create a temporary folder".into()))
}

fn shown(s: &str) -> String {
    s.chars().take(60).flat_map(char::escape_default).collect()
}
