//! Every shipped environment renders to exactly the bytes in `golden/<env>/`.
//!
//! To regenerate after an intended change, run
//! `cargo run --release -- render --all --out golden` and review the diff like code.

mod common;

use common::{portalgen, read_tree, repo};

fn shipped() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("environments"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_shipped_environment_matches_its_golden_tree() {
    let out = tempfile::tempdir().unwrap();
    portalgen()
        .args(["render", "--all", "--quiet", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let names = shipped();
    assert_eq!(names, ["dev", "prod-eu", "prod-us", "staging"]);
    for name in names {
        let golden = read_tree(&repo().join("golden").join(&name));
        let fresh = read_tree(&out.path().join(&name));
        assert!(
            !golden.is_empty(),
            "golden/{name} is missing: run cargo run --release -- render --all --out golden"
        );
        let only_golden: Vec<_> = golden.keys().filter(|k| !fresh.contains_key(*k)).collect();
        let only_fresh: Vec<_> = fresh.keys().filter(|k| !golden.contains_key(*k)).collect();
        assert!(only_golden.is_empty() && only_fresh.is_empty(),
            "{name}: files differ: only in golden {only_golden:?}, only in fresh render {only_fresh:?}");
        for (path, bytes) in &golden {
            if fresh[path] != *bytes {
                let diff = similar::TextDiff::from_lines(
                    std::str::from_utf8(bytes).unwrap_or(""),
                    std::str::from_utf8(&fresh[path]).unwrap_or(""),
                );
                panic!(
                    "{name}/{path} differs from its golden (regenerate with `cargo run --release -- render --all --out golden` if intended):\n{}",
                    diff.unified_diff().context_radius(3)
                );
            }
        }
    }
}

#[test]
fn rendering_twice_gives_the_same_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    for dir in [&a, &b] {
        portalgen()
            .args(["render", "--all", "--quiet", "--out"])
            .arg(dir.path())
            .assert()
            .success();
    }
    let ta = read_tree(a.path());
    assert!(
        ta.len() > 400,
        "expected the whole tree, got {} files",
        ta.len()
    );
    assert_eq!(ta, read_tree(b.path()));
}
