//! The `prometheus/` and `grafana/` families: what each tier gets, every PromQL expression
//! parsed, and broken templates or dashboards caught with their file and rule or panel.

use crate::common;

use std::collections::BTreeMap;

use common::{repo, Scratch};
use portalgen::output::Tree;
use portalgen::render::Templates;
use portalgen::spec::Workspace;
use portalgen::validate::{self, parse_yaml_documents, promql};
use serde_json::Value;

fn render(name: &str) -> Tree {
    let ws = Workspace::open(&repo()).unwrap();
    let loaded = ws.load_all();
    portalgen::pipeline::render_env(&loaded, name, &Templates::embedded().unwrap()).unwrap()
}

fn text<'a>(tree: &'a Tree, path: &str) -> &'a str {
    std::str::from_utf8(
        tree.files
            .get(path)
            .unwrap_or_else(|| panic!("{path} is not rendered")),
    )
    .unwrap()
}

fn rules(tree: &Tree) -> Value {
    parse_yaml_documents(text(tree, "prometheus/rules.yaml"))
        .unwrap()
        .remove(0)
        .value
}

/// (name, severity) of every alert.
fn alerts(tree: &Tree) -> BTreeMap<String, String> {
    let rules = rules(tree);
    let mut out = BTreeMap::new();
    for group in rules["spec"]["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            if let Some(name) = rule["alert"].as_str() {
                out.insert(
                    name.to_owned(),
                    rule["labels"]["severity"].as_str().unwrap().to_owned(),
                );
            }
        }
    }
    out
}

/// Every PromQL expression of a rendered environment: rules and dashboard targets (the
/// JSON files and their ConfigMap copies), with where it is.
fn expressions(tree: &Tree) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let rules = rules(tree);
    for group in rules["spec"]["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            out.push((
                "rules".to_owned(),
                rule["expr"].as_str().unwrap().to_owned(),
            ));
        }
    }
    for (path, bytes) in &tree.files {
        let dashboards: Vec<Value> = if path.starts_with("grafana/dashboards/") {
            vec![serde_json::from_slice(bytes).unwrap()]
        } else if path.starts_with("grafana/configmaps/") {
            let doc = parse_yaml_documents(std::str::from_utf8(bytes).unwrap())
                .unwrap()
                .remove(0);
            doc.value["data"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| serde_json::from_str(v.as_str().unwrap()).unwrap())
                .collect()
        } else {
            continue;
        };
        for d in dashboards {
            for panel in d["panels"].as_array().unwrap() {
                // Row headers have no targets.
                for t in panel["targets"].as_array().into_iter().flatten() {
                    out.push((path.clone(), t["expr"].as_str().unwrap().to_owned()));
                }
            }
        }
    }
    out
}

#[test]
fn each_tier_gets_its_alerts() {
    let names = |tree: &Tree| alerts(tree).keys().cloned().collect::<Vec<_>>();
    let core = [
        "PortalAppDown",
        "PortalPluginInstallSuccessLow",
        "PortalPodCrashLooping",
        "PortalPostgresDown",
        "PortalRedisDown",
        "PortalTracingExportFailing",
        "PortalTracingExporterQueueFull",
        "PortalTracingSpansDropped",
    ];
    // basic: core alerts only (no HPA, no replica, no backups in dev).
    assert_eq!(names(&render("dev")), core);

    // full: + HPA, replication, Velero, SLO alerts; no burn rates, no WAL archiving.
    let staging = alerts(&render("staging"));
    for name in core.iter().chain(&[
        "PortalHPAMaxedOut",
        "PortalPostgresReplicationLag",
        "PortalVeleroBackupFailed",
        "PortalVeleroBackupTooOld",
        "PortalHighErrorRate",
        "PortalHighLatency",
        "PortalAvailabilityBelowSLO",
        "PortalErrorBudgetLow",
    ]) {
        assert!(staging.contains_key(*name), "staging lacks {name}");
    }
    assert_eq!(staging.len(), 16);
    assert!(!staging.contains_key("PortalErrorBudgetFastBurn"));
    assert!(!staging.contains_key("PortalPostgresWALArchivingFailing"));

    // enterprise: multi-window multi-burn-rate; a fast burn pages, a slow burn is a ticket.
    for env in ["prod-us", "prod-eu"] {
        let prod = alerts(&render(env));
        assert_eq!(prod["PortalErrorBudgetFastBurn"], "critical", "{env}");
        assert_eq!(prod["PortalErrorBudgetSlowBurn"], "warning", "{env}");
        assert_eq!(
            prod["PortalPostgresWALArchivingFailing"], "critical",
            "{env}"
        );
        assert!(!prod.contains_key("PortalAvailabilityBelowSLO"), "{env}");
        assert_eq!(prod.len(), 18, "{env}");
    }
    let prod = rules(&render("prod-us")).to_string();
    for window in ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"] {
        assert!(
            prod.contains(&format!(
                "\"record\":\"portal:http_request_errors:ratio_rate{window}\""
            )),
            "{window}"
        );
    }
}

#[test]
fn every_alert_has_severity_summary_description_and_runbook() {
    for env in ["dev", "staging", "prod-us", "prod-eu"] {
        let rules = rules(&render(env));
        for group in rules["spec"]["groups"].as_array().unwrap() {
            for rule in group["rules"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r.get("alert").is_some())
            {
                let name = rule["alert"].as_str().unwrap();
                assert!(
                    promql::SEVERITIES.contains(&rule["labels"]["severity"].as_str().unwrap()),
                    "{env} {name}"
                );
                for key in ["summary", "description"] {
                    assert!(
                        !rule["annotations"][key].as_str().unwrap().is_empty(),
                        "{env} {name} {key}"
                    );
                }
                let domain = if env == "dev" {
                    "dev.portal.example.com"
                } else if env == "staging" {
                    "staging.portal.example.com"
                } else {
                    "portal.example.com"
                };
                assert_eq!(
                    rule["annotations"]["runbook_url"].as_str().unwrap(),
                    format!("https://runbooks.{domain}/portal/{name}")
                );
            }
        }
    }
}

#[test]
fn every_promql_expression_of_every_environment_parses() {
    let mut total = 0;
    for env in ["dev", "staging", "prod-us", "prod-eu"] {
        let tree = render(env);
        let exprs = expressions(&tree);
        let dashboards = exprs
            .iter()
            .filter(|(at, _)| at.starts_with("grafana/"))
            .count();
        // Dashboards come with the full level (staging) and up.
        assert_eq!(
            dashboards == 0,
            env == "dev",
            "{env}: {dashboards} dashboard queries"
        );
        for (at, expr) in &exprs {
            let vars = BTreeMap::from([("tenant".to_owned(), "t".to_owned())]);
            let q = promql::substitute(expr, &vars).unwrap();
            assert!(promql::parse(&q).is_ok(), "{env} {at}: {expr}");
        }
        total += exprs.len();
    }
    assert!(total > 150, "only {total} expressions");
}

#[test]
fn alert_routing_uses_pagerduty_only_where_asked_and_secrets_by_reference() {
    let doc = |env: &str| {
        parse_yaml_documents(text(&render(env), "prometheus/alertmanager-config.yaml"))
            .unwrap()
            .remove(0)
            .value
    };
    let prod = doc("prod-us");
    let routes = prod["spec"]["route"]["routes"].as_array().unwrap();
    assert_eq!(routes[0]["receiver"], "pagerduty");
    assert_eq!(routes[0]["matchers"][0]["value"], "critical");
    assert!(
        routes[0].get("activeTimeIntervals").is_none(),
        "pages at any hour"
    );
    assert_eq!(routes[1]["receiver"], "slack");
    assert_eq!(routes[1]["activeTimeIntervals"][0], "business-hours");
    // Info alerts: a daily digest by email, not a receiver without integrations.
    assert_eq!(routes[2]["matchers"][0]["value"], "info");
    assert_eq!(routes[2]["receiver"], "email");
    assert_eq!(routes[2]["groupInterval"], "24h");
    assert_eq!(routes[2]["repeatInterval"], "24h");
    let receivers = prod["spec"]["receivers"].as_array().unwrap();
    assert_eq!(receivers[0]["slackConfigs"][0]["channel"], "#portal-alerts");
    assert_eq!(
        receivers[0]["slackConfigs"][0]["apiURL"]["name"],
        "alertmanager-slack"
    );
    assert_eq!(
        receivers[1]["pagerdutyConfigs"][0]["routingKey"]["name"],
        "alertmanager-pagerduty"
    );
    let email = &receivers[2]["emailConfigs"][0];
    assert_eq!(email["to"], "alerts@portal.example.com");
    assert_eq!(email["smarthost"], "smtp.portal.example.com:587");
    assert_eq!(email["authPassword"]["name"], "alertmanager-smtp");
    assert_eq!(email["authPassword"]["key"], "password");
    assert!(!prod.to_string().contains("\"null\""));
    let inhibit = &prod["spec"]["inhibitRules"][0];
    assert_eq!(inhibit["sourceMatch"][0]["value"], "critical");
    assert_eq!(inhibit["targetMatch"][0]["value"], "warning");
    // Business hours in the region's location, written in UTC: New York, and Dublin.
    let hours = |v: &Value| {
        let i = &v["spec"]["muteTimeIntervals"][0];
        assert_eq!(i["name"], "business-hours");
        let t = &i["timeIntervals"][0];
        (
            t["weekdays"][0].as_str().unwrap().to_owned(),
            t["times"][0]["startTime"].as_str().unwrap().to_owned(),
            t["times"][0]["endTime"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(
        hours(&prod),
        ("monday:friday".into(), "13:00".into(), "22:00".into())
    );
    assert_eq!(
        hours(&doc("prod-eu")),
        ("monday:friday".into(), "08:00".into(), "17:00".into())
    );

    // Without pagerduty: true, critical alerts go to Slack, at any hour, and no PagerDuty
    // receiver exists.
    let staging = doc("staging");
    let critical = &staging["spec"]["route"]["routes"][0];
    assert_eq!(critical["receiver"], "slack");
    assert!(critical.get("activeTimeIntervals").is_none());
    assert!(!staging.to_string().contains("pagerduty"));
    assert_eq!(
        staging["spec"]["receivers"][0]["slackConfigs"][0]["channel"],
        "#portal-staging-alerts"
    );
}

#[test]
fn the_alertmanager_is_rendered_per_tier_and_selects_the_config_across_namespaces() {
    for (env, replicas) in [("dev", 1), ("staging", 2), ("prod-us", 3)] {
        let tree = render(env);
        let am = parse_yaml_documents(text(&tree, "prometheus/alertmanager.yaml"))
            .unwrap()
            .remove(0)
            .value;
        let config = parse_yaml_documents(text(&tree, "prometheus/alertmanager-config.yaml"))
            .unwrap()
            .remove(0)
            .value;
        assert_eq!(am["spec"]["replicas"], replicas, "{env}");
        assert_eq!(
            am["spec"]["alertmanagerConfigMatcherStrategy"]["type"],
            "OnNamespaceExceptForAlertmanagerNamespace"
        );
        // Its selector matches the config's labels, in the config's namespace.
        for (k, v) in am["spec"]["alertmanagerConfigSelector"]["matchLabels"]
            .as_object()
            .unwrap()
        {
            assert_eq!(&config["metadata"]["labels"][k], v, "{env}: {k}");
        }
        assert_eq!(am["metadata"]["namespace"], config["metadata"]["namespace"]);
        assert_eq!(am["spec"]["securityContext"]["runAsNonRoot"], true);
        assert_eq!(
            am["spec"]["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        // The Prometheus sends to the Service the operator makes for it.
        let prometheus = parse_yaml_documents(text(&tree, "prometheus/prometheus.yaml"))
            .unwrap()
            .remove(0)
            .value;
        let to = &prometheus["spec"]["alerting"]["alertmanagers"][0];
        assert_eq!(to["name"], "alertmanager-operated");
        assert_eq!(to["namespace"], am["metadata"]["namespace"]);
        assert_eq!(to["port"], "web");
    }
}

#[test]
fn the_email_digest_follows_the_spec_and_a_bad_relay_is_refused() {
    let s = Scratch::new();
    let spec = common::minimal_spec("dev", "dev", 1).replace(
        "    slackChannel: \"#alerts\"\n",
        "    slackChannel: \"#alerts\"\n    email:\n      to: oncall@example.org\n      smarthost: mail.example.org:2525\n",
    );
    s.write_env("dev", &spec);
    let out = s
        .cmd()
        .args(["render", "dev", "--out", "out"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr_of(&out));
    let config =
        std::fs::read_to_string(s.root().join("out/dev/prometheus/alertmanager-config.yaml"))
            .unwrap();
    assert!(config.contains("- to: oncall@example.org\n"), "{config}");
    assert!(
        config.contains("smarthost: mail.example.org:2525\n"),
        "{config}"
    );
    assert!(
        config.contains("from: alertmanager@dev.example.com\n"),
        "{config}"
    );
    // The relay without a port.
    s.write_env(
        "dev",
        &spec.replace("mail.example.org:2525", "mail.example.org"),
    );
    let out = s.cmd().args(["validate", "dev"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = common::stdout_of(&out) + &common::stderr_of(&out);
    assert!(err.contains("spec.alerting.email.smarthost"), "{err}");
    assert!(err.contains("environments/dev.yaml:23:18"), "{err}");
}

#[test]
fn dashboards_exist_from_the_full_tier_and_configmaps_carry_the_same_json() {
    let dev = render("dev");
    assert!(!dev.files.keys().any(|p| p.starts_with("grafana/")));
    let staging = render("staging");
    for slug in ["portal-overview", "portal-saas", "portal-slo"] {
        let json = text(&staging, &format!("grafana/dashboards/{slug}.json"));
        let cm = parse_yaml_documents(text(&staging, &format!("grafana/configmaps/{slug}.yaml")))
            .unwrap()
            .remove(0)
            .value;
        assert_eq!(cm["metadata"]["namespace"], "monitoring");
        assert_eq!(cm["metadata"]["labels"]["grafana_dashboard"], "1");
        assert_eq!(cm["data"][format!("{slug}.json")].as_str().unwrap(), json);
        let d: Value = serde_json::from_str(json).unwrap();
        assert!(d["uid"].as_str().unwrap().len() <= 40);
    }
}

#[test]
fn two_panels_sharing_an_id_are_rejected() {
    let staging = render("staging");
    let path = "grafana/dashboards/portal-overview.json";
    let mut d: Value = serde_json::from_str(text(&staging, path)).unwrap();
    assert!(validate::check_file(path, "grafana/dashboard.json", &d.to_string()).is_empty());
    d["panels"][2]["id"] = d["panels"][0]["id"].clone();
    let problems = validate::check_file(path, "grafana/dashboard.json", &d.to_string());
    let all = problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        all.contains("panel id 1 is also used by panel 'Request rate'"),
        "{all}"
    );
    assert!(
        all.contains("grafana/dashboards/portal-overview.json"),
        "{all}"
    );

    // The same dashboard inside its ConfigMap is checked too.
    let cm_path = "grafana/configmaps/portal-overview.yaml";
    let broken = text(&staging, cm_path).replacen("\"id\": 3,", "\"id\": 1,", 1);
    let problems = validate::check_file(cm_path, "grafana/configmap.yaml", &broken);
    assert!(
        problems
            .iter()
            .any(|d| d.message.contains("panel id 1 is also used")),
        "{problems:?}"
    );
}

#[test]
fn a_broken_dashboard_query_names_the_panel() {
    let staging = render("staging");
    let path = "grafana/dashboards/portal-saas.json";
    let mut d: Value = serde_json::from_str(text(&staging, path)).unwrap();
    d["panels"][1]["targets"][0]["expr"] =
        Value::from("sum(rate(portal_tenant_requests_total[$__rate_interval])");
    let problems = validate::check_file(path, "grafana/dashboard.json", &d.to_string());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0]
        .message
        .contains("PromQL expression does not parse"));
    assert_eq!(
        problems[0]
            .path
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("panel 'Tenant request rate', target A")
    );
}

/// A copy of an embedded template, edited, in a `--templates` folder.
fn override_template(s: &Scratch, name: &str, edit: impl Fn(&str) -> String) -> std::path::PathBuf {
    let original = std::fs::read_to_string(repo().join("templates").join(name)).unwrap();
    let edited = edit(&original);
    assert_ne!(edited, original, "the edit changed nothing");
    let dir = s.root().join("my-templates");
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, edited).unwrap();
    dir
}

#[test]
fn a_broken_promql_expression_in_a_template_aborts_render_naming_file_and_rule() {
    let s = Scratch::shipped();
    // Unbalance the range of every 5m recording rule.
    let dir = override_template(&s, "prometheus/rules.yaml", |t| {
        t.replacen(
            "expr: {{ rule.expr | yaml }}",
            "expr: {{ rule.expr | replace(\"[5m]\", \"[5m\") | yaml }}",
            1,
        )
    });
    let out = s.root().join("out");
    let assert = s
        .cmd()
        .args(["render", "dev", "--out"])
        .arg(&out)
        .arg("--templates")
        .arg(&dir)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("prometheus/rules.yaml (from templates/prometheus/rules.yaml)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("PromQL expression does not parse"),
        "{stderr}"
    );
    assert!(
        stderr.contains("group 'portal-sli.rules', record 'portal:http_requests:rate5m'"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing may be written when a check fails");

    // validate reports the same finding.
    let assert = s
        .cmd()
        .args(["validate", "dev", "--templates"])
        .arg(&dir)
        .assert();
    let output = assert.get_output();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_ne!(output.status.code(), Some(0));
    assert!(
        all.contains("record 'portal:http_requests:rate5m'"),
        "{all}"
    );
}

#[test]
fn an_alert_without_a_runbook_aborts_render() {
    let s = Scratch::shipped();
    let dir = override_template(&s, "prometheus/rules.yaml", |t| {
        t.replace(
            "annotations:{{ rule.annotations | toyaml(12) }}",
            "annotations:\n            summary: {{ rule.annotations.summary | yaml }}\n            description: {{ rule.annotations.description | yaml }}",
        )
    });
    let assert = s
        .cmd()
        .args(["render", "dev", "--out"])
        .arg(s.root().join("out"))
        .arg("--templates")
        .arg(&dir)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("alert 'PortalAppDown'")
            && stderr.contains("has no runbook_url annotation"),
        "{stderr}"
    );
}

#[test]
fn prometheus_size_follows_the_tier() {
    for (env, replicas, storage) in [
        ("dev", 1, "20Gi"),
        ("staging", 2, "100Gi"),
        ("prod-us", 2, "500Gi"),
    ] {
        let tree = render(env);
        let p = parse_yaml_documents(text(&tree, "prometheus/prometheus.yaml"))
            .unwrap()
            .remove(0)
            .value;
        assert_eq!(p["spec"]["replicas"], replicas, "{env}");
        assert_eq!(p["spec"]["retention"], "30d", "{env}");
        assert_eq!(
            p["spec"]["storage"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"],
            storage
        );
        assert_eq!(p["spec"]["externalLabels"]["environment"], env);
        assert_eq!(
            p["spec"]["ruleSelector"]["matchLabels"]["portal.dev/monitoring"],
            "portal"
        );
        let rules = parse_yaml_documents(text(&tree, "prometheus/rules.yaml"))
            .unwrap()
            .remove(0)
            .value;
        assert_eq!(
            rules["metadata"]["labels"]["portal.dev/monitoring"],
            "portal"
        );
        assert_eq!(
            tree.files.contains_key("prometheus/monitors/velero.yaml"),
            env != "dev",
            "{env}"
        );
    }
}

#[test]
fn an_unknown_field_in_an_operator_resource_is_rejected() {
    let s = Scratch::shipped();
    let dir = override_template(&s, "prometheus/prometheus.yaml", |t| {
        t.replace(
            "  walCompression: true\n",
            "  walCompression: true\n  retentionn: 30d\n",
        )
    });
    let assert = s
        .cmd()
        .args(["render", "dev", "--out"])
        .arg(s.root().join("out"))
        .arg("--templates")
        .arg(&dir)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("prometheus/prometheus.yaml") && stderr.contains("retentionn"),
        "{stderr}"
    );
}

/// `promtool`, if installed. Missing: a failure on CI (`CI=true`), a skip with a note
/// elsewhere, so that a developer without Prometheus can still run the suite.
fn promtool() -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("promtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "promtool is not installed, and CI=true requires it (.ci/run installs it)"
        );
        eprintln!("note: promtool is not installed; skipping the promtool rule tests");
    }
    found
}

/// The rendered `prometheus/rules.yaml` of a staging spec with this autoscaling range,
/// rendered through the CLI.
fn rules_with_autoscaling(s: &Scratch, name: &str, min: u32, max: u32) -> Value {
    let spec = common::minimal_spec(name, "staging", 3)
        + &format!("  overrides:\n    replicas: {min}\n    autoscaling: {{minReplicas: {min}, maxReplicas: {max}}}\n");
    s.write_env(name, &spec);
    let out = s.root().join("out");
    s.cmd()
        .args(["render", name, "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(out.join(name).join("prometheus/rules.yaml")).unwrap();
    parse_yaml_documents(&text).unwrap().remove(0).value
}

fn alert_rule<'a>(rules: &'a Value, name: &str) -> Option<&'a Value> {
    rules["spec"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .find(|r| r["alert"] == name)
}

/// Runs `promtool test rules` on the rule groups of a PrometheusRule, with one test that
/// feeds `series` (as promtool input series) and expects `expected` alerts named `alert` at
/// `eval_time`. Panics with promtool's output on failure.
fn promtool_test(
    promtool: &std::path::Path,
    rules: &Value,
    series: &[(&str, &str)],
    alert: &str,
    eval_time: &str,
    expected: Value,
) {
    let dir = tempfile::tempdir().unwrap();
    // JSON is YAML: promtool reads both files as they are written here.
    let groups = serde_json::json!({"groups": rules["spec"]["groups"]});
    std::fs::write(dir.path().join("rules.yaml"), groups.to_string()).unwrap();
    let input: Vec<Value> = series
        .iter()
        .map(|(s, v)| serde_json::json!({"series": s, "values": v}))
        .collect();
    let test = serde_json::json!({
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": input,
            "alert_rule_test": [{"eval_time": eval_time, "alertname": alert, "exp_alerts": expected}],
        }],
    });
    std::fs::write(dir.path().join("test.yaml"), test.to_string()).unwrap();
    let out = std::process::Command::new(promtool)
        .args(["test", "rules", "test.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool test rules failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const HPA: &str = "namespace=\"portal-system\",horizontalpodautoscaler=\"portal-app\"";

#[test]
fn hpa_maxed_out_fires_after_30_minutes_at_the_maximum_but_never_for_a_pinned_count() {
    let s = Scratch::new();
    // A range: at the maximum for 30 minutes is worth a warning.
    let ranged = rules_with_autoscaling(&s, "ranged", 3, 5);
    let rule = alert_rule(&ranged, "PortalHPAMaxedOut").expect("rendered for a range");
    // Pinned (an override may fix the count, e.g. 1000/1000): always at the maximum, so the
    // alert would fire forever; it is not rendered.
    let pinned = rules_with_autoscaling(&s, "pinned", 4, 4);
    assert!(alert_rule(&pinned, "PortalHPAMaxedOut").is_none());
    assert!(alert_rule(&pinned, "PortalAppDown").is_some());

    let Some(promtool) = promtool() else { return };
    let at_max = |n: u32| {
        vec![
            (
                format!("kube_horizontalpodautoscaler_status_current_replicas{{{HPA}}}"),
                format!("{n}x120"),
            ),
            (
                format!("kube_horizontalpodautoscaler_spec_min_replicas{{{HPA}}}"),
                format!("{}x120", if n == 4 { 4 } else { 3 }),
            ),
            (
                format!("kube_horizontalpodautoscaler_spec_max_replicas{{{HPA}}}"),
                format!("{n}x120"),
            ),
        ]
    };
    let ranged_series = at_max(5);
    let ranged_series: Vec<(&str, &str)> = ranged_series
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let mut labels = serde_json::json!({
        "namespace": "portal-system",
        "horizontalpodautoscaler": "portal-app",
    });
    for (k, v) in rule["labels"].as_object().unwrap() {
        labels[k] = v.clone();
    }
    let fired = serde_json::json!([{"exp_labels": labels, "exp_annotations": rule["annotations"]}]);
    promtool_test(
        &promtool,
        &ranged,
        &ranged_series,
        "PortalHPAMaxedOut",
        "20m",
        serde_json::json!([]),
    );
    promtool_test(
        &promtool,
        &ranged,
        &ranged_series,
        "PortalHPAMaxedOut",
        "40m",
        fired,
    );

    let pinned_series = at_max(4);
    let pinned_series: Vec<(&str, &str)> = pinned_series
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    promtool_test(
        &promtool,
        &pinned,
        &pinned_series,
        "PortalHPAMaxedOut",
        "110m",
        serde_json::json!([]),
    );
}

#[path = "observability/services.rs"]
mod services;

#[path = "observability/behaviour.rs"]
mod behaviour;

/// The Secrets the routing reads, for the tree's table of secrets: each receiver's key,
/// in the AlertmanagerConfig's namespace, and each one the rendered config names.
#[test]
fn the_routing_lists_the_secrets_its_receivers_read() {
    let ws = Workspace::open(&repo()).unwrap();
    let loaded = ws.load_all();
    for (env, expected) in [
        (
            "prod-us",
            &[
                ("alertmanager-slack", "webhook-url"),
                ("alertmanager-pagerduty", "routing-key"),
                ("alertmanager-smtp", "password"),
            ][..],
        ),
        (
            "staging",
            &[
                ("alertmanager-slack", "webhook-url"),
                ("alertmanager-smtp", "password"),
            ][..],
        ),
    ] {
        let model = portalgen::pipeline::model_of(&loaded, env).unwrap();
        let secrets = model.observability.routing.secrets();
        let got: Vec<(&str, &str)> = secrets.iter().map(|s| (s.name, s.key)).collect();
        assert_eq!(got, expected, "{env}");
        let config = render(env);
        let config = text(&config, "prometheus/alertmanager-config.yaml");
        for s in &secrets {
            assert_eq!(s.namespace, "monitoring");
            assert!(s
                .read_by
                .starts_with("AlertmanagerConfig monitoring/portal (receiver "));
            assert!(
                config.contains(&format!("name: {}\n", s.name))
                    && config.contains(&format!("key: {}\n", s.key)),
                "{env}: {} {}",
                s.name,
                s.key
            );
        }
    }
}
