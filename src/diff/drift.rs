//! File-level drift (`render --check`): what `render` would change in an environment's
//! folder, by file.

use serde::Serialize;

use crate::output::{OnDisk, Tree};

/// How a tree on disk differs from a fresh render.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// Rendered, and not on disk: `render` would write them.
    pub added: Vec<String>,
    /// On disk and owned, no longer rendered: `render` would prune them.
    pub removed: Vec<String>,
    /// On disk and owned, with other bytes than a fresh render.
    pub changed: Vec<String>,
    /// Rendered, but a file portalgen does not own has the path: `render` would refuse.
    pub blocked: Vec<String>,
    /// Files on disk that portalgen does not own (left alone; not drift).
    pub foreign: Vec<String>,
}

impl Drift {
    /// The tree on disk is exactly what `render` would write.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
            && self.blocked.is_empty()
    }
}

/// Compares `disk` (an environment's folder, its owned files' bytes in `owned`)
/// with a fresh render, file by file and byte for byte.
pub fn drift(disk: &OnDisk, tree: &Tree) -> Drift {
    let mut d = Drift::default();
    for (path, bytes) in &tree.files {
        match disk.owned.get(path) {
            Some(b) if b == bytes => {}
            Some(_) => d.changed.push(path.clone()),
            None if disk.foreign.contains(path) => d.blocked.push(path.clone()),
            None => d.added.push(path.clone()),
        }
    }
    d.removed = disk
        .owned
        .keys()
        .filter(|p| !tree.files.contains_key(*p))
        .cloned()
        .collect();
    d.foreign = disk
        .foreign
        .iter()
        .filter(|p| !tree.files.contains_key(*p))
        .cloned()
        .collect();
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_drift() {
        let tree = Tree::from_texts(&[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]);
        let disk = OnDisk {
            owned: [("a", "1"), ("b", "x"), ("gone", "0")]
                .iter()
                .map(|(p, b)| (p.to_string(), b.as_bytes().to_vec()))
                .collect(),
            foreign: ["d".to_owned(), "notes".to_owned()].into(),
            exists: true,
            ..OnDisk::default()
        };
        let d = drift(&disk, &tree);
        assert_eq!(d.added, ["c"]);
        assert_eq!(d.changed, ["b"]);
        assert_eq!(d.removed, ["gone"]);
        assert_eq!(d.blocked, ["d"]);
        assert_eq!(d.foreign, ["notes"]);
        assert!(!d.is_empty());
        let clean = OnDisk {
            owned: tree.files.clone(),
            foreign: ["notes".to_owned()].into(),
            exists: true,
            ..OnDisk::default()
        };
        assert!(drift(&clean, &tree).is_empty());
    }
}
