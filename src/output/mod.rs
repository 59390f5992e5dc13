//! Writing an environment's tree (DESIGN §5): atomically, owned, and pruned.
//!
//! * Atomic: the new tree is built in a staging folder beside the target
//!   (`<out>/.<env>.portalgen-staging-<pid>`), then swapped in with one `renameat2`
//!   `RENAME_EXCHANGE` (Linux), so that at every instant `<out>/<env>` is the complete old
//!   tree or the complete new one. Leftover staging folders of a killed run are removed by
//!   the next one.
//! * Owned: `<env>/.portalgen-manifest` lists every file portalgen wrote. A file not listed
//!   there is foreign: it is carried over into the new tree untouched (hard-linked, or a
//!   symlink recreated as a symlink, never followed), and a render that would overwrite it
//!   is refused.
//! * Pruned: a listed file that is no longer rendered is simply not in the new tree.

pub mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
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
}

/// What is on disk in an environment's folder.
#[derive(Debug, Default)]
pub struct OnDisk {
    /// Files portalgen wrote (listed in the manifest and present), by relative path.
    pub owned: BTreeMap<String, Vec<u8>>,
    /// Files and symlinks portalgen did not write.
    pub foreign: BTreeSet<String>,
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
    let mut disk = OnDisk {
        exists: true,
        ..OnDisk::default()
    };
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((abs, rel)) = stack.pop() {
        for entry in fs::read_dir(&abs).map_err(|e| Error::io(&abs, e))? {
            let entry = entry.map_err(|e| Error::io(&abs, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel_path = if rel.is_empty() {
                name.clone()
            } else {
                format!("{rel}/{name}")
            };
            let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            if rel_path == MANIFEST {
                continue;
            }
            if rel_path == LEGACY_RECORD {
                disk.legacy_record = true;
                continue;
            }
            if ft.is_dir() {
                stack.push((entry.path(), rel_path));
            } else if ft.is_file() && listed.contains(&rel_path) {
                let bytes = fs::read(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
                disk.owned.insert(rel_path, bytes);
            } else {
                disk.foreign.insert(rel_path);
            }
        }
    }
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
    remove_leftover_staging(out, env)?;
    let target = out.join(env);
    let disk = read_on_disk(&target)?;

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

    let staging = out.join(format!(".{env}{STAGING_MARK}{}", std::process::id()));
    let result = build_staging(&staging, &target, tree, &manifest, &disk)
        .and_then(|()| swap(&staging, &target));
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
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

/// Test hook: fail after writing this many files into the staging folder, to prove that a
/// failure mid-write leaves the old tree intact.
fn injected_failure_after() -> Option<usize> {
    std::env::var("PORTALGEN_TEST_FAIL_AFTER_FILES")
        .ok()?
        .parse()
        .ok()
}

fn build_staging(
    staging: &Path,
    target: &Path,
    tree: &Tree,
    manifest: &str,
    disk: &OnDisk,
) -> Result<()> {
    fs::create_dir(staging).map_err(|e| Error::io(staging, e))?;
    let dirs: BTreeSet<&str> = tree
        .files
        .keys()
        .chain(disk.foreign.iter())
        .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d))
        .collect();
    for dir in dirs {
        let path = staging.join(dir);
        fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
    }
    // Writing files is the largest cost left at scale: both cores write. The result does not
    // depend on the order of writes.
    let files: Vec<(&String, &Vec<u8>)> = tree.files.iter().collect();
    let fail_after = injected_failure_after();
    let write = |(i, (rel, bytes)): (usize, &(&String, &Vec<u8>))| -> Result<()> {
        if fail_after.is_some_and(|n| i >= n) {
            return Err(Error::Other(format!(
                "injected failure after {} files (PORTALGEN_TEST_FAIL_AFTER_FILES)",
                fail_after.unwrap_or_default()
            )));
        }
        let path = staging.join(rel);
        let mut f = fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        f.write_all(bytes).map_err(|e| Error::io(&path, e))
    };
    if fail_after.is_some() {
        files.iter().enumerate().try_for_each(write)?;
    } else {
        files.par_iter().enumerate().try_for_each(write)?;
    }
    for rel in &disk.foreign {
        carry_over(&target.join(rel), &staging.join(rel))?;
    }
    let path = staging.join(MANIFEST);
    fs::write(&path, manifest).map_err(|e| Error::io(&path, e))?;
    Ok(())
}

/// Brings a foreign file into the new tree as it is: a symlink stays a symlink (its target
/// is never read), a file is hard-linked (or copied across devices).
fn carry_over(from: &Path, to: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(from).map_err(|e| Error::io(from, e))?;
    if meta.file_type().is_symlink() {
        let link = fs::read_link(from).map_err(|e| Error::io(from, e))?;
        std::os::unix::fs::symlink(link, to).map_err(|e| Error::io(to, e))
    } else if fs::hard_link(from, to).is_ok() {
        Ok(())
    } else {
        fs::copy(from, to).map(|_| ()).map_err(|e| Error::io(to, e))
    }
}

/// Puts `staging` in the place of `target`; removes the old tree.
fn swap(staging: &Path, target: &Path) -> Result<()> {
    if fs::symlink_metadata(target).is_err() {
        return fs::rename(staging, target).map_err(|e| Error::io(target, e));
    }
    exchange(staging, target).map_err(|e| Error::io(target, e))?;
    // `staging` now holds the old tree.
    fs::remove_dir_all(staging).map_err(|e| Error::io(staging, e))
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes())?;
    let cb = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere: two renames, with a short window in which `<env>` is absent (a killed run
/// leaves the old tree at `.<env>.portalgen-staging-…-old`, restored by the next run).
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let old = a.with_extension("old");
    fs::rename(b, &old)?;
    fs::rename(a, b)?;
    fs::rename(&old, a)
}

/// Removes the staging folders that a killed run of this environment left behind.
fn remove_leftover_staging(out: &Path, env: &str) -> Result<()> {
    let prefix = format!(".{env}{STAGING_MARK}");
    let entries = fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix(&prefix) {
            let Ok(pid) = pid.parse::<i32>() else {
                continue;
            };
            if pid != std::process::id() as i32 && process_alive(pid) {
                continue; // another run of this environment is writing right now
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let path: PathBuf = entry.path();
                fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
    }
    Ok(())
}

fn process_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}
