//! Grafana dashboards (the JSON files under `grafana/`, and the same JSON inside the
//! sidecar ConfigMaps): a stable `uid` of at most 40 characters, a current
//! `schemaVersion`, a Prometheus datasource variable used by every panel, unique panel
//! ids, a `gridPos` on every panel, a unit on every panel's axis, thresholds that match the
//! SLOs on panels that show an SLI, and every query parsed as PromQL (variables
//! substituted first).
//!
//! Services have SLOs of their own (DESIGN §2a), so a panel that shows an SLI marks the SLO
//! its description states (`SLO: below 300 ms.`, `SLO: 99.95%.`), or DESIGN §3's when it
//! states none.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::validate::At;

use super::model::DATASOURCE_VARIABLE;
use crate::diagnostic::{Diagnostic, FieldPath, ObjectRef};
use crate::families::prometheus::promql;
use crate::families::prometheus::slo::{Objectives, SLI_ERROR_RATIO, SLI_LATENCY_P95};
use crate::validate::Document;

/// Oldest dashboard schema accepted: Grafana 11.0.
pub const MIN_SCHEMA_VERSION: u64 = 39;
pub const MAX_UID_LEN: usize = 40;

/// Dashboards carried by a ConfigMap (`data` keys ending in `.json`).
pub fn check_config_map(file: &str, doc: &Document) -> Vec<Diagnostic> {
    if doc.kind() != "ConfigMap" {
        return Vec::new();
    }
    let mut out = Vec::new();
    let data = doc.value.at("/data").and_then(Value::as_object);
    for (key, value) in data.into_iter().flatten() {
        if !key.ends_with(".json") {
            continue;
        }
        let at = FieldPath::root().key("data").key(key.as_str());
        match value.as_str().map(serde_json::from_str::<Value>) {
            Some(Ok(dashboard)) => out.extend(check_dashboard(
                file,
                Some((doc.object_ref(), at)),
                &dashboard,
            )),
            Some(Err(e)) => out.push(
                Diagnostic::new(file, format!("the dashboard JSON does not parse: {e}"))
                    .object(doc.object_ref())
                    .with_path(at),
            ),
            None => out.push(
                Diagnostic::new(file, "the dashboard is not a string")
                    .object(doc.object_ref())
                    .with_path(at),
            ),
        }
    }
    out
}

/// Every problem of one dashboard; `within` is the object and field that carry it, when
/// the dashboard is inside an object (a ConfigMap).
pub fn check_dashboard(
    file: &str,
    within: Option<(ObjectRef, FieldPath)>,
    d: &Value,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let (object, base) = within.map_or((None, FieldPath::root()), |(o, p)| (Some(o), p));
    let here = |path: &str| base.clone().join(&FieldPath::parse(path));
    let mut problem = |path: FieldPath, message: String, hint: Option<String>| {
        let mut d = Diagnostic::new(file, message)
            .with_path(path)
            .with_hint(hint);
        d.object = object.clone();
        out.push(d);
    };

    match d.get("uid").and_then(Value::as_str) {
        None | Some("") => problem(here("uid"), "the dashboard has no uid".into(), None),
        Some(uid) if uid.len() > MAX_UID_LEN => problem(
            here("uid"),
            format!("uid '{uid}' is longer than {MAX_UID_LEN} characters"),
            None,
        ),
        Some(uid)
            if !uid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            problem(
                here("uid"),
                format!("uid '{uid}' may hold only letters, digits, '-' and '_'"),
                None,
            )
        }
        Some(_) => {}
    }
    if d.get("title")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        problem(here("title"), "the dashboard has no title".into(), None);
    }
    match d.get("schemaVersion").and_then(Value::as_u64) {
        Some(v) if v >= MIN_SCHEMA_VERSION => {}
        other => problem(
            here("schemaVersion"),
            format!("schemaVersion {other:?} is not current (at least {MIN_SCHEMA_VERSION})"),
            None,
        ),
    }

    // Variables: a Prometheus datasource variable, and stand-ins for the others.
    let mut vars = BTreeMap::new();
    let mut has_datasource = false;
    let list = d.at("/templating/list").and_then(Value::as_array);
    for v in list.into_iter().flatten() {
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
        if kind == "datasource" && v.get("query").and_then(Value::as_str) == Some("prometheus") {
            has_datasource = name == DATASOURCE_VARIABLE || has_datasource;
        }
        let stand_in = match kind {
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
        };
        vars.insert(name.to_owned(), stand_in);
    }
    if !has_datasource {
        problem(
            here("templating.list"),
            format!("the dashboard has no Prometheus datasource variable '{DATASOURCE_VARIABLE}'"),
            None,
        );
    }

    // Panels, rows' panels included.
    let mut panels = Vec::new();
    for p in d
        .get("panels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        panels.push(p);
        panels.extend(
            p.get("panels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    }
    if panels.is_empty() {
        problem(here("panels"), "the dashboard has no panels".into(), None);
    }
    for (first, second) in overlaps(d) {
        problem(
            base.clone().key(format!("panel '{second}'")),
            format!("the panel overlaps panel '{first}' on the grid"),
            None,
        );
    }
    let mut ids: HashMap<u64, String> = HashMap::new();
    for (i, p) in panels.iter().enumerate() {
        let title = p.get("title").and_then(Value::as_str).unwrap_or_default();
        let kind = p.get("type").and_then(Value::as_str).unwrap_or_default();
        let place = format!("panel '{title}'");
        let path = base.clone().key(place.as_str());
        match p.get("id").and_then(Value::as_u64) {
            None => problem(path.clone(), "the panel has no numeric id".into(), None),
            Some(id) => {
                if let Some(first) = ids.insert(id, title.to_owned()) {
                    problem(
                        path.clone(),
                        format!("panel id {id} is also used by panel '{first}'"),
                        None,
                    );
                }
            }
        }
        let grid =
            ["x", "y", "w", "h"].map(|k| p.at(&format!("/gridPos/{k}")).and_then(Value::as_u64));
        match grid {
            [Some(x), Some(_), Some(w), Some(h)] if w > 0 && h > 0 && x + w <= 24 => {}
            [Some(_), Some(_), Some(_), Some(_)] => problem(
                path.clone(),
                "gridPos must have w, h > 0 and x + w <= 24".into(),
                None,
            ),
            _ => problem(
                path.clone(),
                "the panel has no complete gridPos {x, y, w, h}".into(),
                Some(format!("panel #{}", i + 1)),
            ),
        }
        if matches!(kind, "row" | "text") {
            continue;
        }
        let unit = p
            .at("/fieldConfig/defaults/unit")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if unit.is_empty() {
            problem(
                path.clone(),
                "the panel has no unit (fieldConfig.defaults.unit)".into(),
                None,
            );
        }
        if !uses_datasource_variable(p.get("datasource")) {
            problem(
                path.clone(),
                format!("the panel does not query the ${{{DATASOURCE_VARIABLE}}} datasource"),
                None,
            );
        }
        let targets = p.get("targets").and_then(Value::as_array);
        let mut exprs = Vec::new();
        for (j, t) in targets.into_iter().flatten().enumerate() {
            let ref_id = t.get("refId").and_then(Value::as_str).unwrap_or_default();
            let tpath = base.clone().key(format!(
                "{place}, target {}",
                if ref_id.is_empty() {
                    (j + 1).to_string()
                } else {
                    ref_id.to_owned()
                }
            ));
            if t.get("datasource").is_some() && !uses_datasource_variable(t.get("datasource")) {
                problem(
                    tpath.clone(),
                    format!("the target does not query the ${{{DATASOURCE_VARIABLE}}} datasource"),
                    None,
                );
            }
            let Some(expr) = t.get("expr").and_then(Value::as_str) else {
                problem(tpath, "the target has no expr".into(), None);
                continue;
            };
            match promql::substitute(expr, &vars) {
                Ok(q) => {
                    if let Err(e) = promql::parse(&q) {
                        problem(
                            tpath,
                            format!("PromQL expression does not parse: {e}"),
                            Some(format!("expr: {expr}")),
                        );
                    }
                }
                Err(e) => problem(tpath, e, Some(format!("expr: {expr}"))),
            }
            exprs.push(expr);
        }
        if let Some((what, product)) = sli_of(unit, &exprs) {
            let description = p.get("description").and_then(Value::as_str);
            let slo = description.and_then(stated_slo).unwrap_or(product);
            let steps = p
                .at("/fieldConfig/defaults/thresholds/steps")
                .and_then(Value::as_array);
            let matches = steps
                .into_iter()
                .flatten()
                .filter_map(|s| s.get("value").and_then(Value::as_f64))
                .any(|v| (v - slo).abs() < 1e-12);
            if !matches {
                problem(
                    path,
                    format!(
                        "the panel shows the {what} SLI but has no threshold at its SLO ({slo})"
                    ),
                    None,
                );
            }
        }
    }
    out
}

/// Pairs of top-level panels whose `gridPos` rectangles overlap (titles, in reading order).
fn overlaps(d: &Value) -> Vec<(String, String)> {
    let placed: Vec<(String, [u64; 4])> = d
        .get("panels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            let g = ["x", "y", "w", "h"]
                .map(|k| p.at(&format!("/gridPos/{k}")).and_then(Value::as_u64));
            let [Some(x), Some(y), Some(w), Some(h)] = g else {
                return None;
            };
            let title = p.get("title").and_then(Value::as_str).unwrap_or_default();
            Some((title.to_owned(), [x, y, w, h]))
        })
        .collect();
    let mut out = Vec::new();
    for (i, (a, [ax, ay, aw, ah])) in placed.iter().enumerate() {
        for (b, [bx, by, bw, bh]) in &placed[i + 1..] {
            if ax < &(bx + bw) && bx < &(ax + aw) && ay < &(by + bh) && by < &(ay + ah) {
                out.push((a.clone(), b.clone()));
            }
        }
    }
    out
}

fn uses_datasource_variable(ds: Option<&Value>) -> bool {
    let uid = match ds {
        Some(Value::String(s)) => s.as_str(),
        Some(v) => v.get("uid").and_then(Value::as_str).unwrap_or_default(),
        None => "",
    };
    uid == format!("${{{DATASOURCE_VARIABLE}}}") || uid == format!("${DATASOURCE_VARIABLE}")
}

/// The SLI a panel shows, from its unit and queries, with DESIGN §3's SLO for it.
fn sli_of(unit: &str, exprs: &[&str]) -> Option<(&'static str, f64)> {
    let product = Objectives::product();
    let any = |f: &dyn Fn(&str) -> bool| exprs.iter().any(|e| f(e));
    let error_ratio = |e: &str| {
        e.contains(SLI_ERROR_RATIO) || (e.contains("status=~\"5..\"") && e.contains(") / sum("))
    };
    // Divided by a number: the error budget's share or burn rate, not the ratio itself.
    let budget_scaled = |e: &str| {
        e.rsplit_once(" / ")
            .is_some_and(|(_, d)| d.trim().parse::<f64>().is_ok())
    };
    match unit {
        "s" if any(&|e| {
            e.contains(SLI_LATENCY_P95)
                || (e.contains("http_request_duration_seconds") && e.contains("0.95"))
        }) =>
        {
            Some(("p95 latency", product.latency_p95_seconds))
        }
        "percentunit"
            if any(&|e| {
                error_ratio(e) && !budget_scaled(e) && e.trim_start().starts_with("1 -")
            }) =>
        {
            Some(("availability", product.availability))
        }
        "percentunit" if any(&|e| error_ratio(e) && !budget_scaled(e)) => {
            Some(("5xx error ratio", product.error_rate))
        }
        _ => None,
    }
}

/// The objective a description states after `SLO:`: its first number, with its unit
/// (`500 ms`, `0.1%`, `1 s`), as a fraction or in seconds.
fn stated_slo(description: &str) -> Option<f64> {
    let (_, rest) = description.split_once("SLO:")?;
    let mut words = rest.split_whitespace();
    while let Some(word) = words.next() {
        if !word.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let word = word.trim_end_matches(['.', ',', ';', ')']);
        if let Some(p) = word.strip_suffix('%') {
            return p.parse::<f64>().ok().map(|v| v / 100.0);
        }
        let v = word.parse::<f64>().ok()?;
        let unit = words.next().unwrap_or_default();
        return match unit.trim_end_matches(['.', ',', ';', ')']) {
            "ms" => Some(v / 1000.0),
            "s" => Some(v),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dashboard() -> Value {
        json!({
            "uid": "portal-overview",
            "title": "Overview",
            "schemaVersion": 41,
            "templating": { "list": [
                { "name": "datasource", "type": "datasource", "query": "prometheus" },
                { "name": "tenant", "type": "query", "query": "label_values(x, tenant)" }
            ]},
            "panels": [
                {
                    "id": 1, "type": "stat", "title": "p95",
                    "datasource": { "type": "prometheus", "uid": "${datasource}" },
                    "gridPos": { "x": 0, "y": 0, "w": 12, "h": 4 },
                    "fieldConfig": { "defaults": { "unit": "s", "thresholds": { "mode": "absolute", "steps": [
                        { "color": "green", "value": null }, { "color": "red", "value": 0.5 }
                    ]}}},
                    "targets": [{ "refId": "A", "expr": "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))" }]
                },
                {
                    "id": 2, "type": "timeseries", "title": "by tenant",
                    "datasource": { "type": "prometheus", "uid": "${datasource}" },
                    "gridPos": { "x": 12, "y": 0, "w": 12, "h": 4 },
                    "fieldConfig": { "defaults": { "unit": "reqps" } },
                    "targets": [{ "refId": "A", "expr": "sum by (tenant) (rate(t{tenant=~\"${tenant:regex}\"}[$__rate_interval]))" }]
                }
            ]
        })
    }

    fn messages(d: &Value) -> Vec<String> {
        check_dashboard("d.json", None, d)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_good_dashboard_passes() {
        assert_eq!(messages(&dashboard()), Vec::<String>::new());
    }

    #[test]
    fn structural_problems_are_reported() {
        let mut d = dashboard();
        d["panels"][1]["id"] = json!(1);
        d["uid"] = json!("x".repeat(41));
        d["schemaVersion"] = json!(16);
        d["panels"][1]["fieldConfig"]["defaults"]["unit"] = json!("");
        d["panels"][0]["gridPos"] = json!({ "x": 0, "y": 0 });
        let m = messages(&d).join("\n");
        for needle in [
            "panel id 1 is also used by panel 'p95'",
            "longer than 40",
            "schemaVersion",
            "no unit",
            "gridPos",
        ] {
            assert!(m.contains(needle), "{needle} not in:\n{m}");
        }
    }

    #[test]
    fn thresholds_must_match_the_slo_and_queries_must_parse() {
        let mut d = dashboard();
        d["panels"][0]["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] = json!(1.0);
        d["panels"][1]["targets"][0]["expr"] = json!("sum by (tenant) (rate(t[$__rate_interval])");
        let m = messages(&d).join("\n");
        assert!(
            m.contains("p95 latency SLI but has no threshold at its SLO (0.5)"),
            "{m}"
        );
        assert!(
            m.contains("panel 'by tenant', target A") && m.contains("does not parse"),
            "{m}"
        );
        d["templating"]["list"].as_array_mut().unwrap().remove(0);
        assert!(messages(&d)
            .join("\n")
            .contains("no Prometheus datasource variable"));
    }

    #[test]
    fn overlapping_panels_are_reported() {
        let mut d = dashboard();
        d["panels"][1]["gridPos"]["x"] = json!(6);
        let m = messages(&d).join("\n");
        assert!(
            m.contains("panel 'by tenant'")
                && m.contains("the panel overlaps panel 'p95' on the grid"),
            "{m}"
        );
        // Below it instead: no overlap.
        d["panels"][1]["gridPos"]["y"] = json!(4);
        assert_eq!(messages(&d), Vec::<String>::new());
    }

    #[test]
    fn an_sli_panel_marks_the_slo_its_description_states() {
        let mut d = dashboard();
        d["panels"][0]["description"] = json!("p95 of auth-service; SLO: p95 below 300 ms.");
        let m = messages(&d).join("\n");
        assert!(m.contains("no threshold at its SLO (0.3)"), "{m}");
        d["panels"][0]["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] = json!(0.3);
        assert_eq!(messages(&d), Vec::<String>::new());
    }

    #[test]
    fn stated_slos_are_read_with_their_unit() {
        let close = |s: &str, v: f64| {
            let got = stated_slo(s).unwrap_or_else(|| panic!("{s}: none"));
            assert!((got - v).abs() < 1e-12, "{s}: {got}");
        };
        close("SLO: below 500 ms.", 0.5);
        close("Non-5xx share of requests over 30d; SLO: 99.95%.", 0.9995);
        close("5xx responses over all responses; SLO: below 0.1%.", 0.001);
        close("SLO: p95 below 1 s.", 1.0);
        assert_eq!(
            stated_slo("Share of the 30d error budget (0.1%) not yet spent."),
            None
        );
        assert_eq!(stated_slo("SLO: 12 parsecs"), None);
    }
}
