//! The staging folder a new tree is built in, and the swap that puts it in place.
//!
//! * Unique: `.<env>.portalgen-staging-<pid>-<random>`, created with `mkdir` (which fails
//!   if the name exists) and retried: two renders in different PID namespaces on one
//!   volume never share a folder.
//! * Owned while alive: the render holds an exclusive `flock` on its staging folder and on
//!   the old tree. A leftover folder whose lock can be taken belongs to a dead run and is
//!   removed; a locked one is left alone (this works across PID namespaces, unlike a pid).
//! * Nothing foreign is lost: foreign files are hard-linked (same inode: same bytes,
//!   mode and xattrs), symlinks recreated as symlinks, kept folders get their mode and
//!   xattrs; if anything in the old tree changed since it was read (a file saved during the
//!   render), the swap is refused — checked before the exchange and, on the old tree, right
//!   after it (then exchanged back).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::disk;
use super::{OnDisk, MANIFEST, STAGING_MARK};
use crate::diagnostic::{Error, Result};

/// A staging folder of this run, locked.
pub struct Staging {
    pub path: PathBuf,
    _lock: File,
}

/// An exclusive lock on an existing environment folder, held for the whole write.
pub fn lock_target(target: &Path) -> Result<Option<File>> {
    let dir = match File::open(target) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(target, e)),
    };
    if !try_lock(&dir) {
        return Err(Error::Other(format!(
            "another portalgen run is writing {} right now; try again when it is done",
            target.display()
        )));
    }
    Ok(Some(dir))
}

fn try_lock(f: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on an open descriptor we own.
    unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

fn random_suffix() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: getrandom fills at most `buf.len()` bytes of `buf`.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n != buf.len() as isize {
        // No entropy source: the time still differs between two runs in practice, and
        // `mkdir` below never reuses an existing name anyway.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        return t ^ u64::from(std::process::id()).rotate_left(32);
    }
    u64::from_le_bytes(buf)
}

impl Staging {
    /// Creates a new, unique, locked staging folder for `env` in `out`.
    pub fn create(out: &Path, env: &str) -> Result<Staging> {
        for _ in 0..16 {
            let path = out.join(format!(
                ".{env}{STAGING_MARK}{}-{:016x}",
                std::process::id(),
                random_suffix()
            ));
            match fs::create_dir(&path) {
                Ok(()) => {
                    let lock = File::open(&path).map_err(|e| Error::io(&path, e))?;
                    try_lock(&lock);
                    return Ok(Staging { path, _lock: lock });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        Err(Error::Other(format!(
            "cannot find a free staging folder name in {}",
            out.display()
        )))
    }

    /// Completes the new tree (its files are in): the folders `dirs` (made if missing,
    /// modes and xattrs of the old tree's), the foreign entries of the old tree carried
    /// over, and the manifest.
    pub fn finish(
        &self,
        target: &Path,
        dirs: &std::collections::BTreeSet<PathBuf>,
        manifest: &str,
        disk: &OnDisk,
    ) -> Result<()> {
        let staging = &self.path;
        for dir in dirs {
            let path = staging.join(dir);
            fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
        for rel in &disk.foreign_raw {
            carry_over(&target.join(rel), &staging.join(rel))?;
        }
        let path = staging.join(MANIFEST);
        fs::write(&path, manifest).map_err(|e| Error::io(&path, e))?;
        // Modes last: a kept read-only folder must not stop the writes into it.
        for dir in dirs.iter().rev() {
            let old = target.join(dir);
            if fs::symlink_metadata(&old).is_ok_and(|m| m.is_dir()) {
                disk::copy_dir_metadata(&old, &staging.join(dir))?;
            }
        }
        if disk.exists {
            disk::copy_dir_metadata(target, staging)?;
        }
        Ok(())
    }

    /// Puts the staging folder in the place of `target` and removes the old tree, unless
    /// the old tree changed since `disk` was read.
    pub fn swap(&self, target: &Path, disk: &OnDisk) -> Result<()> {
        if !disk.exists {
            return rename_noreplace(&self.path, target).map_err(|e| Error::io(target, e));
        }
        refuse_if_changed(target, disk, target)?;
        exchange(&self.path, target).map_err(|e| Error::io(target, e))?;
        // `self.path` now holds the old tree: one more look, in case a write landed between
        // the check and the exchange.
        if let Err(e) = refuse_if_changed(&self.path, disk, target) {
            exchange(&self.path, target).map_err(|e| Error::io(target, e))?;
            return Err(e);
        }
        Ok(())
    }
}

impl Drop for Staging {
    /// After a swap the folder holds the old tree; after a failure, the partial new one:
    /// either way it goes.
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Writes a new file (never over an existing one).
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = File::create_new(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))
}

/// Hard-links an owned file of the old tree, whose bytes are the new tree's, into the
/// staging folder; `false` when the file system cannot (the caller writes the bytes).
///
/// Only a regular file with one link is linked: a file that already shares its inode with
/// a path elsewhere (a hard link planted into the tree) is written anew, so the new tree
/// never shares an inode with anything outside it.
pub fn link(old: &Path, new: &Path) -> bool {
    let Ok(meta) = fs::symlink_metadata(old) else {
        return false;
    };
    if !meta.file_type().is_file() || links(&meta) != 1 {
        return false;
    }
    fs::hard_link(old, new).is_ok()
}

#[cfg(unix)]
fn links(meta: &fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::nlink(meta)
}

#[cfg(not(unix))]
fn links(_: &fs::Metadata) -> u64 {
    // No link count to read: never link.
    0
}

/// Test hook: fail after writing this many files into the staging folder, to prove that a
/// failure mid-write leaves the old tree intact.
pub fn injected_failure_after() -> Option<usize> {
    std::env::var("PORTALGEN_TEST_FAIL_AFTER_FILES")
        .ok()?
        .parse()
        .ok()
}

fn refuse_if_changed(dir: &Path, disk: &OnDisk, target: &Path) -> Result<()> {
    let now = disk::walk(dir)?;
    if now.snapshot == disk.snapshot && now.mount_points.is_empty() {
        return Ok(());
    }
    let changed: Vec<String> = now
        .snapshot
        .iter()
        .filter(|(p, s)| disk.snapshot.get(*p) != Some(*s))
        .map(|(p, _)| p)
        .chain(
            disk.snapshot
                .keys()
                .filter(|p| !now.snapshot.contains_key(*p)),
        )
        .take(5)
        .map(|p| crate::diagnostic::quote(&p.to_string_lossy()))
        .collect();
    Err(Error::Other(format!(
        "{} changed while portalgen was rendering ({}); nothing was replaced — render again",
        target.display(),
        changed.join(", ")
    )))
}

/// Brings a foreign file into the new tree as it is: a symlink stays a symlink (its target
/// is never read), anything else is hard-linked (the same inode: bytes, mode, owner and
/// xattrs unchanged). Across devices (a copy would lose attributes) the render refuses.
fn carry_over(from: &Path, to: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(from).map_err(|e| Error::io(from, e))?;
    if meta.file_type().is_symlink() {
        let link = fs::read_link(from).map_err(|e| Error::io(from, e))?;
        std::os::unix::fs::symlink(link, to).map_err(|e| Error::io(to, e))
    } else {
        fs::hard_link(from, to).map_err(|e| {
            Error::Other(format!(
                "cannot keep {} in the new tree without copying it ({e}); refusing to risk it",
                from.display()
            ))
        })
    }
}

#[cfg(target_os = "linux")]
fn renameat2(a: &Path, b: &Path, flags: libc::c_uint) -> std::io::Result<()> {
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
            flags,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    renameat2(a, b, libc::RENAME_EXCHANGE)
}

/// Moves `a` to `b`, failing if `b` appeared meanwhile (a plain rename would replace an
/// empty folder someone just created).
#[cfg(target_os = "linux")]
fn rename_noreplace(a: &Path, b: &Path) -> std::io::Result<()> {
    renameat2(a, b, libc::RENAME_NOREPLACE)
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

#[cfg(not(target_os = "linux"))]
fn rename_noreplace(a: &Path, b: &Path) -> std::io::Result<()> {
    if fs::symlink_metadata(b).is_ok() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    fs::rename(a, b)
}

/// Removes the staging folders that dead runs of this environment left behind: those whose
/// lock can be taken (a live run holds its lock).
pub fn remove_leftovers(out: &Path, env: &str) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let prefix = format!(".{env}{STAGING_MARK}");
    let entries = fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    for entry in entries.flatten() {
        if !entry.file_name().as_bytes().starts_with(prefix.as_bytes())
            || !entry.file_type().is_ok_and(|t| t.is_dir())
        {
            continue;
        }
        let path = entry.path();
        let Ok(dir) = File::open(&path) else { continue };
        if try_lock(&dir) {
            fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}
