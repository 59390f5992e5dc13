//! What identifies an object across two trees, read from a parsed document. Shared by the
//! digests (`digest`) and the objects of a diff (`objects`), so neither imports the other
//! for it.

use serde::Serialize;
use serde_json::Value;
use xxhash_rust::xxh3::xxh3_128;

use crate::model::names::tenant_of_namespace;
use crate::model::TENANT_LABEL;
use crate::validate::At;

/// What identifies an object across two trees.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ObjectId {
    /// A Kubernetes object (a YAML document with apiVersion, kind and metadata.name).
    Kubernetes {
        group: String,
        kind: String,
        namespace: String,
        name: String,
    },
    /// Any other file (JSON, Terraform JSON, text), or a document of a YAML file that is
    /// not a Kubernetes object (`document` is then its index in the file).
    File {
        path: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        document: Option<usize>,
    },
}

impl ObjectId {
    /// A 128-bit hash of the identity, to match objects by without comparing strings.
    pub fn key(&self) -> u128 {
        let mut buf = Vec::with_capacity(128);
        let mut part = |s: &[u8]| {
            buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
            buf.extend_from_slice(s);
        };
        match self {
            ObjectId::Kubernetes {
                group,
                kind,
                namespace,
                name,
            } => {
                part(b"k");
                for s in [group, kind, namespace, name] {
                    part(s.as_bytes());
                }
            }
            ObjectId::File { path, document } => {
                part(b"f");
                part(path.as_bytes());
                part(&document.map_or(u64::MAX, |d| d as u64).to_le_bytes());
            }
        }
        xxh3_128(&buf)
    }

    /// `Deployment portal-system/portal-app`, `Namespace monitoring`, or the file's path.
    pub fn title(&self) -> String {
        match self {
            ObjectId::Kubernetes {
                kind,
                namespace,
                name,
                ..
            } if namespace.is_empty() => format!("{kind} {name}"),
            ObjectId::Kubernetes {
                kind,
                namespace,
                name,
                ..
            } => format!("{kind} {namespace}/{name}"),
            ObjectId::File {
                path,
                document: None,
            } => path.clone(),
            ObjectId::File {
                path,
                document: Some(i),
            } => format!("{path} (document {})", i + 1),
        }
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.at(pointer).and_then(Value::as_str).unwrap_or_default()
}

pub fn kubernetes_id(v: &Value) -> Option<ObjectId> {
    let api_version = str_at(v, "/apiVersion");
    let kind = str_at(v, "/kind");
    let name = str_at(v, "/metadata/name");
    if api_version.is_empty() || kind.is_empty() || name.is_empty() {
        return None;
    }
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    Some(ObjectId::Kubernetes {
        group: group.to_owned(),
        kind: kind.to_owned(),
        namespace: str_at(v, "/metadata/namespace").to_owned(),
        name: name.to_owned(),
    })
}

/// The tenant of a per-tenant object: its `portal.dev/tenant` label, or the tenant
/// namespace it is in (or is).
pub fn tenant_of(v: &Value) -> Option<String> {
    let label = v
        .at_keys(&["metadata", "labels", TENANT_LABEL])
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !label.is_empty() {
        return Some(label.to_owned());
    }
    let ns = match (str_at(v, "/kind"), str_at(v, "/metadata/namespace")) {
        ("Namespace", _) => str_at(v, "/metadata/name"),
        (_, ns) => ns,
    };
    tenant_of_namespace(ns).map(str::to_owned)
}
