//! The one secret scanner: text shaped like a credential, and names that say a field holds
//! one. Used by the spec checks (a spec never holds a credential) and by the policy rules
//! PG-S002/PG-S003 on every rendered file, so that both refuse exactly the same things.
//!
//! The scan is one pass over the bytes, dispatching on the byte at each position, and each
//! detector looks only ahead: linear in the text, whatever it holds.

/// Something in a text that looks like a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finding {
    /// Byte offset where it starts.
    pub offset: usize,
    /// Its length in bytes.
    pub len: usize,
    /// What it looks like, e.g. "a GitHub token".
    pub what: &'static str,
}

/// The bytes at which a detector may match inside a word (right after a letter or digit):
/// every other detector wants a word boundary before its first byte, so a position inside
/// a word that holds none of these cannot start a finding. Skipping those positions is
/// what keeps the scan cheap on the bytes of every rendered file (most bytes are inside
/// words); `scan_matches_the_scan_at_every_position` proves it finds exactly what trying
/// every position finds.
const INSIDE_WORD: [bool; 256] = {
    let mut t = [false; 256];
    let bytes = b"-\":?&hH";
    let mut k = 0;
    while k < bytes.len() {
        t[bytes[k] as usize] = true;
        k += 1;
    }
    t
};

/// Every credential-shaped part of `text`, in order.
pub fn scan(text: &str) -> Vec<Finding> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if i > 0 && is_word(b[i - 1]) && !INSIDE_WORD[b[i] as usize] {
            i += 1;
            continue;
        }
        match detect(b, i) {
            Some((len, what)) => {
                out.push(Finding {
                    offset: i,
                    len,
                    what,
                });
                i += len.max(1);
            }
            None => i += 1,
        }
    }
    out
}

/// The 1-based line and column (in characters) of each finding, counted in one pass.
pub fn positions(text: &str, findings: &[Finding]) -> Vec<(u64, u64)> {
    let b = text.as_bytes();
    let (mut line, mut line_start, mut counted) = (1u64, 0usize, 0usize);
    findings
        .iter()
        .map(|f| {
            for (k, &c) in b[counted..f.offset].iter().enumerate() {
                if c == b'\n' {
                    line += 1;
                    line_start = counted + k + 1;
                }
            }
            counted = f.offset;
            (line, 1 + text[line_start..f.offset].chars().count() as u64)
        })
        .collect()
}

/// Whether `text` contains anything credential-shaped.
pub fn contains_secret(text: &str) -> bool {
    !scan(text).is_empty()
}

fn detect(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    match b[i] {
        b'-' => private_key(b, i),
        b'A' => aws_key_id(b, i)
            .or_else(|| token(b, i, "AIza", 35, b"_-", "a Google API key"))
            .or_else(|| key_value(b, i, "AccountKey=", 20, "an Azure storage account key")),
        b'a' => key_value(b, i, "accountkey=", 20, "an Azure storage account key"),
        b'S' | b's' => key_value(b, i, "SharedAccessKey=", 20, "an Azure shared access key")
            .or_else(|| key_value(b, i, "sharedaccesskey=", 20, "an Azure shared access key"))
            .or_else(|| token(b, i, "sk_live_", 16, b"", "a Stripe secret key")),
        b'g' => ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]
            .iter()
            .find_map(|p| token(b, i, p, 36, b"", "a GitHub token"))
            .or_else(|| token(b, i, "github_pat_", 40, b"_", "a GitHub token"))
            .or_else(|| {
                ["glpat-", "gldt-", "glrt-", "glptt-"]
                    .iter()
                    .find_map(|p| token(b, i, p, 20, b"_-", "a GitLab token"))
            }),
        b'x' => [
            "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxe-", "xapp-",
        ]
        .iter()
        .find_map(|p| token(b, i, p, 10, b"-", "a Slack token")),
        b'r' => token(b, i, "rk_live_", 16, b"", "a Stripe restricted key"),
        b'n' => token(b, i, "npm_", 36, b"", "an npm token"),
        b'p' => token(b, i, "pypi-AgEI", 50, b"_-", "a PyPI token"),
        b'h' | b'H' => starts_with_ignore_case(&b[i..], b"hooks.slack.com/services/")
            .then_some((25, "a Slack webhook URL")),
        b'"' => gcp_key_id(b, i),
        b'e' => jwt(b, i),
        b':' => url_credentials(b, i),
        b'?' | b'&' => query_credential(b, i),
        _ => None,
    }
    .or_else(|| aws_secret_key(b, i))
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_base64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'/' || c == b'+'
}

fn at_boundary(b: &[u8], i: usize) -> bool {
    i == 0 || !is_base64(b[i - 1])
}

fn base64_run(b: &[u8], i: usize) -> usize {
    b[i..].iter().take_while(|c| is_base64(**c)).count()
}

fn starts_with_ignore_case(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
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
    let n = b[i + prefix.len()..]
        .iter()
        .take_while(|c| is_word(**c) || extra.contains(c))
        .count();
    (n >= min).then_some((prefix.len() + n, what))
}

/// `Key=value` in a connection string, the value at least `min` base64 characters.
fn key_value(
    b: &[u8],
    i: usize,
    key: &str,
    min: usize,
    what: &'static str,
) -> Option<(usize, &'static str)> {
    if !b[i..].starts_with(key.as_bytes()) || (i > 0 && is_word(b[i - 1])) {
        return None;
    }
    let from = i + key.len();
    let n = b[from..]
        .iter()
        .take_while(|c| is_base64(**c) || **c == b'=')
        .count();
    (n >= min).then_some((key.len() + n, what))
}

fn aws_key_id(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let w = b.get(i..i + 20)?;
    let ok = ["AKIA", "ASIA", "ABIA", "ACCA"]
        .iter()
        .any(|p| w.starts_with(p.as_bytes()))
        && w[4..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && (i == 0 || !is_word(b[i - 1]))
        && b.get(i + 20).is_none_or(|c| !is_word(*c));
    ok.then_some((20, "an AWS access key id"))
}

/// An AWS secret access key (judged once per run of base64 characters, at its start, so
/// the scan stays linear): exactly 40 base64 characters, mixed case with digits and a
/// `/` or `+` (what tells it from a hash, an id or a word). A run right after a `.` is the
/// tail of a dotted name, not a key: a URL's `com/portal/WideSvc07AvailabilityBelowSLO`.
fn aws_secret_key(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    if !at_boundary(b, i)
        || (i > 0 && b[i - 1] == b'.')
        || base64_run(b, i) != 40
        || b.get(i + 40) == Some(&b'=')
    {
        return None;
    }
    let w = &b[i..i + 40];
    let has = |f: fn(&u8) -> bool| w.iter().any(f);
    let ok = has(u8::is_ascii_uppercase)
        && has(u8::is_ascii_lowercase)
        && has(u8::is_ascii_digit)
        && w.iter().any(|c| *c == b'/' || *c == b'+')
        && !looks_like_path(w);
    ok.then_some((40, "an AWS secret access key"))
}

/// `a/b/c` of words: a path, not a key (a key has `/` at most a few times, at random).
fn looks_like_path(w: &[u8]) -> bool {
    w.split(|c| *c == b'/').filter(|s| !s.is_empty()).count() >= 4
}

fn private_key(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let rest = b[i..].strip_prefix(b"-----BEGIN ")?;
    let end = rest
        .iter()
        .take(60)
        .position(|&c| c == b'\n' || c == b'\\')
        .unwrap_or(rest.len().min(60));
    let header = &rest[..end];
    let is_key =
        header.windows(11).any(|w| w == b"PRIVATE KEY") && header.windows(5).any(|w| w == b"-----");
    is_key.then_some((11 + end, "a private key"))
}

/// `"private_key_id": "<40 hex>"`: the key of a Google Cloud service account.
fn gcp_key_id(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    let rest = b[i..].strip_prefix(b"\"private_key_id\"")?;
    let skip = rest
        .iter()
        .take_while(|c| matches!(c, b' ' | b':' | b'"'))
        .count();
    let n = rest[skip..]
        .iter()
        .take_while(|c| c.is_ascii_hexdigit())
        .count();
    (n >= 40).then_some((16 + skip + n, "a Google Cloud service-account key"))
}

fn jwt(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    if !b[i..].starts_with(b"eyJ") || (i > 0 && is_word(b[i - 1])) {
        return None;
    }
    let seg = |from: usize| {
        b.get(from..).map_or(0, |s| {
            s.iter()
                .take_while(|c| is_word(**c) || **c == b'_' || **c == b'-')
                .count()
        })
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

/// Whether a value is a reference to a secret rather than a secret: empty, one whole
/// variable (`${var.x}`, `$(ENV)`, `{{ .x }}`), or a boolean written as a string.
pub fn is_reference(s: &str) -> bool {
    let t = s.trim();
    let whole = |open: &str, close: &str| {
        t.strip_prefix(open)
            .and_then(|r| r.strip_suffix(close))
            .is_some_and(|inner| !inner.contains(close) && !inner.contains(open))
    };
    t.is_empty()
        || whole("${", "}")
        || whole("$(", ")")
        || whole("{{", "}}")
        || matches!(t, "true" | "false")
}

/// `scheme://user:password@host` or `scheme://TOKEN@host`: a credential in a URL, wherever
/// the URL stands (quoted, in a query, in a comment).
fn url_credentials(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    if !b[i..].starts_with(b"://") {
        return None;
    }
    let start = i + 3;
    // Quotes do not end the authority: `user:pa'ss@host` is still a password.
    let authority_len = b[start..]
        .iter()
        .take_while(|&&c| {
            !(matches!(c, b'/' | b'?' | b'#' | b'"' | b'<' | b'>' | b'\\') || c <= b' ')
        })
        .count();
    let authority = &b[start..start + authority_len];
    let at = authority.iter().rposition(|&c| c == b'@')?;
    let userinfo = std::str::from_utf8(&authority[..at]).ok()?;
    let userinfo = userinfo.trim_start_matches(['\'', '`']);
    let found = match userinfo.split_once(':') {
        Some((_, password)) => !is_reference(password),
        None => looks_like_token(userinfo),
    };
    found.then_some((3 + authority_len, "a credential in a URL"))
}

/// A user name that is a token: 20 or more characters of a token's alphabet, with digits
/// and letters (`https://<40 hex>@github.com/…`).
fn looks_like_token(s: &str) -> bool {
    s.len() >= 20
        && s.bytes().all(|c| is_word(c) || c == b'_' || c == b'-')
        && s.bytes().any(|c| c.is_ascii_digit())
        && s.bytes().any(|c| c.is_ascii_alphabetic())
}

/// `?access_token=…`, `&password=…`: a credential in a query string.
fn query_credential(b: &[u8], i: usize) -> Option<(usize, &'static str)> {
    const NAMES: &[&str] = &[
        "access_token",
        "auth_token",
        "private_token",
        "refresh_token",
        "token",
        "api_key",
        "apikey",
        "client_secret",
        "password",
        "passwd",
        "secret",
    ];
    let rest = &b[i + 1..];
    let name = NAMES.iter().find(|n| {
        starts_with_ignore_case(rest, n.as_bytes()) && rest.get(n.len()) == Some(&b'=')
    })?;
    let from = i + 1 + name.len() + 1;
    let n = b[from..]
        .iter()
        .take_while(|c| !(matches!(c, b'&' | b'#' | b'"' | b'\'' | b'<' | b'>') || **c <= b' '))
        .count();
    let value = std::str::from_utf8(&b[from..from + n]).ok()?;
    (n >= 6 && !is_reference(value)).then_some((from + n - i, "a credential in a URL query"))
}

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

/// Normalised field names that end like a secret's but hold the *name* of a Secret (a Helm
/// chart's `credentials.existingSecret`).
const SECRET_REFERENCE_ENDINGS: &[&str] = &["existingsecret"];

/// Whether a field or variable name says that it holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    // Compared from the end, without building the normalised name: this runs on every key
    // of every rendered object.
    let norm = name
        .bytes()
        .rev()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_lowercase());
    let ends_with = |e: &&str| {
        let mut rest = norm.clone();
        e.bytes().rev().all(|b| rest.next() == Some(b))
    };
    SECRET_NAME_ENDINGS.iter().any(ends_with) && !SECRET_REFERENCE_ENDINGS.iter().any(ends_with)
}

#[cfg(test)]
#[path = "secrets_table.rs"]
mod table;
