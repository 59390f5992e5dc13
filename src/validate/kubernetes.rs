//! Kubernetes objects: core kinds through the k8s-openapi types (which ignore unknown
//! fields on their own, so every ignored field is caught and reported), custom resources
//! through the JSON Schemas built from their upstream CRDs.

use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::Validator;
use k8s_openapi::api;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Document;
use crate::assets;
use crate::diagnostic::Diagnostic;
use crate::spec::node::field_path;

/// Every problem of one object.
pub fn check(file: &str, doc: &Document) -> Vec<Diagnostic> {
    let problems = match check_typed(doc) {
        Some(problems) => problems,
        None => match crd_validator(doc.api_version(), doc.kind()) {
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
            Diagnostic::new(file, message)
                .object(doc.object_ref())
                .with_path(path)
        })
        .collect()
}

type Problems = Vec<(String, String)>;

/// Core kinds by apiVersion and kind; `None` for anything else.
fn check_typed(doc: &Document) -> Option<Problems> {
    Some(match (doc.api_version(), doc.kind()) {
        ("v1", "Namespace") => typed::<api::core::v1::Namespace>(&doc.value),
        ("v1", "ServiceAccount") => typed::<api::core::v1::ServiceAccount>(&doc.value),
        ("v1", "ConfigMap") => typed::<api::core::v1::ConfigMap>(&doc.value),
        ("v1", "Service") => typed::<api::core::v1::Service>(&doc.value),
        ("v1", "ResourceQuota") => typed::<api::core::v1::ResourceQuota>(&doc.value),
        ("v1", "LimitRange") => typed::<api::core::v1::LimitRange>(&doc.value),
        ("v1", "Secret") => typed::<api::core::v1::Secret>(&doc.value),
        ("apps/v1", "Deployment") => typed::<api::apps::v1::Deployment>(&doc.value),
        ("autoscaling/v2", "HorizontalPodAutoscaler") => {
            typed::<api::autoscaling::v2::HorizontalPodAutoscaler>(&doc.value)
        }
        ("policy/v1", "PodDisruptionBudget") => {
            typed::<api::policy::v1::PodDisruptionBudget>(&doc.value)
        }
        ("networking.k8s.io/v1", "NetworkPolicy") => {
            typed::<api::networking::v1::NetworkPolicy>(&doc.value)
        }
        ("networking.k8s.io/v1", "Ingress") => typed::<api::networking::v1::Ingress>(&doc.value),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => {
            typed::<api::rbac::v1::ClusterRole>(&doc.value)
        }
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => {
            typed::<api::rbac::v1::RoleBinding>(&doc.value)
        }
        ("rbac.authorization.k8s.io/v1", "Role") => typed::<api::rbac::v1::Role>(&doc.value),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            typed::<api::rbac::v1::ClusterRoleBinding>(&doc.value)
        }
        _ => return None,
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
            let path = field_path(e.instance_path().as_str());
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

/// The compiled schema of a custom resource kind, compiled on first use.
fn crd_validator(api_version: &str, kind: &str) -> Option<&'static Validator> {
    static REGISTRY: OnceLock<HashMap<String, (&'static str, OnceLock<Validator>)>> =
        OnceLock::new();
    let registry = REGISTRY.get_or_init(|| {
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
    });
    let (text, cell) = registry.get(&format!("{api_version}/{kind}"))?;
    Some(cell.get_or_init(|| {
        let schema: Value = serde_json::from_str(text).expect("embedded CRD schema is JSON");
        jsonschema::draft202012::new(&schema).expect("embedded CRD schema compiles")
    }))
}
