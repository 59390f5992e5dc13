//! Cloud profiles (`spec.cloud`): what differs between AWS, GCP and Azure for the same
//! system. A profile decides the region ids an environment may name, the StorageClass of
//! the data volumes, the annotations of the two load balancers the tree asks the cloud for
//! (the public ingress gateway, the database's private cross-region endpoint) and the
//! object store of the backups (CloudNativePG's WAL archive and base backups, Velero's
//! BackupStorageLocation). `spec.overrides.cloud` replaces any of them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spec::{CloudProvider, Environment};

/// The resolved cloud profile of one environment.
#[derive(Debug, Clone, Serialize)]
pub struct Cloud {
    pub provider: CloudProvider,
    /// Of the database's and Redis's PersistentVolumeClaims.
    pub storage_class: String,
    /// Of the public ingress gateway's Service (Helm values of the gateway chart).
    pub load_balancer_annotations: BTreeMap<String, String>,
    /// Of the database's cross-region endpoint: a private load balancer the replica
    /// regions reach over the cloud's private network (peering), never the internet.
    pub internal_load_balancer_annotations: BTreeMap<String, String>,
    pub object_store: ObjectStore,
}

/// Where the backups go, as CloudNativePG (barman) and Velero each spell it.
#[derive(Debug, Clone, Serialize)]
pub struct ObjectStore {
    /// The bucket (S3, GCS) or container (Azure Blob).
    pub bucket: String,
    /// CloudNativePG's `barmanObjectStore.destinationPath` of the database's backups.
    pub database_path: String,
    /// The credentials CloudNativePG reads: the Secret and, per field of its
    /// `<cloud>Credentials`, the key.
    pub database_credentials: DatabaseCredentials,
    /// Velero's BackupStorageLocation: the provider plugin and its `config`.
    pub velero_provider: &'static str,
    pub velero_prefix: &'static str,
    pub velero_config: BTreeMap<&'static str, String>,
    /// The Velero plugin image of the provider (an init container of the Velero chart).
    pub velero_plugin: VeleroPlugin,
}

#[derive(Debug, Clone, Serialize)]
pub struct VeleroPlugin {
    pub name: &'static str,
    pub image: &'static str,
}

/// The `s3Credentials`, `googleCredentials` or `azureCredentials` of a barman object store:
/// the field of the CRD and its keys, each a key of the one credentials Secret.
#[derive(Debug, Clone, Serialize)]
pub struct DatabaseCredentials {
    /// `s3Credentials`, `googleCredentials`, `azureCredentials`.
    pub field: &'static str,
    /// (field of the credentials object, key in the Secret), in the CRD's order.
    pub keys: Vec<CredentialKey>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredentialKey {
    pub field: &'static str,
    pub key: &'static str,
}

/// The key of Velero's credentials Secret the chart mounts as `/credentials/cloud`.
pub const VELERO_CREDENTIALS_KEY: &str = "cloud";

/// The profile of an environment's cloud with its overrides applied. `prefix` is the
/// system's name (`portal`).
pub fn resolve(env: &Environment, prefix: &str) -> Cloud {
    let spec = &env.spec;
    let o = spec.overrides.cloud.clone().unwrap_or_default();
    let store = o.object_store.clone().unwrap_or_default();
    let provider = spec.cloud;
    let bucket = store
        .bucket
        .unwrap_or_else(|| format!("{prefix}-backups-{}", env.name));
    let object_store = match provider {
        CloudProvider::Aws => ObjectStore {
            database_path: format!("s3://{bucket}/postgresql"),
            database_credentials: DatabaseCredentials {
                field: "s3Credentials",
                keys: vec![
                    CredentialKey {
                        field: "accessKeyId",
                        key: "ACCESS_KEY_ID",
                    },
                    CredentialKey {
                        field: "secretAccessKey",
                        key: "ACCESS_SECRET_KEY",
                    },
                ],
            },
            velero_provider: "aws",
            velero_prefix: "velero",
            velero_config: BTreeMap::from([("region", spec.region.clone())]),
            velero_plugin: VeleroPlugin {
                name: "velero-plugin-for-aws",
                image: "velero/velero-plugin-for-aws:v1.14.0",
            },
            bucket,
        },
        CloudProvider::Gcp => ObjectStore {
            database_path: format!("gs://{bucket}/postgresql"),
            database_credentials: DatabaseCredentials {
                field: "googleCredentials",
                keys: vec![CredentialKey {
                    field: "applicationCredentials",
                    key: "credentials.json",
                }],
            },
            velero_provider: "gcp",
            velero_prefix: "velero",
            velero_config: BTreeMap::new(),
            velero_plugin: VeleroPlugin {
                name: "velero-plugin-for-gcp",
                image: "velero/velero-plugin-for-gcp:v1.14.0",
            },
            bucket,
        },
        CloudProvider::Azure => {
            // A storage account name is 3–24 lowercase letters and digits.
            let account = store.storage_account.unwrap_or_else(|| {
                let mut a: String = format!("{prefix}backups{}", env.name)
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_lowercase())
                    .collect();
                a.truncate(24);
                a
            });
            let group = store
                .resource_group
                .unwrap_or_else(|| format!("{prefix}-{}", env.name));
            ObjectStore {
                database_path: format!(
                    "https://{account}.blob.core.windows.net/{bucket}/postgresql"
                ),
                database_credentials: DatabaseCredentials {
                    field: "azureCredentials",
                    keys: vec![
                        CredentialKey {
                            field: "storageAccount",
                            key: "AZURE_STORAGE_ACCOUNT",
                        },
                        CredentialKey {
                            field: "storageKey",
                            key: "AZURE_STORAGE_KEY",
                        },
                    ],
                },
                velero_provider: "azure",
                velero_prefix: "velero",
                velero_config: BTreeMap::from([
                    ("resourceGroup", group),
                    ("storageAccount", account),
                ]),
                velero_plugin: VeleroPlugin {
                    name: "velero-plugin-for-microsoft-azure",
                    image: "velero/velero-plugin-for-microsoft-azure:v1.14.0",
                },
                bucket,
            }
        }
    };
    Cloud {
        provider,
        storage_class: o
            .storage_class
            .unwrap_or_else(|| default_storage_class(provider).to_owned()),
        load_balancer_annotations: o
            .load_balancer_annotations
            .unwrap_or_else(|| annotations(public_annotations(provider))),
        internal_load_balancer_annotations: o
            .internal_load_balancer_annotations
            .unwrap_or_else(|| annotations(internal_annotations(provider))),
        object_store,
    }
}

/// The SSD StorageClass each managed Kubernetes ships with its CSI driver: EKS's gp3 class
/// (made by the cluster's provisioning), GKE's `premium-rwo`, AKS's `managed-csi-premium`.
fn default_storage_class(provider: CloudProvider) -> &'static str {
    match provider {
        CloudProvider::Aws => "gp3",
        CloudProvider::Gcp => "premium-rwo",
        CloudProvider::Azure => "managed-csi-premium",
    }
}

/// A public layer-4 load balancer in front of the ingress gateway: on AWS an NLB of the
/// AWS Load Balancer Controller targeting pod IPs (the in-tree controller would make a
/// Classic ELB); on GKE the backend-service based passthrough NLB. AKS makes its public
/// Standard load balancer for a Service of type LoadBalancer without annotations, with TCP
/// probes on the gateway's ports.
fn public_annotations(provider: CloudProvider) -> &'static [(&'static str, &'static str)] {
    match provider {
        CloudProvider::Aws => &[
            (
                "service.beta.kubernetes.io/aws-load-balancer-type",
                "external",
            ),
            (
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
                "ip",
            ),
            (
                "service.beta.kubernetes.io/aws-load-balancer-scheme",
                "internet-facing",
            ),
        ],
        CloudProvider::Gcp => &[("cloud.google.com/l4-rbs", "enabled")],
        CloudProvider::Azure => &[],
    }
}

/// A private load balancer the replica regions reach over peering: GKE's needs global
/// access to answer clients of another region.
fn internal_annotations(provider: CloudProvider) -> &'static [(&'static str, &'static str)] {
    match provider {
        CloudProvider::Aws => &[
            (
                "service.beta.kubernetes.io/aws-load-balancer-type",
                "external",
            ),
            (
                "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type",
                "ip",
            ),
            (
                "service.beta.kubernetes.io/aws-load-balancer-scheme",
                "internal",
            ),
        ],
        CloudProvider::Gcp => &[
            ("networking.gke.io/load-balancer-type", "Internal"),
            (
                "networking.gke.io/internal-load-balancer-allow-global-access",
                "true",
            ),
        ],
        CloudProvider::Azure => &[(
            "service.beta.kubernetes.io/azure-load-balancer-internal",
            "true",
        )],
    }
}

fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
