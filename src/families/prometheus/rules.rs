//! Recording rules for the SLIs and alerts for the SLOs (DESIGN §4), by monitoring level
//! (see the tiers in `families::prometheus::model`), for every service with metrics; the
//! names follow the scheme in `slo`. The operational alerts are in `operational`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::operational;
use super::slo::{self, *};
use crate::model::{Model, MonitoringLevel};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Rules {
    pub name: &'static str,
    pub groups: Vec<RuleGroup>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RuleGroup {
    pub name: String,
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

pub(super) struct AlertSpec {
    pub name: String,
    pub expr: String,
    pub for_: &'static str,
    pub severity: Severity,
    pub component: &'static str,
    pub summary: String,
    pub description: String,
    pub extra: Vec<(&'static str, &'static str)>,
}

pub(super) fn alert(m: &Model, a: AlertSpec) -> Rule {
    let mut labels = BTreeMap::from([
        ("severity", a.severity.as_str().to_owned()),
        ("component", a.component.to_owned()),
    ]);
    for (k, v) in a.extra {
        labels.insert(k, v.to_owned());
    }
    let runbook = runbook_url(m, &a.name);
    Rule {
        record: None,
        alert: Some(a.name),
        expr: a.expr,
        for_: Some(a.for_),
        labels,
        annotations: BTreeMap::from([
            ("summary", a.summary),
            ("description", a.description),
            ("runbook_url", runbook),
        ]),
    }
}

/// An alert about one service: with its `service` label (but the built-in's).
pub(super) fn service_alert(m: &Model, s: &ServiceSlo, a: AlertSpec) -> Rule {
    let mut rule = alert(m, a);
    if let Some(service) = &s.label {
        rule.labels.insert("service", service.clone());
    }
    rule
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

/// Every rule group of a resolved model: each measured service's SLIs, the
/// plugin-installations rule, (from "full") each one's 30-day error budget, the operational
/// alerts, and (from "full") each one's SLO alerts.
pub fn groups(m: &Model) -> Vec<RuleGroup> {
    let services = slo::services(m);
    let measured: Vec<&ServiceSlo> = services.iter().filter(|s| s.measured()).collect();
    let full = m.monitoring.level >= MonitoringLevel::Full;
    let system = SystemSlo::of(m);
    let mut groups: Vec<RuleGroup> = measured.iter().map(|s| sli_group(m, s)).collect();
    let plugin = record(
        system.plugin_success_rule(),
        "sum(rate(portal_plugin_installations_total{status=\"success\"}[30m])) / sum(rate(portal_plugin_installations_total[30m]))".to_owned(),
    );
    // System-wide: it ends the built-in service's SLI group, or is a group of its own.
    match groups.iter_mut().find(|g| g.name == system.sli_group()) {
        Some(g) => g.rules.push(plugin),
        None => groups.push(RuleGroup {
            name: system.sli_group(),
            interval: "30s",
            rules: vec![plugin],
        }),
    }
    if full {
        groups.extend(measured.iter().map(|s| error_budget_group(s)));
    }
    groups.push(operational::group(m, &system, &services));
    if full {
        groups.extend(measured.iter().map(|s| slo_alerts(m, s)));
    }
    groups
}

/// The 5xx ratio of a service over `window`.
fn error_ratio(s: &ServiceSlo, window: &str) -> String {
    format!(
        "sum(rate({}[{window}])) / sum(rate({}[{window}]))",
        s.requests(",status=~\"5..\""),
        s.requests("")
    )
}

/// A service's SLI recording rules: request rate, 5xx ratio over the level's windows, p95.
fn sli_group(m: &Model, s: &ServiceSlo) -> RuleGroup {
    let mut rules = vec![record(
        s.request_rate_rule(),
        format!("sum(rate({}[5m]))", s.requests("")),
    )];
    for w in error_ratio_windows(m.monitoring.level) {
        rules.push(record(s.error_ratio_rule(w), error_ratio(s, w)));
    }
    rules.push(record(
        s.latency_p95_rule(),
        format!(
            "histogram_quantile(0.95, sum by (le) (rate({}[5m])))",
            s.buckets()
        ),
    ));
    RuleGroup {
        name: format!("{}-sli.rules", s.group),
        interval: "30s",
        rules,
    }
}

/// A service's 30-day 5xx ratio: its error budget spent.
fn error_budget_group(s: &ServiceSlo) -> RuleGroup {
    RuleGroup {
        name: format!("{}-error-budget.rules", s.group),
        // A 30-day rate is expensive; once every five minutes is plenty for a budget.
        interval: "5m",
        rules: vec![record(
            s.error_ratio_rule(SLO_WINDOW),
            error_ratio(s, SLO_WINDOW),
        )],
    }
}

/// A service's SLO alerts: the error ratio, p95 latency, and availability (as multi-window,
/// multi-burn-rate alerts on "enterprise"). (Over 120 lines: a list of alert literals.)
fn slo_alerts(m: &Model, s: &ServiceSlo) -> RuleGroup {
    let level = m.monitoring.level;
    let o = s.objectives;
    let ms = o.latency_ms();
    let (of, to) = (&s.of, &s.to);
    let alert = |a: AlertSpec| service_alert(m, s, a);
    let mut slo = vec![
        alert(AlertSpec {
            name: s.alert("HighErrorRate"),
            expr: format!("{} > {}", s.error_ratio_rule("5m"), num(o.error_rate)),
            for_: "10m",
            severity: Severity::Warning,
            component: "availability",
            summary: format!("The 5xx error ratio{of} is above its SLO"),
            description: format!("{{{{ $value | humanizePercentage }}}} of requests{to} failed with 5xx over 5 minutes (SLO: below {}).", pct(o.error_rate)),
            extra: vec![("slo", "errors")],
        }),
        alert(AlertSpec {
            name: s.alert("HighLatency"),
            expr: format!("{} > {}", s.latency_p95_rule(), num(o.latency_p95_seconds)),
            for_: "10m",
            severity: Severity::Warning,
            component: "latency",
            summary: format!("p95 latency{of} is above its SLO"),
            description: format!("The p95 request latency{of} is {{{{ $value | humanizeDuration }}}} over 5 minutes (SLO: below {ms} ms)."),
            extra: vec![("slo", "latency")],
        }),
        alert(AlertSpec {
            name: s.alert("ErrorBudgetLow"),
            expr: format!("{} > {} * {}", s.error_ratio_rule(SLO_WINDOW), num(1.0 - ERROR_BUDGET_LOW), num(o.budget)),
            for_: "1h",
            severity: Severity::Info,
            component: "availability",
            summary: format!("Less than {} of the {SLO_WINDOW} error budget{of} is left", pct(ERROR_BUDGET_LOW)),
            description: format!("The {SLO_WINDOW} 5xx ratio{of} is {{{{ $value | humanizePercentage }}}} against a budget of {}: slow down risky changes.", pct(o.budget)),
            extra: vec![("slo", "availability")],
        }),
    ];
    if level == MonitoringLevel::Enterprise {
        let burn = |pairs: &[(&str, &str, f64)]| {
            pairs
                .iter()
                .map(|(long, short, factor)| {
                    let t = format!("({} * {})", num(*factor), num(o.budget));
                    format!(
                        "({} > {t} and {} > {t})",
                        s.error_ratio_rule(long),
                        s.error_ratio_rule(short)
                    )
                })
                .collect::<Vec<_>>()
                .join(" or ")
        };
        slo.push(alert(AlertSpec {
            name: s.alert("ErrorBudgetFastBurn"),
            expr: burn(&FAST_BURN),
            for_: "2m",
            severity: Severity::Critical,
            component: "availability",
            summary: format!("The availability error budget{of} is burning fast"),
            description: format!("At this rate the {SLO_WINDOW} error budget of the {} availability SLO{of} is gone within days (burn rate 14.4 over 1h/5m or 6 over 6h/30m). Page.", pct(o.availability)),
            extra: vec![("slo", "availability"), ("action", "page")],
        }));
        slo.push(alert(AlertSpec {
            name: s.alert("ErrorBudgetSlowBurn"),
            expr: burn(&SLOW_BURN),
            for_: "15m",
            severity: Severity::Warning,
            component: "availability",
            summary: format!("The availability error budget{of} is burning slowly"),
            description: format!("The {SLO_WINDOW} error budget of the {} availability SLO{of} is being consumed faster than it accrues (burn rate 3 over 1d/2h or 1 over 3d/6h). Open a ticket.", pct(o.availability)),
            extra: vec![("slo", "availability"), ("action", "ticket")],
        }));
    } else {
        slo.push(alert(AlertSpec {
            name: s.alert("AvailabilityBelowSLO"),
            expr: format!("{} > {}", s.error_ratio_rule("1d"), num(o.budget)),
            for_: "15m",
            severity: Severity::Warning,
            component: "availability",
            summary: format!("Availability{of} over the last day is below its SLO"),
            description: format!("{{{{ $value | humanizePercentage }}}} of requests{to} failed over the last day (SLO: {} available).", pct(o.availability)),
            extra: vec![("slo", "availability")],
        }));
    }
    RuleGroup {
        name: format!("{}-slo.alerts", s.group),
        interval: "30s",
        rules: slo,
    }
}
