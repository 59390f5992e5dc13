//! The review and CI commands (docs/ci.md): `diff`, `render --check`, `validate`,
//! `completions`, and the pre-commit hooks, with every exit status.
//!
//! The snapshot of `diff staging prod-us` is in tests/snapshots/. After an intended change
//! to the rendered output (or to the diff's format), regenerate it with
//! `INSTA_UPDATE=always cargo test --test review` and read the change like code.
//!
//! `diff ENV_A ENV_B`, completions, help and the hooks are here; `diff ENV` and
//! `render --check` in [`check`], `validate` in [`validate`].

use crate::common;

use std::fs;

use common::{case, check_cases, json, portalgen, repo, stdout_of, Scratch};
use serde_json::Value;

fn status(out: &std::process::Output) -> i32 {
    out.status.code().unwrap()
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

#[path = "review/check.rs"]
mod check;

#[path = "review/validate.rs"]
mod validate;
