//! Alert delivery as the cluster will run it, read from the rendered objects (not from the
//! model): which Prometheus evaluates each PrometheusRule, the labels its alerts are sure to
//! carry (the rule's own, `alertname`, and what the Prometheus and its operator add), the
//! AlertmanagerConfigs each Alertmanager selects, and the routing tree prometheus-operator
//! builds from them for the Alertmanager (its matcher strategy, `continue` on each
//! config's top route, the default root route to the receiver `null`).
//!
//! An alert's labels that come from its series are not known offline: a matcher on one of
//! them may or may not hold, and the routing is followed both ways ([`Route::outcomes`]).
//! An alert is delivered when, whichever way those go, a route it reaches has a receiver
//! with an integration; a critical one also needs such a route without time intervals (it
//! must reach someone at any hour). The rules that report it are PG-O001…PG-O003
//! (`policy/rules/observability.rs`).
//!
//! prometheus-operator 0.93, as read from its source: an Alertmanager selects the
//! AlertmanagerConfigs whose labels match `alertmanagerConfigSelector` (absent: none) in
//! the namespaces of `alertmanagerConfigNamespaceSelector` (absent: its own); each config's
//! route becomes a child of the root route with `continue: true`, its receivers and time
//! intervals named `<namespace>/<name>/<name>`; with `alertmanagerConfigMatcherStrategy`
//! `OnNamespace` (the default) the route also gets `namespace="<config's namespace>"`,
//! with `OnNamespaceExceptForAlertmanagerNamespace` only a config outside the
//! Alertmanager's namespace does, with `None` no config does. A config whose route names a
//! receiver or a time interval it does not define is refused (its routes are not loaded).
//! The root route is the `alertmanagerConfiguration` config's, when named, else the
//! operator's default (receiver `null`, no integration): a base configuration in a Secret
//! (`configSecret`) is not read here.

use std::collections::{BTreeMap, BTreeSet};

use regex::Regex;
use serde_json::Value;

use super::network::pods::{labels_of, Pods};
use super::network::selects;
use super::policy::Located;
use super::{At, Document};

/// An alert of a rendered PrometheusRule.
#[derive(Debug)]
pub struct Alert<'a> {
    pub rule: &'a Located,
    pub name: String,
    /// `spec.groups[0].rules[3]`.
    pub path: String,
    /// The labels of the rule (`None`: a templated value, known only when it fires).
    pub labels: BTreeMap<String, Option<String>>,
}

/// Every alert of the tree's PrometheusRules.
pub fn alerts(objects: &[Located]) -> Vec<Alert<'_>> {
    let mut out = Vec::new();
    for o in objects.iter().filter(|o| is_kind(&o.doc, "PrometheusRule")) {
        let groups = o
            .doc
            .value
            .pointer("/spec/groups")
            .and_then(Value::as_array);
        for (g, group) in groups.into_iter().flatten().enumerate() {
            let rules = group.get("rules").and_then(Value::as_array);
            for (r, rule) in rules.into_iter().flatten().enumerate() {
                let Some(name) = rule.get("alert").and_then(Value::as_str) else {
                    continue;
                };
                let mut labels: BTreeMap<String, Option<String>> = rule
                    .get("labels")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| {
                        let v = v.as_str().filter(|v| !v.contains("{{")).map(str::to_owned);
                        (k.clone(), v)
                    })
                    .collect();
                labels.insert("alertname".to_owned(), Some(name.to_owned()));
                out.push(Alert {
                    rule: o,
                    name: name.to_owned(),
                    path: format!("spec.groups[{g}].rules[{r}]"),
                    labels,
                });
            }
        }
    }
    out
}

fn is_kind(doc: &Document, kind: &str) -> bool {
    doc.kind() == kind && doc.api_version().starts_with("monitoring.coreos.com/")
}

/// Whether an operator resource selects an object by a label selector at `field` (absent:
/// none) and a namespace selector at `ns_field` (absent: the resource's own namespace).
fn selects_object(
    pods: &Pods<'_>,
    by: &Document,
    field: &str,
    ns_field: &str,
    object: &Document,
) -> bool {
    let namespace_ok = match by.value.at(ns_field) {
        Some(sel) => selects(Some(sel), &pods.namespace_labels(object.namespace())),
        None => object.namespace() == by.namespace(),
    };
    namespace_ok
        && selects(
            by.value.at(field),
            &labels_of(object.value.pointer("/metadata/labels")),
        )
}

/// Whether Prometheus `prometheus` evaluates PrometheusRule `rule` (`ruleSelector`,
/// `ruleNamespaceSelector`).
pub fn loads_rule(pods: &Pods<'_>, prometheus: &Document, rule: &Document) -> bool {
    selects_object(
        pods,
        prometheus,
        "/spec/ruleSelector",
        "/spec/ruleNamespaceSelector",
        rule,
    )
}

/// The labels a Prometheus gives every alert of a rule in namespace `rule_namespace`: its
/// `externalLabels`, the operator's `prometheus: <namespace>/<name>` (unless
/// `prometheusExternalLabelName` is empty; the replica label is dropped from alerts), and
/// the namespace label the operator enforces (`enforcedNamespaceLabel`).
pub fn added_labels(prometheus: &Document, rule_namespace: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> =
        labels_of(prometheus.value.pointer("/spec/externalLabels"))
            .into_iter()
            .collect();
    let name = prometheus
        .value
        .pointer("/spec/prometheusExternalLabelName")
        .and_then(Value::as_str)
        .unwrap_or("prometheus");
    if !name.is_empty() {
        out.insert(
            name.to_owned(),
            format!("{}/{}", prometheus.namespace(), prometheus.name()),
        );
    }
    if let Some(label) = prometheus
        .value
        .pointer("/spec/enforcedNamespaceLabel")
        .and_then(Value::as_str)
    {
        out.insert(label.to_owned(), rule_namespace.to_owned());
    }
    out
}

/// The AlertmanagerConfigs Alertmanager `am` selects.
pub fn selected_configs<'a>(
    am: &Document,
    objects: &'a [Located],
    pods: &Pods<'_>,
) -> Vec<&'a Located> {
    objects
        .iter()
        .filter(|o| is_kind(&o.doc, "AlertmanagerConfig"))
        .filter(|o| {
            selects_object(
                pods,
                am,
                "/spec/alertmanagerConfigSelector",
                "/spec/alertmanagerConfigNamespaceSelector",
                &o.doc,
            )
        })
        .collect()
}

/// The receiver fields of an AlertmanagerConfig that are integrations (`slackConfigs`, …),
/// each with the receiver's entries.
fn integrations(receiver: &Value) -> impl Iterator<Item = (&str, &Vec<Value>)> {
    receiver
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.ends_with("Configs"))
        .filter_map(|(k, v)| Some((k.as_str(), v.as_array()?)))
        .filter(|(_, v)| !v.is_empty())
}

/// The ports the Alertmanager reaches its receivers' services on: an email integration
/// its `smarthost`'s port, every other one (Slack, PagerDuty, webhooks, …) HTTPS, 443.
pub fn integration_ports(configs: &[&Located]) -> BTreeSet<u16> {
    let mut out = BTreeSet::new();
    for c in configs {
        let receivers = c
            .doc
            .value
            .pointer("/spec/receivers")
            .and_then(Value::as_array);
        for r in receivers.into_iter().flatten() {
            for (kind, entries) in integrations(r) {
                if kind != "emailConfigs" {
                    out.insert(443);
                    continue;
                }
                for e in entries {
                    let port = e
                        .get("smarthost")
                        .and_then(Value::as_str)
                        .and_then(|h| h.rsplit_once(':'))
                        .and_then(|(_, p)| p.parse::<u16>().ok());
                    out.extend(port);
                }
            }
        }
    }
    out
}

/// A route matcher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub name: String,
    pub op: &'static str,
    pub value: String,
    /// Why the operator added it (not written in the config).
    pub added: Option<String>,
}

impl Matcher {
    /// `name="value"`.
    pub fn describe(&self) -> String {
        format!("{}{}{:?}", self.name, self.op, self.value)
    }

    fn of(v: &Value) -> Option<Matcher> {
        let name = v.get("name").and_then(Value::as_str)?.to_owned();
        let regex = v.get("regex").and_then(Value::as_bool) == Some(true);
        let op = match v.get("matchType").and_then(Value::as_str) {
            Some("!=") => "!=",
            Some("=~") => "=~",
            Some("!~") => "!~",
            Some("=") => "=",
            _ if regex => "=~",
            _ => "=",
        };
        Some(Matcher {
            name,
            op,
            value: v
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            added: None,
        })
    }

    /// Whether it holds for an alert with `labels` (a label not among them may come from
    /// the alert's series: unknown).
    pub fn holds(&self, labels: &BTreeMap<String, Option<String>>) -> Tri {
        let Some(Some(value)) = labels.get(&self.name) else {
            return Tri::Maybe;
        };
        let regex = || {
            Regex::new(&format!("^(?:{})$", self.value))
                .map(|re| re.is_match(value))
                .ok()
        };
        let yes = match self.op {
            "=" => Some(*value == self.value),
            "!=" => Some(*value != self.value),
            "=~" => regex(),
            _ => regex().map(|m| !m),
        };
        match yes {
            Some(true) => Tri::Yes,
            Some(false) => Tri::No,
            None => Tri::Maybe,
        }
    }
}

/// A truth value that may not be known offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Maybe,
}

/// A route of an Alertmanager's configuration.
#[derive(Debug)]
pub struct Route<'a> {
    /// The AlertmanagerConfig it comes from (`None`: the operator's default root).
    pub config: Option<&'a Located>,
    /// Its field in the config: `spec.route`, `spec.route.routes[1]`.
    pub path: String,
    /// The receiver, qualified as the operator names it (`monitoring/portal/slack`).
    pub receiver: String,
    pub matchers: Vec<Matcher>,
    pub continues: bool,
    /// The time intervals it names (active or mute): outside or inside them, it holds
    /// notifications back.
    pub timed: Vec<String>,
    pub routes: Vec<Route<'a>>,
}

/// The most ways an alert's unknown labels are followed before the routing gives up (and
/// calls the alert undelivered).
const MAX_OUTCOMES: usize = 4096;

impl<'a> Route<'a> {
    /// The ways the route matches an alert with `labels`, as Alertmanager matches
    /// (depth first; a matching child without `continue` ends the search among its
    /// siblings; a route none of whose children matches is itself the match): each way is
    /// the list of routes the alert ends at (empty: the route does not match).
    pub fn outcomes(&self, labels: &BTreeMap<String, Option<String>>) -> Vec<Vec<&Route<'a>>> {
        let mut all = Tri::Yes;
        for m in &self.matchers {
            match m.holds(labels) {
                Tri::No => return vec![Vec::new()],
                Tri::Maybe => all = Tri::Maybe,
                Tri::Yes => {}
            }
        }
        // (the routes reached so far, whether a match without `continue` ended the search)
        let mut states: Vec<(Vec<&Route<'a>>, bool)> = vec![(Vec::new(), false)];
        for child in &self.routes {
            let ways = child.outcomes(labels);
            let mut next = Vec::new();
            for (reached, done) in states {
                if done {
                    next.push((reached, true));
                    continue;
                }
                for way in &ways {
                    let mut r = reached.clone();
                    r.extend(way.iter().copied());
                    next.push((r, !way.is_empty() && !child.continues));
                }
            }
            dedup(&mut next);
            next.truncate(MAX_OUTCOMES);
            states = next;
        }
        let mut out: Vec<Vec<&Route<'a>>> = states
            .into_iter()
            .map(|(mut reached, _)| {
                if reached.is_empty() {
                    reached.push(self);
                }
                reached
            })
            .collect();
        if all == Tri::Maybe {
            out.push(Vec::new());
        }
        out
    }

    /// This route and every route under it.
    pub fn walk(&self) -> Vec<&Route<'a>> {
        let mut out = vec![self];
        for r in &self.routes {
            out.extend(r.walk());
        }
        out
    }
}

fn dedup<T>(states: &mut Vec<(Vec<&T>, bool)>) {
    let mut seen = BTreeSet::new();
    states.retain(|(reached, done)| {
        let key: Vec<usize> = reached.iter().map(|r| *r as *const T as usize).collect();
        seen.insert((key, *done))
    });
}

/// The routing an Alertmanager runs, as its operator builds it.
#[derive(Debug)]
pub struct Routing<'a> {
    pub root: Route<'a>,
    /// The integrations of each receiver, by qualified name.
    pub integrations: BTreeMap<String, usize>,
    /// `alertmanagerConfigMatcherStrategy.type` (default `OnNamespace`).
    pub strategy: String,
    /// The configs it selects and loads.
    pub loaded: Vec<&'a Located>,
    /// The configs it selects but the operator refuses, and why.
    pub refused: Vec<(&'a Located, String)>,
}

/// The problems that make the operator refuse an AlertmanagerConfig: a route naming a
/// receiver or a time interval the config does not define, a receiver defined twice.
pub fn config_problems(config: &Document) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let names = |field: &str| -> Vec<String> {
        config
            .value
            .pointer(&format!("/spec/{field}"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|r| r.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let receivers = names("receivers");
    let intervals = names("muteTimeIntervals");
    let mut seen = BTreeSet::new();
    for (i, r) in receivers.iter().enumerate() {
        if !seen.insert(r) {
            out.push((
                format!("spec.receivers[{i}].name"),
                format!("receiver {r:?} is defined twice"),
            ));
        }
    }
    fn walk(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
        out.push((path.clone(), v.clone()));
        for (i, c) in v
            .get("routes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            walk(c, format!("{path}.routes[{i}]"), out);
        }
    }
    let mut routes = Vec::new();
    if let Some(route) = config.value.pointer("/spec/route") {
        walk(route, "spec.route".to_owned(), &mut routes);
    }
    for (path, r) in routes {
        if let Some(name) = r.get("receiver").and_then(Value::as_str) {
            if !receivers.iter().any(|n| n == name) {
                out.push((
                    format!("{path}.receiver"),
                    format!("the route names receiver {name:?}, which the config does not define"),
                ));
            }
        }
        for field in ["activeTimeIntervals", "muteTimeIntervals"] {
            for (i, t) in r
                .get(field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let name = t.as_str().unwrap_or_default();
                if !intervals.iter().any(|n| n == name) {
                    out.push((
                        format!("{path}.{field}[{i}]"),
                        format!("the route names time interval {name:?}, which the config does not define (spec.muteTimeIntervals)"),
                    ));
                }
            }
        }
    }
    out
}

fn convert<'a>(
    config: &'a Located,
    v: &Value,
    path: String,
    parent_receiver: &str,
    prefix: &str,
) -> Route<'a> {
    let receiver = v
        .get("receiver")
        .and_then(Value::as_str)
        .map_or_else(|| parent_receiver.to_owned(), |r| format!("{prefix}{r}"));
    let strings = |field: &str| -> Vec<String> {
        v.get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|s| format!("{prefix}{s}"))
            .collect()
    };
    let mut timed = strings("activeTimeIntervals");
    timed.extend(strings("muteTimeIntervals"));
    let children = v.get("routes").and_then(Value::as_array);
    let routes = children
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| convert(config, c, format!("{path}.routes[{i}]"), &receiver, prefix))
        .collect();
    Route {
        config: Some(config),
        matchers: v
            .get("matchers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Matcher::of)
            .collect(),
        continues: v.get("continue").and_then(Value::as_bool) == Some(true),
        path,
        receiver,
        timed,
        routes,
    }
}

fn receivers_of(config: &Located, prefix: &str, into: &mut BTreeMap<String, usize>) {
    let receivers = config
        .doc
        .value
        .pointer("/spec/receivers")
        .and_then(Value::as_array);
    for r in receivers.into_iter().flatten() {
        if let Some(name) = r.get("name").and_then(Value::as_str) {
            into.insert(format!("{prefix}{name}"), integrations(r).count());
        }
    }
}

/// The routing prometheus-operator builds for Alertmanager `am` of `objects`.
pub fn routing<'a>(am: &Document, objects: &'a [Located], pods: &Pods<'_>) -> Routing<'a> {
    let strategy = am
        .value
        .pointer("/spec/alertmanagerConfigMatcherStrategy/type")
        .and_then(Value::as_str)
        .unwrap_or("OnNamespace")
        .to_owned();
    let mut integrations = BTreeMap::from([("null".to_owned(), 0)]);
    // The global configuration: an AlertmanagerConfig of the Alertmanager's namespace.
    let global_name = am
        .value
        .pointer("/spec/alertmanagerConfiguration/name")
        .and_then(Value::as_str);
    let global = global_name.and_then(|n| {
        objects.iter().find(|o| {
            is_kind(&o.doc, "AlertmanagerConfig")
                && o.doc.name() == n
                && o.doc.namespace() == am.namespace()
        })
    });
    let mut root = match global.and_then(|g| Some((g, g.doc.value.pointer("/spec/route")?))) {
        Some((g, route)) => {
            receivers_of(g, "", &mut integrations);
            convert(g, route, "spec.route".to_owned(), "null", "")
        }
        None => Route {
            config: None,
            path: String::new(),
            receiver: "null".to_owned(),
            matchers: Vec::new(),
            continues: false,
            timed: Vec::new(),
            routes: Vec::new(),
        },
    };
    let mut loaded = Vec::new();
    let mut refused = Vec::new();
    let mut configs = selected_configs(am, objects, pods);
    configs.sort_by_key(|c| (c.doc.namespace().to_owned(), c.doc.name().to_owned()));
    let mut sub = Vec::new();
    for config in configs {
        if global.is_some_and(|g| std::ptr::eq(g, config)) {
            continue;
        }
        if let Some((path, why)) = config_problems(&config.doc).into_iter().next() {
            refused.push((config, format!("{path}: {why}")));
            continue;
        }
        let Some(route) = config.doc.value.pointer("/spec/route") else {
            loaded.push(config);
            continue;
        };
        let ns = config.doc.namespace();
        let prefix = format!("{ns}/{}/", config.doc.name());
        receivers_of(config, &prefix, &mut integrations);
        let mut r = convert(config, route, "spec.route".to_owned(), "null", &prefix);
        let enforce = match strategy.as_str() {
            "None" => false,
            "OnNamespaceExceptForAlertmanagerNamespace" => ns != am.namespace(),
            _ => true,
        };
        if enforce {
            r.matchers.push(Matcher {
                name: "namespace".to_owned(),
                op: "=",
                value: ns.to_owned(),
                added: Some(format!(
                    "the operator adds it (alertmanagerConfigMatcherStrategy {strategy})"
                )),
            });
        }
        r.continues = true;
        sub.push(r);
        loaded.push(config);
    }
    sub.append(&mut root.routes);
    root.routes = sub;
    Routing {
        root,
        integrations,
        strategy,
        loaded,
        refused,
    }
}

/// How an alert fares in a routing: whether it is delivered, and if not, where it can end.
#[derive(Debug)]
pub struct Fate {
    pub delivered: bool,
    /// Where it can end without reaching a receiver with an integration (at any hour, for
    /// a critical alert): the receivers of one such way.
    pub undelivered_at: Vec<String>,
    /// For a critical alert delivered only within time intervals: their names.
    pub only_within: Vec<String>,
}

/// Whether an alert with `labels` reaches a receiver with an integration in `routing`
/// whichever way its unknown labels go (`at_any_hour`: through a route without time
/// intervals).
pub fn fate(
    routing: &Routing<'_>,
    labels: &BTreeMap<String, Option<String>>,
    at_any_hour: bool,
) -> Fate {
    let with_integration = |r: &Route<'_>| routing.integrations.get(&r.receiver).copied() > Some(0);
    for way in routing.root.outcomes(labels) {
        let reached: Vec<&Route<'_>> = way.into_iter().collect();
        let delivering: Vec<&&Route<'_>> = reached.iter().filter(|r| with_integration(r)).collect();
        if delivering.is_empty() {
            return Fate {
                delivered: false,
                undelivered_at: reached.iter().map(|r| r.receiver.clone()).collect(),
                only_within: Vec::new(),
            };
        }
        if at_any_hour && delivering.iter().all(|r| !r.timed.is_empty()) {
            let mut within: Vec<String> = delivering.iter().flat_map(|r| r.timed.clone()).collect();
            within.sort();
            within.dedup();
            return Fate {
                delivered: false,
                undelivered_at: reached.iter().map(|r| r.receiver.clone()).collect(),
                only_within: within,
            };
        }
    }
    Fate {
        delivered: true,
        undelivered_at: Vec::new(),
        only_within: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, Option<String>> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned())))
            .collect()
    }

    fn route(
        receiver: &str,
        matchers: &[(&str, &str, &str)],
        routes: Vec<Route<'static>>,
    ) -> Route<'static> {
        Route {
            config: None,
            path: String::new(),
            receiver: receiver.to_owned(),
            matchers: matchers
                .iter()
                .map(|(n, op, v)| Matcher {
                    name: (*n).to_owned(),
                    op: match *op {
                        "!=" => "!=",
                        "=~" => "=~",
                        "!~" => "!~",
                        _ => "=",
                    },
                    value: (*v).to_owned(),
                    added: None,
                })
                .collect(),
            continues: false,
            timed: Vec::new(),
            routes,
        }
    }

    fn ends(r: &Route<'_>, l: &BTreeMap<String, Option<String>>) -> Vec<Vec<String>> {
        r.outcomes(l)
            .into_iter()
            .map(|w| w.iter().map(|r| r.receiver.clone()).collect())
            .collect()
    }

    #[test]
    fn routes_match_first_child_first_and_unknown_labels_both_ways() {
        let tree = route(
            "root",
            &[],
            vec![
                route("crit", &[("severity", "=", "critical")], vec![]),
                route("team", &[("team", "=~", "a|b")], vec![]),
            ],
        );
        assert_eq!(
            ends(&tree, &labels(&[("severity", "critical")])),
            [["crit"]]
        );
        // `team` may come from the series: it may match, or not (then the root keeps it).
        assert_eq!(
            ends(&tree, &labels(&[("severity", "info")])),
            [vec!["team"], vec!["root"]]
        );
        assert_eq!(
            ends(&tree, &labels(&[("severity", "info"), ("team", "b")])),
            [["team"]]
        );
        assert_eq!(
            ends(&tree, &labels(&[("severity", "info"), ("team", "c")])),
            [["root"]]
        );
    }

    #[test]
    fn continue_lets_an_alert_reach_later_siblings_too() {
        let mut first = route("a", &[("severity", "=", "critical")], vec![]);
        first.continues = true;
        let tree = route("root", &[], vec![first, route("b", &[], vec![])]);
        assert_eq!(
            ends(&tree, &labels(&[("severity", "critical")])),
            [["a", "b"]]
        );
        assert_eq!(ends(&tree, &labels(&[("severity", "x")])), [["b"]]);
    }

    #[test]
    fn matchers_compare_known_values_and_anchor_regexes() {
        let l = labels(&[("a", "xyz")]);
        let m = |op: &'static str, v: &str| Matcher {
            name: "a".into(),
            op,
            value: v.into(),
            added: None,
        };
        assert_eq!(m("=~", "x.*").holds(&l), Tri::Yes);
        assert_eq!(m("=~", "y").holds(&l), Tri::No);
        assert_eq!(m("!~", "y").holds(&l), Tri::Yes);
        assert_eq!(m("!=", "xyz").holds(&l), Tri::No);
        assert_eq!(m("=", "xyz").holds(&labels(&[])), Tri::Maybe);
    }
}
