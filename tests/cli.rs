//! The render pipeline through the command line: list, schema, render with --out, --root
//! and --templates, tier names, pruning and ownership, exit statuses.

use crate::common;

use common::{
    case, check_cases, json, minimal_spec, portalgen, read_tree, render_all, repo, stderr_of,
    stdout_of, Scratch,
};
use predicates::prelude::*;

#[test]
fn list_shows_tier_region_role_and_tenants() {
    let out = portalgen().arg("list").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    let rows: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["ENVIRONMENT", "TIER", "REGION", "ROLE", "TENANTS"]
    );
    assert_eq!(rows[1], ["dev", "dev", "us-east-1", "primary", "3"]);
    assert_eq!(
        rows[2],
        [
            "prod-eu",
            "prod",
            "eu-west-1",
            "replica",
            "of",
            "prod-us",
            "120"
        ]
    );
    assert_eq!(rows[3], ["prod-us", "prod", "us-east-1", "primary", "250"]);
    assert_eq!(
        rows[4],
        ["staging", "staging", "us-east-1", "primary", "20"]
    );
}

#[test]
fn schema_prints_the_environment_schema() {
    let out = portalgen().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let printed = json(&out.stdout);
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas/environment.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(printed, file);
    assert_eq!(printed["properties"]["spec"]["additionalProperties"], false);
}

#[test]
fn render_with_root_and_out_from_another_folder() {
    let s = Scratch::new();
    s.write_env("alpha", &minimal_spec("alpha", "dev", 4));
    let out = tempfile::tempdir().unwrap();
    // Run from a folder that holds no environments/: --root says where the project is.
    portalgen()
        .current_dir(out.path())
        .arg("--root")
        .arg(s.root())
        .args(["render", "alpha", "--out"])
        .arg(out.path().join("tree"))
        .assert()
        .success()
        .stderr(predicate::str::contains("alpha: wrote"));
    let tree = read_tree(&out.path().join("tree/alpha"));
    let tenants = tree
        .keys()
        .filter(|p| p.starts_with("kubernetes/tenants/"))
        .count();
    assert_eq!(tenants, 4);
    assert!(tree.contains_key(".portalgen-manifest"));
    assert!(
        !s.root().join("rendered").exists(),
        "--out replaces the default folder"
    );
}

#[test]
fn the_default_output_is_rendered_under_the_nearest_root() {
    let s = Scratch::new();
    s.write_env("alpha", &minimal_spec("alpha", "dev", 1));
    let sub = s.root().join("environments");
    // From a subfolder, the root is found by walking up.
    portalgen()
        .current_dir(&sub)
        .args(["render", "alpha", "-q"])
        .assert()
        .success();
    assert!(s
        .root()
        .join("rendered/alpha/kubernetes/platform/app/deployment.yaml")
        .is_file());
}

#[test]
fn a_tier_name_stands_for_its_one_primary() {
    let s = Scratch::shipped();
    s.cmd().args(["render", "prod", "-q"]).assert().success();
    assert!(s.root().join("rendered/prod-us").is_dir());
    assert!(!s.root().join("rendered/prod-eu").exists());
    // An environment name wins over a tier name.
    s.write_env("dev2", &minimal_spec("dev2", "dev", 1));
    s.cmd().args(["render", "dev", "-q"]).assert().success();
    assert!(!s.root().join("rendered/dev2").exists());
    // Two primaries of one tier: the error lists them.
    s.write_env("staging2", &minimal_spec("staging2", "staging", 1));
    s.write_env("staging3", &minimal_spec("staging3", "staging", 1));
    std::fs::remove_file(s.root().join("environments/staging.yaml")).unwrap();
    s.cmd()
        .args(["render", "staging"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "several primary environments: staging2",
        ));
}

#[test]
fn an_unknown_environment_gets_a_suggestion_and_exit_2() {
    check_cases(
        portalgen,
        [
            case(["render", "prod-uss"], 2)
                .stderr("no environment 'prod-uss'")
                .stderr("prod-us"),
            case(["render"], 2).stderr("--all"),
        ],
    );
}

#[test]
fn templates_dir_overrides_one_embedded_template() {
    let s = Scratch::new();
    s.write_env("alpha", &minimal_spec("alpha", "dev", 1));
    let tpl = s.root().join("tpl/kubernetes/app");
    std::fs::create_dir_all(&tpl).unwrap();
    let original =
        std::fs::read_to_string(repo().join("templates/kubernetes/app/service.yaml")).unwrap();
    std::fs::write(
        tpl.join("service.yaml"),
        original.replace("type: ClusterIP", "type: NodePort"),
    )
    .unwrap();
    s.cmd()
        .args(["render", "alpha", "-q", "--templates", "tpl"])
        .assert()
        .success();
    let service = std::fs::read_to_string(
        s.root()
            .join("rendered/alpha/kubernetes/platform/app/service.yaml"),
    )
    .unwrap();
    assert!(service.contains("type: NodePort"));
    let deployment = std::fs::read_to_string(
        s.root()
            .join("rendered/alpha/kubernetes/platform/app/deployment.yaml"),
    )
    .unwrap();
    assert!(
        deployment.contains("kind: Deployment"),
        "other templates stay embedded"
    );
}

#[test]
fn a_template_that_renders_an_unknown_field_aborts_with_template_object_and_path() {
    let s = Scratch::new();
    s.write_env("alpha", &minimal_spec("alpha", "dev", 1));
    s.cmd().args(["render", "alpha", "-q"]).assert().success();
    let before = read_tree(&s.root().join("rendered"));
    let tpl = s.root().join("tpl/kubernetes/app");
    std::fs::create_dir_all(&tpl).unwrap();
    let original =
        std::fs::read_to_string(repo().join("templates/kubernetes/app/deployment.yaml")).unwrap();
    std::fs::write(
        tpl.join("deployment.yaml"),
        original.replace(
            "  revisionHistoryLimit: 10\n",
            "  revisionHistoryLimit: 10\n  replicaz: 2\n",
        ),
    )
    .unwrap();
    s.cmd()
        .args(["render", "alpha", "--templates", "tpl"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("templates/kubernetes/app/deployment.yaml")
                .and(predicate::str::contains(
                    "Deployment portal-system/portal-app: spec.replicaz",
                ))
                .and(predicate::str::contains("unknown field 'replicaz'")),
        );
    assert_eq!(
        read_tree(&s.root().join("rendered")),
        before,
        "nothing changed on disk"
    );
}

#[test]
fn files_no_longer_rendered_are_pruned_and_foreign_files_kept() {
    let s = Scratch::new();
    s.write_env("alpha", &minimal_spec("alpha", "dev", 5));
    s.cmd().args(["render", "alpha", "-q"]).assert().success();
    let root = s.root().join("rendered/alpha");
    std::fs::write(root.join("NOTES.md"), "ours\n").unwrap();
    let tenant_files = |root: &std::path::Path| {
        read_tree(root)
            .keys()
            .filter(|p| p.starts_with("kubernetes/tenants/"))
            .count()
    };
    assert_eq!(tenant_files(&root), 5);
    s.write_env("alpha", &minimal_spec("alpha", "dev", 2));
    s.cmd()
        .args(["render", "alpha"])
        .assert()
        .success()
        .stderr(predicate::str::contains("pruned"));
    assert_eq!(tenant_files(&root), 2);
    assert_eq!(
        std::fs::read_to_string(root.join("NOTES.md")).unwrap(),
        "ours\n"
    );
}

#[test]
fn a_file_portalgen_did_not_write_is_never_overwritten() {
    let s = Scratch::new();
    s.write_env("alpha", &minimal_spec("alpha", "dev", 1));
    let target = s.root().join("rendered/alpha/kubernetes/platform/app");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("service.yaml"), "hand-written\n").unwrap();
    s.cmd().args(["render", "alpha"]).assert().code(2).stderr(
        predicate::str::contains("refusing to overwrite")
            .and(predicate::str::contains("service.yaml")),
    );
    assert_eq!(
        std::fs::read_to_string(target.join("service.yaml")).unwrap(),
        "hand-written\n"
    );
}

#[test]
fn render_all_writes_every_environment_and_is_idempotent() {
    let s = Scratch::shipped();
    s.cmd().args(["render", "--all", "-q"]).assert().success();
    let first = read_tree(&s.root().join("rendered"));
    s.cmd()
        .args(["render", "--all"])
        .assert()
        .success()
        .stderr(predicate::str::contains("prod-us: unchanged"));
    assert_eq!(read_tree(&s.root().join("rendered")), first);
    for env in ["dev", "staging", "prod-us", "prod-eu"] {
        assert!(first
            .keys()
            .any(|p| p.starts_with(&format!("{env}/kubernetes/"))));
    }
}

#[test]
fn a_comment_added_by_hand_is_caught_by_check_and_diff() {
    let s = Scratch::new();
    s.write_env("alpha", &minimal_spec("alpha", "staging", 2));
    s.cmd().args(["render", "alpha", "-q"]).assert().success();
    let file = s
        .root()
        .join("rendered/alpha/kubernetes/platform/app/service.yaml");
    std::fs::write(
        &file,
        std::fs::read_to_string(&file).unwrap() + "# edited by hand\n",
    )
    .unwrap();
    s.cmd()
        .args(["render", "alpha", "--check"])
        .assert()
        .code(1);
    s.cmd()
        .args(["diff", "alpha", "--color", "never"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("differ only in formatting or comments").and(
                predicate::str::contains("kubernetes/platform/app/service.yaml"),
            ),
        );
    s.cmd().args(["render", "alpha", "-q"]).assert().success();
    s.cmd().args(["diff", "alpha"]).assert().code(0);
}

#[test]
fn the_pdb_follows_the_fewest_pods_and_says_why_a_single_pod_may_be_evicted() {
    let s = Scratch::new();
    let with = |name: &str, tier: &str, min: u32, max: u32| {
        common::minimal_spec(name, tier, 1)
            + &format!("  overrides:\n    replicas: {min}\n    autoscaling: {{minReplicas: {min}, maxReplicas: {max}}}\n")
    };
    s.write_env("single", &with("single", "staging", 1, 3));
    s.write_env("pair", &with("pair", "prod", 2, 4));
    let out = s.root().join("out");
    render_all(&mut s.cmd(), &out);
    let pdb = |env: &str| {
        std::fs::read_to_string(out.join(env).join("kubernetes/platform/app/pdb.yaml")).unwrap()
    };
    let single = pdb("single");
    // minAvailable 1 of 1 pod would block every drain (PG-D001); one may go, and it says so.
    assert!(single.contains("  maxUnavailable: 1\n"), "{single}");
    assert!(!single.contains("minAvailable"), "{single}");
    assert!(
        single.contains("# one pod: a node drain evicts it, and the portal is down"),
        "{single}"
    );
    let pair = pdb("pair");
    assert!(pair.contains("  maxUnavailable: 1\n"), "{pair}");
    assert!(!pair.contains('#'), "{pair}");

    // One pod in prod is refused at the override, and nothing is written.
    s.write_env("pair", &with("pair", "prod", 1, 4));
    let before = common::read_tree(&out.join("pair"));
    let assert = s
        .cmd()
        .args(["render", "pair", "--out"])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = stderr_of(assert.get_output());
    assert!(stderr.contains("pair.yaml:"), "{stderr}");
    assert!(
        stderr.contains("spec.overrides.autoscaling.minReplicas"),
        "{stderr}"
    );
    assert!(stderr.contains("runs at least 2 pods"), "{stderr}");
    assert_eq!(common::read_tree(&out.join("pair")), before);
}
#[path = "cli/adoption.rs"]
mod adoption;
#[path = "cli/escape_hatch.rs"]
mod escape_hatch;
#[path = "cli/explain.rs"]
mod explain;
#[path = "cli/systems.rs"]
mod systems;
#[path = "cli/tracing.rs"]
mod tracing;
