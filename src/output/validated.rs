//! The record of checks passed: `<env>/.portalgen-validated` lists, for each file portalgen
//! wrote, the SHA-256 of the exact bytes that passed every per-file check, under a stamp of
//! the checks themselves: portalgen's version, the code of `src/validate/` and the
//! dependency versions (fingerprinted by `build.rs`), its embedded schemas and the templates.
//! A change to any of them changes the stamp (and so the goldens' record file).
//!
//! A per-file check is a pure function of the file's bytes, so a file whose fresh render
//! has a recorded hash under the same stamp has passed those checks already and is not
//! checked again: this is what keeps `render` over an unchanged tree and `render --check`
//! cheap. Nothing else is skipped — the checks that relate files run every time — and
//! `validate` never uses the record. Deleting the file only costs time.

use std::collections::HashMap;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Its name inside an environment's folder.
pub const VALIDATED: &str = ".portalgen-validated";

pub type Hash = [u8; 32];

pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Hash> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Hashes of files that passed the per-file checks under `stamp`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Validated {
    pub stamp: String,
    pub hashes: HashMap<String, Hash>,
}

impl Validated {
    /// Whether `bytes` at `path` passed the per-file checks stamped `stamp`.
    pub fn covers(&self, stamp: &str, path: &str, bytes: &[u8]) -> bool {
        self.stamp == stamp && self.hashes.get(path).is_some_and(|h| *h == sha256(bytes))
    }

    /// Reads the record of an environment's folder; an absent or unreadable record is
    /// simply empty.
    pub fn read(dir: &Path) -> Validated {
        let Ok(text) = std::fs::read_to_string(dir.join(VALIDATED)) else {
            return Validated::default();
        };
        let mut out = Validated::default();
        for line in text.lines() {
            if let Some(stamp) = line.strip_prefix("stamp ") {
                out.stamp = stamp.to_owned();
            } else if let Some((hash, path)) = line.split_once("  ") {
                if let Some(h) = unhex(hash) {
                    out.hashes.insert(path.to_owned(), h);
                }
            }
        }
        out
    }

    /// The file's text, with paths in sorted order.
    pub fn text<'a>(stamp: &str, files: impl Iterator<Item = (&'a String, Hash)>) -> String {
        let mut text = String::from(
            "# SHA-256 of the files that passed portalgen's per-file checks, so that unchanged\n\
             # files are not checked again. Written by portalgen; deleting it only costs time.\n",
        );
        text.push_str("stamp ");
        text.push_str(stamp);
        text.push('\n');
        for (path, hash) in files {
            text.push_str(&hex(&hash));
            text.push_str("  ");
            text.push_str(path);
            text.push('\n');
        }
        text
    }
}

/// The stamp of the checks of this build with these templates.
pub fn stamp(templates_fingerprint: &Hash) -> String {
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    // The code of the checks and the dependency versions (see build.rs).
    h.update(env!("PORTALGEN_CHECKS_FINGERPRINT").as_bytes());
    for (path, text) in crate::assets::SCHEMAS {
        h.update(path.as_bytes());
        h.update(text.as_bytes());
    }
    h.update(templates_fingerprint);
    hex(&h.finalize().into())[..16].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_cover() {
        let a = "a.yaml".to_owned();
        let text = Validated::text("s1", [(&a, sha256(b"x"))].into_iter());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(VALIDATED), text).unwrap();
        let v = Validated::read(dir.path());
        assert!(v.covers("s1", "a.yaml", b"x"));
        assert!(!v.covers("s1", "a.yaml", b"y"), "other bytes");
        assert!(!v.covers("s2", "a.yaml", b"x"), "other checks");
        assert!(!v.covers("s1", "b.yaml", b"x"), "other path");
    }
}
