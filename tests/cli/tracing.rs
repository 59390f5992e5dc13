//! Tracing (issue #18): the backend is the spec's choice, every tier renders its stack with
//! its own sampling and retention, and a collector whose pipeline names an exporter it
//! does not define fails the checks (PG-T001) and writes nothing.

use super::common::{minimal_spec, Scratch};

fn run(s: &Scratch, args: &[&str]) -> (Option<i32>, String, String) {
    super::common::run(s.cmd().args(args))
}

/// The document of `kind` named `name` in a `render --stdout` stream.
fn document<'a>(stream: &'a str, kind: &str, name: &str) -> &'a str {
    stream
        .split("\n---\n")
        .find(|d| {
            d.contains(&format!("\nkind: {kind}\n")) && d.contains(&format!("\n  name: {name}\n"))
        })
        .unwrap_or_else(|| panic!("no {kind} {name} in:\n{stream}"))
}

#[test]
fn a_collector_pipeline_naming_an_undefined_exporter_fails_render_and_writes_nothing() {
    let s = Scratch::new();
    s.write_env(
        "app",
        &format!(
            "{}  patches:
    - target: {{kind: OpenTelemetryCollector, name: otel, namespace: monitoring}}
      jsonPatch:
        - {{op: replace, path: /spec/config/service/pipelines/traces/exporters/0, value: otlp/tmepo}}
",
            minimal_spec("app", "dev", 1)
        ),
    );
    let (code, _, err) = run(&s, &["render", "app", "-q", "--out", "out"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("[PG-T001] pipeline traces names exporter otlp/tmepo, which the configuration does not define under exporters")
            && err.contains("did you mean 'otlp/tempo'?"),
        "{err}"
    );
    // The exporter it defines is now used by no pipeline: that is a finding too.
    assert!(
        err.contains("exporter otlp/tempo is defined but no pipeline uses it"),
        "{err}"
    );
    assert!(!s.root().join("out").exists(), "render wrote a tree");
    let (code, out, err) = run(&s, &["validate", "app"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("[PG-T001]"), "{out}");
}

#[test]
fn the_backend_is_the_specs_choice_and_tempo_by_default() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "dev", 1));
    let (code, tempo, err) = run(&s, &["render", "app", "--stdout"]);
    assert_eq!(code, Some(0), "{err}");
    let sts = document(&tempo, "StatefulSet", "tempo");
    assert!(sts.contains("image: grafana/tempo:2.10.0"), "{sts}");
    assert!(
        document(&tempo, "ConfigMap", "tempo-config").contains("block_retention: 24h"),
        "dev keeps a day"
    );
    let collector = document(&tempo, "OpenTelemetryCollector", "otel");
    assert!(
        collector.contains("endpoint: tempo.monitoring.svc:4317"),
        "{collector}"
    );

    s.write_env(
        "app",
        &format!(
            "{}  tracing:\n    backend: jaeger\n",
            minimal_spec("app", "dev", 1)
        ),
    );
    let (code, jaeger, err) = run(&s, &["render", "app", "--stdout"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!jaeger.contains("grafana/tempo"), "no Tempo with Jaeger");
    let config = document(&jaeger, "ConfigMap", "jaeger-config");
    assert!(
        config.contains("spans: 24h") && config.contains("jaeger_storage_exporter"),
        "{config}"
    );
    let collector = document(&jaeger, "OpenTelemetryCollector", "otel");
    assert!(
        collector.contains("otlp/jaeger:")
            && collector.contains("endpoint: jaeger.monitoring.svc:4317"),
        "{collector}"
    );
    let datasources = document(&jaeger, "ConfigMap", "grafana-datasource-tracing");
    assert!(
        datasources.contains("type: jaeger")
            && datasources.contains("url: http://jaeger.monitoring.svc:16686"),
        "{datasources}"
    );
    let (code, _, err) = run(&s, &["validate", "app"]);
    assert_eq!(code, Some(0), "{err}");

    // A misspelled backend: the field, the choices, exit 2.
    s.write_env(
        "app",
        &format!(
            "{}  tracing:\n    backend: jeager\n",
            minimal_spec("app", "dev", 1)
        ),
    );
    let (code, out, _) = run(&s, &["validate", "app"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("spec.tracing.backend") && out.contains("did you mean 'jaeger'?"),
        "{out}"
    );
}

#[test]
fn every_tier_samples_and_retains_as_its_tier_says() {
    let s = Scratch::new();
    for (tier, percent, retention, storage) in [
        ("dev", 100, "24h", "3Gi"),
        ("staging", 50, "168h", "35Gi"),
        ("prod", 10, "720h", "300Gi"),
    ] {
        s.write_env("app", &minimal_spec("app", tier, 1));
        let (code, stream, err) = run(&s, &["render", "app", "--stdout"]);
        assert_eq!(code, Some(0), "{tier}: {err}");
        let collector = document(&stream, "OpenTelemetryCollector", "otel");
        assert!(
            collector.contains(&format!("sampling_percentage: {percent}\n"))
                && collector.contains("status_codes:\n                - ERROR")
                && collector.contains("threshold_ms: 500"),
            "{tier}:\n{collector}"
        );
        let tempo = document(&stream, "ConfigMap", "tempo-config");
        assert!(
            tempo.contains(&format!("block_retention: {retention}")),
            "{tier}"
        );
        let sts = document(&stream, "StatefulSet", "tempo");
        assert!(
            sts.contains(&format!("storage: {storage}")),
            "{tier}:\n{sts}"
        );
        let app = document(&stream, "Deployment", "portal-app");
        assert!(
            app.contains("value: http://otel-collector.monitoring.svc:4317")
                && app.contains("deployment.environment=app,")
                && app.contains("k8s.pod.name=$(K8S_POD_NAME)"),
            "{tier}:\n{app}"
        );
        let prometheus = document(&stream, "Prometheus", "portal");
        assert!(
            prometheus.contains("enableFeatures:\n    - exemplar-storage"),
            "{tier}"
        );
    }
}
