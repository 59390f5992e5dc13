//! The flow matrix (PG-C001, PG-C002): the flows each shipped system needs are derived from
//! its objects and allowed by its NetworkPolicies, the sample of forbidden flows is denied,
//! and a policy that cuts a needed flow, or opens a forbidden one, is a finding that names
//! the flow.

use std::collections::BTreeMap;

use super::common;
use super::rule_ids;
use portalgen::spec::Tier;
use portalgen::validate::{network, policy};

/// The golden tree of environment `env` (or of an example's environment).
fn golden(dir: &str) -> BTreeMap<String, Vec<u8>> {
    common::read_tree(&common::repo().join(dir))
}

/// Every flow of a tree: (`src → dst:port/PROTO`, needed, allowed).
fn matrix(files: &BTreeMap<String, Vec<u8>>) -> Vec<(String, bool, bool)> {
    let objects = policy::tree_objects(files);
    network::judge(&objects, |judged| {
        judged
            .iter()
            .map(|j| (network::describe(&j.flow), j.needed, j.verdict.is_ok()))
            .collect()
    })
}

fn has(matrix: &[(String, bool, bool)], flow: &str, needed: bool) -> bool {
    matrix.iter().any(|(f, n, _)| f == flow && *n == needed)
}

/// The namespace of the tenant whose file the tree rules read (the first by path).
fn sample_tenant(files: &BTreeMap<String, Vec<u8>>) -> String {
    let path = policy::tenant_sample(files.keys().map(String::as_str)).unwrap();
    let id = path.rsplit('/').next().unwrap().trim_end_matches(".yaml");
    format!("portal-tenant-{id}")
}

#[test]
fn prod_us_needs_its_data_scrape_route_and_dns_flows_and_the_policies_allow_them() {
    let tree = golden("golden/prod-us");
    let m = matrix(&tree);
    let tenant = sample_tenant(&tree);
    let tenant_dns = format!("{tenant}/a tenant's pod → cluster DNS:53/UDP");
    for flow in [
        // The app to every database instance and every Redis node.
        "portal-system/portal-app → portal-system/portal-db (primary instance):5432/TCP",
        "portal-system/portal-app → portal-system/portal-db (replica instance):5432/TCP",
        "portal-system/portal-app → portal-system/portal-redis-leader (Redis leader):6379/TCP",
        "portal-system/portal-app → portal-system/portal-redis-follower (Redis follower):6379/TCP",
        // The data stores among themselves, and the operator.
        "portal-system/portal-redis-leader (Redis leader) → portal-system/portal-redis-follower (Redis follower):16379/TCP",
        "portal-system/portal-db (replica instance) → portal-system/portal-db (primary instance):8000/TCP",
        "portal-system/portal-db (replica instance) → portal-system/portal-db (primary instance):5432/TCP",
        "the CloudNativePG operator → portal-system/portal-db (primary instance):8000/TCP",
        // Scrapes through the ServiceMonitor (a Service's named port) and the PodMonitor.
        "monitoring/prometheus-portal → portal-system/portal-app:3000/TCP",
        "monitoring/prometheus-portal → portal-system/portal-db (primary instance):9187/TCP",
        // The route of the VirtualService and the Ingress, to the container port.
        "the Istio ingress gateway → portal-system/portal-app:3000/TCP",
        "portal-system/portal-app → cluster DNS:53/UDP",
        &tenant_dns,
    ] {
        assert!(has(&m, flow, true), "not needed: {flow}\n{m:#?}");
    }
    for flow in [
        &format!("{tenant}/a tenant's pod → {tenant}-other/another tenant's pod:8080/TCP"),
        &format!("{tenant}/a tenant's pod → monitoring/prometheus-portal:9090/TCP"),
        "portal-system/portal-app → the internet:80/TCP",
    ] {
        assert!(has(&m, flow, false), "not forbidden: {flow}\n{m:#?}");
    }
    let wrong: Vec<_> = m
        .iter()
        .filter(|(_, needed, allowed)| needed != allowed)
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(m.len() > 40, "{} flows", m.len());
}

#[test]
fn every_shipped_tree_and_example_allows_what_it_needs_and_denies_the_rest() {
    let mut trees = vec![];
    for env in ["dev", "staging", "prod-us", "prod-eu"] {
        trees.push(format!("golden/{env}"));
    }
    for (example, envs) in [
        ("microservices", &["dev", "staging", "prod"][..]),
        ("plugin-portal", &["dev", "prod"][..]),
    ] {
        for env in envs {
            trees.push(format!("examples/{example}/golden/{env}"));
        }
    }
    for dir in trees {
        let m = matrix(&golden(&dir));
        let wrong: Vec<_> = m
            .iter()
            .filter(|(_, needed, allowed)| needed != allowed)
            .collect();
        assert!(wrong.is_empty(), "{dir}: {wrong:#?}");
        // A service of the microservices example reaches every Redis node too.
        if dir == "examples/microservices/golden/prod" {
            assert!(has(
                &m,
                "tasks-system/auth-service → tasks-system/tasks-redis-follower (Redis follower):6379/TCP",
                true
            ));
        }
    }
}

/// The ids and messages of the tree rules on `files` with `path` edited by `edit`.
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
fn a_policy_that_cuts_a_needed_flow_names_the_flow_and_the_policy() {
    let tree = golden("golden/prod-us");
    let policies = "kubernetes/platform/app/network-policies.yaml";
    // The finding of the issue: the app reaches the Redis leaders only.
    let found = findings_with(&tree, policies, |t| {
        t.replacen(
            "        - podSelector:\n            matchLabels:\n              app: portal-redis-follower\n",
            "",
            1,
        )
    });
    assert!(
        found.iter().any(|(id, m)| id == "PG-C001"
            && m.contains("portal-system/portal-app → portal-system/portal-redis-follower (Redis follower):6379/TCP is denied")
            && m.contains("egress")
            && m.contains("portal-app")),
        "{found:#?}"
    );
    // Instances that cannot read each other's status.
    let found = findings_with(&tree, policies, |t| {
        t.replacen(
            "          port: 5432\n        - protocol: TCP\n          port: 8000\n    # The operator's",
            "          port: 5432\n    # The operator's",
            1,
        )
    });
    assert!(
        found.iter().any(|(id, m)| id == "PG-C001"
            && m.contains("portal-db (replica instance) → portal-system/portal-db (primary instance):8000/TCP")
            && m.contains("ingress")),
        "{found:#?}"
    );
    // Prometheus cut off from the app's metrics port.
    let found = findings_with(&tree, policies, |t| {
        t.replacen(
            "kubernetes.io/metadata.name: monitoring",
            "kubernetes.io/metadata.name: nobody",
            1,
        )
    });
    assert!(
        found.iter().any(|(id, m)| id == "PG-C001"
            && m.contains("monitoring/prometheus-portal → portal-system/portal-app:3000/TCP")),
        "{found:#?}"
    );
}

#[test]
fn a_policy_that_opens_a_forbidden_flow_is_a_finding() {
    let tree = golden("golden/prod-us");
    let tenant = policy::tenant_sample(tree.keys().map(String::as_str))
        .unwrap()
        .to_owned();
    // A tenant's policy open both ways (a rule without peers or ports admits everything):
    // another tenant gets in.
    let found = findings_with(&tree, &tenant, |t| {
        t.replacen(
            "  ingress:\n    - from:",
            "  ingress:\n    - {}\n    - from:",
            1,
        )
        .replacen("  egress:\n    - to:", "  egress:\n    - {}\n    - to:", 1)
    });
    assert!(
        found.iter().any(
            |(id, m)| id == "PG-C002" && m.contains("another tenant's pod:8080/TCP is allowed")
        ),
        "{found:#?}"
    );
    // The app's egress open to every port of every address.
    let policies = "kubernetes/platform/app/network-policies.yaml";
    let found = findings_with(&tree, policies, |t| {
        t.replacen("    # Outbound HTTPS", "    - {}\n    # Outbound HTTPS", 1)
    });
    assert!(
        found.iter().any(|(id, m)| id == "PG-C002"
            && m.contains("portal-system/portal-app → the internet:80/TCP is allowed")),
        "{found:#?}"
    );
}
