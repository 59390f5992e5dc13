//! Object-aware comparison of two rendered trees (DESIGN "Command line": `diff`, `render --check`).
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
pub mod digest;
pub mod drift;
pub mod group;
pub mod hunks;
pub mod identity;
pub mod objects;
pub mod restrict;

use std::collections::{BTreeSet, HashMap, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::output::{OnDisk, Tree};
use digest::Digests;
pub use drift::{drift, Drift};
use hunks::{Hunk, Tag};
pub use objects::Files;
use objects::{Content, Form, Object, ObjectId};

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

/// An object whose change is listed, before its diff is computed.
struct Pending<'o, 'a> {
    status: Status,
    old: Option<&'o Object<'a>>,
    new: Option<&'o Object<'a>>,
}

/// What identifies a class of alike tenant changes (see [`group::Class`]).
#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ClassKey {
    status: Status,
    index: usize,
    /// The hash of the title with the tenant id made generic.
    title: u128,
    old: Option<u128>,
    new: Option<u128>,
    /// Equal contents (the object only moved to another file).
    equal: bool,
}

/// Compares two digested trees object by object. Matching and telling equal from changed
/// uses the digests alone; only the objects whose diff is shown are parsed again: each
/// changed platform object, and one tenant of each class of tenants that changed alike.
pub fn compare_digested(old: Side<'_>, new: Side<'_>) -> Report {
    let as_text = objects::text_on_both_sides(old.digests, new.digests);
    // Objects named after their environment (`portal-staging-platform`) are the same object
    // in another environment (`portal-prod-us-platform`): match them as `portal-<env>-platform`.
    let rename = matches!((old.env, new.env), (Some(a), Some(b)) if a != b);
    let ((a, ia), (b, ib)) = rayon::join(
        || objects_of(old, &as_text, rename),
        || objects_of(new, &as_text, rename),
    );
    let tenants_of = |objs: &[Object<'_>]| -> BTreeSet<String> {
        let mut ids: Vec<&str> = objs.iter().filter_map(|o| o.tenant).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(str::to_owned).collect()
    };
    let (tenants_a, tenants_b) = rayon::join(|| tenants_of(&a), || tenants_of(&b));
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
    let only_old: HashSet<&str> = tenants.only_old.ids.iter().map(String::as_str).collect();
    let only_new: HashSet<&str> = tenants.only_new.ids.iter().map(String::as_str).collect();

    let mut summary = Summary::default();
    let mut platform: Vec<Pending> = Vec::new();
    let mut classes: HashMap<ClassKey, Vec<Pending>> = HashMap::new();
    let old_side = a
        .iter()
        .enumerate()
        .filter(|(i, o)| ia.get(&o.key) == Some(i))
        .map(|(_, x)| (Some(x), ib.get(&x.key).map(|&j| &b[j])));
    let new_only = b
        .iter()
        .enumerate()
        .filter(|(j, y)| ib.get(&y.key) == Some(j) && !ia.contains_key(&y.key))
        .map(|(_, y)| (None, Some(y)));
    for (x, y) in old_side.chain(new_only) {
        let status = match (x, y) {
            (Some(x), Some(y)) if x.exact == y.exact && x.path == y.path => {
                summary.unchanged += 1;
                continue;
            }
            (Some(_), Some(_)) => Status::Changed,
            (Some(x), None) if x.tenant.is_some_and(|t| only_old.contains(t)) => {
                summary.removed += 1;
                tenants.only_old.objects += 1;
                continue;
            }
            (Some(_), None) => Status::Removed,
            (None, Some(y)) if y.tenant.is_some_and(|t| only_new.contains(t)) => {
                summary.added += 1;
                tenants.only_new.objects += 1;
                continue;
            }
            (None, Some(_)) => Status::Added,
            (None, None) => unreachable!("each pair has at least one side"),
        };
        match status {
            Status::Changed => summary.changed += 1,
            Status::Removed => summary.removed += 1,
            Status::Added => summary.added += 1,
        }
        let either = x.or(y).expect("one side has the object");
        let pending = Pending {
            status,
            old: x,
            new: y,
        };
        match either.tenant {
            Some(_) => {
                let key = ClassKey {
                    status,
                    index: either.index,
                    title: either.generic_title,
                    old: x.map(|o| o.generic),
                    new: y.map(|o| o.generic),
                    equal: x.zip(y).is_some_and(|(x, y)| x.exact == y.exact),
                };
                classes.entry(key).or_default().push(pending);
            }
            None => platform.push(pending),
        }
    }
    let mut classes: Vec<(ClassKey, Vec<Pending>)> = classes
        .into_iter()
        .map(|(key, mut members)| {
            members.sort_by(|p, q| tenant(p).cmp(tenant(q)));
            (key, members)
        })
        .collect();
    // A total order (the map's is random): the report must not depend on it.
    classes.sort_by(|p, q| tenant(&p.1[0]).cmp(tenant(&q.1[0])).then(p.0.cmp(&q.0)));
    tenants.changed = classes
        .iter()
        .flat_map(|(_, members)| members.iter().map(tenant))
        .collect::<HashSet<_>>()
        .len();

    // Parse again only the files of the objects whose diff is shown, then diff them (the
    // costly part, and independent: on every core, gathered in order).
    let shown: Vec<&Pending> = platform
        .iter()
        .chain(classes.iter().map(|(_, members)| &members[0]))
        .collect();
    let contents = load_contents(old.tree, new.tree, &shown);
    let mut entries: Vec<Entry> = shown.par_iter().map(|p| entry(p, &contents)).collect();
    let tenant_entries = entries.split_off(platform.len());
    let mut platform: Vec<((&str, usize), Entry)> = platform
        .iter()
        .map(|p| p.old.or(p.new).expect("one side has the object"))
        .map(|o| (o.path, o.index))
        .zip(entries)
        .collect();
    platform.sort_by(|p, q| p.0.cmp(&q.0).then_with(|| p.1.object.cmp(&q.1.object)));
    let mut entries: Vec<Entry> = platform.into_iter().map(|(_, e)| e).collect();
    let classes = classes
        .into_iter()
        .zip(tenant_entries)
        .map(|((key, members), entry)| group::Class {
            index: key.index,
            entry,
            tenants: members
                .iter()
                .map(|p| (tenant(p).to_owned(), moved(p)))
                .collect(),
        })
        .collect();
    entries.extend(group::group(classes));
    Report {
        old: old.label.to_owned(),
        new: new.label.to_owned(),
        identical: summary.changed + summary.added + summary.removed == 0,
        summary,
        tenants,
        entries,
        foreign: Vec::new(),
        reformatted: Vec::new(),
    }
}

/// A side's objects (re-keyed by a generic environment name when `rename`), and their index.
fn objects_of<'a>(
    side: Side<'a>,
    as_text: &BTreeSet<&str>,
    rename: bool,
) -> (Vec<Object<'a>>, objects::Index) {
    let mut objs = objects::of_tree(side.tree, side.digests, as_text);
    if let (true, Some(env)) = (rename, side.env) {
        objects::generic_env_names(&mut objs, env);
    }
    let index = objects::index(&mut objs);
    (objs, index)
}

fn tenant<'a>(p: &Pending<'_, 'a>) -> &'a str {
    p.old.or(p.new).and_then(|o| o.tenant).unwrap_or_default()
}

fn moved(p: &Pending) -> bool {
    matches!((p.old, p.new), (Some(x), Some(y)) if x.path != y.path)
}

/// The parsed contents of the files of `shown`, on each side (`false`: old).
type Contents<'a> = HashMap<(bool, &'a str), Vec<Content>>;

fn load_contents<'a>(old: &dyn Files, new: &dyn Files, shown: &[&Pending<'_, 'a>]) -> Contents<'a> {
    let mut files: Vec<(bool, &'a str, Form)> = Vec::new();
    for p in shown {
        let equal = matches!((p.old, p.new), (Some(x), Some(y)) if x.exact == y.exact);
        if equal {
            continue;
        }
        files.extend(p.old.map(|o| (false, o.path, o.form)));
        files.extend(p.new.map(|o| (true, o.path, o.form)));
    }
    files.sort();
    files.dedup();
    files
        .par_iter()
        .map(|&(side, path, form)| {
            let tree = if side { new } else { old };
            ((side, path), objects::load(tree, path, form))
        })
        .collect()
}

fn entry(p: &Pending, contents: &Contents) -> Entry {
    let view = |side: bool, o: &Object| -> Vec<canonical::Line> {
        match contents.get(&(side, o.path)).and_then(|c| c.get(o.index)) {
            Some(Content::Parsed(v)) => canonical::lines(v),
            Some(Content::Text(t)) => canonical::text_lines(t),
            None => Vec::new(),
        }
    };
    let hunks = match (p.old, p.new) {
        (Some(x), Some(y)) if x.exact == y.exact => Vec::new(),
        (Some(x), Some(y)) => hunks::diff(&view(false, x), &view(true, y)),
        (Some(x), None) => hunks::whole(&view(false, x), Tag::Removed),
        (None, Some(y)) => hunks::whole(&view(true, y), Tag::Added),
        (None, None) => Vec::new(),
    };
    let count = |tag| {
        hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter(|l| l.tag == tag)
            .count()
    };
    let either = p.old.or(p.new).expect("one side has the object");
    Entry {
        status: p.status,
        title: either.id.title(),
        object: either.id.as_ref().clone(),
        old_path: p.old.map(|o| o.path.to_owned()),
        new_path: p.new.map(|o| o.path.to_owned()),
        tenants: None,
        added_lines: count(Tag::Added),
        removed_lines: count(Tag::Removed),
        hunks,
    }
}

/// Compares an environment's tree on disk (old) with a fresh render (new). Foreign files
/// on disk are listed, never compared.
pub fn compare_with_disk(disk_label: &str, disk: &OnDisk, new_label: &str, fresh: &Tree) -> Report {
    let digests = digest::digests(fresh);
    compare_with_disk_digested(disk_label, disk, new_label, fresh, &digests)
}

/// Like [`compare_with_disk`], with the digests of the fresh render (taken while it was
/// checked). The files on disk that have the same bytes share them.
pub fn compare_with_disk_digested(
    disk_label: &str,
    disk: &OnDisk,
    new_label: &str,
    fresh: &Tree,
    fresh_digests: &Digests,
) -> Report {
    let disk_digests = digest::digests_reusing(&disk.owned, fresh, fresh_digests);
    let mut report = compare_digested(
        Side {
            label: disk_label,
            env: None,
            tree: disk,
            digests: &disk_digests,
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
            in_the_way: fresh.files.contains_key(p),
        })
        .collect();
    // Same objects in the same order, other bytes: formatting or comments.
    report.reformatted = fresh
        .files
        .iter()
        .filter(|(p, b)| {
            disk.owned.get(*p).is_some_and(|d| d != *b)
                && disk_digests.get(*p) == fresh_digests.get(*p)
        })
        .map(|(p, _)| p.clone())
        .collect();
    if report.foreign.iter().any(|f| f.in_the_way) || !report.reformatted.is_empty() {
        report.identical = false;
    }
    report
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
    fn tenants_of_other_plans_that_change_alike_are_one_group() {
        // Two classes (the plan label differs, so their digests differ) with the same
        // change: one group of all four tenants, showing the first tenant's diff.
        let plans = [
            ("acme", "free"),
            ("globex", "pro"),
            ("initech", "free"),
            ("umbrella", "pro"),
        ];
        let side = |env: &str| Tree {
            files: plans
                .iter()
                .map(|(id, plan)| {
                    let (p, t) = tenant(id, env, plan);
                    (p, t.into_bytes())
                })
                .collect(),
        };
        let r = compare("a", &side("staging"), "b", &side("prod"));
        assert_eq!(r.entries.len(), 1, "{:#?}", r.entries);
        let g = r.entries[0].tenants.as_ref().unwrap();
        assert_eq!(g.ids, ["acme", "globex", "initech", "umbrella"]);
        assert_eq!(g.shown, "acme");
        assert_eq!(
            r.entries[0].old_path.as_deref(),
            Some("kubernetes/tenants/acme.yaml")
        );
        assert_eq!(r.tenants.changed, 4);
        let changed: Vec<&str> = r.entries[0].hunks[0]
            .lines
            .iter()
            .filter(|l| l.tag != Tag::Context)
            .map(|l| l.text.as_str())
            .collect();
        assert_eq!(
            changed,
            [
                "    portal.dev/environment: staging",
                "    portal.dev/environment: prod"
            ]
        );
    }

    #[test]
    fn the_report_does_not_depend_on_hash_map_order() {
        // Classes are gathered in a HashMap, and every HashMap has its own random order: the
        // report (entries, their order, the tenant shown) must come out the same every time.
        // Here one tenant has two objects at the same place in two files, changing
        // differently: two classes that tie on tenant and index.
        let obj = |kind: &str, env: &str, extra: &str| {
            format!(
                "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: x\n  namespace: portal-tenant-acme\n  \
                 labels: {{portal.dev/environment: {env}{extra}}}\n"
            )
        };
        let side = |env: &str, extra: &str| {
            Tree::from_texts(&[
                ("a/acme.yaml", obj("ConfigMap", env, "").as_str()),
                ("b/acme.yaml", obj("ServiceAccount", env, extra).as_str()),
            ])
        };
        let (a, b) = (side("staging", ""), side("prod", ", x: y"));
        let first = serde_json::to_string(&compare("staging", &a, "prod", &b)).unwrap();
        for _ in 0..20 {
            let again = serde_json::to_string(&compare("staging", &a, "prod", &b)).unwrap();
            assert_eq!(again, first);
        }
    }

    #[test]
    fn a_side_read_through_files_gives_the_same_report() {
        // What `diff A B` does: digests from the checks' parse, texts fetched on demand.
        struct Fetched<'a>(&'a Tree, std::sync::atomic::AtomicUsize);
        impl Files for Fetched<'_> {
            fn read(&self, path: &str) -> Option<std::borrow::Cow<'_, [u8]>> {
                self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.0.read(path)
            }
        }
        let ids: Vec<String> = (1..=50).map(|i| format!("t{i:05}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let (a, b) = (tenants("staging", &ids[..40]), tenants("prod", &ids[5..]));
        let (da, db) = (digest::digests(&a), digest::digests(&b));
        let (fa, fb) = (Fetched(&a, 0.into()), Fetched(&b, 0.into()));
        let side = |label, tree, digests| Side {
            label,
            env: Some(label),
            tree,
            digests,
        };
        let streamed = compare_digested(side("staging", &fa, &da), side("prod", &fb, &db));
        let whole = compare("staging", &a, "prod", &b);
        assert_eq!(
            serde_json::to_value(&streamed).unwrap(),
            serde_json::to_value(&whole).unwrap()
        );
        // One tenant's file per side is read, for the diff shown; not 40 or 45.
        let fetched = |f: &Fetched| f.1.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!((fetched(&fa), fetched(&fb)), (1, 1));
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
            ..OnDisk::default()
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
