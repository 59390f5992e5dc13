//! Every shipped environment renders to exactly the bytes in `golden/<env>/`.
//!
//! So does every shipped example: `examples/<example>/golden/<env>/`.
//!
//! To regenerate after an intended change, run `scripts/regen-goldens.sh` and review the
//! diff like code.

use crate::common;
#[path = "golden/operators.rs"]
mod operators;
#[path = "golden/yamllint.rs"]
mod yamllint;

use common::{portalgen, read_tree, render_all, repo};

fn shipped() -> Vec<String> {
    environments_of(&repo())
}

fn environments_of(root: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("environments"))
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
    render_all(&mut portalgen(), out.path());
    let names = shipped();
    assert_eq!(names, ["dev", "prod-eu", "prod-us", "staging"]);
    compare_with_golden(&repo().join("golden"), out.path(), &names);
}

#[test]
fn every_shipped_example_matches_its_golden_tree() {
    let mut examples: Vec<_> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    examples.sort();
    let names: Vec<String> = examples
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["microservices", "plugin-portal"]);
    for example in &examples {
        assert!(
            example.join("portalgen.yaml").is_file(),
            "{} has no system file",
            example.display()
        );
        let out = tempfile::tempdir().unwrap();
        render_all(portalgen().arg("--root").arg(example), out.path());
        let envs = environments_of(example);
        assert!(!envs.is_empty());
        compare_with_golden(&example.join("golden"), out.path(), &envs);
    }
}

/// Each environment's fresh render under `fresh/<env>` equals `golden/<env>`, byte for byte.
fn compare_with_golden(
    golden_root: &std::path::Path,
    fresh_root: &std::path::Path,
    names: &[String],
) {
    for name in names {
        let golden = read_tree(&golden_root.join(name));
        let fresh = read_tree(&fresh_root.join(name));
        assert!(
            !golden.is_empty(),
            "{}/{name} is missing: run scripts/regen-goldens.sh",
            golden_root.display()
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
                    "{name}/{path} differs from its golden (regenerate with `scripts/regen-goldens.sh` if intended):\n{}",
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
        render_all(&mut portalgen(), dir.path());
    }
    let ta = read_tree(a.path());
    assert!(
        ta.len() > 400,
        "expected the whole tree, got {} files",
        ta.len()
    );
    assert_eq!(ta, read_tree(b.path()));
}

#[test]
fn one_thread_and_many_threads_give_the_same_bytes() {
    // Rendering, checking and writing run on every core (rayon); the output must not
    // depend on the schedule.
    let one = tempfile::tempdir().unwrap();
    let many = tempfile::tempdir().unwrap();
    render_all(portalgen().env("RAYON_NUM_THREADS", "1"), one.path());
    render_all(portalgen().env("RAYON_NUM_THREADS", "8"), many.path());
    let a = read_tree(one.path());
    assert!(a.len() > 400);
    assert_eq!(a, read_tree(many.path()));
}

#[test]
fn a_second_render_over_its_own_tree_changes_nothing_and_prunes_the_old_checks_record() {
    let out = tempfile::tempdir().unwrap();
    let render = || {
        portalgen()
            .args(["render", "--all", "--out"])
            .arg(out.path())
            .output()
            .unwrap()
    };
    assert!(render().status.success());
    let first = read_tree(out.path());
    let again = render();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("prod-us: unchanged"));
    assert_eq!(read_tree(out.path()), first);
    // No file in the tree vouches for anything: the checks record of earlier versions is
    // pruned (and `--check` calls the tree stale until it is).
    std::fs::write(
        out.path().join("dev/.portalgen-validated"),
        "stamp forged\n",
    )
    .unwrap();
    let check = portalgen()
        .args(["render", "dev", "--check", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert!(render().status.success());
    assert_eq!(read_tree(out.path()), first, "the record is pruned");
}

#[test]
fn every_argo_cd_source_path_is_a_folder_of_the_rendered_tree() {
    // Argo CD fails an Application whose source folder does not exist.
    for env in shipped() {
        let dir = repo().join("golden").join(&env).join("argocd");
        let mut checked = 0;
        for (file, bytes) in read_tree(&dir) {
            let text = String::from_utf8(bytes).unwrap();
            for line in text.lines() {
                let Some(path) = line.trim().strip_prefix("path: ") else {
                    continue;
                };
                let rel = path
                    .strip_prefix(&format!("rendered/{env}/"))
                    .unwrap_or_else(|| {
                        panic!("{env}/argocd/{file}: {path} is outside the environment")
                    });
                let folder = repo().join("golden").join(&env).join(rel);
                assert!(
                    folder.is_dir(),
                    "{env}/argocd/{file}: {path} is not a rendered folder"
                );
                checked += 1;
            }
        }
        assert!(checked >= 3, "{env}: only {checked} source paths");
    }
}
