//! The SLOs (DESIGN §3) and the recording rules that measure them: shared by the alerts
//! (`rules`) and the dashboards (`families::grafana`), so both speak of the same series.

use crate::model::MonitoringLevel;

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

/// The recording rule of the 5xx ratio over `window`.
pub fn error_ratio_rule(window: &str) -> String {
    format!("{RULE_ERROR_RATIO_PREFIX}{window}")
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

/// The app's request counter selector.
pub fn requests(extra: &str) -> String {
    format!("http_requests_total{{job=\"portal-app\"{extra}}}")
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
