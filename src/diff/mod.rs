//! Object-aware comparison of two rendered trees (DESIGN "Command line": `diff`,
//! `render --check`).
//!
//! Both trees are parsed into objects ([`objects`]): Kubernetes objects are matched by
//! group, kind, namespace and name, every other document by its path. Two matched objects
//! are compared as parsed values, so formatting and key order never make a difference;
//! the ones that differ are shown as a line diff of a canonical YAML view with sorted keys
//! ([`canonical`], [`hunks`]). Per-tenant objects that change in the same way are folded
//! into one entry ([`group`]), and tenants present on one side only are counted, not
//! listed object by object, so that a diff over hundreds of tenants stays readable.
//!
//! [`compare`] matches the objects of two digested trees ([`digest`]) and computes the
//! diffs shown. The result is a [`Report`]: plain data that serializes to JSON. Nothing here prints;
//! the CLI formats reports.

pub mod canonical;
mod compare;
pub mod digest;
pub mod disk;
pub mod drift;
pub mod group;
pub mod hunks;
pub mod identity;
pub mod objects;
pub mod restrict;

use serde::Serialize;

use crate::output::{OnDisk, Tree};
pub use compare::compare_digested;
use digest::Digests;
pub use drift::{drift, Drift};
use hunks::Hunk;
pub use objects::Files;
use objects::ObjectId;

/// What a comparison found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What the old side is, e.g. `staging` or `rendered/prod-us (on disk)`.
    pub old: String,
    /// What the new side is.
    pub new: String,
    /// No object differs (and no foreign file stands where a rendered file goes).
    pub identical: bool,
    pub summary: Summary,
    pub tenants: Tenants,
    /// Platform objects first (by file), then the per-tenant groups.
    pub entries: Vec<Entry>,
    /// Files in the tree on disk that portalgen does not own: reported, never diffed.
    pub foreign: Vec<Foreign>,
    /// Files on disk whose bytes differ from a fresh render although every object in them
    /// is equal (a hand-added comment, other formatting): `render` would rewrite them.
    pub reformatted: Vec<String>,
}

/// Object counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub changed: usize,
    pub added: usize,
    pub removed: usize,
    pub unchanged: usize,
}

/// The tenants of both sides.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tenants {
    /// Tenants with objects on both sides.
    pub in_both: usize,
    /// Of those, the ones with at least one changed object.
    pub changed: usize,
    pub only_old: TenantSet,
    pub only_new: TenantSet,
}

/// Tenants present on one side only.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TenantSet {
    pub count: usize,
    /// Their objects, all added (or all removed).
    pub objects: usize,
    /// Their ids, sorted.
    pub ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Changed,
    Added,
    Removed,
}

/// One changed, added or removed object, or a group of per-tenant objects that changed
/// alike.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub status: Status,
    /// `Deployment portal-system/portal-app`; for a tenant group, with the tenant id
    /// replaced by `<tenant>`: `ResourceQuota portal-tenant-<tenant>/tenant-quota`.
    pub title: String,
    /// The object (for a group: the object of the tenant shown).
    pub object: ObjectId,
    /// The file it is in on each side.
    pub old_path: Option<String>,
    pub new_path: Option<String>,
    /// The tenants of a group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenants: Option<TenantGroup>,
    pub added_lines: usize,
    pub removed_lines: usize,
    /// The line diff of the canonical views (for a group: of the tenant shown).
    pub hunks: Vec<Hunk>,
}

impl Entry {
    /// The object moved to another file.
    pub fn moved(&self) -> bool {
        matches!((&self.old_path, &self.new_path), (Some(a), Some(b)) if a != b)
    }
}

/// The tenants of a group.
#[derive(Debug, Clone, Serialize)]
pub struct TenantGroup {
    pub count: usize,
    /// Every tenant of the group, sorted.
    pub ids: Vec<String>,
    /// The tenant whose diff is shown.
    pub shown: String,
    /// The tenants (of `ids`) whose object is in another file on each side (a tenant whose
    /// shard changes, when the shard count differs).
    pub moved: Vec<String>,
}

/// A file on disk that portalgen did not write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Foreign {
    pub path: String,
    /// A rendered file has this path: `render` would refuse to overwrite it.
    pub in_the_way: bool,
}

/// One side of a comparison: a tree and the digests of its files.
#[derive(Clone, Copy)]
pub struct Side<'a> {
    /// What the side is, e.g. `staging` or `rendered/prod-us (on disk)`: shown, never parsed.
    pub label: &'a str,
    /// The environment whose render this side is, when two environments are compared:
    /// objects named after it (`portal-staging-platform`) match the other environment's
    /// (`portal-prod-us-platform`). `None` when both sides are one environment.
    pub env: Option<&'a str>,
    pub tree: &'a dyn Files,
    pub digests: &'a Digests,
}

/// Compares two environments' trees object by object, digesting both; the labels are the
/// environment names.
pub fn compare(old_label: &str, old: &Tree, new_label: &str, new: &Tree) -> Report {
    let (da, db) = rayon::join(|| digest::digests(old), || digest::digests(new));
    compare_digested(
        Side {
            label: old_label,
            env: Some(old_label),
            tree: old,
            digests: &da,
        },
        Side {
            label: new_label,
            env: Some(new_label),
            tree: new,
            digests: &db,
        },
    )
}

/// Compares an environment's tree on disk (old) with a fresh render (new) held in memory,
/// through the same streamed digests as `diff ENV` ([`disk::DiskDigests`]; the disk's files
/// are read from `disk.owned` when it holds them). Foreign files on disk are listed, never
/// compared.
pub fn compare_with_disk(
    disk_label: &str,
    dir: &std::path::Path,
    disk: &OnDisk,
    new_label: &str,
    fresh: &Tree,
) -> crate::diagnostic::Result<Report> {
    let fresh_digests = digest::digests(fresh);
    let mut on_disk = disk::DiskDigests::new(dir, disk);
    let files: Vec<(&str, &[u8])> = fresh
        .files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    on_disk.files(&files)?;
    let digested = on_disk.finish(&fresh_digests)?;
    Ok(compare_with_disk_digested(
        disk_label,
        disk,
        &disk::DiskFiles { dir, disk },
        &digested,
        new_label,
        fresh,
        &fresh_digests,
    ))
}

/// Like [`compare_with_disk`], with both sides digested already: the tree on disk as the
/// fresh render streamed past it ([`disk::DiskDigests`]), the fresh render while it was
/// checked. `disk_files` and `fresh` are read again only for the objects the report shows.
pub fn compare_with_disk_digested(
    disk_label: &str,
    disk: &OnDisk,
    disk_files: &dyn Files,
    digested: &disk::Digested,
    new_label: &str,
    fresh: &dyn Files,
    fresh_digests: &Digests,
) -> Report {
    let mut report = compare_digested(
        Side {
            label: disk_label,
            env: None,
            tree: disk_files,
            digests: &digested.digests,
        },
        Side {
            label: new_label,
            env: None,
            tree: fresh,
            digests: fresh_digests,
        },
    );
    report.foreign = disk
        .foreign
        .iter()
        .map(|p| Foreign {
            path: p.clone(),
            in_the_way: fresh_digests.contains_key(p),
        })
        .collect();
    // Same objects in the same order, other bytes: formatting or comments.
    report.reformatted = digested
        .differing
        .iter()
        .filter(|p| {
            fresh_digests
                .get(*p)
                .is_some_and(|d| digested.digests.get(*p) == Some(d))
        })
        .cloned()
        .collect();
    if report.foreign.iter().any(|f| f.in_the_way) || !report.reformatted.is_empty() {
        report.identical = false;
    }
    report
}

#[cfg(test)]
mod tests;
