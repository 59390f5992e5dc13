//! Where inside a document: the one field-path type of every stage (spec, checks, diff).

use std::fmt;

use super::text::{capped, escape_controls};

/// One step of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// A mapping key. A key may also name a place that has no JSON key of its own, in words
    /// (`group 'portal.slo', alert 'PortalHighErrorRate'`): such a key holds a space.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Where inside a document: `spec.template.spec.containers[0].image`. The empty path is the
/// whole document (shown as `(document)`).
///
/// One type for every stage: spec errors, checks of rendered objects, and the diff's
/// changed fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldPath {
    pub segments: Vec<Segment>,
}

impl FieldPath {
    /// The whole document.
    pub fn root() -> FieldPath {
        FieldPath::default()
    }

    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// This path with `key` appended.
    pub fn key(mut self, key: impl Into<String>) -> FieldPath {
        self.segments.push(Segment::Key(key.into()));
        self
    }

    /// This path with `index` appended.
    pub fn index(mut self, index: usize) -> FieldPath {
        self.segments.push(Segment::Index(index));
        self
    }

    /// This path followed by `rest`.
    pub fn join(mut self, rest: &FieldPath) -> FieldPath {
        self.segments.extend(rest.segments.iter().cloned());
        self
    }

    /// The path of a JSON Pointer (`/spec/tenants/list/3/id`): all-digit segments are
    /// list indexes.
    pub fn from_pointer(pointer: &str) -> FieldPath {
        let mut path = FieldPath::root();
        for seg in pointer.split('/').skip(1) {
            let seg = seg.replace("~1", "/").replace("~0", "~");
            path = match seg.parse::<usize>() {
                Ok(i) if seg.bytes().all(|b| b.is_ascii_digit()) => path.index(i),
                _ => path.key(seg),
            };
        }
        path
    }

    /// A path written as people read it (`a.b[0].c`). Text with a space or a quote is a
    /// place described in words and becomes one key.
    pub fn parse(text: &str) -> FieldPath {
        if text.contains([' ', '\'', '"']) {
            return FieldPath::root().key(text);
        }
        let mut path = FieldPath::root();
        for part in text.split('.').filter(|p| !p.is_empty()) {
            let (key, mut rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
            let mut steps = FieldPath::root();
            if !key.is_empty() {
                steps = steps.key(key);
            }
            while let Some((n, after)) = rest.split_once(']') {
                steps = match n.parse() {
                    Ok(i) => steps.index(i),
                    Err(_) => steps.key(format!("[{n}]")),
                };
                rest = after.strip_prefix('[').unwrap_or(after);
            }
            // A `[` that opens no index is part of a key (`x[8my`): keep the part whole
            // rather than lose what follows it.
            path = if rest.is_empty() {
                path.join(&steps)
            } else {
                path.key(part)
            };
        }
        path
    }

    /// The path with keys that are not plain words quoted (`metadata.labels["app.kubernetes.io/name"]`),
    /// so that it can be read back: the form the diff shows.
    pub fn quoted(&self) -> String {
        quoted(&self.segments)
    }
}

/// [`FieldPath::quoted`] of a borrowed run of segments (the diff keeps them in slices).
pub fn quoted(segments: &[Segment]) -> String {
    let mut out = String::new();
    for seg in segments {
        match seg {
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Key(k)
                if !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&capped(k));
            }
            // A key is input: quoted as JSON, at most MAX_QUOTE characters, bidi controls
            // (which JSON leaves alone) escaped too.
            Segment::Key(k) => {
                let json = serde_json::Value::from(capped(k).as_ref()).to_string();
                out.push_str(&format!("[{}]", escape_controls(&json)));
            }
        }
    }
    out
}

impl fmt::Display for FieldPath {
    /// Keys joined by `.`, indexes as `[i]`; a key in words after another step follows a
    /// `: ` (`data.portal.json: panel 'Request rate', target A`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str("(document)");
        }
        // Keys are input: each is cut to MAX_QUOTE characters and its controls escaped.
        for (i, seg) in self.segments.iter().enumerate() {
            let shown = |k: &str| escape_controls(&capped(k)).into_owned();
            match seg {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k) if i == 0 => f.write_str(&shown(k))?,
                Segment::Key(k) if k.contains(' ') => write!(f, ": {}", shown(k))?,
                Segment::Key(k) => write!(f, ".{}", shown(k))?,
            }
        }
        Ok(())
    }
}

impl From<&str> for FieldPath {
    fn from(text: &str) -> FieldPath {
        FieldPath::parse(text)
    }
}

impl From<String> for FieldPath {
    fn from(text: String) -> FieldPath {
        FieldPath::parse(&text)
    }
}

impl From<&String> for FieldPath {
    fn from(text: &String) -> FieldPath {
        FieldPath::parse(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_read_back_and_show_as_written() {
        for text in [
            "spec.template.spec.containers[0].image",
            "spec.tenants.list[3].id",
            "metadata.labels.app.kubernetes.io/managed-by",
            "group 'portal.slo', alert 'PortalHighErrorRate'",
            "line 3",
        ] {
            assert_eq!(FieldPath::parse(text).to_string(), text);
        }
        let p = FieldPath::from_pointer("/spec/containers/0/env/1/name");
        assert_eq!(p.to_string(), "spec.containers[0].env[1].name");
        assert_eq!(p, FieldPath::parse("spec.containers[0].env[1].name"));
        assert_eq!(FieldPath::root().to_string(), "(document)");
        let nested = FieldPath::root()
            .key("data")
            .key("portal.json")
            .join(&FieldPath::parse("panel 'Request rate', target A"));
        assert_eq!(
            nested.to_string(),
            "data.portal.json: panel 'Request rate', target A"
        );
        assert_eq!(
            FieldPath::root()
                .key("metadata")
                .key("labels")
                .key("app.kubernetes.io/name")
                .quoted(),
            "metadata.labels[\"app.kubernetes.io/name\"]"
        );
    }
}
