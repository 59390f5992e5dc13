//! The layout of every object's `metadata`, as template functions (docs/architecture.md,
//! "Conventions"): `metadata(name, namespace, labels=…, extra=…, wave=…, annotations=…)`
//! writes the name, the namespace (none for a cluster-scoped object), the common labels and
//! the object's own, the sync wave and the other annotations; `label_block(labels, extra,
//! indent)` a pod template's labels. The model decides every value; these only lay them out.
//!
//! They are functions rather than a template macro because a tenant's file calls them six
//! times and a 100,000-tenant environment has 100,000 such files: a minijinja macro call
//! costs about a third of a tenant file's render, a function call almost nothing.

use minijinja::value::{Kwargs, Value};
use minijinja::{Error, ErrorKind};

use super::{block, scalar};

fn json(v: &Value) -> Result<serde_json::Value, Error> {
    serde_json::to_value(v).map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

/// `extra` as a list of mappings: one mapping, a list of them, or none.
fn parts(extra: Option<Value>) -> Result<Vec<serde_json::Value>, Error> {
    match extra.map(|e| json(&e)).transpose()? {
        None | Some(serde_json::Value::Null) => Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => Ok(items),
        Some(one) => Ok(vec![one]),
    }
}

/// The common labels, then each non-empty mapping of `extra`, as a block indented by
/// `indent` that starts with a line break (like `toyaml`).
fn labels_into(
    out: &mut String,
    labels: &serde_json::Value,
    extra: &[serde_json::Value],
    indent: usize,
) {
    out.push_str(&block(labels, indent));
    for part in extra {
        if part.as_object().is_some_and(|m| !m.is_empty()) {
            out.push_str(&block(part, indent));
        }
    }
}

/// `label_block(labels, extra={}, indent=4)`.
pub fn label_block(
    labels: Value,
    extra: Option<Value>,
    indent: Option<usize>,
) -> Result<String, Error> {
    let mut out = String::new();
    labels_into(
        &mut out,
        &json(&labels)?,
        &parts(extra)?,
        indent.unwrap_or(4),
    );
    Ok(out)
}

/// `metadata(name, namespace=none, labels=…, extra=…, wave=…, annotations=…)`: the block
/// under `metadata:`, starting with a line break and ending without one.
pub fn metadata(name: Value, namespace: Option<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let labels: Option<Value> = kwargs.get("labels")?;
    let extra: Option<Value> = kwargs.get("extra")?;
    let wave: Option<Value> = kwargs.get("wave")?;
    let annotations: Option<Value> = kwargs.get("annotations")?;
    kwargs.assert_all_used()?;
    let mut out = String::with_capacity(256);
    out.push_str("\n  name: ");
    out.push_str(&scalar(&json(&name)?));
    if let Some(ns) = namespace.filter(|n| !n.is_none() && !n.is_undefined()) {
        out.push_str("\n  namespace: ");
        out.push_str(&scalar(&json(&ns)?));
    }
    out.push_str("\n  labels:");
    let labels = match labels {
        Some(l) => json(&l)?,
        None => serde_json::Value::Object(Default::default()),
    };
    labels_into(&mut out, &labels, &parts(extra)?, 4);
    let wave = wave.filter(|w| !w.is_none() && !w.is_undefined());
    let annotations = annotations.map(|a| json(&a)).transpose()?;
    let has_annotations = annotations
        .as_ref()
        .is_some_and(|a| a.as_object().is_some_and(|m| !m.is_empty()));
    if wave.is_some() || has_annotations {
        out.push_str("\n  annotations:");
        if let Some(wave) = wave {
            out.push_str("\n    argocd.argoproj.io/sync-wave: ");
            out.push_str(&scalar(&json(&wave)?));
        }
        if let Some(a) = annotations.filter(|_| has_annotations) {
            out.push_str(&block(&a, 4));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use minijinja::context;

    fn render(template: &str) -> String {
        let mut env = super::super::base_environment();
        env.add_template("t", template).unwrap();
        let labels = context! { a => "1", b => "on" };
        env.get_template("t")
            .unwrap()
            .render(context! { labels => labels })
            .unwrap()
    }

    #[test]
    fn metadata_lays_out_name_namespace_labels_wave_and_annotations() {
        let text = render(
            "metadata:{{ metadata(\"web\", \"ns\", labels=labels, extra=[{\"x\": \"yes\"}, {}], wave=\"1\", annotations={\"k\": \"v\"}) }}\nspec: {}\n",
        );
        assert_eq!(
            text,
            "metadata:\n  name: web\n  namespace: ns\n  labels:\n    a: \"1\"\n    b: \"on\"\n    x: \"yes\"\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1\"\n    k: v\nspec: {}\n"
        );
        let back: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back["metadata"]["labels"]["b"], "on");
    }

    #[test]
    fn a_cluster_scoped_object_has_no_namespace_and_no_annotations_without_a_wave() {
        let text = render("metadata:{{ metadata(\"c\", labels=labels) }}\n");
        assert_eq!(
            text,
            "metadata:\n  name: c\n  labels:\n    a: \"1\"\n    b: \"on\"\n"
        );
        assert_eq!(
            render("labels:{{ label_block(labels, {\"z\": \"2\"}, 8) }}\n"),
            "labels:\n        a: \"1\"\n        b: \"on\"\n        z: \"2\"\n"
        );
    }

    #[test]
    fn an_unknown_argument_is_an_error() {
        let mut env = super::super::base_environment();
        env.add_template("t", "{{ metadata(\"c\", lables={}) }}")
            .unwrap();
        assert!(env.get_template("t").unwrap().render(()).is_err());
    }
}
