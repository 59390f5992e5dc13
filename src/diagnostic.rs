//! Diagnostics: what went wrong, where in which file, and what to do about it.
//!
//! Every stage reports problems as [`Diagnostic`]s so that the CLI can print them in one
//! place, in one format: `file:line:col: error: message`, then where (the object and the
//! field path) and a hint. The parts are kept apart ([`ObjectRef`], [`FieldPath`], the
//! rule id) so that `validate --format json` can hand them on without parsing text.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// A position in a source file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

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

/// A rendered object: `Deployment/portal-system/portal-app`, or `ClusterRole/portal-tenant-admin`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// `Kind namespace/name` (or `Kind name`): how messages name the object.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{ns}/{}", self.kind, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// How bad a finding is. Everything is an error today; a warning is reported and does not
/// fail a command.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Error,
    Warning,
}

/// One problem found in the input or in the rendered output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in (a spec, a template, or a rendered file).
    pub file: PathBuf,
    /// Where in `file`, when known.
    pub position: Option<Position>,
    /// The rendered object the problem is about.
    pub object: Option<ObjectRef>,
    /// The field, in the spec or inside [`Diagnostic::object`].
    pub path: Option<FieldPath>,
    /// The id of the rule that found it, e.g. `PG-W001` (also at the start of `message`).
    pub rule: Option<&'static str>,
    pub severity: Severity,
    pub message: String,
    /// A suggestion, e.g. `did you mean 'replicas'?`.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            position: None,
            object: None,
            path: None,
            rule: None,
            severity: Severity::Error,
            message: bounded(message.into()),
            hint: None,
        }
    }

    pub fn at(mut self, position: Option<Position>) -> Self {
        self.position = position;
        self
    }

    /// The field the problem is at; an empty path sets none (see [`Diagnostic::whole_document`]).
    pub fn with_path(mut self, path: impl Into<FieldPath>) -> Self {
        let path = path.into();
        self.path = (!path.is_root()).then_some(path);
        self
    }

    /// The field the problem is at, or the whole document when `path` is the root: for
    /// paths found rather than built (a syntax error's line), which must never go missing.
    pub fn at_field(mut self, path: FieldPath) -> Self {
        self.path = Some(path);
        self
    }

    /// The problem is about the whole document, not one field of it.
    pub fn whole_document(mut self) -> Self {
        self.path = Some(FieldPath::root());
        self
    }

    pub fn object(mut self, object: ObjectRef) -> Self {
        self.object = Some(object);
        self
    }

    pub fn rule(mut self, id: &'static str) -> Self {
        self.rule = Some(id);
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint.map(bounded);
        self
    }

    /// Where, as one line: `Kind ns/name: field`, `Kind ns/name`, or `field`.
    pub fn location(&self) -> Option<String> {
        match (&self.object, &self.path) {
            (Some(o), Some(p)) => Some(format!("{}: {p}", o.describe())),
            (Some(o), None) => Some(o.describe()),
            (None, Some(p)) => Some(p.to_string()),
            (None, None) => None,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        // Escaped here as well as where input is quoted: a terminal must never receive a
        // control sequence from a hostile file, whatever path a message took.
        write!(f, ": {}", escape_controls(&self.message))?;
        if let Some(at) = self.location() {
            write!(f, "\n  at: {}", bounded(at))?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {}", escape_controls(hint))?;
        }
        Ok(())
    }
}

/// The most characters a message, a field path or a hint keeps (whatever they quote).
pub const MAX_TEXT: usize = 1000;

/// `s` escaped (see [`escape_controls`]) and cut to [`MAX_TEXT`] characters: however a
/// diagnostic is built from hostile input, it stays short and safe to print.
fn bounded(s: String) -> String {
    let s = match escape_controls(&s) {
        std::borrow::Cow::Borrowed(_) => s,
        std::borrow::Cow::Owned(escaped) => escaped,
    };
    if s.len() <= MAX_TEXT {
        return s;
    }
    let mut cut: String = s.chars().take(MAX_TEXT).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    cut
}

/// `key` cut to [`MAX_QUOTE`] characters, with `…` when cut (a field path names input keys).
fn capped(key: &str) -> std::borrow::Cow<'_, str> {
    match key.char_indices().nth(MAX_QUOTE) {
        None => std::borrow::Cow::Borrowed(key),
        Some((at, _)) => std::borrow::Cow::Owned(format!("{}…", &key[..at])),
    }
}

/// The most characters of input a message quotes.
pub const MAX_QUOTE: usize = 200;

/// `s` as a message may quote it: control characters (C0, DEL, C1) and Unicode bidi
/// controls escaped, at most [`MAX_QUOTE`] characters of it, and `…` when cut.
pub fn quote(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    for c in chars.by_ref().take(MAX_QUOTE) {
        push_escaped(&mut out, c);
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// `s` with control and bidi characters escaped (newlines kept: messages span lines).
pub fn escape_controls(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_hostile(c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\n' {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    std::borrow::Cow::Owned(out)
}

fn is_hostile(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write;
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if is_hostile(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// Errors of the core, each carrying everything the CLI needs to report it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is wrong: one or more diagnostics in specs or templates. Exit status 2.
    #[error("{}", join(.0))]
    Invalid(Vec<Diagnostic>),
    /// The rendered output failed a check. Exit status 2 during render, 1 in validate.
    #[error("{}", join(.0))]
    Rendered(Vec<Diagnostic>),
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Any other failure with a clear message (bad command line, refusing to overwrite, …).
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn invalid(d: Diagnostic) -> Self {
        Error::Invalid(vec![d])
    }

    /// The diagnostics carried, if any.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Invalid(d) | Error::Rendered(d) => d,
            _ => &[],
        }
    }
}

fn join(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The closest of `candidates` to `word`, if it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    // No key of ours is long; comparing a huge one would take quadratic time.
    if word.len() > 64 {
        return None;
    }
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&word.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| format!("did you mean '{c}'?"))
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

    #[test]
    fn a_diagnostic_names_the_object_and_the_field() {
        let object = ObjectRef {
            kind: "Deployment".into(),
            namespace: Some("portal-system".into()),
            name: "portal-app".into(),
        };
        assert_eq!(object.to_string(), "Deployment/portal-system/portal-app");
        let d = Diagnostic::new("a.yaml", "[PG-W001] bad")
            .rule("PG-W001")
            .object(object)
            .with_path("spec.replicas");
        assert_eq!(
            d.to_string(),
            "a.yaml: [PG-W001] bad\n  at: Deployment portal-system/portal-app: spec.replicas"
        );
        assert_eq!(Diagnostic::new("a", "m").with_path("").path, None);
    }
}
