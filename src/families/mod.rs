//! The artifact families (DESIGN §4 "What is rendered", §5 "Output"): one folder each,
//! registered once in [`FAMILIES`].
//!
//! A family owns everything about its part of the tree: its section of the model (what is
//! decided for it), its plan (the files of an environment, each with its template and the
//! values it lays out), its own checks, and how Argo CD delivers it. Nothing else lists the
//! families: the plan, the checks of rendered files, and the Argo CD Applications,
//! destinations and cluster-scoped kinds are all derived from this one list, in the way
//! ripgrep's `flags/defs.rs` defines each flag once. `docs/architecture.md` has the
//! checklist for adding a family.

pub mod argocd;
pub mod cloudflare;
pub mod grafana;
pub mod kubernetes;
pub mod prometheus;
pub mod tracing;

use minijinja::Value;

use crate::diagnostic::Diagnostic;
use crate::model::Model;
use crate::validate::Document;
use argocd::model::{GroupKind, IgnoreDifference};

/// One artifact family.
pub struct Family {
    /// Its folder under `rendered/<env>/`, and its templates' folder under `templates/`.
    pub name: &'static str,
    /// Adds every file of the family to the plan, in a stable order. `m` is the model as
    /// every template sees it ([`model_value`]).
    pub plan: fn(model: &Model, m: &Value, out: &mut Vec<Artifact>),
    /// Checks one object of any rendered YAML file, for what this family knows how to check
    /// wherever it appears (PromQL in a PrometheusRule, a dashboard in a ConfigMap).
    pub check_object: Option<fn(file: &str, doc: &Document) -> Vec<Diagnostic>>,
    /// Checks one of this family's JSON files, once parsed.
    pub check_json: Option<fn(file: &str, value: &serde_json::Value) -> Vec<Diagnostic>>,
    /// What the family's JSON files are, for the message when one does not parse.
    pub json_is: &'static str,
    /// The folders of the family Argo CD syncs, and how (none: not applied to a cluster).
    pub syncs: fn(model: &Model) -> Vec<Sync>,
    /// The namespaces its objects go to: the AppProject's destinations.
    pub destinations: fn(model: &Model) -> Vec<Destination>,
    /// The cluster-scoped kinds it renders: the AppProject's whitelist.
    pub cluster_kinds: &'static [GroupKind],
}

/// Every family, in plan order. Adding a family: one folder, one line here.
pub const FAMILIES: &[Family] = &[
    kubernetes::FAMILY,
    prometheus::FAMILY,
    grafana::FAMILY,
    tracing::FAMILY,
    cloudflare::FAMILY,
    argocd::FAMILY,
];

/// One file to render.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Path inside `rendered/<env>/`, with `/` separators.
    pub path: String,
    /// Template name under `templates/`.
    pub template: &'static str,
    /// The values the template sees (for a [`Artifact::deferred`] file, what builds them:
    /// read them through [`Artifact::values`]).
    pub context: Value,
}

impl Artifact {
    /// A file whose values are built only when it is rendered. A plan of 100,000 tenants
    /// holds 100,000 files; built up front, their values would be most of a render's
    /// memory, and the streamed render (`pipeline::render_streamed`) holds only a batch of
    /// them at once.
    pub fn deferred(
        path: String,
        template: &'static str,
        values: impl Fn() -> Value + Send + std::marker::Sync + 'static,
    ) -> Artifact {
        Artifact {
            path,
            template,
            context: Value::from_object(Deferred(Box::new(values))),
        }
    }

    /// The values the template sees.
    pub fn values(&self) -> Value {
        match self.context.downcast_object_ref::<Deferred>() {
            Some(Deferred(values)) => values(),
            None => self.context.clone(),
        }
    }
}

/// What builds a deferred file's values (see [`Artifact::deferred`]).
struct Deferred(Box<dyn Fn() -> Value + Send + std::marker::Sync>);

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<values built when the file is rendered>")
    }
}

impl minijinja::value::Object for Deferred {}

/// One folder of the tree synced by an Argo CD Application. Folders that name the same
/// Application are synced by it together.
#[derive(Debug, Clone)]
pub struct Sync {
    /// The Application's name after `portal-<env>-` and its file under `argocd/applications/`.
    pub application: String,
    /// Sync wave of the Application object within the root Application.
    pub wave: &'static str,
    pub namespace: &'static str,
    /// The folder, relative to `rendered/<env>/`.
    pub path: String,
    /// Fields another controller owns.
    pub ignore_differences: Vec<IgnoreDifference>,
}

/// A namespace the environment's AppProject lets Applications deploy to. The variants are
/// in the order the project lists them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Destination {
    /// A namespace of the platform (`portal-system`, `monitoring`).
    Platform(&'static str),
    /// Every tenant namespace (a pattern).
    Tenants(&'static str),
    /// The namespace of an operator that reads its objects only there (`velero`).
    Operator(&'static str),
}

impl Destination {
    pub fn namespace(&self) -> &'static str {
        match self {
            Destination::Platform(ns) | Destination::Tenants(ns) | Destination::Operator(ns) => ns,
        }
    }
}

/// The values every template sees as `m`: the model, without its (long) tenant list.
pub fn model_value(model: &Model) -> Value {
    Value::from(minijinja::value::Serde(model))
}

/// Every file of the environment, in a stable order.
pub fn plan(model: &Model) -> Vec<Artifact> {
    let m = model_value(model);
    let mut out = Vec::new();
    for family in FAMILIES {
        (family.plan)(model, &m, &mut out);
    }
    out
}

/// The family whose folder holds the rendered file at `path`.
pub fn of_path(path: &str) -> Option<&'static Family> {
    let folder = path.split('/').next()?;
    FAMILIES.iter().find(|f| f.name == folder)
}

/// For a family that Argo CD does not sync.
pub fn no_syncs(_: &Model) -> Vec<Sync> {
    Vec::new()
}

/// For a family whose objects go nowhere in a cluster.
pub fn no_destinations(_: &Model) -> Vec<Destination> {
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_family_has_its_own_folder_and_templates() {
        let mut names: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FAMILIES.len(), "two families share a folder");
        for f in FAMILIES {
            assert!(
                crate::assets::TEMPLATES
                    .iter()
                    .any(|(name, _)| name.starts_with(&format!("{}/", f.name))),
                "no templates/{}/",
                f.name
            );
        }
    }
}
