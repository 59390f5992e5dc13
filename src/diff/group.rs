//! Folding per-tenant changes: the objects of many tenants usually change in the same way
//! (an environment label, a new quota for a plan). Two changes are "the same" when their
//! titles and diffs are equal once the tenant id is replaced by `<tenant>`; an environment
//! name in a label differs the same way for every tenant, so it is absorbed as well.

use std::collections::BTreeMap;

use super::hunks::{Hunk, Tag};
use super::{Entry, Status, TenantGroup};

/// The placeholder that stands for a tenant id in a group's title.
pub const PLACEHOLDER: &str = "<tenant>";

/// One change of one tenant's object.
#[derive(Debug, Clone)]
pub struct TenantChange {
    pub tenant: String,
    /// The object's index among the documents of its file (orders the groups like the file).
    pub index: usize,
    pub entry: Entry,
}

/// Groups `changes` (of tenants present on both sides) into one entry per distinct change,
/// ordered like the objects in a tenant's file. Only the changed lines (and the fields they
/// are in) decide; the context lines around them may differ (a plan label) and a tenant
/// whose file moves (to another shard) is still the same change, counted in `moved`.
pub fn group(mut changes: Vec<TenantChange>) -> Vec<Entry> {
    changes.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Key {
        index: usize,
        title: String,
        status: Status,
        diff: String,
    }
    let mut groups: BTreeMap<Key, (Entry, Vec<String>, Vec<String>)> = BTreeMap::new();
    for c in changes {
        let key = Key {
            index: c.index,
            title: normalize(&c.entry.title, &c.tenant),
            status: c.entry.status,
            diff: normalize(&changed_lines(&c.entry.hunks), &c.tenant),
        };
        let moved = c.entry.moved();
        let (_, ids, moved_ids) = groups
            .entry(key)
            .or_insert_with(|| (c.entry, Vec::new(), Vec::new()));
        if moved {
            moved_ids.push(c.tenant.clone());
        }
        ids.push(c.tenant);
    }
    groups
        .into_iter()
        .map(|(key, (mut entry, ids, moved))| {
            entry.title = key.title;
            entry.tenants = Some(TenantGroup {
                count: ids.len(),
                shown: ids[0].clone(),
                ids,
                moved,
            });
            entry
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
