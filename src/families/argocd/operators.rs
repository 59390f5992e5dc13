//! The operators the rendered tree relies on, each installed by an Argo CD Application from
//! its official Helm chart at a pinned version (issue #13, "The operators themselves").
//!
//! [`OPERATORS`] is the one table of charts, repositories, versions and namespaces: the
//! Applications under `argocd/applications/operators/`, the operators' AppProject and the
//! README's "Operators" table ([`readme_table`]) are all read from it. A row names the API
//! groups whose objects its operator reconciles (`serves`); a test of the rendered trees
//! fails when a tree renders (or references) a group no rendered operator serves.
//!
//! External Secrets is not a row: no tree renders an `ExternalSecret` or references one
//! yet (every secret is assumed to exist). The row comes with the first ExternalSecret; the
//! test above fails until it does.

use serde::Serialize;

use crate::model::{
    Model, CNPG_NAMESPACE, ISTIO_NAMESPACE, MONITORING_NAMESPACE, VELERO_NAMESPACE,
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

fn velero_schedule(m: &Model) -> bool {
    m.backups.velero.is_some()
}

fn any_service(m: &Model) -> bool {
    !m.services.is_empty()
}

fn cluster_issuer(m: &Model) -> bool {
    !m.ingress.cluster_issuer.is_empty()
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
        // tree's ServiceMonitor) only: the tree renders its own Prometheus, rules and
        // Alertmanager configuration.
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
        namespace: "cert-manager",
        release_name: None,
        parameters: &[("crds.enabled", "true")],
        serves: &["cert-manager.io", "acme.cert-manager.io"],
        why: "the `crds.enabled` chart value (1.15 and later); 1.19.4 fixes CVE-2026-24051 and CVE-2025-68121",
        when: "every environment (the Ingress names a cluster issuer)",
        relied_on: cluster_issuer,
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
        serves: &["autoscaling.k8s.io"],
        why: "`autoscaling.k8s.io/v1` VerticalPodAutoscaler with `controlledResources` and the `Off` and `Recreate` modes",
        when: "every environment (one VPA per service)",
        relied_on: any_service,
    },
    OperatorChart {
        name: "redis-operator",
        chart: "redis-operator",
        repo_url: "https://ot-container-kit.github.io/helm-charts",
        version: "0.22.0",
        app_version: "0.22.0",
        namespace: "redis-operator",
        release_name: None,
        parameters: &[],
        serves: &["redis.redis.opstreelabs.in"],
        why: "`redis.redis.opstreelabs.in/v1beta2` RedisCluster and Redis with the exporter sidecar (v1beta2 since 0.15)",
        when: "every environment (the `RedisCluster` or `Redis`)",
        relied_on: always,
    },
    istio("istio-base", "base", None, "every environment (Istio's CRDs)"),
    istio("istiod", "istiod", None, "every environment (the control plane)"),
    // The chart labels its pods `istio: <release name without "istio-">`: the Gateway
    // selects `istio: ingressgateway`.
    istio("istio-ingressgateway", "gateway", Some("istio-ingressgateway"), "every environment (the Gateway's and the Ingress's pods)"),
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

#[derive(Debug, Clone, Serialize)]
pub struct HelmParameter {
    pub name: &'static str,
    pub value: &'static str,
}

/// The operators environment `m` relies on, in table order.
pub fn relied_on(m: &Model) -> Vec<&'static OperatorChart> {
    OPERATORS.iter().filter(|o| (o.relied_on)(m)).collect()
}

impl OperatorChart {
    pub fn helm_source(&self) -> HelmSource {
        HelmSource {
            repo_url: self.repo_url,
            chart: self.chart,
            target_revision: self.version,
            release_name: self.release_name,
            parameters: self
                .parameters
                .iter()
                .map(|&(name, value)| HelmParameter { name, value })
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
