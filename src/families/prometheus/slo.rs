//! The SLOs (DESIGN §3, or a service's own from the system file, §2a) and the recording
//! rules that measure them: shared by the alerts (`rules`) and the dashboards
//! (`families::grafana`), so both speak of the same series.
//!
//! # Names
//!
//! Every service with `metrics` has its own SLIs, error budget and SLO alerts, named after
//! the service; the names are derived from the system's and the service's names the way
//! the service's alert prefix is (`model::services::alert_prefix`: a service named after
//! its system, or `<system>-…`, keeps one prefix):
//!
//! | | built-in system (`portal`, one service `portal-app`) | system `tasks`, service `api-gateway` |
//! |---|---|---|
//! | recording rules (`level:metric:operations`) | `portal:http_requests:rate5m` | `tasks_api_gateway:http_requests:rate5m` |
//! | rule groups | `portal-sli.rules`, `portal-error-budget.rules`, `portal-slo.alerts` | `tasks-api-gateway-sli.rules`, `tasks-api-gateway-error-budget.rules`, `tasks-api-gateway-slo.alerts` |
//! | down alert | `PortalAppDown` | `TasksApiGatewayDown` |
//! | SLO and capacity alerts | `PortalHighErrorRate`, `PortalHPAMaxedOut`, … | `TasksApiGatewayHighErrorRate`, `TasksApiGatewayHPAMaxedOut`, … |
//! | `service` label on its alerts | none | `service: api-gateway` |
//!
//! What belongs to no service is named after the system ([`SystemSlo`]): the
//! plugin-installation rule (`portal:plugin_installations:…`, `tasks:…`) in the group
//! `<system>-sli.rules`, the group `<system>-operational.alerts` (every service's down and
//! HPA alerts, the pods', the data stores', the backups'), and the system-wide alerts
//! (`PortalPostgresDown`, `TasksPostgresDown`, …).
//!
//! The built-in system's names predate services and are kept as they were: its one
//! service takes the system's names (`portal:…`, `portal-sli.rules`, `Portal…`; its SLI
//! group also holds the plugin rule), and only its down alert names the app. The rendered
//! file's check rejects a name given twice (`promql::check_document`): e.g. a service
//! `postgres` would have the data store's `<System>PostgresDown`.
//!
//! A service without `metrics` has no SLIs: no recording rules, no SLO alerts, no SLO
//! dashboard rows. It still gets its down alert, from kube-state-metrics (no available
//! replica of its Deployment), its HPA alert, and its pods on the overview dashboard.

use crate::model::services::{Service, Slo};
use crate::model::{Model, MonitoringLevel};

/// Below this plugin-installation success ratio, a warning fires (and dashboards turn red).
pub const PLUGIN_SUCCESS_MIN: f64 = 0.95;
/// Below this share of the 30-day error budget left, an info alert fires.
pub const ERROR_BUDGET_LOW: f64 = 0.25;
/// The SLO window.
pub const SLO_WINDOW: &str = "30d";

/// The metric and operations of a service's SLI recording rules, after its level.
pub const SLI_REQUEST_RATE: &str = ":http_requests:rate5m";
pub const SLI_LATENCY_P95: &str = ":http_request_duration_seconds:p95_rate5m";
pub const SLI_ERROR_RATIO: &str = ":http_request_errors:ratio_rate";

/// A service's objectives, rounded to nine decimals (so that `99.9` % prints as 0.999).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objectives {
    pub availability: f64,
    /// The error budget: 1 - availability.
    pub budget: f64,
    pub latency_p95_seconds: f64,
    /// Highest 5xx ratio.
    pub error_rate: f64,
}

impl Objectives {
    pub fn of(slo: &Slo) -> Objectives {
        let r = |v: f64| (v * 1e9).round() / 1e9;
        Objectives {
            availability: r(slo.availability),
            budget: r(1.0 - slo.availability),
            latency_p95_seconds: r(slo.latency_p95_seconds),
            error_rate: r(slo.error_rate),
        }
    }

    /// DESIGN §3's.
    pub fn product() -> Objectives {
        Objectives::of(&Slo::default())
    }

    /// The latency objective in milliseconds, as descriptions write it.
    pub fn latency_ms(&self) -> f64 {
        (self.latency_p95_seconds * 1000.0).round()
    }
}

/// The names of what belongs to the whole system (see the module's table).
#[derive(Debug, Clone)]
pub struct SystemSlo {
    /// Level of its recording rules: `portal`, `tasks`.
    pub level: String,
    /// Prefix of its rule groups: `portal`, `tasks`.
    pub group: String,
    /// Prefix of its alerts: `Portal`, `Tasks`.
    pub alerts: String,
}

impl SystemSlo {
    pub fn of(m: &Model) -> SystemSlo {
        let name = &m.system.name;
        SystemSlo {
            level: name.replace('-', "_"),
            group: name.clone(),
            // A service named after its system takes the system's name alone.
            alerts: crate::model::services::alert_prefix(name, name),
        }
    }

    /// The plugin-installation success ratio (over 30 minutes).
    pub fn plugin_success_rule(&self) -> String {
        format!("{}:plugin_installations:success_ratio_rate30m", self.level)
    }

    /// The rule group of the system's SLIs (the built-in service's SLI group).
    pub fn sli_group(&self) -> String {
        format!("{}-sli.rules", self.group)
    }

    /// The system-wide alert `what`: `PostgresDown` → `PortalPostgresDown`.
    pub fn alert(&self, what: &str) -> String {
        format!("{}{what}", self.alerts)
    }
}

/// One service's names and objectives (see the module's table).
#[derive(Debug, Clone)]
pub struct ServiceSlo<'a> {
    pub service: &'a Service,
    /// Level of its recording rules: `portal`, `tasks_api_gateway`.
    pub level: String,
    /// Prefix of its rule groups: `portal`, `tasks-api-gateway`.
    pub group: String,
    /// Prefix of its SLO and capacity alerts: `Portal`, `TasksApiGateway`.
    pub alerts: String,
    /// Its down alert: `PortalAppDown`, `TasksApiGatewayDown`.
    pub down: String,
    /// ` of api-gateway`, for summaries and descriptions; empty for the built-in.
    pub of: String,
    /// ` to api-gateway`, after "requests"; empty for the built-in.
    pub to: String,
    /// Its `service` label on alerts; none for the built-in.
    pub label: Option<String>,
    pub objectives: Objectives,
}

impl ServiceSlo<'_> {
    /// Whether it exports metrics (and so has SLIs).
    pub fn measured(&self) -> bool {
        self.service.metrics.is_some()
    }

    /// Its SLIs over every pod of its scrape job: what the recording rules record.
    pub fn sli(&self) -> Sli {
        Sli {
            selector: format!("job=\"{}\"", self.service.job),
        }
    }

    /// The series of its workload's available (or desired) replicas, with its labels: from
    /// kube-state-metrics for a Deployment, from the Argo Rollouts controller
    /// (`rollout_info_replicas_…`) for a Rollout.
    pub fn replicas(
        &self,
        namespace: &str,
        desired: bool,
    ) -> (&'static str, Vec<(&'static str, String)>) {
        let name = self.service.name.clone();
        if self.service.rollout.is_rollout() {
            let metric = if desired {
                "rollout_info_replicas_desired"
            } else {
                "rollout_info_replicas_available"
            };
            (
                metric,
                vec![("namespace", namespace.to_owned()), ("name", name)],
            )
        } else {
            let metric = if desired {
                "kube_deployment_spec_replicas"
            } else {
                "kube_deployment_status_replicas_available"
            };
            (
                metric,
                vec![("namespace", namespace.to_owned()), ("deployment", name)],
            )
        }
    }

    /// [`Self::replicas`] as a selector: `metric{namespace="…",deployment="…"}`.
    pub fn replicas_selector(&self, namespace: &str, desired: bool) -> String {
        let (metric, labels) = self.replicas(namespace, desired);
        let matchers: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
        format!("{metric}{{{}}}", matchers.join(","))
    }

    /// Its request counter, selected by its job (and `extra` matchers: `,status=~"5.."`).
    pub fn requests(&self, extra: &str) -> String {
        self.sli().requests(extra)
    }

    /// Its latency histogram's buckets.
    pub fn buckets(&self) -> String {
        self.sli().buckets()
    }

    pub fn request_rate_rule(&self) -> String {
        format!("{}{SLI_REQUEST_RATE}", self.level)
    }

    pub fn latency_p95_rule(&self) -> String {
        format!("{}{SLI_LATENCY_P95}", self.level)
    }

    /// The recording rule of its 5xx ratio over `window`.
    pub fn error_ratio_rule(&self, window: &str) -> String {
        format!("{}{SLI_ERROR_RATIO}{window}", self.level)
    }

    /// The name of its SLO or capacity alert `what`: `HighErrorRate` → `PortalHighErrorRate`.
    pub fn alert(&self, what: &str) -> String {
        format!("{}{what}", self.alerts)
    }
}

/// The SLIs of a service over the series one selector picks: the one definition of its
/// request rate, 5xx ratio and p95 latency. The recording rules select the service's job
/// ([`ServiceSlo::sli`]); a rollout's analysis selects the new version's pods
/// ([`Sli::rollout`]), so a gate and the alert on the same SLO measure the same thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Sli {
    /// Label matchers, without braces: `job="portal-app"`.
    pub selector: String,
}

/// The analysis' arguments (`{{args.…}}`, filled in by Argo Rollouts): the Service whose
/// scrape job is measured, and the new ReplicaSet's pod-template hash (the ServiceMonitor
/// copies the pods' `rollouts-pod-template-hash` label onto their series).
pub const ARG_SERVICE: &str = "service";
pub const ARG_HASH: &str = "canary-hash";
/// The label the hash arrives in.
pub const HASH_LABEL: &str = "rollouts_pod_template_hash";
/// The pods' label Argo Rollouts sets, which the ServiceMonitor copies (`podTargetLabels`).
pub const HASH_POD_LABEL: &str = "rollouts-pod-template-hash";

impl Sli {
    /// The new version's pods of a rollout, by the analysis' arguments.
    pub fn rollout() -> Sli {
        Sli {
            selector: format!(
                "job=\"{{{{args.{ARG_SERVICE}}}}}\",{HASH_LABEL}=\"{{{{args.{ARG_HASH}}}}}\""
            ),
        }
    }

    /// The request counter (and `extra` matchers: `,status=~"5.."`).
    pub fn requests(&self, extra: &str) -> String {
        format!("http_requests_total{{{}{extra}}}", self.selector)
    }

    /// The latency histogram's buckets.
    pub fn buckets(&self) -> String {
        format!("http_request_duration_seconds_bucket{{{}}}", self.selector)
    }

    /// Requests per second over 5 minutes.
    pub fn request_rate(&self) -> String {
        format!("sum(rate({}[5m]))", self.requests(""))
    }

    /// The 5xx ratio over `window`.
    pub fn error_ratio(&self, window: &str) -> String {
        format!(
            "sum(rate({}[{window}])) / sum(rate({}[{window}]))",
            self.requests(",status=~\"5..\""),
            self.requests("")
        )
    }

    /// The p95 latency over `window`.
    pub fn latency_p95(&self, window: &str) -> String {
        format!(
            "histogram_quantile(0.95, sum by (le) (rate({}[{window}])))",
            self.buckets()
        )
    }
}

/// Every service of the model, in the system file's order, with its names.
pub fn services(m: &Model) -> Vec<ServiceSlo<'_>> {
    let system = SystemSlo::of(m);
    m.services
        .iter()
        .map(|s| {
            let objectives = Objectives::of(&s.slo);
            if m.system.builtin {
                return ServiceSlo {
                    service: s,
                    level: system.level.clone(),
                    group: system.group.clone(),
                    alerts: system.alerts.clone(),
                    down: format!("{}Down", s.alert_prefix),
                    of: String::new(),
                    to: String::new(),
                    label: None,
                    objectives,
                };
            }
            let system = &m.system.name;
            let kebab = if s.name == *system || s.name.starts_with(&format!("{system}-")) {
                s.name.clone()
            } else {
                format!("{system}-{}", s.name)
            };
            ServiceSlo {
                service: s,
                level: kebab.replace('-', "_"),
                group: kebab,
                alerts: s.alert_prefix.clone(),
                down: format!("{}Down", s.alert_prefix),
                of: format!(" of {}", s.name),
                to: format!(" to {}", s.name),
                label: Some(s.name.clone()),
                objectives,
            }
        })
        .collect()
}

/// Error-ratio windows the alerts (and dashboards) of a level need; the 30-day window is
/// recorded in its own, slower group.
pub fn error_ratio_windows(level: MonitoringLevel) -> &'static [&'static str] {
    match level {
        MonitoringLevel::Basic => &["5m"],
        MonitoringLevel::Full => &["5m", "1h", "1d"],
        MonitoringLevel::Enterprise => &["5m", "30m", "1h", "2h", "6h", "1d", "3d"],
    }
}

/// Multi-window, multi-burn-rate pairs (SRE workbook ch. 5): (long, short, factor).
pub const FAST_BURN: [(&str, &str, f64); 2] = [("1h", "5m", 14.4), ("6h", "30m", 6.0)];
pub const SLOW_BURN: [(&str, &str, f64); 2] = [("1d", "2h", 3.0), ("3d", "6h", 1.0)];

/// Shortest decimal form of a threshold, as written into PromQL.
pub fn num(v: f64) -> String {
    // Rounded first, so that 0.001 * 100 prints as 0.1.
    let rounded = (v * 1e9).round() / 1e9;
    format!("{rounded}")
}

/// A fraction as a percentage: 0.001 → `0.1%`.
pub fn pct(v: f64) -> String {
    format!("{}%", num(v * 100.0))
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
    fn objectives_print_as_written() {
        let p = Objectives::product();
        assert_eq!(num(p.budget), "0.001");
        assert_eq!(num(p.error_rate), "0.001");
        assert_eq!(pct(p.availability), "99.9%");
        assert_eq!(p.latency_ms(), 500.0);
        assert_eq!(num(14.4), "14.4");
        assert_eq!(num(6.0), "6");
        assert_eq!(pct(p.error_rate), "0.1%");
        // As the system file's percentages arrive: 99.95 / 100.
        let o = Objectives::of(&Slo {
            availability: 99.95 / 100.0,
            latency_p95_seconds: 0.3,
            error_rate: 0.1 / 100.0,
        });
        assert_eq!(o.availability.to_string(), "0.9995");
        assert_eq!(o.budget.to_string(), "0.0005");
        assert_eq!(o.error_rate.to_string(), "0.001");
        assert_eq!(o.latency_ms(), 300.0);
    }
}
