//! Observability decisions (DESIGN §3 "monitoring", §4 Prometheus and Grafana): what is
//! scraped, which recording rules and alerts exist on which tier, their windows, burn-rate
//! factors and thresholds, how alerts are routed, and the dashboards with their panels.
//!
//! Everything here is data; the `prometheus/` templates only lay it out and
//! `targets::grafana` only turns the dashboards into Grafana's JSON model.
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

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Model, MonitoringLevel, MONITORING_NAMESPACE};

/// The SLOs of DESIGN §3.
pub const SLO_AVAILABILITY: f64 = 0.999;
/// p95 latency objective, in seconds.
pub const SLO_LATENCY_P95_SECONDS: f64 = 0.5;
/// 5xx error ratio objective (and the availability error budget: 1 - 99.9%).
pub const SLO_ERROR_RATIO: f64 = 0.001;
/// Below this plugin-installation success ratio, a warning fires (and dashboards turn red).
pub const PLUGIN_SUCCESS_MIN: f64 = 0.95;
/// Below this share of the 30-day error budget left, an info alert fires.
pub const ERROR_BUDGET_LOW: f64 = 0.25;
/// The SLO window.
pub const SLO_WINDOW: &str = "30d";

/// Recording rule names (`level:metric:operations`).
pub const RULE_REQUEST_RATE: &str = "portal:http_requests:rate5m";
pub const RULE_LATENCY_P95: &str = "portal:http_request_duration_seconds:p95_rate5m";
pub const RULE_PLUGIN_SUCCESS: &str = "portal:plugin_installations:success_ratio_rate30m";
pub const RULE_ERROR_RATIO_PREFIX: &str = "portal:http_request_errors:ratio_rate";

/// The Grafana dashboard schema version rendered (Grafana 12).
pub const GRAFANA_SCHEMA_VERSION: u32 = 41;
/// The name of every dashboard's Prometheus datasource variable.
pub const DATASOURCE_VARIABLE: &str = "datasource";

/// The recording rule of the 5xx ratio over `window`.
pub fn error_ratio_rule(window: &str) -> String {
    format!("{RULE_ERROR_RATIO_PREFIX}{window}")
}

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
    pub alertmanager: AlertRouting,
    pub grafana: Grafana,
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
    pub requests: (&'static str, &'static str),
    pub limits: (&'static str, &'static str),
    pub scrape_interval: &'static str,
    pub evaluation_interval: &'static str,
    pub external_labels: BTreeMap<&'static str, String>,
    /// The Service of the Alertmanager pods (`alertmanager-operated`, made by the operator).
    pub alertmanager_service: &'static str,
    pub alertmanager_port: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ServiceMonitor {
    /// Object name, and the file name under `prometheus/monitors/`.
    pub name: &'static str,
    /// Where the scraped Services live.
    pub target_namespace: String,
    pub match_labels: BTreeMap<&'static str, &'static str>,
    /// `app In [...]` style selection, when one label value is not enough.
    pub match_expressions: Vec<MatchExpression>,
    pub port: &'static str,
    pub path: &'static str,
    pub interval: &'static str,
    pub honor_labels: bool,
    /// Keep only series whose name matches (for exporters that export far more than used).
    pub keep_metrics: Option<&'static str>,
    /// Keep only series whose `namespace` label matches.
    pub keep_namespaces: Option<&'static str>,
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
    pub port: &'static str,
    pub path: &'static str,
    pub interval: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Rules {
    pub name: &'static str,
    pub groups: Vec<RuleGroup>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleGroup {
    pub name: &'static str,
    pub interval: &'static str,
    pub rules: Vec<Rule>,
}

/// A recording rule (`record`) or an alerting rule (`alert`, with `for`, labels and
/// annotations).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rule {
    pub record: Option<String>,
    pub alert: Option<String>,
    pub expr: String,
    #[serde(rename = "for")]
    pub for_: Option<&'static str>,
    pub labels: BTreeMap<&'static str, String>,
    pub annotations: BTreeMap<&'static str, String>,
}

impl Rule {
    /// The rule's name, as diagnostics show it.
    pub fn name(&self) -> &str {
        self.record
            .as_deref()
            .or(self.alert.as_deref())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AlertRouting {
    pub name: &'static str,
    pub namespace: &'static str,
    pub group_by: Vec<&'static str>,
    pub group_wait: &'static str,
    pub group_interval: &'static str,
    pub repeat_interval: &'static str,
    /// Where anything no route matches goes.
    pub default_receiver: &'static str,
    pub routes: Vec<Route>,
    pub slack: Slack,
    pub pagerduty: Option<PagerDuty>,
    /// A receiver without integrations: info alerts stay in the Alertmanager UI and on
    /// dashboards.
    pub null_receiver: &'static str,
    pub inhibit_rules: Vec<Inhibit>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Route {
    pub receiver: &'static str,
    pub severity: &'static str,
    pub group_wait: &'static str,
    pub repeat_interval: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SecretKey {
    pub name: &'static str,
    pub key: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Slack {
    pub receiver: &'static str,
    pub channel: String,
    pub api_url: SecretKey,
    /// Alertmanager (Go) templates.
    pub title: &'static str,
    pub text: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PagerDuty {
    pub receiver: &'static str,
    pub routing_key: SecretKey,
    pub description: &'static str,
    /// The PagerDuty event severity (only critical alerts are routed there).
    pub severity: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Inhibit {
    pub source_severity: &'static str,
    pub target_severity: &'static str,
    /// Labels that must be equal: the same environment and component.
    pub equal: Vec<&'static str>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Grafana {
    pub namespace: &'static str,
    /// The sidecar's folder annotation value.
    pub folder: &'static str,
    pub dashboards: Vec<Dashboard>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Dashboard {
    /// File name stem under `grafana/dashboards/` and the ConfigMap's data key.
    pub slug: &'static str,
    /// Stable across environments (each environment has its own Grafana), at most 40
    /// characters.
    pub uid: &'static str,
    pub title: String,
    pub description: &'static str,
    pub tags: Vec<String>,
    pub config_map: String,
    pub refresh: &'static str,
    pub time_from: &'static str,
    pub variables: Vec<Variable>,
    pub panels: Vec<Panel>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Variable {
    pub name: &'static str,
    pub label: &'static str,
    /// `datasource` or `query`.
    pub kind: &'static str,
    /// For `datasource`: the plugin id; for `query`: the PromQL label query.
    pub query: String,
    pub multi: bool,
    pub include_all: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Panel {
    pub id: u32,
    /// `stat` or `timeseries`.
    pub kind: &'static str,
    pub title: &'static str,
    pub description: String,
    pub unit: &'static str,
    pub decimals: Option<u32>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Ascending steps; the first has no value (the base colour).
    pub thresholds: Vec<Step>,
    pub grid: Grid,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Step {
    pub color: &'static str,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Grid {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Target {
    pub ref_id: String,
    pub expr: String,
    pub legend: &'static str,
}

/// Error-ratio windows the alerts (and dashboards) of a level need; the 30-day window is
/// recorded in its own, slower group.
fn error_ratio_windows(level: MonitoringLevel) -> &'static [&'static str] {
    match level {
        MonitoringLevel::Basic => &["5m"],
        MonitoringLevel::Full => &["5m", "1h", "1d"],
        MonitoringLevel::Enterprise => &["5m", "30m", "1h", "2h", "6h", "1d", "3d"],
    }
}

/// Multi-window, multi-burn-rate pairs (SRE workbook ch. 5): (long, short, factor).
const FAST_BURN: [(&str, &str, f64); 2] = [("1h", "5m", 14.4), ("6h", "30m", 6.0)];
const SLOW_BURN: [(&str, &str, f64); 2] = [("1d", "2h", 3.0), ("3d", "6h", 1.0)];

/// The selector label of the portal's monitoring objects.
pub const SELECTOR_LABEL: (&str, &str) = ("portal.dev/monitoring", "portal");

/// The observability of a resolved model.
pub fn resolve(m: &Model) -> Observability {
    let level = m.monitoring.level;
    let system = m.namespaces.system;
    let mut labels: BTreeMap<String, String> = m
        .labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    labels.insert(SELECTOR_LABEL.0.to_owned(), SELECTOR_LABEL.1.to_owned());
    let selector = BTreeMap::from([SELECTOR_LABEL]);

    let (replicas, storage, retention_size, requests, limits) = match level {
        MonitoringLevel::Basic => (1, "20Gi", "18GiB", ("500m", "1Gi"), ("1", "2Gi")),
        MonitoringLevel::Full => (2, "100Gi", "90GiB", ("1", "2Gi"), ("2", "4Gi")),
        MonitoringLevel::Enterprise => (2, "500Gi", "450GiB", ("2", "4Gi"), ("4", "8Gi")),
    };
    let prometheus = Prometheus {
        name: "portal",
        namespace: MONITORING_NAMESPACE,
        service_account: "portal-prometheus",
        replicas,
        retention: SLO_WINDOW,
        retention_size,
        storage,
        requests,
        limits,
        scrape_interval: "30s",
        evaluation_interval: "30s",
        external_labels: BTreeMap::from([
            ("environment", m.env.name.clone()),
            ("region", m.env.region.clone()),
        ]),
        alertmanager_service: "alertmanager-operated",
        alertmanager_port: "web",
    };

    let velero = m.backups.velero.as_ref();
    let mut scrape_namespaces = vec![system.to_owned(), MONITORING_NAMESPACE.to_owned()];
    let mut service_monitors = vec![
        ServiceMonitor {
            name: m.app.name,
            target_namespace: system.to_owned(),
            match_labels: BTreeMap::from([("app.kubernetes.io/name", m.app.name)]),
            port: "http",
            path: "/metrics",
            interval: "30s",
            ..ServiceMonitor::default()
        },
        ServiceMonitor {
            name: m.redis.name,
            target_namespace: system.to_owned(),
            // The opstree operator labels each Service `app: <name>[-leader|-follower]`
            // and adds the exporter port only to the main (not the headless) Service.
            match_expressions: vec![MatchExpression {
                key: "app",
                operator: "In",
                values: if m.redis.kind == "RedisCluster" {
                    vec![format!("{}-follower", m.redis.name), format!("{}-leader", m.redis.name)]
                } else {
                    vec![m.redis.name.to_owned()]
                },
            }],
            port: "redis-exporter",
            path: "/metrics",
            interval: "30s",
            ..ServiceMonitor::default()
        },
        ServiceMonitor {
            name: "kube-state-metrics",
            target_namespace: MONITORING_NAMESPACE.to_owned(),
            match_labels: BTreeMap::from([("app.kubernetes.io/name", "kube-state-metrics")]),
            port: "http",
            path: "/metrics",
            interval: "30s",
            honor_labels: true,
            keep_metrics: Some(
                "kube_pod_container_status_.+|kube_pod_status_.+|kube_deployment_.+|kube_horizontalpodautoscaler_.+",
            ),
            keep_namespaces: Some("portal-.+"),
            ..ServiceMonitor::default()
        },
    ];
    if velero.is_some() {
        scrape_namespaces.push("velero".to_owned());
        service_monitors.push(ServiceMonitor {
            name: "velero",
            target_namespace: "velero".to_owned(),
            match_labels: BTreeMap::from([("app.kubernetes.io/name", "velero")]),
            port: "http-monitoring",
            path: "/metrics",
            interval: "60s",
            keep_metrics: Some("velero_backup_.+"),
            ..ServiceMonitor::default()
        });
    }
    // Our own PodMonitor for CloudNativePG (the operator's `enablePodMonitor` is deprecated
    // upstream, and its PodMonitor does not carry our selector label, so this Prometheus
    // does not select it).
    let pod_monitors = vec![PodMonitor {
        name: m.database.name,
        target_namespace: system.to_owned(),
        match_labels: BTreeMap::from([
            ("cnpg.io/cluster", m.database.name.to_owned()),
            ("cnpg.io/podRole", "instance".to_owned()),
        ]),
        port: "metrics",
        path: "/metrics",
        interval: "30s",
    }];

    let rules = Rules {
        name: "portal",
        groups: rule_groups(m),
    };

    let slack = Slack {
        receiver: "slack",
        channel: m.alerting.slack_channel.clone(),
        api_url: SecretKey {
            name: "alertmanager-slack",
            key: "webhook-url",
        },
        title: "[{{ .Status | toUpper }}{{ if eq .Status \"firing\" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }})",
        text: "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}",
    };
    // The spec's flag decides on any tier (the shipped specs set it for prod only).
    let pagerduty = m.alerting.pagerduty.then_some(PagerDuty {
        receiver: "pagerduty",
        routing_key: SecretKey {
            name: "alertmanager-pagerduty",
            key: "routing-key",
        },
        description: "{{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }}): {{ .CommonAnnotations.summary }}",
        severity: Severity::Critical.as_str(),
    });
    let critical_receiver = pagerduty.as_ref().map_or(slack.receiver, |p| p.receiver);
    let alertmanager = AlertRouting {
        name: "portal",
        namespace: MONITORING_NAMESPACE,
        group_by: vec!["alertname", "environment", "component"],
        group_wait: "30s",
        group_interval: "5m",
        repeat_interval: "4h",
        default_receiver: slack.receiver,
        routes: vec![
            Route {
                receiver: critical_receiver,
                severity: Severity::Critical.as_str(),
                group_wait: "10s",
                repeat_interval: "1h",
            },
            Route {
                receiver: slack.receiver,
                severity: Severity::Warning.as_str(),
                group_wait: "30s",
                repeat_interval: "4h",
            },
            Route {
                receiver: "null",
                severity: Severity::Info.as_str(),
                group_wait: "5m",
                repeat_interval: "24h",
            },
        ],
        slack,
        pagerduty,
        null_receiver: "null",
        inhibit_rules: vec![
            Inhibit {
                source_severity: Severity::Critical.as_str(),
                target_severity: Severity::Warning.as_str(),
                equal: vec!["environment", "component"],
            },
            Inhibit {
                source_severity: Severity::Warning.as_str(),
                target_severity: Severity::Info.as_str(),
                equal: vec!["environment", "component"],
            },
        ],
    };

    let grafana = Grafana {
        namespace: MONITORING_NAMESPACE,
        folder: "Portal",
        dashboards: if renders_dashboards(level) {
            dashboards(m)
        } else {
            Vec::new()
        },
    };

    Observability {
        labels,
        selector,
        prometheus,
        scrape_namespaces,
        service_monitors,
        pod_monitors,
        rules,
        alertmanager,
        grafana,
    }
}

/// Shortest decimal form of a threshold, as written into PromQL.
fn num(v: f64) -> String {
    // Rounded first, so that 0.001 * 100 prints as 0.1.
    let rounded = (v * 1e9).round() / 1e9;
    format!("{rounded}")
}

struct AlertSpec {
    name: &'static str,
    expr: String,
    for_: &'static str,
    severity: Severity,
    component: &'static str,
    summary: String,
    description: String,
    extra: Vec<(&'static str, &'static str)>,
}

fn alert(m: &Model, a: AlertSpec) -> Rule {
    let mut labels = BTreeMap::from([
        ("severity", a.severity.as_str().to_owned()),
        ("component", a.component.to_owned()),
    ]);
    for (k, v) in a.extra {
        labels.insert(k, v.to_owned());
    }
    Rule {
        record: None,
        alert: Some(a.name.to_owned()),
        expr: a.expr,
        for_: Some(a.for_),
        labels,
        annotations: BTreeMap::from([
            ("summary", a.summary),
            ("description", a.description),
            ("runbook_url", runbook_url(m, a.name)),
        ]),
    }
}

/// The runbook of an alert: `https://runbooks.<domain>/portal/<AlertName>`.
pub fn runbook_url(m: &Model, alert: &str) -> String {
    format!("https://runbooks.{}/portal/{alert}", m.env.domain)
}

fn record(name: impl Into<String>, expr: String) -> Rule {
    Rule {
        record: Some(name.into()),
        expr,
        ..Rule::default()
    }
}

/// The app's request counter selector.
fn requests(extra: &str) -> String {
    format!("http_requests_total{{job=\"portal-app\"{extra}}}")
}

fn rule_groups(m: &Model) -> Vec<RuleGroup> {
    let level = m.monitoring.level;
    let sys = m.namespaces.system;
    let pct = |v: f64| format!("{}%", num(v * 100.0));
    let ms = (SLO_LATENCY_P95_SECONDS * 1000.0).round();

    // SLIs.
    let mut sli = vec![record(
        RULE_REQUEST_RATE,
        format!("sum(rate({}[5m]))", requests("")),
    )];
    for w in error_ratio_windows(level) {
        sli.push(record(
            error_ratio_rule(w),
            format!(
                "sum(rate({}[{w}])) / sum(rate({}[{w}]))",
                requests(",status=~\"5..\""),
                requests("")
            ),
        ));
    }
    sli.push(record(
        RULE_LATENCY_P95,
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job=\"portal-app\"}[5m])))".to_owned(),
    ));
    sli.push(record(
        RULE_PLUGIN_SUCCESS,
        "sum(rate(portal_plugin_installations_total{status=\"success\"}[30m])) / sum(rate(portal_plugin_installations_total[30m]))".to_owned(),
    ));
    let mut groups = vec![RuleGroup {
        name: "portal-sli.rules",
        interval: "30s",
        rules: sli,
    }];
    if level >= MonitoringLevel::Full {
        groups.push(RuleGroup {
            name: "portal-error-budget.rules",
            // A 30-day rate is expensive; once every five minutes is plenty for a budget.
            interval: "5m",
            rules: vec![record(
                error_ratio_rule(SLO_WINDOW),
                format!(
                    "sum(rate({}[{SLO_WINDOW}])) / sum(rate({}[{SLO_WINDOW}]))",
                    requests(",status=~\"5..\""),
                    requests("")
                ),
            )],
        });
    }

    // Operational alerts.
    let mut ops = vec![
        alert(m, AlertSpec {
            name: "PortalAppDown",
            expr: "absent(up{job=\"portal-app\"} == 1)".to_owned(),
            for_: "5m",
            severity: Severity::Critical,
            component: "app",
            summary: "No portal-app instance is up".to_owned(),
            description: format!("Prometheus has not scraped any healthy portal-app pod in {sys} for 5 minutes: the portal is down or unobservable."),
            extra: vec![],
        }),
        alert(m, AlertSpec {
            name: "PortalPodCrashLooping",
            expr: format!("max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{{namespace=\"{sys}\",reason=\"CrashLoopBackOff\"}}[5m])) >= 1"),
            for_: "15m",
            severity: Severity::Warning,
            component: "app",
            summary: "Container {{ $labels.container }} of pod {{ $labels.pod }} is crash-looping".to_owned(),
            description: "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} has been in CrashLoopBackOff for 15 minutes.".to_owned(),
            extra: vec![],
        }),
        alert(m, AlertSpec {
            name: "PortalPostgresDown",
            expr: format!("cnpg_collector_up{{namespace=\"{sys}\",pod=~\"{}-[0-9]+\"}} == 0", m.database.name),
            for_: "5m",
            severity: Severity::Critical,
            component: "database",
            summary: "PostgreSQL instance {{ $labels.pod }} is down".to_owned(),
            description: format!("The CloudNativePG exporter of {{{{ $labels.pod }}}} (cluster {}) reports PostgreSQL as down for 5 minutes.", m.database.name),
            extra: vec![],
        }),
        alert(m, AlertSpec {
            name: "PortalRedisDown",
            expr: format!("redis_up{{namespace=\"{sys}\"}} == 0"),
            for_: "5m",
            severity: Severity::Critical,
            component: "cache",
            summary: "Redis {{ $labels.pod }} is down".to_owned(),
            description: format!("The Redis exporter of {{{{ $labels.pod }}}} ({}) cannot reach its server for 5 minutes.", m.redis.name),
            extra: vec![],
        }),
        alert(m, AlertSpec {
            name: "PortalPluginInstallSuccessLow",
            expr: format!("{RULE_PLUGIN_SUCCESS} < {} and sum(rate(portal_plugin_installations_total[30m])) > 0", num(PLUGIN_SUCCESS_MIN)),
            for_: "15m",
            severity: Severity::Warning,
            component: "plugins",
            summary: "Plugin installations are failing".to_owned(),
            description: format!("Only {{{{ $value | humanizePercentage }}}} of plugin installations succeeded over the last 30 minutes (expected at least {}).", pct(PLUGIN_SUCCESS_MIN)),
            extra: vec![],
        }),
    ];
    // A pinned range (minReplicas == maxReplicas) always runs at its maximum: the alert
    // would fire forever and tell nobody anything, so there is none.
    if let Some(a) = m
        .app
        .autoscaling
        .as_ref()
        .filter(|a| a.min_replicas < a.max_replicas)
    {
        let hpa = format!(
            "namespace=\"{sys}\",horizontalpodautoscaler=\"{}\"",
            m.app.name
        );
        ops.push(alert(m, AlertSpec {
            name: "PortalHPAMaxedOut",
            expr: format!("kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} >= kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}"),
            for_: "30m",
            severity: Severity::Warning,
            component: "capacity",
            summary: "portal-app has run at its maximum replica count for 30 minutes".to_owned(),
            description: format!("The HorizontalPodAutoscaler of {} has been at maxReplicas ({}) for 30 minutes: raise the maximum or find the load.", m.app.name, a.max_replicas),
            extra: vec![],
        }));
    }
    if m.database.instances > 1 || m.database.replica_source.is_some() {
        ops.push(alert(m, AlertSpec {
            name: "PortalPostgresReplicationLag",
            expr: format!("max by (pod) (cnpg_pg_replication_lag{{namespace=\"{sys}\",pod=~\"{}-[0-9]+\"}}) > 30", m.database.name),
            for_: "5m",
            severity: Severity::Warning,
            component: "database",
            summary: "PostgreSQL replica {{ $labels.pod }} lags behind".to_owned(),
            description: "Replica {{ $labels.pod }} is {{ $value | humanizeDuration }} behind its primary (more than 30s for 5 minutes).".to_owned(),
            extra: vec![],
        }));
    }
    if m.database.backup.is_some() {
        let sel = format!("namespace=\"{sys}\",pod=~\"{}-[0-9]+\"", m.database.name);
        ops.push(alert(m, AlertSpec {
            name: "PortalPostgresWALArchivingFailing",
            expr: format!("cnpg_pg_stat_archiver_last_failed_time{{{sel}}} - cnpg_pg_stat_archiver_last_archived_time{{{sel}}} > 1"),
            for_: "5m",
            severity: Severity::Critical,
            component: "backup",
            summary: "WAL archiving fails on {{ $labels.pod }}".to_owned(),
            description: "The last WAL archiving attempt of {{ $labels.pod }} failed after the last success: point-in-time recovery is at risk.".to_owned(),
            extra: vec![],
        }));
    }
    if let Some(v) = &m.backups.velero {
        ops.push(alert(
            m,
            AlertSpec {
                name: "PortalVeleroBackupFailed",
                expr: format!(
                    "increase(velero_backup_failure_total{{schedule=\"{}\"}}[1h]) > 0",
                    v.name
                ),
                for_: "5m",
                severity: Severity::Warning,
                component: "backup",
                summary: format!("A Velero backup of schedule {} failed", v.name),
                description: format!(
                    "Velero reported a failed backup of schedule {} in the last hour.",
                    v.name
                ),
                extra: vec![],
            },
        ));
        ops.push(alert(m, AlertSpec {
            name: "PortalVeleroBackupTooOld",
            // The schedule is daily: 36 hours without a success means one was missed.
            expr: format!("time() - velero_backup_last_successful_timestamp{{schedule=\"{}\"}} > 129600", v.name),
            for_: "15m",
            severity: if level == MonitoringLevel::Enterprise { Severity::Critical } else { Severity::Warning },
            component: "backup",
            summary: format!("No successful Velero backup of schedule {} for 36 hours", v.name),
            description: format!("The last successful backup of schedule {} is {{{{ $value | humanizeDuration }}}} old.", v.name),
            extra: vec![],
        }));
    }
    groups.push(RuleGroup {
        name: "portal-operational.alerts",
        interval: "30s",
        rules: ops,
    });

    // SLO alerts.
    if level >= MonitoringLevel::Full {
        let mut slo = vec![
            alert(m, AlertSpec {
                name: "PortalHighErrorRate",
                expr: format!("{} > {}", error_ratio_rule("5m"), num(SLO_ERROR_RATIO)),
                for_: "10m",
                severity: Severity::Warning,
                component: "availability",
                summary: "The 5xx error ratio is above its SLO".to_owned(),
                description: format!("{{{{ $value | humanizePercentage }}}} of requests failed with 5xx over 5 minutes (SLO: below {}).", pct(SLO_ERROR_RATIO)),
                extra: vec![("slo", "errors")],
            }),
            alert(m, AlertSpec {
                name: "PortalHighLatency",
                expr: format!("{RULE_LATENCY_P95} > {}", num(SLO_LATENCY_P95_SECONDS)),
                for_: "10m",
                severity: Severity::Warning,
                component: "latency",
                summary: "p95 latency is above its SLO".to_owned(),
                description: format!("The p95 request latency is {{{{ $value | humanizeDuration }}}} over 5 minutes (SLO: below {ms} ms)."),
                extra: vec![("slo", "latency")],
            }),
            alert(m, AlertSpec {
                name: "PortalErrorBudgetLow",
                expr: format!("{} > {} * {}", error_ratio_rule(SLO_WINDOW), num(1.0 - ERROR_BUDGET_LOW), num(SLO_ERROR_RATIO)),
                for_: "1h",
                severity: Severity::Info,
                component: "availability",
                summary: format!("Less than {} of the {SLO_WINDOW} error budget is left", pct(ERROR_BUDGET_LOW)),
                description: format!("The {SLO_WINDOW} 5xx ratio is {{{{ $value | humanizePercentage }}}} against a budget of {}: slow down risky changes.", pct(SLO_ERROR_RATIO)),
                extra: vec![("slo", "availability")],
            }),
        ];
        if level == MonitoringLevel::Enterprise {
            let burn = |pairs: &[(&str, &str, f64)]| {
                pairs
                    .iter()
                    .map(|(long, short, factor)| {
                        let t = format!("({} * {})", num(*factor), num(SLO_ERROR_RATIO));
                        format!(
                            "({} > {t} and {} > {t})",
                            error_ratio_rule(long),
                            error_ratio_rule(short)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" or ")
            };
            slo.push(alert(m, AlertSpec {
                name: "PortalErrorBudgetFastBurn",
                expr: burn(&FAST_BURN),
                for_: "2m",
                severity: Severity::Critical,
                component: "availability",
                summary: "The availability error budget is burning fast".to_owned(),
                description: format!("At this rate the {SLO_WINDOW} error budget of the {} availability SLO is gone within days (burn rate 14.4 over 1h/5m or 6 over 6h/30m). Page.", pct(SLO_AVAILABILITY)),
                extra: vec![("slo", "availability"), ("action", "page")],
            }));
            slo.push(alert(m, AlertSpec {
                name: "PortalErrorBudgetSlowBurn",
                expr: burn(&SLOW_BURN),
                for_: "15m",
                severity: Severity::Warning,
                component: "availability",
                summary: "The availability error budget is burning slowly".to_owned(),
                description: format!("The {SLO_WINDOW} error budget of the {} availability SLO is being consumed faster than it accrues (burn rate 3 over 1d/2h or 1 over 3d/6h). Open a ticket.", pct(SLO_AVAILABILITY)),
                extra: vec![("slo", "availability"), ("action", "ticket")],
            }));
        } else {
            slo.push(alert(m, AlertSpec {
                name: "PortalAvailabilityBelowSLO",
                expr: format!("{} > {}", error_ratio_rule("1d"), num(SLO_ERROR_RATIO)),
                for_: "15m",
                severity: Severity::Warning,
                component: "availability",
                summary: "Availability over the last day is below its SLO".to_owned(),
                description: format!("{{{{ $value | humanizePercentage }}}} of requests failed over the last day (SLO: {} available).", pct(SLO_AVAILABILITY)),
                extra: vec![("slo", "availability")],
            }));
        }
        groups.push(RuleGroup {
            name: "portal-slo.alerts",
            interval: "30s",
            rules: slo,
        });
    }
    groups
}

/// Panels laid out row by row on Grafana's 24-column grid; ids in reading order.
struct Layout {
    panels: Vec<Panel>,
    y: u32,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            panels: Vec::new(),
            y: 0,
        }
    }

    /// One row of panels of height `h`, each with its width.
    fn row(&mut self, h: u32, panels: Vec<(u32, Panel)>) {
        let mut x = 0;
        for (w, mut p) in panels {
            p.id = self.panels.len() as u32 + 1;
            p.grid = Grid { x, y: self.y, w, h };
            for (i, t) in p.targets.iter_mut().enumerate() {
                t.ref_id = ((b'A' + i as u8) as char).to_string();
            }
            x += w;
            self.panels.push(p);
        }
        debug_assert!(x <= 24);
        self.y += h;
    }
}

fn target(expr: impl Into<String>, legend: &'static str) -> Target {
    Target {
        ref_id: String::new(),
        expr: expr.into(),
        legend,
    }
}

fn green() -> Step {
    Step {
        color: "green",
        value: None,
    }
}

/// Red at and above `v`.
fn red_above(v: f64) -> Vec<Step> {
    vec![
        green(),
        Step {
            color: "red",
            value: Some(v),
        },
    ]
}

/// Red below `v`.
fn red_below(v: f64) -> Vec<Step> {
    vec![
        Step {
            color: "red",
            value: None,
        },
        Step {
            color: "green",
            value: Some(v),
        },
    ]
}

fn panel(
    kind: &'static str,
    title: &'static str,
    unit: &'static str,
    targets: Vec<Target>,
) -> Panel {
    Panel {
        kind,
        title,
        unit,
        targets,
        thresholds: vec![green()],
        ..Panel::default()
    }
}

fn dashboards(m: &Model) -> Vec<Dashboard> {
    let env = &m.env.name;
    let sys = m.namespaces.system;
    let level = m.monitoring.level;
    let datasource = Variable {
        name: DATASOURCE_VARIABLE,
        label: "Data source",
        kind: "datasource",
        query: "prometheus".to_owned(),
        multi: false,
        include_all: false,
    };
    let pct = |v: f64| format!("{}%", num(v * 100.0));
    let ms = (SLO_LATENCY_P95_SECONDS * 1000.0).round();
    let rate = |sel: &str| format!("rate({sel}[$__rate_interval])");
    let errors = requests(",status=~\"5..\"");
    let all = requests("");
    let bucket = "http_request_duration_seconds_bucket{job=\"portal-app\"}";
    let dashboard = |slug: &'static str,
                     uid: &'static str,
                     title: &str,
                     description: &'static str,
                     variables: Vec<Variable>,
                     layout: Layout| Dashboard {
        slug,
        uid,
        title: format!("{title} ({env})"),
        description,
        tags: vec![
            "portal".to_owned(),
            format!("env:{env}"),
            "portalgen".to_owned(),
        ],
        config_map: format!("grafana-dashboard-{slug}"),
        refresh: "1m",
        time_from: "now-6h",
        variables,
        panels: layout.panels,
    };

    // Portal overview: request rate, p95 latency, error rate.
    let mut o = Layout::new();
    o.row(4, vec![
        (6, panel("stat", "Request rate", "reqps", vec![target(format!("sum({})", rate(&all)), "requests/s")])),
        (6, Panel {
            thresholds: red_above(SLO_LATENCY_P95_SECONDS),
            description: format!("SLO: p95 below {ms} ms."),
            ..panel("stat", "p95 latency", "s", vec![target(format!("histogram_quantile(0.95, sum by (le) ({}))", rate(bucket)), "p95")])
        }),
        (6, Panel {
            thresholds: red_above(SLO_ERROR_RATIO),
            description: format!("SLO: below {}.", pct(SLO_ERROR_RATIO)),
            decimals: Some(3),
            ..panel("stat", "5xx error ratio", "percentunit", vec![target(format!("sum({}) / sum({})", rate(&errors), rate(&all)), "5xx ratio")])
        }),
        (6, panel("stat", "Ready pods", "short", vec![target(format!("sum(kube_deployment_status_replicas_available{{namespace=\"{sys}\",deployment=\"{}\"}})", m.app.name), "ready")])),
    ]);
    o.row(
        8,
        vec![
            (
                12,
                panel(
                    "timeseries",
                    "Request rate by status",
                    "reqps",
                    vec![target(
                        format!("sum by (status) ({})", rate(&all)),
                        "{{status}}",
                    )],
                ),
            ),
            (
                12,
                Panel {
                    thresholds: red_above(SLO_LATENCY_P95_SECONDS),
                    description: format!(
                        "p50, p95 and p99 request latency; SLO: p95 below {ms} ms."
                    ),
                    min: Some(0.0),
                    ..panel(
                        "timeseries",
                        "Latency",
                        "s",
                        vec![
                            target(
                                format!("histogram_quantile(0.5, sum by (le) ({}))", rate(bucket)),
                                "p50",
                            ),
                            target(
                                format!("histogram_quantile(0.95, sum by (le) ({}))", rate(bucket)),
                                "p95",
                            ),
                            target(
                                format!("histogram_quantile(0.99, sum by (le) ({}))", rate(bucket)),
                                "p99",
                            ),
                        ],
                    )
                },
            ),
        ],
    );
    o.row(8, vec![
        (12, Panel {
            thresholds: red_above(SLO_ERROR_RATIO),
            description: format!("5xx responses over all responses; SLO: below {}.", pct(SLO_ERROR_RATIO)),
            min: Some(0.0),
            ..panel("timeseries", "5xx error ratio", "percentunit", vec![target(format!("sum({}) / sum({})", rate(&errors), rate(&all)), "5xx ratio")])
        }),
        (12, panel("timeseries", "Pods", "short", vec![
            target(format!("sum(kube_deployment_status_replicas_available{{namespace=\"{sys}\",deployment=\"{}\"}})", m.app.name), "available"),
            target(format!("sum(kube_deployment_spec_replicas{{namespace=\"{sys}\",deployment=\"{}\"}})", m.app.name), "desired"),
        ])),
    ]);

    // SaaS: active tenants, request rate by tenant, plugin installation success rate.
    let tenant = Variable {
        name: "tenant",
        label: "Tenant",
        kind: "query",
        query: "label_values(portal_tenant_requests_total, tenant)".to_owned(),
        multi: true,
        include_all: true,
    };
    let plugin_ratio = |window: &str| {
        format!(
            "sum(rate(portal_plugin_installations_total{{status=\"success\"}}[{window}])) / sum(rate(portal_plugin_installations_total[{window}]))"
        )
    };
    let mut s = Layout::new();
    s.row(4, vec![
        (8, Panel {
            description: "Tenants that served at least one request in the last 5 minutes.".to_owned(),
            ..panel("stat", "Active tenants", "short", vec![target("count(sum by (tenant) (increase(portal_tenant_requests_total[5m])) > 0)", "active")])
        }),
        (8, panel("stat", "Tenant request rate", "reqps", vec![target("sum(rate(portal_tenant_requests_total{tenant=~\"${tenant:regex}\"}[$__rate_interval]))", "requests/s")])),
        (8, Panel {
            thresholds: red_below(PLUGIN_SUCCESS_MIN),
            description: format!("Alerts below {}.", pct(PLUGIN_SUCCESS_MIN)),
            decimals: Some(1),
            ..panel("stat", "Plugin installation success rate", "percentunit", vec![target(plugin_ratio("$__rate_interval"), "success")])
        }),
    ]);
    s.row(9, vec![
        (24, panel("timeseries", "Request rate by tenant (top 10)", "reqps", vec![target(
            "topk(10, sum by (tenant) (rate(portal_tenant_requests_total{tenant=~\"${tenant:regex}\"}[$__rate_interval])))",
            "{{tenant}}",
        )])),
    ]);
    s.row(
        8,
        vec![
            (
                12,
                Panel {
                    thresholds: red_below(PLUGIN_SUCCESS_MIN),
                    min: Some(0.0),
                    max: Some(1.0),
                    ..panel(
                        "timeseries",
                        "Plugin installation success rate",
                        "percentunit",
                        vec![target(plugin_ratio("$__rate_interval"), "success")],
                    )
                },
            ),
            (
                12,
                panel(
                    "timeseries",
                    "Plugin installations by status",
                    "ops",
                    vec![target(
            "sum by (status) (rate(portal_plugin_installations_total[$__rate_interval]))",
            "{{status}}",
        )],
                ),
            ),
        ],
    );
    s.row(8, vec![
        (24, panel("timeseries", "5xx responses by tenant (top 10)", "reqps", vec![target(
            "topk(10, sum by (tenant) (rate(portal_tenant_requests_total{status=~\"5..\",tenant=~\"${tenant:regex}\"}[$__rate_interval])))",
            "{{tenant}}",
        )])),
    ]);

    // SLO and error budget.
    let budget = error_ratio_rule(SLO_WINDOW);
    let mut e = Layout::new();
    e.row(
        4,
        vec![
            (
                6,
                Panel {
                    thresholds: red_below(SLO_AVAILABILITY),
                    description: format!(
                        "Non-5xx share of requests over {SLO_WINDOW}; SLO: {}.",
                        pct(SLO_AVAILABILITY)
                    ),
                    decimals: Some(3),
                    ..panel(
                        "stat",
                        "Availability (30d)",
                        "percentunit",
                        vec![target(format!("1 - {budget}"), "availability")],
                    )
                },
            ),
            (
                6,
                Panel {
                    thresholds: vec![
                        Step {
                            color: "red",
                            value: None,
                        },
                        Step {
                            color: "orange",
                            value: Some(0.0),
                        },
                        Step {
                            color: "green",
                            value: Some(ERROR_BUDGET_LOW),
                        },
                    ],
                    description: format!(
                        "Share of the {SLO_WINDOW} error budget ({}) not yet spent.",
                        pct(SLO_ERROR_RATIO)
                    ),
                    decimals: Some(1),
                    ..panel(
                        "stat",
                        "Error budget remaining (30d)",
                        "percentunit",
                        vec![target(
                            format!("1 - {budget} / {}", num(SLO_ERROR_RATIO)),
                            "remaining",
                        )],
                    )
                },
            ),
            (
                6,
                Panel {
                    thresholds: red_above(SLO_LATENCY_P95_SECONDS),
                    description: format!("SLO: below {ms} ms."),
                    ..panel(
                        "stat",
                        "p95 latency (5m)",
                        "s",
                        vec![target(RULE_LATENCY_P95, "p95")],
                    )
                },
            ),
            (
                6,
                Panel {
                    thresholds: red_above(SLO_ERROR_RATIO),
                    description: format!("SLO: below {}.", pct(SLO_ERROR_RATIO)),
                    decimals: Some(3),
                    ..panel(
                        "stat",
                        "5xx error ratio (1h)",
                        "percentunit",
                        vec![target(error_ratio_rule("1h"), "5xx ratio")],
                    )
                },
            ),
        ],
    );
    // Burn rate over the windows this tier records: 1 spends the budget exactly in 30 days.
    let burn_windows: Vec<&str> = error_ratio_windows(level)
        .iter()
        .copied()
        .filter(|w| *w != "5m")
        .collect();
    let mut burn_steps = red_above(1.0);
    if level == MonitoringLevel::Enterprise {
        burn_steps = vec![
            green(),
            Step {
                color: "yellow",
                value: Some(SLOW_BURN[1].2),
            },
            Step {
                color: "orange",
                value: Some(SLOW_BURN[0].2),
            },
            Step {
                color: "red",
                value: Some(FAST_BURN[0].2),
            },
        ];
    }
    let legends: &[&'static str] = &[
        "burn rate 30m",
        "burn rate 1h",
        "burn rate 2h",
        "burn rate 6h",
        "burn rate 1d",
        "burn rate 3d",
    ];
    let burn_targets = burn_windows
        .iter()
        .map(|w| {
            let legend = legends
                .iter()
                .find(|l| l.ends_with(&format!(" {w}")))
                .copied()
                .unwrap_or("burn rate");
            target(
                format!("{} / {}", error_ratio_rule(w), num(SLO_ERROR_RATIO)),
                legend,
            )
        })
        .collect();
    e.row(8, vec![
        (24, Panel {
            thresholds: burn_steps,
            description: "Error ratio divided by the error budget: at 1 the budget lasts exactly the SLO window.".to_owned(),
            min: Some(0.0),
            ..panel("timeseries", "Error budget burn rate", "short", burn_targets)
        }),
    ]);
    e.row(
        8,
        vec![
            (
                12,
                Panel {
                    thresholds: red_above(SLO_LATENCY_P95_SECONDS),
                    description: format!("SLO: below {ms} ms."),
                    min: Some(0.0),
                    ..panel(
                        "timeseries",
                        "p95 latency vs SLO",
                        "s",
                        vec![target(RULE_LATENCY_P95, "p95")],
                    )
                },
            ),
            (
                12,
                Panel {
                    thresholds: red_above(SLO_ERROR_RATIO),
                    description: format!("SLO: below {}.", pct(SLO_ERROR_RATIO)),
                    min: Some(0.0),
                    ..panel(
                        "timeseries",
                        "5xx error ratio vs SLO",
                        "percentunit",
                        vec![target(error_ratio_rule("5m"), "5xx ratio")],
                    )
                },
            ),
        ],
    );

    vec![
        dashboard(
            "portal-overview",
            "portal-overview",
            "Portal overview",
            "Request rate, latency and errors of the portal app.",
            vec![datasource.clone()],
            o,
        ),
        dashboard(
            "portal-saas",
            "portal-saas-tenants",
            "Portal SaaS tenants",
            "Tenant activity and plugin installations.",
            vec![datasource.clone(), tenant],
            s,
        ),
        dashboard(
            "portal-slo",
            "portal-slo-error-budget",
            "Portal SLOs and error budget",
            "Availability, latency and 5xx SLOs, the 30-day error budget and its burn rate.",
            vec![datasource],
            e,
        ),
    ]
}

/// Dashboards come with the "full" monitoring level (DESIGN §3): staging and prod.
pub fn renders_dashboards(level: MonitoringLevel) -> bool {
    level >= MonitoringLevel::Full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burn_rate_pairs_follow_the_sre_workbook() {
        assert_eq!(
            FAST_BURN.iter().map(|p| p.2).collect::<Vec<_>>(),
            [14.4, 6.0]
        );
        assert_eq!(
            SLOW_BURN.iter().map(|p| p.2).collect::<Vec<_>>(),
            [3.0, 1.0]
        );
        let windows = error_ratio_windows(MonitoringLevel::Enterprise);
        for (long, short, _) in FAST_BURN.iter().chain(&SLOW_BURN) {
            assert!(
                windows.contains(long) && windows.contains(short),
                "{long}/{short} not recorded"
            );
        }
    }

    #[test]
    fn slo_constants_agree() {
        assert!((1.0 - SLO_AVAILABILITY - SLO_ERROR_RATIO).abs() < 1e-12);
        assert_eq!(num(SLO_ERROR_RATIO), "0.001");
        assert_eq!(num(14.4), "14.4");
        assert_eq!(num(6.0), "6");
        assert_eq!(num(SLO_ERROR_RATIO * 100.0), "0.1");
        assert_eq!(num(SLO_AVAILABILITY * 100.0), "99.9");
    }
}
