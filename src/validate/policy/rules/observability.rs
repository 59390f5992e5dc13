//! The system's monitoring read as it will run (see `validate::alerting` and
//! `validate::network::services`): every alert reaches a receiver with an integration
//! (PG-O001), every receiver is reachable and every route names what its config defines
//! (PG-O002), every Prometheus that evaluates alerts sends them to a rendered Alertmanager
//! (PG-O003), and no pod port is scraped twice (PG-O004). All of it is computed from the
//! rendered objects, whatever wrote them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::super::{finding, Check, Kinds, Located, Rule};
use crate::diagnostic::Diagnostic;
use crate::spec::Tier;
use crate::validate::alerting::{self, Routing, Tri};
use crate::validate::network::pods::Pods;
use crate::validate::network::services::{self, alertmanager_endpoints};
use crate::validate::Document;

/// The kinds the monitoring is read from, besides the workloads (whose pods monitors
/// scrape).
const KINDS: &[&str] = &[
    "Prometheus",
    "PrometheusRule",
    "Alertmanager",
    "AlertmanagerConfig",
    "ServiceMonitor",
    "PodMonitor",
    "Service",
    "Namespace",
    "Cluster",
    "RedisCluster",
    "Redis",
    "OpenTelemetryCollector",
];

pub const O001: Rule = Rule {
    id: "PG-O001",
    title: "every alert of every PrometheusRule reaches a receiver with an integration (a critical one at any hour), through the Alertmanager's matcher strategy and the AlertmanagerConfigs' routes",
    rationale: "an alert that ends at a receiver without integrations, or that no Prometheus evaluates, pages no one while every object passes its schema; a critical alert held to business hours waits for the morning",
    kinds: Kinds::WithWorkloads(KINDS),
    checks: &[Check::Tree(alerts_delivered)],
};

pub const O002: Rule = Rule {
    id: "PG-O002",
    title: "every receiver of an AlertmanagerConfig is reachable by a route, and every route names a receiver and time intervals the config defines",
    rationale: "the operator refuses a config whose route names what it does not define (none of its alerts is routed), and a receiver no route reaches is a notification channel that silently never fires",
    kinds: Kinds::Only(&["AlertmanagerConfig"]),
    checks: &[Check::Tree(receivers_reachable)],
};

pub const O003: Rule = Rule {
    id: "PG-O003",
    title: "every Prometheus that evaluates alerts sends them to an Alertmanager of the tree: each spec.alerting.alertmanagers entry names a Service (rendered, or alertmanager-operated of a rendered Alertmanager), a port of it, and Alertmanager pods behind it",
    rationale: "Prometheus fires alerts into an endpoint that resolves to nothing without an error anyone sees; the alerts exist only on its own status page",
    kinds: Kinds::WithWorkloads(KINDS),
    checks: &[Check::Tree(alertmanagers_resolve)],
};

pub const O004: Rule = Rule {
    id: "PG-O004",
    title: "no pod port is scraped twice by one Prometheus (two monitors, or one ServiceMonitor through two Services)",
    rationale: "a series scraped twice is stored twice with different target labels: sums and rates double, and every alert on it fires twice",
    kinds: Kinds::WithWorkloads(KINDS),
    checks: &[Check::Tree(scraped_once)],
};

fn at(o: &Located, field: &str, id: &'static str, message: String) -> Diagnostic {
    finding(&o.file, &o.doc, field, id, message)
}

fn located<'a>(objects: &'a [Located], doc: &Document) -> Option<&'a Located> {
    objects.iter().find(|o| std::ptr::eq(&o.doc, doc))
}

fn label_list(labels: &BTreeMap<String, Option<String>>) -> String {
    let shown: Vec<String> = labels
        .iter()
        .filter(|(k, _)| *k != "alertname")
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v:?}"),
            None => format!("{k}=<templated>"),
        })
        .collect();
    shown.join(", ")
}

/// Why an alert misses the routes of the configs an Alertmanager loads: each config's top
/// route's matchers that it does not certainly match.
fn missed_routes(routing: &Routing<'_>, labels: &BTreeMap<String, Option<String>>) -> Vec<String> {
    let mut out = Vec::new();
    for r in &routing.root.routes {
        let Some(config) = r.config else {
            continue;
        };
        for m in &r.matchers {
            let how = match m.holds(labels) {
                Tri::Yes => continue,
                Tri::No => "which it does not carry",
                Tri::Maybe => {
                    "which it does not certainly carry (a label of its series, unknown here)"
                }
            };
            let added = m
                .added
                .as_ref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default();
            out.push(format!(
                "the route of {} needs {}{added}, {how}",
                config.doc.describe(),
                m.describe()
            ));
        }
    }
    if routing.loaded.is_empty() {
        out.push("the Alertmanager loads no AlertmanagerConfig (alertmanagerConfigSelector, alertmanagerConfigNamespaceSelector)".to_owned());
    }
    for (config, why) in &routing.refused {
        out.push(format!(
            "the operator refuses {} ({why})",
            config.doc.describe()
        ));
    }
    out
}

fn alerts_delivered(objects: &[Located], _: Tier, out: &mut Vec<Diagnostic>) {
    let alerts = alerting::alerts(objects);
    if alerts.is_empty() {
        return;
    }
    let pods = Pods::of(objects);
    let services = services::services(objects);
    // Each Alertmanager's routing, built once.
    let routings: Vec<Routing<'_>> = pods
        .alertmanager_servers
        .iter()
        .map(|am| alerting::routing(am, objects, &pods))
        .collect();
    // Each Prometheus: the Alertmanagers it reaches.
    let reaches: Vec<BTreeSet<usize>> = pods
        .prometheus_servers
        .iter()
        .map(|p| {
            alertmanager_endpoints(p, &services, &pods)
                .into_iter()
                .flat_map(|e| e.alertmanagers.into_iter().map(|(i, _)| i))
                .collect()
        })
        .collect();
    let mut unevaluated = BTreeSet::new();
    for alert in &alerts {
        let evaluators: Vec<usize> = (0..pods.prometheus_servers.len())
            .filter(|&i| alerting::loads_rule(&pods, pods.prometheus_servers[i], &alert.rule.doc))
            .collect();
        if evaluators.is_empty() {
            if unevaluated.insert(alert.rule.file.clone() + alert.rule.doc.name()) {
                out.push(at(
                    alert.rule,
                    "metadata.labels",
                    "PG-O001",
                    format!(
                        "no Prometheus of the tree evaluates {} (no ruleSelector and ruleNamespaceSelector selects it): its alerts ({}…) never fire",
                        alert.rule.doc.describe(),
                        alert.name
                    ),
                ));
            }
            continue;
        }
        for p in evaluators {
            // Sent nowhere: PG-O003 reports the Prometheus.
            let Some(first) = reaches[p].iter().next() else {
                continue;
            };
            let prometheus = pods.prometheus_servers[p];
            let mut labels = alert.labels.clone();
            for (k, v) in alerting::added_labels(prometheus, alert.rule.doc.namespace()) {
                labels.entry(k).or_insert(Some(v));
            }
            let critical = labels.get("severity") == Some(&Some("critical".to_owned()));
            let fates: Vec<_> = reaches[p]
                .iter()
                .map(|&a| alerting::fate(&routings[a], &labels, critical))
                .collect();
            if fates.iter().any(|f| f.delivered) {
                continue;
            }
            let fate = &fates[0];
            let am = pods.alertmanager_servers[*first];
            let head = format!(
                "alert {} ({}), sent by {} to {}",
                alert.name,
                label_list(&alert.labels),
                prometheus.describe(),
                am.describe()
            );
            let message = if fate.only_within.is_empty() {
                let mut why = missed_routes(&routings[*first], &labels);
                why.dedup();
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!(": {}", why.join("; "))
                };
                format!(
                    "{head}, reaches no receiver with an integration: it can end at receiver {}{why}",
                    fate.undelivered_at
                        .iter()
                        .map(|r| format!("{r:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            } else {
                format!(
                    "{head}, is critical but reaches a receiver only within the time intervals {}: a critical alert must reach someone at any hour",
                    fate.only_within.join(", ")
                )
            };
            out.push(at(alert.rule, &alert.path, "PG-O001", message));
        }
    }
}

/// A matcher as written, for comparing routes.
type Written = (String, String, String);

fn written(route: &Value) -> BTreeSet<Written> {
    route
        .get("matchers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            let s = |k: &str| {
                m.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let op = match s("matchType").as_str() {
                "" if m.get("regex").and_then(Value::as_bool) == Some(true) => "=~".to_owned(),
                "" => "=".to_owned(),
                op => op.to_owned(),
            };
            (s("name"), op, s("value"))
        })
        .collect()
}

/// The receivers a route tree can send to: a route is shadowed when an earlier sibling
/// without `continue` matches whatever it matches (its matchers are among the route's);
/// a route's own receiver gets what none of its children takes (none of them, without
/// `continue`, matches all the route matches).
fn used_receivers(route: &Value, inherited: &str, out: &mut BTreeSet<String>) {
    let receiver = route
        .get("receiver")
        .and_then(Value::as_str)
        .unwrap_or(inherited);
    let own = written(route);
    let children: Vec<&Value> = route
        .get("routes")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let mut takes_all = false;
    let mut catching: Vec<BTreeSet<Written>> = Vec::new();
    for child in children {
        let mine: BTreeSet<Written> = written(child).union(&own).cloned().collect();
        if catching.iter().any(|earlier| earlier.is_subset(&mine)) {
            continue;
        }
        used_receivers(child, receiver, out);
        if child.get("continue").and_then(Value::as_bool) != Some(true) {
            takes_all |= mine == own;
            catching.push(mine);
        }
    }
    if !takes_all {
        out.insert(receiver.to_owned());
    }
}

fn receivers_reachable(objects: &[Located], _: Tier, out: &mut Vec<Diagnostic>) {
    for o in objects
        .iter()
        .filter(|o| o.doc.kind() == "AlertmanagerConfig")
    {
        for (path, why) in alerting::config_problems(&o.doc) {
            out.push(at(
                o,
                &path,
                "PG-O002",
                format!(
                    "{}: {why}, so the operator refuses the whole config",
                    o.doc.describe()
                ),
            ));
        }
        let mut used = BTreeSet::new();
        if let Some(route) = o.doc.value.pointer("/spec/route") {
            used_receivers(route, "", &mut used);
        }
        let receivers = o
            .doc
            .value
            .pointer("/spec/receivers")
            .and_then(Value::as_array);
        for (i, r) in receivers.into_iter().flatten().enumerate() {
            let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
            if !used.contains(name) {
                out.push(at(
                    o,
                    &format!("spec.receivers[{i}]"),
                    "PG-O002",
                    format!(
                        "receiver {name:?} of {} is reached by no route (each route that names it is shadowed by an earlier one, or there is none)",
                        o.doc.describe()
                    ),
                ));
            }
        }
    }
}

fn alertmanagers_resolve(objects: &[Located], _: Tier, out: &mut Vec<Diagnostic>) {
    let pods = Pods::of(objects);
    if pods.prometheus_servers.is_empty() {
        return;
    }
    let services = services::services(objects);
    let alerts = alerting::alerts(objects);
    let rendered: Vec<String> = pods
        .alertmanager_servers
        .iter()
        .map(|a| {
            let svc = crate::validate::network::operator_services::own_service(a)
                .unwrap_or(crate::families::prometheus::model::ALERTMANAGER_SERVICE);
            format!("{}/{svc} (of {})", a.namespace(), a.describe())
        })
        .collect();
    let known = if rendered.is_empty() {
        "the tree renders no Alertmanager".to_owned()
    } else {
        format!("the Alertmanagers' Services: {}", rendered.join(", "))
    };
    for prometheus in &pods.prometheus_servers {
        let Some(o) = located(objects, prometheus) else {
            continue;
        };
        let evaluates = alerts
            .iter()
            .filter(|a| alerting::loads_rule(&pods, prometheus, &a.rule.doc))
            .count();
        let endpoints = alertmanager_endpoints(prometheus, &services, &pods);
        if endpoints.is_empty() && evaluates > 0 {
            out.push(at(
                o,
                "spec.alerting",
                "PG-O003",
                format!(
                    "{} evaluates {evaluates} alerts but names no Alertmanager (spec.alerting.alertmanagers): they are sent nowhere; {known}",
                    prometheus.describe()
                ),
            ));
        }
        let entries = prometheus
            .value
            .pointer("/spec/alerting/alertmanagers")
            .and_then(Value::as_array);
        for e in &endpoints {
            let field = format!("spec.alerting.alertmanagers[{}]", e.index);
            let entry = entries.and_then(|a| a.get(e.index));
            let problem = match (e.service, e.service_port) {
                (None, _) => Some((
                    format!("{field}.name"),
                    format!(
                        "names Service {}/{}, which neither the tree nor an operator creates; {known}",
                        e.namespace, e.name
                    ),
                )),
                (Some(s), None) => Some((
                    format!("{field}.port"),
                    format!(
                        "names port {} of {}, which has no such port (it has {})",
                        e.port,
                        s.describe(),
                        s.ports
                            .iter()
                            .map(|p| p.name.clone().unwrap_or_else(|| p.port.to_string()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
                (Some(s), Some(_)) if e.alertmanagers.is_empty() => Some((
                    field.clone(),
                    format!(
                        "names {}, which selects no Alertmanager's pods of the tree",
                        s.describe()
                    ),
                )),
                _ => None,
            };
            let v1 = entry
                .and_then(|v| v.get("apiVersion"))
                .and_then(Value::as_str)
                == Some("v1");
            if let Some((path, message)) = problem {
                out.push(at(
                    o,
                    &path,
                    "PG-O003",
                    format!("{} {message}", prometheus.describe()),
                ));
            } else if v1 {
                out.push(at(
                    o,
                    &format!("{field}.apiVersion"),
                    "PG-O003",
                    format!(
                        "{} sends alerts with the Alertmanager API v1, which Alertmanager 0.27 and later no longer serve: use v2",
                        prometheus.describe()
                    ),
                ));
            }
        }
    }
}

fn scraped_once(objects: &[Located], _: Tier, out: &mut Vec<Diagnostic>) {
    let pods = Pods::of(objects);
    if pods.prometheus_servers.is_empty() {
        return;
    }
    let services = services::services(objects);
    let scrapes = services::scrapes(objects, &services, &pods);
    for prometheus in &pods.prometheus_servers {
        // (pod, port, path) → the scrapes that reach it.
        let mut by_target: BTreeMap<(usize, u16, &str), Vec<&services::Scrape<'_, '_>>> =
            BTreeMap::new();
        for s in scrapes
            .iter()
            .filter(|s| services::scrapes_monitor(&pods, prometheus, s.monitor))
        {
            let pod = s.pod as *const _ as usize;
            by_target
                .entry((pod, s.port, s.path.as_str()))
                .or_default()
                .push(s);
        }
        for ((_, port, path), list) in by_target {
            if list.len() < 2 {
                continue;
            }
            let ways: Vec<String> = list
                .iter()
                .map(|s| match &s.service {
                    Some(svc) => format!("{} through {svc}", s.monitor.describe()),
                    None => s.monitor.describe(),
                })
                .collect();
            let last = list[list.len() - 1];
            let Some(o) = located(objects, last.monitor) else {
                continue;
            };
            let list_field = if last.monitor.kind() == "PodMonitor" {
                "podMetricsEndpoints"
            } else {
                "endpoints"
            };
            out.push(at(
                o,
                &format!("spec.{list_field}[{}]", last.endpoint),
                "PG-O004",
                format!(
                    "{} scrapes {}:{port}{path} {} times: {}; every series (and every alert on it) is doubled",
                    prometheus.describe(),
                    last.pod.name,
                    list.len(),
                    ways.join("; ")
                ),
            ));
        }
    }
}
