//! The data stores (DESIGN "What is rendered", Data): the CloudNativePG cluster, Redis and
//! the backups.

use std::collections::BTreeMap;

use serde::Serialize;

use super::cloud::{Cloud, DatabaseCredentials};
use super::tiers::{BackupLevel, TierDefaults};
use super::Primary;
use crate::spec::Environment;

#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub name: &'static str,
    pub instances: u32,
    pub storage: String,
    /// The cloud profile's (`spec.overrides.cloud.storageClass`).
    pub storage_class: String,
    pub image: &'static str,
    pub database: &'static str,
    pub owner: &'static str,
    pub parameters: BTreeMap<&'static str, String>,
    /// Of each PostgreSQL instance.
    pub resources: ContainerResources,
    /// For a replica: stream from the primary instead of initdb.
    pub replica_source: Option<String>,
    /// For a replica: the Secrets of its client certificate for the primary's
    /// `streaming_replica` user and of the primary's CA (copies of the primary's
    /// `<db>-replication` and `<db>-ca`, through the secret store).
    pub replica_tls: Option<ReplicaTls>,
    /// Continuous backups (WAL archiving + daily base backup), when on.
    pub backup: Option<DatabaseBackup>,
    /// A primary that replica environments stream from: its read-write Service exposed
    /// to their regions.
    pub cross_region: Option<CrossRegionEndpoint>,
}

/// The primary database's endpoint for the replica regions: a CloudNativePG managed
/// Service (`spec.managed.services.additional`) of type LoadBalancer on the cloud's private
/// network, named in DNS by external-dns as the host the replicas stream from
/// (`<db>-rw.<region>.db.<domain>`, DNS only: the CloudFlare proxy carries HTTP, not
/// PostgreSQL).
#[derive(Debug, Clone, Serialize)]
pub struct CrossRegionEndpoint {
    pub service: String,
    pub host: String,
    pub annotations: BTreeMap<String, String>,
    /// The replica environments that stream from it, for the comment.
    pub replicas: Vec<String>,
    /// Who may connect through the load balancer: the private address ranges the peered
    /// regions' nodes use (the load balancer keeps their source address).
    pub source_ranges: Vec<&'static str>,
}

/// The Secrets a replica's database reads to stream from its primary.
#[derive(Debug, Clone, Serialize)]
pub struct ReplicaTls {
    /// `tls.crt` and `tls.key`: the client certificate of `streaming_replica`.
    pub client: String,
    /// `ca.crt`: the primary's CA, which signed its server certificate.
    pub ca: String,
}

impl ReplicaTls {
    /// The names a replica of database `db` reads (the primary pushes to their entries).
    pub fn of(db: &str) -> Self {
        ReplicaTls {
            client: format!("{db}-primary-replication"),
            ca: format!("{db}-primary-ca"),
        }
    }
}

/// A key of a Secret, as `secretKeyRef`, `redisSecret` and their kind name it.
#[derive(Debug, Clone, Serialize)]
pub struct SecretKeyRef {
    pub name: String,
    pub key: &'static str,
}

/// The Secrets the CloudNativePG operator makes for a cluster named `name` (the tree never
/// asks the secret store for them): the application user's, the superuser's, the CA, the
/// replication client certificate and the server certificate.
pub fn cnpg_secrets(name: &str) -> [String; 5] {
    ["app", "superuser", "ca", "replication", "server"].map(|s| format!("{name}-{s}"))
}

/// The annotation external-dns reads a Service's host names from.
pub const EXTERNAL_DNS_HOSTNAME: &str = "external-dns.alpha.kubernetes.io/hostname";

/// The private address ranges (RFC 1918) a private load balancer admits.
pub const PRIVATE_RANGES: &[&str] = &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"];

/// The requests and limits of an operator's container (laid out as they are).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ContainerResources {
    pub requests: Quantities,
    pub limits: Quantities,
}

/// CPU and memory quantities; no CPU where none is set (a limit that would throttle).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Quantities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<&'static str>,
    pub memory: &'static str,
}

impl Quantities {
    pub const fn new(cpu: &'static str, memory: &'static str) -> Quantities {
        Quantities {
            cpu: Some(cpu),
            memory,
        }
    }
}

/// PostgreSQL's instances: no CPU limit (CPU throttling stalls WAL replay and checkpoints),
/// memory capped at twice the request.
pub const POSTGRES_RESOURCES: ContainerResources = ContainerResources {
    requests: Quantities::new("500m", "1Gi"),
    limits: Quantities {
        cpu: None,
        memory: "2Gi",
    },
};

/// A standalone Redis: a cache for one small environment.
pub const REDIS_STANDALONE_RESOURCES: ContainerResources = ContainerResources {
    requests: Quantities::new("100m", "128Mi"),
    limits: Quantities::new("500m", "512Mi"),
};

/// A Redis Cluster node: one shard of the data.
pub const REDIS_CLUSTER_RESOURCES: ContainerResources = ContainerResources {
    requests: Quantities::new("500m", "1Gi"),
    limits: Quantities::new("1", "2Gi"),
};

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseBackup {
    pub destination: String,
    pub retention: &'static str,
    pub credentials_secret: &'static str,
    /// The cloud's credentials object and its keys in the Secret.
    pub credentials: DatabaseCredentials,
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
    pub storage_class: String,
    pub image: &'static str,
    pub exporter_image: &'static str,
    /// Of each Redis node (a standalone Redis is a small cache, a cluster node a shard).
    pub resources: ContainerResources,
    /// What the app talks to: the name of the client Service and the `app` label of its
    /// pods (the opstree operator names a cluster's `<name>-leader`).
    pub client_name: String,
    /// Host and port the app connects to.
    pub host: String,
    /// The `app` label of each kind of node the operator runs: a cluster's leaders and
    /// followers, or the standalone server.
    pub nodes: Vec<String>,
    /// The Redis pods' securityContext (`spec.podSecurityContext`) and each of their
    /// containers' (the Redis server's, the exporter sidecar's): the OT redis-operator adds
    /// none of its own, and the pods run in a namespace that enforces the restricted Pod
    /// Security Standard (PG-P001).
    pub pod_security: RedisPodSecurity,
    pub container_security: ContainerSecurity,
    /// The password every node requires (`kubernetesConfig.redisSecret`): the operator gives
    /// it to the Redis servers and the exporters as `REDIS_PASSWORD`, and every service that
    /// uses Redis reads the same key.
    pub auth: SecretKeyRef,
}

/// A pod's securityContext, as the CRDs spell it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisPodSecurity {
    pub run_as_non_root: bool,
    /// The uid and gid of the opstree images' `redis` user.
    pub run_as_user: u32,
    pub fs_group: u32,
    pub seccomp_profile: SeccompProfile,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeccompProfile {
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A container's securityContext, as the CRDs spell it. The root filesystem stays
/// writable: the opstree Redis image writes its configuration at start.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerSecurity {
    pub allow_privilege_escalation: bool,
    pub capabilities: Capabilities,
}

#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    pub drop: Vec<&'static str>,
}

/// The restricted profile's securityContexts for the Redis pods and their containers.
fn redis_security() -> (RedisPodSecurity, ContainerSecurity) {
    let pod = RedisPodSecurity {
        run_as_non_root: true,
        run_as_user: 1000,
        fs_group: 1000,
        seccomp_profile: SeccompProfile {
            kind: "RuntimeDefault",
        },
    };
    let container = ContainerSecurity {
        allow_privilege_escalation: false,
        capabilities: Capabilities { drop: vec!["ALL"] },
    };
    (pod, container)
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
    /// Where the schedule's backups go: the BackupStorageLocation the tree renders.
    pub location: VeleroLocation,
}

/// Velero's `BackupStorageLocation` `default` (the Schedule names it; the Velero chart is
/// told to make none of its own).
#[derive(Debug, Clone, Serialize)]
pub struct VeleroLocation {
    pub name: &'static str,
    pub provider: &'static str,
    pub bucket: String,
    pub prefix: &'static str,
    pub config: BTreeMap<&'static str, String>,
    pub credentials_secret: &'static str,
    pub credentials_key: &'static str,
}

/// The Secret Velero's chart mounts as its cloud credentials (in Velero's namespace).
pub const VELERO_CREDENTIALS_SECRET: &str = "velero-credentials";

/// PostgreSQL's parameters (values from the architecture notes; connections by tier).
fn postgres_parameters(d: &TierDefaults) -> BTreeMap<&'static str, String> {
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

/// The CloudNativePG cluster: the tier's size, overrides, and a replica's source.
pub(super) fn database(
    env: &Environment,
    d: &TierDefaults,
    primary: Option<&Primary>,
    replicas: &[&Environment],
    cloud: &Cloud,
    names: &super::names::Names,
) -> Database {
    let spec = &env.spec;
    let o = &spec.overrides;
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
        name: names.database,
        instances: db_instances,
        storage: db_storage,
        storage_class: cloud.storage_class.clone(),
        image: "ghcr.io/cloudnative-pg/postgresql:16.6",
        database: names.sql_database,
        owner: names.sql_owner,
        parameters,
        resources: POSTGRES_RESOURCES,
        replica_source: primary_info.as_ref().map(|p| p.name.clone()),
        replica_tls: primary_info.map(|_| ReplicaTls::of(names.database)),
        backup: (d.backups == BackupLevel::Continuous).then(|| DatabaseBackup {
            destination: cloud.object_store.database_path.clone(),
            retention: "30d",
            credentials_secret: names.backup_credentials,
            credentials: cloud.object_store.database_credentials.clone(),
            schedule: "0 0 3 * * *",
        }),
        cross_region: (!replicas.is_empty()).then(|| CrossRegionEndpoint {
            service: format!("{}-rw-cross-region", names.database),
            host: db_host(names.database, &spec.region, &spec.domain),
            annotations: {
                let mut a = cloud.internal_load_balancer_annotations.clone();
                a.insert(
                    EXTERNAL_DNS_HOSTNAME.to_owned(),
                    db_host(names.database, &spec.region, &spec.domain),
                );
                a
            },
            replicas: replicas.iter().map(|r| r.name.clone()).collect(),
            source_ranges: PRIVATE_RANGES.to_vec(),
        }),
    }
}

/// The host a replica region's database streams from: the primary's read-write endpoint,
/// named by region under the domain.
pub fn db_host(database: &str, region: &str, domain: &str) -> String {
    format!("{database}-rw.{region}.db.{domain}")
}

/// Redis: a standalone cache below the tiers that shard it, else a Redis Cluster.
pub(super) fn redis(d: &TierDefaults, cloud: &Cloud, names: &super::names::Names) -> Redis {
    let cluster = d.redis_leaders > 1;
    // The opstree operator names the client service of a cluster `<name>-leader`.
    let client_name = if cluster {
        format!("{}-leader", names.redis)
    } else {
        names.redis.to_owned()
    };
    let (pod_security, container_security) = redis_security();
    Redis {
        name: names.redis,
        kind: if cluster { "RedisCluster" } else { "Redis" },
        leaders: d.redis_leaders,
        followers: d.redis_followers,
        storage: d.redis_storage.to_owned(),
        storage_class: cloud.storage_class.clone(),
        image: "quay.io/opstree/redis:v7.0.15",
        exporter_image: "quay.io/opstree/redis-exporter:v1.44.0",
        resources: if cluster {
            REDIS_CLUSTER_RESOURCES
        } else {
            REDIS_STANDALONE_RESOURCES
        },
        host: format!("{client_name}.{}.svc:6379", names.system_namespace),
        client_name,
        nodes: if cluster {
            vec![
                format!("{}-leader", names.redis),
                format!("{}-follower", names.redis),
            ]
        } else {
            vec![names.redis.to_owned()]
        },
        pod_security,
        container_security,
        auth: SecretKeyRef {
            name: names.redis_auth.to_owned(),
            key: REDIS_PASSWORD_KEY,
        },
    }
}

/// The key of the Redis password in its Secret.
pub const REDIS_PASSWORD_KEY: &str = "password";

/// The backups of a tier: Velero's daily schedule of the platform and the tenants, kept
/// three days, or thirty beside continuous database backups.
pub(super) fn backups(d: &TierDefaults, cloud: &Cloud, names: &super::names::Names) -> Backups {
    let velero = match d.backups {
        BackupLevel::None => None,
        BackupLevel::Daily => Some(("72h0m0s", "0 2 * * *")),
        BackupLevel::Continuous => Some(("720h0m0s", "0 2 * * *")),
    };
    Backups {
        level: d.backups,
        velero: velero.map(|(ttl, schedule)| VeleroSchedule {
            name: names.velero_schedule,
            schedule,
            ttl,
            namespaces: vec![
                names.system_namespace.to_owned(),
                names.tenant_namespaces.to_owned(),
            ],
            location: VeleroLocation {
                name: "default",
                provider: cloud.object_store.velero_provider,
                bucket: cloud.object_store.bucket.clone(),
                prefix: cloud.object_store.velero_prefix,
                config: cloud.object_store.velero_config.clone(),
                credentials_secret: VELERO_CREDENTIALS_SECRET,
                credentials_key: super::cloud::VELERO_CREDENTIALS_KEY,
            },
        }),
    }
}
