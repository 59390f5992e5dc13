//! The references of a tree (PG-R001): every reference of the shipped trees and examples
//! resolves (to the tree, to what its operators and charts make, or to a prerequisite), each
//! kind of reference is found, and a broken one of each kind is a finding that names it.

use std::collections::BTreeMap;

use super::common;
use super::rule_ids;
use portalgen::diagnostic::Diagnostic;
use portalgen::spec::Tier;
use portalgen::validate::policy::{self, TreeContext};
use portalgen::validate::references::{self, Declared, Target, TreePlace};

type Files = BTreeMap<String, Vec<u8>>;

fn golden(dir: &str) -> Files {
    common::read_tree(&common::repo().join(dir))
}

/// Every shipped tree and example tree, with the folder Argo CD syncs it from.
fn shipped() -> Vec<(String, Files)> {
    let mut out = Vec::new();
    for root in [
        "golden",
        "examples/microservices/golden",
        "examples/plugin-portal/golden",
    ] {
        for e in std::fs::read_dir(common::repo().join(root)).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                let env = p.file_name().unwrap().to_string_lossy().into_owned();
                out.push((env, common::read_tree(&p)));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The ClusterSecretStore the tree's ExternalSecrets name (the environment's declared one).
fn store() -> Declared {
    Declared {
        kind: "ClusterSecretStore".into(),
        namespace: None,
        name: "portal-secret-store".into(),
        labels: Default::default(),
    }
}

fn context(files: &Files, declared: Vec<Declared>) -> TreeContext<'_> {
    TreeContext {
        tier: Tier::Prod,
        place: TreePlace {
            repo_url: None,
            folder: None,
            paths: files.keys().map(String::as_str).collect(),
        },
        declared,
        complete: true,
    }
}

/// The PG-R001 findings of a tree, given the declared prerequisites.
fn r001(files: &Files, declared: Vec<Declared>) -> Vec<Diagnostic> {
    policy::check_tree_in(files, &context(files, declared))
        .into_iter()
        .filter(|d| rule_ids(std::slice::from_ref(d)) == ["PG-R001"])
        .collect()
}

/// `files` with `path` edited (the edit must change it), or removed by an edit to "".
fn edited(files: &Files, path: &str, edit: impl Fn(&str) -> String) -> Files {
    let mut files = files.clone();
    let text = String::from_utf8(files[path].clone()).unwrap();
    let new = edit(&text);
    assert!(new != text, "the edit changed nothing in {path}");
    if new.is_empty() {
        files.remove(path);
    } else {
        files.insert(path.to_owned(), new.into_bytes());
    }
    files
}

/// Asserts that some finding contains every one of `parts` (message or location).
fn fired(found: &[Diagnostic], parts: &[&str]) {
    assert!(
        found.iter().any(|d| {
            let text = format!("{} @ {}", d.message, d.location().unwrap_or_default());
            parts.iter().all(|p| text.contains(p))
        }),
        "no PG-R001 finding with {parts:?} in:\n{:#?}",
        found
            .iter()
            .map(|d| format!("{} @ {}", d.message, d.location().unwrap_or_default()))
            .collect::<Vec<_>>()
    );
}

#[test]
fn every_reference_of_the_shipped_trees_and_examples_resolves() {
    for (env, files) in shipped() {
        // The examples' systems have their own names: their store is `<system>-secret-store`.
        let text = String::from_utf8_lossy(&files["argocd/project.yaml"]).into_owned();
        let system = text
            .split("name: ")
            .nth(1)
            .and_then(|n| n.lines().next())
            .and_then(|n| n.strip_suffix(&format!("-{env}")))
            .unwrap()
            .to_owned();
        let declared = vec![Declared {
            name: format!("{system}-secret-store"),
            ..store()
        }];
        let found = r001(&files, declared);
        assert!(found.is_empty(), "{env}: {found:#?}");
    }
}

#[test]
fn the_references_of_prod_eu_cover_every_kind_the_issue_names() {
    let files = golden("golden/prod-eu");
    let objects = policy::tree_objects(&files);
    let refs = references::references(&objects);
    let names = |kind: &str| -> Vec<String> {
        refs.iter()
            .filter_map(|r| match &r.target {
                Target::Object {
                    kind: k,
                    namespace,
                    name,
                    ..
                } if *k == kind => Some(format!(
                    "{}{name}",
                    namespace
                        .as_ref()
                        .map(|n| format!("{n}/"))
                        .unwrap_or_default()
                )),
                _ => None,
            })
            .collect()
    };
    let secrets = names("Secret");
    for s in [
        "portal-system/portal-secrets",
        "portal-system/portal-db-app",
        "portal-system/portal-redis-auth",
        "portal-system/portal-backup-credentials",
        "portal-system/portal-db-primary-replication",
        "portal-system/portal-db-primary-ca",
        "monitoring/alertmanager-slack",
        "monitoring/alertmanager-pagerduty",
        "monitoring/alertmanager-smtp",
        "cert-manager/cloudflare-api-token",
        "velero/velero-credentials",
        "external-dns/external-dns-cloudflare",
    ] {
        assert!(secrets.contains(&s.to_owned()), "{s} not read: {secrets:?}");
    }
    assert!(names("ConfigMap").contains(&"portal-system/region-config".to_owned()));
    assert!(names("ServiceAccount").contains(&"portal-system/portal-app".to_owned()));
    assert!(names("ServiceAccount").contains(&"monitoring/portal-prometheus".to_owned()));
    assert!(names("ClusterIssuer").contains(&"letsencrypt-dns01".to_owned()));
    assert!(names("ClusterSecretStore").contains(&"portal-secret-store".to_owned()));
    assert!(names("Service").contains(&"portal-system/portal-app".to_owned()));
    assert!(names("Service").contains(&"monitoring/alertmanager-operated".to_owned()));
    assert!(names("Gateway").contains(&"portal-system/portal-gateway".to_owned()));
    assert!(names("BackupStorageLocation").contains(&"velero/default".to_owned()));
    assert!(names("Cluster").contains(&"portal-system/portal-db".to_owned()));
    assert!(names("Deployment").contains(&"portal-system/portal-app".to_owned()));
    assert!(names("ClusterRole").contains(&"portal-tenant-admin".to_owned()));
    let gateway_secrets: Vec<&str> = refs
        .iter()
        .filter_map(|r| match &r.target {
            Target::GatewaySecret { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(gateway_secrets, ["portal-tls"]);
    let monitors = refs
        .iter()
        .filter(|r| {
            matches!(
                &r.target,
                Target::Selected {
                    kind: "Service",
                    ..
                }
            )
        })
        .count();
    assert_eq!(monitors, 3, "kube-state-metrics, portal-app, velero");
    let folders = refs
        .iter()
        .filter(|r| matches!(r.target, Target::Folder(_)))
        .count();
    // The root Application, the platform, monitoring (its rules and its dashboards),
    // tracing and eight tenant shards.
    assert_eq!(folders, 13);
}

#[test]
fn a_broken_reference_of_each_kind_is_a_finding_that_names_it() {
    let us = golden("golden/prod-us");
    let eu = golden("golden/prod-eu");
    let app = "kubernetes/platform/app/deployment.yaml";
    let secrets = "kubernetes/platform/secrets";
    let gone = |_: &str| String::new();
    let ok = || vec![store()];

    // Secrets read by env, and the key read.
    let found = r001(
        &edited(&us, app, |t| {
            t.replace("name: portal-secrets", "name: portal-secretz")
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "Deployment portal-system/portal-app names Secret portal-system/portal-secretz",
            "valueFrom.secretKeyRef.name",
            "nothing in the tree makes",
        ],
    );
    let found = r001(
        &edited(&us, app, |t| {
            t.replace("key: session-secret", "key: session-secrets")
        }),
        ok(),
    );
    fired(&found, &["reads key 'session-secrets' of Secret portal-system/portal-secrets, but its ExternalSecret makes only session-secret"]);
    // The Secret a PushSecret copies to the replica's entry, and the store it writes to.
    let push = "kubernetes/platform/secrets/portal-system/portal-db-replication-to-prod-eu.yaml";
    let found = r001(
        &edited(&us, push, |t| {
            t.replace("name: portal-db-replication\n", "name: portal-db-replica\n")
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "PushSecret portal-system/portal-db-replication-to-prod-eu names Secret portal-system/portal-db-replica",
            "spec.selector.secret.name",
        ],
    );
    let found = r001(&us, vec![]);
    fired(
        &found,
        &[
            "PushSecret portal-system/portal-db-replication-to-prod-eu names ClusterSecretStore portal-secret-store",
            "spec.secretStoreRefs[0].name",
        ],
    );
    // A ConfigMap loaded by envFrom, and the pods' ServiceAccount.
    let found = r001(
        &edited(&us, app, |t| {
            t.replace("name: region-config", "name: region-configs")
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "names ConfigMap portal-system/region-configs",
            "envFrom[0].configMapRef.name",
        ],
    );
    let found = r001(
        &edited(&us, app, |t| {
            t.replace(
                "serviceAccountName: portal-app",
                "serviceAccountName: portal",
            )
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "names ServiceAccount portal-system/portal",
            "spec.template.spec.serviceAccountName",
        ],
    );

    // The database's backup credentials and a replica's replication TLS Secrets.
    let found = r001(
        &edited(
            &us,
            &format!("{secrets}/portal-system/portal-backup-credentials.yaml"),
            gone,
        ),
        ok(),
    );
    fired(
        &found,
        &[
            "Cluster portal-system/portal-db names Secret portal-system/portal-backup-credentials",
            "spec.backup.barmanObjectStore.s3Credentials.accessKeyId.name",
        ],
    );
    let found = r001(
        &edited(
            &eu,
            &format!("{secrets}/portal-system/portal-db-primary-ca.yaml"),
            gone,
        ),
        ok(),
    );
    fired(
        &found,
        &[
            "Cluster portal-system/portal-db names Secret portal-system/portal-db-primary-ca",
            "spec.externalClusters[0].sslRootCert.name",
        ],
    );
    // Redis's password: the RedisCluster and every client.
    let found = r001(
        &edited(
            &us,
            &format!("{secrets}/portal-system/portal-redis-auth.yaml"),
            gone,
        ),
        ok(),
    );
    fired(
        &found,
        &[
            "RedisCluster portal-system/portal-redis names Secret portal-system/portal-redis-auth",
            "spec.kubernetesConfig.redisSecret.name",
        ],
    );
    fired(
        &found,
        &["Deployment portal-system/portal-app names Secret portal-system/portal-redis-auth"],
    );
    // Velero's credentials: the BackupStorageLocation and the chart's existingSecret.
    let found = r001(
        &edited(
            &us,
            &format!("{secrets}/velero/velero-credentials.yaml"),
            gone,
        ),
        ok(),
    );
    fired(
        &found,
        &[
            "BackupStorageLocation velero/default names Secret velero/velero-credentials",
            "spec.credential.name",
        ],
    );
    fired(
        &found,
        &[
            "Application argocd/portal-prod-us-velero names Secret velero/velero-credentials",
            "helm.parameters",
        ],
    );
    // external-dns's token, by the chart's env secretKeyRef.
    let found = r001(
        &edited(
            &us,
            &format!("{secrets}/external-dns/external-dns-cloudflare.yaml"),
            gone,
        ),
        ok(),
    );
    fired(
        &found,
        &["names Secret external-dns/external-dns-cloudflare"],
    );
    // The Alertmanager's receivers.
    let found = r001(
        &edited(
            &us,
            &format!("{secrets}/monitoring/alertmanager-slack.yaml"),
            gone,
        ),
        ok(),
    );
    fired(
        &found,
        &[
            "AlertmanagerConfig monitoring/portal names Secret monitoring/alertmanager-slack",
            "slackConfigs[0].apiURL.name",
        ],
    );
    let found = r001(
        &edited(
            &us,
            &format!("{secrets}/monitoring/alertmanager-smtp.yaml"),
            gone,
        ),
        ok(),
    );
    fired(
        &found,
        &[
            "AlertmanagerConfig monitoring/portal names Secret monitoring/alertmanager-smtp",
            "emailConfigs[0].authPassword.name",
        ],
    );
    // cert-manager's issuer token, in its cluster resource namespace.
    let found = r001(
        &edited(
            &us,
            &format!("{secrets}/cert-manager/cloudflare-api-token.yaml"),
            gone,
        ),
        ok(),
    );
    fired(
        &found,
        &[
            "ClusterIssuer letsencrypt-dns01 names Secret cert-manager/cloudflare-api-token",
            "dns01.cloudflare.apiTokenSecretRef.name",
        ],
    );

    // The Gateway's TLS Secret where its gateway runs, and the gateway's pods.
    let certs = "kubernetes/platform/tls/certificates.yaml";
    let found = r001(&edited(&us, certs, gone), ok());
    fired(&found, &["Gateway portal-system/portal-gateway reads TLS Secret 'portal-tls' in istio-system, where its gateway's pods run", "spec.servers[0].tls.credentialName"]);
    let found = r001(
        &edited(&us, certs, |t| {
            t.replace("namespace: istio-system", "namespace: portal-system")
        }),
        ok(),
    );
    fired(&found, &["reads TLS Secret 'portal-tls' in istio-system"]);
    let gateway = "kubernetes/platform/mesh/gateway.yaml";
    let found = r001(
        &edited(&us, gateway, |t| {
            t.replace("istio: ingressgateway", "istio: ingress")
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "Gateway portal-system/portal-gateway selects no pod in any namespace",
            "spec.selector",
        ],
    );
    // Without the gateway chart's Application, nothing runs the gateway's pods.
    let mut no_chart = us.clone();
    no_chart.remove("argocd/applications/operators/istio-ingressgateway.yaml");
    fired(
        &r001(&no_chart, ok()),
        &["Gateway portal-system/portal-gateway selects no pod"],
    );
    // An issuer that does not exist.
    let found = r001(
        &edited(&us, certs, |t| {
            t.replace("name: letsencrypt-dns01", "name: letsencrypt")
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "Certificate istio-system/portal-tls names ClusterIssuer letsencrypt",
            "spec.issuerRef.name",
        ],
    );

    // The ClusterSecretStore of each ExternalSecret: declared, or a finding with the hint.
    let found = r001(&us, Vec::new());
    fired(&found, &["ExternalSecret portal-system/portal-secrets names ClusterSecretStore portal-secret-store", "spec.secretStoreRef.name"]);
    assert!(
        found.iter().any(|d| d.hint.as_deref().is_some_and(
            |h| h.contains("external: [{kind: ClusterSecretStore, name: portal-secret-store}]")
        )),
        "{found:#?}"
    );

    // The Services behind routes, with their ports, and the route's gateway.
    let vs = "kubernetes/platform/mesh/virtual-service.yaml";
    let found = r001(
        &edited(&us, vs, |t| {
            t.replace(
                "host: portal-app.portal-system.svc.cluster.local",
                "host: portal-web.portal-system.svc.cluster.local",
            )
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "VirtualService portal-system/portal-app names Service portal-system/portal-web",
            "spec.http[0].route[0].destination.host",
        ],
    );
    let found = r001(
        &edited(&us, vs, |t| t.replace("number: 80", "number: 8080")),
        ok(),
    );
    fired(
        &found,
        &["names port 8080 of Service portal-system/portal-app, which has no such port"],
    );
    let found = r001(
        &edited(&us, vs, |t| {
            t.replace("    - portal-gateway", "    - public-gateway")
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "names Gateway portal-system/public-gateway",
            "spec.gateways[0]",
        ],
    );

    // A ServiceMonitor's Services, and the port it scrapes.
    let monitor = "prometheus/monitors/portal-app.yaml";
    let found = r001(
        &edited(&us, monitor, |t| {
            t.replace(
                "app.kubernetes.io/name: portal-app\n  endpoints",
                "app.kubernetes.io/name: portal-ap\n  endpoints",
            )
        }),
        ok(),
    );
    fired(
        &found,
        &["ServiceMonitor monitoring/portal-app selects no Service in portal-system"],
    );
    let found = r001(
        &edited(&us, monitor, |t| {
            t.replace("    - port: http", "    - port: metrics")
        }),
        ok(),
    );
    fired(
        &found,
        &["scrapes port 'metrics', which no Service it selects in portal-system has"],
    );
    // A chart's Service: without the Velero Application, its ServiceMonitor selects nothing.
    let mut no_velero = us.clone();
    no_velero.remove("argocd/applications/operators/velero.yaml");
    fired(
        &r001(&no_velero, ok()),
        &["ServiceMonitor monitoring/velero selects no Service in velero"],
    );

    // The Prometheus's alerting endpoint.
    let found = r001(
        &edited(&us, "prometheus/prometheus.yaml", |t| {
            t.replace("name: alertmanager-operated", "name: alertmanager-main")
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "Prometheus monitoring/portal names Service monitoring/alertmanager-main",
            "spec.alerting.alertmanagers[0].name",
        ],
    );

    // An Argo CD Application's source folder.
    let found = r001(
        &edited(&us, "argocd/applications/monitoring.yaml", |t| {
            t.replace(
                "path: rendered/prod-us/prometheus",
                "path: rendered/prod-us/prometheus-rules",
            )
        }),
        ok(),
    );
    fired(&found, &["Application argocd/portal-prod-us-monitoring syncs rendered/prod-us/prometheus-rules, which is no folder of the tree", "spec.sources[0].path"]);

    // Scale targets, backup locations and clusters, roles.
    let found = r001(
        &edited(&us, "kubernetes/platform/app/hpa.yaml", |t| {
            t.replace(
                "name: portal-app\n  minReplicas",
                "name: portal\n  minReplicas",
            )
        }),
        ok(),
    );
    fired(&found, &["HorizontalPodAutoscaler portal-system/portal-app names Deployment portal-system/portal", "spec.scaleTargetRef.name"]);
    let found = r001(
        &edited(&us, "kubernetes/platform/data/velero-schedule.yaml", |t| {
            t.replace("storageLocation: default", "storageLocation: primary")
        }),
        ok(),
    );
    fired(
        &found,
        &["Schedule velero/portal-daily names BackupStorageLocation velero/primary"],
    );
    let found = r001(
        &edited(&us, "kubernetes/platform/data/postgres-backup.yaml", |t| {
            t.replace("    name: portal-db", "    name: portal-database")
        }),
        ok(),
    );
    fired(&found, &["ScheduledBackup portal-system/portal-db-daily names Cluster portal-system/portal-database"]);
    let tenant = policy::tenant_sample(us.keys().map(String::as_str))
        .unwrap()
        .to_owned();
    let found = r001(
        &edited(&us, &tenant, |t| {
            t.replace("name: portal-tenant-admin", "name: tenant-admin")
        }),
        ok(),
    );
    fired(
        &found,
        &[
            "RoleBinding",
            "names ClusterRole tenant-admin",
            "roleRef.name",
        ],
    );
    let found = r001(
        &edited(&us, "prometheus/rbac.yaml", |t| {
            t.replacen(
                "  - kind: ServiceAccount\n    name: portal-prometheus",
                "  - kind: ServiceAccount\n    name: prometheus",
                1,
            )
        }),
        ok(),
    );
    fired(&found, &["RoleBinding portal-system/portal-prometheus names ServiceAccount monitoring/prometheus", "subjects[0].name"]);
}

/// An Ingress, a pod with Secret and ConfigMap volumes, in a tree of their own: the kinds
/// the shipped trees do not render.
#[test]
fn an_ingress_and_mounted_volumes_resolve_or_are_findings() {
    let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  namespace: shop\n  annotations: {cert-manager.io/cluster-issuer: letsencrypt}\nspec:\n  tls: [{hosts: [shop.example.com], secretName: web-tls}]\n  rules:\n    - host: shop.example.com\n      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}]}\n";
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: job, namespace: shop}\nspec:\n  containers: [{name: c, image: x:1}]\n  volumes:\n    - {name: a, secret: {secretName: job-key}}\n    - {name: b, configMap: {name: job-config}}\n    - {name: c, secret: {secretName: maybe, optional: true}}\n    - {name: d, projected: {sources: [{secret: {name: job-token}}]}}\n";
    let files: Files = [("i.yaml", ingress), ("p.yaml", pod)]
        .iter()
        .map(|(p, t)| ((*p).to_owned(), t.as_bytes().to_vec()))
        .collect();
    let found = r001(&files, Vec::new());
    fired(
        &found,
        &[
            "Ingress shop/web names ClusterIssuer letsencrypt",
            "metadata.annotations.cert-manager.io/cluster-issuer",
        ],
    );
    fired(
        &found,
        &[
            "Ingress shop/web names Service shop/web",
            "spec.rules[0].http.paths[0].backend.service.name",
        ],
    );
    fired(
        &found,
        &[
            "Pod shop/job names Secret shop/job-key",
            "spec.volumes[0].secret.secretName",
        ],
    );
    fired(
        &found,
        &[
            "Pod shop/job names ConfigMap shop/job-config",
            "spec.volumes[1].configMap.name",
        ],
    );
    fired(
        &found,
        &[
            "Pod shop/job names Secret shop/job-token",
            "spec.volumes[3].projected.sources[0].secret.name",
        ],
    );
    // The issuer's annotation makes the TLS Secret; an optional volume need not exist.
    assert!(
        !found
            .iter()
            .any(|d| d.message.contains("web-tls") || d.message.contains("maybe")),
        "{found:#?}"
    );
    assert_eq!(found.len(), 5, "{found:#?}");

    // Declared, each resolves (a ClusterIssuer is cluster-scoped, the rest namespaced).
    let declare = |kind: &str, ns: Option<&str>, name: &str| Declared {
        kind: kind.into(),
        namespace: ns.map(str::to_owned),
        name: name.into(),
        labels: Default::default(),
    };
    let declared = vec![
        declare("ClusterIssuer", None, "letsencrypt"),
        declare("Service", Some("shop"), "web"),
        declare("Secret", Some("shop"), "job-key"),
        declare("Secret", Some("shop"), "job-token"),
        declare("ConfigMap", Some("shop"), "job-config"),
    ];
    assert_eq!(r001(&files, declared), Vec::<Diagnostic>::new());
}

/// How a team declares what its cluster has: a reference of a team's extra template fails
/// `validate` with the entry to declare, and passes once the spec declares it; the spec
/// names the secret store the ExternalSecrets read (the environment's, else the system
/// file's, else `<system>-secret-store`).
#[test]
fn a_team_declares_an_external_prerequisite_and_names_its_secret_store() {
    let s = common::Scratch::new();
    let spec = common::minimal_spec("dev", "dev", 1);
    s.write_env("dev", &spec);
    let extra = s.root().join("templates/extra");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(
        extra.join("auditors.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:{{ metadata(\"auditors\", m.namespaces.system, labels=m.labels) }}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: corp-auditor}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: auditors}]\n",
    )
    .unwrap();
    let (code, out, _) = common::run(s.cmd().args(["validate", "dev"]));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("[PG-R001] RoleBinding portal-system/auditors names ClusterRole corp-auditor, which nothing in the tree makes and no prerequisite declares"),
        "{out}"
    );
    assert!(
        out.contains("at: RoleBinding portal-system/auditors: roleRef.name"),
        "{out}"
    );
    assert!(
        out.contains("external: [{kind: ClusterRole, name: corp-auditor}]"),
        "{out}"
    );

    let declared = spec.replace(
        "  alerting:",
        "  secrets: {store: vault-backend}\n  external:\n    - {kind: ClusterRole, name: corp-auditor}\n  alerting:",
    );
    s.write_env("dev", &declared);
    let (code, out, err) = common::run(s.cmd().args(["validate", "dev"]));
    assert_eq!(code, Some(0), "{out}{err}");
    let store = |s: &common::Scratch| {
        let docs =
            common::stream(
                s.cmd()
                    .args(["render", "dev", "--stdout", "--kind", "ExternalSecret"]),
            );
        let stores: std::collections::BTreeSet<String> = docs
            .iter()
            .map(|d| {
                d["spec"]["secretStoreRef"]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert!(docs.len() >= 4, "{docs:?}");
        stores.into_iter().collect::<Vec<_>>()
    };
    assert_eq!(store(&s), ["vault-backend"]);

    // Without the environment's, the system file's store; without either, the default.
    s.write_env(
        "dev",
        &spec.replace(
            "  alerting:",
            "  external:\n    - {kind: ClusterRole, name: corp-auditor}\n  alerting:",
        ),
    );
    assert_eq!(store(&s), ["portal-secret-store"]);
    s.write_system(
        "apiVersion: portalgen.dev/v1alpha1\nkind: System\nmetadata: {name: shop}\nspec:\n  secrets: {store: corp-store}\n  services:\n    - {name: web, port: 3000, routes: [\"/\"]}\n",
    );
    assert_eq!(store(&s), ["corp-store"]);
}
