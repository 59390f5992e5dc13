//! The system file (DESIGN §2a): `portalgen.yaml` beside `environments/` says *what* is
//! deployed — the services, their ports, probes, routes, the flows they use, their
//! configuration and SLOs. It is optional: without it the built-in system is the single
//! portal app ([`System::builtin`]), so existing specs and goldens keep working.
//!
//! Read like an environment spec (the same size limit, YAML reader with positions,
//! credential and control-character scan, JSON Schema `schemas/system.schema.json`), then
//! checked for what a schema cannot state: unique names, ports and routes, `uses` naming
//! a known service, reserved names, environment variable names.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::node::{self, SpanIndex};
use super::{parse_document, schema, typed, CpuMemoryOverride, ResourcesOverride};
use crate::diagnostic::{did_you_mean, Diagnostic, Error, Result};

/// The file name of the system file, in the root beside `environments/`.
pub const FILE_NAME: &str = "portalgen.yaml";

/// What a service may name in `uses` besides the system's services.
pub const USES_DATABASE: &str = "database";
pub const USES_REDIS: &str = "redis";
pub const USES_INTERNET: &str = "internet";

/// The variable a service that uses the database gets its connection URI in, and the one a
/// service that uses Redis gets the Redis password in (both by `secretKeyRef`): no `env` or
/// `secretEnv` of such a service may set them.
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";
pub const REDIS_PASSWORD_ENV: &str = "REDIS_PASSWORD";

/// Names no service may take: what `uses` means otherwise, and the names of objects
/// portalgen renders beside the services in the same namespace (a NetworkPolicy or a
/// ServiceMonitor of that name would collide).
pub const RESERVED_NAMES: &[&str] = &[
    USES_DATABASE,
    USES_REDIS,
    USES_INTERNET,
    "default-deny",
    "allow-dns",
    "kube-state-metrics",
    "velero",
    "prometheus",
    "alertmanager",
    "monitoring",
];

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct SystemFile {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    metadata: super::Metadata,
    spec: SystemSpec,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SystemSpec {
    pub services: Vec<ServiceSpec>,
    /// Applied to every environment's rendered objects, before the environment's own.
    #[serde(default)]
    pub patches: Vec<crate::patch::PatchSpec>,
    /// The secret store of every environment (an environment's own wins).
    #[serde(default)]
    pub secrets: super::SecretsSpec,
    /// Objects every environment's tree references without making them.
    #[serde(default)]
    pub external: Vec<super::ExternalRef>,
}

/// One service of the system file, as written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    pub name: String,
    pub image: Option<String>,
    pub port: u16,
    pub probes: Option<Probes>,
    pub resources: Option<ResourcesOverride>,
    #[serde(default)]
    pub routes: Vec<String>,
    #[serde(default)]
    pub uses: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, EnvValue>,
    #[serde(default)]
    pub secret_env: BTreeMap<String, SecretRef>,
    pub metrics: Option<Metrics>,
    pub slo: Option<SloSpec>,
}

/// An `env` value: YAML scalars are accepted and written as the string a container sees.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum EnvValue {
    String(String),
    Bool(bool),
    Integer(i64),
    Number(f64),
}

impl EnvValue {
    pub fn as_string(&self) -> String {
        match self {
            EnvValue::String(s) => s.clone(),
            EnvValue::Bool(b) => b.to_string(),
            EnvValue::Integer(i) => i.to_string(),
            EnvValue::Number(n) => n.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Probes {
    pub liveness: Option<String>,
    pub readiness: Option<String>,
    pub startup: Option<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct SecretRef {
    pub secret: String,
    pub key: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Metrics {
    pub port: u16,
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SloSpec {
    pub availability: Option<String>,
    pub latency_p95: Option<String>,
    pub error_rate: Option<String>,
}

/// The system: from `portalgen.yaml`, or the built-in portal app.
#[derive(Debug)]
pub struct System {
    /// `metadata.name`.
    pub name: String,
    pub services: Vec<ServiceSpec>,
    /// `spec.patches`.
    pub patches: Vec<crate::patch::PatchSpec>,
    /// `spec.secrets`.
    pub secrets: super::SecretsSpec,
    /// `spec.external`.
    pub external: Vec<super::ExternalRef>,
    /// Where it was read from; `None` for the built-in system.
    pub file: Option<PathBuf>,
    spans: SpanIndex,
}

impl System {
    /// The built-in system: today's single portal app (DESIGN §4), so that a repository
    /// without `portalgen.yaml` renders exactly what it always did.
    pub fn builtin() -> System {
        let secret = |secret: &str, key: &str| SecretRef {
            secret: secret.into(),
            key: key.into(),
        };
        System {
            name: "portal".into(),
            services: vec![ServiceSpec {
                name: "portal-app".into(),
                image: None,
                port: 3000,
                probes: Some(Probes {
                    liveness: Some("/api/health".into()),
                    readiness: Some("/api/ready".into()),
                    startup: None,
                }),
                resources: None,
                routes: vec!["/".into()],
                uses: vec![
                    USES_DATABASE.into(),
                    USES_REDIS.into(),
                    USES_INTERNET.into(),
                ],
                env: BTreeMap::from([(
                    "NODE_ENV".to_owned(),
                    EnvValue::String("production".into()),
                )]),
                secret_env: BTreeMap::from([(
                    "SESSION_SECRET".to_owned(),
                    secret("portal-secrets", "session-secret"),
                )]),
                metrics: Some(Metrics {
                    port: 3000,
                    path: Some("/metrics".into()),
                }),
                slo: None,
            }],
            patches: Vec::new(),
            secrets: super::SecretsSpec::default(),
            external: Vec::new(),
            file: None,
            spans: SpanIndex::default(),
        }
    }

    /// Where the value at a JSON pointer is written, when the file sets it.
    pub fn written_at(&self, pointer: &str) -> Option<crate::diagnostic::Position> {
        if self.spans.has(pointer) {
            self.spans.value(pointer)
        } else {
            None
        }
    }

    /// Whether this is the built-in system (no `portalgen.yaml`).
    pub fn is_builtin(&self) -> bool {
        self.file.is_none()
    }

    /// The service named `name`.
    pub fn service(&self, name: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.name == name)
    }

    /// A diagnostic about the value at a JSON pointer of the system file.
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        let file = self.file.as_deref().unwrap_or(Path::new(FILE_NAME));
        Diagnostic::new(file, message)
            .at(self.spans.value(pointer))
            .with_path(node::field_path(pointer))
    }

    /// A diagnostic at the key (not the value) of a JSON pointer.
    fn key_diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        let file = self.file.as_deref().unwrap_or(Path::new(FILE_NAME));
        Diagnostic::new(file, message)
            .at(self.spans.key(pointer))
            .with_path(node::field_path(pointer))
    }

    /// Every name a `uses` entry may give.
    pub fn usable_names(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|s| s.name.as_str()).chain([
            USES_DATABASE,
            USES_REDIS,
            USES_INTERNET,
        ])
    }
}

impl Default for System {
    fn default() -> System {
        System::builtin()
    }
}

/// Reads `<root>/portalgen.yaml` if there is one (following no symlink), else the built-in
/// system.
pub fn load(root: &Path) -> Result<System> {
    let rel = Path::new(FILE_NAME);
    let shown = root.join(FILE_NAME);
    match std::fs::symlink_metadata(&shown) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(System::builtin()),
        _ => {}
    }
    let bytes = super::read_limited(root, rel, &shown)?;
    parse_bytes(&shown, &bytes).map_err(Error::Invalid)
}

/// Parses and checks a system file given as bytes (`path` names it in diagnostics).
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<System, Vec<Diagnostic>> {
    let (value, spans) = parse_document(
        path,
        bytes,
        schema::system(),
        "a System (apiVersion, kind, metadata, spec.services)",
    )?;
    let file: SystemFile = typed(path, value, &spans)?;
    let system = System {
        name: file.metadata.name,
        services: file.spec.services,
        patches: file.spec.patches,
        secrets: file.spec.secrets,
        external: file.spec.external,
        file: Some(path.to_path_buf()),
        spans,
    };
    let problems = check(&system);
    if problems.is_empty() {
        Ok(system)
    } else {
        Err(problems)
    }
}

/// Whether `name` is a valid environment variable name (POSIX: letters, digits and `_`,
/// not starting with a digit).
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Environment variable names portalgen sets itself on every service.
pub fn is_platform_env(system: &str, name: &str) -> bool {
    let prefix = format!("{}_", system.to_ascii_uppercase().replace('-', "_"));
    name.starts_with(&prefix)
}

/// The rules of the system file a schema cannot state.
fn check(system: &System) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (pointer, message, hint) in super::external_problems(&system.external) {
        out.push(system.diagnostic(&pointer, message).with_hint(Some(hint)));
    }
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut ports: HashMap<u16, usize> = HashMap::new();
    let mut routes: HashMap<String, (usize, usize)> = HashMap::new();
    for (i, s) in system.services.iter().enumerate() {
        let at = |rest: &str| format!("/spec/services/{i}{rest}");
        if let Some(first) = names.insert(&s.name, i) {
            out.push(system.diagnostic(
                &at("/name"),
                format!(
                    "two services are named '{}' (the first is services[{first}])",
                    s.name
                ),
            ));
        }
        if RESERVED_NAMES.contains(&s.name.as_str())
            || s.name == format!("{}-db", system.name)
            || s.name.starts_with(&format!("{}-db-", system.name))
            || s.name == format!("{}-redis", system.name)
            || s.name.starts_with(&format!("{}-redis-", system.name))
        {
            out.push(
                system
                    .diagnostic(
                        &at("/name"),
                        format!("'{}' is a reserved name", s.name),
                    )
                    .with_hint(Some(format!(
                        "reserved: {}, {sys}-db…, {sys}-redis…; name the service after what it does",
                        RESERVED_NAMES.join(", "),
                        sys = system.name
                    ))),
            );
        }
        if let Some(first) = ports.insert(s.port, i) {
            out.push(system.diagnostic(
                &at("/port"),
                format!(
                    "port {} is already the port of service '{}'",
                    s.port, system.services[first].name
                ),
            ));
        }
        for (j, route) in s.routes.iter().enumerate() {
            let normal = normalize_route(route);
            match routes.get(&normal) {
                Some(&(fi, fj)) => out.push(system.diagnostic(
                    &at(&format!("/routes/{j}")),
                    format!(
                        "route '{route}' is already claimed by service '{}' (services[{fi}].routes[{fj}])",
                        system.services[fi].name
                    ),
                )),
                None => {
                    routes.insert(normal, (i, j));
                }
            }
        }
        out.extend(check_service(system, i, s));
    }
    out.sort_by_key(|d| d.position);
    out
}

/// A route prefix as it is compared: without a trailing `/` (but `/` stays `/`).
pub fn normalize_route(route: &str) -> String {
    let trimmed = route.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        trimmed.to_owned()
    }
}

fn check_service(system: &System, i: usize, s: &ServiceSpec) -> Vec<Diagnostic> {
    let at = |rest: &str| format!("/spec/services/{i}{rest}");
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (j, used) in s.uses.iter().enumerate() {
        let pointer = at(&format!("/uses/{j}"));
        if *used == s.name {
            out.push(system.diagnostic(&pointer, format!("service '{used}' cannot use itself")));
        } else if !system.usable_names().any(|n| n == used) {
            out.push(
                system
                    .diagnostic(&pointer, format!("no service '{}' to use", crate::diagnostic::quote(used)))
                    .with_hint(did_you_mean(used, system.usable_names()).or_else(|| {
                        Some(format!(
                            "a service of this system, or {USES_DATABASE}, {USES_REDIS}, {USES_INTERNET}"
                        ))
                    })),
            );
        } else if seen.contains(&used) {
            out.push(system.diagnostic(&pointer, format!("'{used}' is listed twice")));
        }
        seen.push(used);
    }
    for key in s.env.keys() {
        let pointer = at(&format!("/env/{}", escape(key)));
        if !is_env_name(key) {
            out.push(env_name_problem(system, &pointer, key));
        } else if is_platform_env(&system.name, key) {
            out.push(system.key_diagnostic(
                &pointer,
                format!(
                    "'{key}' is set by portalgen on every service (the {}_* variables)",
                    system.name.to_ascii_uppercase().replace('-', "_")
                ),
            ));
        }
    }
    for key in s.secret_env.keys() {
        let pointer = at(&format!("/secretEnv/{}", escape(key)));
        if !is_env_name(key) {
            out.push(env_name_problem(system, &pointer, key));
        } else if s.env.contains_key(key) {
            out.push(
                system.key_diagnostic(&pointer, format!("'{key}' is in both env and secretEnv")),
            );
        }
    }
    // The variables portalgen gives a service for what it uses.
    let injected = [
        (DATABASE_URL_ENV, USES_DATABASE),
        (REDIS_PASSWORD_ENV, USES_REDIS),
    ];
    for (list, keys) in [
        ("env", s.env.keys().collect::<Vec<_>>()),
        ("secretEnv", s.secret_env.keys().collect()),
    ] {
        for key in keys {
            if let Some((_, uses)) = injected
                .iter()
                .find(|(k, u)| k == key && s.uses.iter().any(|x| x == u))
            {
                out.push(system.key_diagnostic(
                    &at(&format!("/{list}/{}", escape(key))),
                    format!("'{key}' is set by portalgen on a service that uses {uses}"),
                ));
            }
        }
    }
    if let Some(m) = &s.metrics {
        if m.port != s.port && system.services.iter().any(|o| o.port == m.port) {
            out.push(system.diagnostic(
                &at("/metrics/port"),
                format!("metrics port {} is the port of a service", m.port),
            ));
        }
    }
    if let Some(r) = &s.resources {
        out.extend(request_above_limit(system, &at("/resources"), r));
    }
    out
}

fn request_above_limit(system: &System, at: &str, r: &ResourcesOverride) -> Vec<Diagnostic> {
    use crate::model::quantity;
    let mut out = Vec::new();
    let empty = CpuMemoryOverride::default();
    let (req, lim) = (
        r.requests.as_ref().unwrap_or(&empty),
        r.limits.as_ref().unwrap_or(&empty),
    );
    if let (Some(a), Some(b)) = (&req.cpu, &lim.cpu) {
        if quantity::cpu_millis(a) > quantity::cpu_millis(b) {
            out.push(system.diagnostic(
                &format!("{at}/requests/cpu"),
                format!("the CPU request ({a}) is above the CPU limit ({b})"),
            ));
        }
    }
    if let (Some(a), Some(b)) = (&req.memory, &lim.memory) {
        if quantity::bytes(a) > quantity::bytes(b) {
            out.push(system.diagnostic(
                &format!("{at}/requests/memory"),
                format!("the memory request ({a}) is above the memory limit ({b})"),
            ));
        }
    }
    out
}

fn env_name_problem(system: &System, pointer: &str, key: &str) -> Diagnostic {
    system
        .key_diagnostic(
            pointer,
            format!(
                "'{}' is not a valid environment variable name",
                crate::diagnostic::quote(key)
            ),
        )
        .with_hint(Some(
            "letters, digits and '_', not starting with a digit: LOG_LEVEL".into(),
        ))
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
