//! `validate`: every finding of every environment, as text and as JSON, and its exit
//! statuses.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::common::{case, check_cases, json, portalgen, repo, stdout_of, Scratch};
use super::status;

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
