//! `diff ENV` and `render --check`: a committed tree compared with a fresh render.

use std::fs;

use super::common::{case, check_cases, json, stdout_of, Scratch};
use super::status;

/// A scratch copy of the shipped environments with `staging` rendered into rendered/.
fn rendered_staging() -> Scratch {
    let s = Scratch::shipped();
    s.cmd()
        .args(["render", "staging", "--quiet"])
        .assert()
        .success();
    s
}

fn tree(s: &Scratch) -> std::path::PathBuf {
    s.root().join("rendered/staging")
}

#[test]
fn a_fresh_tree_is_up_to_date() {
    let s = rendered_staging();
    check_cases(
        || s.cmd(),
        [
            case(["render", "--check", "staging"], 0).stdout("staging: up to date"),
            case(["diff", "staging"], 0).stdout("no differences"),
        ],
    );
}

#[test]
fn a_hand_edited_file_is_caught_by_check_and_shown_by_diff() {
    let s = rendered_staging();
    // staging's app is a blue-green Rollout.
    let path = tree(&s).join("kubernetes/platform/app/rollout.yaml");
    let before = fs::read_to_string(&path).unwrap();
    fs::write(&path, before.replace("  replicas: 3\n", "  replicas: 5\n")).unwrap();
    let edited = fs::read(&path).unwrap();

    let check = s
        .cmd()
        .args(["render", "--check", "staging"])
        .output()
        .unwrap();
    assert_eq!(status(&check), 1);
    let text = stdout_of(&check);
    assert!(
        text.contains("staging: stale: 1 changed, 0 added, 0 removed"),
        "{text}"
    );
    assert!(
        text.contains("~ rendered/staging/kubernetes/platform/app/rollout.yaml"),
        "{text}"
    );
    assert_eq!(fs::read(&path).unwrap(), edited, "--check writes nothing");

    let diff = s
        .cmd()
        .args(["diff", "staging", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(status(&diff), 1);
    let text = stdout_of(&diff);
    assert!(
        text.starts_with("rendered/staging (on disk) → staging (fresh render)"),
        "{text}"
    );
    assert!(
        text.contains("~ Rollout portal-system/portal-app"),
        "{text}"
    );
    assert!(text.contains("@@ -13,5 +13,5 @@ spec.replicas\n"), "{text}");
    assert!(
        text.contains("-  replicas: 5\n") && text.contains("+  replicas: 3\n"),
        "{text}"
    );
    assert_eq!(
        text.matches("\n~ ").count(),
        1,
        "only the edited object:\n{text}"
    );

    // A reformatting that keeps every value changes no object, but render would rewrite
    // the file: diff lists it apart from the objects, and --check (bytes) fails too.
    let reformatted = before
        .replace("  replicas: 3\n", "  replicas: 3   # same value\n")
        .replace(": portal-app\n", ": \"portal-app\"\n");
    assert_ne!(reformatted, before);
    fs::write(&path, reformatted).unwrap();
    let diff = s
        .cmd()
        .args(["diff", "staging", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(status(&diff), 1);
    let text = stdout_of(&diff);
    assert!(text.contains("0 changed, 0 added, 0 removed"), "{text}");
    assert!(
        text.contains("differ only in formatting or comments"),
        "{text}"
    );
    s.cmd()
        .args(["render", "--check", "staging"])
        .assert()
        .code(1);

    s.cmd()
        .args(["render", "staging", "--quiet"])
        .assert()
        .success();
    s.cmd()
        .args(["render", "--check", "staging"])
        .assert()
        .code(0);
    s.cmd().args(["diff", "staging"]).assert().code(0);
}

#[test]
fn a_broken_hand_edit_is_diffed_as_text() {
    let s = rendered_staging();
    let path = tree(&s).join("kubernetes/platform/app/service.yaml");
    fs::write(&path, "apiVersion: v1\nkind: Service\nmetadata: {name: [\n").unwrap();
    let diff = s
        .cmd()
        .args(["diff", "staging", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(status(&diff), 1);
    let text = stdout_of(&diff);
    assert!(
        text.contains("~ kubernetes/platform/app/service.yaml"),
        "{text}"
    );
    assert!(text.contains("-metadata: {name: [\n"), "{text}");
}

#[test]
fn added_and_removed_files_are_listed_by_check() {
    let s = rendered_staging();
    fs::remove_file(tree(&s).join("kubernetes/platform/app/pdb.yaml")).unwrap();
    // A file portalgen wrote and no longer renders: add it to the manifest.
    fs::write(
        tree(&s).join("kubernetes/platform/app/old.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old, namespace: portal-system}\n",
    )
    .unwrap();
    let manifest = tree(&s).join(".portalgen-manifest");
    let mut text = fs::read_to_string(&manifest).unwrap();
    text.push_str("kubernetes/platform/app/old.yaml\n");
    fs::write(&manifest, text).unwrap();

    let check = s
        .cmd()
        .args(["render", "--check", "--all"])
        .output()
        .unwrap();
    assert_eq!(status(&check), 1);
    let text = stdout_of(&check);
    assert!(
        text.contains("+ rendered/staging/kubernetes/platform/app/pdb.yaml"),
        "{text}"
    );
    assert!(
        text.contains("- rendered/staging/kubernetes/platform/app/old.yaml"),
        "{text}"
    );
    assert!(text.contains("dev: not rendered"), "{text}");
    assert!(text.contains("4 of 4 environments stale"), "{text}");

    let diff = s
        .cmd()
        .args(["diff", "staging", "--color", "never", "--stat"])
        .output()
        .unwrap();
    assert_eq!(status(&diff), 1);
    let text = stdout_of(&diff);
    assert!(
        text.contains("+ PodDisruptionBudget portal-system/portal-app"),
        "{text}"
    );
    assert!(text.contains("- ConfigMap portal-system/old"), "{text}");
}

#[test]
fn a_foreign_file_is_reported_and_left_alone() {
    let s = rendered_staging();
    let notes = tree(&s).join("kubernetes/NOTES.md");
    fs::write(&notes, "hand-written notes\n").unwrap();

    let check = s
        .cmd()
        .args(["render", "--check", "staging"])
        .output()
        .unwrap();
    assert_eq!(
        status(&check),
        0,
        "a foreign file is not drift:\n{}",
        stdout_of(&check)
    );
    assert!(stdout_of(&check).contains("1 file(s) portalgen does not own left alone"));

    let diff = s
        .cmd()
        .args(["diff", "staging", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(status(&diff), 0);
    let text = stdout_of(&diff);
    assert!(
        text.contains("files portalgen does not own (left alone, not compared): 1"),
        "{text}"
    );
    assert!(text.contains("? kubernetes/NOTES.md"), "{text}");
    let v = json(
        &s.cmd()
            .args(["diff", "staging", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(v["foreign"][0]["path"], "kubernetes/NOTES.md");
    assert_eq!(v["foreign"][0]["in_the_way"], false);

    s.cmd()
        .args(["render", "staging", "--quiet"])
        .assert()
        .success();
    assert_eq!(fs::read_to_string(&notes).unwrap(), "hand-written notes\n");
}

#[test]
fn a_foreign_file_where_a_rendered_file_goes_fails_check() {
    let s = rendered_staging();
    // Drop the PDB from the manifest: the file is no longer portalgen's.
    let manifest = tree(&s).join(".portalgen-manifest");
    let text = fs::read_to_string(&manifest)
        .unwrap()
        .replace("kubernetes/platform/app/pdb.yaml\n", "");
    fs::write(&manifest, text).unwrap();

    let check = s
        .cmd()
        .args(["render", "--check", "staging"])
        .output()
        .unwrap();
    assert_eq!(status(&check), 1);
    assert!(
        stdout_of(&check).contains("! rendered/staging/kubernetes/platform/app/pdb.yaml"),
        "{}",
        stdout_of(&check)
    );
    let diff = s
        .cmd()
        .args(["diff", "staging", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(status(&diff), 1);
    assert!(
        stdout_of(&diff).contains("render would refuse"),
        "{}",
        stdout_of(&diff)
    );
}

#[test]
fn check_exits_2_on_a_bad_spec() {
    let s = rendered_staging();
    s.write_env(
        "staging",
        "apiVersion: portalgen.dev/v1alpha1\nkind: Environment\n",
    );
    s.cmd()
        .args(["render", "--check", "staging"])
        .assert()
        .code(2);
}

#[test]
fn check_with_out_dir() {
    let s = Scratch::shipped();
    let deploy = s.root().join("deploy");
    let out = deploy.to_str().unwrap();
    check_cases(
        || s.cmd(),
        [
            case(["render", "dev", "--quiet", "--out", out], 0),
            case(["render", "dev", "--check", "--out", out], 0),
            case(["render", "dev", "--check"], 1),
            case(["diff", "dev", "--out", out], 0),
        ],
    );
}

/// `diff ENV` compares the tree on disk with the fresh render batch by batch as it streams:
/// the report must not depend on how the files are batched.
#[test]
fn diff_env_reports_the_same_whatever_the_batch_size() {
    let s = rendered_staging();
    let dir = tree(&s);
    // A changed object, a file reformatted only, a rendered file missing (added), an owned
    // file no longer rendered (removed) and a foreign file beside them.
    let rollout = dir.join("kubernetes/platform/app/rollout.yaml");
    let text = fs::read_to_string(&rollout).unwrap();
    fs::write(&rollout, text.replace("  replicas: 3\n", "  replicas: 4\n")).unwrap();
    let service = dir.join("kubernetes/platform/app/service.yaml");
    let text = fs::read_to_string(&service).unwrap();
    fs::write(&service, format!("# hand-added comment\n{text}")).unwrap();
    fs::remove_file(dir.join("argocd/applications/monitoring.yaml")).unwrap();
    fs::write(
        dir.join("kubernetes/platform/leftover.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leftover, namespace: portal-system}\n",
    )
    .unwrap();
    let manifest = dir.join(".portalgen-manifest");
    let listed = fs::read_to_string(&manifest).unwrap();
    fs::write(
        &manifest,
        format!("{listed}kubernetes/platform/leftover.yaml\n"),
    )
    .unwrap();
    fs::write(dir.join("NOTES.txt"), "ours\n").unwrap();

    let report = |batch: &str| {
        let out = s
            .cmd()
            .env("PORTALGEN_BATCH_FILES", batch)
            .args(["diff", "staging", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(status(&out), 1, "{}", stdout_of(&out));
        json(stdout_of(&out))
    };
    let whole = report("0");
    let summary = &whole["summary"];
    assert_eq!(summary["changed"], 1, "{summary}");
    assert!(summary["added"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(summary["removed"], 1, "{summary}");
    assert_eq!(
        whole["reformatted"],
        serde_json::json!(["kubernetes/platform/app/service.yaml"])
    );
    assert_eq!(whole["foreign"][0]["path"], "NOTES.txt");
    for batch in ["1", "7"] {
        assert_eq!(report(batch), whole, "batches of {batch}");
    }
}
