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
//! The remote key convention: the Secret `<secret>` of namespace `<namespace>` of environment
//! `<env>` is the store's entry `<env>/<namespace>/<secret>`, one property per key (e.g.
//! `prod-us/monitoring/alertmanager-slack`, property `webhook-url`).

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
    /// The store's entry: `<env>/<namespace>/<name>`; each key is one of its properties.
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
/// section (the Alertmanager's receivers) and the TLS section.
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
    // The Alertmanager's receivers. TODO(alerting): the email digest receiver's
    // `alertmanager-smtp`/`password` joins here once the routing model has it.
    let routing = &m.observability.alertmanager;
    let mut receiver = |secret: &str, key: &str, what: &str| {
        reads.add(
            routing.namespace,
            secret,
            &[key],
            format!("AlertmanagerConfig {} ({what})", routing.name),
        );
    };
    receiver(
        routing.slack.api_url.name,
        routing.slack.api_url.key,
        "the Slack receiver's apiURL",
    );
    if let Some(p) = &routing.pagerduty {
        receiver(
            p.routing_key.name,
            p.routing_key.key,
            "the PagerDuty receiver's routingKey",
        );
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

    let env = &m.env.name;
    Secrets {
        store,
        refresh_interval: REFRESH_INTERVAL,
        uses: reads
            .by_secret
            .into_iter()
            .map(|((namespace, name), r)| SecretUse {
                remote_key: remote_key(env, &namespace, &name),
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

/// The store's entry of Secret `name` of `namespace` in environment `env`.
pub fn remote_key(env: &str, namespace: &str, name: &str) -> String {
    format!("{env}/{namespace}/{name}")
}

/// The store of an environment: its own `spec.secrets.store`, else the system file's, else
/// `<system>-secret-store`.
pub fn store_name(env: Option<&str>, system_file: Option<&str>, system: &str) -> String {
    env.or(system_file)
        .map_or_else(|| format!("{system}-secret-store"), str::to_owned)
}
