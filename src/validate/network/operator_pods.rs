//! The pods each operator will create from a custom resource of the tree, with the
//! containers it puts in them and the securityContexts they will run with, derived from the
//! resource's fields and the operator's own defaults (PG-P001 checks them against the Pod
//! Security level of their namespace). Which resources make pods, and the Redis
//! StatefulSets' names, are [`pods`](super::pods)'s, shared with the flow rules.
//!
//! The operators' defaults are theirs, read from their sources at the releases whose CRD
//! schemas the tree is checked against (docs/schemas.md):
//! * CloudNativePG 1.29: every instance runs the init container `bootstrap-controller` and
//!   the container `postgres`. The pod gets `runAsNonRoot: true`, `runAsUser` /
//!   `runAsGroup` / `fsGroup` from `spec.postgresUID` / `spec.postgresGID` (26) and
//!   `spec.seccompProfile` (else `RuntimeDefault`); `spec.podSecurityContext` replaces that,
//!   with only the user, group and seccomp profile filled in when it leaves them out. Each
//!   container gets `capabilities.drop: [ALL]`, `privileged: false`, `runAsNonRoot: true`,
//!   `readOnlyRootFilesystem: true`, `allowPrivilegeEscalation: false` and the seccomp
//!   profile; `spec.securityContext` overrides them field by field.
//! * OT redis-operator 0.26: no defaults at all. A `RedisCluster` makes the StatefulSets
//!   `<name>-leader` and `<name>-follower` (a `Redis`, `<name>`); each pod has
//!   `spec.podSecurityContext` and `spec.hostNetwork`, the Redis container (named after the
//!   StatefulSet) `spec.redisLeader.securityContext` / `spec.redisFollower.securityContext`
//!   (a `Redis`: `spec.securityContext`), the `redis-exporter` sidecar (when
//!   `spec.redisExporter.enabled`) `spec.redisExporter.securityContext`, each of
//!   `spec.sidecars` its own, and the init container `init<statefulset>` (when
//!   `spec.initContainer.enabled`) `spec.initContainer.securityContext`.
//! * prometheus-operator 0.93: the pod has `spec.securityContext` as given; the operator's
//!   containers (`prometheus` or `alertmanager`, `config-reloader`, the init container
//!   `init-config-reloader`, and `thanos-sidecar` when `spec.thanos` is set) get
//!   `allowPrivilegeEscalation: false`, `readOnlyRootFilesystem: true` and
//!   `capabilities.drop: [ALL]`; `spec.containers` / `spec.initContainers` are merged into
//!   them by name (a strategic merge), or added.
//! * OpenTelemetry Operator 0.153: a collector's pods (`<name>-collector`) have
//!   `spec.podSecurityContext` as given, the collector container `otc-container`
//!   `spec.securityContext`, each of `spec.initContainers` and `spec.additionalContainers`
//!   its own; the operator adds no defaults.

use serde_json::{json, Value};

use super::pods::{operated, redis_statefulsets, Operated};
use crate::validate::policy::Located;
use crate::validate::At;

/// A pod an operator will create from a custom resource.
#[derive(Debug)]
pub struct OperatorPod<'a> {
    /// The custom resource.
    pub of: &'a Located,
    pub operated: Operated,
    /// The pods' name (their StatefulSet's, or the CloudNativePG cluster's).
    pub name: String,
    pub namespace: String,
    /// The pod's securityContext as the operator will set it (`Null`: none).
    pub security: Value,
    /// The field of the custom resource that sets it.
    pub security_field: &'static str,
    pub host_network: bool,
    pub containers: Vec<OperatorContainer>,
}

/// A container of an [`OperatorPod`].
#[derive(Debug)]
pub struct OperatorContainer {
    pub name: String,
    pub init: bool,
    /// Its securityContext as the operator will set it (`Null`: none).
    pub security: Value,
    /// The field of the custom resource that sets it, when there is one.
    pub security_field: Option<String>,
}

/// Which operator runs the pods of a custom resource.
pub fn operator_name(o: Operated) -> &'static str {
    match o {
        Operated::CnpgCluster => "CloudNativePG operator",
        Operated::RedisCluster | Operated::Redis => "OT redis-operator",
        Operated::Prometheus | Operated::Alertmanager => "prometheus-operator",
        Operated::OtelCollector => "OpenTelemetry Operator",
    }
}

/// The pods the operators will create from the custom resources among `objects`.
pub fn of(objects: &[Located]) -> Vec<OperatorPod<'_>> {
    let mut pods = Vec::new();
    for o in objects {
        match operated(&o.doc) {
            Some(Operated::CnpgCluster) => pods.push(cnpg(o)),
            Some(kind @ (Operated::RedisCluster | Operated::Redis)) => redis(o, kind, &mut pods),
            Some(kind @ (Operated::Prometheus | Operated::Alertmanager)) => {
                pods.push(prometheus(o, kind));
            }
            Some(Operated::OtelCollector) => pods.push(collector(o)),
            None => {}
        }
    }
    pods
}

fn collector(o: &Located) -> OperatorPod<'_> {
    let given = |pointer: &str| spec(o, pointer).cloned().unwrap_or(Value::Null);
    let mut p = pod(
        o,
        Operated::OtelCollector,
        format!("{}-collector", o.doc.name()),
    );
    p.security = given("/podSecurityContext");
    p.security_field = "spec.podSecurityContext";
    p.host_network = spec(o, "/hostNetwork").and_then(Value::as_bool) == Some(true);
    p.containers.push(container(
        "otc-container",
        false,
        given("/securityContext"),
        Some("spec.securityContext".to_owned()),
    ));
    for (list, init) in [("initContainers", true), ("additionalContainers", false)] {
        let extra = spec(o, &format!("/{list}")).and_then(Value::as_array);
        for (i, c) in extra.into_iter().flatten().enumerate() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let sc = c.get("securityContext").cloned().unwrap_or(Value::Null);
            let field = Some(format!("spec.{list}[{i}].securityContext"));
            p.containers.push(container(name, init, sc, field));
        }
    }
    p
}

fn pod<'a>(o: &'a Located, operated: Operated, name: String) -> OperatorPod<'a> {
    OperatorPod {
        of: o,
        operated,
        name,
        namespace: o.doc.namespace().to_owned(),
        security: Value::Null,
        security_field: "spec",
        host_network: false,
        containers: Vec::new(),
    }
}

fn container(name: &str, init: bool, security: Value, field: Option<String>) -> OperatorContainer {
    OperatorContainer {
        name: name.to_owned(),
        init,
        security,
        security_field: field,
    }
}

fn spec<'a>(o: &'a Located, pointer: &str) -> Option<&'a Value> {
    o.doc.value.at(&format!("/spec{pointer}"))
}

/// A copy of `given` (an object, else nothing) with each of `defaults`' fields it leaves
/// out: how CloudNativePG fills a securityContext the cluster sets.
fn filled(given: Option<&Value>, defaults: &Value, fill: &[&str]) -> Value {
    let Some(Value::Object(given)) = given else {
        return defaults.clone();
    };
    let mut out = given.clone();
    for field in fill {
        if let Some(v) = defaults.get(*field) {
            out.entry(*field).or_insert_with(|| v.clone());
        }
    }
    Value::Object(out)
}

fn cnpg(o: &Located) -> OperatorPod<'_> {
    let uid = spec(o, "/postgresUID")
        .and_then(Value::as_i64)
        .unwrap_or(26);
    let gid = spec(o, "/postgresGID")
        .and_then(Value::as_i64)
        .unwrap_or(26);
    let seccomp = spec(o, "/seccompProfile")
        .cloned()
        .unwrap_or_else(|| json!({"type": "RuntimeDefault"}));
    let pod_default = json!({
        "seccompProfile": seccomp, "runAsUser": uid, "runAsGroup": gid,
        "runAsNonRoot": true, "fsGroup": gid,
    });
    let container_default = json!({
        "seccompProfile": seccomp, "capabilities": {"drop": ["ALL"]}, "privileged": false,
        "runAsNonRoot": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
    });
    let fields: Vec<&str> = container_default
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let security = filled(spec(o, "/securityContext"), &container_default, &fields);
    let field = || Some("spec.securityContext".to_owned());
    let mut p = pod(o, Operated::CnpgCluster, o.doc.name().to_owned());
    p.security = filled(
        spec(o, "/podSecurityContext"),
        &pod_default,
        &["runAsUser", "runAsGroup", "seccompProfile"],
    );
    p.security_field = "spec.podSecurityContext";
    p.containers = vec![
        container("bootstrap-controller", true, security.clone(), field()),
        container("postgres", false, security, field()),
    ];
    p
}

fn redis<'a>(o: &'a Located, kind: Operated, out: &mut Vec<OperatorPod<'a>>) {
    let cluster = kind == Operated::RedisCluster;
    let given = |pointer: &str| spec(o, pointer).cloned().unwrap_or(Value::Null);
    let enabled = |pointer: &str| spec(o, pointer).and_then(Value::as_bool) == Some(true);
    for (sts, role) in redis_statefulsets(o.doc.name(), cluster) {
        let mut p = pod(o, kind, sts.clone());
        p.security = given("/podSecurityContext");
        p.security_field = "spec.podSecurityContext";
        p.host_network = enabled("/hostNetwork");
        let own = match role {
            "leader" => "redisLeader.securityContext",
            "follower" => "redisFollower.securityContext",
            _ => "securityContext",
        };
        let own_pointer = format!("/{}", own.replace('.', "/"));
        if enabled("/initContainer/enabled") {
            let field = Some("spec.initContainer.securityContext".to_owned());
            let sc = given("/initContainer/securityContext");
            p.containers
                .push(container(&format!("init{sts}"), true, sc, field));
        }
        let field = Some(format!("spec.{own}"));
        p.containers
            .push(container(&sts, false, given(&own_pointer), field));
        if enabled("/redisExporter/enabled") {
            let field = Some("spec.redisExporter.securityContext".to_owned());
            let sc = given("/redisExporter/securityContext");
            p.containers
                .push(container("redis-exporter", false, sc, field));
        }
        let sidecars = spec(o, "/sidecars").and_then(Value::as_array);
        for (i, s) in sidecars.into_iter().flatten().enumerate() {
            let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
            let sc = s.get("securityContext").cloned().unwrap_or(Value::Null);
            let field = Some(format!("spec.sidecars[{i}].securityContext"));
            p.containers.push(container(name, false, sc, field));
        }
        out.push(p);
    }
}

fn prometheus(o: &Located, kind: Operated) -> OperatorPod<'_> {
    let name = o.doc.name();
    let (pod_name, main) = match kind {
        Operated::Alertmanager => (format!("alertmanager-{name}"), "alertmanager"),
        _ => (format!("prometheus-{name}"), "prometheus"),
    };
    let operator_default = json!({
        "allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
        "capabilities": {"drop": ["ALL"]},
    });
    let mut p = pod(o, kind, pod_name);
    p.security = spec(o, "/securityContext").cloned().unwrap_or(Value::Null);
    p.security_field = "spec.securityContext";
    let mut containers = vec![main, "config-reloader"];
    if kind == Operated::Prometheus && spec(o, "/thanos").is_some_and(|t| !t.is_null()) {
        containers.push("thanos-sidecar");
    }
    for (list, init, names) in [
        ("containers", false, containers),
        ("initContainers", true, vec!["init-config-reloader"]),
    ] {
        let patches: Vec<&Value> = spec(o, &format!("/{list}"))
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let patch_of = |n: &str| {
            patches
                .iter()
                .position(|c| c.get("name").and_then(Value::as_str) == Some(n))
        };
        let field = |i: usize| Some(format!("spec.{list}[{i}].securityContext"));
        for n in &names {
            let mut sc = operator_default.clone();
            let i = patch_of(n);
            if let Some(patch) = i.and_then(|i| patches[i].get("securityContext")) {
                merge(&mut sc, patch);
            }
            p.containers.push(container(n, init, sc, i.and_then(field)));
        }
        for (i, c) in patches.iter().enumerate() {
            let n = c.get("name").and_then(Value::as_str).unwrap_or("?");
            if !names.contains(&n) {
                let sc = c.get("securityContext").cloned().unwrap_or(Value::Null);
                p.containers.push(container(n, init, sc, field(i)));
            }
        }
    }
    p
}

/// A strategic merge of two securityContexts: objects field by field, anything else
/// replaced (its lists have no merge key).
fn merge(into: &mut Value, patch: &Value) {
    match (into, patch) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) if v.is_object() => merge(existing, v),
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (into, patch) => *into = patch.clone(),
    }
}

/// The Pod Security level a namespace enforces, from its rendered Namespace
/// (`pod-security.kubernetes.io/enforce`; none means `privileged`), or `None` when the tree
/// does not create the namespace.
pub fn enforced_level<'a>(objects: &'a [Located], namespace: &str) -> Option<&'a str> {
    objects
        .iter()
        .find(|o| o.doc.kind() == "Namespace" && o.doc.name() == namespace)
        .map(|o| {
            o.doc
                .value
                .at_keys(&["metadata", "labels", "pod-security.kubernetes.io/enforce"])
                .and_then(Value::as_str)
                .unwrap_or("privileged")
        })
}
