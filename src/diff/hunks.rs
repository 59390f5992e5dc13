//! Line diffs of canonical views as data: hunks of changed lines with a little context,
//! each named by the field it changes.

use serde::Serialize;
use similar::{capture_diff_slices, group_diff_ops, Algorithm, DiffOp};

use super::canonical::Line;
use crate::diagnostic::{quoted, Segment};

/// Lines of unchanged context shown around a change.
pub const CONTEXT: usize = 2;

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub tag: Tag,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tag {
    Context,
    Removed,
    Added,
}

impl Tag {
    pub fn sign(self) -> char {
        match self {
            Tag::Context => ' ',
            Tag::Removed => '-',
            Tag::Added => '+',
        }
    }
}

/// A run of changed lines with their context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    /// The field the change is in (`spec.replicas`), empty when it spans the whole object.
    pub at: String,
    /// 1-based first line and line count on each side, as in a unified diff.
    pub old_start: usize,
    pub old_len: usize,
    pub new_start: usize,
    pub new_len: usize,
    pub lines: Vec<DiffLine>,
}

impl Hunk {
    /// `@@ -12,4 +12,4 @@ spec.replicas`
    pub fn header(&self) -> String {
        let at = if self.at.is_empty() {
            String::new()
        } else {
            format!(" {}", self.at)
        };
        format!(
            "@@ -{},{} +{},{} @@{at}",
            self.old_start, self.old_len, self.new_start, self.new_len
        )
    }
}

/// The hunks that turn `old` into `new`.
pub fn diff(old: &[Line], new: &[Line]) -> Vec<Hunk> {
    // Lines match only when they show the same field: `cpu: "1"` under `limits` never
    // pairs with `cpu: "1"` under `requests`, which keeps hunks aligned with the structure.
    // List indices are left out, so that an item inserted at the front of a list does not
    // make every later item look different.
    let key = |l: &Line| {
        let path: Vec<Segment> = l
            .path
            .iter()
            .map(|s| match s {
                Segment::Index(_) => Segment::Index(0),
                key => key.clone(),
            })
            .collect();
        (path, l.text.clone())
    };
    let old_keys: Vec<(Vec<Segment>, String)> = old.iter().map(key).collect();
    let new_keys: Vec<(Vec<Segment>, String)> = new.iter().map(key).collect();
    let ops = capture_diff_slices(Algorithm::Myers, &old_keys, &new_keys);
    group_diff_ops(ops, CONTEXT)
        .into_iter()
        .filter(|group| group.iter().any(|op| !matches!(op, DiffOp::Equal { .. })))
        .map(|group| hunk(old, new, &group))
        .collect()
}

/// One hunk showing every line of `lines` with `tag` (an added or removed object).
pub fn whole(lines: &[Line], tag: Tag) -> Vec<Hunk> {
    if lines.is_empty() {
        return Vec::new();
    }
    let (old_len, new_len) = if tag == Tag::Added {
        (0, lines.len())
    } else {
        (lines.len(), 0)
    };
    vec![Hunk {
        at: String::new(),
        old_start: usize::from(old_len > 0),
        old_len,
        new_start: usize::from(new_len > 0),
        new_len,
        lines: lines
            .iter()
            .map(|l| DiffLine {
                tag,
                text: l.text.clone(),
            })
            .collect(),
    }]
}

fn hunk(old: &[Line], new: &[Line], group: &[DiffOp]) -> Hunk {
    let mut lines = Vec::new();
    let mut changed_paths: Vec<&[Segment]> = Vec::new();
    for op in group {
        let (_, o, n) = op.as_tag_tuple();
        match op {
            DiffOp::Equal { .. } => {
                lines.extend(old[o].iter().map(|l| DiffLine {
                    tag: Tag::Context,
                    text: l.text.clone(),
                }));
            }
            _ => {
                for l in &old[o] {
                    lines.push(DiffLine {
                        tag: Tag::Removed,
                        text: l.text.clone(),
                    });
                    changed_paths.push(&l.path);
                }
                for l in &new[n] {
                    lines.push(DiffLine {
                        tag: Tag::Added,
                        text: l.text.clone(),
                    });
                    changed_paths.push(&l.path);
                }
            }
        }
    }
    let (first, last) = (&group[0], &group[group.len() - 1]);
    let (old_from, new_from) = (first.old_range().start, first.new_range().start);
    let old_len = last.old_range().end - old_from;
    let new_len = last.new_range().end - new_from;
    Hunk {
        at: quoted(common_prefix(&changed_paths)),
        old_start: old_from + usize::from(old_len > 0),
        old_len,
        new_start: new_from + usize::from(new_len > 0),
        new_len,
        lines,
    }
}

fn common_prefix<'a>(paths: &[&'a [Segment]]) -> &'a [Segment] {
    let Some((first, rest)) = paths.split_first() else {
        return &[];
    };
    let mut len = first.len();
    for p in rest {
        len = len.min(
            first
                .iter()
                .zip(p.iter())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    &first[..len]
}

#[cfg(test)]
mod tests {
    use super::super::canonical::lines;
    use super::*;
    use serde_json::json;

    #[test]
    fn a_changed_field_is_one_small_named_hunk() {
        let old = json!({"spec": {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "replicas": 3, "z": 0}});
        let mut new = old.clone();
        new["spec"]["replicas"] = json!(8);
        let hunks = diff(&lines(&old), &lines(&new));
        assert_eq!(hunks.len(), 1);
        let h = &hunks[0];
        assert_eq!(h.at, "spec.replicas");
        assert_eq!(h.header(), "@@ -5,4 +5,4 @@ spec.replicas");
        let text: Vec<String> = h
            .lines
            .iter()
            .map(|l| format!("{}{}", l.tag.sign(), l.text))
            .collect();
        assert_eq!(
            text,
            [
                "   d: 4",
                "   e: 5",
                "-  replicas: 3",
                "+  replicas: 8",
                "   z: 0"
            ]
        );
    }

    #[test]
    fn equal_views_have_no_hunks() {
        let v = json!({"a": [1, 2]});
        assert!(diff(&lines(&v), &lines(&v)).is_empty());
    }
}
