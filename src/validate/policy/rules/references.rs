//! Every reference of the tree resolves (PG-R001): to an object of the tree, to one an
//! operator or an operator chart of the tree makes, or to a declared prerequisite (see
//! `validate::references`).

use super::super::{Check, Kinds, Located, Rule, TreeContext};
use crate::diagnostic::Diagnostic;
use crate::validate::references;

/// The kinds whose references are read, or which a reference may name, besides the
/// workloads.
const REFERENCE_KINDS: &[&str] = &[
    "Service",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "Namespace",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "HorizontalPodAutoscaler",
    "VerticalPodAutoscaler",
    "Ingress",
    "Gateway",
    "VirtualService",
    "Certificate",
    "ClusterIssuer",
    "Issuer",
    "ExternalSecret",
    "SecretStore",
    "ClusterSecretStore",
    "Cluster",
    "ScheduledBackup",
    "RedisCluster",
    "Redis",
    "Schedule",
    "BackupStorageLocation",
    "Prometheus",
    "Alertmanager",
    "AlertmanagerConfig",
    "ServiceMonitor",
    "Application",
    "OpenTelemetryCollector",
    "Instrumentation",
];

pub const R001: Rule = Rule {
    id: "PG-R001",
    title: "every reference resolves inside the tree or to a declared prerequisite: Secrets and their keys, ConfigMaps, ServiceAccounts, Roles, issuers, secret stores, TLS credentials where they are read, the Services behind routes, monitors and alerting endpoints, scale targets, backup locations, Argo CD source folders",
    rationale: "an object that names something nobody makes passes its schema and then fails on the cluster: a pod that never starts, a certificate never issued, a route or a scrape to nothing, alerts sent nowhere",
    kinds: Kinds::WithWorkloads(REFERENCE_KINDS),
    checks: &[Check::TreeIn(check)],
};

fn check(objects: &[Located], cx: &TreeContext, out: &mut Vec<Diagnostic>) {
    if !cx.complete {
        return;
    }
    for u in references::unresolved(objects, &cx.declared, &cx.place) {
        let r = &u.reference;
        let message = format!("{} {}", r.from.doc.describe(), u.problem);
        let hint = u.declare.map(|d| {
            format!("render it, or declare it as a prerequisite in the spec: external: [{d}]")
        });
        out.push(
            Diagnostic::new(&r.from.file, format!("[PG-R001] {message}"))
                .rule("PG-R001")
                .object(r.from.doc.object_ref())
                .with_path(r.field.clone())
                .with_hint(hint),
        );
    }
}
