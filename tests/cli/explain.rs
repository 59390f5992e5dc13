//! `portalgen explain` (issue 17): where every rendered value came from.

use std::path::Path;

use portalgen::explain::{self, Index};
use portalgen::pipeline;
use portalgen::provenance::Origin;
use portalgen::render::Templates;
use portalgen::spec::Workspace;

use super::common::repo;

/// Every leaf of every object of every environment of the project at `root`, with the
/// leaves whose origin is unknown.
fn walk(root: &Path) -> (usize, Vec<String>) {
    let ws = Workspace::open(root).unwrap();
    let loaded = ws.load_all();
    let templates = Templates::load(Some(root), None).unwrap();
    let mut leaves = 0;
    let mut unknown = Vec::new();
    for name in ws.files.keys() {
        let model = pipeline::model_of(&loaded, name).unwrap();
        let index = Index::new(&model);
        let artifacts = pipeline::plan(&model, &templates);
        for e in explain::explain_all(&index, &templates, &artifacts).unwrap() {
            for l in &e.leaves {
                leaves += 1;
                if matches!(l.origin, Origin::Unknown { .. }) {
                    unknown.push(format!(
                        "{name} {} {} {} = {}: {}",
                        e.file,
                        e.object,
                        l.path.quoted(),
                        l.value,
                        l.origin
                    ));
                }
            }
        }
    }
    (leaves, unknown)
}

#[test]
fn every_leaf_of_every_shipped_tree_has_an_origin() {
    let mut roots = vec![repo()];
    for example in ["microservices", "plugin-portal"] {
        roots.push(repo().join("examples").join(example));
    }
    for root in roots {
        let (leaves, unknown) = walk(&root);
        assert!(leaves > 1000, "{}: only {leaves} leaves", root.display());
        assert!(
            unknown.is_empty(),
            "{}: {} of {leaves} leaves without an origin:\n{}",
            root.display(),
            unknown.len(),
            unknown.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}
