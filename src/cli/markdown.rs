//! `diff --base REF --format markdown`: a pull-request comment. A summary table (one row
//! per environment), then per environment one `<details>` per changed object with its diff.
//! GitHub refuses comments over 65,536 characters: past [`BUDGET`] the details stop and the
//! comment says how many were left out.

use super::diff_base::BaseReport;
use crate::diff::{Entry, Status};

/// Characters of details before the rest is left out (the table always fits).
const BUDGET: usize = 60_000;

pub fn base_report(r: &BaseReport) -> String {
    let short = &r.commit[..r.commit.len().min(12)];
    let mut s = format!(
        "### portalgen: rendered changes against `{}` ({short})\n\n",
        code(&r.base)
    );
    if r.identical {
        s.push_str("No rendered object changes.\n");
    }
    s.push_str(
        "| environment | changed | added | removed | unchanged |\n|---|---:|---:|---:|---:|\n",
    );
    for e in &r.environments {
        let m = &e.report.summary;
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            text(&e.name),
            m.changed,
            m.added,
            m.removed,
            m.unchanged
        ));
    }
    let mut left_out = 0;
    for e in &r.environments {
        if e.report.entries.is_empty()
            && e.report.tenants.only_new.count + e.report.tenants.only_old.count == 0
        {
            continue;
        }
        s.push_str(&format!("\n#### {}\n\n", text(&e.name)));
        let t = &e.report.tenants;
        for (set, what) in [(&t.only_new, "added"), (&t.only_old, "removed")] {
            if set.count > 0 {
                s.push_str(&format!(
                    "- {} tenant{} {what} ({} objects): {}\n",
                    set.count,
                    if set.count == 1 { "" } else { "s" },
                    set.objects,
                    set.ids
                        .iter()
                        .take(10)
                        .map(|i| code(i))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        for entry in &e.report.entries {
            if s.len() > BUDGET {
                left_out += 1;
                continue;
            }
            details(&mut s, entry);
        }
    }
    if left_out > 0 {
        s.push_str(&format!(
            "\n{left_out} more changed object(s) left out (comment size); run `portalgen diff --base {}` to see them.\n",
            text(&r.base)
        ));
    }
    s
}

fn details(s: &mut String, e: &Entry) {
    let (mark, status) = match e.status {
        Status::Changed => ("~", "changed"),
        Status::Added => ("+", "added"),
        Status::Removed => ("-", "removed"),
    };
    let tenants = e
        .tenants
        .as_ref()
        .map(|g| format!(", ×{} tenants", g.count))
        .unwrap_or_default();
    s.push_str(&format!(
        "<details><summary>{mark} <code>{}</code> ({status}{tenants}, +{} −{})</summary>\n\n",
        html(&e.title),
        e.added_lines,
        e.removed_lines
    ));
    if let Some(p) = e.new_path.as_ref().or(e.old_path.as_ref()) {
        s.push_str(&format!("File: `{}`\n\n", code(p)));
    }
    let mut body = String::new();
    for h in &e.hunks {
        body.push_str(&h.header());
        body.push('\n');
        for l in &h.lines {
            body.push(l.tag.sign());
            body.push_str(&l.text);
            body.push('\n');
        }
    }
    if !body.is_empty() {
        // A fence longer than any run of backticks in the diff.
        let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        s.push_str(&format!("{fence}diff\n{body}{fence}\n\n"));
    }
    s.push_str("</details>\n");
}

/// Text for a table cell or a heading: no markup, no line breaks.
fn text(s: &str) -> String {
    html(s).replace('|', "\\|").replace(['\n', '\r'], " ")
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text inside `…`: backticks cannot be escaped there, so they are replaced.
fn code(s: &str) -> String {
    s.replace('`', "'").replace(['\n', '\r'], " ")
}
