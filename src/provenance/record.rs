//! The origins of the model's shared sections, recorded by `model::resolve_with_peers` once
//! they are resolved (the services record their own in `model::services`): which spec key,
//! tier default, system-file value or rule each section's values come from.

use super::{Origin, Origins};
use crate::model::tiers::TierDefaults;
use crate::model::Model;
use crate::spec::system::System;
use crate::spec::Environment;

/// The origins of `model`'s values, with its services' own.
pub fn model(
    env: &Environment,
    primary: Option<&Environment>,
    system: &System,
    d: &TierDefaults,
    model: &Model,
) -> Origins {
    let mut o = Origins::default();
    let spec = |p: &str| Origin::spec(env, p);
    let tier = env.spec.tier;
    let set_or = |p: &str, otherwise: Origin| if env.has(p) { spec(p) } else { otherwise };

    // The environment itself.
    o.set("/env/name", spec("/metadata/name"));
    o.set("/env/tier", spec("/spec/tier"));
    o.set("/env/region", spec("/spec/region"));
    o.set(
        "/env/role",
        set_or(
            "/spec/role",
            Origin::constant("the default role, primary (src/spec/types.rs)"),
        ),
    );
    o.set("/env/domain", spec("/spec/domain"));
    if let Some(p) = primary {
        o.set(
            "/env/primary",
            Origin::derived(
                "the primary named by spec.replicaOf (src/model/mod.rs)",
                vec![spec("/spec/replicaOf")],
            ),
        );
        o.set("/env/primary/name", spec("/spec/replicaOf"));
        o.set("/env/primary/region", Origin::spec(p, "/spec/region"));
        o.set(
            "/env/primary/db_host",
            Origin::derived(
                "the primary's database host <db>-rw.<region>.db.<domain> (src/model/data.rs)",
                vec![
                    Origin::spec(p, "/spec/region"),
                    Origin::spec(p, "/spec/domain"),
                ],
            ),
        );
    }
    let name_and_system = vec![
        spec("/metadata/name"),
        Origin::system(system, "/metadata/name"),
    ];
    o.set(
        "/labels",
        Origin::derived(
            "the labels every object carries (src/model/conventions.rs)",
            name_and_system.clone(),
        ),
    );
    o.set(
        "/labels/app.kubernetes.io~1managed-by",
        Origin::constant("the managed-by label (src/model/conventions.rs)"),
    );
    let convention = |what: &str, file: &str| Origin::constant(format!("{what} ({file})"));
    o.set(
        "/namespaces",
        Origin::derived(
            "the namespaces, after the system's name (src/model/conventions.rs)",
            vec![Origin::system(system, "/metadata/name")],
        ),
    );
    o.set(
        "/pod_security",
        convention("the Pod Security labels", "src/model/conventions.rs"),
    );
    o.set(
        "/tenancy",
        convention("the tenants' conventions", "src/model/conventions.rs"),
    );
    o.set(
        "/waves",
        convention("the sync waves", "src/model/conventions.rs"),
    );
    o.set("/system/name", Origin::system(system, "/metadata/name"));
    o.set(
        "/system/builtin",
        Origin::derived(
            "whether the project has a portalgen.yaml (src/spec/system.rs)",
            Vec::new(),
        ),
    );
    o.set(
        "/names",
        Origin::derived(
            "the names that carry the system's prefix (src/model/names.rs)",
            vec![Origin::system(system, "/metadata/name")],
        ),
    );
    for (i, s) in model.services.iter().enumerate() {
        o.nest(&format!("/services/{i}"), s.origins.clone());
        o.set(
            format!("/services/{i}/telemetry"),
            Origin::derived(
                "the service's OTLP endpoint and resource attributes (src/families/tracing/model.rs)",
                vec![spec("/metadata/name")],
            ),
        );
    }
    // Placement: the environment's overrides, or none.
    for (key, at) in [
        ("node_selector", "nodeSelector"),
        ("tolerations", "tolerations"),
        ("image_pull_secrets", "imagePullSecrets"),
        ("priority_class_name", "priorityClassName"),
    ] {
        o.set(
            format!("/pods/{key}"),
            spec(&format!("/spec/overrides/{at}")),
        );
    }
    o.set(
        "/network",
        Origin::derived(
            "the flows of each service's `uses` (src/model/network.rs)",
            vec![Origin::system(system, "/spec/services")],
        ),
    );
    o.set(
        "/routes",
        Origin::derived(
            "the services' routes, longest prefix first (src/model/network.rs)",
            vec![Origin::system(system, "/spec/services")],
        ),
    );
    // Data stores: the tier's sizes, the overrides, the cloud's storage class.
    o.set(
        "/database",
        Origin::derived(
            "the CloudNativePG cluster (src/model/data.rs)",
            vec![spec("/spec/tier")],
        ),
    );
    o.set(
        "/database/instances",
        set_or(
            "/spec/overrides/database/instances",
            Origin::tier(tier, "database.instances", d.db_instances),
        ),
    );
    o.set(
        "/database/storage",
        set_or(
            "/spec/overrides/database/storage",
            Origin::tier(tier, "database.storage", d.db_storage),
        ),
    );
    o.set(
        "/database/parameters/max_connections",
        Origin::tier(tier, "database.max_connections", d.max_connections),
    );
    o.set(
        "/redis",
        Origin::derived(
            "the Redis of the tier (src/model/data.rs)",
            vec![Origin::tier(
                tier,
                "redis",
                format!(
                    "{} leaders, {} followers",
                    d.redis_leaders, d.redis_followers
                ),
            )],
        ),
    );
    o.set(
        "/redis/leaders",
        Origin::tier(tier, "redis.leaders", d.redis_leaders),
    );
    o.set(
        "/redis/followers",
        Origin::tier(tier, "redis.followers", d.redis_followers),
    );
    o.set(
        "/redis/storage",
        Origin::tier(tier, "redis.storage", d.redis_storage),
    );
    let cloud = set_or(
        "/spec/cloud",
        Origin::constant("the default cloud, aws (src/spec/types.rs)"),
    );
    o.set(
        "/cloud",
        Origin::derived(
            "the cloud profile (src/model/cloud.rs)",
            vec![cloud.clone()],
        ),
    );
    for (model_key, spec_key) in [
        ("storage_class", "storageClass"),
        ("load_balancer_annotations", "loadBalancerAnnotations"),
        (
            "internal_load_balancer_annotations",
            "internalLoadBalancerAnnotations",
        ),
    ] {
        let at = format!("/spec/overrides/cloud/{spec_key}");
        if env.has(&at) {
            o.set(format!("/cloud/{model_key}"), spec(&at));
        }
    }
    for p in ["/database/storage_class", "/redis/storage_class"] {
        o.set(
            p,
            set_or(
                "/spec/overrides/cloud/storageClass",
                Origin::derived(
                    "the cloud profile's storage class (src/model/cloud.rs)",
                    vec![cloud.clone()],
                ),
            ),
        );
    }
    o.set(
        "/backups",
        Origin::derived(
            "the tier's backups (src/model/data.rs)",
            vec![Origin::tier(
                tier,
                "backups",
                format!("{:?}", d.backups).to_lowercase(),
            )],
        ),
    );
    o.set(
        "/mesh",
        convention("the mesh's gateway and headers", "src/model/mod.rs"),
    );
    o.set(
        "/mesh/fault_injection",
        Origin::derived(
            "delay injection below prod only (src/model/mod.rs)",
            vec![spec("/spec/tier")],
        ),
    );
    o.set(
        "/ingress/name",
        Origin::derived(
            "the public routes' name, after the system (src/model/mod.rs)",
            vec![Origin::system(system, "/metadata/name")],
        ),
    );
    o.set(
        "/ingress/hosts",
        Origin::derived(
            "the domain and its wildcard (src/model/mod.rs)",
            vec![spec("/spec/domain")],
        ),
    );
    o.set(
        "/secrets",
        Origin::derived(
            "every Secret the tree reads and nothing in it makes, one ExternalSecret each (src/model/secrets.rs)",
            name_and_system.clone(),
        ),
    );
    o.set(
        "/secrets/refresh_interval",
        convention("how often the store is read again", "src/model/secrets.rs"),
    );
    o.set(
        "/secrets/store",
        set_or(
            "/spec/secrets/store",
            if system.written_at("/spec/secrets/store").is_some() {
                Origin::system(system, "/spec/secrets/store")
            } else {
                Origin::derived(
                    "the default store <system>-secret-store (src/model/secrets.rs)",
                    vec![Origin::system(system, "/metadata/name")],
                )
            },
        ),
    );
    o.set(
        "/tls",
        Origin::derived(
            "the cluster issuer and a Certificate per TLS Secret a consumer reads (src/model/tls.rs)",
            vec![spec("/spec/domain")],
        ),
    );
    o.set(
        "/tls/issuer/server",
        convention("Let's Encrypt's production ACME server", "src/model/tls.rs"),
    );
    o.set(
        "/tls/issuer/name",
        convention("the cluster issuer's name", "src/model/tls.rs"),
    );
    o.set(
        "/monitoring/level",
        Origin::tier(
            tier,
            "monitoring",
            format!("{:?}", d.monitoring).to_lowercase(),
        ),
    );
    o.set(
        "/alerting/slack_channel",
        spec("/spec/alerting/slackChannel"),
    );
    o.set(
        "/alerting/pagerduty",
        set_or(
            "/spec/alerting/pagerduty",
            Origin::constant("PagerDuty off unless asked for (src/spec/types.rs)"),
        ),
    );
    o.set(
        "/alerting/time_zone",
        set_or(
            "/spec/alerting/timeZone",
            Origin::constant("the region's time zone (src/families/prometheus/hours.rs)"),
        ),
    );
    o.set("/gitops/repo_url", spec("/spec/gitops/repoURL"));
    o.set(
        "/gitops/target_revision",
        spec("/spec/gitops/targetRevision"),
    );
    o.set(
        "/gitops/tenant_shards",
        set_or(
            "/spec/gitops/tenantShards",
            Origin::constant("DEFAULT_TENANT_SHARDS (src/model/mod.rs)"),
        ),
    );
    // The families' sections: each derived by its family's model from the shared parts.
    for (section, file) in [
        ("/observability", "src/families/prometheus/model.rs"),
        ("/grafana", "src/families/grafana/model.rs"),
        ("/tracing", "src/families/tracing/model.rs"),
        ("/edge", "src/families/cloudflare/model.rs"),
        ("/delivery", "src/families/argocd/model.rs"),
    ] {
        o.set(
            section,
            Origin::derived(format!("the family's model ({file})"), Vec::new()),
        );
    }
    o.set("/edge/zone_id", spec("/spec/cloudflare/zoneId"));
    let tenants = match &env.spec.tenants.list {
        Some(_) => spec("/spec/tenants/list"),
        None => Origin::derived(
            "synthetic tenant i: id t<i>, plan [free, team, enterprise][(i-1) % 3] (src/model/tenants.rs)",
            vec![spec("/spec/tenants/count")],
        ),
    };
    o.set(
        "/shards",
        Origin::derived(
            "the tenants spread over spec.gitops.tenantShards shards (src/model/tenants.rs)",
            vec![tenants.clone()],
        ),
    );
    o.set("/tenants", tenants.clone());
    for (key, rule) in [
        (
            "namespace",
            "the tenant's namespace, prefix + id (src/model/tenants.rs)",
        ),
        (
            "admin_group",
            "the tenant's admin group, after its id (src/model/tenants.rs)",
        ),
        (
            "shard",
            "the tenant's shard, by its place in the list (src/model/tenants.rs)",
        ),
        (
            "quota",
            "the quota of the tenant's plan (DESIGN §4, src/model/tenants.rs)",
        ),
    ] {
        o.set(
            format!("/tenants/*/{key}"),
            Origin::derived(rule, vec![tenants.clone()]),
        );
    }
    if env.spec.tenants.list.is_some() {
        for i in 0..model.tenants.len() {
            o.set(
                format!("/tenants/{i}"),
                spec(&format!("/spec/tenants/list/{i}")),
            );
            o.set(
                format!("/tenants/{i}/id"),
                spec(&format!("/spec/tenants/list/{i}/id")),
            );
            o.set(
                format!("/tenants/{i}/plan"),
                spec(&format!("/spec/tenants/list/{i}/plan")),
            );
        }
    }
    o
}
