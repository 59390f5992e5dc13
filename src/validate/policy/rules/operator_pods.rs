//! PG-P001: the pods each operator will create from a custom resource of the tree
//! (`validate::network::operator_pods`) pass the Pod Security level their namespace
//! enforces, as the app's own pods must (PG-N001 makes the level `restricted`; the W rules
//! hold the app's pods to it). The profile's checks are the W rules' own
//! ([`workload`](super::workload)'s problem functions), with the allowances of the Pod
//! Security Standards.

use super::super::{Check, Kinds, Located, Rule};
use super::workload::{
    capability_problems, escalation_problem, privileged_problem, root_problem, seccomp_problem,
    Problem, SecurityContexts,
};
use crate::diagnostic::{Diagnostic, FieldPath};
use crate::spec::Tier;
use crate::validate::network::operator_pods::{
    self, enforced_level, OperatorContainer, OperatorPod,
};

/// The custom resources that make pods, and the Namespaces whose level they meet.
const KINDS: &[&str] = &[
    "Namespace",
    "Cluster",
    "RedisCluster",
    "Redis",
    "Prometheus",
    "Alertmanager",
    "OpenTelemetryCollector",
];

pub const P001: Rule = Rule {
    id: "PG-P001",
    title: "the pods each operator creates from a custom resource (CloudNativePG instances, Redis nodes and their exporters, Prometheus, Alertmanager) meet their namespace's Pod Security level",
    rationale: "the API server refuses an operator's pod that breaks the namespace's level, so the database, cache or monitoring never starts, while the custom resource itself passes every check",
    kinds: Kinds::Only(KINDS),
    checks: &[Check::Tree(operator_pods_admitted)],
};

/// The capabilities the baseline level lets a container add.
const BASELINE_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn operator_pods_admitted(objects: &[Located], _: Tier, out: &mut Vec<Diagnostic>) {
    for pod in operator_pods::of(objects) {
        let Some(level) = enforced_level(objects, &pod.namespace) else {
            continue;
        };
        let restricted = level == "restricted";
        if !restricted && level != "baseline" {
            continue;
        }
        if pod.host_network {
            let message = format!("pod {} uses the host's network (hostNetwork)", pod.name);
            out.push(finding(&pod, level, "spec.hostNetwork".into(), message));
        }
        for c in &pod.containers {
            let kind = if c.init {
                "init container"
            } else {
                "container"
            };
            for p in problems(&pod, c, restricted) {
                let path = field_of(&pod, c, &p);
                // The shared checks say "container X"; say which of the pod's it is.
                let message = p.message.replacen("container", kind, 1);
                out.push(finding(&pod, level, path, message));
            }
        }
    }
}

/// What keeps a container from its namespace's level.
fn problems(pod: &OperatorPod, c: &OperatorContainer, restricted: bool) -> Vec<Problem> {
    let sc = SecurityContexts {
        container: Some(&c.security).filter(|v| !v.is_null()),
        pod: Some(&pod.security).filter(|v| !v.is_null()),
    };
    let name = c.name.as_str();
    let mut out: Vec<Problem> = privileged_problem(sc, name).into_iter().collect();
    if restricted {
        out.extend(root_problem(sc, name));
        out.extend(escalation_problem(sc, name));
        out.extend(capability_problems(sc, name, &["NET_BIND_SERVICE"]));
        out.extend(seccomp_problem(sc, name, &["RuntimeDefault", "Localhost"]));
    } else {
        let adds = capability_problems(sc, name, BASELINE_CAPABILITIES);
        out.extend(adds.into_iter().filter(|p| p.field == "capabilities.add"));
        let unconfined = seccomp_problem(sc, name, &["Unconfined"]).is_none();
        if unconfined {
            out.extend(seccomp_problem(sc, name, &["RuntimeDefault", "Localhost"]));
        }
    }
    out
}

/// Where in the custom resource the problem is fixed: the pod's securityContext for a
/// field it may set, else the container's (for an operator's container that the resource
/// does not patch yet, the list of patches: `spec.containers`).
fn field_of(pod: &OperatorPod, c: &OperatorContainer, p: &Problem) -> FieldPath {
    let base = if p.pod_level {
        pod.security_field.to_owned()
    } else {
        match &c.security_field {
            Some(field) => field.clone(),
            None if c.init => return FieldPath::parse("spec.initContainers"),
            None => return FieldPath::parse("spec.containers"),
        }
    };
    FieldPath::parse(&format!("{base}.{}", p.field))
}

fn finding(pod: &OperatorPod, level: &str, path: FieldPath, problem: String) -> Diagnostic {
    let o = pod.of;
    let message = format!(
        "[PG-P001] {} {}/{}: the {} creates pod {} that namespace {} (Pod Security '{level}') refuses: {problem}",
        o.doc.kind(),
        o.doc.namespace(),
        o.doc.name(),
        operator_pods::operator_name(pod.operated),
        pod.name,
        pod.namespace,
    );
    Diagnostic::new(&o.file, message)
        .rule("PG-P001")
        .object(o.doc.object_ref())
        .with_path(path)
}
