//! The flows a rendered system needs, and a sample of those it must not have, derived from
//! the objects of the tree as an SRE would read them:
//!
//! * a workload that reads a CloudNativePG cluster's `-app` secret talks to every instance
//!   of it (a failover moves the primary), on 5432;
//! * a workload whose environment names a Redis Service talks to every Redis node (a Redis
//!   Cluster client follows MOVED/ASK redirects to each node), on 6379;
//! * Redis Cluster nodes talk to each other on 6379 and the cluster bus (16379), database
//!   instances to each other on 5432 and the instance manager's 8000, the CloudNativePG
//!   operator to each instance on 8000;
//! * each Prometheus reaches every port its ServiceMonitors and PodMonitors scrape, through
//!   the Services (the tree's and the operators') and pods of the tree, and the
//!   Alertmanagers its `alerting` names; an Alertmanager's replicas reach each other on the
//!   mesh port (TCP and UDP), and each Alertmanager the internet on its receivers' ports
//!   (443 for Slack, PagerDuty and webhooks, the SMTP relay's port);
//! * the ingress gateway reaches every Service port a VirtualService or an Ingress routes to;
//! * every pod resolves names through cluster DNS (UDP and TCP 53);
//! * a workload whose environment names an OpenTelemetry collector's Service
//!   (`<svc>.<ns>.svc:<port>`) sends OTLP to the collector's pods on that port; a collector
//!   reaches every Service its configuration names (its exporters' endpoints); Grafana
//!   reaches every Service its datasource ConfigMaps (label `grafana_datasource`) name.
//!
//! Must not: a tenant's pod reaching another tenant's pods, Prometheus, the
//! Alertmanager or a collector's OTLP port; a platform pod reaching the internet other
//! than on 443.

use std::collections::BTreeSet;

use serde_json::Value;

use super::pods::{Outside, Pods, ALERTMANAGER_WEB_PORT, PROMETHEUS_PORT};
use super::services::{Svc, SvcPort};
use super::{Endpoint, Labels, Protocol};
use crate::validate::policy::Located;
use crate::validate::{At, Document};

/// One flow to judge: from `src` to `dst` on `port`, and why it is needed or forbidden.
#[derive(Debug, Clone)]
pub struct Flow<'p> {
    pub src: &'p Endpoint,
    pub dst: &'p Endpoint,
    pub port: u16,
    pub protocol: Protocol,
    pub why: &'static str,
}

/// The flows of a system: the ones it needs and a sample of the ones it must not have.
#[derive(Debug, Default)]
pub struct Flows<'p> {
    pub needed: Vec<Flow<'p>>,
    pub forbidden: Vec<Flow<'p>>,
}

impl<'p> Flows<'p> {
    pub(super) fn need(
        &mut self,
        src: &'p Endpoint,
        dst: &'p Endpoint,
        port: u16,
        why: &'static str,
    ) {
        self.needed.push(Flow {
            src,
            dst,
            port,
            protocol: Protocol::Tcp,
            why,
        });
    }

    /// Each flow once (the same flow may be needed for two reasons: the first is kept).
    fn dedup(&mut self) {
        for list in [&mut self.needed, &mut self.forbidden] {
            let mut seen = BTreeSet::new();
            list.retain(|f| {
                seen.insert((
                    f.src.name.clone(),
                    f.dst.name.clone(),
                    f.port,
                    f.protocol as u8,
                ))
            });
        }
    }
}

/// The objects of the tree, by what the flows need of them.
pub struct Tree<'a> {
    pub objects: &'a [Located],
}

impl<'a> Tree<'a> {
    pub(super) fn of_kind(&self, kind: &'static str) -> impl Iterator<Item = &'a Document> + '_ {
        self.objects
            .iter()
            .map(|o| &o.doc)
            .filter(move |d| d.kind() == kind)
    }

    /// The `data` values of ConfigMap `name` in `ns`.
    fn config_values(&self, ns: &str, name: &str) -> Vec<&'a str> {
        self.of_kind("ConfigMap")
            .filter(|d| d.namespace() == ns && d.name() == name)
            .filter_map(|d| d.value.get("data").and_then(Value::as_object))
            .flat_map(|m| m.values().filter_map(Value::as_str))
            .collect()
    }
}

/// The needed and forbidden flows of the pods of `tree`.
pub fn of<'p>(
    tree: &Tree<'_>,
    pods: &'p Pods<'_>,
    outside: &'p Outside,
    others: &'p [Endpoint],
) -> Flows<'p> {
    let mut flows = Flows::default();
    let services = super::services::services(tree.objects);
    data_clients(tree, pods, &mut flows);
    data_peers(pods, outside, &mut flows);
    super::services::scrape_flows(tree, &services, pods, &mut flows);
    super::services::alerting_flows(tree, &services, pods, outside, &mut flows);
    super::services::routes(tree, &services, pods, outside, &mut flows);
    telemetry_flows(tree, &services, pods, outside, &mut flows);
    for pod in pods.all() {
        for protocol in [Protocol::Udp, Protocol::Tcp] {
            flows.needed.push(Flow {
                src: pod,
                dst: &outside.dns,
                port: 53,
                protocol,
                why: "every pod resolves names through cluster DNS",
            });
        }
    }
    forbidden(pods, outside, others, &mut flows);
    flows.dedup();
    flows
}

/// The strings a workload's containers read: env values, the Secrets they name, and the
/// values of the ConfigMaps they load.
fn workload_reads<'a>(tree: &Tree<'a>, located: &'a Located) -> (Vec<&'a str>, Vec<&'a str>) {
    let doc = &located.doc;
    let ns = doc.namespace();
    let mut values = Vec::new();
    let mut secrets = Vec::new();
    let Some(kind) = crate::validate::policy::pod_template(doc.kind()) else {
        return (values, secrets);
    };
    let spec = doc.value.at(&format!("{}/spec", kind.template));
    for list in ["containers", "initContainers"] {
        let containers = spec.and_then(|s| s.get(list)).and_then(Value::as_array);
        for c in containers.into_iter().flatten() {
            for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
                values.extend(e.get("value").and_then(Value::as_str));
                secrets.extend(
                    e.pointer("/valueFrom/secretKeyRef/name")
                        .and_then(Value::as_str),
                );
            }
            for e in c
                .get("envFrom")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                secrets.extend(e.pointer("/secretRef/name").and_then(Value::as_str));
                if let Some(cm) = e.pointer("/configMapRef/name").and_then(Value::as_str) {
                    values.extend(tree.config_values(ns, cm));
                }
            }
        }
    }
    (values, secrets)
}

/// The Services (and their ports) that `text` names as `<svc>.<ns>.svc[.cluster.local]:<port>`,
/// the name whole (not the end of a longer one).
fn named_in<'s, 'a>(text: &str, services: &'s [Svc<'a>]) -> Vec<(&'s Svc<'a>, &'s SvcPort)> {
    let mut out = Vec::new();
    for s in services {
        let host = format!("{}.{}.svc", s.name, s.namespace);
        for p in &s.ports {
            let named = [
                format!("{host}:{}", p.port),
                format!("{host}.cluster.local:{}", p.port),
            ]
            .iter()
            .any(|needle| {
                text.match_indices(needle.as_str()).any(|(i, _)| {
                    let before = text[..i].chars().next_back();
                    let after = text[i + needle.len()..].chars().next();
                    !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
                        && !after.is_some_and(|c| c.is_ascii_digit())
                })
            });
            if named {
                out.push((s, p));
            }
        }
    }
    out
}

/// Every string of a JSON value, joined by newlines.
fn strings(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        Value::Object(m) => m.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The telemetry flows: OTLP from the workloads to the collectors their environment names,
/// each collector to what its configuration names, Grafana to its datasources.
fn telemetry_flows<'p>(
    tree: &Tree<'_>,
    services: &[Svc<'_>],
    pods: &'p Pods<'_>,
    outside: &'p Outside,
    flows: &mut Flows<'p>,
) {
    let collectors: Vec<Svc<'_>> = services
        .iter()
        .filter(|s| s.operated && s.from.kind() == "OpenTelemetryCollector")
        .cloned()
        .collect();
    let need = |flows: &mut Flows<'p>, src: &'p Endpoint, hits: Vec<(&Svc<'_>, &SvcPort)>, why| {
        for (svc, port) in hits {
            for dst in svc.pods(pods) {
                if let Some(n) = port.on(dst) {
                    flows.need(src, dst, n, why);
                }
            }
        }
    };
    for (client, located) in &pods.workloads {
        let (values, _) = workload_reads(tree, located);
        let text = values.join("\n");
        need(
            flows,
            client,
            named_in(&text, &collectors),
            "its environment names the OpenTelemetry collector: it sends its spans there",
        );
    }
    for (collector, doc) in pods.collectors.iter().zip(&pods.collector_servers) {
        let mut text = String::new();
        if let Some(c) = doc.value.pointer("/spec/config") {
            strings(c, &mut text);
        }
        need(
            flows,
            collector,
            named_in(&text, services),
            "the collector's configuration names it (an exporter's endpoint)",
        );
    }
    for cm in tree.of_kind("ConfigMap").filter(|d| {
        d.value
            .at_keys(&[
                "metadata",
                "labels",
                crate::families::tracing::model::DATASOURCE_LABEL,
            ])
            .is_some()
    }) {
        let mut text = String::new();
        if let Some(data) = cm.value.get("data") {
            strings(data, &mut text);
        }
        need(
            flows,
            &outside.grafana,
            named_in(&text, services),
            "a Grafana datasource names it",
        );
    }
}

/// The database and Redis clients among the workloads.
fn data_clients<'p>(tree: &Tree<'_>, pods: &'p Pods<'_>, flows: &mut Flows<'p>) {
    for (client, located) in &pods.workloads {
        let (values, secrets) = workload_reads(tree, located);
        let ns = located.doc.namespace();
        for ((db_ns, db), instances) in &pods.databases {
            let app_secret = format!("{db}-app");
            if db_ns == ns && secrets.iter().any(|s| *s == app_secret) {
                for instance in instances {
                    flows.need(client, instance, 5432, "it reads the database's app secret, and a failover moves the primary to any instance");
                }
            }
        }
        for (redis, nodes) in &pods.redis {
            let names_it = redis.services.iter().any(|svc| {
                let host = format!("{svc}.{}.svc", redis.namespace);
                values.iter().any(|v| v.contains(&host))
            });
            if names_it {
                for node in nodes {
                    flows.need(client, node, 6379, "its environment names the Redis service, and a Redis client follows redirects and failovers to every node");
                }
            }
        }
    }
}

/// The data stores' own flows: Redis Cluster nodes and database instances among
/// themselves, and the CloudNativePG operator to each instance.
fn data_peers<'p>(pods: &'p Pods<'_>, outside: &'p Outside, flows: &mut Flows<'p>) {
    // Every node (or instance) to every other, on each port, for its reason.
    let mesh = |flows: &mut Flows<'p>, ends: &'p [Endpoint], ports: &[(u16, &'static str)]| {
        for a in ends {
            for b in ends {
                for (port, why) in ports {
                    flows.need(a, b, *port, why);
                }
            }
        }
    };
    for (_, nodes) in pods.redis.iter().filter(|(r, _)| r.cluster) {
        mesh(
            flows,
            nodes,
            &[
                (6379, "Redis Cluster nodes replicate to each other"),
                (
                    16379,
                    "the Redis Cluster bus (gossip and failover) joins every node",
                ),
            ],
        );
    }
    for (_, instances) in &pods.databases {
        mesh(
            flows,
            instances,
            &[
                (5432, "a replica streams from the primary"),
                (8000, "instances read each other's instance manager status"),
            ],
        );
        for a in instances {
            flows.need(
                &outside.cnpg_operator,
                a,
                8000,
                "the operator reads each instance's status to manage failover",
            );
        }
    }
}

/// The flows that must stay shut: between tenants, from a tenant to Prometheus, from a
/// platform pod to the internet other than on 443.
fn forbidden<'p>(
    pods: &'p Pods<'_>,
    outside: &'p Outside,
    others: &'p [Endpoint],
    flows: &mut Flows<'p>,
) {
    for (tenant, other) in pods.tenants.iter().zip(others) {
        flows.forbidden.push(Flow {
            src: tenant,
            dst: other,
            port: 8080,
            protocol: Protocol::Tcp,
            why: "tenants are isolated from each other",
        });
        for prometheus in &pods.prometheus {
            flows.forbidden.push(Flow {
                src: tenant,
                dst: prometheus,
                port: PROMETHEUS_PORT,
                protocol: Protocol::Tcp,
                why: "a tenant must not read the platform's metrics",
            });
        }
        for collector in &pods.collectors {
            for port in collector
                .ports
                .iter()
                .filter(|(n, _)| n.starts_with("otlp"))
                .map(|(_, p)| *p)
            {
                flows.forbidden.push(Flow {
                    src: tenant,
                    dst: collector,
                    port,
                    protocol: Protocol::Tcp,
                    why: "only the services send spans to the collector",
                });
            }
        }
        for alertmanager in &pods.alertmanagers {
            flows.forbidden.push(Flow {
                src: tenant,
                dst: alertmanager,
                port: ALERTMANAGER_WEB_PORT,
                protocol: Protocol::Tcp,
                why: "a tenant must not read or silence the platform's alerts",
            });
        }
    }
    for (pod, _) in &pods.workloads {
        flows.forbidden.push(Flow {
            src: pod,
            dst: &outside.internet,
            port: 80,
            protocol: Protocol::Tcp,
            why: "platform pods reach the internet on 443 only",
        });
    }
}

/// Another tenant like each of the tree's tenants, and its NetworkPolicies (the tenant's,
/// in the other's namespace): the tree holds one tenant's file, every tenant's is alike.
pub fn other_tenants(pods: &Pods<'_>, policies: &[&Document]) -> (Vec<Endpoint>, Vec<Document>) {
    let mut ends = Vec::new();
    let mut docs = Vec::new();
    for tenant in &pods.tenants {
        let Some(ns) = tenant.namespace.as_deref() else {
            continue;
        };
        let other_ns = format!("{ns}-other");
        let mut ns_labels = tenant.namespace_labels.clone();
        ns_labels.insert("kubernetes.io/metadata.name".to_owned(), other_ns.clone());
        if let Some(v) = ns_labels.get_mut(crate::model::TENANT_LABEL) {
            v.push_str("-other");
        }
        ends.push(Endpoint::pod(
            &other_ns,
            ns_labels,
            Labels::new(),
            format!("{other_ns}/another tenant's pod"),
        ));
        for p in policies.iter().filter(|p| p.namespace() == ns) {
            let mut copy = (*p).clone();
            if let Some(meta) = copy
                .value
                .get_mut("metadata")
                .and_then(Value::as_object_mut)
            {
                meta.insert("namespace".to_owned(), Value::String(other_ns.clone()));
            }
            docs.push(copy);
        }
    }
    (ends, docs)
}
