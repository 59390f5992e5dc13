//! The operational alerts (DESIGN §4): every service's down and HPA alerts (named as in
//! `slo`), the crash loops of the system's pods, the data stores, and the backups.

use super::rules::{alert, service_alert, AlertSpec, Rule, RuleGroup, Severity};
use super::slo::{num, pct, ServiceSlo, SystemSlo, PLUGIN_SUCCESS_MIN};
use crate::model::{Model, MonitoringLevel};

/// Alerts on the services, the data stores, scaling and backups: every service's down
/// alert, the system-wide ones, every service's HPA alert, then the data stores' and the
/// backups'. (Over 120 lines: a list of alert literals, each read on its own; splitting it
/// would only scatter them.)
pub(super) fn group(m: &Model, names: &SystemSlo, services: &[ServiceSlo]) -> RuleGroup {
    let level = m.monitoring.level;
    let sys = m.namespaces.system;
    let mut ops: Vec<Rule> = services.iter().map(|s| down(m, s)).collect();
    ops.extend([
        alert(m, AlertSpec {
            name: names.alert("PodCrashLooping"),
            expr: format!("max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{{namespace=\"{sys}\",reason=\"CrashLoopBackOff\"}}[5m])) >= 1"),
            for_: "15m",
            severity: Severity::Warning,
            component: "app",
            summary: "Container {{ $labels.container }} of pod {{ $labels.pod }} is crash-looping".to_owned(),
            description: "Container {{ $labels.container }} of {{ $labels.namespace }}/{{ $labels.pod }} has been in CrashLoopBackOff for 15 minutes.".to_owned(),
            extra: vec![],
        }),
        alert(m, AlertSpec {
            name: names.alert("PostgresDown"),
            expr: format!("cnpg_collector_up{{namespace=\"{sys}\",pod=~\"{}-[0-9]+\"}} == 0", m.database.name),
            for_: "5m",
            severity: Severity::Critical,
            component: "database",
            summary: "PostgreSQL instance {{ $labels.pod }} is down".to_owned(),
            description: format!("The CloudNativePG exporter of {{{{ $labels.pod }}}} (cluster {}) reports PostgreSQL as down for 5 minutes.", m.database.name),
            extra: vec![],
        }),
        alert(m, AlertSpec {
            name: names.alert("RedisDown"),
            expr: format!("redis_up{{namespace=\"{sys}\"}} == 0"),
            for_: "5m",
            severity: Severity::Critical,
            component: "cache",
            summary: "Redis {{ $labels.pod }} is down".to_owned(),
            description: format!("The Redis exporter of {{{{ $labels.pod }}}} ({}) cannot reach its server for 5 minutes.", m.redis.name),
            extra: vec![],
        }),
        alert(m, AlertSpec {
            name: names.alert("PluginInstallSuccessLow"),
            expr: format!("{} < {} and sum(rate(portal_plugin_installations_total[30m])) > 0", names.plugin_success_rule(), num(PLUGIN_SUCCESS_MIN)),
            for_: "15m",
            severity: Severity::Warning,
            component: "plugins",
            summary: "Plugin installations are failing".to_owned(),
            description: format!("Only {{{{ $value | humanizePercentage }}}} of plugin installations succeeded over the last 30 minutes (expected at least {}).", pct(PLUGIN_SUCCESS_MIN)),
            extra: vec![],
        }),
    ]);
    // A pinned range (minReplicas == maxReplicas) always runs at its maximum: the alert
    // would fire forever and tell nobody anything, so there is none.
    ops.extend(services.iter().filter_map(|s| hpa_maxed_out(m, s)));
    if m.database.instances > 1 || m.database.replica_source.is_some() {
        ops.push(alert(m, AlertSpec {
            name: names.alert("PostgresReplicationLag"),
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
            name: names.alert("PostgresWALArchivingFailing"),
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
                name: names.alert("VeleroBackupFailed"),
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
            name: names.alert("VeleroBackupTooOld"),
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
        name: format!("{}-operational.alerts", names.group),
        interval: "30s",
        rules: ops,
    }
}

/// No healthy instance of a service: from its scrapes when it exports metrics, else from
/// kube-state-metrics (no available replica of its Deployment).
fn down(m: &Model, s: &ServiceSlo) -> Rule {
    let sys = m.namespaces.system;
    let name = &s.service.name;
    let (expr, summary, description) = if s.measured() {
        let what = if s.label.is_none() {
            "the portal"
        } else {
            name
        };
        (
            format!("absent(up{{job=\"{}\"}} == 1)", s.service.job),
            format!("No {name} instance is up"),
            format!("Prometheus has not scraped any healthy {name} pod in {sys} for 5 minutes: {what} is down or unobservable."),
        )
    } else {
        (
            format!("absent(kube_deployment_status_replicas_available{{namespace=\"{sys}\",deployment=\"{name}\"}} >= 1)"),
            format!("No {name} replica is available"),
            format!("kube-state-metrics has reported no available replica of Deployment {name} in {sys} for 5 minutes (or is not scraped): {name} is down or unobservable."),
        )
    };
    service_alert(
        m,
        s,
        AlertSpec {
            name: s.down.clone(),
            expr,
            for_: "5m",
            severity: Severity::Critical,
            component: "app",
            summary,
            description,
            extra: vec![],
        },
    )
}

/// A service at its HPA's maximum for 30 minutes. A pinned range (minReplicas ==
/// maxReplicas) always runs at its maximum: the alert would fire forever and tell nobody
/// anything, so there is none.
fn hpa_maxed_out(m: &Model, s: &ServiceSlo) -> Option<Rule> {
    let sys = m.namespaces.system;
    let app = s.service;
    let a = app
        .autoscaling
        .as_ref()
        .filter(|a| a.min_replicas < a.max_replicas)?;
    let hpa = format!(
        "namespace=\"{sys}\",horizontalpodautoscaler=\"{}\"",
        app.name
    );
    Some(service_alert(m, s, AlertSpec {
        name: s.alert("HPAMaxedOut"),
        expr: format!("kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} >= kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}"),
        for_: "30m",
        severity: Severity::Warning,
        component: "capacity",
        summary: format!("{} has run at its maximum replica count for 30 minutes", app.name),
        description: format!("The HorizontalPodAutoscaler of {} has been at maxReplicas ({}) for 30 minutes: raise the maximum or find the load.", app.name, a.max_replicas),
        extra: vec![],
    }))
}
