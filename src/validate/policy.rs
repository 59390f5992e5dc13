//! Built-in security policy: rules every rendered object must satisfy, whatever the spec and
//! whatever the templates (a team's `--templates` included). `validate` reports findings
//! (exit 1); `render` refuses to write a tree with findings (exit 2).
//!
//! Each rule has a stable id (`PG-W001` …), shown at the start of every finding, and a
//! rationale; [`RULES`] is the table that SECURITY.md documents.
//!
//! The rules run in two places, so that nothing is parsed twice in the common case:
//! * [`check_yaml_file`] / [`check_json_file`], from [`super::check_file`], on the objects
//!   that check already parsed: every rule about one object, the tenant-namespace rule (a
//!   tenant's Namespace and its default-deny NetworkPolicy live in the same file), and the
//!   secret scan of the raw text;
//! * [`check_tree`], once per environment over the whole tree, for the rules that relate
//!   objects of different files (HPA vs VPA, PDB vs its workload's replicas, fault injection
//!   vs the tier). It re-reads only files that can hold the kinds those rules look at (a
//!   text pre-filter on the kind names; any file with a `\` escape is read too, since only
//!   an escape could spell a kind without its name), never the per-tenant files.

use std::collections::BTreeMap;

use serde_json::Value;

use super::At;

use super::{parse_yaml_documents, Document};
use crate::diagnostic::{Diagnostic, Position};
use crate::spec::Tier;

/// One policy rule: its id, what it demands, and why.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub rationale: &'static str,
}

/// Every rule, in the order of SECURITY.md.
pub const RULES: &[Rule] = &[
    Rule {
        id: "PG-W001",
        title: "workload containers run as non-root (runAsNonRoot: true, runAsUser not 0)",
        rationale: "a process that is root in its container is one kernel bug away from root on the node",
    },
    Rule {
        id: "PG-W002",
        title: "workload containers have a read-only root filesystem",
        rationale: "an attacker cannot drop tools or modify the app's code; writable space is an explicit emptyDir",
    },
    Rule {
        id: "PG-W003",
        title: "workload containers drop ALL capabilities and add none",
        rationale: "a web app needs no Linux capability; each one widens what a compromised process can do",
    },
    Rule {
        id: "PG-W004",
        title: "workload containers set allowPrivilegeEscalation: false and are not privileged",
        rationale: "setuid binaries and privileged mode give a process more rights than it started with",
    },
    Rule {
        id: "PG-W005",
        title: "workload containers use the RuntimeDefault seccomp profile",
        rationale: "blocks rarely needed, often exploited syscalls; required by the restricted Pod Security Standard",
    },
    Rule {
        id: "PG-W006",
        title: "workload containers set CPU and memory requests and limits",
        rationale: "without requests the scheduler overcommits; without limits one tenant's load can starve the node",
    },
    Rule {
        id: "PG-W007",
        title: "long-running workload containers have liveness and readiness probes",
        rationale: "without them a hung pod keeps receiving traffic and is never restarted",
    },
    Rule {
        id: "PG-W008",
        title: "container images are pinned: a tag other than 'latest', or a digest",
        rationale: "an untagged or ':latest' image changes under the same manifest, so what runs is not what was reviewed",
    },
    Rule {
        id: "PG-N001",
        title: "namespaces enforce the 'restricted' Pod Security Standard",
        rationale: "the admission controller then refuses any pod that breaks the W rules, whoever creates it",
    },
    Rule {
        id: "PG-N002",
        title: "every tenant namespace has a default-deny NetworkPolicy (all pods, Ingress and Egress) in the same file",
        rationale: "tenants must not reach each other; the file is the unit Argo CD applies, so the namespace never exists without it",
    },
    Rule {
        id: "PG-S001",
        title: "no Secret objects",
        rationale: "secret values never live in git; they come from the cluster's secret store and are referenced by name",
    },
    Rule {
        id: "PG-S002",
        title: "no text shaped like a credential (private keys, cloud/API tokens, JWTs, Slack webhooks, passwords in URLs)",
        rationale: "a credential committed to the GitOps repository is leaked to everyone who can read it, forever",
    },
    Rule {
        id: "PG-S003",
        title: "no literal value in a secret-named field (password, token, secret, apiKey, … or such an env var)",
        rationale: "secret-named fields must reference a secret (secretKeyRef, ${var}), never hold the value",
    },
    Rule {
        id: "PG-F001",
        title: "no fault injection in prod",
        rationale: "an injected delay or abort in production is an outage, even behind a header",
    },
    Rule {
        id: "PG-A001",
        title: "an HPA and a VPA in an active update mode (Auto, Recreate, InPlaceOrRecreate) never target the same workload",
        rationale: "both react to CPU and memory: the VPA resizes pods while the HPA counts them, and they fight",
    },
    Rule {
        id: "PG-D001",
        title: "PodDisruptionBudgets still allow evictions",
        rationale: "a PDB that allows no eviction (maxUnavailable 0, minAvailable 100% or ≥ replicas) blocks node drains and cluster upgrades",
    },
    Rule {
        id: "PG-E001",
        title: "an edge cache rule for /api never matches a request with a session cookie or an Authorization header",
        rationale: "a cached response to a signed-in request is one user's data; served from the cache, it reaches the next user of the same URL",
    },
    Rule {
        id: "PG-E002",
        title: "an edge cache rule for /api respects the origin's Cache-Control (no override_origin TTL, origin_cache_control not off)",
        rationale: "the origin marks personal responses private or no-store; a TTL that overrides the origin caches them anyway",
    },
    Rule {
        id: "PG-E003",
        title: "every CloudFlare ruleset rule is limited to the portal's hosts (a conjunction with an http.host term)",
        rationale: "a zone can hold other sites; a rule without a host scope changes their caching, headers and rate limits too",
    },
];

/// A finding about an object: `[ID] message`, at `Kind ns/name: field`.
fn finding(
    file: &str,
    doc: &Document,
    field: &str,
    id: &'static str,
    message: String,
) -> Diagnostic {
    Diagnostic::new(file, format!("[{id}] {message}"))
        .rule(id)
        .object(doc.object_ref())
        .with_path(field)
}

/// The rules about the objects of one rendered YAML file, and the secret scan of its text.
pub fn check_yaml_file(file: &str, text: &str, docs: &[Document]) -> Vec<Diagnostic> {
    let mut out = scan_text(file, text);
    for doc in docs {
        check_object(file, doc, &mut out);
    }
    check_tenant_namespaces(file, docs, &mut out);
    out
}

/// The rules about one rendered JSON file (dashboards, Terraform): no credentials.
pub fn check_json_file(file: &str, text: &str, value: &Value) -> Vec<Diagnostic> {
    let mut out = scan_text(file, text);
    let mut secrets = Vec::new();
    walk_secret_fields(value, &mut secrets);
    for (field, message) in secrets {
        out.push(
            Diagnostic::new(file, format!("[PG-S003] {message}"))
                .rule("PG-S003")
                .with_path(field),
        );
    }
    out
}

/// Every rule about one object.
fn check_object(file: &str, doc: &Document, out: &mut Vec<Diagnostic>) {
    let kind = doc.kind();
    if let Some((pod_pointer, long_running)) = pod_spec_pointer(kind) {
        if let Some(pod) = doc.value.at(pod_pointer) {
            check_pod(
                file,
                doc,
                &pointer_to_path(pod_pointer),
                pod,
                long_running,
                out,
            );
        }
    }
    match kind {
        "Namespace" => {
            let enforce = doc
                .value
                .at_keys(&["metadata", "labels", "pod-security.kubernetes.io/enforce"])
                .and_then(Value::as_str);
            if enforce != Some("restricted") {
                out.push(finding(
                    file,
                    doc,
                    "metadata.labels",
                    "PG-N001",
                    format!(
                        "namespace {} does not enforce the restricted Pod Security Standard (pod-security.kubernetes.io/enforce is {})",
                        doc.name(),
                        enforce.map_or_else(|| "not set".to_owned(), |e| format!("'{e}'"))
                    ),
                ));
            }
        }
        "Secret" if doc.api_version() == "v1" => out.push(finding(
            file,
            doc,
            "",
            "PG-S001",
            format!(
                "Secret {} is rendered; secret values never go into the tree (reference them by name)",
                doc.name()
            ),
        )),
        "PodDisruptionBudget" => {
            if let Some(problem) = pdb_blocks_evictions(&doc.value) {
                out.push(finding(file, doc, "spec", "PG-D001", problem));
            }
        }
        _ => {}
    }
    let mut secrets = Vec::new();
    walk_secret_fields(&doc.value, &mut secrets);
    for (field, message) in secrets {
        if !names_a_key(kind, &field) {
            out.push(finding(file, doc, &field, "PG-S003", message));
        }
    }
}

/// Whether a secret-named field of this kind names a key rather than holds a value: an
/// ExternalSecret's `spec.data[i].secretKey` is the key the operator writes into the target
/// Secret (the value comes from the store). Credential-shaped text is still caught (PG-S002).
fn names_a_key(kind: &str, field: &str) -> bool {
    kind == "ExternalSecret"
        && field
            .strip_prefix("spec.data[")
            .and_then(|rest| rest.strip_suffix("].secretKey"))
            .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
}

/// Where a kind keeps its pod spec, and whether its pods run for long (need probes).
fn pod_spec_pointer(kind: &str) -> Option<(&'static str, bool)> {
    Some(match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" => {
            ("/spec/template/spec", true)
        }
        "Job" => ("/spec/template/spec", false),
        "CronJob" => ("/spec/jobTemplate/spec/template/spec", false),
        "Pod" => ("/spec", true),
        _ => return None,
    })
}

/// `/spec/template/spec` as `spec.template.spec`.
fn pointer_to_path(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

fn check_pod(
    file: &str,
    doc: &Document,
    base: &str,
    pod: &Value,
    long_running: bool,
    out: &mut Vec<Diagnostic>,
) {
    let pod_sc = pod.get("securityContext");
    for (list, is_init) in [("containers", false), ("initContainers", true)] {
        let Some(containers) = pod.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, c) in containers.iter().enumerate() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let at = format!("{base}.{list}[{i}]");
            let sc = c.get("securityContext");
            let sc_field = |f: &str| sc.and_then(|s| s.get(f));
            let effective = |f: &str| sc_field(f).or_else(|| pod_sc.and_then(|s| s.get(f)));
            let mut push = |field: &str, id: &'static str, message: String| {
                let path = if field.is_empty() {
                    at.clone()
                } else {
                    format!("{at}.{field}")
                };
                out.push(finding(file, doc, &path, id, message));
            };

            // W001: non-root.
            if effective("runAsUser").and_then(Value::as_i64) == Some(0) {
                push(
                    "securityContext.runAsUser",
                    "PG-W001",
                    format!("container {name} runs as root (runAsUser: 0)"),
                );
            } else if effective("runAsNonRoot") != Some(&Value::Bool(true)) {
                push(
                    "securityContext.runAsNonRoot",
                    "PG-W001",
                    format!("container {name} may run as root: runAsNonRoot is not true (in the container or the pod)"),
                );
            }
            // W002: read-only root filesystem.
            if sc_field("readOnlyRootFilesystem") != Some(&Value::Bool(true)) {
                push(
                    "securityContext.readOnlyRootFilesystem",
                    "PG-W002",
                    format!("container {name} has a writable root filesystem (readOnlyRootFilesystem is not true)"),
                );
            }
            // W003: capabilities.
            let caps = sc_field("capabilities");
            let drops_all = caps
                .and_then(|c| c.get("drop"))
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|x| x.as_str() == Some("ALL")));
            if !drops_all {
                push(
                    "securityContext.capabilities.drop",
                    "PG-W003",
                    format!("container {name} does not drop ALL capabilities"),
                );
            }
            if let Some(add) = caps
                .and_then(|c| c.get("add"))
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
            {
                let names: Vec<&str> = add.iter().filter_map(Value::as_str).collect();
                push(
                    "securityContext.capabilities.add",
                    "PG-W003",
                    format!("container {name} adds capabilities: {}", names.join(", ")),
                );
            }
            // W004: privilege escalation.
            if sc_field("allowPrivilegeEscalation") != Some(&Value::Bool(false)) {
                push(
                    "securityContext.allowPrivilegeEscalation",
                    "PG-W004",
                    format!("container {name} may escalate privileges (allowPrivilegeEscalation is not false)"),
                );
            }
            if sc_field("privileged") == Some(&Value::Bool(true)) {
                push(
                    "securityContext.privileged",
                    "PG-W004",
                    format!("container {name} is privileged"),
                );
            }
            // W005: seccomp.
            let seccomp = effective("seccompProfile")
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str);
            if seccomp != Some("RuntimeDefault") {
                push(
                    "securityContext.seccompProfile.type",
                    "PG-W005",
                    format!(
                        "container {name} does not use the RuntimeDefault seccomp profile (it is {})",
                        seccomp.map_or_else(|| "not set".to_owned(), |s| format!("'{s}'"))
                    ),
                );
            }
            // W006: requests and limits.
            let missing: Vec<String> = ["requests", "limits"]
                .iter()
                .flat_map(|kind| ["cpu", "memory"].map(move |r| (kind, r)))
                .filter(|(kind, r)| {
                    c.at(&format!("/resources/{kind}/{r}"))
                        .is_none_or(|v| v.is_null() || is_zero_quantity(v))
                })
                .map(|(kind, r)| format!("{kind}.{r}"))
                .collect();
            if !missing.is_empty() {
                push(
                    "resources",
                    "PG-W006",
                    format!(
                        "container {name} does not set resources {} (or sets them to zero)",
                        missing.join(", ")
                    ),
                );
            }
            // W007: probes, for the app containers of long-running pods.
            if long_running && !is_init {
                for probe in ["livenessProbe", "readinessProbe"] {
                    if c.get(probe).is_none_or(Value::is_null) {
                        push(probe, "PG-W007", format!("container {name} has no {probe}"));
                    }
                }
            }
            // W008: pinned image.
            let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
            if let Some(problem) = image_problem(image) {
                push("image", "PG-W008", format!("container {name}: {problem}"));
            }
        }
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

/// Why a PDB, on its own, allows no eviction.
fn pdb_blocks_evictions(pdb: &Value) -> Option<String> {
    let spec = pdb.get("spec")?;
    match spec.get("maxUnavailable") {
        Some(Value::Number(n)) if n.as_i64() == Some(0) => {
            return Some(
                "maxUnavailable is 0: no pod may ever be evicted, so nodes cannot be drained"
                    .into(),
            )
        }
        Some(Value::String(s))
            if s.trim_end_matches('%')
                .parse::<f64>()
                .is_ok_and(|p| p <= 0.0) =>
        {
            return Some(format!(
                "maxUnavailable is {s}: no pod may ever be evicted, so nodes cannot be drained"
            ))
        }
        _ => {}
    }
    match spec.get("minAvailable") {
        Some(Value::String(s))
            if s.trim_end_matches('%')
                .parse::<f64>()
                .is_ok_and(|p| p >= 100.0) =>
        {
            Some(format!(
                "minAvailable is {s}: no pod may ever be evicted, so nodes cannot be drained"
            ))
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Tenant namespaces.

/// Whether a Namespace object is a tenant's.
fn is_tenant_namespace(doc: &Document) -> bool {
    doc.value
        .at_keys(&["metadata", "labels", "portal.dev/tenant"])
        .is_some()
        || doc.name().starts_with("portal-tenant-")
}

/// A NetworkPolicy that selects every pod and denies all ingress and egress.
fn is_default_deny(doc: &Document) -> bool {
    let Some(spec) = doc.value.get("spec") else {
        return false;
    };
    let selects_all = match spec.get("podSelector") {
        Some(Value::Object(sel)) => sel.values().all(|v| match v {
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Null => true,
            _ => false,
        }),
        _ => false,
    };
    let types: Vec<&str> = spec
        .get("policyTypes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let no_rules = |k: &str| {
        spec.get(k)
            .is_none_or(|v| v.is_null() || v.as_array().is_some_and(Vec::is_empty))
    };
    selects_all
        && types.contains(&"Ingress")
        && types.contains(&"Egress")
        && no_rules("ingress")
        && no_rules("egress")
}

fn check_tenant_namespaces(file: &str, docs: &[Document], out: &mut Vec<Diagnostic>) {
    for ns in docs
        .iter()
        .filter(|d| d.kind() == "Namespace" && is_tenant_namespace(d))
    {
        let covered = docs.iter().any(|d| {
            d.kind() == "NetworkPolicy" && d.namespace() == ns.name() && is_default_deny(d)
        });
        if !covered {
            out.push(finding(
                file,
                ns,
                "",
                "PG-N002",
                format!(
                    "tenant namespace {} has no default-deny NetworkPolicy (podSelector {{}}, policyTypes Ingress and Egress, no rules) in this file",
                    ns.name()
                ),
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------
// Secrets.

use crate::secrets::is_reference;
pub use crate::secrets::is_secret_name;

/// Fields with a secret-like name that hold a literal string, and `{name: SECRET_LIKE,
/// value: "…"}` pairs (environment variables).
fn walk_secret_fields(v: &Value, out: &mut Vec<(String, String)>) {
    // The path is kept as segments and written out only for a finding: this walk visits
    // every value of every rendered object.
    let mut segments = Vec::new();
    walk(
        v,
        &mut segments,
        &mut |segments: &[Segment], field: &str, message: String| {
            let mut at = String::new();
            for s in segments.iter().chain([&Segment::Key(field)]) {
                match s {
                    Segment::Key(k) => {
                        if !at.is_empty() {
                            at.push('.');
                        }
                        at.push_str(k);
                    }
                    Segment::Index(i) => at.push_str(&format!("[{i}]")),
                }
            }
            out.push((at, message));
        },
    );
}

#[derive(Clone, Copy)]
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

type Found<'f> = dyn FnMut(&[Segment], &str, String) + 'f;

fn walk<'a>(v: &'a Value, path: &mut Vec<Segment<'a>>, found: &mut Found) {
    match v {
        Value::Object(map) => {
            let field = |key: &str| map.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
            if let (Some(Value::String(name)), Some(Value::String(value))) =
                (field("name"), field("value"))
            {
                if is_secret_name(name) && !is_reference(value) {
                    found(
                        path,
                        "value",
                        format!("'{name}' is given a literal value; take it from a Secret (valueFrom.secretKeyRef)"),
                    );
                }
            }
            for (k, v) in map {
                match v {
                    Value::String(s) if is_secret_name(k) && !is_reference(s) => {
                        found(
                            path,
                            k,
                            format!(
                                "the field '{k}' holds a literal value; reference a secret instead"
                            ),
                        );
                    }
                    Value::Object(_) | Value::Array(_) => {
                        path.push(Segment::Key(k));
                        walk(v, path, found);
                        path.pop();
                    }
                    _ => {}
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Segment::Index(i));
                walk(item, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Text shaped like a credential, anywhere in a file (comments included), in one pass
/// ([`crate::secrets::scan`]); positions are counted in the same single pass.
pub fn scan_text(file: &str, text: &str) -> Vec<Diagnostic> {
    let findings = crate::secrets::scan(text);
    let positions = crate::secrets::positions(text, &findings);
    findings
        .iter()
        .zip(positions)
        .map(|(f, (line, column))| {
            let shown: String = text[f.offset..].chars().take(6).collect();
            Diagnostic::new(
                file,
                format!(
                    "[PG-S002] text that looks like {} ('{}…'); secrets never go into the tree",
                    f.what,
                    crate::diagnostic::quote(&shown)
                ),
            )
            .rule("PG-S002")
            .at(Some(Position { line, column }))
            .with_path(format!("line {line}"))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Cross-document rules.

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

/// Kind names the cross-document rules look at: a file that contains none of them (and no
/// escape) cannot hold an object they need.
const CROSS_KINDS: &[&str] = &[
    "HorizontalPodAutoscaler",
    "VerticalPodAutoscaler",
    "PodDisruptionBudget",
    "VirtualService",
    "Deployment",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

struct Located {
    file: String,
    doc: Document,
}

/// The rules that relate objects of different files of one environment's tree: HPA vs VPA
/// (PG-A001), a PDB vs its workload's replicas (PG-D001), fault injection vs the tier
/// (PG-F001). `files` are the rendered files by path.
/// Whether [`check_tree`] looks at a file: a YAML file that names a kind its rules relate
/// (or holds an escape, which could spell one). Any other file can be left out of the tree
/// it is given.
pub fn needed_by_tree(path: &str, text: &str) -> bool {
    path.ends_with(".yaml") && (text.contains('\\') || CROSS_KINDS.iter().any(|k| text.contains(k)))
}

/// Whether parsed documents hold an object of a kind [`check_tree`] relates (exact, where
/// [`needed_by_tree`] must guess from the text).
pub fn holds_kind_for_tree(docs: &[Document]) -> bool {
    docs.iter().any(|d| CROSS_KINDS.contains(&d.kind()))
}

pub fn check_tree(files: &BTreeMap<String, Vec<u8>>, tier: Tier) -> Vec<Diagnostic> {
    let mut objects: Vec<Located> = Vec::new();
    for (path, bytes) in files {
        if !path.ends_with(".yaml") {
            continue;
        }
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        if !needed_by_tree(path, text) {
            continue;
        }
        // A file that does not parse was reported by the per-file checks.
        let Ok(docs) = parse_yaml_documents(text) else {
            continue;
        };
        objects.extend(docs.into_iter().map(|doc| Located {
            file: path.clone(),
            doc,
        }));
    }
    check_objects(&objects, tier)
}

fn target_of(doc: &Document) -> Option<(String, String, String)> {
    let t = doc
        .value
        .at("/spec/scaleTargetRef")
        .or_else(|| doc.value.at("/spec/targetRef"))?;
    Some((
        doc.namespace().to_owned(),
        t.get("kind")?.as_str()?.to_owned(),
        t.get("name")?.as_str()?.to_owned(),
    ))
}

fn check_objects(objects: &[Located], tier: Tier) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let of_kind = |k: &'static str| objects.iter().filter(move |o| o.doc.kind() == k);

    // A001: HPA and an active VPA on the same workload.
    let hpas: BTreeMap<(String, String, String), &Located> = of_kind("HorizontalPodAutoscaler")
        .filter_map(|o| Some((target_of(&o.doc)?, o)))
        .collect();
    for vpa in of_kind("VerticalPodAutoscaler") {
        let mode = vpa
            .doc
            .value
            .at("/spec/updatePolicy/updateMode")
            .and_then(Value::as_str)
            .unwrap_or("Auto");
        if matches!(mode, "Off" | "Initial") {
            continue;
        }
        if let Some(target) = target_of(&vpa.doc) {
            if let Some(hpa) = hpas.get(&target) {
                out.push(finding(
                    &vpa.file,
                    &vpa.doc,
                    "spec.updatePolicy.updateMode",
                    "PG-A001",
                    format!(
                        "VPA {} in mode {mode} and {} both act on {} {}; set the VPA's updateMode to Off (recommendations) or Initial",
                        vpa.doc.name(),
                        hpa.doc.describe(),
                        target.1,
                        target.2
                    ),
                ));
            }
        }
    }

    // D001: minAvailable at or above the workload's smallest replica count.
    for pdb in of_kind("PodDisruptionBudget") {
        let Some(min) = pdb
            .doc
            .value
            .at("/spec/minAvailable")
            .and_then(Value::as_i64)
        else {
            continue;
        };
        let Some(selector) = pdb
            .doc
            .value
            .at("/spec/selector/matchLabels")
            .and_then(Value::as_object)
        else {
            continue;
        };
        for w in objects.iter().filter(|o| {
            o.doc.namespace() == pdb.doc.namespace()
                && pod_spec_pointer(o.doc.kind()).is_some_and(|(_, long)| long)
                && o.doc.kind() != "Pod"
        }) {
            let labels = w
                .doc
                .value
                .at("/spec/template/metadata/labels")
                .and_then(Value::as_object);
            let matches = labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)));
            if !matches {
                continue;
            }
            let key = (
                w.doc.namespace().to_owned(),
                w.doc.kind().to_owned(),
                w.doc.name().to_owned(),
            );
            let (replicas, source) = match hpas.get(&key) {
                Some(h) => (
                    h.doc
                        .value
                        .at("/spec/minReplicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1),
                    "the HPA's minReplicas",
                ),
                None => (
                    w.doc
                        .value
                        .at("/spec/replicas")
                        .and_then(Value::as_i64)
                        .unwrap_or(1),
                    "its replicas",
                ),
            };
            if min >= replicas {
                out.push(finding(
                    &pdb.file,
                    &pdb.doc,
                    "spec.minAvailable",
                    "PG-D001",
                    format!(
                        "minAvailable {min} is not below {replicas} ({source} of {}): no pod may be evicted, so nodes cannot be drained",
                        w.doc.describe()
                    ),
                ));
            }
        }
    }

    // F001: fault injection in prod.
    if tier == Tier::Prod {
        for vs in of_kind("VirtualService") {
            let routes = vs.doc.value.at("/spec/http").and_then(Value::as_array);
            for (i, route) in routes.into_iter().flatten().enumerate() {
                if route.get("fault").is_some_and(|f| !f.is_null()) {
                    out.push(finding(
                        &vs.file,
                        &vs.doc,
                        &format!("spec.http[{i}].fault"),
                        "PG-F001",
                        "fault injection is rendered for a prod environment".into(),
                    ));
                }
            }
        }
    }
    out
}
