//! The resolved model of one environment (DESIGN §3): tier defaults with the spec's
//! overrides applied, every name and number decided. Templates only lay these values out.

pub mod cloud;
pub mod conventions;
pub mod data;
mod disruption;
pub mod names;
pub mod network;
pub mod quantity;
pub mod rollout;
mod scaling;
pub mod secrets;
pub mod services;
pub mod tenants;
pub mod tiers;
pub mod tls;

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::families::argocd::model as delivery;
use crate::families::cloudflare::model as edge;
use crate::families::grafana::model as grafana;
use crate::families::prometheus::model as observability;
use crate::families::tracing::model as tracing;
use crate::spec::system::System;
use crate::spec::{Environment, Role, Tier, Toleration};
pub use conventions::*;
pub use data::{Backups, Database, DatabaseBackup, Redis, VeleroSchedule};
pub use network::Network;
pub use services::{Autoscaling, CpuMemory, Pdb, Resources, SecretEnv, Service, Vpa};
pub use tenants::{Shard, Tenant};
pub use tiers::{BackupLevel, MonitoringLevel};

pub const DEFAULT_TENANT_SHARDS: u32 = 8;

/// Everything rendered for one environment.
#[derive(Debug, Clone, Serialize)]
pub struct Model {
    pub env: EnvInfo,
    /// Labels every object carries.
    pub labels: BTreeMap<&'static str, String>,
    pub namespaces: Namespaces,
    /// The Pod Security labels of every namespace the tree creates (the platform's and
    /// the tenants'): `restricted`, enforced, audited and warned.
    pub pod_security: IndexMap<&'static str, &'static str>,
    /// The tenants' shared conventions: their labels and container defaults.
    pub tenancy: Tenancy,
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
    /// The cloud profile (`spec.cloud`, `spec.overrides.cloud`).
    pub cloud: cloud::Cloud,
    pub backups: Backups,
    pub mesh: Mesh,
    pub ingress: Ingress,
    /// The ClusterIssuer and the Certificates (`model::tls`).
    pub tls: tls::Tls,
    /// Every Secret the tree reads from the secret store (`model::secrets`).
    pub secrets: secrets::Secrets,
    /// What the system file and the environment declare the cluster has (`spec.external`):
    /// the reference check's declared prerequisites, besides its built-in ones.
    #[serde(skip_serializing)]
    pub external: Vec<crate::spec::ExternalRef>,
    pub monitoring: Monitoring,
    pub alerting: Alerting,
    /// Prometheus and alerting (see `families::prometheus`).
    pub observability: observability::Observability,
    /// The dashboards (see `families::grafana`).
    pub grafana: grafana::Grafana,
    /// The OpenTelemetry collector and the trace backend (see `families::tracing`).
    pub tracing: tracing::Tracing,
    pub gitops: Gitops,
    /// CloudFlare resources this environment's Terraform owns (see `families::cloudflare`).
    pub edge: edge::Edge,
    /// Argo CD project and applications (see `families::argocd`).
    pub delivery: delivery::Delivery,
    /// Not serialized into the shared template context: each tenant file gets its own.
    /// Shared (`Arc`) so that each tenant's file can build its values when it is rendered
    /// rather than when it is planned (`families::Artifact::deferred`).
    #[serde(skip_serializing)]
    pub tenants: std::sync::Arc<[Tenant]>,
    pub shards: Vec<Shard>,
    /// The patches applied to the rendered objects, in order: the environment spec's (see
    /// `crate::patch`). Not part of the template context.
    #[serde(skip_serializing)]
    pub patches: Vec<crate::patch::Patch>,
    /// Where each value came from, by its pointer in the template context's `m` (issue 17,
    /// `crate::provenance`). Not part of the template context.
    #[serde(skip_serializing)]
    pub origins: crate::provenance::Origins,
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

/// The public entry of the system: its hosts, served by the mesh Gateway alone (one owner
/// per host, see `model::tls`), and routed by the VirtualService.
#[derive(Debug, Clone, Serialize)]
pub struct Ingress {
    /// The VirtualService: the built-in app's name, else the system's.
    pub name: String,
    /// The apex first, then the wildcard tenant host.
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
    /// The spec's `alerting.email` (the routing fills in what it leaves out).
    pub email_to: Option<String>,
    pub email_from: Option<String>,
    pub smarthost: Option<String>,
    /// The spec's `alerting.timeZone`; without it the business hours are the region's.
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gitops {
    pub repo_url: String,
    pub target_revision: String,
    pub tenant_shards: u32,
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
    let names = names::Names::of(&system.name);
    let primary_info = primary_of(env, primary, &names);
    let edge = edge::resolve(env, primary, peers)?;

    let shards = spec.gitops.tenant_shards.unwrap_or(DEFAULT_TENANT_SHARDS);
    let tenants = tenants::resolve(&spec.tenants, shards, names.tenant_namespace_prefix);
    let shard_list = tenants::shards(&tenants, shards);
    let cloud = cloud::resolve(env, &system.name);
    let replicas: Vec<&Environment> = peers
        .iter()
        .copied()
        .filter(|p| p.spec.replica_of.as_deref() == Some(env.name.as_str()))
        .collect();
    let redis = data::redis(&d, &cloud, &names);
    let database = data::database(env, &d, primary_info.as_ref(), &replicas, &cloud, &names);
    let database_secret = format!("{}-app", database.name);
    let mut problems = Vec::new();
    let services = services::resolve(
        &services::Context {
            env,
            system,
            defaults: &d,
            primary: primary_info.as_ref(),
            redis_host: &redis.host,
            redis_secret: &redis.auth,
            database_secret: &database_secret,
            namespace: names.system_namespace,
        },
        &mut problems,
    );
    if !problems.is_empty() {
        return Err(problems);
    }
    let namespaces = conventions::namespaces(&names);
    let network = network::resolve(
        &services,
        &network::Ends {
            ingress_gateway: namespaces.ingress_gateway,
            monitoring: namespaces.monitoring,
            database: database.name,
            redis_nodes: &redis.nodes,
        },
        system.is_builtin(),
    );
    let routes = network::routes(&services, system.is_builtin());
    let ingress = ingress(env, system);

    let mut model = Model {
        env: EnvInfo {
            name: env.name.clone(),
            tier: spec.tier,
            region: spec.region.clone(),
            role: spec.role,
            domain: spec.domain.clone(),
            primary: primary_info,
        },
        labels: conventions::common_labels(&system.name, &env.name),
        namespaces,
        pod_security: conventions::pod_security_labels(),
        tenancy: conventions::tenancy(),
        waves: conventions::WAVES,
        system: SystemInfo {
            name: system.name.clone(),
            builtin: system.is_builtin(),
        },
        names,
        services,
        pods: placement(env),
        network,
        routes,
        database,
        redis,
        backups: data::backups(&d, &cloud, &names),
        cloud,
        tls: tls::resolve(
            &spec.domain,
            &ingress.hosts,
            &format!("{}/{}", names.system_namespace, names.gateway),
            names.gateway_tls,
        ),
        mesh: mesh(spec.tier, &names),
        ingress,
        secrets: secrets::Secrets::default(),
        external: system
            .external
            .iter()
            .chain(&spec.external)
            .cloned()
            .collect(),
        monitoring: Monitoring {
            level: d.monitoring,
        },
        alerting: Alerting {
            slack_channel: spec.alerting.slack_channel.clone(),
            pagerduty: spec.alerting.pagerduty,
            email_to: spec.alerting.email.to.clone(),
            email_from: spec.alerting.email.from.clone(),
            smarthost: spec.alerting.email.smarthost.clone(),
            time_zone: spec.alerting.time_zone.clone(),
        },
        gitops: Gitops {
            repo_url: spec.gitops.repo_url.clone(),
            target_revision: spec.gitops.target_revision.clone(),
            tenant_shards: shards,
        },
        observability: observability::Observability::default(),
        grafana: grafana::Grafana::default(),
        tracing: tracing::Tracing::default(),
        edge,
        delivery: delivery::Delivery::default(),
        tenants: tenants.into(),
        shards: shard_list,
        // The system file's first: an environment's patch has the last word.
        patches: crate::patch::of_system(system)
            .into_iter()
            .chain(crate::patch::of_environment(env))
            .collect(),
        origins: crate::provenance::Origins::default(),
    };
    // The families' sections, each from the shared parts (Argo CD's last: it delivers what
    // the others render).
    // A canary's traffic split names the VirtualService routes the mesh renders.
    let fault_injection = model.mesh.fault_injection.is_some();
    for s in &mut model.services {
        rollout::route(
            &mut s.rollout,
            &s.name,
            &model.routes,
            &model.ingress.name,
            fault_injection,
        );
    }
    // Tracing first: the alerts and dashboards read the collector, the services' policies
    // gain their OTLP egress.
    model.tracing = tracing::resolve(&model, spec.tracing.backend);
    let otlp = tracing::otlp_egress(&model.tracing);
    for p in &mut model.network.services {
        p.egress.push(otlp.clone());
    }
    for i in 0..model.services.len() {
        model.services[i].telemetry = tracing::service_env(&model, &model.services[i].name);
    }
    model.observability = observability::resolve(&model);
    model.grafana = grafana::resolve(&model);
    // Every Secret read, once the sections that read them are resolved.
    model.secrets = secrets::resolve(
        &model,
        secrets::store_name(
            spec.secrets.store.as_deref(),
            system.secrets.store.as_deref(),
            &system.name,
        ),
    );
    model.delivery = delivery::resolve(&model);
    model.origins = crate::provenance::record::model(env, primary, system, &d, &model);
    Ok(model)
}

/// A replica's primary: where its database streams from.
fn primary_of(
    env: &Environment,
    primary: Option<&Environment>,
    names: &names::Names,
) -> Option<Primary> {
    match (env.spec.role, primary) {
        (Role::Replica, Some(p)) => Some(Primary {
            name: p.name.clone(),
            region: p.spec.region.clone(),
            db_host: data::db_host(names.database, &p.spec.region, &p.spec.domain),
        }),
        _ => None,
    }
}

/// Where every pod runs and how its images are pulled (`spec.overrides`).
fn placement(env: &Environment) -> Placement {
    let o = &env.spec.overrides;
    Placement {
        node_selector: o.node_selector.clone(),
        tolerations: o.tolerations.clone(),
        image_pull_secrets: o.image_pull_secrets.clone(),
        priority_class_name: o.priority_class_name.clone(),
    }
}

fn mesh(tier: Tier, names: &names::Names) -> Mesh {
    Mesh {
        gateway: names.gateway,
        tls_secret: names.gateway_tls,
        tenant_header: "x-portal-tenant",
        fault_injection: (tier != Tier::Prod).then_some(FaultInjection {
            header: "x-portal-fault-delay",
            delay: "2s",
        }),
    }
}

fn ingress(env: &Environment, system: &System) -> Ingress {
    Ingress {
        name: if system.is_builtin() {
            "portal-app".to_owned()
        } else {
            system.name.clone()
        },
        hosts: vec![env.spec.domain.clone(), format!("*.{}", env.spec.domain)],
    }
}
