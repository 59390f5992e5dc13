//! The N rules: namespaces enforce the restricted Pod Security Standard, and no tenant
//! namespace exists without its default-deny NetworkPolicy.

use serde_json::Value;

use super::super::{finding, Check, Kinds, Rule};
use crate::diagnostic::Diagnostic;
use crate::model::names::tenant_of_namespace;
use crate::model::TENANT_LABEL;
use crate::validate::{At, Document};

pub const N001: Rule = Rule {
    id: "PG-N001",
    title: "namespaces enforce the 'restricted' Pod Security Standard",
    rationale:
        "the admission controller then refuses any pod that breaks the W rules, whoever creates it",
    kinds: Kinds::Only(&["Namespace"]),
    checks: &[Check::Object(restricted)],
};

pub const N002: Rule = Rule {
    id: "PG-N002",
    title: "every tenant namespace has a default-deny NetworkPolicy (all pods, Ingress and Egress) in the same file",
    rationale: "tenants must not reach each other; the file is the unit Argo CD applies, so the namespace never exists without it",
    kinds: Kinds::Only(&["Namespace", "NetworkPolicy"]),
    checks: &[Check::File(tenant_default_deny)],
};

fn restricted(file: &str, doc: &Document, out: &mut Vec<Diagnostic>) {
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

/// Whether a Namespace object is a tenant's.
fn is_tenant_namespace(doc: &Document) -> bool {
    doc.value
        .at_keys(&["metadata", "labels", TENANT_LABEL])
        .is_some()
        || tenant_of_namespace(doc.name()).is_some()
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

fn tenant_default_deny(file: &str, docs: &[Document], out: &mut Vec<Diagnostic>) {
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
