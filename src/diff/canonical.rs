//! A canonical, line-oriented YAML view of a parsed document, for diffing.
//!
//! Keys are sorted at every level, so two documents that differ only in key order give the
//! same lines: key-order noise never reaches a diff. Every line remembers the field path it
//! belongs to (`spec.template.spec.containers[0].image`), which names the hunks of a diff.
//! The view is for reading only; it is never parsed back.

use serde_json::Value;

use crate::diagnostic::Segment;

/// One line of the canonical view and the field it shows.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub path: Vec<Segment>,
}

/// The canonical lines of `value`.
pub fn lines(value: &Value) -> Vec<Line> {
    let mut out = Vec::new();
    let mut path = Vec::new();
    match value {
        Value::Object(m) if !m.is_empty() => map(&mut out, m, 0, &mut path),
        Value::Array(a) if !a.is_empty() => list(&mut out, a, 0, &mut path),
        Value::String(s) if s.contains('\n') => {
            out.push(Line {
                text: block_indicator(s).into(),
                path: Vec::new(),
            });
            block(&mut out, s, 2, &path);
        }
        other => out.push(Line {
            text: scalar(other),
            path: Vec::new(),
        }),
    }
    out
}

/// The lines of a text file that is not parsed (shown as it is).
pub fn text_lines(text: &str) -> Vec<Line> {
    text.lines()
        .map(|l| Line {
            text: l.to_owned(),
            path: Vec::new(),
        })
        .collect()
}

fn sorted(m: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

fn is_multiline(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.contains('\n'))
}

fn map(
    out: &mut Vec<Line>,
    m: &serde_json::Map<String, Value>,
    indent: usize,
    path: &mut Vec<Segment>,
) {
    let pad = " ".repeat(indent);
    for (k, v) in sorted(m) {
        path.push(Segment::Key(k.clone()));
        let key = plain_or_quoted(k);
        if is_block(v) {
            out.push(Line {
                text: format!("{pad}{key}:"),
                path: path.clone(),
            });
            match v {
                Value::Object(child) => map(out, child, indent + 2, path),
                Value::Array(items) => list(out, items, indent + 2, path),
                _ => unreachable!(),
            }
        } else if let (true, Value::String(s)) = (is_multiline(v), v) {
            out.push(Line {
                text: format!("{pad}{key}: {}", block_indicator(s)),
                path: path.clone(),
            });
            block(out, s, indent + 2, path);
        } else {
            out.push(Line {
                text: format!("{pad}{key}: {}", scalar(v)),
                path: path.clone(),
            });
        }
        path.pop();
    }
}

fn list(out: &mut Vec<Line>, items: &[Value], indent: usize, path: &mut Vec<Segment>) {
    let pad = " ".repeat(indent);
    for (i, v) in items.iter().enumerate() {
        path.push(Segment::Index(i));
        if is_block(v) {
            let first = out.len();
            match v {
                Value::Object(child) => map(out, child, indent + 2, path),
                Value::Array(child) => list(out, child, indent + 2, path),
                _ => unreachable!(),
            }
            // The first line of the item carries the dash: `- key: value`.
            let line = &mut out[first];
            line.text = format!("{pad}- {}", &line.text[indent + 2..]);
        } else if let (true, Value::String(s)) = (is_multiline(v), v) {
            out.push(Line {
                text: format!("{pad}- {}", block_indicator(s)),
                path: path.clone(),
            });
            block(out, s, indent + 2, path);
        } else {
            out.push(Line {
                text: format!("{pad}- {}", scalar(v)),
                path: path.clone(),
            });
        }
        path.pop();
    }
}

fn block_indicator(s: &str) -> &'static str {
    if s.ends_with('\n') {
        "|"
    } else {
        "|-"
    }
}

fn block(out: &mut Vec<Line>, s: &str, indent: usize, path: &[Segment]) {
    let pad = " ".repeat(indent);
    for l in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        let text = if l.is_empty() {
            String::new()
        } else {
            format!("{pad}{l}")
        };
        out.push(Line {
            text,
            path: path.to_vec(),
        });
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => plain_or_quoted(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// `s` as a plain YAML scalar when it reads back as the same string, else double-quoted.
fn plain_or_quoted(s: &str) -> String {
    if is_plain(s) {
        s.to_owned()
    } else {
        Value::from(s).to_string()
    }
}

fn is_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if "-?:,[]{}#&*!|>'\"%@` ".contains(first) {
        // A dash starts a plain scalar when a word follows it (`-x`), not a space.
        let word_after_dash = first == '-' && s.len() > 1 && !s[1..].starts_with(' ');
        if !word_after_dash {
            return false;
        }
    }
    if s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
        || s.chars().any(char::is_control)
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "null" | "~" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) {
        return false;
    }
    !looks_numeric(s)
}

/// Whether YAML could read `s` as a number (so that it must be quoted to stay a string).
/// `500m` and `4Gi` are not numbers; `1`, `-1.5`, `1e3`, `0x1f`, `1_000`, `.inf` are.
fn looks_numeric(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_start_matches(['-', '+']);
    if matches!(t, ".inf" | ".nan") {
        return true;
    }
    if let Some(hex) = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0o"))
        .or_else(|| t.strip_prefix("0b"))
    {
        return !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    }
    let digits = t.chars().any(|c| c.is_ascii_digit());
    digits
        && (t.parse::<f64>().is_ok()
            || (t.matches('.').count() <= 1
                && t.chars().all(|c| c.is_ascii_digit() || "_.:".contains(c))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::quoted;
    use serde_json::json;

    fn text(v: &Value) -> String {
        lines(v).iter().map(|l| format!("{}\n", l.text)).collect()
    }

    #[test]
    fn keys_are_sorted_and_nested() {
        let v = json!({"b": 1, "a": {"z": [1, {"k": "v", "j": true}], "x": "2"}, "c": {}});
        assert_eq!(
            text(&v),
            "a:\n  x: \"2\"\n  z:\n    - 1\n    - j: true\n      k: v\nb: 1\nc: {}\n"
        );
    }

    #[test]
    fn key_order_does_not_matter() {
        let a: Value = serde_json::from_str(r#"{"a": 1, "b": {"c": 2, "d": 3}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b": {"d": 3, "c": 2}, "a": 1}"#).unwrap();
        assert_eq!(text(&a), text(&b));
    }

    #[test]
    fn lines_know_their_field_path() {
        let v = json!({"metadata": {"labels": {"portal.dev/tenant": "acme"}}, "spec": {"c": [{"image": "x"}]}});
        let paths: Vec<String> = lines(&v).iter().map(|l| quoted(&l.path)).collect();
        assert_eq!(
            paths,
            [
                "metadata",
                "metadata.labels",
                "metadata.labels[\"portal.dev/tenant\"]",
                "spec",
                "spec.c",
                "spec.c[0].image"
            ]
        );
    }

    #[test]
    fn scalars_are_quoted_only_when_needed() {
        for (s, want) in [
            ("abc", "abc"),
            ("1", "\"1\""),
            ("true", "\"true\""),
            ("a: b", "\"a: b\""),
            ("", "\"\""),
            ("-1", "\"-1\""),
            ("-x", "-x"),
            ("#x", "\"#x\""),
            ("Prune=false", "Prune=false"),
            ("4Gi", "4Gi"),
            ("500m", "500m"),
            ("1e3", "\"1e3\""),
            ("0x1f", "\"0x1f\""),
            ("1.5", "\"1.5\""),
            ("2.14.0", "2.14.0"),
        ] {
            assert_eq!(plain_or_quoted(s), want, "{s}");
        }
        assert_eq!(text(&json!({"s": "a\nb\n"})), "s: |\n  a\n  b\n");
    }
}
