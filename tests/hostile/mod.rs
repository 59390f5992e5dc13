//! Hostile input as an attacker with push access shapes it (issue 14). Every case is a
//! CLI regression test: the command must refuse cleanly (exit 2, old tree intact) or
//! succeed without losing or exposing anything.

use std::path::Path;

use super::common::{minimal_spec, read_tree, Scratch};

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn render(s: &Scratch, args: &[&str]) -> std::process::Output {
    s.cmd().arg("render").args(args).output().unwrap()
}

#[test]
fn a_forged_checks_record_lets_no_secret_through() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "staging", 2));
    assert!(render(&s, &["app"]).status.success());
    let out = s.root().join("rendered/app");
    assert!(!out.join(".portalgen-validated").exists(), "no record is written");
    let before = read_tree(&out);
    let leaky = minimal_spec("app", "staging", 2).replace(
        "https://github.com/example/gitops.git",
        "https://deploy:hunter2secret@github.com/example/gitops.git",
    );
    s.write_env("app", &leaky);
    // A record claiming every possible file passed, in the old format.
    let mut forged = String::from("stamp 0000\n");
    for path in before.keys() {
        forged.push_str(&format!("{}  {path}\n", "ab".repeat(32)));
    }
    std::fs::write(out.join(".portalgen-validated"), &forged).unwrap();
    for args in [&["app"][..], &["app", "--check"]] {
        let r = render(&s, args);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr_of(&r));
        let err = stderr_of(&r);
        assert!(err.contains("app.yaml:17:"), "{err}");
        assert!(err.contains("a spec never holds a secret"), "{err}");
        assert!(!err.contains("hunter2secret"), "{err}");
        assert!(!err.contains("up to date"), "{err}");
    }
    // The same through a template override: the rendered-file check (PG-S002) runs even
    // though the record claims the file passed.
    s.write_env("app", &minimal_spec("app", "staging", 2));
    let templates = s.root().join("tpl/kubernetes");
    std::fs::create_dir_all(&templates).unwrap();
    let original = std::fs::read_to_string(
        super::common::repo().join("templates/kubernetes/tenant.yaml"),
    )
    .unwrap();
    std::fs::write(
        templates.join("tenant.yaml"),
        format!("# https://deploy:hunter2secret@example.com\n{original}"),
    )
    .unwrap();
    for args in [&["app", "--templates", "tpl"][..], &["app", "--check", "--templates", "tpl"]] {
        let r = render(&s, args);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr_of(&r));
        let err = stderr_of(&r);
        assert!(err.contains("PG-S002"), "{err}");
        assert!(!err.contains("hunter2secret"), "{err}");
    }
    assert_eq!(read_tree(&out).len(), before.len() + 1, "nothing written");
}

#[test]
fn golden_trees_hold_no_checks_record() {
    let golden = super::common::repo().join("golden");
    for env in std::fs::read_dir(&golden).unwrap() {
        let dir = env.unwrap().path();
        assert!(!dir.join(".portalgen-validated").exists(), "{}", dir.display());
    }
}
