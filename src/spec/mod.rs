//! The environment spec (DESIGN "The environment spec"): read, parse with positions, check
//! against the schema and the rules a schema cannot state, and deserialize into typed
//! values.
//!
//! [`read`] reads any spec file (an environment, the system file) up to its typed values;
//! this module holds the environment spec and its rules of one file alone; [`workspace`]
//! lists and loads every spec of a project and checks the rules between files.

pub mod delivery;
pub mod edit;
pub mod node;
mod read;
pub mod schema;
pub mod system;
mod text;
pub mod types;
mod workspace;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diagnostic::{Diagnostic, Error, Position, Result};
use node::SpanIndex;
pub use read::MAX_SPEC_BYTES;
pub(crate) use read::{parse_document, read_limited, typed};
pub use types::*;
pub use workspace::{Loaded, Workspace};

/// One parsed and checked environment spec.
#[derive(Debug)]
pub struct Environment {
    pub name: String,
    pub file: PathBuf,
    pub spec: EnvironmentSpec,
    spans: SpanIndex,
}

impl Environment {
    /// A diagnostic about the value at a JSON pointer of this spec (`/spec/overrides/replicas`).
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.file, message)
            .at(self.spans.value(pointer))
            .with_path(node::field_path(pointer))
    }

    /// Whether the spec sets the value at a JSON pointer.
    pub fn has(&self, pointer: &str) -> bool {
        self.spans.has(pointer)
    }

    /// Where the value and the key at a JSON pointer are written, when the spec sets it.
    pub fn written_at(&self, pointer: &str) -> Option<(Position, Position)> {
        if !self.spans.has(pointer) {
            return None;
        }
        Some((self.spans.value(pointer)?, self.spans.key(pointer)?))
    }
}

/// Parses and checks one spec file on its own (everything but the cross-environment rules).
/// The file itself must not be a symlink.
pub fn parse_file(path: &Path) -> Result<Environment> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().map(Path::new).unwrap_or(path);
    parse_file_beneath(dir, name, path)
}

/// Parses the spec at `rel` below `root`, following no symlink on the way (`shown` names
/// it in diagnostics).
pub fn parse_file_beneath(root: &Path, rel: &Path, shown: &Path) -> Result<Environment> {
    let bytes = read_limited(root, rel, shown)?;
    parse_bytes(shown, &bytes).map_err(Error::Invalid)
}

/// Parses and checks a spec given as bytes; `path` names it in diagnostics and gives the
/// expected `metadata.name` (its file stem).
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Environment, Vec<Diagnostic>> {
    let (value, spans) = parse_document(
        path,
        bytes,
        schema::environment(),
        "an Environment (apiVersion, kind, metadata, spec)",
    )?;
    let file: EnvironmentFile = typed(path, value, &spans)?;
    let env = Environment {
        name: file.metadata.name,
        file: path.to_path_buf(),
        spec: file.spec,
        spans,
    };
    let problems = check_alone(&env);
    if problems.is_empty() {
        Ok(env)
    } else {
        Err(problems)
    }
}

/// `con`, `nul`, `com1` …: names Windows reserves for devices, whatever the extension.
fn is_windows_reserved(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or(name).to_ascii_lowercase();
    matches!(base.as_str(), "con" | "prn" | "aux" | "nul")
        || (base.len() == 4
            && (base.starts_with("com") || base.starts_with("lpt"))
            && base.as_bytes()[3].is_ascii_digit()
            && base.as_bytes()[3] != b'0')
}

/// The rules that concern one spec alone and that the schema cannot state.
fn check_alone(env: &Environment) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let stem = env
        .file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if env.name != stem {
        out.push(
            env.diagnostic(
                "/metadata/name",
                format!(
                    "metadata.name '{}' must equal the file name '{stem}'",
                    env.name
                ),
            )
            .with_hint(Some(format!(
                "rename the file to {}.yaml or set name: {stem}",
                env.name
            ))),
        );
    }
    if is_windows_reserved(&env.name) {
        out.push(env.diagnostic(
            "/metadata/name",
            format!("'{}' is a reserved device name on Windows: a folder of that name cannot be checked out there", env.name),
        ));
    }
    if let Some(list) = &env.spec.tenants.list {
        for (i, t) in list
            .iter()
            .enumerate()
            .filter(|(_, t)| is_windows_reserved(&t.id))
        {
            out.push(env.diagnostic(
                &format!("/spec/tenants/list/{i}/id"),
                format!("tenant id '{}' is a reserved device name on Windows: its files could not be checked out there", t.id),
            ));
        }
    }
    match (env.spec.role, &env.spec.replica_of) {
        (Role::Primary, Some(_)) => out.push(
            env.diagnostic("/spec/replicaOf", "only a replica has 'replicaOf'")
                .with_hint(Some("set role: replica, or remove replicaOf".into())),
        ),
        (Role::Replica, None) => out.push(env.diagnostic(
            "/spec/role",
            "a replica must name its primary environment in 'replicaOf'",
        )),
        (Role::Replica, Some(p)) if *p == env.name => out.push(env.diagnostic(
            "/spec/replicaOf",
            "an environment cannot be a replica of itself",
        )),
        _ => {}
    }
    out.extend(env_names(env));
    out.extend(delivery::problems(env));
    out.extend(region_of_cloud(env));
    for (pointer, message, hint) in external_problems(&env.spec.external) {
        out.push(env.diagnostic(&pointer, message).with_hint(Some(hint)));
    }
    if let Some(list) = &env.spec.tenants.list {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, t) in list.iter().enumerate() {
            if let Some(first) = seen.insert(t.id.as_str(), i) {
                let first_line = env
                    .spans
                    .value(&format!("/spec/tenants/list/{first}/id"))
                    .map(|p| format!(" (first at line {})", p.line))
                    .unwrap_or_default();
                out.push(env.diagnostic(
                    &format!("/spec/tenants/list/{i}/id"),
                    format!("duplicate tenant id '{}'{first_line}", t.id),
                ));
                seen.insert(t.id.as_str(), first);
            }
        }
    }
    out
}

/// The rules of `spec.external` (of an environment or of the system file) a schema cannot
/// state: a namespaced kind names its namespace, a cluster-scoped kind none. Each problem is
/// (JSON pointer, message, hint).
pub(crate) fn external_problems(refs: &[ExternalRef]) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let kind = r.kind.as_str();
        match (&r.namespace, r.kind.cluster_scoped()) {
            (None, false) => out.push((
                format!("/spec/external/{i}"),
                format!(
                    "a {kind} lives in a namespace: external {kind} '{}' names none",
                    r.name
                ),
                "add namespace: <the namespace it is in>".to_owned(),
            )),
            (Some(ns), true) => out.push((
                format!("/spec/external/{i}/namespace"),
                format!("a {kind} is cluster-scoped: it has no namespace ('{ns}')"),
                "remove the namespace".to_owned(),
            )),
            _ => {}
        }
    }
    out
}

/// The region must be a region id of the environment's cloud; the hint names the cloud
/// whose id it is, when it is one.
fn region_of_cloud(env: &Environment) -> Option<Diagnostic> {
    let (cloud, region) = (env.spec.cloud, env.spec.region.as_str());
    if cloud.is_region(region) {
        return None;
    }
    let hint = match CloudProvider::ALL.into_iter().find(|c| c.is_region(region)) {
        Some(other) => format!(
            "'{region}' is a {} region: set cloud: {}",
            other.as_str(),
            other.as_str()
        ),
        None => format!(
            "a {} region id looks like {}",
            cloud.as_str(),
            cloud.example_region()
        ),
    };
    Some(
        env.diagnostic(
            "/spec/region",
            format!("'{region}' is not a region of cloud '{}'", cloud.as_str()),
        )
        .with_hint(Some(hint)),
    )
}

/// Every key of an `env` override that is not an environment variable name.
fn env_names(env: &Environment) -> Vec<Diagnostic> {
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    let o = &env.spec.overrides;
    let maps = std::iter::once(("/spec/overrides/env".to_owned(), &o.env)).chain(
        o.services.iter().map(|(n, s)| {
            (
                format!("/spec/overrides/services/{}/env", escape(n)),
                &s.env,
            )
        }),
    );
    let mut out = Vec::new();
    for (at, map) in maps {
        for key in map.keys().filter(|k| !system::is_env_name(k)) {
            let pointer = format!("{at}/{}", escape(key));
            out.push(
                Diagnostic::new(
                    &env.file,
                    format!(
                        "'{}' is not a valid environment variable name",
                        crate::diagnostic::quote(key)
                    ),
                )
                .at(env.spans.key(&pointer))
                .with_path(node::field_path(&pointer))
                .with_hint(Some(
                    "letters, digits and '_', not starting with a digit: LOG_LEVEL".into(),
                )),
            );
        }
    }
    out
}
