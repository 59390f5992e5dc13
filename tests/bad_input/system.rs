//! Bad system files (`portalgen.yaml`), and environment specs that do not fit theirs: each
//! must be refused like a bad spec, at its file, line and field.

use super::{project, refusal_failures, Refusal, BASE};

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

/// Every bad system case, by theme.
fn system_cases() -> Vec<SystemCase> {
    [
        service_relation_cases(),
        system_value_cases(),
        against_system_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// SYSTEM with the first occurrence of `from` replaced by `to` (which must exist).
fn sys(from: &str, to: &str) -> String {
    assert!(SYSTEM.contains(from), "SYSTEM has no {from:?}");
    SYSTEM.replacen(from, to, 1)
}

fn at_sys(line: u64) -> String {
    format!("portalgen.yaml:{line}:")
}

fn at_env(line: u64) -> String {
    format!("environments/bad.yaml:{line}:")
}

/// BASE with `overrides` (its lines).
fn with_overrides(o: &str) -> String {
    format!("{BASE}  overrides:\n{o}")
}

/// A case of a bad system file (the environment spec is BASE).
fn system_case(
    name: &'static str,
    system: String,
    location: String,
    field: &'static str,
    message: &'static str,
    hint: Option<&'static str>,
) -> SystemCase {
    SystemCase {
        name,
        system,
        env: None,
        location,
        field,
        message,
        hint,
    }
}

/// Services that name, use or claim what another one has.
fn service_relation_cases() -> Vec<SystemCase> {
    vec![
        system_case(
            "unknown service in uses",
            sys("uses: [api]", "uses: [apj]"),
            at_sys(10),
            "spec.services[0].uses[0]",
            "no service 'apj' to use",
            Some("did you mean 'api'?"),
        ),
        system_case(
            "a service uses itself",
            sys("uses: [api]", "uses: [web]"),
            at_sys(10),
            "spec.services[0].uses[0]",
            "cannot use itself",
            None,
        ),
        system_case(
            "a service named like a reserved one",
            sys("- name: api\n", "- name: database\n"),
            at_sys(12),
            "spec.services[1].name",
            "'database' is a reserved name",
            None,
        ),
        system_case(
            "a service named like the database cluster",
            sys("- name: api\n", "- name: shop-db\n"),
            at_sys(12),
            "spec.services[1].name",
            "reserved name",
            None,
        ),
        system_case(
            "two services with one name",
            sys("- name: api\n", "- name: web\n"),
            at_sys(12),
            "spec.services[1].name",
            "two services are named 'web'",
            None,
        ),
        system_case(
            "two services on one port",
            sys("port: 3001", "port: 3000"),
            at_sys(13),
            "spec.services[1].port",
            "port 3000 is already the port of service 'web'",
            None,
        ),
        system_case(
            "one route claimed twice",
            sys("routes: [\"/api\"]", "routes: [\"/\"]"),
            at_sys(14),
            "spec.services[1].routes[0]",
            "route '/' is already claimed by service 'web'",
            None,
        ),
        system_case(
            "one route claimed by two services",
            sys("routes: [\"/\"]", "routes: [\"/\", \"/api\"]"),
            at_sys(14),
            "spec.services[1].routes[0]",
            "route '/api' is already claimed by service 'web' (services[0].routes[1])",
            None,
        ),
    ]
}

/// Values of the system file that are wrong on their own.
fn system_value_cases() -> Vec<SystemCase> {
    vec![
        system_case(
            "an env key that is not a variable name",
            sys("env: {LOG_FORMAT: json}", "env: {log-format: json}"),
            at_sys(16),
            "spec.services[1].env.log-format",
            "'log-format' is not a valid environment variable name",
            None,
        ),
        system_case(
            "an env key portalgen sets itself",
            sys("env: {LOG_FORMAT: json}", "env: {SHOP_REGION: mars}"),
            at_sys(16),
            "spec.services[1].env.SHOP_REGION",
            "is set by portalgen on every service",
            None,
        ),
        system_case(
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
        system_case(
            "a system name that is not a DNS label",
            sys("name: shop\n", "name: Shop_Front\n"),
            at_sys(4),
            "metadata.name",
            "\"Shop_Front\" is not valid here",
            None,
        ),
        system_case(
            "a misspelt key of a service",
            sys("      port: 3001", "      prot: 3001"),
            at_sys(13),
            "spec.services[1].prot",
            "unknown key 'prot'",
            Some("did you mean 'port'?"),
        ),
        system_case(
            "a privileged port",
            sys("port: 3001", "port: 80"),
            at_sys(13),
            "spec.services[1].port",
            "80",
            None,
        ),
        system_case(
            "a route that is not a path",
            sys("routes: [\"/api\"]", "routes: [\"api\"]"),
            at_sys(14),
            "spec.services[1].routes[0]",
            "\"api\" is not valid here",
            None,
        ),
        system_case(
            "not YAML",
            sys("  services:\n", "  services: [\n"),
            at_sys(7),
            "spec.services.name",
            "invalid YAML",
            None,
        ),
        system_case(
            "the wrong kind",
            sys("kind: System", "kind: Environment"),
            at_sys(2),
            "kind",
            "expected \"System\"",
            None,
        ),
        system_case(
            "a system patch whose path does not exist",
            format!(
                "{SYSTEM}  patches:\n    - target: {{kind: Rollout, name: web}}\n      jsonPatch:\n        - {{op: replace, path: /spec/replica, value: 3}}\n"
            ),
            at_sys(21),
            "spec.patches[0].jsonPatch[0].path",
            "no key 'replica' under /spec",
            Some("did you mean 'replicas'?"),
        ),
        system_case(
            "a system patch whose target is not rendered",
            format!(
                "{SYSTEM}  patches:\n    - target: {{kind: Rollout, name: wbe}}\n      mergePatch: {{spec: {{paused: true}}}}\n"
            ),
            at_sys(19),
            "spec.patches[0].target.name",
            "the patch target Rollout wbe is not rendered",
            Some("Rollout shop-system/web"),
        ),
    ]
}

/// Environment specs that do not fit the system file.
fn against_system_cases() -> Vec<SystemCase> {
    vec![
        SystemCase {
            env: Some(with_overrides("    services:\n      apii: {replicas: 2}\n")),
            ..system_case(
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
            ..system_case(
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
            ..system_case(
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
        let want = Refusal {
            location: &c.location,
            field: c.field,
            message: c.message,
            hint: c.hint,
            secrets: &["hunter2"],
        };
        failures.extend(refusal_failures(&s, &before, c.name, &want));
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
