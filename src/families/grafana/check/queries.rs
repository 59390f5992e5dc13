//! A dashboard's queries: its variables (a Prometheus datasource variable, and stand-ins
//! for the others so that queries parse) and each panel's targets, parsed as PromQL with
//! the variables substituted first.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{uses_datasource_variable, Problems};
use crate::families::grafana::model::DATASOURCE_VARIABLE;
use crate::families::prometheus::promql;
use crate::validate::At;

/// A value for each dashboard variable, by name, that a query may hold in its place.
pub(super) type StandIns = BTreeMap<String, String>;

/// The stand-ins of the dashboard's variables; reports a dashboard without the Prometheus
/// datasource variable.
pub(super) fn variables(d: &Value, problems: &mut Problems) -> StandIns {
    let mut vars = BTreeMap::new();
    let mut has_datasource = false;
    let list = d.at("/templating/list").and_then(Value::as_array);
    for v in list.into_iter().flatten() {
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind == "datasource" && v.get("query").and_then(Value::as_str) == Some("prometheus") {
            has_datasource = name == DATASOURCE_VARIABLE || has_datasource;
        }
        vars.insert(name.to_owned(), stand_in(v, name, kind));
    }
    if !has_datasource {
        problems.push(
            problems.field("templating.list"),
            format!("the dashboard has no Prometheus datasource variable '{DATASOURCE_VARIABLE}'"),
            None,
        );
    }
    vars
}

/// What a query holds in place of variable `name` of type `kind`: its current value or its
/// first option when it has fixed values, else `<name>_value`.
fn stand_in(v: &Value, name: &str, kind: &str) -> String {
    match kind {
        "interval" | "custom" | "constant" | "textbox" => v
            .at("/current/value")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                v.get("query")
                    .and_then(Value::as_str)
                    .and_then(|q| q.split(',').next())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| format!("{name}_value")),
        _ => format!("{name}_value"),
    }
}

/// Each target of panel `p` (at `place`): the datasource variable when it names a
/// datasource, and an `expr` that parses as PromQL. Returns the targets' expressions.
pub(super) fn check_targets<'a>(
    p: &'a Value,
    place: &str,
    vars: &StandIns,
    problems: &mut Problems,
) -> Vec<&'a str> {
    let targets = p.get("targets").and_then(Value::as_array);
    let mut exprs = Vec::new();
    for (j, t) in targets.into_iter().flatten().enumerate() {
        let ref_id = t.get("refId").and_then(Value::as_str).unwrap_or_default();
        let tpath = problems.place(format!(
            "{place}, target {}",
            if ref_id.is_empty() {
                (j + 1).to_string()
            } else {
                ref_id.to_owned()
            }
        ));
        if t.get("datasource").is_some() && !uses_datasource_variable(t.get("datasource")) {
            problems.push(
                tpath.clone(),
                format!("the target does not query the ${{{DATASOURCE_VARIABLE}}} datasource"),
                None,
            );
        }
        let Some(expr) = t.get("expr").and_then(Value::as_str) else {
            problems.push(tpath, "the target has no expr", None);
            continue;
        };
        match promql::substitute(expr, vars) {
            Ok(q) => {
                if let Err(e) = promql::parse(&q) {
                    problems.push(
                        tpath,
                        format!("PromQL expression does not parse: {e}"),
                        Some(format!("expr: {expr}")),
                    );
                }
            }
            Err(e) => problems.push(tpath, e, Some(format!("expr: {expr}"))),
        }
        exprs.push(expr);
    }
    exprs
}
