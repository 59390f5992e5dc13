//! What a team's repository adds to the embedded templates and schemas (issue 12, "an
//! escape hatch that keeps the guarantees"), read without following a symlink and with
//! limits on count and size:
//!
//! - `<root>/templates/extra/**.yaml` and `--templates DIR/extra/**.yaml`: templates of
//!   objects portalgen does not render, rendered with the model like every other template
//!   into `kubernetes/platform/extra/<path>` (the platform Application syncs that folder);
//! - the other files of `--templates DIR`, each replacing the embedded template of the same
//!   path (a path that names none is an error with a did-you-mean: a typo must not be
//!   silently ignored);
//! - `<root>/schemas/extra/<group>_<version>_<kind>.json`: the JSON Schemas of the kinds
//!   those templates render that portalgen has no schema of
//!   ([`crate::validate::kubernetes::TeamSchemas`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::assets;
use crate::diagnostic::{did_you_mean, quote, Diagnostic, Error, Position, Result};
use crate::fsafe::{self, Refused};
use crate::validate::kubernetes::TeamSchemas;

/// The folder of a team's extra templates, under the root and under `--templates DIR`.
pub const EXTRA_DIR: &str = "extra";
/// Where extra templates are rendered in an environment's tree.
pub const EXTRA_OUT: &str = "kubernetes/platform/extra";
/// The folder of a team's schemas under the root.
pub const SCHEMAS_DIR: &str = "schemas/extra";
/// The folders of the project root this module reads (`diff --base` copies them from the
/// revision).
pub const PROJECT_DIRS: [&str; 2] = ["templates/extra", SCHEMAS_DIR];

/// The most files one folder of team files may hold, and the largest template and schema:
/// far above what a repository needs, low enough that a mistake (a folder of build output)
/// fails at once instead of exhausting memory.
const MAX_FILES: usize = 10_000;
const MAX_TEMPLATE_BYTES: u64 = 1 << 20;
const MAX_SCHEMA_BYTES: u64 = 8 << 20;

/// One file read from a team's folder.
struct TeamFile {
    /// Its path below the folder, with `/` separators.
    rel: String,
    /// Its path as diagnostics name it.
    shown: PathBuf,
    text: String,
}

/// The team's files of one run.
#[derive(Default)]
pub struct TeamFiles {
    /// Templates that replace embedded ones: (name, source).
    pub overrides: Vec<(String, String)>,
    /// Extra templates by name (`extra/<path>`), sorted: (name, source).
    pub extra: Vec<(String, String)>,
    pub schemas: TeamSchemas,
}

/// Reads the team's templates and schemas of `root` and of `overrides` (`--templates DIR`).
/// Every problem is reported at once (exit 2, nothing written).
pub fn read(root: Option<&Path>, overrides: Option<&Path>) -> Result<TeamFiles> {
    let mut problems = Vec::new();
    let mut out = TeamFiles::default();
    let mut extra = std::collections::BTreeMap::new();
    if let Some(root) = root {
        let dir = Path::new("templates").join(EXTRA_DIR);
        for f in collect(root, &dir, MAX_TEMPLATE_BYTES, &mut problems) {
            if let Some(name) = extra_name(&f, &mut problems) {
                extra.insert(name, f.text);
            }
        }
    }
    if let Some(dir) = overrides {
        std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
        for f in collect(dir, Path::new(""), MAX_TEMPLATE_BYTES, &mut problems) {
            if f.rel.starts_with(&format!("{EXTRA_DIR}/")) {
                let rel = f.rel[EXTRA_DIR.len() + 1..].to_owned();
                let f = TeamFile { rel, ..f };
                // `--templates DIR/extra/x.yaml` wins over `<root>/templates/extra/x.yaml`.
                if let Some(name) = extra_name(&f, &mut problems) {
                    extra.insert(name, f.text);
                }
            } else if assets::TEMPLATES.iter().any(|(name, _)| *name == f.rel) {
                out.overrides.push((f.rel, f.text));
            } else {
                problems.push(unknown_template(&f));
            }
        }
    }
    out.extra = extra.into_iter().collect();
    if let Some(root) = root {
        let files = collect(
            root,
            Path::new(SCHEMAS_DIR),
            MAX_SCHEMA_BYTES,
            &mut problems,
        );
        let mut schemas = Vec::new();
        for f in files {
            if f.rel.contains('/') || !f.rel.ends_with(".json") {
                problems.push(whole(
                    &f.shown,
                    format!(
                        "{SCHEMAS_DIR}/ holds only <group>_<version>_<kind>.json files; '{}' is not one",
                        quote(&f.rel)
                    ),
                ));
            } else {
                schemas.push((f.rel, f.shown, f.text));
            }
        }
        match TeamSchemas::compile(&schemas) {
            Ok(s) => out.schemas = s,
            Err(d) => problems.extend(d),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(Error::Invalid(problems))
    }
}

/// The template name (`extra/<path>`) of an extra template, or its problem: only `.yaml`
/// files with plain names (they become paths of the tree).
fn extra_name(f: &TeamFile, problems: &mut Vec<Diagnostic>) -> Option<String> {
    let plain = f.rel.split('/').all(|part| {
        !part.is_empty()
            && !part.starts_with(['.', '-'])
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
    });
    if !f.rel.ends_with(".yaml") {
        problems.push(whole(
            &f.shown,
            "an extra template is a Kubernetes YAML file ending in .yaml; nothing else may be under extra/",
        ));
        return None;
    }
    if !plain {
        problems.push(whole(
            &f.shown,
            "an extra template's path may hold only letters, digits, '.', '-' and '_' (it becomes a path of the rendered tree)",
        ));
        return None;
    }
    Some(format!("{EXTRA_DIR}/{}", f.rel))
}

/// A file of `--templates DIR` that names no embedded template.
fn unknown_template(f: &TeamFile) -> Diagnostic {
    let hint = did_you_mean(&f.rel, assets::TEMPLATES.iter().map(|(name, _)| *name))
        .or_else(|| {
            Some(format!(
                "a file in --templates replaces the embedded template of the same path (`portalgen` renders templates/<family>/…); new objects go under {EXTRA_DIR}/"
            ))
        });
    whole(
        &f.shown,
        format!(
            "'{}' names no embedded template, so it would never be rendered",
            quote(&f.rel)
        ),
    )
    .with_hint(hint)
}

fn whole(file: &Path, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(file, message)
        .at(Some(Position { line: 1, column: 1 }))
        .whole_document()
}

/// Every regular file below `base/dir`, sorted by path, read without following a symlink
/// on the way (`base` itself is the caller's to trust). A folder that does not exist holds
/// nothing. Problems (a symlink, a FIFO, a file too large or not UTF-8, too many files) go
/// to `problems`.
fn collect(
    base: &Path,
    dir: &Path,
    max_bytes: u64,
    problems: &mut Vec<Diagnostic>,
) -> Vec<TeamFile> {
    let top = base.join(dir);
    if let Err(refused) = fsafe::check_no_symlinks(base, &top) {
        problems.push(whole(&top, refused.to_string()));
        return Vec::new();
    }
    if std::fs::symlink_metadata(&top).is_err() {
        return Vec::new();
    }
    let mut rels = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel_dir) = stack.pop() {
        let at = top.join(&rel_dir);
        let entries = match std::fs::read_dir(&at) {
            Ok(e) => e,
            Err(e) => {
                problems.push(whole(&at, format!("cannot read the folder: {e}")));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    problems.push(whole(&at, format!("cannot read the folder: {e}")));
                    continue;
                }
            };
            let path = entry.path();
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                problems.push(whole(&path, "the file name is not UTF-8"));
                continue;
            };
            let rel = if rel_dir.is_empty() {
                name
            } else {
                format!("{rel_dir}/{name}")
            };
            match entry.file_type() {
                Ok(t) if t.is_symlink() => problems.push(whole(
                    &path,
                    Refused::Symlink(path.display().to_string()).to_string(),
                )),
                Ok(t) if t.is_dir() => stack.push(rel),
                Ok(t) if t.is_file() => rels.push(rel),
                Ok(_) => problems.push(whole(&path, "not a regular file")),
                Err(e) => problems.push(whole(&path, e.to_string())),
            }
            if rels.len() > MAX_FILES {
                problems.push(whole(
                    &top,
                    format!("more than {MAX_FILES} files; is this the right folder?"),
                ));
                return Vec::new();
            }
        }
    }
    rels.sort();
    rels.into_iter()
        .filter_map(|rel| {
            let shown = top.join(&rel);
            match read_capped(base, &dir.join(&rel), max_bytes) {
                Ok(text) => Some(TeamFile { rel, shown, text }),
                Err(message) => {
                    problems.push(whole(&shown, message));
                    None
                }
            }
        })
        .collect()
}

/// The text of the file at `rel` below `base`, opened with no symlink followed, refused
/// when it is larger than `max_bytes` or not UTF-8.
fn read_capped(base: &Path, rel: &Path, max_bytes: u64) -> std::result::Result<String, String> {
    let file = fsafe::open_beneath(base, rel).map_err(|r| r.to_string())?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!(
            "the file is larger than {} KiB, the most portalgen reads here",
            max_bytes >> 10
        ));
    }
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8".to_owned())
}
