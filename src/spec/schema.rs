//! Enforces `schemas/environment.schema.json`, the one statement of the spec's constraints,
//! and turns each violation into a diagnostic at the line and column of the offending value.

use std::path::Path;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::Validator;
use serde_json::Value;

use super::node::SpanIndex;
use crate::assets;
use crate::diagnostic::{did_you_mean, Diagnostic, FieldPath};

/// One embedded schema of a spec file, compiled once.
pub struct SpecSchema {
    json: Value,
    validator: Validator,
}

impl SpecSchema {
    fn load(file: &str) -> SpecSchema {
        let text = assets::schema(file).expect("embedded spec schema");
        let json: Value =
            serde_json::from_str(text).expect("an embedded spec schema is valid JSON");
        let validator =
            jsonschema::draft202012::new(&json).expect("an embedded spec schema compiles");
        SpecSchema { json, validator }
    }

    /// The schema as JSON.
    pub fn json(&self) -> &Value {
        &self.json
    }
}

/// `schemas/environment.schema.json`: an environment spec.
pub fn environment() -> &'static SpecSchema {
    static SCHEMA: OnceLock<SpecSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| SpecSchema::load("environment.schema.json"))
}

/// `schemas/system.schema.json`: the system file, `portalgen.yaml`.
pub fn system() -> &'static SpecSchema {
    static SCHEMA: OnceLock<SpecSchema> = OnceLock::new();
    SCHEMA.get_or_init(|| SpecSchema::load("system.schema.json"))
}

/// The environment schema as JSON.
pub fn schema_json() -> &'static Value {
    environment().json()
}

/// Every violation of the environment schema by `instance`, as diagnostics sorted by position.
pub fn check(file: &Path, instance: &Value, spans: &SpanIndex) -> Vec<Diagnostic> {
    check_against(environment(), file, instance, spans)
}

/// Every violation of `schema` by `instance`, as diagnostics sorted by position.
pub fn check_against(
    schema: &SpecSchema,
    file: &Path,
    instance: &Value,
    spans: &SpanIndex,
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = schema
        .validator
        .iter_errors(instance)
        .flat_map(|e| describe(&schema.json, file, &e, spans))
        .collect();
    out.sort_by(|a, b| a.position.cmp(&b.position).then(a.message.cmp(&b.message)));
    out.dedup();
    out
}

fn describe(
    root: &Value,
    file: &Path,
    e: &jsonschema::ValidationError<'_>,
    spans: &SpanIndex,
) -> Vec<Diagnostic> {
    let pointer = e.instance_path().as_str().to_owned();
    let sub = subschema(root, &pointer);
    let at = |msg: String| {
        Diagnostic::new(file, msg)
            .at(spans.value(&pointer))
            .with_path(path_of(&pointer))
    };
    match e.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|key| {
                let child = format!("{pointer}/{}", key.replace('~', "~0").replace('/', "~1"));
                let known = property_names(sub);
                let hint = did_you_mean(key, known.iter().map(String::as_str))
                    .or_else(|| Some(format!("valid keys here: {}", known.join(", "))));
                Diagnostic::new(
                    file,
                    format!("unknown key '{}'", crate::diagnostic::quote(key)),
                )
                .at(spans.key(&child))
                .with_path(FieldPath::from_pointer(&child))
                .with_hint(hint)
            })
            .collect(),
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let child = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
            vec![at(format!("missing required key '{name}'")).with_path(FieldPath::from_pointer(&child))]
        }
        ValidationErrorKind::Enum { options } => {
            let opts: Vec<&str> = options
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let got = e.instance().as_str().unwrap_or_default();
            vec![at(format!(
                "{} is not one of: {}",
                short(e.instance()),
                opts.join(", ")
            ))
            .with_hint(did_you_mean(got, opts.iter().copied()))]
        }
        ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::OneOfMultipleValid { .. }
            if pointer == "/spec/tenants" =>
        {
            vec![at(
                "set exactly one of 'count' or 'list' (they are mutually exclusive)".into(),
            )]
        }
        ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::OneOfMultipleValid { .. }
            if !one_of_keys(sub).is_empty() =>
        {
            vec![at(format!(
                "set exactly one of {}",
                or_list(&one_of_keys(sub))
            ))]
        }
        ValidationErrorKind::Not { .. } if !not_together(sub).is_empty() => vec![at(format!(
            "set at most one of {}",
            or_list(&not_together(sub))
        ))],
        ValidationErrorKind::FalseSchema => {
            let key = pointer.rsplit('/').next().unwrap_or_default();
            vec![at(format!(
                "'{}' is not allowed here",
                crate::diagnostic::quote(key)
            ))
            .with_hint(sub_description(root, &pointer).map(str::to_owned))]
        }
        ValidationErrorKind::AnyOf { .. } if pointer == "/spec/image" => {
            vec![at("set 'tag' or 'digest' (a digest wins over a tag)".into())]
        }
        // A secret is never written into a spec, so it is never shown either.
        ValidationErrorKind::Type { .. } if pointer.contains("/secretEnv/") => vec![at(
            "a secretEnv entry is a reference {secret, key} to a Kubernetes Secret, never a value"
                .into(),
        )
        .with_hint(Some(
            "write {secret: <name of the Secret>, key: <key in it>}; keep the value in the cluster's secret store".into(),
        ))],
        ValidationErrorKind::Type { .. } => {
            let expected = sub
                .and_then(|s| s.get("type"))
                .map(|t| t.to_string().replace('"', ""))
                .unwrap_or_else(|| "another type".into());
            vec![at(format!(
                "expected {expected}, found {} {}",
                type_name(e.instance()),
                short(e.instance())
            ))]
        }
        ValidationErrorKind::Pattern { .. }
        | ValidationErrorKind::MaxLength { .. }
        | ValidationErrorKind::MinLength { .. } => {
            let what = sub
                .and_then(|s| s.get("description"))
                .and_then(Value::as_str)
                .map(|d| format!(" (expected: {d})"))
                .unwrap_or_default();
            let reason = match e.kind() {
                ValidationErrorKind::MaxLength { limit } => {
                    format!("is longer than {limit} characters")
                }
                ValidationErrorKind::MinLength { .. } => "is empty".to_owned(),
                _ => "is not valid here".to_owned(),
            };
            vec![at(format!("{} {reason}{what}", short(e.instance())))]
        }
        ValidationErrorKind::Not { .. } => vec![at(format!(
            "{} is not allowed here{}",
            short(e.instance()),
            sub.and_then(|s| s.get("description"))
                .and_then(Value::as_str)
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ))],
        ValidationErrorKind::Constant { expected_value } => {
            vec![at(format!(
                "expected {expected_value}, found {}",
                short(e.instance())
            ))]
        }
        _ => vec![at(e.to_string())],
    }
}

/// The keys of a `oneOf` whose branches each require one key (`[{required: [a]}, …]`).
fn one_of_keys(schema: Option<&Value>) -> Vec<String> {
    let branches = schema
        .and_then(|s| s.get("oneOf"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let keys: Vec<String> = branches
        .iter()
        .filter_map(
            |b| match b.get("required").and_then(Value::as_array)?.as_slice() {
                [one] if b.as_object().is_some_and(|o| o.len() == 1) => {
                    one.as_str().map(str::to_owned)
                }
                _ => None,
            },
        )
        .collect();
    if keys.len() == branches.len() {
        keys
    } else {
        Vec::new()
    }
}

/// The keys of a `not: {required: [a, b]}`: keys that exclude each other.
fn not_together(schema: Option<&Value>) -> Vec<String> {
    schema
        .and_then(|s| s.get("not"))
        .and_then(|n| n.get("required"))
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `'a' or 'b'`, `'a', 'b' or 'c'`.
fn or_list(keys: &[String]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// The description of the schema of the mapping that holds the value at `pointer`.
fn sub_description<'a>(root: &'a Value, pointer: &str) -> Option<&'a str> {
    let parent = &pointer[..pointer.rfind('/')?];
    subschema(root, parent)?.get("description")?.as_str()
}

/// The field at a JSON Pointer, built from its segments (a key may hold a `.`, or be one),
/// or the whole document for the empty pointer.
fn path_of(pointer: &str) -> FieldPath {
    if pointer.is_empty() {
        FieldPath::parse("(document)")
    } else {
        FieldPath::from_pointer(pointer)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// A value as it would be shown in a message: short, on one line.
fn short(v: &Value) -> String {
    match v {
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
        other => {
            let s = other.to_string();
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(57).collect::<String>())
            } else {
                s
            }
        }
    }
}

/// The subschema that applies at an instance pointer, following `properties`, `items` and
/// local `$ref`s.
fn subschema<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let mut cur = resolve(root, root);
    for seg in pointer.split('/').skip(1) {
        let next = if seg.bytes().all(|b| b.is_ascii_digit()) && cur.get("items").is_some() {
            cur.get("items")
        } else {
            cur.get("properties")
                .and_then(|p| p.get(seg))
                .or_else(|| cur.get("additionalProperties").filter(|a| a.is_object()))
        }?;
        cur = resolve(root, next);
    }
    Some(cur)
}

fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

fn property_names(schema: Option<&Value>) -> Vec<String> {
    schema
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}
