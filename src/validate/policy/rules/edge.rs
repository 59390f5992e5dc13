//! The E rules: the CloudFlare rulesets of a rendered `cloudflare/*.tf.json` file. They are
//! checked together, by the cloudflare family's policy (`families::cloudflare::policy`),
//! which reads each ruleset expression once for all three.

use super::super::{Check, Kinds, Rule};
use crate::families::cloudflare::policy;

pub const E001: Rule = Rule {
    id: "PG-E001",
    title: "an edge cache rule that is not limited to static assets (an API: /api or any routed prefix) never matches a request with a session cookie or an Authorization header",
    rationale: "a cached response to a signed-in request is one user's data; served from the cache, it reaches the next user of the same URL",
    kinds: Kinds::Only(&["cloudflare_ruleset"]),
    checks: &[Check::Json(policy::check)],
};

pub const E002: Rule = Rule {
    id: "PG-E002",
    title: "an edge cache rule that is not limited to static assets respects the origin's Cache-Control (no override_origin TTL, origin_cache_control not off)",
    rationale: "the origin marks personal responses private or no-store; a TTL that overrides the origin caches them anyway",
    kinds: Kinds::Only(&["cloudflare_ruleset"]),
    // Checked with PG-E001, in the same pass.
    checks: &[],
};

pub const E003: Rule = Rule {
    id: "PG-E003",
    title: "every CloudFlare ruleset rule is limited to the portal's hosts (a conjunction with an http.host term)",
    rationale: "a zone can hold other sites; a rule without a host scope changes their caching, headers and rate limits too",
    kinds: Kinds::Only(&["cloudflare_ruleset"]),
    // Checked with PG-E001, in the same pass.
    checks: &[],
};
