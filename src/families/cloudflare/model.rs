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

pub mod load_balancing;
pub mod rules;

pub use load_balancing::{Balancers, LoadBalancing, Monitor, Pool};

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
    /// The origin record the tree makes, DNS only, for the cluster's ingress load balancer
    /// (external-dns, from the ingress gateway Service's annotation): the default origin
    /// host. `None` when `spec.cloudflare.originHost` names an origin of the team's.
    pub origin_record: Option<String>,
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

/// Resolves the edge of `env`. `peers` are the other environments of the workspace (any
/// order; `env` itself may be among them); an empty slice renders `env` as if alone with
/// its primary.
pub fn resolve(
    env: &Environment,
    primary: Option<&Environment>,
    peers: &[&Environment],
) -> Result<Edge, Vec<Diagnostic>> {
    let spec = &env.spec;
    let all = by_name(env, primary, peers);
    let zone_owner = zone_owner(&all, env);
    let group = DomainGroup::of(&all, env)?;
    let multi_region = group.members.len() > 1;
    let owns_domain = env.name == group.primary;

    let origin = origin_host(env);
    let dns_records = if owns_domain {
        dns_records(env, &origin)
    } else {
        Vec::new()
    };
    let zone = (zone_owner == env.name).then(|| zone_scope(&all, env));
    let load_balancing = multi_region.then(|| {
        let members = owns_domain.then_some(group.members.as_slice());
        load_balancing::resolve(env, &origin, members)
    });

    Ok(Edge {
        zone_id: spec.cloudflare.zone_id.clone(),
        domain: spec.domain.clone(),
        origin_record: spec
            .cloudflare
            .origin_host
            .is_none()
            .then(|| origin.clone()),
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

/// `env`, its primary and its peers, by name; `env` and its primary win over a peer of the
/// same name.
fn by_name<'a>(
    env: &'a Environment,
    primary: Option<&'a Environment>,
    peers: &[&'a Environment],
) -> BTreeMap<&'a str, &'a Environment> {
    let mut all: BTreeMap<&str, &Environment> = BTreeMap::new();
    all.insert(&env.name, env);
    if let Some(p) = primary {
        all.insert(&p.name, p);
    }
    for p in peers {
        all.entry(&p.name).or_insert(p);
    }
    all
}

/// The owner of `env`'s zone: of the environments in it, the highest tier, a primary before
/// a replica, then by name.
fn zone_owner(all: &BTreeMap<&str, &Environment>, env: &Environment) -> String {
    all.values()
        .filter(|e| e.spec.cloudflare.zone_id == env.spec.cloudflare.zone_id)
        .min_by_key(|e| {
            (
                std::cmp::Reverse(tier_rank(e.spec.tier)),
                e.spec.role != Role::Primary,
                e.name.clone(),
            )
        })
        .map_or_else(|| env.name.clone(), |e| e.name.clone())
}

/// The environments that serve `env`'s domain: a primary and its replicas, nothing else.
struct DomainGroup<'a> {
    /// The name of the group's primary (`env` itself, or the primary it replicates).
    primary: String,
    /// The group, the primary first, then by name.
    members: Vec<&'a Environment>,
}

impl<'a> DomainGroup<'a> {
    /// The group of `env`, or why the environments that serve its domain cannot share it
    /// (one that is neither the primary nor its replica; a member in another zone).
    fn of(
        all: &BTreeMap<&str, &'a Environment>,
        env: &Environment,
    ) -> Result<DomainGroup<'a>, Vec<Diagnostic>> {
        let spec = &env.spec;
        let mut members: Vec<&Environment> = all
            .values()
            .copied()
            .filter(|e| e.spec.domain == spec.domain)
            .collect();
        let primary = match spec.role {
            Role::Primary => env.name.clone(),
            Role::Replica => spec.replica_of.clone().unwrap_or_default(),
        };
        let mut problems = Vec::new();
        for other in &members {
            let belongs =
                other.name == primary || other.spec.replica_of.as_deref() == Some(primary.as_str());
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
        members.sort_by_key(|e| (e.name != primary, e.name.clone()));
        Ok(DomainGroup { primary, members })
    }
}

/// The proxied records (apex and wildcard) of `env`'s domain, pointing at its `origin`.
fn dns_records(env: &Environment, origin: &str) -> Vec<DnsRecord> {
    let domain = &env.spec.domain;
    let comment = format!("managed by portalgen ({})", env.name);
    vec![
        DnsRecord {
            key: "apex",
            name: domain.clone(),
            r#type: "CNAME",
            content: origin.to_owned(),
            proxied: true,
            ttl: 1,
            comment: comment.clone(),
        },
        DnsRecord {
            key: "wildcard",
            name: format!("*.{domain}"),
            r#type: "CNAME",
            content: origin.to_owned(),
            proxied: true,
            ttl: 1,
            comment,
        },
    ]
}
