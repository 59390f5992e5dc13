//! Folding per-tenant changes: the objects of many tenants usually change in the same way
//! (an environment label, a new quota for a plan). Two changes are "the same" when their
//! titles and diffs are equal once the tenant id is replaced by `<tenant>`; an environment
//! name in a label differs the same way for every tenant, so it is absorbed as well.

use std::collections::BTreeMap;

use super::hunks::Hunk;
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
/// ordered like the objects in a tenant's file.
pub fn group(mut changes: Vec<TenantChange>) -> Vec<Entry> {
    changes.sort_by(|a, b| a.tenant.cmp(&b.tenant));
    #[derive(PartialEq, Eq, PartialOrd, Ord)]
    struct Key {
        index: usize,
        title: String,
        status: Status,
        moved: bool,
        diff: String,
    }
    let mut groups: BTreeMap<Key, (Entry, Vec<String>)> = BTreeMap::new();
    for c in changes {
        let key = Key {
            index: c.index,
            title: normalize(&c.entry.title, &c.tenant),
            status: c.entry.status,
            moved: c.entry.moved(),
            diff: normalize(&hunks_text(&c.entry.hunks), &c.tenant),
        };
        groups
            .entry(key)
            .or_insert_with(|| (c.entry, Vec::new()))
            .1
            .push(c.tenant);
    }
    groups
        .into_iter()
        .map(|(key, (mut entry, ids))| {
            entry.title = key.title;
            entry.tenants = Some(TenantGroup { count: ids.len(), shown: ids[0].clone(), ids });
            entry
        })
        .collect()
}

fn hunks_text(hunks: &[Hunk]) -> String {
    let mut out = String::new();
    for h in hunks {
        out.push_str(&h.header());
        out.push('\n');
        for l in &h.lines {
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
            normalize("portal-tenant-acme tenant:acme:admins acme2 xacme acme", "acme"),
            "portal-tenant-<tenant> tenant:<tenant>:admins acme2 xacme <tenant>"
        );
        assert_eq!(normalize("t00001 t000012", "t00001"), "<tenant> t000012");
    }
}
