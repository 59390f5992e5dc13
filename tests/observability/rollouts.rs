//! Progressive delivery (issue 16, docs/progressive-delivery.md): prod-us renders a canary,
//! staging a blue-green, dev a rolling Deployment; the analysis' gates and the SLO's
//! recording rules and alerts are built from one definition.

use crate::common::{self, repo, yaml_documents, Scratch};
use serde_json::Value;

fn docs(root: &std::path::Path, path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    yaml_documents(&text)
}

fn one(root: &std::path::Path, path: &str) -> Value {
    docs(root, path).remove(0)
}

/// The rules of a PrometheusRule by name: `record` or `alert` → expr.
fn rule_expr(rules: &Value, name: &str) -> String {
    rules["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .find(|r| r["record"] == name || r["alert"] == name)
        .unwrap_or_else(|| panic!("no rule {name}"))["expr"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A system with one measured service `web` of SLO `slo`, rendered for prod (a canary).
fn render_prod(s: &Scratch, slo: &str) -> std::path::PathBuf {
    s.write_system(&format!(
        "apiVersion: portalgen.dev/v1alpha1
kind: System
metadata:
  name: shop
spec:
  services:
    - name: web
      port: 3000
      routes: [\"/\"]
      metrics: {{port: 3000}}
      slo: {slo}
"
    ));
    s.write_env("prod", &common::minimal_spec("prod", "prod", 2));
    let out = s.root().join("out");
    s.cmd()
        .args(["render", "prod", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    out.join("prod")
}

/// What the analysis measures and where it draws the line, next to the SLO rules and
/// alerts of the same service.
struct Gates {
    error_query: String,
    latency_query: String,
    error_success: String,
    latency_success: String,
    error_rule: String,
    latency_rule: String,
    error_alert: String,
    latency_alert: String,
}

fn gates(tree: &std::path::Path) -> Gates {
    let at = one(
        tree,
        "kubernetes/platform/services/web/analysis-template.yaml",
    );
    let metric = |name: &str| {
        at["spec"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("no metric {name}"))
            .clone()
    };
    let (errors, latency) = (metric("error-rate"), metric("latency-p95"));
    let rules = one(tree, "prometheus/rules.yaml");
    Gates {
        error_query: errors["provider"]["prometheus"]["query"]
            .as_str()
            .unwrap()
            .into(),
        latency_query: latency["provider"]["prometheus"]["query"]
            .as_str()
            .unwrap()
            .into(),
        error_success: errors["successCondition"].as_str().unwrap().into(),
        latency_success: latency["successCondition"].as_str().unwrap().into(),
        error_rule: rule_expr(&rules, "shop_web:http_request_errors:ratio_rate5m"),
        latency_rule: rule_expr(&rules, "shop_web:http_request_duration_seconds:p95_rate5m"),
        error_alert: rule_expr(&rules, "ShopWebHighErrorRate"),
        latency_alert: rule_expr(&rules, "ShopWebHighLatency"),
    }
}

#[test]
fn the_gates_and_the_slo_rules_are_built_from_one_definition() {
    // The analysis selects the new version's pods where the rule selects the service's job;
    // the rest of each query is the recording rule's expression.
    let canary = "job=\"{{args.service}}\",rollouts_pod_template_hash=\"{{args.canary-hash}}\"";
    let check = |g: &Gates, errors: &str, latency: &str| {
        assert_eq!(g.error_query, g.error_rule.replace("job=\"web\"", canary));
        assert_eq!(
            g.latency_query,
            g.latency_rule.replace("job=\"web\"", canary)
        );
        assert!(g.error_rule.contains("job=\"web\""), "{}", g.error_rule);
        // The gate is the SLO the alert fires on.
        assert!(
            g.error_success.ends_with(&format!("result[0] < {errors}")),
            "{}",
            g.error_success
        );
        assert!(
            g.error_alert.ends_with(&format!("> {errors}")),
            "{}",
            g.error_alert
        );
        assert!(
            g.latency_success
                .ends_with(&format!("result[0] < {latency}")),
            "{}",
            g.latency_success
        );
        assert!(
            g.latency_alert.ends_with(&format!("> {latency}")),
            "{}",
            g.latency_alert
        );
    };
    let s = Scratch::new();
    let first = gates(&render_prod(&s, "{latencyP95: 250ms, errorRate: \"0.05\"}"));
    check(&first, "0.0005", "0.25");
    // Changing the SLO in the system file, and nothing else, moves both.
    let s = Scratch::new();
    let second = gates(&render_prod(&s, "{latencyP95: 400ms, errorRate: \"0.2\"}"));
    check(&second, "0.002", "0.4");
    assert_ne!(first.error_success, second.error_success);
    assert_ne!(first.latency_alert, second.latency_alert);
    // Every query parses as PromQL (the render's checks parse them too).
    for q in [&first.error_query, &first.latency_query] {
        portalgen::validate::promql::parse(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}

#[test]
fn prod_us_is_a_canary_staging_a_blue_green_dev_a_rolling_deployment() {
    let golden = repo().join("golden");
    let app = "kubernetes/platform/app";

    // dev: a Deployment's rolling update, nothing of Argo Rollouts.
    let dev = golden.join("dev");
    let d = one(&dev, &format!("{app}/deployment.yaml"));
    assert_eq!(d["kind"], "Deployment");
    assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate");
    for gone in [
        "rollout.yaml",
        "analysis-template.yaml",
        "rollout-services.yaml",
    ] {
        assert!(!dev.join(app).join(gone).exists(), "dev has {gone}");
    }

    // staging: a blue-green, promoted after its pre-promotion analysis, the old version
    // kept for 30 minutes.
    let staging = golden.join("staging");
    assert!(!staging.join(app).join("deployment.yaml").exists());
    let r = one(&staging, &format!("{app}/rollout.yaml"));
    assert_eq!(r["apiVersion"], "argoproj.io/v1alpha1");
    let bg = &r["spec"]["strategy"]["blueGreen"];
    assert_eq!(bg["activeService"], "portal-app-active");
    assert_eq!(bg["previewService"], "portal-app-preview");
    assert_eq!(bg["autoPromotionEnabled"], true);
    assert_eq!(bg["scaleDownDelaySeconds"], 1800);
    assert_eq!(
        bg["prePromotionAnalysis"]["templates"][0]["templateName"],
        "portal-app-slo"
    );
    // The pre-promotion analysis ends (5 measurements) so that the promotion can happen;
    // the canary's runs in the background until the rollout completes.
    let count = |env: &std::path::Path| {
        one(env, &format!("{app}/analysis-template.yaml"))["spec"]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["count"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        count(&staging),
        [serde_json::json!(5), serde_json::json!(5)]
    );
    assert_eq!(count(&golden.join("prod-us")), [Value::Null, Value::Null]);
    let services: Vec<Value> = docs(&staging, &format!("{app}/rollout-services.yaml"));
    let names: Vec<&str> = services
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["portal-app-active", "portal-app-preview"]);
    // The mesh calls the active Service.
    let vs = one(&staging, "kubernetes/platform/mesh/virtual-service.yaml");
    for route in vs["spec"]["http"].as_array().unwrap() {
        assert_eq!(
            route["route"][0]["destination"]["host"],
            "portal-app-active.portal-system.svc.cluster.local"
        );
    }

    // prod-us: a canary of 5 % for 10 minutes, 25 % for 20, behind the mesh's split.
    let prod = golden.join("prod-us");
    let r = one(&prod, &format!("{app}/rollout.yaml"));
    let c = &r["spec"]["strategy"]["canary"];
    assert_eq!(
        c["steps"],
        serde_json::json!([
            {"setWeight": 5}, {"pause": {"duration": "10m"}},
            {"setWeight": 25}, {"pause": {"duration": "20m"}}
        ])
    );
    assert_eq!(
        c["analysis"]["templates"][0]["templateName"],
        "portal-app-slo"
    );
    assert_eq!(
        c["analysis"]["args"][1]["valueFrom"]["podTemplateHashValue"],
        "Latest"
    );
    let istio = &c["trafficRouting"]["istio"]["virtualService"];
    let vs = one(&prod, "kubernetes/platform/mesh/virtual-service.yaml");
    assert_eq!(istio["name"], vs["metadata"]["name"]);
    // Each route the Rollout names is a route of the VirtualService, with the stable and
    // the canary Service as its two destinations (Argo Rollouts matches a host by its
    // first label).
    let routes = istio["routes"].as_array().unwrap();
    assert!(!routes.is_empty());
    for name in routes {
        let route = vs["spec"]["http"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| &r["name"] == name)
            .unwrap_or_else(|| panic!("the VirtualService has no route {name}"));
        let hosts: Vec<(&str, u64)> = route["route"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                let host = d["destination"]["host"].as_str().unwrap();
                (
                    host.split('.').next().unwrap(),
                    d["weight"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            hosts,
            [
                (c["stableService"].as_str().unwrap(), 100),
                (c["canaryService"].as_str().unwrap(), 0)
            ]
        );
    }
    // What points at the workload follows it.
    for (file, at) in [("hpa.yaml", "scaleTargetRef"), ("vpa.yaml", "targetRef")] {
        let t = &one(&prod, &format!("{app}/{file}"))["spec"][at];
        assert_eq!(t["apiVersion"], "argoproj.io/v1alpha1", "{file}");
        assert_eq!(t["kind"], "Rollout", "{file}");
        assert_eq!(t["name"], "portal-app", "{file}");
    }
    let pdb = one(&prod, &format!("{app}/pdb.yaml"));
    let labels = r["spec"]["template"]["metadata"]["labels"]
        .as_object()
        .unwrap();
    for (k, v) in pdb["spec"]["selector"]["matchLabels"].as_object().unwrap() {
        assert_eq!(labels.get(k), Some(v), "the PDB selects the Rollout's pods");
    }
    let monitor = one(&prod, "prometheus/monitors/portal-app.yaml");
    assert_eq!(
        monitor["spec"]["podTargetLabels"],
        serde_json::json!(["rollouts-pod-template-hash"])
    );
    // The down alert and the dashboards read the controller's rollout_info…, not
    // kube-state-metrics' Deployment series.
    let rules = std::fs::read_to_string(prod.join("prometheus/rules.yaml")).unwrap();
    let overview =
        std::fs::read_to_string(prod.join("grafana/dashboards/portal-overview.json")).unwrap();
    for text in [&rules, &overview] {
        assert!(!text.contains("kube_deployment_"));
    }
    assert!(overview.contains(
        "rollout_info_replicas_available{namespace=\\\"portal-system\\\",name=\\\"portal-app\\\"}"
    ));
    for panel in [
        "Traffic by version",
        "Rollout phase",
        "Analysis runs",
        "Analysis measurements",
    ] {
        assert!(
            overview.contains(&format!("\"title\": \"{panel}\"")),
            "{panel}"
        );
    }
}

#[test]
fn a_blue_green_in_prod_is_promoted_by_hand() {
    let s = Scratch::new();
    s.write_env(
        "prod",
        &format!(
            "{}  delivery: {{strategy: blueGreen}}\n",
            common::minimal_spec("prod", "prod", 2)
        ),
    );
    let docs = common::stream(
        s.cmd()
            .args(["render", "prod", "--stdout", "--kind", "Rollout"]),
    );
    let bg = &docs[0]["spec"]["strategy"]["blueGreen"];
    assert_eq!(bg["autoPromotionEnabled"], false);
    assert_eq!(bg["scaleDownDelaySeconds"], 1800);
}

#[test]
fn a_service_override_and_custom_steps_change_one_service_only() {
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
      uses: [worker]
    - name: worker
      port: 3001
      metrics: {port: 3001}
",
    );
    s.write_env(
        "prod",
        &format!(
            "{}  delivery:\n    steps:\n      - {{weight: 10, pause: 5m}}\n      - {{weight: 50, pause: 1h}}\n  overrides:\n    services:\n      worker:\n        delivery: {{strategy: blueGreen}}\n",
            common::minimal_spec("prod", "prod", 2)
        ),
    );
    let docs =
        common::stream(
            s.cmd()
                .args(["render", "prod", "--stdout", "--kind", "Rollout,ConfigMap"]),
        );
    let rollout = |name: &str| {
        docs.iter()
            .find(|d| d["kind"] == "Rollout" && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no Rollout {name}"))
    };
    let web = &rollout("web")["spec"]["strategy"]["canary"];
    assert_eq!(
        web["steps"],
        serde_json::json!([
            {"setWeight": 10}, {"pause": {"duration": "5m"}},
            {"setWeight": 50}, {"pause": {"duration": "1h"}}
        ])
    );
    let worker = &rollout("worker")["spec"]["strategy"]["blueGreen"];
    assert_eq!(worker["activeService"], "worker-active");
    assert_eq!(
        worker["autoPromotionEnabled"], false,
        "prod promotes by hand"
    );
    // web calls the worker's active Service, never its preview.
    let config = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "web-config")
        .unwrap();
    assert_eq!(
        config["data"]["WORKER_URL"],
        "http://worker-active.shop-system.svc:80"
    );
}
