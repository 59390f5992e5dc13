//! A tree as objects: every Kubernetes object of every YAML file, keyed by group, kind,
//! namespace and name (so that an object that moves to another file is still matched);
//! every other document keyed by its path in the tree.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;
use serde_json::Value;

use super::digest::{text_hash, Digests, DocDigest, FileDigest};
pub use super::identity::{tenant_of, CompactId, ObjectId};
use crate::output::Tree;
use crate::validate::parse_yaml_documents;

/// What an object holds, once loaded for its diff.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// A parsed YAML or JSON document.
    Parsed(Value),
    /// A file that is not parsed (unknown type, or it does not parse on one side).
    Text(String),
}

/// Where a comparison reads a side's files from: a tree in memory, or (for a rendered
/// environment whose texts were not kept) a fresh render of the one file asked for.
pub trait Files: Sync {
    fn read(&self, path: &str) -> Option<Cow<'_, [u8]>>;
}

impl Files for Tree {
    fn read(&self, path: &str) -> Option<Cow<'_, [u8]>> {
        self.files.get(path).map(|b| Cow::Borrowed(b.as_slice()))
    }
}

/// Where an object's content is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Form {
    /// Document `index` of a YAML file.
    Document,
    /// A whole JSON file.
    Json,
    /// A whole file, as text.
    Text,
}

/// One object of a tree, as a comparison sees it: where it is and its digest (borrowed),
/// not its content (see [`super::digest`]). 48 bytes: a diff of two 100,000-tenant
/// environments matches 1.2 million of them (with the digest's fields copied in, and an
/// owned identity, they were 2.7 times that).
#[derive(Debug, Clone)]
pub struct Object<'a> {
    src: Src<'a>,
    /// The file it is in.
    pub path: &'a str,
    /// Its index among the documents of that file.
    pub index: usize,
    /// How many documents that file has.
    pub in_file: u32,
    pub form: Form,
}

/// What an object is identified and compared by.
#[derive(Debug, Clone)]
enum Src<'a> {
    /// A Kubernetes object: its digest, with its identity (`id` is `Some`).
    Doc(&'a DocDigest),
    /// An identity made for the comparison (a whole file, an object matched by its place, a
    /// name made generic).
    Made(Box<Made<'a>>),
}

#[derive(Debug, Clone)]
struct Made<'a> {
    id: ObjectId,
    key: u128,
    /// The document's digest; `None` for a whole file, whose hash is `whole`.
    doc: Option<&'a DocDigest>,
    whole: u128,
}

impl<'a> Object<'a> {
    /// The hash of its identity ([`ObjectId::key`]).
    pub fn key(&self) -> u128 {
        match &self.src {
            Src::Doc(d) => d.key,
            Src::Made(m) => m.key,
        }
    }

    fn doc(&self) -> Option<&'a DocDigest> {
        match &self.src {
            Src::Doc(d) => Some(d),
            Src::Made(m) => m.doc,
        }
    }

    /// Equal exactly when the contents are equal.
    pub fn exact(&self) -> u128 {
        match &self.src {
            Src::Doc(d) => d.exact,
            Src::Made(m) => m.doc.map_or(m.whole, |d| d.exact),
        }
    }

    /// Equal for objects of different tenants that are alike but for the tenant id.
    pub fn generic(&self) -> u128 {
        match &self.src {
            Src::Doc(d) => d.generic,
            Src::Made(m) => m.doc.map_or(m.whole, |d| d.generic),
        }
    }

    /// The tenant it belongs to, for per-tenant objects.
    pub fn tenant(&self) -> Option<&'a str> {
        self.doc().and_then(|d| d.tenant.as_deref())
    }

    pub fn object_id(&self) -> ObjectId {
        match &self.src {
            Src::Doc(d) => {
                d.id.as_ref()
                    .map_or_else(|| self.place_id(), CompactId::object_id)
            }
            Src::Made(m) => m.id.clone(),
        }
    }

    pub fn title(&self) -> String {
        match &self.src {
            Src::Doc(d) => {
                d.id.as_ref()
                    .map_or_else(|| self.place_id().title(), CompactId::title)
            }
            Src::Made(m) => m.id.title(),
        }
    }

    /// Its identity by its file and its place in it.
    fn place_id(&self) -> ObjectId {
        ObjectId::File {
            path: self.path.to_owned(),
            document: (self.in_file != 1).then_some(self.index),
        }
    }

    /// The name of a Kubernetes object.
    fn name(&self) -> Option<&str> {
        match &self.src {
            Src::Doc(d) => d.id.as_ref().map(CompactId::name),
            Src::Made(m) => match &m.id {
                ObjectId::Kubernetes { name, .. } => Some(name),
                ObjectId::File { .. } => None,
            },
        }
    }

    /// Gives the object another identity, keeping what it is compared by.
    fn identify_as(&mut self, id: ObjectId) {
        let (doc, whole) = (self.doc(), self.exact());
        self.src = Src::Made(Box::new(Made {
            key: id.key(),
            id,
            doc,
            whole,
        }));
    }

    /// Identifies the object by its file and its place in it (a document that is not a
    /// Kubernetes object, or the second of two objects of the same identity).
    pub fn identify_by_place(&mut self) {
        self.identify_as(self.place_id());
    }
}

/// The paths that are compared as text on both sides: a file that does not parse on one
/// side (so that a broken hand edit shows as a line diff of that file), and a YAML file of
/// Kubernetes objects on one side and of other documents on the other (a hand edit that
/// dropped `kind`), which would otherwise be compared as unrelated objects.
pub fn text_on_both_sides<'a>(old: &'a Digests, new: &'a Digests) -> BTreeSet<&'a str> {
    let all_objects = |docs: &[DocDigest]| docs.iter().all(|d| d.id.is_some());
    let mut paths: BTreeSet<&str> = old
        .iter()
        .chain(new.iter())
        .filter(|(_, d)| matches!(d, FileDigest::Broken))
        .map(|(p, _)| p.as_str())
        .collect();
    for (path, d) in old {
        if let (FileDigest::Documents(a), Some(FileDigest::Documents(b))) = (d, new.get(path)) {
            if all_objects(a) != all_objects(b) {
                paths.insert(path);
            }
        }
    }
    paths
}

/// The files that are the same on both sides, and need no objects: at the same path, with
/// equal digests, of Kubernetes objects only, none of whose identities is found anywhere
/// else on either side (so that none can match another object, or be matched by its place
/// as the second of two), and (comparing two environments) none named after either. Every
/// object in them is unchanged. At 100,000 tenants a `diff ENV` of an up-to-date tree is
/// 600,000 such objects: matching them one by one held 300 MB.
pub struct Settled<'a> {
    pub paths: HashSet<&'a str>,
    /// How many objects they hold.
    pub objects: usize,
    /// The tenants of those objects (on both sides, then).
    pub tenants: HashSet<&'a str>,
}

pub fn settled<'a>(
    old: &'a Digests,
    new: &'a Digests,
    as_text: &BTreeSet<&str>,
    envs: Option<(&str, &str)>,
) -> Settled<'a> {
    let named_after = |id: &CompactId| match envs {
        Some((a, b)) => [a, b]
            .iter()
            .any(|e| !e.is_empty() && super::digest::contains(id.name().as_bytes(), e.as_bytes())),
        None => false,
    };
    // The files that could be settled, before the costlier test of their keys.
    let candidates: Vec<(&str, &[DocDigest])> = old
        .par_iter()
        .filter_map(|(path, d)| {
            let (FileDigest::Documents(docs), Some(other)) = (d, new.get(path)) else {
                return None;
            };
            let candidate = d == other
                && !as_text.contains(path.as_str())
                && docs
                    .iter()
                    .all(|doc| doc.id.as_ref().is_some_and(|id| !named_after(id)));
            candidate.then_some((path.as_str(), &docs[..]))
        })
        .collect();
    // 64 bits of each key: two keys that share them only keep a file from being settled.
    let keys = |digests: &Digests| -> Vec<u64> {
        let mut keys: Vec<u64> = digests
            .values()
            .filter_map(|d| match d {
                FileDigest::Documents(docs) => Some(docs.iter().map(|d| d.key as u64)),
                _ => None,
            })
            .flatten()
            .collect();
        keys.par_sort_unstable();
        keys
    };
    let (keys_old, keys_new) = if candidates.is_empty() {
        Default::default()
    } else {
        rayon::join(|| keys(old), || keys(new))
    };
    let once = |keys: &[u64], k: u128| {
        let k = k as u64;
        keys.partition_point(|&x| x < k) + 1 == keys.partition_point(|&x| x <= k)
    };
    let found: Vec<(&str, &[DocDigest])> = candidates
        .into_par_iter()
        .filter(|(_, docs)| {
            docs.iter()
                .all(|doc| once(&keys_old, doc.key) && once(&keys_new, doc.key))
        })
        .collect();
    Settled {
        objects: found.iter().map(|(_, docs)| docs.len()).sum(),
        tenants: found
            .iter()
            .flat_map(|(_, docs)| docs.iter().filter_map(|d| d.tenant.as_deref()))
            .collect(),
        paths: found.into_iter().map(|(p, _)| p).collect(),
    }
}

/// The objects of a tree, in file order, keyed by identity: Kubernetes objects by group,
/// kind, namespace and name; every other document by its path. The same object twice in a
/// tree: the second is matched by its place in its file.
pub fn of_tree<'a>(
    tree: &dyn Files,
    digests: &'a Digests,
    as_text: &BTreeSet<&str>,
    settled: &HashSet<&str>,
) -> Vec<Object<'a>> {
    let unsettled = || {
        digests
            .iter()
            .filter(|(p, _)| !settled.contains(p.as_str()))
    };
    let objects = unsettled()
        .map(|(_, d)| match d {
            FileDigest::Documents(docs) => docs.len(),
            _ => 1,
        })
        .sum();
    let mut out = Vec::with_capacity(objects);
    for (path, digest) in unsettled() {
        let whole = |form, exact| {
            let id = ObjectId::File {
                path: path.clone(),
                document: None,
            };
            Object {
                src: Src::Made(Box::new(Made {
                    key: id.key(),
                    id,
                    doc: None,
                    whole: exact,
                })),
                path: path.as_str(),
                index: 0,
                in_file: 1,
                form,
            }
        };
        if as_text.contains(path.as_str()) {
            out.push(whole(
                Form::Text,
                text_hash(&tree.read(path).unwrap_or_default()),
            ));
            continue;
        }
        match digest {
            FileDigest::Json(h) => out.push(whole(Form::Json, *h)),
            FileDigest::Text(h) => out.push(whole(Form::Text, *h)),
            FileDigest::Broken => {
                out.push(whole(
                    Form::Text,
                    text_hash(&tree.read(path).unwrap_or_default()),
                ));
            }
            FileDigest::Documents(docs) => {
                for (index, d) in docs.iter().enumerate() {
                    let mut o = Object {
                        src: Src::Doc(d),
                        path: path.as_str(),
                        index,
                        in_file: u32::try_from(docs.len()).unwrap_or(u32::MAX),
                        form: Form::Document,
                    };
                    if d.id.is_none() {
                        o.identify_by_place();
                    }
                    out.push(o);
                }
            }
        }
    }
    out
}

/// Objects by [`ObjectId::key`], a hash already.
pub type Index = HashMap<u128, usize, BuildHasherDefault<KeyHasher>>;

/// Indexes objects by identity. The same object twice in a tree: the second is identified
/// by its place in its file.
pub fn index(objects: &mut [Object<'_>]) -> Index {
    let mut index = Index::with_capacity_and_hasher(objects.len(), Default::default());
    for i in 0..objects.len() {
        if let Some(&first) = index.get(&objects[i].key()) {
            // (Keys equal: rare, and then the strings decide.)
            if objects[first].object_id() == objects[i].object_id() {
                objects[i].identify_by_place();
            }
        }
        index.entry(objects[i].key()).or_insert(i);
    }
    index
}

/// Hashes a key that is a uniform 128-bit hash already by taking 64 of its bits.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        self.0 ^= n as u64;
    }
}

/// The contents of the objects of one file, by index (see [`Object::index`]).
pub fn load(tree: &dyn Files, path: &str, form: Form) -> Vec<Content> {
    let bytes = tree.read(path).unwrap_or_default();
    let text = || String::from_utf8_lossy(&bytes).into_owned();
    let parsed = std::str::from_utf8(&bytes).ok();
    match (form, parsed) {
        (Form::Document, Some(t)) => match parse_yaml_documents(t) {
            Ok(docs) => docs.into_iter().map(|d| Content::Parsed(d.value)).collect(),
            Err(_) => vec![Content::Text(text())],
        },
        (Form::Json, Some(t)) => match serde_json::from_str(t) {
            Ok(v) => vec![Content::Parsed(v)],
            Err(_) => vec![Content::Text(text())],
        },
        _ => vec![Content::Text(text())],
    }
}

#[cfg(test)]
mod tests {
    use super::super::digest::digests;
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Tree {
        Tree::from_texts(files)
    }

    /// An object's id, form, tenant and exact hash.
    type Seen = (ObjectId, Form, Option<String>, u128);

    /// What both trees' objects are.
    fn objects(a: &Tree, b: &Tree) -> [Vec<Seen>; 2] {
        let (da, db) = (digests(a), digests(b));
        let as_text = text_on_both_sides(&da, &db);
        [(a, &da), (b, &db)].map(|(t, d)| {
            let mut objs = of_tree(t, d, &as_text, &HashSet::new());
            index(&mut objs);
            objs.into_iter()
                .map(|o| {
                    (
                        o.object_id(),
                        o.form,
                        o.tenant().map(str::to_owned),
                        o.exact(),
                    )
                })
                .collect()
        })
    }

    #[test]
    fn an_object_is_small() {
        // 1.2 million of them are matched in a diff of two 100,000-tenant environments.
        assert!(std::mem::size_of::<Object>() <= 48);
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
        let [oa, ob] = objects(&a, &b);
        assert_eq!(oa.len(), 1);
        assert_eq!(oa[0].0, ob[0].0);
        assert_eq!(oa[0].0.title(), "Deployment ns/x");
        assert_eq!(oa[0].3, ob[0].3, "equal contents");
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
        let [oa, ob] = objects(&a, &b);
        let id = ObjectId::File {
            path: "a.yaml".into(),
            document: None,
        };
        assert_eq!((&oa[0].0, oa[0].1), (&id, Form::Text));
        assert_eq!((&ob[0].0, ob[0].1), (&id, Form::Text));
        assert_ne!(oa[0].3, ob[0].3);
        assert!(
            matches!(&load(&b, "a.yaml", Form::Text)[..], [Content::Text(t)] if t.ends_with("{name: x\n"))
        );
    }

    #[test]
    fn tenants_are_found_by_label_or_namespace() {
        let [o, _] = objects(
            &tree(&[(
                "t.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: portal-tenant-acme}\n---\n\
                 apiVersion: v1\nkind: LimitRange\nmetadata: {name: l, namespace: portal-tenant-acme}\n---\n\
                 apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x, labels: {portal.dev/tenant: b}}\n",
            )]),
            &Tree::default(),
        );
        let tenants: Vec<_> = o.iter().map(|o| o.2.as_deref()).collect();
        assert_eq!(tenants, [Some("acme"), Some("acme"), Some("b")]);
    }

    #[test]
    fn the_same_object_twice_is_matched_by_place_the_second_time() {
        let obj = "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n";
        let t = tree(&[("a.yaml", obj), ("b.yaml", obj)]);
        let [o, _] = objects(&t, &Tree::default());
        assert_eq!(o[0].0.title(), "Namespace x");
        assert_eq!(o[1].0.title(), "b.yaml");
    }
}

/// Re-keys the Kubernetes objects whose name holds the environment's name as a whole
/// dash-separated part, with `<env>` in its place.
pub fn generic_env_names(objects: &mut [Object<'_>], env: &str) {
    for o in objects {
        let Some(generic) = o.name().and_then(|name| generic_name(name, env)) else {
            continue;
        };
        let mut id = o.object_id();
        if let ObjectId::Kubernetes { name, .. } = &mut id {
            *name = generic;
        }
        o.identify_as(id);
    }
}

fn generic_name(name: &str, env: &str) -> Option<String> {
    if env.is_empty() || !super::digest::contains(name.as_bytes(), env.as_bytes()) {
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
