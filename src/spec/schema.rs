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

/// The diagnostics of one violation: a message in the spec's terms for each kind of
/// violation the schemas produce, the validator's own message for the others.
fn describe(
    root: &Value,
    file: &Path,
    e: &jsonschema::ValidationError<'_>,
    spans: &SpanIndex,
) -> Vec<Diagnostic> {
    let v = Violation::new(root, file, e, spans);
    let (pointer, sub) = (v.pointer.as_str(), v.sub);
    match e.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => v.unknown_keys(unexpected),
        ValidationErrorKind::Required { property } => {
            vec![v.missing_key(property.as_str().unwrap_or_default())]
        }
        ValidationErrorKind::Enum { options } => vec![v.not_an_option(options)],
        ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::OneOfMultipleValid { .. }
            if pointer == "/spec/tenants" =>
        {
            vec![v.at("set exactly one of 'count' or 'list' (they are mutually exclusive)".into())]
        }
        ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::OneOfMultipleValid { .. }
            if !one_of_keys(sub).is_empty() =>
        {
            vec![v.at(format!("set exactly one of {}", or_list(&one_of_keys(sub))))]
        }
        ValidationErrorKind::Not { .. } if !not_together(sub).is_empty() => vec![v.at(format!(
            "set at most one of {}",
            or_list(&not_together(sub))
        ))],
        ValidationErrorKind::FalseSchema => vec![v.key_not_allowed()],
        ValidationErrorKind::AnyOf { .. } if pointer == "/spec/image" => {
            vec![v.at("set 'tag' or 'digest' (a digest wins over a tag)".into())]
        }
        ValidationErrorKind::Type { .. } if pointer.contains("/secretEnv/") => {
            vec![v.secret_value()]
        }
        ValidationErrorKind::Type { .. } => vec![v.wrong_type()],
        ValidationErrorKind::Pattern { .. }
        | ValidationErrorKind::MaxLength { .. }
        | ValidationErrorKind::MinLength { .. } => vec![v.invalid_text()],
        ValidationErrorKind::Not { .. } => vec![v.value_not_allowed()],
        ValidationErrorKind::Constant { expected_value } => {
            vec![v.at(format!(
                "expected {expected_value}, found {}",
                short(e.instance())
            ))]
        }
        _ => vec![v.at(e.to_string())],
    }
}

/// One violation being described: where it is in the instance, in its file, and the
/// schema that applies there.
struct Violation<'a, 'e> {
    root: &'a Value,
    file: &'a Path,
    spans: &'a SpanIndex,
    error: &'a jsonschema::ValidationError<'e>,
    /// The JSON pointer of the offending value.
    pointer: String,
    /// The subschema at the offending value.
    sub: Option<&'a Value>,
}

impl<'a, 'e> Violation<'a, 'e> {
    fn new(
        root: &'a Value,
        file: &'a Path,
        error: &'a jsonschema::ValidationError<'e>,
        spans: &'a SpanIndex,
    ) -> Self {
        let pointer = error.instance_path().as_str().to_owned();
        Violation {
            root,
            file,
            spans,
            error,
            sub: subschema(root, &pointer),
            pointer,
        }
    }

    /// A diagnostic at the offending value.
    fn at(&self, msg: String) -> Diagnostic {
        Diagnostic::new(self.file, msg)
            .at(self.spans.value(&self.pointer))
            .with_path(path_of(&self.pointer))
    }

    /// Each key the mapping may not hold, at the key, with the nearest valid key or the
    /// list of them.
    fn unknown_keys(&self, unexpected: &[String]) -> Vec<Diagnostic> {
        unexpected
            .iter()
            .map(|key| {
                let child = format!("{}/{}", self.pointer, escape(key));
                let known = property_names(self.sub);
                let hint = did_you_mean(key, known.iter().map(String::as_str))
                    .or_else(|| Some(format!("valid keys here: {}", known.join(", "))));
                Diagnostic::new(
                    self.file,
                    format!("unknown key '{}'", crate::diagnostic::quote(key)),
                )
                .at(self.spans.key(&child))
                .with_path(FieldPath::from_pointer(&child))
                .with_hint(hint)
            })
            .collect()
    }

    /// A required key `name` the mapping lacks, at the mapping, by the key's path.
    fn missing_key(&self, name: &str) -> Diagnostic {
        let child = format!("{}/{}", self.pointer, escape(name));
        self.at(format!("missing required key '{name}'"))
            .with_path(FieldPath::from_pointer(&child))
    }

    /// A value outside an enumeration, with the nearest option.
    fn not_an_option(&self, options: &Value) -> Diagnostic {
        let opts: Vec<&str> = options
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let got = self.error.instance().as_str().unwrap_or_default();
        self.at(format!(
            "{} is not one of: {}",
            short(self.error.instance()),
            opts.join(", ")
        ))
        .with_hint(did_you_mean(got, opts.iter().copied()))
    }

    /// A key the schema forbids here (`false`), with what the enclosing mapping is for.
    fn key_not_allowed(&self) -> Diagnostic {
        let key = self.pointer.rsplit('/').next().unwrap_or_default();
        self.at(format!(
            "'{}' is not allowed here",
            crate::diagnostic::quote(key)
        ))
        .with_hint(sub_description(self.root, &self.pointer).map(str::to_owned))
    }

    /// A value where a secretEnv entry's reference belongs. A secret is never written into
    /// a spec, so it is never shown either.
    fn secret_value(&self) -> Diagnostic {
        self.at(
            "a secretEnv entry is a reference {secret, key} to a Kubernetes Secret, never a value"
                .into(),
        )
        .with_hint(Some(
            "write {secret: <name of the Secret>, key: <key in it>}; keep the value in the cluster's secret store".into(),
        ))
    }

    /// A value of another type than the schema's.
    fn wrong_type(&self) -> Diagnostic {
        let expected = self
            .sub
            .and_then(|s| s.get("type"))
            .map(|t| t.to_string().replace('"', ""))
            .unwrap_or_else(|| "another type".into());
        self.at(format!(
            "expected {expected}, found {} {}",
            type_name(self.error.instance()),
            short(self.error.instance())
        ))
    }

    /// A string that breaks a pattern or a length limit, with what the schema expects.
    fn invalid_text(&self) -> Diagnostic {
        let what = self
            .sub
            .and_then(|s| s.get("description"))
            .and_then(Value::as_str)
            .map(|d| format!(" (expected: {d})"))
            .unwrap_or_default();
        let reason = match self.error.kind() {
            ValidationErrorKind::MaxLength { limit } => {
                format!("is longer than {limit} characters")
            }
            ValidationErrorKind::MinLength { .. } => "is empty".to_owned(),
            _ => "is not valid here".to_owned(),
        };
        self.at(format!("{} {reason}{what}", short(self.error.instance())))
    }

    /// A value a `not` excludes, with what the schema says of it.
    fn value_not_allowed(&self) -> Diagnostic {
        self.at(format!(
            "{} is not allowed here{}",
            short(self.error.instance()),
            self.sub
                .and_then(|s| s.get("description"))
                .and_then(Value::as_str)
                .map(|d| format!(" ({d})"))
                .unwrap_or_default()
        ))
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

/// A key as a JSON Pointer segment (`~` and `/` escaped).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
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
