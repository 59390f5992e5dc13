//! The pods of a rendered tree as NetworkPolicies see them: the pods of each workload's
//! template, the pods each operator creates from a custom resource (CloudNativePG
//! instances, Redis nodes, Prometheus, Alertmanager), and the peers outside the tree that the system
//! talks to (cluster DNS, the ingress gateway, the CloudNativePG operator, the internet).
//!
//! The operators' labels and ports are theirs, not portalgen's: they are listed here once,
//! from the operators' documentation, for the versions the tree targets.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Endpoint, Labels};
use crate::validate::policy::{pod_template, Located};
use crate::validate::{At, Document};

/// The namespace of cluster DNS, and its pods' labels (CoreDNS keeps the kube-dns label).
pub const DNS_NAMESPACE: &str = "kube-system";
/// Where the Istio ingress gateway runs.
pub const INGRESS_GATEWAY_NAMESPACE: &str = "istio-system";
/// Where the CloudNativePG operator runs.
pub const CNPG_OPERATOR_NAMESPACE: &str = "cnpg-system";

/// CloudNativePG instance ports: PostgreSQL, the instance manager's status endpoint (the
/// operator and the other instances read it), the metrics exporter.
pub const CNPG_PORTS: [(&str, u16); 3] =
    [("postgresql", 5432), ("status", 8000), ("metrics", 9187)];
/// Redis node ports (OT redis-operator): clients, the cluster bus, the exporter sidecar.
pub const REDIS_PORTS: [(&str, u16); 3] = [
    ("redis", 6379),
    ("redis-bus", 16379),
    ("redis-exporter", 9121),
];
/// Prometheus' web port (its API, and what a tenant must not reach).
pub const PROMETHEUS_PORT: u16 = 9090;
/// Alertmanager's ports: the API (alerts in, silences), the cluster mesh between replicas
/// (TCP and UDP, one port name each), the config-reloader's.
pub const ALERTMANAGER_WEB_PORT: u16 = 9093;
pub const ALERTMANAGER_MESH_PORT: u16 = 9094;
pub const ALERTMANAGER_PORTS: [(&str, u16); 3] = [
    ("mesh-tcp", ALERTMANAGER_MESH_PORT),
    ("mesh-udp", ALERTMANAGER_MESH_PORT),
    ("reloader-web", 8080),
];
/// The OpenTelemetry Operator's collector ports: its OTLP receivers' (named as the operator
/// names them, the port from the receiver's endpoint, else the protocol's default) and its
/// own metrics (`metrics`, the port of the telemetry's Prometheus reader, 8888 by default).
pub const OTLP_PORTS: [(&str, &str, u16); 2] =
    [("grpc", "otlp-grpc", 4317), ("http", "otlp-http", 4318)];
pub const COLLECTOR_METRICS_PORT: u16 = 8888;
/// The label value prometheus-operator gives its pods' `app.kubernetes.io/managed-by`
/// (over the resource's `podMetadata`).
const PROMETHEUS_OPERATOR: &str = "prometheus-operator";

/// What a tree runs, as endpoints, by role.
#[derive(Debug, Default)]
pub struct Pods<'a> {
    /// The labels of every namespace the tree names (the rendered Namespaces' labels; a
    /// namespace the tree does not create has only `kubernetes.io/metadata.name`).
    pub namespaces: BTreeMap<String, Labels>,
    /// Each workload's pods: the endpoint and the object that makes them.
    pub workloads: Vec<(Endpoint, &'a Located)>,
    /// Each CloudNativePG cluster (namespace, name): its primary and replica instances.
    pub databases: Vec<((String, String), Vec<Endpoint>)>,
    /// Each Redis (namespace, name, the Services the operator gives it): its nodes.
    pub redis: Vec<(RedisOf, Vec<Endpoint>)>,
    /// The Prometheus servers' pods, and (at the same index) their custom resources.
    pub prometheus: Vec<Endpoint>,
    pub prometheus_servers: Vec<&'a Document>,
    /// The Alertmanagers' pods, and (at the same index) their custom resources.
    pub alertmanagers: Vec<Endpoint>,
    pub alertmanager_servers: Vec<&'a Document>,
    /// A pod of each tenant namespace the tree holds.
    pub tenants: Vec<Endpoint>,
    /// The OpenTelemetry collectors' pods, and (at the same index) their custom resources.
    pub collectors: Vec<Endpoint>,
    pub collector_servers: Vec<&'a Document>,
}

/// A Redis custom resource: where it is, and the client Services its operator creates.
#[derive(Debug, Clone)]
pub struct RedisOf {
    pub namespace: String,
    pub name: String,
    pub services: Vec<String>,
    pub cluster: bool,
}

/// A custom resource from which an operator creates pods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operated {
    /// CloudNativePG `Cluster`: the instances.
    CnpgCluster,
    /// OT redis-operator `RedisCluster`: the leaders and the followers.
    RedisCluster,
    /// OT redis-operator `Redis`: one standalone server.
    Redis,
    /// prometheus-operator `Prometheus`.
    Prometheus,
    /// prometheus-operator `Alertmanager`.
    Alertmanager,
    /// OpenTelemetry Operator `OpenTelemetryCollector`: the collector's pods.
    OtelCollector,
}

/// Which operator's custom resource `doc` is, if any.
pub fn operated(doc: &Document) -> Option<Operated> {
    Some(match (doc.api_version(), doc.kind()) {
        ("postgresql.cnpg.io/v1", "Cluster") => Operated::CnpgCluster,
        ("redis.redis.opstreelabs.in/v1beta2", "RedisCluster") => Operated::RedisCluster,
        ("redis.redis.opstreelabs.in/v1beta2", "Redis") => Operated::Redis,
        ("monitoring.coreos.com/v1", "Prometheus") => Operated::Prometheus,
        ("monitoring.coreos.com/v1", "Alertmanager") => Operated::Alertmanager,
        ("opentelemetry.io/v1beta1", "OpenTelemetryCollector") => Operated::OtelCollector,
        _ => return None,
    })
}

/// The StatefulSets the OT redis-operator makes of a Redis custom resource `name`: each
/// one's name (also its pods' `app` label, its client Service and its Redis container's
/// name) and the pods' role.
pub fn redis_statefulsets(name: &str, cluster: bool) -> Vec<(String, &'static str)> {
    if cluster {
        vec![
            (format!("{name}-leader"), "leader"),
            (format!("{name}-follower"), "follower"),
        ]
    } else {
        vec![(name.to_owned(), "standalone")]
    }
}

/// The labels the OT redis-operator gives a StatefulSet's pods and its Services
/// (`<statefulset>`, `-headless`, `-additional`), and selects them by; its `-metrics`
/// Service selects by exactly these.
pub fn redis_labels(app: &str, setup: &str, role: &str) -> Labels {
    labels(&[("app", app), ("redis_setup_type", setup), ("role", role)])
}

/// The labels the OpenTelemetry Operator gives the pods of collector `name` in `ns` (and
/// its Services select them by).
pub fn collector_labels(ns: &str, name: &str) -> Labels {
    labels(&[
        ("app.kubernetes.io/component", "opentelemetry-collector"),
        ("app.kubernetes.io/managed-by", "opentelemetry-operator"),
        ("app.kubernetes.io/instance", &format!("{ns}.{name}")),
        ("app.kubernetes.io/part-of", "opentelemetry"),
        ("app.kubernetes.io/name", &format!("{name}-collector")),
    ])
}

/// The OTLP ports of a collector's receivers (`otlp`, `otlp/<x>`), by the operator's
/// port names, and its metrics port.
pub fn collector_ports(doc: &Document) -> BTreeMap<String, u16> {
    let mut out = BTreeMap::new();
    let receivers = doc
        .value
        .pointer("/spec/config/receivers")
        .and_then(Value::as_object);
    for (name, r) in receivers.into_iter().flatten() {
        if name != "otlp" && !name.starts_with("otlp/") {
            continue;
        }
        for (protocol, port_name, default) in OTLP_PORTS {
            let Some(p) = r.pointer(&format!("/protocols/{protocol}")) else {
                continue;
            };
            let port = p
                .get("endpoint")
                .and_then(Value::as_str)
                .and_then(|e| e.rsplit(':').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(default);
            out.insert(port_name.to_owned(), port);
        }
    }
    // The operator's `metrics` port: the telemetry's Prometheus reader's, else its default.
    let readers = doc
        .value
        .pointer("/spec/config/service/telemetry/metrics/readers")
        .and_then(Value::as_array);
    let port = readers
        .into_iter()
        .flatten()
        .find_map(|r| {
            r.pointer("/pull/exporter/prometheus/port")
                .and_then(Value::as_u64)
        })
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(COLLECTOR_METRICS_PORT);
    out.insert("metrics".to_owned(), port);
    out
}

/// The name of an Alertmanager's web port (`spec.portName`, default `web`).
pub fn alertmanager_port_name(doc: &Document) -> &str {
    doc.value
        .pointer("/spec/portName")
        .and_then(Value::as_str)
        .unwrap_or(crate::families::prometheus::model::ALERTMANAGER_PORT)
}

/// The label every namespace carries (Kubernetes sets it).
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// The string-valued labels of a `labels` mapping.
pub fn labels_of(v: Option<&Value>) -> Labels {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Labels from `(key, value)` pairs.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl<'a> Pods<'a> {
    /// The pods of the objects of a tree.
    pub fn of(objects: &'a [Located]) -> Pods<'a> {
        let mut pods = Pods::default();
        for o in objects.iter().filter(|o| o.doc.kind() == "Namespace") {
            let mut l = labels_of(o.doc.value.pointer("/metadata/labels"));
            l.insert(NAME_LABEL.to_owned(), o.doc.name().to_owned());
            pods.namespaces.insert(o.doc.name().to_owned(), l);
        }
        for o in objects {
            pods.add(o);
        }
        pods
    }

    /// The labels of namespace `ns`.
    pub fn namespace_labels(&self, ns: &str) -> Labels {
        self.namespaces
            .get(ns)
            .cloned()
            .unwrap_or_else(|| labels(&[(NAME_LABEL, ns)]))
    }

    fn endpoint(&self, ns: &str, pod_labels: Labels, name: String) -> Endpoint {
        Endpoint::pod(ns, self.namespace_labels(ns), pod_labels, name)
    }

    fn add(&mut self, o: &'a Located) {
        let doc = &o.doc;
        let ns = doc.namespace().to_owned();
        let name = doc.name().to_owned();
        match (operated(doc), doc.kind()) {
            (Some(Operated::CnpgCluster), _) => {
                let instances = doc.value.pointer("/spec/instances").and_then(Value::as_u64);
                let roles: &[&str] = if instances.unwrap_or(1) > 1 {
                    &["primary", "replica"]
                } else {
                    &["primary"]
                };
                let ends = roles
                    .iter()
                    .map(|role| {
                        let l = labels(&[
                            ("cnpg.io/cluster", &name),
                            ("cnpg.io/podRole", "instance"),
                            ("cnpg.io/instanceRole", role),
                            ("role", role),
                        ]);
                        let mut e = self.endpoint(&ns, l, format!("{ns}/{name} ({role} instance)"));
                        e.ports = named(&CNPG_PORTS);
                        e
                    })
                    .collect();
                self.databases.push(((ns, name), ends));
            }
            (Some(redis @ (Operated::RedisCluster | Operated::Redis)), _) => {
                let cluster = redis == Operated::RedisCluster;
                let roles = redis_statefulsets(&name, cluster);
                let services = roles.iter().map(|(app, _)| app.clone()).collect();
                let setup = if cluster { "cluster" } else { "standalone" };
                // The operator's labels, the resource's over them, and a cluster's `cluster`.
                let own = labels_of(doc.value.pointer("/metadata/labels"));
                let ends = roles
                    .iter()
                    .map(|(app, role)| {
                        let mut l = redis_labels(app, setup, role);
                        l.extend(own.clone());
                        if cluster {
                            l.insert("cluster".to_owned(), name.clone());
                        }
                        let mut e = self.endpoint(&ns, l, format!("{ns}/{app} (Redis {role})"));
                        e.ports = named(&REDIS_PORTS);
                        e
                    })
                    .collect();
                let of = RedisOf {
                    namespace: ns,
                    name,
                    services,
                    cluster,
                };
                self.redis.push((of, ends));
            }
            (Some(Operated::Prometheus), _) => {
                let mut l = labels_of(doc.value.pointer("/spec/podMetadata/labels"));
                for (k, v) in [
                    ("app.kubernetes.io/name", "prometheus"),
                    ("app.kubernetes.io/managed-by", PROMETHEUS_OPERATOR),
                    ("app.kubernetes.io/instance", name.as_str()),
                    ("operator.prometheus.io/name", name.as_str()),
                    ("prometheus", name.as_str()),
                ] {
                    l.insert(k.to_owned(), v.to_owned());
                }
                let mut e = self.endpoint(&ns, l, format!("{ns}/prometheus-{name}"));
                e.ports.insert("web".to_owned(), PROMETHEUS_PORT);
                self.prometheus.push(e);
                self.prometheus_servers.push(doc);
            }
            (None, "Namespace")
                if doc.api_version() == "v1"
                    && doc
                        .value
                        .at_keys(&["metadata", "labels", crate::model::TENANT_LABEL])
                        .is_some() =>
            {
                let e = self.endpoint(&name, Labels::new(), format!("{name}/a tenant's pod"));
                self.tenants.push(e);
            }
            (Some(Operated::Alertmanager), _) => {
                let mut l = labels_of(doc.value.pointer("/spec/podMetadata/labels"));
                for (k, v) in [
                    ("app.kubernetes.io/name", "alertmanager"),
                    ("app.kubernetes.io/managed-by", PROMETHEUS_OPERATOR),
                    ("app.kubernetes.io/instance", name.as_str()),
                    ("alertmanager", name.as_str()),
                ] {
                    l.insert(k.to_owned(), v.to_owned());
                }
                let mut e = self.endpoint(&ns, l, format!("{ns}/alertmanager-{name}"));
                e.ports = named(&ALERTMANAGER_PORTS);
                e.ports.insert(
                    alertmanager_port_name(doc).to_owned(),
                    ALERTMANAGER_WEB_PORT,
                );
                self.alertmanagers.push(e);
                self.alertmanager_servers.push(doc);
            }
            (Some(Operated::OtelCollector), _) => {
                let l = collector_labels(&ns, &name);
                let mut e = self.endpoint(&ns, l, format!("{ns}/{name}-collector"));
                e.ports = collector_ports(doc);
                self.collectors.push(e);
                self.collector_servers.push(doc);
            }
            (None, kind) => {
                if let Some(e) = workload_pod(self, doc, kind) {
                    self.workloads.push((e, o));
                }
            }
        }
    }

    /// Every pod of the tree (not the peers outside it).
    pub fn all(&self) -> impl Iterator<Item = &Endpoint> {
        self.workloads
            .iter()
            .map(|(e, _)| e)
            .chain(self.databases.iter().flat_map(|(_, e)| e))
            .chain(self.redis.iter().flat_map(|(_, e)| e))
            .chain(&self.prometheus)
            .chain(&self.alertmanagers)
            .chain(&self.tenants)
            .chain(&self.collectors)
    }
}

fn named(ports: &[(&str, u16)]) -> BTreeMap<String, u16> {
    ports.iter().map(|(n, p)| ((*n).to_owned(), *p)).collect()
}

/// The pods of a workload's template, with the named ports of its containers.
fn workload_pod(pods: &Pods<'_>, doc: &Document, kind: &str) -> Option<Endpoint> {
    let workload = pod_template(kind)?;
    let template = if workload.template.is_empty() {
        &doc.value
    } else {
        doc.value.at(workload.template)?
    };
    let l = labels_of(template.pointer("/metadata/labels"));
    let ns = doc.namespace();
    let mut e = pods.endpoint(ns, l, format!("{ns}/{}", doc.name()));
    for list in ["containers", "initContainers"] {
        let containers = template
            .pointer(&format!("/spec/{list}"))
            .and_then(Value::as_array);
        for c in containers.into_iter().flatten() {
            let ports = c.get("ports").and_then(Value::as_array);
            for p in ports.into_iter().flatten() {
                let name = p.get("name").and_then(Value::as_str);
                let number = p.get("containerPort").and_then(Value::as_u64);
                if let (Some(name), Some(number)) =
                    (name, number.and_then(|n| u16::try_from(n).ok()))
                {
                    e.ports.insert(name.to_owned(), number);
                }
            }
        }
    }
    Some(e)
}

/// The peers outside the tree: cluster DNS, the ingress gateway, the CloudNativePG
/// operator, Grafana (its datasources are the tree's) and an address on the internet.
pub struct Outside {
    pub dns: Endpoint,
    /// Grafana, in `monitoring` (the Grafana chart's pod label).
    pub grafana: Endpoint,
    pub ingress_gateway: Endpoint,
    pub cnpg_operator: Endpoint,
    pub internet: Endpoint,
}

impl Outside {
    pub fn of(pods: &Pods<'_>) -> Outside {
        let peer = |ns: &str, l: &[(&str, &str)], name: &str| {
            Endpoint::pod(ns, pods.namespace_labels(ns), labels(l), name.to_owned())
        };
        Outside {
            dns: peer(DNS_NAMESPACE, &[("k8s-app", "kube-dns")], "cluster DNS"),
            ingress_gateway: peer(
                INGRESS_GATEWAY_NAMESPACE,
                &[("app", "istio-ingressgateway"), ("istio", "ingressgateway")],
                "the Istio ingress gateway",
            ),
            grafana: peer(
                crate::model::MONITORING_NAMESPACE,
                &[crate::families::tracing::model::GRAFANA_LABEL],
                "Grafana",
            ),
            cnpg_operator: peer(
                CNPG_OPERATOR_NAMESPACE,
                &[("app.kubernetes.io/name", "cloudnative-pg")],
                "the CloudNativePG operator",
            ),
            internet: Endpoint {
                name: "the internet".to_owned(),
                namespace: None,
                namespace_labels: Labels::new(),
                labels: Labels::new(),
                ports: BTreeMap::new(),
            },
        }
    }
}
