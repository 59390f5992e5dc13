//! The rules that relate objects of different files of one environment's tree (A001,
//! D001's replica check, F001), and D001's check of a PDB on its own.

use std::collections::BTreeMap;

use serde_json::Value;

use super::super::{finding, pod_template, Check, Kinds, Located, Rule};
use crate::diagnostic::Diagnostic;
use crate::spec::Tier;
use crate::validate::{At, Document};

pub const F001: Rule = Rule {
    id: "PG-F001",
    title: "no fault injection in prod",
    rationale: "an injected delay or abort in production is an outage, even behind a header",
    kinds: Kinds::Only(&["VirtualService"]),
    checks: &[Check::Tree(no_fault_in_prod)],
};

pub const A001: Rule = Rule {
    id: "PG-A001",
    title: "an HPA and a VPA in an active update mode (Auto, Recreate, InPlaceOrRecreate) never target the same workload",
    rationale: "both react to CPU and memory: the VPA resizes pods while the HPA counts them, and they fight",
    kinds: Kinds::Only(&["HorizontalPodAutoscaler", "VerticalPodAutoscaler"]),
    checks: &[Check::Tree(hpa_and_vpa)],
};

pub const D001: Rule = Rule {
    id: "PG-D001",
    title: "PodDisruptionBudgets still allow evictions",
    rationale: "a PDB that allows no eviction (maxUnavailable 0, minAvailable 100% or ≥ replicas) blocks node drains and cluster upgrades",
    kinds: Kinds::WithScaledWorkloads(&["PodDisruptionBudget", "HorizontalPodAutoscaler"]),
    checks: &[Check::Object(pdb_alone), Check::Tree(pdb_and_replicas)],
};

fn of_kind<'a>(objects: &'a [Located], kind: &'static str) -> impl Iterator<Item = &'a Located> {
    objects.iter().filter(move |o| o.doc.kind() == kind)
}

fn pdb_alone(file: &str, doc: &Document, out: &mut Vec<Diagnostic>) {
    if let Some(problem) = pdb_blocks_evictions(&doc.value) {
        out.push(finding(file, doc, "spec", "PG-D001", problem));
    }
}

/// Why a PDB, on its own, allows no eviction.
fn pdb_blocks_evictions(pdb: &Value) -> Option<String> {
    let spec = pdb.get("spec")?;
    match spec.get("maxUnavailable") {
        Some(Value::Number(n)) if n.as_i64() == Some(0) => {
            return Some(
                "maxUnavailable is 0: no pod may ever be evicted, so nodes cannot be drained"
                    .into(),
            )
        }
        Some(Value::String(s))
            if s.trim_end_matches('%')
                .parse::<f64>()
                .is_ok_and(|p| p <= 0.0) =>
        {
            return Some(format!(
                "maxUnavailable is {s}: no pod may ever be evicted, so nodes cannot be drained"
            ))
        }
        _ => {}
    }
    match spec.get("minAvailable") {
        Some(Value::String(s))
            if s.trim_end_matches('%')
                .parse::<f64>()
                .is_ok_and(|p| p >= 100.0) =>
        {
            Some(format!(
                "minAvailable is {s}: no pod may ever be evicted, so nodes cannot be drained"
            ))
        }
        _ => None,
    }
}

fn target_of(doc: &Document) -> Option<(String, String, String)> {
    let t = doc
        .value
        .at("/spec/scaleTargetRef")
        .or_else(|| doc.value.at("/spec/targetRef"))?;
    Some((
        doc.namespace().to_owned(),
        t.get("kind")?.as_str()?.to_owned(),
        t.get("name")?.as_str()?.to_owned(),
    ))
}

/// A001: an HPA and an active VPA on the same workload.
fn hpa_and_vpa(objects: &[Located], _: Tier, out: &mut Vec<Diagnostic>) {
    let hpas: BTreeMap<(String, String, String), &Located> =
        of_kind(objects, "HorizontalPodAutoscaler")
            .filter_map(|o| Some((target_of(&o.doc)?, o)))
            .collect();
    for vpa in of_kind(objects, "VerticalPodAutoscaler") {
        let mode = vpa
            .doc
            .value
            .at("/spec/updatePolicy/updateMode")
            .and_then(Value::as_str)
            .unwrap_or("Auto");
        if matches!(mode, "Off" | "Initial") {
            continue;
        }
        if let Some(target) = target_of(&vpa.doc) {
            if let Some(hpa) = hpas.get(&target) {
                out.push(finding(
                    &vpa.file,
                    &vpa.doc,
                    "spec.updatePolicy.updateMode",
                    "PG-A001",
                    format!(
                        "VPA {} in mode {mode} and {} both act on {} {}; set the VPA's updateMode to Off (recommendations) or Initial",
                        vpa.doc.name(),
                        hpa.doc.describe(),
                        target.1,
                        target.2
                    ),
                ));
            }
        }
    }
}

/// D001: minAvailable at or above the workload's smallest replica count.
fn pdb_and_replicas(objects: &[Located], _: Tier, out: &mut Vec<Diagnostic>) {
    let hpas: BTreeMap<(String, String, String), &Located> =
        of_kind(objects, "HorizontalPodAutoscaler")
            .filter_map(|o| Some((target_of(&o.doc)?, o)))
            .collect();
    for pdb in of_kind(objects, "PodDisruptionBudget") {
        let Some(min) = pdb
            .doc
            .value
            .at("/spec/minAvailable")
            .and_then(Value::as_i64)
        else {
            continue;
        };
        let Some(selector) = pdb
            .doc
            .value
            .at("/spec/selector/matchLabels")
            .and_then(Value::as_object)
        else {
            continue;
        };
        for w in objects.iter().filter(|o| {
            o.doc.namespace() == pdb.doc.namespace()
                && pod_template(o.doc.kind()).is_some_and(|w| w.scaled)
        }) {
            let labels = pod_template(w.doc.kind())
                .and_then(|k| w.doc.value.at(&format!("{}/metadata/labels", k.template)))
                .and_then(Value::as_object);
            let matches = labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)));
            if !matches {
                continue;
            }
            let key = (
                w.doc.namespace().to_owned(),
                w.doc.kind().to_owned(),
                w.doc.name().to_owned(),
            );
            let (replicas, source) = match hpas.get(&key) {
                Some(h) => (
                    h.doc
                        .value
                        .at("/spec/minReplicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1),
                    "the HPA's minReplicas",
                ),
                None => (
                    w.doc
                        .value
                        .at("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1),
                    "its replicas",
                ),
            };
            if min >= replicas {
                out.push(finding(
                    &pdb.file,
                    &pdb.doc,
                    "spec.minAvailable",
                    "PG-D001",
                    format!(
                        "minAvailable {min} is not below {replicas} ({source} of {}): no pod may be evicted, so nodes cannot be drained",
                        w.doc.describe()
                    ),
                ));
            }
        }
    }
}

/// F001: fault injection in prod.
fn no_fault_in_prod(objects: &[Located], tier: Tier, out: &mut Vec<Diagnostic>) {
    if tier != Tier::Prod {
        return;
    }
    for vs in of_kind(objects, "VirtualService") {
        let routes = vs.doc.value.at("/spec/http").and_then(Value::as_array);
        for (i, route) in routes.into_iter().flatten().enumerate() {
            if route.get("fault").is_some_and(|f| !f.is_null()) {
                out.push(finding(
                    &vs.file,
                    &vs.doc,
                    &format!("spec.http[{i}].fault"),
                    "PG-F001",
                    "fault injection is rendered for a prod environment".into(),
                ));
            }
        }
    }
}
