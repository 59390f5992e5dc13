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

use super::tenants::Tenant;
use super::{Shard, MONITORING_NAMESPACE, SYSTEM_NAMESPACE};

pub const ARGOCD_NAMESPACE: &str = "argocd";
pub const IN_CLUSTER: &str = "https://kubernetes.default.svc";

#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub namespace: &'static str,
    pub repo_url: String,
    pub target_revision: String,
    /// The environment's folder in the GitOps repository: `rendered/<env>`.
    pub tree: String,
    pub server: &'static str,
    pub project: Project,
    pub bootstrap_project: Project,
    /// The root Application (app of apps) that syncs `argocd/`.
    pub root: Application,
    pub applications: Vec<Application>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub name: String,
    pub description: String,
    pub wave: &'static str,
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

#[derive(Debug, Clone, Serialize)]
pub struct Application {
    pub name: String,
    /// File under `argocd/`.
    pub file: String,
    pub project: String,
    /// Sync wave of the Application object itself, within the root Application.
    pub wave: &'static str,
    pub destination_namespace: &'static str,
    /// Folders of the repository, each synced recursively.
    pub paths: Vec<String>,
    pub sync_options: Vec<&'static str>,
    pub retry: Retry,
    pub revision_history_limit: u32,
    /// Fields another controller owns (the HPA owns the Deployment's replicas).
    pub ignore_differences: Vec<IgnoreDifference>,
}

#[derive(Debug, Clone, Serialize)]
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
    pub name: &'static str,
    pub namespace: &'static str,
    pub json_pointers: Vec<&'static str>,
}

/// Inputs of [`resolve`], decided elsewhere in the model.
pub struct Inputs<'a> {
    pub env: &'a str,
    pub repo_url: &'a str,
    pub target_revision: &'a str,
    pub app_name: &'static str,
    pub autoscaling: bool,
    /// Whether the Velero Schedule (in namespace `velero`) is rendered.
    pub velero: bool,
    /// Whether Grafana dashboards (and so `grafana/configmaps/`) are rendered.
    pub dashboards: bool,
    pub shards: &'a [Shard],
    pub tenants: &'a [Tenant],
}

pub fn resolve(i: &Inputs) -> Delivery {
    let env = i.env;
    let tree = format!("rendered/{env}");
    let retry = Retry {
        limit: 5,
        duration: "5s",
        factor: 2,
        max_duration: "3m",
    };
    let base_options = vec!["CreateNamespace=true", "PruneLast=true"];
    let project_name = format!("portal-{env}");
    let app = |name: String,
               file: String,
               wave,
               ns,
               paths: Vec<String>,
               ignore: Vec<IgnoreDifference>| {
        let mut sync_options = base_options.clone();
        if !ignore.is_empty() {
            // Without it, a sync would still write the ignored fields.
            sync_options.push("RespectIgnoreDifferences=true");
        }
        Application {
            name,
            file,
            project: project_name.clone(),
            wave,
            destination_namespace: ns,
            paths,
            sync_options,
            retry: retry.clone(),
            revision_history_limit: 10,
            ignore_differences: ignore,
        }
    };

    let mut applications = vec![
        app(
            format!("portal-{env}-platform"),
            "applications/platform.yaml".into(),
            "0",
            SYSTEM_NAMESPACE,
            vec![format!("{tree}/kubernetes/platform")],
            if i.autoscaling {
                vec![IgnoreDifference {
                    group: "apps",
                    kind: "Deployment",
                    name: i.app_name,
                    namespace: SYSTEM_NAMESPACE,
                    json_pointers: vec!["/spec/replicas"],
                }]
            } else {
                Vec::new()
            },
        ),
        app(
            format!("portal-{env}-monitoring"),
            "applications/monitoring.yaml".into(),
            "1",
            MONITORING_NAMESPACE,
            // grafana/dashboards/ holds raw dashboard JSON, not Kubernetes objects: only the
            // ConfigMaps that carry them are synced.
            std::iter::once(format!("{tree}/prometheus"))
                .chain(i.dashboards.then(|| format!("{tree}/grafana/configmaps")))
                .collect(),
            Vec::new(),
        ),
    ];
    // One Application per shard that holds a tenant: Argo CD fails on a missing folder.
    for shard in i.shards.iter().filter(|s| s.tenants > 0) {
        applications.push(app(
            format!("portal-{env}-tenants-{}", shard.name),
            format!("applications/tenants-{}.yaml", shard.name),
            "1",
            SYSTEM_NAMESPACE,
            vec![format!("{tree}/kubernetes/tenants/{}", shard.name)],
            Vec::new(),
        ));
    }
    debug_assert!(i
        .tenants
        .iter()
        .all(|t| i.shards.iter().any(|s| s.name == t.shard)));

    let mut destinations = vec![
        SYSTEM_NAMESPACE.to_owned(),
        MONITORING_NAMESPACE.to_owned(),
        "portal-tenant-*".to_owned(),
    ];
    if i.velero {
        // Velero reads Schedules from its own namespace only.
        destinations.push("velero".to_owned());
    }
    let bootstrap_name = format!("portal-{env}-bootstrap");
    let root = Application {
        name: format!("portal-{env}-root"),
        file: "bootstrap.yaml".into(),
        project: bootstrap_name.clone(),
        wave: "0",
        destination_namespace: ARGOCD_NAMESPACE,
        paths: vec![format!("{tree}/argocd")],
        sync_options: vec!["PruneLast=true"],
        retry: retry.clone(),
        revision_history_limit: 10,
        ignore_differences: Vec::new(),
    };
    Delivery {
        namespace: ARGOCD_NAMESPACE,
        repo_url: i.repo_url.to_owned(),
        target_revision: i.target_revision.to_owned(),
        tree,
        server: IN_CLUSTER,
        project: Project {
            name: project_name,
            description: format!(
                "The portal's {env} environment: only its namespaces and its repository"
            ),
            wave: "-1",
            destinations,
            cluster_resources: vec![
                GroupKind {
                    group: "",
                    kind: "Namespace",
                },
                GroupKind {
                    group: "rbac.authorization.k8s.io",
                    kind: "ClusterRole",
                },
            ],
            namespace_resources: Vec::new(),
        },
        bootstrap_project: Project {
            name: bootstrap_name,
            description: format!("Bootstraps the portal's {env} environment: Argo CD objects only"),
            wave: "-1",
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
        root,
        applications,
    }
}
