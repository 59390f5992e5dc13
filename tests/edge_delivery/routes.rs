//! CloudFlare cache and rate-limit rules follow the system's routes (issue 12): every routed
//! prefix is an API path, in the order the mesh matches the routes, then the catch-all's
//! `/api/`; static assets and the `/app` bypass only with a service on `/`.

use super::*;

/// `starts_with(<path>, "<prefix>")`, as the rules test a path prefix.
fn starts(prefix: &str) -> String {
    format!("starts_with(http.request.uri.path, \"{prefix}\")")
}

/// The one rate-limit rule of a rendered tree.
fn rate_limit(tree: &BTreeMap<String, Vec<u8>>) -> Value {
    let doc = json(tree, "cloudflare/rate-limiting.tf.json");
    let rules = doc["resource"]["cloudflare_ruleset"]["rate_limiting"]["rules"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rules.len(), 1, "{rules:?}");
    rules[0].clone()
}

fn expression(rule: &Value) -> &str {
    rule["expression"].as_str().unwrap()
}

/// Where each of `needles` occurs in `haystack`; panics naming the first that does not.
fn positions(haystack: &str, needles: &[String]) -> Vec<usize> {
    needles
        .iter()
        .map(|n| {
            haystack
                .find(n.as_str())
                .unwrap_or_else(|| panic!("{n} not in {haystack}"))
        })
        .collect()
}

/// A system file of `services`, each `(name, routes)`, on ports 3000, 3001, …
fn system(services: &[(&str, &[&str])]) -> String {
    let mut text = String::from(
        "apiVersion: portalgen.dev/v1alpha1\nkind: System\nmetadata:\n  name: shop\nspec:\n  services:\n",
    );
    for (i, (name, routes)) in services.iter().enumerate() {
        let routes: Vec<String> = routes.iter().map(|r| format!("\"{r}\"")).collect();
        text.push_str(&format!(
            "    - name: {name}\n      image: registry.example.com/shop/{name}\n      port: {}\n      routes: [{}]\n",
            3000 + i,
            routes.join(", ")
        ));
    }
    text
}

/// `system` rendered with the environments `envs` (all in one zone); the trees by name.
fn render_system(
    system: &str,
    envs: &[(&str, &str)],
) -> (Scratch, BTreeMap<String, BTreeMap<String, Vec<u8>>>) {
    let s = Scratch::new();
    std::fs::write(s.root().join("portalgen.yaml"), system).unwrap();
    for (name, tier) in envs {
        s.write_env(name, &common::minimal_spec(name, tier, 2));
    }
    let out = s.root().join("out");
    render_all(&mut s.cmd(), &out);
    let trees = envs
        .iter()
        .map(|(name, _)| (name.to_string(), read_tree(&out.join(name))))
        .collect();
    (s, trees)
}

#[test]
fn the_microservices_prod_edge_names_the_auth_route_and_the_gateways_api() {
    let out = tempfile::tempdir().unwrap();
    portalgen()
        .args([
            "render",
            "--root",
            "examples/microservices",
            "--all",
            "--quiet",
        ])
        .arg("--out")
        .arg(out.path())
        .assert()
        .success();
    let prod = read_tree(&out.path().join("prod"));
    // api-gateway takes "/", auth-service "/api/auth": the longer prefix first, as routed.
    let api = format!("({} or {})", starts("/api/auth"), starts("/api/"));
    let rules = cache_rules(&prod);
    assert_eq!(
        rules.keys().map(String::as_str).collect::<Vec<_>>(),
        ["api_get", "app_bypass", "static_assets"]
    );
    let get = expression(&rules["api_get"]);
    assert!(
        get.contains(&format!(
            "(http.request.method eq \"GET\") and {api} and not any("
        )),
        "{get}"
    );
    assert!(
        get.ends_with("not (http.cookie contains \"portal_session=\")"),
        "{get}"
    );
    assert_eq!(
        rules["api_get"]["description"],
        "GET /api/auth*, /api/*: cached only as the origin's Cache-Control allows; never with a session cookie or Authorization"
    );
    let limit = rate_limit(&prod);
    assert!(
        expression(&limit).ends_with(&format!(") and {api}")),
        "{limit}"
    );
    assert!(limit["description"]
        .as_str()
        .unwrap()
        .starts_with("/api/auth, /api/: at most 600 requests"));
    // dev and staging share prod's zone: prod owns the rulesets.
    for env in ["dev", "staging"] {
        let tree = read_tree(&out.path().join(env));
        assert!(
            !tree.contains_key("cloudflare/cache-rules.tf.json"),
            "{env}"
        );
        assert!(
            !tree.contains_key("cloudflare/rate-limiting.tf.json"),
            "{env}"
        );
    }
}

#[test]
fn several_routed_prefixes_are_listed_in_routing_order_in_both_rulesets() {
    let text = system(&[
        ("web", &["/"]),
        ("orders", &["/orders", "/api/orders/v2"]),
        ("users", &["/api/users"]),
        ("auth", &["/auth"]),
        ("carts", &["/cart"]),
    ]);
    let (_s, trees) = render_system(&text, &[("shop", "prod")]);
    let tree = &trees["shop"];
    // Longest first; "/auth" and "/cart" tie and keep the system file's order; the
    // catch-all's API last.
    let order: Vec<String> = [
        "/api/orders/v2",
        "/api/users",
        "/orders",
        "/auth",
        "/cart",
        "/api/",
    ]
    .iter()
    .map(|p| starts(p))
    .collect();
    let api = format!("({})", order.join(" or "));
    let rules = cache_rules(tree);
    let get = expression(&rules["api_get"]);
    assert!(get.contains(&format!(" and {api} and ")), "{get}");
    let limit = rate_limit(tree);
    assert!(
        expression(&limit).ends_with(&format!(" and {api}")),
        "{limit}"
    );
    // Five paths named, then how many more; the expression has them all.
    assert_eq!(
        limit["description"],
        "/api/orders/v2, /api/users, /orders, /auth, /cart, 1 more: at most 600 requests a minute per client IP and data center, then blocked for 10 minutes"
    );
    // The cache rules keep their order: the /app bypass last, so that it wins.
    let doc = json(tree, "cloudflare/cache-rules.tf.json");
    let refs: Vec<&str> = doc["resource"]["cloudflare_ruleset"]["cache_rules"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ref"].as_str().unwrap())
        .collect();
    assert_eq!(refs, ["static_assets", "api_get", "app_bypass"]);

    // The same system with its services in another order: the same prefixes in the same
    // order, except the tie, which follows the file (as the mesh does).
    let reordered = system(&[
        ("carts", &["/cart"]),
        ("users", &["/api/users"]),
        ("auth", &["/auth"]),
        ("orders", &["/orders", "/api/orders/v2"]),
        ("web", &["/"]),
    ]);
    let (_s, again) = render_system(&reordered, &[("shop", "prod")]);
    let get = expression(&cache_rules(&again["shop"])["api_get"]).to_owned();
    let mut swapped = order.clone();
    swapped.swap(3, 4);
    let at = positions(&get, &swapped);
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{get}");
}

#[test]
fn without_a_service_on_slash_only_the_routed_apis_get_rules() {
    // No catch-all: no static-asset rule, no /app bypass, no conventional /api/.
    let text = system(&[("orders", &["/orders"]), ("billing", &["/api"])]);
    let (_s, trees) = render_system(&text, &[("shop", "prod")]);
    let rules = cache_rules(&trees["shop"]);
    assert_eq!(rules.keys().collect::<Vec<_>>(), ["api_get"]);
    let api = format!("({} or {})", starts("/orders"), starts("/api"));
    let get = expression(&rules["api_get"]);
    assert!(get.contains(&format!(" and {api} and ")), "{get}");
    assert!(!get.contains(&starts("/api/")), "{get}");
    // Still held to the credential bypass, though no term names /api/.
    assert!(get.contains("not any(lower(http.request.headers.names[*])[*] eq \"authorization\")"));
    assert!(expression(&rate_limit(&trees["shop"])).ends_with(&format!(" and {api}")));

    // A routed /api beside a catch-all takes all of /api/: the catch-all adds nothing.
    let text = system(&[("web", &["/"]), ("api", &["/api"])]);
    let (_s, trees) = render_system(&text, &[("shop", "prod")]);
    let limit = rate_limit(&trees["shop"]);
    assert!(
        expression(&limit).ends_with(&format!(") and {}", starts("/api"))),
        "{limit}"
    );
}

/// 10 services of 5 routes each below `base(service)`, and a catch-all, served by three
/// environments of one zone (the host scope names all three domains); prod's tree and the
/// 50 routes, in routing order.
fn fifty_routes(
    base: impl Fn(&str) -> String,
) -> (Scratch, BTreeMap<String, Vec<u8>>, Vec<String>) {
    let names: Vec<String> = (0..10).map(|i| format!("service-{i:02}")).collect();
    let routes: Vec<Vec<String>> = names
        .iter()
        .map(|n| {
            let b = base(n);
            ["", "/v2", "/admin", "/files", "/events"]
                .iter()
                .map(|tail| format!("{b}{tail}"))
                .collect()
        })
        .collect();
    let routes_str: Vec<Vec<&str>> = routes
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let mut services: Vec<(&str, &[&str])> = vec![("web", &["/"])];
    for (n, r) in names.iter().zip(&routes_str) {
        services.push((n, r));
    }
    let (s, mut trees) = render_system(
        &system(&services),
        &[("dev", "dev"), ("staging", "staging"), ("prod", "prod")],
    );
    let mut all: Vec<String> = routes.into_iter().flatten().collect();
    all.sort_by_key(|r| std::cmp::Reverse(r.len()));
    (s, trees.remove("prod").unwrap(), all)
}

#[test]
fn fifty_routes_stay_under_cloudflares_expression_limit() {
    // The render checks every rule (PG-E001..E003 and the 4096 limit) before writing.
    let (_s, prod, all) = fifty_routes(|n| format!("/api/{n}"));
    assert_eq!(all.len(), 50);
    let terms: Vec<String> = all.iter().map(|r| starts(r)).collect();
    for expr in [
        expression(&cache_rules(&prod)["api_get"]).to_owned(),
        expression(&rate_limit(&prod)).to_owned(),
    ] {
        assert!(expr.len() <= 4096, "{} characters", expr.len());
        assert!(expr.contains("\"dev.example.com\" \"prod.example.com\" \"staging.example.com\""));
        // Every route named, in routing order, then the catch-all's /api/.
        let at = positions(&expr, &terms);
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{expr}");
        assert!(
            expr.contains(&format!("{} or {})", terms[49], starts("/api/"))),
            "{expr}"
        );
    }

    // Longer prefixes: all 50 terms would not fit, so the terms that a shorter prefix
    // covers go (the same paths match): the 10 bases and /api/ remain.
    let (_s, prod, all) = fifty_routes(|n| format!("/{n}-inventory-and-fulfilment"));
    let full: usize = all.iter().map(|r| starts(r).len() + 4).sum();
    assert!(full > 4096, "the case needs the shorter form ({full})");
    for expr in [
        expression(&cache_rules(&prod)["api_get"]).to_owned(),
        expression(&rate_limit(&prod)).to_owned(),
    ] {
        assert!(expr.len() <= 4096, "{} characters", expr.len());
        let bases: Vec<&String> = all.iter().filter(|r| r.ends_with("fulfilment")).collect();
        assert_eq!(bases.len(), 10);
        for r in &all {
            assert_eq!(
                expr.contains(&starts(r)),
                bases.contains(&r),
                "{r} in {expr}"
            );
        }
        assert!(expr.contains(&starts("/api/")), "{expr}");
    }
}
