//! RFC 6902 JSON Patch and RFC 7386 JSON Merge Patch on `serde_json` values.
//!
//! Written here rather than taken from a crate so that a failure says which field of which
//! operation is wrong and what is there instead (`no key 'replica' under /spec; did you
//! mean 'replicas'?`): the patch's author reads it at the patch's line in the spec.
//! Removing a key keeps the order of the others (`shift_remove`), so a patched object is
//! written in the order it was rendered in.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::diagnostic::{did_you_mean, quote};

/// One RFC 6902 operation.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
pub enum Operation {
    Add { path: String, value: Value },
    Remove { path: String },
    Replace { path: String, value: Value },
    Move { from: String, path: String },
    Copy { from: String, path: String },
    Test { path: String, value: Value },
}

impl Operation {
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Add { .. } => "add",
            Operation::Remove { .. } => "remove",
            Operation::Replace { .. } => "replace",
            Operation::Move { .. } => "move",
            Operation::Copy { .. } => "copy",
            Operation::Test { .. } => "test",
        }
    }
}

/// Why an operation failed: which of its fields (`path` or `from`), what is wrong, and a
/// suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub field: &'static str,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    fn at(field: &'static str, message: String) -> Failure {
        Failure {
            field,
            message,
            hint: None,
        }
    }
}

/// Applies one operation to `doc`.
pub fn apply(doc: &mut Value, op: &Operation) -> Result<(), Failure> {
    match op {
        Operation::Add { path, value } => add(doc, path, value.clone()).map_err(on("path")),
        Operation::Remove { path } => remove(doc, path).map(drop).map_err(on("path")),
        Operation::Replace { path, value } => {
            *get_mut(doc, path).map_err(on("path"))? = value.clone();
            Ok(())
        }
        Operation::Move { from, path } => {
            if path.starts_with(&format!("{from}/")) {
                return Err(Failure::at(
                    "path",
                    format!(
                        "cannot move '{}' into itself ('{}')",
                        quote(from),
                        quote(path)
                    ),
                ));
            }
            let value = remove(doc, from).map_err(on("from"))?;
            add(doc, path, value).map_err(on("path"))
        }
        Operation::Copy { from, path } => {
            let value = get_mut(doc, from).map_err(on("from"))?.clone();
            add(doc, path, value).map_err(on("path"))
        }
        Operation::Test { path, value } => {
            let found = get_mut(doc, path).map_err(on("path"))?;
            if found == value {
                Ok(())
            } else {
                Err(Failure::at(
                    "value",
                    format!(
                        "test failed: '{}' is {}, not {}",
                        quote(path),
                        shown(found),
                        shown(value)
                    ),
                ))
            }
        }
    }
}

/// Applies an RFC 7386 merge patch: objects merge key by key, `null` removes a key, any
/// other value replaces what is there.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(map) = target else {
        unreachable!("made an object above")
    };
    for (key, value) in patch {
        if value.is_null() {
            map.shift_remove(key);
        } else {
            merge(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// A failure of one field, before it is known which field.
struct Missing {
    message: String,
    hint: Option<String>,
}

fn on(field: &'static str) -> impl Fn(Missing) -> Failure {
    move |m| Failure {
        field,
        message: m.message,
        hint: m.hint,
    }
}

/// The unescaped segments of a JSON Pointer (RFC 6901).
fn segments(pointer: &str) -> Result<Vec<String>, Missing> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(Missing {
            message: format!(
                "'{}' is not a JSON Pointer (it starts with '/')",
                quote(pointer)
            ),
            hint: None,
        });
    };
    Ok(rest
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect())
}

/// The pointer of the first `n` segments, as written (for messages).
fn prefix(segs: &[String], n: usize) -> String {
    if n == 0 {
        return "the object's root".to_owned();
    }
    segs[..n]
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

fn get_mut<'a>(doc: &'a mut Value, pointer: &str) -> Result<&'a mut Value, Missing> {
    let segs = segments(pointer)?;
    let mut cur = doc;
    for (i, seg) in segs.iter().enumerate() {
        cur = step(cur, seg, &segs, i)?;
    }
    Ok(cur)
}

/// The child `seg` of `cur`, which is at the first `i` segments of `segs`.
fn step<'a>(
    cur: &'a mut Value,
    seg: &str,
    segs: &[String],
    i: usize,
) -> Result<&'a mut Value, Missing> {
    let under = prefix(segs, i);
    match cur {
        Value::Object(map) => {
            if !map.contains_key(seg) {
                let hint = did_you_mean(seg, map.keys().map(String::as_str));
                return Err(Missing {
                    message: format!("no key '{}' under {}", quote(seg), quote(&under)),
                    hint,
                });
            }
            Ok(map.get_mut(seg).expect("checked above"))
        }
        Value::Array(items) => {
            let len = items.len();
            match index(seg) {
                Some(n) if n < len => Ok(&mut items[n]),
                _ => Err(Missing {
                    message: format!(
                        "no item '{}' in the list at {} (it has {len} item{})",
                        quote(seg),
                        quote(&under),
                        if len == 1 { "" } else { "s" }
                    ),
                    hint: None,
                }),
            }
        }
        other => Err(Missing {
            message: format!(
                "{} is {}, which has no '{}'",
                quote(&under),
                shown(other),
                quote(seg)
            ),
            hint: None,
        }),
    }
}

/// A list index as RFC 6901 writes it: digits without a leading zero.
fn index(seg: &str) -> Option<usize> {
    if seg.is_empty()
        || !seg.bytes().all(|b| b.is_ascii_digit())
        || (seg.len() > 1 && seg.starts_with('0'))
    {
        return None;
    }
    seg.parse().ok()
}

fn add(doc: &mut Value, pointer: &str, value: Value) -> Result<(), Missing> {
    let segs = segments(pointer)?;
    let Some((last, parents)) = segs.split_last() else {
        *doc = value;
        return Ok(());
    };
    let mut cur = doc;
    for (i, seg) in parents.iter().enumerate() {
        cur = step(cur, seg, &segs, i)?;
    }
    let under = prefix(&segs, parents.len());
    match cur {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(items) => {
            let len = items.len();
            let at = if last == "-" { Some(len) } else { index(last) };
            match at {
                Some(n) if n <= len => {
                    items.insert(n, value);
                    Ok(())
                }
                _ => Err(Missing {
                    message: format!(
                        "cannot add item '{}' to the list at {}: it has {len} item{} (use '-' to append)",
                        quote(last),
                        quote(&under),
                        if len == 1 { "" } else { "s" }
                    ),
                    hint: None,
                }),
            }
        }
        other => Err(Missing {
            message: format!(
                "{} is {}, which cannot hold '{}'",
                quote(&under),
                shown(other),
                quote(last)
            ),
            hint: None,
        }),
    }
}

fn remove(doc: &mut Value, pointer: &str) -> Result<Value, Missing> {
    let segs = segments(pointer)?;
    let Some((last, parents)) = segs.split_last() else {
        return Err(Missing {
            message: "cannot remove the whole object".into(),
            hint: None,
        });
    };
    let mut cur = doc;
    for (i, seg) in parents.iter().enumerate() {
        cur = step(cur, seg, &segs, i)?;
    }
    // `step` says what is missing; the removal itself cannot fail after it.
    step(cur, last, &segs, parents.len())?;
    Ok(match cur {
        Value::Object(map) => map.shift_remove(last).unwrap_or(Value::Null),
        Value::Array(items) => items.remove(index(last).unwrap_or(0)),
        _ => Value::Null,
    })
}

/// A value as a message shows it: short, on one line.
fn shown(v: &Value) -> String {
    match v {
        Value::Object(_) => "a mapping".to_owned(),
        Value::Array(_) => "a list".to_owned(),
        other => {
            let s = other.to_string();
            if s.chars().count() > 40 {
                format!("{}…", s.chars().take(37).collect::<String>())
            } else {
                quote(&s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(v: Value) -> Operation {
        serde_json::from_value(v).unwrap()
    }

    fn run(doc: &mut Value, ops: Value) -> Result<(), Failure> {
        for o in ops.as_array().unwrap() {
            apply(doc, &op(o.clone()))?;
        }
        Ok(())
    }

    #[test]
    fn the_rfc_6902_operations_apply_in_order() {
        let mut doc = json!({"a": {"b": 1, "c": [1, 2]}, "z": true});
        run(
            &mut doc,
            json!([
                {"op": "add", "path": "/a/d", "value": {"x": 1}},
                {"op": "add", "path": "/a/c/-", "value": 3},
                {"op": "add", "path": "/a/c/0", "value": 0},
                {"op": "replace", "path": "/a/b", "value": 2},
                {"op": "copy", "from": "/a/d", "path": "/e"},
                {"op": "move", "from": "/a/d/x", "path": "/a/f"},
                {"op": "remove", "path": "/z"},
                {"op": "test", "path": "/a/c", "value": [0, 1, 2, 3]},
                {"op": "add", "path": "/k~1v", "value": "slash"},
            ]),
        )
        .unwrap();
        assert_eq!(
            doc,
            json!({"a": {"b": 2, "c": [0, 1, 2, 3], "d": {}, "f": 1}, "e": {"x": 1}, "k/v": "slash"})
        );
        // Key order is kept: `z` removed, the others where they were.
        let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "e", "k/v"]);
    }

    #[test]
    fn a_path_that_does_not_exist_is_named_with_a_suggestion() {
        let doc = json!({"spec": {"replicas": 1, "list": [1]}});
        for (ops, field, needle, hint) in [
            (
                json!([{"op": "remove", "path": "/spec/replica"}]),
                "path",
                "no key 'replica' under /spec",
                Some("replicas"),
            ),
            (
                json!([{"op": "replace", "path": "/spec/list/3", "value": 1}]),
                "path",
                "(it has 1 item)",
                None,
            ),
            (
                json!([{"op": "test", "path": "/nope", "value": 1}]),
                "path",
                "no key 'nope' under the object's root",
                None,
            ),
            (
                json!([{"op": "add", "path": "/spec/x/y", "value": 1}]),
                "path",
                "no key 'x' under /spec",
                None,
            ),
            (
                json!([{"op": "add", "path": "/spec/list/5", "value": 1}]),
                "path",
                "use '-' to append",
                None,
            ),
            (
                json!([{"op": "move", "from": "/spec/nothing", "path": "/a"}]),
                "from",
                "no key 'nothing'",
                None,
            ),
            (
                json!([{"op": "move", "from": "/spec", "path": "/spec/inner"}]),
                "path",
                "into itself",
                None,
            ),
            (
                json!([{"op": "test", "path": "/spec/replicas", "value": 2}]),
                "value",
                "test failed: '/spec/replicas' is 1, not 2",
                None,
            ),
            (
                json!([{"op": "remove", "path": ""}]),
                "path",
                "whole object",
                None,
            ),
            (
                json!([{"op": "add", "path": "/spec/replicas/x", "value": 1}]),
                "path",
                "is 1, which cannot hold 'x'",
                None,
            ),
        ] {
            let mut d = doc.clone();
            let f = run(&mut d, ops.clone()).unwrap_err();
            assert_eq!(f.field, field, "{ops}");
            assert!(f.message.contains(needle), "{ops}: {}", f.message);
            if let Some(h) = hint {
                assert!(
                    f.hint.as_deref().unwrap_or_default().contains(h),
                    "{ops}: {:?}",
                    f.hint
                );
            }
        }
    }

    #[test]
    fn a_merge_patch_follows_rfc_7386() {
        // The examples of RFC 7386, appendix A (a selection).
        for (target, patch, result) in [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (
                json!({"a": [{"b": "c"}]}),
                json!({"a": [1]}),
                json!({"a": [1]}),
            ),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
            (
                json!({}),
                json!({"a": {"bb": {"ccc": null}}}),
                json!({"a": {"bb": {}}}),
            ),
        ] {
            let mut t = target.clone();
            merge(&mut t, &patch);
            assert_eq!(t, result, "{target} + {patch}");
        }
        let mut t = json!({"x": 1, "y": 2, "z": 3});
        merge(&mut t, &json!({"x": null, "w": 4}));
        let keys: Vec<&String> = t.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["y", "z", "w"]);
    }
}
