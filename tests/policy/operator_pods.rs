//! The operators' pods (PG-P001): the pods each operator will create from a custom resource
//! are derived with the containers and securityContexts it gives them, and checked against
//! the Pod Security level of their namespace; no shipped tree or example fires it, and a
//! resource without the fields is a finding that names the container and the field.

use std::collections::BTreeMap;

use super::common;
use portalgen::diagnostic::Diagnostic;
use portalgen::spec::Tier;
use portalgen::validate::{network, policy};

fn files(files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
        .collect()
}

/// The PG-P001 findings of a tree: (message, field path).
fn findings(tree: &BTreeMap<String, Vec<u8>>) -> Vec<(String, String)> {
    policy::check_tree(tree, Tier::Prod)
        .iter()
        .filter(|d: &&Diagnostic| d.message.starts_with("[PG-P001]"))
        .map(|d| {
            let at = d.location().unwrap_or_default();
            (d.message.clone(), at)
        })
        .collect()
}

fn crafted(level: &str, object: &str) -> Vec<(String, String)> {
    let ns = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: portal-system\n  labels: {{pod-security.kubernetes.io/enforce: {level}}}\n"
    );
    findings(&files(&[("ns.yaml", &ns), ("cr.yaml", object)]))
}

/// Whether a finding's message contains `message` and its location ends with `field`.
fn has(found: &[(String, String)], message: &str, field: &str) -> bool {
    found
        .iter()
        .any(|(m, at)| m.contains(message) && at.ends_with(field))
}

const REDIS_CLUSTER: &str = "apiVersion: redis.redis.opstreelabs.in/v1beta2
kind: RedisCluster
metadata: {name: cache, namespace: portal-system}
spec:
  clusterSize: 3
  kubernetesConfig: {image: quay.io/opstree/redis:v7.0.15}
  podSecurityContext: {runAsNonRoot: true, runAsUser: 1000}
  redisLeader: {replicas: 3}
  redisFollower: {replicas: 3}
  redisExporter: {enabled: true, image: quay.io/opstree/redis-exporter:v1.44.0}
";

#[test]
fn a_redis_cluster_without_the_fields_is_refused_naming_each_container_and_field() {
    let found = crafted("restricted", REDIS_CLUSTER);
    for (container, field) in [
        (
            "cache-leader",
            "spec.redisLeader.securityContext.allowPrivilegeEscalation",
        ),
        (
            "cache-leader",
            "spec.redisLeader.securityContext.capabilities.drop",
        ),
        (
            "cache-follower",
            "spec.redisFollower.securityContext.capabilities.drop",
        ),
        (
            "redis-exporter",
            "spec.redisExporter.securityContext.allowPrivilegeEscalation",
        ),
        (
            "redis-exporter",
            "spec.redisExporter.securityContext.capabilities.drop",
        ),
        (
            "redis-exporter",
            "spec.podSecurityContext.seccompProfile.type",
        ),
    ] {
        assert!(
            has(&found, &format!("container {container} "), field),
            "{container} at {field}: {found:#?}"
        );
    }
    assert!(found.iter().all(|(m, _)| m
        .contains("RedisCluster portal-system/cache: the OT redis-operator creates pod cache-")
        && m.contains("(Pod Security 'restricted') refuses")));
    // runAsNonRoot is set on the pod: no finding about root.
    assert!(!found.iter().any(|(m, _)| m.contains("root")), "{found:#?}");

    // With the fields, nothing.
    let fixed = REDIS_CLUSTER
        .replace(
            "runAsUser: 1000}",
            "runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}",
        )
        .replace(
            "{replicas: 3}",
            "{replicas: 3, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}",
        )
        .replace(
            "v1.44.0}",
            "v1.44.0, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}",
        );
    assert_eq!(crafted("restricted", &fixed), vec![]);
}

#[test]
fn the_level_is_the_namespaces_baseline_asks_less_and_an_unknown_namespace_is_not_judged() {
    // Baseline: no drop ALL or seccomp needed, but no privileged container or host network.
    assert_eq!(crafted("baseline", REDIS_CLUSTER), vec![]);
    assert_eq!(crafted("privileged", REDIS_CLUSTER), vec![]);
    let privileged = REDIS_CLUSTER.replace(
        "enabled: true,",
        "enabled: true, securityContext: {privileged: true},",
    );
    let found = crafted("baseline", &privileged);
    assert!(
        has(
            &found,
            "container redis-exporter is privileged",
            "spec.redisExporter.securityContext.privileged"
        ),
        "{found:#?}"
    );
    let host = REDIS_CLUSTER.replace("clusterSize: 3", "clusterSize: 3\n  hostNetwork: true");
    assert!(has(
        &crafted("baseline", &host),
        "uses the host's network",
        "spec.hostNetwork"
    ));
    // A namespace the tree does not create is a prerequisite whose level is unknown.
    assert_eq!(findings(&files(&[("cr.yaml", REDIS_CLUSTER)])), vec![]);
}

const PROMETHEUS: &str = "apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata: {name: main, namespace: portal-system}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
";

#[test]
fn a_prometheus_running_as_root_or_patching_away_the_operators_defaults_is_refused() {
    // The operator's containers drop ALL and forbid escalation by themselves.
    assert_eq!(crafted("restricted", PROMETHEUS), vec![]);
    let root = PROMETHEUS.replace("runAsNonRoot: true, runAsUser: 1000", "runAsUser: 0");
    let found = crafted("restricted", &root);
    for container in [
        "container prometheus ",
        "container config-reloader ",
        "init container init-config-reloader ",
    ] {
        assert!(
            has(
                &found,
                &format!("{container}runs as root (runAsUser: 0)"),
                "spec.securityContext.runAsUser"
            ),
            "{container}: {found:#?}"
        );
    }
    assert!(found[0].0.starts_with(
        "[PG-P001] Prometheus portal-system/main: the prometheus-operator creates pod prometheus-main"
    ));
    // A container patch is merged into the operator's container by name.
    let patched = format!(
        "{PROMETHEUS}  containers: [{{name: prometheus, securityContext: {{capabilities: {{drop: []}}}}}}]\n"
    );
    let found = crafted("restricted", &patched);
    assert!(
        has(
            &found,
            "container prometheus does not drop ALL",
            "spec.containers[0].securityContext.capabilities.drop"
        ),
        "{found:#?}"
    );
    assert_eq!(found.len(), 1, "{found:#?}");
}

#[test]
fn cloudnative_pg_instances_get_the_operators_restricted_defaults_unless_the_cluster_overrides_them(
) {
    let cluster = "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: db, namespace: portal-system}\nspec: {instances: 2}\n";
    assert_eq!(crafted("restricted", cluster), vec![]);
    // A pod securityContext of its own keeps runAsNonRoot only from the containers' default.
    let pod_context = cluster.replace(
        "instances: 2",
        "instances: 2, podSecurityContext: {fsGroup: 26}",
    );
    assert_eq!(crafted("restricted", &pod_context), vec![]);
    let escalating = cluster.replace(
        "instances: 2",
        "instances: 2, securityContext: {allowPrivilegeEscalation: true, seccompProfile: {type: Unconfined}}",
    );
    let found = crafted("restricted", &escalating);
    for (container, field) in [
        ("init container bootstrap-controller may escalate", "spec.securityContext.allowPrivilegeEscalation"),
        ("container postgres may escalate", "spec.securityContext.allowPrivilegeEscalation"),
        ("container postgres does not use the RuntimeDefault or Localhost seccomp profile (it is 'Unconfined')", "spec.podSecurityContext.seccompProfile.type"),
    ] {
        assert!(has(&found, container, field), "{container}: {found:#?}");
    }
    assert!(found
        .iter()
        .all(|(m, _)| m.contains("the CloudNativePG operator creates pod db")));
}

/// The folders under `dir` of the repository, by name.
fn subdirs(dir: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(common::repo().join(dir))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every shipped environment's and example's golden tree.
fn shipped_trees() -> Vec<String> {
    let examples = subdirs("examples")
        .into_iter()
        .map(|e| format!("examples/{e}/golden"));
    let mut dirs = Vec::new();
    for base in std::iter::once("golden".to_owned()).chain(examples) {
        dirs.extend(
            subdirs(&base)
                .into_iter()
                .map(|env| format!("{base}/{env}")),
        );
    }
    dirs
}

#[test]
fn no_shipped_tree_fires_it_and_every_operators_pods_are_derived() {
    let trees = shipped_trees();
    assert!(trees.len() >= 9, "{trees:?}");
    for dir in &trees {
        let tree = common::read_tree(&common::repo().join(dir));
        assert_eq!(findings(&tree), vec![], "{dir}");
        let objects = policy::tree_objects(&tree);
        let pods: Vec<(String, Vec<String>)> = network::operator_pods::of(&objects)
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.containers.iter().map(|c| c.name.clone()).collect(),
                )
            })
            .collect();
        // Each system names its own objects: the pods are known by their containers.
        let has_pod = |prefix: &str, containers: &[&str]| {
            pods.iter()
                .any(|(n, c)| n.starts_with(prefix) && c == containers)
        };
        assert!(
            has_pod("", &["bootstrap-controller", "postgres"]),
            "{dir}: {pods:?}"
        );
        assert!(
            has_pod(
                "prometheus-",
                &["prometheus", "config-reloader", "init-config-reloader"]
            ),
            "{dir}: {pods:?}"
        );
        // The Alertmanager of #13, with the operator's config-reloader.
        assert!(
            has_pod(
                "alertmanager-",
                &["alertmanager", "config-reloader", "init-config-reloader"]
            ),
            "{dir}: {pods:?}"
        );
        // Every Redis pod: the server (named after its StatefulSet) and the exporter.
        let redis: Vec<_> = pods
            .iter()
            .filter(|(_, c)| c.iter().any(|c| c == "redis-exporter"))
            .collect();
        assert!(!redis.is_empty(), "{dir}: {pods:?}");
        assert!(
            redis
                .iter()
                .all(|(n, c)| c == &[n.clone(), "redis-exporter".to_owned()]),
            "{dir}: {pods:?}"
        );
    }
}

#[test]
fn the_rendered_alertmanager_passes_and_without_its_seccomp_profile_is_refused() {
    let mut tree = common::read_tree(&common::repo().join("golden/prod-us"));
    assert_eq!(findings(&tree), vec![]);
    let path = "prometheus/alertmanager.yaml";
    let text = String::from_utf8(tree[path].clone()).unwrap();
    let edited = text.replace("    seccompProfile:\n      type: RuntimeDefault\n", "");
    assert_ne!(edited, text);
    tree.insert(path.to_owned(), edited.into_bytes());
    let found = findings(&tree);
    for container in [
        "container alertmanager ",
        "container config-reloader ",
        "init container init-config-reloader ",
    ] {
        assert!(
            found.iter().any(|(m, at)| m.starts_with(
                "[PG-P001] Alertmanager monitoring/portal: the prometheus-operator creates pod alertmanager-portal"
            ) && m.contains(container)
                && at.ends_with("spec.securityContext.seccompProfile.type")),
            "{container}: {found:#?}"
        );
    }
}
