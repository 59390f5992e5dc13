//! The `prometheus/` family (DESIGN §4): prometheus-operator custom resources. What is
//! scraped is decided in `model`, the SLOs in `slo`, the recording rules and alerts in
//! `rules`, their routing in `routing` (warnings in business hours: `hours`) and the
//! Alertmanager in `model`; this only names files. Every alert carries a
//! behaviour scenario (`scenario`) from which `promtool` generates `promtool test rules`
//! unit tests of the rendered rule file (used by the tests, never rendered).

pub mod hours;
pub mod model;
pub mod operational;
pub mod promql;
pub mod promtool;
pub mod routing;
pub mod rules;
pub mod scenario;
pub mod slo;
pub mod tracing;

use minijinja::{context, Value};

use super::{Artifact, Destination, Family, Sync};
use crate::model::{Model, MONITORING_NAMESPACE};

pub const FAMILY: Family = Family {
    name: "prometheus",
    plan,
    check_object: Some(promql::check_document),
    check_json: None,
    json_is: "JSON",
    syncs: |_| {
        vec![Sync {
            application: "monitoring".into(),
            wave: "1",
            namespace: MONITORING_NAMESPACE,
            path: "prometheus".into(),
            ignore_differences: Vec::new(),
        }]
    },
    destinations: |_| vec![Destination::Platform(MONITORING_NAMESPACE)],
    cluster_kinds: &[],
};

fn plan(model: &Model, m: &Value, out: &mut Vec<Artifact>) {
    let o = &model.observability;
    let mut add = |path: String, template: &'static str, s: Value| {
        out.push(Artifact {
            path,
            template,
            context: context! { m => m.clone(), s => s },
        });
    };
    add(
        "prometheus/prometheus.yaml".into(),
        "prometheus/prometheus.yaml",
        Value::UNDEFINED,
    );
    add(
        "prometheus/rbac.yaml".into(),
        "prometheus/rbac.yaml",
        Value::UNDEFINED,
    );
    for s in &o.service_monitors {
        add(
            format!("prometheus/monitors/{}.yaml", s.name),
            "prometheus/service-monitor.yaml",
            Value::from(minijinja::value::Serde(s)),
        );
    }
    for s in &o.pod_monitors {
        add(
            format!("prometheus/monitors/{}.yaml", s.name),
            "prometheus/pod-monitor.yaml",
            Value::from(minijinja::value::Serde(s)),
        );
    }
    add(
        "prometheus/rules.yaml".into(),
        "prometheus/rules.yaml",
        Value::UNDEFINED,
    );
    add(
        "prometheus/alertmanager.yaml".into(),
        "prometheus/alertmanager.yaml",
        Value::UNDEFINED,
    );
    add(
        "prometheus/alertmanager-config.yaml".into(),
        "prometheus/alertmanager-config.yaml",
        Value::UNDEFINED,
    );
}
