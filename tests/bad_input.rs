//! The bad-input corpus: every case must exit 2, name the file, the line (and column) and
//! the field, and leave the output directory exactly as it was.
//!
//! Each spec case replaces `environments/bad.yaml` of a scratch project whose output
//! folder already holds a good render of `bad`; `render bad --out out` and `validate bad`
//! must both fail with status 2. The command-line cases follow.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{read_tree, Scratch};

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

struct Case {
    name: &'static str,
    content: Vec<u8>,
    /// The line the message must name (`bad.yaml:<line>:`).
    line: u64,
    /// The field path the message must name (`at: <field>`).
    field: String,
    /// A part of the message.
    message: &'static str,
}

fn case(
    name: &'static str,
    content: impl Into<Vec<u8>>,
    line: u64,
    field: &str,
    message: &'static str,
) -> Case {
    Case {
        name,
        content: content.into(),
        line,
        field: field.to_owned(),
        message,
    }
}

/// BASE with the first occurrence of `from` replaced by `to` (which must exist).
fn sub(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE has no {from:?}");
    BASE.replacen(from, to, 1)
}

fn billion_laughs() -> String {
    let mut s = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        s.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    s
}

fn cases() -> Vec<Case> {
    let tenant_list = |items: &str| sub("    count: 3\n", &format!("    list:\n{items}"));
    let after_tier = |extra: &str| sub("  tier: staging\n", &format!("  tier: staging\n{extra}"));
    let long_name = "a".repeat(41);
    let mut huge = BASE.as_bytes().to_vec();
    huge.extend(
        std::iter::repeat_n(
            b"# padding padding padding padding padding padding\n".as_slice(),
            210_000,
        )
        .flatten(),
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(BASE.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let mut not_utf8 = BASE.as_bytes().to_vec();
    let at = BASE.find("east").unwrap();
    not_utf8[at] = 0xFF;
    let quadratic = {
        let mut s = format!("s: &s \"{}\"\nl: [", "x".repeat(100_000));
        s.push_str(&vec!["*s"; 2_000].join(", "));
        s.push_str("]\n");
        s
    };

    // A patch list after the last line of BASE (line 20): the patch opens on line 22.
    let patched = |patch: &str| format!("{BASE}  patches:\n{patch}");
    vec![
        // Patches (issue 12): a target or a path that does not exist is refused at the patch.
        case(
            "a patch whose target is not rendered",
            patched("    - target: {kind: Deployment, name: portal-ap}\n      mergePatch: {spec: {replicas: 2}}\n"),
            22,
            "spec.patches[0].target.name",
            "the patch target Deployment portal-ap is not rendered for this environment",
        ),
        case(
            "a patch of a kind that is not rendered",
            patched("    - target: {kind: Deploymnet, name: portal-app}\n      mergePatch: {spec: {replicas: 2}}\n"),
            22,
            "spec.patches[0].target.kind",
            "did you mean 'Deployment'?",
        ),
        case(
            "a patch path that does not exist",
            patched("    - target: {kind: Deployment, name: portal-app}\n      jsonPatch:\n        - {op: test, path: /spec/replicas, value: 3}\n        - {op: remove, path: /spec/replica}\n"),
            25,
            "spec.patches[0].jsonPatch[1].path",
            "patch operation 1 (remove) on Deployment portal-system/portal-app: no key 'replica' under /spec",
        ),
        case(
            "a patch with both kinds of change",
            patched("    - target: {kind: Deployment, name: portal-app}\n      jsonPatch: [{op: remove, path: /spec/replicas}]\n      mergePatch: {spec: {replicas: 2}}\n"),
            22,
            "spec.patches[0]",
            "set exactly one of 'jsonPatch' or 'mergePatch'",
        ),
        case(
            "a patch operation without its value",
            patched("    - target: {kind: Deployment, name: portal-app}\n      jsonPatch: [{op: add, path: /spec/paused}]\n"),
            23,
            "spec.patches[0].jsonPatch[0].value",
            "missing required key 'value'",
        ),
        // Malformed YAML.
        case(
            "tab indentation",
            sub("  tier: staging", "\ttier: staging"),
            6,
            "spec.tier",
            "tabs",
        ),
        case(
            "unclosed double quote",
            sub("tag: \"1.0.0\"", "tag: \"1.0.0"),
            11,
            "spec.image.tag",
            "quoted scalar",
        ),
        case(
            "unclosed single quote",
            sub("region: us-east-1", "region: 'us-east-1"),
            7,
            "spec.region",
            "quoted scalar",
        ),
        case(
            "duplicate key",
            after_tier("  tier: prod\n"),
            7,
            "spec.tier",
            "duplicate mapping key: tier",
        ),
        case(
            "duplicate nested key",
            sub("    count: 3\n", "    count: 3\n    count: 4\n"),
            14,
            "spec.tenants.count",
            "duplicate mapping key",
        ),
        case(
            "billion laughs",
            billion_laughs(),
            5,
            "a4",
            "expands too much through anchors and aliases",
        ),
        case(
            "quadratic alias blowup",
            quadratic,
            2,
            "l",
            "expands too much",
        ),
        case(
            "deeply nested flow",
            format!("{}\n", "[".repeat(300)),
            1,
            "(document)",
            "invalid YAML",
        ),
        case(
            "multi-document file",
            format!("{BASE}---\n{BASE}"),
            22,
            "(document)",
            "2 YAML documents",
        ),
        case("empty file", "", 1, "(document)", "the file is empty"),
        case(
            "only comments",
            "# nothing here\n\n",
            1,
            "(document)",
            "the file is empty",
        ),
        case(
            "a scalar document",
            "hello\n",
            1,
            "(document)",
            "expected object",
        ),
        case(
            "a list document",
            "- a\n- b\n",
            1,
            "(document)",
            "expected object",
        ),
        case("not UTF-8", not_utf8, 7, "spec.region", "not valid UTF-8"),
        case("UTF-16 file", utf16, 1, "(document)", "not valid UTF-8"),
        case("10 MB file", huge, 1, "(document)", "larger than"),
        // Wrong types.
        case(
            "count is a string",
            sub("count: 3", "count: \"three\""),
            13,
            "spec.tenants.count",
            "expected integer",
        ),
        case(
            "tier is a list",
            sub("tier: staging", "tier: [staging]"),
            6,
            "spec.tier",
            "not one of",
        ),
        case(
            "repository is a number",
            sub(
                "repository: registry.example.com/portal/app",
                "repository: 42",
            ),
            10,
            "spec.image.repository",
            "expected string",
        ),
        case(
            "tenants is a string",
            sub("  tenants:\n    count: 3", "  tenants: many"),
            12,
            "spec.tenants",
            "expected object",
        ),
        case(
            "metadata is a list",
            sub("metadata:\n  name: bad", "metadata: [bad]"),
            3,
            "metadata",
            "expected object",
        ),
        case(
            "pagerduty is 'yes'",
            sub(
                "    slackChannel: \"#alerts\"\n",
                "    slackChannel: \"#alerts\"\n    pagerduty: yes\n",
            ),
            21,
            "spec.alerting.pagerduty",
            "expected boolean",
        ),
        case(
            "tenantShards is a float",
            sub(
                "    targetRevision: main\n",
                "    targetRevision: main\n    tenantShards: 2.5\n",
            ),
            19,
            "spec.gitops.tenantShards",
            "expected integer",
        ),
        case(
            "replicas is a string",
            after_tier("  overrides:\n    replicas: \"8\"\n"),
            8,
            "spec.overrides.replicas",
            "expected integer",
        ),
        // Unknown keys at each level.
        case(
            "unknown top-level key",
            sub("kind: Environment\n", "kind: Environment\nextra: 1\n"),
            3,
            "extra",
            "unknown key 'extra'",
        ),
        case(
            "unknown metadata key",
            sub("  name: bad\n", "  name: bad\n  labels: {}\n"),
            5,
            "metadata.labels",
            "unknown key 'labels'",
        ),
        case(
            "unknown spec key",
            after_tier("  colour: red\n"),
            7,
            "spec.colour",
            "unknown key 'colour'",
        ),
        case(
            "unknown image key",
            sub(
                "    tag: \"1.0.0\"\n",
                "    tag: \"1.0.0\"\n    pullPolicy: Always\n",
            ),
            12,
            "spec.image.pullPolicy",
            "unknown key 'pullPolicy'",
        ),
        case(
            "unknown tenants key",
            sub("    count: 3\n", "    count: 3\n    cnt: 4\n"),
            14,
            "spec.tenants.cnt",
            "unknown key 'cnt'",
        ),
        case(
            "unknown tenant entry key",
            tenant_list("      - {id: a, plan: free, owner: x}\n"),
            14,
            "spec.tenants.list[0].owner",
            "unknown key 'owner'",
        ),
        case(
            "typo in overrides key",
            after_tier("  overrides:\n    autoscaling: {minReplica: 3, maxReplicas: 4}\n"),
            8,
            "spec.overrides.autoscaling.minReplica",
            "did you mean 'minReplicas'",
        ),
        case(
            "typo in alerting key",
            sub("    slackChannel:", "    slackChanel:"),
            20,
            "spec.alerting.slackChanel",
            "did you mean 'slackChannel'",
        ),
        // Names.
        case(
            "name with ../",
            sub("name: bad", "name: ../bad"),
            4,
            "metadata.name",
            "DNS-1123",
        ),
        case(
            "name with /",
            sub("name: bad", "name: a/b"),
            4,
            "metadata.name",
            "DNS-1123",
        ),
        case(
            "name with uppercase",
            sub("name: bad", "name: Bad"),
            4,
            "metadata.name",
            "DNS-1123",
        ),
        case(
            "name too long",
            sub("name: bad", &format!("name: {long_name}")),
            4,
            "metadata.name",
            "longer than 40",
        ),
        case(
            "name is not the file name",
            sub("name: bad", "name: other"),
            4,
            "metadata.name",
            "must equal the file name",
        ),
        // Tenants.
        case(
            "tenant id with ../",
            tenant_list("      - {id: ../x, plan: free}\n"),
            14,
            "spec.tenants.list[0].id",
            "DNS-1123",
        ),
        case(
            "tenant id with /",
            tenant_list("      - {id: a/b, plan: free}\n"),
            14,
            "spec.tenants.list[0].id",
            "DNS-1123",
        ),
        case(
            "tenant id uppercase",
            tenant_list("      - {id: Acme, plan: free}\n"),
            14,
            "spec.tenants.list[0].id",
            "DNS-1123",
        ),
        case(
            "tenant id too long",
            tenant_list(&format!("      - {{id: {long_name}, plan: free}}\n")),
            14,
            "spec.tenants.list[0].id",
            "longer than 40",
        ),
        case(
            "duplicate tenant id",
            tenant_list("      - {id: acme, plan: free}\n      - {id: acme, plan: team}\n"),
            15,
            "spec.tenants.list[1].id",
            "duplicate tenant id 'acme' (first at line 14)",
        ),
        case(
            "unknown plan",
            tenant_list("      - {id: acme, plan: gold}\n"),
            14,
            "spec.tenants.list[0].plan",
            "not one of",
        ),
        case(
            "negative tenant count",
            sub("count: 3", "count: -1"),
            13,
            "spec.tenants.count",
            "less than the minimum",
        ),
        case(
            "zero tenant count",
            sub("count: 3", "count: 0"),
            13,
            "spec.tenants.count",
            "less than the minimum",
        ),
        case(
            "huge tenant count",
            sub("count: 3", "count: 99999999999999999999"),
            13,
            "spec.tenants.count",
            "greater than the maximum",
        ),
        case(
            "tenant count above the limit",
            sub("count: 3", "count: 100001"),
            13,
            "spec.tenants.count",
            "greater than the maximum",
        ),
        case(
            "count and list together",
            sub(
                "    count: 3\n",
                "    count: 3\n    list: [{id: a, plan: free}]\n",
            ),
            13,
            "spec.tenants",
            "mutually exclusive",
        ),
        // Replicas.
        case(
            "replica without replicaOf",
            after_tier("  role: replica\n"),
            7,
            "spec.role",
            "must name its primary",
        ),
        case(
            "replica of a missing primary",
            after_tier("  role: replica\n  replicaOf: prim-x\n"),
            8,
            "spec.replicaOf",
            "no environment 'prim-x'",
        ),
        case(
            "replica of a replica",
            after_tier("  role: replica\n  replicaOf: rep\n"),
            8,
            "spec.replicaOf",
            "itself a replica",
        ),
        case(
            "replica of another tier",
            after_tier("  role: replica\n  replicaOf: pprod\n"),
            8,
            "spec.replicaOf",
            "of tier 'prod'",
        ),
        case(
            "replica of itself",
            after_tier("  role: replica\n  replicaOf: bad\n"),
            8,
            "spec.replicaOf",
            "replica of itself",
        ),
        case(
            "primary with replicaOf",
            after_tier("  replicaOf: prim\n"),
            7,
            "spec.replicaOf",
            "only a replica",
        ),
        // Images.
        case(
            "short digest",
            sub("tag: \"1.0.0\"", "digest: \"sha256:abc\""),
            11,
            "spec.image.digest",
            "64 lowercase hex",
        ),
        case(
            "uppercase digest",
            sub(
                "tag: \"1.0.0\"",
                &format!("digest: \"sha256:{}\"", "A".repeat(64)),
            ),
            11,
            "spec.image.digest",
            "64 lowercase hex",
        ),
        case(
            "md5 digest",
            sub(
                "tag: \"1.0.0\"",
                &format!("digest: \"md5:{}\"", "a".repeat(32)),
            ),
            11,
            "spec.image.digest",
            "64 lowercase hex",
        ),
        case(
            "latest tag",
            sub("tag: \"1.0.0\"", "tag: latest"),
            11,
            "spec.image.tag",
            "not allowed",
        ),
        case(
            "no tag and no digest",
            sub("    tag: \"1.0.0\"\n", ""),
            10,
            "spec.image",
            "set 'tag' or 'digest'",
        ),
        // Overrides that contradict each other.
        case(
            "minReplicas above maxReplicas",
            after_tier("  overrides:\n    autoscaling: {minReplicas: 9, maxReplicas: 3}\n"),
            8,
            "spec.overrides.autoscaling.minReplicas",
            "greater than maxReplicas",
        ),
        case(
            "maxReplicas below the tier minimum",
            after_tier("  overrides:\n    autoscaling: {maxReplicas: 2}\n"),
            8,
            "spec.overrides.autoscaling.maxReplicas",
            "greater than maxReplicas",
        ),
        case(
            "a single-pod prod environment (a drain would evict the only pod)",
            sub(
                "  tier: staging\n",
                "  tier: prod\n  overrides:\n    replicas: 1\n    autoscaling: {minReplicas: 1, maxReplicas: 4}\n",
            ),
            9,
            "spec.overrides.autoscaling.minReplicas",
            "a prod environment runs at least 2 pods, this one may run 1",
        ),
        case(
            "replicas outside the autoscaling range",
            after_tier("  overrides:\n    replicas: 20\n"),
            8,
            "spec.overrides.replicas",
            "within the autoscaling range",
        ),
        case(
            "cpu request above limit",
            after_tier(
                "  overrides:\n    resources: {requests: {cpu: \"4\"}, limits: {cpu: \"1\"}}\n",
            ),
            8,
            "spec.overrides.resources.requests.cpu",
            "above the CPU limit",
        ),
        case(
            "memory request above limit",
            after_tier("  overrides:\n    resources:\n      requests: {memory: 8Gi}\n"),
            9,
            "spec.overrides.resources.requests.memory",
            "above the memory limit",
        ),
        case(
            "dev autoscaling half given",
            sub("tier: staging", "tier: dev").replacen(
                "  tier: dev\n",
                "  tier: dev\n  overrides:\n    autoscaling: {minReplicas: 2}\n",
                1,
            ),
            8,
            "spec.overrides.autoscaling",
            "give both",
        ),
    ]
}

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

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
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
            let location = format!("environments/bad.yaml:{}:", c.line);
            let field = format!("at: {}\n", c.field);
            let mut problems = Vec::new();
            if out.status.code() != Some(2) {
                problems.push(format!("exit status {:?}, expected 2", out.status.code()));
            }
            if !err.contains(&location) {
                problems.push(format!("no {location:?}"));
            }
            if !format!("{err}\n").contains(&field) {
                problems.push(format!("no {field:?}"));
            }
            if !err.contains(c.message) {
                problems.push(format!("no {:?}", c.message));
            }
            if err.contains("panicked") {
                problems.push("panicked".into());
            }
            if read_tree(&s.root().join("out")) != before {
                problems.push("the output directory changed".into());
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{} ({command}): {}\n{err}",
                    c.name,
                    problems.join("; ")
                ));
            }
        }
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
    refused(
        &s,
        &before,
        &["render", "--out", "out"],
        "name an environment or pass --all",
    );
    refused(
        &s,
        &before,
        &["validate"],
        "name an environment or pass --all",
    );
    refused(
        &s,
        &before,
        &["render", "nope", "--out", "out"],
        "no environment 'nope'",
    );
    refused(
        &s,
        &before,
        &["render", "bad", "--all", "--out", "out"],
        "not both",
    );

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

/// The good system file the system cases start from. Line numbers below refer to it.
const SYSTEM: &str = "apiVersion: portalgen.dev/v1alpha1
kind: System
metadata:
  name: shop
spec:
  services:
    - name: web
      port: 3000
      routes: [\"/\"]
      uses: [api]
      metrics: {port: 9090}
    - name: api
      port: 3001
      routes: [\"/api\"]
      uses: [database, redis]
      env: {LOG_FORMAT: json}
      secretEnv: {API_KEY: {secret: api-keys, key: key}}
";

/// One bad system (or environment-against-system) case: which file holds the problem.
struct SystemCase {
    name: &'static str,
    system: String,
    /// The environment spec (`None`: BASE).
    env: Option<String>,
    /// `portalgen.yaml:<line>:` or `environments/bad.yaml:<line>:`.
    location: String,
    field: &'static str,
    message: &'static str,
    hint: Option<&'static str>,
}

fn system_cases() -> Vec<SystemCase> {
    let sys = |from: &str, to: &str| {
        assert!(SYSTEM.contains(from), "SYSTEM has no {from:?}");
        SYSTEM.replacen(from, to, 1)
    };
    let at_sys = |line: u64| format!("portalgen.yaml:{line}:");
    let at_env = |line: u64| format!("environments/bad.yaml:{line}:");
    let with_overrides = |o: &str| format!("{BASE}  overrides:\n{o}");
    let c = |name, system: String, location: String, field, message, hint| SystemCase {
        name,
        system,
        env: None,
        location,
        field,
        message,
        hint,
    };
    vec![
        c(
            "unknown service in uses",
            sys("uses: [api]", "uses: [apj]"),
            at_sys(10),
            "spec.services[0].uses[0]",
            "no service 'apj' to use",
            Some("did you mean 'api'?"),
        ),
        c(
            "a service uses itself",
            sys("uses: [api]", "uses: [web]"),
            at_sys(10),
            "spec.services[0].uses[0]",
            "cannot use itself",
            None,
        ),
        c(
            "a service named like a reserved one",
            sys("- name: api\n", "- name: database\n"),
            at_sys(12),
            "spec.services[1].name",
            "'database' is a reserved name",
            None,
        ),
        c(
            "a service named like the database cluster",
            sys("- name: api\n", "- name: shop-db\n"),
            at_sys(12),
            "spec.services[1].name",
            "reserved name",
            None,
        ),
        c(
            "two services with one name",
            sys("- name: api\n", "- name: web\n"),
            at_sys(12),
            "spec.services[1].name",
            "two services are named 'web'",
            None,
        ),
        c(
            "two services on one port",
            sys("port: 3001", "port: 3000"),
            at_sys(13),
            "spec.services[1].port",
            "port 3000 is already the port of service 'web'",
            None,
        ),
        c(
            "one route claimed twice",
            sys("routes: [\"/api\"]", "routes: [\"/\"]"),
            at_sys(14),
            "spec.services[1].routes[0]",
            "route '/' is already claimed by service 'web'",
            None,
        ),
        c(
            "one route claimed by two services",
            sys("routes: [\"/\"]", "routes: [\"/\", \"/api\"]"),
            at_sys(14),
            "spec.services[1].routes[0]",
            "route '/api' is already claimed by service 'web' (services[0].routes[1])",
            None,
        ),
        c(
            "an env key that is not a variable name",
            sys("env: {LOG_FORMAT: json}", "env: {log-format: json}"),
            at_sys(16),
            "spec.services[1].env.log-format",
            "'log-format' is not a valid environment variable name",
            None,
        ),
        c(
            "an env key portalgen sets itself",
            sys("env: {LOG_FORMAT: json}", "env: {SHOP_REGION: mars}"),
            at_sys(16),
            "spec.services[1].env.SHOP_REGION",
            "is set by portalgen on every service",
            None,
        ),
        c(
            "a secretEnv that holds a literal value",
            sys(
                "secretEnv: {API_KEY: {secret: api-keys, key: key}}",
                "secretEnv: {API_KEY: hunter2hunter2}",
            ),
            at_sys(17),
            "spec.services[1].secretEnv.API_KEY",
            "a reference {secret, key}",
            None,
        ),
        c(
            "a system name that is not a DNS label",
            sys("name: shop\n", "name: Shop_Front\n"),
            at_sys(4),
            "metadata.name",
            "\"Shop_Front\" is not valid here",
            None,
        ),
        c(
            "a misspelt key of a service",
            sys("      port: 3001", "      prot: 3001"),
            at_sys(13),
            "spec.services[1].prot",
            "unknown key 'prot'",
            Some("did you mean 'port'?"),
        ),
        c(
            "a privileged port",
            sys("port: 3001", "port: 80"),
            at_sys(13),
            "spec.services[1].port",
            "80",
            None,
        ),
        c(
            "a route that is not a path",
            sys("routes: [\"/api\"]", "routes: [\"api\"]"),
            at_sys(14),
            "spec.services[1].routes[0]",
            "\"api\" is not valid here",
            None,
        ),
        c(
            "not YAML",
            sys("  services:\n", "  services: [\n"),
            at_sys(7),
            "spec.services.name",
            "invalid YAML",
            None,
        ),
        c(
            "the wrong kind",
            sys("kind: System", "kind: Environment"),
            at_sys(2),
            "kind",
            "expected \"System\"",
            None,
        ),
        c(
            "a system patch whose path does not exist",
            format!(
                "{SYSTEM}  patches:\n    - target: {{kind: Deployment, name: web}}\n      jsonPatch:\n        - {{op: replace, path: /spec/replica, value: 3}}\n"
            ),
            at_sys(21),
            "spec.patches[0].jsonPatch[0].path",
            "no key 'replica' under /spec",
            Some("did you mean 'replicas'?"),
        ),
        c(
            "a system patch whose target is not rendered",
            format!(
                "{SYSTEM}  patches:\n    - target: {{kind: Deployment, name: wbe}}\n      mergePatch: {{spec: {{paused: true}}}}\n"
            ),
            at_sys(19),
            "spec.patches[0].target.name",
            "the patch target Deployment wbe is not rendered",
            Some("Deployment shop-system/web"),
        ),
        SystemCase {
            env: Some(with_overrides("    services:\n      apii: {replicas: 2}\n")),
            ..c(
                "an override for a service that does not exist",
                SYSTEM.to_owned(),
                at_env(23),
                "spec.overrides.services.apii",
                "no service 'apii' in the system",
                Some("did you mean 'api'?"),
            )
        },
        SystemCase {
            env: Some(with_overrides("    env: {2FA_ENABLED: \"true\"}\n")),
            ..c(
                "an environment env key that is not a variable name",
                SYSTEM.to_owned(),
                at_env(22),
                "spec.overrides.env.2FA_ENABLED",
                "not a valid environment variable name",
                None,
            )
        },
        SystemCase {
            env: Some(with_overrides(
                "    services:\n      api:\n        resources: {requests: {cpu: \"4\"}}\n",
            )),
            ..c(
                "a per-service request above the tier's limit",
                SYSTEM.to_owned(),
                at_env(24),
                "spec.overrides.services.api.resources.requests.cpu",
                "the CPU request (4) is above the CPU limit (1)",
                None,
            )
        },
    ]
}

#[test]
fn every_bad_system_file_is_refused_with_file_line_and_field() {
    let all = system_cases();
    let (s, before) = project();
    let spec = s.root().join("environments/bad.yaml");
    let system = s.root().join("portalgen.yaml");
    let mut failures = Vec::new();
    for c in &all {
        std::fs::write(&system, &c.system).unwrap();
        std::fs::write(&spec, c.env.as_deref().unwrap_or(BASE)).unwrap();
        for command in ["render", "validate"] {
            let mut cmd = s.cmd();
            cmd.arg(command).arg("bad");
            if command == "render" {
                cmd.args(["--out", "out"]);
            }
            let out = cmd.output().unwrap();
            let err = format!(
                "{}{}",
                stderr_of(&out),
                String::from_utf8_lossy(&out.stdout)
            );
            let field = format!("at: {}\n", c.field);
            let mut problems = Vec::new();
            if out.status.code() != Some(2) {
                problems.push(format!("exit status {:?}, expected 2", out.status.code()));
            }
            if !err.contains(&c.location) {
                problems.push(format!("no {:?}", c.location));
            }
            if !format!("{err}\n").contains(&field) {
                problems.push(format!("no {field:?}"));
            }
            if !err.contains(c.message) {
                problems.push(format!("no {:?}", c.message));
            }
            if let Some(h) = c.hint {
                if !err.contains(h) {
                    problems.push(format!("no hint {h:?}"));
                }
            }
            if err.contains("hunter2") {
                problems.push("echoed a secret value".into());
            }
            if err.contains("panicked") {
                problems.push("panicked".into());
            }
            if read_tree(&s.root().join("out")) != before {
                problems.push("the output directory changed".into());
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{} ({command}): {}\n{err}",
                    c.name,
                    problems.join("; ")
                ));
            }
        }
    }
    // The good system file renders.
    std::fs::write(&system, SYSTEM).unwrap();
    std::fs::write(&spec, BASE).unwrap();
    s.cmd().args(["validate", "bad"]).assert().success();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
