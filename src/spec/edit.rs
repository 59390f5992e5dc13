//! Edits of a spec's text in place (`portalgen set image`): only the lines of the value
//! that changes are touched, so comments, key order, quoting and blank lines stay as the
//! author wrote them.

use super::Environment;
use crate::diagnostic::{Diagnostic, Position};

/// What the image is set to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    Tag(String),
    /// `sha256:` and 64 lowercase hex characters.
    Digest(String),
}

impl ImageRef {
    /// `sha256:…` is a digest, anything else a tag. Both are checked again by the schema
    /// once the spec is edited; the checks here give a message about the argument itself.
    pub fn parse(arg: &str) -> Result<ImageRef, String> {
        if let Some(hex) = arg.strip_prefix("sha256:") {
            if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Ok(ImageRef::Digest(arg.to_owned()));
            }
            return Err("a digest is sha256: and 64 lowercase hex characters".into());
        }
        let ok = !arg.is_empty()
            && arg.len() <= 128
            && arg
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            && !arg.starts_with(['.', '-']);
        if !ok {
            return Err("a tag is 1 to 128 of A-Z a-z 0-9 _ . - (not starting with . or -)".into());
        }
        if arg == "latest" {
            return Err("'latest' is refused: give an immutable tag or a digest".into());
        }
        Ok(ImageRef::Tag(arg.to_owned()))
    }

    fn field(&self) -> &'static str {
        match self {
            ImageRef::Tag(_) => "tag",
            ImageRef::Digest(_) => "digest",
        }
    }

    fn value(&self) -> &str {
        match self {
            ImageRef::Tag(v) | ImageRef::Digest(v) => v,
        }
    }
}

/// One change of a line (0-based index), applied from the last line up.
enum LineEdit {
    /// The scalar that starts at byte `at` of the line gets the new value.
    Replace {
        line: usize,
        at: usize,
    },
    /// A new `key: value` line after this one, indented like it.
    InsertAfter {
        line: usize,
        indent: usize,
    },
    Remove {
        line: usize,
    },
}

/// `text` (the spec of `env`) with `spec.image` set to `to`. A digest wins over a tag, so
/// the other of the two is removed: the spec keeps saying what is deployed. Refuses an image
/// written in flow style (`image: {…}`), whose line cannot be edited alone.
pub fn set_image(env: &Environment, text: &str, to: &ImageRef) -> Result<String, Diagnostic> {
    let pointer = |f: &str| format!("/spec/image/{f}");
    let other = match to {
        ImageRef::Tag(_) => "digest",
        ImageRef::Digest(_) => "tag",
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let block_line = |key: Position, field: &str| -> Result<usize, Diagnostic> {
        let i = key.line.saturating_sub(1) as usize;
        let line = lines.get(i).copied().unwrap_or_default();
        if line.trim_start().starts_with(&format!("{field}:")) {
            Ok(i)
        } else {
            Err(env
                .diagnostic(&pointer(field), "spec.image is not written one key per line (block style)")
                .with_hint(Some("write it as `image:` with `repository:` and `tag:` on lines of their own, or edit it by hand".into())))
        }
    };
    let mut edits = Vec::new();
    match env.written_at(&pointer(to.field())) {
        Some((value, key)) => {
            let line = block_line(key, to.field())?;
            let at = byte_at(lines[line], value.column);
            edits.push(LineEdit::Replace { line, at });
        }
        None => {
            let (_, key) = env.written_at(&pointer("repository")).ok_or_else(|| {
                env.diagnostic(
                    "/spec/image",
                    "spec.image has no repository to add the new value beside",
                )
            })?;
            let line = block_line(key, "repository")?;
            let indent = lines[line].len() - lines[line].trim_start().len();
            edits.push(LineEdit::InsertAfter { line, indent });
        }
    }
    if let Some((_, key)) = env.written_at(&pointer(other)) {
        edits.push(LineEdit::Remove {
            line: block_line(key, other)?,
        });
    }
    let line_of = |e: &LineEdit| match e {
        LineEdit::Replace { line, .. }
        | LineEdit::InsertAfter { line, .. }
        | LineEdit::Remove { line } => *line,
    };
    edits.sort_by_key(|e| std::cmp::Reverse(line_of(e)));
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    for edit in edits {
        match edit {
            LineEdit::Replace { line, at } => {
                out[line] = replace_scalar(&out[line], at, to.value())
            }
            LineEdit::InsertAfter { line, indent } => {
                let eol = if out[line].ends_with("\r\n") {
                    "\r\n"
                } else {
                    "\n"
                };
                if !out[line].ends_with('\n') {
                    out[line].push_str(eol);
                }
                let new = format!(
                    "{}{}: \"{}\"{eol}",
                    " ".repeat(indent),
                    to.field(),
                    to.value()
                );
                out.insert(line + 1, new);
            }
            LineEdit::Remove { line } => {
                out.remove(line);
            }
        }
    }
    Ok(out.concat())
}

/// The byte offset of the 1-based character `column` of `line`.
fn byte_at(line: &str, column: u64) -> usize {
    line.char_indices()
        .nth(column.saturating_sub(1) as usize)
        .map_or(line.len(), |(i, _)| i)
}

/// `line` with the scalar starting at byte `at` replaced by `value`, in the same quoting
/// (a plain scalar stays plain unless YAML would read the new value as something other
/// than a string); what follows the scalar (a comment, the line end) is kept.
fn replace_scalar(line: &str, at: usize, value: &str) -> String {
    let rest = &line[at..];
    let (end, quote) = match rest.chars().next() {
        Some('"') => (closing(rest, '"'), Some('"')),
        Some('\'') => (closing(rest, '\''), Some('\'')),
        _ => {
            let body = rest.trim_end_matches(['\n', '\r']);
            let body = body.find(" #").map_or(body, |i| &body[..i]);
            (body.trim_end().len(), None)
        }
    };
    let quote = quote.or_else(|| needs_quotes(value).then_some('"'));
    let new = match quote {
        Some(q) => format!("{q}{value}{q}"),
        None => value.to_owned(),
    };
    format!("{}{new}{}", &line[..at], &rest[end..])
}

/// The byte after the quote that closes the scalar opened by `rest`'s first character.
fn closing(rest: &str, q: char) -> usize {
    let bytes = rest.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        let b = bytes[i] as char;
        if q == '"' && b == '\\' {
            i += 2;
            continue;
        }
        if b == q {
            if q == '\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    rest.trim_end_matches(['\n', '\r']).len()
}

/// A plain scalar YAML would read as a number, a boolean or null.
fn needs_quotes(value: &str) -> bool {
    value.parse::<f64>().is_ok()
        || matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "~" | "y" | "n"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const SPEC: &str = "apiVersion: portalgen.dev/v1alpha1\nkind: Environment\nmetadata:\n  name: dev\nspec:\n  tier: dev\n  region: us-east-1\n  domain: dev.portal.example.com\n  image:\n    repository: registry.example.com/portal/app\n    tag: \"2.15.0-rc.1\"   # the release candidate\n  tenants:\n    count: 2\n  cloudflare:\n    zoneId: 0123456789abcdef0123456789abcdef\n  gitops:\n    repoURL: https://github.com/example/portal-gitops.git\n    targetRevision: main\n    tenantShards: 2\n  alerting:\n    slackChannel: \"#portal-dev-alerts\"\n";

    fn env(text: &str) -> Environment {
        super::super::parse_bytes(Path::new("environments/dev.yaml"), text.as_bytes()).unwrap()
    }

    #[test]
    fn a_tag_is_replaced_keeping_quotes_and_comment() {
        let to = ImageRef::parse("2.16.0").unwrap();
        let out = set_image(&env(SPEC), SPEC, &to).unwrap();
        assert_eq!(out, SPEC.replace("\"2.15.0-rc.1\"", "\"2.16.0\""));
    }

    #[test]
    fn a_digest_replaces_the_tag_line() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let out = set_image(&env(SPEC), SPEC, &ImageRef::parse(&digest).unwrap()).unwrap();
        assert!(out.contains(&format!("    repository: registry.example.com/portal/app\n    digest: \"{digest}\"\n  tenants:")), "{out}");
        assert!(!out.contains("tag:"));
        // And back: the digest goes, a tag line comes after the repository.
        let back = set_image(&env(&out), &out, &ImageRef::parse("2.16.0").unwrap()).unwrap();
        assert!(
            back.contains("    repository: registry.example.com/portal/app\n    tag: \"2.16.0\"\n"),
            "{back}"
        );
        assert!(!back.contains("digest"));
    }

    #[test]
    fn a_plain_tag_stays_plain_unless_it_reads_as_a_number() {
        let plain = SPEC.replace("\"2.15.0-rc.1\"", "v2.15.0");
        let out = set_image(&env(&plain), &plain, &ImageRef::parse("v2.16.0").unwrap()).unwrap();
        assert!(
            out.contains("    tag: v2.16.0   # the release candidate\n"),
            "{out}"
        );
        let out = set_image(&env(&plain), &plain, &ImageRef::parse("2.16").unwrap()).unwrap();
        assert!(out.contains("    tag: \"2.16\"   #"), "{out}");
    }

    #[test]
    fn flow_style_and_bad_arguments_are_refused() {
        let flow = SPEC.replace(
            "  image:\n    repository: registry.example.com/portal/app\n    tag: \"2.15.0-rc.1\"   # the release candidate\n",
            "  image: {repository: registry.example.com/portal/app, tag: \"2.15.0\"}\n",
        );
        let e = set_image(&env(&flow), &flow, &ImageRef::parse("2.16.0").unwrap()).unwrap_err();
        assert!(e.message.contains("block style"), "{e}");
        assert!(ImageRef::parse("latest").is_err());
        assert!(ImageRef::parse("sha256:abc").is_err());
        assert!(ImageRef::parse("a b").is_err());
    }
}
