//! Behaviour scenarios of the alerts: each alert the model builds carries one, written
//! beside it (`rules`, `operational`), saying what a breach and healthy operation look like
//! as promtool input series, when to look, and which labels the fired alert carries.
//! `promtool` turns a rendered rule file and these into `promtool test rules` unit tests:
//! the alert fires with its labels on the breach and stays silent on the healthy input.
//!
//! Scenarios are test data, never rendered (the model's `Rule` skips them when
//! serialized). promtool's clock starts at 0 and samples every minute, so a series
//! written `0+980x60` is a counter rising by 980 a minute for an hour; a timestamp before
//! the start is negative. A window need not be full for a ratio: `rate()` over a window
//! the series covers only in part gives the same ratio, so a breach need only outlast the
//! alert's `for:` plus the few minutes its shortest window needs two samples in (the
//! 30-day error budget is tested in 90 minutes, not 30 days).

use std::collections::BTreeMap;

use super::slo::{num, Objectives, ServiceSlo, ERROR_BUDGET_LOW};

/// One input series: a selector and its values in promtool's expanding notation.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// `metric{label="value",…}`.
    pub series: String,
    /// `0+120x60`, `1x20`, …
    pub values: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scenario {
    /// What a breach feeds in: at `eval_minutes` the alert fires.
    pub breach: Vec<Series>,
    /// What healthy operation feeds in: at `eval_minutes` the alert is silent.
    pub healthy: Vec<Series>,
    /// When both are evaluated, in minutes after their series start: at least the alert's
    /// `for:` after its expression can first be true (the windows it needs filled).
    pub eval_minutes: u32,
    /// Every label of the fired alert but `alertname`: its expression's result's (a pod,
    /// a namespace) and its own (severity, component, service…), which `rules::alert`
    /// adds.
    pub labels: BTreeMap<String, String>,
    /// The alert's value at `eval_minutes` on the breach, for annotations that show it.
    pub value: Option<f64>,
}

impl Scenario {
    /// A scenario evaluated `minutes` after its series start.
    pub fn at(minutes: u32) -> Scenario {
        Scenario {
            eval_minutes: minutes,
            ..Scenario::default()
        }
    }

    pub fn breach(mut self, series: String, values: String) -> Scenario {
        self.breach.push(Series { series, values });
        self
    }

    pub fn healthy(mut self, series: String, values: String) -> Scenario {
        self.healthy.push(Series { series, values });
        self
    }

    /// A label the expression's result carries.
    pub fn label(mut self, key: &str, value: &str) -> Scenario {
        self.labels.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn value(mut self, value: f64) -> Scenario {
        self.value = Some(value);
        self
    }

    /// The eval time as promtool reads it: `60m`.
    pub fn eval_time(&self) -> String {
        format!("{}m", self.eval_minutes)
    }
}

/// A series selector: `metric{k="v",…}`, in the given order.
pub fn series(metric: &str, labels: &[(&str, &str)]) -> String {
    let labels: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{metric}{{{}}}", labels.join(","))
}

/// `value` at every sample for `minutes` (promtool's `vxN`: N + 1 samples, 0 to N).
pub fn constant(value: f64, minutes: u32) -> String {
    format!("{}x{minutes}", num(value))
}

/// A counter from 0 rising by `per_minute` for `minutes`.
pub fn counter(per_minute: f64, minutes: u32) -> String {
    format!("0+{}x{minutes}", num(per_minute))
}

/// Requests a service serves a minute in every scenario.
const REQUESTS_PER_MINUTE: f64 = 1000.0;

/// How long the requests of every 5xx-ratio scenario last: past the longest eval time of
/// one (the error budget's hour, after its first half hour), so that a service's error
/// alerts share one input and promtool evaluates it once.
const ERROR_SCENARIO_MINUTES: u32 = 90;

/// The 5xx ratio of a breach of `threshold`: 2 % (a real incident, 20 times DESIGN §3's
/// 0.1 %, over even the fast burn's 14.4 times the budget), or a quarter over the threshold
/// where a service's own SLO allows more; at most every request.
pub fn breach_ratio(threshold: f64) -> f64 {
    (1.25 * threshold).clamp(0.02, 1.0)
}

/// The 5xx ratio of a healthy service: half its tightest error objective (its 5xx
/// objective, or the 30-day ratio at which its error budget runs low), so that no error
/// alert, from the 5-minute ratio to the slowest burn, fires.
pub fn healthy_ratio(o: &Objectives) -> f64 {
    o.error_rate.min((1.0 - ERROR_BUDGET_LOW) * o.budget) / 2.0
}

/// A service's requests for `minutes`, a `ratio` of them failing with 5xx.
fn requests(s: &ServiceSlo, ratio: f64, minutes: u32) -> Vec<Series> {
    let job = s.service.job.as_str();
    let failed = REQUESTS_PER_MINUTE * ratio;
    [("200", REQUESTS_PER_MINUTE - failed), ("500", failed)]
        .into_iter()
        .map(|(status, per_minute)| Series {
            series: series("http_requests_total", &[("job", job), ("status", status)]),
            values: counter(per_minute, minutes),
        })
        .collect()
}

/// A service's 5xx-ratio alert over `threshold`, evaluated after `minutes`: its requests
/// fail at the breach ratio (the alert's value), or at the healthy ratio.
pub fn error_ratio(s: &ServiceSlo, threshold: f64, minutes: u32) -> Scenario {
    let breach = breach_ratio(threshold);
    let length = minutes.max(ERROR_SCENARIO_MINUTES);
    Scenario {
        breach: requests(s, breach, length),
        healthy: requests(s, healthy_ratio(&s.objectives), length),
        value: Some(breach),
        ..Scenario::at(minutes)
    }
}

/// A service's latency histogram for `minutes`: per bucket (upper bound, requests a
/// minute at or under it).
fn latencies(s: &ServiceSlo, buckets: [(f64, f64); 3], minutes: u32) -> Vec<Series> {
    let job = s.service.job.as_str();
    let total = buckets[2].1;
    buckets
        .iter()
        .map(|(le, n)| (num(*le), *n))
        .chain([("+Inf".to_owned(), total)])
        .map(|(le, per_minute)| Series {
            series: series(
                "http_request_duration_seconds_bucket",
                &[("job", job), ("le", &le)],
            ),
            values: counter(per_minute, minutes),
        })
        .collect()
}

/// A service's p95 latency alert, for its objective T: on the breach a tenth of its
/// requests take between T and 2T (the rest under T/2), so its p95 is 1.5 T; healthy,
/// every request is under T/2.
pub fn latency(s: &ServiceSlo, minutes: u32) -> Scenario {
    let t = s.objectives.latency_p95_seconds;
    let n = REQUESTS_PER_MINUTE;
    let buckets = |slow: f64| [(t / 2.0, n - slow), (t, n - slow), (2.0 * t, n)];
    Scenario {
        breach: latencies(s, buckets(n / 10.0), minutes),
        healthy: latencies(s, buckets(0.0), minutes),
        value: Some(1.5 * t),
        ..Scenario::at(minutes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_breach_exceeds_its_threshold_and_health_stays_under_every_objective() {
        assert_eq!(breach_ratio(0.001), 0.02);
        assert_eq!(breach_ratio(14.4 * 0.001), 0.02);
        assert_eq!(breach_ratio(0.08), 0.1);
        assert_eq!(breach_ratio(0.9), 1.0);
        let o = Objectives::product();
        let healthy = healthy_ratio(&o);
        assert!(healthy < o.error_rate && healthy < (1.0 - ERROR_BUDGET_LOW) * o.budget);
        assert_eq!(
            series("up", &[("job", "a\"b")]),
            "up{job=\"a\\\"b\"}".to_owned()
        );
        assert_eq!(counter(980.0, 60), "0+980x60");
        assert_eq!(constant(-144000.0, 20), "-144000x20");
    }
}
