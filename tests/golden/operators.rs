//! The operators as Argo CD Applications (issue #13): every operator a rendered tree relies
//! on, read from what the tree renders, has its Application from the model's table at a
//! pinned version, in the earliest wave, admitted by the operators' project.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use portalgen::families::argocd::operators::{readme_table, OperatorChart, OPERATORS};

use super::common::{read_tree, repo, yaml_documents};

/// Every rendered tree: the shipped environments' and the examples'.
fn trees() -> Vec<PathBuf> {
    let mut roots = vec![repo().join("golden")];
    for e in std::fs::read_dir(repo().join("examples")).unwrap() {
        let p = e.unwrap().path().join("golden");
        if p.is_dir() {
            roots.push(p);
        }
    }
    let mut out = Vec::new();
    for root in roots {
        for e in std::fs::read_dir(root).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The API groups that custom resources have: those of `schemas/crds/index.json`.
fn custom_groups() -> BTreeSet<String> {
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(repo().join("schemas/crds/index.json")).unwrap())
            .unwrap();
    index
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.split('/').next().unwrap().to_owned())
        .collect()
}

/// Every YAML object of a tree, by file.
fn objects(tree: &Path) -> Vec<(String, serde_json::Value)> {
    read_tree(tree)
        .into_iter()
        .filter(|(f, _)| f.ends_with(".yaml"))
        .flat_map(|(f, bytes)| {
            let text = String::from_utf8(bytes).unwrap();
            yaml_documents(&text)
                .into_iter()
                .map(move |d| (f.clone(), d))
        })
        .collect()
}

/// What the tree relies on an operator for: each custom resource's (group, kind), and the
/// groups its objects name (a cert-manager annotation, an Istio ingress class). Argo CD's
/// own objects are the one prerequisite applied by hand.
fn relied_on(objects: &[(String, serde_json::Value)]) -> BTreeSet<(String, String)> {
    let custom = custom_groups();
    let mut out = BTreeSet::new();
    for (_, o) in objects {
        let api = o["apiVersion"].as_str().unwrap_or("");
        let kind = o["kind"].as_str().unwrap_or("").to_owned();
        let group = api.rsplit_once('/').map(|(g, _)| g).unwrap_or("");
        if custom.contains(group)
            && !(group == "argoproj.io" && matches!(kind.as_str(), "Application" | "AppProject"))
        {
            out.insert((group.to_owned(), kind.clone()));
        }
        if let Some(annotations) = o["metadata"]["annotations"].as_object() {
            for key in annotations.keys() {
                if let Some((prefix, _)) = key.split_once('/') {
                    if custom.contains(prefix) && prefix != "argoproj.io" {
                        out.insert((prefix.to_owned(), format!("annotation {key}")));
                    }
                }
            }
        }
        // A Service that asks external-dns for a record: a CloudNativePG managed Service's
        // template, or the ingress gateway chart's Service by a Helm parameter.
        if names_external_dns_host(o) {
            out.insert((
                "external-dns.alpha.kubernetes.io".into(),
                "annotation hostname".into(),
            ));
        }
        if kind == "Ingress" && o["spec"]["ingressClassName"] == "istio" {
            out.insert(("networking.istio.io".into(), "Ingress class istio".into()));
        }
    }
    out
}

/// Whether an object, anywhere in it, names an external-dns host: an `annotations` map
/// with the key, or a Helm parameter that sets it.
fn names_external_dns_host(v: &serde_json::Value) -> bool {
    const KEY: &str = "external-dns.alpha.kubernetes.io/hostname";
    match v {
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
            (k == "annotations" && v.get(KEY).is_some())
                || (k == "name"
                    && v.as_str()
                        .is_some_and(|n| n.replace('\\', "").ends_with(KEY)))
                || names_external_dns_host(v)
        }),
        serde_json::Value::Array(items) => items.iter().any(names_external_dns_host),
        _ => false,
    }
}

fn serves(o: &OperatorChart, group: &str, kind: &str) -> bool {
    o.serves
        .iter()
        .any(|s| *s == group || *s == format!("{group}/{kind}"))
}

fn wave(o: &serde_json::Value) -> i64 {
    o["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn is_pinned(version: &str) -> bool {
    let v = version.strip_prefix('v').unwrap_or(version);
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn every_operator_a_tree_relies_on_has_its_pinned_application_in_the_earliest_wave() {
    let trees = trees();
    assert!(trees.len() >= 9, "{trees:?}");
    for tree in trees {
        let name = tree.display().to_string();
        let objects = objects(&tree);
        let needs = relied_on(&objects);
        assert!(
            needs.iter().any(|(g, _)| g == "postgresql.cnpg.io"),
            "{name}"
        );

        let mut operators: Vec<(&OperatorChart, &serde_json::Value)> = Vec::new();
        let mut other_waves = Vec::new();
        let mut projects = BTreeMap::new();
        for (file, o) in &objects {
            match o["kind"].as_str() {
                Some("AppProject") => {
                    projects.insert(o["metadata"]["name"].as_str().unwrap().to_owned(), o);
                }
                Some("Application") if file.starts_with("argocd/applications/operators/") => {
                    let source = &o["spec"]["source"];
                    let row = OPERATORS
                        .iter()
                        .find(|r| r.repo_url == source["repoURL"] && r.chart == source["chart"])
                        .unwrap_or_else(|| panic!("{name}/{file}: a chart not in the table"));
                    assert_eq!(
                        file,
                        &format!("argocd/applications/operators/{}.yaml", row.name)
                    );
                    let revision = source["targetRevision"].as_str().unwrap();
                    assert_eq!(revision, row.version, "{name}/{file}");
                    assert!(
                        is_pinned(revision),
                        "{name}/{file}: {revision} is not pinned"
                    );
                    assert_eq!(o["spec"]["destination"]["namespace"], row.namespace);
                    let options = o["spec"]["syncPolicy"]["syncOptions"].to_string();
                    assert!(options.contains("ServerSideApply=true"), "{name}/{file}");
                    operators.push((row, o));
                }
                Some("Application") => other_waves.push((file.clone(), wave(o))),
                _ => {}
            }
        }
        for (group, kind) in &needs {
            assert!(
                operators.iter().any(|(row, _)| serves(row, group, kind)),
                "{name}: renders {group} {kind}, but no operator Application serves it \
                 (add its chart to OPERATORS in src/families/argocd/operators.rs)"
            );
        }
        for (row, _) in &operators {
            assert!(
                needs.iter().any(|(g, k)| serves(row, g, k)),
                "{name}: {} is installed, but the tree renders nothing it serves",
                row.name
            );
        }
        let earliest_other = other_waves.iter().map(|(_, w)| *w).min().unwrap();
        for (row, o) in &operators {
            assert!(
                wave(o) < earliest_other,
                "{name}: {} is not in an earlier wave than {other_waves:?}",
                row.name
            );
            // Its project admits it: repository, namespace, CRDs.
            let project = projects[o["spec"]["project"].as_str().unwrap()];
            let spec = &project["spec"];
            assert!(wave(project) < wave(o), "{name}: the project comes first");
            assert!(spec["sourceRepos"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == row.repo_url));
            assert!(spec["destinations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["namespace"] == row.namespace
                    && d["server"] == o["spec"]["destination"]["server"]));
            let kinds = spec["clusterResourceWhitelist"].to_string();
            for kind in [
                "CustomResourceDefinition",
                "ClusterRoleBinding",
                "ValidatingWebhookConfiguration",
            ] {
                assert!(
                    kinds.contains(kind),
                    "{name}: {} may not create a {kind}",
                    row.name
                );
            }
        }
        // Only the operators' project may create a CRD: not the platform's and tenants'.
        for (pname, project) in &projects {
            let kinds = project["spec"]["clusterResourceWhitelist"].to_string();
            if !pname.ends_with("-operators") {
                assert!(
                    !kinds.contains("CustomResourceDefinition"),
                    "{name}: {pname}"
                );
            }
        }
    }
}

#[test]
fn a_tree_without_a_velero_schedule_installs_no_velero() {
    let dev = repo().join("golden/dev");
    assert!(!dev
        .join("kubernetes/platform/data/velero-schedule.yaml")
        .exists());
    assert!(!dev
        .join("argocd/applications/operators/velero.yaml")
        .exists());
    let prod = repo().join("golden/prod-us");
    assert!(prod
        .join("argocd/applications/operators/velero.yaml")
        .is_file());
}

#[test]
fn the_readme_lists_the_operators_of_the_model() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let table = readme_table();
    assert!(
        readme.contains(&table),
        "README.md's \"Operators\" table differs from the model's; it should read:\n{table}"
    );
    for o in OPERATORS {
        assert!(table.contains(o.version) && table.contains(o.repo_url));
    }
}
