//! Object-aware comparison of two rendered trees (DESIGN §6: `diff`, `render --check`).
//!
//! Both trees are parsed into objects ([`objects`]): Kubernetes objects are matched by
//! group, kind, namespace and name, every other document by its path. Two matched objects
//! are compared as parsed values, so formatting and key order never make a difference;
//! the ones that differ are shown as a line diff of a canonical YAML view with sorted keys
//! ([`canonical`], [`hunks`]). Per-tenant objects that change in the same way are folded
//! into one entry ([`group`]), and tenants present on one side only are counted, not
//! listed object by object, so that a diff over hundreds of tenants stays readable.
//!
//! The result is a [`Report`]: plain data that serializes to JSON. Nothing here prints;
//! the CLI formats reports.

pub mod canonical;
pub mod drift;
pub mod group;
pub mod hunks;
pub mod objects;

use std::collections::BTreeSet;

use rayon::prelude::*;
use serde::Serialize;

use crate::output::{OnDisk, Tree};
pub use drift::{drift, Drift};
use hunks::{Hunk, Tag};
use objects::{Content, Object, ObjectId};

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

/// What comparing one object found.
enum Outcome {
    Unchanged,
    /// An object of a tenant that only the old tree has (summarised, not listed).
    TenantOnlyOld,
    TenantOnlyNew,
    Entry(Status, Vec<Hunk>),
}

/// Compares two trees object by object.
pub fn compare(old_label: &str, old: &Tree, new_label: &str, new: &Tree) -> Report {
    let (a, b) = objects::of_trees(old, new);
    // Objects named after their environment (`portal-staging-platform`) are the same object
    // in another environment (`portal-prod-us-platform`): match them as `portal-<env>-platform`.
    let (a, b) = if old_label == new_label {
        (a, b)
    } else {
        (
            objects::generic_env_names(a, old_label),
            objects::generic_env_names(b, new_label),
        )
    };
    let tenants_of = |objs: &std::collections::BTreeMap<ObjectId, Object>| -> BTreeSet<String> {
        objs.values().filter_map(|o| o.tenant.clone()).collect()
    };
    let (tenants_a, tenants_b) = (tenants_of(&a), tenants_of(&b));
    let mut tenants = Tenants {
        in_both: tenants_a.intersection(&tenants_b).count(),
        only_old: TenantSet {
            ids: tenants_a.difference(&tenants_b).cloned().collect(),
            ..TenantSet::default()
        },
        only_new: TenantSet {
            ids: tenants_b.difference(&tenants_a).cloned().collect(),
            ..TenantSet::default()
        },
        ..Tenants::default()
    };
    tenants.only_old.count = tenants.only_old.ids.len();
    tenants.only_new.count = tenants.only_new.ids.len();
    let only_old: BTreeSet<&str> = tenants.only_old.ids.iter().map(String::as_str).collect();
    let only_new: BTreeSet<&str> = tenants.only_new.ids.iter().map(String::as_str).collect();

    let mut summary = Summary::default();
    let mut platform: Vec<((String, usize), Entry)> = Vec::new();
    let mut per_tenant: Vec<group::TenantChange> = Vec::new();
    let ids: Vec<&ObjectId> = a
        .keys()
        .chain(b.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // The line diffs are the costly part, and independent: computed on every core, then
    // gathered in id order, so the report does not depend on the schedule.
    let outcomes: Vec<Outcome> = ids
        .par_iter()
        .map(|id| {
            let (x, y) = (a.get(*id), b.get(*id));
            match (x, y) {
                (Some(x), Some(y)) if x.content == y.content && x.path == y.path => {
                    Outcome::Unchanged
                }
                (Some(x), Some(y)) if x.content == y.content => {
                    Outcome::Entry(Status::Changed, Vec::new())
                }
                (Some(x), Some(y)) => Outcome::Entry(
                    Status::Changed,
                    hunks::diff(&view(&x.content), &view(&y.content)),
                ),
                (Some(x), None) if x.tenant.as_deref().is_some_and(|t| only_old.contains(t)) => {
                    Outcome::TenantOnlyOld
                }
                (Some(x), None) => Outcome::Entry(
                    Status::Removed,
                    hunks::whole(&view(&x.content), Tag::Removed),
                ),
                (None, Some(y)) if y.tenant.as_deref().is_some_and(|t| only_new.contains(t)) => {
                    Outcome::TenantOnlyNew
                }
                (None, Some(y)) => {
                    Outcome::Entry(Status::Added, hunks::whole(&view(&y.content), Tag::Added))
                }
                (None, None) => unreachable!("the id comes from one of the sides"),
            }
        })
        .collect();
    for (id, outcome) in ids.into_iter().zip(outcomes) {
        let (x, y) = (a.get(id), b.get(id));
        let (status, hunks) = match outcome {
            Outcome::Unchanged => {
                summary.unchanged += 1;
                continue;
            }
            Outcome::TenantOnlyOld => {
                summary.removed += 1;
                tenants.only_old.objects += 1;
                continue;
            }
            Outcome::TenantOnlyNew => {
                summary.added += 1;
                tenants.only_new.objects += 1;
                continue;
            }
            Outcome::Entry(status, hunks) => {
                match status {
                    Status::Changed => summary.changed += 1,
                    Status::Removed => summary.removed += 1,
                    Status::Added => summary.added += 1,
                }
                (status, hunks)
            }
        };
        let either = x.or(y).expect("one side has the object");
        let count = |tag| {
            hunks
                .iter()
                .flat_map(|h| &h.lines)
                .filter(|l| l.tag == tag)
                .count()
        };
        let entry = Entry {
            status,
            title: id.title(),
            object: id.clone(),
            old_path: x.map(|o| o.path.clone()),
            new_path: y.map(|o| o.path.clone()),
            tenants: None,
            added_lines: count(Tag::Added),
            removed_lines: count(Tag::Removed),
            hunks,
        };
        match &either.tenant {
            Some(t) => per_tenant.push(group::TenantChange {
                tenant: t.clone(),
                index: either.index,
                entry,
            }),
            None => platform.push(((either.path.clone(), either.index), entry)),
        }
    }
    tenants.changed = per_tenant
        .iter()
        .map(|c| c.tenant.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    platform.sort_by(|p, q| p.0.cmp(&q.0));
    let mut entries: Vec<Entry> = platform.into_iter().map(|(_, e)| e).collect();
    entries.extend(group::group(per_tenant));
    Report {
        old: old_label.to_owned(),
        new: new_label.to_owned(),
        identical: summary.changed + summary.added + summary.removed == 0,
        summary,
        tenants,
        entries,
        foreign: Vec::new(),
        reformatted: Vec::new(),
    }
}

/// Compares an environment's tree on disk (old) with a fresh render (new). Foreign files
/// on disk are listed, never compared.
pub fn compare_with_disk(disk_label: &str, disk: &OnDisk, new_label: &str, fresh: &Tree) -> Report {
    let on_disk = Tree {
        checked_by: None,
        files: disk.owned.clone(),
    };
    let mut report = compare(disk_label, &on_disk, new_label, fresh);
    report.foreign = disk
        .foreign
        .iter()
        .map(|p| Foreign {
            path: p.clone(),
            in_the_way: fresh.files.contains_key(p),
        })
        .collect();
    let diffed: BTreeSet<&str> = report
        .entries
        .iter()
        .flat_map(|e| [e.old_path.as_deref(), e.new_path.as_deref()])
        .flatten()
        .collect();
    report.reformatted = fresh
        .files
        .iter()
        .filter(|(p, b)| {
            disk.owned.get(*p).is_some_and(|d| d != *b) && !diffed.contains(p.as_str())
        })
        .map(|(p, _)| p.clone())
        .collect();
    if report.foreign.iter().any(|f| f.in_the_way) || !report.reformatted.is_empty() {
        report.identical = false;
    }
    report
}

fn view(content: &Content) -> Vec<canonical::Line> {
    match content {
        Content::Parsed(v) => canonical::lines(v),
        Content::Text(t) => canonical::text_lines(t),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree::from_texts(files)
    }

    fn tenant(id: &str, env: &str, plan: &str) -> (String, String) {
        (
            format!("kubernetes/tenants/{id}.yaml"),
            format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: portal-tenant-{id}\n  labels:\n    \
                 portal.dev/environment: {env}\n    portal.dev/tenant: {id}\n    portal.dev/plan: {plan}\n"
            ),
        )
    }

    fn tenants(env: &str, ids: &[&str]) -> Tree {
        Tree {
            checked_by: None,
            files: ids
                .iter()
                .map(|id| {
                    let (p, t) = tenant(id, env, "free");
                    (p, t.into_bytes())
                })
                .collect(),
        }
    }

    #[test]
    fn key_order_and_formatting_are_not_differences() {
        let a = tree(&[
            ("k.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\ndata: {a: '1', b: '2'}\n"),
            ("g.json", r#"{"uid": "x", "panels": [{"id": 1, "title": "t"}]}"#),
        ]);
        let b = tree(&[
            ("k.yaml", "kind: ConfigMap\napiVersion: v1\nmetadata:\n  namespace: n\n  name: c\ndata:\n  b: \"2\"\n  a: \"1\"\n"),
            ("g.json", "{\n  \"panels\": [{\"title\": \"t\", \"id\": 1}],\n  \"uid\": \"x\"\n}\n"),
        ]);
        let r = compare("a", &a, "b", &b);
        assert!(r.identical, "{:#?}", r.entries);
        assert_eq!(r.summary.unchanged, 2);
    }

    #[test]
    fn changed_added_and_removed_objects() {
        let a = tree(&[("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: p}\nspec: {replicas: 3}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: old, namespace: p}\n")]);
        let b = tree(&[
            ("d.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: p}\nspec: {replicas: 8}\n"),
            ("pdb.yaml", "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: app, namespace: p}\n"),
        ]);
        let r = compare("a", &a, "b", &b);
        assert_eq!(
            r.summary,
            Summary {
                changed: 1,
                added: 1,
                removed: 1,
                unchanged: 0
            }
        );
        let titles: Vec<(Status, &str)> = r
            .entries
            .iter()
            .map(|e| (e.status, e.title.as_str()))
            .collect();
        assert_eq!(
            titles,
            [
                (Status::Changed, "Deployment p/app"),
                (Status::Removed, "Service p/old"),
                (Status::Added, "PodDisruptionBudget p/app")
            ]
        );
        assert_eq!(r.entries[0].hunks[0].at, "spec.replicas");
        assert_eq!(
            (r.entries[0].added_lines, r.entries[0].removed_lines),
            (1, 1)
        );
    }

    #[test]
    fn an_object_that_moves_file_is_matched_and_marked() {
        let obj = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n";
        let r = compare(
            "a",
            &tree(&[("a.yaml", obj)]),
            "b",
            &tree(&[("b.yaml", obj)]),
        );
        assert_eq!(r.summary.changed, 1);
        assert!(r.entries[0].moved() && r.entries[0].hunks.is_empty());
    }

    #[test]
    fn tenants_that_change_alike_are_one_entry_and_one_sided_tenants_are_counted() {
        let ids: Vec<String> = (1..=300).map(|i| format!("t{i:05}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let a = tenants("staging", &ids[..20]);
        let b = tenants("prod-us", &ids);
        let r = compare("staging", &a, "prod-us", &b);
        assert_eq!(r.entries.len(), 1, "{:#?}", r.entries);
        let e = &r.entries[0];
        assert_eq!(e.title, "Namespace portal-tenant-<tenant>");
        let g = e.tenants.as_ref().unwrap();
        assert_eq!((g.count, g.shown.as_str()), (20, "t00001"));
        assert_eq!(r.tenants.in_both, 20);
        assert_eq!(r.tenants.changed, 20);
        assert_eq!(
            (r.tenants.only_new.count, r.tenants.only_new.objects),
            (280, 280)
        );
        assert_eq!(r.tenants.only_new.ids[0], "t00021");
        assert_eq!(r.summary.added, 280);
    }

    #[test]
    fn tenants_that_change_differently_are_separate_groups() {
        let mut a = tenants("e", &["acme", "globex", "initech"]);
        let mut b = a.clone();
        let (p, t) = tenant("acme", "e", "enterprise");
        b.files.insert(p, t.into_bytes());
        a.files.remove("kubernetes/tenants/initech.yaml");
        b.files.remove("kubernetes/tenants/globex.yaml");
        let r = compare("a", &a, "b", &b);
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.entries[0].tenants.as_ref().unwrap().ids, ["acme"]);
        assert_eq!(r.tenants.only_old.ids, ["globex"]);
        assert_eq!(r.tenants.only_new.ids, ["initech"]);
    }

    #[test]
    fn foreign_files_on_disk_are_listed_not_compared() {
        let fresh = tree(&[(
            "a.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
        )]);
        let disk = OnDisk {
            owned: fresh.files.clone(),
            foreign: ["notes.txt".to_owned()].into(),
            exists: true,
        };
        let r = compare_with_disk("disk", &disk, "fresh", &fresh);
        assert!(r.identical);
        assert_eq!(
            r.foreign,
            [Foreign {
                path: "notes.txt".into(),
                in_the_way: false
            }]
        );
    }
}
