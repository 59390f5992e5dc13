//! `portalgen explain` (issue 17): where every leaf of a rendered object came from.
//!
//! The model knows the origin of its values ([`crate::provenance`]); what is left is to know
//! which model value each rendered leaf shows. A file is rendered twice from the same
//! template: once as the pipeline renders it (and patched), and once *instrumented*, with
//! every scalar of the template context replaced by a marker object that prints as
//! `zq<id>qz` and keeps the real value's truthiness (so `{% if %}` takes the same branch).
//! Both renders are parsed; at each leaf's path, the instrumented render holds:
//!
//! - one marker and nothing else: the leaf is that context value, whose origin the model
//!   recorded (a value of `s`, `a`, `p`, `d` or `t` is found in the model by its place);
//! - markers and text: the template joined values and literals (`{{ name }}-config`):
//!   derived, from each marker's origin;
//! - no marker: a literal of the template, attributed to the template's line that writes
//!   the key.
//!
//! A leaf the patches changed (the patched and the unpatched render differ there) is the
//! patch's. Files that a family builds as JSON in Rust (`cloudflare/*.tf.json`, Grafana's
//! dashboards) have no template values to mark: their leaves are the family code's, or,
//! when the value equals one the model recorded a spec or tier origin for, derived from it.
//!
//! Limits: a template that compares a value with a literal (`port_name != "http"`) sees a
//! marker, not the value, and may take the other branch in the instrumented render; the
//! leaves of the real render are still found by path, and a leaf the instrumented render
//! lacks falls back to the model value equal to it, else is `Unknown`. Keys that a template
//! builds from values are matched by the real value.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use minijinja::value::{Object, ObjectRepr, Value, ValueKind};
use serde_json::Value as Json;

use crate::diagnostic::{FieldPath, ObjectRef, Segment};
use crate::families::Artifact;
use crate::model::Model;
use crate::patch::{self, Change, Operation, Patch};
use crate::provenance::{escape, Origin};
use crate::render::Templates;
use crate::validate;

/// One leaf of a rendered object and where it came from.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub path: FieldPath,
    pub value: Json,
    pub origin: Origin,
    /// The model value it shows (`m.services[0].replicas`), when one.
    pub model: Option<String>,
}

/// One rendered object (or JSON document) with its leaves.
#[derive(Debug, Clone)]
pub struct Explained {
    /// The object; a JSON file's document is named after its file (kind `File`).
    pub object: ObjectRef,
    /// The rendered file that holds it.
    pub file: String,
    /// The object as rendered (and patched).
    pub value: Json,
    pub leaves: Vec<Leaf>,
}

/// A context scalar replaced by a marker: prints as `zq<id>qz`, and is true or false like
/// the value it stands for.
#[derive(Debug)]
struct Marker {
    id: usize,
    truthy: bool,
}

impl Object for Marker {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn is_true(self: &Arc<Self>) -> bool {
        self.truthy
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zq{}qz", self.id)
    }
}

/// What each marker stands for: the context variable and the pointer inside it, and the
/// real value (as text, for keys).
struct Marks {
    at: Vec<(String, String, String)>,
}

impl Marks {
    fn mark(&mut self, v: &Value, var: &str, pointer: &mut String) -> Value {
        match v.kind() {
            ValueKind::Map => {
                let Ok(keys) = v.try_iter() else {
                    return v.clone();
                };
                let mut map = indexmap::IndexMap::new();
                for k in keys {
                    let item = v.get_item(&k).unwrap_or_default();
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&escape(&k.to_string()));
                    let marked = self.mark(&item, var, pointer);
                    pointer.truncate(len);
                    map.insert(k, marked);
                }
                Value::from_object(map)
            }
            ValueKind::Seq => {
                let Ok(items) = v.try_iter() else {
                    return v.clone();
                };
                let mut out = Vec::new();
                for (i, item) in items.enumerate() {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    out.push(self.mark(&item, var, pointer));
                    pointer.truncate(len);
                }
                Value::from(out)
            }
            ValueKind::String | ValueKind::Number | ValueKind::Bool => {
                let id = self.at.len();
                // As YAML and JSON write it (minijinja prints a boolean as `True`).
                let text = serde_json::to_value(v)
                    .ok()
                    .as_ref()
                    .and_then(scalar_text)
                    .unwrap_or_else(|| v.to_string());
                self.at.push((var.to_owned(), pointer.clone(), text));
                Value::from_object(Marker {
                    id,
                    truthy: v.is_true(),
                })
            }
            _ => v.clone(),
        }
    }

    /// The ids of the markers in `text`, and whether anything else is there.
    fn find(text: &str) -> (Vec<usize>, bool) {
        let mut ids = Vec::new();
        let mut rest = text;
        let mut other = false;
        while let Some(i) = rest.find("zq") {
            other |= i > 0;
            let after = &rest[i + 2..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && after[digits..].starts_with("qz") {
                if let Ok(id) = after[..digits].parse() {
                    ids.push(id);
                }
                rest = &after[digits + 2..];
            } else {
                other = true;
                rest = after;
            }
        }
        other |= !rest.is_empty();
        (ids, other)
    }

    /// `text` with each marker replaced by its real value.
    fn unmark(&self, text: &str) -> String {
        let (ids, _) = Marks::find(text);
        let mut out = text.to_owned();
        for id in ids {
            if let Some((_, _, real)) = self.at.get(id) {
                out = out.replacen(&format!("zq{id}qz"), real, 1);
            }
        }
        out
    }

    /// A rendered document with every marker replaced by its real value.
    fn unmark_all(&self, v: Json) -> Json {
        match v {
            Json::String(s) if s.contains("zq") => Json::String(self.unmark(&s)),
            Json::Object(map) => Json::Object(
                map.into_iter()
                    .map(|(k, v)| (k, self.unmark_all(v)))
                    .collect(),
            ),
            Json::Array(items) => {
                Json::Array(items.into_iter().map(|v| self.unmark_all(v)).collect())
            }
            other => other,
        }
    }

    /// A rendered document with the markers in its keys replaced by the real values, so
    /// that its paths are the real render's.
    fn unmark_keys(&self, v: Json) -> Json {
        match v {
            Json::Object(map) => Json::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let k = if k.contains("zq") { self.unmark(&k) } else { k };
                        (k, self.unmark_keys(v))
                    })
                    .collect(),
            ),
            Json::Array(items) => {
                Json::Array(items.into_iter().map(|v| self.unmark_keys(v)).collect())
            }
            other => other,
        }
    }
}

/// What `explain` needs of the model beyond the model itself: its JSON (to find where a
/// context value lives) and the values with an origin in a file or a tier (to name the
/// source of a value a family copied).
pub struct Index<'m> {
    model: &'m Model,
    json: Json,
    by_value: HashMap<String, Origin>,
}

impl<'m> Index<'m> {
    pub fn new(model: &'m Model) -> Index<'m> {
        let json = serde_json::to_value(model).unwrap_or(Json::Null);
        let mut by_value = HashMap::new();
        for (pointer, origin) in model.origins.iter() {
            if !matches!(
                origin,
                Origin::Spec { .. } | Origin::SystemFile { .. } | Origin::TierDefault { .. }
            ) {
                continue;
            }
            // Strings only: a number or a boolean equal to another says nothing.
            if let Some(text) = json.pointer(pointer).and_then(Json::as_str) {
                let text = text.to_owned();
                if text.len() >= 3 {
                    by_value.entry(text).or_insert_with(|| origin.clone());
                }
            }
        }
        Index {
            model,
            json,
            by_value,
        }
    }

    /// The origin of the model value at `pointer` (of `m`), refined for a value a family's
    /// model copied from one with a file or tier origin.
    fn origin(&self, pointer: &str, value: Option<&Json>) -> Origin {
        let found = self.model.origins.lookup(pointer).map(|(_, o)| o.clone());
        match found {
            Some(Origin::Derived { rule, from }) if from.is_empty() => {
                match value
                    .and_then(scalar_text)
                    .and_then(|t| self.by_value.get(&t))
                {
                    Some(source) => Origin::derived(rule, vec![source.clone()]),
                    None => Origin::derived(rule, from),
                }
            }
            Some(o) => o,
            None => Origin::Unknown {
                why: format!("the model records no origin for m{}", pretty(pointer)),
            },
        }
    }

    /// The recorded value (a string with a spec, system-file or tier origin) that `text`
    /// is, or else the longest one it contains (of five characters or more).
    fn source_of(&self, text: &str) -> Option<&Origin> {
        self.by_value
            .get(text)
            .filter(|_| text.len() >= 3)
            .or_else(|| {
                self.by_value
                    .iter()
                    .filter(|(v, _)| v.len() >= 5 && text.contains(v.as_str()))
                    .max_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| b.0.cmp(a.0)))
                    .map(|(_, o)| o)
            })
    }

    /// Where a context variable's value is in the model (`m` is the model itself).
    fn root_of(&self, var: &str, value: &Value) -> Option<String> {
        if var == "m" {
            return Some(String::new());
        }
        let json = serde_json::to_value(value).ok()?;
        if !(json.is_object() || json.is_array()) {
            return None;
        }
        if let Some(id) = json.get("id").and_then(Json::as_str) {
            if let Some(i) = self.model.tenants.iter().position(|t| t.id == id) {
                return Some(format!("/tenants/{i}"));
            }
        }
        find_subtree(&self.json, &json, &mut String::new())
    }
}

/// The pointer of the first subtree of `hay` equal to `needle`.
fn find_subtree(hay: &Json, needle: &Json, at: &mut String) -> Option<String> {
    if hay == needle {
        return Some(at.clone());
    }
    let len = at.len();
    let found = match hay {
        Json::Object(map) => map.iter().find_map(|(k, v)| {
            at.truncate(len);
            at.push('/');
            at.push_str(&escape(k));
            find_subtree(v, needle, at)
        }),
        Json::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            at.truncate(len);
            at.push_str(&format!("/{i}"));
            find_subtree(v, needle, at)
        }),
        _ => None,
    };
    at.truncate(len);
    found
}

fn scalar_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `/services/0/replicas` → `.services[0].replicas`.
fn pretty(pointer: &str) -> String {
    let p = FieldPath::from_pointer(pointer).quoted();
    if p.is_empty() || p.starts_with('[') {
        p
    } else {
        format!(".{p}")
    }
}

/// The family code that builds a file's JSON (or that hands a template a finished text).
fn code_of(path: &str) -> &'static str {
    match path.split('/').next() {
        Some("cloudflare") => "src/families/cloudflare/mod.rs",
        Some("grafana") => "src/families/grafana/mod.rs (dashboard_json)",
        _ => "src/families",
    }
}

/// Explains every object of one planned file.
// A failed render is one diagnostic, reported as is.
#[allow(clippy::result_large_err)]
pub fn explain_file(
    index: &Index,
    templates: &Templates,
    a: &Artifact,
) -> Result<Vec<Explained>, crate::diagnostic::Diagnostic> {
    let model = index.model;
    let text = templates.render(a.template, &a.values())?;
    let (patched, _) = patch::apply_file(&model.patches, &a.path, text.clone());
    let patched = patched.map_err(|mut d| d.remove(0))?;
    let parse = |t: &str| -> Vec<Json> {
        if a.path.ends_with(".json") {
            serde_json::from_str(t).map(|v| vec![v]).unwrap_or_default()
        } else {
            validate::parse_yaml_documents(t)
                .map(|docs| docs.into_iter().map(|d| d.value).collect())
                .unwrap_or_default()
        }
    };
    let real = parse(&patched);
    let unpatched = parse(&text);
    // The instrumented render (YAML files only: a JSON file's text is made in Rust).
    let mut marks = Marks { at: Vec::new() };
    let mut roots: HashMap<String, Root> = HashMap::new();
    let instrumented: Vec<Json> = if a.path.ends_with(".json") {
        Vec::new()
    } else {
        let mut ctx = indexmap::IndexMap::new();
        let values = a.values();
        if let Ok(keys) = values.try_iter() {
            for k in keys {
                let var = k.to_string();
                let v = values.get_item(&k).unwrap_or_default();
                let root = match index.root_of(&var, &v) {
                    Some(pointer) => Root::Model(pointer),
                    None if v.kind() == ValueKind::String => Root::Text,
                    None => Root::Missing,
                };
                roots.insert(var.clone(), root);
                ctx.insert(k, marks.mark(&v, &var, &mut String::new()));
            }
        }
        match templates.render(a.template, &Value::from_object(ctx)) {
            Ok(t) => parse(&t)
                .into_iter()
                .map(|d| marks.unmark_keys(d))
                .collect(),
            Err(_) => Vec::new(),
        }
    };
    let source = templates.source(a.template);
    let mut out = Vec::new();
    for (n, doc) in real.into_iter().enumerate() {
        let object = if a.path.ends_with(".json") {
            ObjectRef {
                kind: "File".into(),
                namespace: None,
                name: a.path.clone(),
            }
        } else {
            validate::Document { value: doc.clone() }.object_ref()
        };
        let before = unpatched.get(n);
        // The instrumented document of the same object (a branch taken differently could
        // add or drop a document).
        let same = |d: &&Json| {
            validate::Document {
                value: marks.unmark_all((*d).clone()),
            }
            .object_ref()
                == object
        };
        let marked = instrumented
            .get(n)
            .filter(same)
            .or_else(|| instrumented.iter().find(same));
        let patches: Vec<&Patch> = match before {
            Some(b) => model
                .patches
                .iter()
                .filter(|p| p.target.matches(&validate::Document { value: b.clone() }))
                .collect(),
            None => Vec::new(),
        };
        let mut leaves = Vec::new();
        walk(
            &doc,
            &mut FieldPath::root(),
            &mut String::new(),
            &mut |path, pointer, value| {
                let mut model_at = None;
                let origin = if before.and_then(|b| b.pointer(pointer)) != Some(value) {
                    patch_origin(&patches, pointer)
                } else if a.path.ends_with(".json") {
                    json_origin(index, &a.path, value)
                } else if marked.is_none() {
                    fallback(index, value)
                } else {
                    match marked.and_then(|m| m.pointer(pointer)) {
                        Some(Json::String(s)) if !Marks::find(s).0.is_empty() => {
                            let (ids, other) = Marks::find(s);
                            let mut from = Vec::new();
                            for id in &ids {
                                let (var, inner, _) = &marks.at[*id];
                                let (o, at) = context_origin(
                                    index,
                                    &roots,
                                    &a.path,
                                    var,
                                    inner,
                                    value,
                                    ids.len() == 1 && !other,
                                );
                                if model_at.is_none() {
                                    model_at = at;
                                }
                                from.push(o);
                            }
                            let real = marks.at.get(ids[0]).map(|(_, _, real)| real);
                            if ids.len() == 1 && !other && real != scalar_text(value).as_ref() {
                                // Not the value shown here: the instrumented render took
                                // another branch.
                                model_at = None;
                                fallback(index, value)
                            } else if ids.len() == 1 && !other {
                                from.remove(0)
                            } else {
                                let line = source
                                    .as_deref()
                                    .and_then(|s| literal_line(s, &object, path, None));
                                let at = match line {
                                    Some(l) => format!("templates/{}:{l}", a.template),
                                    None => format!("templates/{}", a.template),
                                };
                                model_at = None;
                                Origin::derived(
                                    format!("the template joins values and text ({at})"),
                                    from,
                                )
                            }
                        }
                        Some(m) if m == value || scalar_text(m) == scalar_text(value) => {
                            Origin::TemplateLiteral {
                                template: a.template.to_owned(),
                                line: source
                                    .as_deref()
                                    .and_then(|s| literal_line(s, &object, path, Some(value))),
                            }
                        }
                        _ => fallback(index, value),
                    }
                };
                leaves.push(Leaf {
                    path: path.clone(),
                    value: value.clone(),
                    origin,
                    model: model_at,
                });
            },
        );
        out.push(Explained {
            object,
            file: a.path.clone(),
            value: doc,
            leaves,
        });
    }
    Ok(out)
}

/// Where a context variable of a file is.
enum Root {
    /// In the model, at this pointer (`m`: the model itself).
    Model(String),
    /// A text a family made (`document`, `json`).
    Text,
    /// Nowhere the model says.
    Missing,
}

/// The origin of a context value: the model's, found by the variable's place in the model;
/// a text the family made (`document`, `json`), the family code's.
#[allow(clippy::too_many_arguments)]
fn context_origin(
    index: &Index,
    roots: &HashMap<String, Root>,
    path: &str,
    var: &str,
    inner: &str,
    value: &Json,
    whole: bool,
) -> (Origin, Option<String>) {
    match roots.get(var) {
        Some(Root::Model(root)) => {
            let pointer = format!("{root}{inner}");
            let o = index.origin(&pointer, whole.then_some(value));
            (o, Some(format!("m{}", pretty(&pointer))))
        }
        Some(Root::Text) => (
            Origin::Code {
                file: code_of(path),
            },
            None,
        ),
        _ => (
            Origin::Unknown {
                why: format!("the template's `{var}` is nowhere in the model"),
            },
            None,
        ),
    }
}

/// A leaf of a JSON document a family built: derived from the recorded model values it
/// equals or contains (the longest), else the code's.
fn json_origin(index: &Index, path: &str, value: &Json) -> Origin {
    let code = Origin::Code {
        file: code_of(path),
    };
    match value.as_str().and_then(|t| index.source_of(t)) {
        Some(o) => Origin::derived(
            format!("the family's document ({})", code_of(path)),
            vec![o.clone()],
        ),
        None => code,
    }
}

/// A leaf the instrumented render does not show: the model value equal to it, if any.
fn fallback(index: &Index, value: &Json) -> Origin {
    match value.as_str().and_then(|t| index.by_value.get(t)) {
        Some(o) => o.clone(),
        None => Origin::Unknown {
            why: "the instrumented render took another branch here and no model value with a recorded origin equals it".into(),
        },
    }
}

/// The patch that set the leaf at `pointer`: the last patch of the object whose operation
/// or merge document reaches it.
fn patch_origin(patches: &[&Patch], pointer: &str) -> Origin {
    let reaches = |p: &str| pointer == p || pointer.starts_with(&format!("{p}/"));
    for p in patches.iter().rev() {
        let field = match &p.change {
            Change::Json(ops) => ops.iter().enumerate().rev().find_map(|(j, op)| {
                let path = match op {
                    Operation::Add { path, .. }
                    | Operation::Replace { path, .. }
                    | Operation::Move { path, .. }
                    | Operation::Copy { path, .. } => path,
                    _ => return None,
                };
                reaches(path).then(|| format!("/jsonPatch/{j}"))
            }),
            Change::Merge(m) => merge_reaches(m, pointer).then(|| "/mergePatch".to_owned()),
        };
        if let Some(field) = field {
            let d = p.origin.diagnostic(&field, "");
            return Origin::Patch {
                file: p.origin.file.clone(),
                position: d.position,
                pointer: format!("{}{field}", p.origin.pointer),
                how: if matches!(p.change, Change::Json(_)) {
                    "jsonPatch"
                } else {
                    "mergePatch"
                },
            };
        }
    }
    match patches.last() {
        Some(p) => Origin::Patch {
            file: p.origin.file.clone(),
            position: p.origin.position,
            pointer: p.origin.pointer.clone(),
            how: "a list or object it rewrote",
        },
        None => Origin::Unknown {
            why: "the patched file differs here but no patch targets the object".into(),
        },
    }
}

/// Whether a merge patch writes the value at `pointer` (or a scalar or list above it).
fn merge_reaches(m: &Json, pointer: &str) -> bool {
    let mut v = m;
    for seg in pointer.split('/').skip(1) {
        let key = seg.replace("~1", "/").replace("~0", "~");
        match v {
            Json::Object(map) => match map.get(&key) {
                Some(next) => v = next,
                None => return false,
            },
            _ => return true,
        }
    }
    true
}

/// Calls `f` with every leaf (scalars, empty mappings and lists) of `v`.
fn walk(
    v: &Json,
    path: &mut FieldPath,
    pointer: &mut String,
    f: &mut impl FnMut(&FieldPath, &str, &Json),
) {
    match v {
        Json::Object(map) if !map.is_empty() => {
            for (k, item) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(k));
                path.segments.push(Segment::Key(k.clone()));
                walk(item, path, pointer, f);
                path.segments.pop();
                pointer.truncate(len);
            }
        }
        Json::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push_str(&format!("/{i}"));
                path.segments.push(Segment::Index(i));
                walk(item, path, pointer, f);
                path.segments.pop();
                pointer.truncate(len);
            }
        }
        _ => f(path, pointer, v),
    }
}

/// The line of the template that writes the leaf at `path`: the first line that writes
/// its key with that value, else the first that writes its key (for a list item, the
/// key of its list).
fn literal_line(
    source: &str,
    object: &ObjectRef,
    path: &FieldPath,
    value: Option<&Json>,
) -> Option<u64> {
    // The document of the template that writes this kind (and names this object, when
    // it is named literally): between the `---` lines around its `kind:` line.
    let lines: Vec<&str> = source.lines().collect();
    let mut sections = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        if l.trim_end() == "---" {
            sections.push((start, i));
            start = i + 1;
        }
    }
    sections.push((start, lines.len()));
    let kind_line = format!("kind: {}", object.kind);
    let writes_kind =
        |&&(a, b): &&(usize, usize)| lines[a..b].iter().any(|l| l.trim_end() == kind_line);
    let names =
        |&&(a, b): &&(usize, usize)| lines[a..b].iter().any(|l| l.contains(object.name.as_str()));
    let section = sections
        .iter()
        .filter(writes_kind)
        .find(names)
        .or_else(|| sections.iter().find(writes_kind));
    if let Some(&(a, b)) = section.filter(|_| sections.len() > 1) {
        if let Some(found) = literal_line_in(&lines[a..b], path, value) {
            return Some(found + a as u64);
        }
    }
    literal_line_in(&lines, path, value)
}

fn literal_line_in(lines: &[&str], path: &FieldPath, value: Option<&Json>) -> Option<u64> {
    let key = path.segments.iter().rev().find_map(|s| match s {
        Segment::Key(k) => Some(k.as_str()),
        Segment::Index(_) => None,
    })?;
    let last_is_index = matches!(path.segments.last(), Some(Segment::Index(_)));
    let text = value.and_then(scalar_text);
    let writes_key = |line: &str| {
        let t = line.trim_start().trim_start_matches("- ");
        t.starts_with(&format!("{key}:"))
            || t.starts_with(&format!("\"{key}\":"))
            || t.starts_with(&format!("{{{key}:"))
    };
    if let Some(text) = &text {
        // A literal argument of a template function (`metadata("tenant-quota", …)`).
        let quoted = format!("\"{text}\"");
        let argument = || {
            lines
                .iter()
                .position(|l| l.contains("(") && l.contains(quoted.as_str()))
        };
        if !last_is_index {
            if let Some(i) = lines
                .iter()
                .position(|l| writes_key(l) && l.contains(text.as_str()))
            {
                return Some(i as u64 + 1);
            }
            if let Some(i) = argument() {
                return Some(i as u64 + 1);
            }
        } else if let Some(k) = lines.iter().position(|l| writes_key(l)) {
            // A list item: its own line after the key, else the key's.
            let item = lines[k..]
                .iter()
                .position(|l| l.trim_start().starts_with("- ") && l.contains(text.as_str()))
                .map(|j| k + j);
            return Some(item.unwrap_or(k) as u64 + 1);
        }
    }
    lines
        .iter()
        .position(|l| writes_key(l))
        .map(|i| i as u64 + 1)
}

/// The object asked for: `Kind/namespace/name`, `Kind/name` (any namespace), or the path
/// of a rendered file (every document of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Object {
        kind: String,
        namespace: Option<String>,
        name: String,
    },
    File(String),
}

impl Query {
    pub fn parse(text: &str, artifacts: &[Artifact]) -> Option<Query> {
        if artifacts.iter().any(|a| a.path == text) {
            return Some(Query::File(text.to_owned()));
        }
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [kind, name] if !kind.is_empty() && !name.is_empty() => Some(Query::Object {
                kind: (*kind).to_owned(),
                namespace: None,
                name: (*name).to_owned(),
            }),
            [kind, ns, name] if !kind.is_empty() && !ns.is_empty() && !name.is_empty() => {
                Some(Query::Object {
                    kind: (*kind).to_owned(),
                    namespace: Some((*ns).to_owned()),
                    name: (*name).to_owned(),
                })
            }
            _ => None,
        }
    }

    fn matches(&self, file: &str, o: &ObjectRef) -> bool {
        match self {
            Query::File(path) => path == file,
            Query::Object {
                kind,
                namespace,
                name,
            } => {
                o.kind.eq_ignore_ascii_case(kind)
                    && o.name == *name
                    && namespace
                        .as_deref()
                        .is_none_or(|ns| o.namespace.as_deref() == Some(ns))
            }
        }
    }

    /// Whether a tenant's file may hold it: a tenant file is rendered only when the query
    /// names its tenant (10,000 tenants are not rendered to explain one object).
    fn may_be_in(&self, a: &Artifact) -> bool {
        let Some(id) = tenant_of(&a.path) else {
            return true;
        };
        match self {
            Query::File(path) => *path == a.path,
            Query::Object {
                namespace, name, ..
            } => [namespace.as_deref(), Some(name.as_str())]
                .into_iter()
                .flatten()
                .any(|s| s == id || s.ends_with(&format!("-{id}"))),
        }
    }
}

/// The tenant id of a tenant's file (`kubernetes/tenants/shard-01/t00001.yaml`).
fn tenant_of(path: &str) -> Option<&str> {
    path.strip_prefix("kubernetes/tenants/")?
        .rsplit('/')
        .next()?
        .strip_suffix(".yaml")
}

/// What a search for an object found.
pub enum Found {
    /// The objects it names, explained (several for a file, or for `Kind/name` in several
    /// namespaces).
    Objects(Vec<Explained>),
    /// None: the objects of the files searched, for a did-you-mean.
    Missing { seen: Vec<(String, ObjectRef)> },
}

/// Finds and explains the objects `query` names among the planned files `artifacts`. Only
/// the files that may hold them are rendered: every platform file (cheap), and a tenant's
/// file only when the query names its tenant. Only the files that hold them are rendered
/// instrumented.
#[allow(clippy::result_large_err)]
pub fn find(
    index: &Index,
    templates: &Templates,
    artifacts: &[Artifact],
    query: &Query,
) -> Result<Found, crate::diagnostic::Diagnostic> {
    let mut seen = Vec::new();
    let mut found = Vec::new();
    for a in artifacts.iter().filter(|a| query.may_be_in(a)) {
        let refs = objects_of(index.model, templates, a)?;
        let hit = refs.iter().any(|o| query.matches(&a.path, o));
        seen.extend(refs.into_iter().map(|o| (a.path.clone(), o)));
        if hit {
            found.extend(
                explain_file(index, templates, a)?
                    .into_iter()
                    .filter(|e| query.matches(&a.path, &e.object)),
            );
        }
    }
    if found.is_empty() {
        return Ok(Found::Missing { seen });
    }
    Ok(Found::Objects(found))
}

/// The objects of one planned file, as rendered and patched.
#[allow(clippy::result_large_err)]
pub fn objects_of(
    model: &Model,
    templates: &Templates,
    a: &Artifact,
) -> Result<Vec<ObjectRef>, crate::diagnostic::Diagnostic> {
    if a.path.ends_with(".json") {
        return Ok(vec![ObjectRef {
            kind: "File".into(),
            namespace: None,
            name: a.path.clone(),
        }]);
    }
    let text = templates.render(a.template, &a.values())?;
    let (patched, _) = patch::apply_file(&model.patches, &a.path, text);
    let patched = patched.map_err(|mut d| d.remove(0))?;
    Ok(validate::parse_yaml_documents(&patched)
        .map(|docs| docs.iter().map(validate::Document::object_ref).collect())
        .unwrap_or_default())
}

/// Every object of every planned file, explained (the test that every leaf of the shipped
/// trees has an origin walks these).
#[allow(clippy::result_large_err)]
pub fn explain_all(
    index: &Index,
    templates: &Templates,
    artifacts: &[Artifact],
) -> Result<Vec<Explained>, crate::diagnostic::Diagnostic> {
    use rayon::prelude::*;
    let files: Vec<Vec<Explained>> = artifacts
        .par_iter()
        .map(|a| explain_file(index, templates, a))
        .collect::<Result<_, _>>()?;
    Ok(files.into_iter().flatten().collect())
}

/// One field that differs between two explained objects, with each side's leaf.
pub struct Difference<'a> {
    pub path: FieldPath,
    pub old: Option<&'a Leaf>,
    pub new: Option<&'a Leaf>,
}

/// The fields of two versions of an object whose values differ (`diff --explain`), in
/// the order of the new side, then those only in the old.
pub fn differences<'a>(old: &'a Explained, new: &'a Explained) -> Vec<Difference<'a>> {
    let by_path: HashMap<&FieldPath, &Leaf> = old.leaves.iter().map(|l| (&l.path, l)).collect();
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for l in &new.leaves {
        seen.insert(&l.path);
        let o = by_path.get(&l.path).copied();
        if o.is_none_or(|o| o.value != l.value) {
            out.push(Difference {
                path: l.path.clone(),
                old: o,
                new: Some(l),
            });
        }
    }
    for l in &old.leaves {
        if !seen.contains(&l.path) {
            out.push(Difference {
                path: l.path.clone(),
                old: Some(l),
                new: None,
            });
        }
    }
    out
}

/// Explains the object of a planned file (by kind, namespace and name, or the file's
/// only document) of one side of a diff.
#[allow(clippy::result_large_err)]
pub fn explain_in(
    index: &Index,
    templates: &Templates,
    artifacts: &[Artifact],
    file: &str,
    query: &Query,
) -> Result<Option<Explained>, crate::diagnostic::Diagnostic> {
    let Some(a) = artifacts.iter().find(|a| a.path == file) else {
        return Ok(None);
    };
    Ok(explain_file(index, templates, a)?
        .into_iter()
        .find(|e| query.matches(file, &e.object)))
}

/// A field path as `explain` and `diff` show it (`FieldPath::quoted`): dotted keys, `[n]`
/// indexes and `["key"]` for a key that is not a plain word
/// (`metadata.labels["app.kubernetes.io/name"]`).
pub fn parse_path(text: &str) -> FieldPath {
    let mut path = FieldPath::root();
    let mut key = String::new();
    let mut chars = text.chars().peekable();
    let flush = |key: &mut String, path: &mut FieldPath| {
        if !key.is_empty() {
            path.segments.push(Segment::Key(std::mem::take(key)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '.' => flush(&mut key, &mut path),
            '[' => {
                flush(&mut key, &mut path);
                if chars.peek() == Some(&'"') {
                    chars.next();
                    let mut k = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => k.extend(chars.next()),
                            '"' => break,
                            c => k.push(c),
                        }
                    }
                    if chars.peek() == Some(&']') {
                        chars.next();
                    }
                    path.segments.push(Segment::Key(k));
                } else {
                    let mut n = String::new();
                    for c in chars.by_ref() {
                        if c == ']' {
                            break;
                        }
                        n.push(c);
                    }
                    path.segments.push(match n.parse() {
                        Ok(i) => Segment::Index(i),
                        Err(_) => Segment::Key(n),
                    });
                }
            }
            c => key.push(c),
        }
    }
    flush(&mut key, &mut path);
    path
}

/// The candidate nearest `word` (Jaro-Winkler, as `did_you_mean`), if close enough.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if word.len() > 64 {
        return None;
    }
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// The leaves of `e` at or below `path`.
pub fn select<'e>(e: &'e Explained, path: &FieldPath) -> Vec<&'e Leaf> {
    e.leaves
        .iter()
        .filter(|l| l.path.segments.starts_with(&path.segments))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_read_back_as_it_is_shown() {
        for text in [
            "spec.template.spec.containers[0].resources.limits.cpu",
            "metadata.labels[\"app.kubernetes.io/name\"]",
            "data[\"portal-overview.json\"]",
            "spec.policyTypes[1]",
        ] {
            assert_eq!(parse_path(text).quoted(), text);
        }
    }

    #[test]
    fn markers_are_found_in_text() {
        assert_eq!(Marks::find("zq12qz"), (vec![12], false));
        assert_eq!(Marks::find("zq1qz-zq2qz"), (vec![1, 2], true));
        assert_eq!(Marks::find("plain"), (vec![], true));
        assert_eq!(Marks::find("zqx"), (vec![], true));
    }

    fn deployment() -> ObjectRef {
        ObjectRef {
            kind: "Deployment".into(),
            namespace: None,
            name: "web".into(),
        }
    }

    #[test]
    fn a_literal_is_found_at_the_line_that_writes_its_key() {
        let src =
            "kind: Deployment\nspec:\n  strategy:\n    type: RollingUpdate\n  ports:\n    - 80\n";
        let path = FieldPath::parse("spec.strategy.type");
        assert_eq!(
            literal_line(
                src,
                &deployment(),
                &path,
                Some(&Json::from("RollingUpdate"))
            ),
            Some(4)
        );
        assert_eq!(
            literal_line(
                src,
                &deployment(),
                &FieldPath::parse("spec.ports[0]"),
                Some(&Json::from(80))
            ),
            Some(6)
        );
    }

    #[test]
    fn a_literal_is_looked_for_in_the_document_of_its_object_first() {
        let src = "kind: Service\nmetadata:\n  name: a\nspec:\n  type: ClusterIP\n---\nkind: Deployment\nmetadata:{{ metadata(\"web\") }}\nspec:\n  type: x\n";
        let path = FieldPath::parse("spec.type");
        assert_eq!(literal_line(src, &deployment(), &path, None), Some(10));
        let name = FieldPath::parse("metadata.name");
        assert_eq!(
            literal_line(src, &deployment(), &name, Some(&Json::from("web"))),
            Some(8)
        );
    }

    #[test]
    fn a_merge_patch_reaches_the_leaves_it_writes() {
        let m = serde_json::json!({"spec": {"replicas": 3, "template": {"x": [1]}}});
        assert!(merge_reaches(&m, "/spec/replicas"));
        assert!(merge_reaches(&m, "/spec/template/x/0"));
        assert!(!merge_reaches(&m, "/spec/selector"));
    }
}
