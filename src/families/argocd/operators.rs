//! The operators the rendered tree relies on, each installed by an Argo CD Application from
//! its official Helm chart at a pinned version (issue #13, "The operators themselves").
//!
//! [`OPERATORS`] is the one table of charts, repositories, versions and namespaces: the
//! Applications under `argocd/applications/operators/`, the operators' AppProject and the
//! README's "Operators" table ([`readme_table`]) are all read from it. A row names the API
//! groups whose objects its operator reconciles (`serves`); a test of the rendered trees
//! fails when a tree renders (or references) a group no rendered operator serves.
//!

use serde::Serialize;

use crate::model::data::EXTERNAL_DNS_HOSTNAME;
use crate::model::{
    Model, CERT_MANAGER_NAMESPACE, CNPG_NAMESPACE, EXTERNAL_DNS_NAMESPACE, EXTERNAL_DNS_TOKEN_KEY,
    EXTERNAL_DNS_TOKEN_SECRET, EXTERNAL_SECRETS_NAMESPACE, ISTIO_NAMESPACE, MONITORING_NAMESPACE,
    VELERO_NAMESPACE,
};

/// One operator's chart.
#[derive(Debug, Clone, Copy)]
pub struct OperatorChart {
    /// The Application's name after `portal-<env>-operator-` and its file under
    /// `argocd/applications/operators/`.
    pub name: &'static str,
    pub chart: &'static str,
    /// The chart's official Helm repository.
    pub repo_url: &'static str,
    /// The pinned chart version: an exact version, never a range.
    pub version: &'static str,
    /// The operator's own release, for the README.
    pub app_version: &'static str,
    pub namespace: &'static str,
    /// The Helm release name, where the chart derives labels the tree selects from it.
    pub release_name: Option<&'static str>,
    /// Helm parameters (`--set`), only where the chart's defaults do not fit.
    pub parameters: &'static [(&'static str, &'static str)],
    /// The parameters that depend on the environment (its cloud, its hosts), after those.
    pub environment_parameters: fn(&Model) -> Vec<HelmParameter>,
    /// The API groups (or `group/Kind`) of the objects this operator reconciles.
    pub serves: &'static [&'static str],
    /// Why this version at least.
    pub why: &'static str,
    /// Where the tree relies on it, for the README.
    pub when: &'static str,
    /// Whether the environment's tree relies on it (renders what it reconciles).
    pub relied_on: fn(&Model) -> bool,
}

fn always(_: &Model) -> bool {
    true
}

/// Whether a Service of the tree asks external-dns for a record.
pub fn names_a_host(m: &Model) -> bool {
    m.edge.origin_record.is_some() || m.database.cross_region.is_some()
}

fn no_parameters(_: &Model) -> Vec<HelmParameter> {
    Vec::new()
}

fn velero_schedule(m: &Model) -> bool {
    m.backups.velero.is_some()
}

fn any_service(m: &Model) -> bool {
    !m.services.is_empty()
}

fn certificates(m: &Model) -> bool {
    !m.tls.certificates.is_empty()
}

fn external_secrets(m: &Model) -> bool {
    !m.secrets.uses.is_empty()
}

const ISTIO_REPO: &str = "https://istio-release.storage.googleapis.com/charts";
const ISTIO_VERSION: &str = "1.30.3";
const ISTIO_WHY: &str = "`networking.istio.io/v1` Gateway and VirtualService (served since 1.22); 1.30.3 stops the full push on every metadata-only VirtualService change (Argo CD's labels and annotations)";

/// Every operator the tree may rely on, in the order their Applications are listed.
/// One of Istio's charts: one repository, version and namespace for all three.
const fn istio(
    name: &'static str,
    chart: &'static str,
    release_name: Option<&'static str>,
    environment_parameters: fn(&Model) -> Vec<HelmParameter>,
    when: &'static str,
) -> OperatorChart {
    OperatorChart {
        name,
        chart,
        repo_url: ISTIO_REPO,
        version: ISTIO_VERSION,
        app_version: ISTIO_VERSION,
        namespace: ISTIO_NAMESPACE,
        release_name,
        parameters: &[],
        environment_parameters,
        serves: &["networking.istio.io"],
        why: ISTIO_WHY,
        when,
        relied_on: always,
    }
}

pub const OPERATORS: &[OperatorChart] = &[
    OperatorChart {
        name: "cloudnative-pg",
        chart: "cloudnative-pg",
        repo_url: "https://cloudnative-pg.github.io/charts",
        version: "0.29.0",
        app_version: "1.30.0",
        namespace: CNPG_NAMESPACE,
        release_name: None,
        parameters: &[],
        environment_parameters: no_parameters,
        serves: &["postgresql.cnpg.io"],
        why: "the last line before 1.31, which removes the in-tree `barmanObjectStore` the prod backups use",
        when: "every environment (the `Cluster`)",
        relied_on: always,
    },
    OperatorChart {
        name: "prometheus-operator",
        chart: "kube-prometheus-stack",
        repo_url: "https://prometheus-community.github.io/helm-charts",
        version: "91.0.0",
        app_version: "0.94.0",
        namespace: MONITORING_NAMESPACE,
        release_name: Some("prometheus-operator"),
        // The operator, its CRDs and kube-state-metrics (scraped in `monitoring` by the
        // tree's ServiceMonitor) only: the tree renders its own Prometheus, rules,
        // Alertmanager and its configuration.
        parameters: &[
            ("alertmanager.enabled", "false"),
            ("coreDns.enabled", "false"),
            ("defaultRules.create", "false"),
            ("grafana.enabled", "false"),
            ("kubeApiServer.enabled", "false"),
            ("kubeControllerManager.enabled", "false"),
            ("kubeEtcd.enabled", "false"),
            ("kubeProxy.enabled", "false"),
            ("kubeScheduler.enabled", "false"),
            ("kubeStateMetrics.enabled", "true"),
            ("kubelet.enabled", "false"),
            ("nodeExporter.enabled", "false"),
            ("prometheus.enabled", "false"),
        ],
        environment_parameters: no_parameters,
        serves: &["monitoring.coreos.com"],
        why: "`AlertmanagerConfig` v1alpha1 and the Alertmanager's `alertmanagerConfigMatcherStrategy` (operator 0.63 and later); the chart is the official one that ships the operator with its CRDs and kube-state-metrics",
        when: "every environment (Prometheus, monitors, rules)",
        relied_on: always,
    },
    OperatorChart {
        name: "cert-manager",
        chart: "cert-manager",
        repo_url: "https://charts.jetstack.io",
        version: "v1.19.4",
        app_version: "1.19.4",
        namespace: CERT_MANAGER_NAMESPACE,
        release_name: None,
        parameters: &[("crds.enabled", "true")],
        environment_parameters: no_parameters,
        serves: &["cert-manager.io", "acme.cert-manager.io"],
        why: "the `crds.enabled` chart value (1.15 and later); 1.19.4 fixes CVE-2026-24051 and CVE-2025-68121",
        when: "every environment (the `ClusterIssuer` and the Gateway's `Certificate`)",
        relied_on: certificates,
    },
    OperatorChart {
        name: "external-secrets",
        chart: "external-secrets",
        repo_url: "https://charts.external-secrets.io",
        version: "2.9.0",
        app_version: "2.9.0",
        namespace: EXTERNAL_SECRETS_NAMESPACE,
        release_name: None,
        // The chart installs its CRDs (`installCRDs`, on by default).
        parameters: &[],
        environment_parameters: no_parameters,
        serves: &["external-secrets.io"],
        why: "`external-secrets.io/v1` ExternalSecret and ClusterSecretStore (served since 0.17); 2.9.0 is the release whose CRDs the checks use",
        when: "every environment (one `ExternalSecret` per Secret the tree reads)",
        relied_on: external_secrets,
    },
    OperatorChart {
        name: "velero",
        chart: "velero",
        repo_url: "https://vmware-tanzu.github.io/helm-charts",
        version: "12.2.1",
        app_version: "1.18.2",
        namespace: VELERO_NAMESPACE,
        release_name: None,
        parameters: &[],
        environment_parameters: velero_parameters,
        serves: &["velero.io"],
        why: "the Schedule's namespace glob (`portal-tenant-*` in `includedNamespaces`) needs Velero 1.18",
        when: "where a Velero `Schedule` is rendered (staging, prod)",
        relied_on: velero_schedule,
    },
    OperatorChart {
        name: "vpa",
        chart: "vpa",
        repo_url: "https://charts.fairwinds.com/stable",
        version: "4.10.0",
        app_version: "the chart's default",
        namespace: "vpa",
        release_name: None,
        parameters: &[],
        environment_parameters: no_parameters,
        serves: &["autoscaling.k8s.io"],
        why: "`autoscaling.k8s.io/v1` VerticalPodAutoscaler with `controlledResources` and the `Off` and `Recreate` modes",
        when: "every environment (one VPA per service)",
        relied_on: any_service,
    },
    OperatorChart {
        name: "redis-operator",
        chart: "redis-operator",
        repo_url: "https://ot-container-kit.github.io/helm-charts",
        version: "0.26.0",
        app_version: "0.26.0",
        namespace: "redis-operator",
        release_name: None,
        parameters: &[],
        environment_parameters: no_parameters,
        serves: &["redis.redis.opstreelabs.in"],
        why: "the release of the tree's CRD schemas and of the pods and Services the checks derive (0.26: the per-node `-metrics` Services, `redisSecret` on both kinds); `v1beta2` RedisCluster and Redis since 0.15",
        when: "every environment (the `RedisCluster` or `Redis`)",
        relied_on: always,
    },
    OperatorChart {
        name: "opentelemetry-operator",
        chart: "opentelemetry-operator",
        repo_url: "https://open-telemetry.github.io/opentelemetry-helm-charts",
        version: "0.115.0",
        app_version: "0.153.0",
        namespace: "opentelemetry-operator-system",
        release_name: None,
        // The contrib collector (the tree's collector names its image too), and the
        // webhook's certificate from the chart rather than from cert-manager, so the
        // operator does not wait on another operator.
        parameters: &[
            ("manager.collectorImage.repository", "otel/opentelemetry-collector-contrib"),
            ("admissionWebhooks.certManager.enabled", "false"),
            ("admissionWebhooks.autoGenerateCert.enabled", "true"),
        ],
        environment_parameters: no_parameters,
        serves: &["opentelemetry.io"],
        why: "`opentelemetry.io/v1beta1` OpenTelemetryCollector with `spec.networkPolicy` and the `Instrumentation` v1alpha1; chart 0.115.0 ships operator 0.153.0 (the CRD schemas are 0.158.0's, whose fields the tree uses are the same)",
        when: "every environment (the trace collector and the `Instrumentation`)",
        relied_on: always,
    },
    istio("istio-base", "base", None, no_parameters, "every environment (Istio's CRDs)"),
    istio("istiod", "istiod", None, no_parameters, "every environment (the control plane)"),
    // The chart labels its pods `istio: <release name without "istio-">`: the Gateway
    // selects `istio: ingressgateway`.
    istio(
        "istio-ingressgateway",
        "gateway",
        Some("istio-ingressgateway"),
        ingress_gateway_parameters,
        "every environment (the Gateway's pods)",
    ),
    OperatorChart {
        name: "external-dns",
        chart: "external-dns",
        repo_url: "https://kubernetes-sigs.github.io/external-dns/",
        version: "1.19.0",
        app_version: "0.19.0",
        namespace: EXTERNAL_DNS_NAMESPACE,
        release_name: None,
        // Only the Services that name a host in the annotation, only the environment's
        // domain, and never a record it did not create (`upsert-only`): the proxied
        // records are CloudFlare Terraform's. Records are DNS only (external-dns does not
        // proxy unless told).
        parameters: &[
            ("provider.name", "cloudflare"),
            ("sources[0]", "service"),
            ("policy", "upsert-only"),
            ("env[0].name", "CF_API_TOKEN"),
            ("env[0].valueFrom.secretKeyRef.name", EXTERNAL_DNS_TOKEN_SECRET),
            ("env[0].valueFrom.secretKeyRef.key", EXTERNAL_DNS_TOKEN_KEY),
        ],
        environment_parameters: external_dns_parameters,
        serves: &["external-dns.alpha.kubernetes.io"],
        why: "the `provider.name` chart value and `--txt-owner-id` ownership records (chart 1.14 and later); 1.19.0 is the chart of external-dns 0.19",
        when: "every environment (the ingress gateway's origin record, a primary's database endpoint)",
        relied_on: names_a_host,
    },
];

/// The Helm chart an operator's Application installs.
#[derive(Debug, Clone, Serialize)]
pub struct HelmSource {
    pub repo_url: &'static str,
    pub chart: &'static str,
    pub target_revision: &'static str,
    pub release_name: Option<&'static str>,
    pub parameters: Vec<HelmParameter>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HelmParameter {
    pub name: String,
    pub value: String,
    /// `--set-string`: an annotation's value stays a string even when it reads `true`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub force_string: bool,
}

impl HelmParameter {
    fn new(name: impl Into<String>, value: impl Into<String>) -> HelmParameter {
        HelmParameter {
            name: name.into(),
            value: value.into(),
            force_string: false,
        }
    }

    /// `<map>.<key>` for a key with dots or commas (an annotation's), escaped as Helm's
    /// `--set` reads it, with a string value.
    fn map_entry(map: &str, key: &str, value: &str) -> HelmParameter {
        let escape = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('.', "\\.")
                .replace(',', "\\,")
        };
        HelmParameter {
            name: format!("{map}.{}", escape(key)),
            value: value.replace('\\', "\\\\").replace(',', "\\,"),
            force_string: true,
        }
    }
}

/// The ingress gateway's Service: the cloud's public load balancer, and, unless the edge
/// points at an origin of the team's (`spec.cloudflare.originHost` outside the tree), the
/// origin record external-dns makes for it (DNS only).
fn ingress_gateway_parameters(m: &Model) -> Vec<HelmParameter> {
    let mut out: Vec<HelmParameter> = m
        .cloud
        .load_balancer_annotations
        .iter()
        .map(|(k, v)| HelmParameter::map_entry("service.annotations", k, v))
        .collect();
    if let Some(host) = &m.edge.origin_record {
        out.push(HelmParameter::map_entry(
            "service.annotations",
            EXTERNAL_DNS_HOSTNAME,
            host,
        ));
    }
    out
}

/// Only the environment's domain, and ownership records that name the environment, so two
/// environments' external-dns in one zone never touch each other's records.
fn external_dns_parameters(m: &Model) -> Vec<HelmParameter> {
    vec![
        HelmParameter::new("domainFilters[0]", &m.env.domain),
        HelmParameter::new("txtOwnerId", format!("{}-{}", m.system.name, m.env.name)),
    ]
}

/// Velero: the cloud's object-store plugin, the credentials Secret, and no storage or
/// snapshot location of the chart's own (the tree renders the BackupStorageLocation the
/// Schedule names); volume snapshots through CSI.
fn velero_parameters(m: &Model) -> Vec<HelmParameter> {
    let Some(v) = &m.backups.velero else {
        return Vec::new();
    };
    let plugin = &m.cloud.object_store.velero_plugin;
    vec![
        HelmParameter::new("backupsEnabled", "false"),
        HelmParameter::new("snapshotsEnabled", "false"),
        HelmParameter::new("configuration.features", "EnableCSI"),
        HelmParameter::new("credentials.useSecret", "true"),
        HelmParameter::new("credentials.existingSecret", v.location.credentials_secret),
        HelmParameter::new("initContainers[0].name", plugin.name),
        HelmParameter::new("initContainers[0].image", plugin.image),
        HelmParameter::new("initContainers[0].volumeMounts[0].name", "plugins"),
        HelmParameter::new("initContainers[0].volumeMounts[0].mountPath", "/target"),
    ]
}

/// The operators environment `m` relies on, in table order.
pub fn relied_on(m: &Model) -> Vec<&'static OperatorChart> {
    OPERATORS.iter().filter(|o| (o.relied_on)(m)).collect()
}

impl OperatorChart {
    pub fn helm_source(&self, m: &Model) -> HelmSource {
        HelmSource {
            repo_url: self.repo_url,
            chart: self.chart,
            target_revision: self.version,
            release_name: self.release_name,
            parameters: self
                .parameters
                .iter()
                .map(|&(name, value)| HelmParameter::new(name, value))
                .chain((self.environment_parameters)(m))
                .collect(),
        }
    }
}

/// The README's "Operators" table, from [`OPERATORS`] (a test keeps the README in step).
pub fn readme_table() -> String {
    let mut out = String::from(
        "| operator | chart | repository | version | app | namespace | rendered | why this version |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for o in OPERATORS {
        out.push_str(&format!(
            "| {} | `{}` | {} | `{}` | {} | `{}` | {} | {} |\n",
            o.name, o.chart, o.repo_url, o.version, o.app_version, o.namespace, o.when, o.why
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_version_is_pinned_exactly() {
        for o in OPERATORS {
            let v = o.version.strip_prefix('v').unwrap_or(o.version);
            let parts: Vec<&str> = v.split('.').collect();
            assert!(
                parts.len() == 3
                    && parts
                        .iter()
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
                "{}: {:?} is not an exact version",
                o.name,
                o.version
            );
            assert!(o.repo_url.starts_with("https://"), "{}", o.name);
            assert!(!o.serves.is_empty() && !o.why.is_empty(), "{}", o.name);
        }
        let mut names: Vec<&str> = OPERATORS.iter().map(|o| o.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OPERATORS.len(), "two operators share a name");
    }
}
