//! The per-service dashboards: the overview (request rate, p95 latency, error rate, ready
//! pods) and the SLOs with their error budget, one block of rows per service. A system
//! file's services each get a row header named after the service; the built-in system's
//! single app has none (its dashboards are as they were before services).

use super::layout::{green, panel, red_above, red_below, target, with_exemplars, Layout};
use super::model::{Panel, Step};
use crate::families::prometheus::slo::{self, *};
use crate::model::{Model, MonitoringLevel};

/// Overview: per service, its request rate, p95 latency, error rate and pods; a service
/// without metrics shows its pods only.
pub fn overview(m: &Model) -> Layout {
    let mut o = Layout::new();
    for s in slo::services(m) {
        if s.label.is_some() {
            o.header(&s.service.name);
        }
        if s.measured() {
            service_overview(&mut o, m, &s);
        } else {
            o.row(8, vec![(6, ready_pods(m, &s)), (18, pods(m, &s))]);
        }
    }
    tracing(&mut o, m);
    o
}

/// The tracing row: spans in and out of the collector, spans dropped, the exporter queue.
fn tracing(o: &mut Layout, m: &Model) {
    let job = format!(
        "{}/{}",
        crate::model::MONITORING_NAMESPACE,
        m.tracing.collector.service
    );
    let rate = |metric: &str| format!("sum(rate({metric}{{job=\"{job}\"}}[$__rate_interval]))");
    o.header("Tracing");
    o.row(
        8,
        vec![
            (
                8,
                panel(
                    "timeseries",
                    "Spans received and exported",
                    "short",
                    vec![
                        target(rate("otelcol_receiver_accepted_spans_total"), "received/s"),
                        target(rate("otelcol_exporter_sent_spans_total"), "exported/s"),
                    ],
                ),
            ),
            (
                8,
                Panel {
                    description: "Refused by the memory limiter, not queued (queue full), or failed after retries.".to_owned(),
                    min: Some(0.0),
                    ..panel(
                        "timeseries",
                        "Spans dropped",
                        "short",
                        vec![
                            target(rate("otelcol_receiver_refused_spans_total"), "refused/s"),
                            target(rate("otelcol_exporter_enqueue_failed_spans_total"), "not queued/s"),
                            target(rate("otelcol_exporter_send_failed_spans_total"), "send failed/s"),
                        ],
                    )
                },
            ),
            (
                8,
                Panel {
                    thresholds: red_above(crate::families::prometheus::tracing::QUEUE_FULL_RATIO),
                    description: "The exporter queue's fill; alerts above 80%.".to_owned(),
                    min: Some(0.0),
                    max: Some(1.0),
                    ..panel(
                        "timeseries",
                        "Exporter queue",
                        "percentunit",
                        vec![target(
                            format!("max by (exporter) (otelcol_exporter_queue_size{{job=\"{job}\"}} / otelcol_exporter_queue_capacity{{job=\"{job}\"}})"),
                            "{{exporter}}",
                        )],
                    )
                },
            ),
        ],
    );
}

fn ready_pods(m: &Model, s: &ServiceSlo) -> Panel {
    let sys = m.namespaces.system;
    let name = &s.service.name;
    panel("stat", "Ready pods", "short", vec![target(format!("sum(kube_deployment_status_replicas_available{{namespace=\"{sys}\",deployment=\"{name}\"}})"), "ready")])
}

fn pods(m: &Model, s: &ServiceSlo) -> Panel {
    let sys = m.namespaces.system;
    let name = &s.service.name;
    panel("timeseries", "Pods", "short", vec![
        target(format!("sum(kube_deployment_status_replicas_available{{namespace=\"{sys}\",deployment=\"{name}\"}})"), "available"),
        target(format!("sum(kube_deployment_spec_replicas{{namespace=\"{sys}\",deployment=\"{name}\"}})"), "desired"),
    ])
}

/// The overview rows of a service with metrics.
fn service_overview(o: &mut Layout, m: &Model, s: &ServiceSlo) {
    let obj = s.objectives;
    let ms = obj.latency_ms();
    let rate = |sel: &str| format!("rate({sel}[$__rate_interval])");
    let errors = s.requests(",status=~\"5..\"");
    let all = s.requests("");
    let bucket = s.buckets();
    let quantile = |q: &str| format!("histogram_quantile({q}, sum by (le) ({}))", rate(&bucket));
    let ratio = format!("sum({}) / sum({})", rate(&errors), rate(&all));
    o.row(
        4,
        vec![
            (
                6,
                panel(
                    "stat",
                    "Request rate",
                    "reqps",
                    vec![target(format!("sum({})", rate(&all)), "requests/s")],
                ),
            ),
            (
                6,
                Panel {
                    thresholds: red_above(obj.latency_p95_seconds),
                    description: format!("SLO: p95 below {ms} ms."),
                    ..panel(
                        "stat",
                        "p95 latency",
                        "s",
                        vec![target(quantile("0.95"), "p95")],
                    )
                },
            ),
            (
                6,
                Panel {
                    thresholds: red_above(obj.error_rate),
                    description: format!("SLO: below {}.", pct(obj.error_rate)),
                    decimals: Some(3),
                    ..panel(
                        "stat",
                        "5xx error ratio",
                        "percentunit",
                        vec![target(ratio.clone(), "5xx ratio")],
                    )
                },
            ),
            (6, ready_pods(m, s)),
        ],
    );
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
                    thresholds: red_above(obj.latency_p95_seconds),
                    description: format!(
                        "p50, p95 and p99 request latency; SLO: p95 below {ms} ms."
                    ),
                    min: Some(0.0),
                    ..panel(
                        "timeseries",
                        "Latency",
                        "s",
                        vec![
                            with_exemplars(target(quantile("0.5"), "p50")),
                            with_exemplars(target(quantile("0.95"), "p95")),
                            with_exemplars(target(quantile("0.99"), "p99")),
                        ],
                    )
                },
            ),
        ],
    );
    o.row(
        8,
        vec![
            (
                12,
                Panel {
                    thresholds: red_above(obj.error_rate),
                    description: format!(
                        "5xx responses over all responses; SLO: below {}.",
                        pct(obj.error_rate)
                    ),
                    min: Some(0.0),
                    ..panel(
                        "timeseries",
                        "5xx error ratio",
                        "percentunit",
                        vec![target(ratio, "5xx ratio")],
                    )
                },
            ),
            (12, pods(m, s)),
        ],
    );
}

/// SLOs and error budget, per service with metrics (one without has no SLIs).
pub fn slo(m: &Model) -> Layout {
    let mut e = Layout::new();
    for s in slo::services(m).iter().filter(|s| s.measured()) {
        if s.label.is_some() {
            e.header(&s.service.name);
        }
        service_slo(&mut e, m.monitoring.level, s);
    }
    e
}

/// The SLO rows of one service. (Over 120 lines once formatted: panel literals.)
fn service_slo(e: &mut Layout, level: MonitoringLevel, s: &ServiceSlo) {
    let o = s.objectives;
    let ms = o.latency_ms();
    let budget = s.error_ratio_rule(SLO_WINDOW);
    e.row(
        4,
        vec![
            (
                6,
                Panel {
                    thresholds: red_below(o.availability),
                    description: format!(
                        "Non-5xx share of requests over {SLO_WINDOW}; SLO: {}.",
                        pct(o.availability)
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
                        pct(o.budget)
                    ),
                    decimals: Some(1),
                    ..panel(
                        "stat",
                        "Error budget remaining (30d)",
                        "percentunit",
                        vec![target(
                            format!("1 - {budget} / {}", num(o.budget)),
                            "remaining",
                        )],
                    )
                },
            ),
            (
                6,
                Panel {
                    thresholds: red_above(o.latency_p95_seconds),
                    description: format!("SLO: below {ms} ms."),
                    ..panel(
                        "stat",
                        "p95 latency (5m)",
                        "s",
                        vec![target(s.latency_p95_rule(), "p95")],
                    )
                },
            ),
            (
                6,
                Panel {
                    thresholds: red_above(o.error_rate),
                    description: format!("SLO: below {}.", pct(o.error_rate)),
                    decimals: Some(3),
                    ..panel(
                        "stat",
                        "5xx error ratio (1h)",
                        "percentunit",
                        vec![target(s.error_ratio_rule("1h"), "5xx ratio")],
                    )
                },
            ),
        ],
    );
    e.row(8, vec![(24, burn_rate_panel(level, s))]);
    e.row(
        8,
        vec![
            (
                12,
                Panel {
                    thresholds: red_above(o.latency_p95_seconds),
                    description: format!("SLO: below {ms} ms."),
                    min: Some(0.0),
                    ..panel(
                        "timeseries",
                        "p95 latency vs SLO",
                        "s",
                        vec![target(s.latency_p95_rule(), "p95")],
                    )
                },
            ),
            (
                12,
                Panel {
                    thresholds: red_above(o.error_rate),
                    description: format!("SLO: below {}.", pct(o.error_rate)),
                    min: Some(0.0),
                    ..panel(
                        "timeseries",
                        "5xx error ratio vs SLO",
                        "percentunit",
                        vec![target(s.error_ratio_rule("5m"), "5xx ratio")],
                    )
                },
            ),
        ],
    );
}

/// Burn rate over the windows this tier records: 1 spends the budget exactly in 30 days.
fn burn_rate_panel(level: MonitoringLevel, s: &ServiceSlo) -> Panel {
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
                format!("{} / {}", s.error_ratio_rule(w), num(s.objectives.budget)),
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
