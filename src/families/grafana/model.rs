//! The dashboards (DESIGN §4 Grafana): panels, queries, units, thresholds and positions,
//! decided here; `families::grafana` turns them into Grafana's JSON model.

use serde::Serialize;

use super::layout::{green, panel, red_above, red_below, target, Layout};
use crate::families::prometheus::slo::*;
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

    let tenant = Variable {
        name: "tenant",
        label: "Tenant",
        kind: "query",
        query: "label_values(portal_tenant_requests_total, tenant)".to_owned(),
        multi: true,
        include_all: true,
    };
    let (o, s, e) = (overview(m), saas(), slo(m));
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

/// Portal overview: request rate, p95 latency, error rate.
fn overview(m: &Model) -> Layout {
    let sys = m.namespaces.system;
    let pct = |v: f64| format!("{}%", num(v * 100.0));
    let ms = (SLO_LATENCY_P95_SECONDS * 1000.0).round();
    let rate = |sel: &str| format!("rate({sel}[$__rate_interval])");
    let errors = requests(",status=~\"5..\"");
    let all = requests("");
    let bucket = "http_request_duration_seconds_bucket{job=\"portal-app\"}";
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
        (6, panel("stat", "Ready pods", "short", vec![target(format!("sum(kube_deployment_status_replicas_available{{namespace=\"{sys}\",deployment=\"{}\"}})", m.services[0].name), "ready")])),
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
            target(format!("sum(kube_deployment_status_replicas_available{{namespace=\"{sys}\",deployment=\"{}\"}})", m.services[0].name), "available"),
            target(format!("sum(kube_deployment_spec_replicas{{namespace=\"{sys}\",deployment=\"{}\"}})", m.services[0].name), "desired"),
        ])),
    ]);

    o
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

/// SLO and error budget.
fn slo(m: &Model) -> Layout {
    let level = m.monitoring.level;
    let pct = |v: f64| format!("{}%", num(v * 100.0));
    let ms = (SLO_LATENCY_P95_SECONDS * 1000.0).round();
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
    e.row(8, vec![(24, burn_rate_panel(level))]);
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

    e
}

/// Burn rate over the windows this tier records: 1 spends the budget exactly in 30 days.
fn burn_rate_panel(level: MonitoringLevel) -> Panel {
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
    Panel {
        thresholds: burn_steps,
        description:
            "Error ratio divided by the error budget: at 1 the budget lasts exactly the SLO window."
                .to_owned(),
        min: Some(0.0),
        ..panel(
            "timeseries",
            "Error budget burn rate",
            "short",
            burn_targets,
        )
    }
}

/// Dashboards come with the "full" monitoring level (DESIGN §3): staging and prod.
pub fn renders_dashboards(level: MonitoringLevel) -> bool {
    level >= MonitoringLevel::Full
}
