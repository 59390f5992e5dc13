//! PromQL: every expression of a PrometheusRule, and every query of a Grafana dashboard
//! (after its variables are substituted), is parsed with the `promql-parser` crate; alerting
//! rules must carry a severity label and summary, description and runbook_url annotations;
//! no group, alert or recording rule is named twice in one PrometheusRule (services' names
//! are derived from theirs, see `slo`, and two derivations could meet).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::validate::At;

use crate::diagnostic::{Diagnostic, FieldPath};
use crate::validate::Document;

/// The severities routed by the AlertmanagerConfig.
pub const SEVERITIES: [&str; 3] = ["critical", "warning", "info"];

/// Parses one PromQL expression.
pub fn parse(expr: &str) -> Result<(), String> {
    promql_parser::parser::parse(expr)
        .map(|_| ())
        .map_err(|e| e.trim().to_owned())
}

/// Every problem of a PrometheusRule object, or of an Argo Rollouts AnalysisTemplate's
/// Prometheus queries (nothing for other kinds).
pub fn check_document(file: &str, doc: &Document) -> Vec<Diagnostic> {
    if doc.kind() == "AnalysisTemplate" {
        return check_analysis(file, doc);
    }
    if doc.kind() != "PrometheusRule" {
        return Vec::new();
    }
    let mut out = Vec::new();
    // Where each group and rule name was first seen.
    let mut seen: HashMap<(&str, &str), &str> = HashMap::new();
    let groups = doc.value.at("/spec/groups").and_then(Value::as_array);
    for group in groups.into_iter().flatten() {
        let gname = group
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if seen.insert(("group", gname), gname).is_some() {
            out.push(
                Diagnostic::new(file, format!("two rule groups are named '{gname}'"))
                    .object(doc.object_ref())
                    .with_path(FieldPath::root().key(format!("group '{gname}'"))),
            );
        }
        let rules = group.get("rules").and_then(Value::as_array);
        for rule in rules.into_iter().flatten() {
            let (kind, name) = match (rule.get("record"), rule.get("alert")) {
                (Some(r), _) => ("record", r.as_str().unwrap_or_default()),
                (None, Some(a)) => ("alert", a.as_str().unwrap_or_default()),
                (None, None) => ("rule", ""),
            };
            let at = FieldPath::root().key(format!("group '{gname}', {kind} '{name}'"));
            let mut problem = |message: String, hint: Option<String>| {
                out.push(
                    Diagnostic::new(file, message)
                        .object(doc.object_ref())
                        .with_path(at.clone())
                        .with_hint(hint),
                );
            };
            if kind != "rule" {
                if let Some(first) = seen.insert((kind, name), gname) {
                    problem(
                        format!("{kind} '{name}' is already defined in group '{first}'"),
                        Some("rule and alert names must be unique in the file".into()),
                    );
                }
            }
            match rule.get("expr") {
                Some(Value::String(expr)) => {
                    if let Err(e) = parse(expr) {
                        problem(
                            format!("PromQL expression does not parse: {e}"),
                            Some(format!("expr: {expr}")),
                        );
                    }
                }
                Some(Value::Number(_)) => {}
                _ => problem("the rule has no expr".into(), None),
            }
            match kind {
                "record" if !is_metric_name(name) => problem(
                    format!("'{name}' is not a valid metric name for a recording rule"),
                    None,
                ),
                "alert" => check_alert(rule, name, &mut problem),
                "rule" => problem("a rule needs either record or alert".into(), None),
                _ => {}
            }
        }
    }
    out
}

/// An AnalysisTemplate: each Prometheus query parses (its `{{args.…}}` sit in label
/// values, where PromQL sees text) and names only the template's arguments.
fn check_analysis(file: &str, doc: &Document) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let args: Vec<&str> = doc
        .value
        .at("/spec/args")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("name").and_then(Value::as_str))
        .collect();
    let metrics = doc.value.at("/spec/metrics").and_then(Value::as_array);
    for (i, metric) in metrics.into_iter().flatten().enumerate() {
        let Some(query) = metric
            .at("/provider/prometheus/query")
            .and_then(Value::as_str)
        else {
            continue;
        };
        let at = FieldPath::root()
            .key("spec")
            .key("metrics")
            .index(i)
            .key("provider")
            .key("prometheus")
            .key("query");
        let mut problem = |message: String| {
            out.push(
                Diagnostic::new(file, message)
                    .object(doc.object_ref())
                    .with_path(at.clone())
                    .with_hint(Some(format!("query: {query}"))),
            );
        };
        if let Err(e) = parse(query) {
            problem(format!("PromQL query does not parse: {e}"));
        }
        let mut rest = query;
        while let Some(start) = rest.find("{{") {
            let Some(end) = rest[start..].find("}}") else {
                break;
            };
            let inner = rest[start + 2..start + end].trim();
            match inner.strip_prefix("args.") {
                Some(arg) if args.contains(&arg) => {}
                _ => problem(format!(
                    "the query's '{{{{{inner}}}}}' is not an argument of the template (args: {})",
                    args.join(", ")
                )),
            }
            rest = &rest[start + end + 2..];
        }
    }
    out
}

fn check_alert(rule: &Value, name: &str, problem: &mut impl FnMut(String, Option<String>)) {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        problem(format!("'{name}' is not a valid alert name"), None);
    }
    let label = |k: &str| {
        rule.get("labels")
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
    };
    match label("severity") {
        Some(s) if SEVERITIES.contains(&s) => {}
        Some(s) => problem(
            format!("severity '{s}' is not one of {}", SEVERITIES.join(", ")),
            None,
        ),
        None => problem(
            "the alert has no severity label".into(),
            Some(format!("one of {}", SEVERITIES.join(", "))),
        ),
    }
    let annotation = |k: &str| {
        rule.get("annotations")
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
    };
    for key in ["summary", "description"] {
        if annotation(key).is_none_or(|v| v.trim().is_empty()) {
            problem(format!("the alert has no {key} annotation"), None);
        }
    }
    match annotation("runbook_url") {
        Some(url) if url.starts_with("https://") && url.len() > "https://".len() => {}
        Some(url) => problem(format!("runbook_url '{url}' is not an https URL"), None),
        None => problem("the alert has no runbook_url annotation".into(), None),
    }
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// What Grafana's built-in interval variables stand for while parsing.
const BUILTIN_DURATION: &str = "5m";

/// A dashboard query with its Grafana variables replaced, ready to parse: built-in
/// intervals (`$__rate_interval`, `$__interval`, `$__range`, …) by a duration, the
/// dashboard's own variables (`$namespace`, `${tenant}`, `${tenant:regex}`, `[[x]]`) by the
/// value in `vars` (name -> stand-in). A variable the dashboard does not define is an error.
pub fn substitute(expr: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(expr.len());
    let mut rest = expr;
    while let Some(i) = rest.find(['$', '[']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let (name, len) = if let Some(t) = tail.strip_prefix("${") {
            match t.find('}') {
                Some(end) => (t[..end].split(':').next().unwrap_or_default(), end + 3),
                None => return Err("unterminated ${ in a Grafana variable".into()),
            }
        } else if let Some(t) = tail.strip_prefix("[[") {
            match t.find("]]") {
                Some(end) => (t[..end].split(':').next().unwrap_or_default(), end + 4),
                None => {
                    out.push('[');
                    rest = &tail[1..];
                    continue;
                }
            }
        } else if let Some(t) = tail.strip_prefix('$') {
            let end = t
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(t.len());
            (&t[..end], end + 1)
        } else {
            out.push('[');
            rest = &tail[1..];
            continue;
        };
        if name.is_empty() {
            return Err("an empty Grafana variable reference".into());
        }
        let value = if name.starts_with("__") {
            match name {
                "__rate_interval" | "__interval" | "__range" | "__auto" => {
                    BUILTIN_DURATION.to_owned()
                }
                "__range_s" | "__range_ms" | "__interval_ms" => "300".to_owned(),
                _ => return Err(format!("unknown Grafana built-in variable ${name}")),
            }
        } else {
            vars.get(name)
                .cloned()
                .ok_or_else(|| format!("variable ${name} is not defined by the dashboard"))?
        };
        out.push_str(&value);
        rest = &tail[len..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> BTreeMap<String, String> {
        BTreeMap::from([("tenant".to_owned(), "tenant_value".to_owned())])
    }

    #[test]
    fn grafana_variables_are_substituted() {
        let s = substitute(
            "sum(rate(x{tenant=~\"${tenant:regex}\",a=\"$tenant\",b=\"[[tenant]]\"}[$__rate_interval])) + sum(rate(y[1m]))",
            &vars(),
        )
        .unwrap();
        assert_eq!(s, "sum(rate(x{tenant=~\"tenant_value\",a=\"tenant_value\",b=\"tenant_value\"}[5m])) + sum(rate(y[1m]))");
        assert!(parse(&s).is_ok());
        assert!(substitute("rate(x[$__rate_interval])", &BTreeMap::new()).is_ok());
        assert!(substitute("x{a=\"$nope\"}", &vars())
            .unwrap_err()
            .contains("$nope"));
    }

    #[test]
    fn broken_expressions_are_rejected() {
        assert!(parse("sum(rate(http_requests_total[5m]))").is_ok());
        assert!(parse("sum(rate(http_requests_total[5m])").is_err());
        assert!(parse("rate(http_requests_total[5x])").is_err());
        assert!(parse("http_requests_total{status=~\"5..\"} >").is_err());
    }

    #[test]
    fn alerts_without_runbook_or_severity_are_reported() {
        let text = "apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: r, namespace: monitoring}
spec:
  groups:
    - name: g
      rules:
        - alert: NoRunbook
          expr: up == 0
          labels: {severity: page}
          annotations: {summary: s, description: d}
        - record: 'bad name'
          expr: sum(up
    - name: g
      rules:
        - alert: NoRunbook
          expr: up == 0
          labels: {severity: critical}
          annotations: {summary: s, description: d, runbook_url: 'https://r/x'}
";
        let docs = crate::validate::parse_yaml_documents(text).unwrap();
        let problems = check_document("f.yaml", &docs[0]);
        let messages: Vec<_> = problems.iter().map(|d| d.to_string()).collect();
        assert!(
            messages
                .iter()
                .any(|m| m.contains("no runbook_url") && m.contains("alert 'NoRunbook'")),
            "{messages:?}"
        );
        assert!(
            messages.iter().any(|m| m.contains("severity 'page'")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("does not parse") && m.contains("record 'bad name'")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("not a valid metric name")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("two rule groups are named 'g'")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("alert 'NoRunbook' is already defined in group 'g'")),
            "{messages:?}"
        );
    }
}
