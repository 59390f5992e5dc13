//! Argo CD delivery of an environment (DESIGN §4, `argocd/`): the AppProject that fences
//! it in, and the Applications that sync each folder of its rendered tree.
//!
//! The `argocd/` folder applies itself: `bootstrap.yaml` holds a small AppProject that may
//! only create Applications and AppProjects in the `argocd` namespace, and the root
//! Application (app of apps) that syncs `rendered/<env>/argocd/`, itself included. It is
//! applied once by hand (`kubectl apply -n argocd -f rendered/<env>/argocd/bootstrap.yaml`);
//! from then on every change to the folder (a new tenant shard, say) arrives through git.
//!
//! No Application carries the `resources-finalizer.argocd.argoproj.io` finalizer: deleting
//! an Application (a shard that lost its last tenant, or whose tenants moved when the shard
//! count changed) leaves its objects in place, so it can never cascade into a tenant's
//! namespace and its data.

use serde::Serialize;

use super::operators::{self, HelmSource};
use crate::families::{Destination, Sync, FAMILIES};
use crate::model::Model;

pub const ARGOCD_NAMESPACE: &str = "argocd";
pub const IN_CLUSTER: &str = "https://kubernetes.default.svc";
/// The AppProjects come before every Application of the root Application.
const PROJECT_WAVE: &str = "-2";
/// The operators' Applications come before every other Application: the platform's and
/// the tenants' objects are their custom resources.
pub const OPERATOR_WAVE: &str = "-1";

#[derive(Debug, Clone, Default, Serialize)]
pub struct Delivery {
    pub namespace: &'static str,
    pub repo_url: String,
    pub target_revision: String,
    /// The environment's folder in the GitOps repository: `rendered/<env>`.
    pub tree: String,
    pub server: &'static str,
    pub project: Project,
    /// The operators' own project: their Helm repositories, namespaces and cluster kinds
    /// (CRDs, webhooks, cluster roles), which the environment's project does not admit.
    pub operators_project: Project,
    pub bootstrap_project: Project,
    /// The root Application (app of apps) that syncs `argocd/`.
    pub root: Application,
    pub applications: Vec<Application>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Project {
    pub name: String,
    pub description: String,
    pub wave: &'static str,
    /// The repositories its Applications may read: git, or Helm chart repositories.
    pub source_repos: Vec<String>,
    /// Namespaces Applications of the project may deploy to (on the in-cluster server).
    pub destinations: Vec<String>,
    /// Cluster-scoped kinds the project may manage: exactly those rendered.
    pub cluster_resources: Vec<GroupKind>,
    /// Namespaced kinds the project may manage; empty = any.
    pub namespace_resources: Vec<GroupKind>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupKind {
    pub group: &'static str,
    pub kind: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Application {
    pub name: String,
    /// File under `argocd/`.
    pub file: String,
    pub project: String,
    /// Sync wave of the Application object itself, within the root Application.
    pub wave: &'static str,
    pub destination_namespace: &'static str,
    /// Folders of the repository, each synced recursively (none for a Helm chart).
    pub paths: Vec<String>,
    /// The Helm chart it installs instead of folders of the repository.
    pub helm: Option<HelmSource>,
    /// Whether an automated sync deletes what left the source.
    pub prune: bool,
    pub sync_options: Vec<&'static str>,
    pub retry: Retry,
    pub revision_history_limit: u32,
    /// Fields another controller owns (the HPA owns the Deployment's replicas).
    pub ignore_differences: Vec<IgnoreDifference>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Retry {
    pub limit: u32,
    pub duration: &'static str,
    pub factor: u32,
    pub max_duration: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct IgnoreDifference {
    pub group: &'static str,
    pub kind: &'static str,
    pub name: String,
    pub namespace: &'static str,
    pub json_pointers: Vec<&'static str>,
    /// jq paths, where a pointer cannot name the fields (every route's weights).
    pub jq_path_expressions: Vec<&'static str>,
}

/// The delivery of a resolved model. Its Applications, the project's destinations and its
/// cluster-scoped kinds come from the families' registry ([`FAMILIES`]): a new family's
/// folders are synced without a line here.
pub fn resolve(m: &Model) -> Delivery {
    let env = &m.env.name;
    let tree = format!("rendered/{env}");
    let retry = Retry {
        limit: 5,
        duration: "5s",
        factor: 2,
        max_duration: "3m",
    };
    let project_name = format!("{}-{env}", m.names.prefix);

    let operators_project_name = format!("{}-{env}-operators", m.names.prefix);
    let relied_on = operators::relied_on(m);
    let applications = operator_applications(m, &relied_on, &operators_project_name, &retry)
        .into_iter()
        .chain(family_applications(m, &tree, &project_name, &retry))
        .collect();
    debug_assert!(m
        .tenants
        .iter()
        .all(|t| m.shards.iter().any(|s| s.name == t.shard)));

    let destinations = destinations(m);
    let bootstrap_name = format!("{}-{env}-bootstrap", m.names.prefix);
    let root = Application {
        name: format!("{}-{env}-root", m.names.prefix),
        file: "bootstrap.yaml".into(),
        project: bootstrap_name.clone(),
        wave: "0",
        destination_namespace: ARGOCD_NAMESPACE,
        paths: vec![format!("{tree}/argocd")],
        helm: None,
        prune: true,
        sync_options: vec!["PruneLast=true"],
        retry: retry.clone(),
        revision_history_limit: 10,
        ignore_differences: Vec::new(),
    };
    Delivery {
        namespace: ARGOCD_NAMESPACE,
        repo_url: m.gitops.repo_url.clone(),
        target_revision: m.gitops.target_revision.clone(),
        tree,
        server: IN_CLUSTER,
        project: Project {
            name: project_name,
            description: format!(
                "The portal's {env} environment: only its namespaces and its repository"
            ),
            wave: PROJECT_WAVE,
            source_repos: vec![m.gitops.repo_url.clone()],
            destinations: destinations
                .iter()
                .map(|d| d.namespace().to_owned())
                .collect(),
            cluster_resources: FAMILIES
                .iter()
                .flat_map(|f| f.cluster_kinds.iter().cloned())
                .collect(),
            namespace_resources: Vec::new(),
        },
        bootstrap_project: Project {
            name: bootstrap_name,
            description: format!("Bootstraps the portal's {env} environment: Argo CD objects only"),
            wave: PROJECT_WAVE,
            source_repos: vec![m.gitops.repo_url.clone()],
            destinations: vec![ARGOCD_NAMESPACE.to_owned()],
            cluster_resources: Vec::new(),
            namespace_resources: vec![
                GroupKind {
                    group: "argoproj.io",
                    kind: "AppProject",
                },
                GroupKind {
                    group: "argoproj.io",
                    kind: "Application",
                },
            ],
        },
        operators_project: operators_project(operators_project_name, env, &relied_on),
        root,
        applications,
    }
}

/// One Application per group of the families' synced folders, in registry order.
fn family_applications(m: &Model, tree: &str, project: &str, retry: &Retry) -> Vec<Application> {
    let env = &m.env.name;
    let mut grouped: Vec<(String, Vec<Sync>)> = Vec::new();
    for sync in FAMILIES.iter().flat_map(|f| (f.syncs)(m)) {
        match grouped
            .iter_mut()
            .find(|(name, _)| *name == sync.application)
        {
            Some((_, syncs)) => syncs.push(sync),
            None => grouped.push((sync.application.clone(), vec![sync])),
        }
    }
    grouped
        .into_iter()
        .map(|(name, syncs)| {
            let ignore: Vec<IgnoreDifference> = syncs
                .iter()
                .flat_map(|s| s.ignore_differences.iter().cloned())
                .collect();
            let mut sync_options = vec!["CreateNamespace=true", "PruneLast=true"];
            if !ignore.is_empty() {
                // Without it, a sync would still write the ignored fields.
                sync_options.push("RespectIgnoreDifferences=true");
            }
            Application {
                name: format!("{}-{env}-{name}", m.names.prefix),
                file: format!("applications/{name}.yaml"),
                project: project.to_owned(),
                wave: syncs[0].wave,
                destination_namespace: syncs[0].namespace,
                paths: syncs.iter().map(|s| format!("{tree}/{}", s.path)).collect(),
                helm: None,
                prune: true,
                sync_options,
                retry: retry.clone(),
                revision_history_limit: 10,
                ignore_differences: ignore,
            }
        })
        .collect()
}

/// One Application per operator the tree relies on, from its pinned Helm chart.
fn operator_applications(
    m: &Model,
    relied_on: &[&'static operators::OperatorChart],
    project: &str,
    retry: &Retry,
) -> Vec<Application> {
    let env = &m.env.name;
    relied_on
        .iter()
        .map(|o| Application {
            name: format!("{}-{env}-{}", m.names.prefix, o.name),
            file: format!("applications/operators/{}.yaml", o.name),
            project: project.to_owned(),
            wave: OPERATOR_WAVE,
            destination_namespace: o.namespace,
            paths: Vec::new(),
            helm: Some(o.helm_source(m)),
            // A chart release that drops a CRD must not take every custom resource of
            // that kind with it: an operator's leftovers are removed by hand.
            prune: false,
            // The CRDs are too big for the last-applied annotation of a client-side apply.
            sync_options: vec!["CreateNamespace=true", "ServerSideApply=true"],
            retry: retry.clone(),
            revision_history_limit: 10,
            ignore_differences: Vec::new(),
        })
        .collect()
}

/// The namespaces the environment's project admits, from the families' registry: the
/// platform's first, then the tenants', then the operators' (a stable sort keeps the
/// registry order within each).
fn destinations(m: &Model) -> Vec<Destination> {
    let mut destinations: Vec<Destination> =
        FAMILIES.iter().flat_map(|f| (f.destinations)(m)).collect();
    destinations.sort_by_key(|d| match d {
        Destination::Platform(_) => 0,
        Destination::Tenants(_) => 1,
        Destination::Operator(_) => 2,
    });
    destinations.dedup();
    destinations
}

/// The cluster-scoped kinds the operators' charts create.
const OPERATOR_CLUSTER_KINDS: &[GroupKind] = &[
    GroupKind {
        group: "",
        kind: "Namespace",
    },
    GroupKind {
        group: "admissionregistration.k8s.io",
        kind: "MutatingWebhookConfiguration",
    },
    GroupKind {
        group: "admissionregistration.k8s.io",
        kind: "ValidatingWebhookConfiguration",
    },
    GroupKind {
        group: "apiextensions.k8s.io",
        kind: "CustomResourceDefinition",
    },
    GroupKind {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
    },
    GroupKind {
        group: "rbac.authorization.k8s.io",
        kind: "ClusterRoleBinding",
    },
];

/// The operators' project: their chart repositories, their namespaces and the cluster
/// kinds of their charts. Kept apart from the environment's project, so the Applications
/// of the platform and of the tenants can never create a CRD or a webhook.
fn operators_project(name: String, env: &str, relied_on: &[&operators::OperatorChart]) -> Project {
    let mut source_repos: Vec<String> = relied_on.iter().map(|o| o.repo_url.to_owned()).collect();
    source_repos.sort();
    source_repos.dedup();
    let mut destinations: Vec<String> = Vec::new();
    for o in relied_on {
        if !destinations.iter().any(|d| d == o.namespace) {
            destinations.push(o.namespace.to_owned());
        }
    }
    Project {
        name,
        description: format!(
            "The operators the portal's {env} environment relies on: their charts, namespaces and cluster kinds only"
        ),
        wave: PROJECT_WAVE,
        source_repos,
        destinations,
        cluster_resources: OPERATOR_CLUSTER_KINDS.to_vec(),
        namespace_resources: Vec::new(),
    }
}
