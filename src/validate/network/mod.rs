//! The network as a cluster would run it, read from the rendered tree: the pods each
//! workload and each operator will create ([`pods`]), the flows the system needs and a
//! sample of flows it must not have ([`flows`]), and whether the rendered NetworkPolicies
//! let each one through, decided as Kubernetes decides it ([`Policies::verdict`]).
//!
//! Nothing here trusts a list in the code of what the policies say: the verdicts are
//! computed from the NetworkPolicy objects of the tree, whatever wrote them (the embedded
//! templates, a team's `--templates`, a patch). The rules that report them are PG-C001 and
//! PG-C002 (`policy/rules/flows.rs`).

pub mod flows;
pub mod operator_pods;
pub mod operator_services;
pub mod pods;
pub mod services;

use std::collections::BTreeMap;

use serde_json::Value;

use super::policy::Located;
use super::Document;

/// A flow of the system and what the tree's NetworkPolicies make of it.
pub struct Judged<'p> {
    pub flow: flows::Flow<'p>,
    /// Needed (else: must be denied).
    pub needed: bool,
    pub verdict: Result<(), Denied>,
}

impl Judged<'_> {
    /// Whether the policies do what the flow needs: allow a needed one, deny the others.
    pub fn holds(&self) -> bool {
        self.verdict.is_ok() == self.needed
    }
}

/// Every flow of the system of `objects` (the objects the tree rules read, see
/// `policy::tree_objects`), judged on their NetworkPolicies; `f` sees them all.
pub fn judge<R>(objects: &[Located], f: impl FnOnce(&[Judged<'_>]) -> R) -> R {
    let pods = pods::Pods::of(objects);
    let outside = pods::Outside::of(&pods);
    let policy_docs: Vec<&Document> = objects
        .iter()
        .map(|o| &o.doc)
        .filter(|d| d.kind() == "NetworkPolicy")
        .collect();
    let (others, other_policies) = flows::other_tenants(&pods, &policy_docs);
    let tree = flows::Tree { objects };
    let flows = flows::of(&tree, &pods, &outside, &others);
    let policies = Policies::of(policy_docs.iter().copied().chain(other_policies.iter()));
    let judged: Vec<Judged<'_>> = flows
        .needed
        .into_iter()
        .map(|flow| (flow, true))
        .chain(flows.forbidden.into_iter().map(|flow| (flow, false)))
        .map(|(flow, needed)| Judged {
            verdict: policies.verdict(flow.src, flow.dst, flow.port, flow.protocol),
            flow,
            needed,
        })
        .collect();
    f(&judged)
}

/// `src → dst:port/PROTO`.
pub fn describe(flow: &flows::Flow<'_>) -> String {
    format!(
        "{} → {}:{}/{}",
        flow.src.name,
        flow.dst.name,
        flow.port,
        flow.protocol.name()
    )
}

/// Labels of a pod or a namespace.
pub type Labels = BTreeMap<String, String>;

/// One end of a flow: a pod (with its namespace and that namespace's labels), or an address
/// outside the cluster.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// What it is, for a finding: `portal-system/portal-app`, `the internet`.
    pub name: String,
    /// `None`: outside the cluster (no NetworkPolicy selects it, and only a rule without
    /// peers, or with an ipBlock, reaches it).
    pub namespace: Option<String>,
    pub namespace_labels: Labels,
    pub labels: Labels,
    /// Named ports of its containers (`http` → 3000), for a policy or a Service that names
    /// a port.
    pub ports: BTreeMap<String, u16>,
}

impl Endpoint {
    pub fn pod(namespace: &str, namespace_labels: Labels, labels: Labels, name: String) -> Self {
        Endpoint {
            name,
            namespace: Some(namespace.to_owned()),
            namespace_labels,
            labels,
            ports: BTreeMap::new(),
        }
    }
}

/// The transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
        }
    }
}

/// Why a flow is denied: the end whose policies do not let it through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The source is isolated for egress and none of these policies lets the flow out.
    Egress(Vec<String>),
    /// The destination is isolated for ingress and none of these policies lets it in.
    Ingress(Vec<String>),
}

/// The NetworkPolicies of a tree.
pub struct Policies<'a> {
    policies: Vec<&'a Document>,
}

impl<'a> Policies<'a> {
    pub fn of(docs: impl Iterator<Item = &'a Document>) -> Self {
        Policies {
            policies: docs
                .filter(|d| {
                    d.kind() == "NetworkPolicy" && d.api_version() == "networking.k8s.io/v1"
                })
                .collect(),
        }
    }

    /// Whether a connection from `src` to `dst` on `port` is allowed: `Ok` or the side that
    /// refuses it. Each end that some policy isolates in its direction must be let through
    /// by one of those policies; an end no policy selects is not isolated.
    pub fn verdict(
        &self,
        src: &Endpoint,
        dst: &Endpoint,
        port: u16,
        protocol: Protocol,
    ) -> Result<(), Denied> {
        let out = self.side(src, dst, port, protocol, Direction::Egress);
        let into = self.side(dst, src, port, protocol, Direction::Ingress);
        match (out, into) {
            (Err(names), _) => Err(Denied::Egress(names)),
            (_, Err(names)) => Err(Denied::Ingress(names)),
            _ => Ok(()),
        }
    }

    /// Whether the policies selecting `pod` (for `direction`) let the flow with `other`
    /// through; the names of the isolating policies when none does.
    fn side(
        &self,
        pod: &Endpoint,
        other: &Endpoint,
        port: u16,
        protocol: Protocol,
        direction: Direction,
    ) -> Result<(), Vec<String>> {
        let Some(ns) = pod.namespace.as_deref() else {
            // Outside the cluster: no NetworkPolicy applies.
            return Ok(());
        };
        let isolating: Vec<&Document> = self
            .policies
            .iter()
            .copied()
            .filter(|p| {
                p.namespace() == ns
                    && selects(p.value.pointer("/spec/podSelector"), &pod.labels)
                    && has_type(&p.value, direction)
            })
            .collect();
        if isolating.is_empty() {
            return Ok(());
        }
        let target = match direction {
            Direction::Egress => other,
            Direction::Ingress => pod,
        };
        let lets_through = |p: &&Document| {
            let rules = p.value.pointer(direction.rules()).and_then(Value::as_array);
            rules.is_some_and(|rules| {
                rules.iter().any(|r| {
                    peers_admit(r.get(direction.peers()), ns, other)
                        && ports_admit(r.get("ports"), port, protocol, target)
                })
            })
        };
        if isolating.iter().any(lets_through) {
            Ok(())
        } else {
            Err(isolating.iter().map(|p| p.name().to_owned()).collect())
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Direction {
    Egress,
    Ingress,
}

impl Direction {
    fn policy_type(self) -> &'static str {
        match self {
            Direction::Egress => "Egress",
            Direction::Ingress => "Ingress",
        }
    }
    fn rules(self) -> &'static str {
        match self {
            Direction::Egress => "/spec/egress",
            Direction::Ingress => "/spec/ingress",
        }
    }
    fn peers(self) -> &'static str {
        match self {
            Direction::Egress => "to",
            Direction::Ingress => "from",
        }
    }
}

/// Whether a policy isolates its pods for `direction`. Without `policyTypes`, Kubernetes
/// takes Ingress always, and Egress when the policy has egress rules.
fn has_type(policy: &Value, direction: Direction) -> bool {
    match policy
        .pointer("/spec/policyTypes")
        .and_then(Value::as_array)
    {
        Some(types) => types.iter().any(|t| t == direction.policy_type()),
        None => match direction {
            Direction::Ingress => true,
            Direction::Egress => policy.pointer("/spec/egress").is_some(),
        },
    }
}

/// Whether a label selector selects `labels`. A missing selector selects nothing; an empty
/// one selects everything. An operator this evaluator does not know selects nothing (the
/// schema check has refused it already).
pub fn selects(selector: Option<&Value>, labels: &Labels) -> bool {
    let Some(selector) = selector.and_then(Value::as_object) else {
        return false;
    };
    let match_labels = selector.get("matchLabels").and_then(Value::as_object);
    let labels_ok = match_labels.is_none_or(|want| {
        want.iter()
            .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
    });
    let exprs = selector.get("matchExpressions").and_then(Value::as_array);
    labels_ok && exprs.is_none_or(|exprs| exprs.iter().all(|e| expression_holds(e, labels)))
}

fn expression_holds(e: &Value, labels: &Labels) -> bool {
    let Some(key) = e.get("key").and_then(Value::as_str) else {
        return false;
    };
    let values = || {
        e.get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    let value = labels.get(key);
    match e.get("operator").and_then(Value::as_str) {
        Some("Exists") => value.is_some(),
        Some("DoesNotExist") => value.is_none(),
        Some("In") => value.is_some_and(|v| values().any(|x| x == v)),
        Some("NotIn") => value.is_none_or(|v| values().all(|x| x != v)),
        _ => false,
    }
}

/// Whether the peers of a rule (`to` / `from`) admit `other`. No peers: every address.
fn peers_admit(peers: Option<&Value>, policy_ns: &str, other: &Endpoint) -> bool {
    let Some(peers) = peers.and_then(Value::as_array) else {
        return true;
    };
    peers.iter().any(|peer| peer_admits(peer, policy_ns, other))
}

fn peer_admits(peer: &Value, policy_ns: &str, other: &Endpoint) -> bool {
    if peer.get("ipBlock").is_some() {
        // An ipBlock names addresses, not pods: outside the cluster, it may be the one.
        // (Pod IPs are not known offline; in-cluster pods are never assumed to match.)
        return other.namespace.is_none();
    }
    let Some(ns) = other.namespace.as_deref() else {
        return false;
    };
    let ns_ok = match peer.get("namespaceSelector") {
        Some(sel) => selects(Some(sel), &other.namespace_labels),
        None => ns == policy_ns,
    };
    let pod_ok = match peer.get("podSelector") {
        Some(sel) => selects(Some(sel), &other.labels),
        None => true,
    };
    ns_ok
        && pod_ok
        && (peer.get("namespaceSelector").is_some() || peer.get("podSelector").is_some())
}

/// Whether the ports of a rule admit `port`/`protocol` on `target` (the destination pod,
/// whose named ports a rule may use). No ports: every port.
fn ports_admit(ports: Option<&Value>, port: u16, protocol: Protocol, target: &Endpoint) -> bool {
    let Some(ports) = ports.and_then(Value::as_array) else {
        return true;
    };
    ports.iter().any(|p| {
        let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
        if proto != protocol.name() {
            return false;
        }
        let number = match p.get("port") {
            None => return true,
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(name)) => target.ports.get(name).map(|&n| u64::from(n)),
            _ => None,
        };
        let end = p.get("endPort").and_then(Value::as_u64);
        number.is_some_and(|n| {
            let port = u64::from(port);
            port == n || end.is_some_and(|end| (n..=end).contains(&port))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(ns: &str, labels: &[(&str, &str)]) -> Endpoint {
        let labels = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let ns_labels = Labels::from([("kubernetes.io/metadata.name".to_owned(), ns.to_owned())]);
        Endpoint::pod(ns, ns_labels, labels, format!("{ns}/pod"))
    }

    fn doc(v: Value) -> Document {
        Document { value: v }
    }

    #[test]
    fn isolation_needs_both_ends_to_let_the_flow_through() {
        let deny = doc(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": "a"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        );
        let out = doc(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "app", "namespace": "a"},
            "spec": {"podSelector": {"matchLabels": {"app": "x"}}, "policyTypes": ["Egress"],
                "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}],
                            "ports": [{"protocol": "TCP", "port": 5432}]}]}}),
        );
        let into = doc(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "db", "namespace": "a"},
            "spec": {"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchExpressions": [
                    {"key": "app", "operator": "In", "values": ["x"]}]}}],
                    "ports": [{"port": "pg"}]}]}}),
        );
        let app = pod("a", &[("app", "x")]);
        let mut db = pod("a", &[("app", "db")]);
        db.ports.insert("pg".into(), 5432);
        let other = pod("b", &[("app", "x")]);
        let docs = [deny, out, into];
        let p = Policies::of(docs.iter());
        assert_eq!(p.verdict(&app, &db, 5432, Protocol::Tcp), Ok(()));
        assert!(matches!(
            p.verdict(&app, &db, 5433, Protocol::Tcp),
            Err(Denied::Egress(_))
        ));
        assert!(matches!(
            p.verdict(&app, &db, 5432, Protocol::Udp),
            Err(Denied::Egress(_))
        ));
        // From another namespace: that namespace isolates nothing, but the database does.
        assert!(matches!(
            p.verdict(&other, &db, 5432, Protocol::Tcp),
            Err(Denied::Ingress(_))
        ));
        // Nothing isolates namespace b: everything may reach it (on egress, a's rules decide).
        assert!(p.verdict(&other, &other, 80, Protocol::Tcp).is_ok());
    }

    #[test]
    fn a_rule_without_peers_reaches_the_internet_and_an_ip_block_no_pod() {
        let out = doc(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "app", "namespace": "a"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                "egress": [{"ports": [{"protocol": "TCP", "port": 443}]},
                           {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}}),
        );
        let docs = [out];
        let p = Policies::of(docs.iter());
        let app = pod("a", &[]);
        let internet = Endpoint {
            name: "the internet".into(),
            namespace: None,
            namespace_labels: Labels::new(),
            labels: Labels::new(),
            ports: BTreeMap::new(),
        };
        assert!(p.verdict(&app, &internet, 443, Protocol::Tcp).is_ok());
        assert!(
            p.verdict(&app, &internet, 80, Protocol::Tcp).is_ok(),
            "the ipBlock"
        );
        assert!(p.verdict(&app, &pod("b", &[]), 80, Protocol::Tcp).is_err());
        assert!(p.verdict(&app, &pod("b", &[]), 443, Protocol::Tcp).is_ok());
    }

    #[test]
    fn selectors_follow_the_kubernetes_semantics() {
        let l = Labels::from([("a".to_owned(), "1".to_owned())]);
        assert!(selects(Some(&json!({})), &l));
        assert!(!selects(None, &l));
        assert!(selects(
            Some(&json!({"matchExpressions": [{"key": "b", "operator": "DoesNotExist"}]})),
            &l
        ));
        assert!(!selects(
            Some(
                &json!({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]})
            ),
            &l
        ));
        assert!(!selects(
            Some(&json!({"matchExpressions": [{"key": "a", "operator": "Gt"}]})),
            &l
        ));
    }
}
