//! The load balancing of a domain served by several regions (a primary and its replicas):
//! every region's health monitor and pool, and the primary's geo-steered load balancers,
//! each CloudFlare region sent to the nearest pools first.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spec::Environment;

#[derive(Debug, Clone, Serialize)]
pub struct LoadBalancing {
    pub monitor: Monitor,
    pub pool: Pool,
    /// The load balancers, on the primary only.
    pub balancers: Option<Balancers>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Monitor {
    pub description: String,
    pub r#type: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    pub expected_codes: &'static str,
    /// The Host header of the probe: the ingress serves the environment's domain.
    pub host: String,
    pub interval: u32,
    pub timeout: u32,
    pub retries: u32,
    pub consecutive_down: u32,
    pub consecutive_up: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pool {
    /// Account-wide unique: `portal-<env>`.
    pub name: String,
    pub description: String,
    pub origin_name: String,
    pub address: String,
    /// The CloudFlare region of the environment's cloud region, health-checked from there.
    pub check_region: Option<&'static str>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Balancers {
    /// `(terraform key, hostname)`: the apex and the wildcard tenant host.
    pub hostnames: Vec<(&'static str, String)>,
    /// Every region's pool name, the primary's first.
    pub pools: Vec<String>,
    /// CloudFlare region code -> pool names, nearest first.
    pub region_pools: BTreeMap<&'static str, Vec<String>>,
    pub fallback_pool: String,
}

/// CloudFlare load-balancing regions with a representative location (latitude, longitude).
pub const CLOUDFLARE_REGIONS: [(&str, f64, f64); 13] = [
    ("EEU", 52.2, 21.0),
    ("ENAM", 39.0, -77.5),
    ("ME", 25.2, 55.3),
    ("NAF", 30.0, 31.2),
    ("NEAS", 35.7, 139.7),
    ("NSAM", 4.7, -74.1),
    ("OC", -33.9, 151.2),
    ("SAF", -26.2, 28.0),
    ("SAS", 19.1, 72.9),
    ("SEAS", 1.35, 103.8),
    ("SSAM", -23.5, -46.6),
    ("WEU", 50.1, 8.7),
    ("WNAM", 37.8, -122.4),
];

/// The CloudFlare region of a cloud region id (`us-east-1` -> `ENAM`), by its prefix.
pub fn cloudflare_region(region: &str) -> Option<&'static str> {
    const PREFIXES: [(&str, &str); 18] = [
        ("ap-southeast-2", "OC"),
        ("ap-southeast-4", "OC"),
        ("ap-southeast-6", "OC"),
        ("ap-southeast", "SEAS"),
        ("ap-northeast", "NEAS"),
        ("ap-east", "NEAS"),
        ("ap-south", "SAS"),
        ("us-gov-west", "WNAM"),
        ("us-west", "WNAM"),
        ("us-", "ENAM"),
        ("ca-", "ENAM"),
        ("mx-", "WNAM"),
        ("sa-", "SSAM"),
        ("eu-", "WEU"),
        ("me-", "ME"),
        ("il-", "ME"),
        ("af-", "SAF"),
        ("cn-", "NEAS"),
    ];
    PREFIXES
        .iter()
        .find(|(p, _)| region.starts_with(p))
        .map(|(_, r)| *r)
}

fn location(code: &str) -> Option<(f64, f64)> {
    CLOUDFLARE_REGIONS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, lat, lon)| (*lat, *lon))
}

/// Great-circle distance in kilometres.
fn distance(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// The pool name of an environment.
pub fn pool_name(env: &str) -> String {
    format!("portal-{env}")
}

/// The load balancing of `env`, whose origin is `origin`: its monitor and pool, and, when
/// `env` owns the domain, the load balancers over every region of `members` (the domain's
/// primary first, then its replicas by name).
pub fn resolve(env: &Environment, origin: &str, members: Option<&[&Environment]>) -> LoadBalancing {
    let spec = &env.spec;
    let check_region = cloudflare_region(&spec.region);
    let here = check_region.and_then(location);
    LoadBalancing {
        monitor: Monitor {
            description: format!("portal {} origin health ({})", env.name, spec.region),
            r#type: "https",
            method: "GET",
            path: "/api/health",
            expected_codes: "200",
            host: spec.domain.clone(),
            interval: 60,
            timeout: 5,
            retries: 2,
            consecutive_down: 2,
            consecutive_up: 2,
        },
        pool: Pool {
            name: pool_name(&env.name),
            description: format!("portal {} ({})", env.name, spec.region),
            origin_name: env.name.clone(),
            address: origin.to_owned(),
            check_region,
            latitude: here.map(|x| x.0),
            longitude: here.map(|x| x.1),
        },
        balancers: members.map(|members| balancers(env, members)),
    }
}

/// The primary's load balancers over every region of `members` (primary first).
fn balancers(env: &Environment, members: &[&Environment]) -> Balancers {
    let domain = &env.spec.domain;
    Balancers {
        hostnames: vec![
            ("apex", domain.clone()),
            ("wildcard", format!("*.{domain}")),
        ],
        fallback_pool: pool_name(&env.name),
        pools: members.iter().map(|e| pool_name(&e.name)).collect(),
        region_pools: region_pools(members),
    }
}

/// For every CloudFlare region, the pools of `members`, nearest first; ties (the same
/// CloudFlare region) keep the order of `members`, so the primary first.
fn region_pools(members: &[&Environment]) -> BTreeMap<&'static str, Vec<String>> {
    CLOUDFLARE_REGIONS
        .iter()
        .map(|(code, lat, lon)| {
            let mut ordered: Vec<(usize, f64, String)> = members
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let d = cloudflare_region(&e.spec.region)
                        .and_then(location)
                        .map_or(f64::MAX, |at| distance((*lat, *lon), at));
                    (i, d, pool_name(&e.name))
                })
                .collect();
            ordered.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            (*code, ordered.into_iter().map(|x| x.2).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_regions_map_to_cloudflare_regions() {
        assert_eq!(cloudflare_region("us-east-1"), Some("ENAM"));
        assert_eq!(cloudflare_region("us-west-2"), Some("WNAM"));
        assert_eq!(cloudflare_region("eu-west-1"), Some("WEU"));
        assert_eq!(cloudflare_region("ap-southeast-1"), Some("SEAS"));
        assert_eq!(cloudflare_region("ap-southeast-2"), Some("OC"));
        assert_eq!(cloudflare_region("zz-nowhere-1"), None);
    }

    #[test]
    fn distances_are_plausible() {
        let ashburn = location("ENAM").unwrap();
        let frankfurt = location("WEU").unwrap();
        let d = distance(ashburn, frankfurt);
        assert!((6000.0..7000.0).contains(&d), "{d}");
        assert_eq!(distance(ashburn, ashburn), 0.0);
    }
}
