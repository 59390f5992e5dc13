//! Tracing's flows and pods (issue #18): the services send OTLP to the collector and
//! nothing else may, the collector reaches its backend, Grafana its datasources, and the
//! collector's pods pass the Pod Security level (PG-P001). A policy that cuts one of those
//! flows, or a collector without its securityContexts, is a finding.

use std::collections::BTreeMap;

use super::common;
use super::rule_ids;
use portalgen::spec::Tier;
use portalgen::validate::{network, policy};

fn golden(dir: &str) -> BTreeMap<String, Vec<u8>> {
    common::read_tree(&common::repo().join(dir))
}

fn matrix(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, bool, bool)> {
    let objects = policy::tree_objects(files);
    network::judge(&objects, |judged| {
        judged
            .iter()
            .map(|j| (network::describe(&j.flow), j.needed, j.verdict.is_ok()))
            .collect()
    })
}

fn findings_with(
    files: &BTreeMap<String, Vec<u8>>,
    path: &str,
    edit: impl Fn(&str) -> String,
) -> Vec<(String, String)> {
    let mut files = files.clone();
    let text = String::from_utf8(files[path].clone()).unwrap();
    let edited = edit(&text);
    assert!(edited != text, "the edit changed nothing in {path}");
    files.insert(path.to_owned(), edited.into_bytes());
    policy::check_tree(&files, Tier::Prod)
        .into_iter()
        .map(|d| (rule_ids(std::slice::from_ref(&d)).remove(0), d.message))
        .collect()
}

#[test]
fn the_tracing_flows_are_needed_and_allowed_and_tenants_cannot_send_spans() {
    let tree = golden("golden/prod-us");
    let m = matrix(&tree);
    let needed = |flow: &str| {
        let found = m.iter().find(|(f, n, _)| f == flow && *n);
        assert!(found.is_some(), "not needed: {flow}\n{m:#?}");
        assert!(found.unwrap().2, "needed but denied: {flow}");
    };
    needed("portal-system/portal-app → monitoring/otel-collector:4317/TCP");
    needed("monitoring/otel-collector → monitoring/tempo:4317/TCP");
    needed("Grafana → monitoring/tempo:3200/TCP");
    needed("monitoring/prometheus-portal → monitoring/otel-collector:8888/TCP");
    needed("monitoring/prometheus-portal → monitoring/tempo:3200/TCP");
    needed("monitoring/otel-collector → cluster DNS:53/UDP");
    let forbidden: Vec<_> = m
        .iter()
        .filter(|(f, n, _)| !n && f.contains("a tenant's pod → monitoring/otel-collector:"))
        .collect();
    assert_eq!(forbidden.len(), 2, "OTLP gRPC and HTTP: {m:#?}");
    assert!(
        forbidden.iter().all(|(_, _, allowed)| !allowed),
        "{forbidden:#?}"
    );
}

#[test]
fn the_microservices_example_sends_every_services_spans_to_the_collector() {
    let tree = golden("examples/microservices/golden/prod");
    let m = matrix(&tree);
    for service in [
        "api-gateway",
        "auth-service",
        "notification-service",
        "task-service",
        "user-service",
    ] {
        let flow = format!("tasks-system/{service} → monitoring/otel-collector:4317/TCP");
        assert!(
            m.iter().any(|(f, n, ok)| *f == flow && *n && *ok),
            "{flow}\n{m:#?}"
        );
    }
}

#[test]
fn a_policy_that_cuts_a_tracing_flow_is_a_finding() {
    let tree = golden("golden/prod-us");
    let policies = "tracing/network-policies.yaml";
    // The collector no longer admits the services.
    let found = findings_with(&tree, policies, |t| {
        t.replacen(
            "              app.kubernetes.io/name: portal-app\n",
            "              app.kubernetes.io/name: nobody\n",
            1,
        )
    });
    assert!(
        found.iter().any(|(id, m)| id == "PG-C001"
            && m.contains(
                "portal-system/portal-app → monitoring/otel-collector:4317/TCP is denied"
            )),
        "{found:#?}"
    );
    // The backend no longer admits Grafana.
    let found = findings_with(&tree, policies, |t| {
        t.replacen(
            "              app.kubernetes.io/name: grafana\n",
            "              app.kubernetes.io/name: graphana\n",
            1,
        )
    });
    assert!(
        found.iter().any(|(id, m)| id == "PG-C001"
            && m.contains("Grafana → monitoring/tempo:3200/TCP is denied")),
        "{found:#?}"
    );
    // The app's own egress without its OTLP rule.
    let found = findings_with(
        &tree,
        "kubernetes/platform/app/network-policies.yaml",
        |t| t.replacen("          port: 4317\n", "          port: 4319\n", 1),
    );
    assert!(
        found.iter().any(|(id, m)| id == "PG-C001"
            && m.contains(
                "portal-system/portal-app → monitoring/otel-collector:4317/TCP is denied"
            )
            && m.contains("egress")),
        "{found:#?}"
    );
}

#[test]
fn a_collector_without_its_security_contexts_breaks_the_pod_security_level() {
    let tree = golden("golden/prod-us");
    let found = findings_with(&tree, "tracing/collector.yaml", |t| {
        t.replacen(
            "  securityContext:\n    allowPrivilegeEscalation: false\n",
            "  securityContext:\n    allowPrivilegeEscalation: true\n",
            1,
        )
    });
    assert!(
        found
            .iter()
            .any(|(id, m)| id == "PG-P001" && m.contains("otc-container")),
        "{found:#?}"
    );
}

#[test]
fn the_collectors_exporter_and_the_services_endpoint_must_name_services_that_exist() {
    let tree = golden("golden/prod-us");
    // The exporter names a Service nobody makes.
    let found = findings_with(&tree, "tracing/collector.yaml", |t| {
        t.replacen(
            "endpoint: tempo.monitoring.svc:4317",
            "endpoint: tempoo.monitoring.svc:4317",
            1,
        )
    });
    assert!(
        found
            .iter()
            .any(|(id, m)| id == "PG-R001" && m.contains("tempoo")),
        "{found:#?}"
    );
    // The Instrumentation names a port the operator's Service does not have.
    let found = findings_with(&tree, "tracing/collector.yaml", |t| {
        t.replacen(
            "otel-collector.monitoring.svc:4318",
            "otel-collector.monitoring.svc:4319",
            1,
        )
    });
    assert!(
        found
            .iter()
            .any(|(id, m)| id == "PG-R001" && m.contains("otel-collector") && m.contains("4319")),
        "{found:#?}"
    );
    // A service's OTLP endpoint with the collector's name misspelt.
    let found = findings_with(&tree, "kubernetes/platform/app/deployment.yaml", |t| {
        t.replacen(
            "http://otel-collector.monitoring.svc:4317",
            "http://otel-colector.monitoring.svc:4317",
            1,
        )
    });
    assert!(
        found
            .iter()
            .any(|(id, m)| id == "PG-R001" && m.contains("otel-colector")),
        "{found:#?}"
    );
}
