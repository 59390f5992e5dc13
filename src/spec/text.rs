//! Checks on what a spec's values say, before the schema: a spec never holds a credential
//! (the same scanner as policy PG-S002, [`crate::secrets`]), and no value or key carries a
//! control character (ESC, NUL, U+202E …), which would be rendered into the tree or
//! reach a terminal.

use std::path::Path;

use serde_json::Value;

use super::node::{field_at_line, field_path, SpanIndex};
use crate::diagnostic::{Diagnostic, Position};

/// Every credential-shaped text and every control character of the spec `text` whose
/// parsed `value` and `spans` are given.
pub fn check(path: &Path, text: &str, value: &Value, spans: &SpanIndex) -> Vec<Diagnostic> {
    let mut out = secrets(path, text);
    let mut pointer = String::new();
    controls(path, value, spans, &mut pointer, &mut out);
    out
}

/// The most credential findings reported for one spec (finding the field of each costs a
/// pass over the text before it).
const MAX_REPORTED: usize = 20;

fn secrets(path: &Path, text: &str) -> Vec<Diagnostic> {
    let findings = crate::secrets::scan(text);
    let positions = crate::secrets::positions(text, &findings);
    findings
        .iter()
        .zip(positions)
        .take(MAX_REPORTED)
        .map(|(f, (line, column))| {
            let shown: String = text[f.offset..].chars().take(6).collect();
            Diagnostic::new(
                path,
                format!(
                    "this looks like {} ('{}…'); a spec never holds a secret",
                    f.what,
                    crate::diagnostic::quote(&shown)
                ),
            )
            .at(Some(Position { line, column }))
            .at_field(field_at_line(text, line))
            .with_hint(Some(
                "keep credentials in the cluster's secret store or in CI variables, and reference them by name".into(),
            ))
        })
        .collect()
}

fn is_control(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn controls(
    path: &Path,
    v: &Value,
    spans: &SpanIndex,
    pointer: &mut String,
    out: &mut Vec<Diagnostic>,
) {
    let report = |pointer: &str, what: &str, out: &mut Vec<Diagnostic>| {
        out.push(
            Diagnostic::new(
                path,
                format!("{what} holds a control character; only printable text is allowed"),
            )
            .at(spans.value(pointer))
            .with_path(field_path(pointer)),
        );
    };
    match v {
        Value::String(s) if s.chars().any(is_control) => report(pointer, "the value", out),
        Value::Object(map) => {
            for (k, child) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                if k.chars().any(is_control) {
                    report(pointer, "the key", out);
                } else {
                    controls(path, child, spans, pointer, out);
                }
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                controls(path, child, spans, pointer, out);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}
