//! The Services each operator creates from a custom resource of the tree, with the labels,
//! selectors and ports it gives them, for what reads Services (the scrape flows, the
//! alerting endpoints, the double-scrape check). Like the pods of [`super::pods`], they
//! are the operators', read from their sources at the releases whose CRD schemas the tree
//! is checked against (docs/schemas.md):
//!
//! * prometheus-operator 0.93: `prometheus-operated` for the Prometheus servers of a
//!   namespace (port `web` 9090) and `alertmanager-operated` for its Alertmanagers (the web
//!   port, `spec.portName` or `web`, 9093; `tcp-mesh` and `udp-mesh` 9094), selecting
//!   `app.kubernetes.io/name: prometheus` / `alertmanager`; a resource that names its own
//!   `spec.serviceName` gets none (that Service must be in the tree).
//! * OT redis-operator 0.26: per StatefulSet (`<name>-leader` and `<name>-follower` of a
//!   `RedisCluster`, `<name>` of a `Redis`), the Service of the same name (client port
//!   6379, the exporter's 9121 when `spec.redisExporter.enabled`, the bus 16379 with
//!   `spec.kubernetesConfig.service.includeBusPort`), `-headless` and `-additional`
//!   (client port; `-additional` unless `service.additional.enabled: false`), and
//!   `-metrics` (the exporter's port only, when enabled), all over the same pods. A
//!   ServiceMonitor that selects them by `app` scrapes each exporter twice.

use serde_json::Value;

use super::pods::{
    alertmanager_port_name, collector_labels, collector_ports, labels_of, operated, redis_labels,
    redis_statefulsets, Operated,
};
use super::pods::{ALERTMANAGER_MESH_PORT, ALERTMANAGER_WEB_PORT, PROMETHEUS_PORT};
use super::services::{Svc, SvcPort, Target};
use super::Labels;
use crate::families::prometheus::model::ALERTMANAGER_SERVICE;
use crate::validate::policy::Located;
use crate::validate::{At, Document};

/// The Services the operators will create from the custom resources among `objects`.
pub fn of(objects: &[Located]) -> Vec<Svc<'_>> {
    let mut out: Vec<Svc<'_>> = Vec::new();
    for o in objects {
        let doc = &o.doc;
        match operated(doc) {
            Some(Operated::Prometheus) if own_service(doc).is_none() => {
                let ports = vec![port("web", PROMETHEUS_PORT, Target::Name("web".into()))];
                governing(&mut out, doc, "prometheus-operated", "prometheus", ports);
            }
            Some(Operated::Alertmanager) if own_service(doc).is_none() => {
                let web = alertmanager_port_name(doc);
                let ports = vec![
                    port(web, ALERTMANAGER_WEB_PORT, Target::Name(web.to_owned())),
                    port(
                        "tcp-mesh",
                        ALERTMANAGER_MESH_PORT,
                        Target::Name("mesh-tcp".into()),
                    ),
                    port(
                        "udp-mesh",
                        ALERTMANAGER_MESH_PORT,
                        Target::Name("mesh-udp".into()),
                    ),
                ];
                governing(&mut out, doc, ALERTMANAGER_SERVICE, "alertmanager", ports);
            }
            Some(kind @ (Operated::RedisCluster | Operated::Redis)) => {
                redis(&mut out, doc, kind == Operated::RedisCluster);
            }
            Some(Operated::OtelCollector) => collector(&mut out, doc),
            _ => {}
        }
    }
    out
}

/// The governing Service a prometheus-operator resource names itself (`spec.serviceName`).
pub fn own_service(doc: &Document) -> Option<&str> {
    doc.value
        .pointer("/spec/serviceName")
        .and_then(Value::as_str)
}

fn port(name: &str, number: u16, target: Target) -> SvcPort {
    SvcPort {
        name: Some(name.to_owned()),
        port: number,
        target,
    }
}

/// The OpenTelemetry Operator's Services of a collector: `<name>-collector` (its
/// receivers' ports) and `<name>-collector-monitoring` (`monitoring`, the metrics port),
/// over the collector's pods.
fn collector<'a>(out: &mut Vec<Svc<'a>>, doc: &'a Document) {
    let (ns, name) = (doc.namespace(), doc.name());
    let selector = collector_labels(ns, name);
    let mut ports = collector_ports(doc);
    let metrics = ports.remove("metrics");
    let receivers = ports
        .into_iter()
        .map(|(n, p)| port(&n, p, Target::Name(n.clone())))
        .collect();
    let monitoring = metrics
        .map(|p| vec![port("monitoring", p, Target::Name("metrics".into()))])
        .unwrap_or_default();
    for (suffix, ports) in [("", receivers), ("-monitoring", monitoring)] {
        out.push(Svc {
            namespace: ns.to_owned(),
            name: format!("{name}-collector{suffix}"),
            labels: selector.clone(),
            selector: Some(selector.clone()),
            ports,
            from: doc,
            operated: true,
        });
    }
}

/// prometheus-operator's one governing Service per namespace (the first resource makes it).
fn governing<'a>(
    out: &mut Vec<Svc<'a>>,
    doc: &'a Document,
    name: &str,
    app: &str,
    ports: Vec<SvcPort>,
) {
    let ns = doc.namespace();
    if out.iter().any(|s| s.namespace == ns && s.name == name) {
        return;
    }
    let selector = Labels::from([("app.kubernetes.io/name".to_owned(), app.to_owned())]);
    out.push(Svc {
        namespace: ns.to_owned(),
        name: name.to_owned(),
        labels: Labels::from([(format!("operated-{app}"), "true".to_owned())]),
        selector: Some(selector),
        ports,
        from: doc,
        operated: true,
    });
}

fn redis<'a>(out: &mut Vec<Svc<'a>>, doc: &'a Document, cluster: bool) {
    let spec = |pointer: &str| doc.value.at(&format!("/spec{pointer}"));
    let flag = |pointer: &str| spec(pointer).and_then(Value::as_bool);
    let exporter = flag("/redisExporter/enabled") == Some(true);
    let exporter_port = spec("/redisExporter/port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(9121);
    let client = spec("/port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(6379);
    let service = "/kubernetesConfig/service";
    let bus = |pointer: &str| flag(&format!("{service}{pointer}/includeBusPort")) == Some(true);
    let additional = flag(&format!("{service}/additional/enabled")) != Some(false);
    let own = labels_of(doc.value.pointer("/metadata/labels"));
    let setup = if cluster { "cluster" } else { "standalone" };
    for (sts, role) in redis_statefulsets(doc.name(), cluster) {
        // The operator's labels, and the resource's over them (they select the pods too).
        let stable = redis_labels(&sts, setup, role);
        let mut labels = stable.clone();
        labels.extend(own.clone());
        let client_port = || port("redis-client", client, Target::Number(client));
        let bus_port = || port("redis-bus", client + 10000, Target::Number(client + 10000));
        let exporter_svc_port = || {
            port(
                "redis-exporter",
                exporter_port,
                Target::Number(exporter_port),
            )
        };
        let mut main = vec![client_port()];
        if exporter {
            main.push(exporter_svc_port());
        }
        if bus("") {
            main.push(bus_port());
        }
        let mut headless = vec![client_port()];
        if bus("/headless") {
            headless.push(bus_port());
        }
        let mut extra = vec![client_port()];
        if bus("/additional") {
            extra.push(bus_port());
        }
        let mut services = vec![(sts.clone(), labels.clone(), labels.clone(), main)];
        services.push((
            format!("{sts}-headless"),
            labels.clone(),
            labels.clone(),
            headless,
        ));
        if additional {
            services.push((
                format!("{sts}-additional"),
                labels.clone(),
                labels.clone(),
                extra,
            ));
        }
        if exporter {
            let mut l = stable.clone();
            l.insert("app.kubernetes.io/component".into(), "metrics".into());
            let ports = vec![exporter_svc_port()];
            services.push((format!("{sts}-metrics"), l, stable.clone(), ports));
        }
        for (name, labels, selector, ports) in services {
            out.push(Svc {
                namespace: doc.namespace().to_owned(),
                name,
                labels,
                selector: Some(selector),
                ports,
                from: doc,
                operated: true,
            });
        }
    }
}
