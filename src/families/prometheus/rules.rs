//! Recording rules for the SLIs and alerts for the SLOs (DESIGN §4), by monitoring level
//! (see the tiers in `families::prometheus::model`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::slo::*;
use crate::model::{Model, MonitoringLevel};

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

/// Every rule group of a resolved model.
/// Every rule group of a resolved model: the SLIs, the operational alerts, and (from the
/// "full" level) the SLO alerts.
pub fn groups(m: &Model) -> Vec<RuleGroup> {
    let mut groups = sli_groups(m);
    groups.push(operational(m));
    if m.monitoring.level >= MonitoringLevel::Full {
        groups.push(slo_alerts(m));
    }
    groups
}

/// The SLI recording rules (and, from "full", the 30-day error budget's).
fn sli_groups(m: &Model) -> Vec<RuleGroup> {
    let level = m.monitoring.level;
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
    groups
}

/// Alerts on the app, its data stores, scaling and backups. (Over 120 lines: a list of
/// alert literals, each read on its own; splitting it would only scatter them.)
fn operational(m: &Model) -> RuleGroup {
    let level = m.monitoring.level;
    let sys = m.namespaces.system;
    let pct = |v: f64| format!("{}%", num(v * 100.0));
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
    let app = &m.services[0];
    if let Some(a) = app
        .autoscaling
        .as_ref()
        .filter(|a| a.min_replicas < a.max_replicas)
    {
        let hpa = format!(
            "namespace=\"{sys}\",horizontalpodautoscaler=\"{}\"",
            app.name
        );
        ops.push(alert(m, AlertSpec {
            name: "PortalHPAMaxedOut",
            expr: format!("kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} >= kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}"),
            for_: "30m",
            severity: Severity::Warning,
            component: "capacity",
            summary: "portal-app has run at its maximum replica count for 30 minutes".to_owned(),
            description: format!("The HorizontalPodAutoscaler of {} has been at maxReplicas ({}) for 30 minutes: raise the maximum or find the load.", app.name, a.max_replicas),
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
    RuleGroup {
        name: "portal-operational.alerts",
        interval: "30s",
        rules: ops,
    }
}

/// The SLO alerts: the error ratio, p95 latency, and availability (as multi-window,
/// multi-burn-rate alerts on "enterprise").
fn slo_alerts(m: &Model) -> RuleGroup {
    let level = m.monitoring.level;
    let pct = |v: f64| format!("{}%", num(v * 100.0));
    let ms = (SLO_LATENCY_P95_SECONDS * 1000.0).round();
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
    RuleGroup {
        name: "portal-slo.alerts",
        interval: "30s",
        rules: slo,
    }
}
