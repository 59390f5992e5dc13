//! Adoption (issue 15): stdout and subsets, CLI conventions, `set image`, `diff --base`,
//! CI reports checked against their schemas, and the pre-commit hooks with the real tool.

use std::path::Path;
use std::process::Command as Process;

use super::common::{case, check_cases, json, portalgen, repo, run, Scratch};

fn schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo().join("schemas/reports").join(name)).unwrap();
    jsonschema::draft202012::new(&json(&text)).unwrap()
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The documents of every YAML file, and every JSON file, of a golden tree.
fn golden_documents(env: &str) -> usize {
    let tree = super::common::read_tree(&repo().join("golden").join(env));
    tree.iter()
        .filter(|(p, _)| !p.starts_with(".portalgen"))
        .map(|(p, b)| {
            let text = String::from_utf8_lossy(b);
            if p.ends_with(".yaml") {
                portalgen::subset::split_documents(&text).len()
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn stdout_is_one_yaml_stream_of_every_document_and_nothing_is_written() {
    let s = Scratch::shipped();
    let (code, text, err) = run(s.cmd().args(["render", "dev", "--stdout"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(!s.root().join("rendered").exists());
    let docs = portalgen::validate::parse_yaml_documents(&text).unwrap();
    assert_eq!(docs.len(), golden_documents("dev"));
    let sources: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# Source: "))
        .collect();
    assert_eq!(sources.len(), docs.len());
    let mut sorted = sources.clone();
    sorted.sort();
    assert_eq!(sources, sorted, "the tree's order");
    // `--out -` is the same stream.
    let (_, dash, _) = run(s.cmd().args(["render", "dev", "--out", "-"]));
    assert_eq!(dash, text);
}

#[test]
fn families_kinds_and_names_choose_documents() {
    let (code, text, _) = run(portalgen().args([
        "render",
        "prod-us",
        "--stdout",
        "--family",
        "kubernetes,prometheus",
        "--kind",
        "deployment,Service",
    ]));
    assert_eq!(code, Some(0));
    let docs = portalgen::validate::parse_yaml_documents(&text).unwrap();
    assert!(!docs.is_empty());
    assert!(
        docs.iter()
            .all(|d| ["Deployment", "Service"].contains(&d.kind())),
        "{text}"
    );
    let (_, text, _) = run(portalgen().args([
        "render",
        "dev",
        "--stdout",
        "--name",
        "portal-app",
        "--kind",
        "Deployment",
    ]));
    assert_eq!(
        portalgen::validate::parse_yaml_documents(&text)
            .unwrap()
            .len(),
        1
    );

    check_cases(
        portalgen,
        [
            case(["render", "dev", "--stdout", "--family", "kubernets"], 2)
                .empty_stdout()
                .stderr("did you mean 'kubernetes'?"),
            case(["validate", "dev", "--kind", "Deploymnet"], 2)
                .stderr("did you mean 'Deployment'?"),
            // Writing part of a tree would prune the rest: refused.
            case(
                [
                    "render",
                    "dev",
                    "--family",
                    "kubernetes",
                    "--out",
                    "/nonexistent",
                ],
                2,
            )
            .stderr("--stdout or --check"),
        ],
    );
}

#[test]
fn every_rendered_kind_is_known_to_the_kind_filter() {
    let mut kinds = std::collections::BTreeSet::new();
    for env in ["dev", "staging", "prod-us", "prod-eu"] {
        for (p, b) in super::common::read_tree(&repo().join("golden").join(env)) {
            if p.ends_with(".yaml") {
                for l in String::from_utf8_lossy(&b).lines() {
                    if let Some(k) = l.strip_prefix("kind: ") {
                        kinds.insert(k.trim().to_owned());
                    }
                }
            }
        }
    }
    let known: std::collections::BTreeSet<String> = portalgen::subset::kinds()
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert!(
        kinds.is_subset(&known),
        "unknown to --kind: {:?}",
        kinds.difference(&known).collect::<Vec<_>>()
    );
}

#[test]
fn subsets_narrow_check_and_diff() {
    let s = Scratch::shipped();
    let out = s.root().join("out");
    s.cmd()
        .args(["render", "dev", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    let rules = out.join("dev/prometheus/rules.yaml");
    let text = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(&rules, format!("{text}# a hand edit\n")).unwrap();
    let check = |family: &str| {
        s.cmd()
            .args(["render", "dev", "--check", "--family", family, "--out"])
            .arg(&out)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(check("kubernetes"), Some(0));
    assert_eq!(check("prometheus"), Some(1));

    let (code, text, _) = run(portalgen().args([
        "diff", "staging", "prod-us", "--kind", "Rollout", "--format", "json",
    ]));
    assert_eq!(code, Some(1));
    let r = json(&text);
    assert_valid(&schema("diff.v1.schema.json"), &r);
    let entries = r["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["object"]["kind"], "Rollout");
    assert_eq!(r["summary"]["changed"], 1);
}

#[test]
fn version_names_the_commit_and_the_schemas() {
    let (code, text, _) = run(portalgen().arg("--version"));
    assert_eq!(code, Some(0));
    assert!(
        text.starts_with(&format!("portalgen {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(text.contains("spec: portalgen.dev/v1alpha1"), "{text}");
    assert!(text.contains("argoproj/argo-cd v"), "{text}");
    assert!(text.contains("cloudflare/cloudflare v5."), "{text}");
    let (_, short, _) = run(portalgen().arg("-V"));
    assert_eq!(short.lines().count(), 1);
}

#[test]
fn color_choice_reaches_clap_errors_and_verbose_says_more() {
    let (code, _, err) = run(portalgen().args(["--color", "always", "rendr"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("\x1b["), "{err}");
    let (_, _, err) = run(portalgen().args(["--color=never", "rendr"]));
    assert!(!err.contains('\x1b') && err.contains("rendr"), "{err}");
    let (_, _, err) = run(portalgen().args(["--color", "always", "render", "nope"]));
    assert!(err.contains("\x1b[1;31merror:"), "{err}");

    let s = Scratch::shipped();
    let (code, _, err) = run(s.cmd().args(["-v", "render", "dev"]));
    assert_eq!(code, Some(0));
    assert!(err.contains("dev: rendered and checked "), "{err}");
    assert!(err.contains("root: "), "{err}");
    let (code, _, err) = run(s.cmd().args(["-q", "render", "dev"]));
    assert_eq!(code, Some(0));
    assert!(
        err.is_empty(),
        "no progress or notes with --quiet off a terminal: {err}"
    );
    assert_eq!(
        s.cmd()
            .args(["-q", "-v", "list"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn completion_offers_environment_names_and_man_page_renders() {
    let (code, text, _) =
        run(portalgen()
            .env("COMPLETE", "fish")
            .args(["--", "portalgen", "render", "pro"]));
    assert_eq!(code, Some(0));
    let names: Vec<&str> = text
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(names, ["prod-eu", "prod-us", "prod"]);
    let (_, text, _) =
        run(portalgen()
            .env("COMPLETE", "fish")
            .args(["--", "portalgen", "diff", "staging", "d"]));
    assert_eq!(
        text.lines()
            .map(|l| l.split('\t').next().unwrap())
            .collect::<Vec<_>>(),
        ["dev"]
    );
    let (_, script, _) = run(portalgen().args(["completions", "bash"]));
    assert!(script.contains("COMPLETE=\"bash\""), "{script}");

    let (code, page, _) = run(portalgen().arg("man"));
    assert_eq!(code, Some(0));
    assert!(page.contains(".TH portalgen 1"), "{page}");
    assert!(page.contains("render"), "{page}");
}

#[test]
fn set_image_edits_one_line_validates_and_renders() {
    let s = Scratch::shipped();
    let spec = s.root().join("environments/dev.yaml");
    let before = std::fs::read_to_string(&spec).unwrap();
    let (code, out, err) = run(s.cmd().args(["set", "image", "dev", "2.16.0"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.is_empty());
    let after = std::fs::read_to_string(&spec).unwrap();
    assert_eq!(
        after,
        before.replace("tag: \"2.15.0-rc.1\"", "tag: \"2.16.0\"")
    );
    let deployment = std::fs::read_to_string(
        s.root()
            .join("rendered/dev/kubernetes/platform/app/deployment.yaml"),
    )
    .unwrap();
    assert!(
        deployment.contains("image: registry.example.com/portal/app:2.16.0\n"),
        "{deployment}"
    );

    // A digest replaces the tag; the primary's replicas are rendered too.
    let digest = format!("sha256:{}", "0123456789abcdef".repeat(4));
    s.cmd()
        .args(["set", "image", "prod", &digest])
        .assert()
        .code(0);
    let prod = std::fs::read_to_string(s.root().join("environments/prod-us.yaml")).unwrap();
    assert!(prod.contains(&format!("digest: \"{digest}\"")), "{prod}");
    assert!(s.root().join("rendered/prod-eu").is_dir());

    // Bad values: exit 2, the spec untouched.
    check_cases(
        || s.cmd(),
        ["latest", "sha256:12", "a/b"].map(|bad| case(["set", "image", "dev", bad], 2)),
    );
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), after);
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Process::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn diff_base_compares_a_revision_with_the_work_tree_without_touching_it() {
    let s = Scratch::shipped();
    let root = s.root();
    git(root, &["init", "-q", "."]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-qm", "base"]);
    s.cmd()
        .args(["set", "image", "dev", "2.16.0", "--no-render"])
        .assert()
        .code(0);
    let status = git(root, &["status", "--porcelain"]);
    let spec = std::fs::read(root.join("environments/dev.yaml")).unwrap();

    let (code, text, err) = run(s.cmd().args(["diff", "--base", "HEAD", "--format", "json"]));
    assert_eq!(code, Some(1), "{err}");
    let r = json(&text);
    assert_valid(&schema("diff-base.v1.schema.json"), &r);
    let envs = r["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 4);
    let dev = envs.iter().find(|e| e["name"] == "dev").unwrap();
    assert_eq!(dev["report"]["summary"]["changed"], 1);
    assert!(envs
        .iter()
        .filter(|e| e["name"] != "dev")
        .all(|e| e["report"]["identical"] == true));

    let (code, md, _) = run(s.cmd().args([
        "diff",
        "--base",
        "HEAD",
        "dev",
        "--format",
        "markdown",
        "--exit-zero",
    ]));
    assert_eq!(code, Some(0));
    assert!(md.contains("| dev | 1 | 0 | 0 |"), "{md}");
    assert!(
        md.contains("<details><summary>~ <code>Deployment portal-system/portal-app</code>"),
        "{md}"
    );
    assert!(
        md.contains("+          image: registry.example.com/portal/app:2.16.0"),
        "{md}"
    );

    // Nothing in the work tree or the index moved.
    assert_eq!(git(root, &["status", "--porcelain"]), status);
    assert_eq!(
        std::fs::read(root.join("environments/dev.yaml")).unwrap(),
        spec
    );
    let (code, _, err) = run(s.cmd().args(["diff", "--base", "no-such-ref"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("no-such-ref"), "{err}");
}

#[test]
fn reports_match_their_schemas_sarif_and_junit() {
    let s = Scratch::shipped();
    // One spec finding (an unknown tier) and a valid environment.
    let dev = s.root().join("environments/dev.yaml");
    let text = std::fs::read_to_string(&dev).unwrap();
    std::fs::write(&dev, text.replace("tier: dev", "tier: dve")).unwrap();

    let (code, text, _) = run(s.cmd().args(["validate", "--all", "--format", "json"]));
    assert_eq!(code, Some(2));
    let r = json(&text);
    assert_valid(&schema("validate.v1.schema.json"), &r);
    let f = &r["findings"][0];
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64(), f["path"].as_str()),
        (Some("environments/dev.yaml"), Some(7), Some("spec.tier"))
    );

    let sarif_schema =
        json(std::fs::read_to_string(repo().join("tests/data/sarif-schema-2.1.0.json")).unwrap());
    let sarif = jsonschema::draft4::new(&sarif_schema).unwrap();
    let (_, text, _) = run(s.cmd().args(["validate", "--all", "--format", "sarif"]));
    let log = json(&text);
    assert_valid(&sarif, &log);
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "portalgen/spec");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );

    let (_, text, _) = run(s.cmd().args(["validate", "--all", "--format", "junit"]));
    let xml = roxmltree::Document::parse(&text).unwrap();
    let suites: Vec<_> = xml
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 4);
    let failures: Vec<_> = xml
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .collect();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].attribute("message").unwrap().contains("dve"));

    std::fs::write(
        &dev,
        std::fs::read_to_string(&dev)
            .unwrap()
            .replace("tier: dve", "tier: dev"),
    )
    .unwrap();
    s.cmd().args(["render", "--all", "-q"]).assert().code(0);
    let deployment = s
        .root()
        .join("rendered/dev/kubernetes/platform/app/deployment.yaml");
    std::fs::write(&deployment, "# edited\n").unwrap();
    let (code, text, _) = run(s
        .cmd()
        .args(["render", "--all", "--check", "--format", "json"]));
    assert_eq!(code, Some(1));
    let r = json(&text);
    assert_valid(&schema("check.v1.schema.json"), &r);
    assert_eq!(
        r["environments"][0]["changed"][0],
        "kubernetes/platform/app/deployment.yaml"
    );
    let (_, text, _) = run(s
        .cmd()
        .args(["render", "--all", "--check", "--format", "sarif"]));
    assert_valid(&sarif, &json(&text));
    let (_, text, _) = run(s
        .cmd()
        .args(["render", "--all", "--check", "--format", "junit"]));
    let xml = roxmltree::Document::parse(&text).unwrap();
    let failure = xml
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(failure.attribute("type"), Some("portalgen/stale"));
    let (_, text, _) = run(s.cmd().args(["diff", "dev", "--format", "sarif"]));
    assert_valid(&sarif, &json(&text));

    let (code, text, _) = run(s.cmd().args(["list", "--format", "json"]));
    assert_eq!(code, Some(0));
    assert_valid(&schema("list.v1.schema.json"), &json(&text));
    // The schemas are embedded too.
    let (code, text, _) = run(s.cmd().args(["schema", "--report", "list"]));
    assert_eq!(code, Some(0));
    assert_eq!(
        json(&text)["$id"],
        json(std::fs::read_to_string(repo().join("schemas/reports/list.v1.schema.json")).unwrap())
            ["$id"]
    );
}

#[test]
fn the_system_hooks_run_with_the_real_pre_commit() {
    if Process::new("pre-commit")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("pre-commit is not installed (pip install pre-commit): scripts/precommit-smoke.sh not run");
        return;
    }
    let out = Process::new("bash")
        .arg(repo().join("scripts/precommit-smoke.sh"))
        .arg(env!("CARGO_BIN_EXE_portalgen"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.ends_with("ok\n"), "{text}");
}
