//! The `kubernetes/` family (DESIGN §4): the platform objects and, per tenant, one file of
//! six objects in the folder of its shard.

use minijinja::{context, Value};

use super::argocd::model::{GroupKind, IgnoreDifference};
use super::{Artifact, Destination, Family, Sync};
use crate::model::{Model, SYSTEM_NAMESPACE, TENANT_NAMESPACES, VELERO_NAMESPACE};
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
    ],
};

/// The platform in one Application; the tenants in one per shard that holds a tenant
/// (Argo CD fails on a missing folder).
fn syncs(model: &Model) -> Vec<Sync> {
    let platform = Sync {
        application: "platform".into(),
        wave: "0",
        namespace: SYSTEM_NAMESPACE,
        path: "kubernetes/platform".into(),
        ignore_differences: if model.app.autoscaling.is_some() {
            // The HPA owns the Deployment's replicas.
            vec![IgnoreDifference {
                group: "apps",
                kind: "Deployment",
                name: model.app.name,
                namespace: SYSTEM_NAMESPACE,
                json_pointers: vec!["/spec/replicas"],
            }]
        } else {
            Vec::new()
        },
    };
    let tenants = model
        .shards
        .iter()
        .filter(|s| s.tenants > 0)
        .map(|shard| Sync {
            application: format!("tenants-{}", shard.name),
            wave: "1",
            namespace: SYSTEM_NAMESPACE,
            path: format!("kubernetes/tenants/{}", shard.name),
            ignore_differences: Vec::new(),
        });
    std::iter::once(platform).chain(tenants).collect()
}

fn destinations(model: &Model) -> Vec<Destination> {
    let mut out = vec![
        Destination::Platform(SYSTEM_NAMESPACE),
        Destination::Tenants(TENANT_NAMESPACES),
    ];
    if model.backups.velero.is_some() {
        // Velero reads Schedules from its own namespace only.
        out.push(Destination::Operator(VELERO_NAMESPACE));
    }
    out
}

fn plan(model: &Model, m: &Value, out: &mut Vec<Artifact>) {
    let mut add = |path: &str, template: &'static str| {
        out.push(Artifact {
            path: path.to_owned(),
            template,
            context: context! { m => m.clone() },
        });
    };
    add(
        "kubernetes/platform/namespaces.yaml",
        "kubernetes/namespaces.yaml",
    );
    add(
        "kubernetes/platform/cluster-role.yaml",
        "kubernetes/cluster-role.yaml",
    );
    add(
        "kubernetes/platform/app/service-account.yaml",
        "kubernetes/app/service-account.yaml",
    );
    add(
        "kubernetes/platform/app/config-map.yaml",
        "kubernetes/app/config-map.yaml",
    );
    add(
        "kubernetes/platform/app/deployment.yaml",
        "kubernetes/app/deployment.yaml",
    );
    add(
        "kubernetes/platform/app/service.yaml",
        "kubernetes/app/service.yaml",
    );
    if model.app.autoscaling.is_some() {
        add(
            "kubernetes/platform/app/hpa.yaml",
            "kubernetes/app/hpa.yaml",
        );
    }
    add(
        "kubernetes/platform/app/vpa.yaml",
        "kubernetes/app/vpa.yaml",
    );
    if model.app.pdb.is_some() {
        add(
            "kubernetes/platform/app/pdb.yaml",
            "kubernetes/app/pdb.yaml",
        );
    }
    add(
        "kubernetes/platform/app/network-policies.yaml",
        "kubernetes/app/network-policies.yaml",
    );
    add(
        "kubernetes/platform/app/ingress.yaml",
        "kubernetes/app/ingress.yaml",
    );
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
    }
    add(
        "kubernetes/platform/mesh/gateway.yaml",
        "kubernetes/mesh/gateway.yaml",
    );
    add(
        "kubernetes/platform/mesh/virtual-service.yaml",
        "kubernetes/mesh/virtual-service.yaml",
    );
    debug_assert!(model.env.tier != Tier::Prod || model.mesh.fault_injection.is_none());

    for tenant in &model.tenants {
        out.push(Artifact {
            path: format!("kubernetes/tenants/{}/{}.yaml", tenant.shard, tenant.id),
            template: "kubernetes/tenant.yaml",
            context: context! { m => m.clone(), t => Value::from(minijinja::value::Serde(tenant)) },
        });
    }
}
