//! The portal app (DESIGN "What is rendered"): its image, scaling, resources and
//! configuration, from the tier's defaults and the spec's overrides.

use std::collections::BTreeMap;

use serde::Serialize;

use super::tiers::TierDefaults;
use super::{quantity, Primary};
use crate::diagnostic::Diagnostic;
use crate::spec::{Environment, Role, Tier};

#[derive(Debug, Clone, Serialize)]
pub struct App {
    pub name: &'static str,
    pub container: &'static str,
    pub service_account: &'static str,
    pub config_map: &'static str,
    pub image: String,
    pub port: u16,
    pub service_port: u16,
    pub replicas: u32,
    pub resources: Resources,
    pub autoscaling: Option<Autoscaling>,
    pub vpa: Vpa,
    pub pdb: Option<Pdb>,
    /// Spread over zones: hard in prod, best effort elsewhere.
    pub zone_spread: &'static str,
    pub run_as_user: u32,
    pub config: BTreeMap<&'static str, String>,
    pub secret_env: Vec<SecretEnv>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Resources {
    pub requests: CpuMemory,
    pub limits: CpuMemory,
}

#[derive(Debug, Clone, Serialize)]
pub struct CpuMemory {
    pub cpu: String,
    pub memory: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Autoscaling {
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub cpu_utilization: u32,
    pub memory_utilization: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Vpa {
    /// `Off` (recommendations only) when the HPA scales on CPU and memory, so the two never
    /// fight; `Recreate` when nothing else sizes the pods.
    pub update_mode: &'static str,
    pub min_allowed: CpuMemory,
    pub max_allowed: CpuMemory,
}

pub use super::disruption::Pdb;

#[derive(Debug, Clone, Serialize)]
pub struct SecretEnv {
    pub name: &'static str,
    pub secret: &'static str,
    pub key: &'static str,
}

/// The autoscaling range (tier default, each override key replacing its default) and the
/// replica count, with the problems of their overrides.
pub(super) fn scaling(
    env: &Environment,
    d: &TierDefaults,
    problems: &mut Vec<Diagnostic>,
) -> (Option<(u32, u32)>, u32) {
    let spec = &env.spec;
    let o = &spec.overrides;
    // Autoscaling: the tier's range, with each override key replacing its default.
    let autoscaling = match (d.autoscaling, &o.autoscaling) {
        (None, None) => None,
        (Some((min, max)), None) => Some((min, max)),
        (default, Some(a)) => match (
            a.min_replicas.or(default.map(|x| x.0)),
            a.max_replicas.or(default.map(|x| x.1)),
        ) {
            (Some(min), Some(max)) => Some((min, max)),
            _ => {
                problems.push(env.diagnostic(
                    "/spec/overrides/autoscaling",
                    format!(
                        "the {} tier has no autoscaling; give both minReplicas and maxReplicas to turn it on",
                        spec.tier.as_str()
                    ),
                ));
                None
            }
        },
    };
    if let Some((min, max)) = autoscaling {
        if min > max {
            let at = if env.has("/spec/overrides/autoscaling/minReplicas") {
                "/spec/overrides/autoscaling/minReplicas"
            } else {
                "/spec/overrides/autoscaling/maxReplicas"
            };
            problems.push(env.diagnostic(
                at,
                format!("minReplicas ({min}) is greater than maxReplicas ({max})"),
            ));
        }
    }
    // Without an override, the tier's replica count, kept inside the autoscaling range.
    let replicas = o.replicas.unwrap_or(match autoscaling {
        Some((min, max)) if min <= max => d.replicas.clamp(min, max),
        _ => d.replicas,
    });
    if let (Some((min, max)), Some(r)) = (autoscaling, o.replicas) {
        if r < min || r > max {
            problems.push(env.diagnostic(
                "/spec/overrides/replicas",
                format!("replicas ({r}) must lie within the autoscaling range {min}–{max}"),
            ));
        }
    }
    (autoscaling, replicas)
}

/// The app's requests and limits: the tier's, each override key replacing its default.
pub(super) fn resources(
    env: &Environment,
    d: &TierDefaults,
    problems: &mut Vec<Diagnostic>,
) -> Resources {
    let o = &env.spec.overrides;
    let pick = |ov: Option<&Option<String>>, default: &str| -> String {
        ov.and_then(|v| v.clone())
            .unwrap_or_else(|| default.to_owned())
    };
    let req = o.resources.as_ref().and_then(|r| r.requests.as_ref());
    let lim = o.resources.as_ref().and_then(|r| r.limits.as_ref());
    let resources = Resources {
        requests: CpuMemory {
            cpu: pick(req.map(|r| &r.cpu), d.requests.0),
            memory: pick(req.map(|r| &r.memory), d.requests.1),
        },
        limits: CpuMemory {
            cpu: pick(lim.map(|r| &r.cpu), d.limits.0),
            memory: pick(lim.map(|r| &r.memory), d.limits.1),
        },
    };
    let over = |a: Option<u128>, b: Option<u128>| matches!((a, b), (Some(a), Some(b)) if a > b);
    if over(
        quantity::cpu_millis(&resources.requests.cpu).map(u128::from),
        quantity::cpu_millis(&resources.limits.cpu).map(u128::from),
    ) {
        problems.push(env.diagnostic(
            resource_pointer(env, "cpu"),
            format!(
                "the CPU request ({}) is above the CPU limit ({})",
                resources.requests.cpu, resources.limits.cpu
            ),
        ));
    }
    if over(
        quantity::bytes(&resources.requests.memory),
        quantity::bytes(&resources.limits.memory),
    ) {
        problems.push(env.diagnostic(
            resource_pointer(env, "memory"),
            format!(
                "the memory request ({}) is above the memory limit ({})",
                resources.requests.memory, resources.limits.memory
            ),
        ));
    }
    resources
}

/// The app's non-secret configuration (the `region-config` ConfigMap).
pub(super) fn app_config(
    env: &Environment,
    primary: Option<&Primary>,
    redis_host: &str,
) -> BTreeMap<&'static str, String> {
    let spec = &env.spec;
    let name = env.name.clone();
    let primary_info = primary;
    let redis_host = redis_host.to_owned();
    let mut config = BTreeMap::new();
    config.insert("PORTAL_ENVIRONMENT", name.clone());
    config.insert("PORTAL_TIER", spec.tier.as_str().to_owned());
    config.insert("PORTAL_REGION", spec.region.clone());
    config.insert("PORTAL_ROLE", spec.role.as_str().to_owned());
    config.insert(
        "PORTAL_PRIMARY_REGION",
        primary_info
            .as_ref()
            .map_or_else(|| spec.region.clone(), |p| p.region.clone()),
    );
    config.insert("PORTAL_DOMAIN", spec.domain.clone());
    config.insert("PORT", "3000".to_owned());
    config.insert("NODE_ENV", "production".to_owned());
    config.insert(
        "LOG_LEVEL",
        if spec.tier == Tier::Dev {
            "debug"
        } else {
            "info"
        }
        .to_owned(),
    );
    config.insert("METRICS_PATH", "/metrics".to_owned());
    config.insert("REDIS_HOST", redis_host.clone());
    config.insert(
        "DATABASE_READ_ONLY",
        (spec.role == Role::Replica).to_string(),
    );
    config
}

/// The portal app (DESIGN "What is rendered"): its workload, scaling and configuration.
pub(super) fn app(
    spec: &crate::spec::EnvironmentSpec,
    scaled: (Option<(u32, u32)>, u32),
    pdb: Option<Pdb>,
    resources: Resources,
    image: String,
    config: BTreeMap<&'static str, String>,
) -> App {
    let (autoscaling, replicas) = scaled;
    App {
        name: "portal-app",
        container: "portal",
        service_account: "portal-app",
        config_map: "region-config",
        image,
        port: 3000,
        service_port: 80,
        replicas,
        resources,
        autoscaling: autoscaling.map(|(min_replicas, max_replicas)| Autoscaling {
            min_replicas,
            max_replicas,
            cpu_utilization: 70,
            memory_utilization: 80,
        }),
        vpa: Vpa {
            update_mode: if autoscaling.is_some() {
                "Off"
            } else {
                "Recreate"
            },
            min_allowed: CpuMemory {
                cpu: "100m".into(),
                memory: "128Mi".into(),
            },
            max_allowed: CpuMemory {
                cpu: "4".into(),
                memory: "8Gi".into(),
            },
        },
        pdb,
        zone_spread: if spec.tier == Tier::Prod {
            "DoNotSchedule"
        } else {
            "ScheduleAnyway"
        },
        run_as_user: 1001,
        config,
        secret_env: vec![
            SecretEnv {
                name: "DATABASE_URL",
                secret: "portal-db-app",
                key: "uri",
            },
            SecretEnv {
                name: "SESSION_SECRET",
                secret: "portal-secrets",
                key: "session-secret",
            },
        ],
    }
}

/// Where a request-above-limit problem is reported: the override that caused it.
fn resource_pointer(env: &Environment, resource: &str) -> &'static str {
    let req = format!("/spec/overrides/resources/requests/{resource}");
    match (resource, env.has(&req)) {
        ("cpu", true) => "/spec/overrides/resources/requests/cpu",
        ("cpu", false) => "/spec/overrides/resources/limits/cpu",
        (_, true) => "/spec/overrides/resources/requests/memory",
        _ => "/spec/overrides/resources/limits/memory",
    }
}
