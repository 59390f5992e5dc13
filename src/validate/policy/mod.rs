//! Built-in security policy: rules every rendered object must satisfy, whatever the spec and
//! whatever the templates (a team's `--templates` included). `validate` reports findings
//! (exit 1); `render` refuses to write a tree with findings (exit 2).
//!
//! Each rule is one item ([`Rule`]): a stable id (`PG-W001` …, shown at the start of every
//! finding), a title, a rationale, the kinds it applies to and its checks. [`RULES`] is the
//! one registry (in the way ruff registers its rules) and the table that SECURITY.md
//! documents; the rules live in `rules/`, one file per small group. Workload kinds that
//! carry a pod template are listed once, in [`POD_TEMPLATE_KINDS`]: every container rule
//! sees every one of them.
//!
//! The rules run in two places, so that nothing is parsed twice in the common case:
//! * [`check_yaml_file`] / [`check_json_file`], from [`super::check_file`], on the objects
//!   that check already parsed: every rule about one object or container, the rules about
//!   the objects of one file (a tenant's Namespace and its default-deny NetworkPolicy live
//!   in the same file), and the secret scan of the raw text;
//! * [`check_tree`], once per environment over the whole tree, for the rules that relate
//!   objects of different files (HPA vs VPA, PDB vs its workload's replicas, fault injection
//!   vs the tier). It re-reads only files that can hold the kinds those rules apply to (a
//!   text pre-filter on the kind names; any file with a `\` escape is read too, since only
//!   an escape could spell a kind without its name), never the per-tenant files.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde_json::Value;

use super::{parse_yaml_documents, At, Document};
use crate::diagnostic::{Diagnostic, FieldPath};
use crate::spec::Tier;

pub mod rules;
pub mod secrets;

pub use rules::workload::image_problem;
pub use secrets::{is_secret_name, scan_text};

/// One policy rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    /// What it demands.
    pub title: &'static str,
    /// Why.
    pub rationale: &'static str,
    /// The kinds of object it looks at.
    pub kinds: Kinds,
    /// How it looks (a rule may need to look at one object and at the whole tree).
    pub checks: &'static [Check],
}

/// The kinds a rule applies to.
#[derive(Debug, Clone, Copy)]
pub enum Kinds {
    /// Every object (and every file's text).
    Any,
    Only(&'static [&'static str]),
    /// The workload kinds that carry a pod template ([`POD_TEMPLATE_KINDS`]).
    PodTemplates,
    /// These kinds and the workloads that run copies of their template.
    WithScaledWorkloads(&'static [&'static str]),
    /// These kinds and every workload kind with a pod template.
    WithWorkloads(&'static [&'static str]),
}

impl Kinds {
    /// The kind names, or `None` for every kind.
    pub fn names(self) -> Option<Vec<&'static str>> {
        let workloads = |scaled: bool| {
            POD_TEMPLATE_KINDS
                .iter()
                .filter(move |k| !scaled || k.scaled)
                .map(|k| k.kind)
        };
        match self {
            Kinds::Any => None,
            Kinds::Only(kinds) => Some(kinds.to_vec()),
            Kinds::PodTemplates => Some(workloads(false).collect()),
            Kinds::WithScaledWorkloads(kinds) => {
                Some(kinds.iter().copied().chain(workloads(true)).collect())
            }
            Kinds::WithWorkloads(kinds) => {
                Some(kinds.iter().copied().chain(workloads(false)).collect())
            }
        }
    }

    pub fn contains(self, kind: &str) -> bool {
        match self {
            Kinds::Any => true,
            Kinds::Only(kinds) => kinds.contains(&kind),
            Kinds::PodTemplates => pod_template(kind).is_some(),
            Kinds::WithScaledWorkloads(kinds) => {
                kinds.contains(&kind) || pod_template(kind).is_some_and(|k| k.scaled)
            }
            Kinds::WithWorkloads(kinds) => kinds.contains(&kind) || pod_template(kind).is_some(),
        }
    }
}

/// How a rule looks at the rendered tree.
#[derive(Debug, Clone, Copy)]
pub enum Check {
    /// One object of a kind the rule applies to.
    Object(fn(file: &str, doc: &Document, out: &mut Vec<Diagnostic>)),
    /// Each container (and init container) of an object's pod template.
    Container(fn(container: &mut Container)),
    /// The objects of one file together.
    File(fn(file: &str, docs: &[Document], out: &mut Vec<Diagnostic>)),
    /// The raw text of every rendered file, YAML or JSON.
    Text(fn(file: &str, text: &str) -> Vec<Diagnostic>),
    /// The objects of the rule's kinds in the whole tree of one environment.
    Tree(fn(objects: &[Located], tier: Tier, out: &mut Vec<Diagnostic>)),
    /// The same, with what the environment says about the tree's place: every path of the
    /// tree, where it is in its repository, and the prerequisites it declares.
    TreeIn(fn(objects: &[Located], cx: &TreeContext, out: &mut Vec<Diagnostic>)),
    /// A rendered JSON file, parsed (Terraform resources are not Kubernetes objects).
    Json(fn(file: &str, value: &Value) -> Vec<Diagnostic>),
}

/// Every rule, in the order of SECURITY.md.
pub const RULES: &[Rule] = &[
    rules::workload::W001,
    rules::workload::W002,
    rules::workload::W003,
    rules::workload::W004,
    rules::workload::W005,
    rules::workload::W006,
    rules::workload::W007,
    rules::workload::W008,
    rules::namespace::N001,
    rules::namespace::N002,
    rules::operator_pods::P001,
    rules::secrets::S001,
    rules::secrets::S002,
    rules::secrets::S003,
    rules::cross::F001,
    rules::cross::A001,
    rules::cross::D001,
    rules::flows::C001,
    rules::flows::C002,
    rules::references::R001,
    rules::observability::O001,
    rules::observability::O002,
    rules::observability::O003,
    rules::observability::O004,
    rules::edge::E001,
    rules::edge::E002,
    rules::edge::E003,
    rules::metadata::M001,
];

/// A workload kind that carries a pod template.
#[derive(Debug, Clone, Copy)]
pub struct PodTemplateKind {
    pub kind: &'static str,
    /// JSON Pointer to the pod template (`metadata` and `spec`); empty: the object is a pod.
    pub template: &'static str,
    /// Its pods run for long (they need probes).
    pub long_running: bool,
    /// It runs copies of the template that a PodDisruptionBudget counts.
    pub scaled: bool,
}

/// Every workload kind with a pod template, once: the W rules see each of them, and a
/// rendered object with a pod template of a kind not listed here fails a test.
pub const POD_TEMPLATE_KINDS: &[PodTemplateKind] = &[
    workload("Deployment", "/spec/template", true, true),
    workload("StatefulSet", "/spec/template", true, true),
    workload("DaemonSet", "/spec/template", true, true),
    workload("ReplicaSet", "/spec/template", true, true),
    workload("ReplicationController", "/spec/template", true, true),
    workload("Job", "/spec/template", false, false),
    workload("CronJob", "/spec/jobTemplate/spec/template", false, false),
    workload("Pod", "", true, false),
    // Argo Rollouts' Deployment with a canary or blue-green strategy (`model::rollout`).
    workload("Rollout", "/spec/template", true, true),
];

const fn workload(
    kind: &'static str,
    template: &'static str,
    long_running: bool,
    scaled: bool,
) -> PodTemplateKind {
    PodTemplateKind {
        kind,
        template,
        long_running,
        scaled,
    }
}

/// The pod-template entry of a kind.
pub fn pod_template(kind: &str) -> Option<&'static PodTemplateKind> {
    POD_TEMPLATE_KINDS.iter().find(|k| k.kind == kind)
}

/// One container of a pod template, as the container rules see it.
pub struct Container<'a> {
    file: &'a str,
    doc: &'a Document,
    /// The rule being run (its id goes on every finding).
    rule: &'static str,
    /// `spec.template.spec.containers[0]`.
    at: FieldPath,
    pub name: &'a str,
    pub value: &'a Value,
    pod_security: Option<&'a Value>,
    pub is_init: bool,
    pub long_running: bool,
    out: &'a mut Vec<Diagnostic>,
}

impl<'a> Container<'a> {
    /// The container's securityContext and its pod's.
    pub fn security(&self) -> rules::workload::SecurityContexts<'a> {
        rules::workload::SecurityContexts {
            container: self.value.get("securityContext"),
            pod: self.pod_security,
        }
    }

    /// A field of the container's own securityContext.
    pub fn own(&self, field: &str) -> Option<&'a Value> {
        self.security().own(field)
    }

    /// A securityContext field as it applies: the container's, else the pod's.
    pub fn effective(&self, field: &str) -> Option<&'a Value> {
        self.security().effective(field)
    }

    /// A finding at `field` of the container.
    pub fn push(&mut self, field: &str, message: String) {
        let path = self.at.clone().join(&FieldPath::parse(field));
        self.out.push(
            Diagnostic::new(self.file, format!("[{}] {message}", self.rule))
                .rule(self.rule)
                .object(self.doc.object_ref())
                .with_path(path),
        );
    }
}

/// A finding about an object: `[ID] message`, at `Kind ns/name: field`.
pub fn finding(
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
    let mut out = Vec::new();
    for_each_check(|_, check| {
        if let Check::Text(scan) = check {
            out.extend(scan(file, text));
        }
    });
    for doc in docs {
        check_containers(file, doc, &mut out);
        let kind = doc.kind();
        for_each_check(|rule, check| {
            if let Check::Object(f) = check {
                if rule.kinds.contains(kind) {
                    f(file, doc, &mut out);
                }
            }
        });
    }
    for_each_check(|_, check| {
        if let Check::File(f) = check {
            f(file, docs, &mut out);
        }
    });
    out
}

fn for_each_check(mut f: impl FnMut(&Rule, &Check)) {
    for rule in RULES {
        for check in rule.checks {
            f(rule, check);
        }
    }
}

/// Every container rule on every container of an object's pod template.
fn check_containers(file: &str, doc: &Document, out: &mut Vec<Diagnostic>) {
    let Some(workload) = pod_template(doc.kind()) else {
        return;
    };
    let pod_pointer = format!("{}/spec", workload.template);
    let Some(pod) = doc.value.at(&pod_pointer) else {
        return;
    };
    let base = FieldPath::from_pointer(&pod_pointer);
    for (list, is_init) in [("containers", false), ("initContainers", true)] {
        let Some(containers) = pod.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, value) in containers.iter().enumerate() {
            for rule in RULES {
                for check in rule.checks {
                    if let Check::Container(f) = check {
                        f(&mut Container {
                            file,
                            doc,
                            rule: rule.id,
                            at: base.clone().key(list).index(i),
                            name: value.get("name").and_then(Value::as_str).unwrap_or("?"),
                            value,
                            pod_security: pod.get("securityContext"),
                            is_init,
                            long_running: workload.long_running,
                            out: &mut *out,
                        });
                    }
                }
            }
        }
    }
}

/// The rules about one rendered JSON file (dashboards, Terraform): no credentials, and the
/// rules on JSON values (the edge rulesets).
pub fn check_json_file(file: &str, text: &str, value: &Value) -> Vec<Diagnostic> {
    let mut out = scan_text(file, text);
    for_each_check(|_, check| {
        if let Check::Json(f) = check {
            out.extend(f(file, value));
        }
    });
    let mut secrets = Vec::new();
    secrets::walk_secret_fields(value, &mut secrets);
    for (field, message) in secrets {
        out.push(
            Diagnostic::new(file, format!("[PG-S003] {message}"))
                .rule("PG-S003")
                .with_path(field),
        );
    }
    out
}

/// An object of the tree and the file it is in.
#[derive(Debug)]
pub struct Located {
    pub file: String,
    pub doc: Document,
}

/// Kind names the tree rules apply to: a file that contains none of them (and no escape)
/// cannot hold an object they need.
fn tree_kinds() -> &'static BTreeSet<&'static str> {
    static KINDS: OnceLock<BTreeSet<&'static str>> = OnceLock::new();
    KINDS.get_or_init(|| {
        RULES
            .iter()
            .filter(|r| {
                r.checks
                    .iter()
                    .any(|c| matches!(c, Check::Tree(_) | Check::TreeIn(_)))
            })
            .flat_map(|r| r.kinds.names().expect("a tree rule names its kinds"))
            .collect()
    })
}

/// Whether [`check_tree`] looks at a file: a YAML file that names a kind its rules relate
/// (or holds an escape, which could spell one). Any other file can be left out of the tree
/// it is given.
pub fn needed_by_tree(path: &str, text: &str) -> bool {
    path.ends_with(".yaml")
        && (text.contains('\\') || tree_kinds().iter().any(|k| text.contains(k)))
}

/// Whether parsed documents hold an object of a kind [`check_tree`] relates (exact, where
/// [`needed_by_tree`] must guess from the text).
pub fn holds_kind_for_tree(docs: &[Document]) -> bool {
    docs.iter().any(|d| tree_kinds().contains(d.kind()))
}

/// Where the per-tenant files are. Every tenant's file is rendered from one template with
/// the tenant's own id, so the tree rules read one of them, the first by path, as the sample
/// of all (the flows between tenants, PG-C002): reading 100,000 files for it would cost
/// more than the rest of the render.
const TENANT_FILES: &str = "kubernetes/tenants/";

/// Whether the tree rules read the file at `path`, given the sample tenant file `sample`
/// (the first tenant file of the tree by path): any file but the other tenants'.
pub fn tree_reads(path: &str, sample: Option<&str>) -> bool {
    !path.starts_with(TENANT_FILES) || Some(path) == sample
}

/// The sample tenant file of a tree: its first tenant file by path.
pub fn tenant_sample<'a>(paths: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    paths.filter(|p| p.starts_with(TENANT_FILES)).min()
}

/// The objects the tree rules read of a tree's files: every YAML file that can hold a kind
/// they relate, and one tenant's file as the sample of all ([`tree_reads`]).
pub fn tree_objects(files: &BTreeMap<String, Vec<u8>>) -> Vec<Located> {
    let mut objects: Vec<Located> = Vec::new();
    let sample = tenant_sample(files.keys().map(String::as_str));
    for (path, bytes) in files {
        if !path.ends_with(".yaml") || !tree_reads(path, sample) {
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
    objects
}

/// What the tree rules know of an environment besides its objects.
#[derive(Debug, Clone)]
pub struct TreeContext<'a> {
    pub tier: Tier,
    /// Every path of the tree, and where the tree is in its repository (the texts given to
    /// [`check_tree_in`] may be only those the rules read).
    pub place: crate::validate::references::TreePlace<'a>,
    /// The prerequisites the environment declares (its secret store, `spec.external`).
    pub declared: Vec<crate::validate::references::Declared>,
    /// Whether every file of the tree passed its own checks. A file that failed is not in
    /// the tree, and the references into it would only repeat its findings: the reference
    /// rule waits for a complete tree.
    pub complete: bool,
}

/// The rules that relate objects of different files of one environment's tree: HPA vs VPA
/// (PG-A001), a PDB vs its workload's replicas (PG-D001), fault injection vs the tier
/// (PG-F001), the network flows (PG-C001, PG-C002), alert delivery and scraping (PG-O001…
/// PG-O004), the references (PG-R001, with no declared prerequisites: see
/// [`check_tree_in`]). `files` are the rendered files by path.
pub fn check_tree(files: &BTreeMap<String, Vec<u8>>, tier: Tier) -> Vec<Diagnostic> {
    let cx = TreeContext {
        tier,
        place: crate::validate::references::TreePlace {
            repo_url: None,
            folder: None,
            paths: files.keys().map(String::as_str).collect(),
        },
        declared: Vec::new(),
        complete: true,
    };
    check_tree_in(files, &cx)
}

/// [`check_tree`] knowing the environment (`cx`).
pub fn check_tree_in(files: &BTreeMap<String, Vec<u8>>, cx: &TreeContext) -> Vec<Diagnostic> {
    let objects = tree_objects(files);
    let mut out = Vec::new();
    for_each_check(|_, check| match check {
        Check::Tree(f) => f(&objects, cx.tier, &mut out),
        Check::TreeIn(f) => f(&objects, cx, &mut out),
        _ => {}
    });
    out
}
