//! A fast reader for the block-style YAML that portalgen's own templates emit.
//!
//! Every rendered document is parsed back before it is written. serde-saphyr reads about
//! 9 MB/s here, which made parsing 60,000 tenant objects the largest cost of a render. This
//! reader accepts only a narrow, unambiguous subset — block mappings and sequences, one-line
//! flow sequences of scalars, empty `{}`/`[]`, plain scalars that are plainly strings,
//! integers, simple decimals, booleans or null, and one-line quoted scalars — and returns
//! `None` for anything else (anchors, tags, block scalars, multi-line scalars, tabs,
//! duplicate keys, odd indentation, numbers in unusual notations, YAML 1.1 words …), in
//! which case the caller parses the text with serde-saphyr. On the subset it accepts, it
//! gives exactly serde-saphyr's result: `tests/yaml_subset/` (in the `fuzz` test binary)
//! checks that on every golden file and on generated documents.

use serde_json::{Map, Number, Value};

/// The most lines holding a `#` that this reader takes on (see [`parse_documents`]).
const MAX_COMMENTS: usize = 32;

/// The documents of `text`, or `None` if `text` leaves the subset.
pub fn parse_documents(text: &str) -> Option<Vec<Value>> {
    // Tabs, carriage returns, other control characters, a byte-order mark, Unicode line
    // separators and the characters YAML does not count as printable (the noncharacters
    // U+FFFE and U+FFFF, and surrogates, which a `str` cannot hold): YAML readers treat them
    // in ways this reader does not model (serde-saphyr and kubectl refuse C0 controls and
    // U+FFFF), so leave them all to serde-saphyr.
    // (An ASCII text, which is every text portalgen's templates write, needs only the
    // byte test: the characters below are all outside ASCII.)
    if text.bytes().any(|c| c < b' ' && c != b'\n' || c == 0x7f)
        || !text.is_ascii()
            && text.chars().any(|c| {
                c.is_control() && c != '\n'
                    || matches!(
                        c,
                        '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{fffe}' | '\u{ffff}'
                    )
            })
    {
        return None;
    }
    let mut lines = Vec::with_capacity(text.len() / 24);
    let mut docs = Vec::new();
    // serde-saphyr refuses a text whose comments pile up while it looks ahead (more than
    // 96 buffered comment events): leave texts with many comments to it, so that the two
    // readers never disagree (portalgen's own files carry a handful).
    let mut comments = 0usize;
    for raw in text.split('\n') {
        if raw.contains('#') {
            comments += 1;
            if comments > MAX_COMMENTS {
                return None;
            }
        }
        if raw == "---" {
            docs.push(std::mem::take(&mut lines));
            continue;
        }
        if raw.starts_with("---") || raw.starts_with("...") || raw.starts_with('%') {
            return None;
        }
        let content = raw.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = raw.len() - content.len();
        lines.push(Line { indent, content });
    }
    docs.push(lines);
    let mut out = Vec::with_capacity(docs.len());
    for doc in docs {
        if doc.is_empty() {
            continue;
        }
        let mut p = Parser {
            lines: &doc,
            pos: 0,
        };
        let indent = doc[0].indent;
        if indent != 0 {
            return None;
        }
        let v = p.node(indent)?;
        if p.pos != doc.len() {
            return None;
        }
        out.push(v);
    }
    Some(out)
}

/// The longest implicit key YAML allows, in characters (counted here in bytes, which is
/// stricter).
const MAX_IMPLICIT_KEY: usize = 1024;

#[derive(Clone, Copy)]
struct Line<'a> {
    indent: usize,
    content: &'a str,
}

struct Parser<'a, 'b> {
    lines: &'b [Line<'a>],
    pos: usize,
}

impl<'a> Parser<'a, '_> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    /// A block node whose lines start at exactly `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let line = self.peek()?;
        if line.indent != indent {
            return None;
        }
        if is_seq_entry(line.content) {
            self.sequence(indent)
        } else {
            self.mapping(indent, None)
        }
    }

    fn sequence(&mut self, indent: usize) -> Option<Value> {
        let mut items = Vec::new();
        while let Some(line) = self.peek() {
            if line.indent != indent || !is_seq_entry(line.content) {
                break;
            }
            self.pos += 1;
            let rest = line.content[1..].trim_start_matches(' ');
            if rest.is_empty() {
                items.push(self.nested(indent, false)?);
            } else if is_seq_entry(rest) {
                return None;
            } else if let Some((key, value)) = split_key(rest) {
                // A compact mapping: its first entry on the dash line, the rest below it.
                let inner = indent + (line.content.len() - rest.len());
                items.push(self.mapping(inner, Some((key, value)))?);
            } else {
                items.push(inline(rest)?);
            }
        }
        Some(Value::Array(items))
    }

    fn mapping(&mut self, indent: usize, first: Option<(&'a str, &'a str)>) -> Option<Value> {
        let mut map = Map::new();
        let mut pending = first;
        loop {
            let (key, value) = match pending.take() {
                Some(kv) => kv,
                None => {
                    let Some(line) = self.peek() else { break };
                    if line.indent != indent || is_seq_entry(line.content) {
                        break;
                    }
                    self.pos += 1;
                    split_key(line.content)?
                }
            };
            // An implicit key is at most 1,024 characters long (YAML 1.2, 7.4.2), and `<<`
            // is a merge key to some readers: serde-saphyr decides.
            if key.len() > MAX_IMPLICIT_KEY || key == "<<" {
                return None;
            }
            let key = key_text(key)?;
            let v = if value.is_empty() {
                self.nested(indent, true)?
            } else {
                inline(value)?
            };
            if map.insert(key, v).is_some() {
                return None; // duplicate key: leave the error to serde-saphyr
            }
        }
        if let Some(line) = self.peek() {
            if line.indent > indent {
                return None;
            }
        }
        Some(Value::Object(map))
    }

    /// The value of `key:` or `-` with nothing after it: a deeper block, a sequence at the
    /// same indentation (for a mapping key), or null.
    fn nested(&mut self, indent: usize, same_indent_sequence: bool) -> Option<Value> {
        match self.peek() {
            Some(line) if line.indent > indent => self.node(line.indent),
            Some(line)
                if same_indent_sequence && line.indent == indent && is_seq_entry(line.content) =>
            {
                self.sequence(indent)
            }
            _ => Some(Value::Null),
        }
    }
}

fn is_seq_entry(content: &str) -> bool {
    content == "-" || content.starts_with("- ")
}

/// `key: value` or `key:` → (key, value). `None` if the line is not a simple entry.
fn split_key(content: &str) -> Option<(&str, &str)> {
    let (key_end, after) = if content.starts_with('"') || content.starts_with('\'') {
        let end = quoted_end(content)?;
        (end, &content[end..])
    } else {
        let end = find_pair(content.as_bytes(), b':', b' ')
            .or_else(|| content.strip_suffix(':').map(|s| s.len()))?;
        (end, &content[end..])
    };
    let rest = after.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((&content[..key_end], rest.trim_start_matches(' ')))
}

/// The index of the first `a` directly followed by `b` (what `str::find` does for a
/// two-byte pattern, without building a searcher for each of a million short strings).
fn find_pair(s: &[u8], a: u8, b: u8) -> Option<usize> {
    s.windows(2).position(|w| w[0] == a && w[1] == b)
}

/// The byte index just past the closing quote of a quoted scalar starting at 0.
fn quoted_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let q = b[0];
    let mut i = 1;
    while i < b.len() {
        if q == b'"' && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

fn key_text(key: &str) -> Option<String> {
    match inline(key)? {
        Value::String(s) => Some(s),
        _ => None, // a key that would not read as a string: let serde-saphyr decide
    }
}

/// A value written on the line itself: a scalar or a one-line flow sequence.
fn inline(s: &str) -> Option<Value> {
    // An empty key (`: x`) or value reaches here as "": not in the subset.
    match *s.as_bytes().first()? {
        b'"' | b'\'' => {
            let end = quoted_end(s)?;
            if end != s.len() {
                return None;
            }
            quoted(s).map(Value::String)
        }
        b'[' => flow_sequence(s),
        b'{' => (s == "{}").then(|| Value::Object(Map::new())),
        _ => plain(s),
    }
}

fn flow_sequence(s: &str) -> Option<Value> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    if inner.trim().is_empty() {
        return Some(Value::Array(Vec::new()));
    }
    let mut items = Vec::new();
    for part in inner.split(',') {
        let part = part.trim_matches(' ');
        if part.is_empty() || part.contains(['[', ']', '{', '}']) {
            return None;
        }
        let item = if part.starts_with('"') || part.starts_with('\'') {
            if quoted_end(part)? != part.len() {
                return None;
            }
            Value::String(quoted(part)?)
        } else if part.contains(['"', '\'']) {
            return None;
        } else {
            plain(part)?
        };
        items.push(item);
    }
    Some(Value::Array(items))
}

fn quoted(s: &str) -> Option<String> {
    let body = &s[1..s.len() - 1];
    if s.starts_with('\'') {
        return Some(body.replace("''", "'"));
    }
    if !body.contains('\\') {
        return Some(body.to_owned());
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '0' => out.push('\0'),
            _ => return None,
        }
    }
    Some(out)
}

/// A plain scalar, resolved as YAML 1.2's core schema does — but only in its plain forms.
fn plain(s: &str) -> Option<Value> {
    let first = *s.as_bytes().first()?;
    if b"&*!|>%@`?#,[]{}".contains(&first)
        || find_pair(s.as_bytes(), b':', b' ').is_some()
        || find_pair(s.as_bytes(), b' ', b'#').is_some()
        || s.ends_with(':')
    {
        return None;
    }
    if first == b'-' && s.len() > 1 && !s.as_bytes()[1].is_ascii_digit() {
        return None;
    }
    match s {
        "null" | "Null" | "NULL" | "~" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    // YAML 1.1 booleans and other spellings of booleans, null and special floats in any
    // case (`tRue`, `NaN`, `Inf`): readers disagree (serde-saphyr reads `tRue` as true), so
    // do not decide here.
    let ambiguous = [
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity",
    ];
    if s.len() <= 8 && ambiguous.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        return None;
    }
    if first.is_ascii_digit() || first == b'-' || first == b'+' || first == b'.' {
        return number(s).or_else(|| digit_led_string(s));
    }
    if s.ends_with(' ') {
        return None;
    }
    Some(Value::String(s.to_owned()))
}

/// A scalar that starts with a digit but that no number (or date) notation of YAML 1.1 or
/// 1.2 can match — Kubernetes quantities `100m`, `2Gi`, durations `30d`, `25%`, cron lines
/// `0 2 * * *` — is a string to every reader.
fn digit_led_string(s: &str) -> Option<Value> {
    let b = s.as_bytes();
    if !b[0].is_ascii_digit() || s.ends_with(' ') || looks_like_date(b) || could_be_number(s) {
        return None;
    }
    Some(Value::String(s.to_owned()))
}

/// `2001-12-14…`: YAML 1.1 timestamps, which readers resolve differently.
fn looks_like_date(b: &[u8]) -> bool {
    b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// Whether any YAML 1.1 or 1.2 reader could take `s` (which starts with a digit) for a
/// number: hex, octal, binary, decimal with underscores, sexagesimal, exponent.
fn could_be_number(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    let all =
        |bytes: &[u8], ok: &dyn Fn(u8) -> bool| !bytes.is_empty() && bytes.iter().all(|&c| ok(c));
    if let Some(rest) = lower.strip_prefix("0x") {
        return all(rest.as_bytes(), &|c| c.is_ascii_hexdigit() || c == b'_');
    }
    if let Some(rest) = lower
        .strip_prefix("0o")
        .or_else(|| lower.strip_prefix("0b"))
    {
        return all(rest.as_bytes(), &|c| c.is_ascii_digit() || c == b'_');
    }
    let (mantissa, exponent) = match lower.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (lower.as_str(), None),
    };
    let mantissa_ok = all(mantissa.as_bytes(), &|c| {
        c.is_ascii_digit() || b"_:.".contains(&c)
    }) && mantissa.bytes().filter(|&c| c == b'.').count() <= 1;
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        all(e.as_bytes(), &|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// Decimal integers and simple decimals; anything else that starts like a number is left
/// to serde-saphyr (`0x1F`, `1e3`, `.inf`, `12:30`, `1_000`, `007`, `2.14.0` …).
fn number(s: &str) -> Option<Value> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let leading_zero = digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.");
    if digits.is_empty() || leading_zero {
        return None;
    }
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<i64>().ok().map(|i| Value::Number(i.into()));
    }
    let (int, frac) = digits.split_once('.')?;
    if int.is_empty()
        || frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Number::from_f64(s.parse().ok()?).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn saphyr(text: &str) -> Vec<Value> {
        serde_saphyr::from_multiple(text).unwrap()
    }

    #[test]
    fn reads_what_templates_write() {
        let text = "# c\napiVersion: v1\nkind: X\nmetadata:\n  name: a\n  labels:\n    a.b/c: \"on\"\n    num: '1'\nspec:\n  list:\n    - a\n    - b: 1\n      c: [x, z]\n  same:\n  - 3\n  e: {}\n  f: []\n  g:\n  h: -1.5\n  q: 100m\n  r: 2Gi\n  s: 30d\n  t: 25%\n  u: 0 2 * * *\n  v: 5xx,reset\n  w: [\"\", x]\n---\nkind: Z\n";
        let fast = parse_documents(text).unwrap();
        assert_eq!(fast, saphyr(text));
        assert_eq!(fast[0]["spec"]["list"][1], json!({"b": 1, "c": ["x", "z"]}));
    }

    #[test]
    fn leaves_everything_else_to_serde_saphyr() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: |\n  text\n",
            "a: yes\n",
            "a: 0x1F\n",
            "a: 12:30\n",
            "a: 1\na: 2\n",
            "a:\n\tb: 1\n",
            "a: b\n  c\n",
            "a: !!str 1\n",
            "a: {b: 1}\n",
            "a: \"x\\u0041\"\n",
            "a: 1e3\n",
            "a: 0b101\n",
            "a: 1:30\n",
            "a: 2001-12-14\n",
            "a: 1e-3\n",
            "a: 0o17\n",
            "a: 1_000\n",
            "a: .inf\n",
            "a: 007\n",
            "- - a\n",
            ": x\n",
            "a:\n  : x\n",
            "a: \u{1b}[8m\n",
            "a: x\u{0}y\n",
            "\u{feff}a: 1\n",
            "a: x\u{85}y\n",
            "<<: {}\n",
            "<<: 1\n",
            "a: tRue\n",
            "a: nuLL\n",
            "a: NaN\n",
            "a: Inf\n",
        ] {
            assert!(
                parse_documents(text).is_none(),
                "{text:?} should be left to serde-saphyr"
            );
        }
    }
}
