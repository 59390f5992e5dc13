//! The `grafana/` family (DESIGN §4): each dashboard as Grafana JSON under
//! `grafana/dashboards/`, and the same JSON in a ConfigMap under `grafana/configmaps/` for
//! the Grafana sidecar.
//!
//! The dashboards (panels, queries, units, thresholds, positions) are decided in
//! `model`. Grafana's JSON model is then built here with `serde_json` and
//! pretty-printed, rather than written as a text template: a JSON text template would
//! have to manage commas and escaping by hand, and minijinja's `tojson` escapes `<`, `>`
//! and `&` (common in PromQL) as `\u003c`…, which makes the committed files hard to
//! review. The templates (`grafana/dashboard.json`, `grafana/configmap.yaml`) then only
//! lay the finished text out, and both files carry byte-identical dashboard JSON.

pub mod check;
pub mod layout;
pub mod model;
pub mod panels;

use minijinja::{context, Value};
use serde_json::{json, Map, Value as Json};

use self::model::{Dashboard, Panel, Variable, DATASOURCE_VARIABLE, GRAFANA_SCHEMA_VERSION};
use super::{Artifact, Destination, Family, Sync};
use crate::model::{Model, MONITORING_NAMESPACE};

pub const FAMILY: Family = Family {
    name: "grafana",
    plan,
    check_object: Some(check::check_config_map),
    check_json: Some(check_dashboard_file),
    json_is: "JSON",
    syncs,
    destinations: |_| vec![Destination::Platform(MONITORING_NAMESPACE)],
    cluster_kinds: &[],
};

fn check_dashboard_file(file: &str, value: &Json) -> Vec<crate::diagnostic::Diagnostic> {
    check::check_dashboard(file, None, value)
}

/// `grafana/dashboards/` holds raw dashboard JSON, not Kubernetes objects: only the
/// ConfigMaps that carry them are synced, with the monitoring.
fn syncs(model: &Model) -> Vec<Sync> {
    if model.grafana.dashboards.is_empty() {
        return Vec::new();
    }
    vec![Sync {
        application: "monitoring".into(),
        wave: "1",
        namespace: MONITORING_NAMESPACE,
        path: "grafana/configmaps".into(),
        ignore_differences: Vec::new(),
    }]
}

fn plan(model: &Model, m: &Value, out: &mut Vec<Artifact>) {
    for d in &model.grafana.dashboards {
        let text =
            serde_json::to_string_pretty(&dashboard_json(d)).expect("a JSON value serializes");
        let ctx =
            context! { m => m.clone(), d => Value::from(minijinja::value::Serde(d)), json => text };
        out.push(Artifact {
            path: format!("grafana/dashboards/{}.json", d.slug),
            template: "grafana/dashboard.json",
            context: ctx.clone(),
        });
        out.push(Artifact {
            path: format!("grafana/configmaps/{}.yaml", d.slug),
            template: "grafana/configmap.yaml",
            context: ctx,
        });
    }
}

fn datasource() -> Json {
    json!({ "type": "prometheus", "uid": format!("${{{DATASOURCE_VARIABLE}}}") })
}

/// Grafana's dashboard JSON model of one dashboard.
pub fn dashboard_json(d: &Dashboard) -> Json {
    json!({
        "uid": d.uid,
        "title": d.title,
        "description": d.description,
        "tags": d.tags,
        "editable": false,
        "graphTooltip": 1,
        "timezone": "utc",
        "refresh": d.refresh,
        "time": { "from": d.time_from, "to": "now" },
        "schemaVersion": GRAFANA_SCHEMA_VERSION,
        "version": 1,
        "annotations": {
            "list": [{
                "builtIn": 1,
                "datasource": { "type": "grafana", "uid": "-- Grafana --" },
                "enable": true,
                "hide": true,
                "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts",
                "type": "dashboard"
            }]
        },
        "templating": { "list": d.variables.iter().map(variable_json).collect::<Vec<_>>() },
        "panels": d.panels.iter().map(panel_json).collect::<Vec<_>>(),
        "links": []
    })
}

fn variable_json(v: &Variable) -> Json {
    match v.kind {
        "datasource" => json!({
            "name": v.name,
            "label": v.label,
            "type": "datasource",
            "query": v.query,
            "current": {},
            "hide": 0,
            "refresh": 1,
            "regex": "",
            "includeAll": false,
            "multi": false
        }),
        _ => json!({
            "name": v.name,
            "label": v.label,
            "type": "query",
            "datasource": datasource(),
            "query": { "query": v.query, "refId": "PrometheusVariableQueryEditor-VariableQuery" },
            "definition": v.query,
            "current": {},
            "hide": 0,
            "refresh": 2,
            "regex": "",
            "sort": 1,
            "includeAll": v.include_all,
            "multi": v.multi
        }),
    }
}

fn panel_json(p: &Panel) -> Json {
    if p.kind == "row" {
        return json!({
            "id": p.id,
            "type": "row",
            "title": p.title,
            "collapsed": false,
            "gridPos": { "x": p.grid.x, "y": p.grid.y, "w": p.grid.w, "h": p.grid.h },
            "panels": []
        });
    }
    let mut defaults = Map::new();
    defaults.insert("unit".into(), json!(p.unit));
    if let Some(d) = p.decimals {
        defaults.insert("decimals".into(), json!(d));
    }
    if let Some(v) = p.min {
        defaults.insert("min".into(), json!(v));
    }
    if let Some(v) = p.max {
        defaults.insert("max".into(), json!(v));
    }
    defaults.insert(
        "thresholds".into(),
        json!({
            "mode": "absolute",
            "steps": p.thresholds.iter().map(|s| json!({ "color": s.color, "value": s.value })).collect::<Vec<_>>()
        }),
    );
    let options = match p.kind {
        "stat" => {
            defaults.insert("color".into(), json!({ "mode": "thresholds" }));
            json!({
                "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false },
                "colorMode": "value",
                "graphMode": "area",
                "justifyMode": "auto",
                "orientation": "auto",
                "textMode": "auto"
            })
        }
        _ => {
            defaults.insert("color".into(), json!({ "mode": "palette-classic" }));
            // Thresholds drawn as lines, so the SLO is visible on the graph.
            let draw = if p.thresholds.len() > 1 {
                "line"
            } else {
                "off"
            };
            defaults.insert(
                "custom".into(),
                json!({
                    "drawStyle": "line",
                    "lineWidth": 1,
                    "fillOpacity": 10,
                    "showPoints": "never",
                    "spanNulls": false,
                    "axisPlacement": "auto",
                    "thresholdsStyle": { "mode": draw }
                }),
            );
            json!({
                "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true },
                "tooltip": { "mode": "multi", "sort": "desc" }
            })
        }
    };
    json!({
        "id": p.id,
        "type": p.kind,
        "title": p.title,
        "description": p.description,
        "datasource": datasource(),
        "gridPos": { "x": p.grid.x, "y": p.grid.y, "w": p.grid.w, "h": p.grid.h },
        "fieldConfig": { "defaults": Json::Object(defaults), "overrides": [] },
        "options": options,
        "targets": p.targets.iter().map(|t| {
            let mut target = json!({
                "refId": t.ref_id,
                "datasource": datasource(),
                "expr": t.expr,
                "legendFormat": t.legend,
                "range": true,
                "instant": false
            });
            if t.exemplar {
                target["exemplar"] = json!(true);
            }
            target
        }).collect::<Vec<_>>()
    })
}
