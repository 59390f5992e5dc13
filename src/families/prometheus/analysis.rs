//! The AnalysisTemplate of a service delivered by an Argo Rollouts Rollout (issue 16,
//! docs/progressive-delivery.md): its queries are the service's SLIs ([`Sli`], the
//! definition the recording rules use) over the new version's pods; a measurement succeeds
//! below the gate (the SLO, unless the spec sets a gate) and fails at or above the abort
//! threshold. Between the two it is inconclusive, which pauses the rollout for a human.
//! The kubernetes family renders it beside the Rollout.

use serde::Serialize;

use super::slo::{num, services, Sli, ARG_HASH, ARG_SERVICE};
use crate::model::rollout::Rollout;
use crate::model::{Model, Service, MONITORING_NAMESPACE};

#[derive(Debug, Clone, Serialize)]
pub struct AnalysisTemplate {
    pub name: String,
    pub args: [&'static str; 2],
    /// The tree's Prometheus, as the controller reaches it.
    pub address: String,
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Metric {
    pub name: &'static str,
    pub interval: &'static str,
    /// How many measurements (none: until the rollout completes).
    pub count: Option<u32>,
    pub failure_limit: u32,
    /// Argo Rollouts' expressions over `result` (the query's vector).
    pub success_condition: String,
    pub failure_condition: String,
    pub query: String,
}

/// A measurement: no sample (no request reached the new pods yet) or NaN (0/0) passes the
/// gate and fails nothing; else below `gate` succeeds and at or above `abort` fails.
fn conditions(gate: f64, abort: f64) -> (String, String) {
    (
        format!(
            "len(result) == 0 || isNaN(result[0]) || result[0] < {}",
            num(gate)
        ),
        format!(
            "len(result) > 0 && !isNaN(result[0]) && result[0] >= {}",
            num(abort)
        ),
    )
}

/// The AnalysisTemplate of `service`, if it is delivered by a Rollout and exports metrics
/// (without metrics there is no SLI to gate on; the Rollout then has no analysis).
pub fn template(m: &Model, service: &Service) -> Option<AnalysisTemplate> {
    let r: &Rollout = &service.rollout;
    let analysis = r.analysis.as_ref()?;
    let s = services(m)
        .into_iter()
        .find(|s| s.service.name == service.name)?;
    if !s.measured() {
        return None;
    }
    let sli = Sli::rollout();
    let (ok_errors, bad_errors) = conditions(r.gates.error_rate, r.abort.error_rate);
    let (ok_latency, bad_latency) =
        conditions(r.gates.latency_p95_seconds, r.abort.latency_p95_seconds);
    let metric = |name, success_condition, failure_condition, query| Metric {
        name,
        interval: analysis.interval,
        count: analysis.count,
        failure_limit: analysis.failure_limit,
        success_condition,
        failure_condition,
        query,
    };
    // The Prometheus is in the monitoring namespace (`model::prometheus`), whose Service
    // `prometheus-operated` the operator makes.
    Some(AnalysisTemplate {
        name: analysis.template.clone(),
        args: [ARG_SERVICE, ARG_HASH],
        address: format!("http://prometheus-operated.{MONITORING_NAMESPACE}.svc:9090"),
        metrics: vec![
            metric(
                "error-rate",
                ok_errors,
                bad_errors,
                sli.error_ratio(analysis.window),
            ),
            metric(
                "latency-p95",
                ok_latency,
                bad_latency,
                sli.latency_p95(analysis.window),
            ),
        ],
    })
}
