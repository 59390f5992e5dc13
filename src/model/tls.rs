//! TLS (issue #13, "References that resolve to nothing"): the cert-manager `ClusterIssuer`
//! the tree's certificates come from, and one `Certificate` for every TLS Secret a consumer
//! of the tree reads, in the namespace where it reads it.
//!
//! One owner per host: the mesh Gateway serves every public host (`<domain>` and
//! `*.<domain>`, port 443) on the Istio ingress gateway, so no Kubernetes Ingress is
//! rendered beside it (an Ingress of class `istio` would be a second owner of the same
//! host and port on the same gateway, with another certificate, and Istio keeps one of the
//! two). The Gateway reads its `credentialName` in the namespace where the ingress gateway
//! runs (`istio-system`), so the Certificate that makes that Secret is there.

use serde::Serialize;

use super::conventions::{CERT_MANAGER_NAMESPACE, ISTIO_NAMESPACE};
use super::data::SecretKeyRef;

/// Let's Encrypt's production ACME directory.
pub const LETSENCRYPT_PRODUCTION: &str = "https://acme-v02.api.letsencrypt.org/directory";
/// The ClusterIssuer every Certificate of the tree names.
pub const CLUSTER_ISSUER: &str = "letsencrypt-dns01";
/// The Secret of the CloudFlare API token the issuer's DNS-01 solver reads (in cert-manager's
/// namespace), and its key. A token with Zone:DNS:Edit on the environment's zone.
pub const CLOUDFLARE_TOKEN_SECRET: &str = "cloudflare-api-token";
pub const CLOUDFLARE_TOKEN_KEY: &str = "api-token";

#[derive(Debug, Clone, Serialize)]
pub struct Tls {
    pub issuer: ClusterIssuer,
    /// In the order they are rendered.
    pub certificates: Vec<Certificate>,
}

/// An ACME issuer that proves control of the domain by DNS-01 through CloudFlare (the
/// wildcard tenant host can only be proven that way).
#[derive(Debug, Clone, Serialize)]
pub struct ClusterIssuer {
    pub name: &'static str,
    pub server: &'static str,
    /// The ACME account's contact: `hostmaster@<domain>`.
    pub email: String,
    /// The ACME account's private key: made by cert-manager on its first registration.
    pub account_key_secret: String,
    /// cert-manager's cluster resource namespace: where a ClusterIssuer's Secrets are read.
    pub secrets_namespace: &'static str,
    pub cloudflare_token: SecretKeyRef,
    /// The solver answers for these zones only (and their subdomains): the environment's.
    pub dns_zones: Vec<String>,
}

/// A certificate for a TLS Secret a consumer reads.
#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    pub name: String,
    pub namespace: &'static str,
    pub secret_name: String,
    pub dns_names: Vec<String>,
    pub issuer: &'static str,
    /// Who reads the Secret, for the comment.
    pub read_by: String,
}

/// The issuer and the certificates of an environment whose public hosts are `hosts` (the
/// apex first), served by the mesh Gateway `gateway` with the TLS Secret `gateway_secret`.
pub fn resolve(domain: &str, hosts: &[String], gateway: &str, gateway_secret: &str) -> Tls {
    Tls {
        issuer: ClusterIssuer {
            name: CLUSTER_ISSUER,
            server: LETSENCRYPT_PRODUCTION,
            email: format!("hostmaster@{domain}"),
            account_key_secret: format!("{CLUSTER_ISSUER}-account-key"),
            secrets_namespace: CERT_MANAGER_NAMESPACE,
            cloudflare_token: SecretKeyRef {
                name: CLOUDFLARE_TOKEN_SECRET.to_owned(),
                key: CLOUDFLARE_TOKEN_KEY,
            },
            dns_zones: vec![domain.to_owned()],
        },
        certificates: vec![Certificate {
            name: gateway_secret.to_owned(),
            namespace: ISTIO_NAMESPACE,
            secret_name: gateway_secret.to_owned(),
            dns_names: hosts.to_vec(),
            issuer: CLUSTER_ISSUER,
            read_by: format!(
                "the Gateway {gateway} (credentialName), in the namespace of the ingress gateway"
            ),
        }],
    }
}
