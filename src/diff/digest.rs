//! Digests of a tree's documents: what a comparison needs to match objects and tell equal
//! from changed without holding them. Holding 120,000 parsed objects of two 10,000-tenant
//! trees costs a gigabyte; their digests cost a few megabytes, and only the few documents
//! whose diff is shown are parsed again.
//!
//! A document's digest is its identity (group, kind, namespace, name), its tenant, and two
//! 128-bit hashes of its parsed value: `exact`, equal exactly when the values are equal
//! (key order does not count, as for [`serde_json::Value`]'s own equality), and `generic`,
//! the same hash with the tenant's id replaced by a placeholder in every string, so that the
//! objects of many tenants that change alike are recognised without diffing each of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;
use xxhash_rust::xxh3::{xxh3_128, xxh3_128_with_seed};

use super::group::normalize;
use super::identity::{kubernetes_key, kubernetes_parts, tenant_of, CompactId};
use crate::output::Tree;
use crate::validate::{parse_yaml_documents, Parsed};

/// What one file of a tree is, for a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileDigest {
    /// A YAML file: its documents, in order (shared: the tree on disk of `diff ENV` has the
    /// fresh render's digest for every file whose bytes are the same).
    Documents(Arc<[DocDigest]>),
    /// A JSON file (one document).
    Json(u128),
    /// A file of any other type, compared as text (the hash of its bytes).
    Text(u128),
    /// A YAML or JSON file that does not parse (compared as text on both sides).
    Broken,
}

/// One document of a YAML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocDigest {
    /// Its identity, when it is a Kubernetes object, and that identity's hash.
    pub id: Option<CompactId>,
    pub key: u128,
    /// The tenant it belongs to, for per-tenant objects.
    pub tenant: Option<Box<str>>,
    /// Equal exactly when the parsed values are equal.
    pub exact: u128,
    /// Like `exact`, with the tenant id replaced by a placeholder in every string.
    pub generic: u128,
}

/// The digests of a tree's files, by path.
pub type Digests = BTreeMap<String, FileDigest>;

/// The digests of every file of a tree, parsing each (on every core).
pub fn digests(tree: &Tree) -> Digests {
    let digests: Vec<(String, FileDigest)> = tree
        .files
        .par_iter()
        .map(|(path, bytes)| (path.clone(), of_file(path, bytes)))
        .collect();
    digests.into_iter().collect()
}

/// The digest of a file that the checks parsed (see [`crate::pipeline::render`]),
/// parsing it only if they did not.
pub fn of_checked(path: &str, bytes: &[u8], parsed: &Parsed) -> FileDigest {
    match parsed {
        Parsed::Yaml(docs) if is_yaml(path) => of_documents(docs.iter().map(|d| &d.value)),
        Parsed::Json(value) if is_json(path) => of_json(value),
        _ => of_file(path, bytes),
    }
}

/// The digest of a file, parsing it.
pub fn of_file(path: &str, bytes: &[u8]) -> FileDigest {
    if !(is_yaml(path) || is_json(path)) {
        return FileDigest::Text(text_hash(bytes));
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return FileDigest::Broken;
    };
    if is_yaml(path) {
        match parse_yaml_documents(text) {
            Ok(docs) => of_documents(docs.iter().map(|d| &d.value)),
            Err(_) => FileDigest::Broken,
        }
    } else {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => of_json(&v),
            Err(_) => FileDigest::Broken,
        }
    }
}

/// The digest of a YAML file from its parsed documents (as validation parsed them).
pub fn of_documents<'a>(docs: impl IntoIterator<Item = &'a Value>) -> FileDigest {
    FileDigest::Documents(docs.into_iter().map(of_document).collect())
}

/// The digest of a JSON file from its parsed value.
pub fn of_json(value: &Value) -> FileDigest {
    FileDigest::Json(Hasher { tenant: None }.value(value).0)
}

fn of_document(value: &Value) -> DocDigest {
    let tenant = tenant_of(value);
    let (exact, generic) = Hasher {
        tenant: tenant.as_deref(),
    }
    .value(value);
    let parts = kubernetes_parts(value);
    let id = parts.map(CompactId::new);
    DocDigest {
        key: parts.map_or(0, kubernetes_key),
        id,
        tenant: tenant.map(String::into_boxed_str),
        exact,
        generic,
    }
}

/// The hash of an object's title with its tenant's id replaced by a placeholder: equal for
/// the same object of two tenants (`ResourceQuota portal-tenant-<tenant>/tenant-quota`).
pub fn generic_title(title: &str, tenant: Option<&str>) -> u128 {
    match tenant {
        Some(t) => xxh3_128(normalize(title, t).as_bytes()),
        None => xxh3_128(title.as_bytes()),
    }
}

pub fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

pub fn is_json(path: &str) -> bool {
    path.ends_with(".json")
}

/// The hash of a file's bytes, for files compared as text.
pub fn text_hash(bytes: &[u8]) -> u128 {
    xxh3_128_with_seed(bytes, TEXT)
}

// Seeds that keep values of different types apart.
const NULL: u64 = 1;
const FALSE: u64 = 2;
const TRUE: u64 = 3;
const UNSIGNED: u64 = 4;
const SIGNED: u64 = 5;
const FLOAT: u64 = 6;
const STRING: u64 = 7;
const ARRAY: u64 = 8;
const OBJECT: u64 = 9;
const KEY: u64 = 10;
const ENTRY: u64 = 11;
const TEXT: u64 = 12;

/// Hashes a value twice in one walk: exactly, and with `tenant` made generic.
struct Hasher<'a> {
    tenant: Option<&'a str>,
}

impl Hasher<'_> {
    fn value(&self, v: &Value) -> (u128, u128) {
        match v {
            Value::Null => same(xxh3_128_with_seed(&[], NULL)),
            Value::Bool(false) => same(xxh3_128_with_seed(&[], FALSE)),
            Value::Bool(true) => same(xxh3_128_with_seed(&[], TRUE)),
            Value::Number(n) => same(if let Some(u) = n.as_u64() {
                xxh3_128_with_seed(&u.to_le_bytes(), UNSIGNED)
            } else if let Some(i) = n.as_i64() {
                xxh3_128_with_seed(&i.to_le_bytes(), SIGNED)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                xxh3_128_with_seed(&f.to_bits().to_le_bytes(), FLOAT)
            }),
            Value::String(s) => self.string(s, STRING),
            Value::Array(items) => {
                // In order: fold each element's hash into the running one.
                let mut acc = same(xxh3_128_with_seed(
                    &(items.len() as u64).to_le_bytes(),
                    ARRAY,
                ));
                for item in items {
                    acc = pairs(acc, self.value(item), ARRAY);
                }
                acc
            }
            Value::Object(map) => {
                // In any order: a sum of the entries' hashes (keys are unique in a map).
                let (mut exact, mut generic) = (0u128, 0u128);
                for (k, v) in map {
                    let (e, g) = pairs(self.string(k, KEY), self.value(v), ENTRY);
                    exact = exact.wrapping_add(e);
                    generic = generic.wrapping_add(g);
                }
                let len = map.len() as u128;
                pairs((len, len), (exact, generic), OBJECT)
            }
        }
    }

    fn string(&self, s: &str, seed: u64) -> (u128, u128) {
        let exact = xxh3_128_with_seed(s.as_bytes(), seed);
        match self.tenant {
            Some(id) if !id.is_empty() && contains(s.as_bytes(), id.as_bytes()) => {
                (exact, xxh3_128_with_seed(normalize(s, id).as_bytes(), seed))
            }
            _ => (exact, exact),
        }
    }
}

/// Whether `needle` occurs in `hay` (short strings: cheaper than `str::contains`, which
/// prepares a searcher for every call).
pub(super) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    hay.len() >= needle.len()
        && (0..=hay.len() - needle.len())
            .any(|i| hay[i] == first && hay[i + 1..i + needle.len()] == *rest)
}

fn same(h: u128) -> (u128, u128) {
    (h, h)
}

/// [`pair`] of the exact hashes and of the generic ones; once when they are the same
/// (most values hold no tenant id).
fn pairs(a: (u128, u128), b: (u128, u128), seed: u64) -> (u128, u128) {
    let exact = pair(a.0, b.0, seed);
    if a.0 == a.1 && b.0 == b.1 {
        (exact, exact)
    } else {
        (exact, pair(a.1, b.1, seed))
    }
}

fn pair(a: u128, b: u128, seed: u64) -> u128 {
    let mut buf = [0u8; 40];
    buf[..16].copy_from_slice(&a.to_le_bytes());
    buf[16..32].copy_from_slice(&b.to_le_bytes());
    buf[32..].copy_from_slice(&seed.to_le_bytes());
    xxh3_128(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(yaml: &str) -> DocDigest {
        match of_file("f.yaml", yaml.as_bytes()) {
            FileDigest::Documents(d) => d[0].clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn equal_values_hash_equal_whatever_the_key_order_or_formatting() {
        let a = doc("kind: ConfigMap\napiVersion: v1\nmetadata: {name: c}\ndata: {a: '1', b: x}\n");
        let b = doc(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  b: x\n  a: \"1\"\n",
        );
        assert_eq!(a.exact, b.exact);
        assert_eq!(a.id, b.id);
    }

    #[test]
    fn different_values_and_types_hash_differently() {
        let base = doc("a: [1, 2]\n").exact;
        for other in [
            "a: [2, 1]\n",
            "a: [1, 2, 3]\n",
            "a: ['1', 2]\n",
            "a: [1.0, 2]\n",
            "a: {x: 1}\n",
            "b: [1, 2]\n",
            "a: [1, -2]\n",
            "a: [true, 2]\n",
            "a: [null, 2]\n",
        ] {
            assert_ne!(doc(other).exact, base, "{other}");
        }
        // Moving a value to another key is a change, though the multiset of parts is equal.
        assert_ne!(doc("a: x\nb: y\n").exact, doc("a: y\nb: x\n").exact);
    }

    #[test]
    fn the_generic_hash_is_equal_for_tenants_alike() {
        let t = |id: &str, plan: &str| {
            doc(&format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: portal-tenant-{id}\n  \
                 labels: {{portal.dev/tenant: {id}, portal.dev/plan: {plan}}}\n"
            ))
        };
        let (a, b, c) = (t("acme", "pro"), t("globex", "pro"), t("initech", "free"));
        assert_eq!(a.tenant.as_deref(), Some("acme"));
        assert_ne!(a.exact, b.exact);
        assert_eq!(a.generic, b.generic);
        assert_ne!(a.generic, c.generic);
    }

    #[test]
    fn files_that_do_not_parse_are_broken_and_others_are_text() {
        assert_eq!(of_file("a.yaml", b"a: [1\n"), FileDigest::Broken);
        assert_eq!(of_file("a.json", b"{"), FileDigest::Broken);
        assert_eq!(of_file("a.txt", b"x"), FileDigest::Text(text_hash(b"x")));
        assert!(matches!(
            of_file("a.json", b"{\"a\": 1}"),
            FileDigest::Json(_)
        ));
    }
}
