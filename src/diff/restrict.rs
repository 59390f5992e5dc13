//! A report narrowed to a [`Subset`] (`diff --family/--kind/--name`): the comparison runs
//! on the whole trees (objects are matched across files), then only the entries of the
//! subset are kept and the counts are taken again over them.

use super::digest::{Digests, FileDigest};
use super::objects::ObjectId;
use super::{Entry, Report, Summary};
use crate::subset::Subset;

impl Report {
    /// Keeps the entries, foreign and reformatted files of `subset`. `new` are the digests
    /// of the new side, to count the unchanged objects of the subset.
    pub fn restrict(&mut self, subset: &Subset, new: &Digests) {
        if subset.is_everything() {
            return;
        }
        self.entries.retain(|e| keeps_entry(subset, e));
        self.foreign.retain(|f| subset.keeps_path(&f.path));
        self.reformatted.retain(|p| subset.keeps_path(p));
        // Tenants present on one side only are whole sets of objects of several kinds,
        // all under kubernetes/: counted only when the subset takes them all.
        if subset.selects_documents() || !subset.keeps_path("kubernetes/") {
            self.tenants.only_old = Default::default();
            self.tenants.only_new = Default::default();
        }
        self.tenants.changed = self
            .entries
            .iter()
            .filter_map(|e| e.tenants.as_ref())
            .flat_map(|t| t.ids.iter())
            .collect::<std::collections::HashSet<_>>()
            .len();
        let mut summary = Summary::default();
        for e in &self.entries {
            let n = e.tenants.as_ref().map_or(1, |t| t.count);
            match e.status {
                super::Status::Changed => summary.changed += n,
                super::Status::Added => summary.added += n,
                super::Status::Removed => summary.removed += n,
            }
        }
        summary.added += self.tenants.only_new.objects;
        summary.removed += self.tenants.only_old.objects;
        let on_new_side = kept_objects(subset, new);
        summary.unchanged = on_new_side.saturating_sub(summary.changed + summary.added);
        self.identical = summary.changed + summary.added + summary.removed == 0
            && !self.foreign.iter().any(|f| f.in_the_way)
            && self.reformatted.is_empty();
        self.summary = summary;
    }
}

fn keeps_entry(subset: &Subset, e: &Entry) -> bool {
    let path = e
        .new_path
        .as_deref()
        .or(e.old_path.as_deref())
        .unwrap_or("");
    if !subset.keeps_path(path) {
        return false;
    }
    match &e.object {
        ObjectId::Kubernetes { kind, name, .. } => subset.keeps_object(Some(kind), Some(name)),
        ObjectId::File { .. } => subset.keeps_object(None, None),
    }
}

/// The number of objects of `subset` in a tree, from its digests.
fn kept_objects(subset: &Subset, digests: &Digests) -> usize {
    digests
        .iter()
        .filter(|(path, _)| subset.keeps_path(path))
        .map(|(_, d)| match d {
            FileDigest::Documents(docs) => docs
                .iter()
                .filter(|doc| match &doc.id {
                    Some(id) => subset.keeps_object(Some(id.kind()), Some(id.name())),
                    None => subset.keeps_object(None, None),
                })
                .count(),
            _ => usize::from(subset.keeps_object(None, None)),
        })
        .sum()
}
