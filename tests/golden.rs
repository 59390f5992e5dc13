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
fn batched_and_unbatched_renders_on_one_or_many_threads_give_the_same_bytes() {
    // A render streams its files in batches (PORTALGEN_BATCH_FILES; 0: one batch of
    // everything): the bytes written and `--check`'s verdict must not depend on the batch
    // size or the number of threads. Batches of 1 and 7 cut every folder in pieces.
    let runs = [("0", "1"), ("0", "8"), ("1", "1"), ("7", "8"), ("7", "1")];
    let dirs: Vec<_> = runs.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    for ((batch, threads), dir) in runs.iter().zip(&dirs) {
        render_all(
            portalgen()
                .env("PORTALGEN_BATCH_FILES", batch)
                .env("RAYON_NUM_THREADS", threads),
            dir.path(),
        );
    }
    let first = read_tree(dirs[0].path());
    assert!(first.len() > 400);
    for ((batch, threads), dir) in runs.iter().zip(&dirs).skip(1) {
        assert!(
            read_tree(dir.path()) == first,
            "batch {batch}, {threads} thread(s): other bytes than one batch on one thread"
        );
    }
    // A tree written in batches of 7 is up to date for a check in one batch, and the
    // reverse.
    for (batch, dir) in [("0", &dirs[3]), ("7", &dirs[0])] {
        let check = portalgen()
            .env("PORTALGEN_BATCH_FILES", batch)
            .args(["render", "--all", "--check", "--out"])
            .arg(dir.path())
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "check in batches of {batch}: {}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
}

#[test]
fn a_render_writes_only_the_files_that_changed_and_links_the_others() {
    use std::os::unix::fs::MetadataExt;
    let out = tempfile::tempdir().unwrap();
    render_all(portalgen().env("PORTALGEN_BATCH_FILES", "5"), out.path());
    let env = std::fs::read_dir(out.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join(".portalgen-manifest").is_file())
        .expect("a rendered environment");
    let listed = std::fs::read_to_string(env.join(".portalgen-manifest")).unwrap();
    let files: Vec<&str> = listed.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(files.len() > 20);
    let (edited, kept) = (files[files.len() / 2], files[0]);
    let inode = |rel: &str| std::fs::metadata(env.join(rel)).unwrap().ino();
    let kept_inode = inode(kept);
    // An owned file edited by hand: the render writes it again, and only it.
    std::fs::write(env.join(edited), "edited\n").unwrap();
    let edited_inode = inode(edited);
    render_all(portalgen().env("PORTALGEN_BATCH_FILES", "5"), out.path());
    assert_eq!(
        inode(kept),
        kept_inode,
        "{kept} was written again, not linked"
    );
    assert_ne!(
        inode(edited),
        edited_inode,
        "{edited} was not written again"
    );
    assert_ne!(std::fs::read(env.join(edited)).unwrap(), b"edited\n");

    // An owned file replaced by a hard link to a file outside the root, with the same
    // bytes: it is written anew, so the new tree shares no inode with the outside file.
    let outside = tempfile::tempdir().unwrap();
    let planted = outside.path().join("planted");
    std::fs::write(&planted, std::fs::read(env.join(kept)).unwrap()).unwrap();
    std::fs::remove_file(env.join(kept)).unwrap();
    std::fs::hard_link(&planted, env.join(kept)).unwrap();
    // Another file differs, so the render builds a new tree rather than keeping the old.
    std::fs::write(env.join(edited), "edited again\n").unwrap();
    render_all(portalgen().env("PORTALGEN_BATCH_FILES", "5"), out.path());
    let planted_inode = std::fs::metadata(&planted).unwrap().ino();
    assert_ne!(
        inode(kept),
        planted_inode,
        "{kept} shares the outside file's inode"
    );
    assert_eq!(std::fs::metadata(&planted).unwrap().nlink(), 1);

    let check = portalgen()
        .args(["render", "--all", "--check", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(check.status.success());
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
