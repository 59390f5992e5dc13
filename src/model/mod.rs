//! The resolved model of one environment (DESIGN §3): tier defaults with the spec's
//! overrides applied, every name and number decided. Templates only lay these values out.

pub mod data;
mod disruption;
pub mod names;
pub mod network;
pub mod quantity;
mod scaling;
pub mod services;
pub mod tenants;
pub mod tiers;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::families::argocd::model as delivery;
use crate::families::cloudflare::model as edge;
use crate::families::grafana::model as grafana;
use crate::families::prometheus::model as observability;
use crate::spec::system::System;
use crate::spec::{Environment, Role, Tier, Toleration};
pub use data::{Backups, Database, DatabaseBackup, Redis, VeleroSchedule};
pub use network::Network;
pub use services::{Autoscaling, CpuMemory, Pdb, Resources, SecretEnv, Service, Vpa};
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
    pub system: SystemInfo,
    /// The names that carry the system's prefix.
    pub names: names::Names,
    /// The services, in the order of the system file.
    pub services: Vec<Service>,
    /// Where every pod runs and how its images are pulled.
    pub pods: Placement,
    pub network: Network,
    /// Public routes, the longest prefix first.
    pub routes: Vec<network::Route>,
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
pub struct SystemInfo {
    /// `metadata.name` of the system file (`portal` for the built-in system).
    pub name: String,
    /// No `portalgen.yaml`: the single portal app.
    pub builtin: bool,
}

/// Scheduling settings of every pod of the environment (`spec.overrides`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Placement {
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub image_pull_secrets: Vec<String>,
    pub priority_class_name: Option<String>,
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
    /// The Ingress and the VirtualService: the built-in app's name, else the system's.
    pub name: String,
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
    resolve_with_peers(env, primary, &[], &System::builtin())
}

/// Resolves an environment into the model, knowing the other environments of the
/// workspace (`peers`): they decide who owns shared CloudFlare resources.
pub fn resolve_with_peers(
    env: &Environment,
    primary: Option<&Environment>,
    peers: &[&Environment],
    system: &System,
) -> Result<Model, Vec<Diagnostic>> {
    let spec = &env.spec;
    let d = tiers::defaults(spec.tier);
    let mut problems = Vec::new();
    let names = names::Names::of(&system.name);

    let primary_info = match (spec.role, primary) {
        (Role::Replica, Some(p)) => Some(Primary {
            name: p.name.clone(),
            region: p.spec.region.clone(),
            db_host: format!(
                "{}-rw.{}.db.{}",
                names.database, p.spec.region, p.spec.domain
            ),
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
    let tenants = tenants::resolve(&spec.tenants, shards, names.tenant_namespace_prefix);
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
        names::intern(format!("{}-leader", names.redis))
    } else {
        names.redis
    };
    let redis_host = format!("{redis_client}.{}.svc:6379", names.system_namespace);

    let database = data::database(env, &d, primary_info.as_ref(), &names);
    let database_secret = format!("{}-app", database.name);
    let services = services::resolve(
        &services::Context {
            env,
            system,
            defaults: &d,
            primary: primary_info.as_ref(),
            redis_host: &redis_host,
            database_secret: &database_secret,
            namespace: names.system_namespace,
        },
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    let namespaces = Namespaces {
        system: names.system_namespace,
        monitoring: MONITORING_NAMESPACE,
        ingress_gateway: "istio-system",
        dns: "kube-system",
        cnpg_operator: "cnpg-system",
    };
    let network = network::resolve(
        &services,
        &network::Ends {
            ingress_gateway: namespaces.ingress_gateway,
            monitoring: namespaces.monitoring,
            database: database.name,
            redis_client,
        },
        system.is_builtin(),
    );
    let routes = network::routes(&services, system.is_builtin());
    let o = &spec.overrides;
    let pods = Placement {
        node_selector: o.node_selector.clone(),
        tolerations: o.tolerations.clone(),
        image_pull_secrets: o.image_pull_secrets.clone(),
        priority_class_name: o.priority_class_name.clone(),
    };

    let backups = match d.backups {
        BackupLevel::None => None,
        BackupLevel::Daily => Some(("72h0m0s", "0 2 * * *")),
        BackupLevel::Continuous => Some(("720h0m0s", "0 2 * * *")),
    };
    let mut labels = BTreeMap::new();
    labels.insert(MANAGED_BY_LABEL, MANAGED_BY_VALUE.to_owned());
    labels.insert("app.kubernetes.io/part-of", system.name.clone());
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
        namespaces,
        waves: SyncWaves {
            cluster: "-1",
            data: "0",
            app: "1",
            tenant_namespace: "-1",
            tenant_objects: "0",
        },
        system: SystemInfo {
            name: system.name.clone(),
            builtin: system.is_builtin(),
        },
        names,
        services,
        pods,
        network,
        routes,
        database,
        redis: Redis {
            name: names.redis,
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
                name: names.velero_schedule,
                schedule,
                ttl,
                namespaces: vec![
                    names.system_namespace.to_owned(),
                    names.tenant_namespaces.to_owned(),
                ],
            }),
        },
        mesh: Mesh {
            gateway: names.gateway,
            tls_secret: names.gateway_tls,
            tenant_header: "x-portal-tenant",
            fault_injection: (spec.tier != Tier::Prod).then_some(FaultInjection {
                header: "x-portal-fault-delay",
                delay: "2s",
            }),
        },
        ingress: Ingress {
            name: if system.is_builtin() {
                "portal-app".to_owned()
            } else {
                system.name.clone()
            },
            class: "istio",
            cluster_issuer: "letsencrypt-dns01",
            tls_secret: names.ingress_tls,
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
        // The system file's first: an environment's patch has the last word.
        patches: crate::patch::of_system(system)
            .into_iter()
            .chain(crate::patch::of_environment(env))
            .collect(),
    };
    // The families' sections, each from the shared parts (Argo CD's last: it delivers what
    // the others render).
    model.observability = observability::resolve(&model);
    model.grafana = grafana::resolve(&model);
    model.delivery = delivery::resolve(&model);
    Ok(model)
}
