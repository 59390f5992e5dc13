//! The CloudFlare edge of an environment (DESIGN §4, `cloudflare/`): which resources this
//! environment's Terraform owns and every value they carry.
//!
//! Several environments may share one CloudFlare zone (the shipped specs all do) and a
//! primary and its replicas share one domain. Terraform states must never fight over a
//! resource, so each resource has exactly one owner:
//!
//! * zone-wide resources (zone settings, and the zone's entry-point rulesets for cache
//!   rules, response headers and rate limiting, of which CloudFlare allows one per phase)
//!   belong to the **zone owner**: of the environments with the same `zoneId`, the one of
//!   the highest tier, a primary before a replica, then by name;
//! * the proxied DNS records of a domain (apex and wildcard) belong to the environment that
//!   serves the domain, or, when a primary and its replicas serve the same domain, to the
//!   primary;
//! * when a primary and its replicas serve the same domain, the primary also owns the two
//!   load balancers (apex and wildcard, geo steering), and **every** region owns the health
//!   monitor and the pool of its own origin. The primary finds the replicas' pools by name.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::model::network::Route;
use crate::spec::{Environment, Role, Tier};

pub mod rules;

/// The provider the Terraform JSON is written for (the schema in
/// `schemas/cloudflare/provider-v5.schema.json` is generated from the same release).
pub const PROVIDER_SOURCE: &str = "cloudflare/cloudflare";
pub const PROVIDER_VERSION: &str = "~> 5.22";
pub const TERRAFORM_VERSION: &str = ">= 1.5.0";

/// Security response headers (DESIGN §4; values from the architecture notes).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';";
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// File extensions served as long-lived static assets.
pub const STATIC_EXTENSIONS: [&str; 14] = [
    "avif", "css", "gif", "ico", "jpeg", "jpg", "js", "map", "png", "svg", "ttf", "webp", "woff",
    "woff2",
];

#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    pub zone_id: String,
    pub domain: String,
    /// Where this environment's proxied records and pool point: `spec.cloudflare.originHost`,
    /// by default `origin-<region>.<domain>`.
    pub origin_host: String,
    /// The environment that owns the zone-wide resources (maybe this one).
    pub zone_owner: String,
    pub variables: Variables,
    /// Proxied DNS records, when this environment owns its domain's records.
    pub dns_records: Vec<DnsRecord>,
    /// When this environment owns the zone (its settings and rulesets): whose hosts and
    /// session cookies the zone's rules serve. The rules also follow the system's routes, so
    /// they are built with those: [`Edge::zone_config`].
    pub zone: Option<rules::Scope>,
    /// Pool, monitor and maybe the load balancers, when the domain is served by several regions.
    pub load_balancing: Option<LoadBalancing>,
}

impl Edge {
    /// The zone settings and rulesets, when this environment owns the zone, for the system's
    /// `routes` (`Model::routes`). The edge is resolved before the services, which is why
    /// the routes come in here.
    pub fn zone_config(&self, routes: &[Route]) -> Option<ZoneConfig> {
        self.zone
            .as_ref()
            .map(|scope| rules::zone_config(scope, &rules::Paths::of(routes)))
    }
}

/// Terraform variables: secrets and account facts the spec does not hold.
#[derive(Debug, Clone, Serialize)]
pub struct Variables {
    pub api_token: &'static str,
    /// Load-balancer pools and monitors are account resources.
    pub account_id: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DnsRecord {
    /// Terraform resource name.
    pub key: &'static str,
    pub name: String,
    pub r#type: &'static str,
    pub content: String,
    pub proxied: bool,
    /// 1 = automatic, required for proxied records.
    pub ttl: u32,
    pub comment: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ZoneConfig {
    /// `(setting_id, value)`, in order.
    pub settings: Vec<(&'static str, &'static str)>,
    pub cache_rules: Vec<CacheRule>,
    /// Which responses get the headers: those of the portal's hosts.
    pub headers_expression: String,
    /// `(header, value)`, set on every response of the portal's hosts.
    pub headers: Vec<(&'static str, &'static str)>,
    /// On the API paths; none when the system has no routes.
    pub rate_limit: Option<RateLimit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CacheRule {
    pub r#ref: &'static str,
    pub description: String,
    pub expression: String,
    pub ttl: CacheTtl,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub enum CacheTtl {
    /// Cached for these many seconds at the edge and in the browser, whatever the origin
    /// says: only for content that is the same for every user (fingerprinted assets).
    Fixed { edge: u32, browser: u32 },
    /// Cached only when and as long as the origin's `Cache-Control` allows (`public`,
    /// `s-maxage`/`max-age`); `private`, `no-store` or no header at all: not cached.
    Origin,
    /// Never cached.
    Bypass,
}

#[derive(Debug, Clone, Serialize)]
pub struct RateLimit {
    pub r#ref: &'static str,
    pub description: String,
    pub expression: String,
    pub characteristics: Vec<&'static str>,
    pub period: u32,
    pub requests_per_period: u32,
    pub mitigation_timeout: u32,
}

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

fn tier_rank(t: Tier) -> u8 {
    match t {
        Tier::Dev => 0,
        Tier::Staging => 1,
        Tier::Prod => 2,
    }
}

/// The origin host of an environment: `spec.cloudflare.originHost`, by default
/// `origin-<region>.<domain>`.
pub fn origin_host(env: &Environment) -> String {
    env.spec
        .cloudflare
        .origin_host
        .clone()
        .unwrap_or_else(|| format!("origin-{}.{}", env.spec.region, env.spec.domain))
}

/// The portal domains and session cookies of every environment in `env`'s zone: the zone
/// owner's rules serve them all (CloudFlare allows one entry-point ruleset per phase).
fn zone_scope(all: &BTreeMap<&str, &Environment>, env: &Environment) -> rules::Scope {
    let in_zone = || {
        all.values()
            .filter(|e| e.spec.cloudflare.zone_id == env.spec.cloudflare.zone_id)
    };
    let mut domains: Vec<String> = in_zone().map(|e| e.spec.domain.clone()).collect();
    let mut session_cookies: Vec<String> = in_zone()
        .map(|e| e.spec.cloudflare.session_cookie().to_owned())
        .collect();
    domains.sort();
    domains.dedup();
    session_cookies.sort();
    session_cookies.dedup();
    rules::Scope {
        domains,
        session_cookies,
    }
}

/// The pool name of an environment.
pub fn pool_name(env: &str) -> String {
    format!("portal-{env}")
}

/// Resolves the edge of `env`. `peers` are the other environments of the workspace (any
/// order; `env` itself may be among them); an empty slice renders `env` as if alone with
/// its primary.
pub fn resolve(
    env: &Environment,
    primary: Option<&Environment>,
    peers: &[&Environment],
) -> Result<Edge, Vec<Diagnostic>> {
    let spec = &env.spec;
    let mut all: BTreeMap<&str, &Environment> = BTreeMap::new();
    all.insert(&env.name, env);
    if let Some(p) = primary {
        all.insert(&p.name, p);
    }
    for p in peers {
        all.entry(&p.name).or_insert(p);
    }
    let mut problems = Vec::new();

    // Zone owner: highest tier, primary before replica, then by name.
    let zone_owner = all
        .values()
        .filter(|e| e.spec.cloudflare.zone_id == spec.cloudflare.zone_id)
        .min_by_key(|e| {
            (
                std::cmp::Reverse(tier_rank(e.spec.tier)),
                e.spec.role != Role::Primary,
                e.name.clone(),
            )
        })
        .map_or_else(|| env.name.clone(), |e| e.name.clone());

    // The group serving this domain: a primary and its replicas, nothing else.
    let group: Vec<&Environment> = all
        .values()
        .copied()
        .filter(|e| e.spec.domain == spec.domain)
        .collect();
    let group_primary = match spec.role {
        Role::Primary => env.name.clone(),
        Role::Replica => spec.replica_of.clone().unwrap_or_default(),
    };
    for other in &group {
        let belongs = other.name == group_primary
            || other.spec.replica_of.as_deref() == Some(group_primary.as_str());
        if !belongs {
            problems.push(
                env.diagnostic(
                    "/spec/domain",
                    format!(
                        "environment '{}' serves the same domain '{}'; only a primary and its replicas may share a domain",
                        other.name, spec.domain
                    ),
                )
                .with_hint(Some("give each environment its own domain".into())),
            );
        } else if other.spec.cloudflare.zone_id != spec.cloudflare.zone_id {
            problems.push(env.diagnostic(
                "/spec/cloudflare/zoneId",
                format!(
                    "environment '{}' serves the same domain from another zone ({}); one domain lives in one zone",
                    other.name, other.spec.cloudflare.zone_id
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut members: Vec<&Environment> = group.clone();
    members.sort_by_key(|e| (e.name != group_primary, e.name.clone()));
    let multi_region = members.len() > 1;
    let owns_domain = env.name == group_primary;

    let origin = origin_host(env);
    let domain = spec.domain.clone();
    let comment = format!("managed by portalgen ({})", env.name);
    let dns_records = if owns_domain {
        vec![
            DnsRecord {
                key: "apex",
                name: domain.clone(),
                r#type: "CNAME",
                content: origin.clone(),
                proxied: true,
                ttl: 1,
                comment: comment.clone(),
            },
            DnsRecord {
                key: "wildcard",
                name: format!("*.{domain}"),
                r#type: "CNAME",
                content: origin.clone(),
                proxied: true,
                ttl: 1,
                comment,
            },
        ]
    } else {
        Vec::new()
    };

    let zone = (zone_owner == env.name).then(|| zone_scope(&all, env));

    let load_balancing = multi_region.then(|| {
        let check_region = cloudflare_region(&spec.region);
        let here = check_region.and_then(location);
        let balancers = owns_domain.then(|| {
            let pools: Vec<String> = members.iter().map(|e| pool_name(&e.name)).collect();
            let region_pools = CLOUDFLARE_REGIONS
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
                    // Nearest first; ties (same CloudFlare region) keep the primary first.
                    ordered.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                    (*code, ordered.into_iter().map(|x| x.2).collect())
                })
                .collect();
            Balancers {
                hostnames: vec![
                    ("apex", domain.clone()),
                    ("wildcard", format!("*.{domain}")),
                ],
                fallback_pool: pool_name(&env.name),
                pools,
                region_pools,
            }
        });
        LoadBalancing {
            monitor: Monitor {
                description: format!("portal {} origin health ({})", env.name, spec.region),
                r#type: "https",
                method: "GET",
                path: "/api/health",
                expected_codes: "200",
                host: domain.clone(),
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
                address: origin.clone(),
                check_region,
                latitude: here.map(|x| x.0),
                longitude: here.map(|x| x.1),
            },
            balancers,
        }
    });

    Ok(Edge {
        zone_id: spec.cloudflare.zone_id.clone(),
        domain,
        origin_host: origin,
        zone_owner,
        variables: Variables {
            api_token: "cloudflare_api_token",
            account_id: multi_region.then_some("cloudflare_account_id"),
        },
        dns_records,
        zone,
        load_balancing,
    })
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
