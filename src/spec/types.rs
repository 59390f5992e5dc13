//! The environment spec as typed values (DESIGN §2). These types only ever see input that
//! `schemas/environment.schema.json` has accepted, so they carry no validation of their own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::system::EnvValue;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentFile {
    pub api_version: String,
    pub kind: String,
    pub metadata: Metadata,
    pub spec: EnvironmentSpec,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Metadata {
    pub name: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Dev,
    Staging,
    Prod,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Dev, Tier::Staging, Tier::Prod];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Dev => "dev",
            Tier::Staging => "staging",
            Tier::Prod => "prod",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Primary,
    Replica,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Replica => "replica",
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentSpec {
    pub tier: Tier,
    pub region: String,
    /// The cloud the environment's cluster runs on (its region ids, storage class, load
    /// balancers and object store: see `model::cloud`).
    #[serde(default)]
    pub cloud: CloudProvider,
    #[serde(default)]
    pub role: Role,
    pub replica_of: Option<String>,
    pub domain: String,
    pub image: Image,
    pub tenants: Tenants,
    pub cloudflare: Cloudflare,
    pub gitops: Gitops,
    pub alerting: Alerting,
    /// Where the tree's Secrets come from (`spec.secrets.store`).
    #[serde(default)]
    pub secrets: SecretsSpec,
    /// Distributed tracing (`spec.tracing`).
    #[serde(default)]
    pub tracing: TracingSpec,
    /// Objects the cluster has that the tree references without making them.
    #[serde(default)]
    pub external: Vec<ExternalRef>,
    #[serde(default)]
    pub overrides: Overrides,
    /// Patches of rendered objects, applied in order before the checks (see `crate::patch`).
    #[serde(default)]
    pub patches: Vec<crate::patch::PatchSpec>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CloudProvider {
    #[default]
    Aws,
    Gcp,
    Azure,
}

impl CloudProvider {
    pub const ALL: [CloudProvider; 3] =
        [CloudProvider::Aws, CloudProvider::Gcp, CloudProvider::Azure];

    pub fn as_str(self) -> &'static str {
        match self {
            CloudProvider::Aws => "aws",
            CloudProvider::Gcp => "gcp",
            CloudProvider::Azure => "azure",
        }
    }
    /// Whether `region` is a region id of `provider`: AWS `us-east-1`, `ap-southeast-2`,
    /// `us-gov-west-1`; GCP `europe-west1`, `northamerica-northeast2`; Azure `westeurope`,
    /// `eastus2`.
    pub fn is_region(self, region: &str) -> bool {
        let provider = self;
        let parts: Vec<&str> = region.split('-').collect();
        let lower = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase());
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        match provider {
            CloudProvider::Aws => {
                parts.len() >= 3
                    && parts[0].len() == 2
                    && parts[..parts.len() - 1].iter().all(|p| lower(p))
                    && digits(parts[parts.len() - 1])
            }
            CloudProvider::Gcp => {
                parts.len() == 2 && lower(parts[0]) && {
                    let p = parts[1];
                    let letters = p.trim_end_matches(|c: char| c.is_ascii_digit());
                    lower(letters) && digits(&p[letters.len()..])
                }
            }
            CloudProvider::Azure => {
                parts.len() == 1 && {
                    let letters = region.trim_end_matches(|c: char| c.is_ascii_digit());
                    lower(letters) && region.len() - letters.len() <= 1
                }
            }
        }
    }

    /// An example region id of each cloud, for messages.
    pub fn example_region(self) -> &'static str {
        match self {
            CloudProvider::Aws => "us-east-1",
            CloudProvider::Gcp => "europe-west1",
            CloudProvider::Azure => "westeurope",
        }
    }
}

/// `spec.tracing`: which trace backend the collector exports to.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct TracingSpec {
    #[serde(default)]
    pub backend: TraceBackend,
}

/// The trace backend (`spec.tracing.backend`).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TraceBackend {
    /// Grafana Tempo, monolithic.
    #[default]
    Tempo,
    /// Jaeger v2 (the OpenTelemetry-collector-based Jaeger), with Badger storage.
    Jaeger,
}

/// `spec.secrets` of an environment or of the system file.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct SecretsSpec {
    /// The External Secrets Operator's `ClusterSecretStore` every ExternalSecret reads from.
    pub store: Option<String>,
}

/// An object the cluster has and the tree references without making it (`spec.external`):
/// the reference check (PG-R001) takes it as a declared prerequisite.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct ExternalRef {
    pub kind: ExternalKind,
    /// None for a cluster-scoped kind (and required for the others).
    pub namespace: Option<String>,
    pub name: String,
    /// Its labels (a Service's, or a Deployment's pods'), for the selectors that pick it.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// The kinds `spec.external` may declare: those the reference check resolves.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExternalKind {
    Secret,
    ConfigMap,
    ServiceAccount,
    Service,
    Deployment,
    Gateway,
    Role,
    ClusterRole,
    Issuer,
    ClusterIssuer,
    SecretStore,
    ClusterSecretStore,
    BackupStorageLocation,
}

impl ExternalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalKind::Secret => "Secret",
            ExternalKind::ConfigMap => "ConfigMap",
            ExternalKind::ServiceAccount => "ServiceAccount",
            ExternalKind::Service => "Service",
            ExternalKind::Deployment => "Deployment",
            ExternalKind::Gateway => "Gateway",
            ExternalKind::Role => "Role",
            ExternalKind::ClusterRole => "ClusterRole",
            ExternalKind::Issuer => "Issuer",
            ExternalKind::ClusterIssuer => "ClusterIssuer",
            ExternalKind::SecretStore => "SecretStore",
            ExternalKind::ClusterSecretStore => "ClusterSecretStore",
            ExternalKind::BackupStorageLocation => "BackupStorageLocation",
        }
    }

    /// Whether objects of the kind have no namespace.
    pub fn cluster_scoped(self) -> bool {
        matches!(
            self,
            ExternalKind::ClusterRole
                | ExternalKind::ClusterIssuer
                | ExternalKind::ClusterSecretStore
        )
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Image {
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Tenants {
    pub count: Option<u32>,
    pub list: Option<Vec<TenantEntry>>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Free,
    Team,
    Enterprise,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Team => "team",
            Plan::Enterprise => "enterprise",
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct TenantEntry {
    pub id: String,
    pub plan: Plan,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cloudflare {
    pub zone_id: String,
    pub origin_host: Option<String>,
    /// Default: [`Cloudflare::DEFAULT_SESSION_COOKIE`].
    pub session_cookie: Option<String>,
}

impl Cloudflare {
    pub const DEFAULT_SESSION_COOKIE: &'static str = "portal_session";

    /// The session cookie's name, or the default.
    pub fn session_cookie(&self) -> &str {
        self.session_cookie
            .as_deref()
            .unwrap_or(Self::DEFAULT_SESSION_COOKIE)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Gitops {
    #[serde(rename = "repoURL")]
    pub repo_url: String,
    pub target_revision: String,
    pub tenant_shards: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Alerting {
    pub slack_channel: String,
    #[serde(default)]
    pub pagerduty: bool,
    /// The info alerts' daily email digest: where it goes and through which relay (each
    /// defaults from the domain, see `families::prometheus::routing`).
    #[serde(default)]
    pub email: EmailDigest,
    /// The on-call team's IANA time zone for business hours, when it is not the region's
    /// (a US team on call for `eu-west-1`). One of `families::prometheus::hours::ZONES`.
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EmailDigest {
    pub to: Option<String>,
    pub from: Option<String>,
    /// `host:port` of the SMTP relay (submission with STARTTLS).
    pub smarthost: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Overrides {
    /// For every service (the one of the built-in system included); a service's own
    /// override in `services` wins.
    pub replicas: Option<u32>,
    pub autoscaling: Option<AutoscalingOverride>,
    pub resources: Option<ResourcesOverride>,
    pub database: Option<DatabaseOverride>,
    /// Environment variables of every service, over the system file's.
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    /// Per service of the system, by name.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceOverride>,
    /// Where every pod of the environment runs (a node pool, spot nodes), and how images
    /// are pulled.
    #[serde(default)]
    pub node_selector: BTreeMap<String, String>,
    #[serde(default)]
    pub tolerations: Vec<Toleration>,
    #[serde(default)]
    pub image_pull_secrets: Vec<String>,
    pub priority_class_name: Option<String>,
    /// What the cloud profile decides, where this environment differs.
    pub cloud: Option<CloudOverride>,
}

/// The values of a cloud profile an environment may replace (`spec.overrides.cloud`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CloudOverride {
    pub storage_class: Option<String>,
    /// Of the public ingress gateway's Service.
    pub load_balancer_annotations: Option<BTreeMap<String, String>>,
    /// Of the database's cross-region endpoint (a private load balancer).
    pub internal_load_balancer_annotations: Option<BTreeMap<String, String>>,
    pub object_store: Option<ObjectStoreOverride>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStoreOverride {
    /// The S3 or GCS bucket, or the Azure Blob container.
    pub bucket: Option<String>,
    /// Azure only: the storage account and its resource group.
    pub storage_account: Option<String>,
    pub resource_group: Option<String>,
}

/// What an environment changes of one service.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceOverride {
    pub replicas: Option<u32>,
    pub autoscaling: Option<AutoscalingOverride>,
    pub resources: Option<ResourcesOverride>,
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
}

/// A pod toleration, as Kubernetes spells it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Toleration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalingOverride {
    pub min_replicas: Option<u32>,
    pub max_replicas: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct ResourcesOverride {
    pub requests: Option<CpuMemoryOverride>,
    pub limits: Option<CpuMemoryOverride>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct CpuMemoryOverride {
    pub cpu: Option<String>,
    pub memory: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct DatabaseOverride {
    pub instances: Option<u32>,
    pub storage: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_ids_are_told_apart_by_cloud() {
        use CloudProvider::*;
        for (region, cloud) in [
            ("us-east-1", Aws),
            ("ap-southeast-2", Aws),
            ("us-gov-west-1", Aws),
            ("europe-west1", Gcp),
            ("northamerica-northeast2", Gcp),
            ("westeurope", Azure),
            ("eastus2", Azure),
        ] {
            for other in CloudProvider::ALL {
                assert_eq!(
                    other.is_region(region),
                    other == cloud,
                    "{region} as {other:?}"
                );
            }
        }
        for bad in [
            "",
            "us-east",
            "US-east-1",
            "europe-west",
            "east-us-2x",
            "eastus22",
            "-1",
        ] {
            for cloud in CloudProvider::ALL {
                assert!(!cloud.is_region(bad), "{bad} as {cloud:?}");
            }
        }
    }
}
