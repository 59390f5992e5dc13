//! The trace collector's health alerts (issue #18): spans dropped (refused by the memory
//! limiter, or not queued because the queue is full), an exporter queue near its capacity,
//! and spans the exporter failed to send. The series are the collector's own metrics
//! (OpenTelemetry Collector 0.153, its Prometheus reader: counters end in `_total`),
//! scraped by the tree's PodMonitor, whose job is `<namespace>/<PodMonitor name>`.

use super::rules::{alert, AlertSpec, Rule, Severity};
use super::scenario::{constant, counter, series, Scenario};
use super::slo::SystemSlo;
use crate::model::{Model, MONITORING_NAMESPACE};

/// An exporter queue fuller than this share of its capacity is backing up.
pub const QUEUE_FULL_RATIO: f64 = 0.8;

pub(super) fn alerts(m: &Model, names: &SystemSlo) -> Vec<Rule> {
    let t = &m.tracing;
    let job = format!("{}/{}", MONITORING_NAMESPACE, t.collector.service);
    let exporter = format!("otlp/{}", t.backend.name);
    let by_exporter = [("job", job.as_str()), ("exporter", exporter.as_str())];
    let refused = series(
        "otelcol_receiver_refused_spans_total",
        &[("job", &job), ("receiver", "otlp"), ("transport", "grpc")],
    );
    let enqueue_failed = series("otelcol_exporter_enqueue_failed_spans_total", &by_exporter);
    let queue = series("otelcol_exporter_queue_size", &by_exporter);
    let capacity = series("otelcol_exporter_queue_capacity", &by_exporter);
    let failed = series("otelcol_exporter_send_failed_spans_total", &by_exporter);
    vec![
        alert(m, AlertSpec {
            name: names.alert("TracingSpansDropped"),
            expr: format!("(sum(rate(otelcol_receiver_refused_spans_total{{job=\"{job}\"}}[5m])) or vector(0)) + (sum(rate(otelcol_exporter_enqueue_failed_spans_total{{job=\"{job}\"}}[5m])) or vector(0)) > 0"),
            for_: "10m",
            severity: Severity::Warning,
            component: "tracing",
            summary: "The trace collector is dropping spans".to_owned(),
            description: format!("The collector {} refuses spans (its memory limiter) or cannot queue them for export (the queue is full): those spans are lost.", t.collector.service),
            extra: vec![],
            // 120 spans a minute refused, or none.
            scenario: Scenario::at(20)
                .breach(refused.clone(), counter(120.0, 20))
                .breach(enqueue_failed.clone(), constant(0.0, 20))
                .healthy(refused, constant(0.0, 20))
                .healthy(enqueue_failed, constant(0.0, 20)),
        }),
        alert(m, AlertSpec {
            name: names.alert("TracingExporterQueueFull"),
            expr: format!("max by (exporter) (otelcol_exporter_queue_size{{job=\"{job}\"}} / otelcol_exporter_queue_capacity{{job=\"{job}\"}}) > {QUEUE_FULL_RATIO}"),
            for_: "10m",
            severity: Severity::Warning,
            component: "tracing",
            summary: "The trace exporter {{ $labels.exporter }}'s queue is almost full".to_owned(),
            description: format!("The queue of exporter {{{{ $labels.exporter }}}} of {} is {{{{ $value | humanizePercentage }}}} full: the backend is not keeping up, and a full queue drops spans.", t.collector.service),
            extra: vec![],
            scenario: Scenario::at(20)
                .breach(queue.clone(), constant(4500.0, 20))
                .breach(capacity.clone(), constant(5000.0, 20))
                .healthy(queue, constant(100.0, 20))
                .healthy(capacity, constant(5000.0, 20))
                .label("exporter", &exporter)
                .value(0.9),
        }),
        alert(m, AlertSpec {
            name: names.alert("TracingExportFailing"),
            expr: format!("sum by (exporter) (rate(otelcol_exporter_send_failed_spans_total{{job=\"{job}\"}}[5m])) > 0"),
            for_: "10m",
            severity: Severity::Warning,
            component: "tracing",
            summary: "The trace exporter {{ $labels.exporter }} fails to send spans".to_owned(),
            description: format!("Exporter {{{{ $labels.exporter }}}} of {} fails to send spans to {} after its retries: those traces are lost.", t.collector.service, t.backend.kind),
            extra: vec![],
            scenario: Scenario::at(20)
                .breach(failed.clone(), counter(60.0, 20))
                .healthy(failed, constant(0.0, 20))
                .label("exporter", &exporter),
        }),
    ]
}
