//! Alert delivery and scraping (PG-O001…PG-O004), read from the rendered trees: every
//! shipped tree and example delivers every alert and scrapes every target once, its
//! flow matrix holds the Alertmanager's flows, and each rule fires on a tree broken the
//! way a reviewer would miss it.

use std::collections::BTreeMap;

use super::common;
use super::rule_ids;
use portalgen::spec::Tier;
use portalgen::validate::{network, policy};

fn golden(dir: &str) -> BTreeMap<String, Vec<u8>> {
    common::read_tree(&common::repo().join(dir))
}

fn shipped_trees() -> Vec<String> {
    let mut trees: Vec<String> = ["dev", "staging", "prod-us", "prod-eu"]
        .iter()
        .map(|e| format!("golden/{e}"))
        .collect();
    for (example, envs) in [
        ("microservices", &["dev", "staging", "prod"][..]),
        ("plugin-portal", &["dev", "prod"][..]),
    ] {
        for env in envs {
            trees.push(format!("examples/{example}/golden/{env}"));
        }
    }
    trees
}

/// The PG-O findings (id, message) of a tree.
fn o_findings(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, String)> {
    policy::check_tree(files, Tier::Prod)
        .into_iter()
        .map(|d| (rule_ids(std::slice::from_ref(&d)).remove(0), d.message))
        .filter(|(id, _)| id.starts_with("PG-O"))
        .collect()
}

/// The PG-O findings of `files` with `path` edited by `edit` (which must change it).
fn with(
    files: &BTreeMap<String, Vec<u8>>,
    path: &str,
    edit: impl Fn(&str) -> String,
) -> Vec<(String, String)> {
    let mut files = files.clone();
    let text = String::from_utf8(files[path].clone()).unwrap();
    let edited = edit(&text);
    assert!(edited != text, "the edit changed nothing in {path}");
    files.insert(path.to_owned(), edited.into_bytes());
    o_findings(&files)
}

fn fired(found: &[(String, String)], id: &str, parts: &[&str]) -> bool {
    found
        .iter()
        .any(|(i, m)| i == id && parts.iter().all(|p| m.contains(p)))
}

const AM: &str = "prometheus/alertmanager.yaml";
const AMC: &str = "prometheus/alertmanager-config.yaml";
const PROMETHEUS: &str = "prometheus/prometheus.yaml";

#[test]
fn every_shipped_tree_and_example_delivers_every_alert_and_scrapes_each_target_once() {
    for dir in shipped_trees() {
        let tree = golden(&dir);
        assert!(tree.contains_key(AM), "{dir}: no Alertmanager");
        let found = o_findings(&tree);
        assert!(found.is_empty(), "{dir}: {found:#?}");
    }
}

#[test]
fn the_flow_matrix_holds_the_alertmanagers_flows() {
    let tree = golden("golden/prod-us");
    let objects = policy::tree_objects(&tree);
    let m: Vec<(String, bool, bool)> = network::judge(&objects, |judged| {
        judged
            .iter()
            .map(|j| (network::describe(&j.flow), j.needed, j.verdict.is_ok()))
            .collect()
    });
    let has = |flow: &str, needed: bool| m.iter().any(|(f, n, _)| f == flow && *n == needed);
    for flow in [
        "monitoring/prometheus-portal → monitoring/alertmanager-portal:9093/TCP",
        // Three replicas gossip over the mesh port.
        "monitoring/alertmanager-portal → monitoring/alertmanager-portal:9094/TCP",
        "monitoring/alertmanager-portal → monitoring/alertmanager-portal:9094/UDP",
        // Slack and PagerDuty over HTTPS, the digest through the SMTP relay.
        "monitoring/alertmanager-portal → the internet:443/TCP",
        "monitoring/alertmanager-portal → the internet:587/TCP",
        "monitoring/alertmanager-portal → cluster DNS:53/UDP",
    ] {
        assert!(has(flow, true), "not needed: {flow}\n{m:#?}");
    }
    assert!(
        m.iter().any(|(f, n, _)| !n
            && f.ends_with("a tenant's pod → monitoring/alertmanager-portal:9093/TCP")),
        "{m:#?}"
    );
    // One replica (dev) has no peer to gossip with.
    let dev = golden("golden/dev");
    let objects = policy::tree_objects(&dev);
    let gossip = network::judge(&objects, |judged| {
        judged
            .iter()
            .any(|j| network::describe(&j.flow).contains("alertmanager-portal:9094"))
    });
    assert!(!gossip);
}

#[test]
fn alerts_the_matcher_strategy_hides_from_the_config_are_undelivered() {
    let tree = golden("golden/prod-us");
    // The operator's default strategy: the config only sees namespace="monitoring".
    let found = with(&tree, AM, |t| {
        t.replace(
            "type: OnNamespaceExceptForAlertmanagerNamespace",
            "type: OnNamespace",
        )
    });
    assert!(
        fired(
            &found,
            "PG-O001",
            &[
                "alert PortalAppDown",
                "reaches no receiver with an integration",
                "\"null\"",
                "namespace=\"monitoring\"",
                "alertmanagerConfigMatcherStrategy OnNamespace",
            ]
        ),
        "{found:#?}"
    );
    // Every alert of the rule file is reported, not only the first.
    let alerts = found.iter().filter(|(id, _)| id == "PG-O001").count();
    assert!(alerts >= 10, "{found:#?}");
    // An Alertmanager that selects no config (the label of the config changed).
    let found = with(&tree, AM, |t| {
        t.replacen(
            "  alertmanagerConfigSelector:\n    matchLabels:\n      portal.dev/monitoring: portal",
            "  alertmanagerConfigSelector:\n    matchLabels:\n      portal.dev/monitoring: other",
            1,
        )
    });
    assert!(
        fired(&found, "PG-O001", &["loads no AlertmanagerConfig"]),
        "{found:#?}"
    );
}

#[test]
fn a_receiver_without_integrations_or_a_critical_route_held_to_business_hours_is_found() {
    let tree = golden("golden/prod-us");
    // The info digest's integration removed: the info alert ends at a receiver with none.
    let found = with(&tree, AMC, |t| {
        let start = t.find("      emailConfigs:\n").unwrap();
        let end = t[start..].find("          sendResolved: false\n").unwrap() + start;
        format!(
            "{}{}",
            &t[..start],
            &t[end + "          sendResolved: false\n".len()..]
        )
    });
    assert!(
        fired(
            &found,
            "PG-O001",
            &["alert PortalErrorBudgetLow", "\"monitoring/portal/email\""]
        ),
        "{found:#?}"
    );
    // Critical alerts to PagerDuty only in business hours.
    let found = with(&tree, AMC, |t| {
        t.replacen(
            "        groupWait: 10s\n        repeatInterval: 1h\n",
            "        groupWait: 10s\n        repeatInterval: 1h\n        activeTimeIntervals:\n          - business-hours\n",
            1,
        )
    });
    assert!(
        fired(
            &found,
            "PG-O001",
            &[
                "alert PortalAppDown",
                "is critical",
                "monitoring/portal/business-hours"
            ]
        ),
        "{found:#?}"
    );
    // Warnings held to business hours are fine.
    assert!(
        !fired(&found, "PG-O001", &["PortalHighLatency"]),
        "{found:#?}"
    );
}

#[test]
fn rules_no_prometheus_evaluates_are_found() {
    let tree = golden("golden/prod-us");
    let found = with(&tree, PROMETHEUS, |t| {
        t.replacen(
            "  ruleSelector:\n    matchLabels:\n      portal.dev/monitoring: portal",
            "  ruleSelector:\n    matchLabels:\n      portal.dev/monitoring: nobody",
            1,
        )
    });
    assert!(
        fired(
            &found,
            "PG-O001",
            &["no Prometheus of the tree evaluates PrometheusRule monitoring/portal"]
        ),
        "{found:#?}"
    );
}

#[test]
fn unreachable_receivers_and_undefined_references_are_found() {
    let tree = golden("golden/prod-us");
    // A receiver no route names.
    let found = with(&tree, AMC, |t| {
        t.replacen(
            "  receivers:\n",
            "  receivers:\n    - name: ops\n      webhookConfigs:\n        - url: https://ops.example.com/hook\n",
            1,
        )
    });
    assert!(
        fired(
            &found,
            "PG-O002",
            &["receiver \"ops\"", "reached by no route"]
        ),
        "{found:#?}"
    );
    // A route shadowed by an earlier one without continue: its receiver is never reached.
    let found = with(&tree, AMC, |t| {
        t.replacen("    routes:\n", "    routes:\n      - receiver: slack\n", 1)
    });
    assert!(
        fired(
            &found,
            "PG-O002",
            &["receiver \"pagerduty\"", "reached by no route"]
        ),
        "{found:#?}"
    );
    // A route naming a time interval that is not defined: the operator refuses the config,
    // so no alert is routed at all.
    let found = with(&tree, AMC, |t| {
        t.replacen(
            "          - business-hours\n",
            "          - office-hours\n",
            1,
        )
    });
    assert!(
        fired(
            &found,
            "PG-O002",
            &["\"office-hours\"", "refuses the whole config"]
        ),
        "{found:#?}"
    );
    assert!(
        fired(
            &found,
            "PG-O001",
            &["the operator refuses AlertmanagerConfig monitoring/portal"]
        ),
        "{found:#?}"
    );
}

#[test]
fn alerting_endpoints_that_resolve_to_nothing_are_found() {
    let tree = golden("golden/prod-us");
    // The Service kube-prometheus would create, not one of this tree.
    let found = with(&tree, PROMETHEUS, |t| {
        t.replacen("name: alertmanager-operated", "name: alertmanager-main", 1)
    });
    assert!(
        fired(
            &found,
            "PG-O003",
            &[
                "names Service monitoring/alertmanager-main",
                "monitoring/alertmanager-operated (of Alertmanager monitoring/portal)"
            ]
        ),
        "{found:#?}"
    );
    let found = with(&tree, PROMETHEUS, |t| {
        t.replacen("        port: web\n", "        port: http\n", 1)
    });
    assert!(
        fired(
            &found,
            "PG-O003",
            &["names port \"http\"", "web, tcp-mesh, udp-mesh"]
        ),
        "{found:#?}"
    );
    // No Alertmanager rendered at all (the state before #13).
    let mut without = tree.clone();
    without.remove(AM);
    let found = o_findings(&without);
    assert!(
        fired(&found, "PG-O003", &["the tree renders no Alertmanager"]),
        "{found:#?}"
    );
    // An Alertmanager with its own governing Service gets no alertmanager-operated.
    let found = with(&tree, AM, |t| {
        t.replacen(
            "  replicas: 3\n",
            "  replicas: 3\n  serviceName: portal-alertmanager\n",
            1,
        )
    });
    assert!(
        fired(
            &found,
            "PG-O003",
            &["monitoring/portal-alertmanager (of Alertmanager"]
        ),
        "{found:#?}"
    );
    let found = with(&tree, PROMETHEUS, |t| {
        t.replacen("        apiVersion: v2\n", "        apiVersion: v1\n", 1)
    });
    assert!(fired(&found, "PG-O003", &["API v1"]), "{found:#?}");
}

#[test]
fn a_target_scraped_twice_is_found_as_the_old_redis_service_monitor_did() {
    let tree = golden("golden/prod-us");
    let redis = "prometheus/monitors/portal-redis.yaml";
    // The monitor of the issue: a ServiceMonitor over the operator's Services by `app`,
    // which the main Service and the `-metrics` Service of each node kind both match.
    let found = with(&tree, redis, |t| {
        t.replace("kind: PodMonitor", "kind: ServiceMonitor")
            .replace("podMetricsEndpoints:", "endpoints:")
    });
    assert!(
        fired(
            &found,
            "PG-O004",
            &[
                "Prometheus monitoring/portal scrapes portal-system/portal-redis-leader (Redis leader):9121/metrics 2 times",
                "through Service portal-system/portal-redis-leader (made by its operator from RedisCluster portal-system/portal-redis)",
                "through Service portal-system/portal-redis-leader-metrics",
            ]
        ),
        "{found:#?}"
    );
    assert!(
        fired(
            &found,
            "PG-O004",
            &["portal-redis-follower (Redis follower):9121/metrics"]
        ),
        "{found:#?}"
    );
    // Two monitors of one pod port.
    let app = "prometheus/monitors/portal-app.yaml";
    let mut files = tree.clone();
    let text = String::from_utf8(files[app].clone()).unwrap();
    let copy = text.replacen("name: portal-app\n", "name: portal-app-copy\n", 1);
    files.insert(
        "prometheus/monitors/portal-app-copy.yaml".into(),
        copy.into_bytes(),
    );
    let found = o_findings(&files);
    assert!(
        fired(
            &found,
            "PG-O004",
            &[
                "portal-system/portal-app:3000/metrics 2 times",
                "ServiceMonitor monitoring/portal-app-copy"
            ]
        ),
        "{found:#?}"
    );
}
