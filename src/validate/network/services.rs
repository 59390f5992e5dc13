//! The Services of a tree (the rendered ones and those the operators create, see
//! [`super::operator_services`]) and what goes through them: Prometheus to every port its
//! ServiceMonitors and PodMonitors scrape ([`scrapes`], each scrape with the monitor and
//! Service it comes through, for the double-scrape check), Prometheus to the Alertmanagers
//! its `alerting` names ([`alertmanager_endpoints`]), and the ingress gateway to every port
//! a VirtualService or an Ingress routes to (see [`super::flows`]).

use serde_json::Value;

use super::flows::{Flows, Tree};
use super::pods::{labels_of, Outside, Pods};
use super::{selects, Endpoint, Labels};
use crate::validate::policy::Located;
use crate::validate::{At, Document};

/// A Service: rendered in the tree, or created by an operator from a custom resource.
#[derive(Debug, Clone)]
pub struct Svc<'a> {
    pub namespace: String,
    pub name: String,
    pub labels: Labels,
    /// Its pod selector (`None`: no selector, its endpoints are made by hand).
    pub selector: Option<Labels>,
    pub ports: Vec<SvcPort>,
    /// The rendered Service, or the custom resource its operator makes it from.
    pub from: &'a Document,
    pub operated: bool,
}

#[derive(Debug, Clone)]
pub struct SvcPort {
    pub name: Option<String>,
    pub port: u16,
    pub target: Target,
}

/// A Service port's `targetPort`: a number, or the name of a container port.
#[derive(Debug, Clone)]
pub enum Target {
    Number(u16),
    Name(String),
}

fn number(v: &Value) -> Option<u16> {
    v.as_u64().and_then(|n| u16::try_from(n).ok())
}

impl<'a> Svc<'a> {
    fn of_doc(doc: &'a Document) -> Svc<'a> {
        let ports = doc.value.pointer("/spec/ports").and_then(Value::as_array);
        let ports = ports
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let port = p.get("port").and_then(number)?;
                let target = match p.get("targetPort") {
                    Some(Value::String(name)) => Target::Name(name.clone()),
                    Some(v) => Target::Number(number(v)?),
                    None => Target::Number(port),
                };
                Some(SvcPort {
                    name: p.get("name").and_then(Value::as_str).map(str::to_owned),
                    port,
                    target,
                })
            })
            .collect();
        let selector = doc
            .value
            .pointer("/spec/selector")
            .and_then(Value::as_object)
            .map(|_| labels_of(doc.value.pointer("/spec/selector")));
        Svc {
            namespace: doc.namespace().to_owned(),
            name: doc.name().to_owned(),
            labels: labels_of(doc.value.pointer("/metadata/labels")),
            selector,
            ports,
            from: doc,
            operated: false,
        }
    }

    /// `Service ns/name`, and who makes it when an operator does.
    pub fn describe(&self) -> String {
        let mut s = format!("Service {}/{}", self.namespace, self.name);
        if self.operated {
            s.push_str(&format!(
                " (made by its operator from {})",
                self.from.describe()
            ));
        }
        s
    }

    /// The pods of the tree its selector picks, in its namespace.
    pub fn pods<'p>(&self, pods: &'p Pods<'_>) -> Vec<&'p Endpoint> {
        let Some(selector) = &self.selector else {
            return Vec::new();
        };
        pods.all()
            .filter(|p| p.namespace.as_deref() == Some(self.namespace.as_str()))
            .filter(|p| selector.iter().all(|(k, v)| p.labels.get(k) == Some(v)))
            .collect()
    }

    /// Its port named `name`.
    pub fn port_named(&self, name: &str) -> Option<&SvcPort> {
        self.ports.iter().find(|p| p.name.as_deref() == Some(name))
    }

    /// Its port given by name or number (as a monitor or a route names it).
    pub fn port(&self, wanted: &Value) -> Option<&SvcPort> {
        match wanted {
            Value::String(name) => self.port_named(name),
            v => number(v).and_then(|n| self.ports.iter().find(|p| p.port == n)),
        }
    }
}

impl SvcPort {
    /// The number it reaches on `pod`: its target port (a number, or one of the pod's
    /// named ports).
    pub fn on(&self, pod: &Endpoint) -> Option<u16> {
        match &self.target {
            Target::Number(n) => Some(*n),
            Target::Name(name) => pod.ports.get(name).copied(),
        }
    }
}

/// Every Service of a tree: the rendered ones, then those its operators will create.
pub fn services(objects: &[Located]) -> Vec<Svc<'_>> {
    let mut out: Vec<Svc<'_>> = objects
        .iter()
        .map(|o| &o.doc)
        .filter(|d| d.kind() == "Service" && d.api_version() == "v1")
        .map(Svc::of_doc)
        .collect();
    for s in super::operator_services::of(objects) {
        // A rendered Service of the same name is the one the cluster has.
        if !out
            .iter()
            .any(|t| t.namespace == s.namespace && t.name == s.name)
        {
            out.push(s);
        }
    }
    out
}

/// Whether Prometheus `prometheus` selects monitor `monitor`: by its label selector
/// (`serviceMonitorSelector` or `podMonitorSelector`; absent selects none, as the operator
/// does) and its namespace selector (absent: the Prometheus's own namespace only).
pub fn scrapes_monitor(pods: &Pods<'_>, prometheus: &Document, monitor: &Document) -> bool {
    let kind = if monitor.kind() == "PodMonitor" {
        "podMonitor"
    } else {
        "serviceMonitor"
    };
    let namespace_ok = match prometheus
        .value
        .at(&format!("/spec/{kind}NamespaceSelector"))
    {
        Some(sel) => selects(Some(sel), &pods.namespace_labels(monitor.namespace())),
        None => monitor.namespace() == prometheus.namespace(),
    };
    namespace_ok
        && selects(
            prometheus.value.at(&format!("/spec/{kind}Selector")),
            &labels_of(monitor.value.pointer("/metadata/labels")),
        )
}

/// The namespaces a monitor looks in: `matchNames`, every one (`any: true`: `None`), or
/// its own.
pub fn monitor_namespaces(monitor: &Document) -> Option<Vec<String>> {
    let selector = monitor.value.pointer("/spec/namespaceSelector");
    if selector.and_then(|s| s.get("any")).and_then(Value::as_bool) == Some(true) {
        return None;
    }
    Some(
        match selector
            .and_then(|s| s.get("matchNames"))
            .and_then(Value::as_array)
        {
            Some(names) => names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            None => vec![monitor.namespace().to_owned()],
        },
    )
}

/// One scrape target of a monitor: a pod's port and path, and the Service it is found
/// through (a ServiceMonitor's).
#[derive(Debug, Clone)]
pub struct Scrape<'a, 'p> {
    pub monitor: &'a Document,
    /// The monitor's endpoint (`spec.endpoints[i]` / `spec.podMetricsEndpoints[i]`).
    pub endpoint: usize,
    pub service: Option<String>,
    pub pod: &'p Endpoint,
    pub port: u16,
    pub path: String,
}

/// Every scrape target of the tree's monitors, whichever Prometheus selects them.
pub fn scrapes<'a, 'p>(
    objects: &'a [Located],
    services: &[Svc<'_>],
    pods: &'p Pods<'_>,
) -> Vec<Scrape<'a, 'p>> {
    let mut out = Vec::new();
    let monitors = objects
        .iter()
        .map(|o| &o.doc)
        .filter(|d| matches!(d.kind(), "ServiceMonitor" | "PodMonitor"));
    for monitor in monitors {
        let namespaces = monitor_namespaces(monitor);
        let in_scope = |ns: &str| {
            namespaces
                .as_ref()
                .is_none_or(|n| n.iter().any(|x| x == ns))
        };
        let pod_monitor = monitor.kind() == "PodMonitor";
        let list = if pod_monitor {
            "/spec/podMetricsEndpoints"
        } else {
            "/spec/endpoints"
        };
        let endpoints: Vec<&Value> = monitor
            .value
            .pointer(list)
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let path = |e: &Value| {
            e.get("path")
                .and_then(Value::as_str)
                .unwrap_or("/metrics")
                .to_owned()
        };
        let selector = monitor.value.pointer("/spec/selector");
        if pod_monitor {
            let selected = pods
                .all()
                .filter(|p| p.namespace.as_deref().is_some_and(in_scope))
                .filter(|p| selects(selector, &p.labels));
            for pod in selected {
                for (i, e) in endpoints.iter().enumerate() {
                    let port = match (e.get("port"), e.get("portNumber")) {
                        (Some(Value::String(name)), _) => pod.ports.get(name).copied(),
                        (_, Some(n)) => number(n),
                        _ => None,
                    };
                    if let Some(port) = port {
                        out.push(Scrape {
                            monitor,
                            endpoint: i,
                            service: None,
                            pod,
                            port,
                            path: path(e),
                        });
                    }
                }
            }
            continue;
        }
        for service in services
            .iter()
            .filter(|s| in_scope(&s.namespace) && selects(selector, &s.labels))
        {
            for (i, e) in endpoints.iter().enumerate() {
                let port = e.get("port").and_then(Value::as_str);
                let target = e.get("targetPort");
                for pod in service.pods(pods) {
                    let number = match (port, target) {
                        (Some(name), _) => service.port_named(name).and_then(|sp| sp.on(pod)),
                        (None, Some(Value::String(name))) => pod.ports.get(name).copied(),
                        (None, Some(n)) => number(n),
                        (None, None) => None,
                    };
                    if let Some(number) = number {
                        out.push(Scrape {
                            monitor,
                            endpoint: i,
                            service: Some(service.describe()),
                            pod,
                            port: number,
                            path: path(e),
                        });
                    }
                }
            }
        }
    }
    out
}

/// Prometheus to every port its monitors scrape.
pub(super) fn scrape_flows<'p>(
    tree: &Tree<'_>,
    services: &[Svc<'_>],
    pods: &'p Pods<'_>,
    flows: &mut Flows<'p>,
) {
    let targets = scrapes(tree.objects, services, pods);
    for (server_doc, server) in pods.prometheus_servers.iter().zip(&pods.prometheus) {
        for t in targets
            .iter()
            .filter(|t| scrapes_monitor(pods, server_doc, t.monitor))
        {
            flows.need(
                server,
                t.pod,
                t.port,
                "Prometheus scrapes it (a ServiceMonitor or PodMonitor of the tree)",
            );
        }
    }
}

/// One entry of a Prometheus's `spec.alerting.alertmanagers`, resolved: the Service it
/// names and the Alertmanager pods behind it, each on the port it reaches.
#[derive(Debug)]
pub struct AlertmanagerEndpoint<'s, 'p> {
    /// Its index in `spec.alerting.alertmanagers`.
    pub index: usize,
    pub namespace: String,
    pub name: String,
    pub port: Value,
    /// The Service of that name in that namespace, if the tree has it or an operator makes
    /// it.
    pub service: Option<&'s Svc<'s>>,
    /// The Service's port it names, when it has one.
    pub service_port: Option<&'s SvcPort>,
    /// The Alertmanager pods the Service selects (indices into `pods.alertmanagers`), each
    /// with the port number the endpoint reaches on them.
    pub alertmanagers: Vec<(usize, u16)>,
    /// Other pods the Service selects.
    pub others: Vec<&'p Endpoint>,
}

/// The Alertmanagers a Prometheus names in `spec.alerting.alertmanagers`.
pub fn alertmanager_endpoints<'s, 'p>(
    prometheus: &Document,
    services: &'s [Svc<'s>],
    pods: &'p Pods<'_>,
) -> Vec<AlertmanagerEndpoint<'s, 'p>> {
    let list = prometheus
        .value
        .pointer("/spec/alerting/alertmanagers")
        .and_then(Value::as_array);
    let mut out = Vec::new();
    for (index, e) in list.into_iter().flatten().enumerate() {
        let namespace = e
            .get("namespace")
            .and_then(Value::as_str)
            .unwrap_or(prometheus.namespace())
            .to_owned();
        let name = e
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let port = e.get("port").cloned().unwrap_or(Value::Null);
        let service = services
            .iter()
            .find(|s| s.namespace == namespace && s.name == name);
        let service_port = service.and_then(|s| s.port(&port));
        let mut alertmanagers = Vec::new();
        let mut others = Vec::new();
        if let (Some(s), Some(sp)) = (service, service_port) {
            for pod in s.pods(pods) {
                let i = pods.alertmanagers.iter().position(|a| std::ptr::eq(a, pod));
                match (i, sp.on(pod)) {
                    (Some(i), Some(n)) => alertmanagers.push((i, n)),
                    _ => others.push(pod),
                }
            }
        }
        out.push(AlertmanagerEndpoint {
            index,
            namespace,
            name,
            port,
            service,
            service_port,
            alertmanagers,
            others,
        });
    }
    out
}

/// Prometheus to the Alertmanagers it sends alerts to; the replicas of an Alertmanager to
/// each other on the mesh port (TCP and UDP); each Alertmanager to the internet on the
/// ports of its receivers' integrations.
pub(super) fn alerting_flows<'p>(
    tree: &Tree<'_>,
    services: &[Svc<'_>],
    pods: &'p Pods<'_>,
    outside: &'p Outside,
    flows: &mut Flows<'p>,
) {
    for (server_doc, server) in pods.prometheus_servers.iter().zip(&pods.prometheus) {
        for e in alertmanager_endpoints(server_doc, services, pods) {
            for (i, port) in e.alertmanagers {
                flows.need(
                    server,
                    &pods.alertmanagers[i],
                    port,
                    "Prometheus sends its alerts there (spec.alerting.alertmanagers)",
                );
            }
        }
    }
    for (doc, am) in pods.alertmanager_servers.iter().zip(&pods.alertmanagers) {
        let replicas = doc.value.pointer("/spec/replicas").and_then(Value::as_u64);
        if replicas.unwrap_or(1) > 1 {
            for protocol in [super::Protocol::Tcp, super::Protocol::Udp] {
                flows.needed.push(super::flows::Flow {
                    src: am,
                    dst: am,
                    port: super::pods::ALERTMANAGER_MESH_PORT,
                    protocol,
                    why: "Alertmanager replicas gossip silences and the notification log",
                });
            }
        }
        let configs = crate::validate::alerting::selected_configs(doc, tree.objects, pods);
        for port in crate::validate::alerting::integration_ports(&configs) {
            flows.need(
                am,
                &outside.internet,
                port,
                "the Alertmanager delivers notifications to its receivers' services (Slack, PagerDuty, an SMTP relay)",
            );
        }
    }
}

/// The Service a route names: `svc`, `svc.ns`, `svc.ns.svc` or `svc.ns.svc.cluster.local`.
fn routed_service<'s>(services: &'s [Svc<'s>], host: &str, route_ns: &str) -> Option<&'s Svc<'s>> {
    let host = host.strip_suffix(".cluster.local").unwrap_or(host);
    let host = host.strip_suffix(".svc").unwrap_or(host);
    let (name, ns) = host.split_once('.').unwrap_or((host, route_ns));
    services
        .iter()
        .find(|s| s.name == name && s.namespace == ns)
}

/// The ingress gateway to every Service port a VirtualService or an Ingress routes to.
pub(super) fn routes<'p>(
    tree: &Tree<'_>,
    services: &[Svc<'_>],
    pods: &'p Pods<'_>,
    outside: &'p Outside,
    flows: &mut Flows<'p>,
) {
    // (Service, its port as a route names it: a number, or a name).
    let mut backends: Vec<(&Svc<'_>, Value)> = Vec::new();
    for vs in tree.of_kind("VirtualService") {
        let http = vs.value.pointer("/spec/http").and_then(Value::as_array);
        for route in http.into_iter().flatten().flat_map(|h| {
            h.get("route")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        }) {
            let host = route.pointer("/destination/host").and_then(Value::as_str);
            let port = route.pointer("/destination/port/number").cloned();
            if let (Some(service), Some(port)) = (
                host.and_then(|h| routed_service(services, h, vs.namespace())),
                port,
            ) {
                backends.push((service, port));
            }
        }
    }
    for ingress in tree.of_kind("Ingress") {
        let rules = ingress
            .value
            .pointer("/spec/rules")
            .and_then(Value::as_array);
        let paths = rules.into_iter().flatten().flat_map(|r| {
            r.pointer("/http/paths")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        });
        for path in paths {
            let name = path
                .pointer("/backend/service/name")
                .and_then(Value::as_str);
            let port = path.pointer("/backend/service/port");
            let wanted = port.and_then(|p| p.get("name").or_else(|| p.get("number")));
            if let (Some(service), Some(wanted)) = (
                name.and_then(|n| routed_service(services, n, ingress.namespace())),
                wanted,
            ) {
                backends.push((service, wanted.clone()));
            }
        }
    }
    for (service, wanted) in backends {
        let Some(sp) = service.port(&wanted) else {
            continue;
        };
        for pod in service.pods(pods) {
            if let Some(port) = sp.on(pod) {
                flows.need(
                    &outside.ingress_gateway,
                    pod,
                    port,
                    "the ingress gateway routes public traffic to it",
                );
            }
        }
    }
}
