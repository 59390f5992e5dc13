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
        match self {
            ObjectId::Kubernetes {
                group,
                kind,
                namespace,
                name,
            } => kubernetes_key([group, kind, namespace, name].map(String::as_str)),
            ObjectId::File { path, document } => {
                let mut buf = Vec::with_capacity(128);
                part(&mut buf, b"f");
                part(&mut buf, path.as_bytes());
                part(
                    &mut buf,
                    &document.map_or(u64::MAX, |d| d as u64).to_le_bytes(),
                );
                xxh3_128(&buf)
            }
        }
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

/// A length-prefixed part of a key's bytes (so that no two splits of the same bytes meet).
fn part(buf: &mut Vec<u8>, s: &[u8]) {
    buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
    buf.extend_from_slice(s);
}

/// [`ObjectId::key`] of a Kubernetes object, from its group, kind, namespace and name.
pub fn kubernetes_key(parts: [&str; 4]) -> u128 {
    let mut buf = Vec::with_capacity(128);
    part(&mut buf, b"k");
    for s in parts {
        part(&mut buf, s.as_bytes());
    }
    xxh3_128(&buf)
}

/// A Kubernetes object's identity as a digest holds it: one allocation for the four
/// strings, a sixth of [`ObjectId`]'s size (the digests of 600,000 objects are held at
/// once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactId {
    /// Group, kind, namespace and name, one after the other.
    text: Box<str>,
    /// Where the first three end in `text`.
    ends: [u32; 3],
}

impl CompactId {
    pub fn new(parts: [&str; 4]) -> Self {
        let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut ends = [0u32; 3];
        for (i, p) in parts.iter().enumerate() {
            text.push_str(p);
            if i < 3 {
                // (Documents are far below 4 GiB: the spec and parse limits see to it.)
                ends[i] = u32::try_from(text.len()).unwrap_or(u32::MAX);
            }
        }
        CompactId {
            text: text.into_boxed_str(),
            ends,
        }
    }

    /// Group, kind, namespace, name.
    pub fn parts(&self) -> [&str; 4] {
        let [a, b, c] = self.ends.map(|e| e as usize);
        let t = &*self.text;
        [&t[..a], &t[a..b], &t[b..c], &t[c..]]
    }

    pub fn kind(&self) -> &str {
        self.parts()[1]
    }

    pub fn name(&self) -> &str {
        self.parts()[3]
    }

    pub fn object_id(&self) -> ObjectId {
        let [group, kind, namespace, name] = self.parts().map(str::to_owned);
        ObjectId::Kubernetes {
            group,
            kind,
            namespace,
            name,
        }
    }

    /// [`ObjectId::title`] without building the [`ObjectId`].
    pub fn title(&self) -> String {
        let [_, kind, namespace, name] = self.parts();
        if namespace.is_empty() {
            format!("{kind} {name}")
        } else {
            format!("{kind} {namespace}/{name}")
        }
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.at(pointer).and_then(Value::as_str).unwrap_or_default()
}

/// A Kubernetes object's group, kind, namespace and name, if the document is one (with
/// apiVersion, kind and metadata.name).
pub fn kubernetes_parts(v: &Value) -> Option<[&str; 4]> {
    let api_version = str_at(v, "/apiVersion");
    let kind = str_at(v, "/kind");
    let name = str_at(v, "/metadata/name");
    if api_version.is_empty() || kind.is_empty() || name.is_empty() {
        return None;
    }
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    Some([group, kind, str_at(v, "/metadata/namespace"), name])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compact_id_is_the_object_id_it_was_made_of() {
        for parts in [
            ["apps", "Deployment", "portal-system", "portal-app"],
            ["", "Namespace", "", "monitoring"],
            ["", "", "", ""],
            ["a", "", "bc", "é"],
        ] {
            let c = CompactId::new(parts);
            assert_eq!(c.parts(), parts);
            let id = c.object_id();
            assert_eq!(id.key(), kubernetes_key(parts));
            assert_eq!(c.title(), id.title());
        }
        // The parts are kept apart: moving a letter from one to the next is another id.
        assert_ne!(
            CompactId::new(["a", "bc", "", "x"]),
            CompactId::new(["ab", "c", "", "x"])
        );
        assert_ne!(
            kubernetes_key(["a", "bc", "", "x"]),
            kubernetes_key(["ab", "c", "", "x"])
        );
    }
}
