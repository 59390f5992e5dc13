//! Tenants: the explicit list or the synthetic ones, each with its plan, quota and shard.

use serde::Serialize;

use crate::spec::{Plan, Tenants};

/// One tenant as the templates see it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tenant {
    pub id: String,
    pub plan: Plan,
    /// `portal-tenant-<id>`.
    pub namespace: String,
    /// The group bound to `portal-tenant-admin` in the tenant's namespace.
    pub admin_group: String,
    /// The shard folder and Argo CD Application this tenant belongs to, e.g. `shard-03`.
    pub shard: String,
    pub quota: Quota,
}

/// The ResourceQuota `hard` values of a plan (DESIGN §4).
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct Quota {
    pub requests_cpu: &'static str,
    pub requests_memory: &'static str,
    pub limits_cpu: &'static str,
    pub limits_memory: &'static str,
    pub pods: &'static str,
    pub persistentvolumeclaims: &'static str,
}

pub fn quota(plan: Plan) -> Quota {
    let (requests_cpu, requests_memory, limits_cpu, limits_memory, pods, persistentvolumeclaims) =
        match plan {
            Plan::Free => ("1", "2Gi", "2", "4Gi", "10", "2"),
            Plan::Team => ("4", "8Gi", "8", "16Gi", "50", "10"),
            Plan::Enterprise => ("16", "32Gi", "32", "64Gi", "200", "50"),
        };
    Quota {
        requests_cpu,
        requests_memory,
        limits_cpu,
        limits_memory,
        pods,
        persistentvolumeclaims,
    }
}

/// One Argo CD Application's share of the tenants.
#[derive(Debug, Clone, Serialize)]
pub struct Shard {
    pub name: String,
    pub tenants: usize,
}

/// Every shard, in order, with how many of `tenants` it holds.
pub fn shards(tenants: &[Tenant], count: u32) -> Vec<Shard> {
    (0..count)
        .map(|i| {
            let name = shard_name(i);
            Shard {
                tenants: tenants.iter().filter(|t| t.shard == name).count(),
                name,
            }
        })
        .collect()
}

/// Synthetic tenant `i` (1-based) of `count`: `t00001`, with at least 5 digits.
pub fn synthetic_id(i: u32, count: u32) -> String {
    let width = count.to_string().len().max(5);
    format!("t{i:0width$}")
}

/// Synthetic tenant `i` (1-based) gets plan `[free, team, enterprise][(i-1) % 3]`.
pub fn synthetic_plan(i: u32) -> Plan {
    [Plan::Free, Plan::Team, Plan::Enterprise][((i - 1) % 3) as usize]
}

/// The shard of a tenant: a function of its id and the shard count alone (FNV-1a, 64 bit,
/// which is the same on every platform), so adding or removing a tenant moves no other.
pub fn shard_index(id: &str, shards: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % u64::from(shards.max(1))) as u32
}

/// The name of shard `index`: `shard-00`, `shard-01`, …
pub fn shard_name(index: u32) -> String {
    format!("shard-{index:02}")
}

/// The tenants of a spec, in spec order (synthetic ones by number).
pub fn resolve(tenants: &Tenants, shards: u32, namespace_prefix: &str) -> Vec<Tenant> {
    let make = |id: String, plan: Plan| Tenant {
        namespace: format!("{namespace_prefix}{id}"),
        admin_group: format!("tenant:{id}:admins"),
        shard: shard_name(shard_index(&id, shards)),
        quota: quota(plan),
        id,
        plan,
    };
    match (&tenants.list, tenants.count) {
        (Some(list), _) => list.iter().map(|t| make(t.id.clone(), t.plan)).collect(),
        (None, Some(count)) => (1..=count)
            .map(|i| make(synthetic_id(i, count), synthetic_plan(i)))
            .collect(),
        (None, None) => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_ids_and_plans() {
        assert_eq!(synthetic_id(1, 3), "t00001");
        assert_eq!(synthetic_id(42, 100_000), "t000042");
        assert_eq!(synthetic_plan(1), Plan::Free);
        assert_eq!(synthetic_plan(2), Plan::Team);
        assert_eq!(synthetic_plan(3), Plan::Enterprise);
        assert_eq!(synthetic_plan(4), Plan::Free);
    }

    #[test]
    fn shard_depends_on_id_and_count_only() {
        let a = resolve(
            &Tenants {
                count: Some(100),
                list: None,
            },
            8,
            "portal-tenant-",
        );
        let b = resolve(
            &Tenants {
                count: Some(100),
                list: None,
            },
            8,
            "portal-tenant-",
        );
        assert_eq!(a, b);
        assert!(a
            .iter()
            .all(|t| t.shard == shard_name(shard_index(&t.id, 8))));
        // All shards are used by a hundred tenants.
        let used: std::collections::BTreeSet<_> = a.iter().map(|t| t.shard.clone()).collect();
        assert_eq!(used.len(), 8);
    }
}
