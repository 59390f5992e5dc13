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

#[cfg(unix)]
#[test]
fn a_symlinked_output_root_is_refused_and_its_target_untouched() {
    use std::os::unix::fs::PermissionsExt;
    let s = Scratch::new();
    s.write_env("gcloud", &minimal_spec("gcloud", "staging", 2));
    let elsewhere = tempfile::tempdir().unwrap();
    let config = elsewhere.path().join("gcloud");
    std::fs::create_dir_all(config.join("empty")).unwrap();
    std::fs::write(config.join("credentials.db"), "keep me").unwrap();
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), s.root().join("rendered")).unwrap();
    let before = read_tree(elsewhere.path());
    for args in [&["gcloud"][..], &["gcloud", "--check"]] {
        let r = render(&s, args);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr_of(&r));
        assert!(stderr_of(&r).contains("symbolic link"), "{}", stderr_of(&r));
    }
    let r = s.cmd().args(["diff", "gcloud"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    assert_eq!(read_tree(elsewhere.path()), before);
    assert!(config.join("empty").is_dir());
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    // A symlink further down the way (`--out` inside the root) is refused the same way.
    std::fs::remove_file(s.root().join("rendered")).unwrap();
    std::fs::create_dir(s.root().join("build")).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), s.root().join("build/out")).unwrap();
    let out = s.root().join("build/out/trees");
    let r = render(&s, &["gcloud", "--out", out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    assert_eq!(read_tree(elsewhere.path()), before);
}

#[cfg(unix)]
#[test]
fn a_spec_that_is_a_symlink_is_refused_without_echoing_its_target() {
    let s = Scratch::new();
    let secret_dir = tempfile::tempdir().unwrap();
    let token = format!("ghp_{}", "Zx9Y8w7V6u5T4s3R2q1P0o9N8m7L6k5J4i3H");
    let target = secret_dir.path().join("hosts.yml");
    std::fs::write(&target, format!("github.com:\n    oauth_token: {token}\nroot:x:0:0:\n")).unwrap();
    std::os::unix::fs::symlink(&target, s.root().join("environments/leak.yaml")).unwrap();
    for args in [
        &["render", "leak"][..],
        &["validate", "leak"],
        &["validate", "leak", "--format", "json"],
    ] {
        let r = s.cmd().args(args).output().unwrap();
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr_of(&r));
        let all = format!("{}{}", stderr_of(&r), String::from_utf8_lossy(&r.stdout));
        assert!(all.contains("symbolic link"), "{args:?}: {all}");
        assert!(!all.contains("ghp_") && !all.contains("root:x") && !all.contains("oauth"), "{all}");
    }
    // Nor is a spec reached through a symlinked environments/ folder read.
    let s2 = Scratch::new();
    std::fs::remove_dir(s2.root().join("environments")).unwrap();
    std::fs::write(secret_dir.path().join("x.yaml"), format!("token: {token}\n")).unwrap();
    std::os::unix::fs::symlink(secret_dir.path(), s2.root().join("environments")).unwrap();
    let r = s2.cmd().args(["validate", "x"]).output().unwrap();
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    assert!(!stderr_of(&r).contains("ghp_"), "{}", stderr_of(&r));
}

#[test]
fn spec_files_that_would_be_skipped_are_errors() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "staging", 2));
    std::fs::write(s.root().join("environments/target.yml"), minimal_spec("target", "dev", 1)).unwrap();
    let r = render(&s, &["--all"]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
    assert!(stderr_of(&r).contains("end in .yaml"), "{}", stderr_of(&r));
    assert!(!s.root().join("rendered").exists());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        std::fs::remove_file(s.root().join("environments/target.yml")).unwrap();
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
        std::fs::write(s.root().join("environments").join(name), "x").unwrap();
        let r = render(&s, &["--all"]);
        assert_eq!(r.status.code(), Some(2), "{}", stderr_of(&r));
        assert!(stderr_of(&r).contains("not UTF-8"), "{}", stderr_of(&r));
    }
}
