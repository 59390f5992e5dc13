//! The rules of `spec.delivery` (and of a service's `spec.overrides.services.<name>.delivery`)
//! that the schema cannot state: canary weights in 1..=99 and increasing, pauses that are
//! durations, thresholds that parse, and a gate no looser than its abort threshold. The
//! gates that default to a service's SLO are checked against the abort thresholds in the
//! model (`model::rollout`), where the SLOs are known.

use super::{Environment, Strategy, ThresholdsSpec, Tier};
use crate::diagnostic::Diagnostic;

/// The abort thresholds of `003_…` ("Deployment Patterns", rollback triggers): 5xx above
/// 1 %, or p95 above 1000 ms — ten and two times the product's SLOs (0.1 %, 500 ms). A
/// service with a looser SLO gets the same multiples of its own ([`default_abort`]).
pub const ABORT_ERROR_RATE: f64 = 0.01;
pub const ABORT_LATENCY_SECONDS: f64 = 1.0;
pub const ABORT_ERROR_FACTOR: f64 = 10.0;
pub const ABORT_LATENCY_FACTOR: f64 = 2.0;

/// The abort thresholds of a service whose SLO is `error_rate` and `latency_seconds` when
/// the spec sets none: `003_…`'s, or the same multiples of a looser SLO. Rounded to nine
/// decimals, as the SLOs are.
pub fn default_abort(error_rate: f64, latency_seconds: f64) -> (f64, f64) {
    let r = |v: f64| (v * 1e9).round() / 1e9;
    (
        r(ABORT_ERROR_RATE
            .max(error_rate * ABORT_ERROR_FACTOR)
            .min(1.0)),
        r(ABORT_LATENCY_SECONDS.max(latency_seconds * ABORT_LATENCY_FACTOR)),
    )
}

/// The canary steps of `003_…`: 5 % for 10 minutes, 25 % for 20, then 100 %.
pub const DEFAULT_STEPS: [(u32, &str); 2] = [(5, "10m"), (25, "20m")];

/// The strategy of a tier when the spec names none.
pub fn tier_strategy(tier: Tier) -> Strategy {
    match tier {
        Tier::Dev => Strategy::Rolling,
        Tier::Staging => Strategy::BlueGreen,
        Tier::Prod => Strategy::Canary,
    }
}

/// A pause as Argo Rollouts reads it: a positive integer with `s`, `m` or `h`. In seconds.
pub fn duration_seconds(text: &str) -> Option<u64> {
    let unit = text.chars().last()?;
    let digits = &text[..text.len() - unit.len_utf8()];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        _ => return None,
    };
    (n > 0).then_some(n * factor)
}

/// A percentage as the system file's SLOs write it (`"0.1"`), as a fraction.
pub fn percent(text: &str) -> Option<f64> {
    let v: f64 = text.trim_end_matches('%').parse().ok()?;
    (v.is_finite() && v > 0.0 && v <= 100.0).then_some(v / 100.0)
}

/// A latency (`500ms`, `1s`, `1.5s`), in seconds.
pub fn latency_seconds(text: &str) -> Option<f64> {
    let v: f64 = match text.strip_suffix("ms") {
        Some(ms) => ms.parse::<f64>().ok()? / 1000.0,
        None => text.strip_suffix('s')?.parse().ok()?,
    };
    (v.is_finite() && v > 0.0 && v <= 3600.0).then_some(v)
}

/// Thresholds as fractions and seconds; `None` where not set (or not parsing: reported).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    pub error_rate: Option<f64>,
    pub latency_seconds: Option<f64>,
}

impl Limits {
    pub fn of(t: Option<&ThresholdsSpec>) -> Limits {
        Limits {
            error_rate: t.and_then(|t| t.error_rate.as_deref()).and_then(percent),
            latency_seconds: t
                .and_then(|t| t.latency_p95.as_deref())
                .and_then(latency_seconds),
        }
    }

    /// `self`'s values, else `under`'s.
    pub fn over(self, under: Limits) -> Limits {
        Limits {
            error_rate: self.error_rate.or(under.error_rate),
            latency_seconds: self.latency_seconds.or(under.latency_seconds),
        }
    }
}

/// Every problem of the delivery sections of one environment spec.
pub(super) fn problems(env: &Environment) -> Vec<Diagnostic> {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    let spec = &env.spec;
    let top = spec.delivery.as_ref();
    let mut out = Vec::new();
    let mut sections = vec![("/spec/delivery".to_owned(), top)];
    for (name, o) in &spec.overrides.services {
        if o.delivery.is_some() {
            sections.push((
                format!("/spec/overrides/services/{}/delivery", escape(name)),
                o.delivery.as_ref(),
            ));
        }
    }
    for (at, d) in sections {
        let Some(d) = d else { continue };
        let strategy = d
            .strategy
            .or(top.and_then(|t| t.strategy))
            .unwrap_or(tier_strategy(spec.tier));
        if let Some(steps) = &d.steps {
            if strategy != Strategy::Canary {
                out.push(
                    env.diagnostic(
                        &format!("{at}/steps"),
                        format!(
                            "steps are the traffic weights of a canary, and this delivery is {}",
                            strategy.as_str()
                        ),
                    )
                    .with_hint(Some("set strategy: canary, or remove steps".into())),
                );
            }
            let mut last: Option<i64> = None;
            for (i, step) in steps.iter().enumerate() {
                let w = step.weight;
                let weight_at = format!("{at}/steps/{i}/weight");
                if w >= 100 {
                    out.push(env.diagnostic(&weight_at, format!("weight {w} is not below 100: the canary reaches 100 after the last step on its own")).with_hint(Some("weights are percentages of the traffic, 1 to 99".into())));
                } else if w < 1 {
                    out.push(
                        env.diagnostic(
                            &weight_at,
                            format!("weight {w} is not a share of the traffic"),
                        )
                        .with_hint(Some(
                            "weights are percentages of the traffic, 1 to 99".into(),
                        )),
                    );
                } else if let Some(prev) = last.filter(|p| w <= *p) {
                    out.push(
                        env.diagnostic(
                            &weight_at,
                            format!("weights must increase: {w} after {prev}"),
                        )
                        .with_hint(Some(format!(
                            "each step sends more traffic to the canary than the one before (e.g. {}, {})",
                            prev,
                            (prev + 1).max(prev * 2).min(99)
                        ))),
                    );
                }
                last = Some(w.max(last.unwrap_or(w)));
                if duration_seconds(&step.pause).is_none() {
                    out.push(
                        env.diagnostic(
                            &format!("{at}/steps/{i}/pause"),
                            format!(
                                "pause '{}' is not a duration",
                                crate::diagnostic::quote(&step.pause)
                            ),
                        )
                        .with_hint(Some(
                            "a whole number of seconds, minutes or hours: 30s, 10m, 1h".into(),
                        )),
                    );
                }
            }
        }
        for which in ["gates", "abort"] {
            let t = if which == "gates" { &d.gates } else { &d.abort };
            let Some(t) = t else { continue };
            if let Some(e) = &t.error_rate {
                if percent(e).is_none() {
                    out.push(
                        env.diagnostic(
                            &format!("{at}/{which}/errorRate"),
                            format!(
                                "errorRate '{}' is not a percentage",
                                crate::diagnostic::quote(e)
                            ),
                        )
                        .with_hint(Some(
                            "a percentage of the requests above 0 and at most 100: \"0.1\"".into(),
                        )),
                    );
                }
            }
            if let Some(l) = &t.latency_p95 {
                if latency_seconds(l).is_none() {
                    out.push(
                        env.diagnostic(
                            &format!("{at}/{which}/latencyP95"),
                            format!(
                                "latencyP95 '{}' is not a latency",
                                crate::diagnostic::quote(l)
                            ),
                        )
                        .with_hint(Some("milliseconds or seconds: 500ms, 1s".into())),
                    );
                }
            }
        }
        // An explicit gate against an explicit abort threshold (its own section's, or the
        // environment's). Against a default (which follows each service's SLO) the model
        // checks it, per service (`model::rollout`).
        let abort =
            Limits::of(d.abort.as_ref()).over(Limits::of(top.and_then(|t| t.abort.as_ref())));
        let gates = Limits::of(d.gates.as_ref());
        if let (Some(g), Some(a)) = (gates.error_rate, abort.error_rate) {
            if g >= a {
                out.push(looser(
                    env,
                    &format!("{at}/gates/errorRate"),
                    "errorRate",
                    &pct(g),
                    &pct(a),
                ));
            }
        }
        if let (Some(g), Some(a)) = (gates.latency_seconds, abort.latency_seconds) {
            if g >= a {
                out.push(looser(
                    env,
                    &format!("{at}/gates/latencyP95"),
                    "latencyP95",
                    &ms(g),
                    &ms(a),
                ));
            }
        }
    }
    out
}

/// A gate at or above its abort threshold: the step would abort before it could fail.
pub fn looser(env: &Environment, pointer: &str, what: &str, gate: &str, abort: &str) -> Diagnostic {
    env.diagnostic(
        pointer,
        format!("the {what} gate {gate} is not below the abort threshold {abort}: a step could never fail its gate without aborting the rollout first"),
    )
    .with_hint(Some(format!("lower the gate below {abort}, or raise abort.{what}")))
}

/// A fraction as a percentage: 0.001 → `0.1%`.
pub fn pct(v: f64) -> String {
    format!("{}%", (v * 100.0 * 1e9).round() / 1e9)
}

/// Seconds as milliseconds: 0.5 → `500ms`.
pub fn ms(v: f64) -> String {
    format!("{}ms", (v * 1000.0 * 1e6).round() / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_thresholds_and_default_aborts_parse_as_argo_rollouts_and_the_slos_write_them() {
        assert_eq!(duration_seconds("30s"), Some(30));
        assert_eq!(duration_seconds("10m"), Some(600));
        assert_eq!(duration_seconds("1h"), Some(3600));
        for bad in [
            "",
            "m",
            "0m",
            "10",
            "10 minutes",
            "1.5m",
            "-1m",
            "10d",
            "1234567s",
        ] {
            assert_eq!(duration_seconds(bad), None, "{bad:?}");
        }
        assert_eq!(percent("0.1"), Some(0.001));
        assert_eq!(percent("1%"), Some(0.01));
        for bad in ["0", "-1", "101", "NaN", "inf", "x"] {
            assert_eq!(percent(bad), None, "{bad:?}");
        }
        assert_eq!(latency_seconds("500ms"), Some(0.5));
        assert_eq!(latency_seconds("1.5s"), Some(1.5));
        for bad in ["500", "0ms", "fast", "-1s"] {
            assert_eq!(latency_seconds(bad), None, "{bad:?}");
        }
        // 003_…'s triggers for the product SLO, the same multiples of a looser one.
        assert_eq!(default_abort(0.001, 0.5), (0.01, 1.0));
        assert_eq!(default_abort(0.005, 1.0), (0.05, 2.0));
        assert_eq!(default_abort(0.0005, 0.25), (0.01, 1.0));
        assert_eq!(
            (pct(0.001), ms(0.5)),
            ("0.1%".to_owned(), "500ms".to_owned())
        );
    }
}
