//! Reading a spec file: at most [`MAX_SPEC_BYTES`], no symlink on its way, UTF-8, one YAML
//! document with positions (and budgets against hostile anchors), the value checks, the
//! JSON Schema, and the typed values. Shared by the environment specs and the system file.

use std::path::Path;

use super::node::{self, Node, SpanIndex};
use super::{schema, text};
use crate::diagnostic::{Diagnostic, Error, Position, Result};

/// Specs larger than this are refused before parsing: a real one is a few hundred bytes,
/// and an explicit list of 100,000 tenants stays well under it.
pub const MAX_SPEC_BYTES: usize = 8 * 1024 * 1024;

/// Reads a spec file, refusing a symlink anywhere on its way below `root` (its target is
/// never opened, so nothing of it can be echoed), and anything but a regular file (a FIFO
/// or a device would block or never end); reads at most one byte more than
/// [`MAX_SPEC_BYTES`], so that a huge file is refused without being loaded into memory.
pub(crate) fn read_limited(root: &Path, rel: &Path, shown: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let whole = |msg: String| {
        Error::invalid(
            Diagnostic::new(shown, msg)
                .at(Some(Position { line: 1, column: 1 }))
                .with_path("(document)"),
        )
    };
    let file = match crate::fsafe::open_beneath(root, rel) {
        Ok(f) => f,
        Err(crate::fsafe::Refused::Io(e)) => return Err(Error::io(shown, e)),
        Err(refused) => return Err(whole(refused.to_string())),
    };
    let meta = file.metadata().map_err(|e| Error::io(shown, e))?;
    if !meta.is_file() {
        return Err(whole(
            "not a regular file; a spec is a plain YAML file".into(),
        ));
    }
    let mut bytes = Vec::with_capacity((meta.len() as usize).min(MAX_SPEC_BYTES + 1));
    file.take(MAX_SPEC_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(shown, e))?;
    Ok(bytes)
}

/// The first half of reading any spec file (an environment, the system file): size, UTF-8,
/// YAML with positions, the value checks of [`text`] and the JSON Schema. `expected` says
/// what an empty file should have held.
pub(crate) fn parse_document(
    path: &Path,
    bytes: &[u8],
    schema: &schema::SpecSchema,
    expected: &str,
) -> Result<(serde_json::Value, SpanIndex), Vec<Diagnostic>> {
    let start = Some(Position { line: 1, column: 1 });
    let whole = |msg: String| vec![Diagnostic::new(path, msg).at(start).with_path("(document)")];
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(whole(format!(
            "the file is larger than {MAX_SPEC_BYTES} bytes, the most a spec may be"
        )));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count() as u64;
            let column = 1 + valid.iter().rev().take_while(|&&b| b != b'\n').count() as u64;
            // The prefix before the bad byte is valid UTF-8: it names the field.
            let prefix = std::str::from_utf8(valid).unwrap_or_default();
            return Err(vec![Diagnostic::new(
                path,
                format!(
                    "the file is not valid UTF-8 (byte 0x{:02x})",
                    bytes[e.valid_up_to()]
                ),
            )
            .at(Some(Position { line, column }))
            .at_field(node::field_at_line(prefix, line))
            .with_hint(Some("save the file as UTF-8".into()))]);
        }
    };
    if text
        .trim()
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(whole(format!("the file is empty; expected {expected}")));
    }
    let root = parse_yaml(path, text)?;
    let (value, spans) = root.into_json();

    let problems = text::check(path, text, &value, &spans);
    if !problems.is_empty() {
        return Err(problems);
    }
    let problems = schema::check_against(schema, path, &value, &spans);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok((value, spans))
}

/// A schema-checked document as its typed values (a value the types cannot hold, such as
/// `count: 5.0`, is named by its field).
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    path: &Path,
    value: serde_json::Value,
    spans: &SpanIndex,
) -> Result<T, Vec<Diagnostic>> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = String::new();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => {
                    pointer.push_str(&format!("/{index}"))
                }
                serde_path_to_error::Segment::Map { key } => {
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                _ => {}
            }
        }
        vec![
            Diagnostic::new(path, format!("the value does not fit: {}", e.inner()))
                .at(spans
                    .value(&pointer)
                    .or(Some(Position { line: 1, column: 1 })))
                .with_path(node::field_path(&pointer)),
        ]
    })
}

fn parse_yaml(path: &Path, text: &str) -> Result<Node, Vec<Diagnostic>> {
    // Limits against hostile input. A legitimate document has at most about one node per
    // two bytes of text (`[a,b,…]`), so the node and event budgets grow with the input:
    // anchors and aliases can then never multiply a small file into a huge tree ("billion
    // laughs"), while a large explicit tenant list still fits.
    let budget = serde_saphyr::budget! {
        max_nodes: text.len() + 10_000,
        max_events: 2 * text.len() + 20_000,
        max_aliases: 10_000,
        max_anchors: 10_000,
        max_documents: 16,
        max_depth: 64,
    };
    let options = serde_saphyr::options! {
        with_snippet: false,
        strict_booleans: true,
        budget: budget,
    };
    let yaml_error = |e: serde_saphyr::Error| {
        let position = e
            .location()
            .map(|l| Position {
                line: l.line(),
                column: l.column(),
            })
            .unwrap_or(Position { line: 1, column: 1 });
        let message = e.without_snippet().to_string();
        let mut message = message.lines().next().unwrap_or("invalid YAML").to_owned();
        // An unterminated quoted scalar is noticed lines later: report where it opens.
        let position = if message.contains("quoted scalar") {
            unterminated_quote(text, position.line).unwrap_or(position)
        } else {
            position
        };
        // serde-saphyr's advice about its own options means nothing to a spec's author.
        if let Some(i) = message.find(", set DuplicateKeyPolicy") {
            let rest = message[i..]
                .find(" at line")
                .map_or("", |j| &message[i + j..])
                .to_owned();
            message.truncate(i);
            message.push_str(&rest);
        }
        let mut hint = None;
        if message.contains("budget breached") {
            message = format!(
                "the document is too large or expands too much through anchors and aliases ({message})"
            );
            hint = Some("a spec needs no deep anchor/alias nesting; write the values out".into());
        }
        vec![Diagnostic::new(path, format!("invalid YAML: {message}"))
            .at(Some(position))
            .at_field(node::field_at_line(text, position.line))
            .with_hint(hint)]
    };
    let mut docs: Vec<Node> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(yaml_error)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        0 => Err(vec![Diagnostic::new(
            path,
            "the file holds no YAML document",
        )
        .at(Some(Position { line: 1, column: 1 }))
        .with_path("(document)")]),
        _ => Err(vec![Diagnostic::new(
            path,
            format!(
                "the file holds {} YAML documents; a spec is exactly one",
                docs.len()
            ),
        )
        .at(Some(docs[1].position))
        .with_path("(document)")
        .with_hint(Some(
            "remove the '---' separator and everything after it".into(),
        ))]),
    }
}

/// The last line at or before `line` with an odd number of quotes of one kind: where an
/// unterminated quoted scalar opens, at its opening quote.
fn unterminated_quote(text: &str, line: u64) -> Option<Position> {
    let lines: Vec<&str> = text.lines().take(line as usize).collect();
    for (i, l) in lines.iter().enumerate().rev() {
        let content = l.split(" #").next().unwrap_or(l);
        for q in ['"', '\''] {
            if content.matches(q).count() % 2 == 1 {
                let column = content.find(q).unwrap_or(0) as u64 + 1;
                return Some(Position {
                    line: i as u64 + 1,
                    column,
                });
            }
        }
    }
    None
}
