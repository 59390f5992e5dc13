//! The zone's edge policy: cache rules, response headers and the rate limit, as CloudFlare
//! ruleset expressions (values from the architecture notes; the safety rules from issue 20,
//! stated in docs/edge-and-delivery.md and enforced on the output by `families::cloudflare::policy`).
//!
//! Every rule is scoped to the portal's hosts, so other sites in a shared zone keep their own
//! behaviour. A rule is one top-level conjunction (`a and b and …`), the host scope first: the
//! policy check can then prove, without a full expression parser, that the scope and the
//! credential bypass hold for every request the rule matches.
//!
//! **The rules follow the system's routes** ([`Paths::of`]):
//!
//! * The **API paths** are every routed prefix other than `/`, in the order the mesh matches
//!   them (longest first, ties in the order of the system file), then `/api/` of the service
//!   on `/` (the catch-all), unless a routed prefix already takes all of `/api/`. A routed
//!   prefix `P` is matched as the mesh matches it (Istio `uri.prefix`): `starts_with(path,
//!   "P")`, which covers `P` itself and, like the mesh, `P…` (`/api/authz` for `/api/auth`).
//!   The catch-all's API is `starts_with(path, "/api/")`, the portal app's convention. Each
//!   route keeps its own term even when a shorter one covers it (`/api/auth` beside `/api/`),
//!   so the expression reads like the routing table and names every service's share, as long
//!   as it fits CloudFlare's 4096 characters; beyond that, the terms a shorter prefix covers
//!   are left out, which matches the same paths.
//! * One cache rule (`api_get`) covers all API paths: GET without credentials, cached only as
//!   the origin allows. Its settings are the same for every service, so one rule does.
//! * One rate-limit rule (`api_rate_limit`) covers all API paths with one budget per client
//!   (IP and data centre): a client's limit does not grow with the number of services the
//!   backend is split into, and CloudFlare caps rate-limiting rules per zone by plan (a
//!   handful below Enterprise), so one rule per route would stop applying after a few
//!   services. Per-service budgets need per-service limits in the system file first.
//! * The static-asset rule and the `/app` bypass belong to the catch-all (it serves the single
//!   page app): rendered only when a service takes `/`.
//!
//! The built-in system (the portal app on `/`) has the API paths `["/api/"]`: exactly the
//! rules portalgen rendered before systems existed. A system without routes has neither cache
//! nor rate-limit rules.

use serde::Serialize;

use super::{
    CacheRule, CacheTtl, RateLimit, ZoneConfig, CONTENT_SECURITY_POLICY, STATIC_EXTENSIONS,
    STRICT_TRANSPORT_SECURITY,
};
use crate::families::cloudflare::policy::MAX_EXPRESSION;
use crate::model::network::Route;

const PATH: &str = "http.request.uri.path";

/// The term that is true when a request carries an `Authorization` header (any case).
pub const AUTHORIZATION_PRESENT: &str =
    "any(lower(http.request.headers.names[*])[*] eq \"authorization\")";

/// What the zone's rules serve: every domain of the zone's portal environments (each its
/// apex and its tenants' `*.<domain>`), and every session cookie name they use.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scope {
    /// Sorted, without duplicates.
    pub domains: Vec<String>,
    /// Sorted, without duplicates.
    pub session_cookies: Vec<String>,
}

impl Scope {
    /// `(http.host in {"a" "b"} or ends_with(http.host, ".a") or …)`: the apexes and the
    /// tenant hosts below them, nothing else of the zone.
    pub fn hosts(&self) -> String {
        let apexes = self
            .domains
            .iter()
            .map(|d| format!("\"{d}\""))
            .collect::<Vec<_>>()
            .join(" ");
        let mut terms = vec![format!("http.host in {{{apexes}}}")];
        terms.extend(
            self.domains
                .iter()
                .map(|d| format!("ends_with(http.host, \".{d}\")")),
        );
        format!("({})", terms.join(" or "))
    }

    /// True when the request carries one of the session cookies. `contains "name="` also
    /// matches a longer name ending in it: that only bypasses the cache more often.
    pub fn session_cookie_present(&self) -> String {
        let terms = self
            .session_cookies
            .iter()
            .map(|c| format!("http.cookie contains \"{c}=\""))
            .collect::<Vec<_>>()
            .join(" or ");
        format!("({terms})")
    }
}

/// The API of the service on `/`, by the portal app's convention.
pub const CATCH_ALL_API: &str = "/api/";

/// Descriptions name at most this many API paths, then how many more (the expression has
/// them all).
const NAMED_IN_DESCRIPTION: usize = 5;

/// The public paths of the system, as the edge rules see them (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Paths {
    /// Whether a service takes `/`: its single page app gets the static-asset rule and the
    /// `/app` bypass.
    pub catch_all: bool,
    /// String prefixes of the API paths, in the order the mesh matches them: each routed
    /// prefix (no trailing `/`), then the catch-all's `/api/`.
    pub api: Vec<String>,
}

impl Paths {
    /// The paths of the system's routes (`Model::routes`: longest prefix first).
    pub fn of(routes: &[Route]) -> Paths {
        let catch_all = routes.iter().any(|r| r.prefix.is_none());
        let mut api: Vec<String> = routes.iter().filter_map(|r| r.prefix.clone()).collect();
        // A routed prefix of `/api/` (`/api`) takes all of it: the catch-all has none left.
        if catch_all && !api.iter().any(|p| CATCH_ALL_API.starts_with(p.as_str())) {
            api.push(CATCH_ALL_API.to_owned());
        }
        Paths { catch_all, api }
    }

    /// The term that is true on the API paths: `starts_with(path, "/api/")`, or a disjunction
    /// of such tests in parentheses. `minimal`: without the prefixes that a shorter one of the
    /// list covers (`/api/auth` beside `/api/`), which matches exactly the same paths.
    fn api_term(&self, minimal: bool) -> String {
        let covered = |p: &String| {
            minimal
                && self
                    .api
                    .iter()
                    .any(|q| q.len() < p.len() && p.starts_with(q.as_str()))
        };
        let tests: Vec<String> = self
            .api
            .iter()
            .filter(|p| !covered(p))
            .map(|p| format!("starts_with({PATH}, \"{p}\")"))
            .collect();
        match tests.as_slice() {
            [one] => one.clone(),
            _ => format!("({})", tests.join(" or ")),
        }
    }

    /// `/api/auth, /api/` (with `*` appended to each when `glob`), at most
    /// [`NAMED_IN_DESCRIPTION`] of them.
    fn named(&self, glob: &str) -> String {
        let mut names: Vec<String> = self
            .api
            .iter()
            .take(NAMED_IN_DESCRIPTION)
            .map(|p| format!("{p}{glob}"))
            .collect();
        if self.api.len() > NAMED_IN_DESCRIPTION {
            names.push(format!("{} more", self.api.len() - NAMED_IN_DESCRIPTION));
        }
        names.join(", ")
    }
}

/// The zone-wide edge policy for the portal hosts of `scope` and the system's `paths`.
pub fn zone_config(scope: &Scope, paths: &Paths) -> ZoneConfig {
    let hosts = scope.hosts();
    let extensions = STATIC_EXTENSIONS
        .iter()
        .map(|e| format!("\"{e}\""))
        .collect::<Vec<_>>()
        .join(" ");
    // Each route keeps its term while the longest rule (the cache rule) fits CloudFlare's
    // limit; beyond it, the terms that a shorter prefix covers go (the same paths match).
    let cache_expression = |api: &str| {
        format!(
            "{hosts} and (http.request.method eq \"GET\") and {api} and not {AUTHORIZATION_PRESENT} and not {}",
            scope.session_cookie_present()
        )
    };
    let api = (!paths.api.is_empty()).then(|| {
        let every = paths.api_term(false);
        if cache_expression(&every).len() <= MAX_EXPRESSION {
            every
        } else {
            paths.api_term(true)
        }
    });
    let mut cache_rules = Vec::new();
    if paths.catch_all {
        // Never an API path, even one ending in `.png`: a request with credentials is kept
        // out of the API rule, and would otherwise be stored here for a year and served to
        // the next client (`/api/users/me/avatar.png`).
        let not_api = api
            .as_ref()
            .map(|api| format!(" and not {api}"))
            .unwrap_or_default();
        cache_rules.push(CacheRule {
            r#ref: "static_assets",
            description: "Static assets: 1 year at the edge and in the browser (never an API path)".into(),
            expression: format!(
                "{hosts} and (http.request.method in {{\"GET\" \"HEAD\"}}) and (starts_with({PATH}, \"/static/\") or {PATH}.extension in {{{extensions}}}){not_api}"
            ),
            ttl: CacheTtl::Fixed {
                edge: 31_536_000,
                browser: 31_536_000,
            },
        });
    }
    if let Some(api) = &api {
        // The origin decides, so that `Cache-Control: private` or `no-store` is never
        // overridden (an edge TTL in `override_origin` mode ignores both); a request with
        // a session or credentials is never matched at all, so no user's response is
        // stored or served to another.
        cache_rules.push(CacheRule {
            r#ref: "api_get",
            description: format!(
                "GET {}: cached only as the origin's Cache-Control allows; never with a session cookie or Authorization",
                paths.named("*")
            ),
            expression: cache_expression(api),
            ttl: CacheTtl::Origin,
        });
    }
    if paths.catch_all {
        // Last, so that it wins over the rules above for anything under /app/.
        cache_rules.push(CacheRule {
            r#ref: "app_bypass",
            description: "/app/*: never cached".into(),
            expression: format!(
                "{hosts} and (({PATH} eq \"/app\") or starts_with({PATH}, \"/app/\"))"
            ),
            ttl: CacheTtl::Bypass,
        });
    }
    ZoneConfig {
        settings: vec![("min_tls_version", "1.2"), ("always_use_https", "on"), ("ssl", "strict")],
        cache_rules,
        headers_expression: hosts.clone(),
        headers: vec![
            ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY),
        ],
        rate_limit: api.map(|api| RateLimit {
            r#ref: "api_rate_limit",
            description: format!(
                "{}: at most 600 requests a minute per client IP and data center, then blocked for 10 minutes",
                paths.named("")
            ),
            expression: format!("{hosts} and {api}"),
            characteristics: vec!["cf.colo.id", "ip.src"],
            period: 60,
            requests_per_period: 600,
            mitigation_timeout: 600,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            domains: vec!["a.example.com".into(), "example.com".into()],
            session_cookies: vec!["portal_session".into(), "sid".into()],
        }
    }

    /// The built-in system's paths: the portal app on `/`.
    fn builtin() -> Paths {
        Paths {
            catch_all: true,
            api: vec![CATCH_ALL_API.into()],
        }
    }

    #[test]
    fn hosts_are_the_apexes_and_the_hosts_below_them() {
        assert_eq!(
            scope().hosts(),
            "(http.host in {\"a.example.com\" \"example.com\"} or ends_with(http.host, \".a.example.com\") or ends_with(http.host, \".example.com\"))"
        );
    }

    #[test]
    fn the_api_rule_bypasses_every_session_cookie_and_authorization() {
        let z = zone_config(&scope(), &builtin());
        let api = z.cache_rules.iter().find(|r| r.r#ref == "api_get").unwrap();
        assert!(api.expression.contains(
            "not (http.cookie contains \"portal_session=\" or http.cookie contains \"sid=\")"
        ));
        assert!(api
            .expression
            .contains(&format!("not {AUTHORIZATION_PRESENT}")));
        assert!(matches!(api.ttl, CacheTtl::Origin));
        for rule in &z.cache_rules {
            assert!(
                rule.expression.starts_with(&scope().hosts()),
                "{}",
                rule.r#ref
            );
        }
    }
}
