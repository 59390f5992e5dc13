//! The S rules: no Secret objects, no text shaped like a credential, no literal value in
//! a secret-named field. The scanning itself is `policy::secrets`.

use super::super::secrets::{scan_text, walk_secret_fields};
use super::super::{finding, Check, Kinds, Rule};
use crate::diagnostic::Diagnostic;
use crate::validate::Document;

pub const S001: Rule = Rule {
    id: "PG-S001",
    title: "no Secret objects",
    rationale: "secret values never live in git; they come from the cluster's secret store and are referenced by name",
    kinds: Kinds::Only(&["Secret"]),
    checks: &[Check::Object(no_secret_objects)],
};

pub const S002: Rule = Rule {
    id: "PG-S002",
    title: "no text shaped like a credential (private keys, cloud/API tokens, JWTs, Slack webhooks, passwords in URLs)",
    rationale: "a credential committed to the GitOps repository is leaked to everyone who can read it, forever",
    kinds: Kinds::Any,
    checks: &[Check::Text(scan_text)],
};

pub const S003: Rule = Rule {
    id: "PG-S003",
    title: "no literal value in a secret-named field (password, token, secret, apiKey, … or such an env var)",
    rationale: "secret-named fields must reference a secret (secretKeyRef, ${var}), never hold the value",
    kinds: Kinds::Any,
    checks: &[Check::Object(no_literal_secrets)],
};

fn no_secret_objects(file: &str, doc: &Document, out: &mut Vec<Diagnostic>) {
    if doc.api_version() == "v1" {
        out.push(finding(
            file,
            doc,
            "",
            "PG-S001",
            format!(
                "Secret {} is rendered; secret values never go into the tree (reference them by name)",
                doc.name()
            ),
        ));
    }
}

fn no_literal_secrets(file: &str, doc: &Document, out: &mut Vec<Diagnostic>) {
    let mut secrets = Vec::new();
    walk_secret_fields(&doc.value, &mut secrets);
    for (field, message) in secrets {
        if !names_a_key(doc.kind(), &field) {
            out.push(finding(file, doc, &field, "PG-S003", message));
        }
    }
}

/// Whether a secret-named field of this kind names a key rather than holds a value: an
/// ExternalSecret's `spec.data[i].secretKey` is the key the operator writes into the target
/// Secret (the value comes from the store), and a PushSecret's `spec.data[i].match.secretKey`
/// the key of the source Secret it pushes. Credential-shaped text is still caught (PG-S002).
fn names_a_key(kind: &str, field: &str) -> bool {
    let suffix = match kind {
        "ExternalSecret" => "].secretKey",
        "PushSecret" => "].match.secretKey",
        _ => return false,
    };
    field
        .strip_prefix("spec.data[")
        .and_then(|rest| rest.strip_suffix(suffix))
        .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
}
