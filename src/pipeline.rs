//! One environment through the whole pipeline, in memory:
//! spec → model → families (what to render) → render → patch → validate → [`Tree`].

use std::collections::{BTreeMap, HashSet};

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Error, Result};
use crate::families;
use crate::model::{self, Model};
use crate::output::Tree;
use crate::patch::{self, Patch};
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

/// Renders and checks every file of environment `name`, keeping every text. Nothing is
/// written.
pub fn render_env(loaded: &Loaded, name: &str, templates: &Templates) -> Result<Tree> {
    let model = model_of(loaded, name)?;
    render(&model, templates, Keep::All, |_, _, _| ()).map(|r| r.tree)
}

/// Which rendered texts a render keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every text: the tree to write or to compare with the disk.
    All,
    /// Only the ones the cross-file rules read: those holding an object of a kind they
    /// relate ([`validate::policy::needed_by_tree`]). A comparison of two
    /// 10,000-tenant environments needs their digests, not 70 MB of text;
    /// [`Rendered::text`] renders one file again, for the few files a diff shows.
    ForTreeRules,
}

/// A model rendered and checked: the kept texts, what `inspect` saw of every file, and the
/// plan (to render a file again).
pub struct Rendered<'t, D> {
    /// The kept texts (see [`Keep`]).
    pub tree: Tree,
    /// What `inspect` saw of each file, by path.
    pub inspected: BTreeMap<String, D>,
    templates: &'t Templates,
    artifacts: Vec<families::Artifact>,
    patches: Vec<Patch>,
    /// Indexes into `artifacts`, sorted by path (not a map of 100,000 path copies).
    by_path: Vec<u32>,
}

impl<D> Rendered<'_, D> {
    /// How many files were rendered and checked.
    pub fn files(&self) -> usize {
        self.artifacts.len()
    }

    /// The text of the file at `path` (rendered and patched again: the same bytes that were
    /// checked).
    pub fn text(&self, path: &str) -> Option<String> {
        let at = self
            .by_path
            .binary_search_by(|&i| self.artifacts[i as usize].path.as_str().cmp(path))
            .ok()?;
        let a = &self.artifacts[self.by_path[at] as usize];
        produce(a, self.templates, &self.patches).0.ok()
    }
}

/// One file rendered, patched and checked: its path, its text, whether the cross-file
/// rules read it and what `inspect` saw, or its problems; and what the patches did in it.
type FileResult<'a, D> = (
    &'a str,
    std::result::Result<(String, bool, D), Vec<Diagnostic>>,
    patch::Applied,
);

/// Every file of a model: the families' files, then the team's extra templates.
pub fn plan(model: &Model, templates: &Templates) -> Vec<families::Artifact> {
    let mut artifacts = families::plan(model);
    artifacts.extend(templates.extra_artifacts(|| families::model_value(model)));
    artifacts
}

/// Renders one file and applies the patches that target its objects: the text the checks
/// see (and that is written), and what the patches did in it.
fn produce(
    a: &families::Artifact,
    templates: &Templates,
    patches: &[Patch],
) -> (std::result::Result<String, Vec<Diagnostic>>, patch::Applied) {
    match templates.render(a.template, &a.values()) {
        Ok(text) => patch::apply_file(patches, &a.path, text),
        Err(d) => (Err(vec![d]), patch::Applied::default()),
    }
}

/// One file rendered, patched and checked, handed to a [`render_streamed`] sink.
pub struct Checked {
    pub path: String,
    pub text: String,
}

/// How many files a streamed render holds at once (per batch, before the sink takes
/// them): enough for both cores to stay busy, few enough that 100,000 tenants do not hold
/// 350 MB of text. `PORTALGEN_BATCH_FILES` overrides it (tests prove the bytes do not
/// depend on it; `0` means one batch of everything).
pub fn batch_files() -> usize {
    match std::env::var("PORTALGEN_BATCH_FILES")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        Some(0) => usize::MAX,
        Some(n) => n,
        None => 2048,
    }
}

/// Renders, patches and checks every file of a resolved model, and the cross-file rules
/// over them; every problem of every file is reported, not only the first. `inspect` sees
/// each file as its checks parsed it (on the worker that checked it), so that a later
/// stage (a diff's digests) need not parse it again. Every file is checked on every run:
/// nothing read from disk can vouch for rendered bytes (SECURITY.md, "No trust in the
/// tree").
pub fn render<'t, D: Send>(
    model: &Model,
    templates: &'t Templates,
    keep: Keep,
    inspect: impl Fn(&str, &[u8], &Parsed) -> D + Sync,
) -> Result<Rendered<'t, D>> {
    let mut all = Tree::default();
    let mut r = render_streamed(model, templates, batch_files(), inspect, |batch| {
        if keep == Keep::All {
            for c in batch {
                all.files.insert(c.path, c.text.into_bytes());
            }
        }
        Ok(())
    })?;
    if keep == Keep::All {
        r.tree = all;
    }
    Ok(r)
}

/// Like [`render`], streaming: the files are rendered and checked `batch` at a time, and
/// each batch of files that passed is handed to `sink` in the plan's order (to be written
/// or compared) and let go, so that memory does not grow with the number of tenants. The
/// returned tree holds only the texts the cross-file rules read ([`Keep::ForTreeRules`]).
/// Once a file fails, the sink sees no more batches (the render fails anyway); an error of
/// the sink ends the render.
///
/// The sink takes a batch while the next one is rendered (`rayon::join`): writing is a
/// sixth of a render's work at 100,000 tenants, and done between batches it left a core
/// idle. It still sees the batches one at a time and in order.
pub fn render_streamed<'t, D: Send>(
    model: &Model,
    templates: &'t Templates,
    batch: usize,
    inspect: impl Fn(&str, &[u8], &Parsed) -> D + Sync,
    mut sink: impl FnMut(Vec<Checked>) -> Result<()> + Send,
) -> Result<Rendered<'t, D>> {
    let artifacts = plan(model, templates);
    let sample = validate::policy::tenant_sample(artifacts.iter().map(|a| a.path.as_str()));
    let mut tree = Tree::default();
    let mut inspected: Vec<(String, D)> = Vec::new();
    let mut seen_paths = HashSet::new();
    let mut problems = Vec::new();
    let mut applied = Vec::new();
    let render_batch = |files: std::ops::Range<usize>| {
        artifacts[files]
            .par_iter()
            .map(|a| {
                let (text, applied) = produce(a, templates, &model.patches);
                let checked = text.and_then(|text| {
                    let (problems, parsed) = validate::check_file_parsed(
                        &a.path,
                        a.template,
                        &text,
                        templates.team_schemas(),
                    );
                    if !problems.is_empty() {
                        let mut problems = problems;
                        patch::explain(&model.patches, &applied, &mut problems);
                        return Err(problems);
                    }
                    let seen = inspect(&a.path, text.as_bytes(), &parsed);
                    // Exactly the files the cross-file rules would read of the whole tree.
                    let for_rules = validate::policy::tree_reads(&a.path, sample)
                        && validate::policy::needed_by_tree(&a.path, &text);
                    Ok((text, for_rules, seen))
                });
                (a.path.as_str(), checked, applied)
            })
            .collect::<Vec<FileResult<D>>>()
    };
    let mut to_sink: Option<Vec<Checked>> = None;
    let batch = batch.max(1);
    for start in (0..artifacts.len()).step_by(batch) {
        let earlier = to_sink.take();
        let (sunk, results) = rayon::join(
            || earlier.map_or(Ok(()), &mut sink),
            || render_batch(start..artifacts.len().min(start.saturating_add(batch))),
        );
        sunk?;
        let results: Vec<FileResult<D>> = results;
        let mut passed = Vec::with_capacity(results.len());
        for (path, checked, patched) in results {
            if !patched.hits.is_empty() || !patched.seen.is_empty() {
                applied.push(patched);
            }
            match checked {
                Ok((text, for_rules, seen)) => {
                    // (Borrowed from the plan: no copy of every path.)
                    if !seen_paths.insert(path) {
                        problems.push(Diagnostic::new(path, "two artifacts render the same path"));
                        continue;
                    }
                    if for_rules {
                        tree.files
                            .insert(path.to_owned(), text.clone().into_bytes());
                    }
                    // (What `inspect` saw is kept only if it is something: a render's
                    // `()` per file would still hold 100,000 path copies.)
                    if std::mem::size_of::<D>() != 0 {
                        inspected.push((path.to_owned(), seen));
                    }
                    passed.push((path.to_owned(), text));
                }
                Err(d) => problems.extend(d),
            }
        }
        if problems.is_empty() {
            to_sink = Some(
                passed
                    .into_iter()
                    .map(|(path, text)| Checked { path, text })
                    .collect(),
            );
        }
    }
    if let Some(last) = to_sink {
        sink(last)?;
    }
    problems.extend(patch::unmatched(&model.patches, &applied));
    // The policy rules that relate objects of different files (per-file rules ran above).
    let cx = validate::policy::TreeContext {
        tier: model.env.tier,
        place: validate::references::TreePlace {
            repo_url: Some(&model.delivery.repo_url),
            folder: Some(&model.delivery.tree),
            paths: artifacts.iter().map(|a| a.path.as_str()).collect(),
        },
        declared: declared(model),
        complete: problems.is_empty(),
    };
    problems.extend(validate::policy::check_tree_in(&tree.files, &cx));
    if !problems.is_empty() {
        return Err(Error::Rendered(problems));
    }
    let mut by_path: Vec<u32> = (0..artifacts.len() as u32).collect();
    by_path.sort_unstable_by(|&a, &b| artifacts[a as usize].path.cmp(&artifacts[b as usize].path));
    Ok(Rendered {
        tree,
        inspected: inspected.into_iter().collect(),
        templates,
        artifacts,
        patches: model.patches.clone(),
        by_path,
    })
}

/// The prerequisites an environment declares: its ClusterSecretStore and `spec.external`
/// (the system file's and its own).
fn declared(model: &Model) -> Vec<validate::references::Declared> {
    let store = validate::references::Declared {
        kind: "ClusterSecretStore".to_owned(),
        namespace: None,
        name: model.secrets.store.clone(),
        labels: Default::default(),
    };
    std::iter::once(store)
        .chain(
            model
                .external
                .iter()
                .map(|e| validate::references::Declared {
                    kind: e.kind.as_str().to_owned(),
                    namespace: e.namespace.clone(),
                    name: e.name.clone(),
                    labels: e.labels.clone(),
                }),
        )
        .collect()
}
