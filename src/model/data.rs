//! The data stores (DESIGN "What is rendered", Data): the CloudNativePG cluster, Redis and
//! the backups.

use std::collections::BTreeMap;

use serde::Serialize;

use super::tiers::{BackupLevel, TierDefaults};
use super::Primary;
use crate::spec::Environment;

#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub name: &'static str,
    pub instances: u32,
    pub storage: String,
    pub image: &'static str,
    pub database: &'static str,
    pub owner: &'static str,
    pub parameters: BTreeMap<&'static str, String>,
    /// For a replica: stream from the primary instead of initdb.
    pub replica_source: Option<String>,
    /// Continuous backups (WAL archiving + daily base backup), when on.
    pub backup: Option<DatabaseBackup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseBackup {
    pub destination: String,
    pub retention: &'static str,
    pub credentials_secret: &'static str,
    /// Six-field cron (CloudNativePG takes seconds first).
    pub schedule: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Redis {
    pub name: &'static str,
    /// `Redis` (standalone) or `RedisCluster`.
    pub kind: &'static str,
    pub leaders: u32,
    pub followers: u32,
    pub storage: String,
    pub image: &'static str,
    pub exporter_image: &'static str,
    /// What the app talks to: the name of the client Service and the `app` label of its
    /// pods (the opstree operator names a cluster's `<name>-leader`).
    pub client_name: String,
    /// Host and port the app connects to.
    pub host: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Backups {
    pub level: BackupLevel,
    /// The Velero schedule, when on.
    pub velero: Option<VeleroSchedule>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VeleroSchedule {
    pub name: &'static str,
    pub schedule: &'static str,
    pub ttl: &'static str,
    pub namespaces: Vec<String>,
}

/// PostgreSQL's parameters (values from the architecture notes; connections by tier).
fn postgres_parameters(d: &TierDefaults) -> BTreeMap<&'static str, String> {
    let mut parameters = BTreeMap::new();
    parameters.insert("max_connections", d.max_connections.to_string());
    parameters.insert("shared_buffers", "256MB".to_owned());
    parameters.insert("effective_cache_size", "1GB".to_owned());
    parameters.insert("maintenance_work_mem", "64MB".to_owned());
    parameters.insert("checkpoint_completion_target", "0.9".to_owned());
    parameters.insert("wal_buffers", "16MB".to_owned());
    parameters.insert("default_statistics_target", "100".to_owned());
    parameters.insert("random_page_cost", "1.1".to_owned());
    parameters.insert("effective_io_concurrency", "200".to_owned());
    parameters
}

/// The CloudNativePG cluster: the tier's size, overrides, and a replica's source.
pub(super) fn database(
    env: &Environment,
    d: &TierDefaults,
    primary: Option<&Primary>,
    names: &super::names::Names,
) -> Database {
    let spec = &env.spec;
    let o = &spec.overrides;
    let name = env.name.clone();
    let primary_info = primary;
    let parameters = postgres_parameters(d);
    let db_instances = o
        .database
        .as_ref()
        .and_then(|x| x.instances)
        .unwrap_or(d.db_instances);
    let db_storage = o
        .database
        .as_ref()
        .and_then(|x| x.storage.clone())
        .unwrap_or_else(|| d.db_storage.to_owned());
    Database {
        name: names.database,
        instances: db_instances,
        storage: db_storage,
        image: "ghcr.io/cloudnative-pg/postgresql:16.6",
        database: names.sql_database,
        owner: names.sql_owner,
        parameters,
        replica_source: primary_info.as_ref().map(|p| p.name.clone()),
        backup: (d.backups == BackupLevel::Continuous).then(|| DatabaseBackup {
            destination: format!("s3://{}-backups-{name}/postgresql", names.prefix),
            retention: "30d",
            credentials_secret: names.backup_credentials,
            schedule: "0 0 3 * * *",
        }),
    }
}
