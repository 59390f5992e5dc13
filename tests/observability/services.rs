//! Systems of several services (DESIGN §2a): each service with metrics has its SLIs, error
//! budget, SLO and burn-rate alerts and dashboard rows, named after it and measured
//! against its own objectives; a service without metrics still has its down alert.

use super::*;

/// An environment of a project at `root` (an example), rendered in memory.
fn render_at(root: &std::path::Path, name: &str) -> Tree {
    let ws = Workspace::open(root).unwrap();
    let loaded = ws.load_all();
    portalgen::pipeline::render_env(&loaded, name, &Templates::embedded().unwrap()).unwrap()
}

fn microservices(env: &str) -> Tree {
    render_at(&repo().join("examples/microservices"), env)
}

/// `api-gateway` → `ApiGateway`.
fn camel(s: &str) -> String {
    s.split('-')
        .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
        .collect()
}

/// Every (kind, name) of a rule file: `group`, `record` and `alert` names, in order.
fn rule_names(rules: &Value) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for group in rules["spec"]["groups"].as_array().unwrap() {
        out.push(("group", group["name"].as_str().unwrap().to_owned()));
        for rule in group["rules"].as_array().unwrap() {
            for kind in ["record", "alert"] {
                if let Some(name) = rule[kind].as_str() {
                    out.push((kind, name.to_owned()));
                }
            }
        }
    }
    out
}

/// The services of the microservices example, with whether each exports metrics.
fn example_services() -> Vec<(String, bool)> {
    let text =
        std::fs::read_to_string(repo().join("examples/microservices/portalgen.yaml")).unwrap();
    let system = parse_yaml_documents(&text).unwrap().remove(0).value;
    system["spec"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s.get("metrics").is_some(),
            )
        })
        .collect()
}

/// The SLO alerts (name suffix, severity) of a service in each example environment.
fn slo_alerts(env: &str) -> &'static [(&'static str, &'static str)] {
    match env {
        "dev" => &[],
        "staging" => &[
            ("HighErrorRate", "warning"),
            ("HighLatency", "warning"),
            ("ErrorBudgetLow", "info"),
            ("AvailabilityBelowSLO", "warning"),
        ],
        _ => &[
            ("HighErrorRate", "warning"),
            ("HighLatency", "warning"),
            ("ErrorBudgetLow", "info"),
            ("ErrorBudgetFastBurn", "critical"),
            ("ErrorBudgetSlowBurn", "warning"),
        ],
    }
}

/// The error-ratio windows recorded in each example environment.
fn windows(env: &str) -> &'static [&'static str] {
    match env {
        "dev" => &["5m"],
        "staging" => &["5m", "1h", "1d", "30d"],
        _ => &["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"],
    }
}

/// One service's SLI recording rules (each on its own job), its group, down alert and SLO
/// alerts (with their severities, labelled with the service, over its own SLIs).
fn assert_service_rules(
    env: &str,
    service: &str,
    rules: &Value,
    alerts: &BTreeMap<String, String>,
) {
    let names = rule_names(rules);
    let level = format!("tasks_{}", service.replace('-', "_"));
    let prefix = format!("Tasks{}", camel(service));
    let has = |kind: &str, name: &str| names.iter().any(|(k, n)| *k == kind && n == name);
    let records = [
        format!("{level}:http_requests:rate5m"),
        format!("{level}:http_request_duration_seconds:p95_rate5m"),
    ];
    let ratios = windows(env)
        .iter()
        .map(|w| format!("{level}:http_request_errors:ratio_rate{w}"));
    for record in records.into_iter().chain(ratios) {
        assert!(has("record", &record), "{env}: no {record}");
    }
    assert!(
        has("group", &format!("tasks-{service}-sli.rules")),
        "{env} {service}"
    );
    for group in rules["spec"]["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let record = rule["record"].as_str().unwrap_or_default();
            if record.starts_with(&format!("{level}:")) {
                let expr = rule["expr"].as_str().unwrap();
                assert!(
                    expr.contains(&format!("job=\"{service}\"")),
                    "{record}: {expr}"
                );
            }
        }
    }
    assert_eq!(alerts[&format!("{prefix}Down")], "critical", "{env}");
    for (what, severity) in slo_alerts(env) {
        let name = format!("{prefix}{what}");
        assert_eq!(
            alerts.get(&name).map(String::as_str),
            Some(*severity),
            "{env} {name}"
        );
        let rule = alert_rule(rules, &name).unwrap();
        assert_eq!(rule["labels"]["service"], service, "{name}");
        let expr = rule["expr"].as_str().unwrap();
        assert!(expr.contains(&format!("{level}:")), "{name}");
    }
    if env == "dev" {
        assert!(!alerts.contains_key(&format!("{prefix}HighErrorRate")));
    }
}

#[test]
fn every_service_with_metrics_has_its_slis_and_burn_rate_alerts() {
    let services = example_services();
    assert_eq!(services.len(), 5);
    for env in ["dev", "staging", "prod"] {
        let tree = microservices(env);
        let rules = rules(&tree);
        let names = rule_names(&rules);
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{env}: a name is given twice");
        let text = rules.to_string();
        assert!(
            !text.contains("portal-app") && !text.contains("portal:") && !text.contains("Portal"),
            "{env}"
        );
        let alerts = alerts(&tree);
        for (service, measured) in &services {
            assert!(measured, "the example's services all export metrics");
            assert_service_rules(env, service, &rules, &alerts);
        }
        // The system-wide rules are named after the system.
        assert!(
            alerts.contains_key("TasksPostgresDown")
                && alerts.contains_key("TasksPluginInstallSuccessLow")
                && names.contains(&("group", "tasks-operational.alerts".to_owned()))
                && names.contains(&(
                    "record",
                    "tasks:plugin_installations:success_ratio_rate30m".to_owned()
                ))
        );
        for (at, expr) in expressions(&tree) {
            let vars = BTreeMap::from([("tenant".to_owned(), "t".to_owned())]);
            let q = promql::substitute(&expr, &vars).unwrap();
            assert!(promql::parse(&q).is_ok(), "{env} {at}: {expr}");
        }
    }
}

#[test]
fn each_service_is_measured_against_its_own_objectives() {
    // auth-service: 99.95 % and 300 ms; task-service: 1 s; the rest the tier's.
    let prod = rules(&microservices("prod"));
    let expr = |name: &str| {
        alert_rule(&prod, name).unwrap()["expr"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(expr("TasksAuthServiceErrorBudgetFastBurn").contains("(14.4 * 0.0005)"));
    assert!(expr("TasksApiGatewayErrorBudgetFastBurn").contains("(14.4 * 0.001)"));
    assert!(expr("TasksAuthServiceHighLatency").ends_with("> 0.3"));
    assert!(expr("TasksTaskServiceHighLatency").ends_with("> 1"));
    assert!(expr("TasksAuthServiceHighErrorRate").ends_with("> 0.001"));
}

/// The rows of a dashboard: each row's title and the expressions of its panels.
fn dashboard_rows(d: &Value) -> Vec<(String, Vec<String>)> {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        if p["type"] == "row" {
            rows.push((p["title"].as_str().unwrap().to_owned(), Vec::new()));
        } else {
            let exprs = p["targets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["expr"].as_str().unwrap().to_owned());
            rows.last_mut().expect("a row header first").1.extend(exprs);
        }
    }
    rows
}

#[test]
fn dashboards_have_a_row_per_service_each_querying_its_own() {
    let services = example_services();
    let tree = microservices("prod");
    let selects = |e: &str, service: &str| {
        e.contains(&format!("\"{service}\""))
            || e.contains(&format!("tasks_{}:", service.replace('-', "_")))
    };
    for slug in ["tasks-overview", "tasks-slo"] {
        let d: Value =
            serde_json::from_str(text(&tree, &format!("grafana/dashboards/{slug}.json"))).unwrap();
        let rows = dashboard_rows(&d);
        let titles: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
        let mut expected: Vec<&str> = services.iter().map(|(s, _)| s.as_str()).collect();
        // The overview's last row is the trace collector's.
        if slug == "tasks-overview" {
            expected.push("Tracing");
        }
        assert_eq!(titles, expected, "{slug}");
        for (service, exprs) in rows.iter().filter(|(t, _)| t != "Tracing") {
            for e in exprs {
                assert!(selects(e, service), "{slug} {service}: {e}");
                for (other, _) in services.iter().filter(|(o, _)| o != service) {
                    assert!(!selects(e, other), "{slug} {service}: {e}");
                }
            }
        }
    }
}

#[test]
fn a_services_fast_burn_alert_fires_at_its_own_budget() {
    let rules = rules(&microservices("prod"));
    let Some(promtool) = promtool() else { return };
    // 0.4 % of requests fail on both services, for an hour. auth-service's budget is
    // 0.05 % (99.95 %): 8 times its budget, over 6 × 0.05 % on 6h and 30m, so it pages.
    // api-gateway's is 0.1 %: 4 times, under both pairs (14.4 and 6 times), so it does not.
    let series: Vec<(String, String)> = ["auth-service", "api-gateway"]
        .iter()
        .flat_map(|job| {
            [
                (
                    format!("http_requests_total{{job=\"{job}\",status=\"200\"}}"),
                    "0+996x120".to_owned(),
                ),
                (
                    format!("http_requests_total{{job=\"{job}\",status=\"500\"}}"),
                    "0+4x120".to_owned(),
                ),
            ]
        })
        .collect();
    let series: Vec<(&str, &str)> = series
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let rule = alert_rule(&rules, "TasksAuthServiceErrorBudgetFastBurn").unwrap();
    let fired =
        serde_json::json!([{"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}]);
    promtool_test(
        &promtool,
        &rules,
        &series,
        "TasksAuthServiceErrorBudgetFastBurn",
        "60m",
        fired,
    );
    promtool_test(
        &promtool,
        &rules,
        &series,
        "TasksApiGatewayErrorBudgetFastBurn",
        "60m",
        serde_json::json!([]),
    );
    // Before any request, nothing burns.
    promtool_test(
        &promtool,
        &rules,
        &[],
        "TasksAuthServiceErrorBudgetFastBurn",
        "60m",
        serde_json::json!([]),
    );
}

/// A system of two services, `web` (with metrics if `measured`) and `worker` (without),
/// rendered to staging through the CLI.
fn system_with_an_unmeasured_service(s: &Scratch, measured: bool) -> std::path::PathBuf {
    let metrics = if measured {
        "\n      metrics: {port: 3000}"
    } else {
        ""
    };
    std::fs::write(
        s.root().join("portalgen.yaml"),
        format!(
            "apiVersion: portalgen.dev/v1alpha1
kind: System
metadata:
  name: shop
spec:
  services:
    - name: web
      port: 3000
      routes: [\"/\"]{metrics}
      slo: {{latencyP95: 250ms}}
    - name: worker
      port: 3001
      uses: [database]
"
        ),
    )
    .unwrap();
    s.write_env("staging", &common::minimal_spec("staging", "staging", 2));
    let out = s.root().join("out");
    s.cmd()
        .args(["render", "staging", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    out.join("staging")
}

#[test]
fn a_service_without_metrics_gets_no_slis_but_a_down_alert_and_its_pods() {
    let s = Scratch::new();
    let out = system_with_an_unmeasured_service(&s, true);
    let text = std::fs::read_to_string(out.join("prometheus/rules.yaml")).unwrap();
    let rules = parse_yaml_documents(&text).unwrap().remove(0).value;
    let names = rule_names(&rules);
    assert!(names
        .iter()
        .any(|(k, n)| *k == "record" && n == "shop_web:http_requests:rate5m"));
    assert!(
        !names
            .iter()
            .any(|(_, n)| n.starts_with("shop_worker") || n.starts_with("shop-worker")),
        "{names:?}"
    );
    let down = alert_rule(&rules, "ShopWorkerDown").expect("a down alert");
    assert_eq!(
        down["expr"],
        "absent(kube_deployment_status_replicas_available{namespace=\"shop-system\",deployment=\"worker\"} >= 1)"
    );
    assert!(alert_rule(&rules, "ShopWorkerHPAMaxedOut").is_some());
    // kube-state-metrics' series of the system's namespaces are kept: the alert can fire.
    let ksm =
        std::fs::read_to_string(out.join("prometheus/monitors/kube-state-metrics.yaml")).unwrap();
    let ksm = parse_yaml_documents(&ksm).unwrap().remove(0).value;
    let relabel = &ksm["spec"]["endpoints"][0]["metricRelabelings"];
    assert!(
        relabel
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["sourceLabels"][0] == "namespace" && r["regex"] == "shop-.+"),
        "{relabel}"
    );
    assert!(alert_rule(&rules, "ShopWorkerHighErrorRate").is_none());
    assert!(alert_rule(&rules, "ShopWebHighLatency").unwrap()["expr"]
        .as_str()
        .unwrap()
        .ends_with("> 0.25"));

    let dashboard = |slug: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("grafana/dashboards/{slug}.json"))).unwrap(),
        )
        .unwrap()
    };
    let overview = dashboard("shop-overview");
    let panels = overview["panels"].as_array().unwrap();
    let worker = panels
        .iter()
        .position(|p| p["type"] == "row" && p["title"] == "worker")
        .unwrap();
    let titles: Vec<&str> = panels[worker + 1..]
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    // The overview ends with the tracing row.
    assert_eq!(
        titles,
        [
            "Ready pods",
            "Pods",
            "Tracing",
            "Spans received and exported",
            "Spans dropped",
            "Exporter queue"
        ]
    );
    let slo = dashboard("shop-slo");
    let rows: Vec<&str> = slo["panels"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "row")
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(rows, ["web"]);

    let Some(promtool) = promtool() else { return };
    let ready = "kube_deployment_status_replicas_available{namespace=\"shop-system\",deployment=\"worker\"}";
    let fired =
        serde_json::json!([{"exp_labels": down["labels"], "exp_annotations": down["annotations"]}]);
    promtool_test(
        &promtool,
        &rules,
        &[(ready, "0x20")],
        "ShopWorkerDown",
        "10m",
        fired.clone(),
    );
    // No series at all (kube-state-metrics not scraped) is as bad.
    promtool_test(&promtool, &rules, &[], "ShopWorkerDown", "10m", fired);
    promtool_test(
        &promtool,
        &rules,
        &[(ready, "2x20")],
        "ShopWorkerDown",
        "10m",
        serde_json::json!([]),
    );
}

#[test]
fn a_system_without_metrics_has_no_slo_dashboard() {
    let s = Scratch::new();
    let out = system_with_an_unmeasured_service(&s, false);
    let dashboards = out.join("grafana/dashboards");
    assert!(dashboards.join("shop-overview.json").is_file());
    assert!(!dashboards.join("shop-slo.json").exists());
    assert!(!out.join("grafana/configmaps/shop-slo.yaml").exists());
    let text = std::fs::read_to_string(out.join("prometheus/rules.yaml")).unwrap();
    let rules = parse_yaml_documents(&text).unwrap().remove(0).value;
    assert!(
        alert_rule(&rules, "ShopWebDown").is_some()
            && alert_rule(&rules, "ShopWorkerDown").is_some()
    );
    assert!(!rule_names(&rules)
        .iter()
        .any(|(k, n)| *k == "record" && n.ends_with(":http_requests:rate5m")));
}
