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

fn non_root(c: &mut Container) {
    let name = c.name;
    if c.effective("runAsUser").and_then(Value::as_i64) == Some(0) {
        c.push(
            "securityContext.runAsUser",
            format!("container {name} runs as root (runAsUser: 0)"),
        );
    } else if c.effective("runAsNonRoot") != Some(&Value::Bool(true)) {
        c.push(
            "securityContext.runAsNonRoot",
            format!("container {name} may run as root: runAsNonRoot is not true (in the container or the pod)"),
        );
    }
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
    let name = c.name;
    let caps = c.own("capabilities");
    let drops_all = caps
        .and_then(|c| c.get("drop"))
        .and_then(Value::as_array)
        .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
    let added: Option<Vec<&str>> = caps
        .and_then(|c| c.get("add"))
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    if !drops_all {
        c.push(
            "securityContext.capabilities.drop",
            format!("container {name} does not drop ALL capabilities"),
        );
    }
    if let Some(names) = added {
        c.push(
            "securityContext.capabilities.add",
            format!("container {name} adds capabilities: {}", names.join(", ")),
        );
    }
}

fn no_escalation(c: &mut Container) {
    let name = c.name;
    if c.own("allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
        c.push(
            "securityContext.allowPrivilegeEscalation",
            format!(
                "container {name} may escalate privileges (allowPrivilegeEscalation is not false)"
            ),
        );
    }
    if c.own("privileged") == Some(&Value::Bool(true)) {
        c.push(
            "securityContext.privileged",
            format!("container {name} is privileged"),
        );
    }
}

fn seccomp(c: &mut Container) {
    let seccomp = c
        .effective("seccompProfile")
        .and_then(|s| s.get("type"))
        .and_then(Value::as_str);
    if seccomp != Some("RuntimeDefault") {
        let message = format!(
            "container {} does not use the RuntimeDefault seccomp profile (it is {})",
            c.name,
            seccomp.map_or_else(|| "not set".to_owned(), |s| format!("'{s}'"))
        );
        c.push("securityContext.seccompProfile.type", message);
    }
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
