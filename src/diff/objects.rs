//! A tree as objects: every Kubernetes object of every YAML file, keyed by group, kind,
//! namespace and name (so that an object that moves to another file is still matched);
//! every other document keyed by its path in the tree.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::output::Tree;
use crate::validate::parse_yaml_documents;

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

/// What an object holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// A parsed YAML or JSON document.
    Parsed(Value),
    /// A file that is not parsed (unknown type, or it does not parse on one side).
    Text(String),
}

/// One object of a tree.
#[derive(Debug, Clone)]
pub struct Object {
    pub id: ObjectId,
    /// The file it is in.
    pub path: String,
    /// Its index among the documents of that file.
    pub index: usize,
    pub content: Content,
    /// The tenant it belongs to, for per-tenant objects.
    pub tenant: Option<String>,
}

/// How a file parses.
enum Parsed {
    Docs(Vec<Value>),
    /// A single JSON document.
    Json(Value),
    Text(String),
    Broken(String),
}

fn parse(path: &str, bytes: &[u8]) -> Parsed {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Parsed::Broken(String::from_utf8_lossy(bytes).into_owned());
    };
    if path.ends_with(".yaml") || path.ends_with(".yml") {
        match parse_yaml_documents(text) {
            Ok(docs) => Parsed::Docs(docs.into_iter().map(|d| d.value).collect()),
            Err(_) => Parsed::Broken(text.to_owned()),
        }
    } else if path.ends_with(".json") {
        match serde_json::from_str(text) {
            Ok(v) => Parsed::Json(v),
            Err(_) => Parsed::Broken(text.to_owned()),
        }
    } else {
        Parsed::Text(text.to_owned())
    }
}

/// The objects of two trees. A file that does not parse on one side is compared as text
/// on both sides, so that a broken hand edit shows as a line diff of that file.
pub fn of_trees(
    old: &Tree,
    new: &Tree,
) -> (BTreeMap<ObjectId, Object>, BTreeMap<ObjectId, Object>) {
    // Parsing is most of the work of a diff: both trees, every file, on every core.
    fn parse_all(tree: &Tree) -> BTreeMap<&str, Parsed> {
        let parsed: Vec<(&str, Parsed)> = tree
            .files
            .par_iter()
            .map(|(p, b)| (p.as_str(), parse(p, b)))
            .collect();
        parsed.into_iter().collect()
    }
    let (parsed_old, parsed_new) = rayon::join(|| parse_all(old), || parse_all(new));
    let mut broken: BTreeSet<&str> = parsed_old
        .iter()
        .chain(parsed_new.iter())
        .filter(|(_, p)| matches!(p, Parsed::Broken(_)))
        .map(|(path, _)| *path)
        .collect();
    // A YAML file of Kubernetes objects on one side and of other documents on the other
    // (a hand edit that dropped `kind`) is compared as text too, not as unrelated objects.
    for (path, p) in &parsed_old {
        if let (Parsed::Docs(a), Some(Parsed::Docs(b))) = (p, parsed_new.get(path)) {
            let all_objects = |docs: &[Value]| docs.iter().all(|d| kubernetes_id(d).is_some());
            if all_objects(a) != all_objects(b) {
                broken.insert(path);
            }
        }
    }
    (
        collect(old, parsed_old, &broken),
        collect(new, parsed_new, &broken),
    )
}

fn collect(
    tree: &Tree,
    parsed: BTreeMap<&str, Parsed>,
    broken: &BTreeSet<&str>,
) -> BTreeMap<ObjectId, Object> {
    let mut out = BTreeMap::new();
    for (path, p) in parsed {
        let whole = |content: Content| Object {
            id: ObjectId::File {
                path: path.to_owned(),
                document: None,
            },
            path: path.to_owned(),
            index: 0,
            content,
            tenant: None,
        };
        if broken.contains(path) {
            let text = String::from_utf8_lossy(&tree.files[path]).into_owned();
            let o = whole(Content::Text(text));
            out.insert(o.id.clone(), o);
            continue;
        }
        match p {
            Parsed::Json(v) => {
                let o = whole(Content::Parsed(v));
                out.insert(o.id.clone(), o);
            }
            Parsed::Text(t) | Parsed::Broken(t) => {
                let o = whole(Content::Text(t));
                out.insert(o.id.clone(), o);
            }
            Parsed::Docs(docs) => {
                let single = docs.len() == 1;
                for (index, value) in docs.into_iter().enumerate() {
                    let file_id = ObjectId::File {
                        path: path.to_owned(),
                        document: (!single).then_some(index),
                    };
                    let id = match kubernetes_id(&value) {
                        // The same object twice in a tree: the second is matched by place.
                        Some(id) if !out.contains_key(&id) => id,
                        _ => file_id,
                    };
                    let tenant = tenant_of(&value);
                    out.insert(
                        id.clone(),
                        Object {
                            id,
                            path: path.to_owned(),
                            index,
                            content: Content::Parsed(value),
                            tenant,
                        },
                    );
                }
            }
        }
    }
    out
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn kubernetes_id(v: &Value) -> Option<ObjectId> {
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

/// The namespace prefix of a tenant's namespace (DESIGN §4).
pub const TENANT_NAMESPACE_PREFIX: &str = "portal-tenant-";

/// The tenant of a per-tenant object: its `portal.dev/tenant` label, or the tenant
/// namespace it is in (or is).
fn tenant_of(v: &Value) -> Option<String> {
    let label = str_at(v, "/metadata/labels/portal.dev~1tenant");
    if !label.is_empty() {
        return Some(label.to_owned());
    }
    let ns = match (str_at(v, "/kind"), str_at(v, "/metadata/namespace")) {
        ("Namespace", _) => str_at(v, "/metadata/name"),
        (_, ns) => ns,
    };
    ns.strip_prefix(TENANT_NAMESPACE_PREFIX)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree::from_texts(files)
    }

    #[test]
    fn objects_are_keyed_by_identity_not_file() {
        let a = tree(&[(
            "a.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x, namespace: ns}\n",
        )]);
        let b = tree(&[(
            "b.yaml",
            "kind: Deployment\napiVersion: apps/v1\nmetadata: {namespace: ns, name: x}\n",
        )]);
        let (oa, ob) = of_trees(&a, &b);
        assert_eq!(oa.keys().collect::<Vec<_>>(), ob.keys().collect::<Vec<_>>());
        let id = oa.keys().next().unwrap();
        assert_eq!(id.title(), "Deployment ns/x");
        assert_eq!(oa[id].content, ob[id].content);
    }

    #[test]
    fn broken_files_are_text_on_both_sides() {
        let a = tree(&[(
            "a.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n",
        )]);
        let b = tree(&[(
            "a.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: x\n",
        )]);
        let (oa, ob) = of_trees(&a, &b);
        let id = ObjectId::File {
            path: "a.yaml".into(),
            document: None,
        };
        assert!(matches!(oa[&id].content, Content::Text(_)));
        assert!(matches!(ob[&id].content, Content::Text(_)));
    }

    #[test]
    fn tenants_are_found_by_label_or_namespace() {
        let (o, _) = of_trees(
            &tree(&[(
                "t.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: portal-tenant-acme}\n---\n\
                 apiVersion: v1\nkind: LimitRange\nmetadata: {name: l, namespace: portal-tenant-acme}\n---\n\
                 apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x, labels: {portal.dev/tenant: b}}\n",
            )]),
            &Tree::default(),
        );
        let tenants: Vec<_> = o.values().map(|o| o.tenant.clone()).collect();
        assert_eq!(
            tenants
                .iter()
                .filter(|t| t.as_deref() == Some("acme"))
                .count(),
            2
        );
        assert_eq!(
            tenants.iter().filter(|t| t.as_deref() == Some("b")).count(),
            1
        );
    }
}

/// Re-keys the Kubernetes objects whose name holds the environment's name as a whole
/// dash-separated part, with `<env>` in its place.
pub fn generic_env_names(
    objects: BTreeMap<ObjectId, Object>,
    env: &str,
) -> BTreeMap<ObjectId, Object> {
    objects
        .into_values()
        .map(|mut o| {
            if let ObjectId::Kubernetes { name, .. } = &mut o.id {
                if let Some(generic) = generic_name(name, env) {
                    *name = generic;
                }
            }
            (o.id.clone(), o)
        })
        .collect()
}

fn generic_name(name: &str, env: &str) -> Option<String> {
    if env.is_empty() {
        return None;
    }
    let mut from = 0;
    while let Some(i) = name[from..].find(env).map(|i| i + from) {
        let end = i + env.len();
        let starts = i == 0 || name.as_bytes()[i - 1] == b'-';
        let ends = end == name.len() || name.as_bytes()[end] == b'-';
        if starts && ends {
            return Some(format!("{}<env>{}", &name[..i], &name[end..]));
        }
        from = i + 1;
    }
    None
}

#[cfg(test)]
mod generic_tests {
    use super::generic_name;

    #[test]
    fn only_whole_name_parts_are_generic() {
        assert_eq!(
            generic_name("portal-prod-us-platform", "prod-us").as_deref(),
            Some("portal-<env>-platform")
        );
        assert_eq!(
            generic_name("portal-staging", "staging").as_deref(),
            Some("portal-<env>")
        );
        assert_eq!(generic_name("portal-prod-usx", "prod-us"), None);
        assert_eq!(generic_name("devices", "dev"), None);
    }
}
