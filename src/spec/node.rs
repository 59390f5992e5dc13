//! A YAML document as a tree of nodes that remember where they came from.
//!
//! serde-saphyr parses the text (with limits against hostile input); every node is wrapped
//! in [`serde_saphyr::Spanned`] so that a schema error on any value, or an unknown key, can
//! be reported at its line and column. The tree converts to a [`serde_json::Value`] for
//! schema validation and typed deserialization, and a [`SpanIndex`] maps each JSON pointer
//! of that value back to its position.

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::Spanned;

use crate::diagnostic::{FieldPath, Position};

/// One YAML node with its position.
#[derive(Debug, Clone)]
pub struct Node {
    pub kind: NodeKind,
    pub position: Position,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys keep their own position (an unknown key is reported where the key is written).
    Map(Vec<(String, Position, Node)>),
}

fn position(loc: &serde_saphyr::Location) -> Position {
    Position {
        line: loc.line(),
        column: loc.column(),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeKind>::deserialize(deserializer)?;
        Ok(Node {
            kind: spanned.value,
            position: position(&spanned.referenced),
        })
    }
}

impl<'de> Deserialize<'de> for NodeKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KindVisitor)
    }
}

struct KindVisitor;

impl<'de> Visitor<'de> for KindVisitor {
    type Value = NodeKind;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<NodeKind, E> {
        Ok(NodeKind::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeKind, D::Error> {
        NodeKind::deserialize(d)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<NodeKind, E> {
        Ok(NodeKind::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeKind, E> {
        Ok(NodeKind::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeKind, E> {
        match i64::try_from(v) {
            Ok(i) => Ok(NodeKind::Int(i)),
            Err(_) => Ok(NodeKind::Float(v as f64)),
        }
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<NodeKind, E> {
        match i64::try_from(v) {
            Ok(i) => Ok(NodeKind::Int(i)),
            Err(_) => Ok(NodeKind::Float(v as f64)),
        }
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<NodeKind, E> {
        match i64::try_from(v) {
            Ok(i) => Ok(NodeKind::Int(i)),
            Err(_) => Ok(NodeKind::Float(v as f64)),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeKind, E> {
        Ok(NodeKind::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<NodeKind, E> {
        Ok(NodeKind::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeKind, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(NodeKind::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeKind, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key.value.0, position(&key.referenced), value));
        }
        Ok(NodeKind::Map(entries))
    }
}

/// A mapping key as text: scalar keys of any type are kept as they are written
/// (`1: x` has the key "1"), so that the schema reports them as unknown keys.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar mapping key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyText, E> {
                Ok(KeyText(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyText, E> {
                Ok(KeyText(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyText, E> {
                Ok(KeyText("null".to_owned()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

/// Positions of every value and key of a document, by JSON pointer (`/spec/tenants/count`).
#[derive(Debug, Default)]
pub struct SpanIndex {
    values: HashMap<String, Position>,
    keys: HashMap<String, Position>,
}

impl SpanIndex {
    /// The position of the value at `pointer`, or of its nearest ancestor that exists.
    pub fn value(&self, pointer: &str) -> Option<Position> {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.values.get(p) {
                return Some(*pos);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }

    /// The position of the key that holds the value at `pointer`, falling back to the value.
    pub fn key(&self, pointer: &str) -> Option<Position> {
        self.keys
            .get(pointer)
            .copied()
            .or_else(|| self.value(pointer))
    }
}

impl Node {
    /// The JSON value of this node, and the index of positions by JSON pointer.
    pub fn into_json(self) -> (Value, SpanIndex) {
        let mut index = SpanIndex::default();
        let mut pointer = String::new();
        let value = convert(self, &mut pointer, &mut index);
        (value, index)
    }
}

fn convert(node: Node, pointer: &mut String, index: &mut SpanIndex) -> Value {
    index.values.insert(pointer.clone(), node.position);
    match node.kind {
        NodeKind::Null => Value::Null,
        NodeKind::Bool(b) => Value::Bool(b),
        NodeKind::Int(i) => Value::Number(i.into()),
        NodeKind::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
        NodeKind::Str(s) => Value::String(s),
        NodeKind::Seq(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| with_segment(pointer, &i.to_string(), |p| convert(item, p, index)))
                .collect(),
        ),
        NodeKind::Map(entries) => {
            let mut map = Map::new();
            for (key, key_pos, value) in entries {
                let v = with_segment(pointer, &escape(&key), |p| {
                    index.keys.insert(p.clone(), key_pos);
                    convert(value, p, index)
                });
                map.insert(key, v);
            }
            Value::Object(map)
        }
    }
}

fn with_segment<T>(pointer: &mut String, segment: &str, f: impl FnOnce(&mut String) -> T) -> T {
    let len = pointer.len();
    pointer.push('/');
    pointer.push_str(segment);
    let out = f(pointer);
    pointer.truncate(len);
    out
}

/// JSON pointer escaping (RFC 6901).
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// `/spec/tenants/list/3/id` as the field path users read: `spec.tenants.list[3].id`.
/// Built from the pointer's segments, so that a key that holds a `.` (or is one) stays one
/// key; the empty pointer is the whole document.
pub fn field_path(pointer: &str) -> FieldPath {
    if pointer.is_empty() {
        FieldPath::parse("(document)")
    } else {
        FieldPath::from_pointer(pointer)
    }
}

impl SpanIndex {
    /// Whether the document has a value at `pointer`.
    pub fn has(&self, pointer: &str) -> bool {
        self.values.contains_key(pointer)
    }
}

/// The field path of the key written on line `line` of a YAML text (or of the mapping the
/// line is inside), found from indentation alone: used to name the field of a syntax error,
/// where there is no parsed tree to ask. The root (`(document)`) when the line is outside
/// any key. Keys are taken as written: a key such as `.` or `a.b` stays one step.
pub fn field_at_line(text: &str, line: u64) -> FieldPath {
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if i as u64 >= line {
            break;
        }
        let indent = raw.len() - raw.trim_start_matches([' ', '\t']).len();
        let mut content = raw[indent..].trim_end();
        let mut indent = indent;
        if content.is_empty() || content.starts_with('#') || content.starts_with("---") {
            continue;
        }
        // `- key: value` opens a mapping two columns further in.
        while let Some(rest) = content.strip_prefix("- ") {
            indent += 2;
            content = rest.trim_start();
        }
        let key = match content.find(':') {
            Some(k) if content[k + 1..].is_empty() || content[k + 1..].starts_with([' ', '\t']) => {
                content[..k].trim().trim_matches(['"', '\''])
            }
            _ => continue,
        };
        if key.is_empty() || key.contains([' ', '{', '[', ',']) {
            continue;
        }
        while stack.last().is_some_and(|(d, _)| *d >= indent) {
            stack.pop();
        }
        stack.push((indent, key.to_owned()));
    }
    stack
        .into_iter()
        .fold(FieldPath::root(), |path, (_, key)| path.key(key))
}
