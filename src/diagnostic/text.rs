//! Input as a message may show it: control and bidi characters escaped, long text cut.

use std::borrow::Cow;

/// The most characters a message, a field path or a hint keeps (whatever they quote).
pub const MAX_TEXT: usize = 1000;

/// `s` escaped (see [`escape_controls`]) and cut to [`MAX_TEXT`] characters: however a
/// diagnostic is built from hostile input, it stays short and safe to print.
pub(super) fn bounded(s: String) -> String {
    let s = match escape_controls(&s) {
        Cow::Borrowed(_) => s,
        Cow::Owned(escaped) => escaped,
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
pub(super) fn capped(key: &str) -> Cow<'_, str> {
    match key.char_indices().nth(MAX_QUOTE) {
        None => Cow::Borrowed(key),
        Some((at, _)) => Cow::Owned(format!("{}…", &key[..at])),
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
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_hostile(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\n' {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    Cow::Owned(out)
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
