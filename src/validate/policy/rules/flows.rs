//! The system's network flows, judged on the rendered NetworkPolicies (see
//! `validate::network`): every flow the system needs is allowed (PG-C001), and a sample of
//! flows it must not have is denied (PG-C002).

use super::super::{finding, Check, Kinds, Located, Rule};
use crate::diagnostic::Diagnostic;
use crate::spec::Tier;
use crate::validate::network::{self, Denied, Endpoint};

/// The kinds the flows are read from, besides the workloads.
const FLOW_KINDS: &[&str] = &[
    "NetworkPolicy",
    "Namespace",
    "Service",
    "ConfigMap",
    "Cluster",
    "RedisCluster",
    "Redis",
    "Prometheus",
    "ServiceMonitor",
    "PodMonitor",
    "VirtualService",
    "Ingress",
    "OpenTelemetryCollector",
];

pub const C001: Rule = Rule {
    id: "PG-C001",
    title: "the NetworkPolicies allow every flow the system needs",
    rationale: "a flow cut by a policy breaks the system on the cluster while every object passes its schema: replication, failover, Redis redirects, scraping, routing, DNS",
    kinds: Kinds::WithWorkloads(FLOW_KINDS),
    checks: &[Check::Tree(needed_flows)],
};

pub const C002: Rule = Rule {
    id: "PG-C002",
    title: "the NetworkPolicies deny what must stay apart: tenant to tenant, tenant to monitoring, platform pods to the internet except 443",
    rationale: "tenant isolation and egress control are what the zero-trust policies are for; one broad rule undoes them",
    kinds: Kinds::WithWorkloads(FLOW_KINDS),
    checks: &[Check::Tree(forbidden_flows)],
};

fn needed_flows(objects: &[Located], _: Tier, out: &mut Vec<Diagnostic>) {
    judge(objects, out, true);
}

fn forbidden_flows(objects: &[Located], _: Tier, out: &mut Vec<Diagnostic>) {
    judge(objects, out, false);
}

fn judge(objects: &[Located], out: &mut Vec<Diagnostic>, needed: bool) {
    network::judge(objects, |judged| {
        for j in judged.iter().filter(|j| j.needed == needed && !j.holds()) {
            let f = &j.flow;
            let finding = match &j.verdict {
                Err(denied) => {
                    let (side, names, end) = match denied {
                        Denied::Egress(n) => ("egress", n, f.src),
                        Denied::Ingress(n) => ("ingress", n, f.dst),
                    };
                    let message = format!(
                        "{} is denied, but the system needs it ({}): none of the {side} rules of the NetworkPolicies that isolate it ({}) lets it through",
                        network::describe(f),
                        f.why,
                        names.join(", ")
                    );
                    at_policy(objects, end, names, "PG-C001", message)
                }
                Ok(()) => {
                    let message = format!(
                        "{} is allowed, but must not be ({})",
                        network::describe(f),
                        f.why
                    );
                    at_policy(objects, f.src, &[], "PG-C002", message)
                }
            };
            out.push(finding);
        }
    });
}

/// A finding at the first of the NetworkPolicies `names` of `end`'s namespace, else at the
/// first NetworkPolicy of that namespace, else at the first object of the tree.
fn at_policy(
    objects: &[Located],
    end: &Endpoint,
    names: &[String],
    id: &'static str,
    message: String,
) -> Diagnostic {
    let ns = end.namespace.as_deref().unwrap_or_default();
    let policies = || {
        objects
            .iter()
            .filter(move |o| o.doc.kind() == "NetworkPolicy" && o.doc.namespace() == ns)
    };
    // The last isolating policy is the most specific one (default-deny comes first).
    let at = policies()
        .rfind(|o| names.iter().any(|n| n == o.doc.name()))
        .or_else(|| policies().next())
        .or_else(|| objects.first());
    match at {
        Some(o) => finding(&o.file, &o.doc, "spec", id, message),
        None => Diagnostic::new("kubernetes", format!("[{id}] {message}")).rule(id),
    }
}
