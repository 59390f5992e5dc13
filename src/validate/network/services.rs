//! The flows that go through Services: Prometheus to every port its ServiceMonitors and
//! PodMonitors scrape, and the ingress gateway to every port a VirtualService or an
//! Ingress routes to, each resolved through the Services and pods of the tree (see
//! [`super::flows`]).

use serde_json::Value;

use super::flows::{Flows, Tree};
use super::pods::{labels_of, Outside, Pods};
use super::{selects, Endpoint};
use crate::validate::Document;

/// Whether Prometheus `p` selects monitor `m` (by `serviceMonitorSelector` or
/// `podMonitorSelector`; an absent selector selects none, as the operator does).
fn scrapes_monitor(prometheus: &Document, monitor: &Document) -> bool {
    let field = if monitor.kind() == "PodMonitor" {
        "/spec/podMonitorSelector"
    } else {
        "/spec/serviceMonitorSelector"
    };
    selects(
        prometheus.value.pointer(field),
        &labels_of(monitor.value.pointer("/metadata/labels")),
    )
}

/// The namespaces a monitor looks in: `matchNames`, or its own.
fn monitor_namespaces(monitor: &Document) -> Vec<String> {
    match monitor
        .value
        .pointer("/spec/namespaceSelector/matchNames")
        .and_then(Value::as_array)
    {
        Some(names) => names
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        None => vec![monitor.namespace().to_owned()],
    }
}

/// The pods of the tree a Service's selector picks, in its namespace.
fn service_pods<'p>(pods: &'p Pods<'_>, service: &Document) -> Vec<&'p Endpoint> {
    let selector = service.value.pointer("/spec/selector");
    let ns = service.namespace();
    pods.all()
        .filter(|p| p.namespace.as_deref() == Some(ns))
        .filter(|p| {
            selector
                .is_some_and(|s| selects(Some(&serde_json::json!({"matchLabels": s})), &p.labels))
        })
        .collect()
}

/// The number a Service port reaches on `pod`: its `targetPort` (a number, or a name of
/// the pod's ports), else its `port`.
fn target_port(service_port: &Value, pod: &Endpoint) -> Option<u16> {
    let number = |v: &Value| v.as_u64().and_then(|n| u16::try_from(n).ok());
    match service_port.get("targetPort") {
        Some(Value::String(name)) => pod.ports.get(name).copied(),
        Some(v) => number(v),
        None => service_port.get("port").and_then(number),
    }
}

/// Prometheus to every port its monitors scrape.
pub(super) fn scrapes<'p>(tree: &Tree<'_>, pods: &'p Pods<'_>, flows: &mut Flows<'p>) {
    let monitors = tree
        .of_kind("ServiceMonitor")
        .chain(tree.of_kind("PodMonitor"));
    for monitor in monitors {
        let namespaces = monitor_namespaces(monitor);
        let mut targets: Vec<(&'p Endpoint, u16)> = Vec::new();
        if monitor.kind() == "PodMonitor" {
            let endpoints = monitor
                .value
                .pointer("/spec/podMetricsEndpoints")
                .and_then(Value::as_array);
            for pod in pods
                .all()
                .filter(|p| p.namespace.as_ref().is_some_and(|n| namespaces.contains(n)))
            {
                if !selects(monitor.value.pointer("/spec/selector"), &pod.labels) {
                    continue;
                }
                for e in endpoints.into_iter().flatten() {
                    if let Some(port) = e
                        .get("port")
                        .and_then(Value::as_str)
                        .and_then(|n| pod.ports.get(n))
                    {
                        targets.push((pod, *port));
                    }
                }
            }
        } else {
            let endpoints = monitor
                .value
                .pointer("/spec/endpoints")
                .and_then(Value::as_array);
            for service in tree.of_kind("Service") {
                if !namespaces.iter().any(|n| n == service.namespace())
                    || !selects(
                        monitor.value.pointer("/spec/selector"),
                        &labels_of(service.value.pointer("/metadata/labels")),
                    )
                {
                    continue;
                }
                let ports = service
                    .value
                    .pointer("/spec/ports")
                    .and_then(Value::as_array);
                for e in endpoints.into_iter().flatten() {
                    let Some(name) = e.get("port").and_then(Value::as_str) else {
                        continue;
                    };
                    let Some(sp) = ports
                        .into_iter()
                        .flatten()
                        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
                    else {
                        continue;
                    };
                    for pod in service_pods(pods, service) {
                        if let Some(port) = target_port(sp, pod) {
                            targets.push((pod, port));
                        }
                    }
                }
            }
        }
        for (server_doc, server) in pods.prometheus_servers.iter().zip(&pods.prometheus) {
            if !scrapes_monitor(server_doc, monitor) {
                continue;
            }
            for (pod, port) in &targets {
                flows.need(
                    server,
                    pod,
                    *port,
                    "Prometheus scrapes it (a ServiceMonitor or PodMonitor of the tree)",
                );
            }
        }
    }
}

/// The Service a route names: `svc`, `svc.ns`, `svc.ns.svc` or `svc.ns.svc.cluster.local`.
fn routed_service<'a>(tree: &Tree<'a>, host: &str, route_ns: &str) -> Option<&'a Document> {
    let host = host.strip_suffix(".cluster.local").unwrap_or(host);
    let host = host.strip_suffix(".svc").unwrap_or(host);
    let (name, ns) = host.split_once('.').unwrap_or((host, route_ns));
    tree.of_kind("Service")
        .find(|s| s.name() == name && s.namespace() == ns)
}

/// The ingress gateway to every Service port a VirtualService or an Ingress routes to.
pub(super) fn routes<'p>(
    tree: &Tree<'_>,
    pods: &'p Pods<'_>,
    outside: &'p Outside,
    flows: &mut Flows<'p>,
) {
    let mut backends: Vec<(&Document, Value)> = Vec::new();
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
                host.and_then(|h| routed_service(tree, h, vs.namespace())),
                port,
            ) {
                backends.push((service, serde_json::json!({"port": port})));
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
            let port = path.pointer("/backend/service/port").cloned();
            if let (Some(service), Some(port)) = (
                name.and_then(|n| routed_service(tree, n, ingress.namespace())),
                port,
            ) {
                let wanted = match port.get("name") {
                    Some(n) => serde_json::json!({"name": n}),
                    None => serde_json::json!({"port": port.get("number")}),
                };
                backends.push((service, wanted));
            }
        }
    }
    for (service, wanted) in backends {
        let ports = service
            .value
            .pointer("/spec/ports")
            .and_then(Value::as_array);
        let Some(sp) = ports.into_iter().flatten().find(|p| {
            wanted
                .as_object()
                .is_some_and(|w| w.iter().all(|(k, v)| p.get(k) == Some(v)))
        }) else {
            continue;
        };
        for pod in service_pods(pods, service) {
            if let Some(port) = target_port(sp, pod) {
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
