//! The dashboards (DESIGN §4 Grafana): panels, queries, units, thresholds and positions,
//! decided here; `families::grafana` turns them into Grafana's JSON model.

use serde::Serialize;

use super::layout::{panel, red_below, target, Layout};
use super::panels;
use crate::families::prometheus::slo::{num, PLUGIN_SUCCESS_MIN};
use crate::model::names::intern;
use crate::model::{Model, MonitoringLevel, MONITORING_NAMESPACE};

/// The Grafana dashboard schema version rendered (Grafana 12).
pub const GRAFANA_SCHEMA_VERSION: u32 = 41;
/// The name of every dashboard's Prometheus datasource variable.
pub const DATASOURCE_VARIABLE: &str = "datasource";

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
    /// `stat`, `timeseries`, or `row` (a header: title and position only).
    pub kind: &'static str,
    pub title: String,
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
    /// Query the exemplars too: each links to its trace (the Prometheus datasource's
    /// `exemplarTraceIdDestinations`). On the latency panels.
    pub exemplar: bool,
}

/// The Grafana section of a resolved model.
pub fn resolve(m: &Model) -> Grafana {
    Grafana {
        namespace: MONITORING_NAMESPACE,
        folder: "Portal",
        dashboards: if renders_dashboards(m.monitoring.level) {
            dashboards(m)
        } else {
            Vec::new()
        },
    }
}

fn dashboards(m: &Model) -> Vec<Dashboard> {
    let env = &m.env.name;
    let datasource = Variable {
        name: DATASOURCE_VARIABLE,
        label: "Data source",
        kind: "datasource",
        query: "prometheus".to_owned(),
        multi: false,
        include_all: false,
    };
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
            m.names.prefix.to_owned(),
            format!("env:{env}"),
            "portalgen".to_owned(),
        ],
        config_map: format!("grafana-dashboard-{slug}"),
        refresh: "1m",
        time_from: "now-6h",
        variables,
        panels: layout.panels,
    };

    let tenant = Variable {
        name: "tenant",
        label: "Tenant",
        kind: "query",
        query: "label_values(portal_tenant_requests_total, tenant)".to_owned(),
        multi: true,
        include_all: true,
    };
    let (o, s, e) = (panels::overview(m), saas(), panels::slo(m));
    let p = m.names.prefix;
    let named = |suffix: &str| intern(format!("{p}-{suffix}"));
    // `Portal` for the built-in system: the dashboards' titles start with the system's name.
    let system_title = crate::model::names::capitalized_words(p, " ");
    let mut dashboards = vec![
        dashboard(
            named("overview"),
            named("overview"),
            &format!("{system_title} overview"),
            if m.system.builtin {
                "Request rate, latency and errors of the portal app."
            } else {
                "Request rate, latency, errors and pods of each service, a row each."
            },
            vec![datasource.clone()],
            o,
        ),
        dashboard(
            named("saas"),
            named("saas-tenants"),
            &format!("{system_title} SaaS tenants"),
            "Tenant activity and plugin installations.",
            vec![datasource.clone(), tenant],
            s,
        ),
        dashboard(
            named("slo"),
            named("slo-error-budget"),
            &format!("{system_title} SLOs and error budget"),
            if m.system.builtin {
                "Availability, latency and 5xx SLOs, the 30-day error budget and its burn rate."
            } else {
                "Availability, latency and 5xx SLOs, the 30-day error budget and its burn rate of each service with metrics, a row each."
            },
            vec![datasource],
            e,
        ),
    ];
    // No service with metrics: no SLIs, so no SLO dashboard.
    dashboards.retain(|d| !d.panels.is_empty());
    dashboards
}

/// SaaS: active tenants, request rate by tenant, plugin installation success rate.
fn saas() -> Layout {
    let pct = |v: f64| format!("{}%", num(v * 100.0));
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

    s
}

/// Dashboards come with the "full" monitoring level (DESIGN §3): staging and prod.
pub fn renders_dashboards(level: MonitoringLevel) -> bool {
    level >= MonitoringLevel::Full
}
