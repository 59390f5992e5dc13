//! The `cloudflare/` and `argocd/` families, end to end through the CLI: rulesets, headers,
//! who owns which shared CloudFlare resource, the Argo CD project and applications, sync
//! waves, and the stability of tenant shards.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::{portalgen, read_tree, render_all, yaml_documents, Scratch};
use serde_json::Value;

const ENVS: [&str; 4] = ["dev", "prod-eu", "prod-us", "staging"];

/// Every shipped environment rendered into a temporary folder.
fn rendered() -> (
    tempfile::TempDir,
    BTreeMap<String, BTreeMap<String, Vec<u8>>>,
) {
    let out = tempfile::tempdir().unwrap();
    render_all(&mut portalgen(), out.path());
    let trees = ENVS
        .iter()
        .map(|e| (e.to_string(), read_tree(&out.path().join(e))))
        .collect();
    (out, trees)
}

fn json(tree: &BTreeMap<String, Vec<u8>>, path: &str) -> Value {
    let bytes = tree
        .get(path)
        .unwrap_or_else(|| panic!("{path} is not rendered"));
    serde_json::from_slice(bytes).unwrap()
}

fn yaml_docs(bytes: &[u8]) -> Vec<Value> {
    yaml_documents(std::str::from_utf8(bytes).unwrap())
}

fn yaml(tree: &BTreeMap<String, Vec<u8>>, path: &str) -> Vec<Value> {
    yaml_docs(
        tree.get(path)
            .unwrap_or_else(|| panic!("{path} is not rendered")),
    )
}

/// Every `(resource type, name)` declared in an environment's cloudflare/ files, with its body.
fn resources(tree: &BTreeMap<String, Vec<u8>>) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for (path, bytes) in tree.iter().filter(|(p, _)| p.starts_with("cloudflare/")) {
        assert!(path.ends_with(".tf.json"), "{path}");
        let doc: Value = serde_json::from_slice(bytes).unwrap();
        for (ty, named) in doc
            .get("resource")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            for (name, body) in named.as_object().unwrap() {
                assert!(
                    out.insert((ty.clone(), name.clone()), body.clone())
                        .is_none(),
                    "{ty}.{name} twice"
                );
            }
        }
    }
    out
}

#[test]
fn every_environment_renders_all_five_families_or_its_share_of_the_edge() {
    let (_out, trees) = rendered();
    for (env, tree) in &trees {
        let families: BTreeSet<&str> = tree.keys().map(|p| p.split('/').next().unwrap()).collect();
        for family in ["kubernetes", "cloudflare", "argocd"] {
            assert!(
                families.contains(family),
                "{env}: no {family}/ in {families:?}"
            );
        }
        let provider = json(tree, "cloudflare/provider.tf.json");
        let pin = &provider["terraform"]["required_providers"]["cloudflare"];
        assert_eq!(pin["source"], "cloudflare/cloudflare", "{env}");
        assert!(
            pin["version"].as_str().unwrap().starts_with("~> 5."),
            "{env}: {pin}"
        );
        assert_eq!(
            provider["provider"]["cloudflare"]["api_token"],
            "${var.cloudflare_api_token}"
        );
        assert_eq!(
            provider["variable"]["cloudflare_api_token"]["sensitive"],
            true
        );
        assert!(provider["variable"]["cloudflare_api_token"]
            .get("default")
            .is_none());
        // The zone id of every resource is the spec's, and no file holds a token value.
        for ((ty, name), body) in resources(tree) {
            if let Some(zone) = body.get("zone_id") {
                assert_eq!(
                    zone, "0123456789abcdef0123456789abcdef",
                    "{env} {ty}.{name}"
                );
            }
        }
        for (path, bytes) in tree.iter().filter(|(p, _)| p.starts_with("cloudflare/")) {
            let text = std::str::from_utf8(bytes).unwrap();
            if !path.ends_with("provider.tf.json") {
                assert!(
                    !text.contains("api_token"),
                    "{env}/{path}: the token is only the provider's variable"
                );
            }
        }
    }
}

#[test]
fn cache_rules_cache_static_and_api_and_bypass_app() {
    let (_out, trees) = rendered();
    let doc = json(&trees["prod-us"], "cloudflare/cache-rules.tf.json");
    let set = &doc["resource"]["cloudflare_ruleset"]["cache_rules"];
    assert_eq!(set["kind"], "zone");
    assert_eq!(set["phase"], "http_request_cache_settings");
    let rules = set["rules"].as_array().unwrap();
    let by_ref: BTreeMap<&str, &Value> = rules
        .iter()
        .map(|r| (r["ref"].as_str().unwrap(), r))
        .collect();
    let ttl = |r: &Value| {
        let p = &r["action_parameters"];
        (
            p["cache"].clone(),
            p["edge_ttl"]["default"].clone(),
            p["browser_ttl"]["default"].clone(),
        )
    };

    let static_rule = by_ref["static_assets"];
    assert_eq!(
        ttl(static_rule),
        (true.into(), 31_536_000.into(), 31_536_000.into())
    );
    assert_eq!(
        static_rule["action_parameters"]["edge_ttl"]["mode"],
        "override_origin"
    );
    let expr = static_rule["expression"].as_str().unwrap();
    assert!(
        expr.contains("\"/static/\"") && expr.contains("\"css\"") && expr.contains("\"js\""),
        "{expr}"
    );

    let api = by_ref["api_get"];
    // The origin decides how long (its Cache-Control), so private/no-store are honoured.
    let p = &api["action_parameters"];
    assert_eq!(p["cache"], true);
    assert_eq!(p["origin_cache_control"], true);
    assert_eq!(p["edge_ttl"]["mode"], "bypass_by_default");
    assert_eq!(p["browser_ttl"]["mode"], "respect_origin");
    let expr = api["expression"].as_str().unwrap();
    assert!(
        expr.contains("not any(lower(http.request.headers.names[*])[*] eq \"authorization\")"),
        "{expr}"
    );
    assert!(
        expr.contains("not (http.cookie contains \"portal_session=\")"),
        "{expr}"
    );
    assert!(expr.contains("http.request.method eq \"GET\""), "{expr}");
    assert!(
        expr.contains("starts_with(http.request.uri.path, \"/api/\")"),
        "{expr}"
    );

    let app = by_ref["app_bypass"];
    assert_eq!(app["action_parameters"]["cache"], false);
    assert!(app["expression"].as_str().unwrap().contains("\"/app/\""));
    // Later cache rules win: the bypass is last, so nothing under /app/ is ever cached.
    assert_eq!(rules.last().unwrap()["ref"], "app_bypass");
    assert!(rules.iter().all(|r| r["action"] == "set_cache_settings"));
}

#[test]
fn security_headers_rate_limit_and_tls_settings() {
    let (_out, trees) = rendered();
    let tree = &trees["prod-us"];
    let doc = json(tree, "cloudflare/security-headers.tf.json");
    let set = &doc["resource"]["cloudflare_ruleset"]["security_headers"];
    assert_eq!(set["phase"], "http_response_headers_transform");
    let rule = &set["rules"][0];
    assert_eq!(rule["action"], "rewrite");
    assert!(
        rule["expression"]
            .as_str()
            .unwrap()
            .starts_with("(http.host in {"),
        "{}",
        rule["expression"]
    );
    let headers = rule["action_parameters"]["headers"].as_object().unwrap();
    let value = |h: &str| {
        assert_eq!(headers[h]["operation"], "set", "{h}");
        headers[h]["value"].as_str().unwrap().to_owned()
    };
    assert_eq!(value("X-Frame-Options"), "DENY");
    assert_eq!(value("X-Content-Type-Options"), "nosniff");
    assert_eq!(
        value("Strict-Transport-Security"),
        "max-age=31536000; includeSubDomains"
    );
    let csp = value("Content-Security-Policy");
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert_eq!(headers.len(), 4);

    let doc = json(tree, "cloudflare/rate-limiting.tf.json");
    let set = &doc["resource"]["cloudflare_ruleset"]["rate_limiting"];
    assert_eq!(set["phase"], "http_ratelimit");
    let rule = &set["rules"][0];
    assert_eq!(rule["action"], "block");
    assert!(rule["expression"].as_str().unwrap().contains("\"/api/\""));
    let rl = &rule["ratelimit"];
    assert_eq!(
        rl["characteristics"],
        serde_json::json!(["cf.colo.id", "ip.src"])
    );
    assert!(rl["period"].as_u64().unwrap() > 0 && rl["requests_per_period"].as_u64().unwrap() > 0);

    let doc = json(tree, "cloudflare/zone-settings.tf.json");
    let settings: BTreeMap<&str, &str> = doc["resource"]["cloudflare_zone_setting"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| {
            (
                s["setting_id"].as_str().unwrap(),
                s["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(settings["min_tls_version"], "1.2");
    assert_eq!(settings["always_use_https"], "on");
}

#[test]
fn shared_zone_and_domain_resources_have_exactly_one_owner() {
    let (_out, trees) = rendered();
    // Zone-wide resources (one entry-point ruleset per phase, one value per setting) and
    // hostnames: declared by exactly one environment of the shared zone.
    let mut owners: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (env, tree) in &trees {
        for ((ty, _), body) in resources(tree) {
            let key = match ty.as_str() {
                "cloudflare_ruleset" => format!("ruleset {}", body["phase"]),
                "cloudflare_zone_setting" => format!("setting {}", body["setting_id"]),
                "cloudflare_dns_record" | "cloudflare_load_balancer" => {
                    format!("hostname {} {}", ty, body["name"])
                }
                "cloudflare_load_balancer_pool" => format!("pool {}", body["name"]),
                _ => continue,
            };
            owners.entry(key).or_default().push(env);
        }
    }
    for (key, envs) in &owners {
        assert_eq!(envs.len(), 1, "{key} is declared by {envs:?}");
    }
    assert_eq!(
        owners["ruleset \"http_request_cache_settings\""],
        ["prod-us"]
    );
    assert_eq!(owners["setting \"min_tls_version\""], ["prod-us"]);

    // Every environment has its apex and wildcard, proxied at its origin; prod-eu's come
    // through the load balancers of its primary.
    for (env, domain) in [
        ("dev", "dev.portal.example.com"),
        ("staging", "staging.portal.example.com"),
        ("prod-us", "portal.example.com"),
    ] {
        let r = resources(&trees[env]);
        let apex = &r[&("cloudflare_dns_record".into(), "apex".into())];
        let wildcard = &r[&("cloudflare_dns_record".into(), "wildcard".into())];
        assert_eq!(apex["name"], domain);
        assert_eq!(wildcard["name"], format!("*.{domain}"));
        for rec in [apex, wildcard] {
            assert_eq!(rec["proxied"], true);
            assert_eq!(
                rec["content"],
                format!("origin-us-east-1.{domain}"),
                "{env}"
            );
        }
    }
    let eu = resources(&trees["prod-eu"]);
    assert!(eu
        .keys()
        .all(|(ty, _)| ty != "cloudflare_dns_record" && ty != "cloudflare_load_balancer"));
    let eu_pool = &eu[&("cloudflare_load_balancer_pool".into(), "origin".into())];
    assert_eq!(eu_pool["name"], "portal-prod-eu");
    assert_eq!(
        eu_pool["origins"][0]["address"],
        "origin-eu-west-1.portal.example.com"
    );
    assert_eq!(eu_pool["check_regions"], serde_json::json!(["WEU"]));
    assert!(eu.contains_key(&("cloudflare_load_balancer_monitor".into(), "origin".into())));
}

#[test]
fn load_balancers_route_to_the_nearest_healthy_region() {
    let (_out, trees) = rendered();
    let doc = json(&trees["prod-us"], "cloudflare/load-balancing.tf.json");
    let own = "${cloudflare_load_balancer_pool.origin.id}";
    let eu = "${local.pool_ids[\"portal-prod-eu\"]}";
    for key in ["apex", "wildcard"] {
        let lb = &doc["resource"]["cloudflare_load_balancer"][key];
        assert_eq!(lb["steering_policy"], "geo");
        assert_eq!(lb["proxied"], true);
        assert_eq!(lb["default_pools"], serde_json::json!([own, eu]));
        assert_eq!(lb["fallback_pool"], own);
        let regions = &lb["region_pools"];
        assert_eq!(
            regions["WEU"],
            serde_json::json!([eu, own]),
            "Europe goes to eu-west-1 first"
        );
        assert_eq!(
            regions["ENAM"],
            serde_json::json!([own, eu]),
            "eastern North America to us-east-1 first"
        );
        assert_eq!(regions["WNAM"][0], own);
        assert_eq!(
            regions.as_object().unwrap().len(),
            13,
            "every CloudFlare region is mapped"
        );
    }
    assert_eq!(
        doc["resource"]["cloudflare_load_balancer"]["wildcard"]["name"],
        "*.portal.example.com"
    );
    let monitor = &doc["resource"]["cloudflare_load_balancer_monitor"]["origin"];
    assert_eq!(monitor["path"], "/api/health");
    assert_eq!(
        doc["resource"]["cloudflare_load_balancer_pool"]["origin"]["monitor"],
        "${cloudflare_load_balancer_monitor.origin.id}"
    );
}

/// Heads of every `${…}` reference in a JSON value: `var.x`, `local.x`, `data.T.n`, `T.n`.
fn references(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(i) = rest.find("${") {
                let expr = &rest[i + 2..];
                let end = expr.find('}').unwrap_or(expr.len());
                let inner = expr[..end].trim();
                if !inner.starts_with('{') && !inner.starts_with('[') {
                    let head: Vec<&str> =
                        inner.split(['[', ' ']).next().unwrap().split('.').collect();
                    let n = if head[0] == "data" { 3 } else { 2 };
                    out.insert(head[..n.min(head.len())].join("."));
                }
                rest = &expr[end..];
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        Value::Object(m) => m.values().for_each(|x| references(x, out)),
        _ => {}
    }
}

#[test]
fn terraform_references_resolve_within_each_environment() {
    let (_out, trees) = rendered();
    let all_pools: BTreeSet<String> = trees
        .values()
        .flat_map(|t| resources(t).into_iter())
        .filter(|((ty, _), _)| ty == "cloudflare_load_balancer_pool")
        .map(|(_, body)| body["name"].as_str().unwrap().to_owned())
        .collect();
    for (env, tree) in &trees {
        let mut declared = BTreeSet::new();
        let mut used = BTreeSet::new();
        for (path, bytes) in tree.iter().filter(|(p, _)| p.starts_with("cloudflare/")) {
            let doc: Value = serde_json::from_slice(bytes).unwrap();
            for (block, prefix) in [("variable", "var"), ("locals", "local")] {
                for name in doc
                    .get(block)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k)
                {
                    declared.insert(format!("{prefix}.{name}"));
                }
            }
            for (block, prefix) in [("resource", ""), ("data", "data.")] {
                for (ty, named) in doc
                    .get(block)
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                {
                    for name in named.as_object().unwrap().keys() {
                        declared.insert(format!("{prefix}{ty}.{name}"));
                    }
                }
            }
            references(&doc, &mut used);
            // Other regions' pools are found by name: each must be some environment's pool.
            let text = std::str::from_utf8(bytes).unwrap();
            for part in text.split("local.pool_ids[\\\"").skip(1) {
                let name = &part[..part.find("\\\"").unwrap()];
                assert!(
                    all_pools.contains(name),
                    "{env}/{path}: pool {name} is nobody's"
                );
            }
        }
        let missing: Vec<_> = used.difference(&declared).collect();
        assert!(
            missing.is_empty(),
            "{env}: undeclared references {missing:?} (declared {declared:?})"
        );
    }
}

/// The rules of the `cache_rules` ruleset of a rendered tree, by ref.
fn cache_rules(tree: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Value> {
    let doc = json(tree, "cloudflare/cache-rules.tf.json");
    doc["resource"]["cloudflare_ruleset"]["cache_rules"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["ref"].as_str().unwrap().to_owned(), r.clone()))
        .collect()
}

#[test]
fn every_edge_rule_is_scoped_to_the_zones_portal_hosts() {
    // Two portals in one zone, one with its own session cookie; the zone owner's rules
    // serve both and bypass both cookies. Another zone's portal is not among them.
    let s = Scratch::new();
    let with_cookie = |name: &str, cookie: Option<&str>| {
        let spec = common::minimal_spec(name, "prod", 3);
        match cookie {
            Some(c) => spec.replace(
                "    zoneId: 0123456789abcdef0123456789abcdef\n",
                &format!("    zoneId: 0123456789abcdef0123456789abcdef\n    sessionCookie: {c}\n"),
            ),
            None => spec,
        }
    };
    s.write_env("alpha", &with_cookie("alpha", Some("__Host-sid")));
    s.write_env("beta", &with_cookie("beta", None));
    s.write_env(
        "gamma",
        &with_cookie("gamma", None).replace(
            "0123456789abcdef0123456789abcdef",
            "fedcba9876543210fedcba9876543210",
        ),
    );
    let out = s.root().join("out");
    render_all(&mut s.cmd(), &out);
    let tree = read_tree(&out.join("alpha"));
    let hosts = "(http.host in {\"alpha.example.com\" \"beta.example.com\"} or ends_with(http.host, \".alpha.example.com\") or ends_with(http.host, \".beta.example.com\"))";
    let rules = cache_rules(&tree);
    for (r, rule) in &rules {
        let expr = rule["expression"].as_str().unwrap();
        assert!(expr.starts_with(&format!("{hosts} and ")), "{r}: {expr}");
        assert!(!expr.contains("gamma"), "{r}: {expr}");
    }
    for (file, set) in [
        ("cloudflare/security-headers.tf.json", "security_headers"),
        ("cloudflare/rate-limiting.tf.json", "rate_limiting"),
    ] {
        let doc = json(&tree, file);
        let expr = doc["resource"]["cloudflare_ruleset"][set]["rules"][0]["expression"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(expr.starts_with(hosts), "{file}: {expr}");
    }
    let api = rules["api_get"]["expression"].as_str().unwrap();
    assert!(
        api.ends_with(
            "not (http.cookie contains \"__Host-sid=\" or http.cookie contains \"portal_session=\")"
        ),
        "{api}"
    );
    // The other zone has its own owner, serving only its own portal.
    let gamma = cache_rules(&read_tree(&out.join("gamma")));
    let expr = gamma["api_get"]["expression"].as_str().unwrap();
    assert!(
        expr.starts_with("(http.host in {\"gamma.example.com\"} or ends_with(http.host, \".gamma.example.com\")) and "),
        "{expr}"
    );
    assert!(!read_tree(&out.join("beta")).contains_key("cloudflare/cache-rules.tf.json"));
}

#[test]
fn a_session_cookie_name_that_is_not_a_plain_token_is_refused_at_its_line() {
    let s = Scratch::new();
    let spec = common::minimal_spec("alpha", "prod", 3).replace(
        "    zoneId: 0123456789abcdef0123456789abcdef\n",
        "    zoneId: 0123456789abcdef0123456789abcdef\n    sessionCookie: \"sid\\\" or true\"\n",
    );
    s.write_env("alpha", &spec);
    let line = spec
        .lines()
        .position(|l| l.contains("sessionCookie"))
        .unwrap()
        + 1;
    let out = s
        .cmd()
        .args(["render", "alpha", "--out"])
        .arg(s.root().join("out"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains(&format!("alpha.yaml:{line}:")), "{stderr}");
    assert!(stderr.contains("spec.cloudflare.sessionCookie"), "{stderr}");
    assert!(!s.root().join("out").exists(), "nothing is written");
    // A typo in the key gets a did-you-mean.
    s.write_env(
        "alpha",
        &spec.replace("sessionCookie: \"sid\\\" or true\"", "sessionCookies: sid"),
    );
    let out = s.cmd().args(["validate", "alpha"]).assert().code(2);
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(stdout.contains("did you mean 'sessionCookie'"), "{stdout}");
}

#[test]
fn two_unrelated_primaries_cannot_share_a_domain() {
    let s = Scratch::new();
    let a = common::minimal_spec("alpha", "prod", 3);
    s.write_env("alpha", &a);
    s.write_env(
        "beta",
        &common::minimal_spec("beta", "prod", 3).replace("beta.example.com", "alpha.example.com"),
    );
    let out = s
        .cmd()
        .args(["render", "beta", "--out"])
        .arg(s.root().join("out"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("only a primary and its replicas may share a domain"),
        "{stderr}"
    );
    assert!(stderr.contains("beta.yaml"), "{stderr}");
}

#[test]
fn argocd_project_is_fenced_to_the_environment() {
    let (_out, trees) = rendered();
    for (env, tree) in &trees {
        let project = &yaml(tree, "argocd/project.yaml")[0];
        assert_eq!(project["kind"], "AppProject");
        assert_eq!(project["metadata"]["namespace"], "argocd");
        let spec = &project["spec"];
        assert_eq!(
            spec["sourceRepos"],
            serde_json::json!(["https://github.com/example/portal-gitops.git"])
        );
        let destinations: BTreeSet<&str> = spec["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["namespace"].as_str().unwrap())
            .collect();
        for d in spec["destinations"].as_array().unwrap() {
            assert_eq!(d["server"], "https://kubernetes.default.svc");
        }
        // Exactly the namespaces the platform and tenant objects live in.
        let mut namespaces = BTreeSet::new();
        let mut cluster_kinds = BTreeSet::new();
        for (path, bytes) in tree.iter().filter(|(p, _)| p.starts_with("kubernetes/")) {
            for doc in yaml_docs(bytes) {
                let group = doc["apiVersion"]
                    .as_str()
                    .unwrap()
                    .rsplit_once('/')
                    .map_or("", |x| x.0)
                    .to_owned();
                match doc["metadata"]["namespace"].as_str() {
                    Some(ns) => {
                        let ns = if ns.starts_with("portal-tenant-") {
                            "portal-tenant-*"
                        } else {
                            ns
                        };
                        namespaces.insert(ns.to_owned());
                    }
                    None => {
                        cluster_kinds.insert((group, doc["kind"].as_str().unwrap().to_owned()));
                    }
                }
                let _ = path;
            }
        }
        let mut expected: BTreeSet<String> = namespaces.clone();
        expected.insert("monitoring".into());
        assert_eq!(
            destinations,
            expected.iter().map(String::as_str).collect(),
            "{env}"
        );
        assert_eq!(
            destinations.contains("velero"),
            env != "dev",
            "{env}: velero only where a Schedule is rendered"
        );
        let whitelist: BTreeSet<(String, String)> = spec["clusterResourceWhitelist"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["group"].as_str().unwrap().to_owned(),
                    g["kind"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            whitelist, cluster_kinds,
            "{env}: the whitelist is exactly the rendered cluster kinds"
        );
    }
}

#[test]
fn argocd_applications_sync_every_folder_safely() {
    let (_out, trees) = rendered();
    for (env, tree) in &trees {
        let apps: Vec<Value> = tree
            .iter()
            // The folders' Applications; the operators' are Helm charts (tests/golden).
            .filter(|(p, _)| {
                p.starts_with("argocd/applications/")
                    && !p.starts_with("argocd/applications/operators/")
            })
            .flat_map(|(_, b)| yaml_docs(b))
            .collect();
        let shard_dirs: BTreeSet<String> = tree
            .keys()
            .filter_map(|p| p.strip_prefix("kubernetes/tenants/"))
            .map(|p| p.split('/').next().unwrap().to_owned())
            .collect();
        assert_eq!(
            apps.len(),
            3 + shard_dirs.len(),
            "{env}: platform, monitoring, tracing and one per shard"
        );
        let mut paths = BTreeSet::new();
        for app in &apps {
            let name = app["metadata"]["name"].as_str().unwrap();
            assert_eq!(app["metadata"]["namespace"], "argocd");
            let spec = &app["spec"];
            assert_eq!(spec["project"], format!("portal-{env}"));
            assert_eq!(spec["syncPolicy"]["automated"]["prune"], true, "{name}");
            assert_eq!(spec["syncPolicy"]["automated"]["selfHeal"], true, "{name}");
            let options: Vec<&str> = spec["syncPolicy"]["syncOptions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o.as_str().unwrap())
                .collect();
            assert!(
                options.contains(&"CreateNamespace=true") && options.contains(&"PruneLast=true"),
                "{name}"
            );
            assert_eq!(spec["revisionHistoryLimit"], 10);
            let backoff = &spec["syncPolicy"]["retry"]["backoff"];
            assert!(
                backoff["duration"].is_string() && backoff["factor"].as_u64() > Some(1),
                "{name}"
            );
            assert!(
                app["metadata"].get("finalizers").is_none(),
                "{name}: deleting an app never cascades"
            );
            let sources: Vec<&Value> = match spec.get("sources") {
                Some(s) => s.as_array().unwrap().iter().collect(),
                None => vec![&spec["source"]],
            };
            for s in sources {
                assert_eq!(s["repoURL"], "https://github.com/example/portal-gitops.git");
                assert_eq!(s["targetRevision"], "main");
                paths.insert(s["path"].as_str().unwrap().to_owned());
            }
        }
        let mut expected: BTreeSet<String> = [
            format!("rendered/{env}/kubernetes/platform"),
            format!("rendered/{env}/prometheus"),
            format!("rendered/{env}/tracing"),
        ]
        .into();
        // Dashboards (and their ConfigMaps) come with the full monitoring level only.
        if tree.keys().any(|p| p.starts_with("grafana/configmaps/")) {
            expected.insert(format!("rendered/{env}/grafana/configmaps"));
        }
        expected.extend(
            shard_dirs
                .iter()
                .map(|s| format!("rendered/{env}/kubernetes/tenants/{s}")),
        );
        assert_eq!(paths, expected, "{env}");

        let platform = &yaml(tree, "argocd/applications/platform.yaml")[0];
        let hpa = tree.contains_key("kubernetes/platform/app/hpa.yaml");
        let ignore = &platform["spec"]["ignoreDifferences"];
        if hpa {
            assert_eq!(ignore[0]["kind"], "Deployment");
            assert_eq!(ignore[0]["name"], "portal-app");
            assert_eq!(
                ignore[0]["jsonPointers"],
                serde_json::json!(["/spec/replicas"])
            );
            assert!(platform["spec"]["syncPolicy"]["syncOptions"]
                .as_array()
                .unwrap()
                .contains(&Value::from("RespectIgnoreDifferences=true")));
        } else {
            assert!(
                ignore.is_null(),
                "{env}: without an HPA, git owns the replicas"
            );
        }

        // The root Application syncs argocd/ itself, in a project that holds only Argo CD objects.
        let boot = yaml(tree, "argocd/bootstrap.yaml");
        let root = boot.iter().find(|d| d["kind"] == "Application").unwrap();
        assert_eq!(
            root["spec"]["source"]["path"],
            format!("rendered/{env}/argocd")
        );
        let bproject = boot.iter().find(|d| d["kind"] == "AppProject").unwrap();
        assert_eq!(root["spec"]["project"], bproject["metadata"]["name"]);
        assert_eq!(bproject["spec"]["destinations"][0]["namespace"], "argocd");
        assert_eq!(
            bproject["spec"]["clusterResourceWhitelist"],
            serde_json::json!([])
        );
    }
}

#[test]
fn sync_waves_put_namespaces_first_data_next_and_the_app_last() {
    let (_out, trees) = rendered();
    for (env, tree) in &trees {
        let mut waves: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        for (path, bytes) in tree.iter().filter(|(p, _)| p.starts_with("kubernetes/")) {
            for doc in yaml_docs(bytes) {
                let wave = doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{env}/{path}: {} has no sync wave", doc["kind"]));
                waves
                    .entry(doc["kind"].as_str().unwrap().to_owned())
                    .or_default()
                    .insert(wave.parse().unwrap());
            }
        }
        let max = |kinds: &[&str]| {
            kinds
                .iter()
                .filter_map(|k| waves.get(*k))
                .flatten()
                .max()
                .copied()
                .unwrap()
        };
        let min = |kinds: &[&str]| {
            kinds
                .iter()
                .filter_map(|k| waves.get(*k))
                .flatten()
                .min()
                .copied()
                .unwrap()
        };
        let cluster = ["Namespace", "ClusterRole"];
        let data = [
            "Cluster",
            "Redis",
            "RedisCluster",
            "ScheduledBackup",
            "Schedule",
        ];
        let app = [
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "Ingress",
            "Gateway",
            "VirtualService",
        ];
        assert!(max(&cluster) < min(&data), "{env}: {waves:?}");
        assert!(max(&data) < min(&app), "{env}: {waves:?}");
    }
}

/// `id -> shard` of a rendered tree, from `kubernetes/tenants/<shard>/<id>.yaml`.
fn shards_of(dir: &Path) -> BTreeMap<String, String> {
    read_tree(dir)
        .keys()
        .filter_map(|p| p.strip_prefix("kubernetes/tenants/"))
        .map(|p| {
            let (shard, file) = p.split_once('/').unwrap();
            (file.trim_end_matches(".yaml").to_owned(), shard.to_owned())
        })
        .collect()
}

fn list_spec(ids: &[String]) -> String {
    let mut spec =
        common::minimal_spec("shop", "staging", 1).replace("    count: 1\n", "    list:\n");
    for id in ids {
        spec = spec.replace(
            "    list:\n",
            &format!("    list:\n      - {{id: {id}, plan: team}}\n"),
        );
    }
    spec
}

#[test]
fn adding_or_removing_tenants_moves_no_other_tenant() {
    let s = Scratch::new();
    let out = s.root().join("out");
    let render = |ids: &[String]| {
        s.write_env("shop", &list_spec(ids));
        s.cmd()
            .args(["render", "shop", "--quiet", "--out"])
            .arg(&out)
            .assert()
            .success();
        shards_of(&out.join("shop"))
    };
    let ids =
        |range: std::ops::Range<u32>| range.map(|i| format!("tenant-{i}")).collect::<Vec<_>>();
    let before = render(&ids(0..60));
    assert_eq!(before.len(), 60);
    // Remove 15, add 40.
    let mut changed = ids(15..60);
    changed.extend(ids(100..140));
    let after = render(&changed);
    assert_eq!(after.len(), 85);
    let mut kept = 0;
    for (id, shard) in &after {
        if let Some(old) = before.get(id) {
            assert_eq!(old, shard, "{id} moved from {old} to {shard}");
            kept += 1;
        }
    }
    assert_eq!(kept, 45);
    // The Argo CD applications follow the shards that hold tenants.
    let apps: BTreeSet<String> = read_tree(&out.join("shop/argocd/applications"))
        .keys()
        .filter_map(|p| {
            p.strip_prefix("tenants-")
                .map(|p| p.trim_end_matches(".yaml").to_owned())
        })
        .collect();
    assert_eq!(apps, after.values().cloned().collect::<BTreeSet<_>>());

    // Synthetic tenants: growing the count keeps every existing tenant where it was.
    let grow = |n: u32| {
        s.write_env("shop", &common::minimal_spec("shop", "staging", n));
        s.cmd()
            .args(["render", "shop", "--quiet", "--out"])
            .arg(&out)
            .assert()
            .success();
        shards_of(&out.join("shop"))
    };
    let small = grow(90);
    let large = grow(300);
    assert!(small.iter().all(|(id, shard)| large[id] == *shard));
}

mod properties {
    use portalgen::model::tenants::{resolve, shard_index, shard_name};
    use portalgen::spec::{Plan, TenantEntry, Tenants};
    use proptest::prelude::*;

    fn tenants(ids: &[String]) -> Tenants {
        Tenants {
            count: None,
            list: Some(
                ids.iter()
                    .map(|id| TenantEntry {
                        id: id.clone(),
                        plan: Plan::Free,
                    })
                    .collect(),
            ),
        }
    }

    proptest! {
        #[test]
        fn a_tenants_shard_ignores_every_other_tenant(
            base in proptest::collection::btree_set("[a-z][a-z0-9-]{0,20}", 1..60),
            extra in proptest::collection::btree_set("[a-z][a-z0-9-]{0,20}", 0..60),
            shards in 1u32..64,
        ) {
            let a: Vec<String> = base.iter().cloned().collect();
            let mut b: Vec<String> = extra.iter().cloned().collect();
            b.extend(a.iter().step_by(2).cloned());
            b.sort();
            b.dedup();
            let shard_a: std::collections::BTreeMap<_, _> =
                resolve(&tenants(&a), shards, "portal-tenant-").into_iter().map(|t| (t.id, t.shard)).collect();
            for t in resolve(&tenants(&b), shards, "portal-tenant-") {
                prop_assert_eq!(&t.shard, &shard_name(shard_index(&t.id, shards)));
                prop_assert!(shard_index(&t.id, shards) < shards);
                if let Some(old) = shard_a.get(&t.id) {
                    prop_assert_eq!(old, &t.shard);
                }
            }
        }
    }
}

#[path = "edge_delivery/routes.rs"]
mod routes;
