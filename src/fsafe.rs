//! Opening paths inside a project root without following symlinks (issue 14): a committed
//! `rendered -> ~/.config` or a spec that links to a credentials file must be refused, not
//! followed. Specs are opened component by component with `O_NOFOLLOW` from the root, so
//! no symlink is ever resolved on the way; the folders on the way to the output root are
//! checked the same way before anything is read or written there.

use std::fs::File;
use std::io;
use std::path::{Component, Path};

/// Why a path was refused.
#[derive(Debug)]
pub enum Refused {
    /// A component is a symlink (named: the path up to it).
    Symlink(String),
    /// The path climbs out (`..`) or is absolute where a relative one is needed.
    Outside,
    /// Any other I/O error.
    Io(io::Error),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Symlink(at) => write!(
                f,
                "{} is a symbolic link; portalgen does not follow symlinks inside the project (refused without reading it)",
                crate::diagnostic::quote(at)
            ),
            Refused::Outside => write!(f, "the path leaves the project root"),
            Refused::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Opens the file at `rel` below the folder `root` for reading, following no symlink on the
/// way or at the end (`root` itself is the caller's to trust).
#[cfg(unix)]
pub fn open_beneath(root: &Path, rel: &Path) -> Result<File, Refused> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let mut dir: OwnedFd = File::open(root).map_err(Refused::Io)?.into();
    let parts: Vec<&std::ffi::OsStr> = rel
        .components()
        .map(|c| match c {
            Component::Normal(p) => Ok(p),
            _ => Err(Refused::Outside),
        })
        .collect::<Result<_, _>>()?;
    let mut walked = String::new();
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if !walked.is_empty() {
            walked.push('/');
        }
        walked.push_str(&part.to_string_lossy());
        let name = cstring(part)?;
        let flags = libc::O_RDONLY
            | libc::O_NOFOLLOW
            | libc::O_CLOEXEC
            | libc::O_NONBLOCK
            | if last { 0 } else { libc::O_DIRECTORY };
        // SAFETY: `dir` is an open folder and `name` a NUL-terminated string.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::ELOOP) => Refused::Symlink(walked),
                Some(libc::ENOTDIR) if is_symlink_at(&dir, &name) => Refused::Symlink(walked),
                _ => Refused::Io(e),
            });
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        dir = unsafe { OwnedFd::from_raw_fd(fd) };
    }
    Ok(File::from(dir))
}

#[cfg(unix)]
fn cstring(part: &std::ffi::OsStr) -> Result<std::ffi::CString, Refused> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(part.as_bytes())
        .map_err(|e| Refused::Io(io::Error::new(io::ErrorKind::InvalidInput, e)))
}

#[cfg(unix)]
fn is_symlink_at(dir: &std::os::fd::OwnedFd, name: &std::ffi::CStr) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: plain fstatat into a zeroed stat buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    rc == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFLNK
}

/// Checks that `path` and every folder on the way to it below `root` (when `path` is
/// inside `root`) is not a symlink. Components that do not exist yet are fine (they will
/// be created as folders).
pub fn check_no_symlinks(root: &Path, path: &Path) -> Result<(), Refused> {
    let (base, rel) = match path.strip_prefix(root) {
        Ok(rel) => (root.to_path_buf(), rel.to_path_buf()),
        // Outside the root: the caller named it; only its last component is checked.
        Err(_) => match (path.parent(), path.file_name()) {
            (Some(parent), Some(name)) => (parent.to_path_buf(), Path::new(name).to_path_buf()),
            _ => return Ok(()),
        },
    };
    let mut at = base;
    for c in rel.components() {
        match c {
            Component::Normal(p) => at.push(p),
            Component::CurDir => continue,
            _ => return Err(Refused::Outside),
        }
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Refused::Symlink(at.display().to_string()))
            }
            Ok(_) => {}
            // Missing (it will be created) or not reachable (the write reports it).
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}
