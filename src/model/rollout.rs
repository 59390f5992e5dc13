//! How a service's new versions roll out (issue 16, docs/progressive-delivery.md): a
//! Deployment's rolling update (dev), or an Argo Rollouts `Rollout` — a canary behind the
//! mesh's traffic split (prod) or a blue-green with a preview Service (staging) — gated on
//! the service's SLOs and aborted past the abort thresholds of `003_…`.
//!
//! The Rollout carries the pod template itself (`spec.template`), not a `workloadRef` to a
//! Deployment: one workload object per service, which every pod rule, the flow matrix, the
//! PDB and the scale targets already read by its kind (`POD_TEMPLATE_KINDS`), and no
//! zero-replica Deployment beside it for kube-state-metrics and the checks to misread. The
//! template is the Deployment's, laid out by the same template file.

use serde::Serialize;

use super::network::Route;
use super::services::Slo;
use crate::diagnostic::Diagnostic;
use crate::provenance::{Origin, Origins};
use crate::spec::delivery::{self, Limits};
use crate::spec::{DeliverySpec, Environment, Strategy, Tier};

/// The Argo Rollouts controller's namespace (its operator row in `families::argocd::operators`).
pub const ARGO_ROLLOUTS_NAMESPACE: &str = "argo-rollouts";

/// How long a blue-green keeps the old version's pods after promotion (`003_…`: "Keep
/// Running (30 mins)"), so that a rollback is a switch of selectors (< 30 s).
pub const SCALE_DOWN_DELAY_SECONDS: u32 = 1800;

/// How often the analysis measures, and how many failed measurements abort.
pub const ANALYSIS_INTERVAL: &str = "1m";
pub const FAILURE_LIMIT: u32 = 1;
/// A blue-green's pre-promotion analysis must end for the promotion to happen: this many
/// measurements, one a minute (`003_…`: "Deployment Time: 5-10 minutes"). A canary's
/// runs in the background until the rollout completes (no count).
pub const PRE_PROMOTION_MEASUREMENTS: u32 = 5;
/// The window of the analysis' rates: the SLI recording rules' shortest.
pub const ANALYSIS_WINDOW: &str = "5m";

#[derive(Debug, Clone, Serialize)]
pub struct Rollout {
    pub strategy: Strategy,
    /// `Deployment` (rolling) or `Rollout`.
    pub kind: &'static str,
    pub api_version: &'static str,
    /// Its file in the service's folder.
    pub file: &'static str,
    /// What each step must stay below: the SLO unless the spec says otherwise.
    pub gates: Thresholds,
    /// Past these the analysis fails and the rollout aborts.
    pub abort: Thresholds,
    /// The AnalysisTemplate (none for a rolling Deployment).
    pub analysis: Option<Analysis>,
    pub canary: Option<Canary>,
    pub blue_green: Option<BlueGreen>,
    /// The Services the controller points at one version (besides the service's own).
    pub services: Vec<RolloutService>,
}

/// A Service whose selector Argo Rollouts narrows to one ReplicaSet's pods.
#[derive(Debug, Clone, Serialize)]
pub struct RolloutService {
    pub name: String,
    /// Its `app.kubernetes.io/name` label: its own name, not the service's, so that the
    /// ServiceMonitor scrapes every pod once, through the service's own Service (which
    /// Argo Rollouts leaves alone and which selects the pods of every version).
    pub label: String,
    pub comment: &'static str,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Thresholds {
    /// 5xx share, as a fraction.
    pub error_rate: f64,
    pub latency_p95_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The AnalysisTemplate's name: `<service>-slo`.
    pub template: String,
    /// The Service whose scrape job the queries select (`args.service`): the service's own,
    /// which selects the pods of every version (the pod-template hash picks the new one's).
    pub service: String,
    pub interval: &'static str,
    /// How many measurements (none: until the rollout completes).
    pub count: Option<u32>,
    pub failure_limit: u32,
    pub window: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Canary {
    pub steps: Vec<Step>,
    pub canary_service: String,
    pub stable_service: String,
    /// The mesh's traffic split; none for a service without public routes (the canary is
    /// then a share of the replicas).
    pub traffic_routing: Option<IstioRouting>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub weight: u32,
    pub pause: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IstioRouting {
    pub virtual_service: String,
    /// The names of its HTTP routes to the service, each with both destinations.
    pub routes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlueGreen {
    /// What the mesh and the other services call (`called_as`).
    pub active_service: String,
    pub preview_service: String,
    pub auto_promotion: bool,
    pub scale_down_delay_seconds: u32,
}

impl Rollout {
    pub fn is_rollout(&self) -> bool {
        self.strategy != Strategy::Rolling
    }
}

/// The strategy of service `name`: its own, the environment's, or the tier's.
pub fn strategy(env: &Environment, name: &str) -> Strategy {
    let spec = &env.spec;
    let own = spec
        .overrides
        .services
        .get(name)
        .and_then(|o| o.delivery.as_ref());
    own.and_then(|d| d.strategy)
        .or(spec.delivery.as_ref().and_then(|d| d.strategy))
        .unwrap_or(delivery::tier_strategy(spec.tier))
}

/// The Service the mesh and the other services call service `name` by: the active Service
/// of a blue-green (never the preview), else the service's own (a canary's callers inside
/// the cluster reach both versions in proportion to their replicas).
pub fn called_as(env: &Environment, name: &str) -> String {
    match strategy(env, name) {
        Strategy::BlueGreen => format!("{name}-active"),
        _ => name.to_owned(),
    }
}

/// The delivery of service `name` (its SLO `slo`); a gate that defaults to the SLO and is
/// not below the abort threshold goes to `problems`.
pub(super) fn resolve(
    env: &Environment,
    name: &str,
    slo: &Slo,
    problems: &mut Vec<Diagnostic>,
    origins: &mut Origins,
) -> Rollout {
    let spec = &env.spec;
    let top = spec.delivery.as_ref();
    let own = spec
        .overrides
        .services
        .get(name)
        .and_then(|o| o.delivery.as_ref());
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    let own_at = format!("/spec/overrides/services/{}/delivery", escape(name));
    // The pointer of the first section that sets a field.
    let set_at = |field: &str, get: &dyn Fn(&DeliverySpec) -> bool| -> Option<String> {
        if own.is_some_and(get) {
            Some(format!("{own_at}/{field}"))
        } else if top.is_some_and(get) {
            Some(format!("/spec/delivery/{field}"))
        } else {
            None
        }
    };
    let strategy = strategy(env, name);
    origins.set(
        "/rollout/strategy",
        match set_at("strategy", &|d| d.strategy.is_some()) {
            Some(p) => Origin::spec(env, &p),
            None => Origin::tier(spec.tier, "delivery.strategy", strategy.as_str()),
        },
    );
    let slo_limits = Limits {
        error_rate: Some(slo.error_rate),
        latency_seconds: Some(slo.latency_p95_seconds),
    };
    let gates = Limits::of(own.and_then(|d| d.gates.as_ref()))
        .over(Limits::of(top.and_then(|d| d.gates.as_ref())))
        .over(slo_limits);
    let (abort_errors, abort_latency) =
        delivery::default_abort(slo.error_rate, slo.latency_p95_seconds);
    let abort = Limits::of(own.and_then(|d| d.abort.as_ref()))
        .over(Limits::of(top.and_then(|d| d.abort.as_ref())))
        .over(Limits {
            error_rate: Some(abort_errors),
            latency_seconds: Some(abort_latency),
        });
    let gates = Thresholds {
        error_rate: gates.error_rate.unwrap_or(slo.error_rate),
        latency_p95_seconds: gates.latency_seconds.unwrap_or(slo.latency_p95_seconds),
    };
    let abort = Thresholds {
        error_rate: abort.error_rate.unwrap_or(delivery::ABORT_ERROR_RATE),
        latency_p95_seconds: abort
            .latency_seconds
            .unwrap_or(delivery::ABORT_LATENCY_SECONDS),
    };
    let gate_set = |f: &str| {
        set_at(&format!("gates/{f}"), &|d: &DeliverySpec| {
            d.gates.as_ref().is_some_and(|g| {
                if f == "errorRate" {
                    g.error_rate.is_some()
                } else {
                    g.latency_p95.is_some()
                }
            })
        })
    };
    let abort_set = |f: &str| {
        set_at(&format!("abort/{f}"), &|d: &DeliverySpec| {
            d.abort.as_ref().is_some_and(|g| {
                if f == "errorRate" {
                    g.error_rate.is_some()
                } else {
                    g.latency_p95.is_some()
                }
            })
        })
    };
    // A gate against an abort threshold, where one of the two is a default (two explicit
    // ones are checked with the spec, `spec::delivery`).
    if strategy != Strategy::Rolling {
        for (field, g, a) in [
            ("errorRate", gates.error_rate, abort.error_rate),
            (
                "latencyP95",
                gates.latency_p95_seconds,
                abort.latency_p95_seconds,
            ),
        ] {
            let (gate_at, abort_at) = (gate_set(field), abort_set(field));
            if (gate_at.is_none() || abort_at.is_none()) && g >= a {
                let (gs, as_) = if field == "errorRate" {
                    (delivery::pct(g), delivery::pct(a))
                } else {
                    (delivery::ms(g), delivery::ms(a))
                };
                let gate = if gate_at.is_some() {
                    format!("gate {gs}")
                } else {
                    format!("gate (its SLO, {gs})")
                };
                let threshold = if abort_at.is_some() {
                    format!("abort threshold {as_}")
                } else {
                    format!("default abort threshold {as_}")
                };
                let at = gate_at
                    .or(abort_at)
                    .unwrap_or_else(|| "/spec/delivery".to_owned());
                problems.push(
                    env.diagnostic(&at, format!("the {field} {gate} of service '{name}' is not below its {threshold}: a step could never fail its gate without aborting the rollout first"))
                        .with_hint(Some(format!("lower gates.{field} below {as_}, or raise abort.{field} above {gs}"))),
                );
            }
        }
    }
    for (field, key) in [
        ("errorRate", "/rollout/gates/error_rate"),
        ("latencyP95", "/rollout/gates/latency_p95_seconds"),
    ] {
        origins.set(
            key,
            match gate_set(field) {
                Some(p) => Origin::spec(env, &p),
                None => Origin::derived(
                    "the service's SLO (src/model/rollout.rs)",
                    vec![Origin::constant(
                        "the service's SLO (src/model/services.rs)",
                    )],
                ),
            },
        );
    }
    for (field, key) in [
        ("errorRate", "/rollout/abort/error_rate"),
        ("latencyP95", "/rollout/abort/latency_p95_seconds"),
    ] {
        origins.set(
            key,
            match abort_set(field) {
                Some(p) => Origin::spec(env, &p),
                None => Origin::constant(
                    "the rollback triggers of 003_…, or their multiples of a looser SLO (default_abort, src/spec/delivery.rs)",
                ),
            },
        );
    }
    let (kind, api_version, file) = match strategy {
        Strategy::Rolling => ("Deployment", "apps/v1", "deployment.yaml"),
        _ => ("Rollout", "argoproj.io/v1alpha1", "rollout.yaml"),
    };
    let analysis = (strategy != Strategy::Rolling).then(|| Analysis {
        template: format!("{name}-slo"),
        service: name.to_owned(),
        interval: ANALYSIS_INTERVAL,
        count: (strategy == Strategy::BlueGreen).then_some(PRE_PROMOTION_MEASUREMENTS),
        failure_limit: FAILURE_LIMIT,
        window: ANALYSIS_WINDOW,
    });
    let canary = (strategy == Strategy::Canary).then(|| {
        let steps = own
            .and_then(|d| d.steps.as_ref())
            .or(top.and_then(|d| d.steps.as_ref()));
        origins.set(
            "/rollout/canary/steps",
            match set_at("steps", &|d| d.steps.is_some()) {
                Some(p) => Origin::spec(env, &p),
                None => Origin::constant(
                    "the canary stages of 003_… (DEFAULT_STEPS, src/spec/delivery.rs)",
                ),
            },
        );
        Canary {
            steps: match steps {
                Some(s) => s
                    .iter()
                    .map(|s| Step {
                        weight: s.weight.clamp(1, 99) as u32,
                        pause: s.pause.clone(),
                    })
                    .collect(),
                None => delivery::DEFAULT_STEPS
                    .iter()
                    .map(|&(weight, pause)| Step {
                        weight,
                        pause: pause.to_owned(),
                    })
                    .collect(),
            },
            canary_service: format!("{name}-canary"),
            stable_service: format!("{name}-stable"),
            traffic_routing: None,
        }
    });
    let blue_green = (strategy == Strategy::BlueGreen).then(|| BlueGreen {
        active_service: called_as(env, name),
        preview_service: format!("{name}-preview"),
        // Prod promotes by hand; elsewhere once the pre-promotion analysis passed.
        auto_promotion: spec.tier != Tier::Prod,
        scale_down_delay_seconds: SCALE_DOWN_DELAY_SECONDS,
    });
    if blue_green.is_some() {
        origins.set(
            "/rollout/blue_green/auto_promotion",
            Origin::tier(
                spec.tier,
                "delivery.autoPromotionEnabled",
                spec.tier != Tier::Prod,
            ),
        );
    }
    let mut services = Vec::new();
    if let Some(c) = &canary {
        services.push(RolloutService {
            name: c.canary_service.clone(),
            label: c.canary_service.clone(),
            comment: "The canary's pods during a rollout (Argo Rollouts sets its selector's pod-template hash).",
        });
        services.push(RolloutService {
            name: c.stable_service.clone(),
            label: c.stable_service.clone(),
            comment:
                "The stable version's pods (Argo Rollouts sets its selector's pod-template hash).",
        });
    }
    if let Some(b) = &blue_green {
        services.push(RolloutService {
            name: b.active_service.clone(),
            label: b.active_service.clone(),
            comment: "The promoted version's pods, which the mesh and the other services call (Argo Rollouts sets its selector's pod-template hash).",
        });
        services.push(RolloutService {
            name: b.preview_service.clone(),
            label: b.preview_service.clone(),
            comment: "The new version before promotion (Argo Rollouts sets its selector's pod-template hash).",
        });
    }
    Rollout {
        services,
        strategy,
        kind,
        api_version,
        file,
        gates,
        abort,
        analysis,
        canary,
        blue_green,
    }
}

/// The canary's traffic split: the VirtualService's routes to the service (their names as
/// the mesh renders them, `Route::names`; the fault-injection route where the mesh renders
/// one).
pub(super) fn route(
    rollout: &mut Rollout,
    service: &str,
    routes: &[Route],
    virtual_service: &str,
    fault_injection: bool,
) {
    let Some(c) = &mut rollout.canary else { return };
    let names: Vec<String> = routes
        .iter()
        .filter(|r| r.service == service)
        .flat_map(|r| {
            let mut n = Vec::new();
            if fault_injection {
                n.push(r.names.fault_injection.clone());
            }
            n.push(r.names.tenant.clone());
            n.push(r.names.default.clone());
            n
        })
        .collect();
    if !names.is_empty() {
        c.traffic_routing = Some(IstioRouting {
            virtual_service: virtual_service.to_owned(),
            routes: names,
        });
    }
}
