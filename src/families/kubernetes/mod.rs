//! The `kubernetes/` family (DESIGN §4): the platform objects and, per tenant, one file of
//! six objects in the folder of its shard.

use minijinja::{context, Value};

use super::argocd::model::{GroupKind, IgnoreDifference};
use super::{Artifact, Destination, Family, Sync};
use crate::model::{Model, Service, VELERO_NAMESPACE};
use crate::spec::Tier;

pub const FAMILY: Family = Family {
    name: "kubernetes",
    plan,
    // Every rendered object's Kubernetes checks (types, CRD schemas) are the checks of
    // every YAML file, whatever its family: see `validate::kubernetes`.
    check_object: None,
    check_json: None,
    json_is: "JSON",
    syncs,
    destinations,
    cluster_kinds: &[
        GroupKind {
            group: "",
            kind: "Namespace",
        },
        GroupKind {
            group: "rbac.authorization.k8s.io",
            kind: "ClusterRole",
        },
        GroupKind {
            group: "cert-manager.io",
            kind: "ClusterIssuer",
        },
    ],
};

/// The platform in one Application; the tenants in one per shard that holds a tenant
/// (Argo CD fails on a missing folder).
fn syncs(model: &Model) -> Vec<Sync> {
    let platform = Sync {
        application: "platform".into(),
        wave: "0",
        namespace: model.namespaces.system,
        path: "kubernetes/platform".into(),
        // The HPA owns the Deployment's (or Rollout's) replicas.
        ignore_differences: model
            .services
            .iter()
            .filter(|s| s.autoscaling.is_some())
            .map(|s| IgnoreDifference {
                group: s.rollout.api_version.split_once('/').map_or("", |(g, _)| g),
                kind: s.rollout.kind,
                name: s.name.clone(),
                namespace: model.namespaces.system,
                json_pointers: vec!["/spec/replicas"],
                jq_path_expressions: Vec::new(),
            })
            // Argo Rollouts moves a canary's weights in the VirtualService's routes.
            .chain(
                model
                    .services
                    .iter()
                    .any(|s| {
                        s.rollout
                            .canary
                            .as_ref()
                            .is_some_and(|c| c.traffic_routing.is_some())
                    })
                    .then(|| IgnoreDifference {
                        group: "networking.istio.io",
                        kind: "VirtualService",
                        name: model.ingress.name.clone(),
                        namespace: model.namespaces.system,
                        json_pointers: Vec::new(),
                        jq_path_expressions: vec![".spec.http[].route[].weight"],
                    }),
            )
            .collect(),
    };
    let tenants = model
        .shards
        .iter()
        .filter(|s| s.tenants > 0)
        .map(|shard| Sync {
            application: format!("tenants-{}", shard.name),
            wave: "1",
            namespace: model.namespaces.system,
            path: format!("kubernetes/tenants/{}", shard.name),
            ignore_differences: Vec::new(),
        });
    std::iter::once(platform).chain(tenants).collect()
}

fn destinations(model: &Model) -> Vec<Destination> {
    let mut out = vec![
        Destination::Platform(model.namespaces.system),
        Destination::Tenants(model.names.tenant_namespaces),
    ];
    if model.backups.velero.is_some() {
        // Velero reads Schedules from its own namespace only.
        out.push(Destination::Operator(VELERO_NAMESPACE));
    }
    // A Secret is read in its reader's namespace, a Certificate's Secret too: the
    // operators' namespaces that read one (cert-manager's issuer token, Velero's and
    // external-dns's credentials, the ingress gateway's TLS Secret).
    let elsewhere = model
        .secrets
        .uses
        .iter()
        .map(|s| s.namespace.as_str())
        .chain(model.tls.certificates.iter().map(|c| c.namespace));
    for ns in elsewhere {
        if model.namespaces.platform.contains(&ns) {
            continue;
        }
        let ns = crate::model::names::intern(ns.to_owned());
        if !out.contains(&Destination::Operator(ns)) {
            out.push(Destination::Operator(ns));
        }
    }
    out
}

/// The files of one service, in its folder.
fn plan_service(model: &Model, m: &Value, service: &Service, out: &mut Vec<Artifact>) {
    let s = Value::from(minijinja::value::Serde(service));
    let folder = &service.folder;
    // The AnalysisTemplate of a Rollout (from the SLIs of `families::prometheus::slo`):
    // `m.observability.analysis_templates[s.name]`, as `a`.
    let analysis = model.observability.analysis_templates.get(&service.name);
    let has_analysis = analysis.is_some();
    let a = analysis.map_or(Value::UNDEFINED, |a| {
        Value::from(minijinja::value::Serde(a))
    });
    let mut add_as = |file: &str, template: &str| {
        out.push(Artifact {
            path: format!("kubernetes/platform/{folder}/{file}"),
            template: SERVICE_TEMPLATES
                .iter()
                .find(|t| t.ends_with(&format!("/{template}")))
                .copied()
                .expect("every service file has its template"),
            context: context! { m => m.clone(), s => s.clone(), a => a.clone() },
        });
    };
    add_as("service-account.yaml", "service-account.yaml");
    add_as("config-map.yaml", "config-map.yaml");
    // A Rollout carries the Deployment's pod template: one template file lays out both.
    add_as(service.rollout.file, "deployment.yaml");
    let mut add = |file: &str| add_as(file, file);
    add("service.yaml");
    if !service.rollout.services.is_empty() {
        add("rollout-services.yaml");
    }
    if has_analysis {
        add("analysis-template.yaml");
    }
    if service.autoscaling.is_some() {
        add("hpa.yaml");
    }
    add("vpa.yaml");
    if service.pdb.is_some() {
        add("pdb.yaml");
    }
    // The built-in app's folder also holds the shared NetworkPolicies.
    if *folder == model.network.folder {
        add("network-policies.yaml");
    }
}

/// The templates of one service's files.
const SERVICE_TEMPLATES: &[&str] = &[
    "kubernetes/app/service-account.yaml",
    "kubernetes/app/config-map.yaml",
    "kubernetes/app/deployment.yaml",
    "kubernetes/app/service.yaml",
    "kubernetes/app/rollout-services.yaml",
    "kubernetes/app/analysis-template.yaml",
    "kubernetes/app/hpa.yaml",
    "kubernetes/app/vpa.yaml",
    "kubernetes/app/pdb.yaml",
    "kubernetes/app/network-policies.yaml",
];

fn plan(model: &Model, m: &Value, out: &mut Vec<Artifact>) {
    let shared = |path: &str, template: &'static str| Artifact {
        path: path.to_owned(),
        template,
        context: context! { m => m.clone() },
    };
    out.push(shared(
        "kubernetes/platform/namespaces.yaml",
        "kubernetes/namespaces.yaml",
    ));
    out.push(shared(
        "kubernetes/platform/cluster-role.yaml",
        "kubernetes/cluster-role.yaml",
    ));
    for service in &model.services {
        plan_service(model, m, service, out);
    }
    let mut add = |path: &str, template: &'static str| out.push(shared(path, template));
    if !model
        .services
        .iter()
        .any(|s| s.folder == model.network.folder)
    {
        let network = &model.network.folder;
        add(
            &format!("kubernetes/platform/{network}/network-policies.yaml"),
            "kubernetes/app/network-policies.yaml",
        );
    }
    add(
        "kubernetes/platform/data/postgres.yaml",
        "kubernetes/data/postgres.yaml",
    );
    if model.database.backup.is_some() {
        add(
            "kubernetes/platform/data/postgres-backup.yaml",
            "kubernetes/data/postgres-backup.yaml",
        );
    }
    if model.redis.kind == "RedisCluster" {
        add(
            "kubernetes/platform/data/redis.yaml",
            "kubernetes/data/redis-cluster.yaml",
        );
    } else {
        add(
            "kubernetes/platform/data/redis.yaml",
            "kubernetes/data/redis-standalone.yaml",
        );
    }
    if model.backups.velero.is_some() {
        add(
            "kubernetes/platform/data/velero-schedule.yaml",
            "kubernetes/data/velero-schedule.yaml",
        );
        add(
            "kubernetes/platform/data/velero-storage-location.yaml",
            "kubernetes/data/velero-storage-location.yaml",
        );
    }
    add(
        "kubernetes/platform/mesh/gateway.yaml",
        "kubernetes/mesh/gateway.yaml",
    );
    add(
        "kubernetes/platform/tls/cluster-issuer.yaml",
        "kubernetes/tls/cluster-issuer.yaml",
    );
    if !model.tls.certificates.is_empty() {
        add(
            "kubernetes/platform/tls/certificates.yaml",
            "kubernetes/tls/certificates.yaml",
        );
    }
    add(
        "kubernetes/platform/mesh/virtual-service.yaml",
        "kubernetes/mesh/virtual-service.yaml",
    );
    debug_assert!(model.env.tier != Tier::Prod || model.mesh.fault_injection.is_none());
    for secret in &model.secrets.uses {
        out.push(Artifact {
            path: secret.file.clone(),
            template: "kubernetes/secrets/external-secret.yaml",
            context: context! { m => m.clone(), s => Value::from(minijinja::value::Serde(secret)) },
        });
    }

    for push in &model.secrets.pushes {
        out.push(Artifact {
            path: push.file.clone(),
            template: "kubernetes/secrets/push-secret.yaml",
            context: context! { m => m.clone(), s => Value::from(minijinja::value::Serde(push)) },
        });
    }

    for (i, tenant) in model.tenants.iter().enumerate() {
        let (m, tenants) = (m.clone(), model.tenants.clone());
        out.push(Artifact::deferred(
            format!("kubernetes/tenants/{}/{}.yaml", tenant.shard, tenant.id),
            "kubernetes/tenant.yaml",
            move || context! { m => m.clone(), t => Value::from(minijinja::value::Serde(&tenants[i])) },
        ));
    }
}
