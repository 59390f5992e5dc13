//! The tracing section of the model (issue #18, docs/observability.md "Tracing"): the
//! OpenTelemetry collector (an operator `OpenTelemetryCollector`), the `Instrumentation`,
//! the trace backend (Grafana Tempo or Jaeger v2, `spec.tracing.backend`), what each
//! service's pods are told (the OTLP endpoint and their resource attributes), the Grafana
//! datasources, and the NetworkPolicies of the collector and the backend.
//!
//! Tail sampling decides on whole traces, so every span of a trace must reach the same
//! collector: the sampler is one collector pod (`replicas: 1`), sized by tier, with the
//! memory limiter in front. A second, stateless tier with the `loadbalancing` exporter
//! (routing by trace id to a headless Service of samplers) is how it scales out; one
//! sampler carries the tiers' sampled volume, so the tree does not render that tier yet.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::model::names::intern;
use crate::model::network::{Peer, Rule};
use crate::model::{Model, MONITORING_NAMESPACE};
use crate::spec::{Tier, TraceBackend};

/// The `OpenTelemetryCollector`'s name; the operator names its Deployment and Service
/// `<name>-collector`.
pub const COLLECTOR: &str = "otel";
/// The collector image: the contrib distribution (it has `tail_sampling`), the release of
/// the operator the chart pins (operator and collector share release numbers).
pub const COLLECTOR_IMAGE: &str = "otel/opentelemetry-collector-contrib:0.153.0";
pub const OTLP_GRPC_PORT: u16 = 4317;
pub const OTLP_HTTP_PORT: u16 = 4318;
/// The collector's own metrics (its `service.telemetry` Prometheus reader).
pub const COLLECTOR_METRICS_PORT: u16 = 8888;
/// The labels the OpenTelemetry Operator gives a collector's pods (and selects them by).
pub const OPERATOR_COMPONENT: (&str, &str) =
    ("app.kubernetes.io/component", "opentelemetry-collector");
pub const OPERATOR_MANAGED_BY: (&str, &str) =
    ("app.kubernetes.io/managed-by", "opentelemetry-operator");
/// The span attribute that carries the tenant: set by the collector from the tenant header
/// the mesh routes by, captured by the services' instrumentation.
pub const TENANT_ATTRIBUTE: &str = "tenant.id";
/// Grafana's pods (the Grafana chart's label), outside the tree, in `monitoring`.
pub const GRAFANA_LABEL: (&str, &str) = ("app.kubernetes.io/name", "grafana");
/// The label the Grafana sidecar loads datasources from.
pub const DATASOURCE_LABEL: &str = "grafana_datasource";

#[derive(Debug, Clone, Default, Serialize)]
pub struct Tracing {
    pub namespace: &'static str,
    pub collector: Collector,
    pub instrumentation: Instrumentation,
    pub backend: Backend,
    /// The Grafana datasources' provisioning file (YAML text).
    pub datasources: String,
    pub datasource_config_map: &'static str,
    pub datasource_label: &'static str,
    /// Who may send OTLP to the collector: the services' pods, by their name label.
    pub senders: Vec<String>,
    pub grafana_labels: BTreeMap<&'static str, &'static str>,
    pub prometheus_labels: BTreeMap<&'static str, &'static str>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Collector {
    pub name: &'static str,
    /// The Service the operator makes: `<name>-collector`.
    pub service: String,
    /// `<service>.<namespace>.svc:<port>`, the OTLP/gRPC endpoint every service is given.
    pub endpoint: String,
    pub image: &'static str,
    /// One: tail sampling needs every span of a trace on one collector.
    pub replicas: u32,
    pub resources: Resources,
    /// The operator's labels of its pods, which the NetworkPolicy selects.
    pub pod_labels: BTreeMap<&'static str, String>,
    /// The collector's configuration (`spec.config`).
    pub config: Value,
    /// The baseline share of traces kept, in percent (errors and slow traces are all kept).
    pub sampling_percentage: u32,
    pub ports: Ports,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Ports {
    pub otlp_grpc: u16,
    pub otlp_http: u16,
    pub metrics: u16,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Instrumentation {
    pub name: &'static str,
    /// The collector's OTLP/HTTP endpoint (the SDKs the operator injects speak HTTP).
    pub endpoint: String,
    pub resource_attributes: BTreeMap<&'static str, String>,
}

/// The trace backend: one StatefulSet, its Service and its configuration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Backend {
    /// `tempo` or `jaeger`: its StatefulSet, Service and the datasource's uid.
    pub name: &'static str,
    pub kind: &'static str,
    pub image: &'static str,
    pub config_map: String,
    /// The configuration file's name in the ConfigMap and its text.
    pub config_file: &'static str,
    /// Where the ConfigMap is mounted.
    pub config_dir: &'static str,
    pub config: String,
    pub args: Vec<String>,
    /// Retention in hours (dev 1 day, staging 7, prod 30).
    pub retention_hours: u32,
    /// The volume: sized from the tier's sampled daily volume times the retention.
    pub storage: String,
    pub storage_class: String,
    pub data_path: &'static str,
    pub resources: Resources,
    pub run_as_user: u32,
    /// The query port (Grafana's datasource), OTLP/gRPC (the collector) and the metrics
    /// port (Prometheus), by name.
    pub query_port: u16,
    pub query_port_name: &'static str,
    pub otlp_port: u16,
    pub metrics_port: u16,
    pub metrics_port_name: &'static str,
    pub ready_path: &'static str,
    pub ready_port: u16,
    pub ready_port_name: &'static str,
    pub ports: Vec<NamedPort>,
    /// `<name>.<namespace>.svc:<otlp port>`, the collector's exporter endpoint.
    pub otlp_endpoint: String,
    /// `http://<name>.<namespace>.svc:<query port>`, Grafana's datasource URL.
    pub query_url: String,
    pub datasource_type: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct NamedPort {
    pub name: &'static str,
    pub port: u16,
}

/// One environment variable: a value, or a field of the pod (`fieldRef`).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct EnvVar {
    pub name: &'static str,
    pub value: Option<String>,
    pub field: Option<&'static str>,
}

/// What the tier decides: the sampling, retention, the daily stored volume, sizes.
struct TierTracing {
    sampling_percentage: u32,
    retention_days: u32,
    /// GiB of sampled traces stored a day (an estimate: the tier's traffic after sampling).
    daily_gib: f64,
    /// How many traces the sampler holds while it waits for their spans.
    num_traces: u32,
    collector: Size,
    backend: Size,
}

fn tier(t: Tier) -> TierTracing {
    match t {
        Tier::Dev => TierTracing {
            sampling_percentage: 100,
            retention_days: 1,
            daily_gib: 2.0,
            num_traces: 10_000,
            collector: (("100m", "256Mi"), ("500m", "512Mi")),
            backend: (("100m", "256Mi"), ("500m", "1Gi")),
        },
        Tier::Staging => TierTracing {
            sampling_percentage: 50,
            retention_days: 7,
            daily_gib: 4.0,
            num_traces: 50_000,
            collector: (("250m", "512Mi"), ("1", "1Gi")),
            backend: (("250m", "1Gi"), ("1", "2Gi")),
        },
        Tier::Prod => TierTracing {
            sampling_percentage: 10,
            retention_days: 30,
            daily_gib: 8.0,
            num_traces: 200_000,
            collector: (("1", "2Gi"), ("2", "4Gi")),
            backend: (("1", "4Gi"), ("2", "8Gi")),
        },
    }
}

/// Headroom over the estimated volume: compaction and WAL space, a busier day.
const STORAGE_HEADROOM: f64 = 1.25;

/// The volume for `daily_gib` a day kept `days` days, with headroom, in whole GiB.
pub fn storage_gib(daily_gib: f64, days: u32) -> u32 {
    (daily_gib * f64::from(days) * STORAGE_HEADROOM).ceil() as u32
}

/// A container's requests and limits.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Resources {
    pub requests: CpuMemory,
    pub limits: CpuMemory,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CpuMemory {
    pub cpu: &'static str,
    pub memory: &'static str,
}

type Size = ((&'static str, &'static str), (&'static str, &'static str));

fn resources(r: Size) -> Resources {
    let cm = |(cpu, memory)| CpuMemory { cpu, memory };
    Resources {
        requests: cm(r.0),
        limits: cm(r.1),
    }
}

/// The tracing section of environment `m`.
pub fn resolve(m: &Model, backend: TraceBackend) -> Tracing {
    let ns = MONITORING_NAMESPACE;
    let t = tier(m.env.tier);
    let backend = self::backend(m, backend, &t);
    let service = format!("{COLLECTOR}-collector");
    let endpoint = format!("{service}.{ns}.svc:{OTLP_GRPC_PORT}");
    let config = collector_config(m, &t, &backend);
    let pod_labels = BTreeMap::from([
        (OPERATOR_COMPONENT.0, OPERATOR_COMPONENT.1.to_owned()),
        (OPERATOR_MANAGED_BY.0, OPERATOR_MANAGED_BY.1.to_owned()),
        ("app.kubernetes.io/instance", format!("{ns}.{COLLECTOR}")),
    ]);
    Tracing {
        namespace: ns,
        collector: Collector {
            name: COLLECTOR,
            service: service.clone(),
            endpoint: endpoint.clone(),
            image: COLLECTOR_IMAGE,
            replicas: 1,
            resources: resources(t.collector),
            pod_labels,
            config,
            sampling_percentage: t.sampling_percentage,
            ports: Ports {
                otlp_grpc: OTLP_GRPC_PORT,
                otlp_http: OTLP_HTTP_PORT,
                metrics: COLLECTOR_METRICS_PORT,
            },
        },
        instrumentation: Instrumentation {
            name: intern(format!("{}-tracing", m.names.prefix)),
            endpoint: format!("http://{service}.{ns}.svc:{OTLP_HTTP_PORT}"),
            resource_attributes: BTreeMap::from([
                ("deployment.environment", m.env.name.clone()),
                ("deployment.environment.name", m.env.name.clone()),
            ]),
        },
        datasources: datasources(m.names.prefix, &backend),
        datasource_config_map: "grafana-datasource-tracing",
        datasource_label: DATASOURCE_LABEL,
        senders: m.services.iter().map(|s| s.name.clone()).collect(),
        grafana_labels: BTreeMap::from([GRAFANA_LABEL]),
        prometheus_labels: BTreeMap::from([("app.kubernetes.io/name", "prometheus")]),
        backend,
    }
}

/// A service's OTLP endpoint and resource attributes: `service.name`, the environment,
/// the Kubernetes ones (the pod's from the downward API), and the tenant header its
/// instrumentation captures (the collector turns it into the `tenant.id` span attribute:
/// one pod serves every tenant, so the tenant is a span's, not a resource's).
/// (`Service::telemetry`, in the order the variables must be declared.)
pub fn service_env(m: &Model, service: &str) -> Vec<EnvVar> {
    let endpoint = &m.tracing.collector.endpoint;
    let value = |name, v: String| EnvVar {
        name,
        value: Some(v),
        field: None,
    };
    let field = |name, f| EnvVar {
        name,
        value: None,
        field: Some(f),
    };
    let attributes = [
        format!("deployment.environment={}", m.env.name),
        format!("deployment.environment.name={}", m.env.name),
        format!("k8s.namespace.name={}", m.namespaces.system),
        format!("k8s.deployment.name={service}"),
        "k8s.pod.name=$(K8S_POD_NAME)".to_owned(),
        "k8s.node.name=$(K8S_NODE_NAME)".to_owned(),
    ];
    vec![
        field("K8S_POD_NAME", "metadata.name"),
        field("K8S_NODE_NAME", "spec.nodeName"),
        value("OTEL_SERVICE_NAME", service.to_owned()),
        value("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{endpoint}")),
        value("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        value("OTEL_TRACES_EXPORTER", "otlp".to_owned()),
        // Every span goes to the collector, which samples whole traces.
        value("OTEL_TRACES_SAMPLER", "parentbased_always_on".to_owned()),
        value("OTEL_PROPAGATORS", "tracecontext,baggage".to_owned()),
        value("OTEL_RESOURCE_ATTRIBUTES", attributes.join(",")),
        // The tenant header the mesh routes by, captured on server spans; the collector
        // copies it into `tenant.id`.
        value(
            "OTEL_INSTRUMENTATION_HTTP_SERVER_CAPTURE_REQUEST_HEADERS",
            m.mesh.tenant_header.to_owned(),
        ),
    ]
}

/// The egress every service's NetworkPolicy gains: OTLP (gRPC and HTTP) to the collector's
/// namespace, where only the collector admits it.
pub fn otlp_egress(t: &Tracing) -> Rule {
    Rule {
        comment: Some("OTLP to the OpenTelemetry collector.".into()),
        peers: vec![Peer::namespace(t.namespace)],
        ports: vec![t.collector.ports.otlp_grpc, t.collector.ports.otlp_http],
    }
}

/// The captured tenant header's span attribute (OpenTelemetry's semantic conventions).
pub fn tenant_header_attribute(header: &str) -> String {
    format!("http.request.header.{header}")
}

/// The collector's configuration: OTLP in (gRPC and HTTP), the memory limiter, the tenant
/// attribute, tail sampling (every error, every trace slower than its service's latency
/// SLO, and the tier's share of the rest), batches, OTLP out to the backend.
fn collector_config(m: &Model, t: &TierTracing, backend: &Backend) -> Value {
    let mut policies = vec![json!({
        "name": "errors",
        "type": "status_code",
        "status_code": { "status_codes": ["ERROR"] }
    })];
    for s in &m.services {
        let threshold_ms = (s.slo.latency_p95_seconds * 1000.0).round() as u64;
        policies.push(json!({
            "name": format!("slower-than-slo-{}", s.name),
            "type": "and",
            "and": { "and_sub_policy": [
                {
                    "name": "service",
                    "type": "string_attribute",
                    "string_attribute": { "key": "service.name", "values": [s.name] }
                },
                {
                    "name": "latency",
                    "type": "latency",
                    "latency": { "threshold_ms": threshold_ms }
                }
            ]}
        }));
    }
    policies.push(json!({
        "name": "baseline",
        "type": "probabilistic",
        "probabilistic": { "sampling_percentage": t.sampling_percentage }
    }));
    let exporter = format!("otlp/{}", backend.name);
    json!({
        "receivers": {
            "otlp": { "protocols": {
                "grpc": { "endpoint": format!("0.0.0.0:{OTLP_GRPC_PORT}") },
                "http": { "endpoint": format!("0.0.0.0:{OTLP_HTTP_PORT}") }
            }}
        },
        "processors": {
            "memory_limiter": {
                "check_interval": "1s",
                "limit_percentage": 80,
                "spike_limit_percentage": 20
            },
            "attributes/tenant": { "actions": [{
                "key": TENANT_ATTRIBUTE,
                "from_attribute": tenant_header_attribute(m.mesh.tenant_header),
                "action": "upsert"
            }]},
            "tail_sampling": {
                "decision_wait": "10s",
                "num_traces": t.num_traces,
                "policies": policies
            },
            "batch": { "send_batch_size": 8192, "timeout": "5s" }
        },
        "extensions": {
            "health_check": { "endpoint": "0.0.0.0:13133" }
        },
        "exporters": {
            exporter.clone(): {
                "endpoint": backend.otlp_endpoint,
                // In-cluster, inside the monitoring namespace's policies.
                "tls": { "insecure": true },
                "sending_queue": { "enabled": true, "queue_size": 5000 },
                "retry_on_failure": { "enabled": true, "max_elapsed_time": "300s" }
            }
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp"],
                    "processors": ["memory_limiter", "attributes/tenant", "tail_sampling", "batch"],
                    "exporters": [exporter]
                }
            },
            "telemetry": { "metrics": { "readers": [{ "pull": { "exporter": { "prometheus": {
                "host": "0.0.0.0",
                "port": COLLECTOR_METRICS_PORT
            }}}}]}}
        }
    })
}

fn backend(m: &Model, b: TraceBackend, t: &TierTracing) -> Backend {
    let ns = MONITORING_NAMESPACE;
    let retention_hours = t.retention_days * 24;
    let storage = format!("{}Gi", storage_gib(t.daily_gib, t.retention_days));
    let common = |name: &'static str, query_port: u16| Backend {
        name,
        config_map: format!("{name}-config"),
        retention_hours,
        storage: storage.clone(),
        storage_class: m.cloud.storage_class.clone(),
        resources: resources(t.backend),
        run_as_user: 10001,
        query_port,
        otlp_port: OTLP_GRPC_PORT,
        otlp_endpoint: format!("{name}.{ns}.svc:{OTLP_GRPC_PORT}"),
        query_url: format!("http://{name}.{ns}.svc:{query_port}"),
        ..Backend::default()
    };
    match b {
        TraceBackend::Tempo => {
            let mut x = common("tempo", 3200);
            x.kind = "Grafana Tempo";
            x.image = "grafana/tempo:2.10.0";
            x.config_file = "tempo.yaml";
            x.config_dir = "/etc/tempo";
            x.data_path = "/var/tempo";
            x.args = vec!["-config.file=/etc/tempo/tempo.yaml".to_owned()];
            x.query_port_name = "http";
            x.metrics_port = 3200;
            x.metrics_port_name = "http";
            x.ready_path = "/ready";
            x.ready_port = 3200;
            x.ready_port_name = "http";
            x.ports = vec![
                NamedPort {
                    name: "http",
                    port: 3200,
                },
                NamedPort {
                    name: "otlp-grpc",
                    port: OTLP_GRPC_PORT,
                },
            ];
            x.datasource_type = "tempo";
            x.config = yaml(&tempo_config(retention_hours));
            x
        }
        TraceBackend::Jaeger => {
            let mut x = common("jaeger", 16686);
            x.kind = "Jaeger v2";
            x.image = "jaegertracing/jaeger:2.10.0";
            x.config_file = "config.yaml";
            x.config_dir = "/etc/jaeger";
            x.data_path = "/badger";
            x.args = vec!["--config=/etc/jaeger/config.yaml".to_owned()];
            x.query_port_name = "query";
            x.metrics_port = 8888;
            x.metrics_port_name = "metrics";
            x.ready_path = "/status";
            x.ready_port = 13133;
            x.ready_port_name = "health";
            x.ports = vec![
                NamedPort {
                    name: "query",
                    port: 16686,
                },
                NamedPort {
                    name: "otlp-grpc",
                    port: OTLP_GRPC_PORT,
                },
                NamedPort {
                    name: "metrics",
                    port: 8888,
                },
                NamedPort {
                    name: "health",
                    port: 13133,
                },
            ];
            x.datasource_type = "jaeger";
            x.config = yaml(&jaeger_config(retention_hours));
            x
        }
    }
}

fn yaml(v: &Value) -> String {
    serde_saphyr::to_string(v).expect("a JSON value serializes as YAML")
}

/// Tempo 2.10, monolithic: OTLP/gRPC in, blocks on the local volume, kept
/// `retention_hours` (the compactor deletes older blocks).
fn tempo_config(retention_hours: u32) -> Value {
    json!({
        "stream_over_http_enabled": true,
        "server": { "http_listen_port": 3200, "grpc_listen_port": 9095 },
        "distributor": { "receivers": { "otlp": { "protocols": {
            "grpc": { "endpoint": format!("0.0.0.0:{OTLP_GRPC_PORT}") }
        }}}},
        "compactor": { "compaction": { "block_retention": format!("{retention_hours}h") } },
        "storage": { "trace": {
            "backend": "local",
            "wal": { "path": "/var/tempo/wal" },
            "local": { "path": "/var/tempo/blocks" }
        }},
        "usage_report": { "reporting_enabled": false }
    })
}

/// Jaeger v2 (a collector distribution): OTLP/gRPC in, Badger on the local volume with
/// the retention as its span TTL, the query service for Grafana. Its pipelines are
/// checked like the collector's (PG-T001).
pub fn jaeger_config(retention_hours: u32) -> Value {
    json!({
        "service": {
            "extensions": ["jaeger_storage", "jaeger_query", "healthcheckv2"],
            "pipelines": { "traces": {
                "receivers": ["otlp"],
                "processors": ["batch"],
                "exporters": ["jaeger_storage_exporter"]
            }},
            "telemetry": { "metrics": { "readers": [{ "pull": { "exporter": { "prometheus": {
                "host": "0.0.0.0",
                "port": 8888
            }}}}]}}
        },
        "extensions": {
            "healthcheckv2": { "use_v2": true, "http": { "endpoint": "0.0.0.0:13133" } },
            "jaeger_query": {
                "storage": { "traces": "main" },
                "http": { "endpoint": "0.0.0.0:16686" }
            },
            "jaeger_storage": { "backends": { "main": { "badger": {
                "directories": { "keys": "/badger/keys", "values": "/badger/values" },
                "ephemeral": false,
                "ttl": { "spans": format!("{retention_hours}h") }
            }}}}
        },
        "receivers": { "otlp": { "protocols": {
            "grpc": { "endpoint": format!("0.0.0.0:{OTLP_GRPC_PORT}") }
        }}},
        "processors": { "batch": {} },
        "exporters": { "jaeger_storage_exporter": { "trace_storage": "main" } }
    })
}

/// Grafana's datasources: Prometheus (its exemplars link to the trace backend by the
/// `trace_id` exemplar label) and the trace backend (trace to metrics: each span's
/// service's request rate and errors, by `service.name` as the `job` label).
/// Named and identified after the system (`<prefix>-prometheus`, `<prefix>-<backend>`),
/// none the default: the Grafana may provision datasources of its own.
fn datasources(prefix: &str, b: &Backend) -> String {
    let prometheus_url = format!("http://prometheus-operated.{MONITORING_NAMESPACE}.svc:9090");
    let prometheus_uid = format!("{prefix}-prometheus");
    let backend_uid = format!("{prefix}-{}", b.name);
    let v = json!({
        "apiVersion": 1,
        "datasources": [
            {
                "name": format!("Prometheus ({prefix})"),
                "uid": prometheus_uid,
                "type": "prometheus",
                "access": "proxy",
                "url": prometheus_url,
                "jsonData": {
                    "exemplarTraceIdDestinations": [
                        { "name": "trace_id", "datasourceUid": backend_uid }
                    ]
                }
            },
            {
                "name": format!("{} ({prefix})", b.kind),
                "uid": backend_uid,
                "type": b.datasource_type,
                "access": "proxy",
                "url": b.query_url,
                "jsonData": {
                    "tracesToMetrics": {
                        "datasourceUid": prometheus_uid,
                        "spanStartTimeShift": "-5m",
                        "spanEndTimeShift": "5m",
                        "tags": [{ "key": "service.name", "value": "job" }],
                        "queries": [
                            {
                                "name": "Request rate",
                                "query": "sum(rate(http_requests_total{$__tags}[5m]))"
                            },
                            {
                                "name": "5xx ratio",
                                "query": "sum(rate(http_requests_total{$__tags,status=~\"5..\"}[5m])) / sum(rate(http_requests_total{$__tags}[5m]))"
                            },
                            {
                                "name": "p95 latency",
                                "query": "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{$__tags}[5m])))"
                            }
                        ]
                    },
                    "nodeGraph": { "enabled": true }
                }
            }
        ]
    });
    yaml(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_is_the_retained_volume_with_headroom() {
        assert_eq!(storage_gib(2.0, 1), 3);
        assert_eq!(storage_gib(4.0, 7), 35);
        assert_eq!(storage_gib(8.0, 30), 300);
    }

    #[test]
    fn tiers_sample_and_retain_as_the_issue_says() {
        let got: Vec<(u32, u32)> = [Tier::Dev, Tier::Staging, Tier::Prod]
            .into_iter()
            .map(|t| {
                let x = tier(t);
                (x.sampling_percentage, x.retention_days)
            })
            .collect();
        assert_eq!(got, vec![(100, 1), (50, 7), (10, 30)]);
    }
}
