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

use rayon::prelude::*;

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
    /// Files whose bytes were written; the others of a changed tree were equal to the old
    /// tree's and are hard-linked from it.
    pub written: usize,
}

/// What is on disk in an environment's folder.
#[derive(Debug, Default)]
pub struct OnDisk {
    /// Files portalgen wrote (listed in the manifest and present), by relative path, with
    /// their bytes when a caller put them there (tests; empty after [`read_listing`]).
    pub owned: BTreeMap<String, Vec<u8>>,
    /// The paths of those files (both readers).
    pub owned_paths: BTreeSet<String>,
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

/// Reads `dir` (an environment's folder) without following any symlink, and without
/// reading any file but the manifest: what a streamed write, check or diff needs before
/// it compares file by file ([`read_owned`]).
pub fn read_listing(dir: &Path) -> Result<OnDisk> {
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
    for (rel, is_file) in &walk.files {
        let utf8 = rel.to_str();
        match utf8 {
            Some(MANIFEST) => continue,
            Some(LEGACY_RECORD) => {
                disk.legacy_record = true;
                continue;
            }
            _ => {}
        }
        match utf8 {
            Some(p) if *is_file && listed.contains(p) => {
                disk.owned_paths.insert(p.to_owned());
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

/// The bytes of the owned file `rel` of `dir`, if it is one ([`read_listing`]).
pub fn read_owned(dir: &Path, disk: &OnDisk, rel: &str) -> Result<Option<Vec<u8>>> {
    if let Some(b) = disk.owned.get(rel) {
        return Ok(Some(b.clone()));
    }
    if !disk.owned_paths.contains(rel) {
        return Ok(None);
    }
    let abs = dir.join(rel);
    fs::read(&abs).map(Some).map_err(|e| Error::io(&abs, e))
}

/// Writes `tree` as `<out>/<env>/`, atomically.
pub fn write_env(out: &Path, env: &str, tree: &Tree) -> Result<WriteReport> {
    let mut w = EnvWriter::open(out, env)?;
    let files: Vec<(&str, &[u8])> = tree
        .files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    w.files(&files)?;
    w.prepare()?.commit()
}

/// A write of one environment's tree, fed file by file ([`EnvWriter::files`], in batches,
/// so that the whole tree is never held at once), then [`EnvWriter::prepare`]d (every check
/// done, the new tree complete in its staging folder) and [`Prepared::commit`]ted (the
/// swap). Dropped before the commit, it leaves the old tree as it was.
///
/// A file whose bytes equal the old tree's is hard-linked into the new tree rather than
/// written again (the same bytes; only what changed is written), and while every file so
/// far is equal no staging folder exists at all: a render over an identical tree writes
/// nothing.
pub struct EnvWriter {
    target: PathBuf,
    out: PathBuf,
    /// Whether this write created `out` (removed again if nothing comes of it).
    created_out: bool,
    _lock: Option<fs::File>,
    disk: OnDisk,
    staging: Option<staging::Staging>,
    /// Folders made in the staging folder.
    dirs_made: BTreeSet<PathBuf>,
    paths: BTreeSet<String>,
    bytes: u64,
    /// Files whose bytes were written (the others were linked).
    written: usize,
    /// Files put into the staging folder, for the test hook that fails a write midway.
    staged: usize,
    fail_after: Option<usize>,
}

/// A new tree complete in its staging folder (or the old tree, unchanged), every check
/// passed: what is left is the swap.
pub struct Prepared {
    target: PathBuf,
    disk: OnDisk,
    staging: Option<staging::Staging>,
    report: WriteReport,
    _lock: Option<fs::File>,
}

/// How a rendered file compares with the old tree's.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compared {
    Same,
    Other,
}

impl EnvWriter {
    /// Checks where `<out>/<env>` is, locks it and reads what it holds (not the bytes).
    pub fn open(out: &Path, env: &str) -> Result<EnvWriter> {
        // The environment's folder name comes from a spec file's name: never let it climb
        // out of `out` (`..`, `/`) or name a hidden folder, whatever checked it before.
        if !is_plain_name(env) {
            return Err(Error::Other(format!(
                "refusing to write environment '{env}': its name must be a DNS-1123 label"
            )));
        }
        let created_out = match fs::metadata(out) {
            Ok(meta) if !meta.is_dir() => {
                return Err(Error::Other(format!(
                    "the output path {} is not a folder",
                    out.display()
                )))
            }
            Ok(_) => false,
            Err(_) => true,
        };
        fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        staging::remove_leftovers(out, env)?;
        let target = out.join(env);
        let lock = staging::lock_target(&target)?;
        let disk = read_listing(&target)?;
        touch_for_tests(&target);
        if let Some(mount) = disk.mount_points.first() {
            return Err(Error::Other(format!(
                "refusing to write {}: {} inside it is a mount point, which portalgen cannot replace without losing what is mounted there\n  hint: mount it elsewhere",
                target.display(),
                crate::diagnostic::quote(&mount.to_string_lossy())
            )));
        }
        Ok(EnvWriter {
            target,
            out: out.to_path_buf(),
            created_out,
            _lock: lock,
            disk,
            staging: None,
            dirs_made: BTreeSet::new(),
            paths: BTreeSet::new(),
            bytes: 0,
            written: 0,
            staged: 0,
            fail_after: staging::injected_failure_after(),
        })
    }

    /// Takes a batch of rendered files (relative path, bytes); the bytes may be let go
    /// afterwards.
    pub fn files(&mut self, batch: &[(&str, &[u8])]) -> Result<()> {
        if let Some((bad, _)) = batch.iter().find(|(p, _)| !is_safe_relative(p)) {
            return Err(Error::Other(format!(
                "refusing to write '{bad}': a rendered path must stay inside the environment's folder"
            )));
        }
        for (p, b) in batch {
            self.paths.insert((*p).to_owned());
            self.bytes += b.len() as u64;
        }
        let compare = |(p, b): &(&str, &[u8])| -> Result<Compared> {
            Ok(match read_owned(&self.target, &self.disk, p)? {
                Some(old) if old == *b => Compared::Same,
                _ => Compared::Other,
            })
        };
        let compared: Vec<Compared> = batch.par_iter().map(compare).collect::<Result<_>>()?;
        if self.staging.is_none() {
            if compared.iter().all(|c| *c == Compared::Same) {
                return Ok(());
            }
            self.begin_staging(batch)?;
        }
        self.stage(batch, &compared)
    }

    /// The first difference, in `batch`: the new tree starts in a staging folder, with the
    /// files equal so far (every path taken before this batch, which are not held twice).
    fn begin_staging(&mut self, batch: &[(&str, &[u8])]) -> Result<()> {
        self.staging = Some(staging::Staging::create(&self.out, self.target_name())?);
        let this_batch: std::collections::HashSet<&str> = batch.iter().map(|(p, _)| *p).collect();
        let pending: Vec<String> = self
            .paths
            .iter()
            .filter(|p| !this_batch.contains(p.as_str()))
            .cloned()
            .collect();
        let refs: Vec<(&str, &[u8])> = pending.iter().map(|p| (p.as_str(), &[][..])).collect();
        let same = vec![Compared::Same; refs.len()];
        self.stage(&refs, &same)
    }

    fn target_name(&self) -> &str {
        self.target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
    }

    /// Puts files into the staging folder: equal ones linked from the old tree, others
    /// written.
    fn stage(&mut self, batch: &[(&str, &[u8])], compared: &[Compared]) -> Result<()> {
        let staging = &self.staging.as_ref().expect("a staging folder").path;
        for (p, _) in batch {
            if let Some((dir, _)) = p.rsplit_once('/') {
                let dir = PathBuf::from(dir);
                if !self.dirs_made.contains(&dir) {
                    let path = staging.join(&dir);
                    fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
                    self.dirs_made
                        .extend(dir.ancestors().map(Path::to_path_buf));
                }
            }
        }
        let target = &self.target;
        let put = |((p, b), c): (&(&str, &[u8]), &Compared)| -> Result<bool> {
            let path = staging.join(p);
            if *c == Compared::Same && staging::link(&target.join(p), &path) {
                return Ok(false);
            }
            let read;
            let bytes: &[u8] = match c {
                Compared::Same if b.is_empty() => {
                    let abs = target.join(p);
                    read = fs::read(&abs).map_err(|e| Error::io(&abs, e))?;
                    &read
                }
                _ => b,
            };
            staging::write_new(&path, bytes)?;
            Ok(true)
        };
        let pairs: Vec<_> = batch.iter().zip(compared).collect();
        let written: Vec<bool> = if let Some(n) = self.fail_after {
            // The test hook: one file at a time, failing after the n-th.
            let mut out = Vec::new();
            for pair in pairs {
                if self.staged >= n {
                    return Err(Error::Other(format!(
                        "injected failure after {n} files (PORTALGEN_TEST_FAIL_AFTER_FILES)"
                    )));
                }
                out.push(put(pair)?);
                self.staged += 1;
            }
            out
        } else {
            // Writing files is a large cost at scale: both cores write. The result does
            // not depend on the order of writes.
            pairs.into_par_iter().map(put).collect::<Result<_>>()?
        };
        self.written += written.iter().filter(|w| **w).count();
        Ok(())
    }

    /// Every check of the write (foreign files in the way), and the new tree completed in
    /// its staging folder unless the old one is already exactly it.
    pub fn prepare(mut self) -> Result<Prepared> {
        let clashes: Vec<&String> = self
            .disk
            .foreign
            .iter()
            .filter(|p| clashes_with(p, &self.paths))
            .collect();
        if !clashes.is_empty() {
            return Err(Error::Other(format!(
                "refusing to overwrite {} file(s) in {} that portalgen did not write: {}\n  \
                 hint: move them away, or delete them if they are stale copies",
                clashes.len(),
                self.target.display(),
                clashes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let pruned: Vec<String> = self
            .disk
            .owned_paths
            .iter()
            .filter(|p| !self.paths.contains(*p))
            .cloned()
            .collect();
        let mut report = WriteReport {
            files: self.paths.len(),
            bytes: self.bytes,
            unchanged: false,
            pruned,
            foreign_kept: self.disk.foreign.iter().cloned().collect(),
            written: 0,
        };
        let manifest = manifest_text(&self.paths);
        let manifest_same =
            fs::read(self.target.join(MANIFEST)).ok().as_deref() == Some(manifest.as_bytes());
        if self.staging.is_none()
            && self.disk.exists
            && manifest_same
            && !self.disk.legacy_record
            && self.disk.owned_paths.len() == self.paths.len()
        {
            report.unchanged = true;
            return Ok(self.into_prepared(report));
        }
        if self.staging.is_none() {
            self.begin_staging(&[])?;
        }
        let mut dirs: BTreeSet<PathBuf> = self
            .disk
            .foreign_raw
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .chain(self.disk.kept_dirs.iter().cloned())
            .filter(|d| !d.as_os_str().is_empty())
            .collect();
        let ancestors: Vec<PathBuf> = dirs
            .iter()
            .flat_map(|d| d.ancestors().skip(1))
            .filter(|a| !a.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .collect();
        dirs.extend(ancestors);
        dirs.extend(
            self.dirs_made
                .iter()
                .filter(|d| !d.as_os_str().is_empty())
                .cloned(),
        );
        let staging = self.staging.as_ref().expect("a staging folder");
        staging.finish(&self.target, &dirs, &manifest, &self.disk)?;
        report.written = self.written;
        Ok(self.into_prepared(report))
    }

    fn into_prepared(mut self, report: WriteReport) -> Prepared {
        self.created_out = false;
        Prepared {
            target: std::mem::take(&mut self.target),
            disk: std::mem::take(&mut self.disk),
            staging: self.staging.take(),
            report,
            _lock: self._lock.take(),
        }
    }
}

impl Drop for EnvWriter {
    fn drop(&mut self) {
        // Nothing came of the write: the staging folder goes (Staging's drop), and so does
        // an output folder this write created, if it is still empty.
        self.staging.take();
        if self.created_out {
            let _ = fs::remove_dir(&self.out);
        }
    }
}

impl Prepared {
    /// What the write does (or did, once committed).
    pub fn report(&self) -> &WriteReport {
        &self.report
    }

    /// Swaps the new tree in (nothing to do when the old one is unchanged).
    pub fn commit(mut self) -> Result<WriteReport> {
        if let Some(staging) = self.staging.take() {
            // After a swap the staging folder holds the old tree; after a failure, the
            // partial new one: either way it goes (when `staging` is dropped).
            staging.swap(&self.target, &self.disk)?;
        }
        Ok(std::mem::take(&mut self.report))
    }
}

/// Whether a foreign path stands where the tree writes: the same path, a file or symlink
/// where the tree needs a folder, or a folder of foreign files where the tree writes a file.
fn clashes_with(foreign: &str, paths: &BTreeSet<String>) -> bool {
    if paths.contains(foreign) {
        return true;
    }
    let as_dir = format!("{foreign}/");
    if paths
        .range(as_dir.clone()..)
        .next()
        .is_some_and(|p| p.starts_with(&as_dir))
    {
        return true;
    }
    let mut prefix = foreign;
    while let Some((parent, _)) = prefix.rsplit_once('/') {
        if paths.contains(parent) {
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

fn manifest_text(paths: &BTreeSet<String>) -> String {
    let mut text = String::from(
        "# Files written by portalgen. It prunes these when they are no longer rendered and\n\
         # never touches a file not listed here. Do not edit.\n",
    );
    for path in paths {
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
