#!/usr/bin/env python3
"""Sanity-check schemas/crds/*.json produced by scripts/import_crds.py.

Usage:  pip install jsonschema && python3 scripts/check_crd_schemas.py [schemas/crds]

For every entry of index.json: the schema must be a valid Draft 2020-12 schema,
the minimal realistic SAMPLES instance of that kind must validate, and copies
of it with an unknown field injected at spec.bogus (and at a nested path, see
NESTED) must be rejected.  Exits non-zero on any failure.
"""

import copy
import json
import os
import sys

from jsonschema import Draft202012Validator

META = {"name": "x", "namespace": "ns", "labels": {"app.kubernetes.io/name": "x"}}


def obj(api_version, kind, spec):
    return {"apiVersion": api_version, "kind": kind, "metadata": dict(META), "spec": spec}


SAMPLES = {
    "postgresql.cnpg.io/v1/Cluster": obj("postgresql.cnpg.io/v1", "Cluster", {
        "instances": 3,
        "imageName": "ghcr.io/cloudnative-pg/postgresql:17.5",
        "postgresql": {"parameters": {"max_connections": "200", "shared_buffers": "256MB"}},
        "bootstrap": {"initdb": {"database": "app", "owner": "app", "secret": {"name": "app-credentials"}}},
        "storage": {"size": "20Gi", "storageClass": "fast"},
        "walStorage": {"size": "5Gi"},
        "monitoring": {"enablePodMonitor": True},
        "backup": {
            "retentionPolicy": "30d",
            "barmanObjectStore": {
                "destinationPath": "s3://backups/pg",
                "endpointURL": "https://s3.example.com",
                "s3Credentials": {
                    "accessKeyId": {"name": "s3-creds", "key": "ACCESS_KEY_ID"},
                    "secretAccessKey": {"name": "s3-creds", "key": "ACCESS_SECRET_KEY"},
                },
                "wal": {"compression": "gzip"},
            },
        },
        "externalClusters": [{
            "name": "origin",
            "connectionParameters": {"host": "origin-rw", "user": "streaming_replica", "dbname": "postgres"},
            "sslKey": {"name": "origin-replication", "key": "tls.key"},
        }],
        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "1Gi"}},
    }),
    "postgresql.cnpg.io/v1/ScheduledBackup": obj("postgresql.cnpg.io/v1", "ScheduledBackup", {
        "schedule": "0 0 2 * * *", "cluster": {"name": "portal-db"}, "method": "barmanObjectStore",
        "backupOwnerReference": "self", "immediate": True, "target": "prefer-standby",
    }),
    "autoscaling.k8s.io/v1/VerticalPodAutoscaler": obj("autoscaling.k8s.io/v1", "VerticalPodAutoscaler", {
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "updatePolicy": {"updateMode": "InPlaceOrRecreate", "minReplicas": 2},
        "resourcePolicy": {"containerPolicies": [{
            "containerName": "*", "minAllowed": {"cpu": "50m", "memory": "64Mi"},
            "maxAllowed": {"cpu": 2, "memory": "2Gi"}, "controlledResources": ["cpu", "memory"],
            "controlledValues": "RequestsAndLimits",
        }]},
    }),
    "velero.io/v1/Schedule": obj("velero.io/v1", "Schedule", {
        "schedule": "0 3 * * *",
        "useOwnerReferencesInBackup": False,
        "template": {"ttl": "720h0m0s", "includedNamespaces": ["app"], "snapshotVolumes": True,
                     "storageLocation": "default", "labelSelector": {"matchLabels": {"backup": "yes"}}},
    }),
    "redis.redis.opstreelabs.in/v1beta2/RedisCluster": obj("redis.redis.opstreelabs.in/v1beta2", "RedisCluster", {
        "clusterSize": 3,
        "clusterVersion": "v7",
        "persistenceEnabled": True,
        "kubernetesConfig": {"image": "quay.io/opstree/redis:v7.0.15", "imagePullPolicy": "IfNotPresent",
                             "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}},
        "redisExporter": {"enabled": True, "image": "quay.io/opstree/redis-exporter:v1.44.0"},
        "redisLeader": {"replicas": 3},
        "redisFollower": {"replicas": 3},
        "storage": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                                     "resources": {"requests": {"storage": "1Gi"}}}}},
    }),
    "redis.redis.opstreelabs.in/v1beta2/Redis": obj("redis.redis.opstreelabs.in/v1beta2", "Redis", {
        "kubernetesConfig": {"image": "quay.io/opstree/redis:v7.0.15", "imagePullPolicy": "IfNotPresent"},
        "redisExporter": {"enabled": True, "image": "quay.io/opstree/redis-exporter:v1.44.0"},
        "storage": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"],
                                                     "resources": {"requests": {"storage": "1Gi"}}}}},
    }),
    "networking.istio.io/v1/Gateway": obj("networking.istio.io/v1", "Gateway", {
        "selector": {"istio": "ingressgateway"},
        "servers": [{"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["app.example.com"],
                     "tls": {"mode": "SIMPLE", "credentialName": "app-tls"}}],
    }),
    "networking.istio.io/v1/VirtualService": obj("networking.istio.io/v1", "VirtualService", {
        "hosts": ["app.example.com"],
        "gateways": ["istio-system/public"],
        "http": [{
            "match": [{"uri": {"prefix": "/api"}, "headers": {"x-canary": {"exact": "true"}}}],
            "route": [{"destination": {"host": "api", "port": {"number": 8080}}, "weight": 100}],
            "timeout": "10s",
            "retries": {"attempts": 3, "perTryTimeout": "2s"},
        }],
    }),
    "monitoring.coreos.com/v1/Prometheus": obj("monitoring.coreos.com/v1", "Prometheus", {
        "replicas": 2, "retention": "15d", "serviceAccountName": "prometheus",
        "serviceMonitorSelector": {"matchLabels": {"team": "platform"}},
        "ruleSelector": {}, "resources": {"requests": {"memory": "2Gi"}},
        "storage": {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "50Gi"}}}}},
        "alerting": {"alertmanagers": [{"name": "alertmanager", "namespace": "monitoring", "port": "web"}]},
        "remoteWrite": [{"url": "https://mimir.example.com/api/v1/push"}],
    }),
    "monitoring.coreos.com/v1/ServiceMonitor": obj("monitoring.coreos.com/v1", "ServiceMonitor", {
        "selector": {"matchLabels": {"app": "web"}},
        "namespaceSelector": {"matchNames": ["app"]},
        "endpoints": [{"port": "metrics", "interval": "30s", "path": "/metrics", "targetPort": 9090}],
    }),
    "monitoring.coreos.com/v1/PodMonitor": obj("monitoring.coreos.com/v1", "PodMonitor", {
        "selector": {"matchLabels": {"app": "web"}},
        "podMetricsEndpoints": [{"port": "metrics", "interval": "30s"}],
    }),
    "monitoring.coreos.com/v1/PrometheusRule": obj("monitoring.coreos.com/v1", "PrometheusRule", {
        "groups": [{"name": "app", "partial_response_strategy": "Warn", "rules": [{
            "alert": "HighErrorRate", "expr": "rate(errors_total[5m]) > 1", "for": "10m",
            "labels": {"severity": "page"}, "annotations": {"summary": "errors"},
        }]}],
    }),
    "monitoring.coreos.com/v1alpha1/AlertmanagerConfig": obj("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig", {
        "route": {"receiver": "pd", "groupBy": ["alertname"], "groupWait": "30s",
                  "matchers": [{"name": "severity", "value": "page", "matchType": "="}],
                  "routes": [{"receiver": "slack", "matchers": [{"name": "severity", "value": "warn"}]}]},
        "receivers": [
            {"name": "pd", "pagerdutyConfigs": [{"routingKey": {"name": "pd", "key": "routing-key"}}]},
            {"name": "slack", "slackConfigs": [{"apiURL": {"name": "slack", "key": "url"}, "channel": "#alerts",
                                                "sendResolved": True}]},
        ],
        "inhibitRules": [{"sourceMatch": [{"name": "severity", "value": "page"}],
                          "targetMatch": [{"name": "severity", "value": "warn", "matchType": "="}],
                          "equal": ["alertname"]}],
        "muteTimeIntervals": [{"name": "weekends", "timeIntervals": [{"weekdays": ["Saturday:sunday"],
                                                                       "months": ["January:march"]}]}],
    }),
    "argoproj.io/v1alpha1/Application": obj("argoproj.io/v1alpha1", "Application", {
        "project": "default",
        "source": {"repoURL": "https://git.example.com/gitops.git", "targetRevision": "main", "path": "apps/web"},
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
        "syncPolicy": {"automated": {"prune": True, "selfHeal": True},
                       "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                       "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}},
        "revisionHistoryLimit": 10,
    }),
    "argoproj.io/v1alpha1/AppProject": obj("argoproj.io/v1alpha1", "AppProject", {
        "description": "platform",
        "sourceRepos": ["https://git.example.com/*"],
        "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "*"}],
        "clusterResourceWhitelist": [{"group": "*", "kind": "Namespace"}],
        "namespaceResourceWhitelist": [{"group": "*", "kind": "*"}],
    }),
    "monitoring.coreos.com/v1/Alertmanager": obj("monitoring.coreos.com/v1", "Alertmanager", {
        "replicas": 3, "serviceAccountName": "alertmanager", "retention": "120h",
        "alertmanagerConfigSelector": {"matchLabels": {"alertmanagerConfig": "portal"}},
        "alertmanagerConfigNamespaceSelector": {},
        "alertmanagerConfigMatcherStrategy": {"type": "None"},
        "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 2000,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "storage": {"volumeClaimTemplate": {"spec": {"resources": {"requests": {"storage": "5Gi"}}}}},
    }),
    "cert-manager.io/v1/ClusterIssuer": {
        "apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
        "metadata": {"name": "letsencrypt-dns01", "labels": {"app.kubernetes.io/name": "x"}},
        "spec": {"acme": {
            "server": "https://acme-v02.api.letsencrypt.org/directory", "email": "ops@example.com",
            "privateKeySecretRef": {"name": "letsencrypt-dns01-account"},
            "solvers": [{"selector": {"dnsZones": ["example.com"]},
                         "dns01": {"cloudflare": {"apiTokenSecretRef": {"name": "cloudflare-api-token",
                                                                        "key": "api-token"}}}}],
        }},
    },
    "cert-manager.io/v1/Certificate": obj("cert-manager.io/v1", "Certificate", {
        "secretName": "portal-tls", "dnsNames": ["portal.example.com", "*.portal.example.com"],
        "issuerRef": {"name": "letsencrypt-dns01", "kind": "ClusterIssuer", "group": "cert-manager.io"},
        "duration": "2160h", "renewBefore": "360h",
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
    }),
    "external-secrets.io/v1/ExternalSecret": obj("external-secrets.io/v1", "ExternalSecret", {
        "refreshInterval": "1h",
        "secretStoreRef": {"name": "vault", "kind": "ClusterSecretStore"},
        "target": {"name": "portal-secrets", "creationPolicy": "Owner"},
        "data": [{"secretKey": "DATABASE_PASSWORD", "remoteRef": {"key": "portal/prod-us/db", "property": "password"}}],
        "dataFrom": [{"extract": {"key": "portal/prod-us/app"}}],
    }),
    "external-secrets.io/v1/ClusterSecretStore": {
        "apiVersion": "external-secrets.io/v1", "kind": "ClusterSecretStore",
        "metadata": {"name": "aws", "labels": {"app.kubernetes.io/name": "x"}},
        "spec": {"provider": {"aws": {"service": "SecretsManager", "region": "us-east-1", "auth": {
            "jwt": {"serviceAccountRef": {"name": "external-secrets", "namespace": "external-secrets"}}}}}},
    },
    "external-secrets.io/v1/SecretStore": obj("external-secrets.io/v1", "SecretStore", {
        "provider": {"vault": {"server": "https://vault.example.com", "path": "secret", "version": "v2",
                               "auth": {"kubernetes": {"mountPath": "kubernetes", "role": "portal",
                                                       "serviceAccountRef": {"name": "portal-app"}}}}},
    }),
    "velero.io/v1/BackupStorageLocation": obj("velero.io/v1", "BackupStorageLocation", {
        "provider": "aws", "default": True, "accessMode": "ReadWrite",
        "objectStorage": {"bucket": "portal-backups", "prefix": "prod-us"},
        "config": {"region": "us-east-1", "s3ForcePathStyle": "false"},
        "credential": {"name": "velero-credentials", "key": "cloud"},
    }),
    "argoproj.io/v1alpha1/Rollout": obj("argoproj.io/v1alpha1", "Rollout", {
        "replicas": 3, "revisionHistoryLimit": 5,
        "selector": {"matchLabels": {"app": "portal"}},
        "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "portal-app",
                        "scaleDown": "progressively"},
        "strategy": {"canary": {
            "canaryService": "portal-app-canary", "stableService": "portal-app-stable",
            "trafficRouting": {"istio": {"virtualService": {"name": "portal", "routes": ["primary"]}}},
            "steps": [{"setWeight": 5}, {"pause": {"duration": "10m"}},
                      {"analysis": {"templates": [{"templateName": "portal-slo"}],
                                    "args": [{"name": "service", "value": "portal-app"}]}},
                      {"setWeight": 25}, {"pause": {"duration": "20m"}}],
        }},
    }),
    "argoproj.io/v1alpha1/AnalysisTemplate": obj("argoproj.io/v1alpha1", "AnalysisTemplate", {
        "args": [{"name": "service"}, {"name": "canary-hash"}],
        "metrics": [{
            "name": "error-rate", "interval": "1m", "count": 5, "failureLimit": 0,
            "successCondition": "result[0] < 0.001", "failureCondition": "result[0] >= 0.01",
            "provider": {"prometheus": {
                "address": "http://prometheus-operated.monitoring.svc:9090",
                "query": "sum(rate(http_requests_total{service=\"{{args.service}}\",code=~\"5..\"}[5m]))"
                         " / sum(rate(http_requests_total{service=\"{{args.service}}\"}[5m]))",
            }},
        }],
    }),
    "opentelemetry.io/v1beta1/OpenTelemetryCollector": obj("opentelemetry.io/v1beta1", "OpenTelemetryCollector", {
        "mode": "deployment", "replicas": 2, "image": "otel/opentelemetry-collector-contrib:0.141.0",
        "config": {
            "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": "0.0.0.0:4317"},
                                                 "http": {"endpoint": "0.0.0.0:4318"}}}},
            "processors": {"memory_limiter": {"check_interval": "1s", "limit_percentage": 80},
                           "batch": {}},
            "exporters": {"otlp": {"endpoint": "tempo.monitoring.svc:4317", "tls": {"insecure": True}}},
            "service": {"pipelines": {"traces": {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"],
                                                 "exporters": ["otlp"]}}},
        },
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "512Mi"}},
        "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]}},
        "targetAllocator": {"enabled": False, "prometheusCR": {"scrapeInterval": "30s"}},
    }),
    "opentelemetry.io/v1alpha1/Instrumentation": obj("opentelemetry.io/v1alpha1", "Instrumentation", {
        "exporter": {"endpoint": "http://otel-collector.monitoring.svc:4318"},
        "propagators": ["tracecontext", "baggage"],
        "sampler": {"type": "parentbased_traceidratio", "argument": "0.1"},
        "resource": {"addK8sUIDAttributes": True, "resourceAttributes": {"deployment.environment": "prod"}},
        "env": [{"name": "OTEL_EXPORTER_OTLP_PROTOCOL", "value": "http/protobuf"}],
    }),
}

# kind -> dotted path (inside the sample) of an existing object to inject "bogus" into
NESTED = {
    "postgresql.cnpg.io/v1/Cluster": "spec.storage",
    "postgresql.cnpg.io/v1/ScheduledBackup": "spec.cluster",
    "autoscaling.k8s.io/v1/VerticalPodAutoscaler": "spec.updatePolicy",
    "velero.io/v1/Schedule": "spec.template",
    "redis.redis.opstreelabs.in/v1beta2/RedisCluster": "spec.kubernetesConfig",
    "redis.redis.opstreelabs.in/v1beta2/Redis": "spec.kubernetesConfig",
    "networking.istio.io/v1/Gateway": "spec.servers.0.port",
    "networking.istio.io/v1/VirtualService": "spec.http.0.route.0.destination",
    "monitoring.coreos.com/v1/Prometheus": "spec.storage",
    "monitoring.coreos.com/v1/ServiceMonitor": "spec.endpoints.0",
    "monitoring.coreos.com/v1/PodMonitor": "spec.podMetricsEndpoints.0",
    "monitoring.coreos.com/v1/PrometheusRule": "spec.groups.0.rules.0",
    "monitoring.coreos.com/v1alpha1/AlertmanagerConfig": "spec.receivers.0.pagerdutyConfigs.0",
    "argoproj.io/v1alpha1/Application": "spec.syncPolicy.automated",
    "argoproj.io/v1alpha1/AppProject": "spec.destinations.0",
    "monitoring.coreos.com/v1/Alertmanager": "spec.alertmanagerConfigMatcherStrategy",
    "cert-manager.io/v1/ClusterIssuer": "spec.acme.solvers.0.dns01.cloudflare",
    "cert-manager.io/v1/Certificate": "spec.issuerRef",
    "external-secrets.io/v1/ExternalSecret": "spec.data.0.remoteRef",
    "external-secrets.io/v1/ClusterSecretStore": "spec.provider.aws",
    "external-secrets.io/v1/SecretStore": "spec.provider.vault.auth.kubernetes",
    "velero.io/v1/BackupStorageLocation": "spec.objectStorage",
    "argoproj.io/v1alpha1/Rollout": "spec.strategy.canary.trafficRouting.istio.virtualService",
    "argoproj.io/v1alpha1/AnalysisTemplate": "spec.metrics.0.provider.prometheus",
    "opentelemetry.io/v1beta1/OpenTelemetryCollector": "spec.config.service",
    "opentelemetry.io/v1alpha1/Instrumentation": "spec.sampler",
}


def at(doc, path):
    for step in path.split("."):
        doc = doc[int(step)] if isinstance(doc, list) else doc[step]
    return doc


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "schemas", "crds")
    with open(os.path.join(d, "index.json")) as fh:
        index = json.load(fh)
    failures = 0
    for key, name in sorted(index.items()):
        with open(os.path.join(d, name)) as fh:
            schema = json.load(fh)
        Draft202012Validator.check_schema(schema)
        v = Draft202012Validator(schema)
        sample = SAMPLES.get(key)
        if sample is None:
            print("NO SAMPLE  %s" % key)
            failures += 1
            continue
        errs = [e.message for e in v.iter_errors(sample)]
        bogus = copy.deepcopy(sample)
        bogus["spec"]["bogus"] = 1
        nested = copy.deepcopy(sample)
        at(nested, NESTED[key])["bogus"] = 1
        no_kind = copy.deepcopy(sample)
        no_kind["kind"] = "Other"
        rejects = [not v.is_valid(x) for x in (bogus, nested, no_kind)]
        ok = not errs and all(rejects)
        failures += not ok
        print("%s %-52s %s" % ("ok  " if ok else "FAIL", key,
                                "" if ok else "errors=%s rejects(spec.bogus, %s.bogus, kind)=%s"
                                % (errs[:3], NESTED[key], rejects)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
