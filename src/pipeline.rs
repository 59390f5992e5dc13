//! One environment through the whole pipeline, in memory:
//! spec → model → families (what to render) → render → validate → [`Tree`].

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Error, Result};
use crate::families;
use crate::model::{self, Model};
use crate::output::Tree;
use crate::render::Templates;
use crate::spec::Loaded;
use crate::validate::{self, Parsed};

/// The resolved model of environment `name` (with its primary, for a replica).
pub fn model_of(loaded: &Loaded, name: &str) -> Result<Model> {
    let env = loaded.checked(name)?;
    let primary = env
        .spec
        .replica_of
        .as_ref()
        .and_then(|p| loaded.envs.get(p));
    let peers: Vec<_> = loaded.envs.values().collect();
    model::resolve_with_peers(env, primary, &peers, &loaded.system).map_err(Error::Invalid)
}

/// Renders and checks every file of environment `name`. Nothing is written.
pub fn render_env(loaded: &Loaded, name: &str, templates: &Templates) -> Result<Tree> {
    let model = model_of(loaded, name)?;
    render_model(&model, templates)
}

/// Like [`render_env`], handing each file and its parse to `inspect` on the worker that
/// checked it, so that a later stage (a diff's digests) need not parse the file again.
pub fn render_env_inspected<D: Send>(
    loaded: &Loaded,
    name: &str,
    templates: &Templates,
    inspect: impl Fn(&str, &[u8], &Parsed) -> D + Sync,
) -> Result<(Tree, BTreeMap<String, D>)> {
    let model = model_of(loaded, name)?;
    let Output {
        tree, inspected, ..
    } = render_model_inspected(&model, templates, inspect, Keep::All)?;
    Ok((tree, inspected.into_iter().collect()))
}

/// An environment rendered and checked whose texts were handed to `inspect` and then let
/// go: a comparison of two 10,000-tenant environments needs their digests, not 70 MB of
/// text. [`Rendered::text`] renders one file again, for the few files a diff shows.
pub struct Rendered<'t> {
    templates: &'t Templates,
    artifacts: Vec<families::Artifact>,
    by_path: HashMap<String, usize>,
}

impl Rendered<'_> {
    /// The text of the file at `path` (rendered again: the same bytes that were checked).
    pub fn text(&self, path: &str) -> Option<String> {
        let a = &self.artifacts[*self.by_path.get(path)?];
        self.templates.render(a.template, &a.context).ok()
    }
}

/// Like [`render_env_inspected`], keeping no text (see [`Rendered`]).
pub fn render_env_streamed<'t, D: Send>(
    loaded: &Loaded,
    name: &str,
    templates: &'t Templates,
    inspect: impl Fn(&str, &[u8], &Parsed) -> D + Sync,
) -> Result<(Rendered<'t>, BTreeMap<String, D>)> {
    let model = model_of(loaded, name)?;
    let Output {
        inspected,
        artifacts,
        ..
    } = render_model_inspected(&model, templates, inspect, Keep::ForTreeRules)?;
    let by_path = artifacts
        .iter()
        .enumerate()
        .map(|(i, a)| (a.path.clone(), i))
        .collect();
    let rendered = Rendered {
        templates,
        artifacts,
        by_path,
    };
    Ok((rendered, inspected.into_iter().collect()))
}

/// What a render gives: the kept texts, what `inspect` saw of every file (in plan order),
/// and the plan (to render a file again).
struct Output<D> {
    tree: Tree,
    inspected: Vec<(String, D)>,
    artifacts: Vec<families::Artifact>,
}

/// One file rendered and checked: its path, its text if kept, what `inspect` saw; or its
/// problems.
type FileResult<D> = std::result::Result<(String, Option<String>, D), Vec<Diagnostic>>;

/// Which rendered texts a render keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    All,
    /// Only the ones the cross-file rules read: those holding an object of a kind they
    /// relate ([`validate::policy::holds_kind_for_tree`]).
    ForTreeRules,
}

/// Renders and checks every file of a resolved model.
pub fn render_model(model: &Model, templates: &Templates) -> Result<Tree> {
    render_model_inspected(model, templates, |_, _, _| (), Keep::All).map(|o| o.tree)
}

/// Renders and checks every file; `inspect` sees each file as it was parsed by the checks.
/// Every file is checked on every run: nothing read from disk can vouch for rendered bytes
/// (see SECURITY.md, "No trust in the tree").
fn render_model_inspected<D: Send>(
    model: &Model,
    templates: &Templates,
    inspect: impl Fn(&str, &[u8], &Parsed) -> D + Sync,
    keep: Keep,
) -> Result<Output<D>> {
    let artifacts = families::plan(model);
    let results: Vec<FileResult<D>> = artifacts
        .par_iter()
        .map(|a| {
            let text = templates
                .render(a.template, &a.context)
                .map_err(|d| vec![d])?;
            let (problems, parsed) = validate::check_file_parsed(&a.path, a.template, &text);
            if problems.is_empty() {
                let seen = inspect(&a.path, text.as_bytes(), &parsed);
                let kept = match keep {
                    Keep::All => Some(text),
                    Keep::ForTreeRules => {
                        let needed = match &parsed {
                            Parsed::Yaml(docs) => validate::policy::holds_kind_for_tree(docs),
                            _ => validate::policy::needed_by_tree(&a.path, &text),
                        };
                        needed.then_some(text)
                    }
                };
                Ok((a.path.clone(), kept, seen))
            } else {
                Err(problems)
            }
        })
        .collect();
    let mut tree = Tree::default();
    let mut inspected = Vec::new();
    let mut seen_paths = HashSet::new();
    let mut problems = Vec::new();
    for r in results {
        match r {
            Ok((path, text, seen)) => {
                if !seen_paths.insert(path.clone()) {
                    problems.push(Diagnostic::new(path, "two artifacts render the same path"));
                    continue;
                }
                if let Some(text) = text {
                    tree.files.insert(path.clone(), text.into_bytes());
                }
                inspected.push((path, seen));
            }
            Err(d) => problems.extend(d),
        }
    }
    // The policy rules that relate objects of different files (per-file rules ran above).
    problems.extend(validate::policy::check_tree(&tree.files, model.env.tier));
    if problems.is_empty() {
        Ok(Output {
            tree,
            inspected,
            artifacts,
        })
    } else {
        Err(Error::Rendered(problems))
    }
}

/// Every problem of every file of a resolved model, without stopping at the first failing
/// file (`validate` reports them all). Empty when every file passes its checks.
pub fn check_all(model: &Model, templates: &Templates) -> Vec<Diagnostic> {
    families::plan(model)
        .par_iter()
        .map(|a| match templates.render(a.template, &a.context) {
            Ok(text) => validate::check_file(&a.path, a.template, &text),
            Err(d) => vec![d],
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect()
}
