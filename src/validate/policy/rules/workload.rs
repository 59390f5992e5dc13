//! The W rules: every container of a pod template (see [`POD_TEMPLATE_KINDS`]).

use serde_json::Value;

use super::super::{Check, Container, Kinds, Rule};
use crate::validate::At;

pub const W001: Rule = Rule {
    id: "PG-W001",
    title: "workload containers run as non-root (runAsNonRoot: true, runAsUser not 0)",
    rationale:
        "a process that is root in its container is one kernel bug away from root on the node",
    kinds: Kinds::PodTemplates,
    checks: &[Check::Container(non_root)],
};

pub const W002: Rule = Rule {
    id: "PG-W002",
    title: "workload containers have a read-only root filesystem",
    rationale: "an attacker cannot drop tools or modify the app's code; writable space is an explicit emptyDir",
    kinds: Kinds::PodTemplates,
    checks: &[Check::Container(read_only_root)],
};

pub const W003: Rule = Rule {
    id: "PG-W003",
    title: "workload containers drop ALL capabilities and add none",
    rationale:
        "a web app needs no Linux capability; each one widens what a compromised process can do",
    kinds: Kinds::PodTemplates,
    checks: &[Check::Container(capabilities)],
};

pub const W004: Rule = Rule {
    id: "PG-W004",
    title: "workload containers set allowPrivilegeEscalation: false and are not privileged",
    rationale:
        "setuid binaries and privileged mode give a process more rights than it started with",
    kinds: Kinds::PodTemplates,
    checks: &[Check::Container(no_escalation)],
};

pub const W005: Rule = Rule {
    id: "PG-W005",
    title: "workload containers use the RuntimeDefault seccomp profile",
    rationale: "blocks rarely needed, often exploited syscalls; required by the restricted Pod Security Standard",
    kinds: Kinds::PodTemplates,
    checks: &[Check::Container(seccomp)],
};

pub const W006: Rule = Rule {
    id: "PG-W006",
    title: "workload containers set CPU and memory requests and limits",
    rationale: "without requests the scheduler overcommits; without limits one tenant's load can starve the node",
    kinds: Kinds::PodTemplates,
    checks: &[Check::Container(resources)],
};

pub const W007: Rule = Rule {
    id: "PG-W007",
    title: "long-running workload containers have liveness and readiness probes",
    rationale: "without them a hung pod keeps receiving traffic and is never restarted",
    kinds: Kinds::PodTemplates,
    checks: &[Check::Container(probes)],
};

pub const W008: Rule = Rule {
    id: "PG-W008",
    title: "container images are pinned: a tag other than 'latest', or a digest",
    rationale: "an untagged or ':latest' image changes under the same manifest, so what runs is not what was reviewed",
    kinds: Kinds::PodTemplates,
    checks: &[Check::Container(pinned_image)],
};

/// The securityContexts that apply to one container: its own and its pod's. The W rules
/// read a rendered pod template through it, PG-P001 the pods an operator derives from a
/// custom resource, so the profile's checks are written once.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecurityContexts<'a> {
    pub container: Option<&'a Value>,
    pub pod: Option<&'a Value>,
}

impl<'a> SecurityContexts<'a> {
    /// A field of the container's own securityContext.
    pub fn own(&self, field: &str) -> Option<&'a Value> {
        self.container.and_then(|s| s.get(field))
    }

    /// A securityContext field as it applies: the container's, else the pod's.
    pub fn effective(&self, field: &str) -> Option<&'a Value> {
        self.own(field)
            .or_else(|| self.pod.and_then(|s| s.get(field)))
    }
}

/// What is wrong with a container's securityContext: the field (under `securityContext`),
/// whether the pod's securityContext may set it instead, and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub pod_level: bool,
    pub message: String,
}

fn problem(field: &'static str, pod_level: bool, message: String) -> Problem {
    Problem {
        field,
        pod_level,
        message,
    }
}

fn push(c: &mut Container, p: Option<Problem>) {
    if let Some(p) = p {
        c.push(&format!("securityContext.{}", p.field), p.message);
    }
}

/// Root: `runAsUser: 0`, or `runAsNonRoot` not true (in the container or the pod).
pub fn root_problem(sc: SecurityContexts, name: &str) -> Option<Problem> {
    if sc.effective("runAsUser").and_then(Value::as_i64) == Some(0) {
        Some(problem(
            "runAsUser",
            true,
            format!("container {name} runs as root (runAsUser: 0)"),
        ))
    } else if sc.effective("runAsNonRoot") != Some(&Value::Bool(true)) {
        Some(problem(
            "runAsNonRoot",
            true,
            format!("container {name} may run as root: runAsNonRoot is not true (in the container or the pod)"),
        ))
    } else {
        None
    }
}

/// Capabilities: ALL not dropped, or one added that is not in `may_add`.
pub fn capability_problems(sc: SecurityContexts, name: &str, may_add: &[&str]) -> Vec<Problem> {
    let caps = sc.own("capabilities");
    let drops_all = caps
        .and_then(|c| c.get("drop"))
        .and_then(Value::as_array)
        .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
    let added: Vec<&str> = caps
        .and_then(|c| c.get("add"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let added: Vec<&str> = added.into_iter().filter(|a| !may_add.contains(a)).collect();
    let mut out = Vec::new();
    if !drops_all {
        out.push(problem(
            "capabilities.drop",
            false,
            format!("container {name} does not drop ALL capabilities"),
        ));
    }
    if !added.is_empty() {
        out.push(problem(
            "capabilities.add",
            false,
            format!("container {name} adds capabilities: {}", added.join(", ")),
        ));
    }
    out
}

/// `allowPrivilegeEscalation` not false.
pub fn escalation_problem(sc: SecurityContexts, name: &str) -> Option<Problem> {
    (sc.own("allowPrivilegeEscalation") != Some(&Value::Bool(false))).then(|| {
        problem(
            "allowPrivilegeEscalation",
            false,
            format!(
                "container {name} may escalate privileges (allowPrivilegeEscalation is not false)"
            ),
        )
    })
}

/// `privileged: true`.
pub fn privileged_problem(sc: SecurityContexts, name: &str) -> Option<Problem> {
    (sc.own("privileged") == Some(&Value::Bool(true))).then(|| {
        problem(
            "privileged",
            false,
            format!("container {name} is privileged"),
        )
    })
}

/// A seccomp profile (the container's, else the pod's) that is not one of `allowed`.
pub fn seccomp_problem(sc: SecurityContexts, name: &str, allowed: &[&str]) -> Option<Problem> {
    let seccomp = sc
        .effective("seccompProfile")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str);
    if seccomp.is_some_and(|s| allowed.contains(&s)) {
        return None;
    }
    let message = format!(
        "container {name} does not use the {} seccomp profile (it is {})",
        allowed.join(" or "),
        seccomp.map_or_else(|| "not set".to_owned(), |s| format!("'{s}'"))
    );
    Some(problem("seccompProfile.type", true, message))
}

fn non_root(c: &mut Container) {
    let p = root_problem(c.security(), c.name);
    push(c, p);
}

fn read_only_root(c: &mut Container) {
    if c.own("readOnlyRootFilesystem") != Some(&Value::Bool(true)) {
        let name = c.name;
        c.push(
            "securityContext.readOnlyRootFilesystem",
            format!("container {name} has a writable root filesystem (readOnlyRootFilesystem is not true)"),
        );
    }
}

fn capabilities(c: &mut Container) {
    for p in capability_problems(c.security(), c.name, &[]) {
        push(c, Some(p));
    }
}

fn no_escalation(c: &mut Container) {
    let sc = c.security();
    let (escalation, privileged) = (
        escalation_problem(sc, c.name),
        privileged_problem(sc, c.name),
    );
    push(c, escalation);
    push(c, privileged);
}

fn seccomp(c: &mut Container) {
    let p = seccomp_problem(c.security(), c.name, &["RuntimeDefault"]);
    push(c, p);
}

fn resources(c: &mut Container) {
    let missing: Vec<String> = ["requests", "limits"]
        .iter()
        .flat_map(|kind| ["cpu", "memory"].map(move |r| (kind, r)))
        .filter(|(kind, r)| {
            c.value
                .at(&format!("/resources/{kind}/{r}"))
                .is_none_or(|v| v.is_null() || is_zero_quantity(v))
        })
        .map(|(kind, r)| format!("{kind}.{r}"))
        .collect();
    if !missing.is_empty() {
        let message = format!(
            "container {} does not set resources {} (or sets them to zero)",
            c.name,
            missing.join(", ")
        );
        c.push("resources", message);
    }
}

/// For the app containers of long-running pods.
fn probes(c: &mut Container) {
    if !c.long_running || c.is_init {
        return;
    }
    for probe in ["livenessProbe", "readinessProbe"] {
        if c.value.get(probe).is_none_or(Value::is_null) {
            let message = format!("container {} has no {probe}", c.name);
            c.push(probe, message);
        }
    }
}

fn pinned_image(c: &mut Container) {
    let image = c
        .value
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if let Some(problem) = image_problem(image) {
        let message = format!("container {}: {problem}", c.name);
        c.push("image", message);
    }
}

/// Why an image reference is not pinned, if it is not.
pub fn image_problem(image: &str) -> Option<String> {
    if image.is_empty() {
        return Some("no image".into());
    }
    if let Some((_, digest)) = image.split_once('@') {
        return (!digest.starts_with("sha256:") || digest.len() != 71)
            .then(|| format!("image {image} has a malformed digest"));
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        None => Some(format!(
            "image {image} has no tag (it means ':latest'); pin a version or a digest"
        )),
        Some((_, "latest")) => Some(format!(
            "image {image} uses ':latest'; pin a version or a digest"
        )),
        Some((_, "")) => Some(format!("image {image} has an empty tag")),
        Some(_) => None,
    }
}

/// A quantity of zero (`0`, `"0"`, `"0Mi"`, `"0.0"`): a limit of nothing is no limit.
fn is_zero_quantity(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => {
            let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            digits.parse::<f64>().is_ok_and(|x| x == 0.0)
        }
        _ => false,
    }
}
