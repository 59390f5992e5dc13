//! The environment spec (DESIGN §2): read, parse with positions, check against the schema
//! and the rules a schema cannot state, and deserialize into typed values.

pub mod edit;
pub mod node;
pub mod schema;
pub mod system;
mod text;
pub mod types;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::diagnostic::{did_you_mean, Diagnostic, Error, Position, Result};
use node::{Node, SpanIndex};
pub use types::*;

/// Specs larger than this are refused before parsing: a real one is a few hundred bytes,
/// and an explicit list of 100,000 tenants stays well under it.
pub const MAX_SPEC_BYTES: usize = 8 * 1024 * 1024;

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

/// Reads a spec file, refusing a symlink anywhere on its way below `root` (its target is
/// never opened, so nothing of it can be echoed), and anything but a regular file (a FIFO
/// or a device would block or never end); reads at most one byte more than
/// [`MAX_SPEC_BYTES`], so that a huge file is refused without being loaded into memory.
pub(crate) fn read_limited(root: &Path, rel: &Path, shown: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let whole = |msg: String| {
        Error::invalid(
            Diagnostic::new(shown, msg)
                .at(Some(Position { line: 1, column: 1 }))
                .with_path("(document)"),
        )
    };
    let file = match crate::fsafe::open_beneath(root, rel) {
        Ok(f) => f,
        Err(crate::fsafe::Refused::Io(e)) => return Err(Error::io(shown, e)),
        Err(refused) => return Err(whole(refused.to_string())),
    };
    let meta = file.metadata().map_err(|e| Error::io(shown, e))?;
    if !meta.is_file() {
        return Err(whole(
            "not a regular file; a spec is a plain YAML file".into(),
        ));
    }
    let mut bytes = Vec::with_capacity((meta.len() as usize).min(MAX_SPEC_BYTES + 1));
    file.take(MAX_SPEC_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(shown, e))?;
    Ok(bytes)
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

/// The first half of reading any spec file (an environment, the system file): size, UTF-8,
/// YAML with positions, the value checks of [`text`] and the JSON Schema. `expected` says
/// what an empty file should have held.
pub(crate) fn parse_document(
    path: &Path,
    bytes: &[u8],
    schema: &schema::SpecSchema,
    expected: &str,
) -> Result<(serde_json::Value, SpanIndex), Vec<Diagnostic>> {
    let start = Some(Position { line: 1, column: 1 });
    let whole = |msg: String| vec![Diagnostic::new(path, msg).at(start).with_path("(document)")];
    if bytes.len() > MAX_SPEC_BYTES {
        return Err(whole(format!(
            "the file is larger than {MAX_SPEC_BYTES} bytes, the most a spec may be"
        )));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count() as u64;
            let column = 1 + valid.iter().rev().take_while(|&&b| b != b'\n').count() as u64;
            // The prefix before the bad byte is valid UTF-8: it names the field.
            let prefix = std::str::from_utf8(valid).unwrap_or_default();
            return Err(vec![Diagnostic::new(
                path,
                format!(
                    "the file is not valid UTF-8 (byte 0x{:02x})",
                    bytes[e.valid_up_to()]
                ),
            )
            .at(Some(Position { line, column }))
            .at_field(node::field_at_line(prefix, line))
            .with_hint(Some("save the file as UTF-8".into()))]);
        }
    };
    if text
        .trim()
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(whole(format!("the file is empty; expected {expected}")));
    }
    let root = parse_yaml(path, text)?;
    let (value, spans) = root.into_json();

    let problems = text::check(path, text, &value, &spans);
    if !problems.is_empty() {
        return Err(problems);
    }
    let problems = schema::check_against(schema, path, &value, &spans);
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok((value, spans))
}

/// A schema-checked document as its typed values (a value the types cannot hold, such as
/// `count: 5.0`, is named by its field).
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    path: &Path,
    value: serde_json::Value,
    spans: &SpanIndex,
) -> Result<T, Vec<Diagnostic>> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let mut pointer = String::new();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Seq { index } => {
                    pointer.push_str(&format!("/{index}"))
                }
                serde_path_to_error::Segment::Map { key } => {
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                }
                _ => {}
            }
        }
        vec![
            Diagnostic::new(path, format!("the value does not fit: {}", e.inner()))
                .at(spans
                    .value(&pointer)
                    .or(Some(Position { line: 1, column: 1 })))
                .with_path(if pointer.is_empty() {
                    "(document)".to_owned()
                } else {
                    node::field_path(&pointer)
                }),
        ]
    })
}

fn parse_yaml(path: &Path, text: &str) -> Result<Node, Vec<Diagnostic>> {
    // Limits against hostile input. A legitimate document has at most about one node per
    // two bytes of text (`[a,b,…]`), so the node and event budgets grow with the input:
    // anchors and aliases can then never multiply a small file into a huge tree ("billion
    // laughs"), while a large explicit tenant list still fits.
    let budget = serde_saphyr::budget! {
        max_nodes: text.len() + 10_000,
        max_events: 2 * text.len() + 20_000,
        max_aliases: 10_000,
        max_anchors: 10_000,
        max_documents: 16,
        max_depth: 64,
    };
    let options = serde_saphyr::options! {
        with_snippet: false,
        strict_booleans: true,
        budget: budget,
    };
    let yaml_error = |e: serde_saphyr::Error| {
        let position = e
            .location()
            .map(|l| Position {
                line: l.line(),
                column: l.column(),
            })
            .unwrap_or(Position { line: 1, column: 1 });
        let message = e.without_snippet().to_string();
        let mut message = message.lines().next().unwrap_or("invalid YAML").to_owned();
        // An unterminated quoted scalar is noticed lines later: report where it opens.
        let position = if message.contains("quoted scalar") {
            unterminated_quote(text, position.line).unwrap_or(position)
        } else {
            position
        };
        // serde-saphyr's advice about its own options means nothing to a spec's author.
        if let Some(i) = message.find(", set DuplicateKeyPolicy") {
            let rest = message[i..]
                .find(" at line")
                .map_or("", |j| &message[i + j..])
                .to_owned();
            message.truncate(i);
            message.push_str(&rest);
        }
        let mut hint = None;
        if message.contains("budget breached") {
            message = format!(
                "the document is too large or expands too much through anchors and aliases ({message})"
            );
            hint = Some("a spec needs no deep anchor/alias nesting; write the values out".into());
        }
        vec![Diagnostic::new(path, format!("invalid YAML: {message}"))
            .at(Some(position))
            .at_field(node::field_at_line(text, position.line))
            .with_hint(hint)]
    };
    let mut docs: Vec<Node> =
        serde_saphyr::from_multiple_with_options(text, options).map_err(yaml_error)?;
    match docs.len() {
        1 => Ok(docs.remove(0)),
        0 => Err(vec![Diagnostic::new(
            path,
            "the file holds no YAML document",
        )
        .at(Some(Position { line: 1, column: 1 }))
        .with_path("(document)")]),
        _ => Err(vec![Diagnostic::new(
            path,
            format!(
                "the file holds {} YAML documents; a spec is exactly one",
                docs.len()
            ),
        )
        .at(Some(docs[1].position))
        .with_path("(document)")
        .with_hint(Some(
            "remove the '---' separator and everything after it".into(),
        ))]),
    }
}

/// The last line at or before `line` with an odd number of quotes of one kind: where an
/// unterminated quoted scalar opens, at its opening quote.
fn unterminated_quote(text: &str, line: u64) -> Option<Position> {
    let lines: Vec<&str> = text.lines().take(line as usize).collect();
    for (i, l) in lines.iter().enumerate().rev() {
        let content = l.split(" #").next().unwrap_or(l);
        for q in ['"', '\''] {
            if content.matches(q).count() % 2 == 1 {
                let column = content.find(q).unwrap_or(0) as u64 + 1;
                return Some(Position {
                    line: i as u64 + 1,
                    column,
                });
            }
        }
    }
    None
}

/// The rules that concern one spec alone and that the schema cannot state.
/// `con`, `nul`, `com1` …: names Windows reserves for devices, whatever the extension.
fn is_windows_reserved(name: &str) -> bool {
    let base = name.split('.').next().unwrap_or(name).to_ascii_lowercase();
    matches!(base.as_str(), "con" | "prn" | "aux" | "nul")
        || (base.len() == 4
            && (base.starts_with("com") || base.starts_with("lpt"))
            && base.as_bytes()[3].is_ascii_digit()
            && base.as_bytes()[3] != b'0')
}

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
    /// tier's one primary environment (DESIGN §6).
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
