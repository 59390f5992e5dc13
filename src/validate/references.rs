//! The references of a rendered tree, read as a cluster would resolve them (PG-R001): what
//! each object names that must exist when it runs — Secrets (and the keys read of them),
//! ConfigMaps, ServiceAccounts, Roles, the Services behind routes, monitors, alerting
//! endpoints and OTLP endpoints (a collector's exporters, an `Instrumentation`'s, a
//! container's `OTEL_EXPORTER_OTLP_*ENDPOINT`), issuers, secret stores, gateways, scale targets, backup locations, the folders
//! Argo CD syncs — and whether each resolves.
//!
//! A reference resolves to
//! * an object of the tree;
//! * an object an operator makes from an object of the tree: the Secret of an
//!   `ExternalSecret` (`target.name`, with the keys of its `data`) or of a `Certificate`
//!   (`secretName`) or of an Ingress that names a cert-manager issuer (its `tls` secrets),
//!   an ACME issuer's account key, CloudNativePG's Secrets, Services and ServiceAccount of a
//!   `Cluster`, the Redis operator's Services, `prometheus-operated` and
//!   `alertmanager-operated`, an OpenTelemetry collector's `<name>-collector` and
//!   `<name>-collector-monitoring`;
//! * an object an operator chart of the tree installs (the ingress gateway's pods, the
//!   kube-state-metrics and Velero Services), when the tree has that chart's Application;
//! * something every cluster has (a namespace's `default` ServiceAccount and
//!   `kube-root-ca.crt`, cluster DNS, the built-in ClusterRoles);
//! * or a prerequisite the environment declares: its `spec.secrets.store` and the entries
//!   of `spec.external` ([`Declared`]).
//!
//! [`PREREQUISITES`] is the built-in table (docs/system.md, "Prerequisites").

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::network::pods::{labels as pairs, labels_of, Pods};
use super::network::services::monitor_namespaces;
use super::network::{selects, Labels};
use super::policy::{pod_template, Located};
use super::At;
use crate::diagnostic::FieldPath;

/// Who makes a prerequisite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MadeBy {
    /// Every cluster has it.
    Cluster,
    /// The Helm chart of that name, when an Application of the tree installs it.
    Chart(&'static str),
}

/// One built-in prerequisite: an object the tree may reference without making it.
#[derive(Debug, Clone, Copy)]
pub struct Prerequisite {
    pub kind: &'static str,
    /// `Some("*")`: in every namespace; `None`: cluster-scoped.
    pub namespace: Option<&'static str>,
    pub name: &'static str,
    /// Its labels (a Service's, a Deployment's pods'), for the selectors that pick it.
    pub labels: &'static [(&'static str, &'static str)],
    /// A Service's port names (empty: not checked).
    pub ports: &'static [&'static str],
    pub made_by: MadeBy,
    /// What it is, for the docs.
    pub what: &'static str,
}

const INGRESS_GATEWAY_LABELS: &[(&str, &str)] =
    &[("app", "istio-ingressgateway"), ("istio", "ingressgateway")];

/// What the tree may name without making it. The environment's ClusterSecretStore and its
/// `spec.external` are declared beside these ([`Declared`]).
pub const PREREQUISITES: &[Prerequisite] = &[
    Prerequisite {
        kind: "ServiceAccount",
        namespace: Some("*"),
        name: "default",
        labels: &[],
        ports: &[],
        made_by: MadeBy::Cluster,
        what: "every namespace's default ServiceAccount",
    },
    Prerequisite {
        kind: "ConfigMap",
        namespace: Some("*"),
        name: "kube-root-ca.crt",
        labels: &[],
        ports: &[],
        made_by: MadeBy::Cluster,
        what: "every namespace's cluster CA bundle",
    },
    Prerequisite {
        kind: "Service",
        namespace: Some("kube-system"),
        name: "kube-dns",
        labels: &[("k8s-app", "kube-dns")],
        ports: &["dns", "dns-tcp"],
        made_by: MadeBy::Cluster,
        what: "cluster DNS (every pod's egress to UDP and TCP 53)",
    },
    Prerequisite {
        kind: "ClusterRole",
        namespace: None,
        name: "admin",
        labels: &[],
        ports: &[],
        made_by: MadeBy::Cluster,
        what: "a built-in user-facing ClusterRole",
    },
    Prerequisite {
        kind: "ClusterRole",
        namespace: None,
        name: "edit",
        labels: &[],
        ports: &[],
        made_by: MadeBy::Cluster,
        what: "a built-in user-facing ClusterRole",
    },
    Prerequisite {
        kind: "ClusterRole",
        namespace: None,
        name: "view",
        labels: &[],
        ports: &[],
        made_by: MadeBy::Cluster,
        what: "a built-in user-facing ClusterRole",
    },
    Prerequisite {
        kind: "Deployment",
        namespace: Some("istio-system"),
        name: "istio-ingressgateway",
        labels: INGRESS_GATEWAY_LABELS,
        ports: &[],
        made_by: MadeBy::Chart("gateway"),
        what: "the Istio ingress gateway's pods, which the Gateway selects",
    },
    Prerequisite {
        kind: "Service",
        namespace: Some("istio-system"),
        name: "istio-ingressgateway",
        labels: INGRESS_GATEWAY_LABELS,
        ports: &["status-port", "http2", "https"],
        made_by: MadeBy::Chart("gateway"),
        what: "the Istio ingress gateway's Service (the cloud's public load balancer)",
    },
    Prerequisite {
        kind: "Service",
        namespace: Some("monitoring"),
        name: "prometheus-operator-kube-state-metrics",
        labels: &[("app.kubernetes.io/name", "kube-state-metrics")],
        ports: &["http"],
        made_by: MadeBy::Chart("kube-prometheus-stack"),
        what: "kube-state-metrics, scraped by the tree's ServiceMonitor",
    },
    Prerequisite {
        kind: "Service",
        namespace: Some("velero"),
        name: "velero",
        labels: &[("app.kubernetes.io/name", "velero")],
        ports: &["http-monitoring"],
        made_by: MadeBy::Chart("velero"),
        what: "the Velero server's metrics, scraped by the tree's ServiceMonitor",
    },
];

/// A prerequisite the environment declares: its secret store, or an entry of
/// `spec.external`.
#[derive(Debug, Clone, PartialEq)]
pub struct Declared {
    pub kind: String,
    /// None: cluster-scoped.
    pub namespace: Option<String>,
    pub name: String,
    pub labels: Labels,
}

/// The TCP port of a reference: by name or by number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Port {
    Name(String),
    Number(u64),
}

impl std::fmt::Display for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Port::Name(n) => write!(f, "'{n}'"),
            Port::Number(n) => write!(f, "{n}"),
        }
    }
}

/// What a reference names.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// One object; for a Secret, the key read, and for a Service, the port.
    Object {
        kind: &'static str,
        /// None: cluster-scoped.
        namespace: Option<String>,
        name: String,
        key: Option<String>,
        port: Option<Port>,
    },
    /// The objects of `kind` (`Service`, or `Pod` for a workload's pods) a label selector
    /// picks in these namespaces (None: any); each of `ports` must be a port of one of them.
    Selected {
        kind: &'static str,
        namespaces: Option<Vec<String>>,
        selector: Value,
        ports: Vec<String>,
    },
    /// A TLS Secret in the namespace of every pod the gateway selector picks (Istio reads a
    /// Gateway's `credentialName` where the gateway's proxy runs).
    GatewaySecret { selector: Value, name: String },
    /// A folder of the tree, by its path in the repository.
    Folder(String),
}

/// One reference of an object of the tree.
#[derive(Debug, Clone)]
pub struct Reference<'a> {
    pub from: &'a Located,
    /// Where the object names it: `spec.template.spec.containers[0].env[1].valueFrom…`.
    pub field: FieldPath,
    pub target: Target,
}

/// A reference that does not resolve, and why.
#[derive(Debug)]
pub struct Unresolved<'a> {
    pub reference: Reference<'a>,
    pub problem: String,
    /// What would declare it (`spec.external` entry), when declaring can fix it.
    pub declare: Option<String>,
}

/// What the tree (with its operators, charts and prerequisites) provides.
#[derive(Debug, Default)]
struct Provided {
    /// (kind, namespace or "" or "*", name).
    objects: BTreeSet<(String, String, String)>,
    /// The keys of a Secret, where known (an ExternalSecret's `data`).
    secret_keys: BTreeMap<(String, String), BTreeSet<String>>,
    /// The ports of a Service, where known: names and numbers.
    service_ports: BTreeMap<(String, String), (BTreeSet<String>, BTreeSet<u64>)>,
    /// Objects with labels, for selectors: (kind, namespace, labels, port names).
    labelled: Vec<(String, String, Labels, BTreeSet<String>)>,
}

impl Provided {
    fn add(&mut self, kind: &str, namespace: &str, name: &str) {
        self.objects
            .insert((kind.to_owned(), namespace.to_owned(), name.to_owned()));
    }

    fn has(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        let key = |ns: &str| (kind.to_owned(), ns.to_owned(), name.to_owned());
        match namespace {
            None => self.objects.contains(&key("")),
            Some(ns) => self.objects.contains(&key(ns)) || self.objects.contains(&key("*")),
        }
    }

    fn service(&mut self, namespace: &str, name: &str, labels: Labels, ports: Option<&Value>) {
        self.add("Service", namespace, name);
        let mut names = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        for p in ports.and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = p.get("name").and_then(Value::as_str) {
                names.insert(n.to_owned());
            }
            if let Some(n) = p.get("port").and_then(Value::as_u64) {
                numbers.insert(n);
            }
        }
        if ports.is_some() {
            self.service_ports.insert(
                (namespace.to_owned(), name.to_owned()),
                (names.clone(), numbers),
            );
        }
        self.labelled
            .push(("Service".into(), namespace.to_owned(), labels, names));
    }
}

fn str_at<'v>(v: &'v Value, pointer: &str) -> Option<&'v str> {
    v.at(pointer).and_then(Value::as_str)
}

/// The helm charts the tree's Applications install.
fn charts(objects: &[Located]) -> BTreeSet<String> {
    objects
        .iter()
        .filter(|o| o.doc.kind() == "Application")
        .flat_map(|o| sources(&o.doc.value))
        .filter_map(|s| s.get("chart").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

/// An Application's sources: `spec.source` and `spec.sources[*]`.
fn sources(app: &Value) -> Vec<&Value> {
    let mut out: Vec<&Value> = app.at("/spec/source").into_iter().collect();
    out.extend(
        app.at("/spec/sources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten(),
    );
    out
}

/// The Services the OT redis-operator makes of a Redis custom resource: per StatefulSet,
/// its client Service, `-headless` and `-additional`, all labelled like its pods.
fn redis_services(name: &str, cluster: bool) -> Vec<(String, Labels)> {
    let setup = if cluster { "cluster" } else { "standalone" };
    super::network::pods::redis_statefulsets(name, cluster)
        .into_iter()
        .flat_map(|(set, role)| {
            let l = pairs(&[("app", &set), ("redis_setup_type", setup), ("role", role)]);
            ["", "-headless", "-additional"].map(|suffix| (format!("{set}{suffix}"), l.clone()))
        })
        .collect()
}

/// Everything the objects of the tree, their operators, the charts of its Applications and
/// the prerequisites provide.
fn provided(objects: &[Located], declared: &[Declared]) -> Provided {
    let mut p = Provided::default();
    let charts = charts(objects);
    for r in PREREQUISITES {
        let applies = match r.made_by {
            MadeBy::Cluster => true,
            MadeBy::Chart(chart) => charts.contains(chart),
        };
        if !applies {
            continue;
        }
        let ns = r.namespace.unwrap_or("");
        p.add(r.kind, ns, r.name);
        let ports: BTreeSet<String> = r.ports.iter().map(|s| (*s).to_owned()).collect();
        if r.kind == "Service" && !r.ports.is_empty() {
            p.service_ports.insert(
                (ns.to_owned(), r.name.to_owned()),
                (ports.clone(), BTreeSet::new()),
            );
        }
        if !r.labels.is_empty() {
            let kind = if r.kind == "Deployment" {
                "Pod"
            } else {
                r.kind
            };
            p.labelled
                .push((kind.into(), ns.to_owned(), pairs(r.labels), ports));
        }
    }
    for d in declared {
        let ns = d.namespace.clone().unwrap_or_default();
        p.add(&d.kind, &ns, &d.name);
        if !d.labels.is_empty() {
            let kind = if d.kind == "Deployment" {
                "Pod"
            } else {
                &d.kind
            };
            p.labelled
                .push((kind.to_owned(), ns, d.labels.clone(), BTreeSet::new()));
        }
    }
    for o in objects {
        let doc = &o.doc;
        let v = &doc.value;
        let (ns, name) = (doc.namespace(), doc.name());
        match doc.kind() {
            "Service" => p.service(
                ns,
                name,
                labels_of(v.at("/metadata/labels")),
                v.at("/spec/ports"),
            ),
            kind => p.add(kind, ns, name),
        }
        match (doc.api_version(), doc.kind()) {
            ("external-secrets.io/v1", "ExternalSecret") => {
                let target = str_at(v, "/spec/target/name").unwrap_or(name);
                p.add("Secret", ns, target);
                // With dataFrom the keys are the store's: not known here.
                if v.at("/spec/dataFrom").is_none() {
                    let keys = v
                        .at("/spec/data")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|d| d.get("secretKey").and_then(Value::as_str))
                        .map(str::to_owned)
                        .collect();
                    p.secret_keys
                        .insert((ns.to_owned(), target.to_owned()), keys);
                }
            }
            ("cert-manager.io/v1", "Certificate") => {
                if let Some(s) = str_at(v, "/spec/secretName") {
                    p.add("Secret", ns, s);
                }
            }
            ("cert-manager.io/v1", kind @ ("ClusterIssuer" | "Issuer")) => {
                if let Some(s) = str_at(v, "/spec/acme/privateKeySecretRef/name") {
                    let at = if kind == "ClusterIssuer" {
                        crate::model::CERT_MANAGER_NAMESPACE
                    } else {
                        ns
                    };
                    p.add("Secret", at, s);
                }
            }
            ("networking.k8s.io/v1", "Ingress") => {
                let annotations = v.at("/metadata/annotations");
                let issued = ["cert-manager.io/cluster-issuer", "cert-manager.io/issuer"]
                    .iter()
                    .any(|a| annotations.and_then(|m| m.get(*a)).is_some());
                if issued {
                    for t in v
                        .at("/spec/tls")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(s) = t.get("secretName").and_then(Value::as_str) {
                            p.add("Secret", ns, s);
                        }
                    }
                }
            }
            ("postgresql.cnpg.io/v1", "Cluster") => {
                for s in crate::model::data::cnpg_secrets(name) {
                    p.add("Secret", ns, &s);
                }
                p.add("ServiceAccount", ns, name);
                let l = pairs(&[("cnpg.io/cluster", name)]);
                let pg = serde_json::json!([{"name": "postgres", "port": 5432}]);
                for suffix in ["-rw", "-ro", "-r"] {
                    p.service(ns, &format!("{name}{suffix}"), l.clone(), Some(&pg));
                }
                let extra = v
                    .at("/spec/managed/services/additional")
                    .and_then(Value::as_array);
                for s in extra.into_iter().flatten() {
                    if let Some(n) = str_at(s, "/serviceTemplate/metadata/name") {
                        p.service(ns, n, l.clone(), Some(&pg));
                    }
                }
            }
            ("redis.redis.opstreelabs.in/v1beta2", kind @ ("RedisCluster" | "Redis")) => {
                for (service, l) in redis_services(name, kind == "RedisCluster") {
                    p.service(ns, &service, l, None);
                }
            }
            ("monitoring.coreos.com/v1", "Prometheus") => {
                let l = pairs(&[("operated-prometheus", "true")]);
                let web = serde_json::json!([{"name": "web", "port": 9090}]);
                p.service(ns, "prometheus-operated", l, Some(&web));
            }
            ("opentelemetry.io/v1beta1", "OpenTelemetryCollector") => {
                // The OpenTelemetry Operator's Services of a collector: its receivers'
                // ports, and the monitoring Service of its metrics.
                let l = super::network::pods::collector_labels(ns, name);
                let mut ports = super::network::pods::collector_ports(&o.doc);
                let metrics = ports.remove("metrics");
                let receivers: Vec<Value> = ports
                    .iter()
                    .map(|(n, p)| serde_json::json!({"name": n, "port": p}))
                    .collect();
                let monitoring: Vec<Value> = metrics
                    .map(|p| serde_json::json!({"name": "monitoring", "port": p}))
                    .into_iter()
                    .collect();
                p.service(
                    ns,
                    &format!("{name}-collector"),
                    l.clone(),
                    Some(&Value::from(receivers)),
                );
                p.service(
                    ns,
                    &format!("{name}-collector-monitoring"),
                    l,
                    Some(&Value::from(monitoring)),
                );
            }
            ("monitoring.coreos.com/v1", "Alertmanager") => {
                let l = pairs(&[("operated-alertmanager", "true")]);
                let ports = serde_json::json!([
                    {"name": "web", "port": 9093},
                    {"name": "tcp-mesh", "port": 9094},
                ]);
                p.service(ns, "alertmanager-operated", l, Some(&ports));
            }
            _ => {}
        }
    }
    // The pods of the tree's workloads and of its operators' resources, for the selectors
    // that pick pods.
    let pods = Pods::of(objects);
    for e in pods.all() {
        if let Some(ns) = &e.namespace {
            p.labelled
                .push(("Pod".into(), ns.clone(), e.labels.clone(), BTreeSet::new()));
        }
    }
    p
}

/// Field paths: `a.b[0].c`.
fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

/// Each value at `path` below `v` (object keys; `*` any child of an object or an array),
/// with its field path from `at`.
fn each<'v>(v: &'v Value, at: &str, path: &[&str], f: &mut dyn FnMut(String, &'v Value)) {
    let Some((first, rest)) = path.split_first() else {
        f(at.to_owned(), v);
        return;
    };
    match (*first, v) {
        ("*", Value::Object(map)) => {
            for (k, child) in map {
                each(child, &join(at, k), rest, f);
            }
        }
        ("*", Value::Array(items)) => {
            for (i, child) in items.iter().enumerate() {
                each(child, &format!("{at}[{i}]"), rest, f);
            }
        }
        (key, Value::Object(map)) => {
            if let Some(child) = map.get(key) {
                each(child, &join(at, key), rest, f);
            }
        }
        _ => {}
    }
}

/// Collects the references of one object.
struct Refs<'a, 'o> {
    from: &'a Located,
    out: &'o mut Vec<Reference<'a>>,
}

impl<'a> Refs<'a, '_> {
    fn push(&mut self, field: impl Into<FieldPath>, target: Target) {
        self.out.push(Reference {
            from: self.from,
            field: field.into(),
            target,
        });
    }

    fn object(
        &mut self,
        field: impl Into<FieldPath>,
        kind: &'static str,
        ns: Option<&str>,
        name: &str,
    ) {
        self.object_with(field, kind, ns, name, None, None);
    }

    fn object_with(
        &mut self,
        field: impl Into<FieldPath>,
        kind: &'static str,
        ns: Option<&str>,
        name: &str,
        key: Option<&str>,
        port: Option<Port>,
    ) {
        if name.is_empty() {
            return;
        }
        self.push(
            field,
            Target::Object {
                kind,
                namespace: ns.map(str::to_owned),
                name: name.to_owned(),
                key: key.map(str::to_owned),
                port,
            },
        );
    }

    /// A `{name, key}` selector of a Secret at `field` (unless `optional`).
    fn secret_key(&mut self, field: String, ns: &str, v: &Value) {
        if v.get("optional").and_then(Value::as_bool) == Some(true) {
            return;
        }
        if let Some(name) = v.get("name").and_then(Value::as_str) {
            let key = v.get("key").and_then(Value::as_str);
            self.object_with(join(&field, "name"), "Secret", Some(ns), name, key, None);
        }
    }

    /// Each `{name, key}` Secret selector at `path` below the object.
    fn secret_keys_at(&mut self, ns: &str, path: &[&str]) {
        let v = &self.from.doc.value;
        let mut found = Vec::new();
        each(v, "", path, &mut |field, s| {
            if s.get("name").and_then(Value::as_str).is_some() {
                found.push((field, s));
            }
        });
        for (field, s) in found {
            self.secret_key(field, ns, s);
        }
    }

    /// Each Secret named by a string at `path` below the object.
    fn secret_names_at(&mut self, ns: &str, path: &[&str]) {
        let v = &self.from.doc.value;
        let mut found = Vec::new();
        each(v, "", path, &mut |field, s| {
            if let Some(name) = s.as_str() {
                found.push((field, name));
            }
        });
        for (field, name) in found {
            self.object(field, "Secret", Some(ns), name);
        }
    }

    /// The environment variables of a container-like object at `at`.
    fn env(&mut self, ns: &str, c: &Value, at: &str) {
        for (j, e) in c
            .get("env")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            // The OTLP exporter's endpoint, when it names a Service of the cluster.
            let otlp = e
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.starts_with("OTEL_EXPORTER_OTLP_") && n.ends_with("ENDPOINT"));
            let endpoint = e.get("value").and_then(Value::as_str).filter(|_| otlp);
            if let Some((svc_ns, name, port)) = endpoint.and_then(service_endpoint) {
                let field = format!("{at}.env[{j}].value");
                self.object_with(
                    field,
                    "Service",
                    Some(&svc_ns),
                    &name,
                    None,
                    Some(Port::Number(port)),
                );
            }
            let field = format!("{at}.env[{j}].valueFrom");
            if let Some(s) = e.at("/valueFrom/secretKeyRef") {
                self.secret_key(join(&field, "secretKeyRef"), ns, s);
            }
            if let Some(m) = e.at("/valueFrom/configMapKeyRef") {
                if m.get("optional").and_then(Value::as_bool) != Some(true) {
                    if let Some(name) = m.get("name").and_then(Value::as_str) {
                        self.object(
                            join(&field, "configMapKeyRef.name"),
                            "ConfigMap",
                            Some(ns),
                            name,
                        );
                    }
                }
            }
        }
        for (j, e) in c
            .get("envFrom")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            for (source, kind) in [("secretRef", "Secret"), ("configMapRef", "ConfigMap")] {
                let Some(r) = e.get(source) else { continue };
                if r.get("optional").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                if let Some(name) = r.get("name").and_then(Value::as_str) {
                    self.object(
                        format!("{at}.envFrom[{j}].{source}.name"),
                        kind,
                        Some(ns),
                        name,
                    );
                }
            }
        }
    }

    /// The references of a pod spec at `at` (a JSON pointer).
    fn pod(&mut self, ns: &str, pointer: &str) {
        let Some(pod) = self.from.doc.value.at(pointer) else {
            return;
        };
        let at = pointer.trim_start_matches('/').replace('/', ".");
        let sa = pod
            .get("serviceAccountName")
            .and_then(Value::as_str)
            .unwrap_or("default");
        self.object(
            join(&at, "serviceAccountName"),
            "ServiceAccount",
            Some(ns),
            sa,
        );
        for (i, s) in pod
            .get("imagePullSecrets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(name) = s.get("name").and_then(Value::as_str) {
                self.object(
                    format!("{at}.imagePullSecrets[{i}].name"),
                    "Secret",
                    Some(ns),
                    name,
                );
            }
        }
        for (i, vol) in pod
            .get("volumes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let field = format!("{at}.volumes[{i}]");
            let optional = |v: &Value| v.get("optional").and_then(Value::as_bool) == Some(true);
            if let Some(s) = vol.get("secret").filter(|s| !optional(s)) {
                if let Some(name) = s.get("secretName").and_then(Value::as_str) {
                    self.object(join(&field, "secret.secretName"), "Secret", Some(ns), name);
                }
            }
            if let Some(c) = vol.get("configMap").filter(|c| !optional(c)) {
                if let Some(name) = c.get("name").and_then(Value::as_str) {
                    self.object(join(&field, "configMap.name"), "ConfigMap", Some(ns), name);
                }
            }
            let projected = vol.at("/projected/sources").and_then(Value::as_array);
            for (j, src) in projected.into_iter().flatten().enumerate() {
                for (source, kind) in [("secret", "Secret"), ("configMap", "ConfigMap")] {
                    let Some(r) = src.get(source).filter(|r| !optional(r)) else {
                        continue;
                    };
                    if let Some(name) = r.get("name").and_then(Value::as_str) {
                        let f = format!("{field}.projected.sources[{j}].{source}.name");
                        self.object(f, kind, Some(ns), name);
                    }
                }
            }
        }
        for list in ["initContainers", "containers"] {
            for (i, c) in pod
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                self.env(ns, c, &format!("{at}.{list}[{i}]"));
            }
        }
    }
}

/// The Service a mesh route names (`svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`),
/// as (namespace, name); None for a host outside the cluster.
fn mesh_service(host: &str, own: &str) -> Option<(String, String)> {
    let short = host
        .strip_suffix(".svc.cluster.local")
        .or_else(|| host.strip_suffix(".svc"));
    let parts: Vec<&str> = short.unwrap_or(host).split('.').collect();
    match (short.is_some(), parts.as_slice()) {
        (_, [name]) => Some((own.to_owned(), (*name).to_owned())),
        (true, [name, ns]) => Some(((*ns).to_owned(), (*name).to_owned())),
        _ => None,
    }
}

/// The in-cluster Service an endpoint names (`[scheme://]<svc>.<ns>.svc[.cluster.local]:<port>[/…]`):
/// its namespace, name and port. Hosts outside the cluster's service domain name none.
fn service_endpoint(endpoint: &str) -> Option<(String, String, u64)> {
    let rest = endpoint.split_once("://").map_or(endpoint, |(_, r)| r);
    let authority = rest.split('/').next()?;
    let (host, port) = authority.rsplit_once(':')?;
    let port = port.parse().ok()?;
    if !(host.ends_with(".svc") || host.ends_with(".svc.cluster.local")) {
        return None;
    }
    let (ns, name) = mesh_service(host, "")?;
    Some((ns, name, port))
}

/// Every reference of every object.
pub fn references(objects: &[Located]) -> Vec<Reference<'_>> {
    let mut out = Vec::new();
    for o in objects {
        let mut r = Refs {
            from: o,
            out: &mut out,
        };
        let doc = &o.doc;
        let v = &doc.value;
        let ns = doc.namespace();
        if let Some(w) = pod_template(doc.kind()) {
            r.pod(ns, &format!("{}/spec", w.template));
        }
        match (doc.api_version(), doc.kind()) {
            ("postgresql.cnpg.io/v1", "Cluster") => {
                for path in [
                    &["spec", "backup", "barmanObjectStore", "*", "*"][..],
                    &["spec", "backup", "barmanObjectStore", "endpointCA"],
                    &["spec", "externalClusters", "*", "sslKey"],
                    &["spec", "externalClusters", "*", "sslCert"],
                    &["spec", "externalClusters", "*", "sslRootCert"],
                    &["spec", "externalClusters", "*", "password"],
                    &[
                        "spec",
                        "externalClusters",
                        "*",
                        "barmanObjectStore",
                        "*",
                        "*",
                    ],
                    &["spec", "bootstrap", "initdb", "secret"],
                    &["spec", "superuserSecret"],
                ] {
                    r.secret_keys_at(ns, path);
                }
                r.secret_names_at(ns, &["spec", "certificates", "*"]);
            }
            ("postgresql.cnpg.io/v1", "ScheduledBackup") => {
                if let Some(c) = str_at(v, "/spec/cluster/name") {
                    r.object("spec.cluster.name", "Cluster", Some(ns), c);
                }
            }
            ("redis.redis.opstreelabs.in/v1beta2", "RedisCluster" | "Redis") => {
                r.secret_keys_at(ns, &["spec", "kubernetesConfig", "redisSecret"]);
                r.secret_keys_at(ns, &["spec", "kubernetesConfig", "imagePullSecrets", "*"]);
                r.secret_names_at(ns, &["spec", "TLS", "secret", "secretName"]);
                if let Some(e) = v.at("/spec/redisExporter") {
                    r.env(ns, e, "spec.redisExporter");
                }
                if let Some(sa) = str_at(v, "/spec/serviceAccountName") {
                    r.object("spec.serviceAccountName", "ServiceAccount", Some(ns), sa);
                }
            }
            ("velero.io/v1", "BackupStorageLocation") => {
                r.secret_keys_at(ns, &["spec", "credential"]);
            }
            ("velero.io/v1", "Schedule") => {
                if let Some(l) = str_at(v, "/spec/template/storageLocation") {
                    let field = "spec.template.storageLocation";
                    r.object(field, "BackupStorageLocation", Some(ns), l);
                }
            }
            ("monitoring.coreos.com/v1", kind @ ("Prometheus" | "Alertmanager")) => {
                let sa = str_at(v, "/spec/serviceAccountName").unwrap_or("default");
                r.object("spec.serviceAccountName", "ServiceAccount", Some(ns), sa);
                r.secret_names_at(ns, &["spec", "secrets", "*"]);
                for (i, c) in v
                    .at("/spec/configMaps")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if let Some(name) = c.as_str() {
                        r.object(format!("spec.configMaps[{i}]"), "ConfigMap", Some(ns), name);
                    }
                }
                if kind == "Alertmanager" {
                    r.secret_names_at(ns, &["spec", "configSecret"]);
                }
                let endpoints = v
                    .at("/spec/alerting/alertmanagers")
                    .and_then(Value::as_array);
                for (i, a) in endpoints.into_iter().flatten().enumerate() {
                    let at_ns = a.get("namespace").and_then(Value::as_str).unwrap_or(ns);
                    let port = match a.get("port") {
                        Some(Value::String(s)) => Some(Port::Name(s.clone())),
                        Some(Value::Number(n)) => n.as_u64().map(Port::Number),
                        _ => None,
                    };
                    if let Some(name) = a.get("name").and_then(Value::as_str) {
                        let field = format!("spec.alerting.alertmanagers[{i}].name");
                        r.object_with(field, "Service", Some(at_ns), name, None, port);
                    }
                }
            }
            ("opentelemetry.io/v1beta1", "OpenTelemetryCollector") => {
                // Each exporter's endpoint, when it names a Service of the cluster.
                let exporters = v.at("/spec/config/exporters").and_then(Value::as_object);
                for (e, cfg) in exporters.into_iter().flatten() {
                    let endpoint = cfg.get("endpoint").and_then(Value::as_str);
                    if let Some((at, name, port)) = endpoint.and_then(service_endpoint) {
                        let field = FieldPath::root()
                            .key("spec")
                            .key("config")
                            .key("exporters")
                            .key(e.as_str())
                            .key("endpoint");
                        r.object_with(
                            field,
                            "Service",
                            Some(&at),
                            &name,
                            None,
                            Some(Port::Number(port)),
                        );
                    }
                }
            }
            ("opentelemetry.io/v1alpha1", "Instrumentation") => {
                let endpoint = str_at(v, "/spec/exporter/endpoint");
                if let Some((at, name, port)) = endpoint.and_then(service_endpoint) {
                    r.object_with(
                        "spec.exporter.endpoint",
                        "Service",
                        Some(&at),
                        &name,
                        None,
                        Some(Port::Number(port)),
                    );
                }
            }
            ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig") => {
                r.secret_keys_at(ns, &["spec", "receivers", "*", "*", "*", "*"]);
            }
            ("monitoring.coreos.com/v1", "ServiceMonitor") => {
                let namespaces = monitor_namespaces(doc);
                let ports = v
                    .at("/spec/endpoints")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.get("port").and_then(Value::as_str).map(str::to_owned))
                    .collect();
                r.push(
                    "spec.selector",
                    Target::Selected {
                        kind: "Service",
                        namespaces,
                        selector: v.at("/spec/selector").cloned().unwrap_or(Value::Null),
                        ports,
                    },
                );
            }
            ("cert-manager.io/v1", kind @ ("ClusterIssuer" | "Issuer")) => {
                let at = if kind == "ClusterIssuer" {
                    crate::model::CERT_MANAGER_NAMESPACE
                } else {
                    ns
                };
                let mut found = Vec::new();
                each(
                    v,
                    "",
                    &["spec", "acme", "solvers", "*", "*", "*", "*"],
                    &mut |f, s| {
                        if f.ends_with("SecretRef") {
                            found.push((f, s));
                        }
                    },
                );
                for (field, s) in found {
                    r.secret_key(field, at, s);
                }
                r.secret_names_at(at, &["spec", "ca", "secretName"]);
            }
            ("cert-manager.io/v1", "Certificate") => {
                let kind = str_at(v, "/spec/issuerRef/kind").unwrap_or("Issuer");
                let group = str_at(v, "/spec/issuerRef/group").unwrap_or("cert-manager.io");
                if let (Some(name), "cert-manager.io") = (str_at(v, "/spec/issuerRef/name"), group)
                {
                    let field = "spec.issuerRef.name";
                    match kind {
                        "ClusterIssuer" => r.object(field, "ClusterIssuer", None, name),
                        _ => r.object(field, "Issuer", Some(ns), name),
                    }
                }
            }
            ("networking.k8s.io/v1", "Ingress") => {
                let annotations = v.at("/metadata/annotations");
                let annotation =
                    |a: &str| annotations.and_then(|m| m.get(a)).and_then(Value::as_str);
                let field = |a: &str| FieldPath::root().key("metadata").key("annotations").key(a);
                if let Some(i) = annotation("cert-manager.io/cluster-issuer") {
                    r.object(
                        field("cert-manager.io/cluster-issuer"),
                        "ClusterIssuer",
                        None,
                        i,
                    );
                }
                if let Some(i) = annotation("cert-manager.io/issuer") {
                    r.object(field("cert-manager.io/issuer"), "Issuer", Some(ns), i);
                }
                r.secret_names_at(ns, &["spec", "tls", "*", "secretName"]);
                let mut backends = Vec::new();
                each(
                    v,
                    "",
                    &[
                        "spec", "rules", "*", "http", "paths", "*", "backend", "service",
                    ],
                    &mut |f, s| {
                        backends.push((f, s));
                    },
                );
                each(
                    v,
                    "",
                    &["spec", "defaultBackend", "service"],
                    &mut |f, s| {
                        backends.push((f, s));
                    },
                );
                for (field, s) in backends {
                    let port = match (s.at("/port/name"), s.at("/port/number")) {
                        (Some(Value::String(n)), _) => Some(Port::Name(n.clone())),
                        (_, Some(n)) => n.as_u64().map(Port::Number),
                        _ => None,
                    };
                    if let Some(name) = s.get("name").and_then(Value::as_str) {
                        r.object_with(join(&field, "name"), "Service", Some(ns), name, None, port);
                    }
                }
            }
            ("networking.istio.io/v1", "Gateway") => {
                let selector = serde_json::json!({
                    "matchLabels": v.at("/spec/selector").cloned().unwrap_or(Value::Null)
                });
                r.push(
                    "spec.selector",
                    Target::Selected {
                        kind: "Pod",
                        namespaces: None,
                        selector: selector.clone(),
                        ports: Vec::new(),
                    },
                );
                let mut found = Vec::new();
                each(
                    v,
                    "",
                    &["spec", "servers", "*", "tls", "credentialName"],
                    &mut |f, s| {
                        if let Some(name) = s.as_str() {
                            found.push((f, name.to_owned()));
                        }
                    },
                );
                for (field, name) in found {
                    r.push(
                        field,
                        Target::GatewaySecret {
                            selector: selector.clone(),
                            name,
                        },
                    );
                }
            }
            ("networking.istio.io/v1", "VirtualService") => {
                for (i, g) in v
                    .at("/spec/gateways")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let Some(g) = g.as_str().filter(|g| *g != "mesh") else {
                        continue;
                    };
                    let (gns, gname) = g.split_once('/').unwrap_or((ns, g));
                    r.object(format!("spec.gateways[{i}]"), "Gateway", Some(gns), gname);
                }
                let mut destinations = Vec::new();
                for list in ["http", "tcp", "tls"] {
                    each(
                        v,
                        "",
                        &["spec", list, "*", "route", "*", "destination"],
                        &mut |f, d| {
                            destinations.push((f, d));
                        },
                    );
                }
                each(v, "", &["spec", "http", "*", "mirror"], &mut |f, d| {
                    destinations.push((f, d));
                });
                for (field, d) in destinations {
                    let Some(host) = d.get("host").and_then(Value::as_str) else {
                        continue;
                    };
                    let Some((sns, sname)) = mesh_service(host, ns) else {
                        continue;
                    };
                    let port = d
                        .at("/port/number")
                        .and_then(Value::as_u64)
                        .map(Port::Number);
                    r.object_with(
                        join(&field, "host"),
                        "Service",
                        Some(&sns),
                        &sname,
                        None,
                        port,
                    );
                }
            }
            ("external-secrets.io/v1", "ExternalSecret") => {
                let kind = str_at(v, "/spec/secretStoreRef/kind").unwrap_or("SecretStore");
                if let Some(name) = str_at(v, "/spec/secretStoreRef/name") {
                    let field = "spec.secretStoreRef.name";
                    match kind {
                        "ClusterSecretStore" => r.object(field, "ClusterSecretStore", None, name),
                        _ => r.object(field, "SecretStore", Some(ns), name),
                    }
                }
            }
            ("external-secrets.io/v1alpha1", "PushSecret") => {
                // The Secret pushed must be made in the tree (CloudNativePG's, for a
                // replica), and each store written must exist.
                if let Some(secret) = str_at(v, "/spec/selector/secret/name") {
                    r.object("spec.selector.secret.name", "Secret", Some(ns), secret);
                }
                let stores = v.at("/spec/secretStoreRefs").and_then(Value::as_array);
                for (i, s) in stores.into_iter().flatten().enumerate() {
                    if let Some(name) = s.get("name").and_then(Value::as_str) {
                        let field = format!("spec.secretStoreRefs[{i}].name");
                        match s.get("kind").and_then(Value::as_str) {
                            Some("ClusterSecretStore") => {
                                r.object(field, "ClusterSecretStore", None, name)
                            }
                            _ => r.object(field, "SecretStore", Some(ns), name),
                        }
                    }
                }
            }
            ("argoproj.io/v1alpha1", "Application") => {
                let dest = str_at(v, "/spec/destination/namespace").unwrap_or(ns);
                let single = v.at("/spec/source").is_some();
                for (i, s) in sources(v).into_iter().enumerate() {
                    let at = if single {
                        "spec.source".to_owned()
                    } else {
                        format!("spec.sources[{i}]")
                    };
                    if let (Some(path), None) =
                        (s.get("path").and_then(Value::as_str), s.get("chart"))
                    {
                        let repo = s.get("repoURL").and_then(Value::as_str).unwrap_or_default();
                        r.push(join(&at, "path"), Target::Folder(format!("{repo}#{path}")));
                    }
                    // A chart's values that name a Secret of the release's namespace.
                    let params = s.at("/helm/parameters").and_then(Value::as_array);
                    for (j, p) in params.into_iter().flatten().enumerate() {
                        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                        if name.ends_with("secretKeyRef.name") || name.ends_with("existingSecret") {
                            if let Some(secret) = p.get("value").and_then(Value::as_str) {
                                let field = format!("{at}.helm.parameters[{j}].value");
                                r.object(field, "Secret", Some(dest), secret);
                            }
                        }
                    }
                }
            }
            ("autoscaling/v2", "HorizontalPodAutoscaler")
            | ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler") => {
                let at = if doc.kind() == "HorizontalPodAutoscaler" {
                    "scaleTargetRef"
                } else {
                    "targetRef"
                };
                let t = v.at(&format!("/spec/{at}"));
                let kind = t.and_then(|t| t.get("kind")).and_then(Value::as_str);
                let name = t.and_then(|t| t.get("name")).and_then(Value::as_str);
                if let (Some(kind), Some(name)) = (kind, name) {
                    if let Some(w) = pod_template(kind) {
                        r.object(format!("spec.{at}.name"), w.kind, Some(ns), name);
                    }
                }
            }
            ("rbac.authorization.k8s.io/v1", kind @ ("RoleBinding" | "ClusterRoleBinding")) => {
                match (str_at(v, "/roleRef/kind"), str_at(v, "/roleRef/name")) {
                    (Some("ClusterRole"), Some(n)) => {
                        r.object("roleRef.name", "ClusterRole", None, n);
                    }
                    (Some("Role"), Some(n)) if kind == "RoleBinding" => {
                        r.object("roleRef.name", "Role", Some(ns), n);
                    }
                    _ => {}
                }
                for (i, s) in v
                    .at("/subjects")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if s.get("kind").and_then(Value::as_str) != Some("ServiceAccount") {
                        continue;
                    }
                    let sns = s.get("namespace").and_then(Value::as_str).unwrap_or(ns);
                    if let Some(n) = s.get("name").and_then(Value::as_str) {
                        r.object(
                            format!("subjects[{i}].name"),
                            "ServiceAccount",
                            Some(sns),
                            n,
                        );
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Where the tree is: its repository and its folder there (`rendered/<env>`), and every
/// path of the tree below that folder.
#[derive(Debug, Clone, Default)]
pub struct TreePlace<'a> {
    pub repo_url: Option<&'a str>,
    pub folder: Option<&'a str>,
    pub paths: Vec<&'a str>,
}

/// The tree's repository and folder as its root Application names them: the Application
/// that syncs `<folder>/argocd` (the tree's own `argocd/`).
fn root_of(objects: &[Located]) -> Option<(String, String)> {
    objects
        .iter()
        .filter(|o| o.doc.kind() == "Application")
        .flat_map(|o| sources(&o.doc.value))
        .find_map(|s| {
            let path = s.get("path").and_then(Value::as_str)?;
            let folder = path.strip_suffix("/argocd")?;
            let repo = s.get("repoURL").and_then(Value::as_str)?;
            Some((repo.to_owned(), folder.to_owned()))
        })
}

/// The references of `objects` that resolve to nothing.
pub fn unresolved<'a>(
    objects: &'a [Located],
    declared: &[Declared],
    place: &TreePlace<'_>,
) -> Vec<Unresolved<'a>> {
    let provided = provided(objects, declared);
    let root = match (place.repo_url, place.folder) {
        (Some(r), Some(f)) => Some((r.to_owned(), f.to_owned())),
        _ => root_of(objects),
    };
    let mut out = Vec::new();
    for reference in references(objects) {
        let (problem, declare) = match &reference.target {
            Target::Object {
                kind,
                namespace,
                name,
                key,
                port,
            } => {
                let ns = namespace.as_deref();
                let shown = match ns {
                    Some(ns) => format!("{kind} {ns}/{name}"),
                    None => format!("{kind} {name}"),
                };
                if !provided.has(kind, ns, name) {
                    let declare = match ns {
                        Some(ns) => format!("{{kind: {kind}, namespace: {ns}, name: {name}}}"),
                        None => format!("{{kind: {kind}, name: {name}}}"),
                    };
                    (
                        Some(format!(
                            "names {shown}, which nothing in the tree makes and no prerequisite declares"
                        )),
                        Some(declare),
                    )
                } else {
                    let ns = ns.unwrap_or_default().to_owned();
                    let mut problem = None;
                    if let (Some(key), Some(keys)) =
                        (key, provided.secret_keys.get(&(ns.clone(), name.clone())))
                    {
                        if !keys.contains(key) {
                            let has: Vec<&str> = keys.iter().map(String::as_str).collect();
                            problem = Some(format!(
                                "reads key '{key}' of {shown}, but its ExternalSecret makes only {}",
                                if has.is_empty() { "no key".to_owned() } else { has.join(", ") }
                            ));
                        }
                    }
                    if let (Some(port), Some((names, numbers))) =
                        (port, provided.service_ports.get(&(ns, name.clone())))
                    {
                        let ok = match port {
                            Port::Name(n) => names.contains(n),
                            Port::Number(n) => numbers.is_empty() || numbers.contains(n),
                        };
                        if !ok {
                            problem = Some(format!(
                                "names port {port} of {shown}, which has no such port"
                            ));
                        }
                    }
                    (problem, None)
                }
            }
            Target::Selected {
                kind,
                namespaces,
                selector,
                ports,
            } => {
                let picked: Vec<&(String, String, Labels, BTreeSet<String>)> = provided
                    .labelled
                    .iter()
                    .filter(|(k, ns, labels, _)| {
                        k == kind
                            && namespaces.as_ref().is_none_or(|n| n.contains(ns))
                            && selects(Some(selector), labels)
                    })
                    .collect();
                let where_ = namespaces
                    .as_ref()
                    .map_or_else(|| "any namespace".to_owned(), |n| n.join(", "));
                let what = if *kind == "Pod" { "pod" } else { "Service" };
                if picked.is_empty() {
                    (
                        Some(format!(
                            "selects no {what} in {where_} ({selector}): nothing in the tree or its prerequisites carries those labels"
                        )),
                        None,
                    )
                } else {
                    let missing: Vec<&String> = ports
                        .iter()
                        .filter(|p| {
                            !picked
                                .iter()
                                .any(|(_, _, _, names)| names.is_empty() || names.contains(*p))
                        })
                        .collect();
                    match missing.first() {
                        Some(p) => (
                            Some(format!(
                                "scrapes port '{p}', which no {what} it selects in {where_} has"
                            )),
                            None,
                        ),
                        None => (None, None),
                    }
                }
            }
            Target::GatewaySecret { selector, name } => {
                let namespaces: BTreeSet<&String> = provided
                    .labelled
                    .iter()
                    .filter(|(k, _, labels, _)| k == "Pod" && selects(Some(selector), labels))
                    .map(|(_, ns, _, _)| ns)
                    .collect();
                // A selector that picks no pods is its own finding.
                let missing: Vec<&&String> = namespaces
                    .iter()
                    .filter(|ns| !provided.has("Secret", Some(ns), name))
                    .collect();
                match missing.first() {
                    Some(ns) => (
                        Some(format!(
                            "reads TLS Secret '{name}' in {ns}, where its gateway's pods run, and nothing in the tree makes it there"
                        )),
                        Some(format!("{{kind: Secret, namespace: {ns}, name: {name}}}")),
                    ),
                    None => (None, None),
                }
            }
            Target::Folder(at) => {
                let (repo, path) = at.split_once('#').unwrap_or(("", at));
                match &root {
                    Some((root_repo, folder)) if root_repo == repo => {
                        let inside = path
                            .strip_prefix(folder.as_str())
                            .and_then(|p| p.strip_prefix('/'));
                        let found = inside.is_some_and(|p| {
                            let p = p.trim_end_matches('/');
                            place.paths.iter().any(|f| {
                                f.strip_prefix(p).is_some_and(|rest| rest.starts_with('/'))
                            })
                        });
                        if found {
                            (None, None)
                        } else {
                            (
                                Some(format!(
                                    "syncs {path}, which is no folder of the tree ({folder})"
                                )),
                                None,
                            )
                        }
                    }
                    // Another repository's folder is not the tree's to check.
                    _ => (None, None),
                }
            }
        };
        if let Some(problem) = problem {
            out.push(Unresolved {
                reference,
                problem,
                declare,
            });
        }
    }
    out
}

/// The built-in prerequisites as a Markdown table, for docs/system.md ("Prerequisites").
pub fn prerequisites_table() -> String {
    let mut out = String::from(
        "| kind | namespace | name | labels | who makes it | what |\n|---|---|---|---|---|---|\n",
    );
    for p in PREREQUISITES {
        let labels: Vec<String> = p
            .labels
            .iter()
            .map(|(k, v)| format!("`{k}: {v}`"))
            .collect();
        let by = match p.made_by {
            MadeBy::Cluster => "the cluster".to_owned(),
            MadeBy::Chart(c) => format!("the `{c}` chart, when the tree installs it"),
        };
        out.push_str(&format!(
            "| {} | {} | `{}` | {} | {by} | {} |\n",
            p.kind,
            match p.namespace {
                Some("*") => "every namespace".to_owned(),
                Some(ns) => format!("`{ns}`"),
                None => "(cluster)".to_owned(),
            },
            p.name,
            if labels.is_empty() {
                "".to_owned()
            } else {
                labels.join(", ")
            },
            p.what
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mesh_hosts_are_services_only_in_their_cluster_forms() {
        let svc = |h: &str| mesh_service(h, "own");
        assert_eq!(svc("web"), Some(("own".into(), "web".into())));
        assert_eq!(svc("web.shop.svc"), Some(("shop".into(), "web".into())));
        assert_eq!(
            svc("web.shop.svc.cluster.local"),
            Some(("shop".into(), "web".into()))
        );
        // A host outside the cluster (a ServiceEntry's) is not the tree's to resolve.
        assert_eq!(svc("api.example.com"), None);
        assert_eq!(svc("web.shop"), None);
    }

    #[test]
    fn docs_system_md_shows_the_prerequisites_table() {
        let doc = include_str!("../../docs/system.md");
        let table = prerequisites_table();
        assert!(
            doc.contains(&table),
            "docs/system.md (Prerequisites) lacks the table:\n{table}"
        );
    }

    #[test]
    fn the_prerequisites_table_lists_every_row() {
        let table = prerequisites_table();
        assert_eq!(table.lines().count(), PREREQUISITES.len() + 2);
        assert!(table.contains("| Deployment | `istio-system` | `istio-ingressgateway` | `app: istio-ingressgateway`, `istio: ingressgateway` | the `gateway` chart, when the tree installs it |"), "{table}");
    }
}
