//! The review and CI commands (docs/ci.md): `diff`, `render --check`, `validate`,
//! `completions`, and the pre-commit hooks, with every exit status.
//!
//! The snapshot of `diff staging prod-us` is in tests/snapshots/. After an intended change
//! to the rendered output (or to the diff's format), regenerate it with
//! `INSTA_UPDATE=always cargo test --test review` and read the change like code.

mod common;

use std::fs;
use std::path::Path;

use common::{case, check_cases, json, portalgen, repo, stdout_of, Scratch};
use serde_json::Value;

fn status(out: &std::process::Output) -> i32 {
    out.status.code().unwrap()
}

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

// ---------------------------------------------------------------- diff ENV_A ENV_B

#[test]
fn diff_of_two_shipped_environments_matches_its_snapshot() {
    let out = portalgen()
        .args(["diff", "staging", "prod-us", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(status(&out), 1, "two different environments: exit 1");
    insta::assert_snapshot!("diff_staging_prod_us", stdout_of(&out));
}

#[test]
fn a_tier_name_stands_for_its_primary_and_the_output_is_stable() {
    let by_env = portalgen()
        .args(["diff", "staging", "prod-us", "--color", "never"])
        .output()
        .unwrap();
    let by_tier = portalgen()
        .args(["diff", "staging", "prod", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(status(&by_tier), 1);
    assert_eq!(stdout_of(&by_env), stdout_of(&by_tier));
}

#[test]
fn diff_of_an_environment_with_itself_is_empty_and_exits_0() {
    check_cases(
        portalgen,
        [case(["diff", "prod-us", "prod-us"], 0).stdout("no differences")],
    );
}

#[test]
fn the_summary_comes_first_and_hundreds_of_tenants_stay_a_few_lines() {
    let text = stdout_of(
        &portalgen()
            .args(["diff", "staging", "prod-us", "--color", "never"])
            .output()
            .unwrap(),
    );
    let details = text.find("\n~ ").expect("a details section");
    let summary = &text[..details];
    // 230 tenants only in prod-us: one line, with examples, not 1380 objects.
    assert!(
        summary.contains(
            "230 tenants only in prod-us: 1380 objects (t00021, t00022, t00023, … 227 more)"
        ),
        "{summary}"
    );
    // The 20 shared tenants change alike: one entry per object of a tenant's file.
    let groups: Vec<&str> = summary
        .lines()
        .filter(|l| l.contains("×20 tenants"))
        .collect();
    assert_eq!(groups.len(), 6, "{summary}");
    assert!(
        summary.contains("Namespace portal-tenant-<tenant>  ×20 tenants"),
        "{summary}"
    );
    // Hundreds of tenants take a handful of lines: the report's length comes from the
    // platform objects, not from the tenants.
    let tenant_lines = text
        .lines()
        .filter(|l| l.contains("portal-tenant-"))
        .count();
    assert!(
        tenant_lines < 40,
        "{tenant_lines} lines about tenant objects"
    );
    assert!(
        !text.contains("t00100"),
        "no tenant beyond the examples is named"
    );
}

#[test]
fn diff_stat_prints_only_the_summary() {
    let out = portalgen()
        .args(["diff", "staging", "prod-us", "--stat", "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(status(&out), 1);
    let text = stdout_of(&out);
    assert!(text.contains("objects: "), "{text}");
    assert!(
        text.contains("~ Deployment portal-system/portal-app"),
        "{text}"
    );
    assert!(!text.contains("@@"), "no hunks with --stat:\n{text}");
}

#[test]
fn diff_json_parses_and_carries_the_report() {
    let out = portalgen()
        .args(["diff", "staging", "prod-us", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(status(&out), 1);
    let v = json(&out.stdout);
    assert_eq!(v["identical"], false);
    assert_eq!(v["old"], "staging");
    assert_eq!(v["new"], "prod-us");
    assert_eq!(v["tenants"]["only_new"]["count"], 230);
    let entries = v["entries"].as_array().unwrap();
    let deployment = entries
        .iter()
        .find(|e| e["title"] == "Deployment portal-system/portal-app")
        .unwrap();
    assert_eq!(deployment["status"], "changed");
    assert_eq!(deployment["object"]["kind"], "Deployment");
    assert_eq!(deployment["object"]["group"], "apps");
    let replicas = deployment["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["lines"].as_array().unwrap())
        .filter(|l| l["text"].as_str().unwrap().trim().starts_with("replicas:"))
        .map(|l| {
            (
                l["tag"].as_str().unwrap(),
                l["text"].as_str().unwrap().trim(),
            )
        })
        .collect::<Vec<_>>();
    assert_eq!(
        replicas,
        [("removed", "replicas: 3"), ("added", "replicas: 8")]
    );
    let group = entries
        .iter()
        .find(|e| e["title"] == "Namespace portal-tenant-<tenant>")
        .unwrap();
    assert_eq!(group["tenants"]["count"], 20);
    assert_eq!(group["tenants"]["ids"].as_array().unwrap().len(), 20);
}

#[test]
fn diff_colors_follow_the_color_flag_and_no_color() {
    let colored = portalgen()
        .args(["diff", "dev", "staging", "--color", "always"])
        .output()
        .unwrap();
    assert!(
        stdout_of(&colored).contains("\x1b[32m+"),
        "--color always colors"
    );
    let never = portalgen()
        .args(["diff", "dev", "staging", "--color", "never"])
        .output()
        .unwrap();
    assert!(!stdout_of(&never).contains('\x1b'));
    // auto: not a terminal here, and NO_COLOR set: no color either way.
    let auto = portalgen()
        .env("NO_COLOR", "1")
        .args(["diff", "dev", "staging"])
        .output()
        .unwrap();
    assert!(!stdout_of(&auto).contains('\x1b'));
    assert_eq!(stdout_of(&never), stdout_of(&auto));
}

#[test]
fn diff_errors_exit_2() {
    check_cases(
        portalgen,
        [case(["diff", "staging", "nope"], 2).stderr("no environment 'nope'")],
    );
    let s = Scratch::shipped();
    let broken = fs::read_to_string(s.root().join("environments/staging.yaml"))
        .unwrap()
        .replace("tier: staging", "tier: stagin");
    s.write_env("staging", &broken);
    check_cases(
        || s.cmd(),
        [
            case(["diff", "dev", "staging"], 2),
            case(["diff", "staging"], 2),
        ],
    );
}

// ---------------------------------------------------------------- diff ENV, render --check

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
    let path = tree(&s).join("kubernetes/platform/app/deployment.yaml");
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
        text.contains("~ rendered/staging/kubernetes/platform/app/deployment.yaml"),
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
        text.contains("~ Deployment portal-system/portal-app"),
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

// ---------------------------------------------------------------- validate

#[test]
fn validate_passes_the_shipped_environments() {
    let out = portalgen().args(["validate", "--all"]).output().unwrap();
    assert_eq!(status(&out), 0, "{}", stdout_of(&out));
    let v = json(
        &portalgen()
            .args(["validate", "--all", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(v["ok"], true);
    assert_eq!(v["environments"].as_array().unwrap().len(), 4);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
}

/// Templates that break the Service of every environment and every tenant's LimitRange.
fn broken_templates(root: &Path) -> std::path::PathBuf {
    let dir = root.join("tpl");
    fs::create_dir_all(dir.join("kubernetes/app")).unwrap();
    let service = fs::read_to_string(repo().join("templates/kubernetes/app/service.yaml")).unwrap();
    fs::write(
        dir.join("kubernetes/app/service.yaml"),
        service.replacen("\nspec:\n", "\nspec:\n  bogusField: 1\n", 1),
    )
    .unwrap();
    let tenant = fs::read_to_string(repo().join("templates/kubernetes/tenant.yaml")).unwrap();
    assert!(tenant.contains("\n  limits:\n"));
    fs::write(
        dir.join("kubernetes/tenant.yaml"),
        tenant.replacen("\n  limits:\n", "\n  limitz: []\n  limits:\n", 1),
    )
    .unwrap();
    dir
}

#[test]
fn validate_reports_every_finding_of_every_environment() {
    let s = Scratch::shipped();
    let dev = fs::read_to_string(s.root().join("environments/dev.yaml"))
        .unwrap()
        .replace("  tier: dev\n", "  tier: dev\n  replcas: 3\n");
    s.write_env("dev", &dev);
    let tpl = broken_templates(s.root());

    let out = s
        .cmd()
        .args(["validate", "--all", "--templates"])
        .arg(&tpl)
        .output()
        .unwrap();
    // A spec error is bad input (2), reported together with every output finding.
    assert_eq!(status(&out), 2);
    let text = stdout_of(&out);
    assert!(
        text.contains("environments/dev.yaml:"),
        "the spec finding, with its file:\n{text}"
    );
    assert!(text.contains("at: spec.replcas"), "{text}");
    for env in ["prod-eu", "prod-us", "staging"] {
        assert!(text.contains(&format!("{env}: ")), "{text}");
    }
    assert!(
        text.contains("at: Service portal-system/portal-app"),
        "{text}"
    );
    // Every tenant's file, not only the first failing one: staging has 20 tenants.
    assert!(
        text.contains("LimitRange portal-tenant-t00020/tenant-limits"),
        "{text}"
    );

    let v = json(
        &s.cmd()
            .args(["validate", "--all", "--format", "json", "--templates"])
            .arg(&tpl)
            .output()
            .unwrap()
            .stdout,
    );
    assert_eq!(v["ok"], false);
    let findings = v["findings"].as_array().unwrap();
    let count = |env: &str, stage: &str| {
        findings
            .iter()
            .filter(|f| f["environment"] == env && f["stage"] == stage)
            .count()
    };
    assert_eq!(count("dev", "spec"), 1);
    assert_eq!(
        count("staging", "output"),
        1 + 20,
        "the Service and 20 tenants' LimitRange"
    );
    assert_eq!(count("prod-us", "output"), 1 + 250);
    assert_eq!(count("prod-eu", "output"), 1 + 120);
    let spec = findings.iter().find(|f| f["stage"] == "spec").unwrap();
    assert_eq!(spec["file"], "environments/dev.yaml");
    assert!(spec["line"].as_u64().unwrap() > 0 && spec["column"].as_u64().unwrap() > 0);
    assert_eq!(spec["path"], "spec.replcas");
    let service = findings
        .iter()
        .find(|f| {
            f["environment"] == "staging" && f["object"] == "Service portal-system/portal-app"
        })
        .unwrap();
    assert!(service["file"]
        .as_str()
        .unwrap()
        .starts_with("kubernetes/platform/app/service.yaml"));
    assert!(
        service["path"].as_str().unwrap().contains("bogusField"),
        "{service}"
    );
    // The object also as its parts, and the severity, as separate fields.
    assert_eq!(service["object_ref"]["kind"], "Service", "{service}");
    assert_eq!(service["object_ref"]["namespace"], "portal-system");
    assert_eq!(service["object_ref"]["name"], "portal-app");
    assert_eq!(service["severity"], "error");
    assert!(service["rule"].is_null(), "a type check is no policy rule");
}

#[test]
fn validate_lists_a_primary_spec_error_once() {
    let s = Scratch::shipped();
    let prod = fs::read_to_string(s.root().join("environments/prod-us.yaml"))
        .unwrap()
        .replace("tier: prod", "tier: prodd");
    s.write_env("prod-us", &prod);
    let v = json(
        &s.cmd()
            .args(["validate", "--all", "--format", "json"])
            .output()
            .unwrap()
            .stdout,
    );
    let findings = v["findings"].as_array().unwrap();
    let tier: Vec<&Value> = findings
        .iter()
        .filter(|f| f["path"] == "spec.tier")
        .collect();
    assert_eq!(tier.len(), 1, "{findings:#?}");
    assert_eq!(tier[0]["environment"], "prod-us");
    let eu = findings
        .iter()
        .find(|f| f["environment"] == "prod-eu")
        .unwrap();
    assert_eq!(eu["path"], "spec.replicaOf");
    let envs = v["environments"].as_array().unwrap();
    assert!(envs
        .iter()
        .any(|e| e["name"] == "staging" && e["ok"] == true));
    assert!(envs
        .iter()
        .any(|e| e["name"] == "prod-eu" && e["ok"] == false));
}

#[test]
fn validate_exits_2_when_it_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().to_str().unwrap();
    check_cases(
        portalgen,
        [
            case(["validate", "nope"], 2),
            case(["--root", empty, "validate", "--all"], 2),
        ],
    );
}

// ---------------------------------------------------------------- completions, help, hooks

#[test]
fn completions_for_each_shell() {
    // The scripts register portalgen as its own completer (`COMPLETE=<shell> portalgen`).
    for shell in ["bash", "zsh", "fish"] {
        let out = portalgen().args(["completions", shell]).output().unwrap();
        assert_eq!(status(&out), 0);
        let text = stdout_of(&out);
        for word in ["portalgen", "COMPLETE"] {
            assert!(text.contains(word), "{shell} completions lack {word}");
        }
    }
    portalgen().args(["completions", "tcsh"]).assert().code(2);
    // What the shell gets: subcommands, and the options of one.
    let complete = |words: &[&str]| {
        let out = portalgen()
            .env("COMPLETE", "fish")
            .args(["--", "portalgen"])
            .args(words)
            .output()
            .unwrap();
        stdout_of(&out)
    };
    let top = complete(&[""]);
    for word in ["diff", "validate", "render", "set", "man"] {
        assert!(
            top.lines().any(|l| l.starts_with(word)),
            "no {word} in {top}"
        );
    }
    let render = complete(&["render", "--"]);
    assert!(render.lines().any(|l| l.starts_with("--check")), "{render}");
    assert!(complete(&["diff", "--s"])
        .lines()
        .any(|l| l.starts_with("--stat")));
}

#[test]
fn every_command_has_an_example_in_its_help() {
    for cmd in [
        "render",
        "diff",
        "validate",
        "list",
        "schema",
        "completions",
        "set",
        "man",
    ] {
        let out = portalgen().args([cmd, "--help"]).output().unwrap();
        assert_eq!(status(&out), 0);
        let text = stdout_of(&out);
        assert!(
            text.contains("Example"),
            "{cmd} --help has no example:\n{text}"
        );
        assert!(
            text.contains(&format!("portalgen {cmd}")),
            "{cmd} --help example does not run {cmd}"
        );
    }
    let top = stdout_of(&portalgen().arg("--help").output().unwrap());
    assert!(top.contains("portalgen diff staging prod"));
}

#[test]
fn the_pre_commit_hooks_run_portalgen_commands_that_work() {
    let text = fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<Value> = serde_saphyr::from_str(&text).unwrap();
    let ids: Vec<&str> = hooks.iter().map(|h| h["id"].as_str().unwrap()).collect();
    for id in ["portalgen-validate", "portalgen-render-check"] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let s = Scratch::shipped();
    s.cmd()
        .args(["render", "--all", "--quiet"])
        .assert()
        .success();
    for h in &hooks {
        assert_eq!(h["pass_filenames"], false);
        let entry = h["entry"].as_str().unwrap();
        let mut words = entry.split_whitespace();
        // A docker_image hook names the release image, whose entrypoint is portalgen.
        let first = words.next().unwrap();
        if h["language"] == "docker_image" {
            assert!(
                first.starts_with("ghcr.io/portalgen/portalgen:v"),
                "{entry}"
            );
        } else {
            assert_eq!(first, "portalgen");
        }
        let args: Vec<String> = words
            .map(str::to_owned)
            .chain(
                h["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned()),
            )
            .collect();
        s.cmd().args(&args).assert().code(0);
    }
    // And the render check hook fails on a stale tree.
    let path = s
        .root()
        .join("rendered/dev/kubernetes/platform/app/deployment.yaml");
    fs::write(&path, fs::read_to_string(&path).unwrap() + "# edited\n").unwrap();
    s.cmd()
        .args(["render", "--check", "--all"])
        .assert()
        .code(1);
}
