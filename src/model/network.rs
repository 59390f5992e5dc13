//! The flows of the platform namespace (DESIGN §2a "nothing else can reach it except what
//! `uses` allows") and the public routes.
//!
//! Every service gets one NetworkPolicy: ingress from the mesh ingress gateway when it has
//! routes, from Prometheus on its metrics port, and from each service that uses it;
//! egress to what it uses (its services on their ports, PostgreSQL, Redis, outbound HTTPS
//! for `internet`). DNS is allowed to every pod by `allow-dns`, everything else is denied
//! by `default-deny`. The database and Redis accept only the services that use them (and
//! the tenants' namespaces).

use std::collections::BTreeMap;

use serde::Serialize;

use super::services::Service;

/// One rule of a NetworkPolicy: traffic from (ingress) or to (egress) these peers on these
/// TCP ports. No peers: any address.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rule {
    /// Why the rule is there, rendered as a comment.
    pub comment: Option<String>,
    pub peers: Vec<Peer>,
    pub ports: Vec<u16>,
}

/// Pods or namespaces selected by labels.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Peer {
    /// `podSelector` or `namespaceSelector`.
    pub selector: &'static str,
    pub labels: BTreeMap<String, String>,
}

impl Peer {
    pub fn pods(key: &str, value: &str) -> Peer {
        Peer {
            selector: "podSelector",
            labels: BTreeMap::from([(key.to_owned(), value.to_owned())]),
        }
    }

    pub fn namespace(name: &str) -> Peer {
        Peer {
            selector: "namespaceSelector",
            labels: BTreeMap::from([("kubernetes.io/metadata.name".to_owned(), name.to_owned())]),
        }
    }
}

/// The NetworkPolicy of one service.
#[derive(Debug, Clone, Serialize)]
pub struct ServicePolicy {
    pub service: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

/// The flows of the platform namespace.
#[derive(Debug, Clone, Serialize)]
pub struct Network {
    /// Its folder under `kubernetes/platform/` (the built-in system keeps `app/`).
    pub folder: String,
    pub services: Vec<ServicePolicy>,
    /// The services that use the database / Redis: the only pods of the platform they admit.
    pub database_clients: Vec<String>,
    pub redis_clients: Vec<String>,
}

/// What the flows are resolved from besides the services.
pub(super) struct Ends<'a> {
    pub ingress_gateway: &'a str,
    pub monitoring: &'a str,
    pub database: &'a str,
    /// The `app` label of every Redis node (a cluster's leaders and followers).
    pub redis_nodes: &'a [String],
}

pub const NAME_LABEL: &str = "app.kubernetes.io/name";

pub(super) fn resolve(services: &[Service], ends: &Ends, builtin: bool) -> Network {
    let policies = services
        .iter()
        .map(|s| ServicePolicy {
            service: s.name.clone(),
            ingress: ingress(s, services, ends),
            egress: egress(s, services, ends),
        })
        .collect();
    let clients = |f: fn(&Service) -> bool| {
        services
            .iter()
            .filter(|s| f(s))
            .map(|s| s.name.clone())
            .collect()
    };
    Network {
        folder: if builtin { "app" } else { "network" }.to_owned(),
        services: policies,
        database_clients: clients(|s| s.uses.database),
        redis_clients: clients(|s| s.uses.redis),
    }
}

fn ingress(s: &Service, all: &[Service], ends: &Ends) -> Vec<Rule> {
    let mut rules = Vec::new();
    let routed = !s.routes.is_empty();
    let scraped_on_port = s.metrics.as_ref().is_some_and(|m| m.port == s.port);
    match (routed, scraped_on_port) {
        (true, true) => rules.push(Rule {
            comment: Some(
                "Traffic from the mesh ingress gateway, and metric scrapes from Prometheus.".into(),
            ),
            peers: vec![
                Peer::namespace(ends.ingress_gateway),
                Peer::namespace(ends.monitoring),
            ],
            ports: vec![s.port],
        }),
        (true, false) => rules.push(Rule {
            comment: Some("Traffic from the mesh ingress gateway.".into()),
            peers: vec![Peer::namespace(ends.ingress_gateway)],
            ports: vec![s.port],
        }),
        _ => {}
    }
    if let Some(m) = s.metrics.as_ref().filter(|_| !(routed && scraped_on_port)) {
        rules.push(Rule {
            comment: Some("Metric scrapes from Prometheus.".into()),
            peers: vec![Peer::namespace(ends.monitoring)],
            ports: vec![m.port],
        });
    }
    let callers: Vec<Peer> = all
        .iter()
        .filter(|c| c.uses.services.contains(&s.name))
        .map(|c| Peer::pods(NAME_LABEL, &c.name))
        .collect();
    if !callers.is_empty() {
        rules.push(Rule {
            comment: Some("Calls from the services that use it.".into()),
            peers: callers,
            ports: vec![s.port],
        });
    }
    rules
}

fn egress(s: &Service, all: &[Service], ends: &Ends) -> Vec<Rule> {
    let mut rules = Vec::new();
    for used in &s.uses.services {
        if let Some(target) = all.iter().find(|t| &t.name == used) {
            rules.push(Rule {
                comment: None,
                peers: vec![Peer::pods(NAME_LABEL, &target.name)],
                ports: vec![target.port],
            });
        }
    }
    if s.uses.database {
        rules.push(Rule {
            comment: None,
            peers: vec![Peer::pods("cnpg.io/cluster", ends.database)],
            ports: vec![5432],
        });
    }
    if s.uses.redis {
        rules.push(Rule {
            comment: (ends.redis_nodes.len() > 1).then(|| {
                "Every Redis node: a cluster client follows redirects, and a failover promotes a follower."
                    .into()
            }),
            peers: ends
                .redis_nodes
                .iter()
                .map(|app| Peer::pods("app", app))
                .collect(),
            ports: vec![6379],
        });
    }
    if s.uses.internet {
        rules.push(Rule {
            comment: Some("Outbound HTTPS (identity providers, plugin registries).".into()),
            peers: Vec::new(),
            ports: vec![443],
        });
    }
    rules
}

/// One public route: a path prefix to a service.
#[derive(Debug, Clone, Serialize)]
pub struct Route {
    /// `None` for the catch-all `/`.
    pub prefix: Option<String>,
    /// The Ingress path (`/` or the prefix).
    pub path: String,
    pub service: String,
    pub port: u16,
    /// Names of its VirtualService HTTP routes.
    pub names: RouteNames,
    /// Where its VirtualService routes send requests: the service's Service, or a canary's
    /// stable and canary Services with their initial weights (100 and 0; Argo Rollouts
    /// moves them during a rollout).
    pub destinations: Vec<Destination>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Destination {
    pub service: String,
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteNames {
    pub fault_injection: String,
    pub tenant: String,
    pub default: String,
}

/// Every route of the system, the longest prefix first (the mesh and the Ingress match in
/// order, and `/api/auth` must win over `/api`); ties keep the order of the system file.
pub(super) fn routes(services: &[Service], builtin: bool) -> Vec<Route> {
    let mut out: Vec<Route> = Vec::new();
    for s in services {
        for (i, r) in s.routes.iter().enumerate() {
            let base = if builtin {
                String::new()
            } else if s.routes.len() == 1 {
                format!("{}-", s.name)
            } else {
                format!("{}-{i}-", s.name)
            };
            out.push(Route {
                prefix: (r != "/").then(|| r.clone()),
                path: r.clone(),
                service: s.name.clone(),
                port: s.service_port,
                destinations: match &s.rollout.canary {
                    Some(c) => vec![
                        Destination {
                            service: c.stable_service.clone(),
                            weight: Some(100),
                        },
                        Destination {
                            service: c.canary_service.clone(),
                            weight: Some(0),
                        },
                    ],
                    None => vec![Destination {
                        service: s
                            .rollout
                            .blue_green
                            .as_ref()
                            .map_or(&s.name, |b| &b.active_service)
                            .clone(),
                        weight: None,
                    }],
                },
                names: RouteNames {
                    fault_injection: format!("{base}fault-injection"),
                    tenant: format!("{base}tenant"),
                    default: if builtin {
                        "default".to_owned()
                    } else {
                        format!("{base}default")
                    },
                },
            });
        }
    }
    // Stable: equal lengths keep their order.
    out.sort_by_key(|r| std::cmp::Reverse(r.path.len()));
    out
}
