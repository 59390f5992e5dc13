//! Diagnostics: what went wrong, where in which file, and what to do about it.
//!
//! Every stage reports problems as [`Diagnostic`]s so that the CLI can print them in one
//! place, in one format: `file:line:col: error: message`, then the field path and a hint.

use std::fmt;
use std::path::PathBuf;

/// A position in a source file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

/// One problem found in the input or in the rendered output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in (a spec, a template, or a rendered file).
    pub file: PathBuf,
    /// Where in `file`, when known.
    pub position: Option<Position>,
    /// The field path, e.g. `spec.overrides.autoscaling.minReplicas`, or the object,
    /// e.g. `Deployment portal-system/portal-app: spec.template.spec`.
    pub path: Option<String>,
    pub message: String,
    /// A suggestion, e.g. `did you mean 'replicas'?`.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            position: None,
            path: None,
            message: bounded(message.into()),
            hint: None,
        }
    }

    pub fn at(mut self, position: Option<Position>) -> Self {
        self.position = position;
        self
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        let path = bounded(path.into());
        self.path = (!path.is_empty()).then_some(path);
        self
    }

    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint.map(bounded);
        self
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
        if let Some(path) = &self.path {
            write!(f, "\n  at: {}", escape_controls(path))?;
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
