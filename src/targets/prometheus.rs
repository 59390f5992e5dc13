//! The `prometheus/` family (DESIGN §4): prometheus-operator custom resources. Which
//! monitors and rules exist is decided in `model::observability`; this only names files.

use minijinja::{context, Value};

use super::Artifact;
use crate::model::Model;

pub fn plan(model: &Model, m: &Value, out: &mut Vec<Artifact>) {
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
        "prometheus/alertmanager-config.yaml".into(),
        "prometheus/alertmanager-config.yaml",
        Value::UNDEFINED,
    );
}
