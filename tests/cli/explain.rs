//! `portalgen explain` (issue 17): where every rendered value came from.

use std::path::Path;

use portalgen::explain::{self, Index};
use portalgen::pipeline;
use portalgen::provenance::Origin;
use portalgen::render::Templates;
use portalgen::spec::Workspace;

use super::common::{
    case, check_cases, json, minimal_spec, portalgen, repo, stderr_of, stdout_of, Scratch,
};

/// Every leaf of every object of every environment of the project at `root`: how many of
/// each origin kind, and the leaves whose origin is unknown.
fn walk(root: &Path) -> (std::collections::BTreeMap<&'static str, usize>, Vec<String>) {
    let ws = Workspace::open(root).unwrap();
    let loaded = ws.load_all();
    let templates = Templates::load(Some(root), None).unwrap();
    let mut kinds = std::collections::BTreeMap::new();
    let mut unknown = Vec::new();
    for name in ws.files.keys() {
        let model = pipeline::model_of(&loaded, name).unwrap();
        let index = Index::new(&model);
        let artifacts = pipeline::plan(&model, &templates);
        for e in explain::explain_all(&index, &templates, &artifacts).unwrap() {
            for l in &e.leaves {
                *kinds.entry(l.origin.kind()).or_insert(0) += 1;
                if matches!(&l.origin, Origin::Derived { from, .. } if from.is_empty()) {
                    *kinds.entry("derived without a source").or_insert(0) += 1;
                }
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
    (kinds, unknown)
}

#[test]
fn every_leaf_of_every_shipped_tree_has_an_origin() {
    let mut roots = vec![repo()];
    for example in ["microservices", "plugin-portal"] {
        roots.push(repo().join("examples").join(example));
    }
    for (i, root) in roots.into_iter().enumerate() {
        let (kinds, unknown) = walk(&root);
        let leaves: usize = kinds
            .iter()
            .filter(|(k, _)| **k != "derived without a source")
            .map(|(_, n)| n)
            .sum();
        eprintln!("{}: {leaves} leaves, {kinds:?}", root.display());
        assert!(leaves > 1000, "{}: only {leaves} leaves", root.display());
        // The origins the project has are all found: the shipped environments override and
        // use tier defaults, the examples have a system file.
        let mut expected = vec![
            "spec",
            "tier-default",
            "derived",
            "constant",
            "template",
            "code",
        ];
        if i > 0 {
            expected.push("system-file");
        }
        for kind in expected {
            assert!(
                kinds.get(kind).is_some_and(|n| *n > 0),
                "{}: no {kind} origin: {kinds:?}",
                root.display()
            );
        }
        assert!(
            unknown.is_empty(),
            "{}: {} of {leaves} leaves without an origin:\n{}",
            root.display(),
            unknown.len(),
            unknown
                .iter()
                .take(40)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// `explain --format json` in the project at `root`: the records of the leaves.
fn records(root: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = portalgen()
        .arg("--root")
        .arg(root)
        .arg("explain")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let report = json(&out.stdout);
    assert_eq!(report["version"], 1);
    let schema = json(
        std::fs::read_to_string(repo().join("schemas/reports/explain.v1.schema.json")).unwrap(),
    );
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    report["leaves"].as_array().unwrap().clone()
}

/// The one record of `path` in `explain ENV OBJECT PATH`.
fn one(root: &Path, env: &str, object: &str, path: &str) -> serde_json::Value {
    let mut r = records(root, &[env, object, path]);
    assert_eq!(r.len(), 1, "{r:#?}");
    let r = r.remove(0);
    assert_eq!(r["path"], path);
    r
}

/// The line `line` (1-based) of the file `file` of `root`.
fn line_of(root: &Path, file: &serde_json::Value, line: &serde_json::Value) -> String {
    let text = std::fs::read_to_string(root.join(file.as_str().unwrap())).unwrap();
    let n = line.as_u64().unwrap() as usize;
    text.lines().nth(n - 1).unwrap().to_owned()
}

#[test]
fn an_override_is_explained_by_its_line_in_the_spec() {
    let r = one(
        &repo(),
        "prod-us",
        "Rollout/portal-system/portal-app",
        "spec.replicas",
    );
    assert_eq!(r["origin"], "spec");
    assert_eq!(r["file"], "environments/prod-us.yaml");
    assert_eq!(r["model"], "m.services[0].replicas");
    let line = line_of(&repo(), &r["file"], &r["line"]);
    let col = r["column"].as_u64().unwrap() as usize;
    assert!(line.contains("replicas:"), "{line}");
    assert_eq!(
        &line[col - 1..],
        r["value"].to_string(),
        "the column points at the value"
    );
    assert!(
        r["note"]
            .as_str()
            .unwrap()
            .ends_with("spec.overrides.replicas"),
        "{r}"
    );
}

#[test]
fn a_tier_default_names_the_tier_and_the_default() {
    let r = one(
        &repo(),
        "staging",
        "Rollout/portal-app",
        "spec.template.spec.containers[0].resources.limits.cpu",
    );
    assert_eq!(r["origin"], "tier-default");
    assert_eq!(r["note"], "tier default staging (limits.cpu: 1)");
    assert_eq!(r["value"], "1");
    assert!(r["file"].is_null() && r["line"].is_null());
}

#[test]
fn a_derived_value_names_its_rule_and_its_sources() {
    // prod-us overrides minReplicas; the PDB is the tier's, bounded by it.
    let r = one(
        &repo(),
        "prod-us",
        "PodDisruptionBudget/portal-system/portal-app",
        "spec.maxUnavailable",
    );
    assert_eq!(r["origin"], "derived");
    let note = r["note"].as_str().unwrap();
    assert!(note.contains("src/model/disruption.rs"), "{note}");
    assert!(
        note.contains("tier default prod (pdb: maxUnavailable 1)"),
        "{note}"
    );
    assert!(
        note.contains("environments/prod-us.yaml:") && note.contains("autoscaling.minReplicas"),
        "{note}"
    );
    // The first source with a place is the spec's.
    assert_eq!(r["file"], "environments/prod-us.yaml");
}

#[test]
fn a_template_literal_points_at_the_template_line() {
    let r = one(
        &repo(),
        "dev",
        "Deployment/portal-system/portal-app",
        "spec.strategy.type",
    );
    assert_eq!(r["origin"], "template");
    assert_eq!(r["file"], "templates/kubernetes/app/deployment.yaml");
    let line = line_of(&repo(), &r["file"], &r["line"]);
    assert_eq!(line.trim(), "type: RollingUpdate");
    // In a file of several documents, the line of the object's own document.
    let r = one(
        &repo(),
        "dev",
        "NetworkPolicy/portal-tenant-acme/allow-portal",
        "kind",
    );
    let text = std::fs::read_to_string(repo().join("templates/kubernetes/tenant.yaml")).unwrap();
    let n = r["line"].as_u64().unwrap() as usize;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[n - 1], "kind: NetworkPolicy");
    assert!(
        lines[n..n + 2].concat().contains("allow-portal"),
        "{}",
        lines[n]
    );
}

#[test]
fn a_system_file_value_points_at_portalgen_yaml() {
    let root = repo().join("examples/microservices");
    let r = one(
        &root,
        "prod",
        "Rollout/tasks-system/auth-service",
        "spec.template.spec.containers[0].ports[0].containerPort",
    );
    assert_eq!(r["origin"], "system-file");
    assert_eq!(r["file"], "portalgen.yaml");
    assert_eq!(r["value"], 3001);
    let line = line_of(&root, &r["file"], &r["line"]);
    assert_eq!(line.trim(), "port: 3001");
    // A resource the system file sets wins over the tier's default.
    let r = one(
        &root,
        "prod",
        "Rollout/tasks-system/auth-service",
        "spec.template.spec.containers[0].resources.requests.memory",
    );
    assert_eq!(r["origin"], "system-file", "{r}");
    assert!(line_of(&root, &r["file"], &r["line"]).contains("memory: 400Mi"));
}

#[test]
fn a_patched_leaf_is_the_patchs() {
    let s = Scratch::new();
    s.write_env(
        "app",
        &format!(
            "{}  patches:\n{}",
            minimal_spec("app", "dev", 1),
            "    - target: {kind: Deployment, name: portal-app}
      jsonPatch:
        - {op: replace, path: /spec/revisionHistoryLimit, value: 3}
    - target: {kind: Service, name: portal-app}
      mergePatch:
        metadata: {labels: {team.example.com/tier: frontend}}
"
        ),
    );
    let r = one(
        s.root(),
        "app",
        "Deployment/portal-app",
        "spec.revisionHistoryLimit",
    );
    assert_eq!(r["origin"], "patch");
    assert_eq!(r["value"], 3);
    assert_eq!(r["file"], "environments/app.yaml");
    let line = line_of(s.root(), &r["file"], &r["line"]);
    assert!(line.contains("op: replace"), "{line}");
    assert!(
        r["note"]
            .as_str()
            .unwrap()
            .contains("spec.patches[0].jsonPatch[0]"),
        "{r}"
    );
    let r = one(
        s.root(),
        "app",
        "Service/portal-app",
        "metadata.labels[\"team.example.com/tier\"]",
    );
    assert_eq!(r["origin"], "patch");
    assert!(r["note"].as_str().unwrap().contains("mergePatch"), "{r}");
    // The leaves the patches did not touch keep their origins.
    let r = one(s.root(), "app", "Deployment/portal-app", "spec.replicas");
    assert_eq!(r["origin"], "tier-default");
}

#[test]
fn without_a_path_every_leaf_is_explained_and_a_path_selects_a_subtree() {
    let all = records(&repo(), &["staging", "HorizontalPodAutoscaler/portal-app"]);
    let spec = records(
        &repo(),
        &["staging", "HorizontalPodAutoscaler/portal-app", "spec"],
    );
    assert!(
        all.len() > spec.len() && spec.len() > 4,
        "{} {}",
        all.len(),
        spec.len()
    );
    for r in &all {
        for key in ["object", "rendered", "path", "value", "origin", "note"] {
            assert!(!r[key].is_null(), "{key} in {r}");
        }
        assert_ne!(r["origin"], "unknown", "{r}");
    }
    assert!(spec
        .iter()
        .all(|r| r["path"].as_str().unwrap().starts_with("spec.")));
    let min = spec
        .iter()
        .find(|r| r["path"] == "spec.minReplicas")
        .unwrap();
    assert_eq!(
        min["note"],
        "tier default staging (autoscaling.minReplicas: 3)"
    );
}

#[test]
fn the_text_report_shows_each_value_and_its_origin() {
    let out = portalgen()
        .args(["explain", "prod-us", "Rollout/portal-app", "spec.replicas"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout_of(&out),
        format!(
            "Rollout portal-system/portal-app (kubernetes/platform/app/rollout.yaml)\n  spec.replicas: 8\n      ← environments/prod-us.yaml:{} spec.overrides.replicas\n",
            {
                let r = one(&repo(), "prod-us", "Rollout/portal-app", "spec.replicas");
                format!("{}:{}", r["line"], r["column"])
            }
        )
    );
}

#[test]
fn a_tenants_object_renders_only_its_tenants_file() {
    let r = one(
        &repo(),
        "prod-us",
        "ResourceQuota/portal-tenant-t00007/tenant-quota",
        "metadata.namespace",
    );
    assert_eq!(
        r["rendered"].as_str().unwrap().rsplit('/').next(),
        Some("t00007.yaml")
    );
    assert_eq!(r["origin"], "derived");
    assert!(
        r["note"].as_str().unwrap().contains("spec.tenants.count"),
        "{r}"
    );
}

#[test]
fn unknown_environment_object_or_path_is_exit_2_with_did_you_mean() {
    check_cases(
        portalgen,
        [
            case(["explain", "prod-uss", "Rollout/portal-app"], 2)
                .stderr("did you mean 'prod-us'?"),
            case(["explain", "prod-us", "Rollout/portal-ap"], 2)
                .stderr("no object Rollout/portal-ap in the rendered tree of prod-us")
                .stderr("did you mean 'Rollout/portal-system/portal-app'?"),
            case(["explain", "prod-us", "Rolout/portal-system/portal-app"], 2)
                .stderr("did you mean 'Rollout/portal-system/portal-app'?"),
            case(
                ["explain", "prod-us", "Rollout/portal-app", "spec.replica"],
                2,
            )
            .stderr("has no field spec.replica; did you mean 'spec.replicas'?"),
            case(["explain", "prod-us", "nonsense"], 2).stderr("not an object"),
            case(
                [
                    "explain",
                    "prod-us",
                    "Rollout/portal-app",
                    "--format",
                    "junit",
                ],
                2,
            )
            .stderr("explain has no --format junit"),
        ],
    );
}

#[test]
fn diff_explain_says_why_each_changed_field_differs() {
    let out = portalgen()
        .args(["diff", "staging", "prod-us", "--explain"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let why = &text[text.find("\nWhy they differ:\n").expect("the explanation")..];
    let replicas = why
        .split("\n~ ")
        .find(|o| o.starts_with("Rollout portal-system/portal-app\n"))
        .expect("the Rollout");
    assert!(
        replicas.contains(
            "  spec.replicas: 3 → 8\n    staging: tier default staging (replicas: 3)\n    prod-us: environments/prod-us.yaml:"
        ),
        "{replicas}"
    );
    check_cases(
        portalgen,
        [case(["diff", "prod-us", "--explain"], 2).stderr("--explain takes two environments")],
    );
}

#[test]
fn a_template_that_compares_a_value_gets_no_made_up_origin() {
    // The instrumented render sees a marker, not `dev`, and takes the other branch: the
    // leaf is unknown rather than attributed to the wrong line or value.
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "dev", 1));
    let dir = s.root().join("overrides/kubernetes/app");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("service-account.yaml"),
        "apiVersion: v1
kind: ServiceAccount
metadata:{{ metadata(s.service_account, m.namespaces.system, labels=m.labels) }}
{% if m.env.tier == \"dev\" %}
automountServiceAccountToken: false
{% else %}
automountServiceAccountToken: true
{% endif %}
",
    )
    .unwrap();
    let templates = s.root().join("overrides");
    let mut r = records(
        s.root(),
        &[
            "app",
            "ServiceAccount/portal-app",
            "automountServiceAccountToken",
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    assert_eq!(r.len(), 1);
    let r = r.remove(0);
    assert_eq!(r["value"], false);
    assert_eq!(r["origin"], "unknown", "{r}");
    // The other leaves of the same object are found as usual.
    let mut name = records(
        s.root(),
        &[
            "app",
            "ServiceAccount/portal-app",
            "metadata.name",
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    assert_eq!(name.remove(0)["model"], "m.services[0].service_account");
}
