//! The `cloudflare/` family (DESIGN §4): Terraform JSON (`*.tf.json`) for the cloudflare
//! provider v5, one file per concern, holding only the resources this environment owns
//! (see `model` for who owns what).
//!
//! Terraform JSON is built here as `serde_json` values from the model and pretty-printed;
//! the template `cloudflare/terraform.tf.json` only lays the document out. A text template
//! would have to re-implement JSON string escaping (the CSP holds quotes) for no gain. Every
//! value comes from the model; this file only decides the shape Terraform expects.

pub mod check;
pub mod model;
pub mod policy;

use minijinja::context;
use serde_json::{json, Map, Value};

use self::model::{
    self as edge, Balancers, CacheRule, CacheTtl, Edge, LoadBalancing, Monitor, Pool, RateLimit,
    ZoneConfig,
};
use super::{no_destinations, no_syncs, Artifact, Family};
use crate::model::network::Route;
use crate::model::Model;

pub const FAMILY: Family = Family {
    name: "cloudflare",
    plan,
    check_object: None,
    check_json: Some(check::check_value),
    json_is: "Terraform JSON",
    // Terraform applies it, not Argo CD.
    syncs: no_syncs,
    destinations: no_destinations,
    cluster_kinds: &[],
};

const TEMPLATE: &str = "cloudflare/terraform.tf.json";

fn plan(model: &Model, _: &minijinja::Value, out: &mut Vec<Artifact>) {
    for (path, doc) in documents(&model.edge, &model.routes, &model.env.name) {
        let mut text = serde_json::to_string_pretty(&doc).expect("JSON values serialize");
        text.push('\n');
        out.push(Artifact {
            path: format!("cloudflare/{path}"),
            template: TEMPLATE,
            context: context! { document => text },
        });
    }
}

/// `${…}`: a Terraform reference.
fn r(expr: &str) -> Value {
    Value::String(format!("${{{expr}}}"))
}

/// Every file of the environment's edge, by name, in a stable order; the rulesets follow the
/// system's `routes` (see `model::rules`). The zone's files exist only in the zone owner's
/// tree, the load-balancing file only when several regions serve the domain.
pub fn documents(e: &Edge, routes: &[Route], env: &str) -> Vec<(&'static str, Value)> {
    let mut out = vec![("provider.tf.json", provider(e))];
    if !e.dns_records.is_empty() {
        out.push(("dns.tf.json", dns_records(e)));
    }
    if let Some(z) = &e.zone_config(routes) {
        out.push(("zone-settings.tf.json", zone_settings(e, z)));
        if !z.cache_rules.is_empty() {
            out.push(("cache-rules.tf.json", cache_rules(e, &z.cache_rules)));
        }
        out.push(("security-headers.tf.json", security_headers(e, z)));
        if let Some(rl) = &z.rate_limit {
            out.push(("rate-limiting.tf.json", rate_limiting(e, rl)));
        }
    }
    if let Some(lb) = &e.load_balancing {
        out.push(("load-balancing.tf.json", load_balancing(e, lb, env)));
    }
    out
}

/// `provider.tf.json`: the Terraform and provider versions, the provider's credentials and
/// the variables that carry what the spec does not hold (the API token, the account id).
fn provider(e: &Edge) -> Value {
    let mut variables = Map::new();
    variables.insert(
        e.variables.api_token.to_owned(),
        json!({
            "type": "string",
            "sensitive": true,
            "description": "CloudFlare API token (Zone DNS, Zone Settings, Rulesets and Load Balancing edit). Set TF_VAR_cloudflare_api_token; never commit it.",
        }),
    );
    if let Some(account) = e.variables.account_id {
        variables.insert(
            account.to_owned(),
            json!({
                "type": "string",
                "description": "CloudFlare account id that holds the load-balancer pools and monitors.",
            }),
        );
    }
    json!({
        "terraform": {
            "required_version": edge::TERRAFORM_VERSION,
            "required_providers": {
                "cloudflare": {"source": edge::PROVIDER_SOURCE, "version": edge::PROVIDER_VERSION},
            },
        },
        "provider": {"cloudflare": {"api_token": r(&format!("var.{}", e.variables.api_token))}},
        "variable": variables,
    })
}

/// `dns.tf.json`: the proxied records of the domain this environment owns.
fn dns_records(e: &Edge) -> Value {
    let mut records = Map::new();
    for d in &e.dns_records {
        records.insert(
            d.key.to_owned(),
            json!({
                "zone_id": e.zone_id,
                "name": d.name,
                "type": d.r#type,
                "content": d.content,
                "proxied": d.proxied,
                "ttl": d.ttl,
                "comment": d.comment,
            }),
        );
    }
    json!({"resource": {"cloudflare_dns_record": records}})
}

/// `zone-settings.tf.json`: one `cloudflare_zone_setting` per setting, in the model's order.
fn zone_settings(e: &Edge, z: &ZoneConfig) -> Value {
    let mut settings = Map::new();
    for (id, value) in &z.settings {
        settings.insert(
            (*id).to_owned(),
            json!({"zone_id": e.zone_id, "setting_id": id, "value": value}),
        );
    }
    json!({"resource": {"cloudflare_zone_setting": settings}})
}

/// `cache-rules.tf.json`: the zone's cache-settings ruleset, one rule per cache rule.
fn cache_rules(e: &Edge, rules: &[CacheRule]) -> Value {
    let rules = rules
        .iter()
        .map(|c| {
            json!({
                "ref": c.r#ref,
                "description": c.description,
                "expression": c.expression,
                "action": "set_cache_settings",
                "action_parameters": cache_parameters(c.ttl),
                "enabled": true,
            })
        })
        .collect();
    ruleset(
        "cache_rules",
        e,
        "portal cache rules",
        "http_request_cache_settings",
        rules,
    )
}

/// The `set_cache_settings` parameters of a cache rule's TTL policy.
fn cache_parameters(ttl: CacheTtl) -> Value {
    match ttl {
        CacheTtl::Fixed { edge, browser } => json!({
            "cache": true,
            "edge_ttl": {"mode": "override_origin", "default": edge},
            "browser_ttl": {"mode": "override_origin", "default": browser},
        }),
        CacheTtl::Origin => json!({
            "cache": true,
            "origin_cache_control": true,
            "edge_ttl": {"mode": "bypass_by_default"},
            "browser_ttl": {"mode": "respect_origin"},
        }),
        CacheTtl::Bypass => json!({"cache": false, "browser_ttl": {"mode": "bypass"}}),
    }
}

/// `security-headers.tf.json`: the response-header ruleset that sets the security headers
/// on every response of the portal's hosts.
fn security_headers(e: &Edge, z: &ZoneConfig) -> Value {
    let mut headers = Map::new();
    for (name, value) in &z.headers {
        headers.insert(
            (*name).to_owned(),
            json!({"operation": "set", "value": value}),
        );
    }
    ruleset(
        "security_headers",
        e,
        "portal security response headers",
        "http_response_headers_transform",
        vec![json!({
            "ref": "security_headers",
            "description": "Security headers on every response of the portal hosts",
            "expression": z.headers_expression,
            "action": "rewrite",
            "action_parameters": {"headers": headers},
            "enabled": true,
        })],
    )
}

/// `rate-limiting.tf.json`: the rate-limiting ruleset on the API paths.
fn rate_limiting(e: &Edge, rl: &RateLimit) -> Value {
    ruleset(
        "rate_limiting",
        e,
        "portal rate limiting",
        "http_ratelimit",
        vec![json!({
            "ref": rl.r#ref,
            "description": rl.description,
            "expression": rl.expression,
            "action": "block",
            "ratelimit": {
                "characteristics": rl.characteristics,
                "period": rl.period,
                "requests_per_period": rl.requests_per_period,
                "mitigation_timeout": rl.mitigation_timeout,
            },
            "enabled": true,
        })],
    )
}

/// `load-balancing.tf.json`: this region's health monitor and pool and, on the primary,
/// the load balancers with the lookup of the other regions' pools.
fn load_balancing(e: &Edge, lb: &LoadBalancing, env: &str) -> Value {
    let account = r(&format!(
        "var.{}",
        e.variables.account_id.unwrap_or("cloudflare_account_id")
    ));
    let mut doc = json!({
        "resource": {
            "cloudflare_load_balancer_monitor": {"origin": monitor(&account, &lb.monitor)},
            "cloudflare_load_balancer_pool": {"origin": pool(&account, &lb.pool)},
        },
    });
    if let Some(b) = &lb.balancers {
        doc["resource"]["cloudflare_load_balancer"] =
            Value::Object(balancers(e, b, &lb.pool.name, env));
        doc["data"] = json!({"cloudflare_load_balancer_pools": {"all": {"account_id": account}}});
        doc["locals"] = json!({
            "pool_ids": r(" { for p in data.cloudflare_load_balancer_pools.all.result : p.name => p.id } "),
        });
    }
    doc
}

/// The health monitor of this region's origin.
fn monitor(account: &Value, m: &Monitor) -> Value {
    json!({
        "account_id": account,
        "description": m.description,
        "type": m.r#type,
        "method": m.method,
        "path": m.path,
        "expected_codes": m.expected_codes,
        "header": {"Host": [m.host]},
        "follow_redirects": false,
        "allow_insecure": false,
        "interval": m.interval,
        "timeout": m.timeout,
        "retries": m.retries,
        "consecutive_down": m.consecutive_down,
        "consecutive_up": m.consecutive_up,
    })
}

/// The pool of this region's origin, health-checked from its CloudFlare region when known.
fn pool(account: &Value, p: &Pool) -> Value {
    let mut pool = json!({
        "account_id": account,
        "name": p.name,
        "description": p.description,
        "enabled": true,
        "minimum_origins": 1,
        "monitor": r("cloudflare_load_balancer_monitor.origin.id"),
        "origins": [{"name": p.origin_name, "address": p.address, "enabled": true, "weight": 1}],
    });
    if let Some(region) = p.check_region {
        pool["check_regions"] = json!([region]);
    }
    if let (Some(lat), Some(lon)) = (p.latitude, p.longitude) {
        pool["latitude"] = json!(lat);
        pool["longitude"] = json!(lon);
    }
    pool
}

/// The primary's load balancers (apex and wildcard, geo steering), by Terraform key.
/// `own_pool` is this environment's pool name.
fn balancers(e: &Edge, b: &Balancers, own_pool: &str, env: &str) -> Map<String, Value> {
    // This environment's pool by reference; the other regions' pools (each owned by its
    // own environment's Terraform) by name, through the account's pool list.
    let pool_ref = |name: &String| {
        if *name == own_pool {
            r("cloudflare_load_balancer_pool.origin.id")
        } else {
            r(&format!("local.pool_ids[\"{name}\"]"))
        }
    };
    let region_pools: Map<String, Value> = b
        .region_pools
        .iter()
        .map(|(code, pools)| {
            (
                (*code).to_owned(),
                Value::Array(pools.iter().map(pool_ref).collect()),
            )
        })
        .collect();
    let mut balancers = Map::new();
    for (key, host) in &b.hostnames {
        balancers.insert(
            (*key).to_owned(),
            json!({
                "zone_id": e.zone_id,
                "name": host,
                "description": format!("portal {host}: nearest healthy region (managed by portalgen, {env})"),
                "enabled": true,
                "proxied": true,
                "steering_policy": "geo",
                "default_pools": b.pools.iter().map(pool_ref).collect::<Vec<_>>(),
                "fallback_pool": pool_ref(&b.fallback_pool),
                "region_pools": region_pools,
                "session_affinity": "none",
            }),
        );
    }
    balancers
}

/// A zone entry-point ruleset of `phase` (one per phase in a zone), owned by the zone owner.
fn ruleset(key: &str, e: &Edge, name: &str, phase: &str, rules: Vec<Value>) -> Value {
    json!({"resource": {"cloudflare_ruleset": {key: {
        "zone_id": e.zone_id,
        "name": name,
        "description": format!("{name} (managed by portalgen, owner {})", e.zone_owner),
        "kind": "zone",
        "phase": phase,
        "rules": rules,
    }}}})
}
