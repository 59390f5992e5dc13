//! The secret scanner: text shaped like a credential (PG-S002) and literal values in
//! secret-named fields (PG-S003). Kept as one block, apart from the rules that use it
//! (`rules::secrets`).

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Position};

// ---------------------------------------------------------------------------------------
// Secrets.

/// Normalised field names that hold a secret when they hold a literal.
const SECRET_NAME_ENDINGS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "privatekey",
    "secretkey",
    "accesskey",
    "credential",
    "credentials",
    "routingkey",
    "integrationkey",
    "servicekey",
    "webhookurl",
];

/// Whether a field or variable name says that it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    // Compared from the end, without building the normalised name: this runs on every key
    // of every rendered object.
    let norm = name
        .bytes()
        .rev()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase());
    SECRET_NAME_ENDINGS.iter().any(|e| {
        let mut rest = norm.clone();
        e.bytes().rev().all(|b| rest.next() == Some(b))
    })
}

/// Whether a string is a reference to a secret rather than a secret: empty, a variable
/// (`${var.x}`, `$(ENV)`, `{{ .x }}`), or a boolean written as a string.
pub fn is_reference(s: &str) -> bool {
    let t = s.trim();
    t.is_empty()
        || t.starts_with("${")
        || t.starts_with("$(")
        || t.starts_with("{{")
        || matches!(t, "true" | "false")
}

/// Fields with a secret-like name that hold a literal string, and `{name: SECRET_LIKE,
/// value: "…"}` pairs (environment variables).
pub fn walk_secret_fields(v: &Value, out: &mut Vec<(String, String)>) {
    // The path is kept as segments and written out only for a finding: this walk visits
    // every value of every rendered object.
    let mut segments = Vec::new();
    walk(
        v,
        &mut segments,
        &mut |segments: &[Segment], field: &str, message: String| {
            let mut at = String::new();
            for s in segments.iter().chain([&Segment::Key(field)]) {
                match s {
                    Segment::Key(k) => {
                        if !at.is_empty() {
                            at.push('.');
                        }
                        at.push_str(k);
                    }
                    Segment::Index(i) => at.push_str(&format!("[{i}]")),
                }
            }
            out.push((at, message));
        },
    );
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

type Found<'f> = dyn FnMut(&[Segment], &str, String) + 'f;

fn walk<'a>(v: &'a Value, path: &mut Vec<Segment<'a>>, found: &mut Found) {
    match v {
        Value::Object(map) => {
            let field = |key: &str| map.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
            if let (Some(Value::String(name)), Some(Value::String(value))) =
                (field("name"), field("value"))
            {
                if is_secret_name(name) && !is_reference(value) {
                    found(
                        path,
                        "value",
                        format!("'{name}' is given a literal value; take it from a Secret (valueFrom.secretKeyRef)"),
                    );
                }
            }
            for (k, v) in map {
                match v {
                    Value::String(s) if is_secret_name(k) && !is_reference(s) => {
                        found(
                            path,
                            k,
                            format!(
                                "the field '{k}' holds a literal value; reference a secret instead"
                            ),
                        );
                    }
                    Value::Object(_) | Value::Array(_) => {
                        path.push(Segment::Key(k));
                        walk(v, path, found);
                        path.pop();
                    }
                    _ => {}
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                walk(item, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Text shaped like a credential, anywhere in a file (comments included), in one pass.
pub fn scan_text(file: &str, text: &str) -> Vec<Diagnostic> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hit: Option<(usize, &str)> = match b[i] {
            b'-' => private_key(b, i),
            b'A' => aws_key(b, i).or_else(|| token(b, i, "AIza", 35, b"_-", "a Google API key")),
            b'g' => ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
                .iter()
                .find_map(|p| token(b, i, p, 36, b"", "a GitHub token"))
                .or_else(|| token(b, i, "github_pat_", 40, b"_", "a GitHub token"))
                .or_else(|| token(b, i, "glpat-", 20, b"_-", "a GitLab token")),
            b'x' => ["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"]
                .iter()
                .find_map(|p| token(b, i, p, 10, b"-", "a Slack token")),
            b's' => token(b, i, "sk_live_", 16, b"", "a Stripe secret key"),
            b'r' => token(b, i, "rk_live_", 16, b"", "a Stripe restricted key"),
            b'h' => b[i..]
                .starts_with(b"hooks.slack.com/services/T")
                .then_some((26, "a Slack webhook URL")),
            b'e' => jwt(b, i),
            b':' => url_password(b, i),
            _ => None,
        };
        match hit {
            Some((len, what)) => {
                let line = 1 + b[..i].iter().filter(|&&c| c == b'\n').count() as u64;
                let column = 1 + b[..i].iter().rev().take_while(|&&c| c != b'\n').count() as u64;
                let shown: String = text[i..].chars().take(6).collect();
                out.push(
                    Diagnostic::new(
                        file,
                        format!("[PG-S002] text that looks like {what} ('{shown}…'); secrets never go into the tree"),
                    )
                    .rule("PG-S002")
                    .at(Some(Position { line, column }))
                    .with_path(format!("line {line}")),
                );
                i += len.max(1);
            }
            None => i += 1,
        }
    }
    out
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

/// `prefix` followed by at least `min` characters of `[A-Za-z0-9]` + `extra`, starting at a
/// word boundary.
fn token(
    b: &[u8],
    i: usize,
    prefix: &str,
    min: usize,
    extra: &[u8],
    what: &'static str,
) -> Option<(usize, &'static str)> {
    if !b[i..].starts_with(prefix.as_bytes()) || (i > 0 && is_word(b[i - 1])) {
        return None;
    }
    let rest = &b[i + prefix.len()..];
    let n = rest
        .iter()
        .take_while(|c| is_word(**c) || extra.contains(c))
        .count();
    (n >= min).then_some((prefix.len() + n, what))
}

fn aws_key(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let w = b.get(i..i + 20)?;
    let ok = (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
        && w[4..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && (i == 0 || !is_word(b[i - 1]))
        && b.get(i + 20).is_none_or(|c| !is_word(*c));
    ok.then_some((20, "an AWS access key id"))
}

fn private_key(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let rest = b[i..].strip_prefix(b"-----BEGIN ")?;
    let end = rest
        .iter()
        .take(60)
        .position(|&c| c == b'\n')
        .unwrap_or(rest.len().min(60));
    let header = &rest[..end];
    let is_key =
        header.windows(11).any(|w| w == b"PRIVATE KEY") && header.windows(5).any(|w| w == b"-----");
    is_key.then_some((11 + end, "a private key"))
}

fn jwt(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    if !b[i..].starts_with(b"eyJ") || (i > 0 && is_word(b[i - 1])) {
        return None;
    }
    let seg = |from: usize| {
        b[from..]
            .iter()
            .take_while(|c| is_word(**c) || **c == b'_' || **c == b'-')
            .count()
    };
    let a = seg(i);
    if a < 10 || b.get(i + a) != Some(&b'.') || !b[i + a + 1..].starts_with(b"eyJ") {
        return None;
    }
    let bb = seg(i + a + 1);
    if bb < 10 || b.get(i + a + 1 + bb) != Some(&b'.') {
        return None;
    }
    let c = seg(i + a + bb + 2);
    (c >= 10).then_some((a + bb + c + 2, "a JSON Web Token"))
}

/// `scheme://user:password@host`: a password in a URL.
fn url_password(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    if !b[i..].starts_with(b"://") {
        return None;
    }
    let start = i + 3;
    let authority_len = b[start..]
        .iter()
        .take_while(|&&c| {
            !matches!(
                c,
                b'/' | b'?' | b'#' | b'"' | b'\'' | b' ' | b'\n' | b'\t' | b'\r'
            )
        })
        .count();
    let authority = &b[start..start + authority_len];
    let at = authority.iter().rposition(|&c| c == b'@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.iter().position(|&c| c == b':')?;
    let password = &userinfo[colon + 1..];
    (!password.is_empty() && !password.starts_with(b"${") && !password.starts_with(b"$("))
        .then_some((3 + authority_len, "a password in a URL"))
}
