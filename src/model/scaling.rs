//! How many pods a service runs and how big they are: the tier's defaults, the system
//! file's resources, then the environment's overrides for every service, then its
//! overrides for this service — each key replacing the one before. Every value remembers
//! where it was set, so that a problem is reported at the line that caused it.

use serde::Serialize;

use super::quantity;
use super::tiers::TierDefaults;
use crate::diagnostic::Diagnostic;
use crate::provenance::{Origin, Origins};
use crate::spec::system::{ServiceSpec, System};
use crate::spec::{CpuMemoryOverride, Environment, Tier};

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

/// Where a value was set.
#[derive(Debug, Clone)]
enum Source {
    Env(String),
    System(String),
}

/// A value and where it was set.
#[derive(Debug, Clone)]
struct Knob<T> {
    value: T,
    at: Source,
}

/// The scaling and resource values set for one service, with their places.
pub(super) struct Knobs<'a> {
    env: &'a Environment,
    system: &'a System,
    replicas: Option<Knob<u32>>,
    /// Where autoscaling is asked for (the innermost `autoscaling` key that is set).
    autoscaling_at: Option<String>,
    min_replicas: Option<Knob<u32>>,
    max_replicas: Option<Knob<u32>>,
    /// requests.cpu, requests.memory, limits.cpu, limits.memory.
    resources: [Option<Knob<String>>; 4],
}

const RESOURCE_KEYS: [&str; 4] = [
    "requests/cpu",
    "requests/memory",
    "limits/cpu",
    "limits/memory",
];

fn side(c: Option<&CpuMemoryOverride>, i: usize) -> Option<&String> {
    let c = c?;
    if i % 2 == 0 {
        c.cpu.as_ref()
    } else {
        c.memory.as_ref()
    }
}

fn pick(o: Option<&crate::spec::ResourcesOverride>, i: usize) -> Option<&String> {
    let o = o?;
    side(
        if i < 2 {
            o.requests.as_ref()
        } else {
            o.limits.as_ref()
        },
        i,
    )
}

impl<'a> Knobs<'a> {
    pub fn of(
        env: &'a Environment,
        system: &'a System,
        index: usize,
        s: &ServiceSpec,
    ) -> Knobs<'a> {
        let o = &env.spec.overrides;
        let own = o.services.get(&s.name);
        let own_at = format!(
            "/spec/overrides/services/{}",
            s.name.replace('~', "~0").replace('/', "~1")
        );
        let env_knob = |v: Option<u32>, at: String| {
            v.map(|value| Knob {
                value,
                at: Source::Env(at),
            })
        };
        let replicas = env_knob(own.and_then(|o| o.replicas), format!("{own_at}/replicas"))
            .or_else(|| env_knob(o.replicas, "/spec/overrides/replicas".into()));
        let own_a = own.and_then(|o| o.autoscaling.as_ref());
        let top_a = o.autoscaling.as_ref();
        let min_replicas = env_knob(
            own_a.and_then(|a| a.min_replicas),
            format!("{own_at}/autoscaling/minReplicas"),
        )
        .or_else(|| {
            env_knob(
                top_a.and_then(|a| a.min_replicas),
                "/spec/overrides/autoscaling/minReplicas".into(),
            )
        });
        let max_replicas = env_knob(
            own_a.and_then(|a| a.max_replicas),
            format!("{own_at}/autoscaling/maxReplicas"),
        )
        .or_else(|| {
            env_knob(
                top_a.and_then(|a| a.max_replicas),
                "/spec/overrides/autoscaling/maxReplicas".into(),
            )
        });
        let autoscaling_at = match (own_a, top_a) {
            (Some(_), _) => Some(format!("{own_at}/autoscaling")),
            (None, Some(_)) => Some("/spec/overrides/autoscaling".into()),
            _ => None,
        };
        let resources = std::array::from_fn(|i| {
            let key = RESOURCE_KEYS[i];
            let env_res = |r: Option<&crate::spec::ResourcesOverride>, at: String| {
                pick(r, i).map(|v| Knob {
                    value: v.clone(),
                    at: Source::Env(at),
                })
            };
            env_res(
                own.and_then(|o| o.resources.as_ref()),
                format!("{own_at}/resources/{key}"),
            )
            .or_else(|| {
                env_res(
                    o.resources.as_ref(),
                    format!("/spec/overrides/resources/{key}"),
                )
            })
            .or_else(|| {
                pick(s.resources.as_ref(), i).map(|v| Knob {
                    value: v.clone(),
                    at: Source::System(format!("/spec/services/{index}/resources/{key}")),
                })
            })
        });
        Knobs {
            env,
            system,
            replicas,
            autoscaling_at,
            min_replicas,
            max_replicas,
            resources,
        }
    }

    fn diagnostic(&self, at: &Source, message: String) -> Diagnostic {
        match at {
            Source::Env(p) => self.env.diagnostic(p, message),
            Source::System(p) => self.system.diagnostic(p, message),
        }
    }

    /// Where a prod service that may run a single pod is reported, innermost first.
    pub fn min_pods_pointers(&self) -> Vec<String> {
        [self.min_replicas.as_ref(), self.replicas.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|k| match &k.at {
                Source::Env(p) => Some(p.clone()),
                Source::System(_) => None,
            })
            .chain(self.autoscaling_at.clone())
            .collect()
    }
}

/// The autoscaling range (tier default, each override key replacing its default) and the
/// replica count, with the problems of their overrides.
pub(super) fn scaling(
    k: &Knobs,
    d: &TierDefaults,
    tier: Tier,
    problems: &mut Vec<Diagnostic>,
) -> (Option<(u32, u32)>, u32) {
    let (min, max) = (
        k.min_replicas.as_ref().map(|k| k.value),
        k.max_replicas.as_ref().map(|k| k.value),
    );
    let autoscaling = match (d.autoscaling, &k.autoscaling_at) {
        (None, None) => None,
        (Some(range), None) => Some(range),
        (default, Some(at)) => match (min.or(default.map(|x| x.0)), max.or(default.map(|x| x.1))) {
            (Some(min), Some(max)) => Some((min, max)),
            _ => {
                problems.push(k.env.diagnostic(
                    at,
                    format!(
                        "the {} tier has no autoscaling; give both minReplicas and maxReplicas to turn it on",
                        tier.as_str()
                    ),
                ));
                None
            }
        },
    };
    if let Some((min, max)) = autoscaling {
        if min > max {
            let at = k
                .min_replicas
                .as_ref()
                .or(k.max_replicas.as_ref())
                .map(|k| k.at.clone());
            if let Some(at) = at {
                problems.push(k.diagnostic(
                    &at,
                    format!("minReplicas ({min}) is greater than maxReplicas ({max})"),
                ));
            }
        }
    }
    // Without an override, the tier's replica count, kept inside the autoscaling range.
    let replicas = k.replicas.as_ref().map_or(
        match autoscaling {
            Some((min, max)) if min <= max => d.replicas.clamp(min, max),
            _ => d.replicas,
        },
        |k| k.value,
    );
    if let (Some((min, max)), Some(r)) = (autoscaling, &k.replicas) {
        if r.value < min || r.value > max {
            problems.push(k.diagnostic(
                &r.at,
                format!(
                    "replicas ({}) must lie within the autoscaling range {min}–{max}",
                    r.value
                ),
            ));
        }
    }
    (autoscaling, replicas)
}

/// A service's requests and limits, with a problem where a request exceeds its limit.
pub(super) fn resources(k: &Knobs, d: &TierDefaults, problems: &mut Vec<Diagnostic>) -> Resources {
    let defaults = [d.requests.0, d.requests.1, d.limits.0, d.limits.1];
    let value = |i: usize| {
        k.resources[i]
            .as_ref()
            .map_or_else(|| defaults[i].to_owned(), |k| k.value.clone())
    };
    let resources = Resources {
        requests: CpuMemory {
            cpu: value(0),
            memory: value(1),
        },
        limits: CpuMemory {
            cpu: value(2),
            memory: value(3),
        },
    };
    let checks = [
        (
            "CPU",
            0,
            2,
            quantity::cpu_millis(&resources.requests.cpu).map(u128::from),
            quantity::cpu_millis(&resources.limits.cpu).map(u128::from),
        ),
        (
            "memory",
            1,
            3,
            quantity::bytes(&resources.requests.memory),
            quantity::bytes(&resources.limits.memory),
        ),
    ];
    for (what, req, lim, a, b) in checks {
        if matches!((a, b), (Some(a), Some(b)) if a > b) {
            // Reported at the request if it was set, else at the limit.
            let Some(at) = k.resources[req]
                .as_ref()
                .or(k.resources[lim].as_ref())
                .map(|k| k.at.clone())
            else {
                continue;
            };
            problems.push(k.diagnostic(
                &at,
                format!(
                    "the {what} request ({}) is above the {what} limit ({})",
                    value(req),
                    value(lim)
                ),
            ));
        }
    }
    resources
}

/// The VPA of a service: recommendations only when an HPA scales it.
pub(super) fn vpa(autoscaled: bool) -> Vpa {
    Vpa {
        update_mode: if autoscaled { "Off" } else { "Recreate" },
        min_allowed: CpuMemory {
            cpu: "100m".into(),
            memory: "128Mi".into(),
        },
        max_allowed: CpuMemory {
            cpu: "4".into(),
            memory: "8Gi".into(),
        },
    }
}

impl Knobs<'_> {
    /// The origin of a knob's value.
    fn origin_of<T>(&self, k: &Knob<T>) -> Origin {
        match &k.at {
            Source::Env(p) => Origin::spec(self.env, p),
            Source::System(p) => Origin::system(self.system, p),
        }
    }

    /// Where this service's replicas, autoscaling range and resources came from, by
    /// pointer relative to the service (issue 17): the override or the system file that
    /// set each, else the tier's default.
    pub fn origins(&self, d: &TierDefaults, autoscaling: Option<(u32, u32)>) -> Origins {
        let tier = self.env.spec.tier;
        let mut o = Origins::default();
        let replicas = match &self.replicas {
            Some(k) => self.origin_of(k),
            None => match autoscaling {
                Some((min, max)) if !(min..=max).contains(&d.replicas) => Origin::derived(
                    "the tier's replica count kept inside the autoscaling range (src/model/scaling.rs)",
                    vec![
                        Origin::tier(tier, "replicas", d.replicas),
                        self.range_origin(true, d),
                        self.range_origin(false, d),
                    ],
                ),
                _ => Origin::tier(tier, "replicas", d.replicas),
            },
        };
        o.set("/replicas", replicas);
        if autoscaling.is_some() {
            o.set(
                "/autoscaling",
                Origin::constant("the HPA's utilization targets (src/model/services.rs)"),
            );
            o.set("/autoscaling/min_replicas", self.range_origin(true, d));
            o.set("/autoscaling/max_replicas", self.range_origin(false, d));
        }
        let defaults = [d.requests.0, d.requests.1, d.limits.0, d.limits.1];
        let names = [
            "requests.cpu",
            "requests.memory",
            "limits.cpu",
            "limits.memory",
        ];
        for i in 0..4 {
            let origin = match &self.resources[i] {
                Some(k) => self.origin_of(k),
                None => Origin::tier(tier, names[i], defaults[i]),
            };
            o.set(format!("/resources/{}", RESOURCE_KEYS[i]), origin);
        }
        o
    }

    fn range_origin(&self, min: bool, d: &TierDefaults) -> Origin {
        let (knob, key) = if min {
            (&self.min_replicas, "autoscaling.minReplicas")
        } else {
            (&self.max_replicas, "autoscaling.maxReplicas")
        };
        match knob {
            Some(k) => self.origin_of(k),
            None => match d.autoscaling {
                Some((lo, hi)) => Origin::tier(self.env.spec.tier, key, if min { lo } else { hi }),
                None => Origin::Unknown {
                    why: "autoscaling without a tier default or an override".into(),
                },
            },
        }
    }
}
