//! The `argocd/` family (DESIGN §4): the environment's AppProject, the bootstrap project
//! with the root Application (app of apps), and one Application per folder of the rendered
//! tree: platform, monitoring, and each tenant shard that holds a tenant; and the
//! operators the tree relies on (`operators`), each from its Helm chart, with their own
//! AppProject.

pub mod model;
pub mod operators;

use minijinja::{context, Value};

use super::{no_destinations, no_syncs, Artifact, Family};
use crate::model::Model;

pub const FAMILY: Family = Family {
    name: "argocd",
    plan,
    check_object: None,
    check_json: None,
    json_is: "JSON",
    // The root Application syncs `argocd/` itself (see `model`).
    syncs: no_syncs,
    destinations: no_destinations,
    cluster_kinds: &[],
};

fn plan(model: &Model, m: &Value, out: &mut Vec<Artifact>) {
    let d = &model.delivery;
    out.push(Artifact {
        path: "argocd/bootstrap.yaml".into(),
        template: "argocd/bootstrap.yaml",
        context: context! { m => m.clone() },
    });
    out.push(Artifact {
        path: "argocd/project.yaml".into(),
        template: "argocd/project.yaml",
        context: context! { m => m.clone(), p => Value::from(minijinja::value::Serde(&d.project)) },
    });
    out.push(Artifact {
        path: "argocd/projects/operators.yaml".into(),
        template: "argocd/project.yaml",
        context: context! { m => m.clone(), p => Value::from(minijinja::value::Serde(&d.operators_project)) },
    });
    for app in &d.applications {
        out.push(Artifact {
            path: format!("argocd/{}", app.file),
            template: "argocd/application.yaml",
            context: context! { m => m.clone(), a => Value::from(minijinja::value::Serde(app)) },
        });
    }
}
