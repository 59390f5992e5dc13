//! The names derived from the system's `metadata.name` (DESIGN §2a: "prefix of namespaces,
//! object and alert names"): `portal` for the built-in system gives today's names
//! (`portal-system`, `portal-tenant-<id>`, `portal-db`, …).
//!
//! The model keeps its names as `&'static str` (they are shared by every template and
//! family), so a derived name is interned: each distinct name is allocated once per
//! process and never freed. A run sees one system, so this is a handful of short strings.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

/// A `&'static str` equal to `s`, allocated once per distinct value.
pub fn intern(s: String) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(existing) = names.get(s.as_str()) {
        return existing;
    }
    let leaked: &'static str = Box::leak(s.into_boxed_str());
    names.insert(leaked);
    leaked
}

/// Every name that carries the system's prefix.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Names {
    pub prefix: &'static str,
    /// The platform namespace: `<prefix>-system`.
    pub system_namespace: &'static str,
    /// `<prefix>-tenant-`: a tenant's namespace is this and its id.
    pub tenant_namespace_prefix: &'static str,
    /// `<prefix>-tenant-*` (Argo CD destinations, Velero).
    pub tenant_namespaces: &'static str,
    pub database: &'static str,
    /// The PostgreSQL database and its owner (`_` for `-`: SQL identifiers).
    pub sql_database: &'static str,
    pub sql_owner: &'static str,
    pub backup_credentials: &'static str,
    pub redis: &'static str,
    /// The Secret of Redis's password: `<prefix>-redis-auth`.
    pub redis_auth: &'static str,
    pub velero_schedule: &'static str,
    pub gateway: &'static str,
    pub gateway_tls: &'static str,
    pub tenant_admin_role: &'static str,
}

impl Names {
    pub fn of(prefix: &str) -> Names {
        let p = |suffix: &str| intern(format!("{prefix}{suffix}"));
        let sql = prefix.replace('-', "_");
        Names {
            prefix: intern(prefix.to_owned()),
            system_namespace: p("-system"),
            tenant_namespace_prefix: p("-tenant-"),
            tenant_namespaces: p("-tenant-*"),
            database: p("-db"),
            sql_database: intern(sql.clone()),
            sql_owner: intern(format!("{sql}_user")),
            backup_credentials: p("-backup-credentials"),
            redis: p("-redis"),
            redis_auth: p("-redis-auth"),
            velero_schedule: p("-daily"),
            gateway: p("-gateway"),
            gateway_tls: p("-tls"),
            tenant_admin_role: p("-tenant-admin"),
        }
    }
}

/// The tenant id of a tenant namespace of any system (`<prefix>-tenant-<id>`).
pub fn tenant_of_namespace(ns: &str) -> Option<&str> {
    ns.split_once(TENANT_NAMESPACE_INFIX)
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty())
}

/// The words of a DNS label, each capitalized, joined by `sep`: `api-gateway` →
/// `ApiGateway` (`""`) or `Api Gateway` (`" "`).
pub fn capitalized_words(label: &str, sep: &str) -> String {
    label
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// What separates a system's prefix from a tenant id in a tenant namespace.
pub const TENANT_NAMESPACE_INFIX: &str = "-tenant-";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_prefix_gives_the_shipped_names() {
        let n = Names::of("portal");
        assert_eq!(n.system_namespace, super::super::SYSTEM_NAMESPACE);
        assert_eq!(
            n.tenant_namespace_prefix,
            super::super::TENANT_NAMESPACE_PREFIX
        );
        assert_eq!(n.database, "portal-db");
        assert_eq!(n.sql_owner, "portal_user");
        let t = Names::of("my-shop");
        assert_eq!(t.sql_database, "my_shop");
        assert_eq!(t.tenant_namespaces, "my-shop-tenant-*");
        // Interned: the same name is the same allocation.
        assert!(std::ptr::eq(Names::of("my-shop").redis, t.redis));
    }

    #[test]
    fn tenant_ids_come_from_any_systems_namespaces() {
        assert_eq!(tenant_of_namespace("portal-tenant-acme"), Some("acme"));
        assert_eq!(tenant_of_namespace("tasks-tenant-t00001"), Some("t00001"));
        assert_eq!(tenant_of_namespace("portal-system"), None);
        assert_eq!(tenant_of_namespace("portal-tenant-"), None);
    }
}
