//! The project's specs together: the folder of environment specs, every spec parsed, and
//! the rules that relate files (a replica's primary; an override naming a service of the
//! system file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::node;
use super::{parse_file_beneath, system, Environment, Role, Tier};
use crate::diagnostic::{did_you_mean, Diagnostic, Error, Result};

/// Refuses a file of `environments/` that looks like a spec but would be skipped: a `.yml`
/// file or a name that is not UTF-8 (silently rendering nothing for them is worse).
fn check_spec_name(path: &Path) -> Result<()> {
    let Some(name) = path.file_name() else {
        return Ok(());
    };
    let shown = || crate::diagnostic::quote(&name.to_string_lossy());
    let problem = match name.to_str() {
        None => Some(format!(
            "the file name '{}' is not UTF-8; a spec is named <environment>.yaml",
            shown()
        )),
        Some(n) if n.ends_with(".yml") || n.ends_with(".YAML") || n.ends_with(".YML") => Some(
            format!("'{}': spec files end in .yaml (rename it)", shown()),
        ),
        Some(_) => None,
    };
    match problem {
        Some(p) => Err(Error::Other(format!(
            "{}: {p}",
            path.parent().unwrap_or(path).display()
        ))),
        None => Ok(()),
    }
}

/// The folder of environment specs under a root, and the specs in it.
#[derive(Debug)]
pub struct Workspace {
    pub root: PathBuf,
    /// Spec files by environment name (file stem), sorted.
    pub files: BTreeMap<String, PathBuf>,
}

impl Workspace {
    /// Lists `<root>/environments/*.yaml`.
    pub fn open(root: &Path) -> Result<Workspace> {
        let dir = root.join("environments");
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut files = BTreeMap::new();
        for entry in entries {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            check_spec_name(&path)?;
            if path.extension().and_then(|e| e.to_str()) == Some("yaml") {
                if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                    files.insert(stem.to_owned(), path.clone());
                }
            }
        }
        Ok(Workspace {
            root: root.to_path_buf(),
            files,
        })
    }

    /// The nearest ancestor of `start` (itself included) that holds `environments/`.
    pub fn discover(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .find(|dir| dir.join("environments").is_dir())
            .map(Path::to_path_buf)
    }

    /// Parses the system file and every spec; the ones that fail are returned as
    /// diagnostics (by name, for the specs).
    pub fn load_all(&self) -> Loaded {
        let mut loaded = Loaded::default();
        match system::load(&self.root) {
            Ok(s) => loaded.system = s,
            Err(e) => loaded.system_error = Some(e),
        }
        for (name, path) in &self.files {
            let rel = path.strip_prefix(&self.root).unwrap_or(path);
            match parse_file_beneath(&self.root, rel, path) {
                Ok(env) => {
                    loaded.envs.insert(name.clone(), env);
                }
                Err(e) => {
                    loaded.errors.insert(name.clone(), e);
                }
            }
        }
        loaded
    }
}

/// The result of parsing every spec of a workspace.
#[derive(Debug, Default)]
pub struct Loaded {
    pub envs: BTreeMap<String, Environment>,
    pub errors: BTreeMap<String, Error>,
    /// The system file's services (the built-in system without one).
    pub system: system::System,
    /// Why the system file could not be read: every environment fails with it.
    pub system_error: Option<Error>,
}

impl Loaded {
    /// Resolves command-line names: an environment name, or a tier name standing for that
    /// tier's one primary environment (DESIGN "Command line").
    pub fn resolve_name(&self, arg: &str, files: &BTreeMap<String, PathBuf>) -> Result<String> {
        if files.contains_key(arg) {
            return Ok(arg.to_owned());
        }
        if let Some(tier) = Tier::parse(arg) {
            let primaries: Vec<&str> = self
                .envs
                .values()
                .filter(|e| e.spec.tier == tier && e.spec.role == Role::Primary)
                .map(|e| e.name.as_str())
                .collect();
            return match primaries.as_slice() {
                [one] => Ok((*one).to_owned()),
                [] => Err(Error::Other(format!(
                    "no primary environment of tier '{arg}'"
                ))),
                many => Err(Error::Other(format!(
                    "tier '{arg}' has several primary environments: {}; name one",
                    many.join(", ")
                ))),
            };
        }
        let hint = did_you_mean(arg, files.keys().map(String::as_str))
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        Err(Error::Other(format!(
            "no environment '{arg}'{hint}; known: {}",
            files.keys().cloned().collect::<Vec<_>>().join(", ")
        )))
    }

    /// The environment `name`, after the rules that involve other environments (its
    /// primary, for a replica). Fails with every diagnostic of the specs involved.
    pub fn checked(&self, name: &str) -> Result<&Environment> {
        if let Some(e) = self.system_error.as_ref() {
            return Err(clone_error(e));
        }
        if let Some(e) = self.errors.get(name) {
            return Err(clone_error(e));
        }
        let env = &self.envs[name];
        let mut problems = against_system(env, &self.system);
        if let (Role::Replica, Some(primary)) = (env.spec.role, &env.spec.replica_of) {
            match self.envs.get(primary) {
                None if self.errors.contains_key(primary) => {
                    problems.push(env.diagnostic(
                        "/spec/replicaOf",
                        format!("the primary '{primary}' has errors of its own"),
                    ));
                    problems.extend(self.errors[primary].diagnostics().iter().cloned());
                }
                None => {
                    let names = self.envs.keys().chain(self.errors.keys()).map(String::as_str);
                    problems.push(
                        env.diagnostic("/spec/replicaOf", format!("no environment '{primary}'"))
                            .with_hint(did_you_mean(primary, names)),
                    )
                }
                Some(p) if p.spec.role != Role::Primary => problems.push(env.diagnostic(
                    "/spec/replicaOf",
                    format!("'{primary}' is itself a replica; a replica streams from a primary"),
                )),
                Some(p) if p.spec.tier != env.spec.tier => problems.push(env.diagnostic(
                    "/spec/replicaOf",
                    format!(
                        "'{primary}' is of tier '{}', this environment of tier '{}'; a replica has its primary's tier",
                        p.spec.tier.as_str(),
                        env.spec.tier.as_str()
                    ),
                )),
                // The primary's endpoint is a private load balancer reached over the cloud's
                // own network (peering); between clouds there is none.
                Some(p) if p.spec.cloud != env.spec.cloud => problems.push(
                    env.diagnostic(
                        "/spec/replicaOf",
                        format!(
                            "'{primary}' runs on cloud '{}', this environment on '{}'; a replica streams from its primary over the cloud's private network",
                            p.spec.cloud.as_str(),
                            env.spec.cloud.as_str()
                        ),
                    )
                    .with_hint(Some(format!("set cloud: {}", p.spec.cloud.as_str()))),
                ),
                Some(_) => {}
            }
        }
        if problems.is_empty() {
            Ok(env)
        } else {
            Err(Error::Invalid(problems))
        }
    }
}

/// The rules between an environment and the system file: an override names a service of
/// the system, and sets no variable portalgen sets itself.
fn against_system(env: &Environment, system: &system::System) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    for name in env.spec.overrides.services.keys() {
        if system.service(name).is_none() {
            let pointer = format!("/spec/overrides/services/{}", escape(name));
            let names = system.services.iter().map(|s| s.name.as_str());
            let known = system
                .services
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            out.push(
                Diagnostic::new(
                    &env.file,
                    format!(
                        "no service '{}' in the system{}",
                        crate::diagnostic::quote(name),
                        if system.is_builtin() {
                            " (there is no portalgen.yaml: the built-in system has one service, portal-app)"
                        } else {
                            ""
                        }
                    ),
                )
                .at(env.spans.key(&pointer))
                .with_path(node::field_path(&pointer))
                .with_hint(did_you_mean(name, names).or(Some(format!("services: {known}")))),
            );
        }
    }
    let env_maps = std::iter::once(("/spec/overrides/env".to_owned(), &env.spec.overrides.env))
        .chain(env.spec.overrides.services.iter().map(|(n, o)| {
            (
                format!("/spec/overrides/services/{}/env", escape(n)),
                &o.env,
            )
        }));
    for (at, map) in env_maps {
        for key in map.keys() {
            if system::is_platform_env(&system.name, key) {
                let pointer = format!("{at}/{}", escape(key));
                out.push(
                    Diagnostic::new(
                        &env.file,
                        format!("'{key}' is set by portalgen on every service"),
                    )
                    .at(env.spans.key(&pointer))
                    .with_path(node::field_path(&pointer)),
                );
            }
        }
    }
    out
}

fn clone_error(e: &Error) -> Error {
    match e {
        Error::Invalid(d) => Error::Invalid(d.clone()),
        Error::Rendered(d) => Error::Rendered(d.clone()),
        Error::Io { path, source } => Error::Io {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        Error::Other(s) => Error::Other(s.clone()),
    }
}
