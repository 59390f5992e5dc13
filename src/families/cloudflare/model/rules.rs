//! The zone's edge policy: cache rules, response headers and the rate limit, as CloudFlare
//! ruleset expressions (values from the architecture notes; the safety rules from issue 20,
//! stated in docs/edge-and-delivery.md and enforced on the output by `families::cloudflare::policy`).
//!
//! Every rule is scoped to the portal's hosts, so other sites in a shared zone keep their own
//! behaviour. A rule is one top-level conjunction (`a and b and …`), the host scope first: the
//! policy check can then prove, without a full expression parser, that the scope and the
//! credential bypass hold for every request the rule matches.

use super::{
    CacheRule, CacheTtl, RateLimit, ZoneConfig, CONTENT_SECURITY_POLICY, STATIC_EXTENSIONS,
    STRICT_TRANSPORT_SECURITY,
};

const PATH: &str = "http.request.uri.path";

/// The term that is true when a request carries an `Authorization` header (any case).
pub const AUTHORIZATION_PRESENT: &str =
    "any(lower(http.request.headers.names[*])[*] eq \"authorization\")";

/// What the zone's rules serve: every domain of the zone's portal environments (each its
/// apex and its tenants' `*.<domain>`), and every session cookie name they use.
#[derive(Debug, Clone, Default)]
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

/// The zone-wide edge policy for the portal hosts of `scope`.
pub fn zone_config(scope: &Scope) -> ZoneConfig {
    let hosts = scope.hosts();
    let extensions = STATIC_EXTENSIONS
        .iter()
        .map(|e| format!("\"{e}\""))
        .collect::<Vec<_>>()
        .join(" ");
    ZoneConfig {
        settings: vec![("min_tls_version", "1.2"), ("always_use_https", "on"), ("ssl", "strict")],
        cache_rules: vec![
            CacheRule {
                r#ref: "static_assets",
                description: "Static assets: 1 year at the edge and in the browser",
                expression: format!(
                    "{hosts} and (http.request.method in {{\"GET\" \"HEAD\"}}) and (starts_with({PATH}, \"/static/\") or {PATH}.extension in {{{extensions}}})"
                ),
                ttl: CacheTtl::Fixed {
                    edge: 31_536_000,
                    browser: 31_536_000,
                },
            },
            // The origin decides, so that `Cache-Control: private` or `no-store` is never
            // overridden (an edge TTL in `override_origin` mode ignores both); a request with
            // a session or credentials is never matched at all, so no user's response is
            // stored or served to another.
            CacheRule {
                r#ref: "api_get",
                description: "GET /api/*: cached only as the origin's Cache-Control allows; never with a session cookie or Authorization",
                expression: format!(
                    "{hosts} and (http.request.method eq \"GET\") and starts_with({PATH}, \"/api/\") and not {AUTHORIZATION_PRESENT} and not {}",
                    scope.session_cookie_present()
                ),
                ttl: CacheTtl::Origin,
            },
            // Last, so that it wins over the rules above for anything under /app/.
            CacheRule {
                r#ref: "app_bypass",
                description: "/app/*: never cached",
                expression: format!(
                    "{hosts} and (({PATH} eq \"/app\") or starts_with({PATH}, \"/app/\"))"
                ),
                ttl: CacheTtl::Bypass,
            },
        ],
        headers_expression: hosts.clone(),
        headers: vec![
            ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY),
        ],
        rate_limit: RateLimit {
            r#ref: "api_rate_limit",
            description: "/api/: at most 600 requests a minute per client IP and data center, then blocked for 10 minutes",
            expression: format!("{hosts} and starts_with({PATH}, \"/api/\")"),
            characteristics: vec!["cf.colo.id", "ip.src"],
            period: 60,
            requests_per_period: 600,
            mitigation_timeout: 600,
        },
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

    #[test]
    fn hosts_are_the_apexes_and_the_hosts_below_them() {
        assert_eq!(
            scope().hosts(),
            "(http.host in {\"a.example.com\" \"example.com\"} or ends_with(http.host, \".a.example.com\") or ends_with(http.host, \".example.com\"))"
        );
    }

    #[test]
    fn the_api_rule_bypasses_every_session_cookie_and_authorization() {
        let z = zone_config(&scope());
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
