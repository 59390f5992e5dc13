//! The `tracing/` family (issue #18, docs/observability.md "Tracing"): the OpenTelemetry
//! collector and the `Instrumentation` (`collector.yaml`), the trace backend
//! (`backend.yaml`: Tempo or Jaeger v2, `spec.tracing.backend`), their NetworkPolicies
//! (`network-policies.yaml`), the PodMonitors of their own metrics (`monitors.yaml`) and
//! the Grafana datasources (`grafana-datasources.yaml`, for the Grafana sidecar). What is
//! decided is in `model`; PG-T001 (`check`) checks every collector's pipelines.

pub mod check;
pub mod model;

use minijinja::{context, Value};

use super::{Artifact, Destination, Family, Sync};
use crate::model::{Model, MONITORING_NAMESPACE};

pub const FAMILY: Family = Family {
    name: "tracing",
    plan,
    check_object: Some(check::check_collector),
    check_json: None,
    json_is: "JSON",
    syncs: |_| {
        vec![Sync {
            application: "tracing".into(),
            wave: "1",
            namespace: MONITORING_NAMESPACE,
            path: "tracing".into(),
            ignore_differences: Vec::new(),
        }]
    },
    destinations: |_| vec![Destination::Platform(MONITORING_NAMESPACE)],
    cluster_kinds: &[],
};

fn plan(_model: &Model, m: &Value, out: &mut Vec<Artifact>) {
    for file in [
        "collector",
        "backend",
        "network-policies",
        "monitors",
        "grafana-datasources",
    ] {
        out.push(Artifact {
            path: format!("tracing/{file}.yaml"),
            template: match file {
                "collector" => "tracing/collector.yaml",
                "backend" => "tracing/backend.yaml",
                "network-policies" => "tracing/network-policies.yaml",
                "monitors" => "tracing/monitors.yaml",
                _ => "tracing/grafana-datasources.yaml",
            },
            context: context! { m => m.clone() },
        });
    }
}
