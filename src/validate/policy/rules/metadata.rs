//! The M rule: every object says that portalgen manages it (DESIGN §4), so that anyone
//! looking at a cluster can tell rendered objects from hand-made ones.

use serde_json::Value;

use super::super::{finding, Check, Kinds, Rule};
use crate::diagnostic::Diagnostic;
use crate::model::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
use crate::validate::{At, Document};

pub const M001: Rule = Rule {
    id: "PG-M001",
    title: "every object carries the label app.kubernetes.io/managed-by: portalgen",
    rationale: "it tells rendered objects from hand-made ones in a cluster, and tools select portalgen's objects by it",
    kinds: Kinds::Any,
    checks: &[Check::Object(managed_by)],
};

fn managed_by(file: &str, doc: &Document, out: &mut Vec<Diagnostic>) {
    if doc.value.at_keys(&["metadata", "labels", MANAGED_BY_LABEL])
        != Some(&Value::from(MANAGED_BY_VALUE))
    {
        out.push(finding(
            file,
            doc,
            "metadata.labels",
            "PG-M001",
            "every object carries the label app.kubernetes.io/managed-by: portalgen".into(),
        ));
    }
}
