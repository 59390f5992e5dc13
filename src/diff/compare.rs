//! The comparison itself: two digested trees matched object by object, the changes sorted
//! into platform objects and classes of tenants that changed alike, and the diffs of the
//! objects shown computed last (the only objects parsed again).

use std::collections::{BTreeSet, HashMap, HashSet};

use rayon::prelude::*;

use super::digest;
use super::hunks::{self, Tag};
use super::objects::{self, Content, Files, Form, Index, Object};
use super::{canonical, group, Entry, Report, Side, Status, Summary, TenantSet, Tenants};

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

/// The tenants of one class, sorted by id.
type Class<'o, 'a> = (ClassKey, Vec<Pending<'o, 'a>>);

/// Compares two digested trees object by object. Matching and telling equal from changed
/// uses the digests alone; only the objects whose diff is shown are parsed again: each
/// changed platform object, and one tenant of each class of tenants that changed alike.
pub fn compare_digested(old: Side<'_>, new: Side<'_>) -> Report {
    let as_text = objects::text_on_both_sides(old.digests, new.digests);
    // Objects named after their environment (`portal-staging-platform`) are the same object
    // in another environment (`portal-prod-us-platform`): match them as `portal-<env>-platform`.
    let envs = match (old.env, new.env) {
        (Some(a), Some(b)) if a != b => Some((a, b)),
        _ => None,
    };
    let rename = envs.is_some();
    let settled = objects::settled(old.digests, new.digests, &as_text, envs);
    let ((a, ia), (b, ib)) = rayon::join(
        || objects_of(old, &as_text, &settled.paths, rename),
        || objects_of(new, &as_text, &settled.paths, rename),
    );
    let mut tenants = tenants(&a, &b, &settled.tenants);
    let (mut summary, platform, classes) = changes(&a, &ia, &b, &ib, &mut tenants);
    summary.unchanged += settled.objects;
    let entries = entries(old.tree, new.tree, &platform, classes);
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
    settled: &HashSet<&str>,
    rename: bool,
) -> (Vec<Object<'a>>, Index) {
    let mut objs = objects::of_tree(side.tree, side.digests, as_text, settled);
    if let (true, Some(env)) = (rename, side.env) {
        objects::generic_env_names(&mut objs, env);
    }
    let index = objects::index(&mut objs);
    (objs, index)
}

/// The tenants of both sides: how many are on both, and the ones on one side only (their
/// object counts are filled in by [`changes`]). `settled`: the tenants of the objects that
/// are the same on both sides, and need no matching ([`objects::settled`]).
fn tenants(a: &[Object<'_>], b: &[Object<'_>], settled: &HashSet<&str>) -> Tenants {
    let tenants_of = |objs: &[Object<'_>]| -> BTreeSet<String> {
        let mut ids: Vec<&str> = objs.iter().filter_map(Object::tenant).collect();
        ids.extend(settled.iter().copied());
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(str::to_owned).collect()
    };
    let (tenants_a, tenants_b) = rayon::join(|| tenants_of(a), || tenants_of(b));
    let one_side = |ids: Vec<String>| TenantSet {
        count: ids.len(),
        ids,
        ..TenantSet::default()
    };
    Tenants {
        in_both: tenants_a.intersection(&tenants_b).count(),
        only_old: one_side(tenants_a.difference(&tenants_b).cloned().collect()),
        only_new: one_side(tenants_b.difference(&tenants_a).cloned().collect()),
        ..Tenants::default()
    }
}

/// Matches the objects of both sides and counts them; lists each changed, added or removed
/// platform object, and sorts the tenants' changes into classes (in a total order). The
/// objects of a tenant on one side only are counted in `tenants`, not listed.
fn changes<'o, 'a>(
    a: &'o [Object<'a>],
    ia: &Index,
    b: &'o [Object<'a>],
    ib: &Index,
    tenants: &mut Tenants,
) -> (Summary, Vec<Pending<'o, 'a>>, Vec<Class<'o, 'a>>) {
    let only_old: HashSet<&str> = tenants.only_old.ids.iter().map(String::as_str).collect();
    let only_new: HashSet<&str> = tenants.only_new.ids.iter().map(String::as_str).collect();
    let mut summary = Summary::default();
    let mut platform: Vec<Pending> = Vec::new();
    let mut classes: HashMap<ClassKey, Vec<Pending>> = HashMap::new();
    let old_side = a
        .iter()
        .enumerate()
        .filter(|(i, o)| ia.get(&o.key()) == Some(i))
        .map(|(_, x)| (Some(x), ib.get(&x.key()).map(|&j| &b[j])));
    let new_only = b
        .iter()
        .enumerate()
        .filter(|(j, y)| ib.get(&y.key()) == Some(j) && !ia.contains_key(&y.key()))
        .map(|(_, y)| (None, Some(y)));
    for (x, y) in old_side.chain(new_only) {
        let status = match (x, y) {
            (Some(x), Some(y)) if x.exact() == y.exact() && x.path == y.path => {
                summary.unchanged += 1;
                continue;
            }
            (Some(_), Some(_)) => Status::Changed,
            (Some(x), None) if x.tenant().is_some_and(|t| only_old.contains(t)) => {
                summary.removed += 1;
                tenants.only_old.objects += 1;
                continue;
            }
            (Some(_), None) => Status::Removed,
            (None, Some(y)) if y.tenant().is_some_and(|t| only_new.contains(t)) => {
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
        match either.tenant() {
            Some(_) => {
                let key = ClassKey {
                    status,
                    index: either.index,
                    title: digest::generic_title(&either.title(), either.tenant()),
                    old: x.map(Object::generic),
                    new: y.map(Object::generic),
                    equal: x.zip(y).is_some_and(|(x, y)| x.exact() == y.exact()),
                };
                classes.entry(key).or_default().push(pending);
            }
            None => platform.push(pending),
        }
    }
    let mut classes: Vec<Class> = classes
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
    (summary, platform, classes)
}

/// The entries of the report: the platform objects by file, then the tenants' changes
/// grouped. Only the files of the objects whose diff is shown are parsed again, then
/// diffed (the costly part, and independent: on every core, gathered in order).
fn entries(
    old: &dyn Files,
    new: &dyn Files,
    platform: &[Pending<'_, '_>],
    classes: Vec<Class<'_, '_>>,
) -> Vec<Entry> {
    let shown: Vec<&Pending> = platform
        .iter()
        .chain(classes.iter().map(|(_, members)| &members[0]))
        .collect();
    let contents = load_contents(old, new, &shown);
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
    entries
}

fn tenant<'a>(p: &Pending<'_, 'a>) -> &'a str {
    p.old.or(p.new).and_then(Object::tenant).unwrap_or_default()
}

fn moved(p: &Pending) -> bool {
    matches!((p.old, p.new), (Some(x), Some(y)) if x.path != y.path)
}

/// The parsed contents of the files of `shown`, on each side (`false`: old).
type Contents<'a> = HashMap<(bool, &'a str), Vec<Content>>;

fn load_contents<'a>(old: &dyn Files, new: &dyn Files, shown: &[&Pending<'_, 'a>]) -> Contents<'a> {
    let mut files: Vec<(bool, &'a str, Form)> = Vec::new();
    for p in shown {
        let equal = matches!((p.old, p.new), (Some(x), Some(y)) if x.exact() == y.exact());
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
        (Some(x), Some(y)) if x.exact() == y.exact() => Vec::new(),
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
        title: either.title(),
        object: either.object_id(),
        old_path: p.old.map(|o| o.path.to_owned()),
        new_path: p.new.map(|o| o.path.to_owned()),
        tenants: None,
        added_lines: count(Tag::Added),
        removed_lines: count(Tag::Removed),
        hunks,
    }
}
