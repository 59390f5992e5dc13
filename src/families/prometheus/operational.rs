//! The operational alerts (DESIGN §4): every service's down and HPA alerts (named as in
//! `slo`), the crash loops of the system's pods, the data stores, and the backups. Each
//! with its behaviour scenario (`scenario`): the metric it reads, broken and healthy.

use super::rules::{alert, service_alert, AlertSpec, Rule, RuleGroup, Severity};
use super::scenario::{constant, counter, series, Scenario};
use super::slo::{num, pct, ServiceSlo, SystemSlo, PLUGIN_SUCCESS_MIN};
use crate::model::{Model, MonitoringLevel};

/// Above this lag (seconds), a replica lags behind.
const REPLICATION_LAG_MAX: f64 = 30.0;
/// The Velero schedules are daily: 36 hours (in seconds) without a success means one was
/// missed.
const VELERO_BACKUP_MAX_AGE: f64 = 129_600.0;

/// The pods the operational scenarios break: a service's, the database's first and second
/// instances, the first Redis node.
struct Pods {
    app: String,
    app_pod: String,
    db: [String; 2],
    redis: String,
}

impl Pods {
    fn of(m: &Model, services: &[ServiceSlo]) -> Pods {
        let app = services
            .first()
            .map_or("app", |s| s.service.name.as_str())
            .to_owned();
        let db = |n: u32| format!("{}-{n}", m.database.name);
        let redis = if m.redis.kind == "RedisCluster" {
            format!("{}-leader-0", m.redis.name)
        } else {
            format!("{}-0", m.redis.name)
        };
        Pods {
            app_pod: format!("{app}-0"),
            app,
            db: [db(1), db(2)],
            redis,
        }
    }
}

/// Alerts on the services, the data stores, scaling and backups: every service's down
/// alert, the system-wide ones, every service's HPA alert, then the data stores' and the
/// backups'. (Over 120 lines: a list of alert literals with their scenarios, each read on
/// its own; splitting it would only scatter them.)
pub(super) fn group(m: &Model, names: &SystemSlo, services: &[ServiceSlo]) -> RuleGroup {
    let level = m.monitoring.level;
    let sys = m.namespaces.system;
    let mut ops: Vec<Rule> = services.iter().map(|s| down(m, s)).collect();
    let ns = ("namespace", sys);
    let Pods {
        app,
        app_pod,
        db,
        redis,
    } = Pods::of(m, services);
    let (app, db1, db2) = (app.as_str(), db[0].as_str(), db[1].as_str());
    let crash = series(
        "kube_pod_container_status_waiting_reason",
        &[
            ns,
            ("pod", &app_pod),
            ("container", app),
            ("reason", "CrashLoopBackOff"),
        ],
    );
    let cnpg_up = series("cnpg_collector_up", &[ns, ("pod", db1)]);
    let redis_up = series("redis_up", &[ns, ("pod", &redis)]);
    let installs =
        |status: &str| series("portal_plugin_installations_total", &[("status", status)]);
    // A fifth of the installations fail (well under 95 % success), or one in a hundred.
    let failing = 4.0 * (1.0 - PLUGIN_SUCCESS_MIN);
    let failing_healthy = (1.0 - PLUGIN_SUCCESS_MIN) / 5.0;
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
            scenario: Scenario::at(20)
                .breach(crash.clone(), constant(1.0, 20))
                .healthy(crash, constant(0.0, 20))
                .label("namespace", sys).label("pod", &app_pod).label("container", app),
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
            scenario: Scenario::at(10)
                .breach(cnpg_up.clone(), constant(0.0, 10))
                .healthy(cnpg_up, constant(1.0, 10))
                .label("namespace", sys).label("pod", db1),
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
            scenario: Scenario::at(10)
                .breach(redis_up.clone(), constant(0.0, 10))
                .healthy(redis_up, constant(1.0, 10))
                .label("namespace", sys).label("pod", &redis),
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
            scenario: Scenario::at(25)
                .breach(installs("success"), counter(100.0 * (1.0 - failing), 25))
                .breach(installs("failure"), counter(100.0 * failing, 25))
                .healthy(installs("success"), counter(100.0 * (1.0 - failing_healthy), 25))
                .healthy(installs("failure"), counter(100.0 * failing_healthy, 25))
                .value(1.0 - failing),
        }),
    ]);
    // A pinned range (minReplicas == maxReplicas) always runs at its maximum: the alert
    // would fire forever and tell nobody anything, so there is none.
    ops.extend(services.iter().filter_map(|s| hpa_maxed_out(m, s)));
    if m.database.instances > 1 || m.database.replica_source.is_some() {
        let lag = series("cnpg_pg_replication_lag", &[ns, ("pod", db2)]);
        ops.push(alert(m, AlertSpec {
            name: names.alert("PostgresReplicationLag"),
            expr: format!("max by (pod) (cnpg_pg_replication_lag{{namespace=\"{sys}\",pod=~\"{}-[0-9]+\"}}) > {}", m.database.name, num(REPLICATION_LAG_MAX)),
            for_: "5m",
            severity: Severity::Warning,
            component: "database",
            summary: "PostgreSQL replica {{ $labels.pod }} lags behind".to_owned(),
            description: "Replica {{ $labels.pod }} is {{ $value | humanizeDuration }} behind its primary (more than 30s for 5 minutes).".to_owned(),
            extra: vec![],
            // `max by (pod)` keeps only the pod.
            scenario: Scenario::at(10)
                .breach(lag.clone(), constant(2.0 * REPLICATION_LAG_MAX, 10))
                .healthy(lag, constant(1.0, 10))
                .label("pod", db2)
                .value(2.0 * REPLICATION_LAG_MAX),
        }));
    }
    if m.database.backup.is_some() {
        let sel = format!("namespace=\"{sys}\",pod=~\"{}-[0-9]+\"", m.database.name);
        let pod = [ns, ("pod", db1)];
        let failed = series("cnpg_pg_stat_archiver_last_failed_time", &pod);
        let archived = series("cnpg_pg_stat_archiver_last_archived_time", &pod);
        ops.push(alert(m, AlertSpec {
            name: names.alert("PostgresWALArchivingFailing"),
            expr: format!("cnpg_pg_stat_archiver_last_failed_time{{{sel}}} - cnpg_pg_stat_archiver_last_archived_time{{{sel}}} > 1"),
            for_: "5m",
            severity: Severity::Critical,
            component: "backup",
            summary: "WAL archiving fails on {{ $labels.pod }}".to_owned(),
            description: "The last WAL archiving attempt of {{ $labels.pod }} failed after the last success: point-in-time recovery is at risk.".to_owned(),
            extra: vec![],
            // The last attempt failed a minute before the start, the last success was ten
            // minutes before; healthy, the other way round.
            scenario: Scenario::at(10)
                .breach(failed.clone(), constant(-60.0, 10))
                .breach(archived.clone(), constant(-600.0, 10))
                .healthy(failed, constant(-600.0, 10))
                .healthy(archived, constant(-60.0, 10))
                .label("namespace", sys).label("pod", db1),
        }));
    }
    if let Some(v) = &m.backups.velero {
        let schedule = [("schedule", v.name)];
        let failures = series("velero_backup_failure_total", &schedule);
        let last_success = series("velero_backup_last_successful_timestamp", &schedule);
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
                // One backup fails five minutes in.
                scenario: Scenario::at(20)
                    .breach(failures.clone(), "0x4 1x15".to_owned())
                    .healthy(failures, constant(0.0, 20))
                    .label("schedule", v.name),
            },
        ));
        ops.push(alert(m, AlertSpec {
            name: names.alert("VeleroBackupTooOld"),
            expr: format!("time() - velero_backup_last_successful_timestamp{{schedule=\"{}\"}} > {}", v.name, num(VELERO_BACKUP_MAX_AGE)),
            for_: "15m",
            severity: if level == MonitoringLevel::Enterprise { Severity::Critical } else { Severity::Warning },
            component: "backup",
            summary: format!("No successful Velero backup of schedule {} for 36 hours", v.name),
            description: format!("The last successful backup of schedule {} is {{{{ $value | humanizeDuration }}}} old.", v.name),
            extra: vec![],
            // The last success 40 hours before the start (20 minutes before the eval), or 12.
            scenario: Scenario::at(20)
                .breach(last_success.clone(), constant(-144_000.0, 20))
                .healthy(last_success, constant(-43_200.0, 20))
                .label("schedule", v.name)
                .value(144_000.0 + 20.0 * 60.0),
        }));
    }
    ops.extend(super::tracing::alerts(m, names));
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
    let pod = format!("{name}-0");
    let (expr, summary, description, broken) = if s.measured() {
        let what = if s.label.is_none() {
            "the portal"
        } else {
            name
        };
        (
            format!("absent(up{{job=\"{}\"}} == 1)", s.service.job),
            format!("No {name} instance is up"),
            format!("Prometheus has not scraped any healthy {name} pod in {sys} for 5 minutes: {what} is down or unobservable."),
            series("up", &[("job", &s.service.job), ("namespace", sys), ("pod", &pod)]),
        )
    } else {
        (
            format!("absent(kube_deployment_status_replicas_available{{namespace=\"{sys}\",deployment=\"{name}\"}} >= 1)"),
            format!("No {name} replica is available"),
            format!("kube-state-metrics has reported no available replica of Deployment {name} in {sys} for 5 minutes (or is not scraped): {name} is down or unobservable."),
            series("kube_deployment_status_replicas_available", &[("namespace", sys), ("deployment", name)]),
        )
    };
    // Its only pod scraped as down, or no replica of its Deployment available; healthy,
    // up or available. `absent` of a comparison carries no label of the series.
    let scenario = Scenario::at(10)
        .breach(broken.clone(), constant(0.0, 10))
        .healthy(broken, constant(1.0, 10));
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
            scenario,
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
    let labels = [
        ("namespace", sys),
        ("horizontalpodautoscaler", app.name.as_str()),
    ];
    let current = series(
        "kube_horizontalpodautoscaler_status_current_replicas",
        &labels,
    );
    let max = series("kube_horizontalpodautoscaler_spec_max_replicas", &labels);
    let (lo, hi) = (f64::from(a.min_replicas), f64::from(a.max_replicas));
    // At its maximum for 40 minutes, or at its minimum.
    let scenario = Scenario::at(40)
        .breach(current.clone(), constant(hi, 40))
        .breach(max.clone(), constant(hi, 40))
        .healthy(current, constant(lo, 40))
        .healthy(max, constant(hi, 40))
        .label("namespace", sys)
        .label("horizontalpodautoscaler", &app.name);
    Some(service_alert(m, s, AlertSpec {
        name: s.alert("HPAMaxedOut"),
        expr: format!("kube_horizontalpodautoscaler_status_current_replicas{{{hpa}}} >= kube_horizontalpodautoscaler_spec_max_replicas{{{hpa}}}"),
        for_: "30m",
        severity: Severity::Warning,
        component: "capacity",
        summary: format!("{} has run at its maximum replica count for 30 minutes", app.name),
        description: format!("The HorizontalPodAutoscaler of {} has been at maxReplicas ({}) for 30 minutes: raise the maximum or find the load.", app.name, a.max_replicas),
        extra: vec![],
        scenario,
    }))
}
