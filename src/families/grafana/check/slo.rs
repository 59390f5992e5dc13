//! The SLO thresholds of a panel that shows an SLI: services have SLOs of their own
//! (DESIGN §2a), so the panel marks the SLO its description states (`SLO: below 300 ms.`,
//! `SLO: 99.95%.`), or DESIGN §3's when it states none.

use serde_json::Value;

use super::Problems;
use crate::diagnostic::FieldPath;
use crate::families::prometheus::slo::{Objectives, SLI_ERROR_RATIO, SLI_LATENCY_P95};
use crate::validate::At;

/// When panel `p` (of `unit`, querying `exprs`) shows an SLI: a threshold step at its SLO.
pub(super) fn check_threshold(
    p: &Value,
    unit: &str,
    exprs: &[&str],
    path: FieldPath,
    problems: &mut Problems,
) {
    let Some((what, product)) = sli_of(unit, exprs) else {
        return;
    };
    let description = p.get("description").and_then(Value::as_str);
    let slo = description.and_then(stated_slo).unwrap_or(product);
    let steps = p
        .at("/fieldConfig/defaults/thresholds/steps")
        .and_then(Value::as_array);
    let matches = steps
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("value").and_then(Value::as_f64))
        .any(|v| (v - slo).abs() < 1e-12);
    if !matches {
        problems.push(
            path,
            format!("the panel shows the {what} SLI but has no threshold at its SLO ({slo})"),
            None,
        );
    }
}

/// The SLI a panel shows, from its unit and queries, with DESIGN §3's SLO for it.
fn sli_of(unit: &str, exprs: &[&str]) -> Option<(&'static str, f64)> {
    let product = Objectives::product();
    let any = |f: &dyn Fn(&str) -> bool| exprs.iter().any(|e| f(e));
    let error_ratio = |e: &str| {
        e.contains(SLI_ERROR_RATIO) || (e.contains("status=~\"5..\"") && e.contains(") / sum("))
    };
    // Divided by a number: the error budget's share or burn rate, not the ratio itself.
    let budget_scaled = |e: &str| {
        e.rsplit_once(" / ")
            .is_some_and(|(_, d)| d.trim().parse::<f64>().is_ok())
    };
    match unit {
        "s" if any(&|e| {
            e.contains(SLI_LATENCY_P95)
                || (e.contains("http_request_duration_seconds") && e.contains("0.95"))
        }) =>
        {
            Some(("p95 latency", product.latency_p95_seconds))
        }
        "percentunit"
            if any(&|e| {
                error_ratio(e) && !budget_scaled(e) && e.trim_start().starts_with("1 -")
            }) =>
        {
            Some(("availability", product.availability))
        }
        "percentunit" if any(&|e| error_ratio(e) && !budget_scaled(e)) => {
            Some(("5xx error ratio", product.error_rate))
        }
        _ => None,
    }
}

/// The objective a description states after `SLO:`: its first number, with its unit
/// (`500 ms`, `0.1%`, `1 s`), as a fraction or in seconds.
fn stated_slo(description: &str) -> Option<f64> {
    let (_, rest) = description.split_once("SLO:")?;
    let mut words = rest.split_whitespace();
    while let Some(word) = words.next() {
        if !word.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let word = word.trim_end_matches(['.', ',', ';', ')']);
        if let Some(p) = word.strip_suffix('%') {
            return p.parse::<f64>().ok().map(|v| v / 100.0);
        }
        let v = word.parse::<f64>().ok()?;
        let unit = words.next().unwrap_or_default();
        return match unit.trim_end_matches(['.', ',', ';', ')']) {
            "ms" => Some(v / 1000.0),
            "s" => Some(v),
            _ => None,
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stated_slos_are_read_with_their_unit() {
        let close = |s: &str, v: f64| {
            let got = stated_slo(s).unwrap_or_else(|| panic!("{s}: none"));
            assert!((got - v).abs() < 1e-12, "{s}: {got}");
        };
        close("SLO: below 500 ms.", 0.5);
        close("Non-5xx share of requests over 30d; SLO: 99.95%.", 0.9995);
        close("5xx responses over all responses; SLO: below 0.1%.", 0.001);
        close("SLO: p95 below 1 s.", 1.0);
        assert_eq!(
            stated_slo("Share of the 30d error budget (0.1%) not yet spent."),
            None
        );
        assert_eq!(stated_slo("SLO: 12 parsecs"), None);
    }
}
