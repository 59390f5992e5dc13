//! Kubernetes objects: core kinds through the k8s-openapi types (which ignore unknown
//! fields on their own, so every ignored field is caught and reported), custom resources
//! through the JSON Schemas built from their upstream CRDs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use jsonschema::Validator;
use k8s_openapi::api;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Document;
use crate::assets;
use crate::diagnostic::Diagnostic;
use crate::spec::node::field_path;

/// Every problem of one object. `team` holds the schemas a team adds for kinds portalgen
/// does not know (see [`TeamSchemas`]).
pub fn check(file: &str, doc: &Document, team: &TeamSchemas) -> Vec<Diagnostic> {
    let problems = match check_typed(doc) {
        Some(problems) => problems,
        None => match crd_validator(doc.api_version(), doc.kind())
            .or_else(|| team.get(doc.api_version(), doc.kind()))
        {
            Some(validator) => {
                let mut problems = check_crd(validator, &doc.value);
                problems.extend(check_metadata(&doc.value));
                problems
            }
            None => vec![(
                String::new(),
                format!(
                    "no schema for apiVersion '{}' kind '{}': portalgen renders only kinds it can check",
                    doc.api_version(),
                    doc.kind()
                ),
            )],
        },
    };
    problems
        .into_iter()
        .map(|(path, message)| {
            let d = Diagnostic::new(file, message)
                .object(doc.object_ref())
                .with_path(path);
            if d.message.starts_with("no schema for") {
                d.with_hint(Some(format!(
                    "add its JSON Schema as schemas/extra/{} (docs/escape-hatch.md)",
                    TeamSchemas::file_name(doc.api_version(), doc.kind())
                )))
            } else {
                d
            }
        })
        .collect()
}

type Problems = Vec<(String, String)>;

/// The check of one object through its k8s-openapi type.
type TypedCheck = fn(&Value) -> Problems;

/// The core kinds checked through their k8s-openapi types, by apiVersion and kind.
const TYPED: &[(&str, &str, TypedCheck)] = &[
    ("v1", "Namespace", typed::<api::core::v1::Namespace>),
    (
        "v1",
        "ServiceAccount",
        typed::<api::core::v1::ServiceAccount>,
    ),
    ("v1", "ConfigMap", typed::<api::core::v1::ConfigMap>),
    ("v1", "Service", typed::<api::core::v1::Service>),
    ("v1", "ResourceQuota", typed::<api::core::v1::ResourceQuota>),
    ("v1", "LimitRange", typed::<api::core::v1::LimitRange>),
    ("v1", "Secret", typed::<api::core::v1::Secret>),
    (
        "v1",
        "PersistentVolumeClaim",
        typed::<api::core::v1::PersistentVolumeClaim>,
    ),
    ("apps/v1", "Deployment", typed::<api::apps::v1::Deployment>),
    (
        "apps/v1",
        "StatefulSet",
        typed::<api::apps::v1::StatefulSet>,
    ),
    ("apps/v1", "DaemonSet", typed::<api::apps::v1::DaemonSet>),
    ("batch/v1", "Job", typed::<api::batch::v1::Job>),
    ("batch/v1", "CronJob", typed::<api::batch::v1::CronJob>),
    (
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        typed::<api::autoscaling::v2::HorizontalPodAutoscaler>,
    ),
    (
        "policy/v1",
        "PodDisruptionBudget",
        typed::<api::policy::v1::PodDisruptionBudget>,
    ),
    (
        "networking.k8s.io/v1",
        "NetworkPolicy",
        typed::<api::networking::v1::NetworkPolicy>,
    ),
    (
        "networking.k8s.io/v1",
        "Ingress",
        typed::<api::networking::v1::Ingress>,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        typed::<api::rbac::v1::ClusterRole>,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        typed::<api::rbac::v1::RoleBinding>,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "Role",
        typed::<api::rbac::v1::Role>,
    ),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        typed::<api::rbac::v1::ClusterRoleBinding>,
    ),
    (
        "scheduling.k8s.io/v1",
        "PriorityClass",
        typed::<api::scheduling::v1::PriorityClass>,
    ),
];

/// Core kinds by apiVersion and kind; `None` for anything else.
fn check_typed(doc: &Document) -> Option<Problems> {
    let (api_version, kind) = (doc.api_version(), doc.kind());
    TYPED
        .iter()
        .find(|(a, k, _)| *a == api_version && *k == kind)
        .map(|(_, _, check)| check(&doc.value))
}

/// Whether portalgen checks `api_version` `kind` itself (any case of the kind).
fn is_known(api_version: &str, kind: &str) -> bool {
    TYPED
        .iter()
        .any(|(a, k, _)| *a == api_version && k.eq_ignore_ascii_case(kind))
        || crd_index()
            .keys()
            .any(|key| key.eq_ignore_ascii_case(&format!("{api_version}/{kind}")))
}

/// Every kind portalgen can check without a team's schema, sorted (`--kind`'s values, a
/// did-you-mean's candidates).
pub fn known_kinds() -> &'static [&'static str] {
    static KINDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    KINDS.get_or_init(|| {
        let crds = crd_index().keys().filter_map(|key| key.rsplit('/').next());
        let mut kinds: Vec<&'static str> = TYPED.iter().map(|(_, k, _)| *k).chain(crds).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    })
}

/// Deserializes into `T`, collecting type errors and the fields `T` does not know.
fn typed<T: DeserializeOwned>(value: &Value) -> Problems {
    let mut unknown = Vec::new();
    let mut record = |path: serde_ignored::Path<'_>| unknown.push(ignored_path(&path));
    let de = serde_ignored::Deserializer::new(value, &mut record);
    // Tracking the path costs a third of the check: only an object that fails pays for it.
    let mut problems: Problems = match T::deserialize(de) {
        Ok(_) => Vec::new(),
        Err(_) => match serde_path_to_error::deserialize::<_, T>(value) {
            Ok(_) => Vec::new(),
            Err(e) => vec![(e.path().to_string(), e.inner().to_string())],
        },
    };
    problems.extend(unknown.into_iter().map(|p| {
        (
            p.clone(),
            format!("unknown field '{}'", p.rsplit('.').next().unwrap_or(&p)),
        )
    }));
    problems
}

/// A field path as users read it (`spec.template.spec.containers[0].foo`), without the
/// `?` segments that serde_ignored writes for optional values.
fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    match path {
        Path::Root => String::new(),
        Path::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        Path::Map { parent, key } => {
            let p = ignored_path(parent);
            if p.is_empty() {
                key.clone()
            } else {
                format!("{p}.{key}")
            }
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => ignored_path(parent),
    }
}

fn check_metadata(value: &Value) -> Problems {
    match value.get("metadata") {
        Some(meta) => typed::<k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>(meta)
            .into_iter()
            .map(|(p, m)| (format!("metadata.{p}"), m))
            .collect(),
        None => vec![("metadata".into(), "missing metadata".into())],
    }
}

fn check_crd(validator: &Validator, value: &Value) -> Problems {
    validator
        .iter_errors(value)
        .map(|e| {
            let path = field_path(e.instance_path().as_str()).to_string();
            let message = match e.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    format!("unknown field(s): {}", unexpected.join(", "))
                }
                _ => e.to_string(),
            };
            (path, message)
        })
        .collect()
}

/// The embedded CRD schemas by `group/version/Kind`: their text, compiled on first use.
fn crd_index() -> &'static HashMap<String, (&'static str, OnceLock<Validator>)> {
    static REGISTRY: OnceLock<HashMap<String, (&'static str, OnceLock<Validator>)>> =
        OnceLock::new();
    REGISTRY.get_or_init(|| {
        let index: HashMap<String, String> = assets::schema("crds/index.json")
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_default();
        index
            .into_iter()
            .filter_map(|(key, file)| {
                let text = assets::schema(&format!("crds/{file}"))?;
                Some((key, (text, OnceLock::new())))
            })
            .collect()
    })
}

/// The compiled schema of a custom resource kind, compiled on first use.
fn crd_validator(api_version: &str, kind: &str) -> Option<&'static Validator> {
    let (text, cell) = crd_index().get(&format!("{api_version}/{kind}"))?;
    Some(cell.get_or_init(|| {
        let schema: Value = serde_json::from_str(text).expect("embedded CRD schema is JSON");
        jsonschema::draft202012::new(&schema).expect("embedded CRD schema compiles")
    }))
}

/// The JSON Schemas a team adds for kinds portalgen has no schema of (its extra templates'
/// custom resources): `<root>/schemas/extra/<group>_<version>_<kind>.json`, named like the
/// embedded `schemas/crds/` files (`example.com_v1_widget.json` checks `example.com/v1`
/// `Widget`; a core kind has no group: `v1_podtemplate.json`). A kind portalgen checks
/// itself cannot be given another schema.
#[derive(Default)]
pub struct TeamSchemas {
    /// By `apiVersion/kind` (the kind in lowercase).
    by_key: HashMap<String, Validator>,
}

impl std::fmt::Debug for TeamSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<&String> = self.by_key.keys().collect();
        keys.sort();
        f.debug_struct("TeamSchemas").field("kinds", &keys).finish()
    }
}

impl TeamSchemas {
    /// Compiles the schemas `files` (each: its file name under `schemas/extra/`, the path
    /// to name in diagnostics, its text).
    pub fn compile(files: &[(String, PathBuf, String)]) -> Result<TeamSchemas, Vec<Diagnostic>> {
        let mut by_key = HashMap::new();
        let mut problems = Vec::new();
        for (name, shown, text) in files {
            let whole = |message: String| {
                Diagnostic::new(shown, message)
                    .at(Some(crate::diagnostic::Position { line: 1, column: 1 }))
                    .whole_document()
            };
            let Some((api_version, kind)) = Self::parse_name(name) else {
                problems.push(whole(format!(
                    "'{}' is not named <group>_<version>_<kind>.json (e.g. example.com_v1_widget.json)",
                    crate::diagnostic::quote(name)
                )));
                continue;
            };
            if is_known(&api_version, &kind) {
                problems.push(whole(format!(
                    "portalgen checks {api_version} {kind} with its own schema; a team's schema cannot replace it (remove this file)"
                )));
                continue;
            }
            let compiled = serde_json::from_str::<Value>(text)
                .map_err(|e| format!("not JSON: {e}"))
                .and_then(|schema| {
                    jsonschema::draft202012::new(&schema)
                        .map_err(|e| format!("not a valid JSON Schema (draft 2020-12): {e}"))
                });
            match compiled {
                Ok(v) => {
                    by_key.insert(format!("{api_version}/{kind}"), v);
                }
                Err(e) => problems.push(whole(e)),
            }
        }
        if problems.is_empty() {
            Ok(TeamSchemas { by_key })
        } else {
            Err(problems)
        }
    }

    /// `example.com_v1_widget.json` → (`example.com/v1`, `widget`); `v1_x.json` → (`v1`, `x`).
    fn parse_name(name: &str) -> Option<(String, String)> {
        let stem = name.strip_suffix(".json")?;
        let (api, kind) = stem.rsplit_once('_')?;
        let api_version = match api.rsplit_once('_') {
            Some((group, version)) if !group.is_empty() => format!("{group}/{version}"),
            Some(_) => return None,
            None => api.to_owned(),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        };
        (valid(&api_version.replace('/', "")) && valid(kind) && !kind.contains('.'))
            .then(|| (api_version, kind.to_owned()))
    }

    /// The file name of the schema of `api_version` `kind`.
    pub fn file_name(api_version: &str, kind: &str) -> String {
        format!(
            "{}_{}.json",
            api_version.replace('/', "_"),
            kind.to_ascii_lowercase()
        )
    }

    fn get(&self, api_version: &str, kind: &str) -> Option<&Validator> {
        if self.by_key.is_empty() {
            return None;
        }
        self.by_key
            .get(&format!("{api_version}/{}", kind.to_ascii_lowercase()))
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The kinds these schemas check, in lowercase (their files name them so), sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self
            .by_key
            .keys()
            .filter_map(|k| k.rsplit('/').next().map(str::to_owned))
            .collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }
}
