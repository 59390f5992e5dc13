//! Recording rules for the SLIs and alerts for the SLOs (DESIGN §4), by monitoring level
//! (see the tiers in `families::prometheus::model`), for every service with metrics; the
//! names follow the scheme in `slo`. The operational alerts are in `operational`. Every
//! alert carries its behaviour scenario (`scenario`), written beside it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::operational;
use super::scenario::{self, Scenario};
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
    /// An alert's behaviour scenario (none for a recording rule): test data, not rendered.
    #[serde(skip)]
    pub scenario: Option<Scenario>,
}

impl Rule {
    /// The rule's name, as diagnostics show it.
    pub fn name(&self) -> &str {
        self.record
            .as_deref()
            .or(self.alert.as_deref())
            .unwrap_or_default()
    }

    /// Adds a label to the alert and to the labels its scenario expects it to fire with.
    fn label(&mut self, key: &'static str, value: String) {
        if let Some(s) = &mut self.scenario {
            s.labels.insert(key.to_owned(), value.clone());
        }
        self.labels.insert(key, value);
    }
}

impl Rules {
    /// The behaviour scenario of every alert, by alert name.
    pub fn scenarios(&self) -> BTreeMap<String, Scenario> {
        self.groups
            .iter()
            .flat_map(|g| &g.rules)
            .filter_map(|r| Some((r.alert.clone()?, r.scenario.clone()?)))
            .collect()
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
    /// How it behaves: a breach it fires on, healthy input it is silent on.
    pub scenario: Scenario,
}

pub(super) fn alert(m: &Model, a: AlertSpec) -> Rule {
    let runbook = runbook_url(m, &a.name);
    let mut rule = Rule {
        record: None,
        alert: Some(a.name),
        expr: a.expr,
        for_: Some(a.for_),
        labels: BTreeMap::new(),
        annotations: BTreeMap::from([
            ("summary", a.summary),
            ("description", a.description),
            ("runbook_url", runbook),
        ]),
        scenario: Some(a.scenario),
    };
    rule.label("severity", a.severity.as_str().to_owned());
    rule.label("component", a.component.to_owned());
    for (k, v) in a.extra {
        rule.label(k, v.to_owned());
    }
    rule
}

/// An alert about one service: with its `service` label (but the built-in's).
pub(super) fn service_alert(m: &Model, s: &ServiceSlo, a: AlertSpec) -> Rule {
    let mut rule = alert(m, a);
    if let Some(service) = &s.label {
        rule.label("service", service.clone());
    }
    rule
}

/// The runbook of an alert: `https://runbooks.<domain>/portal/<AlertName>`.
pub fn runbook_url(m: &Model, alert: &str) -> String {
    format!(
        "https://runbooks.{}/{}/{alert}",
        m.env.domain, m.names.prefix
    )
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

/// The 5xx ratio of a service over `window` (the SLI's one definition, `slo::Sli`).
fn error_ratio(s: &ServiceSlo, window: &str) -> String {
    s.sli().error_ratio(window)
}

/// A service's SLI recording rules: request rate, 5xx ratio over the level's windows, p95.
fn sli_group(m: &Model, s: &ServiceSlo) -> RuleGroup {
    let mut rules = vec![record(s.request_rate_rule(), s.sli().request_rate())];
    for w in error_ratio_windows(m.monitoring.level) {
        rules.push(record(s.error_ratio_rule(w), error_ratio(s, w)));
    }
    rules.push(record(s.latency_p95_rule(), s.sli().latency_p95("5m")));
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

/// The highest burn-rate factor of a set of window pairs.
fn highest_factor(pairs: &[(&str, &str, f64)]) -> f64 {
    pairs.iter().map(|p| p.2).fold(0.0, f64::max)
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
            // 5xx at 2 % (a quarter over a looser objective) for an hour.
            scenario: scenario::error_ratio(s, o.error_rate, 60),
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
            // A tenth of the requests slower than the objective for half an hour.
            scenario: scenario::latency(s, 30),
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
            // For an hour and a half: its hour, from the first minutes on (the 30-day
            // ratio of a 90-minute breach is the breach's ratio).
            scenario: scenario::error_ratio(s, (1.0 - ERROR_BUDGET_LOW) * o.budget, 90),
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
            // Over both pairs, for an hour: the 1h/5m pair's long window full.
            scenario: scenario::error_ratio(s, highest_factor(&FAST_BURN) * o.budget, 60),
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
            // Over both pairs, for an hour.
            scenario: scenario::error_ratio(s, highest_factor(&SLOW_BURN) * o.budget, 60),
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
            // For an hour.
            scenario: scenario::error_ratio(s, o.budget, 60),
        }));
    }
    RuleGroup {
        name: format!("{}-slo.alerts", s.group),
        interval: "30s",
        rules: slo,
    }
}
