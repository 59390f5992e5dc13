//! Writing an environment's tree (DESIGN §5): atomically, owned, and pruned.
//!
//! * Atomic: the new tree is built in a staging folder beside the target
//!   (`<out>/.<env>.portalgen-staging-<pid>-<random>`, see `staging`), then swapped in with one `renameat2`
//!   `RENAME_EXCHANGE` (Linux), so that at every instant `<out>/<env>` is the complete old
//!   tree or the complete new one. Leftover staging folders of a killed run are removed by
//!   the next one.
//! * Owned: `<env>/.portalgen-manifest` lists every file portalgen wrote. A file not listed
//!   there is foreign: it is carried over into the new tree untouched (hard-linked, or a
//!   symlink recreated as a symlink, never followed), and a render that would overwrite it
//!   is refused.
//! * Pruned: a listed file that is no longer rendered is simply not in the new tree.

mod disk;
mod staging;
pub mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Error, Result};
pub use tree::Tree;

/// The name of the ownership manifest inside an environment's folder.
pub const MANIFEST: &str = ".portalgen-manifest";
/// The record of checks passed that earlier versions kept in the tree. It let anyone who
/// could commit skip the checks, so it is gone: a render prunes it from an existing tree.
pub const LEGACY_RECORD: &str = ".portalgen-validated";
const STAGING_MARK: &str = ".portalgen-staging-";

/// What a write did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteReport {
    pub files: usize,
    pub bytes: u64,
    /// Nothing changed on disk: the tree was already up to date.
    pub unchanged: bool,
    pub pruned: Vec<String>,
    pub foreign_kept: Vec<String>,
}

/// What is on disk in an environment's folder.
#[derive(Debug, Default)]
pub struct OnDisk {
    /// Files portalgen wrote (listed in the manifest and present), by relative path.
    pub owned: BTreeMap<String, Vec<u8>>,
    /// Files and symlinks portalgen did not write, whose names are UTF-8 (the ones a
    /// rendered path can clash with).
    pub foreign: BTreeSet<String>,
    /// Every foreign file and symlink, names as bytes: what the swap carries over.
    pub foreign_raw: BTreeSet<PathBuf>,
    /// Folders the new tree keeps from the old one (modes and xattrs copied).
    pub kept_dirs: Vec<PathBuf>,
    /// Mount points inside the folder (a write refuses them).
    pub mount_points: Vec<PathBuf>,
    /// Every entry as it was read, to tell whether anything changed since.
    pub snapshot: disk::Snapshot,
    /// Whether the folder exists at all.
    pub exists: bool,
    /// Whether it holds the legacy checks record (to be pruned).
    pub legacy_record: bool,
}

/// Reads `dir` (an environment's folder) without following any symlink.
pub fn read_on_disk(dir: &Path) -> Result<OnDisk> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(OnDisk::default()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    if !meta.is_dir() {
        return Err(Error::Other(format!(
            "{} exists and is not a folder (a symlink or a file); refusing to write there",
            dir.display()
        )));
    }
    let listed: BTreeSet<String> = match fs::read_to_string(dir.join(MANIFEST)) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_owned)
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeSet::new(),
        Err(e) => return Err(Error::io(dir.join(MANIFEST), e)),
    };
    let walk = disk::walk(dir)?;
    let mut disk = OnDisk {
        exists: true,
        ..OnDisk::default()
    };
    for rel in &walk.files {
        let utf8 = rel.to_str();
        match utf8 {
            Some(MANIFEST) => continue,
            Some(LEGACY_RECORD) => {
                disk.legacy_record = true;
                continue;
            }
            _ => {}
        }
        let abs = dir.join(rel);
        let is_file = fs::symlink_metadata(&abs)
            .map_err(|e| Error::io(&abs, e))?
            .is_file();
        match utf8 {
            Some(p) if is_file && listed.contains(p) => {
                let bytes = fs::read(&abs).map_err(|e| Error::io(&abs, e))?;
                disk.owned.insert(p.to_owned(), bytes);
            }
            _ => {
                if let Some(p) = utf8 {
                    disk.foreign.insert(p.to_owned());
                }
                disk.foreign_raw.insert(rel.clone());
            }
        }
    }
    disk.kept_dirs = disk::kept_dirs(&walk, &disk.foreign_raw);
    disk.mount_points = walk.mount_points;
    disk.snapshot = walk.snapshot;
    Ok(disk)
}

/// Writes `tree` as `<out>/<env>/`, atomically.
pub fn write_env(out: &Path, env: &str, tree: &Tree) -> Result<WriteReport> {
    // The environment's folder name comes from a spec file's name: never let it climb out
    // of `out` (`..`, `/`) or name a hidden folder, whatever checked it before.
    if !is_plain_name(env) {
        return Err(Error::Other(format!(
            "refusing to write environment '{env}': its name must be a DNS-1123 label"
        )));
    }
    if let Some(bad) = tree.files.keys().find(|p| !is_safe_relative(p)) {
        return Err(Error::Other(format!(
            "refusing to write '{bad}': a rendered path must stay inside the environment's folder"
        )));
    }
    if let Ok(meta) = fs::metadata(out) {
        if !meta.is_dir() {
            return Err(Error::Other(format!(
                "the output path {} is not a folder",
                out.display()
            )));
        }
    }
    fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    staging::remove_leftovers(out, env)?;
    let target = out.join(env);
    let _lock = staging::lock_target(&target)?;
    let disk = read_on_disk(&target)?;
    touch_for_tests(&target);
    if let Some(mount) = disk.mount_points.first() {
        return Err(Error::Other(format!(
            "refusing to write {}: {} inside it is a mount point, which portalgen cannot replace without losing what is mounted there\n  hint: mount it elsewhere",
            target.display(),
            crate::diagnostic::quote(&mount.to_string_lossy())
        )));
    }

    let clashes: Vec<&String> = disk
        .foreign
        .iter()
        .filter(|p| clashes_with(p, tree))
        .collect();
    if !clashes.is_empty() {
        return Err(Error::Other(format!(
            "refusing to overwrite {} file(s) in {} that portalgen did not write: {}\n  \
             hint: move them away, or delete them if they are stale copies",
            clashes.len(),
            target.display(),
            clashes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let pruned: Vec<String> = disk
        .owned
        .keys()
        .filter(|p| !tree.files.contains_key(*p))
        .cloned()
        .collect();
    let mut report = WriteReport {
        files: tree.files.len(),
        bytes: tree.bytes(),
        unchanged: false,
        pruned,
        foreign_kept: disk.foreign.iter().cloned().collect(),
    };
    let manifest = manifest_text(tree);
    let manifest_same =
        fs::read(target.join(MANIFEST)).ok().as_deref() == Some(manifest.as_bytes());
    if disk.exists
        && manifest_same
        && !disk.legacy_record
        && disk.owned.len() == tree.files.len()
        && disk.owned.iter().all(|(p, b)| tree.files.get(p) == Some(b))
    {
        report.unchanged = true;
        return Ok(report);
    }

    let staging = staging::Staging::create(out, env)?;
    let result = staging
        .build(&target, tree, &manifest, &disk)
        .and_then(|()| staging.swap(&target, &disk));
    // After a swap the staging folder holds the old tree; after a failure, the partial new
    // one: either way it goes.
    staging.remove();
    result?;
    Ok(report)
}

/// Whether a foreign path stands where the tree writes: the same path, a file or symlink
/// where the tree needs a folder, or a folder of foreign files where the tree writes a file.
fn clashes_with(foreign: &str, tree: &Tree) -> bool {
    if tree.files.contains_key(foreign) {
        return true;
    }
    let as_dir = format!("{foreign}/");
    if tree
        .files
        .range(as_dir.clone()..)
        .next()
        .is_some_and(|(p, _)| p.starts_with(&as_dir))
    {
        return true;
    }
    let mut prefix = foreign;
    while let Some((parent, _)) = prefix.rsplit_once('/') {
        if tree.files.contains_key(parent) {
            return true;
        }
        prefix = parent;
    }
    false
}

/// A DNS-1123 label: what an environment's folder may be called.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A relative path of plain segments: no `..`, `.`, empty segment or leading `/`.
fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && path != MANIFEST
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && !seg.contains('\0'))
}

fn manifest_text(tree: &Tree) -> String {
    let mut text = String::from(
        "# Files written by portalgen. It prunes these when they are no longer rendered and\n\
         # never touches a file not listed here. Do not edit.\n",
    );
    for path in tree.files.keys() {
        text.push_str(path);
        text.push('\n');
    }
    text
}

/// Test hook: create this file in the old tree right after it was read, as an editor saving
/// a file during the render would (the render must then refuse, losing nothing).
fn touch_for_tests(target: &Path) {
    if let Ok(rel) = std::env::var("PORTALGEN_TEST_WRITE_DURING_RENDER") {
        let _ = fs::write(target.join(rel), "saved during the render\n");
    }
}
