//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Output;

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

    /// Writes the system file `portalgen.yaml` at the root.
    pub fn write_system(&self, text: &str) -> PathBuf {
        let path = self.root().join("portalgen.yaml");
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

/// What a command printed on stdout (it must be UTF-8).
pub fn stdout_of(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// What a command printed on stderr.
pub fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd`: its exit status, stdout and stderr (both must be UTF-8).
pub fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `text` as JSON; the text is shown when it is not.
pub fn json(text: impl AsRef<[u8]>) -> serde_json::Value {
    let text = text.as_ref();
    serde_json::from_slice(text)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", String::from_utf8_lossy(text)))
}

/// Every document of a multi-document YAML stream (empty documents left out).
pub fn yaml_documents(text: &str) -> Vec<serde_json::Value> {
    serde_saphyr::from_multiple::<serde_json::Value>(text)
        .unwrap()
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

/// Runs `cmd` (a `render --stdout`), asserts that it succeeds, and returns the documents
/// it printed.
pub fn stream(cmd: &mut Command) -> Vec<serde_json::Value> {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    yaml_documents(&stdout_of(&out))
}

/// One row of a table of command-line cases: the arguments, the exit status the command
/// must end with, and what its output must hold (see [`check_cases`]).
#[derive(Debug, Clone)]
pub struct Case {
    args: Vec<OsString>,
    code: i32,
    stdout: Vec<String>,
    stderr: Vec<String>,
    either: Vec<String>,
    absent: Vec<String>,
    empty_stdout: bool,
}

/// A case running `args` that must exit with `code`.
pub fn case<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>, code: i32) -> Case {
    Case {
        args: args.into_iter().map(|a| a.as_ref().to_owned()).collect(),
        code,
        stdout: Vec::new(),
        stderr: Vec::new(),
        either: Vec::new(),
        absent: Vec::new(),
        empty_stdout: false,
    }
}

impl Case {
    /// Its stdout must hold `needle`.
    pub fn stdout(mut self, needle: &str) -> Case {
        self.stdout.push(needle.to_owned());
        self
    }

    /// Its stderr must hold `needle`.
    pub fn stderr(mut self, needle: &str) -> Case {
        self.stderr.push(needle.to_owned());
        self
    }

    /// Its stdout or its stderr must hold `needle` (reports go to stdout, errors to stderr).
    pub fn says(mut self, needle: &str) -> Case {
        self.either.push(needle.to_owned());
        self
    }

    /// It prints nothing on stdout.
    pub fn empty_stdout(mut self) -> Case {
        self.empty_stdout = true;
        self
    }

    /// Neither its stdout nor its stderr may hold `needle`.
    pub fn never(mut self, needle: &str) -> Case {
        self.absent.push(needle.to_owned());
        self
    }

    /// What is wrong with the run `out` of this case, if anything.
    fn problems(&self, out: &Output) -> Vec<String> {
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        let both = format!("{stdout}{stderr}");
        let mut problems = Vec::new();
        if out.status.code() != Some(self.code) {
            problems.push(format!(
                "exit status {:?}, expected {}",
                out.status.code(),
                self.code
            ));
        }
        if self.empty_stdout && !stdout.is_empty() {
            problems.push("stdout is not empty".into());
        }
        let missing = |needles: &[String], text: &str, name: &str| {
            needles
                .iter()
                .filter(|n| !text.contains(n.as_str()))
                .map(|n| format!("no {n:?} in {name}"))
                .collect::<Vec<_>>()
        };
        problems.extend(missing(&self.stdout, &stdout, "stdout"));
        problems.extend(missing(&self.stderr, &stderr, "stderr"));
        problems.extend(missing(&self.either, &both, "the output"));
        problems.extend(
            self.absent
                .iter()
                .filter(|n| both.contains(n.as_str()))
                .map(|n| format!("{n:?} in the output")),
        );
        problems
    }
}

/// Runs every case in order, each with a fresh `cmd()`, and fails with every case that did
/// not do what it must (its arguments, what was wrong, and what it printed).
pub fn check_cases(cmd: impl Fn() -> Command, cases: impl IntoIterator<Item = Case>) {
    let mut failures = Vec::new();
    for c in cases {
        let out = cmd().args(&c.args).output().unwrap();
        let problems = c.problems(&out);
        if !problems.is_empty() {
            failures.push(format!(
                "{:?}: {}\nstdout:\n{}\nstderr:\n{}",
                c.args,
                problems.join("; "),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
