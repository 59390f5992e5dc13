//! Observability decisions (DESIGN §3 "monitoring", §4 Prometheus and Grafana): what is
//! scraped, which recording rules and alerts exist on which tier, their windows, burn-rate
//! factors and thresholds, how alerts are routed, and the dashboards with their panels.
//!
//! Everything here is data; the `prometheus/` templates only lay it out and
//! `families::grafana` only turns the dashboards into Grafana's JSON model.
//!
//! Tiers (`m.monitoring.level`):
//! - basic (dev): Prometheus, the monitors, SLI recording rules and the core operational
//!   alerts; no dashboards (DESIGN §3 brings dashboards with "full").
//! - full (staging): + the three dashboards, the SLO alerts (5xx ratio, p95 latency,
//!   availability over a day) and the 30-day error budget.
//! - enterprise (prod): the availability SLO as multi-window, multi-burn-rate alerts
//!   (fast burn pages, slow burn opens a ticket), and PagerDuty for critical alerts when
//!   `spec.alerting.pagerduty` is set.
//!
//! Runbooks live at `https://runbooks.<domain>/portal/<AlertName>` (one page per alert name;
//! prod regions that share a domain share runbooks).
//!
//! Every alert carries its behaviour scenario, written beside it (`scenario`): what a breach
//! and healthy operation feed promtool, when to look, the labels it fires with. They are
//! test data (never rendered); `promtool` turns them and a rendered rule file into
//! `promtool test rules` unit tests.

use std::collections::BTreeMap;

use serde::Serialize;

use super::routing::{self, AlertRouting};
use super::rules::{self, Rules};
use super::slo::SLO_WINDOW;
use crate::model::names::intern;
use crate::model::{Model, MonitoringLevel, MONITORING_NAMESPACE, VELERO_NAMESPACE};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Observability {
    /// Labels of every monitoring object: the model's labels and the selector label.
    pub labels: BTreeMap<String, String>,
    /// The label by which the Prometheus (and the Alertmanager) select the portal's objects.
    pub selector: BTreeMap<&'static str, &'static str>,
    pub prometheus: Prometheus,
    /// Namespaces the Prometheus discovers targets in (it gets a Role in each).
    pub scrape_namespaces: Vec<String>,
    pub service_monitors: Vec<ServiceMonitor>,
    pub pod_monitors: Vec<PodMonitor>,
    pub rules: Rules,
    /// The Alertmanager that delivers the alerts, and the AlertmanagerConfig it loads.
    pub alertmanager: Alertmanager,
    pub routing: AlertRouting,
}

/// The Alertmanager (prometheus-operator): its size by monitoring level, and how it picks
/// up the system's AlertmanagerConfig.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Alertmanager {
    pub name: &'static str,
    pub namespace: &'static str,
    /// 1 (basic), 2 (full), 3 (enterprise): the replicas gossip silences and the
    /// notification log, so each alert is sent once while one replica is down.
    pub replicas: u32,
    /// How long silences and the notification log are kept.
    pub retention: &'static str,
    pub storage: &'static str,
    pub requests: (&'static str, &'static str),
    pub limits: (&'static str, &'static str),
    /// `OnNamespaceExceptForAlertmanagerNamespace`: an AlertmanagerConfig in the
    /// Alertmanager's own namespace (the system's) sees every alert, whatever namespace
    /// its series came from; one selected from another namespace would still see only that
    /// namespace's alerts. (The default, `OnNamespace`, would add `namespace="monitoring"`
    /// to the system's routes, and no alert of the system carries that namespace.)
    pub matcher_strategy: &'static str,
    /// The Service the operator creates for the Alertmanagers of a namespace, and its port
    /// (the Prometheus sends alerts there).
    pub service: &'static str,
    pub port_name: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Prometheus {
    pub name: &'static str,
    pub namespace: &'static str,
    pub service_account: &'static str,
    pub replicas: u32,
    pub retention: &'static str,
    /// Retention by size: 90% of the volume, so the TSDB never fills it.
    pub retention_size: &'static str,
    pub storage: &'static str,
    /// Feature flags: `exemplar-storage`, so latency panels link to traces (issue #18).
    pub enable_features: Vec<&'static str>,
    pub requests: (&'static str, &'static str),
    pub limits: (&'static str, &'static str),
    pub scrape_interval: &'static str,
    pub evaluation_interval: &'static str,
    pub external_labels: BTreeMap<&'static str, String>,
    /// The Service of the Alertmanager pods (`alertmanager-operated`, made by the operator
    /// for the tree's Alertmanager).
    pub alertmanager_service: &'static str,
    pub alertmanager_port: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceMonitor {
    /// Object name, and the file name under `prometheus/monitors/`.
    pub name: String,
    /// Where the scraped Services live.
    pub target_namespace: String,
    pub match_labels: BTreeMap<&'static str, String>,
    /// `app In [...]` style selection, when one label value is not enough.
    pub match_expressions: Vec<MatchExpression>,
    pub port: String,
    pub path: String,
    pub interval: &'static str,
    pub honor_labels: bool,
    /// Keep only series whose name matches (for exporters that export far more than used).
    pub keep_metrics: Option<&'static str>,
    /// Keep only series whose `namespace` label matches.
    pub keep_namespaces: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct MatchExpression {
    pub key: &'static str,
    pub operator: &'static str,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PodMonitor {
    pub name: &'static str,
    pub target_namespace: String,
    pub match_labels: BTreeMap<&'static str, String>,
    /// `app In [...]` style selection, when one label value is not enough.
    pub match_expressions: Vec<MatchExpression>,
    pub port: &'static str,
    pub path: &'static str,
    pub interval: &'static str,
}

/// The key of the label by which the Prometheus selects the system's monitoring objects;
/// its value is the system's prefix (`portal` for the built-in system).
pub const SELECTOR_LABEL: &str = "portal.dev/monitoring";

/// The observability of a resolved model.
pub fn resolve(m: &Model) -> Observability {
    let prefix = m.names.prefix;
    let mut labels: BTreeMap<String, String> = m
        .labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    labels.insert(SELECTOR_LABEL.to_owned(), prefix.to_owned());
    let selector = BTreeMap::from([(SELECTOR_LABEL, prefix)]);

    let mut scrape_namespaces = vec![
        m.namespaces.system.to_owned(),
        MONITORING_NAMESPACE.to_owned(),
    ];
    if m.backups.velero.is_some() {
        scrape_namespaces.push(VELERO_NAMESPACE.to_owned());
    }

    Observability {
        labels,
        selector,
        prometheus: prometheus(m),
        scrape_namespaces,
        service_monitors: service_monitors(m),
        pod_monitors: pod_monitors(m),
        rules: Rules {
            name: prefix,
            groups: rules::groups(m),
        },
        alertmanager: alertmanager(m),
        routing: routing::resolve(m),
    }
}

/// The Prometheus server: its size by monitoring level, its retention (the SLO window),
/// intervals and external labels.
fn prometheus(m: &Model) -> Prometheus {
    let prefix = m.names.prefix;
    let (replicas, storage, retention_size, requests, limits) = match m.monitoring.level {
        MonitoringLevel::Basic => (1, "20Gi", "18GiB", ("500m", "1Gi"), ("1", "2Gi")),
        MonitoringLevel::Full => (2, "100Gi", "90GiB", ("1", "2Gi"), ("2", "4Gi")),
        MonitoringLevel::Enterprise => (2, "500Gi", "450GiB", ("2", "4Gi"), ("4", "8Gi")),
    };
    Prometheus {
        name: prefix,
        namespace: MONITORING_NAMESPACE,
        service_account: intern(format!("{prefix}-prometheus")),
        replicas,
        retention: SLO_WINDOW,
        retention_size,
        storage,
        enable_features: vec!["exemplar-storage"],
        requests,
        limits,
        scrape_interval: "30s",
        evaluation_interval: "30s",
        external_labels: BTreeMap::from([
            ("environment", m.env.name.clone()),
            ("region", m.env.region.clone()),
        ]),
        alertmanager_service: ALERTMANAGER_SERVICE,
        alertmanager_port: ALERTMANAGER_PORT,
    }
}

/// The Service prometheus-operator creates for the Alertmanagers of a namespace (unless an
/// Alertmanager names its own `serviceName`), and the name of its web port.
pub const ALERTMANAGER_SERVICE: &str = "alertmanager-operated";
pub const ALERTMANAGER_PORT: &str = "web";

/// The Alertmanager: replicas by monitoring level (each more replica survives one more
/// pod down; an HA pair is enough for staging, prod gets three like its zones).
fn alertmanager(m: &Model) -> Alertmanager {
    let (replicas, requests, limits) = match m.monitoring.level {
        MonitoringLevel::Basic => (1, ("50m", "64Mi"), ("200m", "128Mi")),
        MonitoringLevel::Full => (2, ("100m", "128Mi"), ("500m", "256Mi")),
        MonitoringLevel::Enterprise => (3, ("100m", "256Mi"), ("500m", "512Mi")),
    };
    Alertmanager {
        name: m.names.prefix,
        namespace: MONITORING_NAMESPACE,
        replicas,
        retention: "120h",
        storage: "1Gi",
        requests,
        limits,
        matcher_strategy: "OnNamespaceExceptForAlertmanagerNamespace",
        service: ALERTMANAGER_SERVICE,
        port_name: ALERTMANAGER_PORT,
    }
}

/// The ServiceMonitors: one per service that exports metrics, named after it, then Redis,
/// kube-state-metrics and, with backups, Velero.
fn service_monitors(m: &Model) -> Vec<ServiceMonitor> {
    let system = m.namespaces.system;
    let mut service_monitors: Vec<ServiceMonitor> = m
        .services
        .iter()
        .filter_map(|s| {
            let metrics = s.metrics.as_ref()?;
            Some(ServiceMonitor {
                name: s.name.clone(),
                target_namespace: system.to_owned(),
                match_labels: BTreeMap::from([("app.kubernetes.io/name", s.name.clone())]),
                port: metrics.port_name.clone(),
                path: metrics.path.clone(),
                interval: "30s",
                ..ServiceMonitor::default()
            })
        })
        .collect();
    service_monitors.push(kube_state_metrics_monitor(m));
    if m.backups.velero.is_some() {
        service_monitors.push(ServiceMonitor {
            name: "velero".into(),
            target_namespace: VELERO_NAMESPACE.to_owned(),
            match_labels: BTreeMap::from([("app.kubernetes.io/name", "velero".to_owned())]),
            port: "http-monitoring".into(),
            path: "/metrics".into(),
            interval: "60s",
            keep_metrics: Some("velero_backup_.+"),
            ..ServiceMonitor::default()
        });
    }
    service_monitors
}

/// kube-state-metrics' ServiceMonitor, keeping only the series the rules and dashboards
/// read, of the system's namespaces.
fn kube_state_metrics_monitor(m: &Model) -> ServiceMonitor {
    ServiceMonitor {
        name: "kube-state-metrics".into(),
        target_namespace: MONITORING_NAMESPACE.to_owned(),
        match_labels: BTreeMap::from([("app.kubernetes.io/name", "kube-state-metrics".to_owned())]),
        port: "http".into(),
        path: "/metrics".into(),
        interval: "30s",
        honor_labels: true,
        keep_metrics: Some(
            "kube_pod_container_status_.+|kube_pod_status_.+|kube_deployment_.+|kube_horizontalpodautoscaler_.+",
        ),
        // The system's namespaces (`<prefix>-system`, `<prefix>-tenant-…`).
        keep_namespaces: Some(format!("{}-.+", m.names.prefix)),
        ..ServiceMonitor::default()
    }
}

/// Our own PodMonitor for CloudNativePG (the operator's `enablePodMonitor` is deprecated
/// upstream, and its PodMonitor does not carry our selector label, so this Prometheus
/// does not select it), and Redis' exporter sidecars by their pods: the operator gives each
/// kind of node several Services over the same pods (main, headless, additional), so a
/// ServiceMonitor would scrape every node more than once and double every series.
fn pod_monitors(m: &Model) -> Vec<PodMonitor> {
    let system = m.namespaces.system;
    vec![
        PodMonitor {
            name: m.database.name,
            target_namespace: system.to_owned(),
            match_labels: BTreeMap::from([
                ("cnpg.io/cluster", m.database.name.to_owned()),
                ("cnpg.io/podRole", "instance".to_owned()),
            ]),
            port: "metrics",
            path: "/metrics",
            interval: "30s",
            ..PodMonitor::default()
        },
        PodMonitor {
            name: m.redis.name,
            target_namespace: system.to_owned(),
            match_expressions: vec![MatchExpression {
                key: "app",
                operator: "In",
                values: m.redis.nodes.clone(),
            }],
            port: "redis-exporter",
            path: "/metrics",
            interval: "30s",
            ..PodMonitor::default()
        },
    ]
}
