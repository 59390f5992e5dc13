//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The repository root (where `environments/` and `golden/` are).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The portalgen binary, run from the repository root.
pub fn portalgen() -> Command {
    let mut cmd = Command::cargo_bin("portalgen").unwrap();
    cmd.current_dir(repo())
        .env_remove("NO_COLOR")
        .env_remove("PORTALGEN_TEST_FAIL_AFTER_FILES")
        .env_remove("PORTALGEN_TEST_WRITE_DURING_RENDER");
    cmd
}

/// Runs `cmd` as `render --all --quiet --out OUT` and asserts that it succeeds.
pub fn render_all(cmd: &mut Command, out: &Path) {
    cmd.args(["render", "--all", "--quiet", "--out"])
        .arg(out)
        .assert()
        .success();
}

/// Every file under `dir` (recursively, not following symlinks) with its bytes, by
/// relative path.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let ft = entry.file_type().unwrap();
            let path = entry.path();
            if ft.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = if ft.is_symlink() {
                    format!("-> {}", std::fs::read_link(&path).unwrap().display()).into_bytes()
                } else {
                    std::fs::read(&path).unwrap()
                };
                out.insert(rel, bytes);
            }
        }
    }
    out
}

/// A scratch project: a temporary root with `environments/` holding the given specs.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("environments")).unwrap();
        Scratch { dir }
    }

    /// A scratch project with copies of the shipped environments.
    pub fn shipped() -> Scratch {
        let s = Scratch::new();
        for entry in std::fs::read_dir(repo().join("environments")).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(
                &path,
                s.root()
                    .join("environments")
                    .join(path.file_name().unwrap()),
            )
            .unwrap();
        }
        s
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write_env(&self, name: &str, text: &str) -> PathBuf {
        let path = self
            .root()
            .join("environments")
            .join(format!("{name}.yaml"));
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn cmd(&self) -> Command {
        let mut cmd = portalgen();
        cmd.current_dir(self.root());
        cmd
    }
}

/// A minimal valid spec named `name` of tier `tier`.
pub fn minimal_spec(name: &str, tier: &str, tenants: u32) -> String {
    format!(
        "apiVersion: portalgen.dev/v1alpha1
kind: Environment
metadata:
  name: {name}
spec:
  tier: {tier}
  region: us-east-1
  domain: {name}.example.com
  image:
    repository: registry.example.com/portal/app
    tag: \"1.0.0\"
  tenants:
    count: {tenants}
  cloudflare:
    zoneId: 0123456789abcdef0123456789abcdef
  gitops:
    repoURL: https://github.com/example/gitops.git
    targetRevision: main
  alerting:
    slackChannel: \"#alerts\"
"
    )
}
