//! Every alert of every shipped environment and example, tested for behaviour with
//! `promtool test rules`: the unit tests are generated from the model's scenarios
//! (`families::prometheus::scenario`, `promtool`): each alert fires with its labels and
//! annotations on a breach and stays silent on healthy input. One promtool run per rule
//! file.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use portalgen::families::prometheus::promtool::{unit_tests, Gap, UnitTests};
use portalgen::families::prometheus::scenario::Scenario;
use portalgen::pipeline::Keep;

use super::*;

/// A shipped environment, rendered: what messages call it (`prod-us`,
/// `examples/microservices prod`), its PrometheusRule and its model's scenarios.
struct Shipped {
    at: String,
    rule: Value,
    scenarios: BTreeMap<String, Scenario>,
}

/// An environment's rendered PrometheusRule and its model's scenarios.
fn rules_and_scenarios(root: &Path, env: &str) -> (Value, BTreeMap<String, Scenario>) {
    let ws = Workspace::open(root).unwrap();
    let loaded = ws.load_all();
    let model = portalgen::pipeline::model_of(&loaded, env).unwrap();
    let templates = Templates::embedded().unwrap();
    let rendered =
        portalgen::pipeline::render(&model, &templates, Keep::All, |_, _, _| ()).unwrap();
    (rules(&rendered.tree), model.observability.rules.scenarios())
}

/// Every shipped environment, the repository's and each example's, rendered once for the
/// tests that read them all.
fn shipped() -> &'static [Shipped] {
    static SHIPPED: OnceLock<Vec<Shipped>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let examples = std::fs::read_dir(repo().join("examples"))
            .unwrap()
            .map(|e| e.unwrap().path());
        let mut roots: Vec<PathBuf> = examples
            .filter(|p| p.join("environments").is_dir())
            .collect();
        roots.sort();
        roots.insert(0, repo());
        let mut out = Vec::new();
        for root in roots {
            let mut envs: Vec<String> = std::fs::read_dir(root.join("environments"))
                .unwrap()
                .filter_map(|e| {
                    let name = e.unwrap().file_name().into_string().unwrap();
                    name.strip_suffix(".yaml").map(str::to_owned)
                })
                .collect();
            envs.sort();
            let project = root.strip_prefix(repo()).unwrap().display().to_string();
            for env in envs {
                let (rule, scenarios) = rules_and_scenarios(&root, &env);
                out.push(Shipped {
                    at: format!("{project} {env}").trim().to_owned(),
                    rule,
                    scenarios,
                });
            }
        }
        out
    })
}

/// `promtool test rules` on generated unit tests: whether they passed, and its output.
fn run_promtool(promtool: &Path, tests: &UnitTests) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.yaml"), tests.rules.to_string()).unwrap();
    std::fs::write(dir.path().join("tests.yaml"), tests.tests.to_string()).unwrap();
    let out = std::process::Command::new(promtool)
        .args(["test", "rules", "tests.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), output)
}

#[test]
fn every_alert_of_every_shipped_environment_has_a_scenario() {
    let shipped = shipped();
    let names: Vec<&str> = shipped.iter().map(|s| s.at.as_str()).collect();
    for env in [
        "dev",
        "prod-us",
        "examples/microservices prod",
        "examples/plugin-portal dev",
    ] {
        assert!(names.contains(&env), "{names:?}");
    }
    for Shipped {
        at,
        rule,
        scenarios,
    } in shipped
    {
        let tests = unit_tests(rule, scenarios, "rules.yaml").unwrap_or_else(|gaps| {
            panic!(
                "{at}: {}",
                gaps.iter().map(|g| format!("{g}\n")).collect::<String>()
            )
        });
        let mut covered = tests.alerts.clone();
        covered.sort();
        let rendered: Vec<String> = alerts_of(rule);
        assert_eq!(covered, rendered, "{at}");
        assert!(covered.len() >= 5, "{at}: {covered:?}");
        let alert_tests: usize = tests.tests["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["alert_rule_test"].as_array().unwrap().len())
            .sum();
        assert_eq!(alert_tests, 2 * covered.len(), "{at}");
    }

    // An alert without a scenario (here: one a patch adds to the rendered file, and one
    // whose scenario is gone) is a gap, named.
    let (mut rule, mut scenarios) = rules_and_scenarios(&repo(), "prod-us");
    scenarios.remove("PortalHighLatency");
    rule["spec"]["groups"][0]["rules"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"alert": "TeamQueueFull", "expr": "queue_depth > 100"}));
    let gaps = unit_tests(&rule, &scenarios, "rules.yaml").unwrap_err();
    assert_eq!(
        gaps,
        [
            Gap::NoScenario {
                alert: "TeamQueueFull".into()
            },
            Gap::NoScenario {
                alert: "PortalHighLatency".into()
            },
        ],
        "{gaps:?}"
    );
    assert_eq!(
        gaps[0].to_string(),
        "alert 'TeamQueueFull' has no behaviour scenario"
    );

    // A scenario looked at before the alert's `for:` elapsed could never see it fire.
    let (rule, mut scenarios) = rules_and_scenarios(&repo(), "prod-us");
    scenarios.get_mut("PortalHPAMaxedOut").unwrap().eval_minutes = 34;
    let gaps = unit_tests(&rule, &scenarios, "rules.yaml").unwrap_err();
    assert_eq!(
        gaps.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["alert 'PortalHPAMaxedOut': its scenario is evaluated at 34m, before its for: 30m and one evaluation (5m) can elapse"]
    );
}

/// The alert names of a rendered PrometheusRule, sorted.
fn alerts_of(rule: &Value) -> Vec<String> {
    let mut names: Vec<String> = rule["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .filter_map(|r| r["alert"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[test]
fn every_alert_of_every_shipped_environment_fires_on_a_breach_and_is_silent_when_healthy() {
    let Some(promtool) = promtool() else { return };
    for s in shipped() {
        let tests = unit_tests(&s.rule, &s.scenarios, "rules.yaml").unwrap();
        let (passed, output) = run_promtool(&promtool, &tests);
        assert!(passed, "{}: promtool test rules failed:\n{output}", s.at);
    }
}

#[test]
fn a_scenario_that_expects_the_wrong_behaviour_makes_promtool_fail() {
    let Some(promtool) = promtool() else { return };
    let (rule, scenarios) = rules_and_scenarios(&repo(), "prod-us");
    // Healthy input expected to fire, a breach expected to be silent: every test of every
    // alert fails, so none of them passes by testing nothing.
    let swapped: BTreeMap<String, Scenario> = scenarios
        .iter()
        .map(|(alert, s)| {
            let mut s = s.clone();
            std::mem::swap(&mut s.breach, &mut s.healthy);
            (alert.clone(), s)
        })
        .collect();
    let tests = unit_tests(&rule, &swapped, "rules.yaml").unwrap();
    assert_eq!(tests.alerts.len(), 18);
    let (passed, output) = run_promtool(&promtool, &tests);
    assert!(!passed, "{output}");
    // promtool reports each failed alert test as `alertname: <name>, time: <eval time>`.
    for alert in &tests.alerts {
        assert_eq!(
            output.matches(&format!("alertname: {alert},")).count(),
            2,
            "{alert} passed a test:\n{output}"
        );
    }

    // The labels are compared: one wrong severity fails that alert's breach test alone.
    let mut wrong = scenarios.clone();
    let redis = wrong.get_mut("PortalRedisDown").unwrap();
    redis.labels.insert("severity".into(), "warning".into());
    let tests = unit_tests(&rule, &wrong, "rules.yaml").unwrap();
    let (passed, output) = run_promtool(&promtool, &tests);
    assert!(!passed, "{output}");
    assert_eq!(output.matches("alertname: ").count(), 1, "{output}");
    assert!(
        output.contains("name: fire on a breach: PortalRedisDown,")
            && output.contains("alertname: PortalRedisDown,"),
        "{output}"
    );
}

#[test]
fn a_services_own_objectives_and_a_service_without_metrics_are_tested_too() {
    // web: 99 % available, p95 under 2 s, 5xx under 5 %: its breaches are a quarter over
    // its own thresholds (6.25 % for the 5xx ratio, 18 % for the fast burn), its p95 3 s.
    // worker exports no metrics: its down alert reads kube-state-metrics.
    let s = Scratch::new();
    s.write_system(
        "apiVersion: portalgen.dev/v1alpha1
kind: System
metadata:
  name: shop
spec:
  services:
    - name: web
      port: 3000
      routes: [\"/\"]
      metrics: {port: 3000}
      slo: {availability: \"99\", latencyP95: 2s, errorRate: \"5\"}
    - name: worker
      port: 3001
      uses: [database]
",
    );
    s.write_env("prod", &common::minimal_spec("prod", "prod", 2));
    let (rule, scenarios) = rules_and_scenarios(s.root(), "prod");
    let tests = unit_tests(&rule, &scenarios, "rules.yaml").unwrap();
    for alert in [
        "ShopWorkerDown",
        "ShopWebErrorBudgetFastBurn",
        "ShopWebHighLatency",
    ] {
        assert!(tests.alerts.iter().any(|a| a == alert), "{alert}");
    }
    let expected = |alert: &str| {
        let groups = tests.tests["tests"].as_array().unwrap();
        groups
            .iter()
            .flat_map(|g| g["alert_rule_test"].as_array().unwrap())
            .find(|t| t["alertname"] == alert && t["exp_alerts"] != serde_json::json!([]))
            .map(|t| t["exp_alerts"][0].clone())
            .unwrap()
    };
    let description = |alert: &str| expected(alert)["exp_annotations"]["description"].clone();
    assert!(
        description("ShopWebHighErrorRate")
            .as_str()
            .unwrap()
            .starts_with("6.25% of requests to web failed"),
        "{}",
        description("ShopWebHighErrorRate")
    );
    assert!(
        description("ShopWebHighLatency")
            .as_str()
            .unwrap()
            .contains("is 3s over 5 minutes"),
        "{}",
        description("ShopWebHighLatency")
    );
    assert_eq!(
        expected("ShopWorkerDown")["exp_labels"]["service"],
        "worker"
    );

    let Some(promtool) = promtool() else { return };
    let (passed, output) = run_promtool(&promtool, &tests);
    assert!(passed, "promtool test rules failed:\n{output}");
}
