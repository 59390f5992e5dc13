//! The conventions every family shares, each defined once (docs/architecture.md,
//! "Conventions"): the namespaces, the common and tenant labels, the Pod Security labels,
//! the tenants' container defaults and the Argo CD sync waves. Templates never spell them.

use std::collections::BTreeMap;

use indexmap::IndexMap;
use serde::Serialize;

use super::data::Quantities;
use super::names::Names;

/// Namespaces of the platform.
pub const SYSTEM_NAMESPACE: &str = "portal-system";
pub const MONITORING_NAMESPACE: &str = "monitoring";
/// Where the CloudNativePG operator runs (its instances' NetworkPolicies let it in).
pub const CNPG_NAMESPACE: &str = "cnpg-system";
/// Where Istio's control plane and its ingress gateway run.
pub const ISTIO_NAMESPACE: &str = "istio-system";
/// Velero reads its Schedules from its own namespace only.
pub const VELERO_NAMESPACE: &str = "velero";
/// Where external-dns runs, and the Secret of its CloudFlare API token (a DNS-edit token
/// of the zone) there.
pub const EXTERNAL_DNS_NAMESPACE: &str = "external-dns";
pub const EXTERNAL_DNS_TOKEN_SECRET: &str = "external-dns-cloudflare";
pub const EXTERNAL_DNS_TOKEN_KEY: &str = "api-token";
/// Where cert-manager runs: its cluster resource namespace, where a ClusterIssuer's Secrets
/// (the ACME account key, the DNS provider's token) are read from.
pub const CERT_MANAGER_NAMESPACE: &str = "cert-manager";
/// Where the External Secrets Operator runs.
pub const EXTERNAL_SECRETS_NAMESPACE: &str = "external-secrets";
/// The label every rendered object carries, and its value (policy PG-M001).
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "portalgen";
/// The label that names an object's tenant, and the one that names its plan.
pub const TENANT_LABEL: &str = "portal.dev/tenant";
pub const PLAN_LABEL: &str = "portal.dev/plan";
/// Every tenant's namespace is this prefix and the tenant id.
pub const TENANT_NAMESPACE_PREFIX: &str = "portal-tenant-";
/// Every tenant namespace, as a pattern (Argo CD destinations, Velero).
pub const TENANT_NAMESPACES: &str = "portal-tenant-*";

#[derive(Debug, Clone, Serialize)]
pub struct Namespaces {
    pub system: &'static str,
    pub monitoring: &'static str,
    /// Where the Istio ingress gateway runs (its traffic is let into the app).
    pub ingress_gateway: &'static str,
    pub dns: &'static str,
    pub cnpg_operator: &'static str,
    /// Velero's own: it reads its Schedules from there only.
    pub velero: &'static str,
    /// The namespaces the platform creates, in this order (the tenants' come with them).
    pub platform: Vec<&'static str>,
}

/// What every tenant's objects share.
#[derive(Debug, Clone, Serialize)]
pub struct Tenancy {
    /// The label key that names an object's tenant ([`TENANT_LABEL`]).
    pub label: &'static str,
    /// The label key of a tenant namespace's plan ([`PLAN_LABEL`]).
    pub plan_label: &'static str,
    /// The LimitRange of every tenant namespace.
    pub limits: TenantLimits,
}

/// The container defaults and ceiling of a tenant namespace (its LimitRange): a pod that
/// says nothing gets a small share, and no container may take more than a node's slice.
#[derive(Debug, Clone, Serialize)]
pub struct TenantLimits {
    pub default: Quantities,
    pub default_request: Quantities,
    pub max: Quantities,
}

/// The Pod Security Standard labels of a namespace that enforces `restricted`, in the
/// order they are written.
pub(super) fn pod_security_labels() -> IndexMap<&'static str, &'static str> {
    IndexMap::from([
        ("pod-security.kubernetes.io/enforce", "restricted"),
        ("pod-security.kubernetes.io/enforce-version", "latest"),
        ("pod-security.kubernetes.io/audit", "restricted"),
        ("pod-security.kubernetes.io/warn", "restricted"),
    ])
}

/// Argo CD sync waves: namespaces and cluster objects first, data stores next, the app last.
#[derive(Debug, Clone, Serialize)]
pub struct SyncWaves {
    pub cluster: &'static str,
    /// The ExternalSecrets: after their namespaces, before every reader (the data stores,
    /// the app, the operators' objects).
    pub secrets: &'static str,
    pub data: &'static str,
    pub app: &'static str,
    pub tenant_namespace: &'static str,
    pub tenant_objects: &'static str,
}

/// The namespaces of a system named by `names`.
pub(super) fn namespaces(names: &Names) -> Namespaces {
    Namespaces {
        system: names.system_namespace,
        monitoring: MONITORING_NAMESPACE,
        ingress_gateway: ISTIO_NAMESPACE,
        dns: "kube-system",
        cnpg_operator: CNPG_NAMESPACE,
        velero: VELERO_NAMESPACE,
        platform: vec![names.system_namespace, MONITORING_NAMESPACE],
    }
}

/// The labels every object of environment `env` of system `system` carries.
pub(super) fn common_labels(system: &str, env: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL, MANAGED_BY_VALUE.to_owned()),
        ("app.kubernetes.io/part-of", system.to_owned()),
        ("portal.dev/environment", env.to_owned()),
    ])
}

pub(super) fn tenancy() -> Tenancy {
    Tenancy {
        label: TENANT_LABEL,
        plan_label: PLAN_LABEL,
        limits: TenantLimits {
            default: Quantities::new("500m", "512Mi"),
            default_request: Quantities::new("100m", "128Mi"),
            max: Quantities::new("2", "4Gi"),
        },
    }
}

/// A tenant's namespace comes before its objects, the cluster objects and the secrets
/// before the data stores, and those before the app. Within a wave Argo CD applies
/// Namespaces before custom resources, so the ExternalSecrets share the namespaces' wave.
pub(super) const WAVES: SyncWaves = SyncWaves {
    cluster: "-1",
    secrets: "-1",
    data: "0",
    app: "1",
    tenant_namespace: "-1",
    tenant_objects: "0",
};
