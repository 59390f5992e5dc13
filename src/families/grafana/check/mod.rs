//! Grafana dashboards (the JSON files under `grafana/`, and the same JSON inside the
//! sidecar ConfigMaps): a stable `uid` of at most 40 characters, a current
//! `schemaVersion`, a Prometheus datasource variable used by every panel, unique panel
//! ids, a `gridPos` on every panel, a unit on every panel's axis, thresholds that match the
//! SLOs on panels that show an SLI, and every query parsed as PromQL (variables
//! substituted first).
//!
//! Here the dashboard's own fields and its panels' layout; the variables and queries in
//! `queries`, the SLO thresholds of the panels that show an SLI in `slo`.

mod queries;
mod slo;

use std::collections::HashMap;

use serde_json::Value;

use super::model::DATASOURCE_VARIABLE;
use crate::diagnostic::{Diagnostic, FieldPath, ObjectRef};
use crate::validate::{At, Document};

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
/// the dashboard is inside an object (a ConfigMap). The dashboard's own fields first, then
/// its variables, its panels as a whole, and each panel in order.
pub fn check_dashboard(
    file: &str,
    within: Option<(ObjectRef, FieldPath)>,
    d: &Value,
) -> Vec<Diagnostic> {
    let (object, base) = within.map_or((None, FieldPath::root()), |(o, p)| (Some(o), p));
    let mut problems = Problems {
        file,
        object,
        base,
        out: Vec::new(),
    };
    check_identity(d, &mut problems);
    let vars = queries::variables(d, &mut problems);
    let panels = panels(d);
    if panels.is_empty() {
        problems.push(
            problems.field("panels"),
            "the dashboard has no panels",
            None,
        );
    }
    for (first, second) in overlaps(d) {
        problems.push(
            problems.place(format!("panel '{second}'")),
            format!("the panel overlaps panel '{first}' on the grid"),
            None,
        );
    }
    let mut ids = HashMap::new();
    for (i, p) in panels.iter().enumerate() {
        check_panel(i + 1, p, &vars, &mut ids, &mut problems);
    }
    problems.out
}

/// Where one dashboard's problems go: its file, and the object and field that carry the
/// dashboard when it is inside an object.
struct Problems<'a> {
    file: &'a str,
    object: Option<ObjectRef>,
    base: FieldPath,
    out: Vec<Diagnostic>,
}

impl Problems<'_> {
    /// A field of the dashboard, by its dotted path (`uid`, `templating.list`).
    fn field(&self, path: &str) -> FieldPath {
        self.base.clone().join(&FieldPath::parse(path))
    }

    /// A place in the dashboard named in words (`panel 'p95'`, `panel 'p95', target A`).
    fn place(&self, place: impl Into<String>) -> FieldPath {
        self.base.clone().key(place)
    }

    fn push(&mut self, path: FieldPath, message: impl Into<String>, hint: Option<String>) {
        let mut d = Diagnostic::new(self.file, message.into())
            .with_path(path)
            .with_hint(hint);
        d.object = self.object.clone();
        self.out.push(d);
    }
}

/// The dashboard's own fields: a stable `uid` Grafana accepts, a title, a current
/// `schemaVersion`.
fn check_identity(d: &Value, problems: &mut Problems) {
    let uid_path = problems.field("uid");
    match d.get("uid").and_then(Value::as_str) {
        None | Some("") => problems.push(uid_path, "the dashboard has no uid", None),
        Some(uid) if uid.len() > MAX_UID_LEN => problems.push(
            uid_path,
            format!("uid '{uid}' is longer than {MAX_UID_LEN} characters"),
            None,
        ),
        Some(uid)
            if !uid
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            problems.push(
                uid_path,
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
        problems.push(problems.field("title"), "the dashboard has no title", None);
    }
    match d.get("schemaVersion").and_then(Value::as_u64) {
        Some(v) if v >= MIN_SCHEMA_VERSION => {}
        other => problems.push(
            problems.field("schemaVersion"),
            format!("schemaVersion {other:?} is not current (at least {MIN_SCHEMA_VERSION})"),
            None,
        ),
    }
}

/// Every panel of the dashboard, each row followed by the panels it holds.
fn panels(d: &Value) -> Vec<&Value> {
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
    panels
}

/// One panel, the `number`th of the dashboard (from 1): an id no other panel uses, a grid
/// position and, unless it is a row or a text, a unit, the datasource variable, queries
/// that parse and a threshold at the SLO of the SLI it shows. `ids` holds the ids of the
/// panels before it, with their titles.
fn check_panel(
    number: usize,
    p: &Value,
    vars: &queries::StandIns,
    ids: &mut HashMap<u64, String>,
    problems: &mut Problems,
) {
    let title = p.get("title").and_then(Value::as_str).unwrap_or_default();
    let kind = p.get("type").and_then(Value::as_str).unwrap_or_default();
    let place = format!("panel '{title}'");
    let path = problems.place(place.as_str());
    match p.get("id").and_then(Value::as_u64) {
        None => problems.push(path.clone(), "the panel has no numeric id", None),
        Some(id) => {
            if let Some(first) = ids.insert(id, title.to_owned()) {
                problems.push(
                    path.clone(),
                    format!("panel id {id} is also used by panel '{first}'"),
                    None,
                );
            }
        }
    }
    check_grid_pos(number, p, &path, problems);
    if matches!(kind, "row" | "text") {
        return;
    }
    let unit = p
        .at("/fieldConfig/defaults/unit")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if unit.is_empty() {
        problems.push(
            path.clone(),
            "the panel has no unit (fieldConfig.defaults.unit)",
            None,
        );
    }
    if !uses_datasource_variable(p.get("datasource")) {
        problems.push(
            path.clone(),
            format!("the panel does not query the ${{{DATASOURCE_VARIABLE}}} datasource"),
            None,
        );
    }
    let exprs = queries::check_targets(p, &place, vars, problems);
    slo::check_threshold(p, unit, &exprs, path, problems);
}

/// A panel's `gridPos`: complete, not empty, within the grid's 24 columns.
fn check_grid_pos(number: usize, p: &Value, path: &FieldPath, problems: &mut Problems) {
    let grid = ["x", "y", "w", "h"].map(|k| p.at(&format!("/gridPos/{k}")).and_then(Value::as_u64));
    match grid {
        [Some(x), Some(_), Some(w), Some(h)] if w > 0 && h > 0 && x + w <= 24 => {}
        [Some(_), Some(_), Some(_), Some(_)] => problems.push(
            path.clone(),
            "gridPos must have w, h > 0 and x + w <= 24",
            None,
        ),
        _ => problems.push(
            path.clone(),
            "the panel has no complete gridPos {x, y, w, h}",
            Some(format!("panel #{number}")),
        ),
    }
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
}
