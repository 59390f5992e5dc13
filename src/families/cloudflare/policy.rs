//! Policy rules on the CloudFlare rulesets of a rendered `cloudflare/*.tf.json` file (ids
//! `PG-E…`, documented with the others in [`crate::validate::policy::RULES`] and SECURITY.md).
//!
//! A ruleset expression is only trusted when it is one top-level conjunction
//! (`a and b and …`): then each required term demonstrably holds for every request the rule
//! matches. Anything else (a top-level `or`, `xor`, `||`) cannot be proven by looking at its
//! terms and is reported, whatever it means. This is deliberately stricter than CloudFlare's
//! grammar: portalgen renders only conjunctions, and a template that does not is refused.
//!
//! A caching rule is held to the API's rules (PG-E001, PG-E002) unless one of its terms only
//! matches static assets (`/static/` or file extensions): a system routes its APIs under any
//! prefix, so "an API cache rule" cannot mean "an expression that names `/api`".

use serde_json::Value;

use crate::diagnostic::Diagnostic;

/// The term that keeps a request with an `Authorization` header (any case) out of a rule.
/// Stated here on its own, not taken from the model: the check must not change when the
/// generator does.
pub const AUTHORIZATION_BYPASS: &str =
    "not any(lower(http.request.headers.names[*])[*] eq \"authorization\")";

/// The longest rule expression CloudFlare accepts, in characters.
pub const MAX_EXPRESSION: usize = 4096;

/// The findings about the rulesets of one Terraform JSON document.
pub fn check(file: &str, doc: &Value) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(rulesets) = doc
        .pointer("/resource/cloudflare_ruleset")
        .and_then(Value::as_object)
    else {
        return out;
    };
    for (key, ruleset) in rulesets {
        let cache_phase =
            ruleset.get("phase").and_then(Value::as_str) == Some("http_request_cache_settings");
        let rules = ruleset.get("rules").and_then(Value::as_array);
        for (i, rule) in rules.into_iter().flatten().enumerate() {
            let at = format!("cloudflare_ruleset.{key}: rules[{i}]");
            let expression = rule.get("expression").and_then(Value::as_str).unwrap_or("");
            if expression.len() > MAX_EXPRESSION {
                out.push(
                    Diagnostic::new(
                        file,
                        format!(
                            "rule expression is {} characters long; CloudFlare accepts at most {MAX_EXPRESSION}",
                            expression.len()
                        ),
                    )
                    .with_path(at.clone())
                    .with_hint(Some(
                        "fewer portal domains in one zone (or a zone of their own for some environments), or fewer or shorter routed prefixes in the system file".into(),
                    )),
                );
            }
            let mut push = |id: &str, message: String| {
                out.push(Diagnostic::new(file, format!("[{id}] {message}")).with_path(at.clone()));
            };
            let terms = conjuncts(expression);
            let name = rule
                .get("ref")
                .and_then(Value::as_str)
                .map_or_else(|| format!("rule {i}"), |r| format!("rule '{r}'"));
            let scoped = terms
                .as_ref()
                .is_some_and(|t| t.iter().any(|t| is_host_scope(t)));
            if !scoped {
                push(
                    "PG-E003",
                    format!("{name} is not limited to the portal's hosts: its expression must be a conjunction with an http.host term"),
                );
            }
            let parameters = rule.get("action_parameters");
            let caches = rule.get("action").and_then(Value::as_str) == Some("set_cache_settings")
                && parameters
                    .and_then(|p| p.get("cache"))
                    .and_then(Value::as_bool)
                    == Some(true);
            // Every caching rule is held to the API's rules unless it only matches static
            // assets: an API is not only `/api` (a system routes its services anywhere).
            let static_only = terms
                .as_ref()
                .is_some_and(|t| t.iter().any(|t| is_static_only(t)));
            if !(cache_phase && caches) || static_only {
                continue;
            }
            let has = |term: &str| terms.as_ref().is_some_and(|t| t.contains(&term));
            let cookie_bypass = terms.as_ref().is_some_and(|t| {
                t.iter().any(|t| {
                    t.starts_with("not (http.cookie contains \"")
                        || t.starts_with("not http.cookie contains \"")
                })
            });
            let auth_bypass = has(AUTHORIZATION_BYPASS);
            if !(cookie_bypass && auth_bypass) {
                let missing = match (cookie_bypass, auth_bypass) {
                    (false, false) => "a session cookie or an Authorization header",
                    (false, true) => "a session cookie",
                    _ => "an Authorization header",
                };
                push(
                    "PG-E001",
                    format!("API cache {name} does not bypass requests that carry {missing}: one user's response could be served to another"),
                );
            }
            for ttl in ["edge_ttl", "browser_ttl"] {
                let mode = parameters
                    .and_then(|p| p.pointer(&format!("/{ttl}/mode")))
                    .and_then(Value::as_str);
                if mode == Some("override_origin") {
                    push(
                        "PG-E002",
                        format!("API cache {name}: {ttl} overrides the origin, so Cache-Control private/no-store is ignored"),
                    );
                }
            }
            if parameters.and_then(|p| p.get("origin_cache_control")) == Some(&Value::Bool(false)) {
                push(
                    "PG-E002",
                    format!("API cache {name} turns origin_cache_control off"),
                );
            }
        }
    }
    out
}

/// The top-level terms of `a and b and …` (also `&&`), each trimmed; `None` if the
/// expression joins terms in any other way at the top level, or is malformed. A fully
/// parenthesised expression that is not itself a conjunction is one term.
pub fn conjuncts(expression: &str) -> Option<Vec<&str>> {
    let e = expression.trim();
    if let Some(inner) = unwrap(e) {
        return Some(conjuncts(inner).unwrap_or_else(|| vec![e]));
    }
    split_top(e, Joiner::And)
}

/// Whether a term only tests the host: `http.host …`, `ends_with(http.host, …)`, or a
/// disjunction of such tests.
pub fn is_host_scope(term: &str) -> bool {
    let t = unwrap(term.trim()).unwrap_or(term.trim());
    let tests = |p: &str| {
        let p = p.trim();
        (p.starts_with("http.host ") || p.starts_with("ends_with(http.host, "))
            && !p.contains(" and ")
            && !p.contains(" or ")
    };
    split_top(t, Joiner::Or).is_some_and(|parts| parts.into_iter().all(tests))
}

/// Whether a term only matches static assets: `starts_with(http.request.uri.path,
/// "/static/")`, a test of `http.request.uri.path.extension`, or a disjunction of such tests.
pub fn is_static_only(term: &str) -> bool {
    let t = unwrap(term.trim()).unwrap_or(term.trim());
    let tests = |p: &str| {
        let p = p.trim();
        p == "starts_with(http.request.uri.path, \"/static/\")"
            || p.starts_with("http.request.uri.path.extension in {")
            || p.starts_with("http.request.uri.path.extension eq \"")
    };
    // Split at the top level only, so no part holds an `and` or an `or` of its own.
    split_top(t, Joiner::Or).is_some_and(|parts| parts.into_iter().all(tests))
}

/// `(x)` -> `x`, when the outer parentheses enclose the whole expression.
fn unwrap(e: &str) -> Option<&str> {
    let inner = e.strip_prefix('(')?.strip_suffix(')')?;
    balanced(inner).then(|| inner.trim())
}

#[derive(Clone, Copy, PartialEq)]
enum Joiner {
    And,
    Or,
}

/// The top-level terms joined by `joiner`; `None` for any other top-level boolean operator,
/// an empty term, or unbalanced brackets and strings.
fn split_top(e: &str, joiner: Joiner) -> Option<Vec<&str>> {
    let bytes = e.as_bytes();
    let (mut depth, mut in_string, mut start) = (0i32, false, 0usize);
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'(' | b'{' | b'[' => depth += 1,
                b')' | b'}' | b']' => {
                    depth -= 1;
                    if depth < 0 {
                        return None;
                    }
                }
                _ if depth == 0 => {
                    let rest = &e[i..];
                    let word = |w: &str| {
                        rest.starts_with(w)
                            && (i == 0
                                || bytes[i - 1].is_ascii_whitespace()
                                || bytes[i - 1] == b')')
                            && rest[w.len()..]
                                .chars()
                                .next()
                                .is_none_or(|n| n.is_ascii_whitespace() || n == '(')
                    };
                    let and = if rest.starts_with("&&") {
                        2
                    } else if word("and") {
                        3
                    } else {
                        0
                    };
                    let or = if rest.starts_with("||") || word("or") {
                        2
                    } else {
                        0
                    };
                    if rest.starts_with("^^") || word("xor") {
                        return None;
                    }
                    let (len, other) = match joiner {
                        Joiner::And => (and, or),
                        Joiner::Or => (or, and),
                    };
                    if other > 0 {
                        return None;
                    }
                    if len > 0 {
                        out.push(e[start..i].trim());
                        start = i + len;
                        i += len;
                        continue;
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    if depth != 0 || in_string {
        return None;
    }
    out.push(e[start..].trim());
    out.iter().all(|t| !t.is_empty()).then_some(out)
}

/// Whether every bracket opened in `s` (outside strings) closes in it, never going below 0.
fn balanced(s: &str) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0i32, false, false);
    for c in s.chars() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '(' | '{' | '[' => depth += 1,
            ')' | '}' | ']' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0 && !in_string
}

#[cfg(test)]
mod tests {
    use super::{conjuncts, is_host_scope, is_static_only};

    #[test]
    fn conjunctions_split_at_the_top_level_only() {
        assert_eq!(
            conjuncts("(a or b) and not (c and \"x and y\") && d"),
            Some(vec!["(a or b)", "not (c and \"x and y\")", "d"])
        );
        assert_eq!(conjuncts("(a and b)"), Some(vec!["a", "b"]));
        assert_eq!(conjuncts("(a or b)"), Some(vec!["(a or b)"]));
        assert_eq!(conjuncts("(a) or (b)"), None);
        assert_eq!(conjuncts("a and b or true"), None);
        assert_eq!(conjuncts("a || b"), None);
        assert_eq!(conjuncts("a and (b"), None);
        assert_eq!(conjuncts("a and"), None);
        assert!(is_host_scope(
            "(http.host in {\"a\"} or ends_with(http.host, \".a\"))"
        ));
        assert!(is_host_scope("http.host eq \"a\""));
        assert!(!is_host_scope("(http.host eq \"a\" or true)"));
        assert!(!is_host_scope("not (http.host eq \"a\")"));
        assert!(!is_host_scope("(http.host eq \"a\" and x) or y"));
        assert!(is_static_only(
            "(starts_with(http.request.uri.path, \"/static/\") or http.request.uri.path.extension in {\"css\" \"js\"})"
        ));
        assert!(is_static_only("http.request.uri.path.extension eq \"png\""));
        assert!(!is_static_only(
            "(starts_with(http.request.uri.path, \"/static/\") or starts_with(http.request.uri.path, \"/orders\"))"
        ));
        assert!(!is_static_only(
            "starts_with(http.request.uri.path, \"/static\")"
        ));
        assert!(!is_static_only(
            "http.request.uri.path.extension in {\"css\"} or true"
        ));
        assert_eq!(
            conjuncts("ends_with(http.host, \".x\") and band"),
            Some(vec!["ends_with(http.host, \".x\")", "band"])
        );
    }
}
