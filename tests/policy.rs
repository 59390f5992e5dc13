//! The built-in security policy: the shipped environments have zero findings, each rule
//! fires on a crafted bad object, and a finding fails `validate` (exit 1) and `render`
//! (exit 2, nothing written).

mod common;

use std::collections::BTreeMap;

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

/// The policy rule ids among the findings of one file.
fn ids(text: &str) -> Vec<String> {
    check_file("kubernetes/x.yaml", "test", text)
        .iter()
        .filter_map(|d| {
            d.message
                .strip_prefix('[')
                .and_then(|m| m.split_once(']'))
                .map(|(id, _)| id.to_owned())
        })
        .collect()
}

fn tree_ids(files: &[(&str, &str)], tier: Tier) -> Vec<String> {
    let files: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
        .collect();
    policy::check_tree(&files, tier)
        .iter()
        .filter_map(|d| {
            d.message
                .strip_prefix('[')
                .and_then(|m| m.split_once(']'))
                .map(|(id, _)| id.to_owned())
        })
        .collect()
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
        tree_ids(&[("a/hpa.yaml", hpa), ("a/vpa.yaml", &auto)], Tier::Prod),
        ["PG-A001"]
    );
    assert_eq!(
        tree_ids(&[("a/hpa.yaml", hpa), ("a/vpa.yaml", &off)], Tier::Prod),
        Vec::<String>::new()
    );

    let (ok, bad) = (pdb(1), pdb(2));
    // The HPA's minReplicas (2) bounds the PDB, not the Deployment's replicas (3).
    assert_eq!(
        tree_ids(
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
        tree_ids(
            &[
                ("d.yaml", GOOD_DEPLOYMENT),
                ("h.yaml", hpa),
                ("p.yaml", &bad)
            ],
            Tier::Prod
        ),
        ["PG-D001"]
    );

    assert_eq!(tree_ids(&[("vs.yaml", vs)], Tier::Prod), ["PG-F001"]);
    assert_eq!(
        tree_ids(&[("vs.yaml", vs)], Tier::Staging),
        Vec::<String>::new()
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
    assert_eq!(policy::RULES.len(), 17);
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
            "PG-M001" => file(GOOD_DEPLOYMENT.replace("  labels: {app.kubernetes.io/managed-by: portalgen}\n", "")),
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
