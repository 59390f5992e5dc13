//! The corpus of bad environment specs: each is BASE with one thing wrong, the line and
//! field the message must name, and a part of the message.
//!
//! Data rather than logic, hence over 500 lines: some 70 cases of a few lines each, one
//! function per theme, kept in one file so that a new case is added beside its kind.

use super::BASE;

pub(super) struct Case {
    pub(super) name: &'static str,
    pub(super) content: Vec<u8>,
    /// The line the message must name (`bad.yaml:<line>:`).
    pub(super) line: u64,
    /// The field path the message must name (`at: <field>`).
    pub(super) field: String,
    /// A part of the message.
    pub(super) message: &'static str,
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

/// Every bad spec case, by theme.
pub(super) fn cases() -> Vec<Case> {
    [
        patch_cases(),
        yaml_cases(),
        type_cases(),
        unknown_key_cases(),
        name_cases(),
        tenant_cases(),
        replica_cases(),
        image_cases(),
        override_cases(),
        reference_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// BASE with `items` as an explicit tenant list in place of `count: 3`.
fn tenant_list(items: &str) -> String {
    sub("    count: 3\n", &format!("    list:\n{items}"))
}

/// BASE with `extra` (lines of `spec`) after the tier.
fn after_tier(extra: &str) -> String {
    sub("  tier: staging\n", &format!("  tier: staging\n{extra}"))
}

/// A name (or tenant id) one character longer than the 40 allowed.
fn long_name() -> String {
    "a".repeat(41)
}

/// Patches (issue 12): a target or a path that does not exist is refused at the patch.
fn patch_cases() -> Vec<Case> {
    // A patch list after the last line of BASE (line 20): the patch opens on line 22.
    let patched = |patch: &str| format!("{BASE}  patches:\n{patch}");
    vec![
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
    ]
}

/// Malformed YAML, and files that are no YAML text at all.
fn yaml_cases() -> Vec<Case> {
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
    vec![
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
    ]
}

/// Values of the wrong type.
fn type_cases() -> Vec<Case> {
    vec![
        case(
            "on-call time zone misspelt",
            sub(
                "    slackChannel: \"#alerts\"\n",
                "    slackChannel: \"#alerts\"\n    timeZone: Europe/Londn\n",
            ),
            21,
            "spec.alerting.timeZone",
            "did you mean 'Europe/London'?",
        ),
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
    ]
}

/// Unknown keys at each level.
fn unknown_key_cases() -> Vec<Case> {
    vec![
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
    ]
}

/// Environment names.
fn name_cases() -> Vec<Case> {
    let long_name = long_name();
    vec![
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
    ]
}

/// Tenants.
fn tenant_cases() -> Vec<Case> {
    let long_name = long_name();
    vec![
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
    ]
}

/// Replicas and their primaries.
fn replica_cases() -> Vec<Case> {
    vec![
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
            "replica on another cloud than its primary",
            after_tier("  cloud: gcp\n  role: replica\n  replicaOf: prim\n")
                .replace("region: us-east-1", "region: europe-west1"),
            9,
            "spec.replicaOf",
            "runs on cloud 'aws', this environment on 'gcp'",
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
    ]
}

/// Images.
fn image_cases() -> Vec<Case> {
    vec![
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
    ]
}

/// Overrides that contradict each other.
fn override_cases() -> Vec<Case> {
    vec![
        // Cloud profiles (issue 13): the region is one of the cloud's, and the cloud is one
        // of three.
        case(
            "a GCP region on the default cloud (aws)",
            sub("region: us-east-1", "region: europe-west1"),
            7,
            "spec.region",
            "'europe-west1' is not a region of cloud 'aws'",
        ),
        case(
            "an AWS region on Azure",
            after_tier("  cloud: azure\n"),
            8,
            "spec.region",
            "set cloud: aws",
        ),
        case(
            "an unknown cloud",
            after_tier("  cloud: gce\n"),
            7,
            "spec.cloud",
            "gcp",
        ),
        case(
            "an unknown key of the cloud overrides",
            after_tier("  overrides:\n    cloud:\n      storageclass: fast\n"),
            9,
            "spec.overrides.cloud.storageclass",
            "storageClass",
        ),
        case(
            "an Azure storage account with capitals",
            after_tier("  overrides:\n    cloud:\n      objectStore: {storageAccount: Portal}\n"),
            9,
            "spec.overrides.cloud.objectStore.storageAccount",
            "3 to 24 lowercase letters and digits",
        ),
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

/// The secret store and the declared prerequisites (issue 13, `spec.secrets`,
/// `spec.external`).
fn reference_cases() -> Vec<Case> {
    vec![
        case(
            "a typo in secrets",
            after_tier("  secrets: {stroe: vault}\n"),
            7,
            "spec.secrets.stroe",
            "store",
        ),
        case(
            "a store name that is no Kubernetes name",
            after_tier("  secrets: {store: Vault_Backend}\n"),
            7,
            "spec.secrets.store",
            "Vault_Backend",
        ),
        case(
            "a typo of external",
            after_tier("  extrenal: []\n"),
            7,
            "spec.extrenal",
            "external",
        ),
        case(
            "an external kind the check does not resolve",
            after_tier("  external:\n    - {kind: Configmap, namespace: shared, name: ca}\n"),
            8,
            "spec.external[0].kind",
            "ConfigMap",
        ),
        case(
            "a namespaced external without its namespace",
            after_tier("  external:\n    - {kind: ConfigMap, name: shared-ca}\n"),
            8,
            "spec.external[0]",
            "a ConfigMap lives in a namespace: external ConfigMap 'shared-ca' names none",
        ),
        case(
            "a cluster-scoped external with a namespace",
            after_tier("  external:\n    - {kind: ClusterIssuer, namespace: cert-manager, name: corp-ca}\n"),
            8,
            "spec.external[0].namespace",
            "a ClusterIssuer is cluster-scoped: it has no namespace ('cert-manager')",
        ),
    ]
}
