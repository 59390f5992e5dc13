//! The app's PodDisruptionBudget, derived from the fewest pods the app can run with (its
//! HPA's minReplicas, or its fixed replica count).
//!
//! A budget must never stop every eviction (policy PG-D001: node drains and cluster upgrades
//! would hang), so with one pod the budget can only let that pod go, and a drain takes the
//! service down for as long as the pod needs to start elsewhere. That is acceptable below prod
//! (the rendered PDB says so in a comment) and not in prod: a prod environment with a single
//! pod is refused at the spec, where the override that asks for it can be fixed.

use serde::Serialize;

use super::tiers::PdbDefault;
use crate::diagnostic::Diagnostic;
use crate::spec::{Environment, Tier};

#[derive(Debug, Clone, Serialize)]
pub struct Pdb {
    pub min_available: Option<u32>,
    pub max_unavailable: Option<u32>,
    /// Why this budget may let the only pod go, rendered as a comment in the PDB.
    pub note: Option<String>,
}

/// The fewest pods a prod environment may run with.
pub const PROD_MIN_REPLICAS: u32 = 2;

/// The budget for the tier default `default`, when a service runs at least `min_pods` pods
/// (`set_at`: where the spec sets them, innermost first).
/// A single-pod prod environment is a spec error, pushed to `problems`.
pub fn budget(
    env: &Environment,
    default: Option<PdbDefault>,
    min_pods: u32,
    set_at: &[String],
    problems: &mut Vec<Diagnostic>,
) -> Option<Pdb> {
    if env.spec.tier == Tier::Prod && min_pods < PROD_MIN_REPLICAS {
        // The override that asks for so few pods, innermost first.
        let at = set_at
            .first()
            .map(String::as_str)
            .or(Some("/spec/overrides").filter(|p| env.has(p)))
            .unwrap_or("/spec/tier");
        problems.push(
            env.diagnostic(
                at,
                format!(
                    "a prod environment runs at least {PROD_MIN_REPLICAS} pods, this one may run {min_pods}: a node drain would evict the only pod and take the portal down"
                ),
            )
            .with_hint(Some(format!(
                "set minReplicas (and replicas) to {PROD_MIN_REPLICAS} or more; a single pod is allowed on dev and staging"
            ))),
        );
    }
    let single = min_pods <= 1;
    let note = single.then(|| {
        "one pod: a node drain evicts it, and the portal is down until it runs elsewhere. \
         A budget that forbids this would block every drain (PG-D001). Allowed below prod \
         only; see README, PodDisruptionBudget."
            .to_owned()
    });
    default.map(|p| match p {
        // minAvailable must stay below the fewest pods there can be, or no pod could ever be
        // evicted (PG-D001): down to one pod, allow one disruption at a time instead.
        PdbDefault::MinAvailable(n) if n < min_pods => Pdb {
            min_available: Some(n),
            max_unavailable: None,
            note: None,
        },
        PdbDefault::MinAvailable(_) => Pdb {
            min_available: None,
            max_unavailable: Some(1),
            note,
        },
        PdbDefault::MaxUnavailable(n) => Pdb {
            min_available: None,
            max_unavailable: Some(n),
            note,
        },
    })
}
