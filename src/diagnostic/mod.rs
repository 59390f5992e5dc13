//! Diagnostics: what went wrong, where in which file, and what to do about it.
//!
//! Every stage reports problems as [`Diagnostic`]s so that the CLI can print them in one
//! place, in one format: `file:line:col: error: message`, then where (the object and the
//! field path) and a hint. The parts are kept apart ([`ObjectRef`], [`FieldPath`], the
//! rule id) so that `validate --format json` can hand them on without parsing text.

mod path;
mod text;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

pub use path::{quoted, FieldPath, Segment};
use text::bounded;
pub use text::{escape_controls, quote, MAX_QUOTE, MAX_TEXT};

/// A position in a source file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u64,
    pub column: u64,
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
