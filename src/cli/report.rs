//! The CI formats shared by `validate`, `render --check` and `diff`: JUnit XML and SARIF
//! 2.1.0, built from one list of [`Item`]s (a finding, a stale file, a changed object).
//! Every item carries its parts as fields: rule, severity, file, line, column, object,
//! path. The JSON reports carry `version` ([`VERSION`]), matching
//! `schemas/reports/<report>.v<VERSION>.schema.json`.

use serde::Serialize;
use serde_json::json;

use crate::diagnostic::Severity;

/// The version of every JSON report's layout: raised when a field changes meaning or
/// goes away (adding a field keeps it).
pub const VERSION: u32 = 1;

/// One thing a CI system shows: a failing test case, a code-scanning alert.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub environment: String,
    /// A policy rule id (`PG-S001`) or portalgen's id of the kind of finding
    /// (`portalgen/spec`, `portalgen/stale`, …; see [`RULES`]).
    pub rule: String,
    pub severity: Severity,
    /// Relative to the project root, with `/` separators.
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub object: Option<String>,
    pub path: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

/// portalgen's own rule ids (policy rules have theirs, see SECURITY.md).
pub const RULES: &[(&str, &str)] = &[
    (
        "portalgen/spec",
        "The environment spec is invalid (YAML, schema, semantic or cross-environment rule).",
    ),
    (
        "portalgen/output",
        "A rendered object fails a check (Kubernetes types, CRD schema, PromQL, dashboards).",
    ),
    (
        "portalgen/stale",
        "The committed rendered tree differs from a fresh render: run portalgen render.",
    ),
    ("portalgen/changed", "A rendered object changes."),
    ("portalgen/added", "A rendered object is added."),
    ("portalgen/removed", "A rendered object is removed."),
];

/// One test suite of a JUnit report: an environment, with the names of its passing cases
/// (its failing ones are the [`Item`]s of that environment).
pub struct Suite {
    pub name: String,
    pub passed: Vec<String>,
}

/// A JUnit XML report: one `<testsuite>` per environment, one failing `<testcase>` per item.
pub fn junit(command: &str, suites: &[Suite], items: &[Item]) -> String {
    let total_failures = items.len();
    let total_tests: usize = suites.iter().map(|s| s.passed.len()).sum::<usize>() + total_failures;
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites name=\"portalgen {}\" tests=\"{total_tests}\" failures=\"{total_failures}\">\n",
        esc(command)
    ));
    for suite in suites {
        let failing: Vec<&Item> = items
            .iter()
            .filter(|i| i.environment == suite.name)
            .collect();
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">\n",
            esc(&suite.name),
            suite.passed.len() + failing.len(),
            failing.len()
        ));
        for name in &suite.passed {
            x.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\"/>\n",
                esc(&suite.name),
                esc(name)
            ));
        }
        for item in failing {
            let name = match &item.object {
                Some(o) => format!("{} {o}", item.rule),
                None => format!("{} {}", item.rule, item.file),
            };
            let mut body = format!("{}{}: {}", item.file, at(item), item.message);
            if let Some(p) = &item.path {
                body.push_str(&format!("\nat: {p}"));
            }
            if let Some(h) = &item.hint {
                body.push_str(&format!("\nhint: {h}"));
            }
            x.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                esc(&suite.name),
                esc(&name),
                esc(&item.file),
                esc(&item.rule),
                esc(&item.message),
                esc(&body)
            ));
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// A SARIF 2.1.0 log with one run: the rules that have results, and one result per item.
pub fn sarif(items: &[Item]) -> String {
    let mut rule_ids: Vec<&str> = items.iter().map(|i| i.rule.as_str()).collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<serde_json::Value> = rule_ids
        .iter()
        .map(|id| {
            let policy = crate::validate::policy::RULES
                .iter()
                .map(|r| (r.id, r.title));
            let text = RULES
                .iter()
                .copied()
                .chain(policy)
                .find(|(r, _)| r == id)
                .map_or(*id, |(_, t)| t);
            json!({"id": id, "shortDescription": {"text": text}})
        })
        .collect();
    let results: Vec<serde_json::Value> = items
        .iter()
        .map(|i| {
            let mut region = serde_json::Map::new();
            if let Some(l) = i.line {
                region.insert("startLine".into(), l.into());
            }
            if let Some(c) = i.column {
                region.insert("startColumn".into(), c.into());
            }
            let mut physical = json!({"artifactLocation": {"uri": i.file}});
            if !region.is_empty() {
                physical["region"] = region.into();
            }
            let mut location = json!({"physicalLocation": physical});
            if let Some(o) = &i.object {
                let name = match &i.path {
                    Some(p) => format!("{o}: {p}"),
                    None => o.clone(),
                };
                location["logicalLocations"] = json!([{"fullyQualifiedName": name, "kind": "object"}]);
            }
            let mut text = i.message.clone();
            if let Some(h) = &i.hint {
                text.push_str(&format!(" (hint: {h})"));
            }
            json!({
                "ruleId": i.rule,
                "level": match i.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": {"text": text},
                "locations": [location],
                "properties": {"environment": i.environment, "object": i.object, "path": i.path},
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "portalgen",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    format!(
        "{}\n",
        serde_json::to_string_pretty(&log).unwrap_or_default()
    )
}

fn at(i: &Item) -> String {
    match (i.line, i.column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// Text for XML attributes and content; characters XML 1.0 cannot hold are dropped.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

/// One item per changed, added or removed object (or tenant group) of a diff.
pub fn diff_items(environment: &str, r: &crate::diff::Report) -> Vec<Item> {
    use crate::diff::Status;
    r.entries
        .iter()
        .map(|e| {
            let (rule, what) = match e.status {
                Status::Changed => ("portalgen/changed", "changes"),
                Status::Added => ("portalgen/added", "is added"),
                Status::Removed => ("portalgen/removed", "is removed"),
            };
            let tenants = e
                .tenants
                .as_ref()
                .map(|g| format!(" for {} tenants", g.count))
                .unwrap_or_default();
            Item {
                environment: environment.to_owned(),
                rule: rule.into(),
                severity: Severity::Warning,
                file: e
                    .new_path
                    .clone()
                    .or_else(|| e.old_path.clone())
                    .unwrap_or_default(),
                line: None,
                column: None,
                object: Some(e.title.clone()),
                path: e
                    .hunks
                    .first()
                    .map(|h| h.at.clone())
                    .filter(|a| !a.is_empty()),
                message: format!(
                    "{} {what}{tenants} (+{} -{})",
                    e.title, e.added_lines, e.removed_lines
                ),
                hint: None,
            }
        })
        .collect()
}

/// The JUnit suite of a diff: one passing case when nothing differs.
pub fn diff_suite(environment: &str, r: &crate::diff::Report) -> Suite {
    Suite {
        name: environment.to_owned(),
        passed: if r.entries.is_empty() {
            vec![format!("no differences ({} objects)", r.summary.unchanged)]
        } else {
            Vec::new()
        },
    }
}
