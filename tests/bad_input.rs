//! The bad-input corpus: every case must exit 2, name the file, the line (and column) and
//! the field, and leave the output directory exactly as it was.
//!
//! Each spec case replaces `environments/bad.yaml` of a scratch project whose output
//! folder already holds a good render of `bad`; `render bad --out out` and `validate bad`
//! must both fail with status 2 ([`spec_cases`] holds them). The command-line cases follow,
//! then bad system files ([`system`]), hostile trees and specs ([`hostile`]) and renders
//! killed while they write ([`crash_safety`]).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{read_tree, stderr_of, Scratch};

/// The good spec every case starts from. Line numbers below refer to it.
const BASE: &str = "apiVersion: portalgen.dev/v1alpha1
kind: Environment
metadata:
  name: bad
spec:
  tier: staging
  region: us-east-1
  domain: bad.example.com
  image:
    repository: registry.example.com/portal/app
    tag: \"1.0.0\"
  tenants:
    count: 3
  cloudflare:
    zoneId: 0123456789abcdef0123456789abcdef
  gitops:
    repoURL: https://github.com/example/gitops.git
    targetRevision: main
  alerting:
    slackChannel: \"#alerts\"
";

/// A scratch project with the good `bad` environment rendered into `out/`, and the specs
/// the replica cases refer to.
fn project() -> (Scratch, BTreeMap<String, Vec<u8>>) {
    let s = Scratch::new();
    s.write_env("bad", BASE);
    s.write_env("prim", &common::minimal_spec("prim", "staging", 1));
    s.write_env("pprod", &common::minimal_spec("pprod", "prod", 1));
    s.write_env(
        "rep",
        &common::minimal_spec("rep", "staging", 1).replace(
            "  tier: staging\n",
            "  tier: staging\n  role: replica\n  replicaOf: prim\n",
        ),
    );
    s.cmd()
        .args(["render", "bad", "--out", "out"])
        .assert()
        .success();
    let before = read_tree(&s.root().join("out"));
    assert!(before.len() > 10, "the good render wrote files");
    (s, before)
}

/// What a bad file must make `render bad --out out` and `validate bad` do: exit 2, name
/// the file and line (`location`), the field and the message (and the hint), print none of
/// `secrets`, never panic, and leave `out/` as it was.
struct Refusal<'a> {
    location: &'a str,
    field: &'a str,
    message: &'a str,
    hint: Option<&'a str>,
    secrets: &'a [&'a str],
}

/// Where the two commands of case `name` fall short of `want`: one line per command, with
/// what it printed.
fn refusal_failures(
    s: &Scratch,
    before: &BTreeMap<String, Vec<u8>>,
    name: &str,
    want: &Refusal,
) -> Vec<String> {
    let mut failures = Vec::new();
    for command in ["render", "validate"] {
        let mut cmd = s.cmd();
        cmd.arg(command).arg("bad");
        if command == "render" {
            cmd.args(["--out", "out"]);
        }
        let out = cmd.output().unwrap();
        // render reports errors on stderr; validate's findings are its output (stdout).
        let err = format!(
            "{}{}",
            stderr_of(&out),
            String::from_utf8_lossy(&out.stdout)
        );
        let field = format!("at: {}\n", want.field);
        let mut problems = Vec::new();
        if out.status.code() != Some(2) {
            problems.push(format!("exit status {:?}, expected 2", out.status.code()));
        }
        if !err.contains(want.location) {
            problems.push(format!("no {:?}", want.location));
        }
        if !format!("{err}\n").contains(&field) {
            problems.push(format!("no {field:?}"));
        }
        if !err.contains(want.message) {
            problems.push(format!("no {:?}", want.message));
        }
        if let Some(h) = want.hint {
            if !err.contains(h) {
                problems.push(format!("no hint {h:?}"));
            }
        }
        if want.secrets.iter().any(|secret| err.contains(secret)) {
            problems.push("echoed a secret value".into());
        }
        if err.contains("panicked") {
            problems.push("panicked".into());
        }
        if read_tree(&s.root().join("out")) != *before {
            problems.push("the output directory changed".into());
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name} ({command}): {}\n{err}",
                problems.join("; ")
            ));
        }
    }
    failures
}

#[test]
fn every_bad_spec_is_refused_with_file_line_and_field() {
    let all = cases();
    assert!(all.len() >= 40, "the corpus has {} cases", all.len());
    let (s, before) = project();
    let spec = s.root().join("environments/bad.yaml");
    let mut failures = Vec::new();
    for c in &all {
        std::fs::write(&spec, &c.content).unwrap();
        let location = format!("environments/bad.yaml:{}:", c.line);
        let want = Refusal {
            location: &location,
            field: &c.field,
            message: c.message,
            hint: None,
            secrets: &[],
        };
        failures.extend(refusal_failures(&s, &before, c.name, &want));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// Runs `render` with `args` in `s` and checks: status 2, the message holds `needle`, `out/`
/// is unchanged.
fn refused(s: &Scratch, before: &BTreeMap<String, Vec<u8>>, args: &[&str], needle: &str) {
    let out = s.cmd().args(args).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(needle),
        "{args:?}: expected {needle:?} in:\n{err}"
    );
    assert_eq!(
        &read_tree(&s.root().join("out")),
        before,
        "{args:?} changed out/"
    );
}

#[test]
fn command_line_errors_exit_2_and_touch_nothing() {
    let (s, before) = project();
    for (args, needle) in [
        (
            &["render", "--out", "out"][..],
            "name an environment or pass --all",
        ),
        (&["validate"], "name an environment or pass --all"),
        (&["render", "nope", "--out", "out"], "no environment 'nope'"),
        (&["render", "bad", "--all", "--out", "out"], "not both"),
    ] {
        refused(&s, &before, args, needle);
    }

    // --out names a file: refused, the file untouched.
    let file = s.root().join("out-file");
    std::fs::write(&file, "keep me").unwrap();
    refused(
        &s,
        &before,
        &["render", "bad", "--out", "out-file"],
        "out-file is not a folder",
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
    // ... or a path below a file.
    refused(
        &s,
        &before,
        &["render", "bad", "--out", "out-file/sub"],
        "out-file/sub",
    );

    // The spec is a folder, not a file.
    std::fs::remove_file(s.root().join("environments/bad.yaml")).unwrap();
    std::fs::create_dir(s.root().join("environments/bad.yaml")).unwrap();
    refused(
        &s,
        &before,
        &["render", "bad", "--out", "out"],
        "environments/bad.yaml:1:1: not a regular file",
    );
}

#[test]
fn symlinks_in_the_output_are_never_followed() {
    let (s, before) = project();
    let elsewhere = s.root().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("precious.txt"), "mine").unwrap();
    let snapshot = |p: &Path| read_tree(p);
    let elsewhere_before = snapshot(&elsewhere);

    // <out>/<env> is a symlink to a folder elsewhere: refused.
    let out2 = s.root().join("out2");
    std::fs::create_dir(&out2).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out2.join("bad")).unwrap();
    refused(
        &s,
        &before,
        &["render", "bad", "--out", "out2"],
        "not a folder (a symlink or a file)",
    );
    assert_eq!(snapshot(&elsewhere), elsewhere_before);

    // A symlink inside <out>/<env> where portalgen needs a folder: refused, nothing written
    // through it.
    let env_dir = s.root().join("out/bad");
    std::fs::rename(env_dir.join("kubernetes"), s.root().join("moved")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env_dir.join("kubernetes")).unwrap();
    let before_link = read_tree(&s.root().join("out"));
    refused(
        &s,
        &before_link,
        &["render", "bad", "--out", "out"],
        "portalgen did not write: kubernetes",
    );
    assert_eq!(snapshot(&elsewhere), elsewhere_before);

    // A foreign symlink elsewhere in the tree is kept as a symlink, its target untouched.
    std::fs::remove_file(env_dir.join("kubernetes")).unwrap();
    std::fs::rename(s.root().join("moved"), env_dir.join("kubernetes")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("precious.txt"), env_dir.join("notes.txt")).unwrap();
    s.write_env("bad", &BASE.replace("count: 3", "count: 4"));
    s.cmd()
        .args(["render", "bad", "--out", "out"])
        .assert()
        .success();
    let link = std::fs::symlink_metadata(env_dir.join("notes.txt")).unwrap();
    assert!(link.file_type().is_symlink());
    assert_eq!(snapshot(&elsewhere), elsewhere_before);
}

/// Hostile trees and specs (issue 14): forged records, symlinks, secrets, data loss.
#[path = "hostile/mod.rs"]
mod hostile;

/// A render killed (SIGKILL) or failing while it writes: the old tree or the new one.
#[path = "crash_safety/mod.rs"]
mod crash_safety;

/// The bad environment specs, by theme.
#[path = "bad_input/spec_cases.rs"]
mod spec_cases;
use spec_cases::cases;

/// Bad system files, and environment specs that do not fit the system file.
#[path = "bad_input/system.rs"]
mod system;
