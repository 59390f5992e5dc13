//! Patches (issue 12, "an escape hatch that keeps the guarantees"): RFC 6902 JSON patches
//! and RFC 7386 merge patches that a spec's `patches:` list applies to rendered objects,
//! found by kind, namespace and name.
//!
//! They run between render and validate ([`crate::pipeline`]): each rendered YAML file that
//! holds a targeted object is parsed, the patches are applied in list order, and the file is
//! written again as YAML ([`crate::render::block`]); every other file keeps its exact
//! bytes. The checks then see the patched text, so a patch cannot add an unknown field, a
//! secret or a privileged container that a template could not. A patch keeps its origin
//! (file, JSON pointer, positions) so that a target that is not rendered or a path that
//! does not exist is reported at the patch's own line and column.
//!
//! The model carries the patches ([`crate::model::Model::patches`]) as they were resolved
//! from the environment spec (and any other source of patches, appended in order).

mod apply;
pub mod ops;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::diagnostic::{Diagnostic, FieldPath, ObjectRef, Position};
use crate::spec::Environment;
use crate::validate::Document;
pub use apply::{apply_file, explain, unmatched, Applied};
pub use ops::Operation;

/// One entry of `spec.patches`, as the schema (`$defs/patch`) admits it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchSpec {
    pub target: Target,
    pub json_patch: Option<Vec<Operation>>,
    pub merge_patch: Option<Value>,
}

/// The rendered object a patch changes.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Target {
    pub kind: String,
    pub name: String,
    /// Absent: any namespace (and cluster-scoped objects), as long as one object matches.
    pub namespace: Option<String>,
    /// The exact apiVersion (`apps/v1`).
    pub api_version: Option<String>,
    /// The API group (`apps`; `""` for the core group), whatever the version.
    pub group: Option<String>,
}

impl Target {
    /// Whether the rendered object `doc` is this target.
    pub fn matches(&self, doc: &Document) -> bool {
        doc.kind() == self.kind
            && doc.name() == self.name
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| doc.namespace() == ns)
            && self
                .api_version
                .as_deref()
                .is_none_or(|v| doc.api_version() == v)
            && self
                .group
                .as_deref()
                .is_none_or(|g| group_of(doc.api_version()) == g)
    }

    /// `Deployment portal-system/portal-app`, as messages name the target.
    pub fn describe(&self) -> String {
        ObjectRef {
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
        .describe()
    }
}

/// The API group of an apiVersion (`apps/v1` → `apps`, `v1` → ``).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// What a patch does.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// RFC 6902 operations, applied in order.
    Json(Vec<Operation>),
    /// An RFC 7386 merge patch.
    Merge(Value),
}

/// Where a patch is written: its file, its JSON pointer there, and the positions of its
/// fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub file: PathBuf,
    /// `/spec/patches/0`.
    pub pointer: String,
    pub position: Option<Position>,
    /// Positions by pointer relative to the patch (`/target/name`, `/jsonPatch/2/path`).
    fields: BTreeMap<String, Position>,
}

impl Origin {
    /// A diagnostic at the field `field` of the patch (a pointer relative to it; the patch
    /// itself when that field is not written).
    pub fn diagnostic(&self, field: &str, message: impl Into<String>) -> Diagnostic {
        let position = self.fields.get(field).copied().or(self.position);
        Diagnostic::new(&self.file, message)
            .at(position)
            .with_path(FieldPath::from_pointer(&format!("{}{field}", self.pointer)))
    }

    /// `spec.patches[0]`.
    pub fn label(&self) -> String {
        FieldPath::from_pointer(&self.pointer).to_string()
    }
}

/// One patch, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    pub target: Target,
    pub change: Change,
    pub origin: Origin,
}

impl Patch {
    /// The patch `spec` written at `pointer` of `file`; `locate` gives the position of a
    /// pointer of that file when it is written there.
    pub fn new(
        spec: &PatchSpec,
        file: &Path,
        pointer: &str,
        locate: impl Fn(&str) -> Option<Position>,
    ) -> Patch {
        let mut fields: Vec<String> = ["", "/target", "/mergePatch", "/jsonPatch"]
            .into_iter()
            .map(str::to_owned)
            .chain(
                ["kind", "name", "namespace", "apiVersion", "group"]
                    .iter()
                    .map(|f| format!("/target/{f}")),
            )
            .collect();
        for j in 0..spec.json_patch.as_ref().map_or(0, Vec::len) {
            for f in ["", "/op", "/path", "/from", "/value"] {
                fields.push(format!("/jsonPatch/{j}{f}"));
            }
        }
        let fields: BTreeMap<String, Position> = fields
            .into_iter()
            .filter_map(|f| locate(&format!("{pointer}{f}")).map(|p| (f, p)))
            .collect();
        let change = match (&spec.json_patch, &spec.merge_patch) {
            (Some(ops), _) => Change::Json(ops.clone()),
            (None, Some(merge)) => Change::Merge(merge.clone()),
            // The schema requires exactly one of the two.
            (None, None) => Change::Json(Vec::new()),
        };
        Patch {
            target: spec.target.clone(),
            change,
            origin: Origin {
                file: file.to_path_buf(),
                pointer: pointer.to_owned(),
                position: fields.get("").copied(),
                fields,
            },
        }
    }

    /// Applies the patch to one object.
    fn apply(&self, value: &mut Value, object: &ObjectRef) -> Result<(), Diagnostic> {
        match &self.change {
            Change::Merge(merge) => {
                ops::merge(value, merge);
                Ok(())
            }
            Change::Json(list) => {
                for (j, op) in list.iter().enumerate() {
                    ops::apply(value, op).map_err(|f| {
                        self.origin
                            .diagnostic(
                                &format!("/jsonPatch/{j}/{}", f.field),
                                format!(
                                    "patch operation {j} ({}) on {}: {}",
                                    op.name(),
                                    object.describe(),
                                    f.message
                                ),
                            )
                            .with_hint(f.hint)
                    })?;
                }
                Ok(())
            }
        }
    }
}

/// The patches of the system file, in list order (none for the built-in system).
pub fn of_system(system: &crate::spec::system::System) -> Vec<Patch> {
    let Some(file) = system.file.as_deref() else {
        return Vec::new();
    };
    system
        .patches
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            Patch::new(spec, file, &format!("/spec/patches/{i}"), |p| {
                system.written_at(p)
            })
        })
        .collect()
}

/// The patches of an environment spec, in order.
pub fn of_environment(env: &Environment) -> Vec<Patch> {
    env.spec
        .patches
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            Patch::new(spec, &env.file, &format!("/spec/patches/{i}"), |p| {
                env.written_at(p).map(|(value, _)| value)
            })
        })
        .collect()
}
