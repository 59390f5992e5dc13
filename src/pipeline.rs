//! One environment through the whole pipeline, in memory:
//! spec → model → targets → render → validate → [`Tree`].

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Error, Result};
use crate::model::{self, Model};
use crate::output::validated::{self, Validated};
use crate::output::Tree;
use crate::render::Templates;
use crate::spec::Loaded;
use crate::targets;
use crate::validate;

/// The resolved model of environment `name` (with its primary, for a replica).
pub fn model_of(loaded: &Loaded, name: &str) -> Result<Model> {
    let env = loaded.checked(name)?;
    let primary = env
        .spec
        .replica_of
        .as_ref()
        .and_then(|p| loaded.envs.get(p));
    let peers: Vec<_> = loaded.envs.values().collect();
    model::resolve_with_peers(env, primary, &peers).map_err(Error::Invalid)
}

/// Renders and checks every file of environment `name`. Nothing is written.
pub fn render_env(loaded: &Loaded, name: &str, templates: &Templates) -> Result<Tree> {
    render_env_with(loaded, name, templates, &Validated::default())
}

/// Like [`render_env`], skipping the per-file checks of files whose exact bytes `passed`
/// records as checked by the same checks (see `output::validated`).
pub fn render_env_with(
    loaded: &Loaded,
    name: &str,
    templates: &Templates,
    passed: &Validated,
) -> Result<Tree> {
    let model = model_of(loaded, name)?;
    render_model_with(&model, templates, passed)
}

/// Renders and checks every file of a resolved model.
pub fn render_model(model: &Model, templates: &Templates) -> Result<Tree> {
    render_model_with(model, templates, &Validated::default())
}

fn render_model_with(model: &Model, templates: &Templates, passed: &Validated) -> Result<Tree> {
    let stamp = validated::stamp(templates.fingerprint());
    let artifacts = targets::plan(model);
    let results: Vec<Result<(String, String), Vec<Diagnostic>>> = artifacts
        .par_iter()
        .map(|a| {
            let text = templates
                .render(a.template, &a.context)
                .map_err(|d| vec![d])?;
            let problems = if passed.covers(&stamp, &a.path, text.as_bytes()) {
                Vec::new()
            } else {
                validate::check_file(&a.path, a.template, &text)
            };
            if problems.is_empty() {
                Ok((a.path.clone(), text))
            } else {
                Err(problems)
            }
        })
        .collect();
    let mut tree = Tree {
        checked_by: Some(stamp),
        ..Tree::default()
    };
    let mut problems = Vec::new();
    for r in results {
        match r {
            Ok((path, text)) => {
                if tree.files.insert(path.clone(), text.into_bytes()).is_some() {
                    problems.push(Diagnostic::new(path, "two artifacts render the same path"));
                }
            }
            Err(d) => problems.extend(d),
        }
    }
    // The policy rules that relate objects of different files (per-file rules ran above).
    problems.extend(validate::policy::check_tree(&tree.files, model.env.tier));
    if problems.is_empty() {
        Ok(tree)
    } else {
        Err(Error::Rendered(problems))
    }
}

/// Every problem of every file of a resolved model, without stopping at the first failing
/// file (`validate` reports them all). Empty when every file passes its checks.
pub fn check_all(model: &Model, templates: &Templates) -> Vec<Diagnostic> {
    targets::plan(model)
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
