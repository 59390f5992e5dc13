//! The resolved model of one environment (DESIGN §3): tier defaults with the spec's
//! overrides applied, every name and number decided. Templates only lay these values out.

pub mod quantity;
pub mod tenants;
pub mod tiers;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::families::argocd::model as delivery;
use crate::families::cloudflare::model as edge;
use crate::families::grafana::model as grafana;
use crate::families::prometheus::model as observability;
use crate::spec::{Environment, Role, Tier};
pub use tenants::Tenant;
pub use tiers::{BackupLevel, MonitoringLevel};

/// Namespaces of the platform.
pub const SYSTEM_NAMESPACE: &str = "portal-system";
pub const MONITORING_NAMESPACE: &str = "monitoring";
/// The label every rendered object carries, and its value (policy PG-M001).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "portalgen";
/// Every tenant's namespace is this prefix and the tenant id.
pub const TENANT_NAMESPACE_PREFIX: &str = "portal-tenant-";
/// Every tenant namespace, as a pattern (Argo CD destinations, Velero).
pub const TENANT_NAMESPACES: &str = "portal-tenant-*";
pub const DEFAULT_TENANT_SHARDS: u32 = 8;

/// Everything rendered for one environment.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub env: EnvInfo,
    /// Labels every object carries.
    pub labels: BTreeMap<&'static str, String>,
    pub namespaces: Namespaces,
    pub waves: SyncWaves,
    pub app: App,
    pub database: Database,
    pub redis: Redis,
    pub backups: Backups,
    pub mesh: Mesh,
    pub ingress: Ingress,
    pub monitoring: Monitoring,
    pub alerting: Alerting,
    /// Prometheus and alerting (see `families::prometheus`).
    pub observability: observability::Observability,
    /// The dashboards (see `families::grafana`).
    pub grafana: grafana::Grafana,
    pub cloudflare: Cloudflare,
    pub gitops: Gitops,
    /// CloudFlare resources this environment's Terraform owns (see `families::cloudflare`).
    pub edge: edge::Edge,
    /// Argo CD project and applications (see `families::argocd`).
    pub delivery: delivery::Delivery,
    /// Not serialized into the shared template context: each tenant file gets its own.
    #[serde(skip_serializing)]
    pub tenants: Vec<Tenant>,
    pub shards: Vec<Shard>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvInfo {
    pub name: String,
    pub tier: Tier,
    pub region: String,
    pub role: Role,
    pub domain: String,
    /// The primary environment of a replica.
    pub primary: Option<Primary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Primary {
    pub name: String,
    pub region: String,
    /// The host a replica's database streams from: the primary's read-write service,
    /// exposed to the other region (`portal-db-rw.<region>.db.<domain>`).
    pub db_host: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Namespaces {
    pub system: &'static str,
    pub monitoring: &'static str,
    /// Where the Istio ingress gateway runs (its traffic is let into the app).
    pub ingress_gateway: &'static str,
    pub dns: &'static str,
    pub cnpg_operator: &'static str,
}

/// Argo CD sync waves: namespaces and cluster objects first, data stores next, the app last.
#[derive(Debug, Clone, Serialize)]
pub struct SyncWaves {
    pub cluster: &'static str,
    pub data: &'static str,
    pub app: &'static str,
    pub tenant_namespace: &'static str,
    pub tenant_objects: &'static str,
}

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

#[derive(Debug, Clone, Serialize)]
pub struct Pdb {
    pub min_available: Option<u32>,
    pub max_unavailable: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretEnv {
    pub name: &'static str,
    pub secret: &'static str,
    pub key: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub name: &'static str,
    pub instances: u32,
    pub storage: String,
    pub image: &'static str,
    pub database: &'static str,
    pub owner: &'static str,
    pub parameters: BTreeMap<&'static str, String>,
    /// For a replica: stream from the primary instead of initdb.
    pub replica_source: Option<String>,
    /// Continuous backups (WAL archiving + daily base backup), when on.
    pub backup: Option<DatabaseBackup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseBackup {
    pub destination: String,
    pub retention: &'static str,
    pub credentials_secret: &'static str,
    /// Six-field cron (CloudNativePG takes seconds first).
    pub schedule: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Redis {
    pub name: &'static str,
    /// `Redis` (standalone) or `RedisCluster`.
    pub kind: &'static str,
    pub leaders: u32,
    pub followers: u32,
    pub storage: String,
    pub image: &'static str,
    pub exporter_image: &'static str,
    /// What the app talks to: the name of the client Service and the `app` label of its
    /// pods (the opstree operator names a cluster's `<name>-leader`).
    pub client_name: String,
    /// Host and port the app connects to.
    pub host: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Backups {
    pub level: BackupLevel,
    /// The Velero schedule, when on.
    pub velero: Option<VeleroSchedule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VeleroSchedule {
    pub name: &'static str,
    pub schedule: &'static str,
    pub ttl: &'static str,
    pub namespaces: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Mesh {
    pub gateway: &'static str,
    pub tls_secret: &'static str,
    pub tenant_header: &'static str,
    /// Delay injection for resilience testing, behind an opt-in header. Never in prod.
    pub fault_injection: Option<FaultInjection>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FaultInjection {
    pub header: &'static str,
    pub delay: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ingress {
    pub class: &'static str,
    pub cluster_issuer: &'static str,
    pub tls_secret: &'static str,
    pub hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Monitoring {
    pub level: MonitoringLevel,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alerting {
    pub slack_channel: String,
    pub pagerduty: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cloudflare {
    pub zone_id: String,
    pub origin_host: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gitops {
    pub repo_url: String,
    pub target_revision: String,
    pub tenant_shards: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Shard {
    pub name: String,
    pub tenants: usize,
}

/// Resolves an environment (and, for a replica, its primary) into the model, as if no
/// other environment shared its CloudFlare zone or domain.
pub fn resolve(env: &Environment, primary: Option<&Environment>) -> Result<Model, Vec<Diagnostic>> {
    resolve_with_peers(env, primary, &[])
}

/// Resolves an environment into the model, knowing the other environments of the
/// workspace (`peers`): they decide who owns shared CloudFlare resources.
pub fn resolve_with_peers(
    env: &Environment,
    primary: Option<&Environment>,
    peers: &[&Environment],
) -> Result<Model, Vec<Diagnostic>> {
    let spec = &env.spec;
    let d = tiers::defaults(spec.tier);
    let mut problems = Vec::new();

    let (autoscaling, replicas) = scaling(env, &d, &mut problems);
    let resources = resources(env, &d, &mut problems);

    let primary_info = match (spec.role, primary) {
        (Role::Replica, Some(p)) => Some(Primary {
            name: p.name.clone(),
            region: p.spec.region.clone(),
            db_host: format!("portal-db-rw.{}.db.{}", p.spec.region, p.spec.domain),
        }),
        _ => None,
    };
    let edge = match edge::resolve(env, primary, peers) {
        Ok(edge) if problems.is_empty() => edge,
        Ok(_) => return Err(problems),
        Err(p) => {
            problems.extend(p);
            return Err(problems);
        }
    };

    let name = env.name.clone();
    let shards = spec.gitops.tenant_shards.unwrap_or(DEFAULT_TENANT_SHARDS);
    let tenants = tenants::resolve(&spec.tenants, shards);
    let shard_list: Vec<Shard> = (0..shards)
        .map(|i| {
            let name = tenants::shard_name(i);
            Shard {
                tenants: tenants.iter().filter(|t| t.shard == name).count(),
                name,
            }
        })
        .collect();

    let redis_kind = if d.redis_leaders > 1 {
        "RedisCluster"
    } else {
        "Redis"
    };
    // The opstree operator names the client service of a cluster `<name>-leader`.
    let redis_client = if redis_kind == "RedisCluster" {
        "portal-redis-leader"
    } else {
        "portal-redis"
    };
    let redis_host = format!("{redis_client}.{SYSTEM_NAMESPACE}.svc:6379");

    let config = app_config(env, primary_info.as_ref(), &redis_host);

    let image = match (&spec.image.digest, &spec.image.tag) {
        (Some(digest), _) => format!("{}@{digest}", spec.image.repository),
        (None, Some(tag)) => format!("{}:{tag}", spec.image.repository),
        (None, None) => spec.image.repository.clone(),
    };

    let backups = match d.backups {
        BackupLevel::None => None,
        BackupLevel::Daily => Some(("72h0m0s", "0 2 * * *")),
        BackupLevel::Continuous => Some(("720h0m0s", "0 2 * * *")),
    };
    let mut labels = BTreeMap::new();
    labels.insert(MANAGED_BY_LABEL, MANAGED_BY_VALUE.to_owned());
    labels.insert("app.kubernetes.io/part-of", "portal".to_owned());
    labels.insert("portal.dev/environment", name.clone());

    let mut model = Model {
        env: EnvInfo {
            name: name.clone(),
            tier: spec.tier,
            region: spec.region.clone(),
            role: spec.role,
            domain: spec.domain.clone(),
            primary: primary_info.clone(),
        },
        labels,
        namespaces: Namespaces {
            system: SYSTEM_NAMESPACE,
            monitoring: MONITORING_NAMESPACE,
            ingress_gateway: "istio-system",
            dns: "kube-system",
            cnpg_operator: "cnpg-system",
        },
        waves: SyncWaves {
            cluster: "-1",
            data: "0",
            app: "1",
            tenant_namespace: "-1",
            tenant_objects: "0",
        },
        app: app(spec, &d, (autoscaling, replicas), resources, image, config),
        database: database(env, &d, primary_info.as_ref()),
        redis: Redis {
            name: "portal-redis",
            kind: redis_kind,
            leaders: d.redis_leaders,
            followers: d.redis_followers,
            storage: d.redis_storage.to_owned(),
            image: "quay.io/opstree/redis:v7.0.15",
            exporter_image: "quay.io/opstree/redis-exporter:v1.44.0",
            client_name: redis_client.to_owned(),
            host: redis_host,
        },
        backups: Backups {
            level: d.backups,
            velero: backups.map(|(ttl, schedule)| VeleroSchedule {
                name: "portal-daily",
                schedule,
                ttl,
                namespaces: vec![SYSTEM_NAMESPACE.to_owned(), TENANT_NAMESPACES.to_owned()],
            }),
        },
        mesh: Mesh {
            gateway: "portal-gateway",
            tls_secret: "portal-tls",
            tenant_header: "x-portal-tenant",
            fault_injection: (spec.tier != Tier::Prod).then_some(FaultInjection {
                header: "x-portal-fault-delay",
                delay: "2s",
            }),
        },
        ingress: Ingress {
            class: "istio",
            cluster_issuer: "letsencrypt-dns01",
            tls_secret: "portal-ingress-tls",
            hosts: vec![spec.domain.clone(), format!("*.{}", spec.domain)],
        },
        monitoring: Monitoring {
            level: d.monitoring,
        },
        alerting: Alerting {
            slack_channel: spec.alerting.slack_channel.clone(),
            pagerduty: spec.alerting.pagerduty,
        },
        cloudflare: Cloudflare {
            zone_id: spec.cloudflare.zone_id.clone(),
            origin_host: edge::origin_host(env),
        },
        gitops: Gitops {
            repo_url: spec.gitops.repo_url.clone(),
            target_revision: spec.gitops.target_revision.clone(),
            tenant_shards: shards,
        },
        observability: observability::Observability::default(),
        grafana: grafana::Grafana::default(),
        edge,
        delivery: delivery::Delivery::default(),
        tenants,
        shards: shard_list,
    };
    // The families' sections, each from the shared parts (Argo CD's last: it delivers what
    // the others render).
    model.observability = observability::resolve(&model);
    model.grafana = grafana::resolve(&model);
    model.delivery = delivery::resolve(&model);
    Ok(model)
}

/// The autoscaling range (tier default, each override key replacing its default) and the
/// replica count, with the problems of their overrides.
fn scaling(
    env: &Environment,
    d: &tiers::TierDefaults,
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
fn resources(
    env: &Environment,
    d: &tiers::TierDefaults,
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
fn app_config(
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

/// PostgreSQL's parameters (values from the architecture notes; connections by tier).
fn postgres_parameters(d: &tiers::TierDefaults) -> BTreeMap<&'static str, String> {
    let mut parameters = BTreeMap::new();
    parameters.insert("max_connections", d.max_connections.to_string());
    parameters.insert("shared_buffers", "256MB".to_owned());
    parameters.insert("effective_cache_size", "1GB".to_owned());
    parameters.insert("maintenance_work_mem", "64MB".to_owned());
    parameters.insert("checkpoint_completion_target", "0.9".to_owned());
    parameters.insert("wal_buffers", "16MB".to_owned());
    parameters.insert("default_statistics_target", "100".to_owned());
    parameters.insert("random_page_cost", "1.1".to_owned());
    parameters.insert("effective_io_concurrency", "200".to_owned());
    parameters
}

/// The portal app (DESIGN "What is rendered"): its workload, scaling and configuration.
fn app(
    spec: &crate::spec::EnvironmentSpec,
    d: &tiers::TierDefaults,
    scaled: (Option<(u32, u32)>, u32),
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
        pdb: d.pdb.map(|p| match p {
            // minAvailable must stay below the fewest pods there can be, or no pod could
            // ever be evicted (policy PG-D001): with overrides down to one pod, allow
            // one disruption at a time instead.
            tiers::PdbDefault::MinAvailable(n)
                if n < autoscaling.map_or(replicas, |(min, _)| min) =>
            {
                Pdb {
                    min_available: Some(n),
                    max_unavailable: None,
                }
            }
            tiers::PdbDefault::MinAvailable(_) => Pdb {
                min_available: None,
                max_unavailable: Some(1),
            },
            tiers::PdbDefault::MaxUnavailable(n) => Pdb {
                min_available: None,
                max_unavailable: Some(n),
            },
        }),
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

/// The CloudNativePG cluster: the tier's size, overrides, and a replica's source.
fn database(env: &Environment, d: &tiers::TierDefaults, primary: Option<&Primary>) -> Database {
    let spec = &env.spec;
    let o = &spec.overrides;
    let name = env.name.clone();
    let primary_info = primary;
    let parameters = postgres_parameters(d);
    let db_instances = o
        .database
        .as_ref()
        .and_then(|x| x.instances)
        .unwrap_or(d.db_instances);
    let db_storage = o
        .database
        .as_ref()
        .and_then(|x| x.storage.clone())
        .unwrap_or_else(|| d.db_storage.to_owned());
    Database {
        name: "portal-db",
        instances: db_instances,
        storage: db_storage,
        image: "ghcr.io/cloudnative-pg/postgresql:16.6",
        database: "portal",
        owner: "portal_user",
        parameters,
        replica_source: primary_info.as_ref().map(|p| p.name.clone()),
        backup: (d.backups == BackupLevel::Continuous).then(|| DatabaseBackup {
            destination: format!("s3://portal-backups-{name}/postgresql"),
            retention: "30d",
            credentials_secret: "portal-backup-credentials",
            schedule: "0 0 3 * * *",
        }),
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
