//! What an environment's folder holds, read without following symlinks and with names
//! kept as bytes (`OsStr`): a foreign `notes-\xff.txt` is a different file from
//! `notes-\u{FFFD}.txt`, and a name that is not UTF-8 is carried over like any other.
//!
//! The walk also notes what the swap must preserve or refuse: folders (their modes and
//! extended attributes are copied into the new tree), mount points (refused: their contents
//! cannot be moved atomically), and a [`Snapshot`] of every entry, compared again just
//! before and just after the swap so that a file written during the render is never lost.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Error, Result};

/// Identity and last change of one entry: if any differs later, someone wrote there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    ino: u64,
    size: u64,
    mtime: (i64, i64),
}

impl Stamp {
    fn of(m: &fs::Metadata) -> Stamp {
        Stamp {
            ino: m.ino(),
            size: m.size(),
            // Not ctime: carrying a file over by hard link changes it.
            mtime: (m.mtime(), m.mtime_nsec()),
        }
    }
}

/// Every entry below an environment's folder (relative path as bytes) and its stamp.
pub type Snapshot = BTreeMap<PathBuf, Stamp>;

/// One pass over a folder: the entries, by kind, with relative paths as bytes.
#[derive(Debug, Default)]
pub struct Walk {
    /// Regular files, symlinks and other non-folders, each with whether it is a regular
    /// file (from the one `lstat` the walk makes of every entry).
    pub files: Vec<(PathBuf, bool)>,
    /// Folders, with whether each is empty.
    pub dirs: Vec<(PathBuf, bool)>,
    /// Folders on another device or marked as mount roots: refused.
    pub mount_points: Vec<PathBuf>,
    pub snapshot: Snapshot,
}

/// Walks `dir` without following any symlink. `dir` must be a folder.
pub fn walk(dir: &Path) -> Result<Walk> {
    let root_dev = fs::symlink_metadata(dir)
        .map_err(|e| Error::io(dir, e))?
        .dev();
    let mut out = Walk::default();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = dir.join(&rel);
        let mut empty = true;
        for entry in fs::read_dir(&abs).map_err(|e| Error::io(&abs, e))? {
            let entry = entry.map_err(|e| Error::io(&abs, e))?;
            empty = false;
            let child = rel.join(entry.file_name());
            let meta =
                fs::symlink_metadata(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            out.snapshot.insert(child.clone(), Stamp::of(&meta));
            if meta.is_dir() {
                if meta.dev() != root_dev || is_mount_root(&entry.path()) {
                    out.mount_points.push(child);
                    continue;
                }
                stack.push(child);
            } else {
                out.files.push((child, meta.is_file()));
            }
        }
        if !rel.as_os_str().is_empty() {
            out.dirs.push((rel, empty));
        }
    }
    out.files.sort();
    out.dirs.sort();
    Ok(out)
}

/// Whether `path` is the root of a mount (a bind mount of the same file system included),
/// as `statx` reports it; `false` where the kernel cannot tell.
#[cfg(target_os = "linux")]
fn is_mount_root(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: statx writes into a zeroed buffer; `c` outlives the call.
    let mut st: libc::statx = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::statx(
            libc::AT_FDCWD,
            c.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            libc::STATX_BASIC_STATS,
            &mut st,
        )
    };
    rc == 0
        && st.stx_attributes_mask & libc::STATX_ATTR_MOUNT_ROOT as u64 != 0
        && st.stx_attributes & libc::STATX_ATTR_MOUNT_ROOT as u64 != 0
}

#[cfg(not(target_os = "linux"))]
fn is_mount_root(_: &Path) -> bool {
    false
}

/// The folders of the old tree that the new one keeps: every folder that was empty or
/// holds something foreign (a folder that held only files portalgen prunes goes with them).
pub fn kept_dirs(walk: &Walk, foreign: &BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let holding: BTreeSet<&Path> = foreign.iter().flat_map(|f| f.ancestors().skip(1)).collect();
    walk.dirs
        .iter()
        .filter(|(d, empty)| *empty || holding.contains(d.as_path()))
        .map(|(d, _)| d.clone())
        .collect()
}

/// Copies the permission bits and extended attributes of folder `from` to folder `to`.
pub fn copy_dir_metadata(from: &Path, to: &Path) -> Result<()> {
    let meta = fs::symlink_metadata(from).map_err(|e| Error::io(from, e))?;
    fs::set_permissions(to, meta.permissions()).map_err(|e| Error::io(to, e))?;
    copy_xattrs(from, to)
}

#[cfg(target_os = "linux")]
fn copy_xattrs(from: &Path, to: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let cstr = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_bytes())
            .map_err(|e| Error::io(p, std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))
    };
    let (cf, ct) = (cstr(from)?, cstr(to)?);
    // SAFETY (all calls below): buffers are sized from the kernel's answer and the
    // NUL-terminated strings outlive the calls.
    let len = unsafe { libc::llistxattr(cf.as_ptr(), std::ptr::null_mut(), 0) };
    if len <= 0 {
        return Ok(()); // none, or not supported here: nothing to keep
    }
    let mut names = vec![0u8; len as usize];
    let len = unsafe { libc::llistxattr(cf.as_ptr(), names.as_mut_ptr().cast(), names.len()) };
    if len < 0 {
        return Err(Error::io(from, std::io::Error::last_os_error()));
    }
    names.truncate(len as usize);
    for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let cname = std::ffi::CString::new(name).unwrap_or_default();
        let size = unsafe { libc::lgetxattr(cf.as_ptr(), cname.as_ptr(), std::ptr::null_mut(), 0) };
        if size < 0 {
            continue;
        }
        let mut value = vec![0u8; size as usize];
        let size = unsafe {
            libc::lgetxattr(
                cf.as_ptr(),
                cname.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            )
        };
        if size < 0 {
            continue;
        }
        let rc = unsafe {
            libc::lsetxattr(
                ct.as_ptr(),
                cname.as_ptr(),
                value.as_ptr().cast(),
                size as usize,
                0,
            )
        };
        if rc != 0 {
            return Err(Error::Other(format!(
                "cannot keep the extended attribute {} of {}: {}",
                String::from_utf8_lossy(name),
                from.display(),
                std::io::Error::last_os_error()
            )));
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn copy_xattrs(_: &Path, _: &Path) -> Result<()> {
    Ok(())
}
