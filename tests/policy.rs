//! The built-in security policy: the shipped environments have zero findings, each rule
//! fires on a crafted bad object, and a finding fails `validate` (exit 1) and `render`
//! (exit 2, nothing written).

#[path = "policy/alerting.rs"]
mod alerting;
use crate::common;
#[path = "policy/flows.rs"]
mod flows;
#[path = "policy/operator_pods.rs"]
mod operator_pods;
#[path = "policy/references.rs"]
mod references;
#[path = "policy/tracing.rs"]
mod tracing;

use std::collections::BTreeMap;

use portalgen::diagnostic::Diagnostic;
use portalgen::spec::Tier;
use portalgen::validate::{check_file, policy};

const GOOD_DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: portal-system
  labels: {app.kubernetes.io/managed-by: portalgen}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: web
          image: registry.example.com/web:1.2.3
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 512Mi}
          livenessProbe: {httpGet: {path: /health, port: 3000}}
          readinessProbe: {httpGet: {path: /ready, port: 3000}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {drop: [ALL]}
";

const GOOD_NAMESPACE: &str = "apiVersion: v1
kind: Namespace
metadata:
  name: portal-tenant-acme
  labels:
    app.kubernetes.io/managed-by: portalgen
    portal.dev/tenant: acme
    pod-security.kubernetes.io/enforce: restricted
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny
  namespace: portal-tenant-acme
  labels: {app.kubernetes.io/managed-by: portalgen}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
";

/// The policy rule ids (`[PG-…]` at the start of a message) among `findings`.
fn rule_ids(findings: &[Diagnostic]) -> Vec<String> {
    findings
        .iter()
        .filter_map(|d| {
            d.message
                .strip_prefix('[')
                .and_then(|m| m.split_once(']'))
                .map(|(id, _)| id.to_owned())
        })
        .collect()
}

/// The policy rule ids among the findings of one file.
fn ids(text: &str) -> Vec<String> {
    rule_ids(&check_file("kubernetes/x.yaml", "test", text))
}

fn tree_ids(files: &[(&str, &str)], tier: Tier) -> Vec<String> {
    let files: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
        .collect();
    rule_ids(&policy::check_tree(&files, tier))
}

/// [`tree_ids`] without the flow rules (PG-C…), which a toy tree without NetworkPolicies
/// always fires, and the references (PG-R…), which a toy tree leaves unresolved.
fn cross_ids(files: &[(&str, &str)], tier: Tier) -> Vec<String> {
    let mut ids = tree_ids(files, tier);
    ids.retain(|id| !id.starts_with("PG-C") && !id.starts_with("PG-R"));
    ids
}

fn dep(from: &str, to: &str) -> String {
    assert!(GOOD_DEPLOYMENT.contains(from), "{from:?}");
    GOOD_DEPLOYMENT.replacen(from, to, 1)
}

#[test]
fn the_good_objects_pass() {
    assert_eq!(ids(GOOD_DEPLOYMENT), Vec::<String>::new());
    assert_eq!(ids(GOOD_NAMESPACE), Vec::<String>::new());
}

#[test]
fn each_per_object_rule_fires_on_a_crafted_bad_object() {
    let cases: Vec<(&str, String)> = vec![
        ("PG-W001", dep("runAsNonRoot: true", "runAsNonRoot: false")),
        ("PG-W001", dep("runAsNonRoot: true", "runAsUser: 0")),
        ("PG-W002", dep("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")),
        ("PG-W003", dep("capabilities: {drop: [ALL]}", "capabilities: {drop: [NET_RAW]}")),
        ("PG-W003", dep("capabilities: {drop: [ALL]}", "capabilities: {drop: [ALL], add: [SYS_ADMIN]}")),
        ("PG-W004", dep("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")),
        ("PG-W004", dep("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: false\n            privileged: true")),
        ("PG-W005", dep("seccompProfile: {type: RuntimeDefault}", "seccompProfile: {type: Unconfined}")),
        ("PG-W006", dep("limits: {cpu: 500m, memory: 512Mi}", "limits: {memory: 512Mi}")),
        ("PG-W006", dep("limits: {cpu: 500m, memory: 512Mi}", "limits: {cpu: 500m, memory: \"0\"}")),
        ("PG-W006", dep("limits: {cpu: 500m, memory: 512Mi}", "limits: {cpu: 0m, memory: 512Mi}")),
        ("PG-W007", dep("          livenessProbe: {httpGet: {path: /health, port: 3000}}\n", "")),
        ("PG-W007", dep("          readinessProbe: {httpGet: {path: /ready, port: 3000}}\n", "")),
        ("PG-W008", dep("web:1.2.3", "web:latest")),
        ("PG-W008", dep("web:1.2.3", "web")),
        ("PG-N001", GOOD_NAMESPACE.replace("pod-security.kubernetes.io/enforce: restricted", "pod-security.kubernetes.io/enforce: baseline")),
        ("PG-N002", GOOD_NAMESPACE.replace("policyTypes: [Ingress, Egress]", "policyTypes: [Ingress]")),
        ("PG-N002", GOOD_NAMESPACE.split("---").next().unwrap().to_owned()),
        (
            "PG-S001",
            "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: a, labels: {app.kubernetes.io/managed-by: portalgen}}\nstringData: {x: y}\n".into(),
        ),
        ("PG-S002", format!("{GOOD_DEPLOYMENT}# -----BEGIN RSA PRIVATE KEY-----\n")),
        ("PG-S002", dep("image: registry.example.com/web:1.2.3", "image: registry.example.com/web:1.2.3\n          args: [\"--key=AKIAIOSFODNN7EXAMPLE\"]")),
        ("PG-S002", dep("image: registry.example.com/web:1.2.3", "image: registry.example.com/web:1.2.3\n          args: [\"--db=postgres://app:hunter2@db:5432/portal\"]")),
        ("PG-S002", dep("image: registry.example.com/web:1.2.3", "image: registry.example.com/web:1.2.3\n          args: [\"xoxb-123456789012-abcdefghij\"]")),
        ("PG-S003", dep("image: registry.example.com/web:1.2.3", "image: registry.example.com/web:1.2.3\n          env: [{name: DB_PASSWORD, value: hunter2}]")),
        (
            "PG-S003",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a, labels: {app.kubernetes.io/managed-by: portalgen}}\ndata: {apiToken: abc123}\n".into(),
        ),
        (
            "PG-D001",
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p, namespace: a, labels: {app.kubernetes.io/managed-by: portalgen}}\nspec: {maxUnavailable: 0, selector: {matchLabels: {app: web}}}\n".into(),
        ),
        (
            "PG-D001",
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: p, namespace: a, labels: {app.kubernetes.io/managed-by: portalgen}}\nspec: {minAvailable: \"100%\", selector: {matchLabels: {app: web}}}\n".into(),
        ),
    ];
    for (id, text) in &cases {
        let found = ids(text);
        assert!(
            found.contains(&id.to_string()),
            "{id} did not fire; found {found:?} on:\n{text}"
        );
    }
    // References are not secrets.
    let refs = dep(
        "image: registry.example.com/web:1.2.3",
        "image: registry.example.com/web:1.2.3\n          env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: pw}}}, {name: API_TOKEN, value: \"${TOKEN}\"}]",
    );
    assert_eq!(ids(&refs), Vec::<String>::new());
    // JSON files are scanned too.
    let json = check_file(
        "cloudflare/x.tf.json",
        "test",
        r#"{"provider": {"cloudflare": {"api_token": "abc"}}}"#,
    );
    assert!(
        json.iter().any(|d| d.message.starts_with("[PG-S003]")),
        "{json:?}"
    );
}

#[test]
fn each_cross_document_rule_fires_on_a_crafted_bad_tree() {
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: portal-system}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 5}\n";
    let vpa = |mode: &str| {
        format!("apiVersion: autoscaling.k8s.io/v1\nkind: VerticalPodAutoscaler\nmetadata: {{name: web, namespace: portal-system}}\nspec: {{targetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}, updatePolicy: {{updateMode: {mode}}}}}\n")
    };
    let pdb = |min: u32| {
        format!("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web, namespace: portal-system}}\nspec: {{minAvailable: {min}, selector: {{matchLabels: {{app: web}}}}}}\n")
    };
    let vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: web, namespace: portal-system}\nspec:\n  hosts: [a.example.com]\n  http:\n    - fault: {delay: {fixedDelay: 2s, percentage: {value: 100}}}\n      route: [{destination: {host: web}}]\n";

    let auto = vpa("Auto");
    let off = vpa("\"Off\"");
    assert_eq!(
        cross_ids(&[("a/hpa.yaml", hpa), ("a/vpa.yaml", &auto)], Tier::Prod),
        ["PG-A001"]
    );
    assert_eq!(
        cross_ids(&[("a/hpa.yaml", hpa), ("a/vpa.yaml", &off)], Tier::Prod),
        Vec::<String>::new()
    );

    let (ok, bad) = (pdb(1), pdb(2));
    // The HPA's minReplicas (2) bounds the PDB, not the Deployment's replicas (3).
    assert_eq!(
        cross_ids(
            &[
                ("d.yaml", GOOD_DEPLOYMENT),
                ("h.yaml", hpa),
                ("p.yaml", &ok)
            ],
            Tier::Prod
        ),
        Vec::<String>::new()
    );
    assert_eq!(
        cross_ids(
            &[
                ("d.yaml", GOOD_DEPLOYMENT),
                ("h.yaml", hpa),
                ("p.yaml", &bad)
            ],
            Tier::Prod
        ),
        ["PG-D001"]
    );

    assert_eq!(cross_ids(&[("vs.yaml", vs)], Tier::Prod), ["PG-F001"]);
    assert_eq!(
        cross_ids(&[("vs.yaml", vs)], Tier::Staging),
        Vec::<String>::new()
    );
}

/// The policy rule ids among the findings of one Terraform JSON file holding a cache ruleset
/// with the one rule `rule`.
fn cache_rule_ids(rule: &serde_json::Value) -> Vec<String> {
    let doc = serde_json::json!({"resource": {"cloudflare_ruleset": {"cache_rules": {
        "zone_id": "0123456789abcdef0123456789abcdef",
        "name": "portal cache rules",
        "kind": "zone",
        "phase": "http_request_cache_settings",
        "rules": [rule],
    }}}});
    let text = serde_json::to_string_pretty(&doc).unwrap();
    let found = check_file("cloudflare/cache-rules.tf.json", "test", &text);
    // Only policy findings: the crafted rules are valid Terraform.
    assert!(
        found.iter().all(|d| d.message.starts_with("[PG-")),
        "{found:?}"
    );
    found
        .iter()
        .filter_map(|d| d.message.strip_prefix('[')?.split_once(']'))
        .map(|(id, _)| id.to_owned())
        .collect()
}

const HOSTS: &str =
    "(http.host in {\"portal.example.com\"} or ends_with(http.host, \".portal.example.com\"))";
const NO_AUTH: &str = "not any(lower(http.request.headers.names[*])[*] eq \"authorization\")";
const NO_SESSION: &str = "not (http.cookie contains \"portal_session=\")";

fn api_rule(expression: &str, edge_mode: &str) -> serde_json::Value {
    let mut edge = serde_json::json!({"mode": edge_mode});
    if edge_mode == "override_origin" {
        edge["default"] = 300.into();
    }
    serde_json::json!({
        "ref": "api_get",
        "expression": expression,
        "action": "set_cache_settings",
        "action_parameters": {
            "cache": true,
            "origin_cache_control": true,
            "edge_ttl": edge,
            "browser_ttl": {"mode": "respect_origin"},
        },
        "enabled": true,
    })
}

#[test]
fn edge_cache_rules_must_bypass_credentials_respect_the_origin_and_stay_on_the_portal_hosts() {
    let api = |terms: &[&str]| terms.join(" and ");
    let get = "(http.request.method eq \"GET\") and starts_with(http.request.uri.path, \"/api/\")";
    let good = api(&[HOSTS, get, NO_AUTH, NO_SESSION]);
    assert_eq!(
        cache_rule_ids(&api_rule(&good, "bypass_by_default")),
        Vec::<String>::new()
    );
    assert_eq!(
        cache_rule_ids(&api_rule(&good, "respect_origin")),
        Vec::<String>::new()
    );

    let cases: Vec<(&str, serde_json::Value)> = vec![
        // The issue's defect: Authorization only, a session cookie is cached.
        (
            "PG-E001",
            api_rule(&api(&[HOSTS, get, NO_AUTH]), "bypass_by_default"),
        ),
        (
            "PG-E001",
            api_rule(&api(&[HOSTS, get, NO_SESSION]), "bypass_by_default"),
        ),
        (
            "PG-E001",
            api_rule(&api(&[HOSTS, get]), "bypass_by_default"),
        ),
        // The bypass terms present, but not for every request the rule matches.
        (
            "PG-E001",
            api_rule(
                &format!("{good} or starts_with(http.request.uri.path, \"/api/\")"),
                "bypass_by_default",
            ),
        ),
        (
            "PG-E001",
            api_rule(
                &api(&[
                    HOSTS,
                    get,
                    &format!("not ({} and {})", &NO_AUTH[4..], &NO_SESSION[4..]),
                ]),
                "bypass_by_default",
            ),
        ),
        // A fixed TTL ignores Cache-Control: private / no-store.
        ("PG-E002", api_rule(&good, "override_origin")),
        // Zone-wide: other sites of the zone are cached too.
        (
            "PG-E003",
            api_rule(&api(&[get, NO_AUTH, NO_SESSION]), "bypass_by_default"),
        ),
        (
            "PG-E003",
            api_rule(
                &api(&[
                    "(http.host eq \"portal.example.com\" or true)",
                    get,
                    NO_AUTH,
                    NO_SESSION,
                ]),
                "bypass_by_default",
            ),
        ),
    ];
    for (id, rule) in &cases {
        let found = cache_rule_ids(rule);
        assert!(
            found.contains(&id.to_string()),
            "{id} did not fire; found {found:?} on {rule}"
        );
    }
    let mut off = api_rule(&good, "bypass_by_default");
    off["action_parameters"]["origin_cache_control"] = false.into();
    assert_eq!(cache_rule_ids(&off), vec!["PG-E002".to_owned()]);
}

#[test]
fn every_cached_api_prefix_needs_the_bypass_and_only_static_assets_are_exempt() {
    let api = |terms: &[&str]| terms.join(" and ");
    // Rules that do not cache /api need no bypass, only the host scope.
    let static_rule = serde_json::json!({
        "ref": "static_assets",
        "expression": format!("{HOSTS} and starts_with(http.request.uri.path, \"/static/\")"),
        "action": "set_cache_settings",
        "action_parameters": {"cache": true, "edge_ttl": {"mode": "override_origin", "default": 60}},
        "enabled": true,
    });
    assert_eq!(cache_rule_ids(&static_rule), Vec::<String>::new());
    // An API is not only /api: a routed prefix cached without the bypass, or for a fixed
    // TTL, is refused like /api would be.
    let orders =
        "(http.request.method eq \"GET\") and starts_with(http.request.uri.path, \"/orders\")";
    assert_eq!(
        cache_rule_ids(&api_rule(&api(&[HOSTS, orders]), "bypass_by_default")),
        ["PG-E001"]
    );
    assert_eq!(
        cache_rule_ids(&api_rule(
            &api(&[HOSTS, orders, NO_AUTH, NO_SESSION]),
            "override_origin"
        )),
        ["PG-E002"]
    );
    // A static-asset term next to an API path does not exempt the API.
    let mixed = "(starts_with(http.request.uri.path, \"/static/\") or starts_with(http.request.uri.path, \"/orders\"))";
    assert_eq!(
        cache_rule_ids(&api_rule(&api(&[HOSTS, mixed]), "bypass_by_default")),
        ["PG-E001"]
    );
}

#[test]
fn a_cache_rule_expression_over_cloudflares_limit_is_refused() {
    let api = |terms: &[&str]| terms.join(" and ");
    let get = "(http.request.method eq \"GET\") and starts_with(http.request.uri.path, \"/api/\")";
    // CloudFlare refuses an expression over 4096 characters (many portals in one zone).
    let many: Vec<String> = (0..200)
        .map(|i| format!("http.host eq \"p{i}.example.com\""))
        .collect();
    let long = api(&[
        &format!("({})", many.join(" or ")),
        get,
        NO_AUTH,
        NO_SESSION,
    ]);
    let mut rule = api_rule(&long, "bypass_by_default");
    rule["ref"] = "long".into();
    let doc = serde_json::json!({"resource": {"cloudflare_ruleset": {"c": {
        "zone_id": "0123456789abcdef0123456789abcdef", "name": "c", "kind": "zone",
        "phase": "http_request_cache_settings", "rules": [rule],
    }}}});
    let found = check_file("cloudflare/c.tf.json", "test", &doc.to_string());
    assert!(
        found
            .iter()
            .any(|d| d.message.contains("CloudFlare accepts at most 4096")),
        "{found:?}"
    );
}

#[test]
fn every_rule_has_an_id_a_title_and_a_rationale_and_is_documented() {
    let security = std::fs::read_to_string(common::repo().join("SECURITY.md")).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for rule in policy::RULES {
        assert!(seen.insert(rule.id), "duplicate id {}", rule.id);
        assert!(!rule.title.is_empty() && !rule.rationale.is_empty());
        assert!(
            security.contains(rule.id),
            "SECURITY.md does not document {}",
            rule.id
        );
    }
    assert_eq!(policy::RULES.len(), 28);
}

#[test]
fn the_shipped_environments_have_zero_findings() {
    let out = common::portalgen()
        .args(["validate", "--all"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    for env in ["dev", "staging", "prod-us", "prod-eu"] {
        assert!(report.contains(&format!("{env}: ok")), "{report}");
    }
    assert!(!report.contains("finding"), "{report}");
}

#[test]
fn a_finding_fails_validate_and_render_writes_nothing() {
    let s = common::Scratch::new();
    s.write_env("dev", &common::minimal_spec("dev", "dev", 2));
    s.cmd()
        .args(["render", "dev", "--out", "out"])
        .assert()
        .success();
    let before = common::read_tree(&s.root().join("out"));
    // A team's template override that runs the app as root.
    let templates = s.root().join("tpl/kubernetes/app");
    std::fs::create_dir_all(&templates).unwrap();
    let original =
        std::fs::read_to_string(common::repo().join("templates/kubernetes/app/deployment.yaml"))
            .unwrap();
    assert!(original.contains("runAsNonRoot: true"));
    std::fs::write(
        templates.join("deployment.yaml"),
        original.replace("runAsNonRoot: true", "runAsNonRoot: false"),
    )
    .unwrap();

    let v = s
        .cmd()
        .args(["validate", "dev", "--templates", "tpl"])
        .output()
        .unwrap();
    assert_eq!(v.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&v.stdout);
    assert!(
        stdout.contains("[PG-W001] container portal may run as root"),
        "{stdout}"
    );
    assert!(stdout.contains("Deployment portal-system/portal-app: spec.template.spec.containers[0].securityContext.runAsNonRoot"), "{stdout}");

    let r = s
        .cmd()
        .args(["render", "dev", "--out", "out", "--templates", "tpl"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("[PG-W001]"));
    assert_eq!(common::read_tree(&s.root().join("out")), before);
}

#[test]
fn every_registered_rule_fires_on_a_crafted_bad_object() {
    let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web, namespace: portal-system}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 5}\n";
    let vpa = "apiVersion: autoscaling.k8s.io/v1\nkind: VerticalPodAutoscaler\nmetadata: {name: web, namespace: portal-system}\nspec: {targetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, updatePolicy: {updateMode: Auto}}\n";
    let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: portal-system}\nspec: {minAvailable: 3, selector: {matchLabels: {app: web}}}\n";
    let vs = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: web, namespace: portal-system}\nspec:\n  hosts: [a.example.com]\n  http:\n    - fault: {delay: {fixedDelay: 2s, percentage: {value: 100}}}\n      route: [{destination: {host: web}}]\n";
    let api = |terms: &[&str]| terms.join(" and ");
    let get = "(http.request.method eq \"GET\") and starts_with(http.request.uri.path, \"/api/\")";
    let db_client = dep(
        "image: registry.example.com/web:1.2.3",
        "image: registry.example.com/web:1.2.3\n          env: [{name: DATABASE_URL, valueFrom: {secretKeyRef: {name: db-app, key: uri}}}]",
    );
    let fired = |id: &str| -> Vec<String> {
        let file = |text: String| ids(&text);
        let tree = |files: &[(&str, &str)]| tree_ids(files, Tier::Prod);
        match id {
            "PG-W001" => file(dep("runAsNonRoot: true", "runAsUser: 0")),
            "PG-W002" => file(dep("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")),
            "PG-W003" => file(dep("capabilities: {drop: [ALL]}", "capabilities: {drop: []}")),
            "PG-W004" => file(dep("allowPrivilegeEscalation: false", "privileged: true")),
            "PG-W005" => file(dep("seccompProfile: {type: RuntimeDefault}", "seccompProfile: {type: Localhost}")),
            "PG-W006" => file(dep("requests: {cpu: 100m, memory: 128Mi}", "requests: {cpu: 100m}")),
            "PG-W007" => file(dep("          readinessProbe: {httpGet: {path: /ready, port: 3000}}\n", "")),
            "PG-W008" => file(dep("web:1.2.3", "web:latest")),
            "PG-N001" => file(GOOD_NAMESPACE.replace("enforce: restricted", "enforce: privileged")),
            "PG-N002" => file(GOOD_NAMESPACE.replace("podSelector: {}", "podSelector: {matchLabels: {a: b}}")),
            "PG-S001" => file("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a, labels: {app.kubernetes.io/managed-by: portalgen}}\ndata: {}\n".into()),
            "PG-S002" => file(format!("{GOOD_DEPLOYMENT}# ghp_{}\n", "a".repeat(36))),
            "PG-S003" => file(dep("image: registry.example.com/web:1.2.3", "image: registry.example.com/web:1.2.3\n          env: [{name: API_TOKEN, value: abc}]")),
            "PG-F001" => tree(&[("vs.yaml", vs)]),
            "PG-A001" => tree(&[("h.yaml", hpa), ("v.yaml", vpa)]),
            "PG-D001" => tree(&[("d.yaml", GOOD_DEPLOYMENT), ("h.yaml", hpa), ("p.yaml", pdb)]),
            // A client of the database behind a default-deny with no way out to it.
            "PG-C001" => tree(&[("d.yaml", &db_client), ("c.yaml", CNPG_CLUSTER), ("n.yaml", DENY_ALL)]),
            // A tenant namespace whose pods nothing isolates.
            "PG-C002" => tree(&[("kubernetes/tenants/shard-00/t1.yaml", TENANT_NAMESPACE)]),
            // The issue's Redis: the operator's pods without the restricted fields.
            "PG-P001" => tree(&[("n.yaml", GOOD_NAMESPACE), ("r.yaml", REDIS_CLUSTER)]),
            // A client of a database secret that nothing makes.
            "PG-R001" => tree(&[("d.yaml", &db_client)]),
            "PG-M001" => file(GOOD_DEPLOYMENT.replace("  labels: {app.kubernetes.io/managed-by: portalgen}\n", "")),
            // An alert no Prometheus evaluates.
            "PG-O001" => tree(&[("r.yaml", ALERT_RULE)]),
            "PG-O002" => tree(&[("c.yaml", "apiVersion: monitoring.coreos.com/v1alpha1\nkind: AlertmanagerConfig\nmetadata: {name: a, namespace: monitoring}\nspec: {route: {receiver: a}, receivers: [{name: a}, {name: b}]}\n")]),
            // A Prometheus that evaluates the alert and sends it nowhere.
            "PG-O003" => tree(&[("r.yaml", ALERT_RULE), ("p.yaml", PROMETHEUS)]),
            // Two PodMonitors of one pod port.
            "PG-O004" => tree(&[("d.yaml", GOOD_DEPLOYMENT), ("p.yaml", PROMETHEUS), ("m.yaml", &format!("{POD_MONITOR}---\n{}", POD_MONITOR.replace("name: m,", "name: m2,")))]),
            "PG-E001" => cache_rule_ids(&api_rule(&api(&[HOSTS, get, NO_AUTH]), "bypass_by_default")),
            "PG-E002" => cache_rule_ids(&api_rule(&api(&[HOSTS, get, NO_AUTH, NO_SESSION]), "override_origin")),
            "PG-E003" => cache_rule_ids(&api_rule(&api(&[get, NO_AUTH, NO_SESSION]), "bypass_by_default")),
            other => panic!("rule {other} has no crafted bad object in this test: add one"),
        }
    };
    for rule in policy::RULES {
        let found = fired(rule.id);
        assert!(
            found.iter().any(|f| f == rule.id),
            "{} did not fire: {found:?}",
            rule.id
        );
    }
}

/// A Redis Cluster in the namespace of [`GOOD_NAMESPACE`] whose pods set no securityContext.
const REDIS_CLUSTER: &str = "apiVersion: redis.redis.opstreelabs.in/v1beta2\nkind: RedisCluster\nmetadata: {name: cache, namespace: portal-tenant-acme}\nspec: {clusterSize: 3, redisExporter: {enabled: true}}\n";
/// A PrometheusRule with one alert, in `monitoring`.
const ALERT_RULE: &str = "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: r, namespace: monitoring}\nspec: {groups: [{name: g, rules: [{alert: Down, expr: up == 0, labels: {severity: critical}}]}]}\n";
/// A Prometheus in `monitoring` that selects every rule and monitor of its namespace.
const PROMETHEUS: &str = "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: p, namespace: monitoring}\nspec: {ruleSelector: {}, podMonitorSelector: {}}\n";
/// A PodMonitor of port 3000 of the pods of [`GOOD_DEPLOYMENT`].
const POD_MONITOR: &str = "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata: {name: m, namespace: monitoring}\nspec: {namespaceSelector: {matchNames: [portal-system]}, selector: {matchLabels: {app: web}}, podMetricsEndpoints: [{portNumber: 3000}]}\n";
/// A CloudNativePG cluster `db` in `portal-system`.
const CNPG_CLUSTER: &str = "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: db, namespace: portal-system}\nspec: {instances: 2}\n";
/// Every pod of `portal-system` isolated both ways, with nothing allowed.
const DENY_ALL: &str = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: default-deny, namespace: portal-system}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n";
/// A tenant's namespace, alone.
const TENANT_NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: portal-tenant-t1, labels: {portal.dev/tenant: t1}}\n";

/// A Deployment's bad container, moved into the pod template of `kind`.
fn bad_workload(kind: &policy::PodTemplateKind) -> String {
    let container = "{name: c, image: web, securityContext: {runAsUser: 0, privileged: true, capabilities: {add: [SYS_ADMIN]}}}";
    let pod = format!("{{metadata: {{labels: {{app: c}}}}, spec: {{containers: [{container}]}}}}");
    let mut value: serde_json::Value = serde_saphyr::from_str(&format!(
        "apiVersion: v1\nkind: {}\nmetadata: {{name: w, namespace: a, labels: {{app.kubernetes.io/managed-by: portalgen}}}}\n",
        kind.kind
    ))
    .unwrap();
    let pod: serde_json::Value = serde_saphyr::from_str(&pod).unwrap();
    if kind.template.is_empty() {
        value["spec"] = pod["spec"].clone();
    } else {
        let mut at = &mut value;
        for key in kind.template.trim_start_matches('/').split('/') {
            at = &mut at[key];
        }
        *at = pod;
    }
    serde_json::to_string(&value).unwrap()
}

#[test]
fn every_pod_template_kind_is_seen_by_every_container_rule() {
    let container_rules: Vec<&str> = policy::RULES
        .iter()
        .filter(|r| {
            r.checks
                .iter()
                .any(|c| matches!(c, policy::Check::Container(_)))
        })
        .map(|r| r.id)
        .collect();
    assert!(container_rules.len() >= 8, "{container_rules:?}");
    for kind in policy::POD_TEMPLATE_KINDS {
        let text = bad_workload(kind);
        let found = ids(&text);
        for id in &container_rules {
            if *id == "PG-W007" && !kind.long_running {
                continue;
            }
            assert!(
                found.iter().any(|f| f == id),
                "{id} does not see a {}: {found:?}\n{text}",
                kind.kind
            );
        }
    }
}

#[test]
fn every_rendered_pod_template_is_of_a_listed_workload_kind() {
    let pods = [
        "/spec/template/spec",
        "/spec/jobTemplate/spec/template/spec",
        "/spec",
    ];
    let mut seen = 0;
    for env in ["dev", "staging", "prod-us", "prod-eu"] {
        for (path, bytes) in common::read_tree(&common::repo().join("golden").join(env)) {
            if !path.ends_with(".yaml") {
                continue;
            }
            let docs =
                portalgen::validate::parse_yaml_documents(std::str::from_utf8(&bytes).unwrap())
                    .unwrap();
            for d in docs {
                let has_pod = pods.iter().any(|p| {
                    d.value
                        .pointer(&format!("{p}/containers"))
                        .is_some_and(serde_json::Value::is_array)
                });
                if has_pod {
                    seen += 1;
                    assert!(
                        policy::pod_template(d.kind()).is_some(),
                        "{env}/{path}: {} has a pod template but is not in POD_TEMPLATE_KINDS: the W rules would skip it",
                        d.kind()
                    );
                }
            }
        }
    }
    assert!(seen > 0, "no pod template rendered at all");
}

/// One minimal realistic object of each custom kind imported for #13 (Alertmanager,
/// cert-manager, External Secrets, Velero's storage location), #16 (Argo Rollouts) and #18
/// (OpenTelemetry Operator), shaped as those issues ask portalgen to render them, with the
/// field path of an object deep inside `spec` that the schema closes.
const IMPORTED_CUSTOM_KINDS: &[(&str, &str)] = &[
    (
        "spec.alertmanagerConfigMatcherStrategy",
        "apiVersion: monitoring.coreos.com/v1
kind: Alertmanager
metadata: {name: portal, namespace: monitoring, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  replicas: 3
  serviceAccountName: alertmanager
  retention: 120h
  alertmanagerConfigSelector: {matchLabels: {alertmanagerConfig: portal}}
  alertmanagerConfigNamespaceSelector: {}
  alertmanagerConfigMatcherStrategy: {type: None}
  resources: {requests: {cpu: 50m, memory: 128Mi}, limits: {memory: 256Mi}}
  securityContext: {runAsNonRoot: true, runAsUser: 1000, fsGroup: 2000, seccompProfile: {type: RuntimeDefault}}
  storage: {volumeClaimTemplate: {spec: {resources: {requests: {storage: 5Gi}}}}}
",
    ),
    (
        "spec.acme.solvers[0].dns01.cloudflare",
        "apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {name: letsencrypt-dns01, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    email: ops@example.com
    privateKeySecretRef: {name: letsencrypt-dns01-account}
    solvers:
      - selector: {dnsZones: [example.com]}
        dns01:
          cloudflare: {apiTokenSecretRef: {name: cloudflare-api-token, key: api-token}}
",
    ),
    (
        "spec.issuerRef",
        "apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: portal-tls, namespace: istio-system, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  secretName: portal-tls
  dnsNames: [portal.example.com, '*.portal.example.com']
  issuerRef: {name: letsencrypt-dns01, kind: ClusterIssuer, group: cert-manager.io}
  duration: 2160h
  renewBefore: 360h
  privateKey: {algorithm: ECDSA, size: 256, rotationPolicy: Always}
",
    ),
    (
        "spec.data[0].remoteRef",
        "apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {name: portal-secrets, namespace: portal-system, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  refreshInterval: 1h
  secretStoreRef: {name: vault, kind: ClusterSecretStore}
  target: {name: portal-secrets, creationPolicy: Owner}
  data:
    - secretKey: DATABASE_PASSWORD
      remoteRef: {key: portal/prod-us/db, property: password}
  dataFrom:
    - extract: {key: portal/prod-us/app}
",
    ),
    (
        "spec.provider.aws",
        "apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: {name: aws, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  provider:
    aws:
      service: SecretsManager
      region: us-east-1
      auth: {jwt: {serviceAccountRef: {name: external-secrets, namespace: external-secrets}}}
",
    ),
    (
        "spec.provider.vault.auth.kubernetes",
        "apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {name: vault, namespace: portal-system, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  provider:
    vault:
      server: https://vault.example.com
      path: secret
      version: v2
      auth: {kubernetes: {mountPath: kubernetes, role: portal, serviceAccountRef: {name: portal-app}}}
",
    ),
    (
        "spec.objectStorage",
        "apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata: {name: default, namespace: velero, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  provider: aws
  default: true
  accessMode: ReadWrite
  objectStorage: {bucket: portal-backups, prefix: prod-us}
  config: {region: us-east-1, s3ForcePathStyle: 'false'}
  credential: {name: velero-credentials, key: cloud}
",
    ),
    (
        "spec.strategy.canary.trafficRouting.istio.virtualService",
        "apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: portal-app, namespace: portal-system, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  replicas: 3
  revisionHistoryLimit: 5
  selector: {matchLabels: {app: portal}}
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: portal-app, scaleDown: progressively}
  strategy:
    canary:
      canaryService: portal-app-canary
      stableService: portal-app-stable
      trafficRouting: {istio: {virtualService: {name: portal, routes: [primary]}}}
      steps:
        - setWeight: 5
        - pause: {duration: 10m}
        - analysis:
            templates: [{templateName: portal-slo}]
            args: [{name: service, value: portal-app}]
        - setWeight: 25
        - pause: {duration: 20m}
",
    ),
    (
        "spec.metrics[0].provider.prometheus",
        "apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: portal-slo, namespace: portal-system, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  args: [{name: service}, {name: canary-hash}]
  metrics:
    - name: error-rate
      interval: 1m
      count: 5
      failureLimit: 0
      successCondition: result[0] < 0.001
      failureCondition: result[0] >= 0.01
      provider:
        prometheus:
          address: http://prometheus-operated.monitoring.svc:9090
          query: sum(rate(http_requests_total{service=\"{{args.service}}\",code=~\"5..\"}[5m])) / sum(rate(http_requests_total{service=\"{{args.service}}\"}[5m]))
",
    ),
    (
        "spec.config.service",
        "apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: otel, namespace: monitoring, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  mode: deployment
  replicas: 2
  image: otel/opentelemetry-collector-contrib:0.141.0
  config:
    receivers: {otlp: {protocols: {grpc: {endpoint: '0.0.0.0:4317'}, http: {endpoint: '0.0.0.0:4318'}}}}
    processors: {memory_limiter: {check_interval: 1s, limit_percentage: 80}, batch: {}}
    exporters: {otlp: {endpoint: 'tempo.monitoring.svc:4317', tls: {insecure: true}}}
    service:
      pipelines:
        traces: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}
  resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {memory: 512Mi}}
  securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
  # a Go duration in a field whose CRD says `format: duration` (ISO 8601 in JSON Schema)
  targetAllocator: {enabled: false, prometheusCR: {scrapeInterval: 30s}}
",
    ),
    (
        "spec.sampler",
        "apiVersion: opentelemetry.io/v1alpha1
kind: Instrumentation
metadata: {name: portal, namespace: portal-system, labels: {app.kubernetes.io/managed-by: portalgen}}
spec:
  exporter: {endpoint: 'http://otel-collector.monitoring.svc:4318'}
  propagators: [tracecontext, baggage]
  sampler: {type: parentbased_traceidratio, argument: '0.1'}
  resource: {addK8sUIDAttributes: true, resourceAttributes: {deployment.environment: prod}}
  env: [{name: OTEL_EXPORTER_OTLP_PROTOCOL, value: http/protobuf}]
",
    ),
];

#[test]
fn imported_operator_kinds_pass_and_unknown_spec_fields_are_refused() {
    let check = |doc: &serde_json::Value| {
        // JSON is YAML: the edited object goes through the same YAML path as a rendered file.
        check_file("kubernetes/x.yaml", "test", &doc.to_string())
    };
    let mut failures = Vec::new();
    for (nested, text) in IMPORTED_CUSTOM_KINDS {
        let good = check_file("kubernetes/x.yaml", "test", text);
        if !good.is_empty() {
            failures.push(format!("{text}{good:#?}"));
        }
        let doc: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        let object = format!(
            "{} {}",
            doc["kind"].as_str().unwrap(),
            [&doc["metadata"]["namespace"], &doc["metadata"]["name"]]
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join("/")
        );
        let pointer = format!("/{}", nested.replace(['[', '.'], "/").replace(']', ""));
        for (at, field) in [("/spec", "spec"), (pointer.as_str(), *nested)] {
            let mut bad = doc.clone();
            let target = bad.pointer_mut(at).unwrap().as_object_mut().unwrap();
            target.insert("bogus".into(), serde_json::json!(1));
            let problems = check(&bad);
            if !problems.iter().any(|d| {
                d.message == "unknown field(s): bogus"
                    && d.location().as_deref() == Some(format!("{object}: {field}").as_str())
            }) {
                failures.push(format!(
                    "{object}: bogus at {field} not refused: {problems:#?}"
                ));
            }
        }
        // The schema is the kind's own: the same object under another kind has none.
        let mut other = doc.clone();
        other["kind"] = serde_json::json!("NotAKind");
        let problems = check(&other);
        if !problems
            .iter()
            .any(|d| d.message.starts_with("no schema for apiVersion"))
        {
            failures.push(format!("{object} as NotAKind: {problems:#?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // An ExternalSecret's `secretKey` names the key of the Secret it writes, so PG-S003
    // leaves it alone; the same field in any other kind is still a literal in a secret field.
    let (_, external_secret) = IMPORTED_CUSTOM_KINDS
        .iter()
        .find(|(_, t)| t.contains("kind: ExternalSecret\n"))
        .unwrap();
    assert!(ids(external_secret).is_empty());
    let other = external_secret.replace("kind: ExternalSecret\n", "kind: NotAKind\n");
    assert_eq!(ids(&other), ["PG-S003"]);
}
