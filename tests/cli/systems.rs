//! Systems of several services (`portalgen.yaml`): the flows their NetworkPolicies allow,
//! their routes, and the environment's overrides, read from the rendered tree.

use std::collections::{BTreeMap, BTreeSet};

use super::common::{minimal_spec, portalgen, repo, stream, Scratch};
use portalgen::validate::network::{Endpoint, Policies, Protocol};
use portalgen::validate::Document;

/// A system of `n` services where service `i` uses services `i+1` and `i+3` (when they
/// exist), every fourth the database, every fifth Redis, every seventh the internet.
fn wide_system(n: usize) -> (String, BTreeMap<String, BTreeSet<String>>) {
    let mut uses = BTreeMap::new();
    let mut text = String::from(
        "apiVersion: portalgen.dev/v1alpha1\nkind: System\nmetadata:\n  name: wide\nspec:\n  services:\n",
    );
    for i in 0..n {
        let name = format!("svc-{i:02}");
        let mut u: Vec<String> = [i + 1, i + 3]
            .into_iter()
            .filter(|j| *j < n)
            .map(|j| format!("svc-{j:02}"))
            .collect();
        if i % 4 == 0 {
            u.push("database".into());
        }
        if i % 5 == 0 {
            u.push("redis".into());
        }
        if i % 7 == 0 {
            u.push("internet".into());
        }
        let routes = if i == 0 {
            "[\"/\"]".to_owned()
        } else if i % 3 == 0 {
            format!("[\"/api/s{i}\"]")
        } else {
            "[]".to_owned()
        };
        text.push_str(&format!(
            "    - name: {name}\n      port: {}\n      routes: {routes}\n      uses: [{}]\n      metrics: {{port: 9090}}\n",
            4000 + i,
            u.join(", ")
        ));
        uses.insert(name, u.into_iter().collect());
    }
    (text, uses)
}

/// A pod of namespace `ns` with `labels`, as NetworkPolicies see it.
fn pod(ns: &str, labels: &[(&str, &str)]) -> Endpoint {
    let labels = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let ns_labels = BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), ns.to_owned())]);
    Endpoint::pod(ns, ns_labels, labels, format!("{ns}/pod"))
}

/// Whether the policies allow a TCP connection from `src` to `dst:port` (the evaluator of
/// the flow checks, PG-C001/PG-C002).
fn allowed(policies: &[Document], src: &Endpoint, dst: &Endpoint, port: u16) -> bool {
    Policies::of(policies.iter())
        .verdict(src, dst, port, Protocol::Tcp)
        .is_ok()
}

/// The platform namespace of the `wide` system.
const WIDE_NS: &str = "wide-system";

fn service_pod(name: &str) -> Endpoint {
    pod(WIDE_NS, &[("app.kubernetes.io/name", name)])
}

#[test]
fn twenty_services_reach_exactly_what_they_use_in_every_environment() {
    let (system, uses) = wide_system(20);
    let s = Scratch::new();
    s.write_system(&system);
    for tier in ["dev", "staging", "prod"] {
        s.write_env(tier, &minimal_spec(tier, tier, 2));
    }
    let all = stream(
        s.cmd()
            .args(["render", "--all", "--stdout", "--kind", "NetworkPolicy"]),
    );
    let names: Vec<String> = uses.keys().cloned().collect();
    let port = |name: &str| 4000 + name[4..].parse::<u16>().unwrap();
    let db = pod(WIDE_NS, &[("cnpg.io/cluster", "wide-db")]);
    let environments: BTreeSet<&str> = all
        .iter()
        .filter_map(|d| d["metadata"]["labels"]["portal.dev/environment"].as_str())
        .collect();
    assert_eq!(environments, BTreeSet::from(["dev", "prod", "staging"]));
    for env in environments {
        let policies: Vec<Document> = all
            .iter()
            .filter(|d| d["metadata"]["labels"]["portal.dev/environment"] == env)
            .filter(|d| d["metadata"]["namespace"] == WIDE_NS)
            .map(|d| Document { value: d.clone() })
            .collect();
        // One policy per service, plus default-deny, allow-dns, the database's and Redis'.
        assert_eq!(policies.len(), 20 + 4, "{env}");
        let mut edges = 0;
        for a in &names {
            for b in &names {
                if a == b {
                    continue;
                }
                let declared = uses[a].contains(b);
                let got = allowed(&policies, &service_pod(a), &service_pod(b), port(b));
                assert_eq!(
                    got, declared,
                    "{env}: {a} -> {b}: allowed {got}, declared {declared}"
                );
                edges += usize::from(got);
                // Nothing else of the callee is reachable: another port is denied.
                assert!(!allowed(
                    &policies,
                    &service_pod(a),
                    &service_pod(b),
                    port(b) + 100
                ));
            }
            let uses_db = uses[a].contains("database");
            assert_eq!(
                allowed(&policies, &service_pod(a), &db, 5432),
                uses_db,
                "{env}: {a} -> database"
            );
            // DNS for everyone.
            let dns = pod("kube-system", &[]);
            assert!(
                allowed(&policies, &service_pod(a), &dns, 53),
                "{env}: {a} -> DNS"
            );
            // Prometheus scrapes every metrics port, and nothing else (its own egress is
            // not in these policies: only the ingress side is judged).
            let prometheus = pod("monitoring", &[]);
            let to_prometheus = |p: &Endpoint, port: u16| allowed(&policies, &prometheus, p, port);
            assert!(to_prometheus(&service_pod(a), 9090), "{env}: scrape {a}");
            assert!(
                !to_prometheus(&service_pod(a), port(a) + 1000),
                "{env}: {a}"
            );
        }
        let declared: usize = uses
            .values()
            .map(|u| u.iter().filter(|x| x.starts_with("svc-")).count())
            .sum();
        assert_eq!(edges, declared);
        assert!(edges > 30, "the graph has {edges} edges");
    }
}

#[test]
fn routes_are_matched_longest_prefix_first_in_the_mesh() {
    let s = Scratch::new();
    s.write_system(
        "apiVersion: portalgen.dev/v1alpha1
kind: System
metadata:
  name: shop
spec:
  services:
    - {name: web, port: 3000, routes: [\"/\"]}
    - {name: api, port: 3001, routes: [\"/api\"]}
    - {name: auth, port: 3002, routes: [\"/api/auth\", \"/login\"]}
",
    );
    s.write_env("prod", &minimal_spec("prod", "prod", 1));
    let docs = stream(s.cmd().args([
        "render",
        "prod",
        "--stdout",
        "--kind",
        "VirtualService,Ingress",
    ]));
    let vs = docs.iter().find(|d| d["kind"] == "VirtualService").unwrap();
    let routes: Vec<(String, String)> = vs["spec"]["http"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"].as_str().unwrap().ends_with("default"))
        .map(|r| {
            (
                r["match"][0]["uri"]["prefix"]
                    .as_str()
                    .unwrap_or("/")
                    .to_owned(),
                r["route"][0]["destination"]["host"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        routes,
        [
            (
                "/api/auth".to_owned(),
                "auth.shop-system.svc.cluster.local".to_owned()
            ),
            (
                "/login".to_owned(),
                "auth.shop-system.svc.cluster.local".to_owned()
            ),
            (
                "/api".to_owned(),
                "api.shop-system.svc.cluster.local".to_owned()
            ),
            (
                "/".to_owned(),
                "web.shop-system.svc.cluster.local".to_owned()
            ),
        ]
    );
    // One owner per host: the mesh Gateway serves the hosts, no Ingress beside it.
    assert!(
        !docs.iter().any(|d| d["kind"] == "Ingress"),
        "an Ingress would be a second owner of the Gateway's hosts"
    );
}

#[test]
fn environment_overrides_reach_each_service() {
    let root = repo().join("examples/microservices");
    let docs = stream(portalgen().args(["--root"]).arg(&root).args([
        "render",
        "prod",
        "--stdout",
        "--kind",
        "ConfigMap,Deployment",
    ]));
    let config = |name: &str| {
        docs.iter()
            .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == format!("{name}-config"))
            .unwrap_or_else(|| panic!("no ConfigMap {name}-config"))["data"]
            .clone()
    };
    let deployment = |name: &str| {
        docs.iter()
            .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no Deployment {name}"))
            .clone()
    };
    // spec.overrides.env reaches every service, over the system file's values.
    for svc in [
        "api-gateway",
        "auth-service",
        "user-service",
        "task-service",
        "notification-service",
    ] {
        let c = config(svc);
        assert_eq!(c["LOG_LEVEL"], "warn", "{svc}");
        assert_eq!(c["FEATURE_NEW_BOARD"], "false", "{svc}");
        assert_eq!(c["TASKS_ENVIRONMENT"], "prod", "{svc}");
        let d = deployment(svc);
        let pod = &d["spec"]["template"]["spec"];
        assert_eq!(pod["nodeSelector"]["node-pool"], "general", "{svc}");
        assert_eq!(pod["tolerations"][0]["key"], "spot", "{svc}");
        assert_eq!(
            pod["imagePullSecrets"][0]["name"], "registry-credentials",
            "{svc}"
        );
        assert_eq!(pod["priorityClassName"], "tasks-critical", "{svc}");
        // The service's own image, with the environment's tag.
        assert_eq!(
            pod["containers"][0]["image"],
            format!("registry.example.com/tasks/{svc}:1.8.2"),
        );
    }
    // What a service uses is injected; what it does not use is not.
    let gw = config("api-gateway");
    assert_eq!(
        gw["AUTH_SERVICE_URL"],
        "http://auth-service.tasks-system.svc:80"
    );
    assert!(gw.get("DATABASE_READ_ONLY").is_none());
    assert_eq!(config("notification-service")["SMTP_PORT"], "587");
    // Per-service overrides: the gateway's resources and autoscaling.
    let gw = deployment("api-gateway");
    assert_eq!(
        gw["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "2Gi"
    );
    assert_eq!(gw["spec"]["replicas"], 6);
    let auth = deployment("auth-service");
    let secrets: Vec<&str> = auth["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        // The tracing variables (values and pod fields) first.
        .filter_map(|e| e["valueFrom"]["secretKeyRef"]["name"].as_str())
        .collect();
    // The database's URI, the Redis password, then the system file's references.
    assert_eq!(secrets, ["tasks-db-app", "tasks-redis-auth", "auth-keys"]);
    let names: Vec<&str> = auth["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["valueFrom"]["secretKeyRef"].is_object())
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["DATABASE_URL", "REDIS_PASSWORD", "JWT_SIGNING_KEY"]);
    // The service's own name in its spans.
    let otel = auth["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "OTEL_SERVICE_NAME")
        .unwrap();
    assert_eq!(otel["value"], "auth-service");
}

/// The text between `cat > <file> <<'YAML'` and `YAML` in the README's walk-through.
fn readme_file(readme: &str, file: &str) -> String {
    let start = format!("cat > {file} <<'YAML'\n");
    let from = readme
        .find(&start)
        .unwrap_or_else(|| panic!("README has no {file}"))
        + start.len();
    let len = readme[from..].find("\nYAML\n").unwrap();
    format!("{}\n", &readme[from..from + len])
}

#[test]
fn the_readme_walk_through_renders_two_services() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let s = Scratch::new();
    s.write_system(&readme_file(&readme, "portalgen.yaml"));
    std::fs::write(
        s.root().join("environments/staging.yaml"),
        readme_file(&readme, "environments/staging.yaml"),
    )
    .unwrap();
    s.cmd()
        .args(["render", "staging", "--quiet"])
        .assert()
        .success();
    let services = s
        .root()
        .join("rendered/staging/kubernetes/platform/services");
    let mut names: Vec<String> = std::fs::read_dir(&services)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["api", "web"]);
    let hpa = std::fs::read_to_string(services.join("api/hpa.yaml")).unwrap();
    assert!(hpa.contains("maxReplicas: 12"), "{hpa}");
}

#[test]
fn system_patches_apply_to_every_environment_before_the_environments_own() {
    let s = Scratch::new();
    s.write_system(
        "apiVersion: portalgen.dev/v1alpha1
kind: System
metadata:
  name: shop
spec:
  services:
    - {name: web, port: 3000, routes: [\"/\"]}
  patches:
    - target: {kind: Deployment, name: web}
      mergePatch: {spec: {template: {metadata: {annotations: {team.example.com/owner: web-team}}}}}
    - target: {kind: Deployment, name: web}
      jsonPatch:
        - {op: replace, path: /spec/revisionHistoryLimit, value: 5}
",
    );
    s.write_env("dev", &minimal_spec("dev", "dev", 1));
    s.write_env(
        "staging",
        &format!(
            "{}  patches:\n    - target: {{kind: Deployment, name: web}}\n      jsonPatch:\n        - {{op: replace, path: /spec/revisionHistoryLimit, value: 3}}\n",
            minimal_spec("staging", "staging", 1)
        ),
    );
    let docs = stream(
        s.cmd()
            .args(["render", "--all", "--stdout", "--kind", "Deployment"]),
    );
    let by_env = |env: &str| {
        docs.iter()
            .find(|d| d["metadata"]["labels"]["portal.dev/environment"] == env)
            .unwrap_or_else(|| panic!("no Deployment of {env}"))
            .clone()
    };
    for env in ["dev", "staging"] {
        let d = by_env(env);
        assert_eq!(
            d["spec"]["template"]["metadata"]["annotations"]["team.example.com/owner"], "web-team",
            "{env}"
        );
    }
    assert_eq!(by_env("dev")["spec"]["revisionHistoryLimit"], 5);
    // The environment's patch comes after the system file's.
    assert_eq!(by_env("staging")["spec"]["revisionHistoryLimit"], 3);
}
