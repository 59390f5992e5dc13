//! `promtool test rules` unit tests of a rendered PrometheusRule, generated from the
//! model's behaviour scenarios (`scenario`): per alert, one test that expects it to fire
//! with its labels and annotations on the breach, and one that expects silence on healthy
//! input. All of a rule file's tests are in one test file, so promtool runs once per
//! rule file. The rule file is the rendered one (templates and patches applied), so what
//! is tested is what is deployed.
//!
//! A breach is tested on its own input alone, so that nothing else can make the alert
//! fire; alerts with the same breach input (a service's 5xx-ratio alerts) share its test
//! group. The healthy inputs of all alerts are fed together, as one healthy system that
//! none of them may alert on (an input that gives a series other values than another's
//! gets a group of its own). promtool loads the rules and a fresh database for each test
//! group and evaluates every rule at every step, so fewer groups and steps keep a run
//! short: the rules are evaluated every 5 minutes (not Prometheus' 30 seconds; an alert's
//! `for:` is still honoured to the step).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{json, Map, Value};

use super::scenario::{Scenario, Series};

/// A rule file and its unit tests, as promtool reads them (JSON is YAML).
#[derive(Debug, Clone)]
pub struct UnitTests {
    /// The rule file: the PrometheusRule's groups, as rendered.
    pub rules: Value,
    /// The test file, which names the rule file as it was asked to.
    pub tests: Value,
    /// The alerts it tests, in the rule file's order.
    pub alerts: Vec<String>,
}

/// Why an alert of a rule file cannot be tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gap {
    /// The document has no `spec.groups` of rules.
    NotARuleFile,
    /// A rendered alert the model has no scenario for (one a patch added, say).
    NoScenario { alert: String },
    /// A scenario evaluated before the alert's `for:` and one evaluation step have
    /// elapsed: it could not see it fire.
    TooEarly {
        alert: String,
        eval_time: String,
        for_: String,
    },
    /// An annotation whose expansion the scenario cannot predict.
    Unpredictable {
        alert: String,
        annotation: String,
        why: String,
    },
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::NotARuleFile => write!(f, "not a PrometheusRule with spec.groups"),
            Gap::NoScenario { alert } => write!(f, "alert '{alert}' has no behaviour scenario"),
            Gap::TooEarly {
                alert,
                eval_time,
                for_,
            } => write!(
                f,
                "alert '{alert}': its scenario is evaluated at {eval_time}, before its for: {for_} and one evaluation ({EVALUATION_INTERVAL}) can elapse"
            ),
            Gap::Unpredictable {
                alert,
                annotation,
                why,
            } => write!(
                f,
                "alert '{alert}': annotation '{annotation}' cannot be predicted: {why}"
            ),
        }
    }
}

/// How often promtool evaluates the rules.
pub const EVALUATION_INTERVAL: &str = "5m";
const EVALUATION_SECONDS: u64 = 300;

/// One promtool test group: an input and the alert tests on it.
struct Group {
    input: Vec<Series>,
    /// What the alerts do on it: `fire on a breach`, `stay silent on healthy input`.
    what: &'static str,
    alerts: Vec<String>,
    tests: Vec<Value>,
}

impl Group {
    fn to_json(&self) -> Value {
        let input: Vec<Value> = self
            .input
            .iter()
            .map(|i| json!({ "series": i.series, "values": i.values }))
            .collect();
        json!({
            "name": format!("{}: {}", self.what, self.alerts.join(", ")),
            "interval": "1m",
            "input_series": input,
            "alert_rule_test": self.tests,
        })
    }
}

const BREACH: &str = "fire on a breach";
const HEALTHY: &str = "stay silent on healthy input";

/// Adds an alert's test on `input` to a group: a breach's to the one with the same input,
/// a healthy input's to the first healthy one it does not contradict; else a new one.
fn add(groups: &mut Vec<Group>, what: &'static str, input: &[Series], alert: &str, test: Value) {
    let fits = |g: &Group| {
        g.what == what
            && if what == HEALTHY {
                !input.iter().any(|i| {
                    g.input
                        .iter()
                        .any(|j| j.series == i.series && j.values != i.values)
                })
            } else {
                g.input == input
            }
    };
    let i = match groups.iter().position(fits) {
        Some(i) => i,
        None => {
            groups.push(Group {
                input: Vec::new(),
                what,
                alerts: Vec::new(),
                tests: Vec::new(),
            });
            groups.len() - 1
        }
    };
    let group = &mut groups[i];
    for series in input {
        if !group.input.contains(series) {
            group.input.push(series.clone());
        }
    }
    group.alerts.push(alert.to_owned());
    group.tests.push(test);
}

/// The unit tests of every alert of a rendered PrometheusRule (`rule`, parsed), with the
/// scenarios by alert name; the test file loads the rule file as `rule_file`. Every gap
/// (an alert without a scenario, …) is reported.
pub fn unit_tests(
    rule: &Value,
    scenarios: &BTreeMap<String, Scenario>,
    rule_file: &str,
) -> Result<UnitTests, Vec<Gap>> {
    let Some(groups) = rule["spec"]["groups"].as_array() else {
        return Err(vec![Gap::NotARuleFile]);
    };
    let mut tests: Vec<Group> = Vec::new();
    let mut alerts = Vec::new();
    let mut gaps = Vec::new();
    let rules = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten());
    for r in rules {
        let Some(alert) = r["alert"].as_str() else {
            continue;
        };
        let Some(scenario) = scenarios.get(alert) else {
            gaps.push(Gap::NoScenario {
                alert: alert.to_owned(),
            });
            continue;
        };
        match expected_alert(alert, r, scenario) {
            Ok(fired) => {
                let test = |expected: Value| {
                    json!({
                        "eval_time": scenario.eval_time(),
                        "alertname": alert,
                        "exp_alerts": expected,
                    })
                };
                add(
                    &mut tests,
                    BREACH,
                    &scenario.breach,
                    alert,
                    test(json!([fired])),
                );
                add(
                    &mut tests,
                    HEALTHY,
                    &scenario.healthy,
                    alert,
                    test(json!([])),
                );
                alerts.push(alert.to_owned());
            }
            Err(gap) => gaps.push(gap),
        }
    }
    if !gaps.is_empty() {
        return Err(gaps);
    }
    Ok(UnitTests {
        rules: json!({ "groups": groups }),
        tests: json!({
            "rule_files": [rule_file],
            "evaluation_interval": EVALUATION_INTERVAL,
            "tests": tests.iter().map(Group::to_json).collect::<Vec<_>>(),
        }),
        alerts,
    })
}

/// The alert as it fires on the breach: its labels and expanded annotations.
fn expected_alert(alert: &str, rule: &Value, s: &Scenario) -> Result<Value, Gap> {
    let for_ = rule["for"].as_str().unwrap_or("0s");
    // Pending at the first step its expression is true, firing `for:` later.
    if seconds(for_).is_none_or(|f| u64::from(s.eval_minutes) * 60 < f + EVALUATION_SECONDS) {
        return Err(Gap::TooEarly {
            alert: alert.to_owned(),
            eval_time: s.eval_time(),
            for_: for_.to_owned(),
        });
    }
    // `$labels` in a template are the expression result's, not the rule's own.
    let own = rule["labels"].as_object().cloned().unwrap_or_default();
    let result: BTreeMap<String, String> = s
        .labels
        .iter()
        .filter(|(k, _)| !own.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut annotations = Map::new();
    for (key, text) in rule["annotations"].as_object().into_iter().flatten() {
        let text = text.as_str().unwrap_or_default();
        let expanded = expand(text, &result, s.value).map_err(|why| Gap::Unpredictable {
            alert: alert.to_owned(),
            annotation: key.clone(),
            why,
        })?;
        annotations.insert(key.clone(), Value::from(expanded));
    }
    Ok(json!({ "exp_labels": s.labels, "exp_annotations": annotations }))
}

/// A Prometheus duration (`5m`, `1h30m`) in seconds.
fn seconds(duration: &str) -> Option<u64> {
    let mut total = 0;
    let mut rest = duration;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d", "w", "y"]
            .into_iter()
            .find(|u| rest.starts_with(u))?;
        rest = &rest[unit.len()..];
        total += match unit {
            "ms" => 0,
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86400,
            "w" => n * 604_800,
            _ => n * 31_536_000,
        };
    }
    Some(total)
}

/// An annotation as Prometheus expands it for an alert with these result labels and
/// value: the template actions the model writes (`$labels.x`, `$value` through
/// `humanizePercentage` or `humanizeDuration`), and nothing else.
fn expand(
    text: &str,
    labels: &BTreeMap<String, String>,
    value: Option<f64>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("a {{ is not closed")?;
        let action = after[..end].trim();
        if let Some(key) = action.strip_prefix("$labels.") {
            let label = labels
                .get(key)
                .ok_or(format!("its result has no label {key}"))?;
            out.push_str(label);
        } else {
            let value = value.ok_or("the scenario gives no value")?;
            let parts: Vec<&str> = action.split('|').map(str::trim).collect();
            match parts[..] {
                ["$value", "humanizePercentage"] => {
                    out.push_str(&format!("{}%", go_g4(value * 100.0)));
                }
                ["$value", "humanizeDuration"] => out.push_str(&humanize_duration(value)),
                _ => return Err(format!("{{{{ {action} }}}} is not an action it expands")),
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Go's `%.4g`: four significant digits, trailing zeros dropped, an exponent below 1e-4
/// or from 1e4.
fn go_g4(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let sci = format!("{:.3e}", v.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if v < 0.0 { "-" } else { "" };
    let digits = mantissa.replace('.', "");
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if !(-4..4).contains(&exp) {
        let m = trim(mantissa.to_owned());
        let e_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{e_sign}{:02}", exp.abs());
    }
    let plain = if exp < 0 {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    } else {
        let (int, frac) = digits.split_at(exp as usize + 1);
        format!("{int}.{frac}")
    };
    format!("{sign}{}", trim(plain))
}

/// Prometheus' `humanizeDuration` of a number of seconds.
fn humanize_duration(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{}s", go_g4(v));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let d = v.abs() as i64;
        let (s, m, h, days) = (d % 60, (d / 60) % 60, (d / 3600) % 24, d / 86400);
        return if days != 0 {
            format!("{sign}{days}d {h}h {m}m {s}s")
        } else if h != 0 {
            format!("{sign}{h}h {m}m {s}s")
        } else if m != 0 {
            format!("{sign}{m}m {s}s")
        } else {
            format!("{sign}{}s", go_g4(v.abs()))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", go_g4(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_prometheus_templates_print_them() {
        for (v, text) in [
            (2.0, "2"),
            (1.999_999_999_9, "2"),
            (0.5, "0.5"),
            (975.0, "975"),
            (1.234_56, "1.235"),
            (0.000_375, "0.000375"),
            (0.000_012_5, "1.25e-05"),
            (134_400.0, "1.344e+05"),
            (-2.5, "-2.5"),
        ] {
            assert_eq!(go_g4(v), text, "{v}");
        }
        for (v, text) in [
            (0.75, "750ms"),
            (0.374_999_999, "375ms"),
            (1.5, "1.5s"),
            (60.0, "1m 0s"),
            (145_200.0, "1d 16h 20m 0s"),
            (7_200.0, "2h 0m 0s"),
            (0.0, "0s"),
        ] {
            assert_eq!(humanize_duration(v), text, "{v}");
        }
    }

    #[test]
    fn annotations_expand_labels_and_values_or_say_why_not() {
        let labels = BTreeMap::from([("pod".to_owned(), "db-1".to_owned())]);
        assert_eq!(
            expand(
                "{{ $labels.pod }} at {{ $value | humanizePercentage }}",
                &labels,
                Some(0.02)
            ),
            Ok("db-1 at 2%".to_owned())
        );
        assert!(expand("{{ $labels.node }}", &labels, None)
            .unwrap_err()
            .contains("no label node"));
        assert!(expand("{{ $value }}", &labels, Some(1.0))
            .unwrap_err()
            .contains("not an action"));
        assert!(expand("{{ $value | humanizeDuration }}", &labels, None)
            .unwrap_err()
            .contains("no value"));
    }

    #[test]
    fn durations_parse_as_prometheus_writes_them() {
        assert_eq!(seconds("5m"), Some(300));
        assert_eq!(seconds("1h30m"), Some(5400));
        assert_eq!(seconds("1d"), Some(86400));
        assert_eq!(seconds("5x"), None);
        assert_eq!(seconds("m"), None);
    }
}
