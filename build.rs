//! Embeds `templates/` and `schemas/` in the binary, so that it runs from any folder.
//! Writes `$OUT_DIR/assets.rs` with one `(relative path, include_str!(…))` per file,
//! sorted by path so that the build is reproducible.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Writes the `(relative path, text)` table `name` of the files under `root`, leaving out
/// those under `root/<skip>/`.
fn emit(name: &str, root: &Path, skip: Option<&str>, file: &mut fs::File) {
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(root, &mut files);
    if let Some(skip) = skip {
        files.retain(|f| !f.starts_with(root.join(skip)));
    }
    files.sort();
    writeln!(file, "pub static {name}: &[(&str, &str)] = &[").unwrap();
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        writeln!(
            file,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .unwrap();
    }
    writeln!(file, "];").unwrap();
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    let mut file = fs::File::create(out).unwrap();
    emit("TEMPLATES", &manifest.join("templates"), None, &mut file);
    // The reports' schemas describe portalgen's own output, not what it checks: they have a
    // table of their own, so `--kind` and the CRD index never see them.
    emit(
        "SCHEMAS",
        &manifest.join("schemas"),
        Some("reports"),
        &mut file,
    );
    emit(
        "REPORT_SCHEMAS",
        &manifest.join("schemas/reports"),
        None,
        &mut file,
    );
    println!("cargo:rustc-env=PORTALGEN_COMMIT={}", git_commit(&manifest));
    println!("cargo:rerun-if-env-changed=PORTALGEN_COMMIT");
    println!(
        "cargo:rustc-env=PORTALGEN_SCHEMA_VERSIONS={}",
        schema_versions(&manifest.join("schemas"))
    );
}

/// The commit portalgen is built from: `$PORTALGEN_COMMIT` when set (a build from a source
/// archive, e.g. the container build, has no `.git`), else `git rev-parse`, else `unknown`.
/// A work tree with changes to tracked files is marked `-dirty`.
fn git_commit(manifest: &Path) -> String {
    if let Ok(c) = std::env::var("PORTALGEN_COMMIT") {
        if !c.trim().is_empty() {
            return c.trim().to_owned();
        }
    }
    let git = |args: &[&str]| -> Option<String> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(manifest)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let Some(commit) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown".to_owned();
    };
    // Build again when HEAD moves (a commit, a checkout).
    for what in ["HEAD", "index"] {
        if let Some(p) = git(&["rev-parse", "--path-format=absolute", "--git-path", what]) {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    }
}

/// The upstream releases the embedded schemas were generated from, as each schema's
/// `$comment` names them (`argoproj/argo-cd v3.5.1`), without duplicates, sorted.
fn schema_versions(schemas: &Path) -> String {
    let mut files = Vec::new();
    collect(schemas, &mut files);
    let mut found = std::collections::BTreeSet::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap_or_default();
        let Some(rest) = text.split("\"$comment\": \"").nth(1) else {
            continue;
        };
        let words: Vec<&str> = rest.split_whitespace().take(12).collect();
        if let Some(i) = words.iter().position(|w| *w == "from") {
            if let (Some(repo), Some(version)) = (words.get(i + 1), words.get(i + 2)) {
                if repo.contains('/') && !words[..i].contains(&"provider") {
                    found.insert(format!("{repo} {version}"));
                }
            }
        }
        if let Some(i) = words
            .iter()
            .position(|w| *w == "provider")
            .filter(|i| *i > 0)
        {
            if let (Some(repo), Some(version)) = (words.get(i - 1), words.get(i + 1)) {
                found.insert(format!("{repo} {version}"));
            }
        }
    }
    found.into_iter().collect::<Vec<_>>().join(", ")
}
