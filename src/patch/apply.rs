//! Patches applied to the rendered files of an environment: in each file, to the objects
//! they target ([`apply_file`]); over the environment, the check that each patch changed
//! exactly one object ([`unmatched`]).

use super::Patch;
use crate::diagnostic::{did_you_mean, quote, Diagnostic, ObjectRef};
use crate::validate::{self, Document};

/// What the patches did in one rendered file.
#[derive(Debug, Default)]
pub struct Applied {
    /// Each patch applied here (by its index) and the object it changed.
    pub hits: Vec<(usize, ObjectRef)>,
    /// The objects of the kinds the patches target that this file holds (the candidates
    /// of a did-you-mean for a target that is not rendered).
    pub seen: Vec<ObjectRef>,
}

/// Applies `patches` to the objects of the rendered file `path` that they target, in list
/// order. Gives the text to check (the same text when no object of it is targeted, else
/// every document of the file written again as YAML) or the patches' problems, and what
/// the patches did here either way.
pub fn apply_file(
    patches: &[Patch],
    path: &str,
    text: String,
) -> (Result<String, Vec<Diagnostic>>, Applied) {
    let mut applied = Applied::default();
    let result = apply_docs(patches, path, text, &mut applied);
    (result, applied)
}

fn apply_docs(
    patches: &[Patch],
    path: &str,
    text: String,
    applied: &mut Applied,
) -> Result<String, Vec<Diagnostic>> {
    // A file that names no targeted kind holds no target (an escape that spells one is
    // only a missed target: reported as such, never a silent change).
    if !path.ends_with(".yaml") || !patches.iter().any(|p| text.contains(&p.target.kind)) {
        return Ok(text);
    }
    // A file that does not parse is reported by the checks.
    let Ok(mut docs) = validate::parse_yaml_documents(&text) else {
        return Ok(text);
    };
    let mut problems = Vec::new();
    for doc in &mut docs {
        let object = doc.object_ref();
        if patches.iter().any(|p| p.target.kind == object.kind) {
            applied.seen.push(object.clone());
        }
        // After a failed patch, the later ones are only matched (not reported as missing).
        let mut failed = false;
        for (i, patch) in patches.iter().enumerate() {
            if !patch.target.matches(doc) {
                continue;
            }
            applied.hits.push((i, object.clone()));
            if failed {
                continue;
            }
            if let Err(d) = patch.apply(&mut doc.value, &object) {
                problems.push(d);
                failed = true;
                continue;
            }
            if doc.object_ref() != object {
                failed = true;
                problems.push(patch.origin.diagnostic(
                    "",
                    format!(
                        "the patch changes the kind, name or namespace of {}: a patch changes an object, it cannot make another one (Argo CD and diff know objects by them)",
                        object.describe()
                    ),
                ).with_hint(Some("render a new object from templates/extra/ instead".into())));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if applied.hits.is_empty() {
        return Ok(text);
    }
    Ok(write_documents(&docs))
}

/// Adds to each problem found in a patched object which patches changed it (the checks
/// name the template, which did not write what the patch added).
pub fn explain(patches: &[Patch], applied: &Applied, problems: &mut [Diagnostic]) {
    if applied.hits.is_empty() {
        return;
    }
    for d in problems.iter_mut() {
        let Some(object) = &d.object else { continue };
        let by: Vec<String> = applied
            .hits
            .iter()
            .filter(|(_, o)| o == object)
            .map(|(i, _)| {
                let origin = &patches[*i].origin;
                let at = origin
                    .position
                    .map(|p| format!(":{}:{}", p.line, p.column))
                    .unwrap_or_default();
                format!("{} ({}{at})", origin.label(), origin.file.display())
            })
            .collect();
        if by.is_empty() {
            continue;
        }
        let note = format!("the object was changed by {}", by.join(", "));
        d.hint = Some(match d.hint.take() {
            Some(h) => format!("{h}; {note}"),
            None => note,
        });
    }
}

/// The documents of a file as YAML, each after a `---` line but the first.
fn write_documents(docs: &[Document]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let block = crate::render::block(&doc.value, 0);
        out.push_str(block.strip_prefix('\n').unwrap_or(&block));
        out.push('\n');
    }
    out
}

/// The problems of the patches over a whole environment: a patch that changed no object
/// (its target is not rendered), or more than one (its target is ambiguous). `applied`
/// holds what [`apply_file`] did in every file.
pub fn unmatched<'a>(
    patches: &[Patch],
    applied: impl IntoIterator<Item = &'a Applied>,
) -> Vec<Diagnostic> {
    if patches.is_empty() {
        return Vec::new();
    }
    let mut hits: Vec<Vec<&ObjectRef>> = vec![Vec::new(); patches.len()];
    let mut seen: Vec<&ObjectRef> = Vec::new();
    for a in applied {
        for (i, object) in &a.hits {
            hits[*i].push(object);
        }
        seen.extend(&a.seen);
    }
    seen.sort();
    seen.dedup();
    let mut out = Vec::new();
    for (patch, hits) in patches.iter().zip(hits) {
        let target = &patch.target;
        match hits.len() {
            1 => {}
            0 => out.push(not_rendered(patch, &seen)),
            n => {
                let mut names: Vec<String> = hits.iter().map(|o| o.describe()).collect();
                names.sort();
                out.push(
                    patch
                        .origin
                        .diagnostic(
                            "/target",
                            format!(
                                "the patch target {} matches {n} rendered objects: {}",
                                target.describe(),
                                names.join(", ")
                            ),
                        )
                        .with_hint(Some("set target.namespace to choose one".into())),
                );
            }
        }
    }
    out
}

/// The diagnostic for a patch whose target is not rendered, with the closest object of its
/// kind (or the closest kind).
fn not_rendered(patch: &Patch, seen: &[&ObjectRef]) -> Diagnostic {
    let target = &patch.target;
    let of_kind: Vec<&&ObjectRef> = seen.iter().filter(|o| o.kind == target.kind).collect();
    let message = format!(
        "the patch target {} is not rendered for this environment",
        quote(&target.describe())
    );
    if of_kind.is_empty() {
        let kinds = validate::kubernetes::known_kinds();
        return patch.origin.diagnostic("/target/kind", message).with_hint(
            did_you_mean(&target.kind, kinds.iter().copied())
                .or_else(|| Some(format!("no {} is rendered", quote(&target.kind)))),
        );
    }
    let shown = |o: &ObjectRef| match (&target.namespace, &o.namespace) {
        (Some(_), Some(ns)) => format!("{ns}/{}", o.name),
        _ => o.name.clone(),
    };
    let wanted = match &target.namespace {
        Some(ns) => format!("{ns}/{}", target.name),
        None => target.name.clone(),
    };
    let candidates: Vec<String> = of_kind.iter().map(|o| shown(o)).collect();
    let hint = did_you_mean(&wanted, candidates.iter().map(String::as_str)).or_else(|| {
        let mut all: Vec<String> = of_kind.iter().map(|o| o.describe()).collect();
        all.truncate(10);
        Some(format!("rendered objects of this kind: {}", all.join(", ")))
    });
    patch
        .origin
        .diagnostic("/target/name", message)
        .with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Position;
    use crate::patch::PatchSpec;
    use serde_json::{json, Value};
    use std::path::Path;

    fn patch(v: Value) -> Patch {
        let spec: PatchSpec = serde_json::from_value(v).unwrap();
        Patch::new(
            &spec,
            Path::new("environments/dev.yaml"),
            "/spec/patches/0",
            |p| (p == "/spec/patches/0").then_some(Position { line: 9, column: 5 }),
        )
    }

    const FILE: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: a\nspec:\n  replicas: 1\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: a\n";

    #[test]
    fn only_the_targeted_file_is_written_again_and_in_list_order() {
        let patches = vec![
            patch(
                json!({"target": {"kind": "Deployment", "name": "web"}, "mergePatch": {"spec": {"replicas": 2}}}),
            ),
            patch(
                json!({"target": {"kind": "Deployment", "name": "web", "namespace": "a", "group": "apps"},
                         "jsonPatch": [{"op": "test", "path": "/spec/replicas", "value": 2},
                                       {"op": "replace", "path": "/spec/replicas", "value": 3}]}),
            ),
        ];
        let (text, applied) = apply_file(&patches, "k/x.yaml", FILE.to_owned());
        let text = text.unwrap();
        assert_eq!(applied.hits.len(), 2);
        assert!(text.contains("  replicas: 3\n"), "{text}");
        assert!(
            text.contains("---\napiVersion: v1\nkind: Service\n"),
            "{text}"
        );
        let docs = validate::parse_yaml_documents(&text).unwrap();
        assert_eq!(docs.len(), 2);
        let untouched = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c # kept\n";
        let (same, applied) = apply_file(&patches, "k/c.yaml", untouched.to_owned());
        assert_eq!(same.unwrap(), untouched);
        assert!(applied.hits.is_empty());
    }

    #[test]
    fn a_missing_target_or_an_ambiguous_one_is_reported_at_the_patch() {
        let typo = patch(
            json!({"target": {"kind": "Deployment", "name": "webb"}, "mergePatch": {"a": 1}}),
        );
        let (_, applied) = apply_file(std::slice::from_ref(&typo), "k/x.yaml", FILE.to_owned());
        let d = unmatched(std::slice::from_ref(&typo), [&applied]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].position, Some(Position { line: 9, column: 5 }));
        assert_eq!(
            d[0].path.as_ref().unwrap().to_string(),
            "spec.patches[0].target.name"
        );
        assert_eq!(d[0].hint.as_deref(), Some("did you mean 'web'?"));

        let kind =
            patch(json!({"target": {"kind": "Deploymnet", "name": "web"}, "mergePatch": {"a": 1}}));
        let d = unmatched(std::slice::from_ref(&kind), [&Applied::default()]);
        assert_eq!(d[0].hint.as_deref(), Some("did you mean 'Deployment'?"));

        let both =
            patch(json!({"target": {"kind": "Deployment", "name": "web"}, "mergePatch": {"a": 1}}));
        let (_, a1) = apply_file(std::slice::from_ref(&both), "k/x.yaml", FILE.to_owned());
        let (_, a2) = apply_file(
            std::slice::from_ref(&both),
            "k/y.yaml",
            FILE.replace("namespace: a", "namespace: b"),
        );
        let d = unmatched(std::slice::from_ref(&both), [&a1, &a2]);
        assert!(
            d[0].message.contains("matches 2 rendered objects"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn a_patch_cannot_rename_its_target_and_a_bad_path_names_the_operation() {
        let rename = patch(
            json!({"target": {"kind": "Service", "name": "web"}, "mergePatch": {"metadata": {"name": "other"}}}),
        );
        let d = apply_file(&[rename], "k/x.yaml", FILE.to_owned())
            .0
            .unwrap_err();
        assert!(
            d[0].message.contains("changes the kind, name or namespace"),
            "{}",
            d[0].message
        );
        let bad = patch(json!({"target": {"kind": "Service", "name": "web"},
                               "jsonPatch": [{"op": "add", "path": "/spec", "value": {}},
                                             {"op": "remove", "path": "/spec/ports"}]}));
        let d = apply_file(&[bad], "k/x.yaml", FILE.to_owned())
            .0
            .unwrap_err();
        assert!(
            d[0].message.starts_with(
                "patch operation 1 (remove) on Service a/web: no key 'ports' under /spec"
            ),
            "{}",
            d[0].message
        );
        assert_eq!(
            d[0].path.as_ref().unwrap().to_string(),
            "spec.patches[0].jsonPatch[1].path"
        );
    }
}
