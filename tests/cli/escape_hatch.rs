//! The escape hatch (issue 12): `patches:` in a spec, `templates/extra/`, the team's
//! `schemas/extra/`, and `--templates` files that name no template. Whatever a team adds
//! goes through every check, and a mistake writes nothing.

use std::path::Path;

use super::common::{minimal_spec, read_tree, Scratch};

/// Runs `args` in `s`: the exit status, stdout and stderr.
fn run(s: &Scratch, args: &[&str]) -> (Option<i32>, String, String) {
    super::common::run(s.cmd().args(args))
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A dev environment `app` with `patches` (YAML lines under `spec.patches`).
fn with_patches(patches: &str) -> String {
    format!("{}  patches:\n{patches}", minimal_spec("app", "dev", 1))
}

/// The document of `kind` in a `render --stdout` stream.
fn document<'a>(stream: &'a str, kind: &str) -> &'a str {
    stream
        .split("\n---\n")
        .find(|d| d.contains(&format!("\nkind: {kind}\n")))
        .unwrap_or_else(|| panic!("no {kind} in:\n{stream}"))
}

#[test]
fn json_and_merge_patches_change_the_rendered_objects_and_nothing_else() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "dev", 1));
    let (code, _, err) = run(&s, &["render", "app", "-q", "--out", "plain"]);
    assert_eq!(code, Some(0), "{err}");
    s.write_env(
        "app",
        &with_patches(
            "    - target: {kind: Deployment, name: portal-app, namespace: portal-system}
      jsonPatch:
        - {op: replace, path: /spec/revisionHistoryLimit, value: 3}
        - {op: add, path: /metadata/annotations/team.example.com~1owner, value: web}
    - target: {kind: Service, name: portal-app, group: \"\"}
      mergePatch:
        metadata: {labels: {team.example.com/tier: frontend}}
    - target: {kind: Deployment, name: portal-app, apiVersion: apps/v1}
      jsonPatch: [{op: test, path: /spec/revisionHistoryLimit, value: 3}]
",
        ),
    );
    let (code, stream, err) = run(&s, &["render", "app", "--stdout"]);
    assert_eq!(code, Some(0), "{err}");
    let deployment = document(&stream, "Deployment");
    assert!(
        deployment.contains("\n  revisionHistoryLimit: 3\n"),
        "{deployment}"
    );
    assert!(
        deployment.contains("    team.example.com/owner: web\n")
            && deployment.contains("argocd.argoproj.io/sync-wave"),
        "the annotation is added beside the others:\n{deployment}"
    );
    let service = document(&stream, "Service");
    assert!(
        service.contains("    team.example.com/tier: frontend\n"),
        "{service}"
    );

    // On disk: the two patched files changed, every other file kept its exact bytes.
    let (code, _, err) = run(&s, &["render", "app", "-q", "--out", "patched"]);
    assert_eq!(code, Some(0), "{err}");
    let plain = read_tree(&s.root().join("plain/app"));
    let patched = read_tree(&s.root().join("patched/app"));
    let changed: Vec<&String> = plain
        .keys()
        .filter(|p| !p.starts_with(".portalgen") && plain.get(*p) != patched.get(*p))
        .collect();
    assert_eq!(
        changed,
        [
            "kubernetes/platform/app/deployment.yaml",
            "kubernetes/platform/app/service.yaml"
        ]
    );

    // `render --check`, `validate` and `diff` see the patched output too.
    let (code, _, err) = run(&s, &["render", "app", "--check", "--out", "patched"]);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, _) = run(&s, &["render", "app", "--check", "--out", "plain"]);
    assert_eq!(code, Some(1), "the unpatched tree is stale");
    let (code, out, err) = run(&s, &["validate", "app"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, _) = run(&s, &["diff", "app", "--out", "plain"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("revisionHistoryLimit"), "{out}");
}

#[test]
fn a_patch_that_breaks_an_object_is_caught_by_the_checks_and_nothing_is_written() {
    let s = Scratch::new();
    s.write_env(
        "app",
        &with_patches(
            "    - target: {kind: Deployment, name: portal-app}
      mergePatch:
        spec: {paused: true, replicaz: 2}
",
        ),
    );
    let (code, _, err) = run(&s, &["render", "app", "--out", "out"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown field 'replicaz'"), "{err}");
    assert!(
        err.contains("the object was changed by spec.patches[0] (")
            && err.contains("app.yaml:22:7)"),
        "the finding names the patch: {err}"
    );
    assert!(!s.root().join("out").exists(), "nothing written");
    // validate: a finding in the output (1), not bad input.
    let (code, out, _) = run(&s, &["validate", "app"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("replicaz"), "{out}");
}

const PVC: &str = "apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: portal-cache
  namespace: {{ m.namespaces.system }}
  labels:{{ m.labels | toyaml(4) }}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Gi}}
";

const WIDGET: &str = "apiVersion: example.com/v1
kind: Widget
metadata:
  name: portal-widget
  namespace: {{ m.namespaces.system }}
  labels:{{ m.labels | toyaml(4) }}
spec:
  size: {{ m.env.tier }}
";

const WIDGET_SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["apiVersion", "kind", "metadata", "spec"],
  "properties": {
    "apiVersion": {"const": "example.com/v1"},
    "kind": {"const": "Widget"},
    "metadata": {"type": "object"},
    "spec": {"type": "object", "additionalProperties": false, "properties": {"size": {"enum": ["dev", "prod"]}}}
  }
}"#;

#[test]
fn extra_templates_are_rendered_with_the_model_and_checked_like_every_file() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "dev", 1));
    let extra = s.root().join("templates/extra");
    write(&extra.join("storage/cache.yaml"), PVC);
    write(&extra.join("widget.yaml"), WIDGET);

    // A kind with no schema: refused, with where its schema goes.
    let (code, _, err) = run(&s, &["render", "app", "--out", "out"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("kubernetes/platform/extra/widget.yaml (from templates/extra/widget.yaml): no schema for apiVersion 'example.com/v1' kind 'Widget'"),
        "{err}"
    );
    assert!(
        err.contains("schemas/extra/example.com_v1_widget.json"),
        "{err}"
    );
    assert!(!s.root().join("out").exists());

    // With the team's schema: rendered into the platform's folder, which Argo CD syncs.
    write(
        &s.root().join("schemas/extra/example.com_v1_widget.json"),
        WIDGET_SCHEMA,
    );
    let (code, _, err) = run(&s, &["render", "app", "-q", "--out", "out"]);
    assert_eq!(code, Some(0), "{err}");
    let tree = read_tree(&s.root().join("out/app"));
    let widget = String::from_utf8(tree["kubernetes/platform/extra/widget.yaml"].clone()).unwrap();
    assert!(
        widget.contains("  size: dev\n") && widget.contains("managed-by: portalgen"),
        "{widget}"
    );
    assert!(tree.contains_key("kubernetes/platform/extra/storage/cache.yaml"));
    let platform = String::from_utf8(tree["argocd/applications/platform.yaml"].clone()).unwrap();
    assert!(
        platform.contains(
            "path: rendered/app/kubernetes/platform\n    directory:\n      recurse: true\n"
        ),
        "{platform}"
    );

    // The team's schema is enforced, and a core kind through its Kubernetes type.
    write(
        &extra.join("widget.yaml"),
        &WIDGET.replace("size:", "colour: red\n  size:"),
    );
    write(
        &extra.join("storage/cache.yaml"),
        &PVC.replace("accessModes", "accesModes"),
    );
    let (code, _, err) = run(&s, &["render", "app", "--out", "out"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("unknown field(s): colour"), "{err}");
    assert!(err.contains("unknown field 'accesModes'"), "{err}");
    assert_eq!(
        read_tree(&s.root().join("out/app")),
        tree,
        "nothing written"
    );

    // An extra object can be patched like any other.
    write(&extra.join("widget.yaml"), WIDGET);
    write(&extra.join("storage/cache.yaml"), PVC);
    s.write_env(
        "app",
        &with_patches("    - target: {kind: Widget, name: portal-widget}\n      mergePatch: {spec: {size: prod}}\n"),
    );
    let (code, stream, err) = run(&s, &["render", "app", "--stdout", "--kind", "Widget"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(stream.contains("  size: prod\n"), "{stream}");
}

#[test]
fn team_files_that_would_be_ignored_or_followed_are_refused() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "dev", 1));
    let (code, _, err) = run(&s, &["render", "app", "-q", "--out", "out"]);
    assert_eq!(code, Some(0), "{err}");
    let before = read_tree(&s.root().join("out"));

    // A typo in --templates: exit 2, a suggestion, nothing written.
    let original = std::fs::read_to_string(
        super::common::repo().join("templates/kubernetes/app/deployment.yaml"),
    )
    .unwrap();
    write(
        &s.root().join("tpl/kubernetes/app/deploymnet.yaml"),
        &original,
    );
    let (code, _, err) = run(&s, &["render", "app", "--out", "out", "--templates", "tpl"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("tpl/kubernetes/app/deploymnet.yaml:1:1: 'kubernetes/app/deploymnet.yaml' names no embedded template")
            && err.contains("hint: did you mean 'kubernetes/app/deployment.yaml'?"),
        "{err}"
    );
    for command in [
        &["validate", "app", "--templates", "tpl"][..],
        &["diff", "app", "--out", "out", "--templates", "tpl"],
    ] {
        let (code, _, err) = run(&s, command);
        assert_eq!(code, Some(2), "{command:?}: {err}");
    }
    std::fs::remove_dir_all(s.root().join("tpl")).unwrap();

    // --templates DIR/extra/ adds extra templates too; anything but .yaml there is refused,
    // and so is a symlink under the root's templates/extra/.
    write(&s.root().join("tpl/extra/notes.txt"), "notes");
    write(&s.root().join("tpl/extra/cache.yaml"), PVC);
    std::fs::create_dir_all(s.root().join("templates/extra")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", s.root().join("templates/extra/host.yaml"))
        .unwrap();
    write(&s.root().join("schemas/extra/widget.json"), WIDGET_SCHEMA);
    write(
        &s.root().join("schemas/extra/apps_v1_deployment.json"),
        WIDGET_SCHEMA,
    );
    let (code, _, err) = run(&s, &["render", "app", "--out", "out", "--templates", "tpl"]);
    assert_eq!(code, Some(2), "{err}");
    for needle in [
        "tpl/extra/notes.txt:1:1: an extra template is a Kubernetes YAML file ending in .yaml",
        "templates/extra/host.yaml is a symbolic link",
        "'widget.json' is not named <group>_<version>_<kind>.json",
        "portalgen checks apps/v1 deployment with its own schema",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    assert_eq!(read_tree(&s.root().join("out")), before, "nothing written");

    std::fs::remove_file(s.root().join("tpl/extra/notes.txt")).unwrap();
    std::fs::remove_file(s.root().join("templates/extra/host.yaml")).unwrap();
    std::fs::remove_dir_all(s.root().join("schemas")).unwrap();
    let (code, _, err) = run(
        &s,
        &["render", "app", "-q", "--out", "out", "--templates", "tpl"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(s
        .root()
        .join("out/app/kubernetes/platform/extra/cache.yaml")
        .is_file());
}

#[test]
fn diff_base_renders_the_revision_with_its_own_extra_templates() {
    let s = Scratch::new();
    s.write_env("app", &minimal_spec("app", "dev", 1));
    write(&s.root().join("templates/extra/cache.yaml"), PVC);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
            .args(args)
            .current_dir(s.root())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q", "."]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    let (code, out, err) = run(&s, &["diff", "--base", "HEAD"]);
    assert_eq!(
        code,
        Some(0),
        "the same extra template on both sides: {out}{err}"
    );

    // The change adds a widget (and its schema) and patches the claim.
    write(&s.root().join("templates/extra/widget.yaml"), WIDGET);
    write(
        &s.root().join("schemas/extra/example.com_v1_widget.json"),
        WIDGET_SCHEMA,
    );
    s.write_env(
        "app",
        &with_patches("    - target: {kind: PersistentVolumeClaim, name: portal-cache}\n      mergePatch: {spec: {resources: {requests: {storage: 20Gi}}}}\n"),
    );
    let (code, out, err) = run(&s, &["diff", "--base", "HEAD", "--stat"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("Widget portal-system/portal-widget"), "{out}");
    assert!(
        out.contains("PersistentVolumeClaim portal-system/portal-cache"),
        "{out}"
    );
}
