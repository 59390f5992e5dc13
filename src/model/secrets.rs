//! Every Secret the tree reads that nothing in the tree makes (issue #13), and where each
//! comes from: one [`SecretUse`] per Secret (namespace, name), collected from the model's
//! sections, each rendered as one `ExternalSecret` of the External Secrets Operator that
//! copies its keys from the environment's `ClusterSecretStore` (`spec.secrets.store`).
//!
//! Secrets an operator or a certificate of the tree makes are not here: CloudNativePG's own
//! (`<cluster>-app`, `-superuser`, `-ca`, `-replication`, `-server`), the Certificates'
//! (`model::tls`), cert-manager's ACME account key. The reference check (PG-R001) proves,
//! on the rendered tree, that every Secret read is made by one of these or declared.
//!
//! A primary that has replicas also *writes* to the store: one `PushSecret` per replica and
//! Secret ([`SecretPush`]) copies CloudNativePG's `<db>-replication` (the client certificate
//! of `streaming_replica`) and `<db>-ca` (its CA, `ca.crt` only) to the entries the replica's
//! ExternalSecrets read (`<system>/<replica>/<namespace>/<db>-primary-replication` and
//! `-primary-ca`), so no one copies certificates between regions by hand, and a renewed
//! certificate reaches the replica within the refresh interval.
//!
//! The remote key convention: the Secret `<secret>` of namespace `<namespace>` of environment
//! `<env>` of system `<system>` is the store's entry `<system>/<env>/<namespace>/<secret>`,
//! one property per key (e.g. `portal/prod-us/monitoring/alertmanager-slack`, property
//! `webhook-url`). The system's name comes first because a store is often shared by teams,
//! and two systems may both have an environment `prod` and a Secret in `monitoring`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::conventions::{
    EXTERNAL_DNS_NAMESPACE, EXTERNAL_DNS_TOKEN_KEY, EXTERNAL_DNS_TOKEN_SECRET,
};
use super::data::cnpg_secrets;
use super::Model;

/// How often the operator reads the store again: a rotated value reaches the cluster within
/// the hour.
pub const REFRESH_INTERVAL: &str = "1h";
/// The folder of the ExternalSecrets, one subfolder per namespace (the platform
/// Application syncs it, before the objects that read them).
pub const FOLDER: &str = "kubernetes/platform/secrets";

#[derive(Debug, Clone, Default, Serialize)]
pub struct Secrets {
    /// The `ClusterSecretStore` every ExternalSecret reads from.
    pub store: String,
    pub refresh_interval: &'static str,
    /// By namespace, then name.
    pub uses: Vec<SecretUse>,
    /// What a primary pushes to the store for its replicas, by replica then Secret.
    pub pushes: Vec<SecretPush>,
}

/// One `PushSecret`: a Secret an operator of this tree makes, copied to another
/// environment's entry of the store.
#[derive(Debug, Clone, Serialize)]
pub struct SecretPush {
    /// The PushSecret's name: `<source>-to-<environment>`.
    pub name: String,
    pub namespace: String,
    /// The Secret pushed (made in this tree, by CloudNativePG).
    pub source: String,
    /// The keys pushed, each to the property of the same name.
    pub keys: Vec<&'static str>,
    /// The entry written: the one the other environment's ExternalSecret reads.
    pub remote_key: String,
    /// Who reads the entry, for the comment.
    pub read_by: String,
    pub file: String,
}

/// One Secret the tree reads.
#[derive(Debug, Clone, Serialize)]
pub struct SecretUse {
    pub name: String,
    pub namespace: String,
    /// Every key read, sorted.
    pub keys: Vec<String>,
    /// Who reads it (objects and fields), for the comment and the docs.
    pub read_by: String,
    /// The store's entry: `<system>/<env>/<namespace>/<name>`; each key is one of its
    /// properties.
    pub remote_key: String,
    /// The Secret's type when it is not `Opaque` (an image pull secret).
    pub secret_type: Option<&'static str>,
    /// Its ExternalSecret's file in the tree.
    pub file: String,
}

/// Gathers the reads, one entry per (namespace, name).
#[derive(Default)]
struct Reads {
    by_secret: BTreeMap<(String, String), Read>,
}

#[derive(Default)]
struct Read {
    keys: std::collections::BTreeSet<String>,
    readers: Vec<String>,
    secret_type: Option<&'static str>,
}

impl Reads {
    fn add(&mut self, namespace: &str, name: &str, keys: &[&str], reader: String) -> &mut Read {
        let r = self
            .by_secret
            .entry((namespace.to_owned(), name.to_owned()))
            .or_default();
        r.keys.extend(keys.iter().map(|k| (*k).to_owned()));
        if !r.readers.contains(&reader) {
            r.readers.push(reader);
        }
        r
    }
}

/// The Secrets model `m` reads, from `store`. Needs the shared part, the observability
/// section (the Alertmanager's receivers: `AlertRouting::secrets`) and the TLS section.
pub fn resolve(m: &Model, store: String) -> Secrets {
    let mut reads = Reads::default();
    let system = m.namespaces.system;
    // Secrets the database operator makes are the tree's own.
    let made = cnpg_secrets(m.database.name);

    for s in &m.services {
        for e in &s.secret_env {
            if made.contains(&e.secret) {
                continue;
            }
            reads.add(
                system,
                &e.secret,
                &[&e.key],
                format!("Deployment {} (env {})", s.name, e.name),
            );
        }
    }
    for name in &m.pods.image_pull_secrets {
        reads
            .add(
                system,
                name,
                &[".dockerconfigjson"],
                "every service's pods (imagePullSecrets)".to_owned(),
            )
            .secret_type = Some("kubernetes.io/dockerconfigjson");
    }
    if let Some(b) = &m.database.backup {
        let keys: Vec<&str> = b.credentials.keys.iter().map(|k| k.key).collect();
        reads.add(
            system,
            b.credentials_secret,
            &keys,
            format!(
                "Cluster {} (backup.barmanObjectStore.{})",
                m.database.name, b.credentials.field
            ),
        );
    }
    if let (Some(tls), Some(source)) = (&m.database.replica_tls, &m.database.replica_source) {
        let reader = format!("Cluster {} (externalClusters {source})", m.database.name);
        reads.add(system, &tls.client, &["tls.crt", "tls.key"], reader.clone());
        reads.add(system, &tls.ca, &["ca.crt"], reader);
    }
    let redis = &m.redis;
    reads.add(
        system,
        &redis.auth.name,
        &[redis.auth.key],
        format!(
            "{} {} (kubernetesConfig.redisSecret: its servers and exporters)",
            redis.kind, redis.name
        ),
    );
    // The Alertmanager's receivers (Slack, PagerDuty, the email digest's SMTP password).
    for r in m.observability.routing.secrets() {
        reads.add(r.namespace, r.name, &[r.key], r.read_by);
    }
    let issuer = &m.tls.issuer;
    reads.add(
        issuer.secrets_namespace,
        &issuer.cloudflare_token.name,
        &[issuer.cloudflare_token.key],
        format!(
            "ClusterIssuer {} (the DNS-01 solver's CloudFlare apiTokenSecretRef)",
            issuer.name
        ),
    );
    if crate::families::argocd::operators::names_a_host(m) {
        reads.add(
            EXTERNAL_DNS_NAMESPACE,
            EXTERNAL_DNS_TOKEN_SECRET,
            &[EXTERNAL_DNS_TOKEN_KEY],
            "external-dns (its chart's CloudFlare token)".to_owned(),
        );
    }
    if let Some(v) = &m.backups.velero {
        let l = &v.location;
        reads.add(
            m.namespaces.velero,
            l.credentials_secret,
            &[l.credentials_key],
            format!(
                "the Velero server (its chart's credentials.existingSecret) and BackupStorageLocation {}",
                l.name
            ),
        );
    }

    let (system, env) = (&m.system.name, &m.env.name);
    let mut pushes = Vec::new();
    if let Some(endpoint) = &m.database.cross_region {
        let db = &m.database.name;
        let namespace = m.namespaces.system;
        for replica in &endpoint.replicas {
            let wanted = super::data::ReplicaTls::of(db);
            for (source, keys, entry) in [
                (
                    format!("{db}-replication"),
                    vec!["tls.crt", "tls.key"],
                    wanted.client,
                ),
                (format!("{db}-ca"), vec!["ca.crt"], wanted.ca),
            ] {
                let name = format!("{source}-to-{replica}");
                pushes.push(SecretPush {
                    file: format!("{FOLDER}/{namespace}/{name}.yaml"),
                    remote_key: remote_key(system, replica, namespace, &entry),
                    read_by: format!(
                        "ExternalSecret {namespace}/{entry} of {replica} (Cluster {db}, externalClusters {env})"
                    ),
                    name,
                    namespace: namespace.to_owned(),
                    source,
                    keys,
                });
            }
        }
    }
    Secrets {
        pushes,
        store,
        refresh_interval: REFRESH_INTERVAL,
        uses: reads
            .by_secret
            .into_iter()
            .map(|((namespace, name), r)| SecretUse {
                remote_key: remote_key(system, env, &namespace, &name),
                file: format!("{FOLDER}/{namespace}/{name}.yaml"),
                keys: r.keys.into_iter().collect(),
                read_by: r.readers.join("; "),
                secret_type: r.secret_type,
                name,
                namespace,
            })
            .collect(),
    }
}

/// The store's entry of Secret `name` of `namespace` in environment `env` of `system`.
pub fn remote_key(system: &str, env: &str, namespace: &str, name: &str) -> String {
    format!("{system}/{env}/{namespace}/{name}")
}

/// The store of an environment: its own `spec.secrets.store`, else the system file's, else
/// `<system>-secret-store`.
pub fn store_name(env: Option<&str>, system_file: Option<&str>, system: &str) -> String {
    env.or(system_file)
        .map_or_else(|| format!("{system}-secret-store"), str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// The model of environment `name` of the project at `root` (relative to the crate).
    fn model(root: &str, name: &str) -> Model {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(root);
        let ws = crate::spec::Workspace::open(Path::new(&root)).unwrap();
        crate::pipeline::model_of(&ws.load_all(), name).unwrap()
    }

    /// (namespace/name, keys) of every Secret read.
    fn table(m: &Model) -> Vec<(String, Vec<&str>)> {
        m.secrets
            .uses
            .iter()
            .map(|s| {
                (
                    format!("{}/{}", s.namespace, s.name),
                    s.keys.iter().map(String::as_str).collect(),
                )
            })
            .collect()
    }

    /// The primary pushes exactly the entries its replica's database reads of it: same
    /// store entry, same keys. A renamed Secret or key on either side breaks streaming.
    #[test]
    fn a_primary_pushes_every_entry_its_replica_streams_with() {
        let (us, eu) = (model("", "prod-us"), model("", "prod-eu"));
        let tls = eu
            .database
            .replica_tls
            .as_ref()
            .expect("prod-eu is a replica");
        let read: Vec<(String, Vec<String>)> = eu
            .secrets
            .uses
            .iter()
            .filter(|s| [&tls.client, &tls.ca].contains(&&s.name))
            .map(|s| (s.remote_key.clone(), s.keys.clone()))
            .collect();
        let pushed: Vec<(String, Vec<String>)> = us
            .secrets
            .pushes
            .iter()
            .map(|p| {
                (
                    p.remote_key.clone(),
                    p.keys.iter().map(|k| (*k).to_owned()).collect(),
                )
            })
            .collect();
        assert_eq!(read.len(), 2, "{read:?}");
        let mut sorted = pushed.clone();
        sorted.sort();
        assert_eq!(read, sorted);
        // Each push names a Secret CloudNativePG makes for the primary's cluster.
        let made = cnpg_secrets(us.database.name);
        assert!(us.secrets.pushes.iter().all(|p| made.contains(&p.source)));
        // A replica pushes nothing, and neither does a primary without replicas.
        assert!(eu.secrets.pushes.is_empty());
        assert!(model("", "staging").secrets.pushes.is_empty());
    }

    #[test]
    fn a_prod_replica_reads_every_secret_of_the_issue_and_nothing_an_operator_makes() {
        let m = model("", "prod-eu");
        assert_eq!(
            table(&m),
            [
                (
                    "cert-manager/cloudflare-api-token".to_owned(),
                    vec!["api-token"]
                ),
                (
                    "external-dns/external-dns-cloudflare".to_owned(),
                    vec!["api-token"]
                ),
                (
                    "monitoring/alertmanager-pagerduty".to_owned(),
                    vec!["routing-key"]
                ),
                (
                    "monitoring/alertmanager-slack".to_owned(),
                    vec!["webhook-url"]
                ),
                ("monitoring/alertmanager-smtp".to_owned(), vec!["password"]),
                (
                    "portal-system/portal-backup-credentials".to_owned(),
                    vec!["ACCESS_KEY_ID", "ACCESS_SECRET_KEY"]
                ),
                (
                    "portal-system/portal-db-primary-ca".to_owned(),
                    vec!["ca.crt"]
                ),
                (
                    "portal-system/portal-db-primary-replication".to_owned(),
                    vec!["tls.crt", "tls.key"]
                ),
                (
                    "portal-system/portal-redis-auth".to_owned(),
                    vec!["password"]
                ),
                (
                    "portal-system/portal-secrets".to_owned(),
                    vec!["session-secret"]
                ),
                ("velero/velero-credentials".to_owned(), vec!["cloud"]),
            ]
        );
        // The database's own Secret (DATABASE_URL) is CloudNativePG's, not the store's.
        assert!(!m.secrets.uses.iter().any(|s| s.name == "portal-db-app"));
        let redis = m
            .secrets
            .uses
            .iter()
            .find(|s| s.name == "portal-redis-auth")
            .unwrap();
        assert_eq!(
            redis.remote_key,
            "portal/prod-eu/portal-system/portal-redis-auth"
        );
        assert_eq!(
            redis.file,
            "kubernetes/platform/secrets/portal-system/portal-redis-auth.yaml"
        );
        assert!(
            redis.read_by.contains("RedisCluster portal-redis"),
            "{}",
            redis.read_by
        );
        assert!(
            redis
                .read_by
                .contains("Deployment portal-app (env REDIS_PASSWORD)"),
            "{}",
            redis.read_by
        );
        assert_eq!(m.secrets.store, "portal-secret-store");
        assert_eq!(m.secrets.refresh_interval, "1h");
    }

    #[test]
    fn dev_reads_no_backup_replication_or_paging_secret() {
        let names: Vec<String> = table(&model("", "dev"))
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert!(names.contains(&"portal-system/portal-redis-auth".to_owned()));
        assert!(names.contains(&"monitoring/alertmanager-slack".to_owned()));
        for absent in [
            "portal-backup-credentials",
            "portal-db-primary",
            "alertmanager-pagerduty",
            "velero-credentials",
        ] {
            assert!(
                !names.iter().any(|n| n.contains(absent)),
                "{absent} in {names:?}"
            );
        }
    }

    #[test]
    fn readers_of_one_secret_share_one_entry_with_every_key_read() {
        let m = model("examples/microservices", "prod");
        let keys = m
            .secrets
            .uses
            .iter()
            .find(|s| s.name == "auth-keys")
            .unwrap();
        assert_eq!(keys.keys, ["jwt-public-key", "jwt-signing-key"]);
        assert_eq!(
            keys.read_by,
            "Deployment api-gateway (env JWT_PUBLIC_KEY); Deployment auth-service (env JWT_SIGNING_KEY)"
        );
        // An image pull secret keeps its type.
        let pull = m
            .secrets
            .uses
            .iter()
            .find(|s| s.name == "registry-credentials")
            .unwrap();
        assert_eq!(pull.keys, [".dockerconfigjson"]);
        assert_eq!(pull.secret_type, Some("kubernetes.io/dockerconfigjson"));
        assert_eq!(m.secrets.store, "tasks-secret-store");
    }

    #[test]
    fn the_environments_store_wins_over_the_system_files_and_the_default() {
        assert_eq!(store_name(Some("a"), Some("b"), "shop"), "a");
        assert_eq!(store_name(None, Some("b"), "shop"), "b");
        assert_eq!(store_name(None, None, "shop"), "shop-secret-store");
    }
}
