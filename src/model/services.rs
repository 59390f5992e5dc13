//! The services of the system (DESIGN §2a, §4 "The portal app"): for each, its image,
//! scaling, resources, probes, configuration, secrets, routes, metrics and SLOs — the
//! system file's values (or the built-in portal app's), with the tier's defaults and the
//! environment's overrides applied.

use std::collections::BTreeMap;

use serde::Serialize;

use super::scaling::{self, Knobs};
use super::tiers::TierDefaults;
use super::Primary;
use crate::diagnostic::Diagnostic;
use crate::provenance::{escape, Origin, Origins};
use crate::spec::system::{
    ServiceSpec, System, DATABASE_URL_ENV, REDIS_PASSWORD_ENV, USES_DATABASE, USES_INTERNET,
    USES_REDIS,
};
use crate::spec::{Environment, Role, Tier};
pub use scaling::{Autoscaling, CpuMemory, Resources, Vpa};

pub use super::disruption::Pdb;

/// The port every Service listens on; it forwards to the container's `http` port.
pub const SERVICE_PORT: u16 = 80;

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub name: String,
    pub container: String,
    /// Its folder under `kubernetes/platform/`.
    pub folder: String,
    pub service_account: String,
    pub config_map: String,
    pub image: String,
    /// The container's port (named `http`).
    pub port: u16,
    pub service_port: u16,
    pub probes: ProbePaths,
    pub replicas: u32,
    pub resources: Resources,
    pub autoscaling: Option<Autoscaling>,
    pub vpa: Vpa,
    pub pdb: Option<Pdb>,
    /// Spread over zones: hard in prod, best effort elsewhere.
    pub zone_spread: &'static str,
    pub run_as_user: u32,
    /// Its ConfigMap: the platform's variables, connection settings for what it uses, the
    /// system file's `env`, then the environment's overrides.
    pub config: BTreeMap<String, String>,
    pub secret_env: Vec<SecretEnv>,
    /// Public path prefixes (normalized: no trailing `/`).
    pub routes: Vec<String>,
    pub uses: Uses,
    pub metrics: Option<MetricsEndpoint>,
    pub slo: Slo,
    /// CamelCase prefix of its alert names: `PortalApp` → `PortalAppDown`.
    pub alert_prefix: String,
    /// The `job` label of its series: Prometheus names the job after the scraped Service.
    pub job: String,
    /// `app.kubernetes.io/component`.
    pub component: String,
    /// Its OTLP endpoint and resource attributes (set with the tracing section, see
    /// `families::tracing::model`).
    pub telemetry: Vec<crate::families::tracing::model::EnvVar>,
    /// Where each of these values came from, by pointer relative to the service (issue
    /// 17). Not part of the template context.
    #[serde(skip_serializing)]
    pub origins: Origins,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProbePaths {
    pub startup: String,
    pub liveness: String,
    pub readiness: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretEnv {
    pub name: String,
    pub secret: String,
    pub key: String,
}

/// What a service may reach besides DNS.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Uses {
    pub database: bool,
    pub redis: bool,
    /// Outbound HTTPS to anywhere.
    pub internet: bool,
    /// Services of the system, by name, in the order written.
    pub services: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricsEndpoint {
    /// The container port's name: `http` when the metrics are served on the service port.
    pub port_name: String,
    pub port: u16,
    pub path: String,
}

/// A service's SLOs (DESIGN §3 unless the system file says otherwise).
#[derive(Debug, Clone, Serialize)]
pub struct Slo {
    /// Availability target, as a fraction: 0.999.
    pub availability: f64,
    /// p95 latency objective, in seconds.
    pub latency_p95_seconds: f64,
    /// Highest 5xx ratio, as a fraction: 0.001.
    pub error_rate: f64,
}

impl Default for Slo {
    fn default() -> Slo {
        Slo {
            availability: 0.999,
            latency_p95_seconds: 0.5,
            error_rate: 0.001,
        }
    }
}

/// What every service's configuration is built from, besides its own spec.
pub(super) struct Context<'a> {
    pub env: &'a Environment,
    pub system: &'a System,
    pub defaults: &'a TierDefaults,
    pub primary: Option<&'a Primary>,
    pub redis_host: &'a str,
    /// The Redis password's Secret and key.
    pub redis_secret: &'a super::data::SecretKeyRef,
    pub database_secret: &'a str,
    /// The platform namespace.
    pub namespace: &'a str,
}

/// Every service of the system, resolved; problems of the overrides go to `problems`.
pub(super) fn resolve(cx: &Context, problems: &mut Vec<Diagnostic>) -> Vec<Service> {
    cx.system
        .services
        .iter()
        .enumerate()
        .map(|(i, s)| service(cx, i, s, problems))
        .collect()
}

fn service(cx: &Context, index: usize, s: &ServiceSpec, problems: &mut Vec<Diagnostic>) -> Service {
    let env = cx.env;
    let spec = &env.spec;
    let builtin = cx.system.is_builtin();
    let knobs = Knobs::of(cx.env, cx.system, index, s);
    let (autoscaling, replicas) = scaling::scaling(&knobs, cx.defaults, spec.tier, problems);
    let pdb = super::disruption::budget(
        env,
        cx.defaults.pdb,
        autoscaling.map_or(replicas, |(min, _)| min),
        &knobs.min_pods_pointers(),
        problems,
    );
    let resources = scaling::resources(&knobs, cx.defaults, problems);
    let mut origins = knobs.origins(cx.defaults, autoscaling);
    let uses = Uses {
        database: s.uses.iter().any(|u| u == USES_DATABASE),
        redis: s.uses.iter().any(|u| u == USES_REDIS),
        internet: s.uses.iter().any(|u| u == USES_INTERNET),
        services: s
            .uses
            .iter()
            .filter(|u| cx.system.service(u).is_some())
            .cloned()
            .collect(),
    };
    let metrics = s.metrics.as_ref().map(|m| MetricsEndpoint {
        port_name: if m.port == s.port { "http" } else { "metrics" }.to_owned(),
        port: m.port,
        path: m.path.clone().unwrap_or_else(|| "/metrics".to_owned()),
    });
    let probe =
        |p: Option<&String>, default: &str| p.cloned().unwrap_or_else(|| default.to_owned());
    let probes = s.probes.clone().unwrap_or_default();
    let liveness = probe(probes.liveness.as_ref(), "/health");
    let mut secret_env = Vec::new();
    if uses.database {
        secret_env.push(SecretEnv {
            name: DATABASE_URL_ENV.into(),
            secret: cx.database_secret.into(),
            key: "uri".into(),
        });
    }
    if uses.redis {
        secret_env.push(SecretEnv {
            name: REDIS_PASSWORD_ENV.into(),
            secret: cx.redis_secret.name.clone(),
            key: cx.redis_secret.key.into(),
        });
    }
    secret_env.extend(s.secret_env.iter().map(|(name, r)| SecretEnv {
        name: name.clone(),
        secret: r.secret.clone(),
        key: r.key.clone(),
    }));
    Service {
        name: s.name.clone(),
        container: if builtin {
            "portal".into()
        } else {
            s.name.clone()
        },
        folder: if builtin {
            "app".into()
        } else {
            format!("services/{}", s.name)
        },
        service_account: s.name.clone(),
        config_map: if builtin {
            "region-config".into()
        } else {
            format!("{}-config", s.name)
        },
        image: image(env, s),
        port: s.port,
        service_port: SERVICE_PORT,
        probes: ProbePaths {
            startup: probe(probes.startup.as_ref(), &liveness),
            readiness: probe(probes.readiness.as_ref(), &liveness),
            liveness,
        },
        replicas,
        resources,
        autoscaling: autoscaling.map(|(min_replicas, max_replicas)| Autoscaling {
            min_replicas,
            max_replicas,
            cpu_utilization: 70,
            memory_utilization: 80,
        }),
        vpa: scaling::vpa(autoscaling.is_some()),
        pdb,
        zone_spread: if spec.tier == Tier::Prod {
            "DoNotSchedule"
        } else {
            "ScheduleAnyway"
        },
        run_as_user: 1001,
        config: config(cx, s, &uses, metrics.as_ref()),
        secret_env,
        routes: s
            .routes
            .iter()
            .map(|r| crate::spec::system::normalize_route(r))
            .collect(),
        uses,
        metrics,
        slo: slo(s),
        alert_prefix: alert_prefix(&cx.system.name, &s.name),
        job: s.name.clone(),
        component: if builtin {
            "web".into()
        } else {
            s.name.clone()
        },
        telemetry: Vec::new(),
        origins: {
            record(cx, index, s, &mut origins);
            origins
        },
    }
}

/// Where the values of a service that are not its scaling came from (issue 17): the system
/// file (or the built-in app), the environment's image and configuration overrides, the
/// tier, and the naming rules of this file.
fn record(cx: &Context, index: usize, s: &ServiceSpec, o: &mut Origins) {
    let env = cx.env;
    let sys = |p: &str| Origin::system(cx.system, &format!("/spec/services/{index}{p}"));
    let named = |what: &str| {
        Origin::derived(
            format!("the {what} named after the service (src/model/services.rs)"),
            vec![sys("/name")],
        )
    };
    o.set("", sys(""));
    o.set("/name", sys("/name"));
    o.set("/port", sys("/port"));
    for (key, what) in [
        ("/container", "container"),
        ("/folder", "folder"),
        ("/service_account", "ServiceAccount"),
        ("/config_map", "ConfigMap"),
        ("/alert_prefix", "alert prefix"),
        ("/job", "scrape job"),
        ("/component", "component label"),
    ] {
        o.set(key, named(what));
    }
    let mut image = Vec::new();
    if s.image.is_some() {
        image.push(sys("/image"));
    } else {
        image.push(Origin::spec(env, "/spec/image/repository"));
    }
    let i = &env.spec.image;
    if i.digest.is_some() {
        image.push(Origin::spec(env, "/spec/image/digest"));
    } else if i.tag.is_some() {
        image.push(Origin::spec(env, "/spec/image/tag"));
    }
    o.set(
        "/image",
        Origin::derived(
            "the repository with the environment's tag or digest (src/model/services.rs)",
            image,
        ),
    );
    o.set(
        "/service_port",
        Origin::constant("the port every Service listens on (SERVICE_PORT, src/model/services.rs)"),
    );
    let probes = s.probes.clone().unwrap_or_default();
    let liveness = if probes.liveness.is_some() {
        sys("/probes/liveness")
    } else {
        Origin::constant("the default liveness path /health (src/model/services.rs)")
    };
    for (key, set) in [
        ("startup", probes.startup.is_some()),
        ("readiness", probes.readiness.is_some()),
    ] {
        let origin = if set {
            sys(&format!("/probes/{key}"))
        } else {
            Origin::derived(
                format!("the {key} probe defaults to the liveness path (src/model/services.rs)"),
                vec![liveness.clone()],
            )
        };
        o.set(format!("/probes/{key}"), origin);
    }
    o.set("/probes/liveness", liveness);
    o.set(
        "/vpa",
        Origin::constant("the VPA's bounds (src/model/scaling.rs)"),
    );
    o.set(
        "/vpa/update_mode",
        Origin::derived(
            "the VPA only recommends when an HPA scales the service (src/model/scaling.rs)",
            vec![Origin::tier(
                env.spec.tier,
                "autoscaling",
                if cx.defaults.autoscaling.is_some() {
                    "on"
                } else {
                    "off"
                },
            )],
        ),
    );
    let from_pods = o
        .lookup("/autoscaling/min_replicas")
        .filter(|(p, _)| *p == "/autoscaling/min_replicas")
        .or_else(|| o.lookup("/replicas"))
        .map(|(_, origin)| origin.clone())
        .into_iter()
        .collect::<Vec<_>>();
    let pdb_default = match cx.defaults.pdb {
        Some(super::tiers::PdbDefault::MinAvailable(n)) => format!("minAvailable {n}"),
        Some(super::tiers::PdbDefault::MaxUnavailable(n)) => format!("maxUnavailable {n}"),
        None => "none".into(),
    };
    let mut pdb_from = vec![Origin::tier(env.spec.tier, "pdb", pdb_default)];
    pdb_from.extend(from_pods);
    o.set(
        "/pdb",
        Origin::derived(
            "the tier's budget, bounded by the fewest pods there can be (src/model/disruption.rs)",
            pdb_from,
        ),
    );
    o.set(
        "/zone_spread",
        Origin::derived(
            "hard zone spread in prod, best effort elsewhere (src/model/services.rs)",
            vec![Origin::spec(env, "/spec/tier")],
        ),
    );
    o.set(
        "/run_as_user",
        Origin::constant("the non-root user every container runs as (src/model/services.rs)"),
    );
    o.set("/routes", sys("/routes"));
    o.set("/uses", sys("/uses"));
    o.set("/metrics", sys("/metrics"));
    if s.metrics.as_ref().is_some_and(|m| m.path.is_none()) {
        o.set(
            "/metrics/path",
            Origin::constant("the default metrics path /metrics (src/model/services.rs)"),
        );
    }
    o.set(
        "/metrics/port_name",
        Origin::derived(
            "`http` when metrics are served on the service port, else `metrics` (src/model/services.rs)",
            vec![sys("/metrics/port"), sys("/port")],
        ),
    );
    o.set(
        "/slo",
        match &s.slo {
            Some(_) => sys("/slo"),
            None => Origin::constant("the product's SLOs of DESIGN §3 (Slo::default)"),
        },
    );
    o.set("/secret_env", sys("/secretEnv"));
    let uses_database = s.uses.iter().any(|u| u == USES_DATABASE);
    if uses_database {
        // DATABASE_URL first, from the database's app Secret.
        o.set(
            "/secret_env/0",
            Origin::derived(
                "DATABASE_URL from the CloudNativePG app Secret of a service that uses the database (src/model/services.rs)",
                s.uses
                    .iter()
                    .position(|u| u == USES_DATABASE)
                    .map(|n| sys(&format!("/uses/{n}")))
                    .into_iter()
                    .collect(),
            ),
        );
    }
    for (n, name) in s.secret_env.keys().enumerate() {
        let at = format!("/secret_env/{}", n + usize::from(uses_database));
        let written = format!("/secretEnv/{}", escape(name));
        o.set(at.clone(), sys(&written));
        o.set(format!("{at}/secret"), sys(&format!("{written}/secret")));
        o.set(format!("{at}/key"), sys(&format!("{written}/key")));
    }
    // The configuration: the platform's variables, then the system file's env, then the
    // environment's overrides (each key replacing the one before).
    o.set(
        "/config",
        Origin::derived(
            "the platform's variables of each service (src/model/services.rs)",
            vec![Origin::spec(env, "/metadata/name")],
        ),
    );
    let prefix = cx.system.name.to_ascii_uppercase().replace('-', "_");
    let cfg = |k: &str| format!("/config/{}", escape(k));
    for (key, origin) in [
        (
            format!("{prefix}_ENVIRONMENT"),
            Origin::spec(env, "/metadata/name"),
        ),
        (format!("{prefix}_TIER"), Origin::spec(env, "/spec/tier")),
        (
            format!("{prefix}_REGION"),
            Origin::spec(env, "/spec/region"),
        ),
        (
            format!("{prefix}_DOMAIN"),
            Origin::spec(env, "/spec/domain"),
        ),
        ("PORT".into(), sys("/port")),
    ] {
        o.set(cfg(&key), origin);
    }
    o.set(
        cfg("LOG_LEVEL"),
        Origin::derived(
            "debug on dev, info elsewhere (src/model/services.rs)",
            vec![Origin::spec(env, "/spec/tier")],
        ),
    );
    let role = if env.has("/spec/role") {
        Origin::spec(env, "/spec/role")
    } else {
        Origin::constant("the default role, primary (src/spec/types.rs)")
    };
    o.set(cfg(&format!("{prefix}_ROLE")), role.clone());
    o.set(
        cfg("DATABASE_READ_ONLY"),
        Origin::derived("true on a replica (src/model/services.rs)", vec![role]),
    );
    o.set(
        cfg(&format!("{prefix}_PRIMARY_REGION")),
        match cx.primary {
            Some(_) => Origin::derived(
                "the region of the primary named by spec.replicaOf (src/model/services.rs)",
                vec![Origin::spec(env, "/spec/replicaOf")],
            ),
            None => Origin::spec(env, "/spec/region"),
        },
    );
    for (k, origin) in [
        (
            "METRICS_PATH",
            o.lookup("/metrics/path").map(|(_, o)| o.clone()),
        ),
        (
            "REDIS_HOST",
            Some(Origin::constant(
                "the Redis client Service (src/model/data.rs)",
            )),
        ),
    ] {
        if let Some(origin) = origin {
            o.set(cfg(k), origin);
        }
    }
    for (n, used) in s.uses.iter().enumerate() {
        o.set(
            cfg(&format!(
                "{}_URL",
                used.to_ascii_uppercase().replace('-', "_")
            )),
            Origin::derived(
                "the cluster URL of a used service (src/model/services.rs)",
                vec![sys(&format!("/uses/{n}"))],
            ),
        );
    }
    for k in s.env.keys() {
        o.set(cfg(k), sys(&format!("/env/{}", escape(k))));
    }
    for k in env.spec.overrides.env.keys() {
        o.set(
            cfg(k),
            Origin::spec(env, &format!("/spec/overrides/env/{}", escape(k))),
        );
    }
    if let Some(own) = env.spec.overrides.services.get(&s.name) {
        for k in own.env.keys() {
            o.set(
                cfg(k),
                Origin::spec(
                    env,
                    &format!(
                        "/spec/overrides/services/{}/env/{}",
                        escape(&s.name),
                        escape(k)
                    ),
                ),
            );
        }
    }
}

/// The image of a service: its own repository (with the environment's tag or digest
/// unless it names one), or the environment's image.
fn image(env: &Environment, s: &ServiceSpec) -> String {
    let i = &env.spec.image;
    let repository = s.image.as_deref().unwrap_or(&i.repository);
    let last = repository.rsplit('/').next().unwrap_or(repository);
    if repository.contains('@') || last.contains(':') {
        return repository.to_owned();
    }
    match (&i.digest, &i.tag) {
        (Some(digest), _) => format!("{repository}@{digest}"),
        (None, Some(tag)) => format!("{repository}:{tag}"),
        (None, None) => repository.to_owned(),
    }
}

/// `portal` + `api-gateway` → `PortalApiGateway`; a service named after its system keeps
/// one prefix: `portal` + `portal-app` → `PortalApp`.
pub fn alert_prefix(system: &str, service: &str) -> String {
    let camel = |s: &str| super::names::capitalized_words(s, "");
    if service == system || service.starts_with(&format!("{system}-")) {
        camel(service)
    } else {
        camel(system) + &camel(service)
    }
}

fn slo(s: &ServiceSpec) -> Slo {
    let d = Slo::default();
    let Some(o) = &s.slo else { return d };
    let percent = |v: &Option<String>, default: f64| {
        v.as_deref()
            .and_then(|p| p.parse::<f64>().ok())
            .map_or(default, |p| p / 100.0)
    };
    let latency = o
        .latency_p95
        .as_deref()
        .and_then(|l| match l.strip_suffix("ms") {
            Some(ms) => ms.parse::<f64>().ok().map(|v| v / 1000.0),
            None => l.strip_suffix('s').and_then(|s| s.parse::<f64>().ok()),
        })
        .unwrap_or(d.latency_p95_seconds);
    Slo {
        availability: percent(&o.availability, d.availability),
        latency_p95_seconds: latency,
        error_rate: percent(&o.error_rate, d.error_rate),
    }
}

/// A service's ConfigMap.
fn config(
    cx: &Context,
    s: &ServiceSpec,
    uses: &Uses,
    metrics: Option<&MetricsEndpoint>,
) -> BTreeMap<String, String> {
    let env = cx.env;
    let spec = &env.spec;
    let prefix = cx.system.name.to_ascii_uppercase().replace('-', "_");
    let mut config = BTreeMap::new();
    let mut set = |k: String, v: String| {
        config.insert(k, v);
    };
    set(format!("{prefix}_ENVIRONMENT"), env.name.clone());
    set(format!("{prefix}_TIER"), spec.tier.as_str().to_owned());
    set(format!("{prefix}_REGION"), spec.region.clone());
    set(format!("{prefix}_ROLE"), spec.role.as_str().to_owned());
    set(
        format!("{prefix}_PRIMARY_REGION"),
        cx.primary
            .map_or_else(|| spec.region.clone(), |p| p.region.clone()),
    );
    set(format!("{prefix}_DOMAIN"), spec.domain.clone());
    set("PORT".into(), s.port.to_string());
    let log_level = if spec.tier == Tier::Dev {
        "debug"
    } else {
        "info"
    };
    set("LOG_LEVEL".into(), log_level.to_owned());
    if let Some(m) = metrics {
        set("METRICS_PATH".into(), m.path.clone());
    }
    if uses.redis {
        set("REDIS_HOST".into(), cx.redis_host.to_owned());
    }
    if uses.database {
        set(
            "DATABASE_READ_ONLY".into(),
            (spec.role == Role::Replica).to_string(),
        );
    }
    for used in &uses.services {
        set(
            format!("{}_URL", used.to_ascii_uppercase().replace('-', "_")),
            format!("http://{used}.{}.svc:{SERVICE_PORT}", cx.namespace),
        );
    }
    let o = &spec.overrides;
    let own = o.services.get(&s.name).map(|o| &o.env);
    for map in [Some(&s.env), Some(&o.env), own].into_iter().flatten() {
        for (k, v) in map {
            set(k.clone(), v.as_string());
        }
    }
    config
}
