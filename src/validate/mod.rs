//! Checks on every rendered file before anything is written: parsed back, Kubernetes
//! objects type-checked (unknown fields are errors), custom resources checked against the
//! JSON Schemas in `schemas/crds/`; PromQL in rules and dashboards parsed, dashboards checked
//! for their structure; the built-in security policy ([`policy`]) applied.

pub mod alerting;
pub mod kubernetes;
pub mod network;
pub mod policy;
pub mod yaml_subset;

/// The PromQL checks, which belong to the prometheus family (kept here by name for callers
/// that check expressions).
pub use crate::families::prometheus::promql;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, ObjectRef};
use crate::families;

/// [`Value::pointer`] without its cost: it unescapes every segment into a new string,
/// and the checks look up a handful of fields in each of 120,000 objects.
pub trait At {
    /// The value at a JSON Pointer (`/metadata/labels/portal.dev~1tenant`).
    fn at(&self, pointer: &str) -> Option<&Value>;

    /// The value under these keys, in order (no escaping: `["metadata", "labels",
    /// "portal.dev/tenant"]`).
    fn at_keys(&self, keys: &[&str]) -> Option<&Value>;
}

impl At for Value {
    fn at(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut v = self;
        for segment in pointer.strip_prefix('/')?.split('/') {
            let unescaped;
            let key = if segment.contains('~') {
                unescaped = segment.replace("~1", "/").replace("~0", "~");
                unescaped.as_str()
            } else {
                segment
            };
            v = match v {
                Value::Object(map) => map.get(key)?,
                Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(v)
    }

    fn at_keys(&self, keys: &[&str]) -> Option<&Value> {
        keys.iter().try_fold(self, |v, k| v.get(k))
    }
}

/// One parsed object of a rendered YAML file.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
}

impl Document {
    fn str_at(&self, pointer: &str) -> &str {
        self.value
            .at(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
    pub fn api_version(&self) -> &str {
        self.str_at("/apiVersion")
    }
    pub fn kind(&self) -> &str {
        self.str_at("/kind")
    }
    pub fn name(&self) -> &str {
        self.str_at("/metadata/name")
    }
    pub fn namespace(&self) -> &str {
        self.str_at("/metadata/namespace")
    }
    /// `Kind namespace/name` (or `Kind name` for cluster objects), as shown in messages.
    pub fn describe(&self) -> String {
        self.object_ref().describe()
    }
    /// The object's kind, namespace and name, for diagnostics.
    pub fn object_ref(&self) -> ObjectRef {
        let namespace = self.namespace();
        ObjectRef {
            kind: self.kind().to_owned(),
            namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
            name: self.name().to_owned(),
        }
    }
}

/// Parses a multi-document YAML file into its objects.
///
/// The block-style subset portalgen's templates write is read by [`yaml_subset`]; anything
/// outside it (or any error) is read by serde-saphyr.
pub fn parse_yaml_documents(text: &str) -> Result<Vec<Document>, String> {
    let values: Vec<Value> = match yaml_subset::parse_documents(text) {
        Some(values) => values,
        None => serde_saphyr::from_multiple(text).map_err(|e| e.without_snippet().to_string())?,
    };
    Ok(values
        .into_iter()
        .filter(|v| !v.is_null())
        .map(|value| Document { value })
        .collect())
}

/// A rendered file as the checks parsed it (handed on, so that nothing parses it twice).
#[derive(Debug, Clone)]
pub enum Parsed {
    /// The documents of a YAML file.
    Yaml(Vec<Document>),
    /// A JSON file.
    Json(Value),
    /// Not parsed: it does not parse, or it is of no known type.
    Not,
}

/// Every problem of one rendered file. `path` is its path in the tree, `template` the
/// template it came from (both named in diagnostics).
pub fn check_file(path: &str, template: &str, text: &str) -> Vec<Diagnostic> {
    check_file_parsed(path, template, text, &kubernetes::TeamSchemas::default()).0
}

/// Like [`check_file`], with the schemas a team adds for its own kinds, also returning the
/// file as it was parsed.
pub fn check_file_parsed(
    path: &str,
    template: &str,
    text: &str,
    team: &kubernetes::TeamSchemas,
) -> (Vec<Diagnostic>, Parsed) {
    let file = || format!("{path} (from templates/{template})");
    if path.ends_with(".yaml") {
        match parse_yaml_documents(text) {
            Ok(docs) => {
                let file = file();
                let mut problems: Vec<Diagnostic> = docs
                    .iter()
                    .flat_map(|d| {
                        let mut problems = kubernetes::check(&file, d, team);
                        for check in families::FAMILIES.iter().filter_map(|f| f.check_object) {
                            problems.extend(check(&file, d));
                        }
                        problems
                    })
                    .collect();
                problems.extend(policy::check_yaml_file(&file, text, &docs));
                (problems, Parsed::Yaml(docs))
            }
            Err(e) => (
                vec![
                    Diagnostic::new(file(), format!("rendered YAML does not parse: {e}"))
                        .with_hint(Some(excerpt(text, &e))),
                ],
                Parsed::Not,
            ),
        }
    } else if path.ends_with(".json") {
        let family = families::of_path(path);
        match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                let file = file();
                let mut problems = family
                    .and_then(|f| f.check_json)
                    .map_or_else(Vec::new, |check| check(&file, &value));
                problems.extend(policy::check_json_file(&file, text, &value));
                (problems, Parsed::Json(value))
            }
            Err(e) => (
                vec![Diagnostic::new(
                    file(),
                    format!(
                        "rendered {} does not parse: {e}",
                        family.map_or("JSON", |f| f.json_is)
                    ),
                )],
                Parsed::Not,
            ),
        }
    } else {
        (
            vec![Diagnostic::new(
                file(),
                "no check is known for this kind of file",
            )],
            Parsed::Not,
        )
    }
}

/// The rendered lines around the line a parse error names, for the template's author.
fn excerpt(text: &str, error: &str) -> String {
    let line: usize = error
        .split("line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let from = line.saturating_sub(3).max(1);
    let mut out = String::from("rendered text:");
    for (i, l) in text.lines().enumerate().skip(from - 1).take(5) {
        out.push_str(&format!("\n    {:>4} | {l}", i + 1));
    }
    out
}
