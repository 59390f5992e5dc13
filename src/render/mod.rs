//! Templates: minijinja with strict undefined and no auto-escaping, embedded in the binary
//! (or read from `--templates DIR`), compiled once per run.
//!
//! Templates lay values out and decide nothing. Two filters keep YAML correct whatever the
//! values: `yaml` writes a scalar (quoting words YAML 1.1 would misread, like `on` or
//! `12:30`), and `toyaml(indent)` writes a mapping or a list as an indented block.

mod metadata;
pub mod team;

use std::path::{Path, PathBuf};

use minijinja::value::Value;
use minijinja::{context, AutoEscape, Environment, UndefinedBehavior};
use sha2::{Digest, Sha256};

use crate::assets;
use crate::diagnostic::{Diagnostic, Error, Position, Result};
use crate::families::Artifact;
use crate::validate::kubernetes::TeamSchemas;

/// The compiled templates of one run, and the schemas the team adds for the kinds of its
/// extra templates (both come from the team's repository, see [`team`]).
pub struct Templates {
    env: Environment<'static>,
    /// SHA-256 over every template's name and source: part of the stamp of the checks.
    fingerprint: [u8; 32],
    /// The names of the extra templates (`extra/<path>`), sorted. They live as long as the
    /// process (a run loads its templates once), so that an [`Artifact`] names them like it
    /// names an embedded template.
    extra: Vec<&'static str>,
    team_schemas: TeamSchemas,
}

impl Templates {
    /// The templates embedded in the binary.
    pub fn embedded() -> Result<Templates> {
        let (env, fingerprint) = Templates::embedded_parts()?;
        Ok(Templates {
            env,
            fingerprint: fingerprint.finalize().into(),
            extra: Vec::new(),
            team_schemas: TeamSchemas::default(),
        })
    }

    /// The embedded templates, with every file under `dir` replacing the embedded one of
    /// the same relative path (and `dir/extra/` holding extra templates).
    pub fn with_overrides(dir: &Path) -> Result<Templates> {
        Templates::load(None, Some(dir))
    }

    /// The templates of a run in the project at `root` (when given): the embedded ones,
    /// `<root>/templates/extra/`, `<root>/schemas/extra/`, and the overrides and extra
    /// templates of `--templates DIR` (see [`team`]).
    pub fn load(root: Option<&Path>, overrides: Option<&Path>) -> Result<Templates> {
        let files = team::read(root, overrides)?;
        let (mut env, mut fingerprint) = Templates::embedded_parts()?;
        if !files.overrides.is_empty() || !files.extra.is_empty() {
            env.set_fuel(Some(MAX_FUEL));
        }
        let mut extra = Vec::new();
        let mut problems = Vec::new();
        let overrides = files.overrides.into_iter().map(|f| (f, false));
        let extras = files.extra.into_iter().map(|f| (f, true));
        for ((name, text), is_extra) in overrides.chain(extras) {
            fingerprint.update(name.as_bytes());
            fingerprint.update(text.as_bytes());
            let file = Path::new("templates").join(&name);
            let added = if is_extra {
                let name: &'static str = Box::leak(name.into_boxed_str());
                extra.push(name);
                env.add_template_owned(name, text)
            } else {
                env.add_template_owned(name, text)
            };
            if let Err(e) = added {
                problems.extend(template_error(file, &e).diagnostics().iter().cloned());
            }
        }
        if !problems.is_empty() {
            return Err(Error::Invalid(problems));
        }
        Ok(Templates {
            env,
            fingerprint: fingerprint.finalize().into(),
            extra,
            team_schemas: files.schemas,
        })
    }

    /// The files of the extra templates, each rendered with the model `m` (made only when
    /// there is one) into `kubernetes/platform/extra/<path>`.
    pub fn extra_artifacts(&self, m: impl FnOnce() -> Value) -> Vec<Artifact> {
        if self.extra.is_empty() {
            return Vec::new();
        }
        let m = m();
        self.extra
            .iter()
            .map(|name| Artifact {
                path: format!("{}/{}", team::EXTRA_OUT, &name[team::EXTRA_DIR.len() + 1..]),
                template: name,
                context: context! { m => m.clone() },
            })
            .collect()
    }

    /// The schemas the team adds for its own kinds.
    pub fn team_schemas(&self) -> &TeamSchemas {
        &self.team_schemas
    }

    /// The embedded templates compiled, and the hash of their names and sources so far.
    fn embedded_parts() -> Result<(Environment<'static>, Sha256)> {
        let mut env = base_environment();
        let mut fingerprint = Sha256::new();
        for (name, text) in assets::TEMPLATES {
            env.add_template(name, text)
                .map_err(|e| template_error(Path::new("templates").join(name), &e))?;
            fingerprint.update(name.as_bytes());
            fingerprint.update(text.as_bytes());
        }
        Ok((env, fingerprint))
    }

    /// What identifies this set of templates (embedded and overrides).
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// The source of template `name` (for `explain`'s template lines).
    pub fn source(&self, name: &str) -> Option<String> {
        self.env
            .get_template(name)
            .ok()
            .map(|t| t.source().to_owned())
    }

    /// Renders template `name` with `ctx`.
    // A failed render ends the run with this one diagnostic; its size costs nothing.
    #[allow(clippy::result_large_err)]
    pub fn render(&self, name: &str, ctx: &Value) -> Result<String, Diagnostic> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|e| template_error(Path::new("templates").join(name), &e).into_diagnostic())?;
        let mut out = Capped {
            buf: Vec::new(),
            over: false,
        };
        let rendered = tmpl.render_captured_to(ctx, &mut out).map(drop);
        let file = || Path::new("templates").join(name);
        if out.over {
            return Err(Diagnostic::new(
                file(),
                format!(
                    "template error: the output is larger than {} MiB, the most one rendered file may be",
                    MAX_OUTPUT >> 20
                ),
            ));
        }
        rendered.map_err(|e| template_error(file(), &e).into_diagnostic())?;
        // The output buffer grows by doubling: at 10,000 tenants it holds 82 MB for 35 MB of
        // text. An exact copy (a few milliseconds) keeps the tree at its real size.
        let text = std::str::from_utf8(&out.buf)
            .map_err(|_| Diagnostic::new(file(), "template error: the output is not UTF-8"))?;
        Ok(text.to_owned())
    }
}

/// The most bytes one rendered file may have. The largest file of a 10,000-tenant
/// environment has 18 KB; the limit stops a template override from exhausting memory.
pub const MAX_OUTPUT: usize = 16 << 20;

/// The most template instructions one render of an overridden template set may run (the
/// embedded templates run a few thousand per file): an endless or exponential loop in
/// `--templates` stops with an error instead of running for ever.
pub const MAX_FUEL: u64 = 50_000_000;

/// An output buffer that refuses to grow past [`MAX_OUTPUT`].
struct Capped {
    buf: Vec<u8>,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > MAX_OUTPUT {
            self.over = true;
            return Err(std::io::Error::other("output too large"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn base_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are valid"),
    );
    env.add_filter("yaml", yaml_filter);
    env.add_filter("toyaml", toyaml_filter);
    env.add_function("metadata", metadata::metadata);
    env.add_function("label_block", metadata::label_block);
    env
}

trait IntoDiagnostic {
    fn into_diagnostic(self) -> Diagnostic;
}

impl IntoDiagnostic for Error {
    fn into_diagnostic(self) -> Diagnostic {
        match self {
            Error::Invalid(mut d) if !d.is_empty() => d.remove(0),
            other => Diagnostic::new("templates", other.to_string()),
        }
    }
}

fn template_error(file: PathBuf, e: &minijinja::Error) -> Error {
    let position = e.line().map(|line| Position {
        line: line as u64,
        column: 1,
    });
    let mut message = format!("template error: {}", e.kind());
    if let Some(detail) = e.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    let file = e
        .name()
        .map(|n| Path::new("templates").join(n))
        .unwrap_or(file);
    Error::invalid(Diagnostic::new(file, message).at(position))
}

/// A value as one line of YAML: a scalar, quoted when YAML would otherwise misread it.
fn yaml_filter(value: Value) -> Result<String, minijinja::Error> {
    let json = serde_json::to_value(&value).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    })?;
    Ok(scalar(&json))
}

/// A mapping or list as a block, each line indented by `indent` spaces, preceded by a line
/// break: `key:{{ value | toyaml(4) }}`.
fn toyaml_filter(value: Value, indent: usize) -> Result<String, minijinja::Error> {
    let json = serde_json::to_value(&value).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    })?;
    Ok(block(&json, indent))
}

/// One YAML scalar. Strings go through serde-saphyr, which quotes anything a YAML 1.1
/// reader (Kubernetes tooling) would take for a boolean, number, null or timestamp.
pub fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) if is_plain_safe(s) => s.clone(),
        serde_json::Value::String(s) if is_integer_text(s) => format!("\"{s}\""),
        serde_json::Value::String(s) if s.contains('\n') => v.to_string(),
        serde_json::Value::String(_) => {
            // One line always: no folded or literal block scalars.
            let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
            serde_saphyr::to_string_with_options(v, options)
                .map(|s| s.trim_end_matches('\n').to_owned())
                .unwrap_or_else(|_| v.to_string())
        }
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => v.to_string(),
        other => other.to_string(),
    }
}

/// A cheap fast path for the common case: lowercase identifiers and paths that no YAML
/// version reads as anything but a string. Everything else is left to serde-saphyr.
fn is_plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.' || *c == b'/'
        })
        && !matches!(
            s,
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        )
}

/// A string of decimal digits (after an optional `-`), as every sync wave, quota and port
/// written as a string is: serde-saphyr double-quotes it, and nothing in it needs an
/// escape, so it is quoted here without a serializer
/// (`tests::integer_strings_are_quoted_as_serde_saphyr_quotes_them`).
fn is_integer_text(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|c| c.is_ascii_digit())
}

/// A mapping's key as YAML: [`scalar`] without a copy of the key in the common case.
fn push_key(k: &str, out: &mut String) {
    if is_plain_safe(k) {
        out.push_str(k);
    } else {
        out.push_str(&scalar(&serde_json::Value::String(k.to_owned())));
    }
}

/// A mapping or list as a YAML block indented by `indent`, starting with a line break.
pub fn block(v: &serde_json::Value, indent: usize) -> String {
    let mut out = String::new();
    write_block(v, indent, &mut out);
    out
}

fn write_block(v: &serde_json::Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        serde_json::Value::Object(map) if !map.is_empty() => {
            for (k, val) in map {
                out.push('\n');
                out.push_str(&pad);
                push_key(k, out);
                out.push(':');
                write_value(val, indent, out);
            }
        }
        serde_json::Value::Array(items) if !items.is_empty() => {
            for item in items {
                out.push('\n');
                out.push_str(&pad);
                out.push('-');
                match item {
                    serde_json::Value::Object(m) if !m.is_empty() => {
                        // First key on the dash line, the rest aligned under it.
                        let mut inner = String::new();
                        write_block(item, indent + 2, &mut inner);
                        out.push(' ');
                        out.push_str(&inner[1 + indent + 2..]);
                    }
                    other => write_value(other, indent, out),
                }
            }
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
        }
    }
}

fn write_value(v: &serde_json::Value, indent: usize, out: &mut String) {
    match v {
        serde_json::Value::Object(m) if !m.is_empty() => write_block(v, indent + 2, out),
        serde_json::Value::Array(a) if !a.is_empty() => write_block(v, indent + 2, out),
        serde_json::Value::Object(_) => out.push_str(" {}"),
        serde_json::Value::Array(_) => out.push_str(" []"),
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_strings_are_quoted_as_serde_saphyr_quotes_them() {
        let options = serde_saphyr::ser_options! { prefer_block_scalars: false };
        for s in [
            "0",
            "-1",
            "16",
            "200",
            "007",
            "-0",
            "123456789012345678",
            "5432",
        ] {
            let v = serde_json::Value::String(s.to_owned());
            assert!(is_integer_text(s), "{s}");
            let saphyr = serde_saphyr::to_string_with_options(&v, options.clone()).unwrap();
            assert_eq!(scalar(&v), saphyr.trim_end_matches('\n'), "{s}");
        }
        for s in [
            "",
            "-",
            "1.5",
            "1e3",
            "0x1F",
            "1_000",
            "12:30",
            "1234567890123456789",
        ] {
            assert!(!is_integer_text(s), "{s}");
        }
    }

    #[test]
    fn scalars_that_yaml_would_misread_are_quoted() {
        for word in [
            "on", "yes", "no", "off", "true", "null", "12:30", "1.0", "0x1F", "~", "",
        ] {
            let s = scalar(&json!(word));
            assert!(s.starts_with('"') || s.starts_with('\''), "{word} -> {s}");
        }
        assert_eq!(scalar(&json!("portal-system")), "portal-system");
        assert_eq!(scalar(&json!(3)), "3");
        let long = "registry.example.com/portal/app@sha256:".to_owned() + &"a".repeat(64);
        assert_eq!(scalar(&json!(long)), long);
        let back: String = serde_saphyr::from_str(&scalar(&json!("a\nb: c"))).unwrap();
        assert_eq!(back, "a\nb: c");
    }

    #[test]
    fn blocks_are_indented_yaml() {
        let v =
            json!({"requests": {"cpu": "1", "memory": "2Gi"}, "list": [{"a": 1, "b": "on"}, "x"]});
        let text = format!("root:{}\n", block(&v, 2));
        let back: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back["root"], v);
    }
}
