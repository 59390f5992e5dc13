//! What to render: for each artifact family, the list of files of an environment, each with
//! its template and the values it lays out. Decisions about which files exist live here
//! (and in the model), never in templates.

pub mod argocd;
pub mod cloudflare;
pub mod grafana;
pub mod kubernetes;
pub mod prometheus;

use minijinja::Value;

use crate::model::Model;

/// One file to render.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Path inside `rendered/<env>/`, with `/` separators.
    pub path: String,
    /// Template name under `templates/`.
    pub template: &'static str,
    /// The values the template sees.
    pub context: Value,
}

/// The values every template sees as `m`: the model, without its (long) tenant list.
pub fn model_value(model: &Model) -> Value {
    Value::from(minijinja::value::Serde(model))
}

/// Every file of the environment, in a stable order.
pub fn plan(model: &Model) -> Vec<Artifact> {
    let m = model_value(model);
    let mut out = Vec::new();
    kubernetes::plan(model, &m, &mut out);
    prometheus::plan(model, &m, &mut out);
    grafana::plan(model, &m, &mut out);
    cloudflare::plan(model, &mut out);
    argocd::plan(model, &m, &mut out);
    out
}
