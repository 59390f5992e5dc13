//! The secret rules' use of the scanner (`crate::secrets`): text shaped like a credential
//! (PG-S002) and literal values in secret-named fields (PG-S003). Kept as one block, apart
//! from the rules that use it (`rules::secrets`).

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Position};
use crate::secrets::is_reference;
pub use crate::secrets::is_secret_name;

// ---------------------------------------------------------------------------------------
// Secrets.

/// Fields with a secret-like name that hold a literal string, and `{name: SECRET_LIKE,
/// value: "…"}` pairs (environment variables).
pub fn walk_secret_fields(v: &Value, out: &mut Vec<(String, String)>) {
    // The path is kept as segments and written out only for a finding: this walk visits
    // every value of every rendered object.
    let mut segments = Vec::new();
    walk(
        v,
        &mut segments,
        &mut |segments: &[Segment], field: &str, message: String| {
            let mut at = String::new();
            for s in segments.iter().chain([&Segment::Key(field)]) {
                match s {
                    Segment::Key(k) => {
                        if !at.is_empty() {
                            at.push('.');
                        }
                        at.push_str(k);
                    }
                    Segment::Index(i) => at.push_str(&format!("[{i}]")),
                }
            }
            out.push((at, message));
        },
    );
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

type Found<'f> = dyn FnMut(&[Segment], &str, String) + 'f;

fn walk<'a>(v: &'a Value, path: &mut Vec<Segment<'a>>, found: &mut Found) {
    match v {
        Value::Object(map) => {
            let field = |key: &str| map.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
            if let (Some(Value::String(name)), Some(Value::String(value))) =
                (field("name"), field("value"))
            {
                if is_secret_name(name) && !is_reference(value) {
                    found(
                        path,
                        "value",
                        format!("'{name}' is given a literal value; take it from a Secret (valueFrom.secretKeyRef)"),
                    );
                }
            }
            for (k, v) in map {
                match v {
                    Value::String(s) if is_secret_name(k) && !is_reference(s) => {
                        found(
                            path,
                            k,
                            format!(
                                "the field '{k}' holds a literal value; reference a secret instead"
                            ),
                        );
                    }
                    Value::Object(_) | Value::Array(_) => {
                        path.push(Segment::Key(k));
                        walk(v, path, found);
                        path.pop();
                    }
                    _ => {}
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                walk(item, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Text shaped like a credential, anywhere in a file (comments included), in one pass
/// ([`crate::secrets::scan`]); positions are counted in the same single pass.
pub fn scan_text(file: &str, text: &str) -> Vec<Diagnostic> {
    let findings = crate::secrets::scan(text);
    let positions = crate::secrets::positions(text, &findings);
    findings
        .iter()
        .zip(positions)
        .map(|(f, (line, column))| {
            let shown: String = text[f.offset..].chars().take(6).collect();
            Diagnostic::new(
                file,
                format!(
                    "[PG-S002] text that looks like {} ('{}…'); secrets never go into the tree",
                    f.what,
                    crate::diagnostic::quote(&shown)
                ),
            )
            .rule("PG-S002")
            .at(Some(Position { line, column }))
            .with_path(format!("line {line}"))
        })
        .collect()
}
