//! The resolved model of one environment (DESIGN §3): tier defaults with the spec's
//! overrides applied, every name and number decided. Templates only lay these values out.

pub mod app;
pub mod data;
mod disruption;
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
pub use app::{App, Autoscaling, CpuMemory, Pdb, Resources, SecretEnv, Vpa};
pub use data::{Backups, Database, DatabaseBackup, Redis, VeleroSchedule};
pub use tenants::Tenant;
pub use tiers::{BackupLevel, MonitoringLevel};

/// Namespaces of the platform.
pub const SYSTEM_NAMESPACE: &str = "portal-system";
pub const MONITORING_NAMESPACE: &str = "monitoring";
/// Velero reads its Schedules from its own namespace only.
pub const VELERO_NAMESPACE: &str = "velero";
/// The label every rendered object carries, and its value (policy PG-M001).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "portalgen";
/// The label that names an object's tenant.
pub const TENANT_LABEL: &str = "portal.dev/tenant";
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
    pub gitops: Gitops,
    /// CloudFlare resources this environment's Terraform owns (see `families::cloudflare`).
    pub edge: edge::Edge,
    /// Argo CD project and applications (see `families::argocd`).
    pub delivery: delivery::Delivery,
    /// Not serialized into the shared template context: each tenant file gets its own.
    #[serde(skip_serializing)]
    pub tenants: Vec<Tenant>,
    pub shards: Vec<Shard>,
    /// The patches applied to the rendered objects, in order: the environment spec's (see
    /// `crate::patch`). Not part of the template context.
    #[serde(skip_serializing)]
    pub patches: Vec<crate::patch::Patch>,
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

    let (autoscaling, replicas) = app::scaling(env, &d, &mut problems);
    let pdb = disruption::budget(
        env,
        d.pdb,
        autoscaling.map_or(replicas, |(min, _)| min),
        &mut problems,
    );
    let resources = app::resources(env, &d, &mut problems);

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

    let config = app::app_config(env, primary_info.as_ref(), &redis_host);

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
        app: app::app(spec, (autoscaling, replicas), pdb, resources, image, config),
        database: data::database(env, &d, primary_info.as_ref()),
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
        patches: crate::patch::of_environment(env),
    };
    // The families' sections, each from the shared parts (Argo CD's last: it delivers what
    // the others render).
    model.observability = observability::resolve(&model);
    model.grafana = grafana::resolve(&model);
    model.delivery = delivery::resolve(&model);
    Ok(model)
}
