//! Folding per-tenant changes: the objects of many tenants usually change in the same way
//! (an environment label, a new quota for a plan). Two changes are "the same" when their
//! titles and diffs are equal once the tenant id is replaced by `<tenant>`; an environment
//! name in a label differs the same way for every tenant, so it is absorbed as well.

use std::collections::BTreeMap;

use super::hunks::{Hunk, Tag};
use super::{Entry, Status, TenantGroup};

/// The placeholder that stands for a tenant id in a group's title.
pub const PLACEHOLDER: &str = "<tenant>";

/// The tenants whose object changed in one way: the same change but for their id (see
/// [`super::digest`]). Only the first tenant's change is computed, and shown for all.
#[derive(Debug, Clone)]
pub struct Class {
    /// The object's index among the documents of its file (orders the groups like the file).
    pub index: usize,
    /// The change of the first tenant of `tenants`.
    pub entry: Entry,
    /// The tenants, sorted by id, each with whether its object moved to another file.
    pub tenants: Vec<(String, bool)>,
}

/// Groups the classes of changes (of tenants present on both sides) into one entry per
/// distinct change, ordered like the objects in a tenant's file. Only the changed lines
/// (and the fields they are in) decide; the context lines around them may differ (a plan
/// label) and a tenant whose file moves (to another shard) is still the same change,
/// counted in `moved`. A group shows the change of its first tenant.
pub fn group(classes: Vec<Class>) -> Vec<Entry> {
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Key {
        index: usize,
        title: String,
        status: Status,
        diff: String,
    }
    struct Group {
        entry: Entry,
        shown: String,
        ids: Vec<String>,
        moved: Vec<String>,
    }
    let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
    for c in classes {
        let Some((first, _)) = c.tenants.first() else {
            continue;
        };
        let key = Key {
            index: c.index,
            title: normalize(&c.entry.title, first),
            status: c.entry.status,
            diff: normalize(&changed_lines(&c.entry.hunks), first),
        };
        let first = first.clone();
        let ids = c.tenants.iter().map(|(t, _)| t.clone());
        let moved = c.tenants.iter().filter(|(_, m)| *m).map(|(t, _)| t.clone());
        match groups.entry(key) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(Group {
                    entry: c.entry,
                    shown: first,
                    ids: ids.collect(),
                    moved: moved.collect(),
                });
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                let g = o.get_mut();
                if first < g.shown {
                    g.entry = c.entry;
                    g.shown = first;
                }
                g.ids.extend(ids);
                g.moved.extend(moved);
            }
        }
    }
    groups
        .into_iter()
        .map(|(key, mut g)| {
            g.ids.sort();
            g.moved.sort();
            g.entry.title = key.title;
            g.entry.tenants = Some(TenantGroup {
                count: g.ids.len(),
                shown: g.shown,
                ids: g.ids,
                moved: g.moved,
            });
            g.entry
        })
        .collect()
}

/// What a change is, without its context: each hunk's field and its changed lines.
fn changed_lines(hunks: &[Hunk]) -> String {
    let mut out = String::new();
    for h in hunks {
        out.push_str(&h.at);
        out.push('\n');
        for l in h.lines.iter().filter(|l| l.tag != Tag::Context) {
            out.push(l.tag.sign());
            out.push_str(&l.text);
            out.push('\n');
        }
    }
    out
}

/// `text` with every whole-word occurrence of `id` replaced by [`PLACEHOLDER`]. A word
/// ends at anything but a letter or digit, so `portal-tenant-acme` and `tenant:acme:admins`
/// are matched, and `acme2` is not.
pub fn normalize(text: &str, id: &str) -> String {
    if id.is_empty() {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let word = |i: usize| bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric());
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, _) in text.match_indices(id) {
        let end = start + id.len();
        if start < last || (start > 0 && word(start - 1)) || word(end) {
            continue;
        }
        out.push_str(&text[last..start]);
        out.push_str(PLACEHOLDER);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_replaces_whole_ids_only() {
        assert_eq!(
            normalize(
                "portal-tenant-acme tenant:acme:admins acme2 xacme acme",
                "acme"
            ),
            "portal-tenant-<tenant> tenant:<tenant>:admins acme2 xacme <tenant>"
        );
        assert_eq!(normalize("t00001 t000012", "t00001"), "<tenant> t000012");
    }
}
